/*
 * verify = userinfo (DESIGN.md §4 ★2), through the real libpam, module and
 * helper: against the test issuer's UpCloud-shaped GET /account and
 * oidc-provider's own OIDC userinfo (GET /me), and against the fault server
 * for what they do not send (403, 429 with Retry-After, 5xx, a redirect,
 * over 64 KiB, duplicate keys, a non-object, an empty 200). Every case
 * asserts the PAM code and the audit reason; the bad answers also that
 * nothing was cached.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

#include "testenv.h"
#include "unit.h"

static struct server idp, fault;

static const char *cache_dir(void)
{
	static char dir[300];

	snprintf(dir, sizeof(dir), "%s/cache", T.root);
	return dir;
}

/* A fresh cache (no entries, no backoff marker) for the next case. */
static void cache_wipe(void)
{
	char cmd[400];
	int status;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache_dir());
	free(shell_output(cmd, &status));
	ck_assert_int_eq(status, 0);
}

/* A userinfo service at url with the config lines extra, the cache on. */
static const char *userinfo_service(const char *url, const char *extra)
{
	char conf[8192];

	snprintf(conf, sizeof(conf), "verify = userinfo\nuserinfo_url = %s\ncache = yes\n%s", url,
		 extra ? extra : "");
	return make_service(conf, NULL);
}

/* One login: the PAM code and the one audit line's reason. */
static void expect_login(const char *confdir, const char *user, const char *token, int want,
			 const char *reason)
{
	char line[96];
	int got;

	log_reset();
	got = pam_run(confdir, user, "192.0.2.7", token).auth;
	snprintf(line, sizeof(line), " reason=%s ", reason);
	ck_assert_msg(got == want && log_count(line) == 1 && log_count("result=") == 1,
		      "user %s: got %d, want %d reason=%s in:\n%s", user, got, want, reason,
		      log_text());
}

static char *idp_path(const char *path)
{
	char *u;

	ck_assert_int_ge(asprintf(&u, "http://127.0.0.1:%d%s", idp.port, path), 0);
	return u;
}

/* ---- the test issuer: UpCloud's /account -------------------------------- */

START_TEST(upcloud_account)
{
	char *url = idp_path("/account"), *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);
	const char *svc;
	long before;

	cache_wipe();
	svc = userinfo_service(url, "username_claim = account.username\n");
	before = idp_stat(&idp, "accounts");
	expect_login(svc, "alice", tok, PAM_SUCCESS, "ok");
	ck_assert_int_eq(idp_stat(&idp, "accounts"), before + 1);
	/* The account is alice's: a cached answer for alice never logs in bob. */
	expect_login(svc, "bob", tok, PAM_AUTH_ERR, "user_mismatch");
	ck_assert_int_eq(idp_stat(&idp, "accounts"), before + 1);
	ck_assert_int_eq(log_count("source=cache"), 1);
	/* No introspection was made: the platform checked its own token. */
	ck_assert_int_eq(idp_introspections(&idp), 0);

	/* The default username_claim is not where UpCloud puts it. */
	cache_wipe();
	expect_login(userinfo_service(url, NULL), "alice", tok, PAM_AUTH_ERR, "username_missing");

	/* A revoked token: 401 AUTHENTICATION_FAILED, inactive, cached as negative. */
	idp_revoke(&idp, tok);
	cache_wipe();
	svc = userinfo_service(url, "username_claim = account.username\nnegative_cache_ttl = 60\n");
	before = idp_stat(&idp, "accounts");
	expect_login(svc, "alice", tok, PAM_AUTH_ERR, "inactive");
	expect_login(svc, "alice", tok, PAM_AUTH_ERR, "inactive");
	ck_assert_int_eq(log_count("source=cache"), 1);
	ck_assert_int_eq(idp_stat(&idp, "accounts"), before + 1);
	ck_assert_int_eq(cache_entries(cache_dir()), 1);
	/* negative_cache_ttl = 0: not reused. */
	cache_wipe();
	svc = userinfo_service(url, "username_claim = account.username\nnegative_cache_ttl = 0\n");
	expect_login(svc, "alice", tok, PAM_AUTH_ERR, "inactive");
	expect_login(svc, "alice", tok, PAM_AUTH_ERR, "inactive");
	ck_assert_int_eq(idp_stat(&idp, "accounts"), before + 3);
	cache_wipe();
	free(url);
	free(tok);
}
END_TEST

/* ---- the test issuer: oidc-provider's own OIDC userinfo, /me ------------ */

