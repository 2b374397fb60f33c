/*
 * `apitoken cache stats|list|flush|forget`: the administrator's view of the
 * module's token cache (DESIGN.md §6, §8). It reads the module's own
 * configuration through the one config reader, so it looks at the very
 * directory the module uses, and it reaches every entry through lib/cache.c,
 * so it trusts exactly what a login would trust. It never creates the cache,
 * and there is no token to show: entries hold fingerprints, never tokens.
 *
 * Other services may share cache_dir with other settings (DESIGN.md §6 ★2).
 * Their entries verify under the host key but are named under their own
 * configuration, which we cannot compute: they are listed (CONFIG shows
 * their tag instead of "this") with their state by our lifetimes, forget
 * finds them by fingerprint, and flush removes them with every backoff
 * marker.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "audit.h"
#include "cache.h"
#include "commands.h"
#include "config.h"
#include "fingerprint.h"
#include "timefmt.h"
#include "usermap.h"

/* Exits: EXIT_USAGE (commands.h) also for a bad configuration or an unusable cache. */
#define EXIT_NONE_FOUND 1 /* forget matched nothing */

struct opts {
	const char *sub;
	char arg[FINGERPRINT_LEN]; /* forget's FINGERPRINT, with its tag (fingerprint_from_arg) */
	const char *config;
	bool json;
};

static void usage(FILE *f)
{
	fputs("usage: apitoken cache stats [--json] [--config PATH]\n"
	      "       apitoken cache list [--json] [--config PATH]\n"
	      "       apitoken cache flush [--json] [--config PATH]\n"
	      "       apitoken cache forget FINGERPRINT [--json] [--config PATH]\n"
	      "\n"
	      "  stats    counts of entries by state, backoff, and the cache settings\n"
	      "  list     one line per entry, newest first; SCOPE is the token's scopes\n"
	      "           separated by commas; CONFIG is \"this\", or the tag of another\n"
	      "           configuration sharing the directory\n"
	      "  flush    removes every entry (of every configuration) and the backoff markers\n"
	      "  forget   removes the entries of one token, named by its fingerprint as the\n"
	      "           audit line shows it (ucat_sha256:3f2a9c1b), or without its prefix\n"
	      "           (sha256:3f2a9c1b or 3f2a9c1b: whatever prefix), of every\n"
	      "           configuration; exits 1 when none matched\n"
	      "\n"
	      "  --config PATH   the module's configuration file (default " APITOKEN_CONFIG_PATH
	      ")\n"
	      "  --json          machine-readable output\n"
	      "  --help, -h      this text\n"
	      "\n"
	      "Exit status: 0 done, 1 forget matched nothing, 2 usage, configuration or an\n"
	      "unusable cache directory. See apitoken(1).\n",
	      f);
}

static bool known_sub(const char *sub)
{
	return strcmp(sub, "stats") == 0 || strcmp(sub, "list") == 0 || strcmp(sub, "flush") == 0 ||
	       strcmp(sub, "forget") == 0;
}

