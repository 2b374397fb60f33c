/*
 * The module in the real OpenSSH sshd (tests/support/sshd.c), with the
 * shipped sshd_config.d snippet and pam.d stanza, the real helper and the
 * real test issuer; the clients are the real ssh, git, rsync and scp, which
 * answer the module's prompt with an API token through SSH_ASKPASS.
 *
 * Without a syslog daemon the module's audit lines go nowhere, so the
 * decisions are read from what the peers say: the client's exit status,
 * sshd's own log (-E: "Accepted keyboard-interactive/pam for U", "PAM:
 * Authentication failure for U", "Failed password for U"), the issuer's
 * introspection counter and the prompts the client was shown.
 *
 * Needs root (users, /etc/pam.d, sshd).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sshd.h"
#include "testenv.h"
#include "unit.h"

static struct server idp;
static struct sshd server;

/*
 * A production-like config, with this cache_ttl and the test's cache_dir.
 * The module reads it at every login, and cache lifetimes follow the config
 * in force (lib/cache.c), so a test may change cache_ttl between logins.
 */
static void write_config(int cache_ttl)
{
	char conf[2048], *url = idp_url(&idp);

	snprintf(conf, sizeof(conf),
		 "introspection_url = %s\nclient_id = rs\nclient_secret_file = %s\n"
		 "token_prefixes = ucat_\nrequired_scopes = ssh\n"
		 "cache = yes\ncache_ttl = %d\ncache_dir = %s/cache\n",
		 url, write_file("secret", 0600, "rs-secret\n"), cache_ttl, T.root);
	free(url);
	make_service(conf, NULL);
}

static void default_config(void)
{
	write_config(2);
}

/*
 * Before each test (a checked fixture): up()'s config and client, whatever
 * the test before changed. Under CK_FORK=no (make check-valgrind) the tests
 * share one process, and a test's server.test_askpass would otherwise stay.
 */
static void each_test(void)
{
	default_config();
	server.test_askpass = false;
}

static void up(enum sshd_method method, const char *auth_after)
{
	testenv_up(&idp, NULL);
	default_config();
	sshd_users_create();
	sshd_start(&server, method, auth_after);
}

/*
 * Nothing configured after the stanza ("auth required pam_deny.so"): token
 * users then log in only if sshd's pam_setcred reaches the module, which
 * the stanza's ignore=ignore provides (sshd fails a keyboard-interactive
 * login whose pam_setcred fails); everybody else simply fails.
 */
static void up_kbdint(void)
{
	up(SSHD_KBDINT, "auth required pam_deny.so");
}

/* Debian's stack after the stanza: common-auth (pam_unix) for everybody else. */
static void up_debian(void)
{
	up(SSHD_KBDINT, NULL);
}

/* The password method (sshd only debug-logs a failed pam_setcred there). */
static void up_password(void)
{
	up(SSHD_PASSWORD, NULL);
}

static void down(void)
{
	sshd_stop(&server);
	sshd_users_remove();
	testenv_down(&idp, NULL);
}

/* A work directory of the test's own under T.root. */
static const char *workdir(const char *name)
{
	static char dir[600];

	snprintf(dir, sizeof(dir), "%s/%s", T.root, name);
	ck_assert_msg(mkdir(dir, 0755) == 0, "%s", dir);
	return dir;
}

/* `$SSH user@127.0.0.1 COMMAND`; returns the exit status, output in *out. */
static int ssh_as(const char *user, const char *token, const char *command, char **out)
{
	char script[1024];

	snprintf(script, sizeof(script), "$SSH %s@127.0.0.1 %s", user, command);
	return sshd_client(&server, token, NULL, script, out);
}

/* The client succeeded; if not, show what it and sshd said. */
static void ck_ran(int rc, const char *out, long mark)
{
	char *log;

	if (rc == 0)
		return;
	log = sshd_log_since(&server, mark);
	ck_abort_msg("client exited %d:\n%s\nsshd's log:\n%s", rc, out, log);
}

