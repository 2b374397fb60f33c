/*
 * Unit tests for lib/timefmt.c: the ISO 8601 UTC form at the epoch, before
 * it, past 2038 and at the end of year 9999, and the plain number where the
 * C library has no year for a time.
 */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"
#include "unit.h"

static void iso_is(time_t t, const char *want)
{
	char out[TIMEFMT_ISO_LEN];

	timefmt_iso(t, out);
	ck_assert_msg(strcmp(out, want) == 0, "%lld: %s, want %s", (long long)t, out, want);
}

START_TEST(test_iso)
{
	iso_is(0, "1970-01-01T00:00:00Z");
	iso_is(1, "1970-01-01T00:00:01Z");
	iso_is(-1, "1969-12-31T23:59:59Z");
	iso_is(-86400, "1969-12-31T00:00:00Z");
	iso_is(951782400, "2000-02-29T00:00:00Z");
	iso_is(1714564800, "2024-05-01T12:00:00Z");
	/* Past the 32-bit signed end of time. */
	iso_is(2147483647, "2038-01-19T03:14:07Z");
	iso_is((time_t)2147483648LL, "2038-01-19T03:14:08Z");
	iso_is((time_t)4102444800LL, "2100-01-01T00:00:00Z");
	iso_is((time_t)253402300799LL, "9999-12-31T23:59:59Z");
}
END_TEST

START_TEST(test_iso_out_of_range)
{
	char out[TIMEFMT_ISO_LEN], want[TIMEFMT_ISO_LEN];

	/* gmtime_r has no year for these (EOVERFLOW): the number, not garbage. */
	timefmt_iso((time_t)LLONG_MAX, out);
	snprintf(want, sizeof(want), "%lld", LLONG_MAX);
	ck_assert_str_eq(out, want);
	timefmt_iso((time_t)LLONG_MIN, out);
	snprintf(want, sizeof(want), "%lld", LLONG_MIN);
	ck_assert_str_eq(out, want);
}
END_TEST

static Suite *timefmt_suite(void)
{
	Suite *s = suite_create("timefmt");
	TCase *tc = tcase_create("timefmt_iso");

	tcase_add_test(tc, test_iso);
	tcase_add_test(tc, test_iso_out_of_range);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(timefmt_suite());
}
