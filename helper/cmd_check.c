/*
 * `apitoken check` (DESIGN.md §8 ★2): the administrator's answer to "what is
 * wrong with the configuration" and "why was this login refused" on a host
 * without syslog. It reads the configuration through the module's own
 * reader (config_load_report, config=FILE as the module is given it) and
 * prints every problem with where it is and the fix; then what the module
 * meets only at a login (the helper file, helper_user, the secret and TLS
 * files, the cache directory). With --user it runs a login's whole decision
 * through auth_token_explain(), the module's own path (local checks, cache, the real
 * helper as helper_user, policy, user map), and prints the audit line as
 * audit_format() writes it for the module, with its reason in words.
 *
 * The token comes from APITOKEN_TOKEN or stdin, never argv; it is zeroed
 * after use and no output holds it. The decision is accounted for like a
 * login's: the audit line also goes to syslog and audit_file, under the
 * service name apitoken-check, so an admin's test is never mistaken for
 * a login through sshd yet is never missing from the record.
 */
#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "auth.h"
#include "cache.h"
#include "commands.h"
#include "config.h"
#include "file.h"

/* The service name of the audit line: not sshd, not any PAM service a login could have. */
#define CHECK_SERVICE "apitoken-check"
/* As the module reads at most (pam_apitoken.c): the local checks refuse over 4096 anyway. */
#define TOKEN_READ_MAX 65536

struct opts {
	const char *config;
	const char *user;
	const char *rhost;
	bool no_cache;
};

static void usage(FILE *f)
{
	fputs("usage: apitoken check [--config FILE] [--user USER [--rhost ADDR]] [--no-cache]\n"
	      "\n"
	      "Reads the module's configuration as pam_apitoken does and prints every\n"
	      "problem with FILE:LINE and the fix; exit 0 when there is none, 3 when there is.\n"
	      "With --user, also reads a token from APITOKEN_TOKEN or stdin (never the command\n"
	      "line), decides the login as the module would (local checks, cache, the helper\n"
	      "as helper_user, policy, user_map) and prints the audit line and its reason in\n"
	      "words; exit 0 allow, 4 deny, 5 unavailable. The audit line also goes to syslog\n"
	      "and audit_file, with the service name " CHECK_SERVICE ".\n"
	      "\n"
	      "  --config FILE   the module's configuration (default " APITOKEN_CONFIG_PATH ")\n"
	      "  --user USER     the PAM user of the login to decide\n"
	      "  --rhost ADDR    its PAM_RHOST, a numeric address (default: none)\n"
	      "  --no-cache      ask the issuer, neither reading nor writing the token cache\n"
	      "  --help          this text\n",
	      f);
}

/* The value of option a at argv[*i] ("--name VALUE" or "--name=VALUE"), or NULL. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, bool *bad)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=' && a[n + 1] != '\0')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 == argc || argv[*i + 1][0] == '\0') {
		fprintf(stderr, "apitoken check: %s needs a value\n", name);
		*bad = true;
		return NULL;
	}
	return argv[++*i];
}

/* 0, 1 for --help, or -1 after a message on stderr. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		bool bad = false;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			return 1;
		if (strcmp(a, "--no-cache") == 0) {
			o->no_cache = true;
			continue;
		}
		if ((v = opt_value(argc, argv, &i, "--config", &bad)) != NULL)
			o->config = v;
		else if ((v = opt_value(argc, argv, &i, "--user", &bad)) != NULL)
			o->user = v;
		else if ((v = opt_value(argc, argv, &i, "--rhost", &bad)) != NULL)
			o->rhost = v;
		else if (!bad)
			/* Not echoed: it might be a token pasted onto the command line. */
			fprintf(stderr, "apitoken check: unknown argument %d\n", i);
		if (v == NULL)
			return -1;
	}
	if (o->rhost != NULL && o->user == NULL) {
		fprintf(stderr, "apitoken check: --rhost goes with --user\n");
		return -1;
	}
	return 0;
}

static void print_problem(void *ctx, const char *msg)
{
	(void)ctx;
	printf("%s\n", msg);
}

