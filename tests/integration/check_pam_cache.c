/*
 * The token cache through the real libpam, helper and test issuer
 * (DESIGN.md §6): reuse, revocation delay, negative entries, the policy on
 * every hit, tampered entries, unsafe directories, single flight under 40
 * parallel logins, offline grace, 429/5xx backoff, lifetimes capped by exp,
 * the entry bound, no token on disk, entries bound to the configuration
 * (two services sharing cache_dir, answer-shaping keys changed), backoff
 * scoped to the failing token or the endpoint, and single flight when the
 * first request fails or hangs. Request counts come from the issuer's and
 * the fault server's own counters.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "cache.h"
#include "testenv.h"
#include "unit.h"

static struct server idp, fault;

static char cache_dir[600];

/* A service on the real issuer using ROOT/cache, as it is. */
static const char *cache_idp_service(const char *extra)
{
	char conf[4096], *url = idp_url(&idp);

	snprintf(cache_dir, sizeof(cache_dir), "%s/cache", T.root);
	snprintf(conf, sizeof(conf),
		 "introspection_url = %s\nclient_id = rs\nclient_secret_file = %s\ncache = yes\n%s",
		 url, write_file("secret", 0600, "rs-secret"), extra ? extra : "");
	free(url);
	return make_service(conf, NULL);
}

/* A fresh cache dir per test, and a service on the real issuer using it. */
static const char *cached_service(const char *extra)
{
	char cmd[700];

	snprintf(cache_dir, sizeof(cache_dir), "%s/cache", T.root);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache_dir);
	ck_assert_int_eq(system(cmd), 0);
	return cache_idp_service(extra);
}

/* Same, on a fault-server URL (the cache dir is kept: see fresh). */
static const char *cached_fault_service(const char *url, const char *extra, bool fresh)
{
	char conf[4096], cmd[700];

	snprintf(cache_dir, sizeof(cache_dir), "%s/cache", T.root);
	if (fresh) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache_dir);
		ck_assert_int_eq(system(cmd), 0);
	}
	snprintf(conf, sizeof(conf), "introspection_url = %s\ncache = yes\n%s", url,
		 extra ? extra : "");
	return make_service(conf, NULL);
}

/* The path of the only entry. */
static void only_entry(char *out, size_t len)
{
	DIR *d = opendir(cache_dir);
	struct dirent *e;

	ck_assert_ptr_nonnull(d);
	out[0] = '\0';
	while ((e = readdir(d)) != NULL)
		if (strlen(e->d_name) == 64)
			snprintf(out, len, "%s/%s", cache_dir, e->d_name);
	closedir(d);
	ck_assert_msg(out[0] != '\0', "no entry in %s", cache_dir);
}

static double secs_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * n logins with one token, all released at once (when the parent closes a
 * pipe they wait on), each in its own process as sshd would run them.
 * Returns how many ended with want (and, when reason is set, logged it);
 * secs, when set, gets each login's seconds.
 */
static int parallel_logins(int n, const char *dir, const char *tok, int want, const char *reason,
			   double *secs)
{
	int go[2], times[2], got = 0;
	pid_t kids[64];

	ck_assert_int_le(n, 64);
	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(times), 0);
	for (int i = 0; i < n; i++) {
		kids[i] = fork();
		ck_assert_int_ge(kids[i], 0);
		if (kids[i] == 0) {
			struct timespec t0;
			double took;
			bool ok;
			char c;

			close(go[1]);
			close(times[0]);
			if (read(go[0], &c, 1) < 0)
				_exit(3);
			log_reset();
			clock_gettime(CLOCK_MONOTONIC, &t0);
			ok = pam_run(dir, "alice", "192.0.2.7", tok).auth == want;
			took = secs_since(&t0);
			ok = ok && (reason == NULL || log_count(reason) == 1);
			/* One small write: atomic on a pipe, so the lines never mix. */
			if (write(times[1], &took, sizeof(took)) != sizeof(took))
				_exit(3);
			_exit(ok ? 0 : 1);
		}
	}
	close(go[0]);
	close(go[1]);
	close(times[1]);
	for (int i = 0; i < n; i++) {
		int status;
		waitpid(kids[i], &status, 0);
		got += WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	for (int i = 0; i < n; i++) {
		double took = -1;
		ck_assert_int_eq(read(times[0], &took, sizeof(took)), sizeof(took));
		if (secs != NULL)
			secs[i] = took;
	}
	close(times[0]);
	return got;
}

