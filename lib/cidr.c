/*
 * Numeric IPv4/IPv6 address and CIDR range parsing (RFC 4291, RFC 4632) and
 * range membership, for allowed_ip_ranges against PAM_RHOST. Strict on
 * purpose: whatever is not plainly a numeric address or range is refused, and
 * the caller denies.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "cidr.h"
#include "decimal.h"

/* Longer than any numeric address plus "/128" can be (45 + 4 bytes); the
 * bound keeps a hostile claim from being copied anywhere. */
#define CIDR_TEXT_MAX 64

/* RFC 4291 §2.5.5.2: ::ffff:0:0/96. */
static const unsigned char v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static unsigned family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

static bool is_v4mapped(const struct ipaddr *a)
{
	return a->family == AF_INET6 && memcmp(a->a, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0;
}

static void unmap_v4(struct ipaddr *a)
{
	unsigned char v4[4];

	memcpy(v4, a->a + 12, 4);
	memset(a->a, 0, sizeof(a->a));
	memcpy(a->a, v4, 4);
	a->family = AF_INET;
}

/*
 * inet_pton() wants a C string, but our input is (ptr, len) straight from a
 * token claim or PAM item: it may be unterminated, hold a NUL that would
 * silently cut it short, or be huge. Checks that inet_pton() already makes
 * (whitespace, '%', '/') are repeated so that the rules here do not depend on
 * one libc's parser. No v4-mapped normalisation: cidr_parse() needs the raw
 * form to adjust the prefix.
 */
static int parse_addr_raw(const char *s, size_t len, struct ipaddr *out)
{
	char buf[CIDR_TEXT_MAX + 1];
	size_t i;

	if (s == NULL || len == 0 || len > CIDR_TEXT_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
		      (ch >= 'A' && ch <= 'F') || ch == '.' || ch == ':'))
			return -1;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';

	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->a) == 1) {
		out->family = AF_INET;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET6, buf, out->a) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	return -1;
}

int ip_parse(const char *s, size_t len, struct ipaddr *out)
{
	struct ipaddr a;

	if (parse_addr_raw(s, len, &a) < 0)
		return -1;
	if (is_v4mapped(&a))
		unmap_v4(&a);
	*out = a;
	return 0;
}

/* Decimal, no sign, no leading zero, at most max. */
static int parse_prefix(const char *s, size_t len, unsigned max, unsigned *out)
{
	long long v;

	if (decimal_parse(s, len, 0, max, &v) < 0)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static bool host_bits_clear(const struct ipaddr *a, unsigned prefix)
{
	unsigned nbytes = family_bits(a->family) / 8;
	unsigned i;

	for (i = prefix / 8; i < nbytes; i++) {
		unsigned char mask = 0xff;

		if (i == prefix / 8)
			mask = (unsigned char)(0xff >> (prefix % 8));
		if (a->a[i] & mask)
			return false;
	}
	return true;
}

int cidr_parse(const char *s, size_t len, struct cidr *out)
{
	struct cidr r;
	const char *slash;
	size_t alen;

	if (s == NULL || len == 0 || len > CIDR_TEXT_MAX)
		return -1;
	slash = memchr(s, '/', len);
	alen = slash ? (size_t)(slash - s) : len;

	if (parse_addr_raw(s, alen, &r.net) < 0)
		return -1;
	if (slash) {
		if (parse_prefix(slash + 1, len - alen - 1, family_bits(r.net.family), &r.prefix) <
		    0)
			return -1;
	} else {
		r.prefix = family_bits(r.net.family);
	}

	/* Below /96 a v4-mapped range also covers non-mapped IPv6 space, so
	 * it has no IPv4 equivalent and stays IPv6. */
	if (is_v4mapped(&r.net) && r.prefix >= 96) {
		unmap_v4(&r.net);
		r.prefix -= 96;
	}
	if (!host_bits_clear(&r.net, r.prefix))
		return -1;
	*out = r;
	return 0;
}

bool cidr_contains(const struct cidr *range, const struct ipaddr *addr)
{
	unsigned full, rest;

	if (range->net.family != addr->family ||
	    (addr->family != AF_INET && addr->family != AF_INET6) ||
	    range->prefix > family_bits(addr->family))
		return false;

	full = range->prefix / 8;
	rest = range->prefix % 8;
	if (memcmp(range->net.a, addr->a, full) != 0)
		return false;
	if (rest > 0) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));

		if ((range->net.a[full] ^ addr->a[full]) & mask)
			return false;
	}
	return true;
}