/*
 * One refused login: ssh fails (255: its own error, not a command's), the
 * module said PAM_AUTH_ERR (sshd logs pam_strerror), nobody was let in.
 */
static void ck_refused(const char *user, const char *token, long introspections)
{
	long mark = sshd_log_mark(&server);
	char *out;
	int rc = ssh_as(user, token, "id -un", &out);

	ck_assert_msg(rc == 255, "ssh exited %d:\n%s", rc, out);
	ck_assert_msg(strstr(out, "Permission denied") != NULL, "%s", out);
	sshd_ck_log(&server, mark, "Accepted keyboard-interactive/pam", user, 0);
	sshd_ck_log(&server, mark, "PAM: Authentication failure", user, 1);
	ck_assert_int_eq(idp_introspections(&idp), introspections);
	free(out);
}

/* --- keyboard-interactive: the shipped snippet ------------------------------ */

START_TEST(machine_user_runs_command)
{
	char *tok = idp_mint(&idp, SU.member, "ssh", 300, NULL), *out, want[400];
	long before = idp_introspections(&idp), mark = sshd_log_mark(&server);
	int rc;

	/* (The prompt the client is shown: client_sees_the_modules_prompt.) */
	rc = ssh_as(SU.member, tok, "id -un", &out);
	ck_ran(rc, out, mark);
	snprintf(want, sizeof(want), "%s\n", SU.member);
	ck_assert_str_eq(out, want);
	sshd_ck_log(&server, mark, "Accepted keyboard-interactive/pam", SU.member, 1);
	ck_assert_int_eq(idp_introspections(&idp), before + 1);
	free(out);

	/* The second login within cache_ttl is served from the cache. */
	rc = ssh_as(SU.member, tok, "'echo \"$HOME\"'", &out); /* the remote shell's $HOME */
	ck_ran(rc, out, mark);
	snprintf(want, sizeof(want), "%s\n", SU.member_home);
	ck_assert_str_eq(out, want);
	ck_assert_int_eq(idp_introspections(&idp), before + 1);
	free(out);
	free(tok);
}
END_TEST

/*
 * What a client is shown, recorded by the test's own askpass: exactly one
 * prompt, the module's, as OpenSSH presents keyboard-interactive prompts.
 * apitoken-askpass matches this form; if OpenSSH changed it, this fails.
 */
START_TEST(client_sees_the_modules_prompt)
{
	char *tok = idp_mint(&idp, SU.member, "ssh", 300, NULL), *out, *prompts, want[400];
	long mark = sshd_log_mark(&server);

	server.test_askpass = true;
	ck_ran(ssh_as(SU.member, tok, "true", &out), out, mark);
	prompts = sshd_prompts(&server);
	snprintf(want, sizeof(want), "(%s@127.0.0.1) API token: \n", SU.member);
	ck_assert_ptr_nonnull(prompts);
	ck_assert_str_eq(prompts, want);
	free(prompts);
	free(out);
	free(tok);
}
END_TEST

/*
 * hosts in the client settings, with the real ssh through `apitoken exec`:
 * the token goes to 127.0.0.1, which hosts names; the same server reached
 * as "localhost" (as a git submodule URL or a second rsync target might
 * name another host) gets no token: askpass refuses, ssh answers nothing
 * usable, and nothing reaches the issuer.
 */
