/*
 * Unit tests for the module <-> helper messages: lib/proto.c (framing,
 * strict parsing, proto_get_str/proto_get_long), lib/claims.c (the typed
 * claim wire codec and LIST iteration), and the parse/build halves of
 * lib/introspect.c: introspect_parse_response() and
 * introspect_build_request() (client secret file handling included).
 * Files live in a mkdtemp() directory removed at the end.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "claims.h"
#include "config.h"
#include "introspect.h"
#include "proto.h"
#include "unit.h"

/* String literals with their exact length, embedded NULs included. */
#define S(lit) lit, sizeof(lit) - 1
#define RQ     PROTO_REQUEST_MAGIC "\n"

/* ---- helpers ---------------------------------------------------------- */

static int parse_lit(const char *s, size_t len, struct proto_msg *m)
{
	return proto_parse(PROTO_REQUEST_MAGIC, (const unsigned char *)s, len, m);
}

static void expect_parse_fails(const char *s, size_t len, const char *what)
{
	struct proto_msg m;

	ck_assert_msg(parse_lit(s, len, &m) == -1, "parsed: %s", what);
}

static void expect_field(const struct proto_msg *m, const char *key, const void *val, size_t len)
{
	const struct proto_field *f = proto_get(m, key);

	ck_assert_msg(f != NULL, "no field %s", key);
	ck_assert_msg(f->len == len, "field %s: len %zu, want %zu", key, f->len, len);
	ck_assert_msg(memcmp(f->val, val, len) == 0, "field %s: wrong bytes", key);
}

static void expect_str(const struct proto_msg *m, const char *key, const char *want)
{
	char got[512];

	ck_assert_msg(proto_get_str(m, key, got, sizeof(got)) == 0, "no string %s", key);
	ck_assert_str_eq(got, want);
}

/* One message with the given key/value pairs (NULL-terminated). */
static void build(struct buf *b, const char *magic, const char *const *kv)
{
	proto_begin(b, magic);
	for (; kv[0] != NULL; kv += 2)
		proto_put_str(b, kv[0], kv[1]);
	ck_assert_int_eq(proto_end(b), 0);
}

/* ---- framing ---------------------------------------------------------- */

START_TEST(test_exact_bytes)
{
	struct buf b = BUF_INIT;

	proto_begin(&b, PROTO_REQUEST_MAGIC);
	proto_put_str(&b, "url", "https://x/");
	proto_put_long(&b, "n", -42);
	proto_put(&b, "e", "", 0);
	proto_put_str(&b, "absent", NULL);
	ck_assert_int_eq(proto_end(&b), 0);
	ck_assert_uint_eq(b.len, strlen((char *)b.p));
	ck_assert_str_eq((char *)b.p, RQ "url 10\nhttps://x/\nn 3\n-42\ne 0\n\nend\n");
	buf_free(&b);
}
END_TEST

START_TEST(test_round_trip_binary)
{
	static const char bin[] = "a\0b\nc\n\nend\n\0";
	unsigned char all[256];
	struct buf b = BUF_INIT;
	struct proto_msg m;
	char s[64];
	long v = 0;

	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	proto_begin(&b, PROTO_RESPONSE_MAGIC);
	proto_put(&b, "bin", bin, sizeof(bin) - 1);
	proto_put(&b, "all", all, sizeof(all));
	proto_put(&b, "nl", "\n", 1);
	proto_put(&b, "empty", "", 0);
	proto_put_str(&b, "claim.username", "alice");
	proto_put_long(&b, "big", LONG_MAX);
	proto_put_long(&b, "neg", -7);
	ck_assert_int_eq(proto_end(&b), 0);

	ck_assert_int_eq(proto_parse(PROTO_RESPONSE_MAGIC, b.p, b.len, &m), 0);
	ck_assert_uint_eq(m.n, 7);
	expect_field(&m, "bin", bin, sizeof(bin) - 1);
	expect_field(&m, "all", all, sizeof(all));
	expect_field(&m, "nl", "\n", 1);
	expect_field(&m, "empty", "", 0);
	expect_str(&m, "claim.username", "alice");
	expect_str(&m, "empty", "");
	ck_assert_str_eq(m.f[0].key, "bin");
	ck_assert_str_eq(m.f[6].key, "neg");
	ck_assert_ptr_null(proto_get(&m, "missing"));
	ck_assert_ptr_null(proto_get(&m, "bi"));
	/* Values with NUL are not strings. */
	ck_assert_int_eq(proto_get_str(&m, "bin", s, sizeof(s)), -1);
	/* The output must hold the value and a NUL. */
	ck_assert_int_eq(proto_get_str(&m, "claim.username", s, 5), -1);
	ck_assert_int_eq(proto_get_str(&m, "claim.username", s, 6), 0);
	ck_assert_str_eq(s, "alice");
	ck_assert_int_eq(proto_get_long(&m, "big", LONG_MIN, LONG_MAX, &v), 0);
	ck_assert_int_eq(v, LONG_MAX);
	ck_assert_int_eq(proto_get_long(&m, "neg", -10, 10, &v), 0);
	ck_assert_int_eq(v, -7);
	/* The other magic is refused. */
	ck_assert_int_eq(proto_parse(PROTO_REQUEST_MAGIC, b.p, b.len, &m), -1);
	buf_free(&b);
}
END_TEST

START_TEST(test_minimal)
{
	struct proto_msg m;

	ck_assert_int_eq(parse_lit(S(RQ "end\n"), &m), 0);
	ck_assert_uint_eq(m.n, 0);
	ck_assert_int_eq(parse_lit(S(RQ "k 0\n\nend\n"), &m), 0);
	ck_assert_uint_eq(m.n, 1);
	expect_field(&m, "k", "", 0);
	/* Key characters: a-z 0-9 _ . */
	ck_assert_int_eq(parse_lit(S(RQ "a.b_9 1\nx\nend\n"), &m), 0);
	expect_field(&m, "a.b_9", "x", 1);
}
END_TEST

START_TEST(test_bad_magic)
{
	expect_parse_fails(S(""), "empty");
	expect_parse_fails(S(PROTO_REQUEST_MAGIC), "magic without LF");
	expect_parse_fails(S(PROTO_REQUEST_MAGIC "end\n"), "magic glued to end");
	expect_parse_fails(S("apitoken-introspect-request 5\nend\n"), "version 5");
	/* Version 1 came from a helper that does not finish the drop to helper_user. */
	expect_parse_fails(S("apitoken-introspect-request 1\nend\n"), "version 1");
	/* Version 2 knows neither client_auth nor scope_claim. */
	expect_parse_fails(S("apitoken-introspect-request 2\nend\n"), "version 2");
	/* Version 3 knows no verify: it would POST the token to a userinfo URL. */
	expect_parse_fails(S("apitoken-introspect-request 3\nend\n"), "version 3");
	expect_parse_fails(S("Apitoken-introspect-request 4\nend\n"), "case");
	expect_parse_fails(S(PROTO_RESPONSE_MAGIC "\nend\n"), "response magic");
	expect_parse_fails(S("\n" RQ "end\n"), "leading LF");
	expect_parse_fails(S(PROTO_REQUEST_MAGIC "\r\nend\n"), "CRLF");
}
END_TEST

START_TEST(test_bad_end)
{
	expect_parse_fails(S(RQ), "nothing after magic");
	expect_parse_fails(S(RQ "k 1\na\n"), "missing end");
	expect_parse_fails(S(RQ "k 1\na\nend"), "end without LF");
	expect_parse_fails(S(RQ "k 1\na\nen"), "cut end");
	expect_parse_fails(S(RQ "end\nx"), "trailing byte");
	expect_parse_fails(S(RQ "end\n\n"), "trailing LF");
	expect_parse_fails(S(RQ "end\nend\n"), "two ends");
	expect_parse_fails(S(RQ "end\nk 1\na\n"), "field after end");
	expect_parse_fails(S(RQ "end\n\0"), "trailing NUL");
	expect_parse_fails(S(RQ "END\n"), "END");
}
END_TEST

