/*
 * The module's side of introspection: the request to `apitoken introspect`
 * and the reading of its answer. Secrets (token, client secret, TLS key) go
 * only into the request buffer, which zeroes itself when freed.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "child.h"
#include "file.h"
#include "introspect.h"
#include "proto.h"
#include "errmsg.h"

#define SECRET_MAX   4096
#define TLS_FILE_MAX (64 * 1024)

/*
 * Whether the client secret can be sent the way client_auth says: a bearer
 * token goes into a header line, so only visible ASCII (no CR/LF to add a
 * header, no space); a secret sent as typed in Basic is a C string to
 * libcurl, so no NUL. The form-encoded ways take any byte.
 */
static const char *secret_unfit(const char *auth, const char *s, size_t len)
{
	bool bearer = auth != NULL && strcmp(auth, PROTO_CLIENT_AUTH_BEARER) == 0;
	bool raw = auth != NULL && strcmp(auth, PROTO_CLIENT_AUTH_BASIC_RAW) == 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (bearer && (c <= 0x20 || c >= 0x7f))
			return "a bearer token of visible ASCII only (client_auth = bearer)";
		if (raw && c == '\0')
			return "no NUL byte (client_auth = basic_raw)";
	}
	return NULL;
}

/*
 * Reads a file into the request under key; the contents never touch a log.
 * auth: the client_auth the file is a client secret for, else NULL.
 */
