/*
 * Unit tests for lib/cidr.c: what parses (and to exactly what), what must be
 * refused, and range membership at the edges of each range.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cidr.h"
#include "unit.h"

/* String literals with their exact length, embedded NULs included. */
#define S(lit) lit, sizeof(lit) - 1

static const char *fam_name(int f)
{
	return f == AF_INET ? "inet" : f == AF_INET6 ? "inet6" : "?";
}

/* Rendered through inet_ntop() so expectations are written as text, with the
 * family spelt out: "inet 10.0.0.0/8". */
static void fmt_addr(const struct ipaddr *a, char *out, size_t outlen)
{
	char buf[INET6_ADDRSTRLEN];

	if (inet_ntop(a->family, a->a, buf, sizeof(buf)) == NULL)
		snprintf(buf, sizeof(buf), "<family %d>", a->family);
	snprintf(out, outlen, "%s %s", fam_name(a->family), buf);
}

static void fmt_cidr(const struct cidr *c, char *out, size_t outlen)
{
	char a[80];

	fmt_addr(&c->net, a, sizeof(a));
	snprintf(out, outlen, "%s/%u", a, c->prefix);
}

static void ip_ok(const char *s, size_t len, const char *want)
{
	struct ipaddr a;
	char got[96];

	memset(&a, 0xee, sizeof(a));
	ck_assert_msg(ip_parse(s, len, &a) == 0, "ip_parse(\"%.*s\") failed", (int)len, s);
	fmt_addr(&a, got, sizeof(got));
	ck_assert_str_eq(got, want);
}

static void ip_bad(const char *s, size_t len)
{
	struct ipaddr a;

	ck_assert_msg(ip_parse(s, len, &a) == -1, "ip_parse accepted \"%.*s\" (len %zu)",
		      (int)(len > 80 ? 80 : len), s ? s : "", len);
}

static void cidr_ok(const char *s, size_t len, const char *want)
{
	struct cidr c;
	char got[128];

	memset(&c, 0xee, sizeof(c));
	ck_assert_msg(cidr_parse(s, len, &c) == 0, "cidr_parse(\"%.*s\") failed", (int)len, s);
	fmt_cidr(&c, got, sizeof(got));
	ck_assert_str_eq(got, want);
}

static void cidr_bad(const char *s, size_t len)
{
	struct cidr c;

	ck_assert_msg(cidr_parse(s, len, &c) == -1, "cidr_parse accepted \"%.*s\" (len %zu)",
		      (int)(len > 80 ? 80 : len), s ? s : "", len);
}

static bool in(const char *range, const char *addr)
{
	struct cidr c;
	struct ipaddr a;

	ck_assert_msg(cidr_parse(range, strlen(range), &c) == 0, "range %s", range);
	ck_assert_msg(ip_parse(addr, strlen(addr), &a) == 0, "addr %s", addr);
	return cidr_contains(&c, &a);
}

#define IN(r, a)     ck_assert_msg(in(r, a), "%s should contain %s", r, a)
#define NOT_IN(r, a) ck_assert_msg(!in(r, a), "%s should not contain %s", r, a)

/* ip_parse */

START_TEST(test_ip_v4)
{
	struct ipaddr a;
	static const unsigned char want[16] = {192, 0, 2, 1};

	ck_assert_int_eq(ip_parse(S("192.0.2.1"), &a), 0);
	ck_assert_int_eq(a.family, AF_INET);
	ck_assert_mem_eq(a.a, want, 4);

	ip_ok(S("0.0.0.0"), "inet 0.0.0.0");
	ip_ok(S("255.255.255.255"), "inet 255.255.255.255");
	ip_ok(S("10.0.0.1"), "inet 10.0.0.1");
	/* Exactly len bytes are parsed, not up to the NUL. */
	ip_ok("10.0.0.12", 8, "inet 10.0.0.1");
}
END_TEST

