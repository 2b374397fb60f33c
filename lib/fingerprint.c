/*
 * Token fingerprints for logs and admin listings: "<prefix>sha256:<8 hex>".
 * This is the one place that decides how much of a token may be shown, so it
 * shows only a configured prefix that passes a strict check, never token bytes
 * of its own choosing.
 */
#include <stdbool.h>
#include <string.h>

#include "fingerprint.h"
#include "hex.h"
#include "words.h"
#include "sha256.h"

#define TAG_LEN (sizeof(FINGERPRINT_HASH_TAG) - 1)

/* The prefix comes from configuration, but it ends up in log lines: keep
 * control characters, quotes and separators out of them. */
static bool prefix_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '.' || ch == '-';
}

static bool prefix_showable(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > FINGERPRINT_PREFIX_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!prefix_char(p[i]))
			return false;
	return true;
}

/*
 * The longest match is taken even when it is not showable, and then nothing
 * is shown: falling back to a shorter entry would label the token with a
 * prefix the administrator did not mean for it.
 */
static size_t match_prefix(const char *token, size_t len, const char *prefixes, const char **best)
{
	size_t best_len = 0, n;
	const char *w;

	*best = NULL;
	for (const char *p = prefixes ? prefixes : ""; next_word(&p, &w, &n);) {
		if (n <= len && n > best_len && memcmp(token, w, n) == 0) {
			*best = w;
			best_len = n;
		}
	}
	if (*best == NULL || !prefix_showable(*best, best_len)) {
		*best = NULL;
		return 0;
	}
	return best_len;
}

void token_fingerprint(const char *token, size_t len, const char *prefixes,
		       char out[FINGERPRINT_LEN])
{
	unsigned char md[SHA256_DIGEST_LEN];
	const char *pfx;
	size_t plen, o;

	if (token == NULL)
		len = 0;
	plen = match_prefix(token, len, prefixes, &pfx);
	sha256(token, len, md);

	o = 0;
	if (plen > 0) {
		memcpy(out, pfx, plen);
		o = plen;
	}
	memcpy(out + o, FINGERPRINT_HASH_TAG, TAG_LEN);
	o += TAG_LEN;
	hex_encode(md, FINGERPRINT_HEX_LEN / 2, out + o);

	/* The full digest names the token in caches; do not leave it behind. */
	explicit_bzero(md, sizeof(md));
}

/* Lowercase only, as token_fingerprint writes it: "3F2A9C1B" names no token. */
static bool lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool fingerprint_valid(const char *s)
{
	size_t len = strlen(s), plen, i;

	if (len < FINGERPRINT_TAIL_LEN || len > FINGERPRINT_PREFIX_MAX + FINGERPRINT_TAIL_LEN)
		return false;
	plen = len - FINGERPRINT_TAIL_LEN;
	for (i = 0; i < plen; i++)
		if (!prefix_char(s[i]))
			return false;
	if (memcmp(s + plen, FINGERPRINT_HASH_TAG, TAG_LEN) != 0)
		return false;
	return lower_hex(s + plen + TAG_LEN, FINGERPRINT_HEX_LEN);
}

bool fingerprint_from_arg(const char *arg, char out[FINGERPRINT_LEN])
{
	size_t len = strlen(arg);

	if (fingerprint_valid(arg)) {
		memcpy(out, arg, len + 1);
		return true;
	}
	/* The hex alone is the tail without its tag: it matches whatever the prefix. */
	if (len != FINGERPRINT_HEX_LEN || !lower_hex(arg, len))
		return false;
	memcpy(out, FINGERPRINT_HASH_TAG, TAG_LEN);
	memcpy(out + TAG_LEN, arg, len + 1);
	return true;
}

bool fingerprint_matches(const char *stored, const char *wanted)
{
	size_t len = strlen(stored);

	if (strcmp(stored, wanted) == 0)
		return true;
	return strlen(wanted) == FINGERPRINT_TAIL_LEN && len >= FINGERPRINT_TAIL_LEN &&
	       strcmp(stored + len - FINGERPRINT_TAIL_LEN, wanted) == 0;
}
