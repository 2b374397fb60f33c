/*
 * One authentication, start to end, without PAM types: local checks,
 * introspection, policy. The PAM glue calls this and logs the outcome.
 */
#ifndef APITOKEN_AUTH_H
#define APITOKEN_AUTH_H

#include <stddef.h>
#include "audit.h"
#include "config.h"
#include "fingerprint.h"
#include "result.h"

/*
 * What an allowed login hands its session through the PAM environment,
 * which sshd applies after the client's own variables (SendEnv/SetEnv), so
 * that the client cannot set them: the token's scopes and its fingerprint,
 * read by `apitoken shell` (DESIGN.md §8a).
 */
#define AUTH_ENV_SCOPES	  "APITOKEN_SCOPES"
#define AUTH_ENV_TOKEN_FP "APITOKEN_TOKEN_FP"

/* The longest scope string handed to a session, NUL included. */
#define AUTH_SCOPES_MAX 1024

struct auth_outcome {
	enum apt_rc rc;
	const char *reason; /* static word for the audit line */
	const char *source; /* "network", "cache", "grace" or "local" */
	char fingerprint[FINGERPRINT_LEN];
	char err[256];	/* detail for a separate error line; never secret */
	char warn[256]; /* e.g. an unsafe cache directory that was not used */
	/*
	 * For `apitoken check`, through auth_token_explain() only (the module
	 * logs neither, and its cache hits do not pay for them): the token's identity
	 * (username_claim) as audit_escape() shows it, and the local user the
	 * first matching user_map line names. "" when there was no answer, no
	 * such claim, no map or no matching line.
	 */
	char identity[AUDIT_ESCAPED_MAX];
	char mapped_user[AUDIT_ESCAPED_MAX];
	/*
	 * Allowed only: the token's scopes, space-separated, for the session
	 * (`apitoken shell`, DESIGN.md §8a). Only words of printable ASCII
	 * without spaces are kept, and whole words up to the size: a word
	 * dropped is a permission less, never one more.
	 */
	char scopes[AUTH_SCOPES_MAX];
};

void auth_token(const struct apt_config *cfg, const char *user, const char *rhost,
		const char *token, size_t len, struct auth_outcome *out);
/* The same decision, also filling out->identity and out->mapped_user (apitoken check). */
void auth_token_explain(const struct apt_config *cfg, const char *user, const char *rhost,
			const char *token, size_t len, struct auth_outcome *out);

#endif
