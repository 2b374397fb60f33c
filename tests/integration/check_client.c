/*
 * The client commands as a CI job runs them: `apitoken-askpass` answers
 * the module's prompt and nothing else, `apitoken exec` adds exactly the
 * documented variables to CMD's environment and no token, and the token
 * comes from APITOKEN_TOKEN or a private token_file, never from argv.
 * Each run gets a clean environment of the test's choosing.
 */
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testenv.h"
#include "unit.h"

#define ASKPASS TEST_BUILD "/apitoken-askpass"
#define HELPER	TEST_BUILD "/apitoken"
#define TOKEN	"ucat_clientTestToken0123456789"

struct result {
	int status;
	char out[8192];
	char err[4096];
};

/* Runs argv with exactly env, stdin from /dev/null; collects stdout and stderr. */
static struct result run(char *const argv[], char *const env[])
{
	struct result r;

	r.status = unit_spawn(argv, env, r.out, sizeof(r.out), r.err, sizeof(r.err));
	return r;
}

static char xdg[PATH_MAX], envxdg[PATH_MAX + 32];

/* Writes the client config and, when given, a token file with that mode. */
static void client_config(const char *extra, const char *token, mode_t mode)
{
	char dir[PATH_MAX], path[PATH_MAX], file[PATH_MAX], text[PATH_MAX * 2];

	unit_join(xdg, sizeof(xdg), unit_tmpdir(NULL), "xdg");
	mkdir(xdg, 0700);
	unit_join(dir, sizeof(dir), xdg, "apitoken");
	mkdir(dir, 0700);
	unit_join(file, sizeof(file), unit_tmpdir(NULL), "token");
	unlink(file);
	if (token != NULL)
		unit_write_path(file, token, strlen(token), mode);
	snprintf(text, sizeof(text), "%s%s%s\n%s", token ? "token_file = " : "", token ? file : "",
		 "", extra ? extra : "");
	unit_join(path, sizeof(path), dir, "config");
	unlink(path);
	unit_write_path(path, text, strlen(text), 0600);
	snprintf(envxdg, sizeof(envxdg), "XDG_CONFIG_HOME=%s", xdg);
}

static struct result askpass(const char *prompt, const char *token_env, bool password)
{
	char tokvar[256];
	char *argv[] = {ASKPASS, (char *)prompt, NULL};
	char *env[5];
	int n = 0;

	env[n++] = envxdg;
	env[n++] = "PATH=/usr/bin:/bin";
	if (token_env != NULL) {
		snprintf(tokvar, sizeof(tokvar), "APITOKEN_TOKEN=%s", token_env);
		env[n++] = tokvar;
	}
	if (password)
		env[n++] = "APITOKEN_ASKPASS_PASSWORD=1";
	env[n] = NULL;
	return run(argv, env);
}

START_TEST(askpass_answers_only_our_prompt)
{
	static const char *ours[] = {
	    "API token: ", "(ci@127.0.0.1) API token: ", "(deploy@git.example.com) API token: "};
	static const char *others[] = {
	    "",
	    "API token:",
	    "api token: ",
	    "Password: ",
	    "ci@127.0.0.1's password: ",
	    "Enter passphrase for key '/home/ci/.ssh/id_ed25519': ",
	    "Are you sure you want to continue connecting (yes/no/[fingerprint])? ",
	    "(ci@host) Password: ",
	    "(ci@host) API token: \nAPI token: ",
	    "Username for 'https://github.com': ",
	    "[sudo] password for ci: ",
	};
	struct result r;

	client_config(NULL, NULL, 0);
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		r = askpass(ours[i], TOKEN, false);
		ck_assert_msg(r.status == 0, "%s: %d", ours[i], r.status);
		ck_assert_str_eq(r.out, TOKEN "\n");
	}
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		r = askpass(others[i], TOKEN, false);
		ck_assert_msg(r.status == 1, "%s: %d", others[i], r.status);
		ck_assert_msg(r.out[0] == '\0', "answered \"%s\"", others[i]);
	}
}
END_TEST

