/*
 * Unit tests for lib/policy.c: policy_check() on claims built by hand and a
 * config from config_load(): active, exp/nbf with clock skew, the username
 * claim (exact bytes and type), required scopes, allowed client ids,
 * audience, issuer, and the IP range claim in its list and string forms
 * against numeric, v4-mapped, missing and non-numeric rhosts. Every outcome
 * is asserted with its reason word.
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

/* String literals with their exact length, embedded NULs included. */
#define S(lit) lit, sizeof(lit) - 1

#define NOW ((time_t)1700000000)

static char empty_conf[512];

static struct apt_config cfg;
static struct claims cl;

/* ---- claims by hand --------------------------------------------------- */

static void c_absent(enum claim_id id)
{
	free(cl.c[id].s);
	memset(&cl.c[id], 0, sizeof(cl.c[id]));
}

static void c_str(enum claim_id id, const char *s, size_t len)
{
	c_absent(id);
	ck_assert_int_eq(claim_set_string(&cl.c[id], s, len), 0);
	cl.c[id].type = CLAIM_STRING;
}

static void c_int(enum claim_id id, long long n)
{
	c_absent(id);
	cl.c[id].type = CLAIM_INT;
	cl.c[id].n = n;
}

static void c_bool(enum claim_id id, int b)
{
	c_absent(id);
	cl.c[id].type = CLAIM_BOOL;
	cl.c[id].n = b;
}

static void c_other(enum claim_id id)
{
	c_absent(id);
	cl.c[id].type = CLAIM_OTHER;
}

/* A LIST claim of the NULL-terminated items. */
static void c_list(enum claim_id id, const char *const *items)
{
	struct buf b = BUF_INIT;

	for (; *items != NULL; items++)
		ck_assert_int_eq(claim_list_add(&b, *items, strlen(*items)), 0);
	c_absent(id);
	ck_assert_int_eq(claim_set_string(&cl.c[id], b.p ? (char *)b.p : "", b.len), 0);
	cl.c[id].type = CLAIM_LIST;
	buf_free(&b);
}

/* A LIST claim holding exactly these netstring bytes (may be malformed). */
static void c_list_raw(enum claim_id id, const char *raw, size_t len)
{
	c_str(id, raw, len);
	cl.c[id].type = CLAIM_LIST;
}

/* ---- config ----------------------------------------------------------- */

/* (Re)loads cfg from config=<empty file> and the NULL-terminated args. */
static void load_cfg(const char *const *args)
{
	const char *argv[32];
	char cfgarg[600], err[512] = "";
	int argc = 0;
	enum apt_rc rc;

	config_free(&cfg);
	snprintf(cfgarg, sizeof(cfgarg), "config=%s", empty_conf);
	argv[argc++] = cfgarg;
	argv[argc++] = "introspection_url=https://idp.example/introspect";
	for (; *args != NULL; args++)
		argv[argc++] = *args;
	rc = config_load(&cfg, argc, argv, err, sizeof(err));
	ck_assert_msg(rc == APT_OK, "config: %s", err);
}

/* Every policy on, and claims that satisfy all of them for alice at 10.1.2.3. */
static void setup(void)
{
	static const char *const args[] = {"required_scopes=git rsync",
					   "allowed_client_ids=ci deploy", "audience=ssh",
					   "issuer=https://idp.example", NULL};

	memset(&cfg, 0, sizeof(cfg));
	memset(&cl, 0, sizeof(cl));
	load_cfg(args);
	c_bool(CLAIM_ACTIVE, 1);
	c_int(CLAIM_EXP, NOW + 3600);
	c_int(CLAIM_NBF, NOW - 60);
	c_str(CLAIM_USERNAME, S("alice"));
	c_str(CLAIM_SCOPE, S("openid git rsync"));
	c_str(CLAIM_CLIENT_ID, S("ci"));
	c_str(CLAIM_AUD, S("ssh"));
	c_str(CLAIM_ISS, S("https://idp.example"));
	c_list(CLAIM_IP_RANGES, (const char *[]){"10.0.0.0/8", "2001:db8::/32", NULL});
}

static void teardown(void)
{
	claims_free(&cl);
	config_free(&cfg);
}

/* ---- checking --------------------------------------------------------- */

