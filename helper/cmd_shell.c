/*
 * apitoken shell: sshd's ForceCommand for the machine users (DESIGN.md
 * §8a). Runs what the client asked for (SSH_ORIGINAL_COMMAND) only when the
 * login's scopes allow its class, with one audit line per decision.
 *
 * Where the scopes come from, so that the user cannot choose them: which
 * methods authenticated the login is in the file SSH_USER_AUTH names
 * (ExposeAuthInfo yes; sshd sets the variable after the client's own). A
 * login with a certificate among them takes the certificate's extension
 * scopes@apitoken and nothing else: the PAM environment of such a login was
 * never written by pam_apitoken, so a client's APITOKEN_SCOPES could still
 * be there. A login by keyboard-interactive or password went through the
 * PAM stack, where pam_apitoken set APITOKEN_SCOPES and APITOKEN_TOKEN_FP,
 * and sshd applies the PAM environment after the client's variables. Any
 * other login has no scopes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "auth.h"
#include "commands.h"
#include "config.h"
#include "errmsg.h"
#include "file.h"
#include "fingerprint.h"
#include "shellcmd.h"
#include "sshcert.h"
#include "words.h"

extern char **environ;

/* An auth info file lists a few methods, each with at most one key or certificate. */
#define AUTH_INFO_MAX	(256 * 1024)
#define SCOPE_EXTENSION "scopes@apitoken"
/* Where git, rsync and scp are looked for: never the user's PATH. */
static const char *const exec_dirs[] = {"/usr/local/bin", "/usr/bin", "/bin"};
/* sftp-server as the distributions install it; the first present is run. */
static const char *const sftp_servers[] = {
    "/usr/lib/openssh/sftp-server",
    "/usr/libexec/openssh/sftp-server",
    "/usr/libexec/sftp-server",
    "/usr/lib/ssh/sftp-server",
};

/* How the login was made, and the scopes it carries. */
struct login {
	const char *kind; /* "token", "cert" or "none": the audit line's source= */
	char scopes[AUTH_SCOPES_MAX];
	char token[FINGERPRINT_LEN + 32]; /* the token's fingerprint, or "cert:SERIAL" */
};

static void usage(FILE *f)
{
	fputs(
	    "usage: apitoken shell [--config FILE]\n"
	    "\n"
	    "sshd's ForceCommand for machine users (with ExposeAuthInfo yes): runs the\n"
	    "client's command (SSH_ORIGINAL_COMMAND) only when the login's scopes allow it:\n"
	    "  read   git-upload-pack, git-upload-archive, rsync --server --sender, scp -f,\n"
	    "         sftp read-only                             needs read_scope or write_scope\n"
	    "  write  git-receive-pack, rsync --server, scp -t, sftp      needs write_scope\n"
	    "  shell  anything else, and no command (the login shell)   needs shell_scope\n"
	    "The scopes are the token's (put in the PAM environment by pam_apitoken) or the\n"
	    "certificate's extension scopes@apitoken. A refused command exits 1.\n"
	    "\n"
	    "  --config FILE  the module's config (default " APITOKEN_CONFIG_PATH ")\n"
	    "  --help         this text\n",
	    f);
}

/* The word c (len bytes) of the login's scopes; an unset scope key grants nothing. */
static bool granted(const struct login *l, const char *word)
{
	return word != NULL && word[0] != '\0' &&
	       scope_has(l->scopes, strlen(l->scopes), word, strlen(word));
}

static void copy_scopes(struct login *l, const char *v)
{
	/* Too long to be the module's (auth.h): nothing, not a part. */
	if (v != NULL && strlen(v) < sizeof(l->scopes))
		snprintf(l->scopes, sizeof(l->scopes), "%s", v);
}