/*
 * A refusal says which prompt and why, in words a CI log can act on; the
 * prompt, partly the server's text, is shown without control bytes.
 */
START_TEST(askpass_refusal_says_why)
{
	struct result r;

	client_config(NULL, NULL, 0);
	r = askpass("Are you sure you want to continue connecting (yes/no/[fingerprint])? ", TOKEN,
		    false);
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.err,
			 "apitoken askpass: not answering \"Are you sure you want to continue "
			 "connecting (yes/no/[fingerprint])? \": ssh is asking whether to trust "
			 "the host's key, which it does not know yet: the token is no answer to "
			 "that. Give ssh the host's key from a trusted source (known_hosts, or the "
			 "issuer's host CA: see apitoken(1)); never StrictHostKeyChecking no\n");
	r = askpass("Enter passphrase for key '/home/ci/.ssh/id_ed25519': ", TOKEN, false);
	ck_assert_msg(strstr(r.err, "a key's passphrase, not for the API token") != NULL, "%s",
		      r.err);
	r = askpass("ci@127.0.0.1's password: ", TOKEN, false);
	ck_assert_msg(strstr(r.err, "with `apitoken exec --password` the token answers it") != NULL,
		      "%s", r.err);
	r = askpass("(ci@host) Deploy token: ", TOKEN, false);
	ck_assert_msg(strstr(r.err, "\"(ci@host) Deploy token: \": it is not the host's API token "
				    "prompt") != NULL &&
			  strstr(r.err, "set prompt or APITOKEN_PROMPT") != NULL,
		      "%s", r.err);
	/* A hostile server's escape sequences and line breaks do not reach the terminal. */
	r = askpass("\033]0;owned\007(ci@host) API token:\nAPI token: ", TOKEN, false);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "\"?]0;owned?(ci@host) API token:\\nAPI token: \"") != NULL,
		      "%s", r.err);
	ck_assert_ptr_null(strchr(r.err, '\033'));
	ck_assert_ptr_null(strstr(r.err, TOKEN));
}
END_TEST

/*
 * hosts names where the token may go. A git submodule, a ProxyJump or a
 * second rsync target can point ssh at another host; its prompt must get
 * nothing, even when it asks with our prompt.
 */
