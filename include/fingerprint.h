/*
 * The only form in which a token may appear in a log line or an admin
 * listing: the matching configured prefix (if any), "sha256:" and the first
 * 8 hex characters of SHA-256(token). Opaque tokens contain '_' in their
 * secret part too, so no other part of the token is ever shown.
 */
#ifndef APITOKEN_FINGERPRINT_H
#define APITOKEN_FINGERPRINT_H

#include <stddef.h>

/* Longest configured prefix we show, plus "sha256:" and 8 hex and NUL. */
#define FINGERPRINT_PREFIX_MAX 32
#define FINGERPRINT_LEN	       (FINGERPRINT_PREFIX_MAX + 7 + 8 + 1)

/*
 * prefixes is the space-separated token_prefixes list, or NULL. The longest
 * entry the token starts with is used; entries longer than
 * FINGERPRINT_PREFIX_MAX or holding bytes other than [A-Za-z0-9_.-] are
 * never shown.
 */
void token_fingerprint(const char *token, size_t len, const char *prefixes,
		       char out[FINGERPRINT_LEN]);

#endif
