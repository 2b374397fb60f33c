/*
 * `apitoken cache stats|list|flush|forget` (helper/cmd_cache.c) on caches the
 * real module filled through libpam and the test issuer, and on caches set
 * up through lib/cache.c for the states a few logins cannot reach quickly
 * (grace, expired, invalid, backoff, no host key). The helper runs as an
 * admin would run it, as a process with --config naming the module's file;
 * request counts come from the issuer's own counter.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <security/pam_appl.h>

#include "cache.h"
#include "config.h"
#include "fingerprint.h"
#include "testenv.h"
#include "unit.h"

#define HELPER TEST_BUILD "/apitoken"

static struct server idp;
static char cache_dir[600], errfile[600];

static void up(void)
{
	testenv_up(&idp, NULL);
	snprintf(cache_dir, sizeof(cache_dir), "%s/cache", T.root);
	snprintf(errfile, sizeof(errfile), "%s/stderr", T.root);
}

static void down(void)
{
	testenv_down(&idp, NULL);
}

/* A fresh cache dir, and the module's config (ROOT/apt.conf) with the cache on. */
static const char *service(const char *conf)
{
	char cmd[700];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache_dir);
	ck_assert_int_eq(system(cmd), 0);
	return make_service(conf, NULL);
}

static const char *issuer_service(void)
{
	char conf[2048], *url = idp_url(&idp);
	const char *dir;

	snprintf(conf, sizeof(conf),
		 "introspection_url = %s\nclient_id = rs\nclient_secret_file = %s\ncache = yes\n",
		 url, write_file("secret", 0600, "rs-secret"));
	dir = service(conf);
	free(url);
	return dir;
}

/* The whole of a file (malloc), "" when absent. */
static char *slurp(const char *path)
{
	char *text = file_text(path, 0);

	return text != NULL ? text : strdup("");
}

/*
 * Runs `apitoken cache ARGS --config ROOT/apt.conf` (conf: another file) and
 * returns its stdout; *status is the exit status, its stderr is in errfile.
 */
static char *admin_with(const char *conf, const char *args, int *status)
{
	char cmd[2048], *out;
	int st;

	snprintf(cmd, sizeof(cmd), HELPER " cache %s --config %s 2>%s", args, conf, errfile);
	out = shell_output(cmd, &st);
	ck_assert_msg(out != NULL, "%s", cmd);
	ck_assert_msg(WIFEXITED(st), "%s: status %#x", cmd, st);
	*status = WEXITSTATUS(st);
	return out;
}

static char *admin(const char *args, int *status)
{
	char conf[600];

	snprintf(conf, sizeof(conf), "%s/apt.conf", T.root);
	return admin_with(conf, args, status);
}

/* Runs a command that must exit with want; returns nothing, checks stdout+stderr for tokens. */
static void expect_exit(const char *args, int want, const char *const *tokens)
{
	int status;
	char *out = admin(args, &status), *err = slurp(errfile);

	ck_assert_msg(status == want, "cache %s: exit %d, want %d; stdout: %s; stderr: %s", args,
		      status, want, out, err);
	for (; tokens && *tokens; tokens++) {
		ck_assert_ptr_null(strstr(out, *tokens));
		ck_assert_ptr_null(strstr(err, *tokens));
	}
	free(out);
	free(err);
}

/* The number after a "label   " line of `stats`, or -1. */
static long stat_value(const char *text, const char *label)
{
	const char *p = text;
	size_t n = strlen(label);

	while (p != NULL && *p) {
		if (strncmp(p, label, n) == 0 && p[n] == ' ') {
			p += n;
			while (*p == ' ')
				p++;
			return strtol(p, NULL, 10);
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return -1;
}

/* The line of text that holds needle (a static copy), or NULL. */
static const char *line_with(const char *text, const char *needle)
{
	static char line[2048];
	const char *hit = strstr(text, needle), *start, *end;

	if (hit == NULL)
		return NULL;
	for (start = hit; start > text && start[-1] != '\n'; start--)
		;
	end = strchr(hit, '\n');
	if (end == NULL)
		end = hit + strlen(hit);
	snprintf(line, sizeof(line), "%.*s", (int)(end - start), start);
	return line;
}

static int count_lines(const char *text)
{
	int n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

static json_t *parse_json(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);

	ck_assert_msg(j != NULL, "not JSON (%s): %s", jerr.text, text);
	return j;
}

static long jint(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_integer(v), "%s is not an integer", key);
	return (long)json_integer_value(v);
}

static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_string(v), "%s is not a string", key);
	return json_string_value(v);
}