START_TEST(askpass_answers_only_hosts)
{
	static const char *ours[] = {
	    "(ci@git.corp.example) API token: ",
	    "(deploy@a.b.corp.example) API token: ",
	    "(ci@127.0.0.1) API token: ",
	};
	static const char *others[] = {
	    "(ci@evil.example.net) API token: ",
	    "(ci@git.corp.example.evil.net) API token: ",
	    "(ci@vault.corp.example) API token: ",
	    "(ci@corp.example) API token: ",
	    "(ci@127.0.0.2) API token: ",
	    /* The server's text cannot make itself a host: the prefix ends at the first ')'. */
	    "(ci@evil.example.net) (ci@git.corp.example) API token: ",
	    "(ci@evil.example.net x@git.corp.example) API token: ",
	    "(ci@git.corp.example (x@evil.example.net) API token: ",
	    "(ci@) API token: ",
	    "(git.corp.example) API token: ",
	    /* No "(user@host) ": the host is unknown. */
	    "API token: ",
	};
	struct result r;

	client_config("hosts = *.corp.example !vault.corp.example 127.0.0.1\n", NULL, 0);
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		r = askpass(ours[i], TOKEN, false);
		ck_assert_msg(r.status == 0, "%s: %d %s", ours[i], r.status, r.err);
		ck_assert_str_eq(r.out, TOKEN "\n");
	}
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		r = askpass(others[i], TOKEN, false);
		ck_assert_msg(r.status == 1, "%s: %d", others[i], r.status);
		ck_assert_msg(r.out[0] == '\0', "answered \"%s\"", others[i]);
		ck_assert_msg(strstr(r.err, TOKEN) == NULL, "%s", r.err);
	}
	/* The refusal names the host and the setting. */
	r = askpass("(ci@evil.example.net) API token: ", TOKEN, false);
	ck_assert_msg(strstr(r.err, "evil.example.net is not in hosts (hosts = *.corp.example "
				    "!vault.corp.example 127.0.0.1)") != NULL,
		      "%s", r.err);
	r = askpass("API token: ", TOKEN, false);
	ck_assert_msg(strstr(r.err, "names no host and hosts is set") != NULL, "%s", r.err);

	/* exec --password: the host of "user@host's password: " is checked too. */
	r = askpass("ci@git.corp.example's password: ", TOKEN, true);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, TOKEN "\n");
	r = askpass("ci@evil.example.net's password: ", TOKEN, true);
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "");
	ck_assert_msg(strstr(r.err, "evil.example.net is not in hosts") != NULL, "%s", r.err);

	/* Comma lists as well as blanks. */
	client_config("hosts = a.example,*.corp.example\n", NULL, 0);
	ck_assert_int_eq(askpass("(ci@git.corp.example) API token: ", TOKEN, false).status, 0);
	ck_assert_int_eq(askpass("(ci@b.example) API token: ", TOKEN, false).status, 1);

	/* Without hosts, any host (as before): the bare prompt too. */
	client_config(NULL, NULL, 0);
	ck_assert_int_eq(askpass("(ci@evil.example.net) API token: ", TOKEN, false).status, 0);
	ck_assert_int_eq(askpass("API token: ", TOKEN, false).status, 0);
}
END_TEST

START_TEST(askpass_password_prompt_only_when_asked)
{
	struct result r;

	client_config(NULL, NULL, 0);
	r = askpass("ci@127.0.0.1's password: ", TOKEN, true);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, TOKEN "\n");
	/* Even then: no passphrase, no sudo, nothing with blanks before "'s password". */
	r = askpass("Enter passphrase for key 'x': ", TOKEN, true);
	ck_assert_int_eq(r.status, 1);
	r = askpass("[sudo] password for ci: ", TOKEN, true);
	ck_assert_int_eq(r.status, 1);
	r = askpass("bad guy@host's password: ", TOKEN, true);
	ck_assert_int_eq(r.status, 1);
	r = askpass("nohost's password: ", TOKEN, true);
	ck_assert_int_eq(r.status, 1);
}
END_TEST

START_TEST(askpass_token_file)
{
	struct result r;

	/* A private token file; its trailing newline is not part of the token. */
	client_config(NULL, TOKEN "\n", 0600);
	r = askpass("API token: ", NULL, false);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, TOKEN "\n");
	/* APITOKEN_TOKEN wins over the file. */
	r = askpass("API token: ", "ucat_fromEnv", false);
	ck_assert_str_eq(r.out, "ucat_fromEnv\n");
	/* Readable by group or others: refused, nothing printed. */
	client_config(NULL, TOKEN, 0640);
	r = askpass("API token: ", NULL, false);
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "");
	client_config(NULL, TOKEN, 0604);
	ck_assert_int_eq(askpass("API token: ", NULL, false).status, 1);
	/* No token anywhere. */
	client_config(NULL, NULL, 0);
	r = askpass("API token: ", NULL, false);
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "");
	/* A token the module would refuse is not sent either. */
	client_config(NULL, "ucat_with space", 0600);
	ck_assert_int_eq(askpass("API token: ", NULL, false).status, 1);
}
END_TEST

START_TEST(askpass_prompt_is_configurable)
{
	client_config("prompt = \"Deploy token: \"\n", NULL, 0);
	ck_assert_int_eq(askpass("(ci@h) Deploy token: ", TOKEN, false).status, 0);
	ck_assert_int_eq(askpass("API token: ", TOKEN, false).status, 1);
}
END_TEST

