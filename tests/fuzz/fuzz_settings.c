/*
 * libFuzzer harness for the client settings (helper/settings.c): the file
 * $XDG_CONFIG_HOME/apitoken/config and the environment that overrides it,
 * then the token from APITOKEN_TOKEN. Input: the file's text, then NUL-ended
 * values for APITOKEN_CERT_URL, APITOKEN_TOKEN_URL, APITOKEN_PROMPT,
 * APITOKEN_TOKEN, APITOKEN_CLIENT_ID, APITOKEN_TOKEN_ENV and
 * APITOKEN_CHECK_URL (empty or missing: unset). The file lives in a private directory that
 * passes lib/file.c's checks.
 *
 * Oracles: settings that load have https:// (or loopback http://) URLs,
 * cert_protocol read as apitoken (also when unset) or vault, key_ttl in 60..30 days, a prompt,
 * absolute paths and no control bytes; written back as a file they load
 * again as the same settings. token_env loads only as variable names. With
 * token_env the default, a token settings_token accepts is APITOKEN_TOKEN's
 * value less one line end and passes token_check_local; one it refuses is
 * not quoted in the message.
 */
#include <strings.h>
#include <sys/stat.h>

#include "buf.h"
#include "config.h"
#include "oracle.h"
#include "settings.h"
#include "token.h"
#include "url.h"

enum kind { STR, PATHV, LONGV, BOOLV, PROTOCOLV };

static const struct {
	const char *name;
	enum kind kind;
	size_t off;
} keys[] = {
#define K(n, k)                                                                                    \
	{                                                                                          \
#n, k, offsetof(struct settings, n)                                                \
	}
    K(token_env, STR),
    K(token_file, PATHV),
    K(cert_url, STR),
    K(token_url, STR),
    K(check_url, STR),
    K(client_id, STR),
    K(cert_protocol, PROTOCOLV),
    K(hosts, STR),
    K(key_ttl, LONGV),
    K(prompt, STR),
    K(proxy, STR),
    K(ca_key_file, PATHV),
    K(pin_ca, BOOLV),
#undef K
};
#define NKEYS	       (sizeof(keys) / sizeof(keys[0]))
#define FIELD(s, i, t) (*(t *)((char *)(s) + keys[i].off))

static const char *const vars[] = {"APITOKEN_CERT_URL", "APITOKEN_TOKEN_URL", "APITOKEN_PROMPT",
				   "APITOKEN_TOKEN",	"APITOKEN_CLIENT_ID", "APITOKEN_TOKEN_ENV",
				   "APITOKEN_CHECK_URL"};
#define NVARS (sizeof(vars) / sizeof(vars[0]))

static bool url_ok(const char *u)
{
	return u == NULL || url_scheme_allowed(u);
}

static void check_valid(const struct settings *s)
{
	CHECK(url_ok(s->cert_url) && url_ok(s->token_url) && url_ok(s->check_url));
	CHECK(s->cert_protocol == CERT_PROTOCOL_APITOKEN ||
	      s->cert_protocol == CERT_PROTOCOL_VAULT);
	CHECK(s->cert_protocol_name == NULL); /* read into the enum, nothing else left */
	CHECK(s->key_ttl >= 60 && s->key_ttl <= 30 * 86400);
	CHECK(s->prompt != NULL);
	for (const char *p = s->token_env ? s->token_env : ""; *p != '\0'; p++)
		CHECK(*p == ' ' || *p == '\t' || *p == '_' || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'));
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].kind == STR || keys[i].kind == PATHV) {
			const char *v = FIELD(s, i, char *);
			CHECK(v == NULL || (v[0] != '\0' && no_control_bytes(v)));
			CHECK(v == NULL || keys[i].kind != PATHV || v[0] == '/');
		}
	}
}