START_TEST(askpass_only_for_configured_hosts)
{
	char *tok = idp_mint(&idp, SU.member, "ssh", 300, NULL), *out, *kh, dir[700], conf[800],
	     khpath[700], line[1200], script[256];
	long before, mark = sshd_log_mark(&server);
	FILE *f;

	/* The client settings exec and askpass read (XDG_CONFIG_HOME=<server dir>/xdg). */
	snprintf(dir, sizeof(dir), "%s/xdg", server.dir);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/xdg/apitoken", server.dir);
	mkdir(dir, 0700);
	snprintf(conf, sizeof(conf), "%s/config", dir);
	f = fopen(conf, "we");
	ck_assert_ptr_nonnull(f);
	fputs("hosts = 127.0.0.1\n", f);
	fclose(f);
	/* The server's host key under its other name too, so ssh gets as far as the prompt. */
	snprintf(khpath, sizeof(khpath), "%s/known_hosts", server.dir);
	f = fopen(khpath, "re");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	fclose(f);
	kh = strchr(line, ' ');
	ck_assert_ptr_nonnull(kh);
	f = fopen(khpath, "ae");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[localhost]:%d%s", server.port, kh);
	fclose(f);

	ck_ran(ssh_as(SU.member, tok, "true", &out), out, mark);
	free(out);
	sshd_ck_log(&server, mark, "Accepted keyboard-interactive/pam", SU.member, 1);

	before = idp_introspections(&idp);
	mark = sshd_log_mark(&server);
	snprintf(script, sizeof(script), "$SSH %s@localhost id -un", SU.member);
	ck_assert_int_eq(sshd_client(&server, tok, NULL, script, &out), 255);
	ck_assert_msg(strstr(out, "localhost is not in hosts (hosts = 127.0.0.1)") != NULL, "%s",
		      out);
	ck_assert_msg(strstr(out, tok) == NULL, "%s", out);
	sshd_ck_log(&server, mark, "Accepted keyboard-interactive/pam", SU.member, 0);
	ck_assert_int_eq(idp_introspections(&idp), before);
	free(out);
	unlink(conf);
	free(tok);
}
END_TEST

START_TEST(git_clone_and_push)
{
	char *tok = idp_mint(&idp, SU.member, "ssh git", 300, NULL), *out, script[2048], sha[64];
	const char *work = workdir("git");
	long mark = sshd_log_mark(&server);
	int rc;

	/* A bare repository with one commit in the machine user's home. */
	snprintf(script, sizeof(script),
		 "set -e; cd '%s'; git init -q -b main seed; cd seed; echo seed > README;"
		 "git add README; git -c user.name=seed -c user.email=seed@example.invalid "
		 "commit -q -m seed; cd ..; git clone -q --bare seed '%s/repo.git';"
		 "chown -R %s: '%s/repo.git'",
		 work, SU.member_home, SU.member, SU.member_home);
	ck_assert_int_eq(system(script), 0);

	snprintf(script, sizeof(script),
		 "set -e\n"
		 "git clone -q ssh://%s@127.0.0.1:$SSH_PORT%s/repo.git clone\n"
		 "cd clone\n"
		 "test \"$(cat README)\" = seed\n"
		 "echo 'from CI' > NEW\n"
		 "git add NEW\n"
		 "git commit -q -m 'from CI'\n"
		 "git push -q origin main\n"
		 "git rev-parse HEAD\n",
		 SU.member, SU.member_home);
	rc = sshd_client(&server, tok, work, script, &out);
	ck_ran(rc, out, mark);
	ck_assert_msg(sscanf(out, "%63s", sha) == 1 && strlen(sha) == 40, "%s", out);
	free(out);

	/* The pushed commit is the bare repository's main, with its file. */
	snprintf(script, sizeof(script),
		 "test \"$(git -c safe.directory='*' --git-dir='%s/repo.git' rev-parse main)\" = %s"
		 " && test \"$(git -c safe.directory='*' --git-dir='%s/repo.git' show main:NEW)\""
		 " = 'from CI'",
		 SU.member_home, sha, SU.member_home);
	ck_assert_int_eq(system(script), 0);
	free(tok);
}
END_TEST

