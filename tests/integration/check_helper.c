/*
 * The helper's trust boundaries, attacked as an attacker would: a process
 * running as helper_user racing the module's logins with ptrace
 * (tests/tools/ptrace-race.c), a helper, CA bundle, secret or config file
 * under a directory someone else can write, a symbolic link at the end of
 * the path, a missing helper user. Through the real libpam, the real
 * helper and the real test issuer. Needs root for most of it.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "testenv.h"
#include "unit.h"

#define RACE_LOGINS 100
#define MARKER	    "tracerMarker7q"

static struct server idp, fault;

static void run(const char *cmd)
{
	ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
}

/* A copy of the helper at T.root/rel (directories made 0755 on the way). */
static const char *helper_copy(const char *rel, mode_t mode)
{
	static char path[700];
	char cmd[4096];

	snprintf(path, sizeof(path), "%s/%s", T.root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\" && cp '%s' '%s' && chmod %o '%s'",
		 path, T.helper, path, (unsigned)mode, path);
	run(cmd);
	return path;
}

/* --- helper_user cannot reach the helper --------------------------------- */

START_TEST(helper_user_cannot_trace_the_helper)
{
	char extra[1024], line[256] = "", tok[64];
	long seen = -1, attached = -1, secrets = -1, forged = -1;
	int in[2], out[2], status, allowed = 0, denied = 0;
	const char *dir;
	FILE *f;
	pid_t pid;

	if (geteuid() != 0)
		return; /* the module drops to helper_user only as root */
	snprintf(extra, sizeof(extra), "helper_user = %s\n", HELPER_USER);
	dir = idp_service(&idp, extra, NULL);
	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(TEST_BUILD "/tools/ptrace-race", "ptrace-race", HELPER_USER, MARKER,
		      (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	usleep(100 * 1000); /* let it reach its loop */

	for (int i = 0; i < RACE_LOGINS; i++) {
		int r;

		snprintf(tok, sizeof(tok), "ucat_" MARKER "%03d", i);
		r = pam_run(dir, "victim", "192.0.2.7", tok).auth;
		allowed += r == PAM_SUCCESS;
		denied += r == PAM_AUTH_ERR;
	}
	close(in[1]);
	f = fdopen(out[0], "r");
	ck_assert_ptr_nonnull(f);
	if (fgets(line, sizeof(line), f) != NULL)
		sscanf(line, "seen %ld attached %ld secrets %ld forged %ld", &seen, &attached,
		       &secrets, &forged);
	fclose(f);
	waitpid(pid, &status, 0);
	fprintf(stderr, "helper race: %d logins, %d allowed, tracer %s", RACE_LOGINS, allowed,
		line);

	ck_assert_int_eq(allowed, 0);
	ck_assert_int_eq(denied, RACE_LOGINS);
	/* The race was run: the tracer found helpers of its user, and caught none. */
	ck_assert_msg(seen > 0, "the tracer saw no helper at all: %s", line);
	ck_assert_int_eq(attached, 0);
	ck_assert_int_eq(secrets, 0);
	ck_assert_int_eq(forged, 0);
}
END_TEST

/*
 * The uids of the process called "apitoken" with a real uid of uid that
 * parent started: other tests on the machine may run helpers as the same
 * user at the same time.
 */
static bool find_helper(uid_t uid, pid_t parent, pid_t *pid, char *uids, size_t len)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool found = false;

	ck_assert_ptr_nonnull(d);
	while (!found && (e = readdir(d)) != NULL) {
		char path[300], buf[4096], *p, *q;
		unsigned long ruid;
		FILE *f;
		size_t n;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		if (strncmp(buf, "Name:\tapitoken\n", 15) != 0 ||
		    (p = strstr(buf, "\nUid:")) == NULL)
			continue;
		ruid = strtoul(p + 5, NULL, 10);
		if (ruid != uid)
			continue;
		if ((q = strstr(buf, "\nPPid:")) == NULL || strtol(q + 6, NULL, 10) != (long)parent)
			continue;
		snprintf(uids, len, "%.*s", (int)strcspn(p + 5, "\n"), p + 5);
		*pid = (pid_t)atoi(e->d_name);
		found = true;
	}
	closedir(d);
	return found;
}

START_TEST(helper_works_as_helper_user_for_good)
{
	char conf[1024], want[128], uids[128] = "", mem[64], *url;
	struct passwd *pw = getpwnam(HELPER_USER);
	const char *dir;
	struct stat st;
	pid_t login, helper = 0;
	int status;
	bool found = false;

	if (geteuid() != 0)
		return;
	ck_assert_ptr_nonnull(pw);
	/* The default helper_user, against an endpoint that never answers. */
	url = fault_url(&fault, "/hang");
	snprintf(conf, sizeof(conf), "introspection_url = %s\n", url);
	free(url);
	dir = make_service(conf, NULL);
	login = fork();
	ck_assert_int_ge(login, 0);
	if (login == 0)
		_exit(pam_run(dir, "alice", "192.0.2.7", "ucat_" MARKER).auth ==
			      PAM_AUTHINFO_UNAVAIL
			  ? 0
			  : 1);
	snprintf(want, sizeof(want), "\t%u\t%u\t%u\t%u", (unsigned)pw->pw_uid, (unsigned)pw->pw_uid,
		 (unsigned)pw->pw_uid, (unsigned)pw->pw_uid);
	/*
	 * Right after the exec it is still half dropped (effective uid root);
	 * by the time it waits on the issuer, which never answers, the drop
	 * must be complete.
	 */
	for (int i = 0; i < 250 && !(found && strcmp(uids, want) == 0); i++) {
		usleep(10 * 1000);
		found = find_helper(pw->pw_uid, login, &helper, uids, sizeof(uids)) || found;
	}
	if (found) {
		/* /proc/PID of a non-dumpable process belongs to root. */
		snprintf(mem, sizeof(mem), "/proc/%d/mem", (int)helper);
		ck_assert_int_eq(stat(mem, &st), 0);
	}
	waitpid(login, &status, 0);
	ck_assert_msg(found, "no helper running as %s seen", HELPER_USER);
	/* Real, effective, saved and file-system uid: all the helper user's, no way back. */
	ck_assert_msg(strcmp(uids, want) == 0, "helper uids \"%s\", want \"%s\"", uids, want);
	ck_assert_msg(st.st_uid == 0, "helper is dumpable: %s owned by %u", mem,
		      (unsigned)st.st_uid);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

/*
 * A PAM host may run with 0 and 1 closed (a daemon that closed its stdio):
 * the helper must still get the socket on 0 and 1 and /dev/null on 2, or
 * whatever it says on stderr lands in its answer.
 */
START_TEST(helper_stdio_when_the_host_has_none)
{
	char conf[1024], fd0[256] = "", fd1[256] = "", fd2[256] = "", uids[128], p[64], *url;
	struct passwd *pw = getpwnam(HELPER_USER);
	pid_t login, helper = 0;
	const char *dir;
	bool found = false;
	int status;

	if (geteuid() != 0)
		return;
	url = fault_url(&fault, "/hang");
	snprintf(conf, sizeof(conf), "introspection_url = %s\n", url);
	free(url);
	dir = make_service(conf, NULL);
	login = fork();
	ck_assert_int_ge(login, 0);
	if (login == 0) {
		close(0);
		close(1);
		_exit(pam_run(dir, "alice", "192.0.2.7", "ucat_" MARKER).auth ==
			      PAM_AUTHINFO_UNAVAIL
			  ? 0
			  : 1);
	}
	for (int i = 0; i < 250 && !found; i++) {
		usleep(10 * 1000);
		found = find_helper(pw->pw_uid, login, &helper, uids, sizeof(uids));
	}
	if (found) {
		ssize_t n;

		usleep(100 * 1000); /* past its start, waiting on the issuer */
		snprintf(p, sizeof(p), "/proc/%d/fd/0", (int)helper);
		n = readlink(p, fd0, sizeof(fd0) - 1);
		fd0[n > 0 ? n : 0] = '\0';
		snprintf(p, sizeof(p), "/proc/%d/fd/1", (int)helper);
		n = readlink(p, fd1, sizeof(fd1) - 1);
		fd1[n > 0 ? n : 0] = '\0';
		snprintf(p, sizeof(p), "/proc/%d/fd/2", (int)helper);
		n = readlink(p, fd2, sizeof(fd2) - 1);
		fd2[n > 0 ? n : 0] = '\0';
	}
	waitpid(login, &status, 0);
	ck_assert_msg(found, "no helper seen");
	ck_assert_msg(strncmp(fd0, "socket:", 7) == 0, "fd 0 is %s", fd0);
	ck_assert_str_eq(fd1, fd0);
	ck_assert_str_eq(fd2, "/dev/null");
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

START_TEST(missing_helper_user_names_the_fix)
{
	if (geteuid() != 0)
		return;
	log_reset();
	ck_assert_int_eq(pam_run(idp_service(&idp, "helper_user = _apitoken_missing\n", NULL),
				 "alice", "192.0.2.7", "ucat_x")
			     .auth,
			 PAM_SERVICE_ERR);
	ck_assert_ptr_nonnull(strstr(log_text(), "_apitoken_missing: no such user"));
	ck_assert_ptr_nonnull(strstr(log_text(), "useradd --system"));
	ck_assert_int_eq(log_count("result=error reason=helper_config"), 1);
}
END_TEST

/* --- the path to the helper and the files it is given ------------------- */

/* Runs a login with extra config lines; wants rc and, unless NULL, words in the log. */
static void expect(const char *extra, int rc, const char *words)
{
	log_reset();
	ck_assert_int_eq(
	    pam_run(idp_service(&idp, extra, NULL), "alice", "192.0.2.7", "ucat_x").auth, rc);
	if (words != NULL)
		ck_assert_msg(strstr(log_text(), words) != NULL, "want \"%s\" in\n%s", words,
			      log_text());
}

START_TEST(helper_under_a_writable_directory_refused)
{
	char extra[1024], words[2048], d[700];
	const char *h;

	/* As a clone under /tmp would be: sticky, world-writable. */
	h = helper_copy("wd/apitoken", 0755);
	snprintf(d, sizeof(d), "%s/wd", T.root);
	ck_assert_int_eq(chmod(d, 01777), 0);
	snprintf(extra, sizeof(extra), "helper = %s\n", h);
	/* Sticky and shared on purpose, like /tmp: the fix is to move, not chmod. */
	snprintf(words, sizeof(words),
		 "helper %s: directory %s is writable by group or others, who could replace the "
		 "file (it is shared, as /tmp is: move the file out of it)",
		 h, d);
	expect(extra, PAM_SERVICE_ERR, words);
	ck_assert_int_eq(log_count("result=error reason=helper_config"), 1);

	/* Deeper down, the same. */
	h = helper_copy("wd/sub/apitoken", 0755);
	snprintf(extra, sizeof(extra), "helper = %s\n", h);
	expect(extra, PAM_SERVICE_ERR, words + strlen("helper ") + strlen(h) + 2);

	/* Group-writable is as bad, and chmod is the fix there. */
	ck_assert_int_eq(chmod(d, 0775), 0);
	snprintf(words, sizeof(words),
		 "directory %s is writable by group or others, who could replace the file (chmod "
		 "go-w %s, or move the file out of it)",
		 d, d);
	expect(extra, PAM_SERVICE_ERR, words);

	/* Made safe, it runs: the issuer's answer decides (an unknown token). */
	ck_assert_int_eq(chmod(d, 0755), 0);
	expect(extra, PAM_AUTH_ERR, "reason=inactive");
}
END_TEST

START_TEST(helper_directory_of_another_user_refused)
{
	char extra[1024], d[700], words[2048];
	struct passwd *nobody = getpwnam("nobody");
	const char *h;

	if (geteuid() != 0 || nobody == NULL)
		return;
	h = helper_copy("theirs/apitoken", 0755);
	snprintf(d, sizeof(d), "%s/theirs", T.root);
	ck_assert_int_eq(chown(d, nobody->pw_uid, nobody->pw_gid), 0);
	snprintf(extra, sizeof(extra), "helper = %s\n", h);
	snprintf(words, sizeof(words),
		 "directory %s is owned by uid %u, not root or the effective user (chown root %s, "
		 "or move the file out of it)",
		 d, (unsigned)nobody->pw_uid, d);
	expect(extra, PAM_SERVICE_ERR, words);
}
END_TEST

START_TEST(helper_links)
{
	char extra[1024], link[700], dlink[700];
	const char *h = helper_copy("bin/apitoken", 0755);

	/* A symbolic link as the last name: refused, it is not the file checked. */
	snprintf(link, sizeof(link), "%s/apitoken-link", T.root);
	unlink(link);
	ck_assert_int_eq(symlink(h, link), 0);
	snprintf(extra, sizeof(extra), "helper = %s\n", link);
	expect(extra, PAM_SERVICE_ERR, "is a symbolic link");

	/* A link to a directory on the way, in a safe directory, is followed (merged /usr). */
	snprintf(dlink, sizeof(dlink), "%s/bin-link", T.root);
	unlink(dlink);
	ck_assert_int_eq(symlink("bin", dlink), 0);
	snprintf(extra, sizeof(extra), "helper = %s/apitoken\n", dlink);
	expect(extra, PAM_AUTH_ERR, "reason=inactive");

	/* ... and whatever it leads through is checked too. */
	helper_copy("wd2/apitoken", 0755);
	snprintf(link, sizeof(link), "%s/wd2", T.root);
	ck_assert_int_eq(chmod(link, 0777), 0);
	unlink(dlink);
	ck_assert_int_eq(symlink(link, dlink), 0);
	expect(extra, PAM_SERVICE_ERR, "wd2 is writable by group or others");
}
END_TEST

START_TEST(files_under_a_writable_directory_refused)
{
	char extra[2048], d[700], words[800];

	snprintf(d, sizeof(d), "%s/open", T.root);
	mkdir(d, 0755);
	write_file("open/secret", 0600, "rs-secret\n");
	write_file("open/key.pem", 0600, "k");
	write_file("open/cert.pem", 0644, "c");
	write_file("open/ca.pem", 0644, "ca");
	ck_assert_int_eq(chmod(d, 01777), 0);
	snprintf(words, sizeof(words), "directory %s is writable by group or others", d);

	{
		char conf[2048], *url = idp_url(&idp);

		snprintf(conf, sizeof(conf),
			 "introspection_url = %s\nclient_id = rs\nclient_secret_file = %s/secret\n",
			 url, d);
		free(url);
		log_reset();
		ck_assert_int_eq(
		    pam_run(make_service(conf, NULL), "alice", "192.0.2.7", "ucat_x").auth,
		    PAM_SERVICE_ERR);
		ck_assert_msg(strstr(log_text(), words) != NULL, "want \"%s\" in\n%s", words,
			      log_text());
	}
	snprintf(extra, sizeof(extra), "tls_cert_file = %s/cert.pem\ntls_key_file = %s/key.pem\n",
		 d, d);
	expect(extra, PAM_SERVICE_ERR, words);
	snprintf(extra, sizeof(extra), "ca_file = %s/ca.pem\n", d);
	expect(extra, PAM_SERVICE_ERR, words);

	/* The config file itself. */
	{
		char svc[5000], confdir[700];

		write_file("open/apt.conf", 0644, "introspection_url = https://issuer.example/x\n");
		snprintf(confdir, sizeof(confdir), "%s", make_service(NULL, NULL));
		snprintf(svc, sizeof(svc), "auth required %s config=%s/apt.conf\n", T.module, d);
		write_file("pam.d/svc", 0644, svc);
		log_reset();
		ck_assert_int_eq(pam_run(confdir, "alice", "192.0.2.7", "ucat_x").auth,
				 PAM_SERVICE_ERR);
		ck_assert_msg(strstr(log_text(), words) != NULL, "want \"%s\" in\n%s", words,
			      log_text());
	}
}
END_TEST

START_TEST(ca_file_links)
{
	char extra[1024], link[700], d[700];

	/* A bundle reached by a link in a safe directory is fine, as system bundles are. */
	write_file("ca-real.pem", 0644, "ca");
	snprintf(link, sizeof(link), "%s/ca-link.pem", T.root);
	unlink(link);
	ck_assert_int_eq(symlink("ca-real.pem", link), 0);
	snprintf(extra, sizeof(extra), "ca_file = %s\n", link);
	expect(extra, PAM_AUTH_ERR, "reason=inactive");

	/* One that leads into a directory others can write is not. */
	snprintf(d, sizeof(d), "%s/open-ca", T.root);
	mkdir(d, 0755);
	write_file("open-ca/ca.pem", 0644, "ca");
	ck_assert_int_eq(chmod(d, 0777), 0);
	unlink(link);
	ck_assert_int_eq(symlink("open-ca/ca.pem", link), 0);
	expect(extra, PAM_SERVICE_ERR, "open-ca is writable by group or others");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("helper");
	TCase *race = tcase_create("isolation"), *paths = tcase_create("paths");

	testenv_servers(&idp, &fault);

	tcase_add_unchecked_fixture(race, testenv_servers_up, testenv_servers_down);
	tcase_set_timeout(race, 120);
	tcase_add_test(race, helper_user_cannot_trace_the_helper);
	tcase_add_test(race, helper_works_as_helper_user_for_good);
	tcase_add_test(race, helper_stdio_when_the_host_has_none);
	tcase_add_test(race, missing_helper_user_names_the_fix);
	suite_add_tcase(s, race);

	tcase_add_unchecked_fixture(paths, testenv_servers_up, testenv_servers_down);
	tcase_set_timeout(paths, 60);
	tcase_add_test(paths, helper_under_a_writable_directory_refused);
	tcase_add_test(paths, helper_directory_of_another_user_refused);
	tcase_add_test(paths, helper_links);
	tcase_add_test(paths, files_under_a_writable_directory_refused);
	tcase_add_test(paths, ca_file_links);
	suite_add_tcase(s, paths);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