START_TEST(test_bad_keys)
{
	expect_parse_fails(S(RQ "k 1\na\nk 1\nb\nend\n"), "duplicate key");
	expect_parse_fails(S(RQ "k 1\na\nj 1\nb\nk 1\na\nend\n"), "duplicate key, apart");
	expect_parse_fails(S(RQ "Key 1\na\nend\n"), "uppercase first");
	expect_parse_fails(S(RQ "kEy 1\na\nend\n"), "uppercase inside");
	expect_parse_fails(S(RQ " 1\na\nend\n"), "empty key");
	expect_parse_fails(S(RQ "a-b 1\na\nend\n"), "dash");
	expect_parse_fails(S(RQ "a\tb 1\na\nend\n"), "tab");
	expect_parse_fails(S(RQ "k  1\na\nend\n"), "two spaces");
	expect_parse_fails(S(RQ "k\n1\na\nend\n"), "LF after key");
	expect_parse_fails(S(RQ "k"), "cut key");
	/* 32 characters are fine, 33 are not. */
	{
		struct proto_msg m;

		ck_assert_int_eq(
		    parse_lit(S(RQ "abcdefghijklmnopqrstuvwxyz012345 1\na\nend\n"), &m), 0);
		ck_assert_str_eq(m.f[0].key, "abcdefghijklmnopqrstuvwxyz012345");
	}
	expect_parse_fails(S(RQ "abcdefghijklmnopqrstuvwxyz0123456 1\na\nend\n"), "33-char key");
}
END_TEST

START_TEST(test_bad_lengths)
{
	struct proto_msg m;

	expect_parse_fails(S(RQ "k 01\na\nend\n"), "leading zero");
	expect_parse_fails(S(RQ "k 00\n\nend\n"), "two zeros");
	expect_parse_fails(S(RQ "k \na\nend\n"), "no length");
	expect_parse_fails(S(RQ "k +1\na\nend\n"), "plus");
	expect_parse_fails(S(RQ "k -1\na\nend\n"), "minus");
	expect_parse_fails(S(RQ "k 1x\na\nend\n"), "junk after length");
	expect_parse_fails(S(RQ "k 1 \na\nend\n"), "space after length");
	expect_parse_fails(S(RQ "k 1"), "cut after length");
	expect_parse_fails(S(RQ "k 50\nab\nend\n"), "longer than remaining");
	expect_parse_fails(S(RQ "k 8\nab\nend\n"), "one past the end");
	expect_parse_fails(S(RQ "k 7\nab\nend\n"), "no LF after the value at the end");
	expect_parse_fails(S(RQ "k 2\nabcend\n"), "missing LF after value");
	expect_parse_fails(S(RQ "k 1\nab\nend\n"), "value longer than length");
	expect_parse_fails(S(RQ "k 3\nab\nend\n"), "value shorter than length");
	expect_parse_fails(S(RQ "k 10000000\nend\n"), "8 digits");
	expect_parse_fails(S(RQ "k 131073\nend\n"), "over PROTO_MAX_VALUE");
	/* The length decides: "end" inside a value is just bytes. */
	ck_assert_int_eq(parse_lit(S(RQ "k 8\nab\nend\nx\nend\n"), &m), 0);
	expect_field(&m, "k", "ab\nend\nx", 8);
}
END_TEST

START_TEST(test_max_value)
{
	struct buf b = BUF_INIT;
	struct proto_msg m;
	char *v = calloc(1, PROTO_MAX_VALUE + 1);

	ck_assert_ptr_nonnull(v);
	proto_begin(&b, PROTO_REQUEST_MAGIC);
	proto_put(&b, "v", v, PROTO_MAX_VALUE);
	ck_assert_int_eq(proto_end(&b), 0);
	ck_assert_int_eq(parse_lit((char *)b.p, b.len, &m), 0);
	ck_assert_uint_eq(m.f[0].len, PROTO_MAX_VALUE);
	buf_free(&b);

	proto_begin(&b, PROTO_REQUEST_MAGIC);
	proto_put(&b, "v", v, PROTO_MAX_VALUE + 1);
	ck_assert_int_eq(proto_end(&b), 0);
	ck_assert_int_eq(parse_lit((char *)b.p, b.len, &m), -1);
	buf_free(&b);

	/* Five fields of the largest size are more than a message may be. */
	proto_begin(&b, PROTO_REQUEST_MAGIC);
	for (int i = 0; i < 5; i++) {
		char key[8];
		snprintf(key, sizeof(key), "v%d", i);
		proto_put(&b, key, v, PROTO_MAX_VALUE);
	}
	ck_assert_int_eq(proto_end(&b), 0);
	ck_assert_uint_gt(b.len, PROTO_MAX_MESSAGE);
	ck_assert_int_eq(parse_lit((char *)b.p, b.len, &m), -1);
	buf_free(&b);
	free(v);
}
END_TEST

START_TEST(test_max_fields)
{
	struct buf b = BUF_INIT;
	struct proto_msg m;
	char key[16];

	proto_begin(&b, PROTO_REQUEST_MAGIC);
	for (int i = 0; i < PROTO_MAX_FIELDS; i++) {
		snprintf(key, sizeof(key), "f%d", i);
		proto_put_long(&b, key, i);
	}
	ck_assert_int_eq(proto_end(&b), 0);
	ck_assert_int_eq(parse_lit((char *)b.p, b.len, &m), 0);
	ck_assert_uint_eq(m.n, PROTO_MAX_FIELDS);
	expect_field(&m, "f31", "31", 2);
	buf_free(&b);

	proto_begin(&b, PROTO_REQUEST_MAGIC);
	for (int i = 0; i < PROTO_MAX_FIELDS + 1; i++) {
		snprintf(key, sizeof(key), "f%d", i);
		proto_put_long(&b, key, i);
	}
	ck_assert_int_eq(proto_end(&b), 0);
	ck_assert_int_eq(parse_lit((char *)b.p, b.len, &m), -1);
	buf_free(&b);
}
END_TEST

/* ---- proto_get_long --------------------------------------------------- */

static void long_ok(const char *val, long min, long max, long want)
{
	const char *kv[] = {"n", val, NULL};
	struct buf b = BUF_INIT;
	struct proto_msg m;
	long v = 12345;

	build(&b, PROTO_REQUEST_MAGIC, kv);
	ck_assert_int_eq(parse_lit((char *)b.p, b.len, &m), 0);
	ck_assert_msg(proto_get_long(&m, "n", min, max, &v) == 0, "\"%s\" refused", val);
	ck_assert_int_eq(v, want);
	buf_free(&b);
}

static void long_bad(const char *val, size_t len, long min, long max)
{
	struct buf b = BUF_INIT;
	struct proto_msg m;
	long v = 12345;

	proto_begin(&b, PROTO_REQUEST_MAGIC);
	proto_put(&b, "n", val, len);
	ck_assert_int_eq(proto_end(&b), 0);
	ck_assert_int_eq(parse_lit((char *)b.p, b.len, &m), 0);
	ck_assert_msg(proto_get_long(&m, "n", min, max, &v) == -1, "\"%.*s\" accepted as %ld",
		      (int)len, val, v);
	ck_assert_int_eq(v, 12345);
	buf_free(&b);
}

