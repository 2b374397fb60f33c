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
#include <stdarg.h>
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
	if (!cfg->username_claim || !cfg->ip_ranges_claim || !cfg->scope_claim || !cfg->cache_dir ||
	    !cfg->helper || !cfg->helper_user || !cfg->prompt)
		return APT_NOMEM;
	return APT_OK;
}

static bool is_word(const char *s, const char *word)
{
	return strcmp(s, word) == 0;
}

/*
 * One load: where its problems go. rep is the caller's (apitoken check) or
 * one of our own that stops at the first problem (the module); err holds
 * the first problem either way.
 */
struct loader {
	struct apt_config *cfg;
	struct config_report *rep;
	char *err;
	size_t errlen;
};

/* "path:line", "argument N", the file, or "" when there is none: where key was set. */
static void where(const struct config_report *rep, const char *key, char *out, size_t outlen)
{
	int i = key != NULL ? kv_key_index(&table, key, strlen(key)) : -1;

	if (i >= 0 && rep->line[i] > 0)
		errf(out, outlen, "%s:%u", rep->path, rep->line[i]);
	else if (i >= 0 && rep->arg[i] > 0)
		snprintf(out, outlen, "argument %d", rep->arg[i]);
	else
		errf(out, outlen, "%s", rep->path != NULL ? rep->path : "");
}

static void report_msg(struct config_report *rep, const char *msg)
{
	rep->problems++;
	if (rep->problem != NULL)
		rep->problem(rep->ctx, msg);
}