/* The scopes of a certificate: its extension scopes@apitoken, or none. */
static int cert_scopes(struct login *l, const char *line, size_t len, char *err, size_t errlen)
{
	struct sshcert c;

	if (sshcert_parse_line(&c, line, len, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < c.nextensions; i++)
		if (strcmp(c.extensions[i].name, SCOPE_EXTENSION) == 0 && c.extensions[i].has_value)
			copy_scopes(l, c.extensions[i].value);
	snprintf(l->token, sizeof(l->token), "cert:%llu", (unsigned long long)c.serial);
	sshcert_free(&c);
	return 0;
}

/*
 * Reads the auth info file: "METHOD[/SUBMETHOD] [KEY]" per line, as sshd
 * writes it. It is ours (the login's user, 0600) in /tmp, whose sticky bit
 * keeps others from replacing it; lib/file.c checks the file itself.
 */
static int read_auth_info(const char *path, struct login *l, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX], *text = NULL, *line, *next;
	bool pam = false;
	int certs = 0, dirfd, r = 0;
	size_t len;
	enum apt_rc rc;

	if (path[0] != '/' || slash == NULL || (size_t)(slash - path) >= sizeof(dir))
		return errf(err, errlen, "SSH_USER_AUTH is not an absolute path");
	snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return errf(err, errlen, "%s: %s", dir, strerror(errno));
	rc = file_read_checked_at(dirfd, slash + 1, FILE_SECRET, AUTH_INFO_MAX, &text, &len, err,
				  errlen);
	close(dirfd);
	if (rc != APT_OK)
		return -1;
	for (line = text; r == 0 && line != NULL && *line != '\0'; line = next) {
		size_t n = strcspn(line, "\n"), m = strcspn(line, " \n");

		next = line[n] == '\n' ? line + n + 1 : NULL;
		line[n] = '\0';
		if (m == 9 && strncmp(line, "publickey", 9) == 0 && line[m] == ' ') {
			const char *key = line + m + 1;
			size_t t = strcspn(key, " ");

			if (t > strlen(SSHCERT_SUFFIX) &&
			    strncmp(key + t - strlen(SSHCERT_SUFFIX), SSHCERT_SUFFIX,
				    strlen(SSHCERT_SUFFIX)) == 0 &&
			    ++certs == 1)
				r = cert_scopes(l, key, strlen(key), err, errlen);
		} else if ((m == 8 && strncmp(line, "password", 8) == 0) ||
			   strncmp(line, "keyboard-interactive", 20) == 0) {
			pam = true;
		}
	}
	free_secret(text);
	if (r < 0)
		return -1;
	if (certs > 1) {
		/* Which one's scopes? None: AuthenticationMethods with two certificates is odd. */
		l->kind = "cert";
		l->scopes[0] = '\0';
	} else if (certs == 1) {
		l->kind = "cert";
	} else if (pam) {
		const char *fp = getenv(AUTH_ENV_TOKEN_FP);

		l->kind = "token";
		copy_scopes(l, getenv(AUTH_ENV_SCOPES));
		if (fp != NULL && fingerprint_valid(fp))
			snprintf(l->token, sizeof(l->token), "%s", fp);
	}
	return 0;
}

/*
 * What the audit line shows of the command: for the classes we exec, what
 * runs (program and paths); for shell commands and refusals only the first
 * word, as the rest may be anything, a secret too.
 */
static void command_shown(const struct shellcmd *c, const char *raw, char *out, size_t len)
{
	size_t pos = 0, n;

	out[0] = '\0';
	if (c->program != SHELLCMD_NONE) {
		for (size_t i = 0; i < c->argc && pos + 1 < len; i++) {
			int w = snprintf(out + pos, len - pos, "%s%s", i ? " " : "", c->argv[i]);

			pos += w < 0 ? 0 : (size_t)w >= len - pos ? len - pos - 1 : (size_t)w;
		}
		return;
	}
	if (raw == NULL)
		return;
	n = strcspn(raw, " \t\n");
	snprintf(out, len, "%.*s%s", (int)(n < len ? n : len - 1), raw, raw[n] ? " ..." : "");
}

struct decision {
	const char *result, *reason, *command, *user, *source, *token;
};

