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

#define FP_HASH_TAG "sha256:"
#define FP_HEX_LEN  8

_Static_assert(FINGERPRINT_LEN >= FINGERPRINT_PREFIX_MAX + sizeof(FP_HASH_TAG) - 1 + FP_HEX_LEN + 1,
	       "FINGERPRINT_LEN too small");

/* The prefix comes from configuration, but it ends up in log lines: keep
 * control characters, quotes and separators out of them. */
static bool prefix_showable(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > FINGERPRINT_PREFIX_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char ch = p[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-'))
			return false;
	}
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
	memcpy(out + o, FP_HASH_TAG, sizeof(FP_HASH_TAG) - 1);
	o += sizeof(FP_HASH_TAG) - 1;
	hex_encode(md, FP_HEX_LEN / 2, out + o);

	/* The full digest names the token in caches; do not leave it behind. */
	explicit_bzero(md, sizeof(md));
}
