/*
 * The decision on a set of claims for one login: who, from where, when.
 * Applied to every answer, fresh from the issuer or from the cache: a cache
 * hit is checked again.
 */
#ifndef APITOKEN_POLICY_H
#define APITOKEN_POLICY_H

#include <time.h>
#include "claims.h"
#include "config.h"
#include "result.h"

/*
 * APT_OK, or APT_DENY with *reason: inactive, token_type, expired, bad_exp,
 * not_yet_valid, bad_nbf, username_missing, user_mismatch, user_not_mapped
 * (with cfg->usermap, instead of user_mismatch: the first line matching the
 * identity names another user, or none matches), scope_missing,
 * client_not_allowed, audience_missing, audience_mismatch, issuer_missing,
 * issuer_mismatch, ip_ranges_missing, bad_ip_ranges, rhost_not_numeric,
 * ip_not_allowed. rhost may be NULL.
 */
enum apt_rc policy_check(const struct apt_config *cfg, const struct claims *cl, const char *user,
			 const char *rhost, time_t now, const char **reason);

#endif
