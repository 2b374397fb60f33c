/*
 * What an allowed login hands its session through the PAM environment
 * (DESIGN.md §8a, include/auth.h): APITOKEN_SCOPES, the token's scope words,
 * and APITOKEN_TOKEN_FP, its fingerprint; read by `apitoken shell`. Through
 * the real libpam, the module and the helper, against the fault server's
 * answers for the scope shapes the test issuer does not make.
 */
#include <check.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testenv.h"
#include "unit.h"

static struct server idp, fault;

struct env_result {
	int auth;
	char scopes[1200]; /* "(unset)" when the variable is not there */
	char fp[100];
};

static int converse(int n, const struct pam_message **msg, struct pam_response **resp, void *arg)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++)
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF)
			r[i].resp = strdup(arg);
	*resp = r;
	return PAM_SUCCESS;
}

/* pam_authenticate with TOKEN; the two variables as the session would get them. */
static struct env_result login(const char *confdir, const char *token)
{
	struct pam_conv conv = {converse, (void *)token};
	struct env_result res;
	pam_handle_t *pamh = NULL;
	const char *v;

	ck_assert_int_eq(pam_start_confdir("svc", "alice", &conv, confdir, &pamh), PAM_SUCCESS);
	res.auth = pam_authenticate(pamh, 0);
	v = pam_getenv(pamh, "APITOKEN_SCOPES");
	snprintf(res.scopes, sizeof(res.scopes), "%s", v != NULL ? v : "(unset)");
	v = pam_getenv(pamh, "APITOKEN_TOKEN_FP");
	snprintf(res.fp, sizeof(res.fp), "%s", v != NULL ? v : "(unset)");
	pam_end(pamh, res.auth);
	return res;
}

/* A service whose introspection answer is JSON (the fault server plays the issuer). */
static const char *answering(const char *json)
{
	char conf[4096], *url = fault_json_url(&fault, json, strlen(json));

	snprintf(conf, sizeof(conf), "introspection_url = %s\ntoken_prefixes = ucat_\n", url);
	free(url);
	return make_service(conf, NULL);
}

START_TEST(scopes_and_fingerprint_of_the_token)
{
	char *tok = idp_mint(&idp, "alice", "read write", 300, NULL);
	struct env_result r = login(idp_service(&idp, "token_prefixes = ucat_\n", NULL), tok);

	ck_assert_int_eq(r.auth, PAM_SUCCESS);
	ck_assert_str_eq(r.scopes, "read write");
	ck_assert_msg(strncmp(r.fp, "ucat_sha256:", 12) == 0 && strlen(r.fp) == 20, "%s", r.fp);
	free(tok);
}
END_TEST

/* No scope at all: set, and empty, so that a variable a client sent cannot stand. */
START_TEST(no_scope_is_set_empty)
{
	struct env_result r = login(
	    answering("{\"active\":true,\"username\":\"alice\",\"exp\":4000000000}"), "ucat_x1");

	ck_assert_int_eq(r.auth, PAM_SUCCESS);
	ck_assert_str_eq(r.scopes, "");
	ck_assert_msg(strncmp(r.fp, "ucat_sha256:", 12) == 0, "%s", r.fp);
}
END_TEST

/* A JSON array of scopes (scope_claim may name one), words joined by spaces. */
START_TEST(scope_list)
{
	struct env_result r = login(answering("{\"active\":true,\"username\":\"alice\","
					      "\"exp\":4000000000,\"scope\":[\"read\",\"shell\"]}"),
				    "ucat_x2");

	ck_assert_int_eq(r.auth, PAM_SUCCESS);
	ck_assert_str_eq(r.scopes, "read shell");
}
END_TEST

/* Words that are not printable ASCII are left out, never passed on or split into others. */
START_TEST(odd_words_dropped)
{
	struct env_result r =
	    login(answering("{\"active\":true,\"username\":\"alice\",\"exp\":4000000000,"
			    "\"scope\":\"read a\\tshell w\\u00e9rite  write\"}"),
		  "ucat_x3");

	ck_assert_int_eq(r.auth, PAM_SUCCESS);
	ck_assert_str_eq(r.scopes, "read write");
}
END_TEST

/* Too many scopes for the variable: whole words up to the limit, nothing cut in half. */
START_TEST(long_scope_whole_words)
{
	char json[4096];
	size_t n = (size_t)snprintf(json, sizeof(json),
				    "{\"active\":true,\"username\":\"alice\",\"exp\":4000000000,"
				    "\"scope\":\"");
	struct env_result r;

	for (int i = 0; i < 220; i++)
		n += (size_t)snprintf(json + n, sizeof(json) - n, "s%03d ", i);
	snprintf(json + n - 1, sizeof(json) - n + 1, " write\"}");
	r = login(answering(json), "ucat_x4");
	ck_assert_int_eq(r.auth, PAM_SUCCESS);
	ck_assert_uint_lt(strlen(r.scopes), 1024);
	ck_assert_uint_gt(strlen(r.scopes), 1000);
	ck_assert_msg(strlen(r.scopes) % 5 == 4, "a word was cut: %s", r.scopes);
	ck_assert_ptr_null(strstr(r.scopes, "write"));
}
END_TEST

/* A refused login sets nothing. */
START_TEST(refused_login_sets_nothing)
{
	struct env_result r = login(answering("{\"active\":false}"), "ucat_x5");

	ck_assert_int_eq(r.auth, PAM_AUTH_ERR);
	ck_assert_str_eq(r.scopes, "(unset)");
	ck_assert_str_eq(r.fp, "(unset)");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pam_env");
	TCase *tc = tcase_create("pam_env");

	testenv_servers(&idp, &fault);
	tcase_add_unchecked_fixture(tc, testenv_servers_up, testenv_servers_down);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, scopes_and_fingerprint_of_the_token);
	tcase_add_test(tc, no_scope_is_set_empty);
	tcase_add_test(tc, scope_list);
	tcase_add_test(tc, odd_words_dropped);
	tcase_add_test(tc, long_scope_whole_words);
	tcase_add_test(tc, refused_login_sets_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