/* The path of the only backoff marker (.backoff-TAG) in the cache dir. */
static void backoff_marker(char *out, size_t len)
{
	DIR *d = opendir(cache_dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, ".backoff-", 9) == 0 && strlen(e->d_name) < 64 && ++n)
			snprintf(out, len, "%s/%.63s", cache_dir, e->d_name);
	closedir(d);
	ck_assert_int_eq(n, 1);
}

START_TEST(second_login_is_served_from_cache)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);
	const char *dir = cached_service(NULL);
	long before = idp_introspections(&idp);
	struct stat st;
	char key[700];

	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_SUCCESS);
	ck_assert_int_eq(log_count("source=network"), 1);
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_SUCCESS);
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_SUCCESS);
	ck_assert_int_eq(log_count("result=allow reason=ok"), 3);
	ck_assert_int_eq(log_count("source=cache"), 2);
	ck_assert_int_eq(idp_introspections(&idp), before + 1);

	/* The directory and the host key are private. */
	ck_assert_int_eq(stat(cache_dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	snprintf(key, sizeof(key), "%s/.key", cache_dir);
	ck_assert_int_eq(stat(key, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(st.st_size, 32);
	free(tok);
}
END_TEST

START_TEST(revocation_reaches_host_within_cache_ttl)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);
	const char *dir = cached_service("cache_ttl = 2\n");

	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_SUCCESS);
	idp_revoke(&idp, tok);
	/* Within cache_ttl the cached answer still serves: the documented trade-off. */
	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_SUCCESS);
	ck_assert_int_eq(log_count("source=cache"), 1);
	sleep(3);
	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_AUTH_ERR);
	ck_assert_int_eq(log_count("result=deny reason=inactive"), 1);
	ck_assert_int_eq(log_count("source=network"), 1);
	free(tok);
}
END_TEST

START_TEST(negative_entry_saves_a_request)
{
	const char *bad = "ucat_neverIssuedByAnyone0000000000000000000000";
	const char *dir = cached_service(NULL);
	long before = idp_introspections(&idp);

	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", bad).auth, PAM_AUTH_ERR);
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", bad).auth, PAM_AUTH_ERR);
	ck_assert_int_eq(log_count("result=deny reason=inactive"), 2);
	ck_assert_int_eq(log_count("source=cache"), 1);
	ck_assert_int_eq(idp_introspections(&idp), before + 1);

	/* negative_cache_ttl = 0: every attempt asks. */
	dir = cached_service("negative_cache_ttl = 0\n");
	before = idp_introspections(&idp);
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", bad).auth, PAM_AUTH_ERR);
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", bad).auth, PAM_AUTH_ERR);
	ck_assert_int_eq(idp_introspections(&idp), before + 2);
}
END_TEST

START_TEST(cached_answer_is_checked_again_for_each_login)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, "[\"10.0.0.0/8\"]");
	const char *dir = cached_service(NULL);
	long before;

	ck_assert_int_eq(pam_run(dir, "alice", "10.1.2.3", tok).auth, PAM_SUCCESS);
	before = idp_introspections(&idp);
	log_reset();
	ck_assert_int_eq(pam_run(dir, "bob", "10.1.2.3", tok).auth, PAM_AUTH_ERR);
	ck_assert_int_eq(log_count("result=deny reason=user_mismatch"), 1);
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_AUTH_ERR);
	ck_assert_int_eq(log_count("result=deny reason=ip_not_allowed"), 1);
	ck_assert_int_eq(pam_run(dir, "alice", NULL, tok).auth, PAM_AUTH_ERR);
	ck_assert_int_eq(log_count("reason=rhost_not_numeric"), 1);
	ck_assert_int_eq(log_count("source=cache"), 3);
	ck_assert_int_eq(idp_introspections(&idp), before);
	free(tok);
}
END_TEST