/* The entry object of fingerprint fp in a `list --json` array. */
static const json_t *find_entry(const json_t *arr, const char *fp)
{
	size_t i;
	const json_t *e;

	json_array_foreach(arr, i, e) if (strcmp(jstr(e, "fingerprint"), fp) == 0) return e;
	ck_abort_msg("no entry %s", fp);
	return NULL;
}

static void assert_iso(const json_t *e, const char *key)
{
	char k[64], want[32];
	time_t t = (time_t)jint(e, key);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(k, sizeof(k), "%s_iso", key);
	ck_assert_str_eq(jstr(e, k), want);
}

START_TEST(admin_commands_on_a_cache_the_module_filled)
{
	char *ta = idp_mint(&idp, "alice", "ssh deploy", 300, NULL);
	char *tb = idp_mint(&idp, "bob", "ssh", 300, NULL);
	char bad[] = "neverIssuedByAnyone0000000000000000000000";
	const char *const tokens[] = {ta, tb, bad, NULL};
	char fpa[FINGERPRINT_LEN], fpb[FINGERPRINT_LEN], fpbad[FINGERPRINT_LEN], args[200];
	const char *dir = issuer_service(), *line;
	char *out, *err;
	json_t *j;
	const json_t *e;
	long before;
	int status;

	token_fingerprint(ta, strlen(ta), NULL, fpa);
	token_fingerprint(tb, strlen(tb), NULL, fpb);
	token_fingerprint(bad, strlen(bad), NULL, fpbad);
	/* A second apart, so that "newest first" has an order to show. */
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", ta).auth, PAM_SUCCESS);
	sleep(1);
	ck_assert_int_eq(pam_run(dir, "bob", "192.0.2.7", tb).auth, PAM_SUCCESS);
	sleep(1);
	ck_assert_int_eq(pam_run(dir, "carol", "192.0.2.7", bad).auth, PAM_AUTH_ERR);

	/* stats, text */
	out = admin("stats", &status);
	ck_assert_msg(status == 0, "%s", out);
	ck_assert_int_eq(stat_value(out, "entries"), 3);
	ck_assert_int_eq(stat_value(out, "  fresh positive"), 2);
	ck_assert_int_eq(stat_value(out, "  fresh negative"), 1);
	ck_assert_int_eq(stat_value(out, "  in grace"), 0);
	ck_assert_int_eq(stat_value(out, "  expired"), 0);
	ck_assert_int_eq(stat_value(out, "  invalid"), 0);
	ck_assert_int_eq(stat_value(out, "cache_ttl"), 60);
	ck_assert_int_eq(stat_value(out, "negative_cache_ttl"), 10);
	ck_assert_int_eq(stat_value(out, "offline_grace"), 0);
	ck_assert_int_eq(stat_value(out, "cache_max_entries"), 10000);
	ck_assert_ptr_nonnull(strstr(out, cache_dir));
	ck_assert_ptr_nonnull(line_with(out, "host key"));
	ck_assert_ptr_nonnull(strstr(line_with(out, "host key"), "present"));
	ck_assert_str_eq(line_with(out, "backoff"), "backoff             no");
	free(out);

	/* stats, JSON */
	out = admin("stats --json", &status);
	ck_assert_int_eq(status, 0);
	j = parse_json(out);
	ck_assert_int_eq(jint(j, "entries"), 3);
	ck_assert_int_eq(jint(j, "fresh_positive"), 2);
	ck_assert_int_eq(jint(j, "fresh_negative"), 1);
	ck_assert_int_eq(jint(j, "grace"), 0);
	ck_assert_int_eq(jint(j, "expired"), 0);
	ck_assert_int_eq(jint(j, "invalid"), 0);
	ck_assert_int_eq(jint(j, "cache_ttl"), 60);
	ck_assert(json_is_true(json_object_get(j, "host_key")));
	ck_assert(json_is_true(json_object_get(j, "exists")));
	ck_assert(json_is_false(json_object_get(j, "backoff")));
	ck_assert_str_eq(jstr(j, "cache_dir"), cache_dir);
	json_decref(j);
	free(out);

	/* list, text: a header, then newest first; fingerprints, never tokens. */
	out = admin("list", &status);
	err = slurp(errfile);
	ck_assert_int_eq(status, 0);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(count_lines(out), 4);
	ck_assert_msg(strncmp(out, "FINGERPRINT", 11) == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "USER"));
	ck_assert_ptr_nonnull(strstr(out, "FRESH-UNTIL"));
	ck_assert(strstr(out, fpbad) < strstr(out, fpb) && strstr(out, fpb) < strstr(out, fpa));
	line = line_with(out, fpa);
	ck_assert_ptr_nonnull(line);
	ck_assert_msg(strstr(line, " alice ") && strstr(line, " positive ") &&
			  strstr(line, " fresh ") && strstr(line, " ssh,deploy ") &&
			  strstr(line, "%20") == NULL,
		      "%s", line);
	line = line_with(out, fpb);
	ck_assert_ptr_nonnull(line);
	ck_assert_msg(strstr(line, " bob ") && strstr(line, " positive ") && strstr(line, " ssh"),
		      "%s", line);
	line = line_with(out, fpbad);
	ck_assert_ptr_nonnull(line);
	ck_assert_msg(strstr(line, " - ") && strstr(line, " negative  negative "), "%s", line);
	/* UTC ISO-8601 times. */
	{
		int y, mo, d, h, mi, s;
		const char *t = strstr(line, "negative  negative ") + 19;

		while (*t == ' ')
			t++;
		ck_assert_int_eq(sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2dZ", &y, &mo, &d, &h, &mi, &s),
				 6);
		ck_assert(t[19] == 'Z');
	}
	for (int i = 0; tokens[i]; i++) {
		ck_assert_ptr_null(strstr(out, tokens[i]));
		ck_assert_ptr_null(strstr(out, tokens[i] + strlen(tokens[i]) - 16));
	}
	free(err);
	free(out);

	/* list, JSON */
	out = admin("list --json", &status);
	ck_assert_int_eq(status, 0);
	j = parse_json(out);
	ck_assert(json_is_array(j));
	ck_assert_int_eq(json_array_size(j), 3);
	ck_assert_str_eq(jstr(json_array_get(j, 0), "fingerprint"), fpbad);
	e = find_entry(j, fpa);
	ck_assert_str_eq(jstr(e, "user"), "alice");
	ck_assert_str_eq(jstr(e, "kind"), "positive");
	ck_assert_str_eq(jstr(e, "state"), "fresh");
	ck_assert_str_eq(jstr(e, "scope"), "ssh%20deploy"); /* as it always was */
	ck_assert_int_eq(json_array_size(json_object_get(e, "scopes")), 2);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(e, "scopes"), 0)), "ssh");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(e, "scopes"), 1)),
			 "deploy");
	ck_assert_int_eq(jint(e, "fresh_until") - jint(e, "fetched"), 60);
	ck_assert_int_le(labs(jint(e, "fetched") - (long)time(NULL)), 30);
	assert_iso(e, "fetched");
	assert_iso(e, "fresh_until");
	assert_iso(e, "grace_until");
	e = find_entry(j, fpbad);
	ck_assert(json_is_null(json_object_get(e, "user")));
	ck_assert(json_is_null(json_object_get(e, "scope")));
	ck_assert_int_eq(json_array_size(json_object_get(e, "scopes")), 0);
	ck_assert_str_eq(jstr(e, "kind"), "negative");
	ck_assert_str_eq(jstr(e, "state"), "negative");
	ck_assert_int_eq(jint(e, "fresh_until") - jint(e, "fetched"), 10);
	e = find_entry(j, fpb);
	ck_assert_str_eq(jstr(e, "user"), "bob");
	json_decref(j);
	for (int i = 0; tokens[i]; i++)
		ck_assert_ptr_null(strstr(out, tokens[i]));
	free(out);

	/* forget: exactly that entry, and the next login asks the issuer again. */
	snprintf(args, sizeof(args), "forget %s", fpa);
	out = admin(args, &status);
	ck_assert_int_eq(status, 0);
	ck_assert_str_eq(out, "forgot 1 entry\n");
	free(out);
	out = admin("stats --json", &status);
	j = parse_json(out);
	ck_assert_int_eq(jint(j, "entries"), 2);
	ck_assert_int_eq(jint(j, "fresh_positive"), 1);
	ck_assert_int_eq(jint(j, "fresh_negative"), 1);
	json_decref(j);
	free(out);
	out = admin("list", &status);
	ck_assert_ptr_null(strstr(out, fpa));
	ck_assert_ptr_nonnull(strstr(out, fpb));
	ck_assert_ptr_nonnull(strstr(out, fpbad));
	free(out);
	out = admin(args, &status);
	ck_assert_int_eq(status, 1);
	ck_assert_str_eq(out, "forgot 0 entries\n");
	free(out);

	before = idp_introspections(&idp);
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", ta).auth, PAM_SUCCESS);
	ck_assert_int_eq(idp_introspections(&idp), before + 1);
	ck_assert_int_eq(pam_run(dir, "bob", "192.0.2.7", tb).auth, PAM_SUCCESS);
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", ta).auth, PAM_SUCCESS);
	ck_assert_int_eq(idp_introspections(&idp), before + 1);

	/* No argument is a token, and what looks like one is refused without an echo. */
	expect_exit("forget not-a-fingerprint", 2, tokens);
	expect_exit("forget sha256:3F2A9C1B", 2, tokens);
	expect_exit("forget sha256:3f2a9c1", 2, tokens);
	/* The hex alone: exactly 8 lowercase digits, nothing else. */
	expect_exit("forget 3F2A9C1B", 2, tokens);
	expect_exit("forget 3f2a9c1", 2, tokens);
	expect_exit("forget 3f2a9c1b0", 2, tokens);
	expect_exit("forget 3f2a9c1g", 2, tokens);
	expect_exit("forget _3f2a9c1b", 2, tokens);
	expect_exit("forget :3f2a9c1b", 2, tokens);
	snprintf(args, sizeof(args), "forget %s", ta);
	expect_exit(args, 2, tokens);
	snprintf(args, sizeof(args), "forget %s %s", fpb, fpbad);
	expect_exit(args, 2, tokens);
	expect_exit("forget", 2, tokens);

	/* Usage errors. */
	expect_exit("frobnicate", 2, tokens);
	expect_exit("", 2, tokens);
	expect_exit("list extra", 2, tokens);
	expect_exit("stats --bogus", 2, tokens);
	expect_exit("stats --config", 2, tokens);
	out = admin("--help", &status);
	ck_assert_int_eq(status, 0);
	ck_assert_ptr_nonnull(strstr(out, "forget FINGERPRINT"));
	free(out);

	/* flush: everything, and the key stays (names stay stable for the module). */
	out = admin("flush", &status);
	ck_assert_int_eq(status, 0);
	ck_assert_str_eq(out, "flushed 3 entries\n");
	free(out);
	out = admin("stats --json", &status);
	j = parse_json(out);
	ck_assert_int_eq(jint(j, "entries"), 0);
	ck_assert(json_is_true(json_object_get(j, "host_key")));
	json_decref(j);
	free(out);
	out = admin("list", &status);
	ck_assert_int_eq(status, 0);
	ck_assert_int_eq(count_lines(out), 1);
	free(out);
	out = admin("flush --json", &status);
	ck_assert_int_eq(status, 0);
	j = parse_json(out);
	ck_assert_int_eq(jint(j, "flushed"), 0);
	json_decref(j);
	free(out);
	before = idp_introspections(&idp);
	ck_assert_int_eq(pam_run(dir, "bob", "192.0.2.7", tb).auth, PAM_SUCCESS);
	ck_assert_int_eq(idp_introspections(&idp), before + 1);
	free(ta);
	free(tb);
}
END_TEST

