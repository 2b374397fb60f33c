/*
 * The decision on a set of claims for one login (DESIGN.md §5). Every check
 * fails closed: a claim of the wrong type counts as a claim that does not
 * match, never as one that is absent and so skipped.
 */
#include <string.h>
#include <strings.h>

#include "cidr.h"
#include "policy.h"
#include "usermap.h"

static bool claim_equals(const struct claim *c, const char *want)
{
	size_t n = strlen(want);

	return c->type == CLAIM_STRING && c->len == n && memcmp(c->s, want, n) == 0;
}

/* want/n is one of the items of a LIST claim, byte for byte. */
static bool list_has(const struct claim *c, const char *want, size_t n)
{
	const char *item;
	size_t len, pos = 0;

	while (claim_list_next(c, &pos, &item, &len))
		if (len == n && memcmp(item, want, n) == 0)
			return true;
	return false;
}

/*
 * With a user map the identity names the local account through the map: the
 * first line that matches it must name user. An identity that is no string
 * maps to no one.
 */
static bool user_mapped(const struct usermap *m, const struct claim *id, const char *user)
{
	const char *local;

	if (id->type != CLAIM_STRING)
		return false;
	local = usermap_lookup(m, id->s, id->len);
	return local != NULL && strcmp(local, user) == 0;
}

/*
 * Every word of required (a config list) is a scope of the claim: of a
 * string, a token split on spaces only (scope_has), so that a tab in an
 * issuer's scope string joins words rather than separating them; of an
 * array of strings, an item, whole.
 */
static bool scopes_present(const struct claim *scope, const char *required)
{
	const char *w;
	size_t n;

	if (scope->type == CLAIM_LIST) {
		for (const char *p = required; next_word(&p, &w, &n);)
			if (!list_has(scope, w, n))
				return false;
		return true;
	}
	if (scope->type != CLAIM_STRING || memchr(scope->s, '\0', scope->len) != NULL)
		return false;
	for (const char *p = required; next_word(&p, &w, &n);)
		if (!scope_has(scope->s, scope->len, w, n))
			return false;
	return true;
}

static bool audience_matches(const struct claim *aud, const char *want)
{
	if (aud->type == CLAIM_STRING)
		return claim_equals(aud, want);
	return list_has(aud, want, strlen(want));
}

/* Checks one range against addr: 1 inside, 0 outside, -1 not a valid range. */
static int range_check(const char *s, size_t len, const struct ipaddr *addr)
{
	struct cidr r;

	if (cidr_parse(s, len, &r) < 0)
		return -1;
	return cidr_contains(&r, addr) ? 1 : 0;
}

/*
 * The ranges are an array of CIDR strings, or one string of ranges separated
 * by spaces or commas. One malformed range fails the whole claim: an issuer
 * that sends garbage there has not told us where the token may be used.
 */
static enum apt_rc ip_check(const struct claim *c, const char *rhost, const char **reason)
{
	struct ipaddr addr;
	int inside = 0, r;
	size_t pos = 0, len, count = 0;
	const char *item;

	if (rhost == NULL || rhost[0] == '\0' || ip_parse(rhost, strlen(rhost), &addr) < 0) {
		*reason = "rhost_not_numeric";
		return APT_DENY;
	}
	if (c->type == CLAIM_LIST) {
		while (claim_list_next(c, &pos, &item, &len)) {
			count++;
			if ((r = range_check(item, len, &addr)) < 0)
				goto bad;
			inside |= r;
		}
		if (pos != c->len)
			goto bad;
	} else if (c->type == CLAIM_STRING) {
		const char *p = c->s, *end = c->s + c->len;
		while (p < end) {
			while (p < end && (*p == ' ' || *p == ','))
				p++;
			for (len = 0; p + len < end && p[len] != ' ' && p[len] != ','; len++)
				;
			if (len == 0)
				break;
			count++;
			if ((r = range_check(p, len, &addr)) < 0)
				goto bad;
			inside |= r;
			p += len;
		}
	} else {
		goto bad;
	}
	if (count == 0)
		goto bad;
	if (!inside) {
		*reason = "ip_not_allowed";
		return APT_DENY;
	}
	return APT_OK;
bad:
	*reason = "bad_ip_ranges";
	return APT_DENY;
}