START_TEST(tampered_entry_is_ignored)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);
	const char *dir = cached_service(NULL);
	char path[800];
	long before;
	struct stat st;

	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_SUCCESS);
	only_entry(path, sizeof(path));
	ck_assert_int_eq(stat(path, &st), 0);
	/* Flip bytes at the start, in the middle and in the MAC, one at a time. */
	for (off_t at = 0; at < st.st_size; at += st.st_size / 3) {
		int fd = open(path, O_RDWR);
		unsigned char c;

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(pread(fd, &c, 1, at), 1);
		c ^= 0x01;
		ck_assert_int_eq(pwrite(fd, &c, 1, at), 1);
		close(fd);
		before = idp_introspections(&idp);
		log_reset();
		ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_SUCCESS);
		ck_assert_msg(log_count("source=network") == 1, "flip at %ld: %s", (long)at,
			      log_text());
		ck_assert_int_eq(idp_introspections(&idp), before + 1);
		only_entry(path, sizeof(path)); /* rewritten whole */
	}
	/* Truncated. */
	ck_assert_int_eq(truncate(path, 40), 0);
	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_SUCCESS);
	ck_assert_int_eq(log_count("source=network"), 1);
	free(tok);
}
END_TEST

START_TEST(no_token_on_disk)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);
	const char *dir = cached_service(NULL);
	char cmd[1200];

	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_SUCCESS);
	/* Neither the token nor its secret half appears in any file of the cache. */
	snprintf(cmd, sizeof(cmd), "grep -r -q -F -e '%s' '%s'", tok + 5, cache_dir);
	ck_assert_int_ne(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "grep -r -q -F -e 'sha256:' '%s'", cache_dir);
	ck_assert_int_eq(system(cmd), 0); /* the fingerprint, for admins, is there */
	free(tok);
}
END_TEST

START_TEST(unsafe_cache_dir_is_not_used)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);
	const char *dir = cached_service(NULL);
	char real[700], link[700], conf[4096], *url = idp_url(&idp);

	/* World-writable: logins work, online, and nothing is written. */
	ck_assert_int_eq(mkdir(cache_dir, 0777), 0);
	ck_assert_int_eq(chmod(cache_dir, 0777), 0);
	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_SUCCESS);
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_SUCCESS);
	ck_assert_int_eq(log_count("source=network"), 2);
	{
		/* What is wrong and the command that fixes it. */
		char want[1600];

		snprintf(want, sizeof(want),
			 "cache %s: writable by group or others (chmod 700 %s); not used",
			 cache_dir, cache_dir);
		ck_assert_msg(log_count(want) == 2, "want \"%s\" twice in\n%s", want, log_text());
	}
	ck_assert_int_eq(cache_entries(cache_dir), 0);

	/* Another owner could plant entries as well: chown is the fix. */
	{
		struct passwd *nobody = getpwnam("nobody");
		char want[1600];

		if (geteuid() == 0 && nobody != NULL) {
			ck_assert_int_eq(chmod(cache_dir, 0700), 0);
			ck_assert_int_eq(chown(cache_dir, nobody->pw_uid, nobody->pw_gid), 0);
			log_reset();
			ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_SUCCESS);
			snprintf(want, sizeof(want),
				 "cache %s: owned by uid %u, not root (chown root %s); not used",
				 cache_dir, (unsigned)nobody->pw_uid, cache_dir);
			ck_assert_msg(log_count(want) == 1, "want \"%s\" in\n%s", want, log_text());
			ck_assert_int_eq(log_count("source=network"), 1);
			ck_assert_int_eq(cache_entries(cache_dir), 0);
			ck_assert_int_eq(chown(cache_dir, 0, 0), 0);
		}
	}

	/* A symbolic link to a good directory is not followed. */
	snprintf(real, sizeof(real), "%s/real-cache", T.root);
	snprintf(link, sizeof(link), "%s/link-cache", T.root);
	mkdir(real, 0700);
	unlink(link);
	ck_assert_int_eq(symlink(real, link), 0);
	snprintf(conf, sizeof(conf),
		 "introspection_url = %s\nclient_id = rs\nclient_secret_file = %s\ncache = yes\n"
		 "cache_dir = %s\n",
		 url, write_file("secret", 0600, "rs-secret"), link);
	dir = make_service(conf, NULL);
	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_SUCCESS);
	ck_assert_int_eq(log_count("source=network"), 1);
	ck_assert_int_eq(log_count("not used"), 1);
	ck_assert_int_eq(cache_entries(real), 0);
	free(url);
	free(tok);
}
END_TEST

