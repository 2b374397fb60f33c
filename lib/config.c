/*
 * The module's configuration (DESIGN.md §4), shared by the module and the
 * helper's admin commands: its keys, defaults and cross-checks. Every key is
 * described once, in the table below; file lines and module arguments both
 * go through kv_set() (lib/keyvalue.c), so the two can never disagree on what
 * a key accepts.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "claims.h"
#include "keyvalue.h"
#include "config.h"
#include "errmsg.h"
#include "proto.h"
#include "url.h"
#include "usermap.h"

#define KV_TARGET struct apt_config

static const struct kv_key options[] = {
    {"verify", KV_S(verify)},
    {"introspection_url", KV_S(introspection_url)},
    {"userinfo_url", KV_S(userinfo_url)},
    {"client_id", KV_S(client_id)},
    {"client_secret_file", KV_P(client_secret_file)},
    {"client_auth", KV_S(client_auth)},
    {"ca_file", KV_P(ca_file)},
    {"tls_cert_file", KV_P(tls_cert_file)},
    {"tls_key_file", KV_P(tls_key_file)},
    {"proxy", KV_S(proxy)},
    {"connect_timeout_ms", KV_L(connect_timeout_ms, 1, PROTO_TIMEOUT_MS_MAX)},
    {"timeout_ms", KV_L(timeout_ms, 1, PROTO_TIMEOUT_MS_MAX)},
    {"token_prefixes", KV_W(token_prefixes)},
    {"username_claim", KV_S(username_claim)},
    {"scope_claim", KV_S(scope_claim)},
    {"user_map", KV_P(user_map)},
    {"required_scopes", KV_W(required_scopes)},
    {"allowed_client_ids", KV_W(allowed_client_ids)},
    {"audience", KV_S(audience)},
    {"issuer", KV_S(issuer)},
    {"ip_ranges_claim", KV_S(ip_ranges_claim)},
    {"require_ip_ranges", KV_B(require_ip_ranges)},
    {"clock_skew", KV_L(clock_skew, 0, 3600)},
    {"cache", KV_B(cache)},
    {"cache_dir", KV_P(cache_dir)},
    {"cache_ttl", KV_L(cache_ttl, 0, 86400)},
    {"negative_cache_ttl", KV_L(negative_cache_ttl, 0, 86400)},
    {"cache_max_entries", KV_L(cache_max_entries, 1, 10000000)},
    {"offline_grace", KV_L(offline_grace, 0, 604800)},
    {"helper", KV_P(helper)},
    {"helper_user", KV_S(helper_user)},
    {"prompt", KV_S(prompt)},
    {"audit_file", KV_P(audit_file)},
    {"read_scope", KV_S(read_scope)},
    {"write_scope", KV_S(write_scope)},
    {"shell_scope", KV_S(shell_scope)},
    /* Flags: module arguments without a value (also accepted as "flag = yes"). */
    {"debug", KV_F(debug)},
    {"use_first_pass", KV_F(use_first_pass)},
    {"try_first_pass", KV_F(try_first_pass)},
};

static const struct kv_table table = {options, sizeof(options) / sizeof(options[0])};

static enum apt_rc set_defaults(struct apt_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->connect_timeout_ms = 0; /* unset (the key's minimum is 1): see validate() */
	cfg->timeout_ms = 5000;
	cfg->clock_skew = 30;
	cfg->cache = true;
	cfg->cache_ttl = 60;
	cfg->negative_cache_ttl = 10;
	cfg->cache_max_entries = 10000;
	cfg->offline_grace = 0;
	cfg->require_ip_ranges = false;
	cfg->username_claim = strdup("username");
	cfg->ip_ranges_claim = strdup("allowed_ip_ranges");
	cfg->scope_claim = strdup("scope");
	cfg->cache_dir = strdup("/var/cache/pam_apitoken");
	cfg->helper = strdup(APITOKEN_HELPER_PATH);
	cfg->helper_user = strdup("_apitoken");
	cfg->prompt = strdup("API token: ");
	cfg->read_scope = strdup("read");
	cfg->write_scope = strdup("write");
	cfg->shell_scope = strdup("shell");
	if (!cfg->username_claim || !cfg->ip_ranges_claim || !cfg->scope_claim || !cfg->cache_dir ||
	    !cfg->helper || !cfg->helper_user || !cfg->prompt || !cfg->read_scope ||
	    !cfg->write_scope || !cfg->shell_scope)
		return APT_NOMEM;
	return APT_OK;
}

static bool is_word(const char *s, const char *word)
{
	return strcmp(s, word) == 0;
}

/*
 * client_auth (DESIGN.md §4) and the credentials each way needs; unset, it
 * is basic with credentials and none without, as before the key existed.
 * An explicit word with the wrong credentials is a config error, so that
 * "client_auth = post" without a client_id never quietly sends nothing.
 */
static enum apt_rc validate_client_auth(struct apt_config *cfg, char *err, size_t errlen)
{
	const char *a = cfg->client_auth;
	bool id = cfg->client_id != NULL, secret = cfg->client_secret_file != NULL;