START_TEST(rsync_round_trip)
{
	char *tok = idp_mint(&idp, SU.member, "ssh rsync", 300, NULL), *out, script[2048];
	const char *work = workdir("rsync");
	long mark = sshd_log_mark(&server);
	int rc;

	/* Text, binary (every byte value and random bytes), a name with spaces, empty, nested. */
	snprintf(script, sizeof(script),
		 "set -e; cd '%s'; mkdir -p tree/sub/deeper; echo hello > tree/text.txt;"
		 "printf 'with spaces\\n' > 'tree/name with spaces.txt'; : > tree/sub/empty;"
		 "awk 'BEGIN { for (i = 0; i < 256; i++) printf \"%%c\", i }' > tree/bytes.bin;"
		 "head -c 200000 /dev/urandom > tree/sub/deeper/random.bin;"
		 "chmod 0750 tree/sub; test $(wc -c < tree/bytes.bin) -eq 256",
		 work);
	ck_assert_int_eq(system(script), 0);

	snprintf(script, sizeof(script),
		 "set -e\n"
		 "rsync -a -e \"$SSH\" tree/ %s@127.0.0.1:tree/\n"
		 "rsync -a -e \"$SSH\" %s@127.0.0.1:tree/ back/\n",
		 SU.member, SU.member);
	rc = sshd_client(&server, tok, work, script, &out);
	ck_ran(rc, out, mark);
	free(out);

	/* Byte-identical: there (as root, in the user's home) and back. */
	snprintf(script, sizeof(script),
		 "cd '%s' && diff -r tree '%s/tree' && diff -r tree back && "
		 "cmp tree/sub/deeper/random.bin back/sub/deeper/random.bin && "
		 "cmp 'tree/name with spaces.txt' 'back/name with spaces.txt' && "
		 "test \"$(stat -c %%a back/sub)\" = 750",
		 work, SU.member_home);
	ck_assert_int_eq(system(script), 0);
	free(tok);
}
END_TEST

START_TEST(scp_round_trip)
{
	char *tok = idp_mint(&idp, SU.member, "ssh", 300, NULL), *out, script[2048];
	const char *work = workdir("scp");
	long mark = sshd_log_mark(&server);
	int rc;

	snprintf(script, sizeof(script), "head -c 300000 /dev/urandom > '%s/up.bin'", work);
	ck_assert_int_eq(system(script), 0);
	/* scp's default (SFTP) and its legacy protocol (-O). */
	snprintf(script, sizeof(script),
		 "set -e\n"
		 "$SCP up.bin %s@127.0.0.1:there.bin\n"
		 "$SCP %s@127.0.0.1:there.bin down.bin\n"
		 "$SCP -O up.bin %s@127.0.0.1:there-legacy.bin\n"
		 "$SCP -O %s@127.0.0.1:there-legacy.bin down-legacy.bin\n",
		 SU.member, SU.member, SU.member, SU.member);
	rc = sshd_client(&server, tok, work, script, &out);
	ck_ran(rc, out, mark);
	free(out);
	snprintf(script, sizeof(script),
		 "cd '%s' && cmp up.bin down.bin && cmp up.bin down-legacy.bin && "
		 "cmp up.bin '%s/there.bin' && test \"$(stat -c %%U '%s/there.bin')\" = %s",
		 work, SU.member_home, SU.member_home, SU.member);
	ck_assert_int_eq(system(script), 0);
	free(tok);
}
END_TEST

START_TEST(wrong_token_refused)
{
	long before = idp_introspections(&idp);

	ck_refused(SU.member, "ucat_NoSuchTokenWasEverIssued0000000000000", before + 1);
}
END_TEST

START_TEST(other_users_token_refused)
{
	char *tok = idp_mint(&idp, "someone-else", "ssh", 300, NULL);
	long before = idp_introspections(&idp);

	ck_refused(SU.member, tok, before + 1);
	free(tok);
}
END_TEST

