/*
 * The module <-> helper protocol: small, versioned, length-prefixed, so that
 * neither side ever guesses where a value ends and the module needs no JSON.
 *
 *   message = MAGIC LF *( key SP length LF value LF ) "end" LF
 *   key     = 1*PROTO_KEY_MAX of [a-z0-9_.]   length = decimal, no leading zeros
 *
 * Keys are unique within a message; anything else (unknown magic, bad
 * length, missing "end", trailing bytes, too many records) is a parse error,
 * and the module treats a response it cannot parse as "issuer unavailable".
 *
 * This header is also the contract between the module (lib/introspect.c,
 * lib/config.c) and `apitoken introspect` (helper/cmd_introspect.c): the
 * field names, the error words and the size limits below are the only
 * spelling of them both sides use.
 */
#ifndef APITOKEN_PROTO_H
#define APITOKEN_PROTO_H

#include <stddef.h>
#include "buf.h"

/*
 * 2: the helper finishes the drop to helper_user itself (lib/child.c); one
 * that does not must not run. 3: client_auth and scope_claim; a helper of 2
 * would ignore them (check the top-level "scope", send Basic) and must not
 * answer either. 4: verify; a helper of 3 would POST the token as a form to
 * a userinfo URL and read the answer as introspection's.
 */
#define PROTO_REQUEST_MAGIC  "apitoken-introspect-request 4"
#define PROTO_RESPONSE_MAGIC "apitoken-introspect-response 1"
#define PROTO_MAX_FIELDS     32
#define PROTO_KEY_MAX	     32
#define PROTO_MAX_VALUE	     (128 * 1024)
#define PROTO_MAX_MESSAGE    (512 * 1024)
/* The longest Retry-After the helper reports (it clamps) and the module accepts. */
#define PROTO_RETRY_AFTER_MAX (7L * 86400)

/* --- the request: module -> helper ---------------------------------------------- */
#define PROTO_REQ_URL		     "url"
#define PROTO_REQ_TOKEN		     "token"
#define PROTO_REQ_CLIENT_ID	     "client_id"
#define PROTO_REQ_CLIENT_SECRET	     "client_secret" /* as PROTO_REQ_CLIENT_AUTH says */
#define PROTO_REQ_CLIENT_AUTH	     "client_auth"   /* one of PROTO_CLIENT_AUTH_* */
#define PROTO_REQ_TLS_CERT	     "tls_cert"	     /* PEM bytes; with tls_key only */
#define PROTO_REQ_TLS_KEY	     "tls_key"
#define PROTO_REQ_CA_FILE	     "ca_file" /* a path the helper opens */
#define PROTO_REQ_PROXY		     "proxy"
#define PROTO_REQ_CONNECT_TIMEOUT_MS "connect_timeout_ms"
#define PROTO_REQ_TIMEOUT_MS	     "timeout_ms"
#define PROTO_REQ_USERNAME_CLAIM     "username_claim"
#define PROTO_REQ_IP_RANGES_CLAIM    "ip_ranges_claim"
#define PROTO_REQ_SCOPE_CLAIM	     "scope_claim"
#define PROTO_REQ_VERIFY	     "verify" /* one of PROTO_VERIFY_*; absent: introspection */
/* The three claim names are dot paths (claim_path_valid, claims.h); the helper walks them. */

/*
 * How client_id and client_secret reach the endpoint (config key
 * client_auth, DESIGN.md §4). basic, basic_raw and post come with both;
 * bearer with the secret only (it is the bearer token); none with neither.
 * Absent: basic with a client_id, none without.
 */
#define PROTO_CLIENT_AUTH_BASIC	    "basic"	/* RFC 6749 §2.3.1: form-encoded, then Basic */
#define PROTO_CLIENT_AUTH_BASIC_RAW "basic_raw" /* Basic with the bytes as typed */
#define PROTO_CLIENT_AUTH_POST	    "post"	/* client_id, client_secret in the form body */
#define PROTO_CLIENT_AUTH_BEARER    "bearer"	/* RFC 7662 §2.1: Authorization: Bearer */
#define PROTO_CLIENT_AUTH_NONE	    "none"