START_TEST(oidc_userinfo)
{
	char *url = idp_path("/me"), *tok = idp_mint(&idp, "alice", "openid ssh", 300, NULL),
	     *noopenid = idp_mint(&idp, "alice", "ssh", 300, NULL);
	const char *svc;

	cache_wipe();
	/* /me answers {"sub":"alice"}: the claim to match is sub. */
	svc = userinfo_service(url, "username_claim = sub\n");
	expect_login(svc, "alice", tok, PAM_SUCCESS, "ok");
	expect_login(svc, "bob", tok, PAM_AUTH_ERR, "user_mismatch");
	/* Without the openid scope: 403 insufficient_scope, the token's own failure. */
	expect_login(svc, "alice", noopenid, PAM_AUTH_ERR, "inactive");
	/* An unknown token: 401 invalid_token. */
	expect_login(svc, "alice", "ucat_not_a_token_of_this_issuer", PAM_AUTH_ERR, "inactive");
	ck_assert_int_ge(idp_stat(&idp, "userinfo"), 3);
	cache_wipe();
	free(url);
	free(tok);
	free(noopenid);
}
END_TEST

/* ---- the fault server --------------------------------------------------- */

/* The request: a GET, the token only in "Authorization: Bearer", never in the URL or a body. */
START_TEST(request_shape)
{
	/* "Bearer ucat_shape_1" */
	char *url = fault_url(&fault, "/auth/QmVhcmVyIHVjYXRfc2hhcGVfMQ"), *last;

	cache_wipe();
	expect_login(userinfo_service(url, NULL), "alice", "ucat_shape_1", PAM_SUCCESS, "ok");
	last = fault_last(&fault);
	ck_assert_ptr_nonnull(strstr(last, "\"method\":\"GET\""));
	ck_assert_ptr_nonnull(strstr(last, "\"authorization\":\"Bearer ucat_shape_1\""));
	ck_assert_ptr_nonnull(strstr(last, "\"body\":\"\""));
	ck_assert_int_eq(text_count(last, "ucat_shape_1"), 1);
	free(last);
	/* Another token is another Authorization: the server refuses it, 401, inactive. */
	cache_wipe();
	expect_login(userinfo_service(url, NULL), "alice", "ucat_shape_2", PAM_AUTH_ERR,
		     "inactive");
	cache_wipe();
	free(url);
}
END_TEST

