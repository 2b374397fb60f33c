/*
 * libFuzzer harness for the whole answer path of a login: the helper's
 * JSON -> claims (introspect_respond_claims, helper/cmd_introspect.c), the
 * module's reader of that response (introspect_parse_response) and the
 * decision (policy_check, lib/policy.c).
 *
 * Input: a flags byte (which policy keys are set, which claim names), the
 * PAM user, NUL, PAM_RHOST, NUL, then the issuer's JSON body.
 *
 * Oracles: whatever the helper answers "ok" the module reads (parse
 * succeeds), and each claim it reads has the type and value the JSON had;
 * an error word is bad_json or internal and its error response reads as
 * that reason; and policy_check never allows unless "active" is JSON true
 * and the username claim is a JSON string equal to the user, and never
 * unless every configured check holds on the JSON itself: exp and nbf
 * around now, the scope word (in the string or the array), a token_type
 * that is no refresh token's, the client id, the audience (string or
 * array), the issuer, and a numeric rhost when ranges are given.
 */
#include <math.h>
#include <strings.h>

#include <jansson.h>

#include "commands.h"
#include "introspect.h"
#include "oracle.h"
#include "policy.h"
#include "proto.h"

#define NOW 1700000000

/* The claim the module read is the JSON value the helper was given. */
static void same_value(json_t *v, const struct claim *c)
{
	if (v == NULL) {
		CHECK(c->type == CLAIM_ABSENT);
	} else if (json_is_string(v)) {
		CHECK(c->type == CLAIM_STRING && c->len == json_string_length(v) &&
		      memcmp(c->s, json_string_value(v), c->len) == 0);
	} else if (json_is_boolean(v)) {
		CHECK(c->type == CLAIM_BOOL && c->n == json_is_true(v));
	} else if (json_is_integer(v)) {
		CHECK(c->type == CLAIM_INT && c->n == json_integer_value(v));
	} else if (json_is_real(v)) {
		CHECK(c->type == CLAIM_OTHER ||
		      (c->type == CLAIM_INT && (double)c->n == json_real_value(v)));
	} else if (json_is_array(v)) {
		size_t pos = 0, len, i = 0;
		const char *item;

		if (c->type == CLAIM_OTHER)
			return; /* a non-string item: checked by the helper, not repeated here */
		CHECK(c->type == CLAIM_LIST);
		while (claim_list_next(c, &pos, &item, &len)) {
			json_t *e = json_array_get(v, i++);
			CHECK(json_is_string(e) && json_string_length(e) == len &&
			      memcmp(json_string_value(e), item, len) == 0);
		}
		CHECK(pos == c->len && i == json_array_size(v));
	} else {
		CHECK(c->type == CLAIM_OTHER);
	}
}

static bool is_string(json_t *v, const char *want)
{
	return json_is_string(v) && json_string_length(v) == strlen(want) &&
	       memcmp(json_string_value(v), want, strlen(want)) == 0;
}

static bool in_array(json_t *v, const char *want)
{
	for (size_t i = 0; i < json_array_size(v); i++)
		if (is_string(json_array_get(v, i), want))
			return true;
	return false;
}

