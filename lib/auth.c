/*
 * One authentication, start to end, in the order that sends nothing over
 * the network unless it has to: local checks on the token, a fresh cache
 * entry, then the issuer through the helper (one request per token however
 * many logins wait for it, and a failed one is not repeated by those who
 * waited for it), then the policy on what the issuer said. The
 * policy is applied to every answer, cached or not: an entry holds what the
 * issuer said about a token, never a decision about a login.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "auth.h"
#include "cache.h"
#include "introspect.h"
#include "policy.h"
#include "token.h"
#include "usermap.h"

/*
 * How much longer than the lock holder's own deadline a waiter waits: the
 * holder also has to start its helper, kill it at the deadline and write
 * down what happened, and a waiter that gives up first learns nothing.
 */
#define LOCK_MARGIN_MS 500

/* One login being decided: its inputs, its cache, and where the outcome goes. */
struct login {
	const struct apt_config *cfg;
	const char *user, *rhost;
	struct auth_outcome *out;
	struct cache cache;
	bool cached;  /* cache open and usable */
	bool explain; /* fill out->identity and out->mapped_user */
	char name[CACHE_NAME_LEN + 1];
};

/* Who the answer says the token is, and whom user_map makes of it: for the admin's view. */
static void note_identity(struct login *r, const struct claims *cl)
{
	const struct claim *id = &cl->c[CLAIM_USERNAME];
	const char *local;

	if (!r->explain || id->type != CLAIM_STRING)
		return;
	if (audit_escape(id->s, id->len, r->out->identity, sizeof(r->out->identity)) == (size_t)-1)
		r->out->identity[0] = '\0';
	if (r->cfg->usermap == NULL)
		return;
	local = usermap_lookup(r->cfg->usermap, id->s, id->len);
	if (local != NULL && audit_escape(local, strlen(local), r->out->mapped_user,
					  sizeof(r->out->mapped_user)) == (size_t)-1)
		r->out->mapped_user[0] = '\0';
}

/* A scope word that can go into the session's environment and an audit line as it is. */
static bool scope_word_ok(const char *w, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (w[i] <= ' ' || w[i] > '~')
			return false;
	return len > 0;
}

static void grant_word(struct auth_outcome *out, size_t *pos, const char *w, size_t len)
{
	if (!scope_word_ok(w, len) || *pos + (*pos > 0) + len >= sizeof(out->scopes))
		return;
	if (*pos > 0)
		out->scopes[(*pos)++] = ' ';
	memcpy(out->scopes + *pos, w, len);
	*pos += len;
	out->scopes[*pos] = '\0';
}

/* The scopes of an allowed login (out->scopes): the scope claim's words, as policy reads them. */
static void grant_scopes(struct auth_outcome *out, const struct claims *cl)
{
	const struct claim *c = &cl->c[CLAIM_SCOPE];
	const char *w, *sp;
	size_t len, pos = 0, at = 0;

	out->scopes[0] = '\0';
	if (out->rc != APT_OK)
		return;
	if (c->type == CLAIM_LIST) {
		while (claim_list_next(c, &at, &w, &len))
			grant_word(out, &pos, w, len);
		return;
	}
	if (c->type != CLAIM_STRING)
		return;
	/* Words end at U+0020 only, as scope_has() reads them (lib/words.c). */
	while (at <= c->len) {
		w = c->s + at;
		sp = memchr(w, ' ', c->len - at);
		len = sp != NULL ? (size_t)(sp - w) : c->len - at;
		grant_word(out, &pos, w, len);
		at += len + 1;
	}
}

/* The decision from an entry; source is "cache" or "grace". */
static void decide_from_entry(struct login *r, const struct cache_entry *e, time_t now,
			      const char *source)
{
	r->out->source = source;
	if (e->kind == CACHE_NEGATIVE) {
		r->out->rc = APT_DENY;
		r->out->reason = "inactive";
		return;
	}
	note_identity(r, &e->claims);
	r->out->rc = policy_check(r->cfg, &e->claims, r->user, r->rhost, now, &r->out->reason);
	grant_scopes(r->out, &e->claims);
}

/* Looks for a fresh entry: true when it decided. *stale keeps a positive one for grace. */
static bool try_fresh(struct login *r, time_t now, struct cache_entry *stale, bool *have_stale)
{
	struct cache_entry e;

	if (cache_read(&r->cache, r->name, &e) < 0)
		return false;
	switch (cache_entry_state(&e, now)) {
	case CACHE_FRESH:
		decide_from_entry(r, &e, now, "cache");
		cache_entry_free(&e);
		return true;
	case CACHE_GRACE:
		break;
	case CACHE_EXPIRED:
		cache_entry_free(&e);
		return false;
	}
	if (!*have_stale) {
		*stale = e;
		*have_stale = true;
		return false;
	}
	cache_entry_free(&e);
	return false;
}

/* What the issuer said about the token, for the next logins. */
static void remember(struct login *r, const struct claims *cl, time_t now)
{
	const struct claim *active = &cl->c[CLAIM_ACTIVE];
	struct cache_entry e;

	/* Only a clean true or false is worth keeping; odd answers are asked again. */
	if (active->type != CLAIM_BOOL)
		return;
	memset(&e, 0, sizeof(e));
	e.kind = active->n ? CACHE_POSITIVE : CACHE_NEGATIVE;
	e.fetched = now;
	memcpy(e.fingerprint, r->out->fingerprint, sizeof(e.fingerprint));
	if (e.kind == CACHE_POSITIVE)
		e.claims = *cl; /* borrowed, not freed here */
	cache_lifetimes(r->cfg, &e);
	/* An entry that could never serve is not worth a write. */
	if (e.grace_until <= now)
		return;
	cache_write(&r->cache, r->name, &e);
}

