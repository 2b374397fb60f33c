/*
 * audit_file (DESIGN.md §4, §7) through the real libpam, the real helper and
 * the real test issuer, plus the fault server for an issuer that fails:
 * every decision also appended to the file as one JSON object per line,
 * with the syslog line's values and never the token; a file that is not
 * safe (a symbolic link, group access, a directory others can write) is
 * refused with one error line naming the fix, and the login decision and
 * the syslog audit line stay as they were; logins in parallel append whole
 * lines.
 */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "fingerprint.h"
#include "testenv.h"
#include "unit.h"

static struct server idp, fault;

/* ROOT/name, in a static buffer of its own per slot. */
static const char *scratch(int slot, const char *name)
{
	static char paths[4][512];

	snprintf(paths[slot], sizeof(paths[slot]), "%s/%s", T.root, name);
	return paths[slot];
}

/* A service against the test issuer with audit_file = path and extra lines. */
static const char *audit_service(const char *path, const char *extra)
{
	char conf[2048];

	snprintf(conf, sizeof(conf), "token_prefixes = ucat_\naudit_file = %s\n%s", path,
		 extra ? extra : "");
	return idp_service(&idp, conf, NULL);
}

/* The file's lines, each parsed: a JSON array of its objects. Fails the test on a bad line. */
static json_t *audit_lines(const char *path)
{
	char *text = file_text(path, 0), *line, *nl;
	json_t *all = json_array();

	ck_assert_msg(text != NULL, "%s: cannot read", path);
	for (line = text; *line != '\0'; line = nl + 1) {
		json_error_t e;
		json_t *o;

		nl = strchr(line, '\n');
		ck_assert_msg(nl != NULL, "%s: last line not ended: %s", path, line);
		o = json_loadb(line, (size_t)(nl - line), 0, &e);
		ck_assert_msg(o != NULL && json_is_object(o), "%s: not a JSON object: %.*s (%s)",
			      path, (int)(nl - line), line, o ? "" : e.text);
		json_array_append_new(all, o);
	}
	free(text);
	return all;
}

static void expect_str(json_t *o, const char *key, const char *want)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_string(v), "%s: not a string", key);
	ck_assert_str_eq(json_string_value(v), want);
}

/* The token= value of the one syslog audit line of result word. */
static void syslog_token(const char *result, char *out, size_t len)
{
	char needle[64];
	const char *p, *e;

	snprintf(needle, sizeof(needle), "result=%s ", result);
	p = strstr(log_text(), needle);
	ck_assert_ptr_nonnull(p);
	p = strstr(p, " token=");
	ck_assert_ptr_nonnull(p);
	p += 7;
	e = strchr(p, ' ');
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_lt((size_t)(e - p), len);
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
}

START_TEST(allow_and_deny_lines)
{
	const char *path = scratch(0, "allow-deny.json");
	char *tok = idp_mint(&idp, "alice", "ssh", 300, NULL), *text;
	const char *dir = audit_service(path, NULL);
	char fp[FINGERPRINT_LEN], logged[FINGERPRINT_LEN];
	struct stat st;
	json_t *lines, *o;

	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_SUCCESS);
	ck_assert_int_eq(pam_run(dir, "bob", "2001:db8::1", tok).auth, PAM_AUTH_ERR);
	ck_assert_int_eq(log_count("result="), 2);
	ck_assert_int_eq(log_count("audit_file"), 0);

	/* Made by the first login: root's, 0600, a regular file. */
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_uint_eq(st.st_uid, 0);

	token_fingerprint(tok, strlen(tok), "ucat_", fp);
	lines = audit_lines(path);
	ck_assert_uint_eq(json_array_size(lines), 2);

	o = json_array_get(lines, 0);
	ck_assert_uint_eq(json_object_size(o), 10);
	expect_str(o, "result", "allow");
	expect_str(o, "reason", "ok");
	expect_str(o, "user", "alice");
	expect_str(o, "rhost", "192.0.2.7");
	expect_str(o, "token", fp);
	expect_str(o, "source", "network");
	expect_str(o, "service", "svc");
	ck_assert(json_is_null(json_object_get(o, "mapped_user")));
	ck_assert(json_is_integer(json_object_get(o, "ms")));
	ck_assert_int_ge(json_integer_value(json_object_get(o, "ms")), 0);
	ck_assert(json_is_string(json_object_get(o, "time")));
	ck_assert_uint_eq(strlen(json_string_value(json_object_get(o, "time"))), 20);
	/* The same fingerprint as the syslog line's. */
	syslog_token("allow", logged, sizeof(logged));
	ck_assert_str_eq(logged, fp);

	o = json_array_get(lines, 1);
	expect_str(o, "result", "deny");
	expect_str(o, "reason", "user_mismatch");
	expect_str(o, "user", "bob");
	expect_str(o, "rhost", "2001:db8::1");
	expect_str(o, "token", fp);
	syslog_token("deny", logged, sizeof(logged));
	ck_assert_str_eq(logged, fp);
	json_decref(lines);

	/* Never the token, nor the part after its prefix. */
	text = file_text(path, 0);
	ck_assert_ptr_null(strstr(text, tok));
	ck_assert_ptr_null(strstr(text, tok + 5));
	free(text);
	free(tok);
}
END_TEST