START_TEST(parallel_cold_logins_make_one_request)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);
	const char *dir = cached_service(NULL);
	long before = idp_introspections(&idp);

	ck_assert_int_eq(parallel_logins(40, dir, tok, PAM_SUCCESS, NULL, NULL), 40);
	ck_assert_int_le(idp_introspections(&idp) - before, 2);
	ck_assert_int_ge(idp_introspections(&idp) - before, 1);
	free(tok);
}
END_TEST

START_TEST(grace_serves_while_issuer_is_down)
{
	struct server own;
	char conf[4096], url[128];
	const char *dir;
	char *tok;

	/* An issuer of this test's own, to stop. */
	server_start(&own, "tests/idp/server.js");
	tok = idp_mint(&own, "alice", "ssh", 300, NULL);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/token/introspection", own.port);
	snprintf(conf, sizeof(conf),
		 "introspection_url = %s\nclient_id = rs\nclient_secret_file = %s\ncache = yes\n"
		 "cache_ttl = 1\noffline_grace = 60\n",
		 url, write_file("secret", 0600, "rs-secret"));
	snprintf(cache_dir, sizeof(cache_dir), "%s/cache", T.root);
	dir = make_service(conf, NULL);
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_SUCCESS);
	server_stop(&own);
	sleep(2); /* past cache_ttl */

	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_SUCCESS);
	ck_assert_int_eq(log_count("result=allow reason=ok"), 1);
	ck_assert_int_eq(log_count("source=grace"), 1);
	/* Grace is for the token's own user only: the policy still applies. */
	log_reset();
	ck_assert_int_eq(pam_run(dir, "bob", "192.0.2.7", tok).auth, PAM_AUTH_ERR);
	ck_assert_int_eq(log_count("source=grace"), 1);
	/* A token never cached gets nothing while the issuer is down. */
	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_other").auth,
			 PAM_AUTHINFO_UNAVAIL);

	/* offline_grace = 0 fails closed (and, this soon after its failure, the token backs off).
	 */
	snprintf(conf, sizeof(conf),
		 "introspection_url = %s\nclient_id = rs\nclient_secret_file = %s\ncache = yes\n"
		 "cache_ttl = 1\noffline_grace = 0\n",
		 url, write_file("secret", 0600, "rs-secret"));
	dir = make_service(conf, NULL);
	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_AUTHINFO_UNAVAIL);
	ck_assert_int_eq(log_count("result=unavailable reason=backoff"), 1);
	ck_assert_int_eq(log_count("source=grace"), 0);
	free(tok);
}
END_TEST

START_TEST(backoff_after_429_sends_nothing)
{
	char *url = fault_url(&fault, "/ratelimit");
	const char *dir = cached_fault_service(url, NULL, true);
	char marker[700];
	long before = fault_requests(&fault);
	struct stat st;

	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_first").auth,
			 PAM_AUTHINFO_UNAVAIL);
	ck_assert_int_eq(log_count("reason=rate_limited"), 1);
	ck_assert_int_eq(fault_requests(&fault), before + 1);
	backoff_marker(marker, sizeof(marker));
	ck_assert_int_eq(stat(marker, &st), 0);

	/* During the backoff: no request at all, for this token or another. */
	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_first").auth,
			 PAM_AUTHINFO_UNAVAIL);
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_second").auth,
			 PAM_AUTHINFO_UNAVAIL);
	ck_assert_int_eq(log_count("result=unavailable reason=backoff"), 2);
	ck_assert_int_eq(fault_requests(&fault), before + 1);
	free(url);
}
END_TEST

/* Waiters behind the first login see the backoff its 429 set, and send nothing. */
START_TEST(parallel_logins_against_429_make_one_request)
{
	char *url = fault_url(&fault, "/ratelimit");
	const char *dir = cached_fault_service(url, NULL, true);
	long before = fault_requests(&fault);

	ck_assert_int_eq(parallel_logins(20, dir, "ucat_herd", PAM_AUTHINFO_UNAVAIL, NULL, NULL),
			 20);
	ck_assert_int_eq(fault_requests(&fault) - before, 1);
	free(url);
}
END_TEST