static void audit(const struct apt_config *cfg, const struct decision *d)
{
	const char *conn = getenv("SSH_CONNECTION");
	char rhost[64] = "", line[1024], why[512];
	struct audit_rec r = {
	    .result = d->result,
	    .reason = d->reason,
	    .command = d->command,
	    .user = d->user,
	    .token = d->token != NULL && d->token[0] != '\0' ? d->token : NULL,
	    .source = d->source,
	    .service = "apitoken-shell",
	};

	/* "CLIENT_ADDR CLIENT_PORT SERVER_ADDR SERVER_PORT", set by sshd after the client's. */
	if (conn != NULL)
		snprintf(rhost, sizeof(rhost), "%.*s", (int)strcspn(conn, " "), conn);
	r.rhost = rhost;
	audit_format(&r, line, sizeof(line));
	openlog("apitoken", LOG_PID, LOG_AUTHPRIV);
	syslog(strcmp(d->result, "allow") == 0 ? LOG_INFO : LOG_NOTICE, "apitoken shell: %s", line);
	if (cfg != NULL && cfg->audit_file != NULL &&
	    audit_append_json(cfg->audit_file, &r, why, sizeof(why)) < 0)
		syslog(LOG_ERR, "audit_file %s; this audit line went to syslog only", why);
	closelog();
}

/* execve of name from the fixed directories; returns only when none ran. */
static void exec_fixed(const char *name, char **argv)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(exec_dirs) / sizeof(exec_dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", exec_dirs[i], name);
		execve(path, argv, environ);
	}
}

static void exec_sftp(const struct shellcmd *c, bool readonly)
{
	char *argv[SHELLCMD_WORDS_MAX + 3];
	size_t n = 0;

	argv[n++] = "sftp-server";
	for (size_t i = 1; i < c->argc; i++)
		argv[n++] = c->argv[i];
	if (readonly)
		argv[n++] = "-R";
	argv[n] = NULL;
	for (size_t i = 0; i < sizeof(sftp_servers) / sizeof(sftp_servers[0]); i++)
		execve(sftp_servers[i], argv, environ);
}

/* The login shell, as sshd runs it: "-c COMMAND", or a login shell ("-sh") with none. */
static void exec_shell(const struct passwd *pw, const char *raw)
{
	const char *shell =
	    pw->pw_shell != NULL && pw->pw_shell[0] != '\0' ? pw->pw_shell : "/bin/sh";
	const char *base = strrchr(shell, '/');
	char argv0[PATH_MAX];

	base = base != NULL ? base + 1 : shell;
	if (raw == NULL) {
		snprintf(argv0, sizeof(argv0), "-%s", base);
		execve(shell, (char *[]){argv0, NULL}, environ);
	} else {
		snprintf(argv0, sizeof(argv0), "%s", base);
		execve(shell, (char *[]){argv0, "-c", (char *)raw, NULL}, environ);
	}
}

static const char *program_name(enum shellcmd_program p)
{
	switch (p) {
	case SHELLCMD_GIT_UPLOAD_PACK:
		return "git-upload-pack";
	case SHELLCMD_GIT_UPLOAD_ARCHIVE:
		return "git-upload-archive";
	case SHELLCMD_GIT_RECEIVE_PACK:
		return "git-receive-pack";
	case SHELLCMD_RSYNC:
		return "rsync";
	case SHELLCMD_SCP:
		return "scp";
	case SHELLCMD_SFTP_SERVER:
		return "sftp-server";
	case SHELLCMD_NONE:
		break;
	}
	return "the login shell";
}

/* The configured word for a class the login lacked, for the refusal line. */
static const char *scope_word(const struct apt_config *cfg, const char *needs)
{
	const char *w = strcmp(needs, "shell") == 0   ? cfg->shell_scope
			: strcmp(needs, "write") == 0 ? cfg->write_scope
						      : cfg->read_scope;

	return w != NULL ? w : "(none: the key is empty)";
}

static int parse_args(int argc, char **argv, const char **config)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc && argv[i + 1][0] == '/') {
			*config = argv[++i];
			continue;
		}
		fprintf(stderr, "apitoken shell: unknown argument \"%s\"\n", argv[i]);
		usage(stderr);
		return EXIT_USAGE;
	}
	return -1;
}

