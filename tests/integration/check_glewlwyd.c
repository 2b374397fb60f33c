/*
 * glewlwyd, Debian's package, as a second real issuer (issue 11): the
 * module through the real libpam and helper against glewlwyd's own OIDC
 * introspection and revocation endpoints, started by tests/glewlwyd/server.js
 * (sqlite in a temp dir, 127.0.0.1, a port it picks). glewlwyd compares the
 * client secret as typed in HTTP Basic, so client_auth = basic_raw; and it
 * answers active for a refresh token, which must never log in.
 *
 * Without glewlwyd installed the suite runs no test and says so (SKIP):
 * tests/deps.sh installs it, so CI has it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <security/pam_appl.h>

#include "testenv.h"
#include "unit.h"

/* What tests/glewlwyd/server.js configures. */
#define GLEW_BIN      "/usr/bin/glewlwyd"
#define GLEW_SCHEMA   "/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3"
#define GLEW_CLIENT   "rs-glew"
#define GLEW_SECRET   "gl+w/y=d%20 s3cret" /* + / = % and a space */
#define GLEW_USER     "alice"
#define GLEW_PASSWORD "alice-glew-pw"

static struct server glew, fault;

static void glew_up(void)
{
	testenv_setup();
	server_start(&glew, "tests/glewlwyd/server.js");
	server_start(&fault, "tests/fault/server.js");
}

static void glew_down(void)
{
	server_stop(&glew);
	server_stop(&fault);
	testenv_teardown();
}

/*
 * An endpoint of glewlwyd's API, malloc: "oidc/introspect", "oidc/revoke",
 * "oidc/token", "oidc/userinfo", and the same under "short/", whose
 * access tokens live 4 s.
 */
static char *glew_url(const char *path)
{
	char *u;

	ck_assert_int_ge(asprintf(&u, "http://127.0.0.1:%d/api/%s", glew.port, path), 0);
	return u;
}

/*
 * A token from plugin's token endpoint by the password grant for alice with
 * scope; member is "access_token" or "refresh_token". malloc.
 */
