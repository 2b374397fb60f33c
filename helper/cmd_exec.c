/*
 * `apitoken exec [--password] -- CMD [ARG...]`: runs CMD so that every ssh
 * it starts (directly, or through git, rsync, scp) answers the module's
 * prompt with the token through `apitoken-askpass`, with no terminal and no
 * token in any argv or in any child's environment.
 *
 * What CMD's environment gains, exactly:
 *   SSH_ASKPASS=<dir of this binary>/apitoken-askpass
 *   SSH_ASKPASS_REQUIRE=force
 *   APITOKEN_ASKPASS_SOCKET=<private dir>/s
 *   APITOKEN_ASKPASS_PASSWORD=1     only with --password
 * and it loses APITOKEN_TOKEN and every variable of token_env: build steps, git hooks and
 * ProxyCommands inherit CMD's environment, and print, log and dump it. Instead exec stays as CMD's
 * parent and serves the token on that socket to its own descendants (helper/tokensock.c), until CMD
 * ends.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "commands.h"
#include "settings.h"
#include "tokensock.h"
#include "words.h"

extern char **environ;

/* Forwarded to CMD: exec is its parent, not a bystander. */
static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

static void usage(FILE *f)
{
	fputs("usage: apitoken exec [--password] -- COMMAND [ARG...]\n"
	      "\n"
	      "Runs COMMAND (ssh, git, rsync, scp, or a script running them) so that every ssh\n"
	      "it starts answers the API token prompt with the token, asking nothing on a\n"
	      "terminal. COMMAND gets SSH_ASKPASS=apitoken-askpass, SSH_ASKPASS_REQUIRE=force\n"
	      "and APITOKEN_ASKPASS_SOCKET, and loses APITOKEN_TOKEN: exec serves the token on\n"
	      "that socket to COMMAND's own descendants until COMMAND ends.\n"
	      "\n"
	      "  --password   also answer ssh's \"user@host's password: \" (for hosts where the\n"
	      "               token is the password of the password method)\n"
	      "  --help, -h   this text\n"
	      "  --           ends the options: everything after it is COMMAND and its\n"
	      "               arguments (`exec -- CMD --help` asks CMD)\n"
	      "\n"
	      "The token comes from APITOKEN_TOKEN or token_file in ~/.config/apitoken/config.\n"
	      "Exit status: COMMAND's (128+N for signal N), 2 usage, 3 no usable token or\n"
	      "settings, 126/127 COMMAND cannot be run. See apitoken(1).\n",
	      f);
}

static int usage_error(void)
{
	usage(stderr);
	return EXIT_USAGE;
}

/* apitoken-askpass beside the running binary: ssh calls SSH_ASKPASS with the prompt only. */
static int askpass_path(char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	struct stat st;
	char *slash;

	if (n <= 0)
		return -1;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	if (snprintf(out, len, "%s/apitoken-askpass", self) >= (int)len)
		return -1;
	return stat(out, &st) == 0 && (st.st_mode & S_IXUSR) ? 0 : -1;
}

/*
 * Wipes the value of the variable name where the kernel shows it
 * (/proc/PID/environ is the initial environment block), then drops the
 * variable, so no child inherits it.
 */
static void drop_env(const char *name, size_t n)
{
	char var[256];

	if (n >= sizeof(var))
		return;
	memcpy(var, name, n);
	var[n] = '\0';
	for (char **e = environ; e != NULL && *e != NULL; e++)
		if (strncmp(*e, var, n) == 0 && (*e)[n] == '=')
			explicit_bzero(*e + n + 1, strlen(*e + n + 1));
	unsetenv(var);
}

/* Every variable the token may be read from (token_env), and APITOKEN_TOKEN always. */
static void drop_token_env(const struct settings *s)
{
	const char *w;
	size_t n;

	for (const char *p = settings_token_env(s); next_word(&p, &w, &n);)
		drop_env(w, n);
	drop_env("APITOKEN_TOKEN", strlen("APITOKEN_TOKEN"));
}

