/*
 * Unit tests for lib/url.c: url_scheme_allowed(), the one rule for where a
 * token may go: https:// in any case, http:// only to loopback, and the
 * tricks that make a remote host look like a loopback one. The loopback
 * test on its own has its table in check_config.c.
 */
#include <check.h>
#include <stdbool.h>
#include <stddef.h>

#include "unit.h"
#include "url.h"

START_TEST(test_allowed)
{
	static const char *const yes[] = {
	    "https://issuer.example/introspect",
	    "HTTPS://issuer.example/",
	    "HtTpS://issuer.example",
	    "https://127.0.0.1.evil.com/", /* TLS checks the name: fine */
	    "https://user@issuer.example/",
	    "http://127.0.0.1/x",
	    "http://127.0.0.1:8080/introspect",
	    "HTTP://127.0.0.1/",
	    "Http://localhost:9/",
	    "http://localhost",
	    "http://[::1]/",
	    "http://[::1]:8443/x",
	    "http://127.255.255.255/",
	};
	static const char *const no[] = {
	    "http://issuer.example/",
	    "http://127.0.0.1.evil.com/",
	    "http://127.0.0.1@evil.com/",
	    "http://evil.com@127.0.0.1/",
	    "http://localhost.evil.com/",
	    "http://[::1].evil.com/",
	    "http://[::ffff:127.0.0.1]/",
	    "http://0x7f000001/",
	    "http://127.1/",
	    "http://127.0.0.01/",
	    "http://128.0.0.1/",
	    "https:/issuer.example/",
	    "https:issuer.example",
	    "ftp://127.0.0.1/",
	    "file:///etc/passwd",
	    "httpx://127.0.0.1/",
	    " https://issuer.example/",
	    "//issuer.example/",
	    "issuer.example",
	    "http://",
	    "",
	};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		ck_assert_msg(url_scheme_allowed(yes[i]), "refused %s", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		ck_assert_msg(!url_scheme_allowed(no[i]), "accepted %s", no[i]);
}
END_TEST

/* https:// is not loopback http: the two answers differ where they should. */
START_TEST(test_https_is_not_loopback_http)
{
	ck_assert(url_scheme_allowed("https://127.0.0.1/"));
	ck_assert(!url_is_loopback_http("https://127.0.0.1/"));
	ck_assert(url_scheme_allowed("http://127.0.0.1/"));
	ck_assert(url_is_loopback_http("http://127.0.0.1/"));
}
END_TEST

static Suite *url_suite(void)
{
	Suite *s = suite_create("url");
	TCase *tc = tcase_create("url_scheme_allowed");

	tcase_add_test(tc, test_allowed);
	tcase_add_test(tc, test_https_is_not_loopback_http);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(url_suite());
}