START_TEST(test_get_long)
{
	struct proto_msg m;
	long v = 12345;

	long_ok("0", 0, 10, 0);
	long_ok("5", 5, 5, 5);
	long_ok("10", 0, 10, 10);
	long_ok("-3", -5, 0, -3);
	long_ok("604800", 0, 604800, 604800);
	long_ok("9223372036854775807", LONG_MIN, LONG_MAX, LONG_MAX);
	long_ok("-9223372036854775807", LONG_MIN, LONG_MAX, -LONG_MAX);
	long_ok("-9223372036854775808", LONG_MIN, LONG_MAX, LONG_MIN);
	long_ok("999999999999999999", LONG_MIN, LONG_MAX, 999999999999999999L);
	/* Bounds. */
	long_bad(S("5"), 6, 10);
	long_bad(S("5"), 0, 4);
	long_bad(S("-1"), 0, 10);
	long_bad(S("11"), 0, 10);
	/* Malformed. */
	long_bad(S(""), LONG_MIN, LONG_MAX);
	long_bad(S("-"), LONG_MIN, LONG_MAX);
	long_bad(S("01"), LONG_MIN, LONG_MAX);
	long_bad(S("00"), LONG_MIN, LONG_MAX);
	long_bad(S("-01"), LONG_MIN, LONG_MAX);
	long_bad(S("-0"), LONG_MIN, LONG_MAX); /* one form per number: 0 is "0" */
	long_bad(S("1x"), LONG_MIN, LONG_MAX);
	long_bad(S("x1"), LONG_MIN, LONG_MAX);
	long_bad(S("+1"), LONG_MIN, LONG_MAX);
	long_bad(S(" 1"), LONG_MIN, LONG_MAX);
	long_bad(S("1 "), LONG_MIN, LONG_MAX);
	long_bad(S("1\0"), LONG_MIN, LONG_MAX);
	long_bad(S("--1"), LONG_MIN, LONG_MAX);
	long_bad(S("1.0"), LONG_MIN, LONG_MAX);
	/* Huge: one past LONG_MAX, 19 and 20 nines, longer than any long. */
	long_bad(S("9223372036854775808"), LONG_MIN, LONG_MAX);
	long_bad(S("9999999999999999999"), LONG_MIN, LONG_MAX);
	long_bad(S("-9999999999999999999"), LONG_MIN, LONG_MAX);
	long_bad(S("99999999999999999999"), LONG_MIN, LONG_MAX);
	long_bad(S("18446744073709551617"), LONG_MIN, LONG_MAX);
	long_bad(S("100000000000000000000000000000"), LONG_MIN, LONG_MAX);
	/* Absent. */
	ck_assert_int_eq(parse_lit(S(RQ "end\n"), &m), 0);
	ck_assert_int_eq(proto_get_long(&m, "n", LONG_MIN, LONG_MAX, &v), -1);
	ck_assert_int_eq(v, 12345);
}
END_TEST

/* ---- claims codec ----------------------------------------------------- */

/* Encodes c, checks the exact wire bytes, decodes them and compares. */
static void claim_round_trip(const struct claim *c, const char *wire, size_t wirelen)
{
	struct buf b = BUF_INIT;
	struct claim d;

	ck_assert_int_eq(claim_encode(c, &b), 0);
	ck_assert_uint_eq(b.len, wirelen);
	ck_assert_int_eq(memcmp(b.p, wire, wirelen), 0);
	ck_assert_int_eq(claim_decode(b.p, b.len, &d), 0);
	ck_assert_int_eq(d.type, c->type);
	if (c->type == CLAIM_STRING || c->type == CLAIM_LIST) {
		ck_assert_ptr_nonnull(d.s);
		ck_assert_uint_eq(d.len, c->len);
		ck_assert_int_eq(memcmp(d.s, c->s, c->len), 0);
		ck_assert_int_eq(d.s[d.len], '\0');
	} else {
		ck_assert_int_eq(d.n, c->n);
	}
	free(d.s);
	buf_free(&b);
}

START_TEST(test_claim_codec)
{
	struct claim c = {0};
	struct buf nl = BUF_INIT;

	ck_assert_int_eq(claim_set_string(&c, S("al\0ice\n")), 0);
	c.type = CLAIM_STRING;
	claim_round_trip(&c, S("sal\0ice\n"));
	ck_assert_int_eq(claim_set_string(&c, S("")), 0);
	claim_round_trip(&c, S("s"));
	free(c.s);
	c.s = NULL;

	c.type = CLAIM_INT;
	c.n = 1700000000;
	claim_round_trip(&c, S("i1700000000"));
	c.n = 0;
	claim_round_trip(&c, S("i0"));
	c.n = -42;
	claim_round_trip(&c, S("i-42"));
	c.n = LLONG_MAX;
	claim_round_trip(&c, S("i9223372036854775807"));
	c.n = LLONG_MIN;
	claim_round_trip(&c, S("i-9223372036854775808"));

	c.type = CLAIM_BOOL;
	c.n = 1;
	claim_round_trip(&c, S("b1"));
	c.n = 0;
	claim_round_trip(&c, S("b0"));

	c.type = CLAIM_OTHER;
	c.n = 0;
	claim_round_trip(&c, S("o"));

	ck_assert_int_eq(claim_list_add(&nl, S("ssh")), 0);
	ck_assert_int_eq(claim_list_add(&nl, S("")), 0);
	ck_assert_int_eq(claim_list_add(&nl, S("a,b 1:c,")), 0);
	ck_assert_int_eq(claim_list_add(&nl, S("x\0y")), 0);
	ck_assert_int_eq(claim_set_string(&c, (char *)nl.p, nl.len), 0);
	c.type = CLAIM_LIST;
	claim_round_trip(&c, S("l3:ssh,0:,8:a,b 1:c,,3:x\0y,"));
	ck_assert_int_eq(claim_set_string(&c, S("")), 0);
	claim_round_trip(&c, S("l"));
	free(c.s);
	buf_free(&nl);

	/* Nothing to encode for an absent claim. */
	memset(&c, 0, sizeof(c));
	{
		struct buf b = BUF_INIT;
		ck_assert_int_eq(claim_encode(&c, &b), -1);
		buf_free(&b);
	}
}
END_TEST

static void decode_bad(const char *p, size_t len)
{
	struct claim d;

	ck_assert_msg(claim_decode((const unsigned char *)p, len, &d) == -1,
		      "decoded \"%.*s\" as type %d", (int)len, p, d.type);
	free(d.s);
}

static void decode_int(const char *p, size_t len, long long want)
{
	struct claim d;

	ck_assert_msg(claim_decode((const unsigned char *)p, len, &d) == 0, "refused \"%.*s\"",
		      (int)len, p);
	ck_assert_int_eq(d.type, CLAIM_INT);
	ck_assert(d.n == want);
}

