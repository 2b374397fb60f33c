/*
 * libFuzzer harness for config_load (lib/config.c, lib/keyvalue.c), the module's
 * configuration: a file and the module arguments. Input: the file's text,
 * NUL, then the arguments, each ended by NUL. The file goes into a private
 * directory that passes lib/file.c's checks (see oracle.h), and config=PATH
 * is given last so that it wins over any config= in the input.
 *
 * Oracles: APT_OK, APT_SERVICE with a message, or APT_NOMEM. A config that
 * loads keeps the promises of validate(): an https:// (or loopback
 * http://) URL for verify (introspection_url or userinfo_url, the other
 * unset) without white space or user@, paths absolute,
 * no control bytes in any value, numbers in range, connect_timeout_ms <=
 * timeout_ms, client_id with client_secret_file and tls_cert_file with
 * tls_key_file. It is stable: written back as a file ("key = "value""
 * lines) it loads again as the same configuration. And the module's
 * request to the helper for it parses and fits the helper's buffers.
 * config_load_report (apitoken check) agrees with it: the same result, its
 * first problem is config_load's message word for word, and it finds at
 * least one problem exactly when config_load fails.
 */
#include <stddef.h>
#include <strings.h>

#include "buf.h"
#include "claims.h"

#include "config.h"
#include "introspect.h"
#include "oracle.h"
#include "proto.h"
#include "url.h"

#define MAX_ARGS 16

enum kind { STR, PATHV, LONGV, BOOLV };

static const struct {
	const char *name;
	enum kind kind;
	size_t off;
	long min, max;
} keys[] = {
#define K(n, k, lo, hi)                                                                            \
	{                                                                                          \
#n, k, offsetof(struct apt_config, n), lo, hi                                      \
	}
    K(verify, STR, 0, 0),
    K(introspection_url, STR, 0, 0),
    K(userinfo_url, STR, 0, 0),
    K(client_id, STR, 0, 0),
    K(client_secret_file, PATHV, 0, 0),
    K(client_auth, STR, 0, 0),
    K(ca_file, PATHV, 0, 0),
    K(tls_cert_file, PATHV, 0, 0),
    K(tls_key_file, PATHV, 0, 0),
    K(proxy, STR, 0, 0),
    K(connect_timeout_ms, LONGV, 1, 600000),
    K(timeout_ms, LONGV, 1, 600000),
    K(token_prefixes, STR, 0, 0),
    K(username_claim, STR, 0, 0),
    K(scope_claim, STR, 0, 0),
    K(user_map, PATHV, 0, 0),
    K(required_scopes, STR, 0, 0),
    K(allowed_client_ids, STR, 0, 0),
    K(audience, STR, 0, 0),
    K(issuer, STR, 0, 0),
    K(ip_ranges_claim, STR, 0, 0),
    K(require_ip_ranges, BOOLV, 0, 0),
    K(clock_skew, LONGV, 0, 3600),
    K(cache, BOOLV, 0, 0),
    K(cache_dir, PATHV, 0, 0),
    K(cache_ttl, LONGV, 0, 86400),
    K(negative_cache_ttl, LONGV, 0, 86400),
    K(cache_max_entries, LONGV, 1, 10000000),
    K(offline_grace, LONGV, 0, 604800),
    K(helper, PATHV, 0, 0),
    K(helper_user, STR, 0, 0),
    K(prompt, STR, 0, 0),
    K(audit_file, PATHV, 0, 0),
    K(debug, BOOLV, 0, 0),
    K(use_first_pass, BOOLV, 0, 0),
    K(try_first_pass, BOOLV, 0, 0),
#undef K
};
#define NKEYS		    (sizeof(keys) / sizeof(keys[0]))
#define FIELD(cfg, i, type) (*(type *)((char *)(cfg) + keys[i].off))

