/*
 * libFuzzer harness for lib/cidr.c, which reads the token's
 * allowed_ip_ranges and PAM_RHOST. The input is tried as an address and as
 * a range. Oracles: a parsed range has a prefix within its family's width
 * and contains its own network address and its last address, and not the
 * addresses of the other family; the printed form (inet_ntop, "/prefix")
 * parses back to the same range and the same address; and when the input
 * is both an address and a range, the range (a host range) contains the
 * address.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "cidr.h"
#include "oracle.h"

static unsigned bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

static void check_range(const struct cidr *r)
{
	struct ipaddr last = r->net, other = {0};
	struct cidr back;
	char text[INET6_ADDRSTRLEN + 8];
	size_t n;

	CHECK(r->net.family == AF_INET || r->net.family == AF_INET6);
	CHECK(r->prefix <= bits(r->net.family));
	CHECK(cidr_contains(r, &r->net));
	/* Every host bit set: the range's last address. */
	for (unsigned i = r->prefix; i < bits(r->net.family); i++)
		last.a[i / 8] |= (unsigned char)(0x80 >> (i % 8));
	CHECK(cidr_contains(r, &last));
	other.family = r->net.family == AF_INET ? AF_INET6 : AF_INET;
	CHECK(!cidr_contains(r, &other));
	/* The first address past the range is outside (unless it is everything). */
	if (r->prefix > 0) {
		struct ipaddr flip = r->net;
		flip.a[(r->prefix - 1) / 8] ^= (unsigned char)(0x80 >> ((r->prefix - 1) % 8));
		CHECK(!cidr_contains(r, &flip));
	}

	CHECK(inet_ntop(r->net.family, r->net.a, text, INET6_ADDRSTRLEN) != NULL);
	n = strlen(text);
	snprintf(text + n, sizeof(text) - n, "/%u", r->prefix);
	CHECK(cidr_parse(text, strlen(text), &back) == 0);
	CHECK(back.net.family == r->net.family && back.prefix == r->prefix &&
	      memcmp(back.net.a, r->net.a, sizeof(back.net.a)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct ipaddr a, back;
	struct cidr r;
	int ia = ip_parse(s, size, &a), ir = cidr_parse(s, size, &r);
	char text[INET6_ADDRSTRLEN];

	if (ia == 0) {
		CHECK(a.family == AF_INET || a.family == AF_INET6);
		CHECK(memchr(data, '/', size) == NULL && memchr(data, '\0', size) == NULL);
		CHECK(inet_ntop(a.family, a.a, text, sizeof(text)) != NULL);
		CHECK(ip_parse(text, strlen(text), &back) == 0);
		CHECK(back.family == a.family && memcmp(back.a, a.a, sizeof(a.a)) == 0);
		/* v4-mapped addresses are normalised: none is left as IPv6. */
		if (a.family == AF_INET6) {
			static const unsigned char mapped[12] = {0, 0, 0, 0, 0,	   0,
								 0, 0, 0, 0, 0xff, 0xff};
			CHECK(memcmp(a.a, mapped, 12) != 0);
		}
	}
	if (ir == 0) {
		check_range(&r);
		if (ia == 0)
			CHECK(cidr_contains(&r, &a));
	}
	return 0;
}