/* A file the module opens at a login, checked as it will be: problem under key if not. */
static void check_file(struct config_report *rep, const char *key, const char *path,
		       enum file_kind kind)
{
	char why[1024];
	int fd;

	if (path == NULL)
		return;
	fd = file_open_checked(path, kind, why, sizeof(why));
	if (fd < 0)
		config_report_problem(rep, key, "%s: %s", key, why);
	else
		close(fd);
}

/* What the module meets only at a login, where it is cheap and changes nothing. */
static void check_system(struct config_report *rep, const struct apt_config *cfg)
{
	struct passwd *pw;
	struct stat st;
	char why[1024];

	check_file(rep, "helper", cfg->helper, FILE_PROGRAM);
	if (cfg->helper_user != NULL) {
		errno = 0;
		pw = getpwnam(cfg->helper_user);
		if (pw == NULL)
			config_report_problem(
			    rep, "helper_user",
			    "helper_user %s: no such user; create it (useradd --system "
			    "--no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "
			    "%s)",
			    cfg->helper_user, cfg->helper_user);
		else if (pw->pw_uid == 0)
			config_report_problem(rep, "helper_user",
					      "helper_user %s: must not be root (use _apitoken)",
					      cfg->helper_user);
	}
	check_file(rep, "client_secret_file", cfg->client_secret_file, FILE_SECRET);
	check_file(rep, "ca_file", cfg->ca_file, FILE_PUBLIC);
	check_file(rep, "tls_cert_file", cfg->tls_cert_file, FILE_CONFIG);
	check_file(rep, "tls_key_file", cfg->tls_key_file, FILE_SECRET);
	/* Created 0600 at the first login when absent: only one that is there is checked. */
	if (cfg->audit_file != NULL && lstat(cfg->audit_file, &st) == 0)
		check_file(rep, "audit_file", cfg->audit_file, FILE_APPEND);
	if (cfg->cache && cfg->cache_dir != NULL) {
		struct cache c;
		enum cache_dir_state state;

		/* Unsafe, a login goes on without it (logged): still a problem to fix. */
		if (cache_open_admin(&c, cfg, &state, why, sizeof(why)) != APT_OK)
			config_report_problem(rep, "cache_dir", "%s", why);
		cache_close(&c);
	}
}

/*
 * The token, from APITOKEN_TOKEN or stdin, into buf (size TOKEN_READ_MAX + 1):
 * its length, or -1 after a message. A terminal is read one line, echo off;
 * anything else to its end (or the limit), less one trailing newline.
 */
static long read_token(char *buf)
{
	char *env = getenv("APITOKEN_TOKEN");
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO), echo_off = false, failed = false;
	size_t len = 0;

	if (env != NULL && env[0] != '\0') {
		len = strnlen(env, TOKEN_READ_MAX);
		memcpy(buf, env, len);
		/* Our copy is the only one left: the helper is run with no environment anyway. */
		explicit_bzero(env, strlen(env));
		unsetenv("APITOKEN_TOKEN");
		return (long)len;
	}
	if (tty) {
		fputs("API token: ", stderr);
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
		}
	}
	while (len < TOKEN_READ_MAX) {
		ssize_t n = read(STDIN_FILENO, buf + len, tty ? 1 : TOKEN_READ_MAX - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "apitoken check: reading the token: %s\n", strerror(errno));
			failed = true;
			break;
		}
		if (n == 0 || (tty && buf[len] == '\n'))
			break;
		len += (size_t)n;
	}
	if (echo_off) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (failed) {
		explicit_bzero(buf, len);
		return -1;
	}
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	return (long)len;
}