START_TEST(test_claim_decode_rejects)
{
	struct claim d;

	/* Tags. */
	decode_bad(S(""));
	decode_bad(S("x"));
	decode_bad(S("S"));
	decode_bad(S("I1"));
	decode_bad(S("\0"));
	decode_bad(S(" s"));
	/* Integers. */
	decode_bad(S("i"));
	decode_bad(S("i-"));
	decode_bad(S("i00"));
	decode_bad(S("i007"));
	decode_bad(S("i-0"));
	decode_bad(S("i-01"));
	decode_bad(S("i1a"));
	decode_bad(S("ia1"));
	decode_bad(S("i 1"));
	decode_bad(S("i1 "));
	decode_bad(S("i+1"));
	decode_bad(S("i1.5"));
	decode_bad(S("i1e3"));
	decode_bad(S("i1\0"));
	decode_bad(S("i9223372036854775808"));
	decode_bad(S("i-9223372036854775809"));
	decode_bad(S("i99999999999999999999"));
	decode_bad(S("i00000000000000000000001"));
	decode_int(S("i0"), 0);
	decode_int(S("i-1"), -1);
	decode_int(S("i9223372036854775807"), LLONG_MAX);
	decode_int(S("i-9223372036854775808"), LLONG_MIN);
	/* Booleans. */
	decode_bad(S("b"));
	decode_bad(S("b2"));
	decode_bad(S("bx"));
	decode_bad(S("b00"));
	decode_bad(S("b10"));
	decode_bad(S("btrue"));
	/* Other: no payload. */
	decode_bad(S("o1"));
	decode_bad(S("onull"));
	decode_bad(S("o\0"));
	/* Lists: each item "LEN:bytes,". */
	decode_bad(S("l1:a"));
	decode_bad(S("l1:ab,"));
	decode_bad(S("l2:a,"));
	decode_bad(S("l01:a,"));
	decode_bad(S("la:b,"));
	decode_bad(S("l:a,"));
	decode_bad(S("l1;a,"));
	decode_bad(S("l1:a,x"));
	decode_bad(S("l1:a,1:b"));
	decode_bad(S("l-1:a,"));
	decode_bad(S("l 1:a,"));
	decode_bad(S("l1:a;"));
	decode_bad(S("l1"));
	decode_bad(S("l1:"));
	decode_bad(S("l1234567890:a,"));
	decode_bad(S("l4294967297:a,"));
	/* The accepted forms next to them. */
	ck_assert_int_eq(claim_decode((const unsigned char *)S("l0:,1:a,"), &d), 0);
	ck_assert_int_eq(d.type, CLAIM_LIST);
	ck_assert_uint_eq(d.len, 7);
	free(d.s);
	ck_assert_int_eq(claim_decode((const unsigned char *)S("o"), &d), 0);
	ck_assert_int_eq(d.type, CLAIM_OTHER);
	ck_assert_int_eq(claim_decode((const unsigned char *)S("b0"), &d), 0);
	ck_assert_int_eq(d.type, CLAIM_BOOL);
	ck_assert_int_eq(d.n, 0);
}
END_TEST

START_TEST(test_claim_list_next)
{
	struct claim c;
	const char *item;
	size_t len, pos = 0;

	ck_assert_int_eq(claim_decode((const unsigned char *)S("l10:10.0.0.0/8,0:,3:a\0b,"), &c),
			 0);
	ck_assert(claim_list_next(&c, &pos, &item, &len));
	ck_assert_uint_eq(len, 10);
	ck_assert_int_eq(memcmp(item, "10.0.0.0/8", 10), 0);
	ck_assert(claim_list_next(&c, &pos, &item, &len));
	ck_assert_uint_eq(len, 0);
	ck_assert(claim_list_next(&c, &pos, &item, &len));
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(memcmp(item, "a\0b", 3), 0);
	ck_assert_uint_eq(pos, c.len);
	ck_assert(!claim_list_next(&c, &pos, &item, &len));
	ck_assert(!claim_list_next(&c, &pos, &item, &len));
	ck_assert_uint_eq(pos, c.len);
	free(c.s);

	/* An empty list has no items. */
	ck_assert_int_eq(claim_decode((const unsigned char *)S("l"), &c), 0);
	pos = 0;
	ck_assert(!claim_list_next(&c, &pos, &item, &len));
	free(c.s);

	/* Other types are not lists, whatever their bytes. */
	ck_assert_int_eq(claim_decode((const unsigned char *)S("s1:a,"), &c), 0);
	pos = 0;
	ck_assert(!claim_list_next(&c, &pos, &item, &len));
	free(c.s);

	/* A LIST built by hand with junk stops there, short of the end. */
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(claim_set_string(&c, S("1:a,zz")), 0);
	c.type = CLAIM_LIST;
	pos = 0;
	ck_assert(claim_list_next(&c, &pos, &item, &len));
	ck_assert_uint_eq(len, 1);
	ck_assert(!claim_list_next(&c, &pos, &item, &len));
	ck_assert_uint_eq(pos, 4);
	ck_assert_uint_ne(pos, c.len);
	free(c.s);
}
END_TEST

START_TEST(test_claims_free)
{
	struct claims cl;

	memset(&cl, 0, sizeof(cl));
	ck_assert_int_eq(claim_set_string(&cl.c[CLAIM_USERNAME], S("alice")), 0);
	cl.c[CLAIM_USERNAME].type = CLAIM_STRING;
	cl.c[CLAIM_ACTIVE].type = CLAIM_BOOL;
	cl.c[CLAIM_ACTIVE].n = 1;
	claims_free(&cl);
	for (int i = 0; i < CLAIM_COUNT; i++) {
		ck_assert_int_eq(cl.c[i].type, CLAIM_ABSENT);
		ck_assert_ptr_null(cl.c[i].s);
	}
	claims_free(&cl); /* twice is fine */
	ck_assert_str_eq(claim_names[CLAIM_ACTIVE], "active");
	ck_assert_str_eq(claim_names[CLAIM_USERNAME], "username");
	ck_assert_str_eq(claim_names[CLAIM_IP_RANGES], "ip_ranges");
}
END_TEST

/* ---- claims_put / claims_get: the "claim.NAME" fields ------------------ */

/* Every claim, of every type: what claims_put writes, claims_get gives back. */
START_TEST(test_claims_put_get_round_trip)
{
	struct claims in, out;
	struct buf b = BUF_INIT, nl = BUF_INIT;
	struct proto_msg m;

	memset(&in, 0, sizeof(in));
	in.c[CLAIM_ACTIVE].type = CLAIM_BOOL;
	in.c[CLAIM_ACTIVE].n = 1;
	in.c[CLAIM_EXP].type = CLAIM_INT;
	in.c[CLAIM_EXP].n = 1700000000;
	in.c[CLAIM_NBF].type = CLAIM_INT;
	in.c[CLAIM_NBF].n = -1;
	ck_assert_int_eq(claim_set_string(&in.c[CLAIM_USERNAME], S("al\0ice")), 0);
	in.c[CLAIM_USERNAME].type = CLAIM_STRING;
	ck_assert_int_eq(claim_set_string(&in.c[CLAIM_SCOPE], S("")), 0);
	in.c[CLAIM_SCOPE].type = CLAIM_STRING;
	in.c[CLAIM_CLIENT_ID].type = CLAIM_OTHER;
	ck_assert_int_eq(claim_list_add(&nl, S("a")), 0);
	ck_assert_int_eq(claim_list_add(&nl, S("b,2:c,")), 0);
	ck_assert_int_eq(claim_set_string(&in.c[CLAIM_AUD], (char *)nl.p, nl.len), 0);
	in.c[CLAIM_AUD].type = CLAIM_LIST;
	/* CLAIM_ISS absent: no field, and absent again after the trip. */
	ck_assert_int_eq(claim_set_string(&in.c[CLAIM_IP_RANGES], S("")), 0);
	in.c[CLAIM_IP_RANGES].type = CLAIM_LIST;
	ck_assert_int_eq(claim_set_string(&in.c[CLAIM_TOKEN_TYPE], S("Bearer")), 0);
	in.c[CLAIM_TOKEN_TYPE].type = CLAIM_STRING;

	proto_begin(&b, PROTO_RESPONSE_MAGIC);
	ck_assert_int_eq(claims_put(&b, &in), 0);
	ck_assert_int_eq(proto_end(&b), 0);
	ck_assert_int_eq(proto_parse(PROTO_RESPONSE_MAGIC, b.p, b.len, &m), 0);
	ck_assert_uint_eq(m.n, CLAIM_COUNT - 1);
	/* The exact wire form of the fields. */
	expect_field(&m, "claim.active", S("b1"));
	expect_field(&m, "claim.exp", S("i1700000000"));
	expect_field(&m, "claim.username", S("sal\0ice"));
	expect_field(&m, "claim.aud", S("l1:a,6:b,2:c,,"));
	expect_field(&m, "claim.ip_ranges", S("l"));
	expect_field(&m, "claim.token_type", S("sBearer"));
	ck_assert_ptr_null(proto_get(&m, "claim.iss"));

	ck_assert_int_eq(claims_get(&m, &out), 0);
	for (int i = 0; i < CLAIM_COUNT; i++) {
		ck_assert_int_eq(out.c[i].type, in.c[i].type);
		ck_assert(out.c[i].n == in.c[i].n);
		ck_assert_uint_eq(out.c[i].len, in.c[i].len);
		if (in.c[i].s != NULL)
			ck_assert_mem_eq(out.c[i].s, in.c[i].s, in.c[i].len);
	}
	claims_free(&in);
	claims_free(&out);
	buf_free(&nl);
	buf_free(&b);

	/* No claims: no fields, and an empty set back. */
	memset(&in, 0, sizeof(in));
	proto_begin(&b, PROTO_RESPONSE_MAGIC);
	ck_assert_int_eq(claims_put(&b, &in), 0);
	ck_assert_int_eq(proto_end(&b), 0);
	ck_assert_int_eq(proto_parse(PROTO_RESPONSE_MAGIC, b.p, b.len, &m), 0);
	ck_assert_uint_eq(m.n, 0);
	ck_assert_int_eq(claims_get(&m, &out), 0);
	for (int i = 0; i < CLAIM_COUNT; i++)
		ck_assert_int_eq(out.c[i].type, CLAIM_ABSENT);
	buf_free(&b);
}
END_TEST

