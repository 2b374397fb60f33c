/*
 * `apitoken check` (helper/cmd_check.c, DESIGN.md §8 ★2), run as the admin
 * runs it: the built helper as a process, as root, against the module's
 * config file, the real helper and the real test issuer. Without --user:
 * every problem of a config with its file:line and the fix, exit 3, and the
 * typo hint also in the module's own error through libpam. With --user: the
 * token from APITOKEN_TOKEN or stdin, the decision of a login (allow, deny
 * by scope, user and user_map, issuer down), the audit line with the reason
 * in words, exit 0/4/5, and the token in no output.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <security/pam_appl.h>

#include "testenv.h"
#include "unit.h"

#define HELPER TEST_BUILD "/apitoken"

static struct server idp;
static char *out, *err; /* of the last run */

/*
 * Runs `apitoken check ARGS` with stdin from the file IN (NULL: /dev/null);
 * keeps its stdout in out and its stderr in err; returns its exit status.
 */
static int run_check(const char *args, const char *in)
{
	char cmd[4096], errfile[600];
	int st;

	free(out);
	free(err);
	snprintf(errfile, sizeof(errfile), "%s/check.stderr", T.root);
	snprintf(cmd, sizeof(cmd), HELPER " check %s <%s 2>%s", args, in ? in : "/dev/null",
		 errfile);
	out = shell_output(cmd, &st);
	ck_assert_ptr_nonnull(out);
	err = file_text(errfile, 0);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(WIFEXITED(st), "%s: status %d", cmd, st);
	return WEXITSTATUS(st);
}

/* run_check with --config ROOT/apt.conf and the token in APITOKEN_TOKEN (NULL: none). */
static int check_env(const char *args, const char *tok)
{
	char a[2048];
	int rc;

	snprintf(a, sizeof(a), "--config %s/apt.conf %s", T.root, args);
	if (tok != NULL)
		setenv("APITOKEN_TOKEN", tok, 1);
	rc = run_check(a, NULL);
	unsetenv("APITOKEN_TOKEN");
	/* Wherever it came from, the token is in no output. */
	if (tok != NULL && tok[0] != '\0') {
		ck_assert_msg(strstr(out, tok) == NULL, "token in stdout:\n%s", out);
		ck_assert_msg(strstr(err, tok) == NULL, "token in stderr:\n%s", err);
	}
	return rc;
}

/* out holds want (formatted); a Check assertion that shows out. */
#define OUT_HAS(...)                                                                               \
	do {                                                                                       \
		char want_[2048];                                                                  \
		snprintf(want_, sizeof(want_), __VA_ARGS__);                                       \
		ck_assert_msg(strstr(out, want_) != NULL, "want \"%s\" in:\n%s", want_, out);      \
	} while (0)

/* ---- the configuration ------------------------------------------------ */

START_TEST(good_config_exits_0)
{
	idp_service(&idp, NULL, NULL);
	ck_assert_int_eq(check_env("", NULL), 0);
	OUT_HAS("%s/apt.conf: no problems found\n", T.root);
	ck_assert_str_eq(err, "");
}
END_TEST

/*
 * One file with many problems: every one is reported, each at its line with
 * its fix, then the count; the module itself fails on the first.
 */
