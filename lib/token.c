/* Local checks on the token, before any request is made (DESIGN.md §5). */
#include <stdbool.h>
#include <string.h>

#include "token.h"

/* What sshd's auth-pam.c sends as the password of a user that does not exist. */
static const char fake_password[] = "\b\n\r\177INCORRECT";

static bool has_prefix(const char *token, size_t len, const char *prefixes)
{
	const char *p = prefixes;

	while (*p) {
		size_t n;

		while (*p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, " \t");
		if (n > 0 && n <= len && memcmp(token, p, n) == 0)
			return true;
		p += n;
	}
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