/* The audit line needs a static string: a word from a marker that is none is plain "backoff". */
static const char *failure_word(const char *w)
{
	const char *known = introspect_failure_word(w, false);

	return known != NULL ? known : "backoff";
}

/*
 * While a backoff holds, no request: grace or nothing. True when decided.
 * waited: we found none before waiting for the lock, so the token's own
 * marker now is the failure of the request we waited for, and we fail as it
 * did (its reason word); otherwise the word is "backoff".
 */
static bool backed_off(struct login *r, time_t now, struct cache_entry *stale, bool have_stale,
		       bool waited)
{
	struct cache_backoff b;

	if (!cache_backoff_get(&r->cache, r->name, now, &b))
		return false;
	if (have_stale) {
		decide_from_entry(r, stale, now, "grace");
	} else {
		r->out->source = "cache";
		r->out->rc = APT_UNAVAIL;
		r->out->reason = waited && !b.host_wide ? failure_word(b.reason) : "backoff";
	}
	return true;
}

/* What a failed request means for the next ones (DESIGN.md §6 ★2). */
static void note_failure(struct login *r, const struct introspect_answer *ans)
{
	enum cache_fail kind = CACHE_FAIL_TOKEN;

	if (ans->http_status == 429)
		kind = CACHE_FAIL_HOST; /* the endpoint asked every client to wait */
	else if (ans->http_status >= 500 || ans->http_status == 0)
		kind = CACHE_FAIL_COUNTED; /* maybe this token, maybe the endpoint */
	cache_fail_note(&r->cache, r->name, time(NULL), ans->retry_after, r->out->reason, kind);
}

static void ask_issuer(struct login *r, const char *token, size_t len, struct cache_entry *stale,
		       bool have_stale)
{
	struct introspect_answer ans;
	struct auth_outcome *out = r->out;

	out->source = "network";
	out->rc =
	    introspect_token(r->cfg, token, len, &ans, &out->reason, out->err, sizeof(out->err));
	if (out->rc == APT_OK) {
		if (r->cached)
			remember(r, &ans.claims, time(NULL));
		note_identity(r, &ans.claims);
		out->rc =
		    policy_check(r->cfg, &ans.claims, r->user, r->rhost, time(NULL), &out->reason);
		grant_scopes(out, &ans.claims);
		claims_free(&ans.claims);
		return;
	}
	if (out->rc != APT_UNAVAIL || !r->cached)
		return;
	note_failure(r, &ans);
	if (have_stale)
		decide_from_entry(r, stale, time(NULL), "grace");
}

static void decide(const struct apt_config *cfg, const char *user, const char *rhost,
		   const char *token, size_t len, struct auth_outcome *out, bool explain)
{
	struct login r = {.cfg = cfg, .user = user, .rhost = rhost, .out = out, .explain = explain};
	struct cache_entry stale;
	bool have_stale = false;
	time_t now = time(NULL);
	int lock = -1;
	bool timed_out = false;

	memset(out, 0, sizeof(*out));
	out->source = "local";
	out->reason = "internal";
	token_fingerprint(token, len, cfg->token_prefixes, out->fingerprint);
	out->rc = token_check_local(token, len, cfg->token_prefixes, &out->reason);
	if (out->rc != APT_OK)
		return;

	if (cfg->cache) {
		enum apt_rc rc = cache_open(&r.cache, cfg, true, out->warn, sizeof(out->warn));
		if (rc == APT_NOMEM) {
			out->rc = APT_NOMEM;
			out->reason = "no_memory";
			return;
		}
		r.cached = rc == APT_OK;
	}
	if (r.cached) {
		cache_name(&r.cache, token, len, r.name);
		if (try_fresh(&r, now, &stale, &have_stale))
			goto done;
		if (backed_off(&r, now, &stale, have_stale, false))
			goto done;
		/*
		 * Single flight: whoever waited here finds the answer the first
		 * one got, or the failure it noted (and then sends nothing).
		 */
		lock = cache_lock(&r.cache, r.name, cfg->timeout_ms + LOCK_MARGIN_MS);
		timed_out = lock < 0 && errno == ETIMEDOUT;
		now = time(NULL);
		if (try_fresh(&r, now, &stale, &have_stale) ||
		    backed_off(&r, now, &stale, have_stale, true))
			goto done;
		if (timed_out) {
			/*
			 * The request we waited for outlived its own deadline and
			 * ours: the issuer is not answering, and a request of our
			 * own would only pile onto it.
			 */
			if (have_stale) {
				decide_from_entry(&r, &stale, now, "grace");
			} else {
				out->source = "cache";
				out->rc = APT_UNAVAIL;
				out->reason = "timeout";
			}
			goto done;
		}
	}
	ask_issuer(&r, token, len, &stale, have_stale);
done:
	cache_unlock(lock);
	if (have_stale)
		cache_entry_free(&stale);
	if (r.cached)
		cache_close(&r.cache);
}

void auth_token(const struct apt_config *cfg, const char *user, const char *rhost,
		const char *token, size_t len, struct auth_outcome *out)
{
	decide(cfg, user, rhost, token, len, out, false);
}

void auth_token_explain(const struct apt_config *cfg, const char *user, const char *rhost,
			const char *token, size_t len, struct auth_outcome *out)
{
	decide(cfg, user, rhost, token, len, out, true);
}
