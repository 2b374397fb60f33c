/*
 * Unit tests for lib/audit.c: the exact audit line of audit_format()
 * (DESIGN.md §7), %XX escaping of the client-supplied user and rhost, "-"
 * for absent values, truncation of long values, bounds and NUL termination
 * for every small buffer size, and apt_rc_word().
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "unit.h"

static struct audit_rec normal_rec(void)
{
	struct audit_rec r = {
	    .result = "allow",
	    .reason = "ok",
	    .user = "alice",
	    .rhost = "192.0.2.7",
	    .token = "ucat_sha256:3f2a9c1b",
	    .source = "network",
	    .ms = 12,
	};
	return r;
}

/* The user= value of a line formatted from the normal record with user u. */
static void format_user(const char *u, char *out, size_t outlen)
{
	struct audit_rec r = normal_rec();
	char line[2048];
	const char *p, *e;

	r.user = u;
	audit_format(&r, line, sizeof(line));
	p = strstr(line, " user=");
	ck_assert_ptr_nonnull(p);
	p += 6;
	e = strstr(p, " rhost=");
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_lt((size_t)(e - p), outlen);
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
}

static void expect_user(const char *u, const char *want)
{
	char got[1024];

	format_user(u, got, sizeof(got));
	ck_assert_str_eq(got, want);
}

START_TEST(test_normal)
{
	struct audit_rec r = normal_rec();
	char out[512];

	audit_format(&r, out, sizeof(out));
	ck_assert_str_eq(out, "result=allow reason=ok user=alice rhost=192.0.2.7 "
			      "token=ucat_sha256:3f2a9c1b source=network ms=12");
}
END_TEST

START_TEST(test_deny_v6)
{
	struct audit_rec r = {
	    .result = "deny",
	    .reason = "ip_not_allowed",
	    .user = "deploy-bot_1.ci",
	    .rhost = "2001:db8::1",
	    .token = "sha256:0123abcd",
	    .source = "cache",
	    .ms = 0,
	};
	char out[512];

	audit_format(&r, out, sizeof(out));
	ck_assert_str_eq(out, "result=deny reason=ip_not_allowed user=deploy-bot_1.ci "
			      "rhost=2001:db8::1 token=sha256:0123abcd source=cache ms=0");
}
END_TEST

START_TEST(test_escaping)
{
	expect_user("a b", "a%20b");
	expect_user("a=b", "a%3Db");
	expect_user("a\nb", "a%0Ab");
	expect_user("a\r\tb", "a%0D%09b");
	expect_user("100%", "100%25");
	expect_user("%41", "%2541");
	expect_user("jos\xc3\xa9", "jos%C3%A9");
	expect_user("\x7f\xff", "%7F%FF");
	expect_user("a\"b'c\\d", "a%22b%27c%5Cd");
	expect_user("a/b;c", "a%2Fb%3Bc");
	/* The characters left alone. */
	expect_user("Az09._-@:+", "Az09._-@:+");
	/* A user name trying to forge a field or a line. */
	expect_user("x result=allow", "x%20result%3Dallow");
	expect_user("x\nresult=allow reason=ok", "x%0Aresult%3Dallow%20reason%3Dok");
}
END_TEST

START_TEST(test_rhost_escaped)
{
	struct audit_rec r = normal_rec();
	char out[512];

	r.rhost = "evil host=1\n";
	audit_format(&r, out, sizeof(out));
	ck_assert_str_eq(out, "result=allow reason=ok user=alice rhost=evil%20host%3D1%0A "
			      "token=ucat_sha256:3f2a9c1b source=network ms=12");
}
END_TEST

START_TEST(test_absent_values)
{
	struct audit_rec r = normal_rec();
	char out[512];

	r.user = NULL;
	r.rhost = NULL;
	r.token = NULL;
	audit_format(&r, out, sizeof(out));
	ck_assert_str_eq(out, "result=allow reason=ok user=- rhost=- token=- "
			      "source=network ms=12");
	r.user = "";
	r.rhost = "";
	audit_format(&r, out, sizeof(out));
	ck_assert_str_eq(out, "result=allow reason=ok user=- rhost=- token=- "
			      "source=network ms=12");
	/* A user literally named "-" is not "no user"; "-x" needs no escape. */
	r.user = "-";
	r.rhost = "-x";
	audit_format(&r, out, sizeof(out));
	ck_assert_str_eq(out, "result=allow reason=ok user=%2D rhost=-x token=- "
			      "source=network ms=12");
	/* NULL words never reach printf as NULL. */
	r.result = NULL;
	r.reason = NULL;
	r.source = NULL;
	audit_format(&r, out, sizeof(out));
	ck_assert_str_eq(out, "result=error reason=internal user=%2D rhost=-x token=- "
			      "source=- ms=12");
}
END_TEST

START_TEST(test_long_user)
{
	char u[301], want[400], got[1024];

	memset(u, 'a', 200);
	u[200] = '\0';
	memset(want, 'a', 128);
	memcpy(want + 128, "...", 4);
	expect_user(u, want);

	/* Exactly 128 bytes: nothing cut, no "...". */
	u[128] = '\0';
	want[128] = '\0';
	expect_user(u, want);

	/* 129 bytes: cut. */
	u[128] = 'a';
	u[129] = '\0';
	memcpy(want + 128, "...", 4);
	expect_user(u, want);

	/* The limit counts input bytes, escaped ones too. */
	memset(u, ' ', 300);
	u[300] = '\0';
	format_user(u, got, sizeof(got));
	ck_assert_uint_eq(strlen(got), 128 * 3 + 3);
	ck_assert_int_eq(strncmp(got, "%20%20%20", 9), 0);
	ck_assert_str_eq(got + 128 * 3, "...");
}
END_TEST

