/*
 * user_map (DESIGN.md §4 ★2) through the real libpam, the real helper and
 * the real test issuer: a token whose username claim is a platform identity
 * (ci-bot@example.org, repo:org/app) logs in as the local user its map line
 * names and as no one else (reason=user_not_mapped); the map is read at
 * every login, with the config; an unsafe or malformed map stops the login
 * with PAM_SERVICE_ERR naming the file (and line); a cache hit is decided by
 * the map in force, and an edited map voids the entries made under the old
 * one; `apitoken cache list` shows the mapped user.
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

static const char map_text[] = "# platform identities -> local accounts\n"
			       "ci-bot@example.org   deploy\n"
			       "repo:org/*\tapp\n";

/* A service against the issuer with user_map = ROOT/NAME, plus extra lines. */
static const char *map_service(const char *map_path, const char *extra)
{
	char lines[2048];

	snprintf(lines, sizeof(lines), "user_map = %s\n%s", map_path, extra ? extra : "");
	return idp_service(&idp, lines, NULL);
}

/* pam_run, asserting the code and the audit line's result and reason. */
static void login(const char *dir, const char *user, const char *tok, int want, const char *result,
		  const char *reason)
{
	struct pam_result r;
	char needle[128];

	log_reset();
	r = pam_run(dir, user, "192.0.2.7", tok);
	ck_assert_msg(r.auth == want, "%s: %d, want %d; log:\n%s", user, r.auth, want, log_text());
	snprintf(needle, sizeof(needle), "result=%s reason=%s ", result, reason);
	ck_assert_int_eq(log_count("result="), 1);
	ck_assert_msg(log_count(needle) == 1, "want %s in:\n%s", needle, log_text());
}

START_TEST(mapped_identity_logs_in_as_its_user_only)
{
	char *tok = idp_mint(&idp, "ci-bot@example.org", "ssh", 300, NULL);
	const char *dir = map_service(write_file("user.map", 0644, map_text), NULL);
	struct pam_result r;

	log_reset();
	r = pam_run(dir, "deploy", "192.0.2.7", tok);
	ck_assert_int_eq(r.auth, PAM_SUCCESS);
	ck_assert_int_eq(r.acct, PAM_SUCCESS);
	ck_assert_int_eq(log_count("result="), 1);
	ck_assert_int_eq(log_count("result=allow reason=ok "), 1);
	ck_assert_int_eq(log_count("user=deploy rhost=192.0.2.7"), 1);

	/* Not as another local user, nor under its platform name. */
	login(dir, "app", tok, PAM_AUTH_ERR, "deny", "user_not_mapped");
	login(dir, "ci-bot@example.org", tok, PAM_AUTH_ERR, "deny", "user_not_mapped");
	login(dir, "root", tok, PAM_AUTH_ERR, "deny", "user_not_mapped");
	free(tok);

	/* A glob line: any repository of org, ':' and '/' literal. */
	tok = idp_mint(&idp, "repo:org/app", "ssh", 300, NULL);
	login(dir, "app", tok, PAM_SUCCESS, "allow", "ok");
	login(dir, "deploy", tok, PAM_AUTH_ERR, "deny", "user_not_mapped");
	free(tok);
	tok = idp_mint(&idp, "repo:orgx/app", "ssh", 300, NULL);
	login(dir, "app", tok, PAM_AUTH_ERR, "deny", "user_not_mapped");
	free(tok);
}
END_TEST

START_TEST(no_match_is_denied)
{
	char *tok = idp_mint(&idp, "stranger", "ssh", 300, NULL);
	const char *dir;

	/* Without a map "stranger" may log in as stranger; with one, it is not mapped. */
	login(idp_service(&idp, NULL, NULL), "stranger", tok, PAM_SUCCESS, "allow", "ok");
	dir = map_service(write_file("user.map", 0644, map_text), NULL);
	login(dir, "stranger", tok, PAM_AUTH_ERR, "deny", "user_not_mapped");
	/* A map of nothing but comments maps no one. */
	write_file("user.map", 0644, "# nobody yet\n");
	login(dir, "stranger", tok, PAM_AUTH_ERR, "deny", "user_not_mapped");
	free(tok);
}
END_TEST

/*
 * Read at every login, like the config: an admin's edit applies to the next
 * login without a restart of sshd, and a cached answer is decided by the
 * map in force. The cache binds to the map's bytes: any edit voids entries.
 */