START_TEST(every_problem_with_file_line_and_fix)
{
	char conf[4096], cmd[1200], *url = idp_url(&idp);
	/* write_file's answer is a static buffer: each path copied. */
	char *open_secret = strdup(write_file("secret-open", 0640, "rs-secret\n"));
	char *map = strdup(write_file("bad.map", 0644, "ci-bot@example.org deploy\nlonely\n"));
	char *gw = strdup(write_file("helper-gw", 0755, NULL));

	/* A copy of the helper that group members could replace. */
	snprintf(cmd, sizeof(cmd), "cp %s %s && chmod 0775 %s", T.helper, gw, gw);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/opencache && chmod 0777 %s/opencache", T.root,
		 T.root);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(conf, sizeof(conf),
		 "# every line but this one is wrong\n"
		 "introspecton_url = %s\n"	  /* 2: typo */
		 "timeout_ms = soon\n"		  /* 3: not a number */
		 "client_id = rs\n"		  /* 4 */
		 "client_secret_file = %s\n"	  /* 5: group-readable */
		 "cache = yes\n"		  /* 6 */
		 "cache_dir = %s/opencache\n"	  /* 7: 0777 */
		 "helper = %s\n"		  /* 8: group-writable */
		 "helper_user = apt-nosuchuser\n" /* 9 */
		 "user_map = %s\n"		  /* 10: line 2 does not parse */
		 "timeout_ms = 1000\n",		  /* 11: twice */
		 url, open_secret, T.root, gw, map);
	free(url);
	make_service(conf, NULL);

	ck_assert_int_eq(check_env("", NULL), 3);
	OUT_HAS("%s/apt.conf:2: unknown option \"introspecton_url\"; did you mean "
		"\"introspection_url\"?\n",
		T.root);
	OUT_HAS("%s/apt.conf:3: option timeout_ms: want a whole number from 1 to", T.root);
	OUT_HAS("%s/apt.conf:11: timeout_ms given twice\n", T.root);
	OUT_HAS("%s/apt.conf: introspection_url is required (add \"introspection_url = https://",
		T.root);
	OUT_HAS("%s/bad.map:2: want IDENTITY LOCAL_USER", T.root);
	OUT_HAS("%s/apt.conf:5: client_secret_file: %s: accessible by group or others (chmod 600 "
		"%s)",
		T.root, open_secret, open_secret);
	OUT_HAS("%s/apt.conf:7: cache %s/opencache: writable by group or others (chmod 700 "
		"%s/opencache)",
		T.root, T.root, T.root);
	OUT_HAS("%s/apt.conf:8: helper: %s: writable by group or others (chmod go-w %s)", T.root,
		gw, gw);
	OUT_HAS("%s/apt.conf:9: helper_user apt-nosuchuser: no such user; create it (useradd "
		"--system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "
		"apt-nosuchuser)",
		T.root);
	OUT_HAS("%s/apt.conf: 9 problems found\n", T.root);
	ck_assert_int_eq(text_count(out, "\n"), 10);

	/* With --user nothing is decided on a config that is wrong: exit 3, no audit line. */
	ck_assert_int_eq(check_env("--user alice", "ucat_never_sent"), 3);
	ck_assert_ptr_null(strstr(out, "result="));
	free(open_secret);
	free(map);
	free(gw);
}
END_TEST

/* The module's own error line has the hint too, through the real libpam. */
START_TEST(typo_hint_in_module_error)
{
	char conf[1024], want[1024], *url = idp_url(&idp);
	const char *dir;

	snprintf(conf, sizeof(conf), "introspecton_url = %s\n", url);
	free(url);
	dir = make_service(conf, NULL);
	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_x").auth, PAM_SERVICE_ERR);
	snprintf(want, sizeof(want),
		 "%s/apt.conf:1: unknown option \"introspecton_url\"; did you mean "
		 "\"introspection_url\"?",
		 T.root);
	ck_assert_msg(strstr(log_text(), want) != NULL, "want \"%s\" in:\n%s", want, log_text());
	ck_audit("error", "config");

	/* apitoken check says the same of the same file. */
	ck_assert_int_eq(check_env("", NULL), 3);
	OUT_HAS("%s\n", want);
}
END_TEST

START_TEST(missing_config_names_path)
{
	char args[700];

	snprintf(args, sizeof(args), "--config %s/nowhere.conf", T.root);
	ck_assert_int_eq(run_check(args, NULL), 3);
	OUT_HAS("%s/nowhere.conf: No such file or directory\n", T.root);
	OUT_HAS("%s/nowhere.conf: 1 problem found\n", T.root);
}
END_TEST