static void write_back(const struct settings *s, struct buf *out)
{
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].kind == LONGV)
			buf_appendf(out, "%s = %ld\n", keys[i].name, FIELD(s, i, long));
		else if (keys[i].kind == BOOLV)
			buf_appendf(out, "%s = %s\n", keys[i].name,
				    FIELD(s, i, bool) ? "yes" : "no");
		else if (keys[i].kind == PROTOCOLV)
			buf_appendf(out, "%s = %s\n", keys[i].name,
				    FIELD(s, i, enum cert_protocol) == CERT_PROTOCOL_VAULT
					? "vault"
					: "apitoken");
		else if (FIELD(s, i, char *) != NULL)
			buf_appendf(out, "%s = \"%s\"\n", keys[i].name, FIELD(s, i, char *));
	}
}

static void check_same(const struct settings *a, const struct settings *b)
{
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].kind == LONGV) {
			CHECK(FIELD(a, i, long) == FIELD(b, i, long));
		} else if (keys[i].kind == BOOLV) {
			CHECK(FIELD(a, i, bool) == FIELD(b, i, bool));
		} else if (keys[i].kind == PROTOCOLV) {
			CHECK(FIELD(a, i, enum cert_protocol) == FIELD(b, i, enum cert_protocol));
		} else {
			const char *x = FIELD(a, i, char *), *y = FIELD(b, i, char *);
			CHECK((x == NULL) == (y == NULL) && (x == NULL || strcmp(x, y) == 0));
		}
	}
}

static void check_token(const struct settings *s, const char *env)
{
	const char *reason;
	char *tok, err[512];
	size_t len;
	enum apt_rc rc = settings_token(s, &tok, &len, err, sizeof(err));

	if (rc == APT_OK && strcmp(settings_token_env(s), "APITOKEN_TOKEN") == 0) {
		size_t n = strlen(env);

		if (n > 0 && env[n - 1] == '\n')
			n -= n > 1 && env[n - 2] == '\r' ? 2 : 1;
		CHECK(env[0] != '\0' && len == n && memcmp(tok, env, n) == 0 && tok[n] == '\0');
	}
	if (rc == APT_OK) {
		CHECK(token_check_local(tok, len, NULL, &reason) == APT_OK);
		free_secret(tok);
		return;
	}
	CHECK(tok == NULL && len == 0);
	/* '#' appears in no message of settings_token: a token with one is not quoted. */
	CHECK(rc != APT_SERVICE || env[0] == '\0' || strchr(env, '#') == NULL ||
	      strstr(err, env) == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char file[300], dir[300];
	const uint8_t *p = data;
	size_t left = size;
	struct settings s, again;
	struct buf text = BUF_INIT;
	char err[512], *part, *env[NVARS];
	enum apt_rc rc;

	if (file[0] == '\0') {
		snprintf(dir, sizeof(dir), "%s/apitoken", fuzz_dir(true));
		CHECK(mkdir(dir, 0700) == 0);
		snprintf(file, sizeof(file), "%s/config", dir);
		setenv("XDG_CONFIG_HOME", fuzz_dir(true), 1);
	}
	part = next_part(&p, &left);
	write_file(file, part, strlen(part));
	free(part);
	for (size_t i = 0; i < NVARS; i++) {
		env[i] = next_part(&p, &left);
		if (env[i][0] != '\0')
			setenv(vars[i], env[i], 1);
		else
			unsetenv(vars[i]);
	}

	rc = settings_load(&s, err, sizeof(err));
	if (rc == APT_OK) {
		check_valid(&s);
		check_token(&s, env[3]);
		write_back(&s, &text);
		CHECK(!text.failed);
		write_file(file, text.p, text.len);
		for (size_t i = 0; i < NVARS; i++)
			unsetenv(vars[i]);
		rc = settings_load(&again, err, sizeof(err));
		if (rc != APT_OK)
			fprintf(stderr, "reload: %s\n", err);
		CHECK(rc == APT_OK);
		check_same(&s, &again);
		settings_free(&again);
	} else {
		CHECK(rc == APT_SERVICE || rc == APT_NOMEM);
		CHECK(rc != APT_SERVICE || err[0] != '\0');
	}
	settings_free(&s);
	buf_free(&text);
	for (size_t i = 0; i < NVARS; i++)
		free(env[i]);
	return 0;
}
