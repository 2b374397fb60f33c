/*
 * The one configuration reader, shared by the PAM module and the helper's
 * admin commands (DESIGN.md §4). Defaults, then the file, then module
 * arguments: a file line "key = value" is turned into the argument form
 * "key=value" so both go through the same parser.
 */
#ifndef APITOKEN_CONFIG_H
#define APITOKEN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include "proto.h"
#include "result.h"
#include "words.h"

struct usermap;

#ifndef APITOKEN_CONFIG_PATH
#define APITOKEN_CONFIG_PATH "/etc/security/pam_apitoken.conf"
#endif
#ifndef APITOKEN_HELPER_PATH
#define APITOKEN_HELPER_PATH "/usr/local/libexec/apitoken/apitoken"
#endif

#define CONFIG_MAX_SIZE (64 * 1024)

struct apt_config {
	char *config; /* the file read, or NULL when none was */

	char *verify; /* a PROTO_VERIFY_* word; validated, never NULL after load */
	char *introspection_url;
	char *userinfo_url;
	char *client_id;
	char *client_secret_file;
	char *client_auth; /* a PROTO_CLIENT_AUTH_* word; validated, never NULL after load */
	char *ca_file;
	char *tls_cert_file;
	char *tls_key_file;
	char *proxy;
	long connect_timeout_ms;
	long timeout_ms;

	char *token_prefixes; /* space-separated lists, NULL = any */
	char *username_claim; /* the three claim names are dot paths (claims.h) */
	char *scope_claim;
	char *user_map;		 /* its path; NULL = no map */
	struct usermap *usermap; /* user_map as read by config_load */
	char *required_scopes;
	char *allowed_client_ids;
	char *audience;
	char *issuer;
	char *ip_ranges_claim;
	bool require_ip_ranges;
	long clock_skew;

	bool cache;
	char *cache_dir;
	long cache_ttl;
	long negative_cache_ttl;
	long cache_max_entries;
	long offline_grace;

	char *helper;
	char *helper_user;
	char *prompt;
	char *audit_file; /* also append each audit line here, as JSON; NULL: syslog only */

	bool debug;
	bool use_first_pass;
	bool try_first_pass;
};

/*
 * Fills cfg from the defaults, the file (config=PATH among argv, else
 * APITOKEN_CONFIG_PATH; a missing default file is fine when the arguments
 * hold everything required) and argv. Returns APT_OK, APT_SERVICE with a
 * message in err (never a secret), or APT_NOMEM. cfg must be freed with
 * config_free() whatever the result.
 */
enum apt_rc config_load(struct apt_config *cfg, int argc, const char **argv, char *err,
			size_t errlen);
void config_free(struct apt_config *cfg);

/* More than the keys of lib/config.c's table (checked there at build time). */
#define CONFIG_KEYS_MAX 64

/*
 * For `apitoken check`: every problem of a configuration, not only the
 * first. Each goes to problem(ctx, msg), "WHERE: what, and the fix", WHERE
 * being "path:line", "argument N", or the file for a key it lacks. The
 * caller sets problem and ctx; the load fills the rest.
 */
struct config_report {
	void (*problem)(void *ctx, const char *msg);
	void *ctx;
	unsigned problems; /* how many were reported */
	const char *path;  /* the file read (points into argv, or the default), or NULL */
	unsigned line[CONFIG_KEYS_MAX]; /* per key of the table: its line in the file, or 0 */
	int arg[CONFIG_KEYS_MAX];	/* its argument position (from 1), or 0 */
};

/*
 * config_load, reporting to rep (NULL: as config_load, which stops at the
 * first problem). With rep->problem set, loading goes on past each problem
 * and every later check still runs; the result is APT_SERVICE when any was
 * found, and err holds the first, word for word what the module logs.
 */
enum apt_rc config_load_report(struct apt_config *cfg, int argc, const char **argv,
			       struct config_report *rep, char *err, size_t errlen);

/*
 * Reports one more problem about key (NULL: the configuration as a whole),
 * located as the load located its own: for the checks `apitoken check`
 * makes that need the system, not the file (the helper, the cache).
 */
void config_report_problem(struct config_report *rep, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * The check cfg makes (a PROTO_VERIFY_* word) and the URL it makes it at:
 * introspection_url or userinfo_url. Unset verify is introspection, so that
 * a config built by hand (tests) reads as one loaded without the key.
 */
static inline const char *config_verify(const struct apt_config *cfg)
{
	return cfg->verify != NULL ? cfg->verify : PROTO_VERIFY_INTROSPECTION;
}
static inline const char *config_endpoint(const struct apt_config *cfg)
{
	return strcmp(config_verify(cfg), PROTO_VERIFY_USERINFO) == 0 ? cfg->userinfo_url
								      : cfg->introspection_url;
}

#endif
