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

struct auth_outcome {
	enum apt_rc rc;
	const char *reason; /* static word for the audit line */
	const char *source; /* "network", "cache", "grace" or "local" */
	char fingerprint[FINGERPRINT_LEN];
	char err[256];	/* detail for a separate error line; never secret */
	char warn[256]; /* e.g. an unsafe cache directory that was not used */
	/*
	 * For `apitoken check` (the module logs neither): the token's identity
	 * (username_claim) as audit_escape() shows it, and the local user the
	 * first matching user_map line names. "" when there was no answer, no
	 * such claim, no map or no matching line.
	 */
	char identity[AUDIT_ESCAPED_MAX];
	char mapped_user[AUDIT_ESCAPED_MAX];
};

void auth_token(const struct apt_config *cfg, const char *user, const char *rhost,
		const char *token, size_t len, struct auth_outcome *out);

#endif
