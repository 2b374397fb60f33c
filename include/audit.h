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

/* Input bytes of one value shown; a longer value is cut there and ends in "...". */
#define AUDIT_VALUE_MAX 128
/* An out of this size holds the escaped form of any value (3 bytes each, "...", NUL, one spare). */
#define AUDIT_ESCAPED_MAX (AUDIT_VALUE_MAX * 3 + 3 + 1 + 1)

/*
 * The display form of a value that came from outside, for the audit line and
 * the admin listings: %XX for every byte outside [A-Za-z0-9._-@:+] (NUL
 * included, and a lone "-", which would read as "none"), at most
 * AUDIT_VALUE_MAX bytes of v, then "...". Returns the length written to out,
 * or (size_t)-1 when outlen is too small and out holds a cut prefix that
 * must not be shown as the value.
 */
size_t audit_escape(const char *v, size_t len, char *out, size_t outlen);

/* Writes "result=… reason=… user=… rhost=… token=… source=… ms=…" into out. */
void audit_format(const struct audit_rec *r, char *out, size_t outlen);

#endif
