/*
 * Trading the API token for an SSH certificate (DESIGN.md §8), both
 * protocols: "apitoken" (Upsun-like: an optional api_token exchange at
 * token_url, then POST cert_url with a Bearer) and "vault" (POST
 * .../sign/ROLE with X-Vault-Token). The same HTTP rules as the module's
 * helper: TLS verified, http:// only to loopback, no redirects, capped
 * bodies, the token only in a header or a form body.
 */
#ifndef APITOKEN_CERTISSUE_H
#define APITOKEN_CERTISSUE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#include "settings.h"

/*
 * What a call came to. The commands turn it into their exit status
 * (apitoken(1), EXIT STATUS); this module knows nothing of exit codes.
 * Every result but CERT_OK comes with a message in err.
 */
enum cert_rc {
	CERT_OK = 0,
	CERT_LOCAL,	  /* on our side: a setting missing or wrong (no cert_url, token_url
			     without client_id, a client_id the exchange refused), an
			     unreadable ca_key_file; for the commands also their files and
			     the agent */
	CERT_REJECTED,	  /* the issuer refused the token (400, 401, 403) */
	CERT_UNAVAILABLE, /* unreachable, 5xx, 429, redirect, an answer we cannot use */
	CERT_BAD,	  /* a certificate that fails our checks: here, not signed by a
			     CA we pin */
	CERT_NOMEM,
};

/* A certificate line for the public key line publine; *cert is malloc'd. */
enum cert_rc cert_issue(const struct settings *s, const char *token, size_t len,
			const char *publine, char **cert, char *err, size_t errlen);

/* The exchange alone (for `token check`): the token is valid if it gets an access token. */
enum cert_rc token_exchange_check(const struct settings *s, const char *token, size_t len,
				  char *err, size_t errlen);

/* The CA keys cert_url/authority publishes, one key line each; free with free_lines. */
/*
 * token check by the platform's own check of its tokens: GET check_url with
 * the token as the bearer (an OIDC /userinfo, UpCloud's /1.3/account, a
 * /me). 200 = valid, 401/403 = not valid, anything else = unavailable.
 */
enum cert_rc token_bearer_check(const struct settings *s, const char *token, size_t len, char *err,
				size_t errlen);

enum cert_rc cert_authorities(const struct settings *s, char ***lines, size_t *n, char *err,
			      size_t errlen);
void free_lines(char **lines, size_t n);

/*
 * The host CA keys cert_url/authority publishes as "host_authorities",
 * one key line each, unchecked (the caller parses them); none (*n 0) when
 * the member is absent, null or empty, when cert_url/authority is not
 * there (404), and for the vault protocol, which has no such endpoint.
 * Anything else in the member (not a list of strings) is CERT_UNAVAILABLE.
 */
enum cert_rc cert_host_authorities(const struct settings *s, char ***lines, size_t *n, char *err,
				   size_t errlen);

struct sshcert;
/*
 * When the settings pin the CA (ca_key_file, or pin_ca = yes for the keys
 * cert_url/authority publishes), whether c is signed by one of them:
 * CERT_OK, or CERT_BAD, CERT_LOCAL (ca_key_file unreadable), or
 * what fetching the authorities came to. CERT_OK when nothing is pinned:
 * the signature was still verified, against the key the certificate
 * names, and sshd decides which CAs it trusts.
 */
enum cert_rc cert_ca_pinned(const struct settings *s, const struct sshcert *c, char *err,
			    size_t errlen);

/* The most a file of CA key lines may hold (ca_key_file, the state's pinned CAs). */
#define CA_KEYS_MAX (256 * 1024)

/* Whether one of the key lines of text ('#' comments allowed) is c's CA. */
bool cert_ca_listed(const struct sshcert *c, const char *text);

/* c's CA as a key line ("ssh-ed25519 BASE64\n"), appended to out. 0, or -1. */
int cert_ca_line(const struct sshcert *c, struct buf *out);

#endif
