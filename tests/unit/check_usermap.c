/*
 * Unit tests for lib/usermap.c and its use by the policy: the glob ('*' any
 * run, none included; '?' and every other byte literal), the file format
 * (comments, blanks, CRLF, two fields), first match wins, identities with
 * '@', ':', '/' and NUL bytes, parse errors that name file:line and never
 * the line, the digest of the bytes, loading through the config with the
 * file's safety rules, and policy_check() with a map: user_not_mapped in
 * place of user_mismatch.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "claims.h"
#include "config.h"
#include "policy.h"
#include "unit.h"
#include "usermap.h"

#define S(lit) lit, sizeof(lit) - 1

static bool glob(const char *p, const char *s)
{
	return usermap_glob(p, s, strlen(s));
}

START_TEST(test_glob)
{
	ck_assert(glob("ci-bot@example.org", "ci-bot@example.org"));
	ck_assert(!glob("ci-bot@example.org", "ci-bot@example.org2"));
	ck_assert(!glob("ci-bot@example.org", "ci-bot@example.or"));
	ck_assert(glob("*", ""));
	ck_assert(glob("*", "anything at all"));
	ck_assert(glob("*@example.org", "ci-bot@example.org"));
	ck_assert(glob("*@example.org", "@example.org"));
	ck_assert(!glob("*@example.org", "ci-bot@example.org.evil"));
	ck_assert(!glob("*@example.org", "ci-bot@evil-example.org"));
	ck_assert(glob("repo:org/*", "repo:org/app"));
	ck_assert(glob("repo:org/*", "repo:org/"));
	ck_assert(!glob("repo:org/*", "repo:orgx/app"));
	ck_assert(glob("a*b*c", "abc"));
	ck_assert(glob("a*b*c", "aXXbYYbZc"));
	ck_assert(!glob("a*b*c", "aXXbYYcZ"));
	ck_assert(glob("a**c", "ac"));
	ck_assert(glob("*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab"));
	ck_assert(!glob("*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	/* '?' is no wildcard: identities hold it rarely, and then they mean it. */
	ck_assert(glob("a?c", "a?c"));
	ck_assert(!glob("a?c", "abc"));
	ck_assert(!glob("", "a"));
	ck_assert(glob("", ""));
	/* Exact bytes: case counts. */
	ck_assert(!glob("CI-bot", "ci-bot"));
	/* A NUL in the subject is one byte like any other to the glob itself. */
	ck_assert(!usermap_glob("ab", S("a\0b")));
	ck_assert(usermap_glob("a*", S("a\0b")));
}
END_TEST

static struct usermap m;

static void parse_ok(const char *text)
{
	char err[512] = "";

	ck_assert_msg(usermap_parse(text, strlen(text), "map", &m, err, sizeof(err)) == APT_OK,
		      "%s", err);
}

START_TEST(test_first_match_wins)
{
	parse_ok("# platform users\n"
		 "\n"
		 "ci-bot@example.org   deploy\n"
		 "  repo:org/app\tapp   \r\n"
		 "*@example.org web\n"
		 "ci-bot2@example.org never\n"
		 "*   nobody-else");
	ck_assert_uint_eq(m.n, 5);
	ck_assert_str_eq(usermap_lookup(&m, S("ci-bot@example.org")), "deploy");
	ck_assert_str_eq(usermap_lookup(&m, S("repo:org/app")), "app");
	ck_assert_str_eq(usermap_lookup(&m, S("ci-bot2@example.org")), "web");
	ck_assert_str_eq(usermap_lookup(&m, S("someone")), "nobody-else");
	/* No byte of an identity with a NUL could have been written in the file. */
	ck_assert_ptr_null(usermap_lookup(&m, S("ci-bot@example.org\0x")));
	usermap_free(&m);

	parse_ok("alice alice\n");
	ck_assert_ptr_null(usermap_lookup(&m, S("bob")));
	ck_assert_ptr_null(usermap_lookup(&m, S("")));
	usermap_free(&m);

	/* Nothing but comments: a map that maps no one. */
	parse_ok("# empty\n\n");
	ck_assert_uint_eq(m.n, 0);
	ck_assert_ptr_null(usermap_lookup(&m, S("alice")));
	usermap_free(&m);
}
END_TEST

