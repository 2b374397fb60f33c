/*
 * HTTP for the helper, on libcurl. The helper is its own short-lived
 * process, so libcurl's global state is set up once and simply dies with it
 * (no global cleanup: see DESIGN.md §3 for why that matters in PAM hosts).
 *
 * libcurl is loaded with dlopen() at the first request, not linked: with its
 * thirty-odd dependencies it is most of the cost of starting the binary, and
 * most runs of `apitoken` (askpass, ssh-cert load --refresh-only from an ssh
 * Match exec line) make no request at all.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <dlfcn.h>

#include <curl/curl.h>

#include "hex.h"
#include "http.h"
#include "proto.h"
#include "url.h"

/* The libcurl functions we use, from the library loaded at run time. */
static struct {
	void *lib;
	__typeof__(curl_global_init) *global_init;
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_perform) *easy_perform;
	__typeof__(curl_easy_getinfo) *easy_getinfo;
	__typeof__(curl_easy_cleanup) *easy_cleanup;
	__typeof__(curl_slist_append) *slist_append;
	__typeof__(curl_slist_free_all) *slist_free_all;
	__typeof__(curl_getdate) *getdate;
} C;

/* POSIX's way to turn dlsym's void * into a function pointer. */
#define LOAD(field, name) (*(void **)(&C.field) = dlsym(C.lib, name)) != NULL

static int curl_load(void)
{
	if (C.lib != NULL)
		return 0;
	C.lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (C.lib == NULL)
		return -1;
	if (LOAD(global_init, "curl_global_init") && LOAD(easy_init, "curl_easy_init") &&
	    LOAD(easy_setopt, "curl_easy_setopt") && LOAD(easy_perform, "curl_easy_perform") &&
	    LOAD(easy_getinfo, "curl_easy_getinfo") && LOAD(easy_cleanup, "curl_easy_cleanup") &&
	    LOAD(slist_append, "curl_slist_append") &&
	    LOAD(slist_free_all, "curl_slist_free_all") && LOAD(getdate, "curl_getdate") &&
	    C.global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK)
		return 0;
	dlclose(C.lib);
	memset(&C, 0, sizeof(C));
	return -1;
}

struct sink {
	struct http_response *res;
	size_t max;
	int overflow;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;

	if (s->res->body.len + len > s->max) {
		s->overflow = 1;
		return 0; /* makes curl stop with CURLE_WRITE_ERROR */
	}
	if (buf_append(&s->res->body, data, len) < 0)
		return 0;
	return len;
}

long http_parse_retry_after(const char *v, long now)
{
	size_t i;
	long secs = 0;
	time_t when;

	while (*v == ' ' || *v == '\t')
		v++;
	if (isdigit((unsigned char)*v)) {
		/* Any length: a number past the cap is the cap, not a bad answer. */
		for (i = 0; isdigit((unsigned char)v[i]); i++)
			if (secs <= PROTO_RETRY_AFTER_MAX)
				secs = secs * 10 + (v[i] - '0');
		while (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' || v[i] == '\n')
			i++;
		if (v[i] != '\0')
			return -1;
		return secs > PROTO_RETRY_AFTER_MAX ? PROTO_RETRY_AFTER_MAX : secs;
	}
	if (curl_load() < 0)
		return -1;
	when = C.getdate(v, NULL);
	if (when == (time_t)-1)
		return -1;
	if (when <= now)
		return 0;
	return when - now > PROTO_RETRY_AFTER_MAX ? PROTO_RETRY_AFTER_MAX : (long)(when - now);
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct http_response *res = arg;
	size_t len = size * n;
	static const char name[] = "retry-after:";

	if (len > sizeof(name) - 1 && len < 256 && strncasecmp(data, name, sizeof(name) - 1) == 0) {
		char v[256];
		memcpy(v, data + sizeof(name) - 1, len - (sizeof(name) - 1));
		v[len - (sizeof(name) - 1)] = '\0';
		v[strcspn(v, "\r\n")] = '\0';
		res->retry_after = http_parse_retry_after(v, (long)time(NULL));
	}
	return len;
}

int http_form_encode(struct buf *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			buf_append(out, &c, 1);
		} else if (c == ' ') {
			buf_append(out, "+", 1);
		} else {
			char e[3];
			hex_percent(c, e);
			buf_append(out, e, 3);
		}
	}
	return buf_terminate(out);
}

/*
 * The failure word for what curl_easy_perform() returned on h. A TLS
 * failure is tls_failed whatever curl calls it: besides its CURLE_SSL_*
 * words, a TLS alert after the handshake (a client certificate the server
 * wanted, TLS 1.3) is a "receive error" with no socket errno behind it, and
 * an answer that is not HTTP at all over a connection that was made is a
 * TLS server behind an http:// URL. connect_failed is then the network's
 * part alone: no connection, or one the network cut.
 */