/* One URL on the fault server whose issuer answers json, or status once switch_status sets it. */
static char *switch_url(const char *json)
{
	char *u = fault_json_url(&fault, json, strlen(json)), *at = strstr(u, "/json/"), *out;

	ck_assert_ptr_nonnull(at);
	ck_assert_int_ge(asprintf(&out, "%.*s/switch/%s", (int)(at - u), u, at + 6), 0);
	free(u);
	return out;
}

static void switch_status(int code)
{
	char path[64], *u, *body;
	long status = 0;

	snprintf(path, sizeof(path), "/switch-status/%d", code);
	u = fault_url(&fault, path);
	body = http_call("POST", u, NULL, "", &status);
	ck_assert_int_eq(status, 200);
	free(body);
	free(u);
}

START_TEST(backoff_after_5xx_and_grace_during_it)
{
	char *url = switch_url("{\"active\":true,\"username\":\"alice\"}");
	const char *dir;
	long before;

	switch_status(0);
	dir = cached_fault_service(url, "cache_ttl = 1\noffline_grace = 120\n", true);
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_cached").auth, PAM_SUCCESS);
	sleep(2);
	/* The issuer now answers 503: the stale entry serves, and that token backs off. */
	switch_status(503);
	before = fault_requests(&fault);
	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_cached").auth, PAM_SUCCESS);
	ck_assert_int_eq(log_count("source=grace"), 1);
	ck_assert_int_eq(fault_requests(&fault), before + 1);
	/* Within its backoff: grace again, with no request. */
	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_cached").auth, PAM_SUCCESS);
	ck_assert_int_eq(log_count("source=grace"), 1);
	ck_assert_int_eq(fault_requests(&fault), before + 1);
	/* Another token is not stopped by that one failure: it asks, and fails on its own. */
	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_uncached").auth,
			 PAM_AUTHINFO_UNAVAIL);
	ck_assert_int_eq(log_count("result=unavailable reason=http_status"), 1);
	ck_assert_int_eq(fault_requests(&fault), before + 2);
	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_uncached").auth,
			 PAM_AUTHINFO_UNAVAIL);
	ck_assert_int_eq(log_count("reason=backoff"), 1);
	ck_assert_int_eq(fault_requests(&fault), before + 2);
	switch_status(0);
	free(url);
}
END_TEST

START_TEST(lifetime_never_past_exp)
{
	char json[256], *url;
	const char *dir;
	long before;

	snprintf(json, sizeof(json), "{\"active\":true,\"username\":\"alice\",\"exp\":%ld}",
		 (long)time(NULL) + 2);
	url = fault_json_url(&fault, json, strlen(json));
	dir = cached_fault_service(url, "cache_ttl = 600\noffline_grace = 600\nclock_skew = 0\n",
				   true);
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_short").auth, PAM_SUCCESS);
	sleep(3);
	/* The entry died with the token: the issuer is asked, and the token has expired. */
	before = fault_requests(&fault);
	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_short").auth, PAM_AUTH_ERR);
	ck_assert_int_eq(log_count("result=deny reason=expired"), 1);
	ck_assert_int_eq(log_count("source=network"), 1);
	ck_assert_int_eq(fault_requests(&fault), before + 1);
	free(url);
}
END_TEST

START_TEST(entries_are_bounded)
{
	const char *dir = cached_service("cache_max_entries = 5\n");
	char tok[64];

	for (int i = 0; i < 12; i++) {
		snprintf(tok, sizeof(tok), "ucat_unknown%02d", i);
		ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_AUTH_ERR);
		ck_assert_int_le(cache_entries(cache_dir), 5);
	}
	ck_assert_int_ge(cache_entries(cache_dir), 1);
}
END_TEST

START_TEST(cache_no_writes_nothing)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);
	const char *dir;
	char conf[2048], *url = idp_url(&idp);

	cached_service(NULL); /* for the fresh cache_dir */
	snprintf(conf, sizeof(conf),
		 "introspection_url = %s\nclient_id = rs\nclient_secret_file = %s\ncache = no\n",
		 url, write_file("secret", 0600, "rs-secret"));
	free(url);
	dir = make_service(conf, NULL);

	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_SUCCESS);
	ck_assert_int_eq(cache_entries(cache_dir), -1); /* not even created */
	free(tok);
}
END_TEST