	if (a == NULL) {
		if (id != secret) {
			errf(err, errlen, "client_id and client_secret_file go together");
			return APT_SERVICE;
		}
		cfg->client_auth = strdup(id ? PROTO_CLIENT_AUTH_BASIC : PROTO_CLIENT_AUTH_NONE);
		return cfg->client_auth ? APT_OK : APT_NOMEM;
	}
	if (is_word(a, PROTO_CLIENT_AUTH_BASIC) || is_word(a, PROTO_CLIENT_AUTH_BASIC_RAW) ||
	    is_word(a, PROTO_CLIENT_AUTH_POST)) {
		if (!id || !secret) {
			errf(err, errlen, "client_auth = %s needs client_id and client_secret_file",
			     a);
			return APT_SERVICE;
		}
		/* Sent as typed, a ':' would end the user-id early (RFC 7617 §2). */
		if (is_word(a, PROTO_CLIENT_AUTH_BASIC_RAW) && strchr(cfg->client_id, ':')) {
			errf(err, errlen, "client_auth = basic_raw: client_id cannot hold ':'");
			return APT_SERVICE;
		}
	} else if (is_word(a, PROTO_CLIENT_AUTH_BEARER)) {
		/* The file holds the bearer token; a client_id would not be sent. */
		if (!secret || id) {
			errf(err, errlen,
			     "client_auth = bearer needs client_secret_file (the bearer token) and "
			     "no client_id");
			return APT_SERVICE;
		}
	} else if (is_word(a, PROTO_CLIENT_AUTH_NONE)) {
		if (id || secret) {
			errf(err, errlen,
			     "client_auth = none takes no client_id or client_secret_file");
			return APT_SERVICE;
		}
	} else {
		/* The value is not quoted: it could be a secret on the wrong line. */
		errf(err, errlen, "client_auth: want basic, basic_raw, post, bearer or none");
		return APT_SERVICE;
	}
	return APT_OK;
}

/*
 * verify (DESIGN.md §4) and the one URL it uses, under the https-or-loopback
 * rule. The other mode's URL is refused rather than ignored: it says the
 * admin meant the other mode. With userinfo the token is the credential, the
 * Authorization header is the token's, so client credentials, which could
 * not be sent, are refused too.
 */
static enum apt_rc validate_verify(struct apt_config *cfg, char *err, size_t errlen)
{
	bool userinfo;
	const char *key, *other, *u, *authority;

	if (cfg->verify == NULL && (cfg->verify = strdup(PROTO_VERIFY_INTROSPECTION)) == NULL)
		return APT_NOMEM;
	if (!is_word(cfg->verify, PROTO_VERIFY_INTROSPECTION) &&
	    !is_word(cfg->verify, PROTO_VERIFY_USERINFO)) {
		errf(err, errlen, "verify: want introspection or userinfo");
		return APT_SERVICE;
	}
	userinfo = is_word(cfg->verify, PROTO_VERIFY_USERINFO);
	key = userinfo ? "userinfo_url" : "introspection_url";
	other = userinfo ? cfg->introspection_url : cfg->userinfo_url;
	u = userinfo ? cfg->userinfo_url : cfg->introspection_url;
	if (u == NULL) {
		errf(err, errlen, "%s is required%s", key,
		     userinfo ? " with verify = userinfo" : "");
		return APT_SERVICE;
	}
	if (other != NULL) {
		errf(err, errlen, "%s is for verify = %s (verify = %s here)",
		     userinfo ? "introspection_url" : "userinfo_url",
		     userinfo ? "introspection" : "userinfo", cfg->verify);
		return APT_SERVICE;
	}
	if (userinfo &&
	    (cfg->client_id != NULL || cfg->client_secret_file != NULL ||
	     (cfg->client_auth != NULL && !is_word(cfg->client_auth, PROTO_CLIENT_AUTH_NONE)))) {
		errf(err, errlen,
		     "verify = userinfo sends the token as the bearer: no client_id, "
		     "client_secret_file or client_auth");
		return APT_SERVICE;
	}
	if (!url_scheme_allowed(u)) {
		errf(err, errlen, "%s must be https://, or http:// to a loopback address", key);
		return APT_SERVICE;
	}
	if (strpbrk(u, " \t") != NULL) {
		errf(err, errlen, "%s holds white space", key);
		return APT_SERVICE;
	}
	/* Credentials belong in client_secret_file, not in a URL that debug logs. */
	authority = strstr(u, "://") + 3; /* present: the scheme was checked above */
	if (memchr(authority, '@', strcspn(authority, "/?#")) != NULL) {
		errf(err, errlen, "%s must not hold user:password@", key);
		return APT_SERVICE;
	}
	return APT_OK;
}

static enum apt_rc validate(struct apt_config *cfg, char *err, size_t errlen)
{
	enum apt_rc rc;
	const struct {
		const char *key, *path;
	} paths[] = {{"username_claim", cfg->username_claim},
		     {"ip_ranges_claim", cfg->ip_ranges_claim},
		     {"scope_claim", cfg->scope_claim}};

