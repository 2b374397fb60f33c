/*
 * The audit line (DESIGN.md §7): one per decision, key=value words, values
 * that came from outside (user, rhost) escaped so a crafted user name cannot
 * forge fields or lines.
 */
#ifndef APITOKEN_AUDIT_H
#define APITOKEN_AUDIT_H

#include <stddef.h>
#include "result.h"

struct audit_rec {
	const char *result;
	const char *reason;
	const char *user;
	const char *rhost;
	const char *token; /* the fingerprint, never the token */
	const char *source;
	long ms;
};

/* "allow", "deny", "unavailable" or "error": the result= word. */
const char *apt_rc_word(enum apt_rc rc);

/* Writes "result=… reason=… user=… rhost=… token=… source=… ms=…" into out. */
void audit_format(const struct audit_rec *r, char *out, size_t outlen);

#endif