/* 0, 1 for --help, or -1 after a message on stderr. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	const char *pos[3];
	int npos = 0, i;
	bool options = true, help = false;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (options && strcmp(a, "--") == 0) {
			options = false;
		} else if (options && help_option(a)) {
			help = true; /* after the rest is read: help for a known subcommand only */
		} else if (options && strcmp(a, "--json") == 0) {
			o->json = true;
		} else if (options && strcmp(a, "--config") == 0) {
			if (i + 1 == argc || argv[i + 1][0] == '\0') {
				fprintf(stderr, "apitoken cache: --config needs a PATH\n");
				return -1;
			}
			o->config = argv[++i];
		} else if (options && strncmp(a, "--config=", 9) == 0 && a[9] != '\0') {
			o->config = a + 9;
		} else if (options && a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "apitoken cache: unknown option \"%s\"\n", a);
			return -1;
		} else if (npos == 3) {
			fprintf(stderr, "apitoken cache: too many arguments\n");
			return -1;
		} else {
			pos[npos++] = a;
		}
	}
	if (help && (npos == 0 || known_sub(pos[0])))
		return 1;
	if (npos == 0) {
		fprintf(stderr, "apitoken cache: which subcommand?\n");
		return -1;
	}
	o->sub = pos[0];
	if (strcmp(o->sub, "forget") == 0) {
		if (npos != 2) {
			fprintf(stderr, "apitoken cache forget: want one FINGERPRINT\n");
			return -1;
		}
		/* Not echoed: whatever was typed here might be a token pasted by mistake. */
		if (!fingerprint_from_arg(pos[1], o->arg)) {
			fprintf(stderr,
				"apitoken cache forget: not a fingerprint (want "
				"[PREFIX]sha256:8HEX as in the audit line, or the 8 lowercase "
				"HEX alone)\n");
			return -1;
		}
		return 0;
	}
	if (!known_sub(o->sub)) {
		fprintf(stderr,
			"apitoken cache: unknown subcommand (stats, list, flush or forget)\n");
		return -1;
	}
	if (npos != 1) {
		fprintf(stderr, "apitoken cache %s: takes no arguments\n", o->sub);
		return -1;
	}
	return 0;
}

/* Opens the cache without creating anything (cache_open_admin). */
static int open_cache(struct cache *c, const struct apt_config *cfg, enum cache_dir_state *state)
{
	char err[1024];

	if (cache_open_admin(c, cfg, state, err, sizeof(err)) == APT_OK)
		return 0;
	fprintf(stderr, "apitoken cache: %s\n", err);
	return -1;
}

/*
 * Claim bytes come from the issuer, and these lines go to terminals and
 * scripts: shown as the audit line shows a user name (audit_escape). NULL
 * when there is nothing to show (absent, empty), or out of memory.
 */
static char *escape_bytes(const char *v, size_t len)
{
	char *out;

	if (v == NULL || len == 0)
		return NULL;
	out = malloc(AUDIT_ESCAPED_MAX);
	if (out != NULL && audit_escape(v, len, out, AUDIT_ESCAPED_MAX) == (size_t)-1) {
		free(out); /* cannot happen: AUDIT_ESCAPED_MAX fits any value */
		out = NULL;
	}
	return out;
}

static char *escape_claim(const struct claim *c)
{
	return c->type == CLAIM_STRING ? escape_bytes(c->s, c->len) : NULL;
}

/*
 * The scope claim for display: its words (RFC 6749 §3.3: separated by
 * U+0020) joined by commas, so a column stays one field. The claim is
 * escaped whole first: a space became "%20" there, and nothing else did
 * (a '%' or ',' of the issuer's is escaped itself), so turning each "%20"
 * into one comma is exact; runs, leading and trailing spaces make none.
 */
static char *scope_words(const struct claim *c)
{
	char *e = escape_claim(c), *w = e;

	if (e == NULL)
		return NULL;
	for (const char *r = e; *r != '\0';) {
		if (strncmp(r, "%20", 3) != 0) {
			*w++ = *r++;
			continue;
		}
		r += 3;
		if (w > e && w[-1] != ',' && *r != '\0')
			*w++ = ',';
	}
	if (w > e && w[-1] == ',')
		w--;
	if (w == e)
		*w++ = '-';		    /* only spaces: no scope, as the listing shows none */
	else if (w == e + 1 && e[0] == '-') /* one word "-": not to be read as none */
		w = e + sprintf(e, "%%2D");
	*w = '\0';
	return e;
}

/*
 * The local user the map gives an entry's identity, by the matcher logins
 * use (the admin sees what a login would get): *out escaped, or NULL when
 * there is no identity or no line matches it. -1 out of memory.
 */
static int mapped_user(const struct usermap *m, const struct cache_entry *e, char **out)
{
	const struct claim *id = &e->claims.c[CLAIM_USERNAME];
	const char *local;

	*out = NULL;
	if (id->type != CLAIM_STRING || (local = usermap_lookup(m, id->s, id->len)) == NULL)
		return 0;
	*out = escape_bytes(local, strlen(local));
	return *out != NULL ? 0 : -1;
}