	rc = validate_verify(cfg, err, errlen);
	if (rc != APT_OK)
		return rc;
	if (cfg->username_claim == NULL || cfg->ip_ranges_claim == NULL ||
	    cfg->scope_claim == NULL || cfg->helper == NULL || cfg->helper_user == NULL ||
	    cfg->cache_dir == NULL) {
		errf(err, errlen,
		     "username_claim, ip_ranges_claim, scope_claim, helper, helper_user and "
		     "cache_dir cannot be empty");
		return APT_SERVICE;
	}
	/* A path with an empty segment names no place (the key only: never quote a value). */
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (!claim_path_valid(paths[i].path)) {
			errf(err, errlen, "%s: a claim path with an empty segment (a..b, .a, a.)",
			     paths[i].key);
			return APT_SERVICE;
		}
	}
	/* The helper's limits (proto.h), checked here so that a long value is a config error. */
	if (strlen(config_endpoint(cfg)) > PROTO_URL_MAX ||
	    (cfg->client_id && strlen(cfg->client_id) > PROTO_CLIENT_ID_MAX) ||
	    (cfg->ca_file && strlen(cfg->ca_file) > PROTO_CA_FILE_MAX) ||
	    (cfg->proxy && strlen(cfg->proxy) > PROTO_PROXY_MAX) ||
	    strlen(cfg->username_claim) > PROTO_CLAIM_NAME_MAX ||
	    strlen(cfg->ip_ranges_claim) > PROTO_CLAIM_NAME_MAX ||
	    strlen(cfg->scope_claim) > PROTO_CLAIM_NAME_MAX) {
		/* One number for both: the message names them together. */
		_Static_assert(PROTO_CA_FILE_MAX == PROTO_PROXY_MAX, "ca_file and proxy limits");
		errf(err, errlen,
		     "value too long (introspection_url and userinfo_url %d, client_id %d, ca_file "
		     "and proxy "
		     "%d, claim names %d bytes)",
		     PROTO_URL_MAX, PROTO_CLIENT_ID_MAX, PROTO_CA_FILE_MAX, PROTO_CLAIM_NAME_MAX);
		return APT_SERVICE;
	}
	rc = validate_client_auth(cfg, err, errlen);
	if (rc != APT_OK)
		return rc;
	if ((cfg->tls_cert_file == NULL) != (cfg->tls_key_file == NULL)) {
		errf(err, errlen, "tls_cert_file and tls_key_file go together");
		return APT_SERVICE;
	}
	/*
	 * The default of 2000 gives way to a shorter timeout_ms (DESIGN.md §4):
	 * "timeout_ms = 1500" alone is a complete setting. Only a value the admin
	 * gave for both can disagree.
	 */
	if (cfg->connect_timeout_ms == 0)
		cfg->connect_timeout_ms = cfg->timeout_ms < 2000 ? cfg->timeout_ms : 2000;
	if (cfg->connect_timeout_ms > cfg->timeout_ms) {
		errf(err, errlen, "connect_timeout_ms is longer than timeout_ms");
		return APT_SERVICE;
	}
	if (cfg->prompt == NULL) {
		cfg->prompt = strdup("API token: ");
		if (cfg->prompt == NULL)
			return APT_NOMEM;
	}
	return APT_OK;
}

enum apt_rc config_load(struct apt_config *cfg, int argc, const char **argv, char *err,
			size_t errlen)
{
	const char *path = APITOKEN_CONFIG_PATH;
	bool explicit_path = false;
	enum apt_rc rc;
	int i;

	err[0] = '\0';
	rc = set_defaults(cfg);
	if (rc != APT_OK)
		return rc;
	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "config=", 7) == 0) {
			path = argv[i] + 7;
			explicit_path = true;
		}
	}
	if (path[0] != '/') {
		errf(err, errlen, "config: want an absolute path");
		return APT_SERVICE;
	}
	/* Only the default path may be absent; a named one is a typo to report. */
	if (explicit_path || access(path, F_OK) == 0 || errno != ENOENT) {
		rc = kv_read_file(&table, cfg, path, CONFIG_MAX_SIZE, err, errlen);
		if (rc != APT_OK)
			return rc;
		cfg->config = strdup(path);
		if (cfg->config == NULL)
			return APT_NOMEM;
	}
	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "config=", 7) == 0)
			continue;
		rc = kv_set_arg(&table, cfg, argv[i], i + 1, err, errlen);
		if (rc != APT_OK)
			return rc;
	}
	rc = validate(cfg, err, errlen);
	/* Read with the config, so at every login: an edit applies to the next one. */
	if (rc == APT_OK && cfg->user_map != NULL)
		rc = usermap_load(cfg->user_map, &cfg->usermap, err, errlen);
	return rc;
}

void config_free(struct apt_config *cfg)
{
	free(cfg->config);
	if (cfg->usermap != NULL)
		usermap_free(cfg->usermap);
	free(cfg->usermap);
	kv_free(&table, cfg);
	memset(cfg, 0, sizeof(*cfg));
}
