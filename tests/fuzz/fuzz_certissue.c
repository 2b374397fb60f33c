/*
 * libFuzzer harness for the certificate issuer's answers (helper/certissue.c):
 * the token exchange (access_token), the certificate (apitoken and vault
 * protocols) and cert_url/authority. No network: the harness is linked
 * with -Wl,--wrap=http_send (see the Makefile), so certissue.c's requests
 * reach __wrap_http_send below, which answers with the input. Input: a
 * byte choosing the call, a byte choosing the HTTP statuses, then the
 * first answer's body, NUL, the second's.
 *
 * Oracles: each call succeeds exactly when the answer is what DESIGN.md §8
 * says (HTTP 200, a JSON object without duplicate keys, the member a
 * string; the access token non-empty without CR/LF), checked with jansson
 * here; what it returns is that member (a certificate cut at its first
 * line end, every authority in order); failures use the documented results
 * (enum cert_rc), 400/401/403 meaning "rejected"; and every request goes to the
 * configured URL with a header holding no CR/LF, the bearer being exactly
 * the exchanged access token (or the API token without token_url).
 */
#include <jansson.h>

#include "certissue.h"
#include "http.h"
#include "oracle.h"

#define TOKEN "ucat_fuzz_token"

const char *__wrap_http_send(const struct http_request *req, struct http_response *res);

static const long statuses[] = {200, 200, 200, 200, 400, 401, 403, 429, 500, 302};

static struct {
	const char *body[2];
	size_t len[2];
	long status[2];
	int calls;
	char url[2][256];
	char header[2][80 * 1024]; /* an access token may fill a whole 64 KiB answer */
} fake;

const char *__wrap_http_send(const struct http_request *req, struct http_response *res)
{
	int k = fake.calls++;

	CHECK(k < 2 && req->url != NULL && strlen(req->url) < sizeof(fake.url[k]));
	CHECK(req->max_body > 0);
	snprintf(fake.url[k], sizeof(fake.url[k]), "%s", req->url);
	fake.header[k][0] = '\0';
	if (req->secret_header != NULL) {
		CHECK(strpbrk(req->secret_header, "\r\n") == NULL);
		CHECK(strlen(req->secret_header) < sizeof(fake.header[k]));
		snprintf(fake.header[k], sizeof(fake.header[k]), "%s", req->secret_header);
	}
	res->status = fake.status[k];
	res->retry_after = -1;
	buf_append(&res->body, fake.body[k], fake.len[k]);
	return NULL;
}

