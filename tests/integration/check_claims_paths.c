/*
 * Issuers in the wild (DESIGN.md §4 and §5 ★2), through the real libpam,
 * module and helper, against the fault server's /json/ answers for the
 * shapes the test issuer does not send: claim names that are dot paths into
 * nested objects (username_claim, ip_ranges_claim, scope_claim), scopes as
 * a JSON array, iss/aud configured but absent, and a refresh token's
 * token_type. Every case asserts the PAM code and the audit reason.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

#include "testenv.h"
#include "unit.h"

static struct server fault;

/* A service against the fault server answering json, with the config lines extra. */
static const char *json_service(const char *json, const char *extra, bool cache)
{
	char conf[8192], *url = fault_json_url(&fault, json, strlen(json));

	snprintf(conf, sizeof(conf), "introspection_url = %s\n%s%s", url,
		 cache ? "cache = yes\n" : "", extra ? extra : "");
	free(url);
	return make_service(conf, NULL);
}

/* One login of alice from rhost against json under extra: its PAM code and audit reason. */
static void expect_login(const char *json, const char *extra, const char *rhost, int want,
			 const char *reason)
{
	char line[96];
	int got;

	log_reset();
	got = pam_run(json_service(json, extra, false), "alice", rhost, "ucat_x").auth;
	snprintf(line, sizeof(line), " reason=%s ", reason);
	ck_assert_msg(got == want && log_count(line) == 1 && log_count("result=") == 1,
		      "%s\nwith %s: got %d, want %d reason=%s in:\n%s", json, extra ? extra : "",
		      got, want, reason, log_text());
}

/* ---- dot paths -------------------------------------------------------- */