/* An entry's state (cache_entry_state, the rule logins apply) in the words the listing shows. */
static const char *state_word(enum cache_kind kind, enum cache_state state)
{
	switch (state) {
	case CACHE_FRESH:
		return kind == CACHE_POSITIVE ? "fresh" : "negative";
	case CACHE_GRACE:
		return "grace";
	case CACHE_EXPIRED:
		break;
	}
	return "expired";
}

/* --- the entries, gathered once ------------------------------------------------ */

struct row {
	char name[CACHE_NAME_LEN + 1];
	bool valid;
	char fingerprint[FINGERPRINT_LEN];
	char *user, *scope;  /* escaped, or NULL; scope as scope_words() shows it */
	char *scope_escaped; /* the claim escaped whole, as --json has always given it */
	char *mapped;	     /* with a user_map: the local user it maps user to, escaped, or NULL */
	enum cache_kind kind;
	enum cache_state state;
	time_t fetched, fresh_until, grace_until;
	bool other_config;
	char config[17]; /* "this", or 16 hex of the other configuration's tag */
};

struct rows {
	struct row *v;
	size_t n, cap;
	time_t now;
	const char *forget; /* when set, only the entries of this fingerprint */
};

static int gather(const struct cache *c, const char *name, const struct cache_entry *e, void *arg)
{
	struct rows *rs = arg;
	struct row *r;

	if (rs->forget != NULL && (e == NULL || !fingerprint_matches(e->fingerprint, rs->forget)))
		return 0;
	if (rs->n == rs->cap) {
		size_t ncap = rs->cap ? rs->cap * 2 : 64;
		struct row *p = realloc(rs->v, ncap * sizeof(*p));
		if (p == NULL)
			return -1;
		rs->v = p;
		rs->cap = ncap;
	}
	r = &rs->v[rs->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	if (e == NULL)
		return 0;
	r->valid = true;
	/* Written by the module, under the MAC; still, nothing else is printed raw. */
	snprintf(r->fingerprint, sizeof(r->fingerprint), "%s",
		 fingerprint_valid(e->fingerprint) ? e->fingerprint : "-");
	r->kind = e->kind;
	r->state = cache_entry_state(e, rs->now);
	r->fetched = e->fetched;
	r->fresh_until = e->fresh_until;
	r->grace_until = e->grace_until;
	r->other_config = e->other_config;
	/* The tag is hex under the MAC; %.16s keeps the column short whatever it holds. */
	snprintf(r->config, sizeof(r->config), "%.16s", e->other_config ? e->config : "this");
	r->user = escape_claim(&e->claims.c[CLAIM_USERNAME]);
	r->scope = scope_words(&e->claims.c[CLAIM_SCOPE]);
	r->scope_escaped = escape_claim(&e->claims.c[CLAIM_SCOPE]);
	if (c->cfg->usermap != NULL && mapped_user(c->cfg->usermap, e, &r->mapped) < 0)
		return -1;
	/* NULL from escape_claim also means out of memory when there was something to show. */
	if ((r->user == NULL && e->claims.c[CLAIM_USERNAME].type == CLAIM_STRING &&
	     e->claims.c[CLAIM_USERNAME].len > 0) ||
	    ((r->scope == NULL || r->scope_escaped == NULL) &&
	     e->claims.c[CLAIM_SCOPE].type == CLAIM_STRING && e->claims.c[CLAIM_SCOPE].len > 0))
		return -1;
	return 0;
}

static void rows_free(struct rows *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->v[i].user);
		free(rs->v[i].scope);
		free(rs->v[i].scope_escaped);
		free(rs->v[i].mapped);
	}
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}