/* claims_get over a message of the given key/value pairs. */
static int get_claims(const char *const *kv, struct claims *cl)
{
	struct buf b = BUF_INIT;
	struct proto_msg m;
	int r;

	build(&b, PROTO_RESPONSE_MAGIC, kv);
	ck_assert_int_eq(proto_parse(PROTO_RESPONSE_MAGIC, b.p, b.len, &m), 0);
	r = claims_get(&m, cl);
	buf_free(&b);
	return r;
}

/*
 * Names: a key longer than the protocol allows never reaches claims_get (the
 * message does not parse), and a name that is no claim's is not one.
 */
START_TEST(test_claims_name_too_long)
{
	struct buf b = BUF_INIT;
	struct proto_msg m;
	struct claims cl;
	char key[PROTO_KEY_MAX + 2];

	/* "claim." and 26 bytes: the longest key; one more and the message is refused. */
	snprintf(key, sizeof(key), "claim.%.*s", PROTO_KEY_MAX - 6,
		 "username_with_a_long_tail_xyz");
	ck_assert_uint_eq(strlen(key), PROTO_KEY_MAX);
	build(&b, PROTO_RESPONSE_MAGIC, (const char *const[]){key, "sbob", NULL});
	ck_assert_int_eq(proto_parse(PROTO_RESPONSE_MAGIC, b.p, b.len, &m), 0);
	ck_assert_int_eq(claims_get(&m, &cl), 0);
	for (int i = 0; i < CLAIM_COUNT; i++)
		ck_assert_int_eq(cl.c[i].type, CLAIM_ABSENT);
	buf_free(&b);
	strcat(key, "z");
	build(&b, PROTO_RESPONSE_MAGIC, (const char *const[]){key, "sbob", NULL});
	ck_assert_int_eq(proto_parse(PROTO_RESPONSE_MAGIC, b.p, b.len, &m), -1);
	buf_free(&b);

	/* Near misses of a claim's name are other fields, whatever they hold. */
	ck_assert_int_eq(get_claims((const char *const[]){"claim.usernamex", "sbob", "claim.user",
							  "sbob", "claim.", "sbob", "username",
							  "sbob", "claim.exp.x", "i1", NULL},
				    &cl),
			 0);
	for (int i = 0; i < CLAIM_COUNT; i++)
		ck_assert_int_eq(cl.c[i].type, CLAIM_ABSENT);
	/* Every claim's key fits the protocol. */
	for (int i = 0; i < CLAIM_COUNT; i++)
		ck_assert_uint_le(strlen("claim.") + strlen(claim_names[i]), PROTO_KEY_MAX);
}
END_TEST

/* A claim twice is a message that does not parse; a malformed one fails claims_get whole. */
START_TEST(test_claims_duplicate_and_malformed)
{
	struct claims cl;

	expect_parse_fails(S(RQ "claim.exp 2\ni1\nclaim.exp 2\ni2\nend\n"), "claim twice");
	expect_parse_fails(S(RQ "claim.username 4\nsbob\nclaim.username 4\nsbob\nend\n"),
			   "same claim, same value, twice");

	ck_assert_int_eq(get_claims((const char *const[]){"claim.active", "b1", "claim.username",
							  "sbob", "claim.exp", "i01", NULL},
				    &cl),
			 -1);
	for (int i = 0; i < CLAIM_COUNT; i++) {
		ck_assert_int_eq(cl.c[i].type, CLAIM_ABSENT);
		ck_assert_ptr_null(cl.c[i].s);
	}
	ck_assert_int_eq(get_claims((const char *const[]){"claim.aud", "l3:ab,", NULL}, &cl), -1);
	ck_assert_int_eq(get_claims((const char *const[]){"claim.active", "x", NULL}, &cl), -1);
}
END_TEST

/* ---- introspect_parse_response ---------------------------------------- */

static enum apt_rc parse_resp(const char *const *kv, struct introspect_answer *ans,
			      const char **reason)
{
	struct buf b = BUF_INIT;
	enum apt_rc rc;

	build(&b, PROTO_RESPONSE_MAGIC, kv);
	rc = introspect_parse_response(b.p, b.len, ans, reason);
	buf_free(&b);
	return rc;
}

static void expect_resp_bad(const char *const *kv, const char *what)
{
	struct introspect_answer ans;
	const char *reason = NULL;
	enum apt_rc rc = parse_resp(kv, &ans, &reason);

	ck_assert_msg(rc == APT_UNAVAIL, "%s: rc %d", what, rc);
	ck_assert_msg(reason != NULL && strcmp(reason, "bad_response") == 0, "%s: reason %s", what,
		      reason ? reason : "(null)");
	for (int i = 0; i < CLAIM_COUNT; i++) {
		ck_assert_int_eq(ans.claims.c[i].type, CLAIM_ABSENT);
		ck_assert_ptr_null(ans.claims.c[i].s);
	}
}

START_TEST(test_resp_ok)
{
	static const char *const kv[] = {
	    "status",
	    "ok",
	    "http_status",
	    "200",
	    "claim.active",
	    "b1",
	    "claim.exp",
	    "i1700000000",
	    "claim.username",
	    "salice",
	    "claim.scope",
	    "sgit rsync",
	    "claim.client_id",
	    "o",
	    "claim.aud",
	    "l3:ssh,4:git2,",
	    "claim.ip_ranges",
	    "l10:10.0.0.0/8,",
	    "claim.unknown",
	    "whatever",
	    NULL,
	};
	struct introspect_answer ans;
	const char *reason = NULL;
	const struct claim *c;

	ck_assert_int_eq(parse_resp(kv, &ans, &reason), APT_OK);
	ck_assert_str_eq(reason, "ok");
	ck_assert_int_eq(ans.http_status, 200);
	ck_assert_int_eq(ans.retry_after, -1);
	c = ans.claims.c;
	ck_assert_int_eq(c[CLAIM_ACTIVE].type, CLAIM_BOOL);
	ck_assert_int_eq(c[CLAIM_ACTIVE].n, 1);
	ck_assert_int_eq(c[CLAIM_EXP].type, CLAIM_INT);
	ck_assert(c[CLAIM_EXP].n == 1700000000);
	ck_assert_int_eq(c[CLAIM_NBF].type, CLAIM_ABSENT);
	ck_assert_int_eq(c[CLAIM_USERNAME].type, CLAIM_STRING);
	ck_assert_str_eq(c[CLAIM_USERNAME].s, "alice");
	ck_assert_uint_eq(c[CLAIM_USERNAME].len, 5);
	ck_assert_int_eq(c[CLAIM_SCOPE].type, CLAIM_STRING);
	ck_assert_str_eq(c[CLAIM_SCOPE].s, "git rsync");
	ck_assert_int_eq(c[CLAIM_CLIENT_ID].type, CLAIM_OTHER);
	ck_assert_int_eq(c[CLAIM_AUD].type, CLAIM_LIST);
	ck_assert_uint_eq(c[CLAIM_AUD].len, 13);
	ck_assert_int_eq(c[CLAIM_ISS].type, CLAIM_ABSENT);
	ck_assert_int_eq(c[CLAIM_IP_RANGES].type, CLAIM_LIST);
	ck_assert_str_eq(c[CLAIM_IP_RANGES].s, "10:10.0.0.0/8,");
	claims_free(&ans.claims);
}
END_TEST