/* Decisions the issuer never makes: a local reject (no token bytes), an unavailable issuer. */
START_TEST(local_and_unavailable_lines)
{
	const char *path = scratch(0, "local.json");
	char conf[1024], *url = fault_url(&fault, "/status/503");
	json_t *lines, *o;

	log_reset();
	ck_assert_int_eq(pam_run(audit_service(path, NULL), "al\"ice\n", NULL, "nope").auth,
			 PAM_AUTH_ERR);
	snprintf(conf, sizeof(conf), "introspection_url = %s\naudit_file = %s\n", url, path);
	ck_assert_int_eq(pam_run(make_service(conf, NULL), "alice", "192.0.2.7", "ucat_x").auth,
			 PAM_AUTHINFO_UNAVAIL);
	lines = audit_lines(path);
	ck_assert_uint_eq(json_array_size(lines), 2);
	o = json_array_get(lines, 0);
	expect_str(o, "result", "deny");
	expect_str(o, "source", "local");
	expect_str(o, "user", "al\"ice\n"); /* the real name, where syslog shows al%22ice%0A */
	ck_assert(json_is_null(json_object_get(o, "rhost")));
	o = json_array_get(lines, 1);
	expect_str(o, "result", "unavailable");
	expect_str(o, "reason", "http_status");
	json_decref(lines);
	ck_assert_int_eq(log_count("result=unavailable reason=http_status "), 1);
	free(url);
}
END_TEST

/*
 * One unsafe audit_file: the login still succeeds, the syslog audit line is
 * there, one error line names the file and what is wrong, and nothing was
 * written to the file or through it.
 */
static void expect_refused(const char *path, const char *why)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);
	char want[1500];

	log_reset();
	ck_assert_int_eq(pam_run(audit_service(path, NULL), "alice", "192.0.2.7", tok).auth,
			 PAM_SUCCESS);
	ck_assert_int_eq(log_count("result=allow reason=ok "), 1);
	snprintf(want, sizeof(want), "audit_file %s: %s", path, why);
	ck_assert_msg(log_count(want) == 1, "want \"%s\" in:\n%s", want, log_text());
	ck_assert_int_eq(log_count("went to syslog only"), 1);
	free(tok);
}

static long file_size(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? (long)st.st_size : -1;
}

START_TEST(symlink_refused)
{
	const char *target = scratch(0, "link-target"), *link = scratch(1, "link.json");
	const char *dangling = scratch(2, "dangling.json"), *nowhere = scratch(3, "nowhere");

	/* To a file that would pass itself: the link is refused, the target untouched. */
	write_file("link-target", 0600, NULL);
	ck_assert_int_eq(symlink(target, link), 0);
	expect_refused(link, "is a symbolic link (name the file itself, not a link to it)");
	ck_assert_int_eq(file_size(target), 0);
	/* To nothing: the link is not followed to make a file there. */
	ck_assert_int_eq(symlink(nowhere, dangling), 0);
	expect_refused(dangling, "is a symbolic link");
	ck_assert_int_eq(file_size(nowhere), -1);
	unlink(link);
	unlink(dangling);
}
END_TEST