START_TEST(ip_restricted_token)
{
	char *outside = idp_mint(&idp, SU.member, "ssh", 300, "[\"10.0.0.0/8\",\"192.0.2.0/24\"]");
	char *inside = idp_mint(&idp, SU.member, "ssh", 300, "[\"10.0.0.0/8\",\"127.0.0.0/8\"]");
	long before = idp_introspections(&idp), mark;
	char *out;
	int rc;

	ck_refused(SU.member, outside, before + 1);
	mark = sshd_log_mark(&server);
	rc = ssh_as(SU.member, inside, "id -un", &out);
	ck_ran(rc, out, mark);
	sshd_ck_log(&server, mark, "Accepted keyboard-interactive/pam", SU.member, 1);
	ck_assert_int_eq(idp_introspections(&idp), before + 2);
	free(out);
	free(outside);
	free(inside);
}
END_TEST

/*
 * No part of this depends on how long a login takes: within cache_ttl is
 * made certain by an hour's cache_ttl for the first two logins, past it by
 * lowering cache_ttl to 1 s (obeyed at once: the lifetimes follow the
 * config in force) and waiting 2 s; a slow login only makes the entry older.
 */
START_TEST(revoked_token_refused_after_cache_ttl)
{
	char *tok = idp_mint(&idp, SU.member, "ssh", 300, NULL), *out;
	long before = idp_introspections(&idp), mark = sshd_log_mark(&server);
	int rc;

	write_config(3600);
	rc = ssh_as(SU.member, tok, "true", &out);
	ck_ran(rc, out, mark);
	free(out);
	idp_revoke(&idp, tok);
	/* Within cache_ttl the cached answer still serves: the documented trade-off. */
	rc = ssh_as(SU.member, tok, "true", &out);
	ck_ran(rc, out, mark);
	ck_assert_int_eq(idp_introspections(&idp), before + 1);
	free(out);
	write_config(1);
	sleep(2);
	ck_refused(SU.member, tok, before + 2);
	free(tok);
}
END_TEST

/*
 * Not in the group apitoken: pam_succeed_if sends them past the module to
 * the rest of the stack. The module never asks, the issuer hears nothing,
 * even with a valid token; the prompts, if any, are the rest's (WANT).
 */
static void ck_outsider(const char *want_prompts)
{
	char *tok = idp_mint(&idp, SU.outsider, "ssh", 300, NULL), *out, *prompts;
	long before = idp_introspections(&idp), mark = sshd_log_mark(&server);
	int rc;

	/* The point here is which prompts sshd sends: the recording askpass. */
	server.test_askpass = true;

	rc = ssh_as(SU.outsider, tok, "id -un", &out);
	ck_assert_msg(rc == 255, "ssh exited %d:\n%s", rc, out);
	sshd_ck_log(&server, mark, "Accepted keyboard-interactive/pam", SU.outsider, 0);
	sshd_ck_log(&server, mark, "PAM: Authentication failure", SU.outsider, 1);
	ck_assert_int_eq(idp_introspections(&idp), before);
	prompts = sshd_prompts(&server);
	if (prompts != NULL)
		ck_assert_str_eq(prompts, want_prompts);
	free(prompts);
	free(out);
	free(tok);
}

/* Nothing else configured: they fail without a single prompt. */
START_TEST(outsider_not_sent_to_module)
{
	ck_outsider("");
}
END_TEST

/* --- Debian's stack: everybody else goes on to common-auth ---------------- */

START_TEST(debian_stack_machine_user_logs_in)
{
	char *tok = idp_mint(&idp, SU.member, "ssh", 300, NULL), *out, want[100];
	long mark = sshd_log_mark(&server);
	int rc;

	rc = ssh_as(SU.member, tok, "id -un", &out);
	ck_ran(rc, out, mark);
	snprintf(want, sizeof(want), "%s\n", SU.member);
	ck_assert_str_eq(out, want);
	free(out);
	free(tok);
}
END_TEST

/* pam_unix asks them for their password (they have none), never for a token. */
START_TEST(debian_stack_outsider_asked_for_password)
{
	char want[200];

	snprintf(want, sizeof(want), "(%s@127.0.0.1) Password: \n", SU.outsider);
	ck_outsider(want);
}
END_TEST

