/*
 * Unit tests for lib/audit.c: the exact audit line of audit_format()
 * (DESIGN.md §7), %XX escaping of the client-supplied user and rhost, "-"
 * for absent values, truncation of long values, bounds and NUL termination
 * for every small buffer size, and apt_rc_word(). Then the JSON form for
 * audit_file: audit_json_escape() on quotes, backslashes, control and
 * non-ASCII bytes, and audit_format_json() parsed back with jansson.
 */
#include <check.h>
#include <jansson.h>
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

/* --- the JSON form (audit_file) ------------------------------------------ */

static void expect_json(const char *v, size_t len, const char *want)
{
	char out[AUDIT_JSON_ESCAPED_MAX];
	size_t n = audit_json_escape(v, len, out, sizeof(out));

	ck_assert_uint_eq(n, strlen(want));
	ck_assert_str_eq(out, want);
}

START_TEST(test_json_escape)
{
	expect_json("alice", 5, "alice");
	expect_json("", 0, "");
	expect_json("a\"b\\c", 5, "a\\\"b\\\\c");
	expect_json("a\nb\rc\td", 7, "a\\u000ab\\u000dc\\u0009d");
	expect_json("\x01\x1f\x7f", 3, "\\u0001\\u001f\\u007f");
	expect_json("a\0b", 3, "a\\u0000b");
	/* Bytes, not characters: valid UTF-8 and a lone 0xff alike, so no two read the same. */
	expect_json("\xc3\xa9", 2, "\\u00c3\\u00a9");
	expect_json("x\xff", 2, "x\\u00ff");
	/* What a syslog value holds is not escaped again: it is the same characters. */
	expect_json("a b=c%20", 8, "a b=c%20");
}
END_TEST

START_TEST(test_json_escape_long)
{
	char v[AUDIT_VALUE_MAX + 10], out[AUDIT_JSON_ESCAPED_MAX], want[AUDIT_JSON_ESCAPED_MAX];
	size_t i;

	/* The worst case, every byte 6 wide, cut at AUDIT_VALUE_MAX, fits the documented size. */
	memset(v, '\x01', sizeof(v));
	ck_assert_uint_eq(audit_json_escape(v, sizeof(v), out, sizeof(out)),
			  AUDIT_VALUE_MAX * 6 + 3);
	for (i = 0; i < AUDIT_VALUE_MAX; i++)
		memcpy(want + 6 * i, "\\u0001", 6);
	strcpy(want + 6 * AUDIT_VALUE_MAX, "...");
	ck_assert_str_eq(out, want);
	/* Exactly AUDIT_VALUE_MAX bytes: whole, no "...". */
	ck_assert_uint_eq(audit_json_escape(v, AUDIT_VALUE_MAX, out, sizeof(out)),
			  AUDIT_VALUE_MAX * 6);
	/* Every buffer too small says so, stays inside it and is terminated. */
	for (i = 0; i < AUDIT_JSON_ESCAPED_MAX - 1; i++) {
		char small[AUDIT_JSON_ESCAPED_MAX + 1];

		memset(small, 'Z', sizeof(small));
		ck_assert_uint_eq(audit_json_escape(v, sizeof(v), small, i), (size_t)-1);
		if (i > 0)
			ck_assert_ptr_nonnull(memchr(small, '\0', i));
		ck_assert_int_eq(small[i], 'Z');
	}
}
END_TEST

/* Parses a JSON line; asserts it is one object and one newline at the end. */
static json_t *parse_line(const char *line, size_t len)
{
	json_error_t e;
	json_t *o;

	ck_assert_uint_eq(len, strlen(line));
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(line[len - 1], '\n');
	ck_assert_ptr_null(memchr(line, '\n', len - 1));
	o = json_loadb(line, len, 0, &e);
	ck_assert_msg(o != NULL && json_is_object(o), "not a JSON object: %s (%s)", line, e.text);
	return o;
}