START_TEST(test_ip_v6)
{
	struct ipaddr a;
	static const unsigned char want[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};

	ck_assert_int_eq(ip_parse(S("2001:db8::1"), &a), 0);
	ck_assert_int_eq(a.family, AF_INET6);
	ck_assert_mem_eq(a.a, want, 16);

	ip_ok(S("::"), "inet6 ::");
	ip_ok(S("::1"), "inet6 ::1");
	ip_ok(S("FE80::1"), "inet6 fe80::1");
	ip_ok(S("2001:0db8:0000:0000:0000:0000:0000:0001"), "inet6 2001:db8::1");
	ip_ok(S("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
	      "inet6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	/* Not v4-mapped: the NAT64 prefix and the deprecated v4-compatible
	 * form stay IPv6. */
	ip_ok(S("64:ff9b::192.0.2.1"), "inet6 64:ff9b::c000:201");
	ip_ok(S("::192.0.2.1"), "inet6 ::192.0.2.1");
	ip_ok(S("::fffe:192.0.2.1"), "inet6 ::fffe:c000:201");
}
END_TEST

START_TEST(test_ip_v4mapped)
{
	struct ipaddr a;
	static const unsigned char want[16] = {192, 0, 2, 1};

	ck_assert_int_eq(ip_parse(S("::ffff:192.0.2.1"), &a), 0);
	ck_assert_int_eq(a.family, AF_INET);
	ck_assert_mem_eq(a.a, want, 4);

	ip_ok(S("::FFFF:192.0.2.1"), "inet 192.0.2.1");
	ip_ok(S("::ffff:c000:0201"), "inet 192.0.2.1");
	ip_ok(S("0:0:0:0:0:ffff:10.0.0.1"), "inet 10.0.0.1");
	ip_ok(S("::ffff:0.0.0.0"), "inet 0.0.0.0");
}
END_TEST

START_TEST(test_ip_bad)
{
	static const char *const bad[] = {
	    "",
	    "localhost",
	    "example.com",
	    "010.0.0.1",
	    "10.0.0.01",
	    "1.2.3",
	    "1.2.3.4.5",
	    "256.0.0.1",
	    "0x0a.0.0.1",
	    "10.0.0.1.",
	    "fe80::1%eth0",
	    "fe80::1%1",
	    " 10.0.0.1",
	    "10.0.0.1 ",
	    "\t10.0.0.1",
	    "10.0.0.1\n",
	    "10.0.0.1/32",
	    "/",
	    "1:2:3:4:5:6:7:8:9",
	    ":::",
	    "1::2::3",
	    "::ffff:010.0.0.1",
	    "[::1]",
	    "-1.0.0.0",
	    "+1.0.0.0",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ip_bad(bad[i], strlen(bad[i]));
	ip_bad(NULL, 0);
}
END_TEST

START_TEST(test_ip_nul_and_length)
{
	char big[4096];

	ip_bad(S("10.0.0.1\0"));
	ip_bad(S("10.0.0.1\0junk"));
	ip_bad(S("\0"
		 "10.0.0.1"));
	ip_bad(S("::1\0"));

	/* A valid address followed by a huge length of NULs. */
	memset(big, 0, sizeof(big));
	memcpy(big, "10.0.0.1", 8);
	ip_bad(big, sizeof(big));

	memset(big, '0', sizeof(big));
	ip_bad(big, 65);
	ip_bad(big, sizeof(big));
}
END_TEST

/* cidr_parse */

START_TEST(test_cidr_v4)
{
	cidr_ok(S("10.0.0.0/8"), "inet 10.0.0.0/8");
	cidr_ok(S("0.0.0.0/0"), "inet 0.0.0.0/0");
	cidr_ok(S("192.0.2.1/32"), "inet 192.0.2.1/32");
	cidr_ok(S("192.0.2.1"), "inet 192.0.2.1/32");
	cidr_ok(S("192.0.2.128/25"), "inet 192.0.2.128/25");
	cidr_ok(S("192.0.2.2/31"), "inet 192.0.2.2/31");
	cidr_ok(S("172.16.0.0/12"), "inet 172.16.0.0/12");
	cidr_ok(S("255.255.255.255/32"), "inet 255.255.255.255/32");
	cidr_ok(S("128.0.0.0/1"), "inet 128.0.0.0/1");
}
END_TEST

START_TEST(test_cidr_v6)
{
	cidr_ok(S("2001:db8::/32"), "inet6 2001:db8::/32");
	cidr_ok(S("::/0"), "inet6 ::/0");
	cidr_ok(S("2001:db8::1/128"), "inet6 2001:db8::1/128");
	cidr_ok(S("2001:db8::1"), "inet6 2001:db8::1/128");
	cidr_ok(S("::1"), "inet6 ::1/128");
	cidr_ok(S("2001:db8:0:0:8000::/65"), "inet6 2001:db8:0:0:8000::/65");
	cidr_ok(S("fe80::/10"), "inet6 fe80::/10");
	cidr_ok(S("8000::/1"), "inet6 8000::/1");
	cidr_ok(S("64:ff9b::/96"), "inet6 64:ff9b::/96");
}
END_TEST

START_TEST(test_cidr_v4mapped)
{
	cidr_ok(S("::ffff:10.0.0.0/104"), "inet 10.0.0.0/8");
	cidr_ok(S("::ffff:0.0.0.0/96"), "inet 0.0.0.0/0");
	cidr_ok(S("::ffff:192.0.2.0/120"), "inet 192.0.2.0/24");
	cidr_ok(S("::ffff:192.0.2.1/128"), "inet 192.0.2.1/32");
	cidr_ok(S("::ffff:192.0.2.1"), "inet 192.0.2.1/32");
	cidr_ok(S("::ffff:c000:200/120"), "inet 192.0.2.0/24");

	/* /96 leaves all 32 IPv4 bits as host bits. */
	cidr_bad(S("::ffff:10.0.0.0/96"));
	/* Below /96 the 0xffff marker itself is under the host bits. */
	cidr_bad(S("::ffff:0.0.0.0/95"));
	cidr_bad(S("::ffff:0:0/80"));
	cidr_bad(S("::ffff:10.0.0.0/8"));
	/* The prefix is checked against the written (IPv6) width. */
	cidr_bad(S("::ffff:10.0.0.0/129"));
}
END_TEST

START_TEST(test_cidr_bad_prefix)
{
	static const char *const bad[] = {
	    "10.0.0.0/",
	    "/8",
	    "/",
	    "10.0.0.0/33",
	    "10.0.0.0/08",
	    "10.0.0.0/+8",
	    "10.0.0.0/-1",
	    "10.0.0.0/ 8",
	    "10.0.0.0/8 ",
	    "10.0.0.0 /8",
	    "10.0.0.0/8/8",
	    "10.0.0.0//8",
	    "10.0.0.0/0x8",
	    "10.0.0.0/1000",
	    "10.0.0.0/00",
	    "10.0.0.0/4294967304",
	    "10.0.0.0/128",
	    "::/129",
	    "::/00",
	    "::/0128",
	    "::/1e2",
	    "10.0.0.0/8.0",
	    "10.0.0.0/a",
	    "10.0.0.0/\t8",
	    "::/-0",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cidr_bad(bad[i], strlen(bad[i]));
}
END_TEST

START_TEST(test_cidr_host_bits)
{
	cidr_bad(S("10.1.2.3/8"));
	cidr_bad(S("10.0.0.1/31"));
	cidr_bad(S("192.0.2.129/25"));
	cidr_bad(S("0.0.0.1/0"));
	cidr_bad(S("128.0.0.0/0"));
	cidr_bad(S("2001:db8::1/64"));
	cidr_bad(S("2001:db8::/28"));
	cidr_bad(S("::1/127"));
	cidr_bad(S("2001:db8:0:0:4000::/65"));
	cidr_bad(S("8000::/0"));
}
END_TEST

START_TEST(test_cidr_bad_addr)
{
	static const char *const bad[] = {
	    "",
	    "localhost",
	    "localhost/32",
	    "example.com",
	    "example.com/24",
	    "010.0.0.1",
	    "010.0.0.0/8",
	    "1.2.3/24",
	    "fe80::1%eth0",
	    "fe80::%eth0/64",
	    "fe80::/10%eth0",
	    " 10.0.0.0/8",
	    "10.0.0.0/8\n",
	    "10.0.0.0/8 ",
	    "\t::/0",
	    "[::1]/128",
	    "*",
	    "10.0.0.*/24",
	    "10.0.0.0-10.0.0.255",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cidr_bad(bad[i], strlen(bad[i]));
	cidr_bad(NULL, 0);
}
END_TEST

START_TEST(test_cidr_nul_and_length)
{
	char big[4096];

	cidr_bad(S("10.0.0.0/8\0"));
	cidr_bad(S("10.0.0.0\0/8"));
	cidr_bad(S("10.0.0.0/\0"
		   "8"));
	cidr_bad(S("\0"
		   "10.0.0.0/8"));

	memset(big, 0, sizeof(big));
	memcpy(big, "10.0.0.0/8", 10);
	cidr_bad(big, sizeof(big));
	cidr_ok(big, 10, "inet 10.0.0.0/8");

	memset(big, '0', sizeof(big));
	cidr_bad(big, 65);
	cidr_bad(big, sizeof(big));
	/* Zero-padded prefixes cannot sneak in under the length limit. */
	memcpy(big, "10.0.0.0/", 9);
	cidr_bad(big, 12);
	cidr_bad(big, 64);
}
END_TEST

/* cidr_contains */

START_TEST(test_contains_v4)
{
	IN("10.0.0.0/8", "10.0.0.0");
	IN("10.0.0.0/8", "10.255.255.255");
	NOT_IN("10.0.0.0/8", "9.255.255.255");
	NOT_IN("10.0.0.0/8", "11.0.0.0");

	IN("192.0.2.128/25", "192.0.2.128");
	IN("192.0.2.128/25", "192.0.2.255");
	NOT_IN("192.0.2.128/25", "192.0.2.127");
	NOT_IN("192.0.2.128/25", "192.0.3.128");

	IN("192.0.2.2/31", "192.0.2.2");
	IN("192.0.2.2/31", "192.0.2.3");
	NOT_IN("192.0.2.2/31", "192.0.2.1");
	NOT_IN("192.0.2.2/31", "192.0.2.4");

	IN("172.16.0.0/12", "172.31.255.255");
	NOT_IN("172.16.0.0/12", "172.32.0.0");
	NOT_IN("172.16.0.0/12", "172.15.255.255");

	IN("192.0.2.1/32", "192.0.2.1");
	IN("192.0.2.1", "192.0.2.1");
	NOT_IN("192.0.2.1/32", "192.0.2.0");
	NOT_IN("192.0.2.1/32", "192.0.2.2");
	NOT_IN("192.0.2.1/32", "193.0.2.1");

	IN("0.0.0.0/0", "0.0.0.0");
	IN("0.0.0.0/0", "255.255.255.255");
	IN("128.0.0.0/1", "128.0.0.0");
	IN("128.0.0.0/1", "255.255.255.255");
	NOT_IN("128.0.0.0/1", "127.255.255.255");
}
END_TEST

START_TEST(test_contains_v6)
{
	IN("2001:db8::/32", "2001:db8::");
	IN("2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
	NOT_IN("2001:db8::/32", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff");
	NOT_IN("2001:db8::/32", "2001:db9::");

	IN("2001:db8:0:0:8000::/65", "2001:db8::8000:0:0:0");
	IN("2001:db8:0:0:8000::/65", "2001:db8::ffff:ffff:ffff:ffff");
	NOT_IN("2001:db8:0:0:8000::/65", "2001:db8::7fff:ffff:ffff:ffff");
	NOT_IN("2001:db8:0:0:8000::/65", "2001:db8:0:1::");

	IN("fe80::/10", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	NOT_IN("fe80::/10", "fec0::");
	NOT_IN("fe80::/10", "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff");

	IN("2001:db8::1/128", "2001:db8::1");
	IN("2001:db8::1", "2001:0db8:0:0:0:0:0:1");
	NOT_IN("2001:db8::1/128", "2001:db8::");
	NOT_IN("2001:db8::1/128", "2001:db8::2");
	NOT_IN("2001:db8::1/128", "2001:db8::1:1");

	IN("::/0", "::");
	IN("::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	IN("8000::/1", "8000::");
	NOT_IN("8000::/1", "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}
END_TEST

START_TEST(test_contains_v4mapped)
{
	IN("::ffff:10.0.0.0/104", "10.1.2.3");
	IN("::ffff:10.0.0.0/104", "::ffff:10.1.2.3");
	NOT_IN("::ffff:10.0.0.0/104", "11.0.0.0");
	IN("10.0.0.0/8", "::ffff:10.1.2.3");
	IN("10.0.0.0/8", "::ffff:a01:203");
	NOT_IN("10.0.0.0/8", "::ffff:11.0.0.0");
	IN("::ffff:192.0.2.1", "192.0.2.1");
	IN("0.0.0.0/0", "::ffff:255.255.255.255");
}
END_TEST

START_TEST(test_contains_family_mismatch)
{
	struct cidr c;
	struct ipaddr a;

	NOT_IN("::/0", "10.0.0.1");
	NOT_IN("::/0", "0.0.0.0");
	/* A mapped address is IPv4 after parsing, so all-IPv6 excludes it. */
	NOT_IN("::/0", "::ffff:10.0.0.1");
	NOT_IN("0.0.0.0/0", "::");
	NOT_IN("0.0.0.0/0", "::1");
	NOT_IN("0.0.0.0/0", "::10.0.0.1");
	NOT_IN("10.0.0.0/8", "a00::");
	NOT_IN("::a00:0/104", "10.0.0.1");

	/* Same bytes, different family. */
	ck_assert_int_eq(cidr_parse(S("::/96"), &c), 0);
	memset(&a, 0, sizeof(a));
	a.family = AF_INET;
	ck_assert(!cidr_contains(&c, &a));

	/* A v4-mapped range below /96, built by hand since the parser refuses
	 * them, never matches an IPv4 address either. */
	memset(&c, 0, sizeof(c));
	c.net.family = AF_INET6;
	c.prefix = 64;
	ck_assert_int_eq(ip_parse(S("10.0.0.1"), &a), 0);
	ck_assert(!cidr_contains(&c, &a));
}
END_TEST

static Suite *cidr_suite(void)
{
	Suite *s = suite_create("cidr");
	TCase *tc;

	tc = tcase_create("ip_parse");
	tcase_add_test(tc, test_ip_v4);
	tcase_add_test(tc, test_ip_v6);
	tcase_add_test(tc, test_ip_v4mapped);
	tcase_add_test(tc, test_ip_bad);
	tcase_add_test(tc, test_ip_nul_and_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("cidr_parse");
	tcase_add_test(tc, test_cidr_v4);
	tcase_add_test(tc, test_cidr_v6);
	tcase_add_test(tc, test_cidr_v4mapped);
	tcase_add_test(tc, test_cidr_bad_prefix);
	tcase_add_test(tc, test_cidr_host_bits);
	tcase_add_test(tc, test_cidr_bad_addr);
	tcase_add_test(tc, test_cidr_nul_and_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("cidr_contains");
	tcase_add_test(tc, test_contains_v4);
	tcase_add_test(tc, test_contains_v6);
	tcase_add_test(tc, test_contains_v4mapped);
	tcase_add_test(tc, test_contains_family_mismatch);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return unit_run(cidr_suite());
}
