/*
 * The audit line (DESIGN.md §7). User and rhost come from the client: they
 * are escaped (%XX for anything outside a safe set) so a user name holding
 * " result=allow" or a newline cannot forge a field or a line.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "errmsg.h"
#include "file.h"
#include "hex.h"
#include "timefmt.h"

const char *apt_rc_word(enum apt_rc rc)
{
	switch (rc) {
	case APT_OK:
		return "allow";
	case APT_DENY:
		return "deny";
	case APT_UNAVAIL:
		return "unavailable";
	case APT_SERVICE:
	case APT_NOMEM:
		break;
	}
	return "error";
}

/* NUL is never safe: a claim's bytes may hold one, and it would end the line. */
static bool safe_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("._-@:+", c) != NULL);
}

/* Writes the form of byte c (of a value len bytes long) to out; returns its length. */
typedef size_t (*put_byte_fn)(unsigned char c, size_t len, char *out);

/*
 * The bounded, cut-marking loop both forms share: each of the first
 * AUDIT_VALUE_MAX bytes through put (at most width bytes each), then "..."
 * when v was longer. Returns the length, or (size_t)-1 when out was too small.
 */
static size_t escape_cut(const char *v, size_t len, char *out, size_t outlen, size_t width,
			 put_byte_fn put)
{
	size_t i, pos = 0;

	if (outlen == 0)
		return (size_t)-1;
	/* Room for one more escaped byte and the NUL, and one to spare, before each byte. */
	for (i = 0; i < AUDIT_VALUE_MAX && i < len && pos + width + 1 < outlen; i++)
		pos += put((unsigned char)v[i], len, out + pos);
	if (i < len && (i < AUDIT_VALUE_MAX || pos + 4 >= outlen)) {
		out[pos] = '\0';
		return (size_t)-1;
	}
	if (i < len) {
		memcpy(out + pos, "...", 3);
		pos += 3;
	}
	out[pos] = '\0';
	return pos;
}

static size_t put_percent(unsigned char c, size_t len, char *out)
{
	/* A user really named "-" must not read as "no user". */
	if (safe_char(c) && !(c == '-' && len == 1)) {
		out[0] = (char)c;
		return 1;
	}
	hex_percent(c, out);
	return 3;
}

size_t audit_escape(const char *v, size_t len, char *out, size_t outlen)
{
	return escape_cut(v, len, out, outlen, 3, put_percent);
}

/*
 * Appends the escaped value, "-" when absent or empty. Returns the new
 * position, or (size_t)-1 when out is full and the value was cut: nothing
 * may follow it then, or "user=al rh" would name another user.
 */
static size_t put_value(char *out, size_t outlen, size_t pos, const char *v)
{
	size_t n;

	if (v == NULL || v[0] == '\0') {
		if (pos + 1 < outlen)
			out[pos++] = '-';
		out[pos] = '\0';
		return pos;
	}
	/* Past AUDIT_VALUE_MAX bytes only "more" matters: a client's string is not read to its end.
	 */
	n = audit_escape(v, strnlen(v, AUDIT_VALUE_MAX + 1), out + pos, outlen - pos);
	return n == (size_t)-1 ? n : pos + n;
}

/* Appends the literal text t (a field's " key="), as much as fits. Returns the new position. */
static size_t put_literal(char *out, size_t outlen, size_t pos, const char *t)
{
	int n = snprintf(out + pos, outlen - pos, "%s", t);

	return pos + (n < 0 ? 0 : (size_t)n >= outlen - pos ? outlen - pos - 1 : (size_t)n);
}

void audit_format(const struct audit_rec *r, char *out, size_t outlen)
{
	size_t pos;
	int n;

	if (outlen == 0)
		return;
	n = snprintf(out, outlen, "result=%s reason=%s %s=", r->result ? r->result : "error",
		     r->reason ? r->reason : "internal", r->command != NULL ? "command" : "user");
	pos = n < 0 ? 0 : (size_t)n >= outlen ? outlen - 1 : (size_t)n;
	if (r->command != NULL) {
		pos = put_value(out, outlen, pos, r->command);
		if (pos == (size_t)-1)
			return;
		pos = put_literal(out, outlen, pos, " user=");
	}
	pos = put_value(out, outlen, pos, r->user);
	if (pos == (size_t)-1)
		return;
	pos = put_literal(out, outlen, pos, " rhost=");
	pos = put_value(out, outlen, pos, r->rhost);
	if (pos == (size_t)-1)
		return;
	snprintf(out + pos, outlen - pos, " token=%s source=%s ms=%ld", r->token ? r->token : "-",
		 r->source ? r->source : "-", r->ms);
}

