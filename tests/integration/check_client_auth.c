/*
 * client_auth (DESIGN.md §4): how client_id and the secret reach the
 * introspection endpoint, through the real libpam and helper, against the
 * real test issuer (oidc-provider, which decodes RFC 6749 §2.3.1 Basic and
 * takes client_secret_post) and the fault server (a server that compares
 * the Authorization header as sent, bearer tokens, 403, TLS). Also the
 * reasons client_auth, tls_failed and connect_failed (DESIGN.md §5).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <security/pam_appl.h>

#include "testenv.h"
#include "unit.h"

static struct server idp, fault;

/* A secret with every kind of byte RFC 6749 §2.3.1 form-encodes: + / = % and a space. */
#define TYPED_SECRET "s3cr+t/=%20 x"
/* base64("rs-typed:" TYPED_SECRET): the Basic credentials as typed. */
#define TYPED_BASIC "Basic cnMtdHlwZWQ6czNjcit0Lz0lMjAgeA=="

/* One login of alice with token against url, with the config lines extra. */
static int login(const char *url, const char *extra, const char *token)
{
	char conf[8192];

	snprintf(conf, sizeof(conf), "introspection_url = %s\n%s", url, extra ? extra : "");
	log_reset();
	return pam_run(make_service(conf, NULL), "alice", "192.0.2.7", token).auth;
}

/* The config lines for client_id id with secret in ROOT/secret, and client_auth (NULL: unset). */
static const char *creds(const char *id, const char *secret, const char *auth)
{
	static char lines[2048];
	int n = 0;

	if (id != NULL)
		n += snprintf(lines + n, sizeof(lines) - (size_t)n, "client_id = %s\n", id);
	if (secret != NULL)
		n += snprintf(lines + n, sizeof(lines) - (size_t)n, "client_secret_file = %s\n",
			      write_file("secret", 0600, secret));
	if (auth != NULL)
		snprintf(lines + n, sizeof(lines) - (size_t)n, "client_auth = %s\n", auth);
	return lines;
}

/* The fault server's /auth/ URL: 200 when Authorization is exactly want ("": absent). */
static char *auth_url(const char *want)
{
	char *u = fault_json_url(&fault, want, strlen(want)), *p = strstr(u, "/json/");

	ck_assert_ptr_nonnull(p);
	memcpy(p, "/auth/", 6);
	return u;
}

/* --- against the real issuer --------------------------------------------- */

/* basic (the default, and said so): form-encoded first, which oidc-provider decodes. */
START_TEST(basic_encodes_special_secret)
{
	char *url = idp_url(&idp), *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);

	ck_assert_int_eq(login(url, creds("rs-typed", TYPED_SECRET "\n", NULL), tok), PAM_SUCCESS);
	ck_audit("allow", "ok");
	ck_assert_int_eq(login(url, creds("rs-typed", TYPED_SECRET "\n", "basic"), tok),
			 PAM_SUCCESS);
	ck_audit("allow", "ok");
	/* As typed, an RFC-decoding server reads another secret: 401, our credentials. */
	ck_assert_int_eq(login(url, creds("rs-typed", TYPED_SECRET "\n", "basic_raw"), tok),
			 PAM_AUTHINFO_UNAVAIL);
	ck_audit("unavailable", "client_auth");
	free(url);
	free(tok);
}
END_TEST

/* post: oidc-provider's client_secret_post client takes it. */
START_TEST(post_to_issuer)
{
	char *url = idp_url(&idp), *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);

	ck_assert_int_eq(login(url, creds("rs-post", "rs-post-secret\n", "post"), tok),
			 PAM_SUCCESS);
	ck_audit("allow", "ok");
	/* The body's credentials are the ones checked (post sends no Authorization). */
	ck_assert_int_eq(login(url, creds("rs-post", "not-the-secret\n", "post"), tok),
			 PAM_AUTHINFO_UNAVAIL);
	ck_audit("unavailable", "client_auth");
	/* Form-encoded in the body as in basic, and decoded by the issuer. */
	ck_assert_int_eq(login(url, creds("rs-typed", TYPED_SECRET "\n", "post"), tok),
			 PAM_SUCCESS);
	ck_audit("allow", "ok");
	free(url);
	free(tok);
}
END_TEST