/* The string member a(.b) of a 200 JSON object answer, or NULL; *root to free. */
static const char *expect(int k, const char *a, const char *b, json_t **root)
{
	json_error_t jerr;
	json_t *v;

	*root = NULL;
	if (fake.status[k] != 200)
		return NULL;
	*root = json_loadb(fake.body[k], fake.len[k], JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(*root))
		return NULL;
	v = json_object_get(*root, a);
	if (b != NULL)
		v = json_is_object(v) ? json_object_get(v, b) : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool failure_code(enum cert_rc rc, long status)
{
	if (status == 400 || status == 403)
		return rc == CERT_REJECTED;
	if (status == 401)
		return rc == CERT_REJECTED || rc == CERT_LOCAL;
	return rc == CERT_UNAVAILABLE;
}

/* The exchange as the harness reads it: the access token, or NULL. */
static const char *expect_access(json_t **root)
{
	const char *at = expect(0, "access_token", NULL, root);

	return at != NULL && at[0] != '\0' && strpbrk(at, "\r\n") == NULL ? at : NULL;
}

static void check_cert(const struct settings *s, bool vault)
{
	char *cert = NULL, err[1024];
	static char bearer[80 * 1024];
	json_t *r0 = NULL, *r1 = NULL;
	const char *at = TOKEN, *line;
	int k = 0;
	enum cert_rc rc =
	    cert_issue(s, TOKEN, strlen(TOKEN), "ssh-ed25519 AAAA key", &cert, err, sizeof(err));

	if (!vault && s->token_url != NULL) {
		CHECK(strcmp(fake.url[0], s->token_url) == 0);
		at = expect_access(&r0);
		if (at == NULL) {
			CHECK(rc != 0 && cert == NULL && fake.calls == 1);
			CHECK(fake.status[0] == 200 ? rc == CERT_UNAVAILABLE
						    : failure_code(rc, fake.status[0]));
			goto out;
		}
		k = 1;
	}
	CHECK(fake.calls == k + 1 && strcmp(fake.url[k], s->cert_url) == 0);
	snprintf(bearer, sizeof(bearer), "%s%s",
		 vault ? "X-Vault-Token: " : "Authorization: Bearer ", at);
	CHECK(strcmp(fake.header[k], bearer) == 0);
	line = vault ? expect(k, "data", "signed_key", &r1) : expect(k, "certificate", NULL, &r1);
	if (line == NULL) {
		CHECK(rc != 0 && cert == NULL);
		CHECK(fake.status[k] == 200 ? rc == CERT_UNAVAILABLE
					    : failure_code(rc, fake.status[k]));
		goto out;
	}
	CHECK(rc == CERT_OK && cert != NULL);
	CHECK(strlen(cert) == strcspn(line, "\r\n") && memcmp(cert, line, strlen(cert)) == 0);
out:
	free(cert);
	json_decref(r0);
	json_decref(r1);
}

static void check_exchange(const struct settings *s)
{
	char err[1024];
	json_t *r0;
	enum cert_rc rc = token_exchange_check(s, TOKEN, strlen(TOKEN), err, sizeof(err));

	CHECK(fake.calls == 1 && strcmp(fake.url[0], s->token_url) == 0);
	if (expect_access(&r0) != NULL)
		CHECK(rc == CERT_OK);
	else
		CHECK(fake.status[0] == 200 ? rc == CERT_UNAVAILABLE
					    : failure_code(rc, fake.status[0]));
	json_decref(r0);
}

static void check_authorities(const struct settings *s)
{
	char err[1024], url[300], **lines = NULL;
	size_t n = 0, base = strlen(s->cert_url);
	json_t *root = NULL, *list = NULL;
	enum cert_rc rc = cert_authorities(s, &lines, &n, err, sizeof(err));
	bool ok;

	if (s->cert_url[base - 1] == '/')
		base--;
	snprintf(url, sizeof(url), "%.*s/authority", (int)base, s->cert_url);
	CHECK(fake.calls == 1 && strcmp(fake.url[0], url) == 0);
	expect(0, "x", NULL, &root);
	if (json_is_object(root))
		list = json_object_get(root, "authorities");
	ok = json_is_array(list) && json_array_size(list) > 0;
	for (size_t i = 0; ok && i < json_array_size(list); i++)
		ok = json_is_string(json_array_get(list, i));
	if (!ok) {
		CHECK(rc != 0 && lines == NULL && n == 0);
		CHECK(fake.status[0] == 200 ? rc == CERT_UNAVAILABLE
					    : failure_code(rc, fake.status[0]));
	} else {
		CHECK(rc == CERT_OK && n == json_array_size(list));
		for (size_t i = 0; i < n; i++)
			CHECK(strcmp(lines[i], json_string_value(json_array_get(list, i))) == 0);
	}
	free_lines(lines, n);
	json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct settings s = {0};
	const uint8_t *p = data + 2;
	size_t left = size - 2;
	char *b0, *b1;

	if (size < 2)
		return 0;
	b0 = next_part(&p, &left);
	b1 = next_part(&p, &left);
	memset(&fake, 0, sizeof(fake));
	fake.body[0] = b0;
	fake.len[0] = strlen(b0);
	fake.body[1] = b1;
	fake.len[1] = strlen(b1);
	fake.status[0] = statuses[(data[1] & 15) % 10];
	fake.status[1] = statuses[(data[1] >> 4) % 10];

	s.cert_url =
	    data[0] & 0x10 ? "https://ca.example/ssh/cert/" : "https://ca.example/ssh/cert";
	s.client_id = "platform-cli";
	switch (data[0] % 5) {
	case 0:
		check_cert(&s, false);
		break;
	case 1:
		s.token_url = "https://auth.example/oauth2/token";
		check_cert(&s, false);
		break;
	case 2:
		s.cert_protocol = CERT_PROTOCOL_VAULT;
		s.token_url = data[0] & 0x20 ? "https://auth.example/ignored" : NULL;
		check_cert(&s, true);
		break;
	case 3:
		s.token_url = "https://auth.example/oauth2/token";
		check_exchange(&s);
		break;
	default:
		check_authorities(&s);
		break;
	}
	free(b0);
	free(b1);
	return 0;
}
