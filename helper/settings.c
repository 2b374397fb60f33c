/*
 * The client's settings: environment, then the per-user config file, read
 * through the same key = value reader as the module's config (lib/keyvalue.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "keyvalue.h"
#include "config.h"
#include "file.h"
#include "settings.h"
#include "token.h"
#include "url.h"
#include "words.h"
#include "xdg.h"
#include "errmsg.h"

#define SETTINGS_MAX_SIZE (64 * 1024)

#define KV_TARGET struct settings

static const struct kv_key keys[] = {
    {"token_env", KV_W(token_env)},
    {"token_file", KV_P(token_file)},
    {"cert_url", KV_S(cert_url)},
    {"token_url", KV_S(token_url)},
    {"check_url", KV_S(check_url)},
    {"client_id", KV_S(client_id)},
    {"cert_protocol", KV_S(cert_protocol_name)},
    {"hosts", KV_W(hosts)},
    {"key_ttl", KV_L(key_ttl, 60, 30 * 86400)},
    {"prompt", KV_S(prompt)},
    {"proxy", KV_S(proxy)},
    {"ca_key_file", KV_P(ca_key_file)},
    {"pin_ca", KV_BOOL, offsetof(struct settings, pin_ca), 0, 0, false},
};

static const struct kv_table table = {keys, sizeof(keys) / sizeof(keys[0])};

/* $XDG_CONFIG_HOME/apitoken/config, else ~/.config/apitoken/config. */
static char *settings_path(void)
{
	return xdg_path(XDG_CONFIG, "apitoken/config", NULL);
}

/* An environment variable overrides a key: "key=value" through the same parser. */
static enum apt_rc from_env(struct settings *s, const char *var, const char *key, char *err,
			    size_t errlen)
{
	const char *v = getenv(var);
	struct buf arg = BUF_INIT;
	enum apt_rc rc;

	if (v == NULL || v[0] == '\0')
		return APT_OK;
	buf_appendf(&arg, "%s=%s", key, v);
	if (arg.failed)
		return APT_NOMEM;
	rc = kv_set(&table, s, (char *)arg.p, err, errlen);
	if (rc == APT_SERVICE) {
		char msg[200];
		snprintf(msg, sizeof(msg), "%s", err);
		errf(err, errlen, "%s: %s", var, msg);
	}
	buf_free(&arg);
	return rc;
}

/*
 * token_env names variables, not values: a word that is not a variable name
 * is most likely a token pasted into the wrong key, so the message does not
 * quote it.
 */
static enum apt_rc check_token_env(const struct settings *s, char *err, size_t errlen)
{
	const char *w;
	size_t n, count = 0;

	for (const char *p = settings_token_env(s); next_word(&p, &w, &n); count++) {
		bool ok =
		    n > 0 && n < sizeof(((struct token_source *)0)->name) &&
		    (w[0] == '_' || (w[0] >= 'A' && w[0] <= 'Z') || (w[0] >= 'a' && w[0] <= 'z'));

		for (size_t i = 1; ok && i < n; i++)
			ok = w[i] == '_' || (w[i] >= 'A' && w[i] <= 'Z') ||
			     (w[i] >= 'a' && w[i] <= 'z') || (w[i] >= '0' && w[i] <= '9');
		if (!ok) {
			errf(err, errlen,
			     "token_env: word %zu is not a variable name: list the names of the "
			     "variables that hold the token (e.g. token_env = UPSUN_CLI_TOKEN), "
			     "never the token",
			     count + 1);
			return APT_SERVICE;
		}
	}
	if (count == 0) {
		errf(err, errlen, "token_env: name at least one variable, e.g. APITOKEN_TOKEN");
		return APT_SERVICE;
	}
	return APT_OK;
}

enum apt_rc settings_load(struct settings *s, char *err, size_t errlen)
{
	enum apt_rc rc;

