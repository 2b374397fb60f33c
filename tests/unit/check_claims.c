/*
 * Unit tests for the claim paths (DESIGN.md §4 ★2): claim_path_valid
 * (lib/claims.c), and the helper's walk of a dot path through the issuer's
 * JSON (introspect_respond_claims, helper/cmd_introspect.c), read back as
 * the module reads it (introspect_parse_response). A path through anything
 * but an object is absent; the value found is sent under the claim's own
 * name with its JSON type.
 */
#include <check.h>
#include <string.h>

#include "claims.h"
#include "commands.h"
#include "introspect.h"
#include "unit.h"

/* The claims the module reads for body, username/ip_ranges/scope at these paths. */
static void answer(const char *body, const char *user, const char *ranges, const char *scope,
		   struct claims *cl)
{
	struct buf in = BUF_INIT, out = BUF_INIT;
	struct introspect_answer ans;
	const char *fail, *reason;

	ck_assert_int_eq(buf_append(&in, body, strlen(body)), 0);
	fail = introspect_respond_claims(&out, &in, user, ranges, scope);
	ck_assert_msg(fail == NULL, "%s: %s", body, fail ? fail : "");
	ck_assert_int_eq(introspect_parse_response(out.p, out.len, &ans, &reason), APT_OK);
	*cl = ans.claims;
	buf_free(&in);
	buf_free(&out);
}

static void expect_string(const struct claim *c, const char *want)
{
	ck_assert_int_eq(c->type, CLAIM_STRING);
	ck_assert_uint_eq(c->len, strlen(want));
	ck_assert_mem_eq(c->s, want, c->len);
}

START_TEST(test_path_valid)
{
	static const char *const good[] = {"a",	      "username",    "account.username", "a.b.c",
					   "a-b.c_d", "https://x/y", " a . b "};
	static const char *const bad[] = {"",	".",	"..",	"a..b", ".a",
					  "a.", ".a.b", "a.b.", "a...b"};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(claim_path_valid(good[i]), "%s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!claim_path_valid(bad[i]), "%s", bad[i]);
}
END_TEST

START_TEST(test_nested_username)
{
	struct claims cl;

	answer("{\"active\":true,\"account\":{\"username\":\"alice\",\"id\":7}}",
	       "account.username", "allowed_ip_ranges", "scope", &cl);
	ck_assert_int_eq(cl.c[CLAIM_ACTIVE].type, CLAIM_BOOL);
	expect_string(&cl.c[CLAIM_USERNAME], "alice");
	claims_free(&cl);

	/* Three levels; the type of what is found is kept. */
	answer("{\"a\":{\"b\":{\"c\":42}}}", "a.b.c", "x", "scope", &cl);
	ck_assert_int_eq(cl.c[CLAIM_USERNAME].type, CLAIM_INT);
	ck_assert_int_eq(cl.c[CLAIM_USERNAME].n, 42);
	claims_free(&cl);

	/* An object at the end of the path is there, and not a string. */
	answer("{\"a\":{\"b\":{\"c\":1}}}", "a.b", "x", "scope", &cl);
	ck_assert_int_eq(cl.c[CLAIM_USERNAME].type, CLAIM_OTHER);
	claims_free(&cl);
}
END_TEST

/* Through a non-object, or to a member that is not there: absent. */
START_TEST(test_path_absent)
{
	static const char *const bodies[] = {
	    "{\"account\":\"alice\"}",
	    "{\"account\":[{\"username\":\"alice\"}]}",
	    "{\"account\":null}",
	    "{\"account\":7}",
	    "{\"account\":true}",
	    "{\"account\":{}}",
	    "{\"account\":{\"user\":\"alice\"}}",
	    "{\"account.username\":\"alice\"}", /* a literal dotted member is not the path */
	    "{\"username\":\"alice\"}",
	    "{\"account\":{\"account\":{\"username\":\"alice\"}}}",
	};
	struct claims cl;

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		answer(bodies[i], "account.username", "r", "s", &cl);
		ck_assert_msg(cl.c[CLAIM_USERNAME].type == CLAIM_ABSENT, "%s", bodies[i]);
		claims_free(&cl);
	}
}
END_TEST

/* Segments are whole member names, byte for byte. */
START_TEST(test_path_exact_members)
{
	struct claims cl;

	answer("{\"ac\":{\"count\":\"x\"},\"Account\":{\"username\":\"y\"},"
	       "\"account\":{\"username \":\"z\",\"usernam\":\"w\"}}",
	       "account.username", "r", "s", &cl);
	ck_assert_int_eq(cl.c[CLAIM_USERNAME].type, CLAIM_ABSENT);
	claims_free(&cl);
}
END_TEST

/* scope_claim and ip_ranges_claim are walked the same way, each to its own claim. */
START_TEST(test_scope_and_ranges_paths)
{
	struct claims cl;
	const char *item;
	size_t pos = 0, len;

	answer("{\"username\":\"alice\",\"scope\":\"top\","
	       "\"authz\":{\"scopes\":[\"read\",\"ssh\"],\"nets\":[\"10.0.0.0/8\"]}}",
	       "username", "authz.nets", "authz.scopes", &cl);
	ck_assert_int_eq(cl.c[CLAIM_SCOPE].type, CLAIM_LIST);
	ck_assert(claim_list_next(&cl.c[CLAIM_SCOPE], &pos, &item, &len));
	ck_assert_mem_eq(item, "read", len);
	ck_assert(claim_list_next(&cl.c[CLAIM_SCOPE], &pos, &item, &len));
	ck_assert_mem_eq(item, "ssh", len);
	ck_assert(!claim_list_next(&cl.c[CLAIM_SCOPE], &pos, &item, &len));
	ck_assert_int_eq(cl.c[CLAIM_IP_RANGES].type, CLAIM_LIST);
	expect_string(&cl.c[CLAIM_USERNAME], "alice");
	claims_free(&cl);

	/* The default "scope" is the top-level member, as before. */
	answer("{\"scope\":\"read ssh\",\"authz\":{\"scopes\":[\"x\"]}}", "username",
	       "allowed_ip_ranges", "scope", &cl);
	expect_string(&cl.c[CLAIM_SCOPE], "read ssh");
	ck_assert_int_eq(cl.c[CLAIM_IP_RANGES].type, CLAIM_ABSENT);
	claims_free(&cl);
}
END_TEST

/* token_type travels as a claim of its own, at its RFC 7662 name. */
START_TEST(test_token_type_claim)
{
	struct claims cl;

	answer("{\"active\":true,\"token_type\":\"refresh_token\"}", "username", "r", "s", &cl);
	expect_string(&cl.c[CLAIM_TOKEN_TYPE], "refresh_token");
	claims_free(&cl);
	answer("{\"active\":true}", "username", "r", "s", &cl);
	ck_assert_int_eq(cl.c[CLAIM_TOKEN_TYPE].type, CLAIM_ABSENT);
	claims_free(&cl);
}
END_TEST

static Suite *claims_suite(void)
{
	Suite *s = suite_create("claims");
	TCase *tc = tcase_create("paths");

	tcase_add_test(tc, test_path_valid);
	tcase_add_test(tc, test_nested_username);
	tcase_add_test(tc, test_path_absent);
	tcase_add_test(tc, test_path_exact_members);
	tcase_add_test(tc, test_scope_and_ranges_paths);
	tcase_add_test(tc, test_token_type_claim);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(claims_suite());
}