/* --- against a server that compares as sent (the fault server) ----------- */

START_TEST(basic_raw_sends_as_typed)
{
	char *url = auth_url(TYPED_BASIC);

	ck_assert_int_eq(
	    login(url, creds("rs-typed", TYPED_SECRET "\n", "basic_raw"), "ucat_faulttoken"),
	    PAM_SUCCESS);
	ck_audit("allow", "ok");
	/* The RFC encoding is what such a server refuses: the "HTTP 401". */
	ck_assert_int_eq(
	    login(url, creds("rs-typed", TYPED_SECRET "\n", "basic"), "ucat_faulttoken"),
	    PAM_AUTHINFO_UNAVAIL);
	ck_audit("unavailable", "client_auth");
	ck_assert_int_eq(log_count("answered HTTP 401"), 1);
	free(url);
}
END_TEST

START_TEST(post_on_the_wire)
{
	const char *json = "{\"active\":true,\"username\":\"alice\"}";
	char *url = fault_json_url(&fault, json, strlen(json)), *last;

	ck_assert_int_eq(login(url, creds("rs typed", TYPED_SECRET "\n", "post"), "ucat_a+b"),
			 PAM_SUCCESS);
	last = fault_last(&fault);
	ck_assert_msg(strstr(last,
			     "\"body\":\"token=ucat_a%2Bb&token_type_hint=access_token"
			     "&client_id=rs+typed&client_secret=s3cr%2Bt%2F%3D%2520+x\"") != NULL,
		      "%s", last);
	ck_assert_msg(strstr(last, "\"authorization\"") == NULL, "%s", last);
	free(last);
	free(url);
}
END_TEST

START_TEST(bearer_sends_the_file)
{
	char *url = auth_url("Bearer tok-3n.d_~+/="), *last;

	ck_assert_int_eq(login(url, creds(NULL, "tok-3n.d_~+/=\n", "bearer"), "ucat_faulttoken"),
			 PAM_SUCCESS);
	ck_audit("allow", "ok");
	last = fault_last(&fault);
	ck_assert_msg(strstr(last, "client_id") == NULL, "%s", last);
	ck_assert_msg(strstr(last, "client_secret") == NULL, "%s", last);
	free(last);
	ck_assert_int_eq(login(url, creds(NULL, "tok-other\n", "bearer"), "ucat_faulttoken"),
			 PAM_AUTHINFO_UNAVAIL);
	ck_audit("unavailable", "client_auth");
	free(url);
}
END_TEST

/* A bearer token goes into a header line: one that could add a header never leaves. */
START_TEST(bearer_refuses_header_bytes)
{
	char *url = auth_url("Bearer a");
	long before = fault_requests(&fault);
	static const char *const bad[] = {"a\r\nX-Injected: 1\n", "a b\n", "a\tb\n"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(login(url, creds(NULL, bad[i], "bearer"), "ucat_faulttoken"),
				 PAM_SERVICE_ERR);
		ck_assert_msg(log_count("visible ASCII only") == 1, "%s", log_text());
		ck_assert_msg(log_count("X-Injected") == 0, "%s", log_text());
	}
	ck_assert_int_eq(fault_requests(&fault), before);
	free(url);
}
END_TEST

START_TEST(none_sends_nothing)
{
	char *url = auth_url(""), *last;

	ck_assert_int_eq(login(url, creds(NULL, NULL, "none"), "ucat_faulttoken"), PAM_SUCCESS);
	ck_audit("allow", "ok");
	last = fault_last(&fault);
	ck_assert_msg(strstr(last, "client_id") == NULL, "%s", last);
	ck_assert_msg(strstr(last, "\"authorization\"") == NULL, "%s", last);
	free(last);
	/* Unset and without credentials: the same as before the key. */
	ck_assert_int_eq(login(url, NULL, "ucat_faulttoken"), PAM_SUCCESS);
	ck_audit("allow", "ok");
	free(url);
}
END_TEST

