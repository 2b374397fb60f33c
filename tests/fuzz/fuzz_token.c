/*
 * libFuzzer harness for the token's local checks (token_check_local,
 * lib/token.c) and its fingerprint (token_fingerprint, lib/fingerprint.c),
 * the only form of a token that reaches a log. Input: token_prefixes, NUL,
 * the token (any bytes); an input without NUL is a token with no prefixes
 * configured.
 *
 * Oracles: an accepted token is 1..4096 bytes of 0x21..0x7e starting with
 * one of the prefixes; a refused one has a documented reason. The
 * fingerprint is exactly PREFIX "sha256:" 8 lowercase hex, the hex is the
 * start of SHA-256(token) (OpenSSL's, not ours), and PREFIX is empty or
 * the longest configured prefix the token starts with, at most 32 bytes of
 * [A-Za-z0-9_.-]: no byte of the token past that prefix is ever shown.
 */
#include <openssl/sha.h>

#include "fingerprint.h"
#include "oracle.h"
#include "token.h"
#include "words.h"

static const char *const reasons[] = {"empty_token", "fake_password", "token_too_long",
				      "token_bad_bytes", "token_prefix"};

static bool starts_with_word(const char *tok, size_t len, const char *prefixes, size_t *longest)
{
	const char *w;
	size_t n;
	bool any = false;

	*longest = 0;
	for (const char *p = prefixes ? prefixes : ""; next_word(&p, &w, &n);)
		if (n <= len && memcmp(tok, w, n) == 0) {
			any = true;
			if (n > *longest)
				*longest = n;
		}
	return any;
}

static void check_fingerprint(const char *tok, size_t len, const char *prefixes)
{
	char fp[FINGERPRINT_LEN + 8];
	unsigned char md[SHA256_DIGEST_LENGTH];
	char hex[9];
	size_t plen, flen, longest;

	memset(fp, 'X', sizeof(fp));
	token_fingerprint(tok, len, prefixes, fp);
	flen = strnlen(fp, sizeof(fp));
	CHECK(flen < FINGERPRINT_LEN);
	CHECK(flen >= 15);
	plen = flen - 15;
	CHECK(memcmp(fp + plen, "sha256:", 7) == 0);
	SHA256((const unsigned char *)tok, len, md);
	snprintf(hex, sizeof(hex), "%02x%02x%02x%02x", md[0], md[1], md[2], md[3]);
	CHECK(memcmp(fp + plen + 7, hex, 8) == 0);
	if (plen > 0) {
		CHECK(plen <= FINGERPRINT_PREFIX_MAX && plen <= len && memcmp(fp, tok, plen) == 0);
		CHECK(strspn(fp,
			     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") >=
		      plen);
		CHECK(starts_with_word(tok, len, prefixes, &longest) && longest == plen);
		CHECK(word_in_list(prefixes, fp, plen));
	} else if (starts_with_word(tok, len, prefixes, &longest) &&
		   longest <= FINGERPRINT_PREFIX_MAX) {
		/* Nothing shown: then the longest match must be one we may not show. */
		CHECK(strspn(tok,
			     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") <
		      longest);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	char *prefixes = NULL;
	const char *tok = (const char *)data, *reason = NULL;
	size_t len = size, longest;

	if (nul != NULL) {
		prefixes = strndup((const char *)data, (size_t)(nul - data));
		tok = (const char *)nul + 1;
		len = size - (size_t)(nul - data) - 1;
	}
	if (token_check_local(tok, len, prefixes, &reason) == APT_OK) {
		CHECK(len >= 1 && len <= TOKEN_MAX_LEN);
		for (size_t i = 0; i < len; i++)
			CHECK(tok[i] >= 0x21 && tok[i] <= 0x7e);
		CHECK(prefixes == NULL || starts_with_word(tok, len, prefixes, &longest));
	} else {
		bool known = false;
		for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
			known |= reason != NULL && strcmp(reason, reasons[i]) == 0;
		CHECK(known);
	}
	check_fingerprint(tok, len, prefixes);
	check_fingerprint(tok, len, NULL);
	free(prefixes);
	return 0;
}