/* Opens the cache of ROOT/apt.conf as the module would, for planting entries. */
static void open_module_cache(struct apt_config *cfg, struct cache *c)
{
	char arg[700], err[1024];
	const char *argv[1] = {arg};

	snprintf(arg, sizeof(arg), "config=%s/apt.conf", T.root);
	ck_assert_msg(config_load(cfg, 1, argv, err, sizeof(err)) == APT_OK, "%s", err);
	ck_assert_msg(cache_open(c, cfg, true, err, sizeof(err)) == APT_OK, "%s", err);
}

/*
 * An entry for token; user (ulen bytes, NULs allowed) is the username
 * claim, NULL for none; scope the scope claim, NULL for none.
 */
static void plant_with_scope(struct cache *c, const char *token, const char *fp, const char *user,
			     size_t ulen, const char *scope, enum cache_kind kind, time_t fetched)
{
	struct cache_entry e;
	char name[CACHE_NAME_LEN + 1];

	memset(&e, 0, sizeof(e));
	e.kind = kind;
	e.fetched = fetched;
	snprintf(e.fingerprint, sizeof(e.fingerprint), "%s", fp);
	if (kind == CACHE_POSITIVE) {
		e.claims.c[CLAIM_ACTIVE].type = CLAIM_BOOL;
		e.claims.c[CLAIM_ACTIVE].n = 1;
		if (user != NULL) {
			ck_assert_int_eq(claim_set_string(&e.claims.c[CLAIM_USERNAME], user, ulen),
					 0);
			e.claims.c[CLAIM_USERNAME].type = CLAIM_STRING;
		}
		if (scope != NULL) {
			ck_assert_int_eq(
			    claim_set_string(&e.claims.c[CLAIM_SCOPE], scope, strlen(scope)), 0);
			e.claims.c[CLAIM_SCOPE].type = CLAIM_STRING;
		}
	}
	cache_name(c, token, strlen(token), name);
	ck_assert_int_eq(cache_write(c, name, &e), 0);
	cache_entry_free(&e);
}

