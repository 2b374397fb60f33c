/*
 * Allocation failures over a whole login, as pam-u2f tests them: this
 * binary is linked with -Wl,--wrap=malloc,calloc,realloc,strdup,strndup,free
 * (Makefile), so every allocation the core makes goes through the wrappers
 * below. For N = 1, 2, ... the Nth allocation fails, and a full login
 * (config_load, then auth_token: local checks, cache, the real helper, the
 * policy) is run against the fault server. Whatever N, the outcome must be
 * out of memory or a refusal, never a crash, never a leak, and never a
 * "yes" for a token that does not grant the login; a good token may still
 * get in when the failure was in something it does not need (a cache
 * write), which is counted.
 */
#include <check.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "config.h"
#include "testenv.h"
#include "unit.h"

/* --- the wrappers --------------------------------------------------------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
void __wrap_free(void *p);

#define LIVE_MAX 65536

static bool armed;
static long calls, fail_at;
static void *live[LIVE_MAX]; /* what was allocated while armed and is not freed yet */
static size_t nlive;

/* True when this allocation is the one to fail. */
static bool fail_now(void)
{
	return armed && ++calls == fail_at;
}

static void track(void *p)
{
	if (armed && p != NULL && nlive < LIVE_MAX)
		live[nlive++] = p;
}

static void untrack(const void *p)
{
	for (size_t i = nlive; i-- > 0;)
		if (live[i] == p) {
			live[i] = live[--nlive];
			return;
		}
}

void *__wrap_malloc(size_t n)
{
	void *p = fail_now() ? NULL : __real_malloc(n);
	track(p);
	return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
	void *p = fail_now() ? NULL : __real_calloc(n, size);
	track(p);
	return p;
}

void *__wrap_realloc(void *old, size_t n)
{
	void *p;

	if (fail_now())
		return NULL; /* old stays valid, as realloc leaves it */
	p = __real_realloc(old, n);
	if (p != NULL && old != NULL)
		untrack(old);
	track(p);
	return p;
}

char *__wrap_strdup(const char *s)
{
	char *p = fail_now() ? NULL : __real_strdup(s);
	track(p);
	return p;
}

char *__wrap_strndup(const char *s, size_t n)
{
	char *p = fail_now() ? NULL : __real_strndup(s, n);
	track(p);
	return p;
}

/* A string no freed block may hold: what the code read must be wiped before free. */
static const char *watch;
static long watch_hits;

void __wrap_free(void *p)
{
	if (p != NULL)
		untrack(p);
	if (p != NULL && watch != NULL && memmem(p, malloc_usable_size(p), watch, strlen(watch)))
		watch_hits++;
	__real_free(p);
}

/* --- the logins ----------------------------------------------------------- */

static struct server fault;

struct tally {
	long runs, nomem, allowed, refused, unavailable, service;
};

/* One login with the Nth allocation failing (0: none); its result. */
static enum apt_rc login(const char *config_arg, const char *user, const char *token, long n)
{
	const char *argv[] = {config_arg};
	struct apt_config cfg;
	struct auth_outcome o;
	char err[512];
	enum apt_rc rc;

	calls = 0;
	fail_at = n;
	nlive = 0;
	armed = true;
	rc = config_load(&cfg, 1, argv, err, sizeof(err));
	if (rc == APT_OK) {
		auth_token(&cfg, user, "192.0.2.7", token, strlen(token), &o);
		rc = o.rc;
	}
	config_free(&cfg);
	armed = false;
	ck_assert_msg(nlive == 0, "allocation %ld failing: %zu allocations never freed", n, nlive);
	return rc;
}

/* A cold cache for the next login: every entry and the host key gone. */
static void remove_cache(void)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/cache'", T.root);
	ck_assert_int_eq(system(cmd), 0);
}

/*
 * Fails every allocation in turn, until a run makes fewer allocations than
 * the one to fail. good: whether the token grants the login at all;
 * flush: start each login with a cold cache (else the first one warms it).
 */
