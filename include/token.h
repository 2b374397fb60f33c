/*
 * Checks on the token itself, made before anything is sent anywhere: a
 * token that fails here never reaches the issuer (DESIGN.md §5).
 */
#ifndef APITOKEN_TOKEN_H
#define APITOKEN_TOKEN_H

#include <stddef.h>
#include "result.h"

#define TOKEN_MAX_LEN 4096

/*
 * APT_OK, or APT_DENY with *reason one of: empty_token, fake_password
 * (OpenSSH's "\b\n\r\177INCORRECT" for unknown users), token_too_long,
 * token_bad_bytes (anything outside printable ASCII 0x21..0x7e),
 * token_prefix (prefixes set and none matches).
 */
enum apt_rc token_check_local(const char *token, size_t len, const char *prefixes,
			      const char **reason);

#endif