/* --- entries bound to the config, backoff scoped, single flight on failure ------- */

/* Two services, one cache_dir, two issuers: neither is served the other's answer. */
START_TEST(services_sharing_cache_dir_keep_their_answers_apart)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);
	const char *no = "{\"active\":false}";
	char *other = fault_json_url(&fault, no, strlen(no));
	const char *dir;
	long before;

	dir = cached_service(NULL);
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_SUCCESS);
	/* Service B's issuer calls the token inactive: B must ask it, not reuse A's "yes". */
	dir = cached_fault_service(other, NULL, false);
	before = fault_requests(&fault);
	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_AUTH_ERR);
	ck_assert_msg(log_count("result=deny reason=inactive") == 1, "%s", log_text());
	ck_assert_int_eq(log_count("source=network"), 1);
	ck_assert_int_eq(fault_requests(&fault), before + 1);
	/* Each keeps its own entry in the shared directory. */
	ck_assert_int_eq(cache_entries(cache_dir), 2);
	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_AUTH_ERR);
	ck_assert_int_eq(log_count("source=cache"), 1);
	before = idp_introspections(&idp);
	dir = cache_idp_service(NULL);
	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_SUCCESS);
	ck_assert_int_eq(log_count("source=cache"), 1);
	ck_assert_int_eq(idp_introspections(&idp), before);
	free(other);
	free(tok);
}
END_TEST

/* Changing a key that shapes the answer makes a live entry unused at once. */
START_TEST(answer_shaping_keys_bind_entries)
{
	const char *json = "{\"active\":true,\"username\":\"alice\",\"login\":\"alice\","
			   "\"allowed_ip_ranges\":[\"192.0.2.0/24\"],\"nets\":[\"192.0.2.0/24\"]}";
	const char *json2 = "{\"active\":true,\"login\":\"alice\",\"v\":2}";
	char *url = fault_json_url(&fault, json, strlen(json)),
	     *url2 = fault_json_url(&fault, json2, strlen(json2)), secret[700];
	struct {
		const char *what, *extra;
		bool second_url;
	} step[] = {
	    {"first", "", false},
	    {"username_claim", "username_claim = login\n", false},
	    {"ip_ranges_claim", "username_claim = login\nip_ranges_claim = nets\n", false},
	    {"client_id", NULL, false},
	    {"introspection_url", NULL, true},
	    {"back to the first", "", false},
	};
	char extra[1024];

	snprintf(secret, sizeof(secret), "%s", write_file("fault-secret", 0600, "s3cret"));
	for (size_t i = 0; i < sizeof(step) / sizeof(step[0]); i++) {
		const char *dir;
		long before;
		bool cached = i == sizeof(step) / sizeof(step[0]) - 1;

		snprintf(extra, sizeof(extra), "%s",
			 step[i].extra ? step[i].extra
				       : "username_claim = login\nip_ranges_claim = nets\n");
		if (step[i].extra == NULL)
			snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
				 "client_id = other\nclient_secret_file = %s\n", secret);
		dir = cached_fault_service(step[i].second_url ? url2 : url, extra, i == 0);
		before = fault_requests(&fault);
		log_reset();
		ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_bound").auth,
				 PAM_SUCCESS);
		ck_assert_msg(fault_requests(&fault) == before + (cached ? 0 : 1),
			      "%s: %ld requests: %s", step[i].what, fault_requests(&fault) - before,
			      log_text());
		/* And the new entry serves the next login of the same config. */
		ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_bound").auth,
				 PAM_SUCCESS);
		ck_assert_int_eq(log_count("source=cache"), cached ? 2 : 1);
		ck_assert_int_eq(fault_requests(&fault), before + (cached ? 0 : 1));
	}
	free(url);
	free(url2);
}
END_TEST