/* CMD's environment: the old one plus exactly the documented variables. */
START_TEST(exec_exports_exactly_what_it_says)
{
	char *argv[] = {HELPER, "exec", "--", "/usr/bin/env", NULL};
	char *argv_pw[] = {HELPER, "exec", "--password", "--", "/usr/bin/env", NULL};
	char *env[] = {envxdg, "PATH=/usr/bin:/bin", "KEEP=me", NULL};
	char cwd[PATH_MAX], want[PATH_MAX + 64];
	struct result r;

	client_config(NULL, TOKEN, 0600);
	r = run(argv, env);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	snprintf(want, sizeof(want), "SSH_ASKPASS=%s/" ASKPASS "\n", cwd);
	ck_assert_msg(strstr(r.out, want) != NULL, "%s", r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "SSH_ASKPASS_REQUIRE=force\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "KEEP=me\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "APITOKEN_ASKPASS_SOCKET=/"));
	ck_assert_ptr_null(strstr(r.out, "APITOKEN_ASKPASS_PASSWORD"));
	/* A token from token_file is not put into the environment. */
	ck_assert_ptr_null(strstr(r.out, TOKEN));
	ck_assert_ptr_null(strstr(r.out, "APITOKEN_TOKEN"));
	{
		int lines = 0;
		for (const char *p = r.out; *p; p++)
			lines += *p == '\n';
		ck_assert_int_eq(lines, 6); /* XDG_CONFIG_HOME, PATH, KEEP + the three */
	}
	r = run(argv_pw, env);
	ck_assert_ptr_nonnull(strstr(r.out, "APITOKEN_ASKPASS_PASSWORD=1\n"));
}
END_TEST

/* exec as a test drives it: stdin and stdout pipes, stderr to a file, a pid to signal. */
struct running {
	pid_t pid;
	int in, out;
	char errpath[PATH_MAX];
};