static void expect_as(const char *user, const char *rhost, enum apt_rc want, const char *reason)
{
	const char *got = NULL;
	enum apt_rc rc = policy_check(&cfg, &cl, user, rhost, NOW, &got);

	ck_assert_msg(rc == want && got != NULL && strcmp(got, reason) == 0,
		      "user %s rhost %s: rc %d reason %s, want rc %d reason %s",
		      user ? user : "(null)", rhost ? rhost : "(null)", rc, got ? got : "(null)",
		      want, reason);
}

static void expect_ok(void)
{
	expect_as("alice", "10.1.2.3", APT_OK, "ok");
}

static void expect_deny(const char *reason)
{
	expect_as("alice", "10.1.2.3", APT_DENY, reason);
}

static void rhost_ok(const char *rhost)
{
	expect_as("alice", rhost, APT_OK, "ok");
}

static void rhost_deny(const char *rhost, const char *reason)
{
	expect_as("alice", rhost, APT_DENY, reason);
}

/* ---- tests ------------------------------------------------------------ */

START_TEST(test_all_match)
{
	expect_ok();
	rhost_ok("2001:db8::1");
}
END_TEST

START_TEST(test_minimal)
{
	/* No optional policy configured: active and the user are enough. */
	load_cfg((const char *[]){NULL});
	claims_free(&cl);
	c_bool(CLAIM_ACTIVE, 1);
	c_str(CLAIM_USERNAME, S("alice"));
	expect_ok();
	rhost_ok(NULL);
	rhost_ok("example.com");
}
END_TEST

START_TEST(test_active)
{
	c_bool(CLAIM_ACTIVE, 0);
	expect_deny("inactive");
	c_absent(CLAIM_ACTIVE);
	expect_deny("inactive");
	c_str(CLAIM_ACTIVE, S("true"));
	expect_deny("inactive");
	c_int(CLAIM_ACTIVE, 1);
	expect_deny("inactive");
	c_other(CLAIM_ACTIVE);
	expect_deny("inactive");
	c_list(CLAIM_ACTIVE, (const char *[]){"true", NULL});
	expect_deny("inactive");
	/* Inactive is reported whatever else is wrong. */
	c_bool(CLAIM_ACTIVE, 0);
	c_int(CLAIM_EXP, NOW - 3600);
	c_str(CLAIM_USERNAME, S("bob"));
	expect_deny("inactive");
	c_bool(CLAIM_ACTIVE, 1);
	expect_deny("expired");
}
END_TEST

START_TEST(test_exp)
{
	c_int(CLAIM_EXP, NOW - 31);
	expect_deny("expired");
	c_int(CLAIM_EXP, NOW - 3600);
	expect_deny("expired");
	c_int(CLAIM_EXP, NOW - 30);
	expect_deny("expired");
	c_int(CLAIM_EXP, NOW - 29); /* within the 30 s skew */
	expect_ok();
	c_int(CLAIM_EXP, NOW);
	expect_ok();
	c_int(CLAIM_EXP, 0);
	expect_deny("expired");
	c_int(CLAIM_EXP, -1);
	expect_deny("expired");
	c_absent(CLAIM_EXP); /* optional in RFC 7662 */
	expect_ok();
	c_str(CLAIM_EXP, S("9999999999"));
	expect_deny("bad_exp");
	c_bool(CLAIM_EXP, 1);
	expect_deny("bad_exp");
	c_other(CLAIM_EXP);
	expect_deny("bad_exp");
	c_list(CLAIM_EXP, (const char *[]){"9999999999", NULL});
	expect_deny("bad_exp");
}
END_TEST

START_TEST(test_exp_no_skew)
{
	load_cfg((const char *[]){"clock_skew=0", NULL});
	c_int(CLAIM_EXP, NOW);
	expect_deny("expired");
	c_int(CLAIM_EXP, NOW + 1);
	expect_ok();
	c_int(CLAIM_NBF, NOW + 1);
	expect_deny("not_yet_valid");
	c_int(CLAIM_NBF, NOW);
	expect_ok();
}
END_TEST