/* The child: CMD with the documented variables, the parent's mask and core limit. */
static void run_command(char **cmd, const char *askpass, const char *sock, bool password,
			const sigset_t *oldmask, const struct rlimit *core)
{
	if (setenv("SSH_ASKPASS", askpass, 1) != 0 ||
	    setenv("SSH_ASKPASS_REQUIRE", "force", 1) != 0 || setenv(TOKENSOCK_ENV, sock, 1) != 0 ||
	    (password ? setenv("APITOKEN_ASKPASS_PASSWORD", "1", 1)
		      : unsetenv("APITOKEN_ASKPASS_PASSWORD")) != 0) {
		perror("apitoken exec: setenv");
		_exit(exec_exit_status(APT_SERVICE));
	}
	setrlimit(RLIMIT_CORE, core);
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	execvp(cmd[0], cmd);
	fprintf(stderr, "apitoken exec: %s: %s\n", cmd[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/*
 * The parent: serves the socket, forwards signals, reaps orphans (it is
 * their subreaper) until CMD ends; returns CMD's status as a shell reports it.
 */
static int serve(pid_t child, const struct tokensock *ts, int sfd, const char *tok, size_t len)
{
	char err[256];

	for (;;) {
		struct pollfd p[2] = {{ts->fd, POLLIN, 0}, {sfd, POLLIN, 0}};
		struct signalfd_siginfo si;

		if (poll(p, 2, -1) < 0) {
			int status;

			if (errno == EINTR)
				continue;
			/* Nothing left to serve with: CMD must not run on unsupervised. */
			perror("apitoken exec: poll");
			kill(child, SIGKILL);
			while (waitpid(child, &status, 0) < 0 && errno == EINTR)
				;
			return 1;
		}
		if (p[0].revents & POLLIN)
			while (tokensock_serve_one(ts, tok, len, err, sizeof(err)) >= 0)
				if (err[0] != '\0')
					fprintf(stderr, "apitoken exec: %s\n", err);
		if (!(p[1].revents & POLLIN) || read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo != SIGCHLD) {
			kill(child, (int)si.ssi_signo);
			continue;
		}
		for (;;) {
			int status;
			pid_t r = waitpid(-1, &status, WNOHANG);

			if (r <= 0)
				break;
			if (r == child)
				return WIFEXITED(status)     ? WEXITSTATUS(status)
				       : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
							     : 1;
		}
	}
}

int exec_exit_status(enum apt_rc rc)
{
	/* Every failure before CMD runs is one of the settings, the token or the system. */
	return rc == APT_OK ? 0 : EXIT_CONFIG;
}

int cmd_exec(int argc, char **argv)
{
	char askpass[PATH_MAX], err[512], *tok = NULL;
	struct rlimit core = *caller_core_limit();
	struct tokensock ts = {.fd = -1};
	sigset_t mask, oldmask;
	bool password = false;
	struct settings s;
	struct token_source src;
	pid_t child;
	enum apt_rc rc;
	size_t len = 0;
	int i, sfd = -1, status = 0;

	/*
	 * The token stays in this process while CMD runs: main() left it no
	 * core file and no ptrace or /proc/PID/mem for other processes of the
	 * user. CMD gets the caller's core limit back.
	 */
	/* Only before "--": after it, a --help is COMMAND's own. */
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--password") == 0) {
			password = true;
		} else if (help_option(argv[i])) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] != '-') {
			/* The command's own options must not be read as ours: -- marks where it
			 * starts. */
			fprintf(stderr,
				"apitoken exec: put -- before the command: apitoken exec%s -- %s "
				"...\n",
				password ? " --password" : "", argv[i]);
			return usage_error();
		} else {
			fprintf(stderr, "apitoken exec: unknown option %s\n", argv[i]);
			return usage_error();
		}
	}
	if (i + 1 >= argc) {
		fprintf(stderr, "apitoken exec: no command after --\n");
		return usage_error();
	}
	if (askpass_path(askpass, sizeof(askpass)) < 0) {
		fprintf(stderr,
			"apitoken exec: apitoken-askpass is not installed beside apitoken\n");
		return exec_exit_status(APT_SERVICE);
	}
	/* Fail now, clearly, rather than as a refused login after ssh's prompt. */
	rc = settings_load(&s, err, sizeof(err));
	if (rc == APT_OK)
		rc = settings_token_from(&s, &tok, &len, &src, err, sizeof(err));
	if (rc == APT_OK && src.trimmed_eol)
		fprintf(stderr, "apitoken exec: note: removed the trailing newline from %s\n",
			src.name);
	drop_token_env(&s);
	settings_free(&s);
	if (rc != APT_OK) {
		fprintf(stderr, "apitoken exec: %s\n", rc == APT_NOMEM ? "out of memory" : err);
		goto out;
	}
	if ((rc = tokensock_listen(&ts, err, sizeof(err))) != APT_OK) {
		fprintf(stderr, "apitoken exec: %s\n", err);
		goto out;
	}
	rc = APT_SERVICE; /* until CMD runs */
	/*
	 * Orphans (a daemonized ProxyCommand, a backgrounded ssh) stay our
	 * descendants instead of moving to init, so they still get the token.
	 */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	for (size_t k = 0; k < sizeof(forwarded) / sizeof(forwarded[0]); k++)
		sigaddset(&mask, forwarded[k]);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0 ||
	    sigprocmask(SIG_BLOCK, &mask, &oldmask) != 0 ||
	    (sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
		perror("apitoken exec");
		goto out;
	}
	child = fork();
	if (child < 0) {
		perror("apitoken exec: fork");
		goto out;
	}
	if (child == 0) {
		explicit_bzero(tok, len);
		run_command(argv + i + 1, askpass, ts.path, password, &oldmask, &core);
	}
	rc = APT_OK;
	status = serve(child, &ts, sfd, tok, len);
out:
	if (sfd >= 0)
		close(sfd);
	tokensock_remove(&ts);
	free_secret(tok);
	return rc == APT_OK ? status : exec_exit_status(rc);
}