/* Django OAuth Toolkit answers bad client credentials with 403. */
START_TEST(forbidden_is_client_auth)
{
	char *url = fault_url(&fault, "/status/403");

	ck_assert_int_eq(login(url, NULL, "ucat_faulttoken"), PAM_AUTHINFO_UNAVAIL);
	ck_audit("unavailable", "client_auth");
	ck_assert_int_eq(log_count("answered HTTP 403 (client_auth)"), 1);
	free(url);
}
END_TEST

START_TEST(bad_words_are_config_errors)
{
	char *url = fault_url(&fault, "/status/200");
	long before = fault_requests(&fault);
	static const struct {
		const char *id, *secret, *auth, *want;
	} cases[] = {
	    {"rs", "x\n", "Basic", "want basic, basic_raw, post, bearer or none"},
	    {"rs", "x\n", "secret-on-the-wrong-line",
	     "want basic, basic_raw, post, bearer or none"},
	    {NULL, "x\n", "post", "client_auth = post needs client_id and client_secret_file"},
	    {"rs", NULL, "basic", "client_auth = basic needs client_id and client_secret_file"},
	    {"rs", "x\n", "bearer", "and no client_id"},
	    {NULL, NULL, "bearer", "needs client_secret_file (the bearer token)"},
	    {"rs", NULL, "none", "client_auth = none takes no client_id"},
	    {"a:b", "x\n", "basic_raw", "client_id cannot hold ':'"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(
		    login(url, creds(cases[i].id, cases[i].secret, cases[i].auth), "ucat_x"),
		    PAM_SERVICE_ERR);
		ck_assert_msg(log_count(cases[i].want) == 1, "%zu: want %s in\n%s", i,
			      cases[i].want, log_text());
		ck_assert_msg(log_count("secret-on-the-wrong-line") == 0, "%s", log_text());
	}
	ck_assert_int_eq(fault_requests(&fault), before);
	free(url);
}
END_TEST

/* --- tls_failed and connect_failed --------------------------------------- */

static int tls_port, tls_client_port;
static char tls_cert[600], other_cert[600];

/* A self-signed certificate for 127.0.0.1: root/name.pem, its key root/name.key. */
static void make_cert(const char *name, char *cert, size_t len)
{
	char cmd[2048], *out;
	int status;

	snprintf(cert, len, "%s/%s.pem", T.root, name);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		 "-days 36500 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
		 "-keyout %s/%s.key -out %s 2>&1",
		 T.root, name, cert);
	out = shell_output(cmd, &status);
	if (out == NULL || status != 0)
		testenv_die("check_client_auth", "openssl req: %s", out ? out : "not run");
	free(out);
}

/* POST /tls-listen: the fault server's routes over TLS; returns the port. */
static int tls_listen(const char *extra)
{
	char form[1400], *url = fault_url(&fault, "/tls-listen"), *body;
	json_t *j;
	long status = 0;
	int port;

	snprintf(form, sizeof(form), "cert=%s&key=%s/tls.key%s", tls_cert, T.root, extra);
	body = http_call("POST", url, NULL, form, &status);
	j = body ? json_loads(body, 0, NULL) : NULL;
	port = (int)json_integer_value(json_object_get(j, "tls_port"));
	if (status != 200 || port <= 0)
		testenv_die("check_client_auth", "/tls-listen: %s", body ? body : "no answer");
	json_decref(j);
	free(body);
	free(url);
	return port;
}

/* The fault server over TLS with a certificate of its own: plain, and wanting a client cert. */
static void tls_up(void)
{
	testenv_servers_up();
	make_cert("tls", tls_cert, sizeof(tls_cert));
	make_cert("other", other_cert, sizeof(other_cert));
	tls_client_port = tls_listen("&client_cert=yes");
	tls_port = tls_listen("");
}