	memset(s, 0, sizeof(*s));
	s->key_ttl = 86400;
	err[0] = '\0';
	s->path = settings_path();
	if (s->path != NULL && (access(s->path, F_OK) == 0 || errno != ENOENT)) {
		rc = kv_read_file(&table, s, s->path, SETTINGS_MAX_SIZE, err, errlen);
		if (rc != APT_OK)
			return rc;
	}
	if ((rc = from_env(s, "APITOKEN_CERT_URL", "cert_url", err, errlen)) != APT_OK ||
	    (rc = from_env(s, "APITOKEN_TOKEN_URL", "token_url", err, errlen)) != APT_OK ||
	    (rc = from_env(s, "APITOKEN_CHECK_URL", "check_url", err, errlen)) != APT_OK ||
	    (rc = from_env(s, "APITOKEN_CLIENT_ID", "client_id", err, errlen)) != APT_OK ||
	    (rc = from_env(s, "APITOKEN_TOKEN_ENV", "token_env", err, errlen)) != APT_OK ||
	    (rc = from_env(s, "APITOKEN_PROMPT", "prompt", err, errlen)) != APT_OK ||
	    (rc = from_env(s, "APITOKEN_HOSTS", "hosts", err, errlen)) != APT_OK)
		return rc;
	if ((rc = check_token_env(s, err, errlen)) != APT_OK)
		return rc;
	if (s->prompt == NULL && (s->prompt = strdup(SETTINGS_DEFAULT_PROMPT)) == NULL)
		return APT_NOMEM;
	/* The module's rule for its issuer, and a mistake to report now, not as "unavailable". */
	{
		const char *bad = s->cert_url && !url_scheme_allowed(s->cert_url)     ? "cert_url"
				  : s->token_url && !url_scheme_allowed(s->token_url) ? "token_url"
				  : s->check_url && !url_scheme_allowed(s->check_url) ? "check_url"
										      : NULL;
		if (bad != NULL) {
			errf(err, errlen, "%s: want https://, or http:// to a loopback address",
			     bad);
			return APT_SERVICE;
		}
	}
	/* One reading of the word, here: the rest of the code sees only the enum. */
	if (s->cert_protocol_name != NULL) {
		if (strcmp(s->cert_protocol_name, "vault") == 0) {
			s->cert_protocol = CERT_PROTOCOL_VAULT;
		} else if (strcmp(s->cert_protocol_name, "apitoken") != 0) {
			errf(err, errlen, "cert_protocol: want apitoken or vault");
			return APT_SERVICE;
		}
		free(s->cert_protocol_name);
		s->cert_protocol_name = NULL;
	}
	return APT_OK;
}

void settings_free(struct settings *s)
{
	free(s->path);
	kv_free(&table, s);
	memset(s, 0, sizeof(*s));
}

/* The first variable of token_env that is set and not empty, or NULL; *name its name. */
static const char *token_variable(const struct settings *s, char *name, size_t namelen)
{
	const char *w, *v;
	size_t n;

	for (const char *p = settings_token_env(s); next_word(&p, &w, &n);) {
		if (n >= namelen)
			continue; /* check_token_env refused it already */
		memcpy(name, w, n);
		name[n] = '\0';
		if ((v = getenv(name)) != NULL && v[0] != '\0')
			return v;
	}
	return NULL;
}

enum apt_rc settings_token_from(const struct settings *s, char **tok, size_t *len,
				struct token_source *src, char *err, size_t errlen)
{
	struct token_source own;
	const char *env, *reason;
	enum apt_rc rc;

	*tok = NULL;
	*len = 0;
	if (src == NULL)
		src = &own;
	memset(src, 0, sizeof(*src));
	if ((env = token_variable(s, src->name, sizeof(src->name))) != NULL) {
		*len = strlen(env);
		*tok = strdup(env);
		if (*tok == NULL)
			return APT_NOMEM;
		/* One line end, as `echo` and secrets UIs add: not part of any token. */
		if (*len > 0 && (*tok)[*len - 1] == '\n') {
			(*tok)[--*len] = '\0';
			if (*len > 0 && (*tok)[*len - 1] == '\r')
				(*tok)[--*len] = '\0';
			src->trimmed_eol = true;
		}
	} else if (s->token_file != NULL) {
		snprintf(src->name, sizeof(src->name), "%s", s->token_file);
		src->file = true;
		rc = file_read_checked(s->token_file, FILE_SECRET, TOKEN_MAX_LEN + 2, tok, len, err,
				       errlen);
		if (rc != APT_OK)
			return rc;
		while (*len > 0 && ((*tok)[*len - 1] == '\n' || (*tok)[*len - 1] == '\r'))
			(*tok)[--*len] = '\0';
	} else {
		const char *vars = settings_token_env(s);

		src->name[0] = '\0';
		errf(err, errlen, "no API token: set %s%s, or token_file in %s",
		     strchr(vars, ' ') ? "one of " : "", vars,
		     s->path ? s->path : "~/.config/apitoken/config");
		return APT_SERVICE;
	}
	/* The checks the module makes: a token it would refuse is not worth sending. */
	if (token_check_local(*tok, *len, NULL, &reason) != APT_OK) {
		if (strcmp(reason, "token_bad_bytes") == 0)
			errf(err, errlen,
			     "the API token from %s has a space, a control character or a "
			     "non-ASCII byte in it: copy it again, as the platform shows it",
			     src->name);
		else
			errf(err, errlen, "the API token from %s is unusable (%s)", src->name,
			     reason);
		free_secret(*tok);
		*tok = NULL;
		*len = 0;
		return APT_SERVICE;
	}
	return APT_OK;
}
