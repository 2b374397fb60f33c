/*
 * libFuzzer harness for audit_format (lib/audit.c), the audit line whose
 * user and rhost come from the client. Input: a byte for the buffer size
 * (0: the module's 1024, else a small one), then user, NUL, rhost.
 *
 * Oracles: the line holds no control byte; its words are exactly
 * result= reason= user= rhost= token= source= ms=, in that order (a prefix
 * of them, the last one maybe cut, when the buffer is too small), so a
 * user or rhost can never forge a field or a line; and with the full
 * buffer, user= and rhost= are exactly the escaping the module promises
 * (%XX outside [A-Za-z0-9._-@:+], "-" for none, a lone "-" escaped, at
 * most 128 input bytes then "...").
 *
 * Then the JSON form of audit_file: audit_json_escape() of user and rhost
 * is printable ASCII with no bare '"' or '\\', decodes (\" \\ \u00XX)
 * back to exactly the input's first 128 bytes (then "..." when cut), and
 * audit_format_json() is one line, within AUDIT_JSON_MAX, holding each
 * escaped value as a whole "key":"value" member.
 */
#include "audit.h"
#include "oracle.h"

static const char *const keys[] = {"result", "reason", "user", "rhost", "token", "source", "ms"};

static void escape(char *out, const char *v)
{
	size_t i, o = 0;

	if (v[0] == '\0') {
		strcpy(out, "-");
		return;
	}
	for (i = 0; v[i] != '\0' && i < 128; i++) {
		unsigned char c = (unsigned char)v[i];
		bool safe = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || strchr("._-@:+", c) != NULL) &&
			    !(c == '-' && i == 0 && v[1] == '\0');
		if (safe)
			out[o++] = (char)c;
		else
			o += (size_t)sprintf(out + o, "%%%02X", c);
	}
	if (v[i] != '\0') {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* Decodes what audit_json_escape wrote and checks it is the input, byte for byte. */
static void check_json_escape(const char *v)
{
	char out[AUDIT_JSON_ESCAPED_MAX], back[AUDIT_VALUE_MAX + 4];
	size_t len = strlen(v), n = audit_json_escape(v, len, out, sizeof(out)), i, o = 0;
	size_t kept = len < AUDIT_VALUE_MAX ? len : AUDIT_VALUE_MAX;

	CHECK(n != (size_t)-1 && n == strlen(out));
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)out[i];
		unsigned x;

		CHECK(c >= 0x20 && c < 0x7f && c != '"');
		if (c != '\\') {
			back[o++] = (char)c;
			continue;
		}
		CHECK(i + 1 < n);
		if (out[i + 1] == '"' || out[i + 1] == '\\') {
			back[o++] = out[++i];
			continue;
		}
		CHECK(i + 5 < n && sscanf(out + i, "\\u00%2x", &x) == 1 && x <= 0xff);
		CHECK(x < 0x20 || x >= 0x7f); /* printable ASCII is never escaped */
		back[o++] = (char)x;
		i += 5;
	}
	if (len > AUDIT_VALUE_MAX) {
		CHECK(o == kept + 3 && memcmp(back + kept, "...", 3) == 0);
	} else {
		CHECK(o == kept);
	}
	CHECK(memcmp(back, v, kept) == 0);
}

/* The JSON line: one line, bounded, "key":"escaped value" present whole. */
static void check_json_line(const struct audit_rec *r)
{
	char line[AUDIT_JSON_MAX], esc[AUDIT_JSON_ESCAPED_MAX], member[AUDIT_JSON_ESCAPED_MAX + 16];
	size_t n = audit_format_json(r, 0, line, sizeof(line));

	CHECK(n != (size_t)-1 && n == strlen(line) && n < AUDIT_JSON_MAX);
	CHECK(line[0] == '{' && line[n - 1] == '\n' && line[n - 2] == '}');
	CHECK(memchr(line, '\n', n - 1) == NULL);
	audit_json_escape(r->user, strlen(r->user), esc, sizeof(esc));
	snprintf(member, sizeof(member), ",\"user\":\"%s\",", esc);
	CHECK(strstr(line, member) != NULL);
	audit_json_escape(r->rhost, strlen(r->rhost), esc, sizeof(esc));
	snprintf(member, sizeof(member), ",\"rhost\":\"%s\",", esc);
	CHECK(strstr(line, member) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data + 1;
	size_t left = size - 1, outlen, nwords = 0;
	char line[1024 + 16], *user, *rhost, *w, *save = NULL, want[128 * 3 + 8];
	struct audit_rec r = {.result = "deny",
			      .reason = "user_mismatch",
			      .token = "ucat_sha256:3f2a9c1b",
			      .source = "network"};
	bool full;

	if (size < 1)
		return 0;
	outlen = data[0] == 0 ? 1024 : data[0] % 96 + 1;
	full = outlen == 1024;
	user = next_part(&p, &left);
	rhost = next_part(&p, &left);
	r.user = user;
	r.rhost = rhost;
	r.ms = (long)left;

	check_json_escape(user);
	check_json_escape(rhost);
	check_json_line(&r);

	memset(line, 'Z', sizeof(line));
	audit_format(&r, line, outlen);
	CHECK(memchr(line, '\0', outlen) != NULL);
	for (size_t i = outlen; i < sizeof(line); i++)
		CHECK(line[i] == 'Z'); /* nothing written past outlen */
	CHECK(no_control_bytes(line));
	CHECK(line[0] != ' ' && strstr(line, "  ") == NULL);

	for (w = strtok_r(line, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(w, '=');
		bool last = save == NULL || *save == '\0';
		size_t k;

		CHECK(nwords < sizeof(keys) / sizeof(keys[0]));
		k = strlen(keys[nwords]);
		if (eq == NULL) {
			/* Only the last word may be cut, and only when the buffer is short. */
			CHECK(last && !full && strncmp(w, keys[nwords], strlen(w)) == 0);
			break;
		}
		CHECK((size_t)(eq - w) == k && memcmp(w, keys[nwords], k) == 0);
		if (full && nwords == 2) {
			escape(want, user);
			CHECK(strcmp(eq + 1, want) == 0);
		}
		if (full && nwords == 3) {
			escape(want, rhost);
			CHECK(strcmp(eq + 1, want) == 0);
		}
		nwords++;
	}
	if (full)
		CHECK(nwords == sizeof(keys) / sizeof(keys[0]));
	free(user);
	free(rhost);
	return 0;
}