static void expect_member(json_t *o, const char *key, const char *want)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(v != NULL, "no %s", key);
	if (want == NULL) {
		ck_assert_msg(json_is_null(v), "%s not null", key);
		return;
	}
	ck_assert_msg(json_is_string(v), "%s not a string", key);
	ck_assert_str_eq(json_string_value(v), want);
}

START_TEST(test_json_line)
{
	struct audit_rec r = normal_rec();
	char line[AUDIT_JSON_MAX];
	size_t n;
	json_t *o;

	r.service = "sshd";
	n = audit_format_json(&r, 1714564800, line, sizeof(line));
	ck_assert_str_eq(line,
			 "{\"time\":\"2024-05-01T12:00:00Z\",\"service\":\"sshd\","
			 "\"result\":\"allow\",\"reason\":\"ok\",\"user\":\"alice\","
			 "\"mapped_user\":null,\"rhost\":\"192.0.2.7\","
			 "\"token\":\"ucat_sha256:3f2a9c1b\",\"source\":\"network\",\"ms\":12}\n");
	o = parse_line(line, n);
	ck_assert_uint_eq(json_object_size(o), 10);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "ms")), 12);
	json_decref(o);

	r.mapped_user = "git";
	n = audit_format_json(&r, 0, line, sizeof(line));
	o = parse_line(line, n);
	expect_member(o, "mapped_user", "git");
	expect_member(o, "time", "1970-01-01T00:00:00Z");
	json_decref(o);
}
END_TEST

START_TEST(test_json_absent_and_hostile)
{
	struct audit_rec r = {.ms = -1};
	char line[AUDIT_JSON_MAX], user[AUDIT_VALUE_MAX + 2];
	size_t n;
	json_t *o;

	/* Absent values are null, result and reason the syslog line's defaults. */
	n = audit_format_json(&r, 0, line, sizeof(line));
	o = parse_line(line, n);
	expect_member(o, "result", "error");
	expect_member(o, "reason", "internal");
	expect_member(o, "user", NULL);
	expect_member(o, "rhost", NULL);
	expect_member(o, "token", NULL);
	expect_member(o, "service", NULL);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "ms")), -1);
	json_decref(o);

	/* A user name that tries to close the string and add a member, or a line. */
	r = normal_rec();
	r.user = "x\",\"result\":\"allow\"}\n{\"a\":\"\xff\xfe";
	r.rhost = "\\\"";
	n = audit_format_json(&r, 0, line, sizeof(line));
	o = parse_line(line, n);
	expect_member(o, "user", "x\",\"result\":\"allow\"}\n{\"a\":\"\xc3\xbf\xc3\xbe");
	expect_member(o, "rhost", "\\\"");
	expect_member(o, "result", "allow");
	ck_assert_uint_eq(json_object_size(o), 10);
	json_decref(o);

	/* The longest values: cut at AUDIT_VALUE_MAX, still one line under AUDIT_JSON_MAX. */
	memset(user, '\x02', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	r.user = r.rhost = r.service = r.mapped_user = user;
	n = audit_format_json(&r, 0, line, sizeof(line));
	ck_assert_uint_lt(n, AUDIT_JSON_MAX);
	o = parse_line(line, n);
	ck_assert_uint_eq(strlen(json_string_value(json_object_get(o, "user"))),
			  AUDIT_VALUE_MAX + 3);
	ck_assert_str_eq(json_string_value(json_object_get(o, "user")) + AUDIT_VALUE_MAX, "...");
	json_decref(o);
	/* Too small a buffer: nothing to write, never a cut line. */
	ck_assert_uint_eq(audit_format_json(&r, 0, line, 40), (size_t)-1);
	ck_assert_uint_eq(audit_format_json(&r, 0, line, 1), (size_t)-1);
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

	tc = tcase_create("json");
	tcase_add_test(tc, test_json_escape);
	tcase_add_test(tc, test_json_escape_long);
	tcase_add_test(tc, test_json_line);
	tcase_add_test(tc, test_json_absent_and_hostile);
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