START_TEST(map_read_at_each_login_and_bound_in_cache)
{
	char *tok = idp_mint(&idp, "ci-bot@example.org", "ssh", 300, NULL);
	const char *map = write_file("user.map", 0644, map_text);
	const char *dir = map_service(map, "cache = yes\n");
	long before = idp_introspections(&idp);

	login(dir, "deploy", tok, PAM_SUCCESS, "allow", "ok");
	ck_assert_int_eq(log_count("source=network"), 1);
	/* A hit is checked against the map again. */
	login(dir, "app", tok, PAM_AUTH_ERR, "deny", "user_not_mapped");
	ck_assert_int_eq(log_count("source=cache"), 1);
	login(dir, "deploy", tok, PAM_SUCCESS, "allow", "ok");
	ck_assert_int_eq(log_count("source=cache"), 1);
	ck_assert_int_eq(idp_introspections(&idp), before + 1);

	/* ci-bot now goes to app: at once, for the next login. */
	write_file("user.map", 0644, "ci-bot@example.org app\n");
	login(dir, "deploy", tok, PAM_AUTH_ERR, "deny", "user_not_mapped");
	ck_assert_int_eq(log_count("source=network"), 1);
	login(dir, "app", tok, PAM_SUCCESS, "allow", "ok");
	ck_assert_int_eq(log_count("source=cache"), 1);
	ck_assert_int_eq(idp_introspections(&idp), before + 2);

	/* An edit that maps the same still voids the entries of the old bytes. */
	write_file("user.map", 0644, "# reviewed\nci-bot@example.org app\n");
	login(dir, "app", tok, PAM_SUCCESS, "allow", "ok");
	ck_assert_int_eq(log_count("source=network"), 1);
	ck_assert_int_eq(idp_introspections(&idp), before + 3);
	free(tok);
}
END_TEST

START_TEST(unsafe_map_refused)
{
	char *tok = idp_mint(&idp, "ci-bot@example.org", "ssh", 300, NULL);
	char wdir[600], path[700];
	const char *dir;

	/* Group-writable: whoever is in the group could map themselves to root. */
	dir = map_service(write_file("user.map", 0664, map_text), NULL);
	login(dir, "deploy", tok, PAM_SERVICE_ERR, "error", "config");
	ck_assert_msg(strstr(log_text(), "user.map: writable by group or others") != NULL, "%s",
		      log_text());

	/* Safe itself, under a directory others may write: it could be swapped. */
	snprintf(wdir, sizeof(wdir), "%s/shared", T.root);
	snprintf(path, sizeof(path), "%s/user.map", wdir);
	ck_assert_int_eq(mkdir(wdir, 0755), 0);
	ck_assert_int_eq(chmod(wdir, 0777), 0);
	write_file("shared/user.map", 0644, map_text);
	dir = map_service(path, NULL);
	login(dir, "deploy", tok, PAM_SERVICE_ERR, "error", "config");
	ck_assert_msg(strstr(log_text(), "shared") != NULL &&
			  strstr(log_text(), "writable by group or others") != NULL,
		      "%s", log_text());
	unlink(path);
	rmdir(wdir);

	/* Named but missing: a typo, not "no map". */
	dir = map_service("/nonexistent/user.map", NULL);
	login(dir, "deploy", tok, PAM_SERVICE_ERR, "error", "config");
	ck_assert_ptr_nonnull(strstr(log_text(), "No such file"));
	free(tok);
}
END_TEST

START_TEST(malformed_line_names_file_and_line)
{
	char *tok = idp_mint(&idp, "ci-bot@example.org", "ssh", 300, NULL);
	char want[700];
	/* Line 3 holds what looks like a pasted token: never in a log. */
	const char *map = write_file(
	    "user.map", 0644, "# map\nci-bot@example.org deploy\nucat_PastedByMistake0123\n");
	const char *dir = map_service(map, NULL);

	login(dir, "deploy", tok, PAM_SERVICE_ERR, "error", "config");
	snprintf(want, sizeof(want), "%s/user.map:3: want IDENTITY LOCAL_USER", T.root);
	ck_assert_msg(strstr(log_text(), want) != NULL, "want %s in\n%s", want, log_text());
	ck_assert_ptr_null(strstr(log_text(), "PastedByMistake"));

	write_file("user.map", 0644, "ci-bot@example.org dep*loy\n");
	login(dir, "deploy", tok, PAM_SERVICE_ERR, "error", "config");
	ck_assert_ptr_nonnull(strstr(log_text(), "user.map:1: LOCAL_USER cannot hold '*'"));
	free(tok);
}
END_TEST