/* --- password: the snippet's variant for clients that only do passwords ---- */

START_TEST(password_method_logs_in)
{
	char *tok = idp_mint(&idp, SU.member, "ssh", 300, NULL), *out, *prompts, want[400];
	long before = idp_introspections(&idp), mark = sshd_log_mark(&server);
	int rc;

	rc = ssh_as(SU.member, tok, "id -un", &out);
	ck_ran(rc, out, mark);
	snprintf(want, sizeof(want), "%s\n", SU.member);
	ck_assert_str_eq(out, want);
	sshd_ck_log(&server, mark, "Accepted password", SU.member, 1);
	ck_assert_int_eq(idp_introspections(&idp), before + 1);
	free(out);
	/*
	 * What `apitoken exec --password` answered: ssh's own prompt, not the
	 * module's (sshd hands the module the password). The recording askpass
	 * shows its exact form, which apitoken-askpass matches.
	 */
	server.test_askpass = true;
	mark = sshd_log_mark(&server);
	ck_ran(ssh_as(SU.member, tok, "true", &out), out, mark);
	prompts = sshd_prompts(&server);
	snprintf(want, sizeof(want), "%s@127.0.0.1's password: \n", SU.member);
	ck_assert_ptr_nonnull(prompts);
	ck_assert_str_eq(prompts, want);
	free(prompts);
	free(out);
	free(tok);
}
END_TEST

START_TEST(password_method_refuses_wrong_token)
{
	long before = idp_introspections(&idp), mark = sshd_log_mark(&server);
	char *out;
	int rc;

	rc = ssh_as(SU.member, "ucat_NoSuchTokenWasEverIssued0000000000000", "id -un", &out);
	ck_assert_msg(rc == 255, "ssh exited %d:\n%s", rc, out);
	sshd_ck_log(&server, mark, "Accepted password", SU.member, 0);
	sshd_ck_log(&server, mark, "Failed password", SU.member, 1);
	ck_assert_int_eq(idp_introspections(&idp), before + 1);
	free(out);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sshd");
	TCase *kbd = tcase_create("keyboard-interactive"), *deb = tcase_create("debian-stack"),
	      *pw = tcase_create("password");

	tcase_add_unchecked_fixture(kbd, up_kbdint, down);
	tcase_add_checked_fixture(kbd, each_test, NULL);
	tcase_set_timeout(kbd, 120);
	tcase_add_test(kbd, machine_user_runs_command);
	tcase_add_test(kbd, client_sees_the_modules_prompt);
	tcase_add_test(kbd, git_clone_and_push);
	tcase_add_test(kbd, rsync_round_trip);
	tcase_add_test(kbd, scp_round_trip);
	tcase_add_test(kbd, wrong_token_refused);
	tcase_add_test(kbd, other_users_token_refused);
	tcase_add_test(kbd, ip_restricted_token);
	tcase_add_test(kbd, revoked_token_refused_after_cache_ttl);
	tcase_add_test(kbd, outsider_not_sent_to_module);
	tcase_add_test(kbd, askpass_only_for_configured_hosts);
	suite_add_tcase(s, kbd);

	tcase_add_unchecked_fixture(deb, up_debian, down);
	tcase_add_checked_fixture(deb, each_test, NULL);
	tcase_set_timeout(deb, 120);
	tcase_add_test(deb, debian_stack_machine_user_logs_in);
	tcase_add_test(deb, debian_stack_outsider_asked_for_password);
	suite_add_tcase(s, deb);

	tcase_add_unchecked_fixture(pw, up_password, down);
	tcase_add_checked_fixture(pw, each_test, NULL);
	tcase_set_timeout(pw, 120);
	tcase_add_test(pw, password_method_logs_in);
	tcase_add_test(pw, password_method_refuses_wrong_token);
	suite_add_tcase(s, pw);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
