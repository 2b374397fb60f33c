/*
 * The configuration reader (DESIGN.md §4), shared by the module and the
 * helper's admin commands. Every key is described once, in the table below;
 * file lines and module arguments both arrive as "key=value" and go through
 * option_set(), so the two can never disagree on what a key accepts.
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

#include "buf.h"
#include "config.h"
#include "file.h"

enum opt_type { OPT_STR, OPT_PATH, OPT_WORDS, OPT_LONG, OPT_BOOL };

struct option {
	const char *name;
	enum opt_type type;
	size_t off;
	long min, max; /* OPT_LONG */
	bool flag;     /* may stand alone, as a module flag: "debug" */
};

#define S(f)	       OPT_STR, offsetof(struct apt_config, f), 0, 0, false
#define P(f)	       OPT_PATH, offsetof(struct apt_config, f), 0, 0, false
#define W(f)	       OPT_WORDS, offsetof(struct apt_config, f), 0, 0, false
#define L(f, min, max) OPT_LONG, offsetof(struct apt_config, f), min, max, false
#define B(f)	       OPT_BOOL, offsetof(struct apt_config, f), 0, 0, false
#define F(f)	       OPT_BOOL, offsetof(struct apt_config, f), 0, 0, true

static const struct option options[] = {
    {"introspection_url", S(introspection_url)},
    {"client_id", S(client_id)},
    {"client_secret_file", P(client_secret_file)},
    {"ca_file", P(ca_file)},
    {"tls_cert_file", P(tls_cert_file)},
    {"tls_key_file", P(tls_key_file)},
    {"proxy", S(proxy)},
    {"connect_timeout_ms", L(connect_timeout_ms, 1, 600000)},
    {"timeout_ms", L(timeout_ms, 1, 600000)},
    {"token_prefixes", W(token_prefixes)},
    {"username_claim", S(username_claim)},
    {"required_scopes", W(required_scopes)},
    {"allowed_client_ids", W(allowed_client_ids)},
    {"audience", S(audience)},
    {"issuer", S(issuer)},
    {"ip_ranges_claim", S(ip_ranges_claim)},
    {"require_ip_ranges", B(require_ip_ranges)},
    {"clock_skew", L(clock_skew, 0, 3600)},
    {"cache", B(cache)},
    {"cache_dir", P(cache_dir)},
    {"cache_ttl", L(cache_ttl, 0, 86400)},
    {"negative_cache_ttl", L(negative_cache_ttl, 0, 86400)},
    {"cache_max_entries", L(cache_max_entries, 1, 10000000)},
    {"offline_grace", L(offline_grace, 0, 604800)},
    {"helper", P(helper)},
    {"helper_user", S(helper_user)},
    {"prompt", S(prompt)},
    /* Flags: module arguments without a value (also accepted as "flag = yes"). */
    {"debug", F(debug)},
    {"use_first_pass", F(use_first_pass)},
    {"try_first_pass", F(try_first_pass)},
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

static const struct option *option_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < N_OPTIONS; i++)
		if (strlen(options[i].name) == len && memcmp(options[i].name, name, len) == 0)
			return &options[i];
	return NULL;
}

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_bool(const char *s, bool *out)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0)
		*out = true;
	else if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0)
		*out = false;
	else
		return -1;
	return 0;
}

/* Values are one line of printable text; no control bytes reach a URL or a log. */
static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return false;
	return true;
}

/* Applies one "key=value" (or bare flag). Returns APT_OK, APT_SERVICE, APT_NOMEM. */
static enum apt_rc option_set(struct apt_config *cfg, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	size_t klen = eq ? (size_t)(eq - arg) : strlen(arg);
	const char *val = eq ? eq + 1 : NULL;
	const struct option *o = option_find(arg, klen);
	void *field;
	char *copy;

	if (o == NULL) {
		snprintf(err, errlen, "unknown option \"%.*s\"", (int)(klen > 64 ? 64 : klen), arg);
		return APT_SERVICE;
	}
	field = (char *)cfg + o->off;
	if (val == NULL) {
		if (!o->flag) {
			snprintf(err, errlen, "option %s needs a value", o->name);
			return APT_SERVICE;
		}
		*(bool *)field = true;
		return APT_OK;
	}
	if (val[0] == '\0' && o->type != OPT_LONG && o->type != OPT_BOOL) {
		/* An empty value means "unset": "token_prefixes =" is "any prefix". */
		free(*(char **)field);
		*(char **)field = NULL;
		return APT_OK;
	}
	if (!printable(val)) {
		snprintf(err, errlen, "option %s: control characters in value", o->name);
		return APT_SERVICE;
	}
	switch (o->type) {
	case OPT_LONG:
		if (parse_long(val, o->min, o->max, (long *)field) < 0) {
			snprintf(err, errlen, "option %s: want a whole number from %ld to %ld",
				 o->name, o->min, o->max);
			return APT_SERVICE;
		}
		return APT_OK;
	case OPT_BOOL:
		if (parse_bool(val, (bool *)field) < 0) {
			snprintf(err, errlen, "option %s: want yes or no", o->name);
			return APT_SERVICE;
		}
		return APT_OK;
	case OPT_PATH:
		if (val[0] != '/') {
			snprintf(err, errlen, "option %s: want an absolute path", o->name);
			return APT_SERVICE;
		}
		break;
	case OPT_STR:
	case OPT_WORDS:
		break;
	}
	copy = strdup(val);
	if (copy == NULL)
		return APT_NOMEM;
	free(*(char **)field);
	*(char **)field = copy;
	return APT_OK;
}

