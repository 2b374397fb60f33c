/*
 * An installed pam_apitoken through the real libpam against the real test
 * issuer: the module and the helper the package put on the machine
 * (tests/package/check.sh runs this after dpkg -i), and the stack that
 * pam-auth-update makes of the shipped profile (conf/pam-configs/apitoken)
 * in front of Debian's pam_unix. Without the variables it tests the build
 * dir, as the other integration tests do.
 *
 *   APITOKEN_INSTALLED_MODULE  the module in the service lines: a path, or a
 *                              bare name that libpam finds in its own directory
 *   APITOKEN_INSTALLED_HELPER  the helper; set, a login also runs with no
 *                              helper line (the path compiled into the module,
 *                              which check.sh checks is this one)
 *   APITOKEN_PROFILE           the profile (default conf/pam-configs/apitoken)
 *
 * Needs root: the profile's guard asks the group database, so the test
 * makes the group apitoken and a member and an outsider (tests/support/sshd.c).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "sshd.h"
#include "testenv.h"
#include "unit.h"

static struct server idp;

/* The stand-in for the rest of Debian's Primary block: pam_unix's profile line. */
#define UNIX_LINE "[success=end default=ignore]\tpam_unix.so nullok try_first_pass"

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : fallback;
}

/* The service and config of idp_service, with the module and helper under test. */
static const char *installed_service(void)
{
	const char *module = getenv("APITOKEN_INSTALLED_MODULE"),
		   *helper = getenv("APITOKEN_INSTALLED_HELPER");

	if (module != NULL && module[0] != '\0')
		snprintf(T.module, sizeof(T.module), "%s", module);
	if (helper != NULL && helper[0] != '\0')
		snprintf(T.helper, sizeof(T.helper), "%s", helper);
	return idp_service(&idp, "token_prefixes = ucat_\n", NULL);
}

/* --- the module and the helper ------------------------------------------- */

START_TEST(installed_module_allows_a_good_token)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);
	const char *dir = installed_service();
	long before = idp_introspections(&idp);
	struct pam_result r;

	log_reset();
	r = pam_run(dir, "alice", "192.0.2.7", tok);
	ck_assert_int_eq(r.auth, PAM_SUCCESS);
	ck_assert_int_eq(r.acct, PAM_SUCCESS);
	ck_assert_int_eq(r.setcred, PAM_SUCCESS);
	ck_assert_str_eq(r.prompt, "API token: ");
	ck_audit("allow", "ok");
	/* The helper asked the issuer: the answer came from the network. */
	ck_assert_int_eq(log_count("source=network"), 1);
	ck_assert_int_eq(idp_introspections(&idp), before + 1);
	free(tok);
}
END_TEST

START_TEST(installed_module_denies_a_bad_token)
{
	const char *dir = installed_service();
	long before = idp_introspections(&idp);

	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_not-a-token-of-the-issuer").auth,
			 PAM_AUTH_ERR);
	ck_audit("deny", "inactive");
	ck_assert_int_eq(idp_introspections(&idp), before + 1);
}
END_TEST

START_TEST(compiled_in_helper_runs)
{
	char conf[4096], *url, *tok;
	const char *dir;
	struct pam_result r;

	if (getenv("APITOKEN_INSTALLED_HELPER") == NULL)
		return; /* the build's compiled-in helper path is not installed */
	dir = installed_service();
	url = idp_url(&idp);
	/* idp_service's config without its helper line. */
	snprintf(conf, sizeof(conf),
		 "introspection_url = %s\nclient_id = rs\nclient_secret_file = %s/secret\n"
		 "timeout_ms = 3000\nconnect_timeout_ms = 1000\ncache_dir = %s/cache\n"
		 "cache = no\n",
		 url, T.root, T.root);
	write_file("apt.conf", 0644, conf);
	tok = idp_mint(&idp, "alice", "ssh", 300, NULL);
	log_reset();
	r = pam_run(dir, "alice", "192.0.2.7", tok);
	ck_assert_int_eq(r.auth, PAM_SUCCESS);
	ck_audit("allow", "ok");
	ck_assert_int_eq(log_count("source=network"), 1);
	free(tok);
	free(url);
}
END_TEST

/* --- the pam-auth-update profile -------------------------------------------- */

/*
 * One line of a profile as pam-auth-update writes it into common-auth: an
 * "end" in the control becomes JUMP (the Primary lines from there on, a jump
 * past the block's pam_deny to its pam_permit), and pam_apitoken.so the
 * module under test with this test's config.
 */
static void stack_line(char *out, size_t len, const char *line, int jump)
{
	char control[256], module[256], args[512] = "", *end;
	int n = 0;

	if (sscanf(line, line[0] == '[' ? "%255[^]]]%n" : "%255s%n", control, &n) != 1)
		ck_abort_msg("bad profile line: %s", line);
	if (line[0] == '[')
		strcat(control, "]");
	if (sscanf(line + n, " %255s %511[^\n]", module, args) < 1)
		ck_abort_msg("no module in: %s", line);
	end = strstr(control, "end");
	if (end != NULL) {
		char rest[256];

		snprintf(rest, sizeof(rest), "%s", end + 3);
		snprintf(end, sizeof(control) - (size_t)(end - control), "%d%s", jump, rest);
	}
	if (strcmp(module, "pam_apitoken.so") == 0)
		snprintf(out + strlen(out), len - strlen(out), "auth %s %s config=%s/apt.conf %s\n",
			 control, T.module, T.root, args);
	else
		snprintf(out + strlen(out), len - strlen(out), "auth %s %s %s\n", control, module,
			 args);
}