START_TEST(test_nbf)
{
	c_int(CLAIM_NBF, NOW + 31);
	expect_deny("not_yet_valid");
	c_int(CLAIM_NBF, NOW + 3600);
	expect_deny("not_yet_valid");
	c_int(CLAIM_NBF, NOW + 30); /* within the skew */
	expect_ok();
	c_int(CLAIM_NBF, NOW + 1);
	expect_ok();
	c_absent(CLAIM_NBF);
	expect_ok();
	c_str(CLAIM_NBF, S("0"));
	expect_deny("bad_nbf");
	c_other(CLAIM_NBF);
	expect_deny("bad_nbf");
	c_bool(CLAIM_NBF, 0);
	expect_deny("bad_nbf");
}
END_TEST

START_TEST(test_username)
{
	c_absent(CLAIM_USERNAME);
	expect_deny("username_missing");
	c_str(CLAIM_USERNAME, S("bob"));
	expect_deny("user_mismatch");
	c_str(CLAIM_USERNAME, S("alic"));
	expect_deny("user_mismatch");
	c_str(CLAIM_USERNAME, S("alice2"));
	expect_deny("user_mismatch");
	c_str(CLAIM_USERNAME, S("Alice"));
	expect_deny("user_mismatch");
	c_str(CLAIM_USERNAME, S("alice "));
	expect_deny("user_mismatch");
	c_str(CLAIM_USERNAME, S(""));
	expect_deny("user_mismatch");
	c_str(CLAIM_USERNAME, S("alice\0x")); /* len 7: not "alice" */
	ck_assert_uint_eq(cl.c[CLAIM_USERNAME].len, 7);
	expect_deny("user_mismatch");
	c_str(CLAIM_USERNAME, S("alice\0"));
	expect_deny("user_mismatch");
	c_list(CLAIM_USERNAME, (const char *[]){"alice", NULL});
	expect_deny("user_mismatch");
	c_other(CLAIM_USERNAME);
	expect_deny("user_mismatch");
	c_bool(CLAIM_USERNAME, 1);
	expect_deny("user_mismatch");

	/* A numeric user name claim never matches the account "1000". */
	c_int(CLAIM_USERNAME, 1000);
	expect_as("1000", "10.1.2.3", APT_DENY, "user_mismatch");
	c_str(CLAIM_USERNAME, S("1000"));
	expect_as("1000", "10.1.2.3", APT_OK, "ok");

	c_str(CLAIM_USERNAME, S("alice"));
	expect_as("bob", "10.1.2.3", APT_DENY, "user_mismatch");
	expect_as("alic", "10.1.2.3", APT_DENY, "user_mismatch");
	expect_as("alice2", "10.1.2.3", APT_DENY, "user_mismatch");
	expect_as(NULL, "10.1.2.3", APT_DENY, "user_mismatch");
	expect_ok();
}
END_TEST

