/*
 * libFuzzer harness for introspect_parse_response (lib/introspect.c): the
 * root process reading what the helper wrote. Oracles: only APT_OK or
 * APT_UNAVAIL; *reason is "ok" exactly when APT_OK, else one of the
 * documented failure words; http_status and retry_after are absent or in
 * range; and the claims of an accepted answer, written back as a response,
 * are read again as the same claims (nothing is lost or changes type on
 * the way).
 */
#include "introspect.h"
#include "oracle.h"
#include "proto.h"

static const char *const reasons[] = {
    "bad_response", "connect_failed", "timeout",	"tls_failed", "http_status", "client_auth",
    "rate_limited", "redirect",	      "body_too_large", "bad_json",   "bad_request", "internal",
};

static bool known_reason(const char *r)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(r, reasons[i]) == 0)
			return true;
	return false;
}

static void rewrite_and_compare(const struct introspect_answer *a)
{
	struct introspect_answer b;
	struct buf out = BUF_INIT;
	const char *reason;
	char key[48];

	proto_begin(&out, PROTO_RESPONSE_MAGIC);
	proto_put_str(&out, "status", "ok");
	if (a->http_status > 0)
		proto_put_long(&out, "http_status", a->http_status);
	if (a->retry_after >= 0)
		proto_put_long(&out, "retry_after", a->retry_after);
	for (int i = 0; i < CLAIM_COUNT; i++) {
		struct buf v = BUF_INIT;

		if (a->claims.c[i].type == CLAIM_ABSENT)
			continue;
		CHECK(claim_encode(&a->claims.c[i], &v) == 0);
		snprintf(key, sizeof(key), "claim.%s", claim_names[i]);
		proto_put(&out, key, v.p, v.len);
		buf_free(&v);
	}
	CHECK(proto_end(&out) == 0);
	CHECK(introspect_parse_response(out.p, out.len, &b, &reason) == APT_OK);
	CHECK(b.http_status == a->http_status && b.retry_after == a->retry_after);
	for (int i = 0; i < CLAIM_COUNT; i++) {
		const struct claim *x = &a->claims.c[i], *y = &b.claims.c[i];

		CHECK(x->type == y->type && x->n == y->n && x->len == y->len);
		CHECK(x->s == NULL || memcmp(x->s, y->s, x->len) == 0);
	}
	claims_free(&b.claims);
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct introspect_answer a;
	const char *reason = NULL;
	enum apt_rc rc = introspect_parse_response(data, size, &a, &reason);

	CHECK(reason != NULL);
	CHECK(a.http_status == 0 || (a.http_status >= 100 && a.http_status <= 999));
	CHECK(a.retry_after >= -1 && a.retry_after <= PROTO_RETRY_AFTER_MAX);
	if (rc == APT_OK) {
		CHECK(strcmp(reason, "ok") == 0);
		rewrite_and_compare(&a);
		claims_free(&a.claims);
	} else {
		CHECK(rc == APT_UNAVAIL && known_reason(reason));
		for (int i = 0; i < CLAIM_COUNT; i++)
			CHECK(a.claims.c[i].s == NULL);
	}
	return 0;
}