/*
 * How the helper checks the token (config key verify, DESIGN.md §4):
 * introspection POSTs it to url as RFC 7662 says; userinfo GETs url with
 * "Authorization: Bearer <token>", a 200 with a JSON object is an active
 * token whose members are the claims, and 401/403 an inactive one. The
 * token is the only credential of a userinfo request: it comes with
 * client_auth none.
 */
#define PROTO_VERIFY_INTROSPECTION "introspection"
#define PROTO_VERIFY_USERINFO	   "userinfo"

/*
 * The longest values of the request the helper takes, in bytes: it reads
 * them into fixed buffers of LIMIT + 1 (for the NUL), and lib/config.c
 * refuses longer settings, so that a long value is a config error and not
 * a login failed as bad_request.
 */
#define PROTO_URL_MAX	     2047
#define PROTO_CLIENT_ID_MAX  511
#define PROTO_CA_FILE_MAX    1023
#define PROTO_PROXY_MAX	     1023
#define PROTO_CLAIM_NAME_MAX 127 /* username_claim, ip_ranges_claim, scope_claim */
/* The helper's timeouts, ms: connect_timeout_ms and timeout_ms are within 1..this. */
#define PROTO_TIMEOUT_MS_MAX 600000

/* --- the response: helper -> module ----------------------------------------------- */
#define PROTO_RESP_STATUS      "status" /* PROTO_STATUS_OK or PROTO_STATUS_ERROR */
#define PROTO_RESP_ERROR       "error"	/* with PROTO_STATUS_ERROR: one of PROTO_ERR_* */
#define PROTO_RESP_HTTP_STATUS "http_status"
#define PROTO_RESP_RETRY_AFTER "retry_after" /* seconds, 0..PROTO_RETRY_AFTER_MAX */
/* With PROTO_STATUS_OK: one field per claim present, PROTO_CLAIM_PREFIX and its name (claims.h). */
#define PROTO_CLAIM_PREFIX "claim."
#define PROTO_STATUS_OK	   "ok"
#define PROTO_STATUS_ERROR "error"

/*
 * The error words the helper may send, and the module logs as reason=
 * (lib/introspect.c keeps the list it accepts: introspect_failure_word).
 */
#define PROTO_ERR_CONNECT_FAILED "connect_failed"
#define PROTO_ERR_TIMEOUT	 "timeout"
#define PROTO_ERR_TLS_FAILED	 "tls_failed"  /* connected, but TLS (or the scheme) was wrong */
#define PROTO_ERR_HTTP_STATUS	 "http_status" /* a status other than those below */
#define PROTO_ERR_CLIENT_AUTH	 "client_auth" /* 401 or 403: our client credentials */
#define PROTO_ERR_RATE_LIMITED	 "rate_limited"
#define PROTO_ERR_REDIRECT	 "redirect"
#define PROTO_ERR_BODY_TOO_LARGE "body_too_large"
#define PROTO_ERR_BAD_JSON	 "bad_json"
#define PROTO_ERR_BAD_REQUEST	 "bad_request" /* the helper could not use our request */
#define PROTO_ERR_INTERNAL	 "internal"

struct proto_field {
	char key[PROTO_KEY_MAX + 1];
	const unsigned char *val; /* points into the parsed buffer */
	size_t len;
};

struct proto_msg {
	struct proto_field f[PROTO_MAX_FIELDS];
	size_t n;
};

void proto_begin(struct buf *b, const char *magic);
void proto_put(struct buf *b, const char *key, const void *val, size_t len);
void proto_put_str(struct buf *b, const char *key, const char *val); /* NULL: nothing */
void proto_put_long(struct buf *b, const char *key, long v);
/* Closes the message; returns 0, or -1 when any append failed (see buf.failed). */
int proto_end(struct buf *b);

/* Returns 0, or -1 when buf is not exactly one well-formed message. */
int proto_parse(const char *magic, const unsigned char *buf, size_t len, struct proto_msg *m);
const struct proto_field *proto_get(const struct proto_msg *m, const char *key);
/* The field as a NUL-free, NUL-terminated copy in out; -1 if absent/too long/holds NUL. */
int proto_get_str(const struct proto_msg *m, const char *key, char *out, size_t outlen);
/* The field as a decimal long in [min, max]; -1 if absent or malformed. */
int proto_get_long(const struct proto_msg *m, const char *key, long min, long max, long *out);

#endif
