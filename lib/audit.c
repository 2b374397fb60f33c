/*
 * The audit line (DESIGN.md §7). User and rhost come from the client: they
 * are escaped (%XX for anything outside a safe set) so a user name holding
 * " result=allow" or a newline cannot forge a field or a line.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "hex.h"

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

size_t audit_escape(const char *v, size_t len, char *out, size_t outlen)
{
	size_t i, pos = 0;

	if (outlen == 0)
		return (size_t)-1;
	/* Room for one more escaped byte and the NUL, and one to spare, before each byte. */
	for (i = 0; i < AUDIT_VALUE_MAX && i < len && pos + 4 < outlen; i++) {
		unsigned char c = (unsigned char)v[i];
		/* A user really named "-" must not read as "no user". */
		if (safe_char(c) && !(c == '-' && len == 1)) {
			out[pos++] = (char)c;
		} else {
			hex_percent(c, out + pos);
			pos += 3;
		}
	}
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

void audit_format(const struct audit_rec *r, char *out, size_t outlen)
{
	size_t pos;
	int n;

	if (outlen == 0)
		return;
	n = snprintf(out, outlen, "result=%s reason=%s user=", r->result ? r->result : "error",
		     r->reason ? r->reason : "internal");
	pos = n < 0 ? 0 : (size_t)n >= outlen ? outlen - 1 : (size_t)n;
	pos = put_value(out, outlen, pos, r->user);
	if (pos == (size_t)-1)
		return;
	n = snprintf(out + pos, outlen - pos, " rhost=");
	pos += n < 0 ? 0 : (size_t)n >= outlen - pos ? outlen - pos - 1 : (size_t)n;
	pos = put_value(out, outlen, pos, r->rhost);
	if (pos == (size_t)-1)
		return;
	snprintf(out + pos, outlen - pos, " token=%s source=%s ms=%ld", r->token ? r->token : "-",
		 r->source ? r->source : "-", r->ms);
}