static int gather_all(const struct cache *c, struct rows *rs)
{
	errno = 0;
	if (cache_walk(c, gather, rs) < 0) {
		fprintf(stderr, "apitoken cache: cannot read %s: %s\n", c->cfg->cache_dir,
			errno ? strerror(errno) : "out of memory");
		return -1;
	}
	return 0;
}

/* Newest first; invalid entries (no time) last; ties in a stable order. */
static int by_fetched(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int r;

	if (x->valid != y->valid)
		return x->valid ? -1 : 1;
	if (x->fetched != y->fetched)
		return x->fetched > y->fetched ? -1 : 1;
	r = strcmp(x->fingerprint, y->fingerprint);
	return r ? r : strcmp(x->name, y->name);
}

/* --- output ----------------------------------------------------------------------- */

/* Paths come from the config; jansson takes only UTF-8, so anything else is escaped. */
static json_t *json_text(const char *s)
{
	json_t *j = s ? json_string(s) : json_null();
	char *e;

	if (j != NULL || s == NULL)
		return j;
	e = escape_bytes(s, strlen(s));
	j = json_string(e ? e : "");
	free(e);
	return j;
}

/* scope_words() text as an array of its words; [] for none. */
static json_t *json_words(const char *words)
{
	json_t *a = json_array();

	for (const char *p = words; a != NULL && p != NULL && strcmp(p, "-") != 0 && *p != '\0';) {
		size_t n = strcspn(p, ",");

		/* Escaped: ASCII, so valid UTF-8 for jansson. */
		json_array_append_new(a, json_stringn(p, n));
		p += n + (p[n] == ',');
	}
	return a;
}

static int json_print(json_t *j)
{
	int r =
	    j != NULL && json_dumpf(j, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII) == 0 ? 0 : -1;

	json_decref(j);
	if (r == 0)
		putchar('\n');
	else
		fprintf(stderr, "apitoken cache: out of memory\n");
	return r;
}

static void json_time(json_t *o, const char *key, time_t t)
{
	char iso[32], k[48];

	timefmt_iso(t, iso);
	json_object_set_new(o, key, json_integer((json_int_t)t));
	snprintf(k, sizeof(k), "%s_iso", key);
	json_object_set_new(o, k, json_string(iso));
}

static int cmd_stats(const struct opts *o, const struct apt_config *cfg, const struct cache *c,
		     enum cache_dir_state state)
{
	struct rows rs = {.now = time(NULL)};
	long fresh_pos = 0, fresh_neg = 0, grace = 0, expired = 0, invalid = 0, other = 0;
	time_t backoff = 0;
	char iso[32];