/* One sentence for every reason word of the audit line (DESIGN.md §5, pam_apitoken(8)). */
static const struct {
	const char *word, *text;
} reasons[] = {
    {"ok", "the token is active and meets every rule of the configuration"},
    /* local checks: no request was sent */
    {"empty_token", "the token is empty"},
    {"fake_password", "the answer is the fake password OpenSSH sends for an unknown user or a "
		      "refused method"},
    {"token_too_long", "the token is longer than 4096 bytes"},
    {"token_bad_bytes", "the token holds a byte that is not printable ASCII"},
    {"token_prefix", "the token starts with none of token_prefixes"},
    {"no_user", "there was no user name"},
    {"no_token", "no token was given"},
    /* what the issuer said, and the policy */
    {"inactive", "the issuer says the token is not active (revoked, expired or unknown)"},
    {"token_type", "the issuer says this is a refresh token, not an access token"},
    {"expired", "the token's exp is past (with clock_skew)"},
    {"bad_exp", "the token's exp claim is not a number"},
    {"not_yet_valid", "the token's nbf is in the future (with clock_skew)"},
    {"bad_nbf", "the token's nbf claim is not a number"},
    {"username_missing", "the answer has no username_claim"},
    {"user_mismatch", "the token's username_claim is another user"},
    {"user_not_mapped", "the token's identity matches no line of user_map, or the first line "
			"that matches names another user"},
    {"scope_missing", "the token lacks a scope of required_scopes"},
    {"client_not_allowed", "the token's client_id is not in allowed_client_ids"},
    {"audience_missing", "the answer has no aud, and audience is configured"},
    {"audience_mismatch", "the token's aud does not hold audience"},
    {"issuer_missing", "the answer has no iss, and issuer is configured"},
    {"issuer_mismatch", "the token's iss is not issuer"},
    {"ip_ranges_missing", "the token has no ip_ranges_claim, and require_ip_ranges is yes"},
    {"bad_ip_ranges", "the token's ip_ranges_claim is not a list of CIDR ranges"},
    {"rhost_not_numeric", "IP ranges apply and the remote host is not a numeric address"},
    {"ip_not_allowed", "the remote host is outside the token's IP ranges"},
    /* the issuer could not say */
    {"connect_failed", "the endpoint could not be reached"},
    {"timeout", "the endpoint did not answer within timeout_ms"},
    {"tls_failed", "TLS with the endpoint failed (certificate, ca_file, or the scheme)"},
    {"http_status", "the endpoint answered with an unexpected HTTP status"},
    {"client_auth", "the endpoint refused our client credentials (client_id, "
		    "client_secret_file, client_auth)"},
    {"rate_limited", "the endpoint asked us to slow down (429)"},
    {"redirect", "the endpoint answered with a redirect, which is not followed"},
    {"body_too_large", "the endpoint's answer is larger than 64 KiB"},
    {"bad_json", "the endpoint's answer is not the JSON object it should be"},
    {"bad_request", "the helper could not use the module's request"},
    {"internal", "an internal error"},
    {"bad_response", "the helper's answer could not be read"},
    {"helper_failed", "the helper could not be run or failed"},
    {"helper_output", "the helper's output was too large or malformed"},
    {"backoff", "a recent failure of the endpoint holds requests back for a while"},
    /* the configuration */
    {"config", "the configuration could not be used"},
    {"helper_config", "the helper or helper_user could not be used"},
    {"no_memory", "out of memory"},
};

const char *check_reason_text(const char *word)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(reasons[i].word, word) == 0)
			return reasons[i].text;
	return NULL;
}

static const char *reason_text(const char *word)
{
	const char *t = check_reason_text(word);

	return t != NULL ? t : "see \"Reason words\" in pam_apitoken(8)";
}

