/*
 * The helper's one way to make an HTTP request, with the project's rules
 * built in: TLS verified, http:// only to loopback, no redirects followed,
 * no proxy from the environment, both timeouts, a capped body, and nothing
 * secret in the URL or in any log.
 */
#ifndef APITOKEN_HTTP_H
#define APITOKEN_HTTP_H

#include <stddef.h>
#include "buf.h"

struct http_request {
	const char *url;
	const char *ca_file;	    /* NULL: the system store */
	const struct buf *tls_cert; /* PEM, or NULL */
	const struct buf *tls_key;  /* PEM, or NULL */
	const char *proxy;	    /* NULL: none, whatever the environment says */
	long connect_timeout_ms;
	long timeout_ms;
	const char *basic_user; /* client_secret_basic; both or neither */
	const char *basic_password;
	const char *secret_header; /* e.g. "Authorization: Bearer ..."; the caller zeroes it */
	int get;		   /* GET instead of POST (no body) */
	const char *content_type;  /* of body */
	const void *body;
	size_t body_len;
	size_t max_body; /* of the answer */
};

struct http_response {
	long status;	  /* 0 when no HTTP answer */
	long retry_after; /* seconds, -1 when absent or unparseable */
	struct buf body;
};

/*
 * Sends the request. Returns NULL when an HTTP answer arrived (any status), or a
 * failure word: connect_failed, timeout, tls_failed, body_too_large,
 * bad_request (URL refused by the rules), internal.
 */
const char *http_send(const struct http_request *req, struct http_response *res);

/* Seconds from a Retry-After value (delta-seconds or HTTP date); -1 if neither. */
long http_parse_retry_after(const char *value, long now);

/* RFC 6749 §2.3.1 form-urlencoding of a client id or secret, for Basic auth. */
int http_form_encode(struct buf *out, const char *s, size_t len);

#endif