START_TEST(test_resp_ok_inactive)
{
	static const char *const kv[] = {"status", "ok", "claim.active", "b0", NULL};
	struct introspect_answer ans;
	const char *reason = NULL;

	ck_assert_int_eq(parse_resp(kv, &ans, &reason), APT_OK);
	ck_assert_str_eq(reason, "ok");
	ck_assert_int_eq(ans.claims.c[CLAIM_ACTIVE].type, CLAIM_BOOL);
	ck_assert_int_eq(ans.claims.c[CLAIM_ACTIVE].n, 0);
	ck_assert_int_eq(ans.http_status, 0);
	claims_free(&ans.claims);
}
END_TEST

START_TEST(test_resp_bad_claim)
{
	/* Decoded claims before the bad one are freed, not leaked. */
	static const char *const kv1[] = {
	    "status", "ok", "claim.username", "salice", "claim.scope", "sgit", "claim.ip_ranges",
	    "l1:a",   NULL,
	};
	static const char *const kv2[] = {"status", "ok", "claim.active", "b2", NULL};
	static const char *const kv3[] = {"status", "ok", "claim.exp", "i017", NULL};
	static const char *const kv4[] = {"status", "ok", "claim.aud", "", NULL};

	expect_resp_bad(kv1, "bad list");
	expect_resp_bad(kv2, "b2");
	expect_resp_bad(kv3, "i017");
	expect_resp_bad(kv4, "empty claim value");
}
END_TEST

START_TEST(test_resp_error_words)
{
	static const char *const words[] = {
	    "connect_failed", "timeout",      "tls_failed", "http_status",
	    "client_auth",    "rate_limited", "redirect",   "body_too_large",
	    "bad_json",	      "bad_request",  "internal",
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		const char *kv[] = {"status", "error", "error", words[i], NULL};
		struct introspect_answer ans;
		const char *reason = NULL;

		ck_assert_int_eq(parse_resp(kv, &ans, &reason), APT_UNAVAIL);
		ck_assert_ptr_nonnull(reason);
		ck_assert_str_eq(reason, words[i]);
		ck_assert_int_eq(ans.claims.c[CLAIM_ACTIVE].type, CLAIM_ABSENT);
		ck_assert_int_eq(ans.http_status, 0);
		ck_assert_int_eq(ans.retry_after, -1);
	}
}
END_TEST

START_TEST(test_resp_error_unknown)
{
	static const char *const kv1[] = {"status", "error", "error", "nope", NULL};
	static const char *const kv2[] = {"status", "error", NULL};
	static const char *const kv3[] = {"status", "error", "error", "", NULL};
	static const char *const kv4[] = {"status", "error", "error", "TIMEOUT", NULL};
	static const char *const kv5[] = {"status", "error", "error", "timeout ", NULL};
	static const char *const kv6[] = {"status", "error", "error",
					  "connect_failed_and_a_very_long_tail", NULL};
	/* An error never carries claims to the caller, even if sent. */
	static const char *const kv7[] = {"status",	  "error", "error", "xyz",
					  "claim.active", "b1",	   NULL};

	expect_resp_bad(kv1, "unknown word");
	expect_resp_bad(kv2, "no error word");
	expect_resp_bad(kv3, "empty error word");
	expect_resp_bad(kv4, "uppercase word");
	expect_resp_bad(kv5, "word with a space");
	expect_resp_bad(kv6, "long word");
	expect_resp_bad(kv7, "unknown word with claims");
}
END_TEST

START_TEST(test_resp_garbage)
{
	static const char *const kv1[] = {"status", "maybe", NULL};
	static const char *const kv2[] = {"claim.active", "b1", NULL};
	static const char *const kv3[] = {"status", "OK", "claim.active", "b1", NULL};
	static const char *const kv4[] = {"status", "ok ", "claim.active", "b1", NULL};
	struct introspect_answer ans;
	const char *reason = NULL;
	struct buf b = BUF_INIT;

	expect_resp_bad(kv1, "status maybe");
	expect_resp_bad(kv2, "no status");
	expect_resp_bad(kv3, "status OK");
	expect_resp_bad(kv4, "status with space");

	ck_assert_int_eq(
	    introspect_parse_response((const unsigned char *)S("hello"), &ans, &reason),
	    APT_UNAVAIL);
	ck_assert_str_eq(reason, "bad_response");
	reason = NULL;
	ck_assert_int_eq(introspect_parse_response((const unsigned char *)"", 0, &ans, &reason),
			 APT_UNAVAIL);
	ck_assert_str_eq(reason, "bad_response");
	ck_assert_int_eq(ans.retry_after, -1);

	/* A request is not a response. */
	{
		static const char *const kv[] = {"status", "ok", "claim.active", "b1", NULL};
		build(&b, PROTO_REQUEST_MAGIC, kv);
		reason = NULL;
		ck_assert_int_eq(introspect_parse_response(b.p, b.len, &ans, &reason), APT_UNAVAIL);
		ck_assert_str_eq(reason, "bad_response");
		buf_free(&b);
	}
	/* Valid, then one trailing byte. */
	{
		static const char *const kv[] = {"status", "ok", "claim.active", "b1", NULL};
		build(&b, PROTO_RESPONSE_MAGIC, kv);
		buf_append(&b, "\n", 1);
		reason = NULL;
		ck_assert_int_eq(introspect_parse_response(b.p, b.len, &ans, &reason), APT_UNAVAIL);
		ck_assert_str_eq(reason, "bad_response");
		ck_assert_int_eq(ans.claims.c[CLAIM_ACTIVE].type, CLAIM_ABSENT);
		buf_free(&b);
	}
}
END_TEST

START_TEST(test_resp_http_status)
{
	static const char *const kv1[] = {"status",	  "error",	 "error",
					  "rate_limited", "http_status", "429",
					  "retry_after",  "120",	 NULL};
	static const char *const kv2[] = {"status",	 "error", "error", "http_status",
					  "http_status", "503",	  NULL};
	static const char *const kv3[] = {"status",	 "error",  "error", "rate_limited",
					  "retry_after", "604800", NULL};
	static const char *const kv4[] = {"status",	 "error", "error", "rate_limited",
					  "retry_after", "0",	  NULL};
	struct introspect_answer ans;
	const char *reason = NULL;

	ck_assert_int_eq(parse_resp(kv1, &ans, &reason), APT_UNAVAIL);
	ck_assert_str_eq(reason, "rate_limited");
	ck_assert_int_eq(ans.http_status, 429);
	ck_assert_int_eq(ans.retry_after, 120);

	ck_assert_int_eq(parse_resp(kv2, &ans, &reason), APT_UNAVAIL);
	ck_assert_str_eq(reason, "http_status");
	ck_assert_int_eq(ans.http_status, 503);
	ck_assert_int_eq(ans.retry_after, -1);

	ck_assert_int_eq(parse_resp(kv3, &ans, &reason), APT_UNAVAIL);
	ck_assert_int_eq(ans.retry_after, 604800);
	ck_assert_int_eq(ans.http_status, 0);
	ck_assert_int_eq(parse_resp(kv4, &ans, &reason), APT_UNAVAIL);
	ck_assert_int_eq(ans.retry_after, 0);
}
END_TEST