/* A 5xx for one junk token stops that token for a while, not the next good one. */
START_TEST(one_failing_token_does_not_stop_others)
{
	char *url = fault_url(&fault, "/pertoken");
	const char *dir = cached_fault_service(url, NULL, true);
	long before = fault_requests(&fault);

	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_fail500_junk").auth,
			 PAM_AUTHINFO_UNAVAIL);
	ck_assert_int_eq(log_count("result=unavailable reason=http_status"), 1);
	ck_assert_int_eq(fault_requests(&fault), before + 1);
	/* Another token logs in at once, over the network. */
	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_goodY").auth, PAM_SUCCESS);
	ck_assert_msg(log_count("source=network") == 1, "%s", log_text());
	ck_assert_int_eq(fault_requests(&fault), before + 2);
	/* The failing one, within its backoff: no request. */
	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_fail500_junk").auth,
			 PAM_AUTHINFO_UNAVAIL);
	ck_assert_int_eq(log_count("result=unavailable reason=backoff"), 1);
	ck_assert_int_eq(fault_requests(&fault), before + 2);
	free(url);
}
END_TEST

/* Failures from several distinct tokens are about the endpoint: then host-wide. */
START_TEST(failures_from_several_tokens_back_off_host_wide)
{
	char *url = fault_url(&fault, "/pertoken");
	const char *dir = cached_fault_service(url, NULL, true);
	long before = fault_requests(&fault);
	char tok[64];

	for (int i = 0; i < CACHE_FAIL_TOKENS; i++) {
		snprintf(tok, sizeof(tok), "ucat_fail500_%d", i);
		log_reset();
		ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth,
				 PAM_AUTHINFO_UNAVAIL);
		ck_assert_msg(log_count("reason=http_status") == 1, "token %d: %s", i, log_text());
		ck_assert_int_eq(fault_requests(&fault), before + i + 1);
	}
	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_goodZ").auth,
			 PAM_AUTHINFO_UNAVAIL);
	ck_assert_int_eq(log_count("result=unavailable reason=backoff"), 1);
	ck_assert_int_eq(fault_requests(&fault), before + CACHE_FAIL_TOKENS);
	free(url);
}
END_TEST

/* A 429 stops every token of its endpoint, and no other endpoint sharing cache_dir. */
START_TEST(rate_limit_stops_only_its_endpoint)
{
	const char *yes = "{\"active\":true,\"username\":\"alice\"}";
	char *limited = fault_url(&fault, "/ratelimit"),
	     *other = fault_json_url(&fault, yes, strlen(yes));
	const char *dir = cached_fault_service(limited, NULL, true);
	long before = fault_requests(&fault);

	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_one").auth, PAM_AUTHINFO_UNAVAIL);
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_two").auth, PAM_AUTHINFO_UNAVAIL);
	ck_assert_int_eq(log_count("reason=rate_limited"), 1);
	ck_assert_int_eq(log_count("result=unavailable reason=backoff"), 1);
	ck_assert_int_eq(fault_requests(&fault), before + 1);
	dir = cached_fault_service(other, NULL, false);
	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_two").auth, PAM_SUCCESS);
	ck_assert_msg(log_count("source=network") == 1, "%s", log_text());
	ck_assert_int_eq(fault_requests(&fault), before + 2);
	dir = cached_fault_service(limited, NULL, false);
	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_three").auth,
			 PAM_AUTHINFO_UNAVAIL);
	ck_assert_int_eq(log_count("result=unavailable reason=backoff"), 1);
	ck_assert_int_eq(fault_requests(&fault), before + 2);
	free(limited);
	free(other);
}
END_TEST

/*
 * Parallel logins against a hanging issuer: the first one's request times
 * out, and the ones waiting behind it fail the same way without a request
 * of their own, each within about timeout_ms.
 */
START_TEST(parallel_logins_against_hanging_issuer_make_one_request)
{
	enum { N = 4, TIMEOUT_MS = 1500 };
	char *url = fault_url(&fault, "/hang"), extra[128];
	const char *dir;
	double secs[N];
	long before;
	int got;

	snprintf(extra, sizeof(extra), "timeout_ms = %d\nconnect_timeout_ms = 1000\n", TIMEOUT_MS);
	dir = cached_fault_service(url, extra, true);
	before = fault_requests(&fault);
	got = parallel_logins(N, dir, "ucat_hanging", PAM_AUTHINFO_UNAVAIL, "reason=timeout", secs);
	printf("hanging issuer, %d parallel logins (timeout_ms %d), seconds:", N, TIMEOUT_MS);
	for (int i = 0; i < N; i++)
		printf(" %.2f", secs[i]);
	printf("; requests: %ld\n", fault_requests(&fault) - before);
	fflush(stdout);
	ck_assert_int_eq(got, N);
	ck_assert_int_eq(fault_requests(&fault) - before, 1);
	for (int i = 0; i < N; i++)
		ck_assert_msg(secs[i] < 2.0 * TIMEOUT_MS / 1000, "login %d took %.2f s", i,
			      secs[i]);
	free(url);
}
END_TEST

