/*
 * Shared by the integration tests: the real test issuer and the fault
 * server as child processes on loopback ports they pick, HTTP to them, a
 * scratch directory with the module's config, runs of the real libpam
 * stack, and the syslog lines those runs wrote.
 */
#ifndef APITOKEN_TESTENV_H
#define APITOKEN_TESTENV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct server {
	pid_t pid;
	int in_fd; /* its stdin: closing it stops the server even if we crash */
	int port;
};

/* Starts `node SCRIPT --port 0` and waits for "listening PORT". Aborts on failure. */
void server_start(struct server *s, const char *script);
void server_stop(struct server *s);

/* A whole HTTP exchange; returns the body (malloc) and sets *status. */
char *http_call(const char *method, const char *url, const char *userpwd, const char *form,
		long *status);

/* The test issuer (tests/idp). ranges: JSON array text, a plain string, or NULL. */
char *idp_mint(const struct server *idp, const char *user, const char *scope, int ttl,
	       const char *ranges);
void idp_revoke(const struct server *idp, const char *token);
long idp_introspections(const struct server *idp);
char *idp_url(const struct server *idp); /* its introspection endpoint */

/* The issuer's SSH CA (GET /ssh/cert/authority): its public key lines, malloc. */
char *idp_ca_keys(const struct server *idp);
/* One counter of GET /test/stats: "certs", "cert_requests", "exchanges", ... */
long idp_stat(const struct server *idp, const char *counter);
/*
 * POST /test/cert-config: the ssh-keygen -V interval and the principal(s)
 * of later certificates; NULL for the defaults (-1m:+5m, the username).
 */
void idp_cert_config(const struct server *idp, const char *validity, const char *principal);
/* POST /test/reset: counters to zero, certificate settings to their defaults. */
void idp_reset(const struct server *idp);

/* The fault server (tests/fault). */
char *fault_url(const struct server *f, const char *path);
char *fault_json_url(const struct server *f, const char *json, size_t len);
long fault_requests(const struct server *f);
char *fault_last(const struct server *f); /* JSON of the last request */

/*
 * For the harness, not the test: prints "WHO: MESSAGE" on stderr and exits 2
 * when something the tests stand on (a server, a user, a file, a process)
 * cannot be made, so that no test runs on a half-made world.
 */
void testenv_die(const char *who, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* A port on 127.0.0.1 where nothing listens. */
int closed_port(void);

/*
 * The build directory the tests run against, relative to the top of the tree
 * (the Makefile's B: build, or build/asan for make check-asan), as a string
 * literal to paste paths onto.
 */
#ifndef TEST_BUILD
#define TEST_BUILD "build"
#endif

/* helper_user's default; testenv_setup() creates it, as make install does, if missing. */
#define HELPER_USER "_apitoken"

/* The scratch tree: root dir (0755), helper copy, module path. */
struct testenv {
	char root[256];
	char module[4200];
	char helper[512];
};
extern struct testenv T;
void testenv_setup(void);
void testenv_teardown(void);
/* The fixture most integration tests share: the scratch tree, then the servers (NULL: not this
 * one). */
void testenv_up(struct server *idp, struct server *fault);
void testenv_down(struct server *idp, struct server *fault);
/*
 * The same fixture in the form tcase_add_unchecked_fixture takes (no
 * arguments): main() names the test's servers once with testenv_servers(),
 * then hands testenv_servers_up and testenv_servers_down to Check. Unchecked
 * fixtures run in main()'s process, where the servers live.
 */
void testenv_servers(struct server *idp, struct server *fault);
void testenv_servers_up(void);
void testenv_servers_down(void);

/* Writes root/name with mode (content NULL = empty); returns the path (static buffer). */
const char *write_file(const char *name, mode_t mode, const char *content);
/*
 * The bytes of the file PATH from offset FROM on, NUL-terminated (malloc);
 * NULL when it cannot be opened.
 */
char *file_text(const char *path, long from);
/*
 * Runs `/bin/sh -c CMD` (popen) and returns its stdout, NUL-terminated
 * (malloc), with pclose's wait status in *STATUS; NULL when it could not be
 * started.
 */
char *shell_output(const char *cmd, int *status);
/*
 * Writes the config file "apt.conf" (with helper=, timeouts, cache_dir =
 * ROOT/cache and cache = no added unless given) and a service "svc" whose
 * auth and account lines load the module with args. Returns the confdir.
 */
const char *make_service(const char *conf, const char *args);
/*
 * make_service against the test issuer IDP: its introspection_url,
 * client_id rs with the secret in ROOT/secret, then the lines EXTRA (may be
 * NULL).
 */
const char *idp_service(const struct server *idp, const char *extra, const char *args);

/* Cache entries (64 lower-case hex names) in the directory DIR; -1 when it is absent. */
long cache_entries(const char *dir);

struct pam_result {
	int auth; /* pam_authenticate */
	int acct; /* pam_acct_mgmt, when asked for */
	int setcred;
	int prompts; /* how many times the conversation was asked */
	char prompt[128];
};

/* Runs pam_authenticate (and acct_mgmt + setcred when it succeeded) through libpam. */
struct pam_result pam_run(const char *confdir, const char *user, const char *rhost,
			  const char *token);

/* How many times NEEDLE stands in TEXT, the occurrences not overlapping. */
int text_count(const char *text, const char *needle);

/* Syslog lines written by libpam in this process (pam_syslog), captured. */
void log_reset(void);
const char *log_text(void);
int log_count(const char *needle); /* text_count(log_text(), needle) */

/*
 * pam_run with an answer per prompt: each prompt (echo on or off) gets the
 * answer of the first unused entry whose prompt is a part of its text; a
 * prompt with none fails the conversation. answers ends with {NULL, NULL}
 * (at most 16). transcript (may be NULL) receives every message, one per
 * line: "off:TEXT", "on:TEXT" for prompts, "info:TEXT", "error:TEXT".
 */
struct pam_answer {
	const char *prompt;
	const char *answer;
};
struct pam_result pam_run_answers(const char *confdir, const char *user, const char *rhost,
				  const struct pam_answer *answers, char *transcript, size_t len);

/* The one audit line of a login says result and reason (a Check assertion). */
#define ck_audit(result, reason)                                                                   \
	do {                                                                                       \
		ck_assert_int_eq(log_count("result="), 1);                                         \
		ck_assert_msg(log_count("result=" result " reason=" reason " ") == 1,              \
			      "want result=%s reason=%s in:\n%s", result, reason, log_text());     \
	} while (0)

#endif