START_TEST(test_resp_http_status_bad)
{
	static const char *const bad_status[] = {"99", "1000", "abc", "", "0200", "-200", "2e2"};
	static const char *const bad_retry[] = {"-1", "604801", "1.5", "", "01", "x"};

	for (size_t i = 0; i < sizeof(bad_status) / sizeof(bad_status[0]); i++) {
		const char *kv[] = {"status",	   "ok", "claim.active", "b1", "http_status",
				    bad_status[i], NULL};
		expect_resp_bad(kv, bad_status[i]);
	}
	for (size_t i = 0; i < sizeof(bad_retry) / sizeof(bad_retry[0]); i++) {
		const char *kv[] = {"status",	   "error",	 "error", "rate_limited",
				    "retry_after", bad_retry[i], NULL};
		expect_resp_bad(kv, bad_retry[i]);
	}
	{
		const char *kv[] = {"status", "ok", "http_status", "100", NULL};
		struct introspect_answer ans;
		const char *reason;

		ck_assert_int_eq(parse_resp(kv, &ans, &reason), APT_OK);
		ck_assert_int_eq(ans.http_status, 100);
		claims_free(&ans.claims);
	}
	{
		const char *kv[] = {"status", "ok", "http_status", "999", NULL};
		struct introspect_answer ans;
		const char *reason;

		ck_assert_int_eq(parse_resp(kv, &ans, &reason), APT_OK);
		ck_assert_int_eq(ans.http_status, 999);
		claims_free(&ans.claims);
	}
}
END_TEST

/* ---- introspect_build_request ----------------------------------------- */

static char empty_conf[PATH_MAX];

/* Loads a config from args after config=<an empty file>. */
static enum apt_rc load(struct apt_config *cfg, const char *const *args, char *err, size_t errlen)
{
	const char *argv[32];
	char cfgarg[PATH_MAX + 8];
	int argc = 0;

	snprintf(cfgarg, sizeof(cfgarg), "config=%s", empty_conf);
	argv[argc++] = cfgarg;
	for (; *args != NULL; args++) {
		ck_assert_int_lt(argc, 32);
		argv[argc++] = *args;
	}
	return config_load(cfg, argc, argv, err, errlen);
}

/* Builds a request for cfg and token; on APT_OK parses it into m (pointing into req). */
static enum apt_rc build_req(const char *const *args, const char *token, size_t toklen,
			     struct buf *req, struct proto_msg *m, char *err, size_t errlen)
{
	struct apt_config cfg;
	enum apt_rc rc = load(&cfg, args, err, errlen);

	ck_assert_msg(rc == APT_OK, "config: %s", err);
	rc = introspect_build_request(&cfg, token, toklen, req, err, errlen);
	config_free(&cfg);
	if (rc == APT_OK)
		ck_assert_int_eq(proto_parse(PROTO_REQUEST_MAGIC, req->p, req->len, m), 0);
	return rc;
}

START_TEST(test_build_full)
{
	char secret[PATH_MAX], cert[PATH_MAX], key[PATH_MAX], a1[PATH_MAX + 32], a2[PATH_MAX + 32],
	    a3[PATH_MAX + 32], err[512] = "";
	struct buf req = BUF_INIT;
	struct proto_msg m;
	long v = 0;

	unit_write(secret, "secret", S("s3cr3t\n"), 0600);
	unit_write(cert, "cert.pem", S("-----CERT-----\n"), 0644);
	unit_write(key, "key.pem", S("-----KEY-----\n"), 0600);
	snprintf(a1, sizeof(a1), "client_secret_file=%s", secret);
	snprintf(a2, sizeof(a2), "tls_cert_file=%s", cert);
	snprintf(a3, sizeof(a3), "tls_key_file=%s", key);
	{
		const char *args[] = {"introspection_url=https://idp.example/introspect",
				      "client_id=pam-host",
				      a1,
				      a2,
				      a3,
				      "ca_file=/etc/ssl/certs/ca-certificates.crt",
				      "proxy=http://proxy.example:3128",
				      "connect_timeout_ms=1500",
				      "timeout_ms=4000",
				      "username_claim=sub",
				      "ip_ranges_claim=ips",
				      "scope_claim=authz.scopes",
				      NULL};
		ck_assert_int_eq(build_req(args, S("ucat_a\0b\n"), &req, &m, err, sizeof(err)),
				 APT_OK);
	}
	expect_str(&m, "url", "https://idp.example/introspect");
	expect_field(&m, "token", "ucat_a\0b\n", 9);
	expect_str(&m, "client_id", "pam-host");
	expect_field(&m, "client_secret", "s3cr3t", 6);
	expect_str(&m, "client_auth", "basic");
	expect_field(&m, "tls_cert", "-----CERT-----\n", 15);
	expect_field(&m, "tls_key", "-----KEY-----\n", 14);
	expect_str(&m, "ca_file", "/etc/ssl/certs/ca-certificates.crt");
	expect_str(&m, "proxy", "http://proxy.example:3128");
	ck_assert_int_eq(proto_get_long(&m, "connect_timeout_ms", 0, LONG_MAX, &v), 0);
	ck_assert_int_eq(v, 1500);
	/* The helper's own timeout ends 50 ms before the module's hard kill. */
	ck_assert_int_eq(proto_get_long(&m, "timeout_ms", 0, LONG_MAX, &v), 0);
	ck_assert_int_eq(v, 3950);
	expect_str(&m, "username_claim", "sub");
	expect_str(&m, "ip_ranges_claim", "ips");
	expect_str(&m, "scope_claim", "authz.scopes");
	expect_str(&m, "verify", "introspection");
	ck_assert_uint_eq(m.n, 15);
	buf_free(&req);
}
END_TEST

START_TEST(test_build_defaults)
{
	const char *args[] = {"introspection_url=http://127.0.0.1:8080/introspect", NULL};
	char err[512] = "";
	struct buf req = BUF_INIT;
	struct proto_msg m;
	long v = 0;

	ck_assert_int_eq(build_req(args, S("ucat_x"), &req, &m, err, sizeof(err)), APT_OK);
	expect_str(&m, "url", "http://127.0.0.1:8080/introspect");
	expect_str(&m, "token", "ucat_x");
	ck_assert_ptr_null(proto_get(&m, "client_id"));
	ck_assert_ptr_null(proto_get(&m, "client_secret"));
	ck_assert_ptr_null(proto_get(&m, "tls_cert"));
	ck_assert_ptr_null(proto_get(&m, "tls_key"));
	ck_assert_ptr_null(proto_get(&m, "ca_file"));
	ck_assert_ptr_null(proto_get(&m, "proxy"));
	ck_assert_int_eq(proto_get_long(&m, "connect_timeout_ms", 0, LONG_MAX, &v), 0);
	ck_assert_int_eq(v, 2000);
	ck_assert_int_eq(proto_get_long(&m, "timeout_ms", 0, LONG_MAX, &v), 0);
	ck_assert_int_eq(v, 4950);
	expect_str(&m, "username_claim", "username");
	expect_str(&m, "ip_ranges_claim", "allowed_ip_ranges");
	/* No credentials: the helper is told to send none. */
	expect_str(&m, "client_auth", "none");
	expect_str(&m, "scope_claim", "scope");
	/* Unset verify is introspection, said so to the helper. */
	expect_str(&m, "verify", "introspection");
	ck_assert_uint_eq(m.n, 9);
	buf_free(&req);
}
END_TEST