int check_exit_status(enum apt_rc rc)
{
	switch (rc) {
	case APT_OK:
		return 0;
	case APT_DENY:
		return EXIT_REJECTED;
	case APT_UNAVAIL:
		return EXIT_UNAVAILABLE;
	case APT_SERVICE:
	case APT_NOMEM:
		break;
	}
	return EXIT_CONFIG;
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * The login's decision, printed and logged as the module logs it: the
 * warning and error lines, then the audit line, to syslog (ident apitoken,
 * the line as pam_syslog prefixes it) and audit_file.
 */
static int decide(const struct apt_config *cfg, const struct opts *o)
{
	static char tok[TOKEN_READ_MAX + 1];
	struct auth_outcome out;
	struct timespec t0;
	char line[1024], why[512];
	long len = read_token(tok);
	struct audit_rec r;
	int prio;

	if (len < 0)
		return EXIT_CONFIG;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	auth_token_explain(cfg, o->user, o->rhost, tok, (size_t)len, &out);
	explicit_bzero(tok, sizeof(tok));
	r = (struct audit_rec){
	    .result = apt_rc_word(out.rc),
	    .reason = out.reason,
	    .user = o->user,
	    .rhost = o->rhost,
	    .token = out.fingerprint[0] ? out.fingerprint : NULL,
	    .source = out.source,
	    .ms = elapsed_ms(&t0),
	    .service = CHECK_SERVICE,
	    .mapped_user = cfg->usermap != NULL && out.rc == APT_OK ? o->user : NULL,
	};
	audit_format(&r, line, sizeof(line));
	prio = out.rc == APT_OK ? LOG_INFO : out.rc == APT_DENY ? LOG_NOTICE : LOG_ERR;
	openlog("apitoken", LOG_PID, LOG_AUTHPRIV);
	if (out.warn[0] != '\0') {
		printf("warning: %s\n", out.warn);
		syslog(LOG_WARNING, "pam_apitoken(" CHECK_SERVICE ":auth): %s", out.warn);
	}
	if (out.err[0] != '\0') {
		printf("error: %s\n", out.err);
		syslog(LOG_ERR, "pam_apitoken(" CHECK_SERVICE ":auth): %s", out.err);
	}
	syslog(prio, "pam_apitoken(" CHECK_SERVICE ":auth): %s", line);
	closelog();
	printf("%s\n", line);
	printf("reason: %s: %s", out.reason, reason_text(out.reason));
	if (cfg->user_map != NULL && strcmp(out.reason, "user_not_mapped") == 0)
		printf(" (%s)", cfg->user_map);
	printf("\n");
	/* What the answer said, which the audit line does not: the key to a user mismatch. */
	if (out.identity[0] != '\0')
		printf("identity: %s (%s)\n", out.identity, cfg->username_claim);
	if (cfg->usermap != NULL && out.identity[0] != '\0') {
		if (out.mapped_user[0] != '\0')
			printf("mapped user: %s (user_map %s)\n", out.mapped_user, cfg->user_map);
		else
			printf("mapped user: none (no line of user_map %s matches)\n",
			       cfg->user_map);
	}
	if (cfg->audit_file != NULL && audit_append_json(cfg->audit_file, &r, why, sizeof(why)) < 0)
		printf("warning: audit_file %s; this audit line went to syslog only\n", why);
	return check_exit_status(out.rc);
}

int cmd_check(int argc, char **argv)
{
	struct config_report rep = {.problem = print_problem};
	struct apt_config cfg;
	struct opts o;
	char arg[4200], err[1024];
	const char *cargv[1] = {arg};
	enum apt_rc rc;
	int r = parse_args(argc, argv, &o);

	if (r != 0) {
		usage(r > 0 ? stdout : stderr);
		return r > 0 ? 0 : EXIT_USAGE;
	}
	/* Named always: a missing file is a problem here, though the module may do without. */
	if (snprintf(arg, sizeof(arg), "config=%s", o.config ? o.config : APITOKEN_CONFIG_PATH) >=
	    (int)sizeof(arg)) {
		fprintf(stderr, "apitoken check: --config: path too long\n");
		return EXIT_USAGE;
	}
	rc = config_load_report(&cfg, 1, cargv, &rep, err, sizeof(err));
	if (rc == APT_NOMEM) {
		fprintf(stderr, "apitoken check: out of memory\n");
		config_free(&cfg);
		return EXIT_CONFIG;
	}
	/* A file that could not be read says so alone: the rest would be about defaults. */
	if (cfg.config != NULL) {
		if (o.no_cache)
			cfg.cache = false;
		check_system(&rep, &cfg);
	}
	if (rep.problems > 0) {
		printf("%s: %u problem%s found\n", arg + 7, rep.problems,
		       rep.problems == 1 ? "" : "s");
		config_free(&cfg);
		return EXIT_CONFIG;
	}
	printf("%s: no problems found\n", arg + 7);
	r = o.user != NULL ? decide(&cfg, &o) : 0;
	config_free(&cfg);
	return r;
}
