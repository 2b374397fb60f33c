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
#include "xdg.h"
#include "errmsg.h"

#define SETTINGS_MAX_SIZE (64 * 1024)

#define KV_TARGET struct settings

static const struct kv_key keys[] = {
    {"token_file", KV_P(token_file)},
    {"cert_url", KV_S(cert_url)},
    {"token_url", KV_S(token_url)},
    {"client_id", KV_S(client_id)},
    {"cert_protocol", KV_S(cert_protocol)},
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
	    (rc = from_env(s, "APITOKEN_PROMPT", "prompt", err, errlen)) != APT_OK)
		return rc;
	if (s->prompt == NULL && (s->prompt = strdup(SETTINGS_DEFAULT_PROMPT)) == NULL)
		return APT_NOMEM;
	/* The module's rule for its issuer, and a mistake to report now, not as "unavailable". */
	if ((s->cert_url && !url_scheme_allowed(s->cert_url)) ||
	    (s->token_url && !url_scheme_allowed(s->token_url))) {
		errf(err, errlen, "%s: want https://, or http:// to a loopback address",
		     s->cert_url && !url_scheme_allowed(s->cert_url) ? "cert_url" : "token_url");
		return APT_SERVICE;
	}
	if (s->cert_protocol != NULL && strcmp(s->cert_protocol, "apitoken") != 0 &&
	    strcmp(s->cert_protocol, "vault") != 0) {
		errf(err, errlen, "cert_protocol: want apitoken or vault");
		return APT_SERVICE;
	}
	return APT_OK;
}

void settings_free(struct settings *s)
{
	free(s->path);
	kv_free(&table, s);
	memset(s, 0, sizeof(*s));
}

enum apt_rc settings_token(const struct settings *s, char **tok, size_t *len, char *err,
			   size_t errlen)
{
	const char *env = getenv("APITOKEN_TOKEN"), *reason, *from;
	enum apt_rc rc;

	*tok = NULL;
	*len = 0;
	if (env != NULL && env[0] != '\0') {
		from = "APITOKEN_TOKEN";
		*len = strlen(env);
		*tok = strdup(env);
		if (*tok == NULL)
			return APT_NOMEM;
	} else if (s->token_file != NULL) {
		from = s->token_file;
		rc = file_read_checked(s->token_file, FILE_SECRET, TOKEN_MAX_LEN + 2, tok, len, err,
				       errlen);
		if (rc != APT_OK)
			return rc;
		while (*len > 0 && ((*tok)[*len - 1] == '\n' || (*tok)[*len - 1] == '\r'))
			(*tok)[--*len] = '\0';
	} else {
		errf(err, errlen, "no API token: set APITOKEN_TOKEN, or token_file in %s",
		     s->path ? s->path : "~/.config/apitoken/config");
		return APT_SERVICE;
	}
	/* The checks the module makes: a token it would refuse is not worth sending. */
	if (token_check_local(*tok, *len, NULL, &reason) != APT_OK) {
		errf(err, errlen, "the API token from %s is unusable (%s)", from, reason);
		free_secret(*tok);
		*tok = NULL;
		*len = 0;
		return APT_SERVICE;
	}
	return APT_OK;
}