static void check_valid(const struct apt_config *c)
{
	const char *u = config_endpoint(c), *auth;
	bool userinfo = strcmp(c->verify, PROTO_VERIFY_USERINFO) == 0;

	/* verify is one of the two; each has its own URL, userinfo no client credentials. */
	CHECK(userinfo || strcmp(c->verify, PROTO_VERIFY_INTROSPECTION) == 0);
	CHECK(userinfo ? c->introspection_url == NULL : c->userinfo_url == NULL);
	CHECK(!userinfo || (c->client_id == NULL && strcmp(c->client_auth, "none") == 0));
	CHECK(u != NULL && url_scheme_allowed(u));
	CHECK(strpbrk(u, " \t") == NULL && strlen(u) <= 2047);
	auth = strstr(u, "://") + 3;
	CHECK(memchr(auth, '@', strcspn(auth, "/?#")) == NULL);
	CHECK(c->username_claim && c->ip_ranges_claim && c->scope_claim && c->helper &&
	      c->helper_user && c->cache_dir && c->prompt);
	/* Every claim name is a path the helper can walk: no empty segment. */
	CHECK(claim_path_valid(c->username_claim) && claim_path_valid(c->ip_ranges_claim) &&
	      claim_path_valid(c->scope_claim));
	CHECK((c->client_id == NULL) == (c->client_secret_file == NULL));
	CHECK((c->tls_cert_file == NULL) == (c->tls_key_file == NULL));
	CHECK(c->connect_timeout_ms <= c->timeout_ms);
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].kind == LONGV) {
			long v = FIELD(c, i, long);
			CHECK(v >= keys[i].min && v <= keys[i].max);
		} else if (keys[i].kind != BOOLV && FIELD(c, i, char *) != NULL) {
			const char *s = FIELD(c, i, char *);
			CHECK(s[0] != '\0' && no_control_bytes(s));
			CHECK(keys[i].kind != PATHV || s[0] == '/');
		}
	}
}

/*
 * The module's request for this config is one the helper reads: it parses,
 * and each field fits the buffer cmd_introspect (helper/cmd_introspect.c) reads
 * it into, so a config that loads never ends as the helper's bad_request.
 * Only configs that name no file (secret, TLS, CA) are built: the files
 * would have to exist.
 */
static void check_request(const struct apt_config *c)
{
	static const char token[] = "ucat_fuzz_token";
	struct buf req = BUF_INIT;
	struct proto_msg m;
	char url[2048], uclaim[128], rclaim[128], sclaim[128], proxy[1024], client_id[512],
	    err[512], auth[16];
	const struct proto_field *f;
	long cto, to;

	if (c->client_secret_file || c->tls_cert_file || c->ca_file)
		return;
	CHECK(introspect_build_request(c, token, sizeof(token) - 1, &req, err, sizeof(err)) ==
	      APT_OK);
	CHECK(proto_parse(PROTO_REQUEST_MAGIC, req.p, req.len, &m) == 0);
	CHECK(proto_get_str(&m, "url", url, sizeof(url)) == 0 &&
	      strcmp(url, config_endpoint(c)) == 0);
	CHECK(proto_get_str(&m, "verify", auth, sizeof(auth)) == 0 && strcmp(auth, c->verify) == 0);
	CHECK(proto_get_str(&m, "username_claim", uclaim, sizeof(uclaim)) == 0 &&
	      strcmp(uclaim, c->username_claim) == 0);
	CHECK(proto_get_str(&m, "ip_ranges_claim", rclaim, sizeof(rclaim)) == 0 &&
	      strcmp(rclaim, c->ip_ranges_claim) == 0);
	CHECK(proto_get_str(&m, "scope_claim", sclaim, sizeof(sclaim)) == 0 &&
	      strcmp(sclaim, c->scope_claim) == 0);
	CHECK(proto_get_long(&m, "connect_timeout_ms", 1, 600000, &cto) == 0 &&
	      cto == c->connect_timeout_ms);
	CHECK(proto_get_long(&m, "timeout_ms", 1, 600000, &to) == 0 && to <= c->timeout_ms);
	f = proto_get(&m, "token");
	CHECK(f != NULL && f->len == sizeof(token) - 1 && memcmp(f->val, token, f->len) == 0);
	CHECK(c->proxy == NULL || (proto_get_str(&m, "proxy", proxy, sizeof(proxy)) == 0 &&
				   strcmp(proxy, c->proxy) == 0));
	CHECK(c->client_id == NULL ||
	      proto_get_str(&m, "client_id", client_id, sizeof(client_id)) == 0);
	/* A config that loads names one of the ways the helper knows (cmd_introspect.c). */
	CHECK(proto_get_str(&m, "client_auth", auth, sizeof(auth)) == 0 &&
	      (strcmp(auth, "basic") == 0 || strcmp(auth, "basic_raw") == 0 ||
	       strcmp(auth, "post") == 0 || strcmp(auth, "bearer") == 0 ||
	       strcmp(auth, "none") == 0));
	buf_free(&req);
}