static const char *curl_failure(CURL *h, CURLcode c, int https)
{
	long port = 0, os_errno = 0;

	/* The port is set once a connection is made; the errno when a socket call failed. */
	if (C.easy_getinfo(h, CURLINFO_PRIMARY_PORT, &port) != CURLE_OK)
		port = 0;
	if (C.easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno) != CURLE_OK)
		os_errno = -1;
	switch (c) {
	case CURLE_OPERATION_TIMEDOUT:
		return PROTO_ERR_TIMEOUT;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		if (https && port != 0 && os_errno == 0)
			return PROTO_ERR_TLS_FAILED;
		return PROTO_ERR_CONNECT_FAILED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return PROTO_ERR_CONNECT_FAILED;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
	case CURLE_USE_SSL_FAILED:
		return PROTO_ERR_TLS_FAILED;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_WEIRD_SERVER_REPLY:
		/* http:// connected, the answer was no HTTP (HTTP/0.9 to curl): a TLS port. */
		if (!https && port != 0)
			return PROTO_ERR_TLS_FAILED;
		return PROTO_ERR_BAD_REQUEST;
	case CURLE_URL_MALFORMAT:
		return PROTO_ERR_BAD_REQUEST;
	default:
		return PROTO_ERR_INTERNAL;
	}
}

const char *http_send(const struct http_request *req, struct http_response *res)
{
	struct curl_slist *headers = NULL;
	struct sink sink = {res, req->max_body, 0};
	struct curl_blob cert, key;
	char ctype[128];
	const char *fail = NULL;
	CURLcode c;
	CURL *h;

	res->status = 0;
	res->retry_after = -1;
	if (!url_scheme_allowed(req->url))
		return PROTO_ERR_BAD_REQUEST;
	if (curl_load() < 0 || (h = C.easy_init()) == NULL)
		return PROTO_ERR_INTERNAL;

	/* A GET has no body, and may have no content_type to print. */
	if (!req->get) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s", req->content_type);
		headers = C.slist_append(headers, ctype);
	}
	headers = C.slist_append(headers, "Accept: application/json");
	/* curl keeps its own copy of a header; this process is short-lived and not dumpable. */
	if (req->secret_header != NULL)
		headers = C.slist_append(headers, req->secret_header);
	headers = C.slist_append(headers, "Expect:");
	if (headers == NULL) {
		C.easy_cleanup(h);
		return PROTO_ERR_INTERNAL;
	}

	c = C.easy_setopt(h, CURLOPT_URL, req->url);
	c |= C.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
	c |= C.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	c |= C.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	/* "" disables the proxy: http_proxy and friends from the environment do not apply. */
	c |= C.easy_setopt(h, CURLOPT_PROXY, req->proxy ? req->proxy : "");
	c |= C.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
	c |= C.easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	c |= C.easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	c |= C.easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	c |= C.easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	if (req->get) {
		c |= C.easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		c |= C.easy_setopt(h, CURLOPT_POST, 1L);
		/* POSTFIELDS, not COPYPOSTFIELDS: curl must not keep its own copy of a secret. */
		c |= C.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		c |= C.easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
	}
	c |= C.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	c |= C.easy_setopt(h, CURLOPT_WRITEDATA, &sink);
	c |= C.easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	c |= C.easy_setopt(h, CURLOPT_HEADERDATA, res);
	c |= C.easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->max_body);
	c |= C.easy_setopt(h, CURLOPT_USERAGENT, "apitoken/" APITOKEN_VERSION);
	if (req->ca_file != NULL)
		c |= C.easy_setopt(h, CURLOPT_CAINFO, req->ca_file);
	if (req->tls_cert != NULL && req->tls_key != NULL) {
		cert = (struct curl_blob){req->tls_cert->p, req->tls_cert->len, CURL_BLOB_NOCOPY};
		key = (struct curl_blob){req->tls_key->p, req->tls_key->len, CURL_BLOB_NOCOPY};
		c |= C.easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
		c |= C.easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
		c |= C.easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
		c |= C.easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (req->basic_user != NULL) {
		c |= C.easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		c |= C.easy_setopt(h, CURLOPT_USERNAME, req->basic_user);
		c |= C.easy_setopt(h, CURLOPT_PASSWORD, req->basic_password);
	}
	if (c != CURLE_OK) {
		fail = PROTO_ERR_INTERNAL;
		goto out;
	}

	c = C.easy_perform(h);
	if (sink.overflow || c == CURLE_FILESIZE_EXCEEDED) {
		fail = PROTO_ERR_BODY_TOO_LARGE;
	} else if (c != CURLE_OK) {
		fail = curl_failure(h, c, strncasecmp(req->url, "https://", 8) == 0);
	} else if (res->body.failed) {
		fail = PROTO_ERR_INTERNAL;
	} else {
		C.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
	}
out:
	C.easy_cleanup(h);
	C.slist_free_all(headers);
	return fail;
}