static enum apt_rc set_defaults(struct apt_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->connect_timeout_ms = 2000;
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
	cfg->cache_dir = strdup("/var/cache/pam_apitoken");
	cfg->helper = strdup(APITOKEN_HELPER_PATH);
	cfg->helper_user = strdup("nobody");
	cfg->prompt = strdup("API token: ");
	if (!cfg->username_claim || !cfg->ip_ranges_claim || !cfg->cache_dir || !cfg->helper ||
	    !cfg->helper_user || !cfg->prompt)
		return APT_NOMEM;
	return APT_OK;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/*
 * Reads "key = value" lines. A key given twice in the file is an error: of
 * two lines that disagree, neither is clearly what the admin meant.
 */
static enum apt_rc read_file(struct apt_config *cfg, const char *path, bool must_exist, char *err,
			     size_t errlen)
{
	enum apt_rc rc;
	struct buf arg = BUF_INIT;
	char *text, *line, *next;
	char seen[N_OPTIONS] = {0};
	size_t len;
	unsigned lineno = 0;

	struct stat st;

	/* Only the default path may be absent; a named one is a typo to report. */
	if (!must_exist && lstat(path, &st) != 0 && errno == ENOENT)
		return APT_OK;
	rc = file_read_checked(path, FILE_CONFIG, CONFIG_MAX_SIZE, &text, &len, err, errlen);
	if (rc != APT_OK)
		return rc;
	cfg->config = strdup(path);
	if (cfg->config == NULL) {
		rc = APT_NOMEM;
		goto out;
	}
	for (line = text; line != NULL; line = next) {
		const struct option *o;
		char *key, *val, *eq;

		lineno++;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		key = trim(line);
		if (key[0] == '\0' || key[0] == '#')
			continue;
		eq = strchr(key, '=');
		if (eq != NULL) {
			size_t vlen;

			*eq = '\0';
			val = trim(eq + 1);
			key = trim(key);
			/* "..." keeps white space at the ends: prompt = "Deploy token: " */
			vlen = strlen(val);
			if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
				val[vlen - 1] = '\0';
				val++;
			}
		} else {
			val = NULL;
		}
		o = option_find(key, strlen(key));
		if (o != NULL) {
			size_t idx = (size_t)(o - options);
			if (seen[idx]) {
				snprintf(err, errlen, "%s:%u: %s given twice", path, lineno,
					 o->name);
				rc = APT_SERVICE;
				goto out;
			}
			seen[idx] = 1;
		}
		arg.len = 0;
		buf_appendf(&arg, "%s%s%s", key, val ? "=" : "", val ? val : "");
		if (arg.failed) {
			rc = APT_NOMEM;
			goto out;
		}
		rc = option_set(cfg, (char *)arg.p, err, errlen);
		if (rc == APT_SERVICE) {
			/* Prefix the location; the message never holds a secret. */
			char msg[256];
			snprintf(msg, sizeof(msg), "%s", err);
			snprintf(err, errlen, "%s:%u: %s", path, lineno, msg);
		}
		if (rc != APT_OK)
			goto out;
	}
	rc = APT_OK;
out:
	buf_free(&arg);
	free_secret(text);
	return rc;
}