	if (state != CACHE_DIR_MISSING) {
		if (gather_all(c, &rs) < 0) {
			rows_free(&rs);
			return EXIT_USAGE;
		}
		backoff = cache_backoff_until(c, rs.now);
	}
	for (size_t i = 0; i < rs.n; i++) {
		const struct row *r = &rs.v[i];

		other += r->valid && r->other_config;
		if (!r->valid)
			invalid++;
		else if (r->state == CACHE_FRESH && r->kind == CACHE_POSITIVE)
			fresh_pos++;
		else if (r->state == CACHE_FRESH)
			fresh_neg++;
		else if (r->state == CACHE_GRACE)
			grace++;
		else
			expired++;
	}
	if (o->json) {
		json_t *j = json_object();

		json_object_set_new(j, "cache_dir", json_text(cfg->cache_dir));
		json_object_set_new(j, "exists", json_boolean(state != CACHE_DIR_MISSING));
		json_object_set_new(j, "cache", json_boolean(cfg->cache));
		json_object_set_new(j, "host_key", json_boolean(state == CACHE_DIR_READY));
		json_object_set_new(j, "entries", json_integer((json_int_t)rs.n));
		json_object_set_new(j, "fresh_positive", json_integer(fresh_pos));
		json_object_set_new(j, "fresh_negative", json_integer(fresh_neg));
		json_object_set_new(j, "grace", json_integer(grace));
		json_object_set_new(j, "expired", json_integer(expired));
		json_object_set_new(j, "invalid", json_integer(invalid));
		json_object_set_new(j, "other_config", json_integer(other));
		if (state != CACHE_DIR_MISSING)
			json_object_set_new(j, "config", json_string(c->tag));
		json_object_set_new(j, "backoff", json_boolean(backoff != 0));
		if (backoff != 0)
			json_time(j, "backoff_until", backoff);
		json_object_set_new(j, "cache_ttl", json_integer(cfg->cache_ttl));
		json_object_set_new(j, "negative_cache_ttl", json_integer(cfg->negative_cache_ttl));
		json_object_set_new(j, "offline_grace", json_integer(cfg->offline_grace));
		json_object_set_new(j, "cache_max_entries", json_integer(cfg->cache_max_entries));
		rows_free(&rs);
		return json_print(j) < 0 ? EXIT_USAGE : 0;
	}
	printf("%-20s%s%s\n", "cache directory", cfg->cache_dir,
	       state == CACHE_DIR_MISSING ? " (does not exist: the cache is empty)" : "");
	printf("%-20s%s\n", "cache", cfg->cache ? "yes" : "no (the module does not use it)");
	printf("%-20s%s\n", "host key",
	       state == CACHE_DIR_READY ? "present"
	       : state == CACHE_DIR_NO_KEY
		   ? "absent (no entry can be verified; the next login makes one)"
		   : "absent");
	printf("%-20s%zu\n", "entries", rs.n);
	printf("%-20s%ld\n", "  fresh positive", fresh_pos);
	printf("%-20s%ld\n", "  fresh negative", fresh_neg);
	printf("%-20s%ld\n", "  in grace", grace);
	printf("%-20s%ld\n", "  expired", expired);
	printf("%-20s%ld\n", "  invalid", invalid);
	printf("%-20s%ld\n", "other configs", other);
	if (backoff != 0) {
		timefmt_iso(backoff, iso);
		printf("%-20syes, until %s (%lld s from now)\n", "backoff", iso,
		       (long long)(backoff - rs.now));
	} else {
		printf("%-20sno\n", "backoff");
	}
	if (state != CACHE_DIR_MISSING)
		printf("%-20s%.16s\n", "config tag", c->tag);
	printf("%-20s%ld s\n", "cache_ttl", cfg->cache_ttl);
	printf("%-20s%ld s\n", "negative_cache_ttl", cfg->negative_cache_ttl);
	printf("%-20s%ld s\n", "offline_grace", cfg->offline_grace);
	printf("%-20s%ld\n", "cache_max_entries", cfg->cache_max_entries);
	rows_free(&rs);
	return 0;
}

static int cmd_list(const struct opts *o, const struct apt_config *cfg, const struct cache *c,
		    enum cache_dir_state state)
{
	struct rows rs = {.now = time(NULL)};
	size_t i, shown = 0, wfp = 11, wuser = 4, wscope = 5, wconfig = 6;
	char t1[32], t2[32];