START_TEST(bad_usage_exits_2)
{
	ck_assert_int_eq(run_check("--rhost 192.0.2.7", NULL), 2);
	ck_assert_ptr_nonnull(strstr(err, "--rhost goes with --user"));
	/* An unknown argument is not echoed: it may be a token typed in the wrong place. */
	ck_assert_int_eq(run_check("ucat_OnTheCommandLine", NULL), 2);
	ck_assert_ptr_null(strstr(err, "OnTheCommandLine"));
	ck_assert_int_eq(run_check("--user", NULL), 2);
	ck_assert_int_eq(run_check("--help", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "usage: apitoken check [--config FILE] [--user USER"));
	ck_assert_str_eq(err, "");
}
END_TEST

/* ---- a login's decision ----------------------------------------------- */

START_TEST(allow_from_env_and_stdin)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, NULL), *line, *text;
	char audit[600], in[700], args[700];
	json_t *j;
	FILE *f;

	snprintf(audit, sizeof(audit), "%s/audit.json", T.root);
	unlink(audit);
	snprintf(in, sizeof(in), "audit_file = %s\n", audit);
	idp_service(&idp, in, NULL);

	ck_assert_int_eq(check_env("--user alice --rhost 192.0.2.7", tok), 0);
	OUT_HAS("\nresult=allow reason=ok user=alice rhost=192.0.2.7 token=sha256:");
	OUT_HAS(" source=network ms=");
	OUT_HAS("\nreason: ok: the token is active and meets every rule of the configuration\n");
	ck_assert_ptr_null(strstr(out, "mapped user"));

	/* The same token on stdin, with the newline echo adds: the same answer. */
	snprintf(in, sizeof(in), "%s/token.in", T.root);
	f = fopen(in, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s\n", tok);
	fclose(f);
	snprintf(args, sizeof(args), "--config %s/apt.conf --user alice", T.root);
	ck_assert_int_eq(run_check(args, in), 0);
	ck_assert_ptr_null(strstr(out, tok));
	OUT_HAS("\nresult=allow reason=ok user=alice rhost=- token=sha256:");
	unlink(in);

	/* Accounted for like a login, under its own service name. */
	text = file_text(audit, 0);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_null(strstr(text, tok));
	ck_assert_int_eq(text_count(text, "\n"), 2);
	line = strchr(text, '\n') + 1;
	j = json_loads(line, JSON_DISABLE_EOF_CHECK, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(j, "service")), "apitoken-check");
	ck_assert_str_eq(json_string_value(json_object_get(j, "result")), "allow");
	ck_assert_str_eq(json_string_value(json_object_get(j, "user")), "alice");
	json_decref(j);
	free(text);
	free(tok);
}
END_TEST

START_TEST(deny_by_scope_and_user)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);

	idp_service(&idp, "required_scopes = ssh deploy\n", NULL);
	ck_assert_int_eq(check_env("--user alice", tok), 4);
	OUT_HAS("\nresult=deny reason=scope_missing user=alice ");
	OUT_HAS("\nreason: scope_missing: the token lacks a scope of required_scopes\n");

	idp_service(&idp, NULL, NULL);
	ck_assert_int_eq(check_env("--user bob", tok), 4);
	OUT_HAS("\nresult=deny reason=user_mismatch user=bob ");
	OUT_HAS("\nreason: user_mismatch: the token's username_claim is another user\n");
	/* Which one: what the issuer said, which the audit line does not say. */
	OUT_HAS("\nidentity: alice (username)\n");
	ck_assert_ptr_null(strstr(out, "mapped user"));

	/* Refused before any request, as by the module: the local checks. */
	ck_assert_int_eq(check_env("--user alice", "ucat_bad\001byte"), 4);
	OUT_HAS("\nresult=deny reason=token_bad_bytes user=alice rhost=- token=");
	OUT_HAS(" source=local ms=");
	ck_assert_ptr_null(strstr(out, "identity:"));
	free(tok);
}
END_TEST

