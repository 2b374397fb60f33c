/*
 * The certificate protocols of DESIGN.md §8 over helper/http.c. Everything
 * the issuer says is parsed strictly (jansson, duplicate keys refused) and
 * only the fields named here are used; what it is, the caller checks
 * (helper/ssh/sshcert.c) before anything is written.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "certissue.h"
#include "file.h"
#include "http.h"
#include "sshbuf.h"
#include "sshcert.h"
#include "sshkey.h"
#include "errmsg.h"

#define ANSWER_MAX (64 * 1024)

/* The client side's HTTP settings: fixed, sane, and the same for every call. */
static void http_defaults(struct http_request *r, const struct settings *s, const char *url)
{
	memset(r, 0, sizeof(*r));
	r->url = url;
	r->proxy = s->proxy;
	r->connect_timeout_ms = 5000;
	r->timeout_ms = 20000;
	r->max_body = ANSWER_MAX;
}

/* 401/403 and invalid_grant mean "not this token"; anything else is the issuer's trouble. */
static enum cert_rc status_rc(long status)
{
	return status == 400 || status == 401 || status == 403 ? CERT_REJECTED : CERT_UNAVAILABLE;
}

/*
 * The one exchange with the issuer: sends r (with body as its JSON body
 * when not NULL; else r's own body, or none for a GET) and takes the
 * answer, which must be HTTP 200 with a JSON object (*answer, to
 * json_decref). what names the request in err.
 */
static enum cert_rc send_json(struct http_request *r, json_t *body, struct http_response *res,
			      json_t **answer, const char *what, char *err, size_t errlen)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	const char *fail;
	json_error_t jerr;
	enum cert_rc rc = CERT_OK;

	if (body != NULL && text == NULL) {
		errf(err, errlen, "%s: out of memory", what);
		return CERT_NOMEM;
	}
	if (text != NULL) {
		r->content_type = "application/json";
		r->body = text;
		r->body_len = strlen(text);
	}
	fail = http_send(r, res);
	if (text != NULL) {
		explicit_bzero(text, strlen(text));
		free(text);
	}
	*answer = NULL;
	if (fail != NULL) {
		errf(err, errlen, "%s: %s (%s)", what, r->url, fail);
		return CERT_UNAVAILABLE;
	}
	if (res->status != 200) {
		errf(err, errlen, "%s: %s answered HTTP %ld", what, r->url, res->status);
		return status_rc(res->status);
	}
	*answer = json_loadb(res->body.p ? (char *)res->body.p : "", res->body.len,
			     JSON_REJECT_DUPLICATES, &jerr);
	if (*answer == NULL || !json_is_object(*answer)) {
		errf(err, errlen, "%s: %s answered something that is not a JSON object", what,
		     r->url);
		json_decref(*answer);
		*answer = NULL;
		rc = CERT_UNAVAILABLE;
	}
	return rc;
}