/*
 * A login that waited for the lock as long as the holder's deadline and a
 * margin, and still finds no answer, does not send a request of its own.
 */
START_TEST(waiter_whose_wait_times_out_sends_nothing)
{
	char *url = fault_url(&fault, "/pertoken"), arg[700], err[1024], name[CACHE_NAME_LEN + 1];
	const char *argv[1] = {arg}, *tok = "ucat_waiter";
	const char *dir =
	    cached_fault_service(url, "timeout_ms = 1000\nconnect_timeout_ms = 500\n", true);
	long before = fault_requests(&fault);
	struct apt_config cfg;
	struct timespec t0;
	struct cache c;
	double took;
	int lock;

	/* This process holds the token's lock: a login whose request never ends. */
	snprintf(arg, sizeof(arg), "config=%s/apt.conf", T.root);
	ck_assert_msg(config_load(&cfg, 1, argv, err, sizeof(err)) == APT_OK, "%s", err);
	ck_assert_msg(cache_open(&c, &cfg, true, err, sizeof(err)) == APT_OK, "%s", err);
	cache_name(&c, tok, strlen(tok), name);
	lock = cache_lock(&c, name, 0);
	ck_assert_int_ge(lock, 0);
	log_reset();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_AUTHINFO_UNAVAIL);
	took = secs_since(&t0);
	printf("waiter behind a lock never released: %.2f s (timeout_ms 1000)\n", took);
	fflush(stdout);
	ck_assert_msg(log_count("result=unavailable reason=timeout") == 1, "%s", log_text());
	ck_assert_int_eq(log_count("source=cache"), 1);
	ck_assert_int_eq(fault_requests(&fault), before);
	ck_assert_msg(took >= 1.0 && took < 4.0, "%.2f s", took);
	/* Nothing was noted against the token: once the lock is free, it logs in. */
	cache_unlock(lock);
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_SUCCESS);
	ck_assert_int_eq(fault_requests(&fault), before + 1);
	cache_close(&c);
	config_free(&cfg);
	free(url);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pam_cache");
	TCase *tc = tcase_create("cache");

	testenv_servers(&idp, &fault);

	tcase_add_unchecked_fixture(tc, testenv_servers_up, testenv_servers_down);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, second_login_is_served_from_cache);
	tcase_add_test(tc, revocation_reaches_host_within_cache_ttl);
	tcase_add_test(tc, negative_entry_saves_a_request);
	tcase_add_test(tc, cached_answer_is_checked_again_for_each_login);
	tcase_add_test(tc, tampered_entry_is_ignored);
	tcase_add_test(tc, no_token_on_disk);
	tcase_add_test(tc, unsafe_cache_dir_is_not_used);
	tcase_add_test(tc, parallel_cold_logins_make_one_request);
	tcase_add_test(tc, grace_serves_while_issuer_is_down);
	tcase_add_test(tc, backoff_after_429_sends_nothing);
	tcase_add_test(tc, parallel_logins_against_429_make_one_request);
	tcase_add_test(tc, backoff_after_5xx_and_grace_during_it);
	tcase_add_test(tc, lifetime_never_past_exp);
	tcase_add_test(tc, entries_are_bounded);
	tcase_add_test(tc, cache_no_writes_nothing);
	tcase_add_test(tc, services_sharing_cache_dir_keep_their_answers_apart);
	tcase_add_test(tc, answer_shaping_keys_bind_entries);
	tcase_add_test(tc, one_failing_token_does_not_stop_others);
	tcase_add_test(tc, failures_from_several_tokens_back_off_host_wide);
	tcase_add_test(tc, rate_limit_stops_only_its_endpoint);
	tcase_add_test(tc, parallel_logins_against_hanging_issuer_make_one_request);
	tcase_add_test(tc, waiter_whose_wait_times_out_sends_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