START_TEST(user_map_prints_mapped_user)
{
	char *tok = idp_mint(&idp, "ci-bot@example.org", "ssh", 300, NULL), lines[700], map[600];

	snprintf(map, sizeof(map), "%s",
		 write_file("user.map", 0644, "ci-bot@example.org deploy\n"));

	snprintf(lines, sizeof(lines), "user_map = %s\n", map);
	idp_service(&idp, lines, NULL);
	ck_assert_int_eq(check_env("--user deploy", tok), 0);
	OUT_HAS("\nresult=allow reason=ok user=deploy ");
	OUT_HAS("\nmapped user: deploy (user_map %s)\n", map);

	OUT_HAS("\nidentity: ci-bot@example.org (username)\n");

	/* Refused as app: the map gives the token to deploy, and says so. */
	ck_assert_int_eq(check_env("--user app", tok), 4);
	OUT_HAS("\nresult=deny reason=user_not_mapped user=app ");
	OUT_HAS("\nreason: user_not_mapped: the token's identity matches no line of user_map, or "
		"the first line that matches names another user (%s)\n",
		map);
	OUT_HAS("\nmapped user: deploy (user_map %s)\n", map);
	free(tok);

	/* An identity no line matches. */
	tok = idp_mint(&idp, "stranger", "ssh", 300, NULL);
	ck_assert_int_eq(check_env("--user stranger", tok), 4);
	OUT_HAS("\nresult=deny reason=user_not_mapped user=stranger ");
	OUT_HAS("\nidentity: stranger (username)\nmapped user: none (no line of user_map %s "
		"matches)\n",
		map);
	free(tok);
}
END_TEST

START_TEST(issuer_down_exits_5)
{
	char conf[1024];

	snprintf(conf, sizeof(conf),
		 "introspection_url = http://127.0.0.1:%d/introspect\ntimeout_ms = 2000\n",
		 closed_port());
	make_service(conf, NULL);
	ck_assert_int_eq(check_env("--user alice", "ucat_some_token_value"), 5);
	OUT_HAS("\nresult=unavailable reason=connect_failed user=alice ");
	OUT_HAS("\nreason: connect_failed: the endpoint could not be reached\n");
}
END_TEST

/* The cache is the module's: a check fills it like a login, --no-cache leaves it alone. */
START_TEST(cache_used_unless_no_cache)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, NULL), dir[600];
	long before;

	snprintf(dir, sizeof(dir), "rm -rf %s/cache", T.root);
	ck_assert_int_eq(system(dir), 0);
	snprintf(dir, sizeof(dir), "%s/cache", T.root);
	idp_service(&idp, "cache = yes\n", NULL);
	before = idp_introspections(&idp);
	ck_assert_int_eq(check_env("--user alice --no-cache", tok), 0);
	OUT_HAS(" source=network ");
	ck_assert_int_le(cache_entries(dir), 0);
	ck_assert_int_eq(check_env("--user alice", tok), 0);
	OUT_HAS(" source=network ");
	ck_assert_int_eq(cache_entries(dir), 1);
	ck_assert_int_eq(check_env("--user alice", tok), 0);
	OUT_HAS(" source=cache ");
	ck_assert_int_eq(idp_introspections(&idp), before + 2);
	free(tok);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("admin_check");
	TCase *tc = tcase_create("check");

	testenv_servers(&idp, NULL);
	tcase_add_unchecked_fixture(tc, testenv_servers_up, testenv_servers_down);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, good_config_exits_0);
	tcase_add_test(tc, every_problem_with_file_line_and_fix);
	tcase_add_test(tc, typo_hint_in_module_error);
	tcase_add_test(tc, missing_config_names_path);
	tcase_add_test(tc, bad_usage_exits_2);
	tcase_add_test(tc, allow_from_env_and_stdin);
	tcase_add_test(tc, deny_by_scope_and_user);
	tcase_add_test(tc, user_map_prints_mapped_user);
	tcase_add_test(tc, issuer_down_exits_5);
	tcase_add_test(tc, cache_used_unless_no_cache);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int rc = unit_run(suite());

	free(out);
	free(err);
	return rc;
}
