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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data + 1;
	size_t left = size - 1, outlen, nwords = 0;
	char line[1024 + 16], *user, *rhost, *w, *save = NULL, want[128 * 3 + 8];
	struct audit_rec r = {
	    "deny", "user_mismatch", NULL, NULL, "ucat_sha256:3f2a9c1b", "network", 0};
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