static char *glew_token(const char *plugin, const char *scope, const char *member)
{
	char path[64], form[256], *url, *body, *tok;
	char *esc = curl_easy_escape(NULL, scope, 0);
	long status;
	json_t *j;

	ck_assert_ptr_nonnull(esc);
	snprintf(path, sizeof(path), "%s/token", plugin);
	snprintf(form, sizeof(form),
		 "grant_type=password&username=" GLEW_USER "&password=" GLEW_PASSWORD "&scope=%s",
		 esc);
	curl_free(esc);
	url = glew_url(path);
	/* CURLOPT_USERPWD splits at the first colon and sends the rest as typed. */
	body = http_call("POST", url, GLEW_CLIENT ":" GLEW_SECRET, form, &status);
	ck_assert_msg(status == 200, "POST %s: %ld %s", url, status, body);
	j = json_loads(body, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_msg(json_is_string(json_object_get(j, member)), "no %s in %s", member, body);
	tok = strdup(json_string_value(json_object_get(j, member)));
	ck_assert_ptr_nonnull(tok);
	json_decref(j);
	free(body);
	free(url);
	return tok;
}

/* RFC 7009 at glewlwyd's revocation endpoint, as the client. */
static void glew_revoke(const char *token)
{
	char *url = glew_url("oidc/revoke"), *esc = curl_easy_escape(NULL, token, 0), *form, *body;
	long status;

	ck_assert_ptr_nonnull(esc);
	ck_assert_int_ge(asprintf(&form, "token=%s", esc), 0);
	body = http_call("POST", url, GLEW_CLIENT ":" GLEW_SECRET, form, &status);
	ck_assert_msg(status == 200, "revoke: %ld %s", status, body);
	curl_free(esc);
	free(form);
	free(body);
	free(url);
}

/*
 * One login of user with token against plugin's introspection endpoint,
 * with client_auth auth (NULL: unset) and the config lines extra.
 */
static int login(const char *plugin, const char *auth, const char *extra, const char *user,
		 const char *token)
{
	char conf[8192], path[64], *url;

	snprintf(path, sizeof(path), "%s/introspect", plugin);
	url = glew_url(path);
	snprintf(conf, sizeof(conf),
		 "introspection_url = %s\nclient_id = " GLEW_CLIENT "\nclient_secret_file = %s\n"
		 "%s%s%s%s",
		 url, write_file("secret", 0600, GLEW_SECRET "\n"), auth ? "client_auth = " : "",
		 auth ? auth : "", auth ? "\n" : "", extra ? extra : "");
	free(url);
	log_reset();
	return pam_run(make_service(conf, NULL), user, "192.0.2.7", token).auth;
}

/* A service whose introspection_url is url, with no client credentials. */
static const char *replay_service(const char *url)
{
	char conf[70000];

	snprintf(conf, sizeof(conf), "introspection_url = %s\n", url);
	return make_service(conf, NULL);
}

/* basic_raw with a secret of + / = % and a space: glewlwyd's way. */
START_TEST(basic_raw_logs_in)
{
	char *tok = glew_token("oidc", "ssh", "access_token");

	ck_assert_int_eq(login("oidc", "basic_raw", "required_scopes = ssh\n", GLEW_USER, tok),
			 PAM_SUCCESS);
	ck_audit("allow", "ok");
	free(tok);
}
END_TEST

/* The RFC 6749 form-encoding of basic is another secret to glewlwyd: 401. */
START_TEST(basic_is_client_auth)
{
	char *tok = glew_token("oidc", "ssh", "access_token");

	ck_assert_int_eq(login("oidc", "basic", NULL, GLEW_USER, tok), PAM_AUTHINFO_UNAVAIL);
	ck_audit("unavailable", "client_auth");
	ck_assert_int_eq(login("oidc", NULL, NULL, GLEW_USER, tok), PAM_AUTHINFO_UNAVAIL);
	ck_audit("unavailable", "client_auth");
	free(tok);
}
END_TEST

/* Revoked at glewlwyd (RFC 7009): it answers inactive, and the login fails. */
START_TEST(revoked_is_inactive)
{
	char *tok = glew_token("oidc", "ssh", "access_token");

	ck_assert_int_eq(login("oidc", "basic_raw", NULL, GLEW_USER, tok), PAM_SUCCESS);
	ck_audit("allow", "ok");
	glew_revoke(tok);
	ck_assert_int_eq(login("oidc", "basic_raw", NULL, GLEW_USER, tok), PAM_AUTH_ERR);
	ck_audit("deny", "inactive");
	free(tok);
}
END_TEST

/* An access token of the "short" plugin (4 s) once it has expired. */
START_TEST(expired_is_refused)
{
	char *tok = glew_token("short", "ssh", "access_token");

	ck_assert_int_eq(login("short", "basic_raw", NULL, GLEW_USER, tok), PAM_SUCCESS);
	ck_audit("allow", "ok");
	sleep(6);
	ck_assert_int_eq(login("short", "basic_raw", NULL, GLEW_USER, tok), PAM_AUTH_ERR);
	ck_audit("deny", "inactive");
	free(tok);
}
END_TEST

/* glewlwyd's scope string, split on spaces: "other" is not "ssh". */
START_TEST(missing_scope_is_refused)
{
	char *tok = glew_token("oidc", "other", "access_token"), *both;

	ck_assert_int_eq(login("oidc", "basic_raw", "required_scopes = ssh\n", GLEW_USER, tok),
			 PAM_AUTH_ERR);
	ck_audit("deny", "scope_missing");
	both = glew_token("oidc", "other ssh", "access_token");
	ck_assert_int_eq(login("oidc", "basic_raw", "required_scopes = ssh\n", GLEW_USER, both),
			 PAM_SUCCESS);
	ck_audit("allow", "ok");
	free(both);
	free(tok);
}
END_TEST

/*
 * A refresh token never logs in. The module asks with token_type_hint =
 * access_token, and to that glewlwyd answers inactive; asked without a hint
 * it answers active with token_type refresh_token. That answer, replayed by
 * the fault server as glewlwyd gave it, is refused for its token_type.
 */
START_TEST(refresh_token_never_logs_in)
{
	char *tok = glew_token("oidc", "ssh", "refresh_token"), *url = glew_url("oidc/introspect");
	char *esc = curl_easy_escape(NULL, tok, 0), *form, *body, *replay;
	long status;
	json_t *j;

	ck_assert_int_eq(login("oidc", "basic_raw", NULL, GLEW_USER, tok), PAM_AUTH_ERR);
	ck_audit("deny", "inactive");

	ck_assert_ptr_nonnull(esc);
	ck_assert_int_ge(asprintf(&form, "token=%s", esc), 0);
	body = http_call("POST", url, GLEW_CLIENT ":" GLEW_SECRET, form, &status);
	ck_assert_msg(status == 200, "introspect: %ld %s", status, body);
	j = json_loads(body, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_msg(
	    json_is_true(json_object_get(j, "active")) &&
		json_is_string(json_object_get(j, "token_type")) &&
		strcmp(json_string_value(json_object_get(j, "token_type")), "refresh_token") == 0,
	    "glewlwyd without a hint: %s", body);
	json_decref(j);

	replay = fault_json_url(&fault, body, strlen(body));
	log_reset();
	ck_assert_int_eq(pam_run(replay_service(replay), GLEW_USER, "192.0.2.7", tok).auth,
			 PAM_AUTH_ERR);
	ck_audit("deny", "token_type");
	free(replay);
	curl_free(esc);
	free(form);
	free(body);
	free(url);
	free(tok);
}
END_TEST

/* glewlwyd's username claim is the one matched against the PAM user. */
START_TEST(other_user_is_user_mismatch)
{
	char *tok = glew_token("oidc", "ssh", "access_token");

	ck_assert_int_eq(login("oidc", "basic_raw", NULL, "bob", tok), PAM_AUTH_ERR);
	ck_audit("deny", "user_mismatch");
	free(tok);
}
END_TEST

/*
 * The sub claim glewlwyd's userinfo endpoint gives for token, asked the way
 * verify = userinfo asks (GET, the token as a bearer). malloc.
 */
static char *glew_sub(const char *token)
{
	char *url = glew_url("oidc/userinfo"), *body = NULL, *auth, *sub;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);
	struct curl_slist *hdr;
	CURL *h = curl_easy_init();
	long status = 0;
	json_t *j;

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(h);
	ck_assert_int_ge(asprintf(&auth, "Authorization: Bearer %s", token), 0);
	hdr = curl_slist_append(NULL, auth);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
	ck_assert_int_eq(curl_easy_perform(h), CURLE_OK);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdr);
	fclose(f);
	ck_assert_msg(status == 200, "GET %s: %ld %s", url, status, body);
	j = json_loads(body, 0, NULL);
	ck_assert_msg(json_is_string(json_object_get(j, "sub")), "userinfo: %s", body);
	sub = strdup(json_string_value(json_object_get(j, "sub")));
	ck_assert_ptr_nonnull(sub);
	json_decref(j);
	free(body);
	free(auth);
	free(url);
	return sub;
}