START_TEST(test_long_rhost)
{
	struct audit_rec r = normal_rec();
	char h[200], out[1024];
	const char *p;

	memset(h, '1', sizeof(h) - 1);
	h[sizeof(h) - 1] = '\0';
	r.rhost = h;
	audit_format(&r, out, sizeof(out));
	p = strstr(out, " rhost=");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(strncmp(p + 7 + 128, "... token=ucat_sha256:3f2a9c1b", 30), 0);
}
END_TEST

START_TEST(test_small_buffers)
{
	struct audit_rec r = normal_rec();
	char full[1024];
	/* Escapes and a cut value near every buffer edge. */
	char u[160];

	memset(u, '=', sizeof(u) - 1);
	u[sizeof(u) - 1] = '\0';
	u[0] = 'a';
	u[1] = ' ';
	r.user = u;
	audit_format(&r, full, sizeof(full));
	ck_assert_uint_gt(strlen(full), 400);

	for (size_t size = 1; size <= 64; size++) {
		unsigned char area[128];
		size_t len;

		memset(area, 0xAA, sizeof(area));
		audit_format(&r, (char *)area, size);
		for (size_t i = size; i < sizeof(area); i++)
			ck_assert_msg(area[i] == 0xAA, "size %zu: byte %zu written", size, i);
		ck_assert_msg(memchr(area, '\0', size) != NULL, "size %zu: no NUL", size);
		len = strlen((char *)area);
		ck_assert_uint_lt(len, size);
		/* What is there is the start of the full line: a value cut short
		 * ends it, so "user=al" never reads as a complete other name. */
		ck_assert_msg(memcmp(area, full, len) == 0, "size %zu: \"%s\"", size, area);
	}
}
END_TEST

START_TEST(test_zero_buffer)
{
	struct audit_rec r = normal_rec();
	char c = 'X';

	audit_format(&r, &c, 0);
	ck_assert_int_eq(c, 'X');
}
END_TEST

/* The escaper the admin listings share (helper/cmd_cache.c): bytes with a length. */
static void expect_escape(const char *v, size_t len, const char *want)
{
	char out[AUDIT_ESCAPED_MAX];

	ck_assert_uint_eq(audit_escape(v, len, out, sizeof(out)), strlen(want));
	ck_assert_str_eq(out, want);
}

START_TEST(test_escape_bytes)
{
	char big[AUDIT_VALUE_MAX + 1], want[AUDIT_ESCAPED_MAX], out[8];

	expect_escape("alice", 5, "alice");
	expect_escape("", 0, "");
	expect_escape("-", 1, "%2D");
	expect_escape("--", 2, "--");
	expect_escape("a\0b", 3, "a%00b"); /* a NUL is shown, not an end */
	expect_escape("eve\nresult=allow", 16, "eve%0Aresult%3Dallow");
	/* Every byte escaped, at the limit and past it: the worst case fits. */
	memset(big, '\n', sizeof(big));
	for (size_t i = 0; i < AUDIT_VALUE_MAX; i++)
		memcpy(want + 3 * i, "%0A", 4);
	expect_escape(big, AUDIT_VALUE_MAX, want);
	strcat(want, "...");
	expect_escape(big, sizeof(big), want);
	ck_assert_uint_eq(strlen(want) + 2, AUDIT_ESCAPED_MAX);
	/* Too small a buffer: a cut value is refused, never shown as the value. */
	ck_assert_uint_eq(audit_escape("alice", 5, out, 5), (size_t)-1);
	ck_assert_uint_eq(audit_escape("alice", 5, out, 0), (size_t)-1);
}
END_TEST

START_TEST(test_rc_words)
{
	ck_assert_str_eq(apt_rc_word(APT_OK), "allow");
	ck_assert_str_eq(apt_rc_word(APT_DENY), "deny");
	ck_assert_str_eq(apt_rc_word(APT_UNAVAIL), "unavailable");
	ck_assert_str_eq(apt_rc_word(APT_SERVICE), "error");
	ck_assert_str_eq(apt_rc_word(APT_NOMEM), "error");
	ck_assert_str_eq(apt_rc_word((enum apt_rc)42), "error");
}
END_TEST

static Suite *audit_suite(void)
{
	Suite *s = suite_create("audit");
	TCase *tc;

	tc = tcase_create("format");
	tcase_add_test(tc, test_normal);
	tcase_add_test(tc, test_deny_v6);
	tcase_add_test(tc, test_absent_values);
	suite_add_tcase(s, tc);

	tc = tcase_create("escaping");
	tcase_add_test(tc, test_escaping);
	tcase_add_test(tc, test_rhost_escaped);
	tcase_add_test(tc, test_long_user);
	tcase_add_test(tc, test_long_rhost);
	tcase_add_test(tc, test_escape_bytes);
	suite_add_tcase(s, tc);

	tc = tcase_create("bounds");
	tcase_add_test(tc, test_small_buffers);
	tcase_add_test(tc, test_zero_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("rc_word");
	tcase_add_test(tc, test_rc_words);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return unit_run(audit_suite());
}