static void start(struct running *x, char *const argv[], char *const env[])
{
	int in[2], out[2], errfd;

	unit_path(x->errpath, sizeof(x->errpath), "exec.stderr");
	unlink(x->errpath);
	errfd = open(x->errpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_int_ge(errfd, 0);
	ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	x->pid = fork();
	ck_assert_int_ge(x->pid, 0);
	if (x->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(errfd, 2);
		execve(argv[0], argv, env);
		_exit(127);
	}
	close(errfd);
	close(in[0]);
	close(out[1]);
	x->in = in[1];
	x->out = out[0];
}

/* One line of its stdout, without the newline. */
static void read_line(const struct running *x, char *line, size_t len)
{
	size_t n = 0;

	while (n < len - 1 && read(x->out, line + n, 1) == 1 && line[n] != '\n')
		n++;
	line[n] = '\0';
}

/* Closes its stdin, reads the rest of stdout into out; returns the exit status (-signal). */
static int finish(struct running *x, char *out, size_t len)
{
	int status;

	close(x->in);
	unit_read_fd(x->out, out, len);
	close(x->out);
	ck_assert_int_eq(waitpid(x->pid, &status, 0), x->pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

static void read_text(const char *path, char *out, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	unit_read_fd(fd, out, len);
	close(fd);
}

/* The private runtime directory exec makes its socket directory in. */
static char rundir[PATH_MAX], envrun[PATH_MAX + 32];

static void runtime_dir(mode_t mode)
{
	unit_path(rundir, sizeof(rundir), "run");
	mkdir(rundir, 0700);
	ck_assert_int_eq(chmod(rundir, mode), 0);
	snprintf(envrun, sizeof(envrun), "XDG_RUNTIME_DIR=%s", rundir);
}

/* dirname of a socket path, in dir. */
static void sock_dir(const char *sock, char *dir, size_t len)
{
	const char *slash = strrchr(sock, '/');

	ck_assert_ptr_nonnull(slash);
	ck_assert((size_t)(slash - sock) < len);
	memcpy(dir, sock, (size_t)(slash - sock));
	dir[slash - sock] = '\0';
}

/*
 * APITOKEN_TOKEN is gone from CMD's environment and from every process
 * under it: a build step, a git hook or a ProxyCommand that prints or dumps
 * its environment shows no token. askpass under exec still gets it.
 */
START_TEST(exec_keeps_token_out_of_environment)
{
	char tokvar[128];
	char *argv[] = {HELPER, "exec", "--", "/bin/sh", "-c",
			/* A grandchild's own /proc/PID/environ, then an askpass two levels down. */
			"env; sh -c 'cat /proc/self/environ | tr \"\\000\" \"\\n\"'; echo ---; "
			"sh -c '\"$SSH_ASKPASS\" \"(ci@127.0.0.1) API token: \"; true'",
			NULL};
	char *env[] = {envxdg, "PATH=/usr/bin:/bin", tokvar, envrun, NULL};
	const char *sep;
	struct result r;

	client_config(NULL, NULL, 0);
	runtime_dir(0700);
	snprintf(tokvar, sizeof(tokvar), "APITOKEN_TOKEN=%s", TOKEN);
	r = run(argv, env);
	ck_assert_msg(r.status == 0, "%d: %s", r.status, r.err);
	sep = strstr(r.out, "---\n");
	ck_assert_ptr_nonnull(sep);
	ck_assert_str_eq(sep + 4, TOKEN "\n");
	ck_assert_msg(strstr(r.out, "APITOKEN_TOKEN") == NULL, "%s", r.out);
	ck_assert_msg(memmem(r.out, (size_t)(sep - r.out), TOKEN, strlen(TOKEN)) == NULL, "%s",
		      r.out);
	ck_assert_msg(memmem(r.out, (size_t)(sep - r.out), "_clientTestToken", 16) == NULL, "%s",
		      r.out);
	/* env and cat both saw the socket, under $XDG_RUNTIME_DIR. */
	{
		char want[PATH_MAX + 64];
		const char *first, *second;

		snprintf(want, sizeof(want), "APITOKEN_ASKPASS_SOCKET=%s/apitoken-exec.", rundir);
		first = strstr(r.out, want);
		ck_assert_msg(first != NULL, "%s", r.out);
		second = strstr(first + 1, want);
		ck_assert_msg(second != NULL && second < sep, "%s", r.out);
	}
}
END_TEST

/*
 * token_env: the platform's own variable. exec drops it (and
 * APITOKEN_TOKEN, which token_env does not list) from CMD's environment
 * like APITOKEN_TOKEN, and serves the token to CMD's askpass; a trailing
 * newline in the variable goes, with a note on stderr.
 */
START_TEST(exec_drops_token_env_variables)
{
	char *argv[] = {HELPER, "exec",
			"--",	"/bin/sh",
			"-c",	"env; echo ---; \"$SSH_ASKPASS\" \"(ci@127.0.0.1) API token: \"",
			NULL};
	char *env[] = {envxdg,
		       "PATH=/usr/bin:/bin",
		       "UPCLOUD_TOKEN=" TOKEN "\n",
		       "APITOKEN_TOKEN=wrong_" TOKEN,
		       "OTHER=kept",
		       envrun,
		       NULL};
	const char *sep;
	struct result r;

	client_config("token_env = UPSUN_CLI_TOKEN UPCLOUD_TOKEN\n", NULL, 0);
	runtime_dir(0700);
	r = run(argv, env);
	ck_assert_msg(r.status == 0, "%d: %s", r.status, r.err);
	sep = strstr(r.out, "---\n");
	ck_assert_ptr_nonnull(sep);
	ck_assert_str_eq(sep + 4, TOKEN "\n");
	ck_assert_msg(strstr(r.out, "UPCLOUD_TOKEN") == NULL, "%s", r.out);
	ck_assert_msg(strstr(r.out, "APITOKEN_TOKEN") == NULL, "%s", r.out);
	ck_assert_msg(memmem(r.out, (size_t)(sep - r.out), TOKEN, strlen(TOKEN)) == NULL, "%s",
		      r.out);
	ck_assert_msg(strstr(r.out, "OTHER=kept\n") != NULL, "%s", r.out);
	ck_assert_str_eq(r.err, "apitoken exec: note: removed the trailing newline from "
				"UPCLOUD_TOKEN\n");
}
END_TEST

/*
 * The socket serves exec's descendants only. A process of the same user
 * that is not under exec (here: the test itself, and the real askpass
 * started by the test) gets nothing, while the command's own askpass gets
 * the token; afterwards the socket and its directory are gone.
 */
START_TEST(exec_serves_only_descendants)
{
	char *argv[] = {HELPER,
			"exec",
			"--",
			"/bin/sh",
			"-c",
			"echo \"$APITOKEN_ASKPASS_SOCKET\"; read x; "
			"\"$SSH_ASKPASS\" \"(ci@127.0.0.1) API token: \"",
			NULL};
	char *env[] = {envxdg, "PATH=/usr/bin:/bin", envrun, NULL};
	char sock[PATH_MAX], dir[PATH_MAX], sockvar[PATH_MAX + 32], out[8192], err[4096];
	char *ask_argv[] = {ASKPASS, "(ci@127.0.0.1) API token: ", NULL};
	char *ask_env[] = {envxdg, "PATH=/usr/bin:/bin", sockvar, NULL};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct running x;
	struct result r;
	struct stat sb;
	char byte;
	int fd;

	client_config(NULL, TOKEN, 0600);
	runtime_dir(0700);
	start(&x, argv, env);
	read_line(&x, sock, sizeof(sock));
	ck_assert_msg(strncmp(sock, rundir, strlen(rundir)) == 0, "%s", sock);
	sock_dir(sock, dir, sizeof(dir));
	ck_assert_int_eq(lstat(dir, &sb), 0);
	ck_assert(S_ISDIR(sb.st_mode));
	ck_assert_int_eq(sb.st_mode & 0777, 0700);
	ck_assert_int_eq(sb.st_uid, getuid());

	/* The real askpass, same uid, pointed at the socket, but not under exec. */
	snprintf(sockvar, sizeof(sockvar), "APITOKEN_ASKPASS_SOCKET=%s", sock);
	r = run(ask_argv, ask_env);
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "");
	ck_assert_msg(strstr(r.err, "refused the token to this askpass") != NULL, "%s", r.err);
	/* A plain connection from the test: end of stream, not one byte. */
	ck_assert(strlen(sock) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(read(fd, &byte, 1), 0);
	close(fd);

	/* The command goes on: its askpass is a descendant and gets the token. */
	ck_assert_int_eq(write(x.in, "\n", 1), 1);
	ck_assert_int_eq(finish(&x, out, sizeof(out)), 0);
	ck_assert_str_eq(out, TOKEN "\n");
	read_text(x.errpath, err, sizeof(err));
	ck_assert_msg(strstr(err, "not started under this exec") != NULL, "%s", err);
	ck_assert_msg(strstr(err, TOKEN) == NULL, "%s", err);
	ck_assert_int_eq(lstat(sock, &sb), -1);
	ck_assert_int_eq(lstat(dir, &sb), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/*
 * A process whose parent exits before it asks (a daemonized ProxyCommand,
 * a backgrounded ssh) is reparented to exec, its subreaper, not to init:
 * it is still under exec and still gets the token.
 */
START_TEST(exec_serves_orphans)
{
	char file[PATH_MAX];
	char *argv[] = {
	    HELPER,
	    "exec",
	    "--",
	    "/bin/sh",
	    "-c",
	    "( (sleep 0.2; \"$SSH_ASKPASS\" \"$1\" > \"$2.tmp\"; mv \"$2.tmp\" \"$2\") & ); "
	    "i=0; while [ ! -e \"$2\" ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i+1)); "
	    "done",
	    "sh",
	    "(ci@127.0.0.1) API token: ",
	    file,
	    NULL};
	char *env[] = {envxdg, "PATH=/usr/bin:/bin", envrun, NULL};
	char got[256];
	struct result r;

	client_config(NULL, TOKEN, 0600);
	runtime_dir(0700);
	unit_path(file, sizeof(file), "orphan.out");
	unlink(file);
	r = run(argv, env);
	ck_assert_msg(r.status == 0, "%d: %s", r.status, r.err);
	read_text(file, got, sizeof(got));
	ck_assert_msg(strcmp(got, TOKEN "\n") == 0, "\"%s\" %s", got, r.err);
}
END_TEST

/* CMD's status comes back as a shell reports it; signals reach CMD; nothing is left behind. */
START_TEST(exec_status_and_signals)
{
	char *killed[] = {HELPER, "exec", "--", "/bin/sh", "-c", "kill -TERM $$", NULL};
	char *trapped[] = {HELPER,
			   "exec",
			   "--",
			   "/bin/sh",
			   "-c",
			   "trap 'exit 42' TERM; echo \"$APITOKEN_ASKPASS_SOCKET\"; "
			   "while :; do sleep 0.05; done",
			   NULL};
	char *env[] = {envxdg, "PATH=/usr/bin:/bin", envrun, NULL};
	char sock[PATH_MAX], dir[PATH_MAX], out[256];
	struct running x;
	struct stat sb;
	DIR *d;
	struct dirent *e;

	client_config(NULL, TOKEN, 0600);
	runtime_dir(0700);
	ck_assert_int_eq(run(killed, env).status, 128 + SIGTERM);

	/* SIGTERM to exec reaches CMD, which handles it; exec exits with CMD's status. */
	start(&x, trapped, env);
	read_line(&x, sock, sizeof(sock));
	sock_dir(sock, dir, sizeof(dir));
	ck_assert_int_eq(kill(x.pid, SIGTERM), 0);
	ck_assert_int_eq(finish(&x, out, sizeof(out)), 42);
	ck_assert_int_eq(lstat(dir, &sb), -1);

	/* Every run removed its directory: $XDG_RUNTIME_DIR is empty again. */
	d = opendir(rundir);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		ck_assert_msg(strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0,
			      "left behind: %s", e->d_name);
	closedir(d);
}
END_TEST

/* exec itself may dump no core (soft limit 0, helper/main.c); CMD gets the caller's limit back. */
START_TEST(exec_core_limits)
{
	char script[] = "grep '^Max core file size' /proc/self/limits /proc/$PPID/limits";
	char *argv[] = {HELPER, "exec", "--", "/bin/sh", "-c", script, NULL};
	char *env[] = {envxdg, "PATH=/usr/bin:/bin", envrun, NULL};
	struct rlimit core = {1048576, 2097152};
	unsigned long long cmd_soft, cmd_hard, exec_soft, exec_hard;
	struct result r;

	client_config(NULL, TOKEN, 0600);
	runtime_dir(0700);
	ck_assert_int_eq(setrlimit(RLIMIT_CORE, &core), 0);
	r = run(argv, env);
	ck_assert_msg(r.status == 0, "%d: %s", r.status, r.err);
	/* grep names each file: CMD's own limits first, then its parent's, exec's. */
	ck_assert_msg(sscanf(r.out,
			     "%*[^:]:Max core file size %llu %llu bytes "
			     "%*[^:]:Max core file size %llu %llu",
			     &cmd_soft, &cmd_hard, &exec_soft, &exec_hard) == 4,
		      "%s", r.out);
	ck_assert_msg(cmd_soft == 1048576 && cmd_hard == 2097152, "CMD: %s", r.out);
	ck_assert_msg(exec_soft == 0 && exec_hard == 2097152, "exec: %s", r.out);
}
END_TEST

/* An $XDG_RUNTIME_DIR others may enter is not used: the socket goes to /tmp instead. */
START_TEST(exec_unsafe_runtime_dir)
{
	char *argv[] = {HELPER, "exec", "--", "/bin/sh", "-c", "echo \"$APITOKEN_ASKPASS_SOCKET\"",
			NULL};
	char *env[] = {envxdg, "PATH=/usr/bin:/bin", envrun, NULL};
	struct result r;

	client_config(NULL, TOKEN, 0600);
	runtime_dir(0755);
	r = run(argv, env);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strncmp(r.out, "/tmp/apitoken-exec.", 19) == 0, "%s", r.out);
	runtime_dir(0700);
}
END_TEST

START_TEST(exec_runs_askpass_end_to_end)
{
	/* What ssh does: run $SSH_ASKPASS with the prompt, read the answer. */
	char *argv[] = {HELPER, "exec",
			"--",	"/bin/sh",
			"-c",	"exec \"$SSH_ASKPASS\" \"$1\"",
			"sh",	"(ci@127.0.0.1) API token: ",
			NULL};
	char *env[] = {envxdg, "PATH=/usr/bin:/bin", NULL};
	struct result r;

	client_config(NULL, TOKEN, 0600);
	r = run(argv, env);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, TOKEN "\n");
}
END_TEST

START_TEST(exec_usage_and_errors)
{
	char *no_dashdash[] = {HELPER, "exec", "ssh", "host", NULL};
	char *no_cmd[] = {HELPER, "exec", "--", NULL};
	char *bad_opt[] = {HELPER, "exec", "--token=x", "--", "true", NULL};
	char *missing[] = {HELPER, "exec", "--", "/nonexistent/cmd", NULL};
	char *ok[] = {HELPER, "exec", "--", "/bin/sh", "-c", "exit 7", NULL};
	char *env[] = {envxdg, "PATH=/usr/bin:/bin", NULL};
	char *noenv[] = {"XDG_CONFIG_HOME=/nonexistent", "PATH=/usr/bin:/bin", NULL};

	struct result r;

	client_config(NULL, TOKEN, 0600);
	r = run(no_dashdash, env);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(
	    strncmp(r.err, "apitoken exec: put -- before the command: apitoken exec -- ssh ...\n",
		    66) == 0,
	    "%s", r.err);
	r = run(no_cmd, env);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strncmp(r.err, "apitoken exec: no command after --\n", 35) == 0, "%s", r.err);
	r = run(bad_opt, env);
	ck_assert_int_eq(r.status, 2); /* no option takes a token */
	ck_assert_msg(strstr(r.err, "unknown option --token=x") != NULL, "%s", r.err);
	ck_assert_int_eq(run(missing, env).status, 127);
	ck_assert_int_eq(run(ok, env).status, 7);   /* CMD's own status */
	ck_assert_int_eq(run(ok, noenv).status, 3); /* no token: says so before running */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("client");
	TCase *tc = tcase_create("askpass+exec");

	unit_tmpdir("check_client");
	tcase_add_test(tc, askpass_answers_only_our_prompt);
	tcase_add_test(tc, askpass_refusal_says_why);
	tcase_add_test(tc, askpass_answers_only_hosts);
	tcase_add_test(tc, askpass_password_prompt_only_when_asked);
	tcase_add_test(tc, askpass_token_file);
	tcase_add_test(tc, askpass_prompt_is_configurable);
	tcase_add_test(tc, exec_exports_exactly_what_it_says);
	tcase_add_test(tc, exec_runs_askpass_end_to_end);
	tcase_add_test(tc, exec_keeps_token_out_of_environment);
	tcase_add_test(tc, exec_drops_token_env_variables);
	tcase_add_test(tc, exec_serves_only_descendants);
	tcase_add_test(tc, exec_serves_orphans);
	tcase_add_test(tc, exec_status_and_signals);
	tcase_add_test(tc, exec_core_limits);
	tcase_add_test(tc, exec_unsafe_runtime_dir);
	tcase_add_test(tc, exec_usage_and_errors);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