static enum apt_rc put_file(struct buf *req, const char *key, const char *path, enum file_kind kind,
			    size_t max, bool trim, const char *auth, char *err, size_t errlen)
{
	const char *unfit;
	enum apt_rc rc;
	char *data;
	size_t len;

	if (path == NULL)
		return APT_OK;
	rc = file_read_checked(path, kind, max, &data, &len, err, errlen);
	if (rc != APT_OK)
		return rc;
	/* A secret file written by `echo` ends in a newline that is not part of it. */
	while (trim && len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		data[--len] = '\0';
	if (trim && len == 0) {
		errf(err, errlen, "%s: empty", path);
		rc = APT_SERVICE;
	} else if ((unfit = secret_unfit(auth, data, len)) != NULL) {
		errf(err, errlen, "%s: want %s", path, unfit);
		rc = APT_SERVICE;
	} else {
		proto_put(req, key, data, len);
	}
	free_secret(data);
	return rc;
}

enum apt_rc introspect_build_request(const struct apt_config *cfg, const char *token, size_t len,
				     struct buf *req, char *err, size_t errlen)
{
	char ca[PATH_MAX];
	enum apt_rc rc;
	/* The helper's own request timeout ends a little before our hard kill. */
	long helper_timeout = cfg->timeout_ms > 200 ? cfg->timeout_ms - 50 : cfg->timeout_ms;

	proto_begin(req, PROTO_REQUEST_MAGIC);
	/* config_load() checked the URL verify uses (lib/config.c). */
	proto_put_str(req, PROTO_REQ_VERIFY, config_verify(cfg));
	proto_put_str(req, PROTO_REQ_URL, config_endpoint(cfg));
	proto_put(req, PROTO_REQ_TOKEN, token, len);
	/* config_load() matched the credentials to client_auth (lib/config.c). */
	proto_put_str(req, PROTO_REQ_CLIENT_AUTH, cfg->client_auth);
	proto_put_str(req, PROTO_REQ_CLIENT_ID, cfg->client_id);
	rc = put_file(req, PROTO_REQ_CLIENT_SECRET, cfg->client_secret_file, FILE_SECRET,
		      SECRET_MAX, true, cfg->client_auth, err, errlen);
	if (rc == APT_OK)
		rc = put_file(req, PROTO_REQ_TLS_CERT, cfg->tls_cert_file, FILE_CONFIG,
			      TLS_FILE_MAX, false, NULL, err, errlen);
	if (rc == APT_OK)
		rc = put_file(req, PROTO_REQ_TLS_KEY, cfg->tls_key_file, FILE_SECRET, TLS_FILE_MAX,
			      false, NULL, err, errlen);
	/* The helper opens the bundle itself: give it a name only root can repoint. */
	if (rc == APT_OK && cfg->ca_file != NULL)
		rc = file_resolve_public(cfg->ca_file, ca, sizeof(ca), err, errlen);
	if (rc != APT_OK)
		return rc;
	proto_put_str(req, PROTO_REQ_CA_FILE, cfg->ca_file ? ca : NULL);
	proto_put_str(req, PROTO_REQ_PROXY, cfg->proxy);
	proto_put_long(req, PROTO_REQ_CONNECT_TIMEOUT_MS, cfg->connect_timeout_ms);
	proto_put_long(req, PROTO_REQ_TIMEOUT_MS, helper_timeout);
	proto_put_str(req, PROTO_REQ_USERNAME_CLAIM, cfg->username_claim);
	proto_put_str(req, PROTO_REQ_IP_RANGES_CLAIM, cfg->ip_ranges_claim);
	proto_put_str(req, PROTO_REQ_SCOPE_CLAIM, cfg->scope_claim);
	return proto_end(req) == 0 ? APT_OK : APT_NOMEM;
}

/*
 * Every word an unavailable issuer is logged with: first the helper's (what
 * it may send; anything else from it is itself a bad response), then the
 * module's own.
 */
static const char *const failure_words[] = {
    /* the helper's (proto.h) */
    PROTO_ERR_CONNECT_FAILED,
    PROTO_ERR_TIMEOUT,
    PROTO_ERR_TLS_FAILED,
    PROTO_ERR_HTTP_STATUS,
    PROTO_ERR_CLIENT_AUTH,
    PROTO_ERR_RATE_LIMITED,
    PROTO_ERR_REDIRECT,
    PROTO_ERR_BODY_TOO_LARGE,
    PROTO_ERR_BAD_JSON,
    PROTO_ERR_BAD_REQUEST,
    PROTO_ERR_INTERNAL,
    /* the module's own */
    "bad_response",
    "helper_failed",
    "helper_output",
};
#define HELPER_WORDS 11 /* the first ones */

const char *introspect_failure_word(const char *w, bool from_helper)
{
	size_t n = from_helper ? HELPER_WORDS : sizeof(failure_words) / sizeof(failure_words[0]);

	for (size_t i = 0; i < n; i++)
		if (strcmp(w, failure_words[i]) == 0)
			return failure_words[i];
	return NULL;
}

enum apt_rc introspect_parse_response(const unsigned char *p, size_t len,
				      struct introspect_answer *ans, const char **reason)
{
	struct proto_msg m;
	char word[32];

	memset(ans, 0, sizeof(*ans));
	ans->retry_after = -1;
	*reason = "bad_response";
	if (proto_parse(PROTO_RESPONSE_MAGIC, p, len, &m) < 0 ||
	    proto_get_str(&m, PROTO_RESP_STATUS, word, sizeof(word)) < 0)
		return APT_UNAVAIL;
	if (proto_get(&m, PROTO_RESP_HTTP_STATUS) != NULL &&
	    proto_get_long(&m, PROTO_RESP_HTTP_STATUS, 100, 999, &ans->http_status) < 0)
		return APT_UNAVAIL;
	if (proto_get(&m, PROTO_RESP_RETRY_AFTER) != NULL &&
	    proto_get_long(&m, PROTO_RESP_RETRY_AFTER, 0, PROTO_RETRY_AFTER_MAX,
			   &ans->retry_after) < 0)
		return APT_UNAVAIL;

	if (strcmp(word, PROTO_STATUS_ERROR) == 0) {
		if (proto_get_str(&m, PROTO_RESP_ERROR, word, sizeof(word)) < 0)
			return APT_UNAVAIL;
		if (introspect_failure_word(word, true) != NULL)
			*reason = introspect_failure_word(word, true);
		return APT_UNAVAIL;
	}
	if (strcmp(word, PROTO_STATUS_OK) != 0)
		return APT_UNAVAIL;

	switch (claims_get(&m, &ans->claims)) {
	case 0:
		break;
	case -2:
		*reason = "no_memory";
		return APT_NOMEM;
	default:
		return APT_UNAVAIL;
	}
	*reason = "ok";
	return APT_OK;
}

enum apt_rc introspect_token(const struct apt_config *cfg, const char *token, size_t len,
			     struct introspect_answer *ans, const char **reason, char *err,
			     size_t errlen)
{
	static const char *const argv[] = {"apitoken", "introspect", NULL};
	struct child_spec spec = {
	    .path = cfg->helper,
	    .argv = argv,
	    .user = cfg->helper_user,
	    .deadline_ms = cfg->timeout_ms,
	    .max_output = PROTO_MAX_MESSAGE,
	};
	struct buf req = BUF_INIT, resp = BUF_INIT;
	enum apt_rc rc;

	memset(ans, 0, sizeof(*ans));
	ans->retry_after = -1;
	*reason = "config";
	rc = introspect_build_request(cfg, token, len, &req, err, errlen);
	if (rc == APT_OK)
		rc = child_run(&spec, &req, &resp, reason, err, errlen);
	if (rc == APT_OK) {
		rc = introspect_parse_response(resp.p, resp.len, ans, reason);
		/* The audit reason says http_status; the admin wants the number too. */
		if (rc == APT_UNAVAIL && ans->http_status > 0)
			errf(err, errlen, "%s endpoint answered HTTP %ld (%s)", config_verify(cfg),
			     ans->http_status, *reason);
	} else if (rc == APT_NOMEM)
		*reason = "no_memory";
	buf_free(&req);
	buf_free(&resp);
	return rc;
}
