/*
 * Unit tests for lib/token.c: token_check_local(), the checks made before any
 * request leaves the host: empty, length limit, byte classes, OpenSSH's fake
 * password for unknown users, and token_prefixes.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"
#include "unit.h"

/* String literals with their exact length, embedded NULs included. */
#define S(lit) lit, sizeof(lit) - 1

static void expect_ok(const char *t, size_t len, const char *prefixes)
{
	const char *reason = "unset";

	ck_assert_msg(token_check_local(t, len, prefixes, &reason) == APT_OK,
		      "token of %zu bytes refused (%s) with prefixes \"%s\"", len, reason,
		      prefixes ? prefixes : "(null)");
}

static void expect_deny(const char *t, size_t len, const char *prefixes, const char *want)
{
	const char *reason = NULL;
	enum apt_rc rc = token_check_local(t, len, prefixes, &reason);

	ck_assert_msg(rc == APT_DENY, "token of %zu bytes: rc %d, want APT_DENY (%s)", len, rc,
		      want);
	ck_assert_ptr_nonnull(reason);
	ck_assert_str_eq(reason, want);
}

START_TEST(test_empty)
{
	expect_deny("", 0, NULL, "empty_token");
	expect_deny("", 0, "ucat_", "empty_token");
	/* The length decides, not the bytes behind the pointer. */
	expect_deny("ucat_abc", 0, NULL, "empty_token");
}
END_TEST

START_TEST(test_length_limit)
{
	char *t = malloc(TOKEN_MAX_LEN + 2);

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(TOKEN_MAX_LEN, 4096);
	memset(t, 'a', TOKEN_MAX_LEN + 1);
	t[TOKEN_MAX_LEN + 1] = '\0';
	expect_ok(t, 4096, NULL);
	expect_deny(t, 4097, NULL, "token_too_long");
	/* Too long wins over bad bytes or a wrong prefix after the limit. */
	t[4096] = ' ';
	expect_ok(t, 4096, NULL);
	expect_deny(t, 4097, NULL, "token_too_long");
	expect_deny(t, 4097, "zzz_", "token_too_long");
	expect_ok("x", 1, NULL);
	free(t);
}
END_TEST

START_TEST(test_printable_range)
{
	char t[4] = "ab?";

	/* Every byte 0x21..0x7e is fine; everything else is not. */
	for (int c = 0; c < 256; c++) {
		const char *reason = "unset";
		enum apt_rc rc;

		t[1] = (char)c;
		rc = token_check_local(t, 3, NULL, &reason);
		if (c >= 0x21 && c <= 0x7e)
			ck_assert_msg(rc == APT_OK, "byte 0x%02x refused (%s)", c, reason);
		else
			ck_assert_msg(rc == APT_DENY && strcmp(reason, "token_bad_bytes") == 0,
				      "byte 0x%02x: rc %d reason %s", c, rc, reason);
	}
}
END_TEST

START_TEST(test_byte_classes)
{
	expect_deny(S("ucat_ab cd"), NULL, "token_bad_bytes");
	expect_deny(S("ucat_ab\tcd"), NULL, "token_bad_bytes");
	expect_deny(S("ucat_ab\x7f"
		      "cd"),
		    NULL, "token_bad_bytes");
	expect_deny(S("ucat_ab\x80"
		      "cd"),
		    NULL, "token_bad_bytes");
	expect_deny(S("ucat_ab\xff"), NULL, "token_bad_bytes");
	expect_deny(S("ucat_\xc3\xa9t\xc3\xa9"), NULL, "token_bad_bytes"); /* UTF-8 é */
	expect_deny(S("ucat_ab\0cd"), NULL, "token_bad_bytes");
	expect_deny(S("ucat_abcd\0"), NULL, "token_bad_bytes");
	expect_deny(S("ucat_abcd\n"), NULL, "token_bad_bytes");
	expect_deny(S("ucat_ab\r\ncd"), NULL, "token_bad_bytes");
	expect_deny(S(" ucat_abcd"), NULL, "token_bad_bytes");
	/* Bad bytes are found before the prefix is looked at. */
	expect_deny(S("ucat_ab cd"), "ucat_", "token_bad_bytes");
	expect_deny(S("zz cd"), "ucat_", "token_bad_bytes");
	expect_ok(S("ucat_AZaz09!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"), NULL);
}
END_TEST

START_TEST(test_fake_password)
{
	expect_deny(S("\b\n\r\177INCORRECT"), NULL, "fake_password");
	/* sshd repeats the pattern to the length of the typed password. */
	expect_deny(S("\b\n\r\177INCORRECT\b\n\r\177INCORRECT\b\n"), NULL, "fake_password");
	expect_deny(S("\b\n\r\177INCORRECTxyz"), "ucat_", "fake_password");
	/* A prefix of the pattern is just bad bytes. */
	expect_deny(S("\b\n\r\177INCORREC"), NULL, "token_bad_bytes");
	expect_deny(S("\b\n\r\177"), NULL, "token_bad_bytes");
	expect_deny(S("\b\n\r\177incorrect"), NULL, "token_bad_bytes");
	/* The printable part alone is an ordinary token. */
	expect_ok(S("INCORRECT"), NULL);
}
END_TEST

START_TEST(test_prefixes)
{
	const char *p = "ucat_ huc_";

	expect_ok(S("ucat_x"), p);
	expect_ok(S("huc_x"), p);
	expect_ok(S("huc_"), p); /* exactly the prefix: the issuer decides */
	expect_deny(S("upk_x"), p, "token_prefix");
	expect_deny(S("ucat"), p, "token_prefix"); /* shorter than the prefix */
	expect_deny(S("huc"), p, "token_prefix");
	expect_deny(S("UCAT_x"), p, "token_prefix"); /* case matters */
	expect_deny(S("xucat_x"), p, "token_prefix");
	/* Only the first len bytes count, whatever follows in memory. */
	expect_deny("ucat_x", 4, p, "token_prefix");
	/* Tabs and repeated spaces separate entries too. */
	expect_ok(S("upk_x"), "  ucat_\t\tupk_  ");
	expect_deny(S("ucat upk_"), "ucat_\tupk_", "token_bad_bytes");
}
END_TEST

START_TEST(test_no_prefixes)
{
	expect_ok(S("ucat_x"), NULL);
	expect_ok(S("upk_x"), NULL);
	expect_ok(S("anything-at-all"), NULL);
}
END_TEST

static Suite *token_suite(void)
{
	Suite *s = suite_create("token");
	TCase *tc;

	tc = tcase_create("length");
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_length_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("bytes");
	tcase_add_test(tc, test_printable_range);
	tcase_add_test(tc, test_byte_classes);
	tcase_add_test(tc, test_fake_password);
	suite_add_tcase(s, tc);

	tc = tcase_create("prefixes");
	tcase_add_test(tc, test_prefixes);
	tcase_add_test(tc, test_no_prefixes);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return unit_run(token_suite());
}