static void vreport(struct config_report *rep, const char *key, char *msg, size_t msglen,
		    const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
static void vreport(struct config_report *rep, const char *key, char *msg, size_t msglen,
		    const char *fmt, va_list ap)
{
	char at[PATH_MAX + 32], what[512];

	vsnprintf(what, sizeof(what), fmt, ap);
	where(rep, key, at, sizeof(at));
	errf(msg, msglen, "%s%s%s", at, at[0] ? ": " : "", what);
	report_msg(rep, msg);
}

void config_report_problem(struct config_report *rep, const char *key, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vreport(rep, key, msg, sizeof(msg), fmt, ap);
	va_end(ap);
}

/*
 * A problem with key (NULL: the configuration as a whole). True when the
 * load stops here: nobody collects more than the first.
 */
static bool problem(struct loader *L, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool problem(struct loader *L, const char *key, const char *fmt, ...)
{
	char msg[1024];
	bool first = L->rep->problems == 0;
	va_list ap;

	va_start(ap, fmt);
	vreport(L->rep, key, msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (first)
		errf(L->err, L->errlen, "%s", msg);
	return L->rep->problem == NULL;
}

/* problem() for a message that says where it is already (keyvalue.c, usermap.c). */
static bool problem_located(struct loader *L, const char *msg)
{
	if (L->rep->problems == 0)
		errf(L->err, L->errlen, "%s", msg);
	report_msg(L->rep, msg);
	return L->rep->problem == NULL;
}

/* A problem lib/keyvalue.c found and located: counted, and handed on. */
static void forward_problem(void *ctx, const char *msg)
{
	report_msg(ctx, msg);
}

/*
 * client_auth (DESIGN.md §4) and the credentials each way needs; unset, it
 * is basic with credentials and none without, as before the key existed.
 * An explicit word with the wrong credentials is a config error, so that
 * "client_auth = post" without a client_id never quietly sends nothing.
 */
static enum apt_rc validate_client_auth(struct loader *L)
{
	struct apt_config *cfg = L->cfg;
	const char *a = cfg->client_auth;
	bool id = cfg->client_id != NULL, secret = cfg->client_secret_file != NULL;

	if (a == NULL) {
		if (id != secret) {
			problem(L, id ? "client_id" : "client_secret_file",
				"client_id and client_secret_file go together (add %s, or remove "
				"%s)",
				id ? "client_secret_file" : "client_id",
				id ? "client_id" : "client_secret_file");
			return APT_SERVICE;
		}
		cfg->client_auth = strdup(id ? PROTO_CLIENT_AUTH_BASIC : PROTO_CLIENT_AUTH_NONE);
		return cfg->client_auth ? APT_OK : APT_NOMEM;
	}
	if (is_word(a, PROTO_CLIENT_AUTH_BASIC) || is_word(a, PROTO_CLIENT_AUTH_BASIC_RAW) ||
	    is_word(a, PROTO_CLIENT_AUTH_POST)) {
		if (!id || !secret) {
			problem(L, "client_auth",
				"client_auth = %s needs client_id and client_secret_file", a);
			return APT_SERVICE;
		}
		/* Sent as typed, a ':' would end the user-id early (RFC 7617 §2). */
		if (is_word(a, PROTO_CLIENT_AUTH_BASIC_RAW) && strchr(cfg->client_id, ':')) {
			problem(L, "client_id",
				"client_auth = basic_raw: client_id cannot hold ':' (use "
				"client_auth = basic)");
			return APT_SERVICE;
		}
	} else if (is_word(a, PROTO_CLIENT_AUTH_BEARER)) {
		/* The file holds the bearer token; a client_id would not be sent. */
		if (!secret || id) {
			problem(L, "client_auth",
				"client_auth = bearer needs client_secret_file (the bearer token) "
				"and no client_id");
			return APT_SERVICE;
		}
	} else if (is_word(a, PROTO_CLIENT_AUTH_NONE)) {
		if (id || secret) {
			problem(L, "client_auth",
				"client_auth = none takes no client_id or client_secret_file");
			return APT_SERVICE;
		}
	} else {
		/* The value is not quoted: it could be a secret on the wrong line. */
		problem(L, "client_auth",
			"client_auth: want basic, basic_raw, post, bearer or none");
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
static enum apt_rc validate_verify(struct loader *L)
{
	struct apt_config *cfg = L->cfg;
	bool userinfo;
	const char *key, *other, *u, *authority;

	if (cfg->verify == NULL && (cfg->verify = strdup(PROTO_VERIFY_INTROSPECTION)) == NULL)
		return APT_NOMEM;
	if (!is_word(cfg->verify, PROTO_VERIFY_INTROSPECTION) &&
	    !is_word(cfg->verify, PROTO_VERIFY_USERINFO)) {
		problem(L, "verify", "verify: want introspection or userinfo");
		return APT_SERVICE;
	}
	userinfo = is_word(cfg->verify, PROTO_VERIFY_USERINFO);
	key = userinfo ? "userinfo_url" : "introspection_url";
	other = userinfo ? cfg->introspection_url : cfg->userinfo_url;
	u = userinfo ? cfg->userinfo_url : cfg->introspection_url;
	if (u == NULL) {
		problem(L, NULL, "%s is required%s (add \"%s = https://ISSUER/...\")", key,
			userinfo ? " with verify = userinfo" : "", key);
		return APT_SERVICE;
	}
	if (other != NULL) {
		problem(L, userinfo ? "introspection_url" : "userinfo_url",
			"%s is for verify = %s (verify = %s here)",
			userinfo ? "introspection_url" : "userinfo_url",
			userinfo ? "introspection" : "userinfo", cfg->verify);
		return APT_SERVICE;
	}
	if (userinfo &&
	    (cfg->client_id != NULL || cfg->client_secret_file != NULL ||
	     (cfg->client_auth != NULL && !is_word(cfg->client_auth, PROTO_CLIENT_AUTH_NONE)))) {
		problem(L, "verify",
			"verify = userinfo sends the token as the bearer: no client_id, "
			"client_secret_file or client_auth");
		return APT_SERVICE;
	}
	if (!url_scheme_allowed(u)) {
		problem(L, key, "%s must be https://, or http:// to a loopback address", key);
		return APT_SERVICE;
	}
	if (strpbrk(u, " \t") != NULL) {
		problem(L, key, "%s holds white space", key);
		return APT_SERVICE;
	}
	/* Credentials belong in client_secret_file, not in a URL that debug logs. */
	authority = strstr(u, "://") + 3; /* present: the scheme was checked above */
	if (memchr(authority, '@', strcspn(authority, "/?#")) != NULL) {
		problem(L, key,
			"%s must not hold user:password@ (put the secret in "
			"client_secret_file)",
			key);
		return APT_SERVICE;
	}
	return APT_OK;
}

#define TEXT_OF(n)     TEXT_OF_(n)
#define TEXT_OF_(n)    #n
#define CLAIM_MAX_TEXT TEXT_OF(PROTO_CLAIM_NAME_MAX)

/*
 * Keys that have a default but no meaning without a value, and the claim
 * names among them: dot paths without an empty segment, within the
 * helper's limit. The key only, never the value, in the message.
 */
static enum apt_rc validate_set(struct loader *L)
{
	struct apt_config *cfg = L->cfg;
	enum apt_rc rc = APT_OK;
	const struct {
		const char *key, *value;
		bool claim;
	} keys[] = {{"username_claim", cfg->username_claim, true},
		    {"ip_ranges_claim", cfg->ip_ranges_claim, true},
		    {"scope_claim", cfg->scope_claim, true},
		    {"helper", cfg->helper, false},
		    {"helper_user", cfg->helper_user, false},
		    {"cache_dir", cfg->cache_dir, false}};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *why = NULL;

		if (keys[i].value == NULL)
			why = "cannot be empty (remove the line for the default)";
		else if (keys[i].claim && !claim_path_valid(keys[i].value))
			why = "a claim path with an empty segment (a..b, .a, a.)";
		else if (keys[i].claim && strlen(keys[i].value) > PROTO_CLAIM_NAME_MAX)
			why = "value too long (claim names " CLAIM_MAX_TEXT " bytes at most)";
		if (why == NULL)
			continue;
		rc = APT_SERVICE;
		if (problem(L, keys[i].key, "%s: %s", keys[i].key, why))
			break;
	}
	return rc;
}

/* The helper's limits (proto.h), checked here so that a long value is a config error. */
static enum apt_rc validate_lengths(struct loader *L)
{
	struct apt_config *cfg = L->cfg;
	enum apt_rc rc = APT_OK;
	const char *endpoint = config_endpoint(cfg);
	const struct {
		const char *key, *value;
		size_t max;
	} keys[] = {{is_word(config_verify(cfg), PROTO_VERIFY_USERINFO) ? "userinfo_url"
									: "introspection_url",
		     endpoint, PROTO_URL_MAX},
		    {"client_id", cfg->client_id, PROTO_CLIENT_ID_MAX},
		    {"ca_file", cfg->ca_file, PROTO_CA_FILE_MAX},
		    {"proxy", cfg->proxy, PROTO_PROXY_MAX}};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (keys[i].value == NULL || strlen(keys[i].value) <= keys[i].max)
			continue;
		rc = APT_SERVICE;
		if (problem(L, keys[i].key, "%s: value too long (at most %zu bytes)", keys[i].key,
			    keys[i].max))
			break;
	}
	return rc;
}

/*
 * Every cross-check. Each group stops at its first problem (what follows
 * in it may stand on what failed); with a report collecting, every group
 * still runs, so that one `apitoken check` shows all of them.
 */
static enum apt_rc validate(struct loader *L)
{
	struct apt_config *cfg = L->cfg;
	typedef enum apt_rc (*check_fn)(struct loader *);
	static const check_fn groups[] = {
	    validate_verify,
	    validate_set,
	    validate_lengths,
	    validate_client_auth,
	};
	enum apt_rc rc = APT_OK;

	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		enum apt_rc r = groups[i](L);

		if (r == APT_NOMEM)
			return r;
		if (r != APT_OK) {
			rc = r;
			if (L->rep->problem == NULL)
				return rc;
		}
	}
	if ((cfg->tls_cert_file == NULL) != (cfg->tls_key_file == NULL)) {
		rc = APT_SERVICE;
		if (problem(L, cfg->tls_cert_file ? "tls_cert_file" : "tls_key_file",
			    "tls_cert_file and tls_key_file go together"))
			return rc;
	}
	/*
	 * The default of 2000 gives way to a shorter timeout_ms (DESIGN.md §4):
	 * "timeout_ms = 1500" alone is a complete setting. Only a value the admin
	 * gave for both can disagree.
	 */
	if (cfg->connect_timeout_ms == 0)
		cfg->connect_timeout_ms = cfg->timeout_ms < 2000 ? cfg->timeout_ms : 2000;
	if (cfg->connect_timeout_ms > cfg->timeout_ms) {
		rc = APT_SERVICE;
		if (problem(L, "connect_timeout_ms",
			    "connect_timeout_ms is longer than timeout_ms (lower it, or leave it "
			    "out)"))
			return rc;
	}
	if (cfg->prompt == NULL) {
		cfg->prompt = strdup("API token: ");
		if (cfg->prompt == NULL)
			return APT_NOMEM;
	}
	return rc;
}

/* A module argument: through kv_set, located by its position, counted from 1. */
static enum apt_rc set_arg(struct loader *L, const char *arg, int position)
{
	char msg[512];
	int i = kv_key_index(&table, arg, strcspn(arg, "="));
	enum apt_rc rc = kv_set_arg(&table, L->cfg, arg, position, msg, sizeof(msg));

	if (i >= 0)
		L->rep->arg[i] = position;
	if (rc == APT_SERVICE && !problem_located(L, msg))
		return APT_OK; /* reported; the load goes on */
	return rc;
}

enum apt_rc config_load_report(struct apt_config *cfg, int argc, const char **argv,
			       struct config_report *rep, char *err, size_t errlen)
{
	struct config_report own = {0};
	struct loader L = {
	    .cfg = cfg, .rep = rep != NULL ? rep : &own, .err = err, .errlen = errlen};
	const char *path = APITOKEN_CONFIG_PATH;
	bool explicit_path = false;
	enum apt_rc rc;
	int i;

	_Static_assert(sizeof(options) / sizeof(options[0]) <= CONFIG_KEYS_MAX, "CONFIG_KEYS_MAX");
	err[0] = '\0';
	L.rep->problems = 0;
	L.rep->path = NULL;
	memset(L.rep->line, 0, sizeof(L.rep->line));
	memset(L.rep->arg, 0, sizeof(L.rep->arg));
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
		problem(&L, NULL, "config: want an absolute path");
		return APT_SERVICE;
	}
	/* Only the default path may be absent; a named one is a typo to report. */
	if (explicit_path || access(path, F_OK) == 0 || errno != ENOENT) {
		struct kv_report kr = {L.rep->problem != NULL ? forward_problem : NULL, L.rep,
				       L.rep->line, false};

		L.rep->path = path;
		rc = kv_read_file_report(&table, cfg, path, CONFIG_MAX_SIZE, &kr, err, errlen);
		if (rc == APT_SERVICE && kr.problem == NULL)
			L.rep->problems++; /* kept in err by kv_read_file_report */
		/* A file that could not be read leaves nothing to check but noise. */
		if (rc == APT_NOMEM || (rc == APT_SERVICE && (kr.problem == NULL || !kr.read)))
			return rc;
		cfg->config = strdup(path);
		if (cfg->config == NULL)
			return APT_NOMEM;
	}
	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "config=", 7) == 0)
			continue;
		rc = set_arg(&L, argv[i], i + 1);
		if (rc != APT_OK)
			return rc;
	}
	rc = validate(&L);
	if (rc == APT_NOMEM || (rc != APT_OK && L.rep->problem == NULL))
		return rc;
	/* Read with the config, so at every login: an edit applies to the next one. */
	if (cfg->user_map != NULL) {
		char msg[512];
		enum apt_rc m = usermap_load(cfg->user_map, &cfg->usermap, msg, sizeof(msg));

		if (m == APT_NOMEM)
			return m;
		if (m != APT_OK && problem_located(&L, msg))
			return m;
	}
	return L.rep->problems > 0 ? APT_SERVICE : APT_OK;
}

enum apt_rc config_load(struct apt_config *cfg, int argc, const char **argv, char *err,
			size_t errlen)
{
	return config_load_report(cfg, argc, argv, NULL, err, errlen);
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