static void plant(struct cache *c, const char *token, const char *fp, const char *user, size_t ulen,
		  enum cache_kind kind, time_t fetched)
{
	plant_with_scope(c, token, fp, user, ulen, NULL, kind, fetched);
}

START_TEST(states_prefixes_invalid_entries_and_backoff)
{
	struct apt_config cfg;
	struct cache c;
	time_t now = time(NULL);
	char path[800], *out, *err, conf[700];
	const char *line;
	json_t *j;
	int status;

	service("introspection_url = http://127.0.0.1:9/introspect\ncache = yes\n"
		"cache_ttl = 60\noffline_grace = 300\n");
	open_module_cache(&cfg, &c);
	/* Fresh, in grace (offline_grace), expired, and an expired negative one. */
	plant(&c, "t1", "ucat_sha256:3f2a9c1b", "eve\nresult=allow -", 18, CACHE_POSITIVE, now);
	plant(&c, "t2", "huc_sha256:3f2a9c1b", "-", 1, CACHE_POSITIVE, now - 100);
	plant(&c, "t3", "ucat_sha256:0000aaaa", "nul", 4, CACHE_POSITIVE, now - 1000);
	plant(&c, "t4", "sha256:0000bbbb", NULL, 0, CACHE_NEGATIVE, now - 20);
	/* Planted by hand: a name like an entry's, no valid MAC. */
	{
		char p[900];
		FILE *f;

		snprintf(p, sizeof(p), "%s/%s", cache_dir,
			 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
		f = fopen(p, "w");
		ck_assert_ptr_nonnull(f);
		fputs("apitoken-cache-entry 1\nkind 8\npositive\nend\n", f);
		fclose(f);
		chmod(p, 0600);
	}
	cache_backoff_set(&c, now, 120);

	out = admin("stats", &status);
	ck_assert_int_eq(status, 0);
	ck_assert_int_eq(stat_value(out, "entries"), 5);
	ck_assert_int_eq(stat_value(out, "  fresh positive"), 1);
	ck_assert_int_eq(stat_value(out, "  fresh negative"), 0);
	ck_assert_int_eq(stat_value(out, "  in grace"), 1);
	ck_assert_int_eq(stat_value(out, "  expired"), 2);
	ck_assert_int_eq(stat_value(out, "  invalid"), 1);
	ck_assert_int_eq(stat_value(out, "offline_grace"), 300);
	line = line_with(out, "backoff");
	ck_assert_msg(strncmp(line, "backoff             yes, until 20", 33) == 0, "%s", line);
	free(out);
	out = admin("stats --json", &status);
	j = parse_json(out);
	ck_assert(json_is_true(json_object_get(j, "backoff")));
	ck_assert_int_eq(jint(j, "backoff_until"), now + 120);
	assert_iso(j, "backoff_until");
	ck_assert_int_eq(jint(j, "invalid"), 1);
	json_decref(j);
	free(out);

	/* Values from the issuer are escaped: no forged columns, lines or fields. */
	out = admin("list", &status);
	err = slurp(errfile);
	ck_assert_int_eq(status, 0);
	ck_assert_int_eq(count_lines(out), 5);
	ck_assert_ptr_nonnull(strstr(err, "1 invalid entry not listed"));
	line = line_with(out, "ucat_sha256:3f2a9c1b");
	ck_assert_msg(strstr(line, " eve%0Aresult%3Dallow%20- ") && strstr(line, " fresh "), "%s",
		      line);
	line = line_with(out, "huc_sha256:3f2a9c1b");
	ck_assert_msg(strstr(line, " %2D ") && strstr(line, " grace "), "%s", line);
	line = line_with(out, "ucat_sha256:0000aaaa");
	ck_assert_msg(strstr(line, " nul%00 ") && strstr(line, " expired "), "%s", line);
	line = line_with(out, "sha256:0000bbbb");
	ck_assert_msg(strstr(line, " negative  expired "), "%s", line);
	free(err);
	free(out);

	/* forget by the hash alone takes every prefix; with a prefix, only that one. */
	expect_exit("forget huc_sha256:0000aaaa", 1, NULL);
	expect_exit("forget ucat_sha256:0000bbbb", 1, NULL);
	out = admin("forget sha256:3f2a9c1b", &status);
	ck_assert_int_eq(status, 0);
	ck_assert_str_eq(out, "forgot 2 entries\n");
	free(out);
	out = admin("forget ucat_sha256:0000aaaa --json", &status);
	ck_assert_int_eq(status, 0);
	j = parse_json(out);
	ck_assert_int_eq(jint(j, "forgot"), 1);
	json_decref(j);
	free(out);
	out = admin("forget sha256:0000bbbb", &status);
	ck_assert_int_eq(status, 0);
	free(out);

	/* flush takes the invalid entry and the backoff too. */
	out = admin("flush", &status);
	ck_assert_int_eq(status, 0);
	ck_assert_str_eq(out, "flushed 1 entry\n");
	free(out);
	ck_assert(!cache_backoff_active(&c, now));
	out = admin("stats", &status);
	ck_assert_int_eq(stat_value(out, "entries"), 0);
	ck_assert_str_eq(line_with(out, "backoff"), "backoff             no");
	free(out);

	/* The host key deleted (voiding every entry): entries read as invalid, flush clears. */
	plant(&c, "t5", "sha256:0000cccc", "alice", 5, CACHE_POSITIVE, now);
	cache_close(&c);
	snprintf(path, sizeof(path), "%s/.key", cache_dir);
	ck_assert_int_eq(unlink(path), 0);
	out = admin("stats --json", &status);
	ck_assert_int_eq(status, 0);
	j = parse_json(out);
	ck_assert(json_is_false(json_object_get(j, "host_key")));
	ck_assert_int_eq(jint(j, "entries"), 1);
	ck_assert_int_eq(jint(j, "invalid"), 1);
	json_decref(j);
	free(out);
	expect_exit("forget sha256:0000cccc", 1, NULL);
	out = admin("flush", &status);
	ck_assert_int_eq(status, 0);
	ck_assert_str_eq(out, "flushed 1 entry\n");
	free(out);
	ck_assert_int_eq(access(path, F_OK), -1); /* never creates anything */

	/* An unsafe directory: an error, not an empty listing. */
	ck_assert_int_eq(chmod(cache_dir, 0777), 0);
	for (int i = 0; i < 4; i++) {
		static const char *const sub[] = {"stats", "list", "flush",
						  "forget sha256:0000cccc"};

		out = admin(sub[i], &status);
		err = slurp(errfile);
		ck_assert_int_eq(status, 2);
		{
			/* What is wrong, and the command that fixes it. */
			char want[1400];

			snprintf(want, sizeof(want),
				 "apitoken cache: cache %s: writable by group or others (chmod 700 "
				 "%s)",
				 cache_dir, cache_dir);
			ck_assert_msg(strstr(err, want) != NULL, "want \"%s\" in %s", want, err);
		}
		free(err);
		free(out);
	}
	ck_assert_int_eq(chmod(cache_dir, 0700), 0);

	/* No cache directory yet: an empty cache, nothing to do. */
	snprintf(path, sizeof(path), "rm -rf '%s'", cache_dir);
	ck_assert_int_eq(system(path), 0);
	out = admin("stats", &status);
	ck_assert_int_eq(status, 0);
	ck_assert_ptr_nonnull(strstr(out, "does not exist"));
	ck_assert_int_eq(stat_value(out, "entries"), 0);
	free(out);
	out = admin("list --json", &status);
	ck_assert_int_eq(status, 0);
	ck_assert_str_eq(out, "[]\n");
	free(out);
	out = admin("flush", &status);
	ck_assert_int_eq(status, 0);
	ck_assert_ptr_nonnull(strstr(out, "nothing to do"));
	free(out);
	expect_exit("forget sha256:0000cccc", 1, NULL);
	ck_assert_int_eq(access(cache_dir, F_OK), -1);

	/* The module's config is the one read: its errors stop the command. */
	snprintf(conf, sizeof(conf), "%s/no-such.conf", T.root);
	out = admin_with(conf, "stats", &status);
	ck_assert_int_eq(status, 2);
	free(out);
	write_file("bad.conf", 0644, "introspection_url = http://127.0.0.1:9/\ncache_size = 5\n");
	snprintf(conf, sizeof(conf), "%s/bad.conf", T.root);
	out = admin_with(conf, "stats", &status);
	err = slurp(errfile);
	ck_assert_int_eq(status, 2);
	/* The place, not the text: an unknown key could be a secret on the wrong line. */
	ck_assert_msg(strstr(err, "bad.conf:2: unknown option") != NULL, "%s", err);
	ck_assert_ptr_null(strstr(err, "cache_size"));
	free(err);
	free(out);
	out = admin_with("relative.conf", "stats", &status);
	ck_assert_int_eq(status, 2);
	free(out);
	config_free(&cfg);
}
END_TEST

/*
 * Two configurations share cache_dir: the admin sees the other one's entries
 * as such, forgets them by fingerprint, and flush clears both (and both
 * backoff markers).
 */
START_TEST(entries_of_other_configs_sharing_the_directory)
{
	struct apt_config cfg, cfg_b;
	struct cache c, b;
	time_t now = time(NULL);
	char *out, tag_b[17], err[256];
	const char *line;
	json_t *j;
	int status;

	service("introspection_url = http://127.0.0.1:9/a\ncache = yes\n");
	open_module_cache(&cfg, &c);
	/* The other service: the same directory, another endpoint. */
	cfg_b = cfg;
	cfg_b.introspection_url = "http://127.0.0.1:9/b";
	ck_assert_int_eq(cache_open(&b, &cfg_b, false, err, sizeof(err)), APT_OK);
	snprintf(tag_b, sizeof(tag_b), "%.16s", b.tag);
	plant(&c, "t1", "ucat_sha256:1111aaaa", "alice", 5, CACHE_POSITIVE, now);
	plant(&b, "t1", "ucat_sha256:1111aaaa", "alice", 5, CACHE_POSITIVE, now - 1);
	plant(&b, "t2", "ucat_sha256:2222bbbb", "bob", 3, CACHE_NEGATIVE, now);
	cache_backoff_set(&c, now, 60);
	cache_backoff_set(&b, now, 60);

	out = admin("stats", &status);
	ck_assert_int_eq(status, 0);
	ck_assert_int_eq(stat_value(out, "entries"), 3);
	ck_assert_int_eq(stat_value(out, "  invalid"), 0);
	ck_assert_int_eq(stat_value(out, "other configs"), 2);
	line = line_with(out, "config tag");
	ck_assert_ptr_nonnull(line);
	ck_assert_msg(strlen(line) == 36 && strncmp(line + 20, c.tag, 16) == 0, "%s", out);
	free(out);
	out = admin("list", &status);
	ck_assert_int_eq(status, 0);
	ck_assert_int_eq(count_lines(out), 4);
	line = line_with(out, "ucat_sha256:2222bbbb");
	ck_assert_ptr_nonnull(line);
	ck_assert_msg(strstr(line, tag_b) != NULL, "%s", line);
	ck_assert_ptr_nonnull(strstr(out, " this\n"));
	free(out);
	out = admin("list --json", &status);
	j = parse_json(out);
	ck_assert_str_eq(jstr(json_array_get(j, 0), "config"), "this"); /* the newest of t1 */
	json_decref(j);
	free(out);

	/* forget takes the token's entries of every configuration. */
	out = admin("forget sha256:1111aaaa", &status);
	ck_assert_int_eq(status, 0);
	ck_assert_str_eq(out, "forgot 2 entries\n");
	free(out);
	out = admin("flush", &status);
	ck_assert_int_eq(status, 0);
	ck_assert_str_eq(out, "flushed 1 entry\n");
	free(out);
	ck_assert(!cache_backoff_active(&c, now));
	ck_assert(!cache_backoff_active(&b, now));
	cache_close(&b);
	cache_close(&c);
	config_free(&cfg);
}
END_TEST

/*
 * Scopes are shown as words, one field (commas), whatever the issuer put
 * between or inside them; forget takes the hex of a fingerprint alone, for
 * every prefix, and refuses anything near it without echoing it; counts
 * are said in the singular and the plural.
 */
START_TEST(scope_words_bare_hex_and_plurals)
{
	struct apt_config cfg;
	struct cache c;
	time_t now = time(NULL);
	char *out, *err;
	const char *line;
	const json_t *e;
	json_t *j;
	int status;

	service("introspection_url = http://127.0.0.1:9/introspect\ncache = yes\n");
	open_module_cache(&cfg, &c);
	plant_with_scope(&c, "t1", "ucat_sha256:4444dddd", "ci", 2, "ssh git rsync", CACHE_POSITIVE,
			 now);
	plant_with_scope(&c, "t2", "huc_sha256:4444dddd", "ci", 2, "  ssh   deploy ",
			 CACHE_POSITIVE, now - 1);
	/* A comma, a percent sign, a tab and a newline are the issuer's: escaped, not words. */
	plant_with_scope(&c, "t3", "sha256:5555eeee", "ci", 2, "a,b 100% x\ty\nz", CACHE_POSITIVE,
			 now - 2);
	plant_with_scope(&c, "t4", "sha256:6666ffff", "ci", 2, "   ", CACHE_POSITIVE, now - 3);
	/* One word "-" is a scope, not the "-" of none. */
	plant_with_scope(&c, "t5", "sha256:7777aaaa", "ci", 2, "- ", CACHE_POSITIVE, now - 4);

	out = admin("list", &status);
	err = slurp(errfile);
	ck_assert_int_eq(status, 0);
	ck_assert_str_eq(err, "");
	ck_assert_ptr_null(strstr(out, "%20"));
	line = line_with(out, "ucat_sha256:4444dddd");
	ck_assert_msg(line && strstr(line, " ssh,git,rsync "), "%s", out);
	line = line_with(out, "huc_sha256:4444dddd");
	ck_assert_msg(line && strstr(line, " ssh,deploy "), "%s", out);
	line = line_with(out, "sha256:5555eeee");
	ck_assert_msg(line && strstr(line, " a%2Cb,100%25,x%09y%0Az "), "%s", out);
	line = line_with(out, "sha256:6666ffff");
	ck_assert_msg(line && strstr(line, " -  "), "%s", out);
	line = line_with(out, "sha256:7777aaaa");
	ck_assert_msg(line && strstr(line, " %2D "), "%s", out);
	free(err);
	free(out);
	out = admin("list --json", &status);
	ck_assert_int_eq(status, 0);
	j = parse_json(out);
	e = find_entry(j, "ucat_sha256:4444dddd");
	ck_assert_str_eq(jstr(e, "scope"), "ssh%20git%20rsync");
	ck_assert_int_eq(json_array_size(json_object_get(e, "scopes")), 3);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(e, "scopes"), 2)),
			 "rsync");
	e = find_entry(j, "sha256:5555eeee");
	ck_assert_int_eq(json_array_size(json_object_get(e, "scopes")), 3);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(e, "scopes"), 0)),
			 "a%2Cb");
	e = find_entry(j, "sha256:6666ffff");
	ck_assert_int_eq(json_array_size(json_object_get(e, "scopes")), 0);
	e = find_entry(j, "sha256:7777aaaa");
	ck_assert_int_eq(json_array_size(json_object_get(e, "scopes")), 1);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(e, "scopes"), 0)), "%2D");
	json_decref(j);
	free(out);

	/* Near misses of the hex alone: refused, the argument not echoed. */
	{
		static const char *const bad[] = {"4444DDDD",  "4444ddd",   "4444dddd0",
						  "4444dddg",  "x4444dddd", ":4444dddd",
						  "4444dddd:", "4444 dddd"};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char args[64];

			snprintf(args, sizeof(args), "forget '%s'", bad[i]);
			out = admin(args, &status);
			err = slurp(errfile);
			ck_assert_msg(status == 2, "%s: exit %d", bad[i], status);
			ck_assert_str_eq(out, "");
			ck_assert_msg(strstr(err, "not a fingerprint") != NULL, "%s", err);
			ck_assert_msg(strstr(err, bad[i]) == NULL, "%s echoed: %s", bad[i], err);
			free(err);
			free(out);
		}
	}

	/* The hex alone: every prefix's entry of it. */
	out = admin("forget 4444dddd", &status);
	ck_assert_int_eq(status, 0);
	ck_assert_str_eq(out, "forgot 2 entries\n");
	free(out);
	out = admin("forget 5555eeee", &status);
	ck_assert_int_eq(status, 0);
	ck_assert_str_eq(out, "forgot 1 entry\n");
	free(out);
	out = admin("forget 5555eeee", &status);
	ck_assert_int_eq(status, 1);
	ck_assert_str_eq(out, "forgot 0 entries\n");
	free(out);
	out = admin("forget 6666ffff --json", &status);
	ck_assert_int_eq(status, 0);
	j = parse_json(out);
	ck_assert_int_eq(jint(j, "forgot"), 1);
	json_decref(j);
	free(out);
	out = admin("flush", &status);
	ck_assert_int_eq(status, 0);
	ck_assert_str_eq(out, "flushed 1 entry\n");
	free(out);
	out = admin("flush", &status);
	ck_assert_int_eq(status, 0);
	ck_assert_str_eq(out, "flushed 0 entries\n");
	free(out);
	cache_close(&c);
	config_free(&cfg);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cache_admin");
	TCase *tc = tcase_create("cache_admin");

	tcase_add_unchecked_fixture(tc, up, down);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, admin_commands_on_a_cache_the_module_filled);
	tcase_add_test(tc, states_prefixes_invalid_entries_and_backoff);
	tcase_add_test(tc, entries_of_other_configs_sharing_the_directory);
	tcase_add_test(tc, scope_words_bare_hex_and_plurals);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
