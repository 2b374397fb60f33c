/*
 * Unit tests for lib/decimal.c: a table of what decimal_parse() accepts
 * (and as what) and refuses, at the edges of long long and of a range,
 * with the length bounding the input; and decimal_fields().
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "decimal.h"
#include "unit.h"

/* String literals with their exact length, embedded NULs included. */
#define S(lit) lit, sizeof(lit) - 1

static void ok(const char *s, size_t len, long long min, long long max, long long want)
{
	long long v = 12345;

	ck_assert_msg(decimal_parse(s, len, min, max, &v) == 0, "\"%.*s\" refused", (int)len, s);
	ck_assert_msg(v == want, "\"%.*s\" read as %lld", (int)len, s, v);
}

static void bad(const char *s, size_t len, long long min, long long max)
{
	long long v = 12345;

	ck_assert_msg(decimal_parse(s, len, min, max, &v) == -1, "\"%.*s\" accepted as %lld",
		      (int)len, s, v);
	ck_assert_msg(v == 12345, "\"%.*s\": *out written on failure", (int)len, s);
}

START_TEST(test_accepted)
{
	ok(S("0"), 0, 0, 0);
	ok(S("1"), 0, 10, 1);
	ok(S("10"), 0, 10, 10);
	ok(S("-1"), -1, 0, -1);
	ok(S("-10"), -10, 10, -10);
	ok(S("255"), 0, 255, 255);
	ok(S("131072"), 0, 131072, 131072);
	ok(S("9223372036854775807"), LLONG_MIN, LLONG_MAX, LLONG_MAX);
	ok(S("-9223372036854775807"), LLONG_MIN, LLONG_MAX, -LLONG_MAX);
	ok(S("-9223372036854775808"), LLONG_MIN, LLONG_MAX, LLONG_MIN);
	ok(S("999999999"), 0, 999999999, 999999999);
	/* Only len bytes count: what follows is the caller's. */
	ok("12:x", 2, 0, 99, 12);
	ok("7 backoff", 1, 0, 9, 7);
}
END_TEST

START_TEST(test_refused)
{
	/* Malformed. */
	bad(S(""), LLONG_MIN, LLONG_MAX);
	bad(S("-"), LLONG_MIN, LLONG_MAX);
	bad(S("+1"), LLONG_MIN, LLONG_MAX);
	bad(S("+0"), LLONG_MIN, LLONG_MAX);
	bad(S(" 1"), LLONG_MIN, LLONG_MAX);
	bad(S("1 "), LLONG_MIN, LLONG_MAX);
	bad(S("\t1"), LLONG_MIN, LLONG_MAX);
	bad(S("1\n"), LLONG_MIN, LLONG_MAX);
	bad(S("01"), LLONG_MIN, LLONG_MAX);
	bad(S("00"), LLONG_MIN, LLONG_MAX);
	bad(S("-0"), LLONG_MIN, LLONG_MAX);
	bad(S("-01"), LLONG_MIN, LLONG_MAX);
	bad(S("--1"), LLONG_MIN, LLONG_MAX);
	bad(S("- 1"), LLONG_MIN, LLONG_MAX);
	bad(S("1-"), LLONG_MIN, LLONG_MAX);
	bad(S("1x"), LLONG_MIN, LLONG_MAX);
	bad(S("x1"), LLONG_MIN, LLONG_MAX);
	bad(S("0x10"), LLONG_MIN, LLONG_MAX);
	bad(S("1.0"), LLONG_MIN, LLONG_MAX);
	bad(S("1e3"), LLONG_MIN, LLONG_MAX);
	bad(S("1,000"), LLONG_MIN, LLONG_MAX);
	bad(S("1\0"), LLONG_MIN, LLONG_MAX);
	bad(S("\0"
	      "1"),
	    LLONG_MIN, LLONG_MAX);
	bad(S("\xd9\xa1"), LLONG_MIN, LLONG_MAX); /* ARABIC-INDIC DIGIT ONE */
	/* Out of range. */
	bad(S("11"), 0, 10);
	bad(S("256"), 0, 255);
	bad(S("-1"), 0, 10);
	bad(S("5"), 6, 10);
	bad(S("-11"), -10, 10);
	bad(S("1000000000"), 0, 999999999);
	/* Past long long, each way. */
	bad(S("9223372036854775808"), LLONG_MIN, LLONG_MAX);
	bad(S("-9223372036854775809"), LLONG_MIN, LLONG_MAX);
	bad(S("9999999999999999999"), LLONG_MIN, LLONG_MAX);
	bad(S("18446744073709551616"), LLONG_MIN, LLONG_MAX);
	bad(S("18446744073709551617"), LLONG_MIN, LLONG_MAX);
	bad(S("100000000000000000000000000000"), LLONG_MIN, LLONG_MAX);
	bad(S("-100000000000000000000000000000"), LLONG_MIN, LLONG_MAX);
}
END_TEST

/* Every value of a small range, written as snprintf writes it, reads back; the neighbours do not.
 */
START_TEST(test_round_trip)
{
	char s[32];

	for (long long i = -1000; i <= 1000; i++) {
		snprintf(s, sizeof(s), "%lld", i);
		ok(s, strlen(s), -1000, 1000, i);
	}
	snprintf(s, sizeof(s), "%lld", -1001LL);
	bad(s, strlen(s), -1000, 1000);
	snprintf(s, sizeof(s), "%lld", 1001LL);
	bad(s, strlen(s), -1000, 1000);
}
END_TEST

START_TEST(test_fields)
{
	char s[64], *f[5];

	strcpy(s, "1714564800 12");
	ck_assert_int_eq(decimal_fields(s, f, 2), 0);
	ck_assert_str_eq(f[0], "1714564800");
	ck_assert_str_eq(f[1], "12");

	strcpy(s, "a b c d e");
	ck_assert_int_eq(decimal_fields(s, f, 5), 0);
	ck_assert_str_eq(f[0], "a");
	ck_assert_str_eq(f[4], "e");

	strcpy(s, "one");
	ck_assert_int_eq(decimal_fields(s, f, 1), 0);
	ck_assert_str_eq(f[0], "one");

	/* Empty fields are fields: the caller's checks refuse them. */
	strcpy(s, "a  b");
	ck_assert_int_eq(decimal_fields(s, f, 3), 0);
	ck_assert_str_eq(f[1], "");
	strcpy(s, "");
	ck_assert_int_eq(decimal_fields(s, f, 1), 0);
	ck_assert_str_eq(f[0], "");

	/* Any other count is refused. */
	strcpy(s, "a b c");
	ck_assert_int_eq(decimal_fields(s, f, 2), -1);
	strcpy(s, "a b");
	ck_assert_int_eq(decimal_fields(s, f, 3), -1);
	strcpy(s, "a b ");
	ck_assert_int_eq(decimal_fields(s, f, 2), -1);
	strcpy(s, " a b");
	ck_assert_int_eq(decimal_fields(s, f, 2), -1);
	strcpy(s, "a");
	ck_assert_int_eq(decimal_fields(s, f, 0), -1);
	/* Only U+0020 separates. */
	strcpy(s, "a\tb");
	ck_assert_int_eq(decimal_fields(s, f, 2), -1);
}
END_TEST

static Suite *decimal_suite(void)
{
	Suite *s = suite_create("decimal");
	TCase *tc = tcase_create("decimal_parse");

	tcase_add_test(tc, test_accepted);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("decimal_fields");
	tcase_add_test(tc, test_fields);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(decimal_suite());
}