START_TEST(test_parse_errors)
{
	static const struct {
		const char *text, *where, *what;
	} cases[] = {
	    {"ucat_s3cr3tTokenValue\n", "map:1:", "want IDENTITY LOCAL_USER"},
	    {"# ok\nalice alice\nucat_s3cr3tTokenValue deploy extra\n",
	     "map:3:", "want IDENTITY LOCAL_USER"},
	    {"alice alice\n\n  ucat_s3cr3tTokenValue  \n", "map:3:", "want IDENTITY LOCAL_USER"},
	    /* '#' starts a comment only at the start of a line. */
	    {"ucat_s3cr3tTokenValue deploy # a note\n", "map:1:", "want IDENTITY LOCAL_USER"},
	    {"ucat_s3cr3tTokenValue de*ploy\n", "map:1:", "cannot hold '*'"},
	    {"ucat_s3cr3tTokenValue\x01 deploy\n", "map:1:", "control characters"},
	    {"ucat_s3cr3tTokenValue\x7f deploy\n", "map:1:", "control characters"},
	    {"ucat_s3cr3tTokenValue deploy\rx\n", "map:1:", "control characters"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[512] = "";
		const char *t = cases[i].text;

		ck_assert_msg(usermap_parse(t, strlen(t), "map", &m, err, sizeof(err)) ==
				  APT_SERVICE,
			      "case %zu", i);
		ck_assert_msg(strncmp(err, cases[i].where, strlen(cases[i].where)) == 0,
			      "case %zu: %s", i, err);
		ck_assert_msg(strstr(err, cases[i].what) != NULL, "case %zu: %s", i, err);
		ck_assert_msg(strstr(err, "s3cr3t") == NULL, "case %zu quotes the line: %s", i,
			      err);
		usermap_free(&m);
	}
}
END_TEST

START_TEST(test_digest_is_of_the_bytes)
{
	char d1[sizeof(m.digest)], d2[sizeof(m.digest)];

	parse_ok("a b\n");
	memcpy(d1, m.digest, sizeof(d1));
	usermap_free(&m);
	parse_ok("a b\n# an edit that maps the same\n");
	memcpy(d2, m.digest, sizeof(d2));
	usermap_free(&m);
	ck_assert_uint_eq(strlen(d1), 64);
	ck_assert_str_ne(d1, d2);
	/* SHA-256("a b\n") */
	ck_assert_str_eq(d1, "01186fcf04b4b447f393e552964c08c7b419c1ad7a25c342a0b631b1967d3a27");
}
END_TEST

/* The shipped example parses, and says what its comments say. */
START_TEST(test_example_file)
{
	struct buf b = BUF_INIT;
	char err[512] = "";

	unit_slurp("conf/user_map.example", &b);
	ck_assert_msg(usermap_parse((char *)b.p, b.len, "example", &m, err, sizeof(err)) == APT_OK,
		      "%s", err);
	ck_assert_uint_eq(m.n, 3);
	ck_assert_str_eq(usermap_lookup(&m, S("ci-bot@example.org")), "deploy");
	ck_assert_str_eq(usermap_lookup(&m, S("repo:example-org/app")), "git");
	ck_assert_str_eq(usermap_lookup(&m, S("jo@contractors.example.org")), "contractor");
	ck_assert_ptr_null(usermap_lookup(&m, S("jo@example.org")));
	usermap_free(&m);
	buf_free(&b);
}
END_TEST

/* ---- through the config and the policy -------------------------------- */

static struct apt_config cfg;
static struct claims cl;

/* config_load with user_map=PATH; the result, err filled. */
static enum apt_rc load(const char *map, char *err, size_t errlen)
{
	char arg[PATH_MAX + 16];
	const char *argv[] = {"introspection_url=https://idp.example/introspect", arg};

	snprintf(arg, sizeof(arg), "user_map=%s", map);
	config_free(&cfg);
	return config_load(&cfg, 2, argv, err, errlen);
}

static void user_claim(const char *s, size_t len)
{
	free(cl.c[CLAIM_USERNAME].s);
	memset(&cl.c[CLAIM_USERNAME], 0, sizeof(cl.c[CLAIM_USERNAME]));
	ck_assert_int_eq(claim_set_string(&cl.c[CLAIM_USERNAME], s, len), 0);
	cl.c[CLAIM_USERNAME].type = CLAIM_STRING;
}

static const char *decide(const char *user)
{
	const char *reason = NULL;
	enum apt_rc rc = policy_check(&cfg, &cl, user, NULL, 1700000000, &reason);

	ck_assert_int_eq(rc, strcmp(reason, "ok") == 0 ? APT_OK : APT_DENY);
	return reason;
}

START_TEST(test_policy_with_map)
{
	char path[PATH_MAX], err[512] = "";
	static const char map[] = "ci-bot@example.org deploy\n"
				  "repo:org/* app\n";

	memset(&cfg, 0, sizeof(cfg));
	memset(&cl, 0, sizeof(cl));
	unit_write(path, "map", map, sizeof(map) - 1, 0644);
	ck_assert_msg(load(path, err, sizeof(err)) == APT_OK, "%s", err);
	ck_assert_ptr_nonnull(cfg.usermap);
	ck_assert_uint_eq(cfg.usermap->n, 2);
	cl.c[CLAIM_ACTIVE].type = CLAIM_BOOL;
	cl.c[CLAIM_ACTIVE].n = 1;

	user_claim(S("ci-bot@example.org"));
	ck_assert_str_eq(decide("deploy"), "ok");
	ck_assert_str_eq(decide("app"), "user_not_mapped");
	/* The identity itself is no longer a local name it may use. */
	ck_assert_str_eq(decide("ci-bot@example.org"), "user_not_mapped");
	ck_assert_str_eq(decide("deploy2"), "user_not_mapped");
	ck_assert_str_eq(decide(NULL), "user_not_mapped");

	user_claim(S("repo:org/app"));
	ck_assert_str_eq(decide("app"), "ok");
	ck_assert_str_eq(decide("deploy"), "user_not_mapped");

	user_claim(S("stranger"));
	ck_assert_str_eq(decide("stranger"), "user_not_mapped");

	user_claim(S("ci-bot@example.org\0"));
	ck_assert_str_eq(decide("deploy"), "user_not_mapped");

	/* Not a string: maps to no one; absent: as without a map. */
	cl.c[CLAIM_USERNAME].type = CLAIM_INT;
	ck_assert_str_eq(decide("deploy"), "user_not_mapped");
	cl.c[CLAIM_USERNAME].type = CLAIM_ABSENT;
	ck_assert_str_eq(decide("deploy"), "username_missing");

	/* Without a map the old rule holds, reason and all. */
	config_free(&cfg);
	{
		const char *argv[] = {"introspection_url=https://idp.example/introspect"};
		ck_assert_int_eq(config_load(&cfg, 1, argv, err, sizeof(err)), APT_OK);
	}
	ck_assert_ptr_null(cfg.usermap);
	user_claim(S("ci-bot@example.org"));
	ck_assert_str_eq(decide("deploy"), "user_mismatch");
	ck_assert_str_eq(decide("ci-bot@example.org"), "ok");
	config_free(&cfg);
	claims_free(&cl);
}
END_TEST

START_TEST(test_load_errors)
{
	char path[PATH_MAX], err[512] = "";
	static const char bad[] = "alice alice\nucat_s3cr3tTokenValue\n";

	memset(&cfg, 0, sizeof(cfg));
	unit_write(path, "bad.map", bad, sizeof(bad) - 1, 0644);
	ck_assert_int_eq(load(path, err, sizeof(err)), APT_SERVICE);
	ck_assert_msg(strstr(err, path) != NULL && strstr(err, ":2: ") != NULL, "%s", err);
	ck_assert_ptr_null(strstr(err, "s3cr3t"));
	ck_assert_ptr_null(cfg.usermap);

	/* The config's rules: group-writable, missing, relative. */
	unit_write(path, "gw.map", "a b\n", 4, 0664);
	ck_assert_int_eq(load(path, err, sizeof(err)), APT_SERVICE);
	ck_assert_msg(strstr(err, "gw.map") != NULL, "%s", err);
	unit_path(path, sizeof(path), "absent.map");
	ck_assert_int_eq(load(path, err, sizeof(err)), APT_SERVICE);
	ck_assert_int_eq(load("relative.map", err, sizeof(err)), APT_SERVICE);
	ck_assert_msg(strstr(err, "absolute path") != NULL, "%s", err);
	config_free(&cfg);
}
END_TEST

static Suite *usermap_suite(void)
{
	Suite *s = suite_create("usermap");
	TCase *tc = tcase_create("usermap");

	tcase_add_test(tc, test_glob);
	tcase_add_test(tc, test_first_match_wins);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_digest_is_of_the_bytes);
	tcase_add_test(tc, test_example_file);
	tcase_add_test(tc, test_policy_with_map);
	tcase_add_test(tc, test_load_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	unit_tmpdir("check_usermap");
	return unit_run(usermap_suite());
}
