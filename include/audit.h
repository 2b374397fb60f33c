/*
 * The audit line (DESIGN.md §7): one per decision, key=value words, values
 * that came from outside (user, rhost) escaped so a crafted user name cannot
 * forge fields or lines.
 */
#ifndef APITOKEN_AUDIT_H
#define APITOKEN_AUDIT_H

#include <stddef.h>
#include <time.h>
#include "result.h"

struct audit_rec {
	const char *result;
	const char *reason;
	const char *user;
	const char *rhost;
	const char *token; /* the fingerprint, never the token */
	const char *source;
	long ms;
	const char *service;	 /* PAM_SERVICE: only the JSON line has it (syslog names it) */
	const char *mapped_user; /* the local user a user_map gave; NULL: none */
	/*
	 * `apitoken shell`'s lines only: the command decided on, escaped like
	 * user; after reason= in the syslog line, "command" in JSON. NULL: the
	 * field is left out (the module's lines have none).
	 */
	const char *command;
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

/*
 * The JSON form of a value for audit_file: '"' and '\\' as \" and \\, and
 * every byte below 0x20, 0x7f and every byte from 0x80 on as \u00XX, so
 * the string's code points are the value's bytes one to one (two user
 * names never read the same, and a client's invalid UTF-8 cannot make the
 * line invalid JSON); at most AUDIT_VALUE_MAX bytes of v, then "...". No
 * quotes around it. Returns the length written to out, or (size_t)-1 when
 * outlen is too small (out then holds a cut prefix, not to be used).
 */
size_t audit_json_escape(const char *v, size_t len, char *out, size_t outlen);
/* An out of this size holds any value's JSON form (6 bytes each, "...", NUL, one spare). */
#define AUDIT_JSON_ESCAPED_MAX (AUDIT_VALUE_MAX * 6 + 3 + 1 + 1)

/*
 * A JSON line is at most this long, newline included: under PIPE_BUF
 * (4096 on Linux), so that one write(O_APPEND) of it is never split or
 * interleaved with another process's line.
 */
#define AUDIT_JSON_MAX 4000

/*
 * The audit line as one JSON object and a newline: "time" (now, ISO 8601
 * UTC: a file has no syslog timestamp), "service", the fields of the syslog
 * line under the same names ("ms" a number, absent values null) and
 * "mapped_user". Returns its length, or (size_t)-1 when it would not fit in
 * outlen (nothing of it may be written then: a cut line is not JSON).
 */
size_t audit_format_json(const struct audit_rec *r, time_t now, char *out, size_t outlen);

/*
 * Appends r's JSON line to path, opened as FILE_APPEND (lib/file.c: every
 * directory and the file itself safe, no symbolic link, 0600) with one
 * write(). 0, or -1 with a message in err naming the file, what is wrong
 * and the fix. The login decision never depends on it.
 */
int audit_append_json(const char *path, const struct audit_rec *r, char *err, size_t errlen);

#endif
