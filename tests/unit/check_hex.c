/*
 * Unit tests for lib/hex.c: lower-case hex of bytes with its NUL, nothing
 * written past it, and the upper-case "%XX" escape of every byte value.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "hex.h"
#include "unit.h"

START_TEST(test_encode_vectors)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} v[] = {
	    {"", 0, ""},
	    {"\x00", 1, "00"},
	    {"\xff", 1, "ff"},
	    {"\x0f\xf0", 2, "0ff0"},
	    {"\x01\x23\x45\x67\x89\xab\xcd\xef", 8, "0123456789abcdef"},
	    {"abc", 3, "616263"},
	};
	char out[64];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(out, 'X', sizeof(out));
		hex_encode(v[i].in, v[i].len, out);
		ck_assert_str_eq(out, v[i].want);
		/* Exactly 2 * len digits and a NUL: the byte after is untouched. */
		ck_assert_int_eq(out[2 * v[i].len + 1], 'X');
	}
}
END_TEST

START_TEST(test_encode_every_byte)
{
	unsigned char in[256];
	char out[513], want[3];

	for (int i = 0; i < 256; i++)
		in[i] = (unsigned char)i;
	hex_encode(in, sizeof(in), out);
	ck_assert_uint_eq(strlen(out), 512);
	for (int i = 0; i < 256; i++) {
		snprintf(want, sizeof(want), "%02x", i);
		ck_assert_msg(memcmp(out + 2 * i, want, 2) == 0, "byte %d: %.2s", i, out + 2 * i);
	}
}
END_TEST

START_TEST(test_percent_every_byte)
{
	char out[4], want[4];

	for (int i = 0; i < 256; i++) {
		out[3] = 'X';
		hex_percent((unsigned char)i, out);
		snprintf(want, sizeof(want), "%%%02X", i);
		ck_assert_msg(memcmp(out, want, 3) == 0, "byte %d: %.3s", i, out);
		ck_assert_int_eq(out[3], 'X'); /* three bytes, no NUL */
	}
}
END_TEST

static Suite *hex_suite(void)
{
	Suite *s = suite_create("hex");
	TCase *tc = tcase_create("hex");

	tcase_add_test(tc, test_encode_vectors);
	tcase_add_test(tc, test_encode_every_byte);
	tcase_add_test(tc, test_percent_every_byte);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(hex_suite());
}