/* verify = userinfo: its URL, the word, no credentials; introspection_url is not sent. */
START_TEST(test_build_userinfo)
{
	const char *args[] = {"verify=userinfo", "userinfo_url=https://api.example/1.3/account",
			      "username_claim=account.username", NULL};
	char err[512] = "";
	struct buf req = BUF_INIT;
	struct proto_msg m;

	ck_assert_int_eq(build_req(args, S("ucat_x"), &req, &m, err, sizeof(err)), APT_OK);
	expect_str(&m, "verify", "userinfo");
	expect_str(&m, "url", "https://api.example/1.3/account");
	expect_str(&m, "token", "ucat_x");
	expect_str(&m, "client_auth", "none");
	expect_str(&m, "username_claim", "account.username");
	ck_assert_ptr_null(proto_get(&m, "client_id"));
	ck_assert_ptr_null(proto_get(&m, "client_secret"));
	ck_assert_uint_eq(m.n, 9);
	buf_free(&req);
}
END_TEST

START_TEST(test_build_short_timeout)
{
	const char *args[] = {"introspection_url=https://idp/", "timeout_ms=150",
			      "connect_timeout_ms=100", NULL};
	char err[512] = "";
	struct buf req = BUF_INIT;
	struct proto_msg m;
	long v = 0;

	ck_assert_int_eq(build_req(args, S("t"), &req, &m, err, sizeof(err)), APT_OK);
	ck_assert_int_eq(proto_get_long(&m, "timeout_ms", 0, LONG_MAX, &v), 0);
	ck_assert_int_eq(v, 150);
	ck_assert_int_eq(proto_get_long(&m, "connect_timeout_ms", 0, LONG_MAX, &v), 0);
	ck_assert_int_eq(v, 100);
	buf_free(&req);
}
END_TEST

/* The client_secret sent for a secret file holding data (len bytes, mode). */
static void secret_case(const char *name, const char *data, size_t len, mode_t mode,
			enum apt_rc want_rc, const char *want, size_t wantlen)
{
	char path[PATH_MAX], arg[PATH_MAX + 32], err[512] = "";
	struct buf req = BUF_INIT;
	struct proto_msg m;
	enum apt_rc rc;

	unit_write(path, name, data, len, mode);
	snprintf(arg, sizeof(arg), "client_secret_file=%s", path);
	{
		const char *args[] = {"introspection_url=https://idp/", "client_id=c", arg, NULL};
		rc = build_req(args, S("ucat_x"), &req, &m, err, sizeof(err));
	}
	ck_assert_msg(rc == want_rc, "%s: rc %d, want %d (%s)", name, rc, want_rc, err);
	if (rc == APT_OK) {
		expect_field(&m, "client_secret", want, wantlen);
	} else {
		ck_assert_msg(strstr(err, want) != NULL, "%s: error \"%s\" lacks \"%s\"", name, err,
			      want);
		ck_assert_msg(strstr(err, path) != NULL, "%s: error \"%s\" lacks the path", name,
			      err);
		ck_assert_ptr_null(strstr(err, "s3cr3t"));
	}
	buf_free(&req);
}

START_TEST(test_build_secret)
{
	secret_case("s_lf", S("s3cr3t\n"), 0600, APT_OK, S("s3cr3t"));
	secret_case("s_crlf", S("s3cr3t\r\n"), 0600, APT_OK, S("s3cr3t"));
	secret_case("s_plain", S("s3cr3t"), 0400, APT_OK, S("s3cr3t"));
	secret_case("s_lfs", S("s3cr3t\n\n\n"), 0600, APT_OK, S("s3cr3t"));
	/* Only trailing line ends go; inner ones and spaces are the secret's. */
	secret_case("s_inner", S("s3\ncr3t \n"), 0600, APT_OK, S("s3\ncr3t "));
	secret_case("s_empty", S(""), 0600, APT_SERVICE, S("empty"));
	secret_case("s_lfonly", S("\n"), 0600, APT_SERVICE, S("empty"));
	secret_case("s_644", S("s3cr3t\n"), 0644, APT_SERVICE, S("accessible by group or others"));
	secret_case("s_640", S("s3cr3t\n"), 0640, APT_SERVICE, S("accessible by group or others"));
	secret_case("s_nul", S("s3cr3t\0x"), 0600, APT_SERVICE, S("NUL"));
}
END_TEST

START_TEST(test_build_secret_missing)
{
	char arg[PATH_MAX + 32], err[512] = "";
	struct buf req = BUF_INIT;
	struct proto_msg m;

	snprintf(arg, sizeof(arg), "client_secret_file=%s/no-such-secret", unit_tmpdir(NULL));
	{
		const char *args[] = {"introspection_url=https://idp/", "client_id=c", arg, NULL};
		ck_assert_int_eq(build_req(args, S("ucat_x"), &req, &m, err, sizeof(err)),
				 APT_SERVICE);
	}
	ck_assert_ptr_nonnull(strstr(err, "No such file or directory"));
	buf_free(&req);
}
END_TEST

START_TEST(test_build_tls_key_mode)
{
	char cert[PATH_MAX], key[PATH_MAX], a2[PATH_MAX + 32], a3[PATH_MAX + 32], err[512] = "";
	struct buf req = BUF_INIT;
	struct proto_msg m;

	unit_write(cert, "cert2.pem", S("C\n"), 0644);
	unit_write(key, "key2.pem", S("K\n"), 0640);
	snprintf(a2, sizeof(a2), "tls_cert_file=%s", cert);
	snprintf(a3, sizeof(a3), "tls_key_file=%s", key);
	{
		const char *args[] = {"introspection_url=https://idp/", a2, a3, NULL};
		ck_assert_int_eq(build_req(args, S("ucat_x"), &req, &m, err, sizeof(err)),
				 APT_SERVICE);
	}
	ck_assert_ptr_nonnull(strstr(err, "accessible by group or others"));
	ck_assert_ptr_nonnull(strstr(err, "key2.pem"));
	buf_free(&req);
}
END_TEST

static Suite *proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc;

	tc = tcase_create("framing");
	tcase_add_test(tc, test_exact_bytes);
	tcase_add_test(tc, test_round_trip_binary);
	tcase_add_test(tc, test_minimal);
	tcase_add_test(tc, test_bad_magic);
	tcase_add_test(tc, test_bad_end);
	tcase_add_test(tc, test_bad_keys);
	tcase_add_test(tc, test_bad_lengths);
	tcase_add_test(tc, test_max_value);
	tcase_add_test(tc, test_max_fields);
	suite_add_tcase(s, tc);

	tc = tcase_create("get_long");
	tcase_add_test(tc, test_get_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("claims");
	tcase_add_test(tc, test_claim_codec);
	tcase_add_test(tc, test_claim_decode_rejects);
	tcase_add_test(tc, test_claim_list_next);
	tcase_add_test(tc, test_claims_free);
	tcase_add_test(tc, test_claims_put_get_round_trip);
	tcase_add_test(tc, test_claims_name_too_long);
	tcase_add_test(tc, test_claims_duplicate_and_malformed);
	suite_add_tcase(s, tc);

	tc = tcase_create("response");
	tcase_add_test(tc, test_resp_ok);
	tcase_add_test(tc, test_resp_ok_inactive);
	tcase_add_test(tc, test_resp_bad_claim);
	tcase_add_test(tc, test_resp_error_words);
	tcase_add_test(tc, test_resp_error_unknown);
	tcase_add_test(tc, test_resp_garbage);
	tcase_add_test(tc, test_resp_http_status);
	tcase_add_test(tc, test_resp_http_status_bad);
	suite_add_tcase(s, tc);

	tc = tcase_create("request");
	tcase_add_test(tc, test_build_full);
	tcase_add_test(tc, test_build_defaults);
	tcase_add_test(tc, test_build_userinfo);
	tcase_add_test(tc, test_build_short_timeout);
	tcase_add_test(tc, test_build_secret);
	tcase_add_test(tc, test_build_secret_missing);
	tcase_add_test(tc, test_build_tls_key_mode);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	unit_tmpdir("check_proto");
	unit_empty_file(empty_conf, sizeof(empty_conf), "empty.conf", 0644);
	return unit_run(proto_suite());
}