/* 200 + an object is active unless it says "active" itself; its members are the claims. */
START_TEST(object_members)
{
	static const struct {
		const char *json;
		int want;
		const char *reason;
	} cases[] = {
	    {"{\"username\":\"alice\"}", PAM_SUCCESS, "ok"},
	    {"{\"username\":\"alice\",\"active\":true}", PAM_SUCCESS, "ok"},
	    {"{\"username\":\"alice\",\"active\":false}", PAM_AUTH_ERR, "inactive"},
	    {"{\"username\":\"alice\",\"active\":\"true\"}", PAM_AUTH_ERR, "inactive"},
	    {"{\"username\":\"bob\"}", PAM_AUTH_ERR, "user_mismatch"},
	    {"{}", PAM_AUTH_ERR, "username_missing"},
	    {"{\"username\":\"alice\",\"exp\":1000}", PAM_AUTH_ERR, "expired"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *url = fault_json_url(&fault, cases[i].json, strlen(cases[i].json));

		cache_wipe();
		expect_login(userinfo_service(url, NULL), "alice", "ucat_x", cases[i].want,
			     cases[i].reason);
		free(url);
	}
	cache_wipe();
}
END_TEST

/* 401/403 are the token's: inactive, cached as negative like active:false. */
START_TEST(refusals_inactive)
{
	static const char *const paths[] = {"/status/401", "/status/403"};

	for (size_t i = 0; i < 2; i++) {
		char *url = fault_url(&fault, paths[i]);
		const char *svc = userinfo_service(url, "negative_cache_ttl = 60\n");
		long before;

		cache_wipe();
		before = fault_requests(&fault);
		expect_login(svc, "alice", "ucat_x", PAM_AUTH_ERR, "inactive");
		expect_login(svc, "alice", "ucat_x", PAM_AUTH_ERR, "inactive");
		ck_assert_int_eq(log_count("source=cache"), 1);
		ck_assert_int_eq(fault_requests(&fault), before + 1);
		ck_assert_int_eq(cache_entries(cache_dir()), 1);
		free(url);
	}
	cache_wipe();
}
END_TEST

/* Everything else is unavailable, and nothing is cached. */
START_TEST(unavailable_answers)
{
	static const struct {
		const char *path, *reason;
	} cases[] = {
	    {"/status/500", "http_status"},
	    {"/status/503", "http_status"},
	    {"/status/404", "http_status"},
	    {"/status/400", "http_status"},
	    {"/redirect", "redirect"},
	    {"/huge", "body_too_large"},
	    {"/dupkeys", "bad_json"},
	    {"/empty", "bad_json"},
	    {"/html", "bad_json"},
	    {"/truncated", "bad_json"},
	    {"/json/WyJhbGljZSJd", "bad_json"}, /* ["alice"] */
	    {"/json/ImFsaWNlIg", "bad_json"},	/* "alice" */
	    {"/json/bnVsbA", "bad_json"},	/* null */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *url = fault_url(&fault, cases[i].path);

		cache_wipe();
		expect_login(userinfo_service(url, NULL), "alice", "ucat_x", PAM_AUTHINFO_UNAVAIL,
			     cases[i].reason);
		ck_assert_msg(cache_entries(cache_dir()) <= 0, "%s cached", cases[i].path);
		free(url);
	}
	cache_wipe();
}
END_TEST

/* 429 with Retry-After: backoff host-wide, no request for another token until it ends. */
START_TEST(rate_limited_backs_off)
{
	char *url = fault_url(&fault, "/ratelimit");
	const char *svc;
	long before;

	cache_wipe();
	svc = userinfo_service(url, NULL);
	before = fault_requests(&fault);
	expect_login(svc, "alice", "ucat_x", PAM_AUTHINFO_UNAVAIL, "rate_limited");
	ck_assert_int_eq(fault_requests(&fault), before + 1);
	ck_assert_int_le(cache_entries(cache_dir()), 0);
	log_reset();
	ck_assert_int_eq(pam_run(svc, "alice", "192.0.2.7", "ucat_other").auth,
			 PAM_AUTHINFO_UNAVAIL);
	ck_assert_int_eq(fault_requests(&fault), before + 1);
	cache_wipe();
	free(url);
}
END_TEST

/* A token that cannot go into a header line is never sent. */
START_TEST(token_with_space_not_sent)
{
	char *url =
	    fault_url(&fault, "/json/eyJ1c2VybmFtZSI6ImFsaWNlIn0"); /* {"username":"alice"} */
	long before = fault_requests(&fault);
	int got;

	cache_wipe();
	log_reset();
	got = pam_run(userinfo_service(url, NULL), "alice", "192.0.2.7", "ucat_a b").auth;
	ck_assert_msg(got != PAM_SUCCESS, "%s", log_text());
	ck_assert_int_eq(fault_requests(&fault), before);
	cache_wipe();
	free(url);
}
END_TEST

/* Config errors: PAM_SERVICE_ERR, and nothing is sent. */
START_TEST(config_errors)
{
	static const char *const bad[] = {
	    "verify = userinfo\n",
	    "verify = userinfo\nuserinfo_url = http://192.0.2.1/me\n",
	    "verify = userinfo\nuserinfo_url = @URL@\nclient_id = rs\n",
	    "verify = userinfo\nuserinfo_url = @URL@\nintrospection_url = @URL@\n",
	    "verify = jwt\nintrospection_url = @URL@\n",
	};
	char *url = fault_url(&fault, "/json/eyJ1c2VybmFtZSI6ImFsaWNlIn0");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char conf[1024], *at;
		long before = fault_requests(&fault);
		size_t o = 0;

		for (const char *p = bad[i]; *p && o < sizeof(conf) - 300;) {
			if ((at = strstr(p, "@URL@")) == p) {
				o += (size_t)snprintf(conf + o, sizeof(conf) - o, "%s", url);
				p += 5;
			} else {
				conf[o++] = *p++;
			}
		}
		conf[o] = '\0';
		log_reset();
		ck_assert_msg(
		    pam_run(make_service(conf, NULL), "alice", "192.0.2.7", "ucat_x").auth ==
			PAM_SERVICE_ERR,
		    "%s\n%s", conf, log_text());
		ck_assert_int_eq(fault_requests(&fault), before);
	}
	free(url);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("userinfo");
	TCase *tc = tcase_create("userinfo");

	testenv_servers(&idp, &fault);
	tcase_add_unchecked_fixture(tc, testenv_servers_up, testenv_servers_down);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, upcloud_account);
	tcase_add_test(tc, oidc_userinfo);
	tcase_add_test(tc, request_shape);
	tcase_add_test(tc, object_members);
	tcase_add_test(tc, refusals_inactive);
	tcase_add_test(tc, unavailable_answers);
	tcase_add_test(tc, rate_limited_backs_off);
	tcase_add_test(tc, token_with_space_not_sent);
	tcase_add_test(tc, config_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