int cmd_shell(int argc, char **argv)
{
	static struct shellcmd c; /* large: not on the stack */
	const char *config = NULL, *raw = getenv("SSH_ORIGINAL_COMMAND"), *info, *needs;
	char cfgarg[PATH_MAX + 8] = "", err[512], shown[512];
	const char *cfgargv[1];
	struct apt_config cfg;
	struct login l = {.kind = "none"};
	struct decision d = {.result = "error", .source = "none"};
	struct shellcmd_grant g;
	struct passwd *pw;
	bool readonly, ok;
	int r = parse_args(argc, argv, &config);

	if (r >= 0)
		return r;
	memset(&cfg, 0, sizeof(cfg));
	if (config != NULL)
		snprintf(cfgarg, sizeof(cfgarg), "config=%s", config);
	cfgargv[0] = cfgarg;
	pw = getpwuid(getuid());
	d.user = pw != NULL ? pw->pw_name : NULL;
	/* Classified first, so that even an error line says what was asked. */
	shellcmd_classify(&c, raw, raw != NULL ? strlen(raw) : 0, pw != NULL ? pw->pw_dir : NULL);
	command_shown(&c, raw, shown, sizeof(shown));
	d.command = shown;
	if (config_load(&cfg, config != NULL ? 1 : 0, cfgargv, err, sizeof(err)) != APT_OK) {
		fprintf(stderr, "apitoken shell: config: %s\n", err);
		d.reason = "config";
		audit(NULL, &d);
		config_free(&cfg);
		return EXIT_CONFIG;
	}
	info = getenv("SSH_USER_AUTH");
	if (pw == NULL || info == NULL) {
		fprintf(stderr, "apitoken shell: %s\n",
			pw == NULL ? "no user database entry for this user"
				   : "no SSH_USER_AUTH: sshd needs ExposeAuthInfo yes");
		d.reason = pw == NULL ? "no_user" : "no_auth_info";
		audit(&cfg, &d);
		config_free(&cfg);
		return EXIT_CONFIG;
	}
	if (read_auth_info(info, &l, err, sizeof(err)) < 0) {
		fprintf(stderr, "apitoken shell: SSH_USER_AUTH: %s\n", err);
		d.reason = "auth_info";
		audit(&cfg, &d);
		config_free(&cfg);
		return EXIT_CONFIG;
	}
	d.source = l.kind;
	d.token = l.token;
	g.read = granted(&l, cfg.read_scope);
	g.write = granted(&l, cfg.write_scope);
	g.shell = granted(&l, cfg.shell_scope);
	ok = shellcmd_allowed(&c, g, &readonly, &needs);
	d.result = ok ? "allow" : "deny";
	d.reason = ok || c.cls == SHELLCMD_REFUSE ? c.reason : "scope";
	if (ok && c.cls == SHELLCMD_SFTP)
		d.reason = readonly ? "sftp_read_only" : "sftp";
	audit(&cfg, &d);
	if (!ok) {
		if (c.cls == SHELLCMD_REFUSE)
			fprintf(stderr, "apitoken shell: refused: %s (%s)\n",
				shown[0] ? shown : "the command", c.reason);
		else
			fprintf(stderr, "apitoken shell: refused: %s needs the scope %s\n",
				c.program != SHELLCMD_NONE ? program_name(c.program)
				: raw != NULL		   ? "a shell command"
							   : "an interactive shell",
				scope_word(&cfg, needs));
		config_free(&cfg);
		return EXIT_NO;
	}
	config_free(&cfg);
	/* What we run gets the core limit the login had, not the one main() set for us. */
	setrlimit(RLIMIT_CORE, caller_core_limit());
	if (c.cls == SHELLCMD_SFTP)
		exec_sftp(&c, readonly);
	else if (c.cls == SHELLCMD_SHELL)
		exec_shell(pw, raw);
	else
		exec_fixed(c.argv[0], c.argv);
	fprintf(stderr, "apitoken shell: cannot run %s: %s\n", program_name(c.program),
		strerror(errno));
	return 127;
}