START_TEST(test_scopes)
{
	c_str(CLAIM_SCOPE, S("git rsync"));
	expect_ok();
	c_str(CLAIM_SCOPE, S("rsync   openid git"));
	expect_ok();
	c_str(CLAIM_SCOPE, S("git"));
	expect_deny("scope_missing");
	c_str(CLAIM_SCOPE, S("rsync"));
	expect_deny("scope_missing");
	c_str(CLAIM_SCOPE, S(""));
	expect_deny("scope_missing");
	c_absent(CLAIM_SCOPE);
	expect_deny("scope_missing");
	/* Whole words only. */
	c_str(CLAIM_SCOPE, S("gitx rsync"));
	expect_deny("scope_missing");
	c_str(CLAIM_SCOPE, S("gi rsync"));
	expect_deny("scope_missing");
	c_str(CLAIM_SCOPE, S("git rsyncd"));
	expect_deny("scope_missing");
	c_str(CLAIM_SCOPE, S("GIT rsync"));
	expect_deny("scope_missing");
	c_str(CLAIM_SCOPE, S("git,rsync"));
	expect_deny("scope_missing");
	/* RFC 6749 §3.3: scope tokens are separated by U+0020 only. */
	c_str(CLAIM_SCOPE, S("git\trsync"));
	expect_deny("scope_missing");
	c_str(CLAIM_SCOPE, S("git rsync\t"));
	expect_deny("scope_missing");
	c_str(CLAIM_SCOPE, S("\tgit rsync"));
	expect_deny("scope_missing");
	c_str(CLAIM_SCOPE, S("git\nrsync"));
	expect_deny("scope_missing");
	c_str(CLAIM_SCOPE, S("git\rrsync"));
	expect_deny("scope_missing");
	c_str(CLAIM_SCOPE, S("git\vrsync"));
	expect_deny("scope_missing");
	c_str(CLAIM_SCOPE, S("a\tgit rsync"));
	expect_deny("scope_missing");
	c_str(CLAIM_SCOPE, S(" git  rsync "));
	expect_ok();
	c_str(CLAIM_SCOPE, S("a\tb git rsync"));
	expect_ok();
	/* ★2 an array of strings: each item one scope, whole (DESIGN.md §4 scope_claim). */
	c_list(CLAIM_SCOPE, (const char *[]){"git", "rsync", NULL});
	expect_ok();
	c_list(CLAIM_SCOPE, (const char *[]){"openid", "rsync", "x", "git", NULL});
	expect_ok();
	c_list(CLAIM_SCOPE, (const char *[]){"git", NULL});
	expect_deny("scope_missing");
	c_list(CLAIM_SCOPE, (const char *[]){NULL});
	expect_deny("scope_missing");
	/* An item is not split: "git rsync" is one scope, and so is "git\0". */
	c_list(CLAIM_SCOPE, (const char *[]){"git rsync", NULL});
	expect_deny("scope_missing");
	c_list(CLAIM_SCOPE, (const char *[]){"gitx", "rsync", "GIT", " git", NULL});
	expect_deny("scope_missing");
	c_list_raw(CLAIM_SCOPE, S("4:git\0,5:rsync,"));
	expect_deny("scope_missing");
	/* Anything else is never a scope. */
	c_int(CLAIM_SCOPE, 1);
	expect_deny("scope_missing");
	c_other(CLAIM_SCOPE);
	expect_deny("scope_missing");
	c_str(CLAIM_SCOPE, S("git rsync\0admin"));
	expect_deny("scope_missing");

	/* Without required_scopes the scope claim does not matter. */
	load_cfg((const char *[]){NULL});
	c_absent(CLAIM_SCOPE);
	expect_ok();
	c_int(CLAIM_SCOPE, 1);
	expect_ok();
}
END_TEST

START_TEST(test_client_ids)
{
	c_str(CLAIM_CLIENT_ID, S("deploy"));
	expect_ok();
	c_str(CLAIM_CLIENT_ID, S("other"));
	expect_deny("client_not_allowed");
	c_str(CLAIM_CLIENT_ID, S("c"));
	expect_deny("client_not_allowed");
	c_str(CLAIM_CLIENT_ID, S("cix"));
	expect_deny("client_not_allowed");
	c_str(CLAIM_CLIENT_ID, S("ci deploy"));
	expect_deny("client_not_allowed");
	c_str(CLAIM_CLIENT_ID, S(""));
	expect_deny("client_not_allowed");
	c_str(CLAIM_CLIENT_ID, S("ci\0"));
	expect_deny("client_not_allowed");
	c_absent(CLAIM_CLIENT_ID);
	expect_deny("client_not_allowed");
	c_list(CLAIM_CLIENT_ID, (const char *[]){"ci", NULL});
	expect_deny("client_not_allowed");
	c_int(CLAIM_CLIENT_ID, 7);
	expect_deny("client_not_allowed");

	load_cfg((const char *[]){NULL});
	c_str(CLAIM_CLIENT_ID, S("anyone"));
	expect_ok();
	c_absent(CLAIM_CLIENT_ID);
	expect_ok();
}
END_TEST

START_TEST(test_audience)
{
	c_str(CLAIM_AUD, S("ssh"));
	expect_ok();
	c_list(CLAIM_AUD, (const char *[]){"web", "ssh", NULL});
	expect_ok();
	c_list(CLAIM_AUD, (const char *[]){"ssh", NULL});
	expect_ok();
	c_list(CLAIM_AUD, (const char *[]){"web", "api", NULL});
	expect_deny("audience_mismatch");
	c_list(CLAIM_AUD, (const char *[]){"ssh2", "sh", NULL});
	expect_deny("audience_mismatch");
	c_list(CLAIM_AUD, (const char *[]){NULL});
	expect_deny("audience_mismatch");
	c_str(CLAIM_AUD, S("sshd"));
	expect_deny("audience_mismatch");
	c_str(CLAIM_AUD, S("web ssh"));
	expect_deny("audience_mismatch");
	c_str(CLAIM_AUD, S("ssh\0"));
	expect_deny("audience_mismatch");
	/* ★2 absent is told apart from wrong; present of another type is wrong. */
	c_absent(CLAIM_AUD);
	expect_deny("audience_missing");
	c_other(CLAIM_AUD);
	expect_deny("audience_mismatch");
	c_int(CLAIM_AUD, 0);
	expect_deny("audience_mismatch");

	load_cfg((const char *[]){NULL});
	c_absent(CLAIM_AUD);
	expect_ok();
}
END_TEST