static int tls_login(const char *scheme, int port, const char *ca)
{
	char url[256], extra[700];

	snprintf(url, sizeof(url),
		 "%s://127.0.0.1:%d/json/eyJhY3RpdmUiOnRydWUsInVzZXJuYW1lIjoiYWxpY2UifQ", scheme,
		 port); /* {"active":true,"username":"alice"} */
	snprintf(extra, sizeof(extra), "ca_file = %s\n", ca);
	return login(url, extra, "ucat_faulttoken");
}

START_TEST(tls_trusted_logs_in)
{
	/* The control: with its own certificate as ca_file, the TLS server is fine. */
	ck_assert_int_eq(tls_login("https", tls_port, tls_cert), PAM_SUCCESS);
	ck_audit("allow", "ok");
}
END_TEST

START_TEST(tls_untrusted_is_tls_failed)
{
	ck_assert_int_eq(tls_login("https", tls_port, other_cert), PAM_AUTHINFO_UNAVAIL);
	ck_audit("unavailable", "tls_failed");
}
END_TEST

/* The connection is made; it is the scheme that does not match the port. */
START_TEST(wrong_scheme_is_tls_failed)
{
	ck_assert_int_eq(tls_login("https", fault.port, tls_cert), PAM_AUTHINFO_UNAVAIL);
	ck_audit("unavailable", "tls_failed");
	/*
	 * The other way round a TLS server closes without a byte: what a plain
	 * server that drops the connection does too, so it stays connect_failed.
	 */
	ck_assert_int_eq(tls_login("http", tls_port, tls_cert), PAM_AUTHINFO_UNAVAIL);
	ck_audit("unavailable", "connect_failed");
}
END_TEST

/*
 * TLS 1.3: the server refuses the missing client certificate after the
 * handshake, with an alert that libcurl reports as a receive error.
 */
START_TEST(client_cert_wanted_is_tls_failed)
{
	ck_assert_int_eq(tls_login("https", tls_client_port, tls_cert), PAM_AUTHINFO_UNAVAIL);
	ck_audit("unavailable", "tls_failed");
}
END_TEST

START_TEST(refused_is_connect_failed)
{
	ck_assert_int_eq(tls_login("https", closed_port(), tls_cert), PAM_AUTHINFO_UNAVAIL);
	ck_audit("unavailable", "connect_failed");
	ck_assert_int_eq(tls_login("http", closed_port(), tls_cert), PAM_AUTHINFO_UNAVAIL);
	ck_audit("unavailable", "connect_failed");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("client_auth");
	TCase *issuer = tcase_create("issuer"), *faults = tcase_create("faults"),
	      *tls = tcase_create("tls");

	testenv_servers(&idp, &fault);

	tcase_add_unchecked_fixture(issuer, testenv_servers_up, testenv_servers_down);
	tcase_set_timeout(issuer, 60);
	tcase_add_test(issuer, basic_encodes_special_secret);
	tcase_add_test(issuer, post_to_issuer);
	suite_add_tcase(s, issuer);

	tcase_add_unchecked_fixture(faults, testenv_servers_up, testenv_servers_down);
	tcase_set_timeout(faults, 60);
	tcase_add_test(faults, basic_raw_sends_as_typed);
	tcase_add_test(faults, post_on_the_wire);
	tcase_add_test(faults, bearer_sends_the_file);
	tcase_add_test(faults, bearer_refuses_header_bytes);
	tcase_add_test(faults, none_sends_nothing);
	tcase_add_test(faults, forbidden_is_client_auth);
	tcase_add_test(faults, bad_words_are_config_errors);
	suite_add_tcase(s, faults);

	tcase_add_unchecked_fixture(tls, tls_up, testenv_servers_down);
	tcase_set_timeout(tls, 60);
	tcase_add_test(tls, tls_trusted_logs_in);
	tcase_add_test(tls, tls_untrusted_is_tls_failed);
	tcase_add_test(tls, wrong_scheme_is_tls_failed);
	tcase_add_test(tls, client_cert_wanted_is_tls_failed);
	tcase_add_test(tls, refused_is_connect_failed);
	suite_add_tcase(s, tls);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