static size_t put_json_byte(unsigned char c, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";

	(void)len;
	if (c == '"' || c == '\\') {
		out[0] = '\\';
		out[1] = (char)c;
		return 2;
	}
	if (c >= 0x20 && c < 0x7f) {
		out[0] = (char)c;
		return 1;
	}
	/* Not raw UTF-8: a byte sequence that is not UTF-8 has no JSON form. */
	out[0] = '\\';
	out[1] = 'u';
	out[2] = '0';
	out[3] = '0';
	out[4] = hex[c >> 4];
	out[5] = hex[c & 15];
	return 6;
}

size_t audit_json_escape(const char *v, size_t len, char *out, size_t outlen)
{
	return escape_cut(v, len, out, outlen, 6, put_json_byte);
}

/* Appends ,"key": and v as a JSON string (null when NULL). Returns the new pos or (size_t)-1. */
static size_t put_json(char *out, size_t outlen, size_t pos, const char *key, const char *v)
{
	char esc[AUDIT_JSON_ESCAPED_MAX];
	int n;

	if (pos == (size_t)-1)
		return pos;
	if (v != NULL &&
	    audit_json_escape(v, strnlen(v, AUDIT_VALUE_MAX + 1), esc, sizeof(esc)) == (size_t)-1)
		return (size_t)-1; /* cannot happen: esc holds any value's form */
	n = v == NULL ? snprintf(out + pos, outlen - pos, "%s\"%s\":null", pos > 1 ? "," : "", key)
		      : snprintf(out + pos, outlen - pos, "%s\"%s\":\"%s\"", pos > 1 ? "," : "",
				 key, esc);
	if (n < 0 || (size_t)n >= outlen - pos)
		return (size_t)-1;
	return pos + (size_t)n;
}

size_t audit_format_json(const struct audit_rec *r, time_t now, char *out, size_t outlen)
{
	char when[TIMEFMT_ISO_LEN];
	size_t pos;
	int n;

	if (outlen < 2)
		return (size_t)-1;
	timefmt_iso(now, when);
	out[0] = '{';
	out[1] = '\0';
	pos = put_json(out, outlen, 1, "time", when);
	pos = put_json(out, outlen, pos, "service", r->service);
	/* The syslog line's fields, with its defaults where it has one for a missing value. */
	pos = put_json(out, outlen, pos, "result", r->result ? r->result : "error");
	pos = put_json(out, outlen, pos, "reason", r->reason ? r->reason : "internal");
	if (r->command != NULL)
		pos = put_json(out, outlen, pos, "command", r->command);
	pos = put_json(out, outlen, pos, "user", r->user);
	pos = put_json(out, outlen, pos, "mapped_user", r->mapped_user);
	pos = put_json(out, outlen, pos, "rhost", r->rhost);
	pos = put_json(out, outlen, pos, "token", r->token);
	pos = put_json(out, outlen, pos, "source", r->source);
	if (pos == (size_t)-1)
		return pos;
	n = snprintf(out + pos, outlen - pos, ",\"ms\":%ld}\n", r->ms);
	if (n < 0 || (size_t)n >= outlen - pos)
		return (size_t)-1;
	return pos + (size_t)n;
}

int audit_append_json(const char *path, const struct audit_rec *r, char *err, size_t errlen)
{
	char line[AUDIT_JSON_MAX];
	size_t len = audit_format_json(r, time(NULL), line, sizeof(line));
	ssize_t n;
	int fd, e;

	if (len == (size_t)-1)
		return errf(err, errlen, "%s: audit line longer than %d bytes, not written", path,
			    AUDIT_JSON_MAX);
	fd = file_open_checked(path, FILE_APPEND, err, errlen);
	if (fd < 0)
		return -1;
	/*
	 * One write(): O_APPEND puts it at the end as one piece. A retry of a
	 * rest could land after another process's line, so a short write is
	 * reported, not continued.
	 */
	do
		n = write(fd, line, len);
	while (n < 0 && errno == EINTR);
	e = errno;
	close(fd);
	if (n < 0)
		return errf(err, errlen, "%s: %s", path, strerror(e));
	if ((size_t)n != len)
		return errf(err, errlen, "%s: short write (%zd of %zu bytes; is the disk full?)",
			    path, n, len);
	return 0;
}