/* want is one of the space- or tab-separated words of the JSON string v (no NUL in it). */
static bool has_word(json_t *v, const char *want)
{
	const char *s = json_string_value(v);
	size_t n = strlen(want);

	if (!json_is_string(v) || strlen(s) != json_string_length(v))
		return false;
	for (const char *p = s; (p = strstr(p, want)) != NULL; p++)
		if ((p == s || p[-1] == ' ' || p[-1] == '\t') &&
		    (p[n] == '\0' || p[n] == ' ' || p[n] == '\t'))
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const user_claims[] = {"username", "sub", "scope", "active"};
	struct apt_config cfg = {0};
	struct introspect_answer ans;
	struct buf body = BUF_INIT, out = BUF_INIT;
	const char *reason, *fail, *names[CLAIM_COUNT];
	const uint8_t *p = data + 1;
	size_t left = size - 1;
	char *user, *rhost;
	json_error_t jerr;
	json_t *root;
	uint8_t flags;

	if (size < 1)
		return 0;
	flags = data[0];
	user = next_part(&p, &left);
	rhost = next_part(&p, &left);
	buf_append(&body, p, left);

	for (int i = 0; i < CLAIM_COUNT; i++)
		names[i] = claim_names[i];
	names[CLAIM_USERNAME] = user_claims[(flags >> 4) & 3];
	names[CLAIM_IP_RANGES] = flags & 0x40 ? "ip" : "allowed_ip_ranges";

	fail = introspect_respond_claims(&out, &body, names[CLAIM_USERNAME], names[CLAIM_IP_RANGES],
					 names[CLAIM_SCOPE]);
	root = json_loadb(body.p ? (const char *)body.p : "", body.len,
			  JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (fail != NULL) {
		CHECK(strcmp(fail, "bad_json") == 0 || strcmp(fail, "internal") == 0);
		CHECK(strcmp(fail, "internal") == 0 || root == NULL || !json_is_object(root));
		buf_free(&out);
		introspect_respond_error(&out, fail, 200, -1);
		CHECK(introspect_parse_response(out.p, out.len, &ans, &reason) == APT_UNAVAIL);
		CHECK(strcmp(reason, fail) == 0 && ans.http_status == 200);
		goto done;
	}
	CHECK(json_is_object(root));
	CHECK(introspect_parse_response(out.p, out.len, &ans, &reason) == APT_OK);
	CHECK(ans.http_status == 200 && ans.retry_after == -1);
	for (int i = 0; i < CLAIM_COUNT; i++)
		same_value(json_object_get(root, names[i]), &ans.claims.c[i]);

	cfg.username_claim = (char *)names[CLAIM_USERNAME];
	cfg.ip_ranges_claim = (char *)names[CLAIM_IP_RANGES];
	cfg.scope_claim = (char *)names[CLAIM_SCOPE];
	cfg.required_scopes = flags & 1 ? "read" : NULL;
	cfg.audience = flags & 2 ? "api" : NULL;
	cfg.issuer = flags & 4 ? "https://idp.example" : NULL;
	cfg.require_ip_ranges = flags & 8;
	cfg.allowed_client_ids = flags & 0x80 ? "deploy ci" : NULL;
	cfg.clock_skew = 30;
	if (policy_check(&cfg, &ans.claims, user, rhost[0] ? rhost : NULL, NOW, &reason) ==
	    APT_OK) {
		json_t *u = json_object_get(root, names[CLAIM_USERNAME]);
		json_t *exp = json_object_get(root, "exp"), *nbf = json_object_get(root, "nbf");

		CHECK(strcmp(reason, "ok") == 0);
		CHECK(json_is_true(json_object_get(root, "active")));
		CHECK(json_is_string(u) && json_string_length(u) == strlen(user) &&
		      memcmp(json_string_value(u), user, strlen(user)) == 0);
		CHECK(exp == NULL || (json_is_integer(exp) && json_integer_value(exp) > NOW - 30) ||
		      (json_is_real(exp) && json_real_value(exp) > NOW - 30));
		CHECK(!cfg.require_ip_ranges || json_object_get(root, names[CLAIM_IP_RANGES]));
		CHECK(nbf == NULL ||
		      (json_is_integer(nbf) && json_integer_value(nbf) <= NOW + 30) ||
		      (json_is_real(nbf) && json_real_value(nbf) <= NOW + 30));
		CHECK(!cfg.required_scopes || has_word(json_object_get(root, "scope"), "read") ||
		      in_array(json_object_get(root, "scope"), "read"));
		CHECK(json_object_get(root, "token_type") == NULL ||
		      (json_is_string(json_object_get(root, "token_type")) &&
		       !(json_string_length(json_object_get(root, "token_type")) == 13 &&
			 strncasecmp(json_string_value(json_object_get(root, "token_type")),
				     "refresh_token", 13) == 0)));
		CHECK(!cfg.allowed_client_ids ||
		      is_string(json_object_get(root, "client_id"), "deploy") ||
		      is_string(json_object_get(root, "client_id"), "ci"));
		CHECK(!cfg.audience || is_string(json_object_get(root, "aud"), "api") ||
		      in_array(json_object_get(root, "aud"), "api"));
		CHECK(!cfg.issuer || is_string(json_object_get(root, "iss"), cfg.issuer));
		CHECK(json_object_get(root, names[CLAIM_IP_RANGES]) == NULL ||
		      (rhost[0] != '\0' &&
		       strspn(rhost, "0123456789abcdefABCDEF.:") == strlen(rhost)));
	}
	claims_free(&ans.claims);
done:
	json_decref(root);
	buf_free(&body);
	buf_free(&out);
	free(user);
	free(rhost);
	return 0;
}