static const struct {
	const char *json, *extra;
	int want;
	const char *reason;
} path_cases[] = {
    /* username_claim into a nested object. */
    {"{\"active\":true,\"account\":{\"username\":\"alice\"}}",
     "username_claim = account.username\n", PAM_SUCCESS, "ok"},
    {"{\"active\":true,\"account\":{\"profile\":{\"login\":\"alice\"}}}",
     "username_claim = account.profile.login\n", PAM_SUCCESS, "ok"},
    {"{\"active\":true,\"account\":{\"username\":\"bob\"},\"username\":\"alice\"}",
     "username_claim = account.username\n", PAM_AUTH_ERR, "user_mismatch"},
    /* Through a non-object, or to nothing: absent. */
    {"{\"active\":true,\"account\":\"alice\"}", "username_claim = account.username\n", PAM_AUTH_ERR,
     "username_missing"},
    {"{\"active\":true,\"account\":[{\"username\":\"alice\"}]}",
     "username_claim = account.username\n", PAM_AUTH_ERR, "username_missing"},
    {"{\"active\":true,\"account\":null}", "username_claim = account.username\n", PAM_AUTH_ERR,
     "username_missing"},
    {"{\"active\":true,\"account.username\":\"alice\"}", "username_claim = account.username\n",
     PAM_AUTH_ERR, "username_missing"},
    {"{\"active\":true,\"username\":\"alice\"}", "username_claim = account.username\n",
     PAM_AUTH_ERR, "username_missing"},
    /* Found, but an object is not a user name. */
    {"{\"active\":true,\"account\":{\"username\":{\"value\":\"alice\"}}}",
     "username_claim = account.username\n", PAM_AUTH_ERR, "user_mismatch"},
    /* ip_ranges_claim into a nested object: the ranges found there apply. */
    {"{\"active\":true,\"username\":\"alice\",\"net\":{\"ranges\":[\"10.0.0.0/8\"]}}",
     "ip_ranges_claim = net.ranges\n", PAM_AUTH_ERR, "ip_not_allowed"},
    {"{\"active\":true,\"username\":\"alice\",\"net\":{\"ranges\":\"192.0.2.0/24\"}}",
     "ip_ranges_claim = net.ranges\n", PAM_SUCCESS, "ok"},
    {"{\"active\":true,\"username\":\"alice\",\"net\":[\"10.0.0.0/8\"]}",
     "ip_ranges_claim = net.ranges\nrequire_ip_ranges = yes\n", PAM_AUTH_ERR, "ip_ranges_missing"},
    /* scope_claim: a nested array of strings, or string; the default is "scope". */
    {"{\"active\":true,\"username\":\"alice\",\"authz\":{\"scopes\":[\"git\",\"ssh\"]}}",
     "scope_claim = authz.scopes\nrequired_scopes = ssh\n", PAM_SUCCESS, "ok"},
    {"{\"active\":true,\"username\":\"alice\",\"authz\":{\"scopes\":\"git ssh\"}}",
     "scope_claim = authz.scopes\nrequired_scopes = ssh git\n", PAM_SUCCESS, "ok"},
    {"{\"active\":true,\"username\":\"alice\",\"authz\":{\"scopes\":[\"git\",\"ssh\"]}}",
     "scope_claim = authz.scopes\nrequired_scopes = ssh admin\n", PAM_AUTH_ERR, "scope_missing"},
    {"{\"active\":true,\"username\":\"alice\",\"scope\":\"ssh\",\"authz\":{\"scopes\":[\"git\"]}}",
     "scope_claim = authz.scopes\nrequired_scopes = ssh\n", PAM_AUTH_ERR, "scope_missing"},
    {"{\"active\":true,\"username\":\"alice\",\"authz\":{\"scopes\":[\"ssh\"]}}",
     "required_scopes = ssh\n", PAM_AUTH_ERR, "scope_missing"},
    {"{\"active\":true,\"username\":\"alice\",\"authz\":[\"ssh\"]}",
     "scope_claim = authz.scopes\nrequired_scopes = ssh\n", PAM_AUTH_ERR, "scope_missing"},
    /* A scope array item is one scope, whole; a mixed array is no scopes at all. */
    {"{\"active\":true,\"username\":\"alice\",\"scope\":[\"git ssh\"]}", "required_scopes = ssh\n",
     PAM_AUTH_ERR, "scope_missing"},
    {"{\"active\":true,\"username\":\"alice\",\"scope\":[\"ssh\",1]}", "required_scopes = ssh\n",
     PAM_AUTH_ERR, "scope_missing"},
    {"{\"active\":true,\"username\":\"alice\",\"scope\":[\"git\",\"ssh\"]}",
     "required_scopes = ssh\n", PAM_SUCCESS, "ok"},
    /* ★2 iss/aud configured and absent: *_missing; present and wrong: *_mismatch. */
    {"{\"active\":true,\"username\":\"alice\"}", "issuer = https://idp.example\n", PAM_AUTH_ERR,
     "issuer_missing"},
    {"{\"active\":true,\"username\":\"alice\",\"iss\":\"https://other.example\"}",
     "issuer = https://idp.example\n", PAM_AUTH_ERR, "issuer_mismatch"},
    {"{\"active\":true,\"username\":\"alice\",\"iss\":null}", "issuer = https://idp.example\n",
     PAM_AUTH_ERR, "issuer_mismatch"},
    {"{\"active\":true,\"username\":\"alice\",\"iss\":\"https://idp.example\"}",
     "issuer = https://idp.example\n", PAM_SUCCESS, "ok"},
    {"{\"active\":true,\"username\":\"alice\"}", "audience = hosts\n", PAM_AUTH_ERR,
     "audience_missing"},
    {"{\"active\":true,\"username\":\"alice\",\"aud\":[]}", "audience = hosts\n", PAM_AUTH_ERR,
     "audience_mismatch"},
    {"{\"active\":true,\"username\":\"alice\",\"aud\":\"web\"}", "audience = hosts\n", PAM_AUTH_ERR,
     "audience_mismatch"},
    /* ★2 a refresh token is no login, in any case; other token types are. */
    {"{\"active\":true,\"username\":\"alice\",\"token_type\":\"refresh_token\"}", NULL,
     PAM_AUTH_ERR, "token_type"},
    {"{\"active\":true,\"username\":\"alice\",\"token_type\":\"Refresh_Token\"}", NULL,
     PAM_AUTH_ERR, "token_type"},
    {"{\"active\":true,\"username\":\"alice\",\"token_type\":7}", NULL, PAM_AUTH_ERR, "token_type"},
    {"{\"active\":true,\"username\":\"alice\",\"token_type\":\"access_token\"}", NULL, PAM_SUCCESS,
     "ok"},
    {"{\"active\":true,\"username\":\"alice\",\"token_type\":\"Bearer\"}", NULL, PAM_SUCCESS, "ok"},
};