/* A string member, or NULL. */
static const char *member(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	if (b != NULL)
		v = json_is_object(v) ? json_object_get(v, b) : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* POST token_url grant_type=api_token: the access token in *access (zeroed on free). */
static enum cert_rc exchange(const struct settings *s, const char *token, size_t len,
			     struct buf *access, char *err, size_t errlen)
{
	struct http_response res = {0, -1, BUF_INIT};
	struct buf form = BUF_INIT, user = BUF_INIT;
	struct http_request r;
	json_t *a = NULL;
	const char *at;
	enum cert_rc rc;

	if (s->client_id == NULL) {
		errf(err, errlen, "token_url needs client_id (the issuer's id for this client)");
		return CERT_LOCAL;
	}
	http_defaults(&r, s, s->token_url);
	buf_append(&form, "grant_type=api_token&api_token=", 31);
	http_form_encode(&form, token, len);
	/* Basic client_id: with an empty secret, as Upsun's CLI does. */
	http_form_encode(&user, s->client_id, strlen(s->client_id));
	if (form.failed || user.failed) {
		errf(err, errlen, "token exchange: out of memory");
		rc = CERT_NOMEM;
		goto out;
	}
	r.content_type = "application/x-www-form-urlencoded";
	r.body = form.p;
	r.body_len = form.len;
	r.basic_user = (char *)user.p;
	r.basic_password = "";
	rc = send_json(&r, NULL, &res, &a, "token exchange", err, errlen);
	if (rc == CERT_REJECTED && res.status == 401) {
		/* 401 here is about our client_id, not the token: invalid_grant is a 400. */
		size_t n = strlen(err);

		if (n < errlen)
			errf(err + n, errlen - n, " (is client_id right?)");
		rc = CERT_LOCAL;
	}
	if (rc != CERT_OK)
		goto out;
	at = member(a, "access_token", NULL);
	if (at == NULL || at[0] == '\0' || strpbrk(at, "\r\n") != NULL) {
		errf(err, errlen, "token exchange: no access_token in the answer");
		rc = CERT_UNAVAILABLE;
		goto out;
	}
	buf_append(access, at, strlen(at));
	if (buf_terminate(access) < 0) {
		errf(err, errlen, "token exchange: out of memory");
		rc = CERT_NOMEM;
	}
out:
	json_decref(a); /* jansson does not zero; the access token is short-lived */
	buf_free(&form);
	buf_free(&user);
	buf_free(&res.body);
	return rc;
}

enum cert_rc token_exchange_check(const struct settings *s, const char *token, size_t len,
				  char *err, size_t errlen)
{
	struct buf access = BUF_INIT;
	enum cert_rc rc;

	if (s->token_url == NULL) {
		errf(err, errlen, "no token_url: nothing to exchange the token with");
		return CERT_LOCAL;
	}
	rc = exchange(s, token, len, &access, err, errlen);
	buf_free(&access);
	return rc;
}

enum cert_rc token_bearer_check(const struct settings *s, const char *token, size_t len, char *err,
				size_t errlen)
{
	struct http_response res = {0, -1, BUF_INIT};
	struct buf header = BUF_INIT;
	struct http_request r;
	const char *fail;
	enum cert_rc rc;

	http_defaults(&r, s, s->check_url);
	buf_append(&header, "Authorization: Bearer ", 22);
	buf_append(&header, token, len);
	if (buf_terminate(&header) < 0) {
		errf(err, errlen, "token check: out of memory");
		buf_free(&header);
		return CERT_NOMEM;
	}
	r.secret_header = (char *)header.p;
	r.get = 1;
	fail = http_send(&r, &res);
	if (fail != NULL) {
		errf(err, errlen, "check_url: %s (%s)", s->check_url, fail);
		rc = CERT_UNAVAILABLE;
	} else if (res.status == 200) {
		rc = CERT_OK; /* what it says of the token is the platform's business */
	} else {
		errf(err, errlen, "check_url: %s answered HTTP %ld", s->check_url, res.status);
		rc = res.status == 401 || res.status == 403 ? CERT_REJECTED : CERT_UNAVAILABLE;
	}
	buf_free(&header); /* zeroed: it holds the token */
	buf_free(&res.body);
	return rc;
}

enum cert_rc cert_issue(const struct settings *s, const char *token, size_t len,
			const char *publine, char **cert, char *err, size_t errlen)
{
	struct http_response res = {0, -1, BUF_INIT};
	struct buf access = BUF_INIT, header = BUF_INIT;
	bool vault = s->cert_protocol == CERT_PROTOCOL_VAULT;
	struct http_request r;
	json_t *body = NULL, *answer = NULL;
	const char *line;
	enum cert_rc rc;

	*cert = NULL;
	if (s->cert_url == NULL) {
		errf(err, errlen, "no cert_url: set APITOKEN_CERT_URL or cert_url in %s",
		     s->path ? s->path : "~/.config/apitoken/config");
		return CERT_LOCAL;
	}
	if (!vault && s->token_url != NULL) {
		rc = exchange(s, token, len, &access, err, errlen);
		if (rc != CERT_OK)
			goto out;
	} else {
		buf_append(&access, token, len);
	}
	buf_appendf(&header, "%s", vault ? "X-Vault-Token: " : "Authorization: Bearer ");
	buf_append(&header, access.p, access.len);
	body = vault ? json_pack("{s:s, s:s}", "public_key", publine, "cert_type", "user")
		     : json_pack("{s:s}", "key", publine);
	if (buf_terminate(&header) < 0 || body == NULL) {
		errf(err, errlen, "out of memory");
		rc = CERT_NOMEM;
		goto out;
	}
	http_defaults(&r, s, s->cert_url);
	r.secret_header = (char *)header.p;
	rc = send_json(&r, body, &res, &answer, "certificate", err, errlen);
	if (rc != CERT_OK)
		goto out;
	line = vault ? member(answer, "data", "signed_key") : member(answer, "certificate", NULL);
	if (line == NULL || (*cert = strdup(line)) == NULL) {
		errf(err, errlen, "certificate: the answer holds no %s",
		     vault ? "data.signed_key" : "certificate");
		rc = CERT_UNAVAILABLE;
		goto out;
	}
	(*cert)[strcspn(*cert, "\r\n")] = '\0';
out:
	json_decref(body);
	json_decref(answer);
	buf_free(&access);
	buf_free(&header);
	buf_free(&res.body);
	return rc;
}

/*
 * GET cert_url/authority: the answer object in *answer (to json_decref),
 * and its HTTP status in *status (0 when there was none).
 */
static enum cert_rc authority_get(const struct settings *s, json_t **answer, long *status,
				  char *err, size_t errlen)
{
	struct http_response res = {0, -1, BUF_INIT};
	struct http_request r;
	struct buf url = BUF_INIT;
	enum cert_rc rc;

	*answer = NULL;
	*status = 0;
	if (s->cert_url == NULL) {
		errf(err, errlen, "no cert_url");
		return CERT_LOCAL;
	}
	/* cert_url + "/authority", without a doubled slash. */
	buf_appendf(&url, "%.*s/authority",
		    (int)(strlen(s->cert_url) -
			  (s->cert_url[0] && s->cert_url[strlen(s->cert_url) - 1] == '/')),
		    s->cert_url);
	if (buf_terminate(&url) < 0) {
		errf(err, errlen, "authority: out of memory");
		return CERT_NOMEM;
	}
	http_defaults(&r, s, (char *)url.p);
	r.get = 1;
	rc = send_json(&r, NULL, &res, answer, "authority", err, errlen);
	*status = res.status;
	buf_free(&url);
	buf_free(&res.body);
	return rc;
}

/*
 * The strings of the array list, copied into *lines (free with
 * free_lines); what names it in err. CERT_UNAVAILABLE when an entry is no
 * string: the answer is taken whole or not at all.
 */
static enum cert_rc string_list(json_t *list, char ***lines, size_t *n, const char *what, char *err,
				size_t errlen)
{
	json_t *v;
	size_t i;

	*lines = NULL;
	*n = 0;
	if (json_array_size(list) == 0)
		return CERT_OK;
	if ((*lines = calloc(json_array_size(list), sizeof(char *))) == NULL) {
		errf(err, errlen, "authority: out of memory");
		return CERT_NOMEM;
	}
	json_array_foreach(list, i, v)
	{
		if (!json_is_string(v) || ((*lines)[*n] = strdup(json_string_value(v))) == NULL) {
			errf(err, errlen, "authority: an entry of %s that is not a key line", what);
			free_lines(*lines, *n);
			*lines = NULL;
			*n = 0;
			return CERT_UNAVAILABLE;
		}
		(*n)++;
	}
	return CERT_OK;
}

enum cert_rc cert_authorities(const struct settings *s, char ***lines, size_t *n, char *err,
			      size_t errlen)
{
	json_t *answer = NULL, *list;
	long status;
	enum cert_rc rc = authority_get(s, &answer, &status, err, errlen);

	*lines = NULL;
	*n = 0;
	if (rc != CERT_OK)
		return rc;
	list = json_object_get(answer, "authorities");
	if (!json_is_array(list) || json_array_size(list) == 0) {
		errf(err, errlen, "authority: no \"authorities\" list in the answer");
		rc = CERT_UNAVAILABLE;
	} else {
		rc = string_list(list, lines, n, "authorities", err, errlen);
	}
	json_decref(answer);
	return rc;
}

enum cert_rc cert_host_authorities(const struct settings *s, char ***lines, size_t *n, char *err,
				   size_t errlen)
{
	json_t *answer = NULL, *list;
	long status;
	enum cert_rc rc;

	*lines = NULL;
	*n = 0;
	if (s->cert_protocol == CERT_PROTOCOL_VAULT)
		return CERT_OK; /* Vault signs host keys with another role: nothing to ask here */
	rc = authority_get(s, &answer, &status, err, errlen);
	if (rc != CERT_OK) {
		/* No authority endpoint at all: an issuer that publishes no host CA either. */
		if (status == 404)
			rc = CERT_OK;
		return rc;
	}
	list = json_object_get(answer, "host_authorities");
	if (list != NULL && !json_is_null(list) && !json_is_array(list)) {
		errf(err, errlen, "authority: \"host_authorities\" is not a list of key lines");
		rc = CERT_UNAVAILABLE;
	} else if (list != NULL) {
		rc = string_list(list, lines, n, "host_authorities", err, errlen);
	}
	json_decref(answer);
	return rc;
}

/* Whether one of the key lines is c's CA. */
static bool ca_in(const struct sshcert *c, char *const *lines, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char type[SSHKEY_TYPE_MAX], err[128];
		struct buf blob = BUF_INIT;
		bool same = sshkey_parse_line(type, &blob, lines[i], strlen(lines[i]), err,
					      sizeof(err)) == 0 &&
			    sshcert_ca_is(c, blob.p, blob.len);

		buf_free(&blob);
		if (same)
			return true;
	}
	return false;
}

