/*
 * The client's settings (DESIGN.md §8): the environment first, then
 * $XDG_CONFIG_HOME/apitoken/config (key = value, the same format as the
 * module's config). Used by askpass, exec, ssh-cert and token.
 */
#ifndef APITOKEN_SETTINGS_H
#define APITOKEN_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include "result.h"

#define SETTINGS_DEFAULT_PROMPT "API token: "

/* How cert_url signs (DESIGN.md §8): the cert_protocol key. */
enum cert_protocol {
	CERT_PROTOCOL_APITOKEN, /* the default: POST {"key": ...}, after token_url's exchange */
	CERT_PROTOCOL_VAULT,	/* POST {"public_key": ...} with X-Vault-Token */
};

struct settings {
	char *path;		  /* the file read, or NULL */
	char *token_env;	  /* APITOKEN_TOKEN_ENV: variables holding the token, in order */
	char *token_file;	  /* read when none of token_env's variables is set */
	char *cert_url;		  /* APITOKEN_CERT_URL */
	char *token_url;	  /* APITOKEN_TOKEN_URL */
	char *check_url;	  /* APITOKEN_CHECK_URL: token check by a Bearer GET */
	char *client_id;	  /* APITOKEN_CLIENT_ID */
	char *cert_protocol_name; /* the key as written; settings_load makes it cert_protocol */
	enum cert_protocol cert_protocol;
	char *hosts;
	long key_ttl;
	char *prompt;	   /* APITOKEN_PROMPT; default "API token: " */
	char *proxy;	   /* explicit proxy for the issuer; none from the environment */
	char *ca_key_file; /* CA key lines a certificate must be signed by */
	bool pin_ca;	   /* the CA must be one cert_url/authority publishes */
};

/* APT_OK, APT_SERVICE with err (bad or unsafe file), APT_NOMEM. Free with settings_free. */
enum apt_rc settings_load(struct settings *s, char *err, size_t errlen);
void settings_free(struct settings *s);

/* The variables read when token_env is not set. */
#define SETTINGS_DEFAULT_TOKEN_ENV "APITOKEN_TOKEN"

/* Where a token came from, for messages: never the token itself. */
struct token_source {
	char name[256];	  /* the variable's name or token_file's path */
	bool file;	  /* name is token_file */
	bool trimmed_eol; /* a trailing newline was removed from the variable */
};

/*
 * The token, from the first set variable of token_env (default
 * APITOKEN_TOKEN), else token_file (refused if group or others may read
 * it), checked like the module checks it (printable, at most 4096 bytes).
 * A variable's one trailing newline ("\n" or "\r\n", as `echo` or a
 * secrets UI adds) is removed, and src says so. *tok is freed with
 * free_secret(). src may be NULL. Errors never quote the token.
 */
enum apt_rc settings_token_from(const struct settings *s, char **tok, size_t *len,
				struct token_source *src, char *err, size_t errlen);
static inline enum apt_rc settings_token(const struct settings *s, char **tok, size_t *len,
					 char *err, size_t errlen)
{
	return settings_token_from(s, tok, len, NULL, err, errlen);
}

/* The variables settings_token_from() reads, space-separated: token_env or the default. */
static inline const char *settings_token_env(const struct settings *s)
{
	return s->token_env != NULL ? s->token_env : SETTINGS_DEFAULT_TOKEN_ENV;
}

#endif
