/*
 * Numeric IP addresses and CIDR ranges, for the token's allowed_ip_ranges
 * claim against PAM_RHOST. Nothing here resolves a name: a string that is not
 * a numeric address is an error, and the caller denies.
 */
#ifndef APITOKEN_CIDR_H
#define APITOKEN_CIDR_H

#include <stdbool.h>
#include <stddef.h>

struct ipaddr {
	int family;	     /* AF_INET or AF_INET6 */
	unsigned char a[16]; /* network order; 4 bytes used for AF_INET */
};

struct cidr {
	struct ipaddr net;
	unsigned prefix; /* 0..32 or 0..128 */
};

/*
 * Parses a numeric IPv4 or IPv6 address of exactly len bytes (no NUL inside).
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is normalised to AF_INET.
 * Zone ids ("%eth0"), names and anything inet_pton refuses fail.
 * Returns 0, or -1.
 */
int ip_parse(const char *s, size_t len, struct ipaddr *out);

/*
 * Parses "ADDR/PREFIX" or a bare "ADDR" (a host range). The prefix is decimal
 * without sign or leading zeros and within the family's width. A v4-mapped
 * IPv6 range with prefix >= 96 becomes the IPv4 range. Host bits set below
 * the prefix are an error: in an allow-list "10.1.2.3/8" is more likely a
 * mistake than a wish for all of 10/8. Returns 0, or -1.
 */
int cidr_parse(const char *s, size_t len, struct cidr *out);

/* True when addr lies inside range (families must match). */
bool cidr_contains(const struct cidr *range, const struct ipaddr *addr);

#endif