START_TEST(claim_shapes)
{
	expect_login(path_cases[_i].json, path_cases[_i].extra, "192.0.2.7", path_cases[_i].want,
		     path_cases[_i].reason);
}
END_TEST

/* A path with an empty segment is a config error: PAM_SERVICE_ERR, and nothing is sent. */
START_TEST(empty_segment_is_config_error)
{
	static const char *const bad[] = {
	    "username_claim = a..b\n",	"username_claim = .a\n",  "username_claim = a.\n",
	    "ip_ranges_claim = a..b\n", "scope_claim = authz.\n", "scope_claim = .scopes\n",
	};
	const char *json = "{\"active\":true,\"username\":\"alice\"}";

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long before = fault_requests(&fault);

		log_reset();
		ck_assert_msg(
		    pam_run(json_service(json, bad[i], false), "alice", "192.0.2.7", "ucat_x")
			    .auth == PAM_SERVICE_ERR,
		    "%s: not refused\n%s", bad[i], log_text());
		ck_assert_msg(strstr(log_text(), "a claim path with an empty segment") != NULL,
			      "%s", log_text());
		ck_assert_int_eq(fault_requests(&fault), before);
	}
}
END_TEST

/*
 * An entry made under one scope_claim does not serve another: the scopes
 * it holds were read at the old path. With the default, "scope" grants ssh;
 * under authz.scopes the same token has only git, and must be asked again.
 */
START_TEST(scope_claim_binds_cache_entries)
{
	const char *json = "{\"active\":true,\"username\":\"alice\",\"scope\":\"ssh\","
			   "\"authz\":{\"scopes\":[\"git\"]}}";
	char cmd[600];
	long before;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/cache'", T.root);
	ck_assert_int_eq(system(cmd), 0);
	before = fault_requests(&fault);
	log_reset();
	ck_assert_int_eq(pam_run(json_service(json, "required_scopes = ssh\n", true), "alice",
				 "192.0.2.7", "ucat_bound_scope")
			     .auth,
			 PAM_SUCCESS);
	ck_assert_int_eq(fault_requests(&fault), before + 1);
	/* Served from the entry the next time: the cache is on. */
	ck_assert_int_eq(pam_run(json_service(json, "required_scopes = ssh\n", true), "alice",
				 "192.0.2.7", "ucat_bound_scope")
			     .auth,
			 PAM_SUCCESS);
	ck_assert_int_eq(fault_requests(&fault), before + 1);
	log_reset();
	ck_assert_int_eq(
	    pam_run(json_service(json, "required_scopes = ssh\nscope_claim = authz.scopes\n", true),
		    "alice", "192.0.2.7", "ucat_bound_scope")
		.auth,
	    PAM_AUTH_ERR);
	ck_assert_msg(log_count("result=deny reason=scope_missing ") == 1 &&
			  log_count("source=network") == 1,
		      "%s", log_text());
	ck_assert_int_eq(fault_requests(&fault), before + 2);
}
END_TEST

/* What the helper is asked for goes nowhere but to its own answer: the request body is unchanged.
 */
START_TEST(paths_stay_off_the_wire)
{
	const char *json = "{\"active\":true,\"account\":{\"username\":\"alice\"}}";
	char *last;

	ck_assert_int_eq(pam_run(json_service(json,
					      "username_claim = account.username\n"
					      "scope_claim = authz.scopes\n",
					      false),
				 "alice", "192.0.2.7", "ucat_p")
			     .auth,
			 PAM_SUCCESS);
	last = fault_last(&fault);
	ck_assert_msg(strstr(last, "\"body\":\"token=ucat_p&token_type_hint=access_token\"") !=
			  NULL,
		      "%s", last);
	free(last);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("claims_paths");
	TCase *tc = tcase_create("fault");

	testenv_servers(NULL, &fault);
	tcase_add_unchecked_fixture(tc, testenv_servers_up, testenv_servers_down);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, claim_shapes, 0, sizeof(path_cases) / sizeof(path_cases[0]));
	tcase_add_test(tc, empty_segment_is_config_error);
	tcase_add_test(tc, scope_claim_binds_cache_entries);
	tcase_add_test(tc, paths_stay_off_the_wire);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
