/*
 * Strict decimal numbers, one reader for every number the project takes
 * from text: config values, protocol and claim fields, CIDR prefixes, URL
 * octets, cache bookkeeping, /proc. One form only, so that no two readers
 * (ours, a resolver, a shell) can see two values in the same bytes.
 */
#ifndef APITOKEN_DECIMAL_H
#define APITOKEN_DECIMAL_H

#include <stddef.h>

/*
 * s[0..len) (no NUL needed) as a number in [min, max]: an optional '-',
 * then "0" or a digit 1-9 followed by digits. Nothing else: no '+', no
 * space, no leading zero, no "-0", no byte after the last digit. 0 with
 * *out set; -1 for anything else, out of range and overflow included, and
 * *out untouched.
 */
int decimal_parse(const char *s, size_t len, long long min, long long max, long long *out);

/*
 * Splits s in place into exactly n fields at single spaces ("a b c"),
 * their starts in fields[]; fields may be empty ("a  b"), for the caller's
 * checks to refuse. -1 when s holds another number of fields (s is cut
 * up even then).
 */
int decimal_fields(char *s, char *fields[], size_t n);

#endif