/*
 * verify = userinfo at glewlwyd's OIDC userinfo endpoint, which answers
 * only an opaque sub: a user_map line takes it to alice and no one else.
 * Without the map the sub is not alice; revoked, the endpoint answers 401, which is
 * inactive. No client credentials: the token is the only credential.
 */
static int userinfo_login(const char *user, const char *token, const char *map)
{
	char conf[8192], *url = glew_url("oidc/userinfo");

	snprintf(conf, sizeof(conf),
		 "verify = userinfo\nuserinfo_url = %s\nusername_claim = sub\n%s%s%s", url,
		 map ? "user_map = " : "", map ? map : "", map ? "\n" : "");
	free(url);
	log_reset();
	return pam_run(make_service(conf, NULL), user, "192.0.2.7", token).auth;
}

START_TEST(userinfo_with_user_map)
{
	char *tok = glew_token("oidc", "openid ssh", "access_token"), *sub = glew_sub(tok);
	char line[512];
	char *map;

	ck_assert_str_ne(sub, GLEW_USER);
	ck_assert_int_eq(userinfo_login(GLEW_USER, tok, NULL), PAM_AUTH_ERR);
	ck_audit("deny", "user_mismatch");

	snprintf(line, sizeof(line), "# glewlwyd's sub for alice\n%s %s\n", sub, GLEW_USER);
	map = strdup(write_file("user_map", 0644, line)); /* its buffer is reused */
	ck_assert_ptr_nonnull(map);
	ck_assert_int_eq(userinfo_login(GLEW_USER, tok, map), PAM_SUCCESS);
	ck_audit("allow", "ok");
	ck_assert_int_eq(userinfo_login("bob", tok, map), PAM_AUTH_ERR);
	ck_audit("deny", "user_not_mapped");

	glew_revoke(tok);
	ck_assert_int_eq(userinfo_login(GLEW_USER, tok, map), PAM_AUTH_ERR);
	ck_audit("deny", "inactive");
	free(map);
	free(sub);
	free(tok);
}
END_TEST

static Suite *suite(bool have)
{
	Suite *s = suite_create("glewlwyd");
	TCase *tc = tcase_create("glewlwyd");

	if (have) {
		tcase_add_unchecked_fixture(tc, glew_up, glew_down);
		tcase_set_timeout(tc, 60);
		tcase_add_test(tc, basic_raw_logs_in);
		tcase_add_test(tc, basic_is_client_auth);
		tcase_add_test(tc, revoked_is_inactive);
		tcase_add_test(tc, expired_is_refused);
		tcase_add_test(tc, missing_scope_is_refused);
		tcase_add_test(tc, refresh_token_never_logs_in);
		tcase_add_test(tc, other_user_is_user_mismatch);
		tcase_add_test(tc, userinfo_with_user_map);
	}
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	bool have = access(GLEW_BIN, X_OK) == 0 && access(GLEW_SCHEMA, R_OK) == 0;

	/* Visible in the run's output: no glewlwyd is a skip, not a pass. */
	if (!have)
		printf("check_glewlwyd: SKIP: glewlwyd is not installed (%s, %s); "
		       "tests/deps.sh installs it\n",
		       GLEW_BIN, GLEW_SCHEMA);
	return unit_run(suite(have));
}