/*
 * Appends to OUT the Primary block pam-auth-update makes of the profile's
 * "Auth:" lines, the highest priority, followed by pam_unix's.
 */
static void primary_block(char *out, size_t len)
{
	const char *path = env_or("APITOKEN_PROFILE", "conf/pam-configs/apitoken");
	char *text = file_text(path, 0), *save = NULL, *l;
	const char *lines[16];
	int n = 0, in_auth = 0;

	ck_assert_msg(text != NULL, "cannot read %s", path);
	for (l = strtok_r(text, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
		if (l[0] != ' ' && l[0] != '\t') {
			in_auth = strcmp(l, "Auth:") == 0;
			continue;
		}
		if (in_auth && n < 15)
			lines[n++] = l + strspn(l, " \t");
	}
	ck_assert_msg(n > 0, "%s: no Auth: lines", path);
	lines[n] = UNIX_LINE;
	for (int i = 0; i <= n; i++)
		stack_line(out, len, lines[i], n + 1 - i);
	free(text);
}

/* A service "svc" made of the profile in Debian's common-auth, with pam_permit accounts. */
static const char *profile_service(void)
{
	const char *dir = installed_service();
	char svc[8192] = "";

	primary_block(svc, sizeof(svc));
	strncat(svc,
		"auth requisite pam_deny.so\n"
		"auth required pam_permit.so\n"
		"account required pam_permit.so\n",
		sizeof(svc) - strlen(svc) - 1);
	write_file("pam.d/svc", 0644, svc);
	return dir;
}

START_TEST(profile_member_logs_in_with_a_token)
{
	const char *dir = profile_service();
	char *tok = idp_mint(&idp, SU.member, "ssh", 300, NULL);
	struct pam_result r;

	log_reset();
	r = pam_run(dir, SU.member, "192.0.2.7", tok);
	ck_assert_int_eq(r.auth, PAM_SUCCESS);
	ck_assert_int_eq(r.acct, PAM_SUCCESS);
	/* setcred jumps over the module to pam_unix, which gives it. */
	ck_assert_int_eq(r.setcred, PAM_SUCCESS);
	ck_assert_int_eq(r.prompts, 1);
	ck_assert_str_eq(r.prompt, "API token: ");
	ck_audit("allow", "ok");
	free(tok);
}
END_TEST

START_TEST(profile_member_with_a_bad_token_never_reaches_pam_unix)
{
	const char *dir = profile_service();
	struct pam_result r;

	log_reset();
	r = pam_run(dir, SU.member, "192.0.2.7", "ucat_not-a-token-of-the-issuer");
	ck_assert_int_eq(r.auth, PAM_AUTH_ERR);
	/* default=die: no password prompt after the token's. */
	ck_assert_int_eq(r.prompts, 1);
	ck_assert_str_eq(r.prompt, "API token: ");
	ck_audit("deny", "inactive");
}
END_TEST

START_TEST(profile_outsider_gets_the_usual_stack)
{
	const char *dir = profile_service();
	char *tok = idp_mint(&idp, SU.outsider, "ssh", 300, NULL);
	long before = idp_introspections(&idp);
	struct pam_result r;

	log_reset();
	r = pam_run(dir, SU.outsider, "192.0.2.7", tok);
	/* pam_unix asked for the password (the user has none): the module never ran. */
	ck_assert_int_ne(r.auth, PAM_SUCCESS);
	ck_assert_int_eq(r.prompts, 1);
	ck_assert_msg(strstr(r.prompt, "API token") == NULL, "prompt \"%s\"", r.prompt);
	ck_assert_int_eq(log_count("result="), 0);
	ck_assert_int_eq(idp_introspections(&idp), before);
	free(tok);
}
END_TEST

static void up(void)
{
	testenv_servers_up();
	sshd_users_create();
}

static void down(void)
{
	sshd_users_remove();
	testenv_servers_down();
}

static Suite *suite(void)
{
	Suite *s = suite_create("installed");
	TCase *t = tcase_create("installed");

	testenv_servers(&idp, NULL);
	tcase_add_unchecked_fixture(t, up, down);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, installed_module_allows_a_good_token);
	tcase_add_test(t, installed_module_denies_a_bad_token);
	tcase_add_test(t, compiled_in_helper_runs);
	tcase_add_test(t, profile_member_logs_in_with_a_token);
	tcase_add_test(t, profile_member_with_a_bad_token_never_reaches_pam_unix);
	tcase_add_test(t, profile_outsider_gets_the_usual_stack);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "check_installed: needs root (the group apitoken and its users)\n");
		return 77;
	}
	return unit_run(suite());
}