bool cert_ca_listed(const struct sshcert *c, const char *text)
{
	char *copy = strdup(text), *line, *save = NULL;
	bool ok = false;

	if (copy == NULL)
		return false;
	for (line = strtok_r(copy, "\n", &save); line != NULL && !ok;
	     line = strtok_r(NULL, "\n", &save))
		if (line[0] != '#')
			ok = ca_in(c, &line, 1);
	free(copy);
	return ok;
}

int cert_ca_line(const struct sshcert *c, struct buf *out)
{
	buf_appendf(out, "%s ", c->ca_type);
	if (base64_encode(out, c->ca_key, c->ca_key_len) < 0)
		return -1;
	buf_append(out, "\n", 1);
	return out->failed ? -1 : 0;
}

enum cert_rc cert_ca_pinned(const struct settings *s, const struct sshcert *c, char *err,
			    size_t errlen)
{
	char fp[SSHKEY_FP_LEN] = "", **lines = NULL, *text = NULL;
	size_t n = 0, len;
	bool ok = false;
	enum cert_rc rc;

	if (s->ca_key_file == NULL && !s->pin_ca)
		return CERT_OK;
	if (s->ca_key_file != NULL) {
		if (file_read_checked(s->ca_key_file, FILE_CONFIG, CA_KEYS_MAX, &text, &len, err,
				      errlen) != APT_OK)
			return CERT_LOCAL;
		ok = cert_ca_listed(c, text);
		free(text);
	}
	if (!ok && s->pin_ca) {
		rc = cert_authorities(s, &lines, &n, err, errlen);
		if (rc != CERT_OK)
			return rc;
		ok = ca_in(c, lines, n);
		free_lines(lines, n);
	}
	if (!ok) {
		sshcert_ca_fingerprint(c, fp);
		errf(err, errlen, "the certificate is signed by %s, not by a CA we pin (%s)", fp,
		     s->ca_key_file ? s->ca_key_file : "cert_url/authority");
		return CERT_BAD;
	}
	return CERT_OK;
}

void free_lines(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}