enum apt_rc policy_check(const struct apt_config *cfg, const struct claims *cl, const char *user,
			 const char *rhost, time_t now, const char **reason)
{
	const struct claim *c = cl->c;
	long long t = (long long)now, skew = cfg->clock_skew;

	if (c[CLAIM_ACTIVE].type != CLAIM_BOOL || c[CLAIM_ACTIVE].n != 1) {
		*reason = "inactive";
		return APT_DENY;
	}
	/*
	 * Some issuers (glewlwyd) answer active for a refresh token asked about
	 * without a hint; it is not a credential to log in with. A token_type
	 * that is not a string is not one we can tell apart: refused too.
	 */
	if (c[CLAIM_TOKEN_TYPE].type != CLAIM_ABSENT &&
	    (c[CLAIM_TOKEN_TYPE].type != CLAIM_STRING ||
	     (c[CLAIM_TOKEN_TYPE].len == 13 &&
	      strncasecmp(c[CLAIM_TOKEN_TYPE].s, "refresh_token", 13) == 0))) {
		*reason = "token_type";
		return APT_DENY;
	}
	/* exp and nbf are optional in RFC 7662; present, they must be numbers. */
	if (c[CLAIM_EXP].type != CLAIM_ABSENT) {
		if (c[CLAIM_EXP].type != CLAIM_INT) {
			*reason = "bad_exp";
			return APT_DENY;
		}
		if (c[CLAIM_EXP].n <= t - skew) {
			*reason = "expired";
			return APT_DENY;
		}
	}
	if (c[CLAIM_NBF].type != CLAIM_ABSENT) {
		if (c[CLAIM_NBF].type != CLAIM_INT) {
			*reason = "bad_nbf";
			return APT_DENY;
		}
		if (c[CLAIM_NBF].n > t + skew) {
			*reason = "not_yet_valid";
			return APT_DENY;
		}
	}
	if (c[CLAIM_USERNAME].type == CLAIM_ABSENT) {
		*reason = "username_missing";
		return APT_DENY;
	}
	if (cfg->usermap != NULL) {
		if (user == NULL || !user_mapped(cfg->usermap, &c[CLAIM_USERNAME], user)) {
			*reason = "user_not_mapped";
			return APT_DENY;
		}
	} else if (user == NULL || !claim_equals(&c[CLAIM_USERNAME], user)) {
		*reason = "user_mismatch";
		return APT_DENY;
	}
	if (cfg->required_scopes != NULL &&
	    !scopes_present(&c[CLAIM_SCOPE], cfg->required_scopes)) {
		*reason = "scope_missing";
		return APT_DENY;
	}
	if (cfg->allowed_client_ids != NULL &&
	    (c[CLAIM_CLIENT_ID].type != CLAIM_STRING ||
	     memchr(c[CLAIM_CLIENT_ID].s, '\0', c[CLAIM_CLIENT_ID].len) != NULL ||
	     !word_in_list(cfg->allowed_client_ids, c[CLAIM_CLIENT_ID].s,
			   c[CLAIM_CLIENT_ID].len))) {
		*reason = "client_not_allowed";
		return APT_DENY;
	}
	/* Absent is told apart from wrong: an issuer that never sends iss is a config to fix. */
	if (cfg->audience != NULL && !audience_matches(&c[CLAIM_AUD], cfg->audience)) {
		*reason =
		    c[CLAIM_AUD].type == CLAIM_ABSENT ? "audience_missing" : "audience_mismatch";
		return APT_DENY;
	}
	if (cfg->issuer != NULL && !claim_equals(&c[CLAIM_ISS], cfg->issuer)) {
		*reason = c[CLAIM_ISS].type == CLAIM_ABSENT ? "issuer_missing" : "issuer_mismatch";
		return APT_DENY;
	}
	if (c[CLAIM_IP_RANGES].type == CLAIM_ABSENT) {
		if (cfg->require_ip_ranges) {
			*reason = "ip_ranges_missing";
			return APT_DENY;
		}
	} else if (ip_check(&c[CLAIM_IP_RANGES], rhost, reason) != APT_OK) {
		return APT_DENY;
	}
	*reason = "ok";
	return APT_OK;
}