/* write_file's static buffer is reused by make_service: a copy in slot. */
static const char *made(int slot, const char *name, mode_t mode)
{
	write_file(name, mode, NULL);
	return scratch(slot, name);
}

START_TEST(shared_file_refused)
{
	const char *gw = made(0, "group-writable.json", 0620);
	const char *gr = made(1, "group-readable.json", 0640);

	char why[700];

	/* Each with the command that fixes it. */
	snprintf(why, sizeof(why), "writable by group or others (chmod go-w %s)", gw);
	expect_refused(gw, why);
	ck_assert_int_eq(file_size(gw), 0);
	snprintf(why, sizeof(why), "accessible by group or others (chmod 600 %s)", gr);
	expect_refused(gr, why);
	ck_assert_int_eq(file_size(gr), 0);
}
END_TEST

START_TEST(hard_link_refused)
{
	const char *other = made(0, "someone-elses.log", 0600);
	const char *path = scratch(1, "hardlink.json");

	/* A second name: what we append would land in the other file too. */
	ck_assert_int_eq(link(other, path), 0);
	expect_refused(path, "has 2 links");
	ck_assert_int_eq(file_size(other), 0);
	unlink(path);
}
END_TEST

START_TEST(writable_directory_refused)
{
	const char *dir = scratch(0, "shared"), *path = scratch(1, "shared/audit.json");

	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(chmod(dir, 01777), 0);
	expect_refused(path, "directory");
	ck_assert_int_eq(log_count("is writable by group or others"), 1);
	ck_assert_int_eq(file_size(path), -1); /* not made */
	/* The same directory made safe: the file is made there. */
	ck_assert_int_eq(chmod(dir, 0755), 0);
	log_reset();
	ck_assert_int_eq(pam_run(audit_service(path, NULL), "alice", NULL, "nope").auth,
			 PAM_AUTH_ERR);
	ck_assert_int_eq(log_count("audit_file"), 0);
	ck_assert_int_gt(file_size(path), 0);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(missing_directory_refused)
{
	expect_refused(scratch(0, "no-such-dir/audit.json"), "No such file or directory");
}
END_TEST

/* Logins in parallel processes, as sshd runs them: every line whole, none lost. */
#define CHILDREN 4
#define LOGINS	 25

START_TEST(parallel_logins_whole_lines)
{
	const char *path = scratch(0, "parallel.json");
	char user[129];
	const char *dir;
	pid_t pids[CHILDREN];
	size_t i;
	json_t *lines;
	int c;

	/* Long lines (a long user name, escaped 6 bytes a byte) make a torn write likelier. */
	memset(user, '\x01', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	dir = audit_service(path, NULL);
	for (c = 0; c < CHILDREN; c++) {
		pids[c] = fork();
		ck_assert_int_ge(pids[c], 0);
		if (pids[c] == 0) {
			int n, bad = 0;

			/* A local reject: no issuer round trip, so the writes bunch up. */
			for (n = 0; n < LOGINS; n++)
				bad |= pam_run(dir, user, "192.0.2.7", "nope").auth != PAM_AUTH_ERR;
			_exit(bad);
		}
	}
	for (c = 0; c < CHILDREN; c++) {
		int status;

		ck_assert_int_eq(waitpid(pids[c], &status, 0), pids[c]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	lines = audit_lines(path);
	ck_assert_uint_eq(json_array_size(lines), CHILDREN * LOGINS);
	for (i = 0; i < json_array_size(lines); i++) {
		json_t *o = json_array_get(lines, i);

		expect_str(o, "result", "deny");
		expect_str(o, "user", user);
	}
	json_decref(lines);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("audit_file");
	TCase *tc = tcase_create("audit_file");

	testenv_servers(&idp, &fault);
	tcase_add_unchecked_fixture(tc, testenv_servers_up, testenv_servers_down);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, allow_and_deny_lines);
	tcase_add_test(tc, local_and_unavailable_lines);
	tcase_add_test(tc, symlink_refused);
	tcase_add_test(tc, shared_file_refused);
	tcase_add_test(tc, hard_link_refused);
	tcase_add_test(tc, writable_directory_refused);
	tcase_add_test(tc, missing_directory_refused);
	tcase_add_test(tc, parallel_logins_whole_lines);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