	if (state != CACHE_DIR_MISSING && gather_all(c, &rs) < 0) {
		rows_free(&rs);
		return EXIT_USAGE;
	}
	if (rs.n > 1)
		qsort(rs.v, rs.n, sizeof(*rs.v), by_fetched);
	for (i = 0; i < rs.n; i++)
		shown += rs.v[i].valid;
	/* They have no fingerprint or time to show; say they are there. */
	if (rs.n > shown)
		fprintf(stderr,
			"apitoken cache: %zu invalid entr%s not listed (failed verification; "
			"\"flush\" removes them)\n",
			rs.n - shown, rs.n - shown == 1 ? "y" : "ies");
	if (o->json) {
		json_t *a = json_array();

		for (i = 0; i < rs.n && rs.v[i].valid; i++) {
			const struct row *r = &rs.v[i];
			json_t *j = json_object();

			json_object_set_new(j, "fingerprint", json_text(r->fingerprint));
			json_object_set_new(j, "user", json_text(r->user));
			json_object_set_new(
			    j, "kind",
			    json_string(r->kind == CACHE_POSITIVE ? "positive" : "negative"));
			json_object_set_new(j, "state", json_string(state_word(r->kind, r->state)));
			json_object_set_new(j, "config", json_string(r->config));
			json_time(j, "fetched", r->fetched);
			json_time(j, "fresh_until", r->fresh_until);
			json_time(j, "grace_until", r->grace_until);
			json_object_set_new(j, "scope", json_text(r->scope_escaped));
			json_object_set_new(j, "scopes", json_words(r->scope));
			if (cfg->usermap != NULL)
				json_object_set_new(j, "mapped_user", json_text(r->mapped));
			json_array_append_new(a, j);
		}
		rows_free(&rs);
		return json_print(a) < 0 ? EXIT_USAGE : 0;
	}
	if (state == CACHE_DIR_MISSING) {
		printf("no entries: cache directory %s does not exist\n", cfg->cache_dir);
		return 0;
	}
	for (i = 0; i < rs.n && rs.v[i].valid; i++) {
		size_t n = strlen(rs.v[i].fingerprint);
		wfp = n > wfp ? n : wfp;
		n = rs.v[i].user ? strlen(rs.v[i].user) : 1;
		wuser = n > wuser ? n : wuser;
		n = rs.v[i].scope ? strlen(rs.v[i].scope) : 1;
		wscope = n > wscope ? n : wscope;
		n = strlen(rs.v[i].config);
		wconfig = n > wconfig ? n : wconfig;
	}
	/*
	 * New columns go last (CONFIG, then MAPPED-USER with a user_map): scripts
	 * that cut the earlier columns keep working.
	 */
	printf("%-*s  %-*s  %-8s  %-8s  %-20s  %-20s  %-*s  %s", (int)wfp, "FINGERPRINT",
	       (int)wuser, "USER", "KIND", "STATE", "FETCHED", "FRESH-UNTIL", (int)wscope, "SCOPE",
	       cfg->usermap != NULL ? "CONFIG" : "CONFIG\n");
	if (cfg->usermap != NULL)
		printf("%*s  MAPPED-USER\n", (int)(wconfig - 6), "");
	for (i = 0; i < rs.n && rs.v[i].valid; i++) {
		const struct row *r = &rs.v[i];

		timefmt_iso(r->fetched, t1);
		timefmt_iso(r->fresh_until, t2);
		printf("%-*s  %-*s  %-8s  %-8s  %-20s  %-20s  %-*s  %s", (int)wfp, r->fingerprint,
		       (int)wuser, r->user ? r->user : "-",
		       r->kind == CACHE_POSITIVE ? "positive" : "negative",
		       state_word(r->kind, r->state), t1, t2, (int)wscope,
		       r->scope ? r->scope : "-", r->config);
		if (cfg->usermap != NULL)
			printf("%*s  %s", (int)(wconfig - strlen(r->config)), "",
			       r->mapped ? r->mapped : "-");
		putchar('\n');
	}
	rows_free(&rs);
	return 0;
}

/* Removes the gathered entries; the count removed, or -1 after a message. */
static long remove_rows(const struct cache *c, const struct rows *rs)
{
	long removed = 0;
	int failed = 0;

	for (size_t i = 0; i < rs->n; i++) {
		if (cache_remove(c, rs->v[i].name) == 0)
			removed++;
		else if (errno != ENOENT) /* gone meanwhile: pruned, or another flush */
			failed = errno;
	}
	if (failed) {
		fprintf(stderr, "apitoken cache: cannot remove entries in %s: %s\n",
			c->cfg->cache_dir, strerror(failed));
		return -1;
	}
	return removed;
}

static int report_count(const struct opts *o, const char *verb, long n, const char *note)
{
	if (o->json) {
		json_t *j = json_object();

		json_object_set_new(j, verb, json_integer(n));
		return json_print(j) < 0 ? EXIT_USAGE : 0;
	}
	printf("%s %ld %s%s\n", verb, n, n == 1 ? "entry" : "entries", note);
	return 0;
}