static char *admin(const char *args)
{
	char cmd[2048], *out;
	int st;

	snprintf(cmd, sizeof(cmd), HELPER " cache %s --config %s/apt.conf 2>/dev/null", args,
		 T.root);
	out = shell_output(cmd, &st);
	ck_assert_msg(out != NULL && WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: %#x", cmd, st);
	return out;
}

START_TEST(cache_list_shows_mapped_user)
{
	char *tok = idp_mint(&idp, "ci-bot@example.org", "ssh", 300, NULL);
	char *other = idp_mint(&idp, "stranger", "ssh", 300, NULL);
	const char *dir;
	char *out;

	/* A clean cache directory, so the listing holds exactly these entries. */
	{
		char cmd[700];
		int st;

		snprintf(cmd, sizeof(cmd), "rm -rf %s/cache", T.root);
		free(shell_output(cmd, &st));
	}
	dir = map_service(write_file("user.map", 0644, map_text), "cache = yes\n");
	login(dir, "deploy", tok, PAM_SUCCESS, "allow", "ok");
	login(dir, "stranger", other, PAM_AUTH_ERR, "deny", "user_not_mapped");

	out = admin("list");
	ck_assert_msg(strstr(out, "  CONFIG  MAPPED-USER\n") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "ci-bot@example.org") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "this    deploy\n") != NULL, "%s", out);
	/* The stranger's entry maps to no one. */
	ck_assert_msg(strstr(out, "this    -\n") != NULL, "%s", out);
	free(out);
	out = admin("list --json");
	ck_assert_msg(strstr(out, "\"mapped_user\": \"deploy\"") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "\"mapped_user\": null") != NULL, "%s", out);
	free(out);

	/* Without a map, no such column or field. */
	idp_service(&idp, "cache = yes\n", NULL);
	out = admin("list");
	ck_assert_msg(strstr(out, "MAPPED-USER") == NULL, "%s", out);
	free(out);
	out = admin("list --json");
	ck_assert_msg(strstr(out, "mapped_user") == NULL, "%s", out);
	free(out);
	free(tok);
	free(other);
}
END_TEST

/* The JSON audit line names the local user a map let a login through as; a deny names none. */
START_TEST(audit_file_names_the_mapped_user)
{
	char *tok = idp_mint(&idp, "ci-bot@example.org", "ssh", 300, NULL);
	char audit[512], extra[1024], *text, *nl;
	json_t *line;

	/* write_file's answer is its own buffer, which the next call reuses. */
	snprintf(audit, sizeof(audit), "%s", write_file("audit.json", 0600, ""));
	snprintf(extra, sizeof(extra), "audit_file = %s\n", audit);
	const char *dir = map_service(write_file("user.map", 0644, map_text), extra);
	login(dir, "deploy", tok, PAM_SUCCESS, "allow", "ok");
	login(dir, "app", tok, PAM_AUTH_ERR, "deny", "user_not_mapped");
	free(tok);

	text = file_text(audit, 0);
	ck_assert_ptr_nonnull(text);
	nl = strchr(text, '\n');
	ck_assert_ptr_nonnull(nl);
	*nl = '\0';
	line = json_loads(text, 0, NULL);
	ck_assert_msg(line != NULL, "%s", text);
	ck_assert_str_eq(json_string_value(json_object_get(line, "mapped_user")), "deploy");
	ck_assert_str_eq(json_string_value(json_object_get(line, "user")), "deploy");
	json_decref(line);
	line = json_loads(nl + 1, 0, NULL);
	ck_assert_msg(line != NULL, "%s", nl + 1);
	ck_assert_str_eq(json_string_value(json_object_get(line, "reason")), "user_not_mapped");
	ck_assert(json_is_null(json_object_get(line, "mapped_user")));
	json_decref(line);
	free(text);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pam_usermap");
	TCase *tc = tcase_create("user_map");

	testenv_servers(&idp, NULL);
	tcase_add_unchecked_fixture(tc, testenv_servers_up, testenv_servers_down);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, mapped_identity_logs_in_as_its_user_only);
	tcase_add_test(tc, no_match_is_denied);
	tcase_add_test(tc, map_read_at_each_login_and_bound_in_cache);
	tcase_add_test(tc, unsafe_map_refused);
	tcase_add_test(tc, malformed_line_names_file_and_line);
	tcase_add_test(tc, cache_list_shows_mapped_user);
	tcase_add_test(tc, audit_file_names_the_mapped_user);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
