/*
 * The module's side of introspection: build the request from the config and
 * the token, run `apitoken introspect`, and turn its answer into claims.
 */
#ifndef APITOKEN_INTROSPECT_H
#define APITOKEN_INTROSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include "claims.h"
#include "config.h"
#include "result.h"

struct introspect_answer {
	struct claims claims; /* valid when the result is APT_OK */
	long http_status;     /* 0 when no HTTP answer */
	long retry_after;     /* seconds, from a 429/503 Retry-After; -1 none */
};

/*
 * APT_OK with claims; APT_UNAVAIL with *reason: from the helper
 * connect_failed, timeout, tls_failed, http_status, client_auth,
 * rate_limited, redirect, body_too_large, bad_json, bad_request, internal;
 * from the module bad_response (an answer it cannot parse), helper_failed,
 * helper_output (answer too long), timeout (helper killed at the deadline).
 * APT_SERVICE with err (reason config or helper_config); APT_NOMEM. The
 * caller frees ans->claims with claims_free().
 */
enum apt_rc introspect_token(const struct apt_config *cfg, const char *token, size_t len,
			     struct introspect_answer *ans, const char **reason, char *err,
			     size_t errlen);

/*
 * The static word for an introspection failure word w, or NULL when w is
 * none: from_helper, only those the helper may send (the list above from
 * the helper); else the module's own too.
 */
const char *introspect_failure_word(const char *w, bool from_helper);

/* The request message; exported for the helper's tests. */
enum apt_rc introspect_build_request(const struct apt_config *cfg, const char *token, size_t len,
				     struct buf *req, char *err, size_t errlen);
/* Parses a response message; exported for tests. */
enum apt_rc introspect_parse_response(const unsigned char *p, size_t len,
				      struct introspect_answer *ans, const char **reason);

#endif