/* What flush and forget say when there is no cache directory. */
static int report_missing(const struct opts *o, const char *verb, const struct apt_config *cfg)
{
	char note[1200];

	snprintf(note, sizeof(note), " (cache directory %s does not exist: nothing to do)",
		 cfg->cache_dir);
	return report_count(o, verb, 0, note);
}

/* The entries rs selects (all, or those of rs->forget) removed: how many, or -1. */
static long gather_and_remove(const struct cache *c, struct rows *rs)
{
	long n = gather_all(c, rs) < 0 ? -1 : remove_rows(c, rs);

	rows_free(rs);
	return n;
}

static int cmd_flush(const struct opts *o, const struct apt_config *cfg, const struct cache *c,
		     enum cache_dir_state state)
{
	struct rows rs = {.now = time(NULL)};
	long n;

	if (state == CACHE_DIR_MISSING)
		return report_missing(o, "flushed", cfg);
	if ((n = gather_and_remove(c, &rs)) < 0)
		return EXIT_USAGE;
	/* Flushing is what an admin does after fixing the issuer: let logins ask it at once. */
	if (cache_clear_backoff(c) != 0) {
		fprintf(stderr, "apitoken cache: cannot remove the backoff markers in %s: %s\n",
			cfg->cache_dir, strerror(errno));
		return EXIT_USAGE;
	}
	return report_count(o, "flushed", n, "");
}

static int cmd_forget(const struct opts *o, const struct apt_config *cfg, const struct cache *c,
		      enum cache_dir_state state)
{
	struct rows rs = {.now = time(NULL), .forget = o->arg};
	long n;
	int r;

	if (state == CACHE_DIR_MISSING) {
		r = report_missing(o, "forgot", cfg);
		return r ? r : EXIT_NONE_FOUND;
	}
	if ((n = gather_and_remove(c, &rs)) < 0)
		return EXIT_USAGE;
	r = report_count(o, "forgot", n, "");
	/* Incident response: doing nothing must not look like success. */
	return r ? r : n > 0 ? 0 : EXIT_NONE_FOUND;
}

int cmd_cache(int argc, char **argv)
{
	struct apt_config cfg;
	struct cache c;
	struct opts o;
	enum cache_dir_state state = CACHE_DIR_MISSING;
	char err[1024], *copt = NULL;
	const char *cargv[1];
	int r;

	r = parse_args(argc, argv, &o);
	if (r != 0) {
		usage(r > 0 ? stdout : stderr);
		return r > 0 ? 0 : EXIT_USAGE;
	}
	if (o.config != NULL && asprintf(&copt, "config=%s", o.config) < 0) {
		fprintf(stderr, "apitoken cache: out of memory\n");
		return EXIT_USAGE;
	}
	cargv[0] = copt;
	memset(&cfg, 0, sizeof(cfg));
	if (config_load(&cfg, copt ? 1 : 0, cargv, err, sizeof(err)) != APT_OK) {
		fprintf(stderr, "apitoken cache: %s\n", err[0] ? err : "out of memory");
		config_free(&cfg);
		free(copt);
		return EXIT_USAGE;
	}
	free(copt);

	if (open_cache(&c, &cfg, &state) < 0) {
		config_free(&cfg);
		return EXIT_USAGE;
	}
	if (strcmp(o.sub, "stats") == 0)
		r = cmd_stats(&o, &cfg, &c, state);
	else if (strcmp(o.sub, "list") == 0)
		r = cmd_list(&o, &cfg, &c, state);
	else if (strcmp(o.sub, "flush") == 0)
		r = cmd_flush(&o, &cfg, &c, state);
	else
		r = cmd_forget(&o, &cfg, &c, state);
	if (fflush(stdout) != 0 && r == 0)
		r = EXIT_USAGE;
	cache_close(&c);
	config_free(&cfg);
	return r;
}
