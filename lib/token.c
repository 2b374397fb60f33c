/* Local checks on the token, before any request is made (DESIGN.md §5). */
#include <stdbool.h>
#include <string.h>

#include "token.h"
#include "words.h"

/* What sshd's auth-pam.c sends as the password of a user that does not exist. */
static const char fake_password[] = "\b\n\r\177INCORRECT";

static bool has_prefix(const char *token, size_t len, const char *prefixes)
{
	const char *w;
	size_t n;

	for (const char *p = prefixes; next_word(&p, &w, &n);)
		if (n <= len && memcmp(token, w, n) == 0)
			return true;
	return false;
}

enum apt_rc token_check_local(const char *token, size_t len, const char *prefixes,
			      const char **reason)
{
	if (len == 0) {
		*reason = "empty_token";
		return APT_DENY;
	}
	if (len >= sizeof(fake_password) - 1 &&
	    memcmp(token, fake_password, sizeof(fake_password) - 1) == 0) {
		*reason = "fake_password";
		return APT_DENY;
	}
	if (len > TOKEN_MAX_LEN) {
		*reason = "token_too_long";
		return APT_DENY;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)token[i];
		if (c < 0x21 || c > 0x7e) {
			*reason = "token_bad_bytes";
			return APT_DENY;
		}
	}
	if (prefixes != NULL && !has_prefix(token, len, prefixes)) {
		*reason = "token_prefix";
		return APT_DENY;
	}
	return APT_OK;
}