bool url_is_loopback_http(const char *url)
{
	const char *host, *end;
	size_t n;

	if (strncasecmp(url, "http://", 7) != 0)
		return false;
	host = url + 7;
	if (strchr(host, '@') != NULL && strchr(host, '@') < host + strcspn(host, "/?#"))
		return false; /* userinfo: the real host is elsewhere in the string */
	if (host[0] == '[') {
		end = strchr(host, ']');
		return end != NULL && (size_t)(end - host) == 4 && strncmp(host, "[::1]", 5) == 0 &&
		       (end[1] == '\0' || strchr(":/?#", end[1]) != NULL);
	}
	n = strcspn(host, ":/?#");
	if (n == 9 && strncasecmp(host, "localhost", 9) == 0)
		return true;
	if (n >= 7 && strncmp(host, "127.", 4) == 0) {
		/*
		 * Four decimal octets, digits only, no leading zeros: no shorthand,
		 * sign, space or octal form ("127.0.0.08" is a name to curl and to
		 * getaddrinfo) that a resolver could read differently.
		 */
		const char *p = host;
		int parts = 0;

		end = host + n;
		while (p < end) {
			unsigned v = 0;
			size_t d = 0;

			while (p + d < end && d < 4 && p[d] >= '0' && p[d] <= '9')
				v = v * 10 + (unsigned)(p[d++] - '0');
			if (d == 0 || d > 3 || v > 255 || (d > 1 && p[0] == '0'))
				return false;
			p += d;
			if (++parts == 4)
				return p == end;
			if (p == end || *p != '.')
				return false;
			p++;
		}
	}
	return false;
}

static enum apt_rc validate(struct apt_config *cfg, char *err, size_t errlen)
{
	const char *u = cfg->introspection_url, *authority;

	if (u == NULL) {
		snprintf(err, errlen, "introspection_url is required");
		return APT_SERVICE;
	}
	if (cfg->username_claim == NULL || cfg->ip_ranges_claim == NULL || cfg->helper == NULL ||
	    cfg->helper_user == NULL || cfg->cache_dir == NULL) {
		snprintf(err, errlen,
			 "username_claim, ip_ranges_claim, helper, helper_user and cache_dir "
			 "cannot be empty");
		return APT_SERVICE;
	}
	if (strncasecmp(u, "https://", 8) != 0 && !url_is_loopback_http(u)) {
		snprintf(err, errlen,
			 "introspection_url must be https://, or http:// to a loopback address");
		return APT_SERVICE;
	}
	if (strpbrk(u, " \t") != NULL) {
		snprintf(err, errlen, "introspection_url holds white space");
		return APT_SERVICE;
	}
	/* Credentials belong in client_secret_file, not in a URL that debug logs. */
	authority = strstr(u, "://") + 3; /* present: the scheme was checked above */
	if (memchr(authority, '@', strcspn(authority, "/?#")) != NULL) {
		snprintf(err, errlen, "introspection_url must not hold user:password@");
		return APT_SERVICE;
	}
	/* The helper's limits, checked here so that a long value is a config error. */
	if (strlen(u) > 2047 || (cfg->client_id && strlen(cfg->client_id) > 511) ||
	    (cfg->ca_file && strlen(cfg->ca_file) > 1023) ||
	    (cfg->proxy && strlen(cfg->proxy) > 1023) || strlen(cfg->username_claim) > 127 ||
	    strlen(cfg->ip_ranges_claim) > 127) {
		snprintf(err, errlen,
			 "value too long (introspection_url 2047, client_id 511, ca_file and proxy "
			 "1023, claim names 127 bytes)");
		return APT_SERVICE;
	}
	if ((cfg->client_id == NULL) != (cfg->client_secret_file == NULL)) {
		snprintf(err, errlen, "client_id and client_secret_file go together");
		return APT_SERVICE;
	}
	if ((cfg->tls_cert_file == NULL) != (cfg->tls_key_file == NULL)) {
		snprintf(err, errlen, "tls_cert_file and tls_key_file go together");
		return APT_SERVICE;
	}
	if (cfg->connect_timeout_ms > cfg->timeout_ms) {
		snprintf(err, errlen, "connect_timeout_ms is longer than timeout_ms");
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
		snprintf(err, errlen, "config: want an absolute path");
		return APT_SERVICE;
	}
	rc = read_file(cfg, path, explicit_path, err, errlen);
	if (rc != APT_OK)
		return rc;
	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "config=", 7) == 0)
			continue;
		rc = option_set(cfg, argv[i], err, errlen);
		if (rc != APT_OK)
			return rc;
	}
	return validate(cfg, err, errlen);
}

void config_free(struct apt_config *cfg)
{
	size_t i;

	free(cfg->config);
	for (i = 0; i < N_OPTIONS; i++)
		if (options[i].type == OPT_STR || options[i].type == OPT_PATH ||
		    options[i].type == OPT_WORDS)
			free(*(char **)((char *)cfg + options[i].off));
	memset(cfg, 0, sizeof(*cfg));
}