static struct tally sweep(const char *conf, const char *user, const char *token, bool good,
			  bool flush)
{
	char arg[700];
	struct tally t = {0};

	make_service(conf, NULL);
	snprintf(arg, sizeof(arg), "config=%s/apt.conf", T.root);
	/* Without failures: the expected answer, and a warm cache when asked for. */
	ck_assert_int_eq(login(arg, user, token, 0), good ? APT_OK : APT_DENY);
	for (long n = 1;; n++) {
		enum apt_rc rc;

		if (flush)
			remove_cache();
		rc = login(arg, user, token, n);
		t.runs++;
		if (calls < n)
			break; /* nothing failed: every allocation has had its turn */
		switch (rc) {
		case APT_OK:
			ck_assert_msg(good, "allocation %ld failing let a bad token in", n);
			t.allowed++;
			break;
		case APT_NOMEM:
			t.nomem++;
			break;
		case APT_DENY:
			t.refused++;
			break;
		case APT_UNAVAIL:
			t.unavailable++;
			break;
		case APT_SERVICE:
			t.service++;
			break;
		}
		/* Out of memory is PAM_BUF_ERR, not "issuer down" or "bad config". */
		ck_assert_msg(rc != APT_UNAVAIL && rc != APT_SERVICE,
			      "allocation %ld failing gave rc %d, not APT_NOMEM or a refusal", n,
			      rc);
	}
	fprintf(stderr,
		"nomem %s%s: %ld allocations failed in turn: %ld out of memory, %ld refused, "
		"%ld unavailable, %ld config, %ld allowed\n",
		good ? "good token" : "bad token", flush ? ", cold cache" : "", t.runs - 1, t.nomem,
		t.refused, t.unavailable, t.service, t.allowed);
	return t;
}

static char *answer(const char *json)
{
	return fault_json_url(&fault, json, strlen(json));
}

static const char *conf_for(const char *url, bool cache)
{
	static char conf[2048];

	snprintf(conf, sizeof(conf),
		 "introspection_url = %s\ntoken_prefixes = ucat_\nrequired_scopes = ssh\n"
		 "cache = %s\n",
		 url, cache ? "yes" : "no");
	return conf;
}

START_TEST(good_token_without_cache)
{
	char json[256], *url;
	struct tally t;

	snprintf(json, sizeof(json),
		 "{\"active\":true,\"username\":\"alice\",\"scope\":\"ssh git\",\"exp\":%lld}",
		 (long long)time(NULL) + 3600);
	url = answer(json);
	t = sweep(conf_for(url, false), "alice", "ucat_goodtoken", true, false);
	/* Without a cache every allocation is on the way to the answer. */
	ck_assert_int_eq(t.allowed, 0);
	ck_assert_int_gt(t.nomem, 0);
	free(url);
}
END_TEST

START_TEST(good_token_with_cache)
{
	char json[256], *url;

	snprintf(json, sizeof(json),
		 "{\"active\":true,\"username\":\"alice\",\"scope\":\"ssh\",\"exp\":%lld}",
		 (long long)time(NULL) + 3600);
	url = answer(json);
	/* Each login a miss that writes the entry; then each one a hit. */
	sweep(conf_for(url, true), "alice", "ucat_cachedtoken", true, true);
	sweep(conf_for(url, true), "alice", "ucat_cachedtoken", true, false);
	free(url);
}
END_TEST

START_TEST(bad_tokens_never_get_in)
{
	char json[256], *url;

	url = answer("{\"active\":false}");
	sweep(conf_for(url, false), "alice", "ucat_inactive", false, false);
	sweep(conf_for(url, true), "alice", "ucat_inactive", false, true);
	sweep(conf_for(url, true), "alice", "ucat_inactive", false, false);
	free(url);
	snprintf(json, sizeof(json),
		 "{\"active\":true,\"username\":\"bob\",\"scope\":\"ssh\",\"exp\":%lld}",
		 (long long)time(NULL) + 3600);
	url = answer(json);
	sweep(conf_for(url, true), "alice", "ucat_bobs", false, false);
	free(url);
	snprintf(json, sizeof(json),
		 "{\"active\":true,\"username\":\"alice\",\"scope\":\"git\",\"exp\":%lld}",
		 (long long)time(NULL) + 3600);
	url = answer(json);
	sweep(conf_for(url, false), "alice", "ucat_noscope", false, false);
	free(url);
}
END_TEST

/*
 * A token pasted into the config file, on any line, is wiped with the rest
 * of the text the reader read, not only up to the first line's end.
 */
START_TEST(config_text_wiped_before_free)
{
	char arg[700], err[512];
	const char *argv[] = {arg};
	struct apt_config cfg;

	write_file("wipe.conf", 0644,
		   "introspection_url = https://issuer.example/x\n"
		   "# ucat_pastedTokenWipeMe0123\n"
		   "cache = no\n");
	snprintf(arg, sizeof(arg), "config=%s/wipe.conf", T.root);
	watch = "pastedTokenWipeMe";
	watch_hits = 0;
	ck_assert_int_eq(config_load(&cfg, 1, argv, err, sizeof(err)), APT_OK);
	config_free(&cfg);
	watch = NULL;
	ck_assert_msg(watch_hits == 0, "%ld freed blocks still held the token\n", watch_hits);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("nomem");
	TCase *tc = tcase_create("login");

	testenv_servers(NULL, &fault);

	tcase_add_unchecked_fixture(tc, testenv_servers_up, testenv_servers_down);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, good_token_without_cache);
	tcase_add_test(tc, good_token_with_cache);
	tcase_add_test(tc, bad_tokens_never_get_in);
	tcase_add_test(tc, config_text_wiped_before_free);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