/* c as a file that config_load should read back as c. */
static void write_back(const struct apt_config *c, struct buf *out)
{
	for (size_t i = 0; i < NKEYS; i++) {
		switch (keys[i].kind) {
		case STR:
		case PATHV:
			if (FIELD(c, i, char *) != NULL)
				buf_appendf(out, "%s = \"%s\"\n", keys[i].name,
					    FIELD(c, i, char *));
			break;
		case LONGV:
			buf_appendf(out, "%s = %ld\n", keys[i].name, FIELD(c, i, long));
			break;
		case BOOLV:
			buf_appendf(out, "%s = %s\n", keys[i].name,
				    FIELD(c, i, bool) ? "yes" : "no");
			break;
		}
	}
}

static void check_same(const struct apt_config *a, const struct apt_config *b)
{
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].kind == LONGV) {
			CHECK(FIELD(a, i, long) == FIELD(b, i, long));
		} else if (keys[i].kind == BOOLV) {
			CHECK(FIELD(a, i, bool) == FIELD(b, i, bool));
		} else {
			const char *x = FIELD(a, i, char *), *y = FIELD(b, i, char *);
			CHECK((x == NULL) == (y == NULL) && (x == NULL || strcmp(x, y) == 0));
		}
	}
}

/* config_load_report's first problem, as the module would have logged it. */
static char first[512];
static void first_problem(void *ctx, const char *msg)
{
	if (((char *)ctx)[0] == '\0')
		snprintf(ctx, sizeof(first), "%s", msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[300], path2[300], arg[310];
	const uint8_t *p = data;
	size_t left = size;
	char *file = NULL, *args[MAX_ARGS + 1] = {0};
	const char *argv[MAX_ARGS + 1];
	int argc = 0;
	struct apt_config cfg, again;
	struct buf text = BUF_INIT;
	char err[512];
	enum apt_rc rc;

	if (path[0] == '\0') {
		const char *dir = fuzz_dir(true);
		snprintf(path, sizeof(path), "%s/pam_apitoken.conf", dir);
		snprintf(path2, sizeof(path2), "%s/again.conf", dir);
	}
	/* The file part may hold no NUL (lib/file.c refuses one): it ends at the first. */
	file = next_part(&p, &left);
	while (left > 0 && argc < MAX_ARGS)
		args[argc++] = next_part(&p, &left);
	for (int i = 0; i < argc; i++)
		argv[i] = args[i];
	snprintf(arg, sizeof(arg), "config=%s", path);
	argv[argc] = arg;
	write_file(path, file, strlen(file));

	memset(err, 'Z', sizeof(err));
	rc = config_load(&cfg, argc + 1, argv, err, sizeof(err));
	CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	{
		struct config_report rep = {.problem = first_problem, .ctx = first};
		char err2[512];
		enum apt_rc rc2;

		first[0] = '\0';
		rc2 = config_load_report(&again, argc + 1, argv, &rep, err2, sizeof(err2));
		config_free(&again);
		if (rc != APT_NOMEM && rc2 != APT_NOMEM) {
			CHECK(rc2 == rc);
			CHECK((rep.problems > 0) == (rc != APT_OK));
			CHECK(rc == APT_OK || (strcmp(err2, err) == 0 && strcmp(first, err) == 0));
		}
	}
	if (rc == APT_OK) {
		check_valid(&cfg);
		check_request(&cfg);
		CHECK(cfg.config != NULL && strcmp(cfg.config, path) == 0);
		write_back(&cfg, &text);
		CHECK(!text.failed);
		write_file(path2, text.p, text.len);
		snprintf(arg, sizeof(arg), "config=%s", path2);
		argv[0] = arg;
		rc = config_load(&again, 1, argv, err, sizeof(err));
		if (rc != APT_OK)
			fprintf(stderr, "reload: %s\n", err);
		CHECK(rc == APT_OK);
		check_same(&cfg, &again);
		config_free(&again);
	} else {
		CHECK(rc == APT_SERVICE || rc == APT_NOMEM);
		CHECK(rc != APT_SERVICE || err[0] != '\0');
	}
	config_free(&cfg);
	buf_free(&text);
	free(file);
	for (int i = 0; i < argc; i++)
		free(args[i]);
	return 0;
}