START_TEST(test_issuer)
{
	c_str(CLAIM_ISS, S("https://idp.example/"));
	expect_deny("issuer_mismatch");
	c_str(CLAIM_ISS, S("https://idp.example.evil"));
	expect_deny("issuer_mismatch");
	c_str(CLAIM_ISS, S("https://IDP.example"));
	expect_deny("issuer_mismatch");
	c_absent(CLAIM_ISS);
	expect_deny("issuer_missing");
	c_other(CLAIM_ISS);
	expect_deny("issuer_mismatch");
	c_str(CLAIM_ISS, S(""));
	expect_deny("issuer_mismatch");
	c_list(CLAIM_ISS, (const char *[]){"https://idp.example", NULL});
	expect_deny("issuer_mismatch");
	c_int(CLAIM_ISS, 1);
	expect_deny("issuer_mismatch");
	c_str(CLAIM_ISS, S("https://idp.example"));
	expect_ok();

	load_cfg((const char *[]){NULL});
	c_str(CLAIM_ISS, S("https://other.example"));
	expect_ok();
}
END_TEST

START_TEST(test_ip_list)
{
	rhost_ok("10.1.2.3");
	rhost_ok("10.0.0.0");
	rhost_ok("10.255.255.255");
	rhost_deny("11.0.0.0", "ip_not_allowed");
	rhost_deny("192.0.2.1", "ip_not_allowed");
	rhost_deny("9.255.255.255", "ip_not_allowed");
	rhost_ok("2001:db8::1");
	rhost_ok("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
	rhost_deny("2001:db9::1", "ip_not_allowed");
	rhost_deny("::1", "ip_not_allowed");
	/* v4-mapped v6 is the v4 address. */
	rhost_ok("::ffff:10.1.2.3");
	rhost_ok("::FFFF:10.1.2.3");
	rhost_deny("::ffff:192.0.2.1", "ip_not_allowed");
	/* The range list is a v4 one, and the rhost mapped. */
	c_list(CLAIM_IP_RANGES, (const char *[]){"192.0.2.0/24", NULL});
	rhost_ok("::ffff:192.0.2.200");
	rhost_deny("10.1.2.3", "ip_not_allowed");
	/* Only v6 ranges: a v4 rhost is outside. */
	c_list(CLAIM_IP_RANGES, (const char *[]){"2001:db8::/32", NULL});
	rhost_deny("10.1.2.3", "ip_not_allowed");
	rhost_ok("2001:db8::2");
	/* A single host. */
	c_list(CLAIM_IP_RANGES, (const char *[]){"203.0.113.9", NULL});
	rhost_ok("203.0.113.9");
	rhost_deny("203.0.113.10", "ip_not_allowed");
	/* Everything. */
	c_list(CLAIM_IP_RANGES, (const char *[]){"0.0.0.0/0", "::/0", NULL});
	rhost_ok("198.51.100.1");
	rhost_ok("2001:db8::1");
}
END_TEST

START_TEST(test_ip_string)
{
	c_str(CLAIM_IP_RANGES, S("10.0.0.0/8 2001:db8::/32"));
	rhost_ok("10.1.2.3");
	rhost_ok("2001:db8::1");
	rhost_deny("192.0.2.1", "ip_not_allowed");
	c_str(CLAIM_IP_RANGES, S("10.0.0.0/8,2001:db8::/32"));
	rhost_ok("10.1.2.3");
	rhost_ok("2001:db8::1");
	rhost_deny("2001:db9::1", "ip_not_allowed");
	c_str(CLAIM_IP_RANGES, S("192.168.0.0/16, 10.0.0.0/8"));
	rhost_ok("10.1.2.3");
	rhost_ok("192.168.7.7");
	rhost_deny("172.16.0.1", "ip_not_allowed");
	c_str(CLAIM_IP_RANGES, S("  ,10.0.0.0/8,, "));
	rhost_ok("10.1.2.3");
	c_str(CLAIM_IP_RANGES, S("10.0.0.0/8"));
	rhost_ok("::ffff:10.1.2.3");
	rhost_deny("::ffff:11.1.2.3", "ip_not_allowed");
}
END_TEST

START_TEST(test_rhost_not_numeric)
{
	rhost_deny("example.com", "rhost_not_numeric");
	rhost_deny("localhost", "rhost_not_numeric");
	rhost_deny(NULL, "rhost_not_numeric");
	rhost_deny("", "rhost_not_numeric");
	rhost_deny("10.1.2.3 ", "rhost_not_numeric");
	rhost_deny(" 10.1.2.3", "rhost_not_numeric");
	rhost_deny("10.1.2.3/32", "rhost_not_numeric");
	rhost_deny("fe80::1%eth0", "rhost_not_numeric");
	rhost_deny("10.1.2", "rhost_not_numeric");
	rhost_deny("[2001:db8::1]", "rhost_not_numeric");
	/* The string form too. */
	c_str(CLAIM_IP_RANGES, S("10.0.0.0/8"));
	rhost_deny("example.com", "rhost_not_numeric");
	rhost_deny(NULL, "rhost_not_numeric");
	rhost_deny("", "rhost_not_numeric");
}
END_TEST

START_TEST(test_bad_ranges)
{
	/* One bad range spoils the claim, even when another one matches. */
	c_list(CLAIM_IP_RANGES, (const char *[]){"10.0.0.0/8", "banana", NULL});
	rhost_deny("10.1.2.3", "bad_ip_ranges");
	c_list(CLAIM_IP_RANGES, (const char *[]){"banana", "10.0.0.0/8", NULL});
	rhost_deny("10.1.2.3", "bad_ip_ranges");
	c_list(CLAIM_IP_RANGES, (const char *[]){"10.1.2.3/8", NULL}); /* host bits */
	rhost_deny("10.1.2.3", "bad_ip_ranges");
	c_list(CLAIM_IP_RANGES, (const char *[]){"10.0.0.0/33", NULL});
	rhost_deny("10.1.2.3", "bad_ip_ranges");
	c_list(CLAIM_IP_RANGES, (const char *[]){"", NULL});
	rhost_deny("10.1.2.3", "bad_ip_ranges");
	c_list(CLAIM_IP_RANGES, (const char *[]){"10.0.0.0/8 ", NULL});
	rhost_deny("10.1.2.3", "bad_ip_ranges");
	c_list(CLAIM_IP_RANGES, (const char *[]){"example.com", NULL});
	rhost_deny("10.1.2.3", "bad_ip_ranges");
	c_list(CLAIM_IP_RANGES, (const char *[]){NULL}); /* empty list */
	rhost_deny("10.1.2.3", "bad_ip_ranges");
	/* Netstrings that stop short of the end. */
	c_list_raw(CLAIM_IP_RANGES, S("10:10.0.0.0/8,zz"));
	rhost_deny("10.1.2.3", "bad_ip_ranges");
	c_list_raw(CLAIM_IP_RANGES, S("10:10.0.0.0/8"));
	rhost_deny("10.1.2.3", "bad_ip_ranges");
	/* String form. */
	c_str(CLAIM_IP_RANGES, S("10.0.0.0/8 300.0.0.0/8"));
	rhost_deny("10.1.2.3", "bad_ip_ranges");
	c_str(CLAIM_IP_RANGES, S("10.0.0.0/8;192.0.2.0/24"));
	rhost_deny("10.1.2.3", "bad_ip_ranges");
	c_str(CLAIM_IP_RANGES, S("10.0.0.0/8\t192.0.2.0/24"));
	rhost_deny("10.1.2.3", "bad_ip_ranges");
	c_str(CLAIM_IP_RANGES, S("10.0.0.0/8\0"));
	rhost_deny("10.1.2.3", "bad_ip_ranges");
	c_str(CLAIM_IP_RANGES, S(""));
	rhost_deny("10.1.2.3", "bad_ip_ranges");
	c_str(CLAIM_IP_RANGES, S(" , ,"));
	rhost_deny("10.1.2.3", "bad_ip_ranges");
	/* Other types. */
	c_other(CLAIM_IP_RANGES);
	rhost_deny("10.1.2.3", "bad_ip_ranges");
	c_int(CLAIM_IP_RANGES, 10);
	rhost_deny("10.1.2.3", "bad_ip_ranges");
	c_bool(CLAIM_IP_RANGES, 1);
	rhost_deny("10.1.2.3", "bad_ip_ranges");
}
END_TEST

START_TEST(test_require_ip_ranges)
{
	/* Without the claim and require_ip_ranges = no: no IP check at all. */
	c_absent(CLAIM_IP_RANGES);
	expect_ok();
	rhost_ok("192.0.2.1");
	rhost_ok("example.com");
	rhost_ok(NULL);

	load_cfg((const char *[]){"require_ip_ranges=yes", NULL});
	c_absent(CLAIM_IP_RANGES);
	rhost_deny("10.1.2.3", "ip_ranges_missing");
	rhost_deny(NULL, "ip_ranges_missing");
	c_list(CLAIM_IP_RANGES, (const char *[]){"10.0.0.0/8", NULL});
	expect_ok();
	rhost_deny("192.0.2.1", "ip_not_allowed");
}
END_TEST

/*
 * ★2 a refresh token is never a login, whatever case the issuer spells it
 * in (glewlwyd answers active for one asked about without a hint).
 */
START_TEST(test_token_type)
{
	static const char *const refused[] = {"refresh_token", "REFRESH_TOKEN", "Refresh_Token",
					      "rEfReSh_ToKeN"};
	static const char *const allowed[] = {"access_token",  "Bearer",	 "",
					      "refresh",       "refresh_token ", " refresh_token",
					      "refresh-token", "refresh_tokens"};

	c_absent(CLAIM_TOKEN_TYPE);
	expect_ok();
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		c_str(CLAIM_TOKEN_TYPE, refused[i], strlen(refused[i]));
		expect_deny("token_type");
	}
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		c_str(CLAIM_TOKEN_TYPE, allowed[i], strlen(allowed[i]));
		expect_ok();
	}
	/* Not a string: not a type we can tell from a refresh token's. */
	c_list(CLAIM_TOKEN_TYPE, (const char *[]){"access_token", NULL});
	expect_deny("token_type");
	c_int(CLAIM_TOKEN_TYPE, 1);
	expect_deny("token_type");
	c_other(CLAIM_TOKEN_TYPE);
	expect_deny("token_type");
	c_str(CLAIM_TOKEN_TYPE, S("refresh_token\0"));
	expect_ok(); /* 14 bytes: not the word, and never compared past its length */
	/* Checked before everything but active: no other reason hides it. */
	c_str(CLAIM_TOKEN_TYPE, S("refresh_token"));
	c_absent(CLAIM_USERNAME);
	c_absent(CLAIM_SCOPE);
	expect_deny("token_type");
	c_bool(CLAIM_ACTIVE, 0);
	expect_deny("inactive");
	/* Without any policy key set, too. */
	load_cfg((const char *[]){NULL});
	c_bool(CLAIM_ACTIVE, 1);
	c_str(CLAIM_USERNAME, S("alice"));
	expect_deny("token_type");
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc;

	tc = tcase_create("basics");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_all_match);
	tcase_add_test(tc, test_minimal);
	tcase_add_test(tc, test_active);
	tcase_add_test(tc, test_token_type);
	suite_add_tcase(s, tc);

	tc = tcase_create("time");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_exp);
	tcase_add_test(tc, test_exp_no_skew);
	tcase_add_test(tc, test_nbf);
	suite_add_tcase(s, tc);

	tc = tcase_create("identity");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_username);
	tcase_add_test(tc, test_scopes);
	tcase_add_test(tc, test_client_ids);
	tcase_add_test(tc, test_audience);
	tcase_add_test(tc, test_issuer);
	suite_add_tcase(s, tc);

	tc = tcase_create("ip_ranges");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ip_list);
	tcase_add_test(tc, test_ip_string);
	tcase_add_test(tc, test_rhost_not_numeric);
	tcase_add_test(tc, test_bad_ranges);
	tcase_add_test(tc, test_require_ip_ranges);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	unit_tmpdir("check_policy");
	unit_empty_file(empty_conf, sizeof(empty_conf), "empty.conf", 0644);
	return unit_run(policy_suite());
}
