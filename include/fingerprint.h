/*
 * The only form in which a token may appear in a log line or an admin
 * listing: the matching configured prefix (if any), "sha256:" and the first
 * 8 hex characters of SHA-256(token). Opaque tokens contain '_' in their
 * secret part too, so no other part of the token is ever shown.
 */
#ifndef APITOKEN_FINGERPRINT_H
#define APITOKEN_FINGERPRINT_H

#include <stddef.h>

#include <stdbool.h>

/* The grammar: [A-Za-z0-9_.-]{0,FINGERPRINT_PREFIX_MAX} FINGERPRINT_HASH_TAG 8 lowercase hex. */
#define FINGERPRINT_PREFIX_MAX 32
#define FINGERPRINT_HASH_TAG   "sha256:"
#define FINGERPRINT_HEX_LEN    8
/* The part after the prefix: "sha256:" and the hex. */
#define FINGERPRINT_TAIL_LEN (sizeof(FINGERPRINT_HASH_TAG) - 1 + FINGERPRINT_HEX_LEN)
/* Longest configured prefix we show, the tail and NUL. */
#define FINGERPRINT_LEN (FINGERPRINT_PREFIX_MAX + FINGERPRINT_TAIL_LEN + 1)

/*
 * prefixes is the space-separated token_prefixes list, or NULL. The longest
 * entry the token starts with is used; entries longer than
 * FINGERPRINT_PREFIX_MAX or holding bytes other than [A-Za-z0-9_.-] are
 * never shown.
 */
void token_fingerprint(const char *token, size_t len, const char *prefixes,
		       char out[FINGERPRINT_LEN]);

/*
 * True when s is in the grammar above: what token_fingerprint() can produce,
 * and nothing else (an admin's argument, a stored entry's field).
 */
bool fingerprint_valid(const char *s);

/*
 * An administrator's FINGERPRINT argument (`apitoken cache forget`): one in
 * the grammar above, or its 8 hex digits alone, which stand for
 * FINGERPRINT_HASH_TAG and them (the tail, so any prefix matches). True
 * with the fingerprint in out; false for anything else, out untouched.
 */
bool fingerprint_from_arg(const char *arg, char out[FINGERPRINT_LEN]);

/*
 * True when wanted names stored: exactly, or by the tail alone ("sha256:"
 * and the hex), for an admin who knows the token only from an audit line
 * written before token_prefixes changed, or does not know its prefix.
 */
bool fingerprint_matches(const char *stored, const char *wanted);

#endif
