/*
 * `apitoken ssh-cert load|info|clear` and `apitoken token check` (DESIGN.md
 * §8) end to end: the real binary build/apitoken, run with a clean and
 * explicit environment (HOME, XDG_STATE_HOME, XDG_CONFIG_HOME and
 * APITOKEN_SSH_CONFIG in the test's own directory; APITOKEN_TOKEN,
 * APITOKEN_CERT_URL, ... as each test says; no SSH_AUTH_SOCK unless the
 * test has an agent), against the real test issuer (tests/idp: both
 * certificate protocols, the api_token exchange, its counters), a real sshd
 * that trusts the issuer's CA (TrustedUserCAKeys, publickey only; see
 * tests/support/sshd.h, SSHD_CERT), and the real ssh, git, rsync,
 * ssh-keygen, ssh-add and a private ssh-agent.
 *
 * Each test gets a fresh directory and token and the issuer's default
 * certificate settings (checked fixture); the issuer, sshd, the users and
 * the agent live in the parent (unchecked fixture) and are removed at its end.
 *
 * Needs root (users, sshd).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "sshd.h"
#include "testenv.h"
#include "unit.h"

#define BOGUS_TOKEN "ucat_NoSuchTokenWasEverIssued0000000000000"

static struct server idp;
static struct sshd server;
/*
 * Their host keys certified by the issuer's host CA (server's is not): one
 * trusting the user CA (certificates), one asking for the token
 * (keyboard-interactive, for `apitoken exec`).
 */
static struct sshd hserver, kserver;
static char apitoken[PATH_MAX]; /* build/apitoken, absolute */
static char agent_sock[400];

/* --- the parent: issuer, sshd trusting its CA, users, agent ---------------- */

/*
 * A private ssh-agent at agent_sock. It runs a command that lives as long as
 * a pipe we hold (cat on its stdin): were this process to die without
 * down(), cat ends and ssh-agent, which checks its command every 10 s,
 * ends too and removes its socket.
 */
static struct {
	pid_t cmd;   /* our child: ssh-agent's command, sh then cat */
	pid_t agent; /* the agent itself ($SSH_AGENT_PID) */
	int in_fd;   /* cat's stdin */
} agent;

static void start_agent(void)
{
	char line[64] = "";
	struct timespec t0, now;
	struct stat sb;
	int in[2], out[2];
	size_t len = 0;

	snprintf(agent_sock, sizeof(agent_sock), "%s/agent.sock", T.root);
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
		exit(2);
	agent.cmd = fork();
	if (agent.cmd < 0)
		exit(2);
	if (agent.cmd == 0) {
		char *argv[] = {"ssh-agent", "-a", agent_sock,
				"/bin/sh",   "-c", "echo \"$SSH_AGENT_PID\"; exec cat >/dev/null",
				NULL};
		char *envp[] = {"PATH=/usr/bin:/bin", NULL};
		int fd = open("/dev/null", O_WRONLY);

		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(fd, 2);
		execve("/usr/bin/ssh-agent", argv, envp);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	agent.in_fd = in[1];
	while (strchr(line, '\n') == NULL && len < sizeof(line) - 1) {
		struct pollfd p = {out[0], POLLIN, 0};
		ssize_t n;

		if (poll(&p, 1, 5000) <= 0 ||
		    (n = read(out[0], line + len, sizeof(line) - 1 - len)) <= 0)
			break;
		len += (size_t)n;
		line[len] = '\0';
	}
	close(out[0]);
	agent.agent = (pid_t)atoi(line);
	if (agent.agent <= 1) {
		fprintf(stderr, "ssh-agent did not start (said \"%s\")\n", line);
		exit(2);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (stat(agent_sock, &sb) != 0 || !S_ISSOCK(sb.st_mode)) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > 5) {
			fprintf(stderr, "ssh-agent: no socket at %s\n", agent_sock);
			exit(2);
		}
		usleep(5000);
	}
}

static void stop_agent(void)
{
	if (agent.agent > 1)
		kill(agent.agent, SIGTERM);
	if (agent.cmd > 0) {
		close(agent.in_fd);
		waitpid(agent.cmd, NULL, 0);
	}
	/* It removes its socket on the way out. */
	for (int i = 0; i < 200 && access(agent_sock, F_OK) == 0; i++)
		usleep(10 * 1000);
	memset(&agent, 0, sizeof(agent));
}

static void up(void)
{
	char *ca;

	if (realpath(TEST_BUILD "/apitoken", apitoken) == NULL) {
		fprintf(stderr, TEST_BUILD "/apitoken: %s (run make first)\n", strerror(errno));
		exit(2);
	}
	testenv_up(&idp, NULL);
	ca = idp_ca_keys(&idp);
	sshd_users_create();
	sshd_start_ca(&server, ca);
	{
		char url[100];

		snprintf(url, sizeof(url), "http://127.0.0.1:%d/test/host-cert", idp.port);
		sshd_start_host_cert(&hserver, SSHD_CERT, NULL, ca, url);
		/* kserver's PAM stack: the module, against the issuer. */
		idp_service(&idp, "token_prefixes = ucat_\nrequired_scopes = ssh\n", NULL);
		sshd_start_host_cert(&kserver, SSHD_KBDINT, NULL, NULL, url);
	}
	free(ca);
	start_agent();
}

static void down(void)
{
	stop_agent();
	sshd_stop(&kserver);
	sshd_stop(&hserver);
	sshd_stop(&server);
	sshd_users_remove();
	testenv_down(&idp, NULL);
}

/* --- one test's world -------------------------------------------------------- */

static struct {
	char dir[400];
	char home[450], state[450], config_home[450], config[500], sshconf[500];
	char sshdir[500], key[550], pub[550], cert[550], include[550], known[550];
	char token[128];     /* in token_var; "" for none */
	char token_var[64];  /* the variable holding token: APITOKEN_TOKEN unless set */
	const char *extra;   /* one more VAR=value; NULL for none */
	char cert_url[200];  /* APITOKEN_CERT_URL; "" for none */
	char token_url[200]; /* APITOKEN_TOKEN_URL; "" for none */
	const char *agent;   /* SSH_AUTH_SOCK; NULL for none */
	char *out, *err;     /* of the last command */
} C;

static void mkdir_ok(const char *path, mode_t mode)
{
	ck_assert_msg(mkdir(path, mode) == 0, "%s: %s", path, strerror(errno));
}

static void fresh(void)
{
	char *tok;

	idp_reset(&idp);
	snprintf(C.dir, sizeof(C.dir), "%s/t.XXXXXX", T.root);
	ck_assert_ptr_nonnull(mkdtemp(C.dir));
	snprintf(C.home, sizeof(C.home), "%s/home", C.dir);
	snprintf(C.state, sizeof(C.state), "%s/state", C.dir);
	snprintf(C.config_home, sizeof(C.config_home), "%s/config", C.dir);
	snprintf(C.config, sizeof(C.config), "%s/apitoken/config", C.config_home);
	snprintf(C.sshconf, sizeof(C.sshconf), "%s/.ssh/config", C.home);
	snprintf(C.sshdir, sizeof(C.sshdir), "%s/apitoken/ssh", C.state);
	snprintf(C.key, sizeof(C.key), "%s/id_ed25519", C.sshdir);
	snprintf(C.pub, sizeof(C.pub), "%s/id_ed25519.pub", C.sshdir);
	snprintf(C.cert, sizeof(C.cert), "%s/id_ed25519-cert.pub", C.sshdir);
	snprintf(C.include, sizeof(C.include), "%s/ssh_config", C.sshdir);
	snprintf(C.known, sizeof(C.known), "%s/known_hosts", C.sshdir);
	mkdir_ok(C.home, 0700);
	{
		char p[500];
		snprintf(p, sizeof(p), "%s/.ssh", C.home);
		mkdir_ok(p, 0700);
		mkdir_ok(C.config_home, 0700);
		snprintf(p, sizeof(p), "%s/apitoken", C.config_home);
		mkdir_ok(p, 0700);
	}
	tok = idp_mint(&idp, SU.member, "ssh", 600, NULL);
	snprintf(C.token, sizeof(C.token), "%s", tok);
	free(tok);
	snprintf(C.cert_url, sizeof(C.cert_url), "http://127.0.0.1:%d/ssh/cert", idp.port);
	C.token_url[0] = '\0';
	snprintf(C.token_var, sizeof(C.token_var), "APITOKEN_TOKEN");
	C.extra = NULL;
	C.agent = NULL;
	/* The last test's output: under CK_FORK=no the tests share this process. */
	free(C.out);
	free(C.err);
	C.out = C.err = NULL;
}

static void put(const char *path, mode_t mode, const char *text)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	fchmod(fd, mode);
	close(fd);
}

/* The client's config file, $XDG_CONFIG_HOME/apitoken/config. */
static void client_config(const char *text)
{
	put(C.config, 0600, text);
}

static void ck_no_token(const char *text, const char *what)
{
	ck_assert_msg(text == NULL || C.token[0] == '\0' || strstr(text, C.token) == NULL,
		      "the token is in %s:\n%s", what, text);
}

/*
 * Runs argv (argv[0] a path) with envp, stdin /dev/null; stdout and stderr
 * in C.out and C.err. Returns the exit status.
 */
static int spawn(char *const argv[], char *const envp[])
{
	char outf[500], errf[500];
	pid_t pid;
	int st;

	free(C.out);
	free(C.err);
	snprintf(outf, sizeof(outf), "%s/cmd.out", C.dir);
	snprintf(errf, sizeof(errf), "%s/cmd.err", C.dir);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_RDONLY);

		dup2(fd, 0);
		fd = open(outf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		fd = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	C.out = file_text(outf, 0);
	C.err = file_text(errf, 0);
	ck_assert_ptr_nonnull(C.out);
	ck_assert_ptr_nonnull(C.err);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * `build/apitoken ARGS...` (NULL-terminated) in the test's environment:
 * nothing but what is listed here. The token is never in what it prints.
 */
static int apt(const char *arg, ...)
{
	char e_home[500], e_state[500], e_config[500], e_sshconf[550], e_token[200],
	    e_cert_url[250], e_token_url[250], e_agent[450];
	char *argv[16], *envp[16];
	size_t n = 0, e = 0;
	va_list ap;
	int rc;

	argv[n++] = apitoken;
	va_start(ap, arg);
	for (const char *a = arg; a != NULL; a = va_arg(ap, const char *)) {
		ck_assert_uint_lt(n, 15);
		argv[n++] = (char *)a;
	}
	va_end(ap);
	argv[n] = NULL;

	snprintf(e_home, sizeof(e_home), "HOME=%s", C.home);
	snprintf(e_state, sizeof(e_state), "XDG_STATE_HOME=%s", C.state);
	snprintf(e_config, sizeof(e_config), "XDG_CONFIG_HOME=%s", C.config_home);
	snprintf(e_sshconf, sizeof(e_sshconf), "APITOKEN_SSH_CONFIG=%s", C.sshconf);
	envp[e++] = "PATH=/usr/bin:/bin";
	envp[e++] = "LANG=C";
	envp[e++] = e_home;
	envp[e++] = e_state;
	envp[e++] = e_config;
	envp[e++] = e_sshconf;
	if (C.token[0] != '\0') {
		snprintf(e_token, sizeof(e_token), "%s=%s", C.token_var, C.token);
		envp[e++] = e_token;
	}
	if (C.cert_url[0] != '\0') {
		snprintf(e_cert_url, sizeof(e_cert_url), "APITOKEN_CERT_URL=%s", C.cert_url);
		envp[e++] = e_cert_url;
	}
	if (C.token_url[0] != '\0') {
		snprintf(e_token_url, sizeof(e_token_url), "APITOKEN_TOKEN_URL=%s", C.token_url);
		envp[e++] = e_token_url;
	}
	if (C.extra != NULL)
		envp[e++] = (char *)C.extra;
	if (C.agent != NULL) {
		snprintf(e_agent, sizeof(e_agent), "SSH_AUTH_SOCK=%s", C.agent);
		envp[e++] = e_agent;
	}
	envp[e] = NULL;
	rc = spawn(argv, envp);
	ck_no_token(C.out, "stdout");
	ck_no_token(C.err, "stderr");
	return rc;
}

/* apt() that must exit with WANT. */
#define ck_apt(want, ...)                                                                          \
	do {                                                                                       \
		int rc_ = apt(__VA_ARGS__, (const char *)NULL);                                    \
		ck_assert_msg(rc_ == (want),                                                       \
			      "apitoken exited %d, not %d\nstdout:\n%s\nstderr:\n%s", rc_, (want), \
			      C.out, C.err);                                                       \
	} while (0)

/* `/bin/sh -c COMMAND` with a small clean environment (and SSH_AUTH_SOCK=agent). */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096], e_home[500], e_agent[450];
	char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	char *envp[] = {"PATH=/usr/bin:/bin", "LANG=C", e_home, e_agent, NULL};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(e_home, sizeof(e_home), "HOME=%s", C.home);
	snprintf(e_agent, sizeof(e_agent), "SSH_AUTH_SOCK=%s", agent_sock);
	return spawn(argv, envp);
}

/* ssh (-F CONFIG) as USER to the server, running COMMAND; output in *out. */
static int ssh_run(const char *config, const char *user, const char *command,
		   const char *const *env, char **out)
{
	char script[1024];

	snprintf(script, sizeof(script), "$SSH %s@127.0.0.1 %s", user, command);
	return sshd_client_cert(&server, config, C.home, env, NULL, script, out);
}

/* The machine user logs in with the certificate through the config CONFIG. */
static void ck_login(const char *config, const char *const *env)
{
	long mark = sshd_log_mark(&server);
	char *out, want[100], *log;
	int rc = ssh_run(config, SU.member, "id -un", env, &out);

	if (rc != 0) {
		log = sshd_log_since(&server, mark);
		ck_abort_msg("ssh exited %d:\n%s\nsshd's log:\n%s", rc, out, log);
	}
	snprintf(want, sizeof(want), "%s\n", SU.member);
	ck_assert_str_eq(out, want);
	sshd_ck_log(&server, mark, "Accepted publickey", SU.member, 1);
	free(out);
}

/* sshd refuses the machine user with what is loaded, and logs WHY. */
static void ck_login_refused(const char *config, const char *why)
{
	long mark = sshd_log_mark(&server);
	char *out, *log;
	int rc = ssh_run(config, SU.member, "id -un", NULL, &out);

	ck_assert_msg(rc == 255, "ssh exited %d:\n%s", rc, out);
	ck_assert_msg(strstr(out, "Permission denied") != NULL, "%s", out);
	sshd_ck_log(&server, mark, "Accepted publickey", SU.member, 0);
	log = sshd_log_since(&server, mark);
	ck_assert_msg(strstr(log, why) != NULL, "no \"%s\" in sshd's log:\n%s", why, log);
	free(log);
	free(out);
}

/* The three files of the state directory, to compare before and after. */
struct snap {
	char *key, *pub, *cert;
};

static struct snap snap_take(void)
{
	struct snap s = {file_text(C.key, 0), file_text(C.pub, 0), file_text(C.cert, 0)};

	return s;
}

static void snap_same(const struct snap *a)
{
	struct snap b = snap_take();

	ck_assert_ptr_nonnull(a->key);
	ck_assert_ptr_nonnull(b.key);
	ck_assert_str_eq(a->key, b.key);
	ck_assert_ptr_nonnull(b.pub);
	ck_assert_str_eq(a->pub, b.pub);
	ck_assert_ptr_nonnull(b.cert);
	ck_assert_str_eq(a->cert, b.cert);
	free(b.key);
	free(b.pub);
	free(b.cert);
}

static void snap_free(struct snap *s)
{
	free(s->key);
	free(s->pub);
	free(s->cert);
}

static bool exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

/* `ssh-cert info --json`, parsed. */
static json_t *info_json(void)
{
	json_error_t jerr;
	json_t *j;

	ck_apt(0, "ssh-cert", "info", "--json");
	j = json_loads(C.out, 0, &jerr);
	ck_assert_msg(j != NULL, "not JSON (%s):\n%s", jerr.text, C.out);
	return j;
}

static long long info_serial(void)
{
	json_t *j = info_json();
	long long serial = (long long)json_integer_value(json_object_get(j, "serial"));

	json_decref(j);
	return serial;
}

/* The first field after "LABEL" in text (static). */
static const char *after(const char *text, const char *label)
{
	static char word[200];
	const char *p = strstr(text, label);

	ck_assert_msg(p != NULL, "no \"%s\" in:\n%s", label, text);
	ck_assert(sscanf(p + strlen(label), " %199s", word) == 1);
	return word;
}

/* The token is in no file under the state directory, nor in the ssh configs. */
static const char *scan_token;
static int scan_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	char *text;

	(void)sb;
	(void)ftw;
	if (flag != FTW_F)
		return 0;
	text = file_text(path, 0);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(strstr(text, scan_token) == NULL, "the token is in %s", path);
	free(text);
	return 0;
}

static void ck_no_token_on_disk(void)
{
	char *text;

	scan_token = C.token;
	if (exists(C.state))
		ck_assert_int_eq(nftw(C.state, scan_one, 16, FTW_PHYS), 0);
	text = file_text(C.sshconf, 0);
	ck_no_token(text, C.sshconf);
	free(text);
}

static void sleep_until_expired(void)
{
	for (int i = 0; i < 100 && apt("ssh-cert", "info", "--check", (const char *)NULL) == 0; i++)
		usleep(100 * 1000);
}

/* --- load, info ---------------------------------------------------------------- */

START_TEST(load_writes_key_and_certificate)
{
	struct stat sb;
	char *pub, want[1200];
	json_t *j, *pr;

	/* The include (and the host CAs' known_hosts) is written for hosts only. */
	client_config("hosts = 127.0.0.1\n");
	ck_apt(0, "ssh-cert", "load", "--no-interaction");
	ck_assert_msg(strstr(C.out, "Loaded a certificate for ") != NULL, "%s", C.out);
	/* No Include, no agent: it says ssh will not find the certificate, and what to do. */
	snprintf(want, sizeof(want),
		 "ssh will not use it by itself: run `apitoken ssh-cert load --write-ssh-config` "
		 "(an Include in %s), or --agent, or give ssh -i %s.\n",
		 C.sshconf, C.key);
	ck_assert_msg(strstr(C.out, want) != NULL, "%s", C.out);

	/* 0700 directory, 0600 files, ours. */
	ck_assert_int_eq(stat(C.sshdir, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0700);
	ck_assert(S_ISDIR(sb.st_mode));
	for (const char *f[] = {C.key, C.pub, C.cert, C.include, C.known, NULL}, **p = f; *p; p++) {
		ck_assert_msg(lstat(*p, &sb) == 0, "%s: %s", *p, strerror(errno));
		ck_assert_msg(S_ISREG(sb.st_mode) && (sb.st_mode & 07777) == 0600, "%s: mode %o",
			      *p, (unsigned)sb.st_mode);
		ck_assert_uint_eq(sb.st_uid, getuid());
	}

	/* OpenSSH reads the private key and finds the public key of the .pub in it. */
	ck_assert_msg(sh("ssh-keygen -y -f '%s'", C.key) == 0, "%s", C.err);
	pub = file_text(C.pub, 0);
	ck_assert_ptr_nonnull(pub);
	ck_assert_msg(strncmp(C.out, pub, 80) == 0 && strncmp(pub, "ssh-ed25519 ", 12) == 0,
		      "ssh-keygen -y: %s\n.pub: %s", C.out, pub);
	free(pub);

	/* ... and the certificate: a user certificate for the token's user. */
	ck_assert_msg(sh("ssh-keygen -L -f '%s'", C.cert) == 0, "%s", C.err);
	ck_assert_msg(strstr(C.out, "ssh-ed25519-cert-v01@openssh.com user certificate") != NULL,
		      "%s", C.out);
	ck_assert_str_eq(after(C.out, "Principals:"), SU.member);
	snprintf(want, sizeof(want), "\"apitoken:%s:", SU.member);
	ck_assert_msg(strstr(C.out, want) != NULL, "key id: %s", C.out);

	/* info, in words and in JSON. */
	ck_apt(0, "ssh-cert", "info");
	ck_assert_str_eq(after(C.out, "Principals:"), SU.member);
	ck_assert_str_eq(after(C.out, "Matches the key:"), "yes");
	ck_assert_str_eq(after(C.out, "In the agent:"), "no");
	ck_assert_msg(strstr(C.out, "Signed by CA:     SHA256:") != NULL, "%s", C.out);
	j = info_json();
	pr = json_object_get(j, "principals");
	ck_assert_int_eq(json_array_size(pr), 1);
	ck_assert_str_eq(json_string_value(json_array_get(pr, 0)), SU.member);
	ck_assert_int_ge(json_integer_value(json_object_get(j, "serial")), 1);
	ck_assert(json_is_true(json_object_get(j, "key_matches")));
	ck_assert(json_is_true(json_object_get(j, "valid")));
	ck_assert(json_is_false(json_object_get(j, "in_agent")));
	ck_assert_str_eq(json_string_value(json_object_get(j, "type")), "user");
	ck_assert_str_eq(json_string_value(json_object_get(j, "file")), C.cert);
	ck_assert_int_gt(json_integer_value(json_object_get(j, "seconds_left")), 200);
	ck_assert_ptr_nonnull(json_object_get(json_object_get(j, "extensions"), "permit-pty"));
	json_decref(j);

	/* --check: 0 and silent. */
	ck_apt(0, "ssh-cert", "info", "--check");
	ck_assert_str_eq(C.out, "");
	ck_assert_str_eq(C.err, "");
	ck_no_token_on_disk();
}
END_TEST

START_TEST(info_without_certificate)
{
	/* Nothing at all yet: no state directory. */
	ck_apt(1, "ssh-cert", "info", "--check");
	ck_assert_str_eq(C.out, "");
	ck_assert_str_eq(C.err, "");
	ck_apt(1, "ssh-cert", "info");
	ck_assert_msg(strstr(C.err, "No certificate loaded") != NULL, "%s", C.err);
	ck_apt(1, "ssh-cert", "info", "--json");
	ck_assert_int_eq(idp_stat(&idp, "cert_requests"), 0);
	/* Usage errors. */
	ck_apt(2, "ssh-cert", "info", "--bogus");
	ck_apt(2, "ssh-cert", "load", "--json");
	ck_apt(2, "ssh-cert");
	ck_apt(2, "token", "verify");
}
END_TEST

/* --- sshd accepts it: ssh, git, rsync ------------------------------------- */

START_TEST(certificate_logs_in_ssh_git_rsync)
{
	char script[2048], *out, sha[64], cwd[500];
	long mark;
	int rc;

	client_config("hosts = 127.0.0.1\n");
	ck_apt(0, "ssh-cert", "load", "--write-ssh-config", "--no-interaction");
	ck_login(C.sshconf, NULL);

	/* git: a bare repository in the machine user's home, cloned and pushed to. */
	snprintf(script, sizeof(script), "%s/git", C.dir);
	mkdir_ok(script, 0755);
	snprintf(script, sizeof(script),
		 "set -e; cd '%s/git'; git init -q -b main seed; cd seed; echo seed > README;"
		 "git add README; git -c user.name=seed -c user.email=seed@example.invalid "
		 "commit -q -m seed; cd ..; rm -rf '%s/cert.git';"
		 "git clone -q --bare seed '%s/cert.git'; chown -R %s: '%s/cert.git'",
		 C.dir, SU.member_home, SU.member_home, SU.member, SU.member_home);
	ck_assert_int_eq(system(script), 0);
	snprintf(script, sizeof(script),
		 "set -e\n"
		 "git clone -q ssh://%s@127.0.0.1:$SSH_PORT%s/cert.git clone\n"
		 "cd clone\n"
		 "test \"$(cat README)\" = seed\n"
		 "echo 'by certificate' > NEW\n"
		 "git add NEW\n"
		 "git commit -q -m 'by certificate'\n"
		 "git push -q origin main\n"
		 "git rev-parse HEAD\n",
		 SU.member, SU.member_home);
	snprintf(cwd, sizeof(cwd), "%s/git", C.dir);
	mark = sshd_log_mark(&server);
	rc = sshd_client_cert(&server, C.sshconf, C.home, NULL, cwd, script, &out);
	ck_assert_msg(rc == 0, "git exited %d:\n%s\nsshd:\n%s", rc, out,
		      sshd_log_since(&server, mark));
	ck_assert_msg(sscanf(out, "%63s", sha) == 1 && strlen(sha) == 40, "%s", out);
	free(out);
	snprintf(script, sizeof(script),
		 "test \"$(git -c safe.directory='*' --git-dir='%s/cert.git' rev-parse main)\" = %s"
		 " && test \"$(git -c safe.directory='*' --git-dir='%s/cert.git' show main:NEW)\""
		 " = 'by certificate'",
		 SU.member_home, sha, SU.member_home);
	ck_assert_int_eq(system(script), 0);

	/* rsync: up and back, byte for byte. */
	snprintf(script, sizeof(script),
		 "set -e; mkdir -p '%s/rsync/tree/sub'; cd '%s/rsync'; echo hello > tree/a.txt;"
		 "head -c 100000 /dev/urandom > tree/sub/random.bin;"
		 "printf 'x\\n' > 'tree/with space.txt'",
		 C.dir, C.dir);
	ck_assert_int_eq(system(script), 0);
	snprintf(cwd, sizeof(cwd), "%s/rsync", C.dir);
	snprintf(script, sizeof(script),
		 "set -e\n"
		 "rsync -a -e \"$SSH\" tree/ %s@127.0.0.1:certtree/\n"
		 "rsync -a -e \"$SSH\" %s@127.0.0.1:certtree/ back/\n",
		 SU.member, SU.member);
	rc = sshd_client_cert(&server, C.sshconf, C.home, NULL, cwd, script, &out);
	ck_assert_msg(rc == 0, "rsync exited %d:\n%s", rc, out);
	free(out);
	snprintf(script, sizeof(script),
		 "cd '%s/rsync' && diff -r tree '%s/certtree' && diff -r tree back && "
		 "cmp tree/sub/random.bin back/sub/random.bin",
		 C.dir, SU.member_home);
	ck_assert_int_eq(system(script), 0);
	ck_no_token_on_disk();
}
END_TEST

/* --- refused ------------------------------------------------------------------- */

START_TEST(expired_certificate_not_written)
{
	struct snap before;
	struct timespec old[2];

	/* Nothing loaded yet: an expired certificate leaves no files. */
	idp_cert_config(&idp, "-10m:-5m", NULL);
	ck_apt(6, "ssh-cert", "load", "--no-interaction");
	ck_assert_msg(strstr(C.err, "expired") != NULL || strstr(C.err, "valid") != NULL, "%s",
		      C.err);
	ck_assert(!exists(C.key) && !exists(C.pub) && !exists(C.cert));
	ck_assert_int_eq(idp_stat(&idp, "certs"), 1);

	/* A good certificate, then an expired one: the previous files stay as they were. */
	idp_cert_config(&idp, NULL, NULL);
	ck_apt(0, "ssh-cert", "load", "--no-interaction");
	before = snap_take();
	idp_cert_config(&idp, "-10m:-5m", NULL);
	ck_apt(6, "ssh-cert", "load", "--new", "--no-interaction");
	snap_same(&before);

	/* Even when the key is due for renewal: the new key is not written either. */
	client_config("key_ttl = 60\n");
	old[0].tv_sec = old[1].tv_sec = time(NULL) - 120;
	old[0].tv_nsec = old[1].tv_nsec = 0;
	ck_assert_int_eq(utimensat(AT_FDCWD, C.key, old, 0), 0);
	ck_apt(6, "ssh-cert", "load", "--new", "--no-interaction");
	snap_same(&before);
	ck_apt(0, "ssh-cert", "info", "--check");
	snap_free(&before);
}
END_TEST

/*
 * A certificate that ends in seconds: it loads and logs in; once it has
 * expired, info --check says so, sshd refuses it, and --refresh-only asks
 * for exactly one new certificate.
 */
START_TEST(short_certificate_expires)
{
	long requests;

	idp_cert_config(&idp, "-1m:+3s", NULL);
	client_config("hosts = 127.0.0.1\n");
	ck_apt(0, "ssh-cert", "load", "--write-ssh-config", "--no-interaction");
	ck_login(C.sshconf, NULL);
	sleep_until_expired();
	ck_apt(1, "ssh-cert", "info", "--check");
	ck_assert_str_eq(C.out, "");
	ck_assert_str_eq(C.err, "");
	ck_apt(1, "ssh-cert", "info");
	ck_assert_msg(strstr(C.out, "NOT VALID") != NULL, "%s", C.out);
	ck_login_refused(C.sshconf, "Certificate invalid: expired");

	idp_cert_config(&idp, NULL, NULL);
	requests = idp_stat(&idp, "cert_requests");
	ck_apt(0, "ssh-cert", "load", "--refresh-only", "--no-interaction");
	ck_assert_int_eq(idp_stat(&idp, "cert_requests"), requests + 1);
	ck_apt(0, "ssh-cert", "info", "--check");
	ck_login(C.sshconf, NULL);
}
END_TEST

START_TEST(other_principal_refused_by_sshd)
{
	json_t *j;

	idp_cert_config(&idp, NULL, "someoneelse");
	/* The helper takes any principal: it is sshd's business. */
	client_config("hosts = 127.0.0.1\n");
	ck_apt(0, "ssh-cert", "load", "--write-ssh-config", "--no-interaction");
	j = info_json();
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "principals"), 0)),
			 "someoneelse");
	ck_assert(json_is_true(json_object_get(j, "valid")));
	json_decref(j);
	ck_login_refused(C.sshconf, "Certificate invalid: name is not a listed principal");
}
END_TEST

START_TEST(revoked_token_at_issuance)
{
	struct snap before;
	long certs;

	ck_apt(0, "ssh-cert", "load", "--no-interaction");
	before = snap_take();
	idp_revoke(&idp, C.token);
	certs = idp_stat(&idp, "certs");
	ck_apt(4, "ssh-cert", "load", "--new", "--no-interaction");
	ck_assert_int_eq(idp_stat(&idp, "certs"), certs);
	snap_same(&before);
	/* The certificate already loaded is still good until it ends (and still works). */
	ck_apt(0, "ssh-cert", "info", "--check");
	ck_apt(4, "token", "check");
	ck_assert_msg(strstr(C.err, "The API token from APITOKEN_TOKEN is not valid") != NULL, "%s",
		      C.err);
	snap_free(&before);
}
END_TEST

/* --- refresh and renewal -------------------------------------------------------- */

START_TEST(refresh_only_asks_only_when_needed)
{
	struct snap before;
	long requests;

	/* Nothing loaded: exactly one request. */
	ck_apt(0, "ssh-cert", "load", "--refresh-only", "--no-interaction");
	ck_assert_int_eq(idp_stat(&idp, "cert_requests"), 1);
	ck_apt(0, "ssh-cert", "info", "--check");

	/* Valid: no request, nothing written, nothing said with -q. */
	before = snap_take();
	for (int i = 0; i < 3; i++)
		ck_apt(0, "ssh-cert", "load", "--refresh-only", "-q", "--no-interaction");
	ck_assert_str_eq(C.out, "");
	ck_assert_str_eq(C.err, "");
	ck_assert_int_eq(idp_stat(&idp, "cert_requests"), 1);
	snap_same(&before);
	snap_free(&before);

	/* Less than 120 s left counts as expired: renewed, one request. */
	ck_apt(0, "ssh-cert", "clear", "-q");
	idp_cert_config(&idp, "-1m:+60s", NULL);
	ck_apt(0, "ssh-cert", "load", "--no-interaction");
	idp_cert_config(&idp, NULL, NULL);
	requests = idp_stat(&idp, "cert_requests");
	ck_apt(0, "ssh-cert", "load", "--refresh-only", "--no-interaction");
	ck_assert_int_eq(idp_stat(&idp, "cert_requests"), requests + 1);
	ck_apt(0, "ssh-cert", "load", "--refresh-only", "--no-interaction");
	ck_assert_int_eq(idp_stat(&idp, "cert_requests"), requests + 1);
}
END_TEST

START_TEST(new_certificate_same_key_then_new_key)
{
	char *pub1, *pub2, *pub3;
	long long s1, s2, s3;
	struct timespec old[2];

	ck_apt(0, "ssh-cert", "load", "--no-interaction");
	s1 = info_serial();
	pub1 = file_text(C.pub, 0);

	/* Valid: a plain load asks for nothing... */
	ck_apt(0, "ssh-cert", "load", "--no-interaction");
	ck_assert_msg(strstr(C.out, "still valid") != NULL, "%s", C.out);
	ck_assert_int_eq(idp_stat(&idp, "cert_requests"), 1);
	ck_assert_int_eq(info_serial(), s1);

	/* ... --new gets a new certificate for the same key (younger than key_ttl). */
	ck_apt(0, "ssh-cert", "load", "--new", "--no-interaction");
	s2 = info_serial();
	pub2 = file_text(C.pub, 0);
	ck_assert_int_gt(s2, s1);
	ck_assert_str_eq(pub1, pub2);

	/* A key older than key_ttl: --new makes a new key too. */
	client_config("key_ttl = 60\n");
	old[0].tv_sec = old[1].tv_sec = time(NULL) - 120;
	old[0].tv_nsec = old[1].tv_nsec = 0;
	ck_assert_int_eq(utimensat(AT_FDCWD, C.key, old, 0), 0);
	ck_apt(0, "ssh-cert", "load", "--new", "--no-interaction");
	s3 = info_serial();
	pub3 = file_text(C.pub, 0);
	ck_assert_int_gt(s3, s2);
	ck_assert_str_ne(pub2, pub3);
	ck_assert_msg(sh("ssh-keygen -y -f '%s'", C.key) == 0, "%s", C.err);
	ck_assert_int_eq(strncmp(C.out, pub3, 80), 0);
	{
		json_t *j = info_json();
		ck_assert(json_is_true(json_object_get(j, "key_matches")));
		json_decref(j);
	}
	free(pub1);
	free(pub2);
	free(pub3);
}
END_TEST

/* --- ssh's config --------------------------------------------------------------- */

START_TEST(write_ssh_config_and_clear)
{
	static const char original[] = "# mine\nHost other\n\tUser someone\n\tPort 2222\n";
	char want[700], *text;

	put(C.sshconf, 0600, original);
	client_config("hosts = somehost\n");
	ck_apt(0, "ssh-cert", "load", "--write-ssh-config", "--no-interaction");
	ck_assert_msg(strstr(C.out, "Added an Include") != NULL, "%s", C.out);
	ck_apt(0, "ssh-cert", "load", "--write-ssh-config", "--no-interaction");
	snprintf(want, sizeof(want), "ssh uses it through the Include block in %s.\n", C.sshconf);
	ck_assert_msg(strstr(C.out, want) != NULL, "%s", C.out);
	ck_assert_ptr_null(strstr(C.out, "will not use it"));
	ck_apt(0, "ssh-cert", "load", "--new", "--write-ssh-config", "--no-interaction");
	text = file_text(C.sshconf, 0);
	ck_assert_int_eq(text_count(text, "# BEGIN apitoken"), 1);
	ck_assert_int_eq(text_count(text, "# END apitoken"), 1);
	ck_assert_int_eq(text_count(text, "Include"), 1);
	ck_assert_msg(strstr(text, original) != NULL, "%s", text);
	ck_assert_msg(strncmp(text, "# BEGIN apitoken", 16) == 0, "not at the top:\n%s", text);
	free(text);

	/* ssh resolves a listed host to our files, and keeps the rest of the config. */
	ck_assert_msg(sh("ssh -G -F '%s' somehost", C.sshconf) == 0, "%s", C.err);
	snprintf(want, sizeof(want), "\nidentityfile %s\n", C.key);
	ck_assert_msg(strstr(C.out, want) != NULL, "%s", C.out);
	snprintf(want, sizeof(want), "\ncertificatefile %s\n", C.cert);
	ck_assert_msg(strstr(C.out, want) != NULL, "%s", C.out);
	ck_assert_msg(strstr(C.out, "\nidentitiesonly yes\n") != NULL, "%s", C.out);
	ck_assert_msg(sh("ssh -G -F '%s' other", C.sshconf) == 0, "%s", C.err);
	ck_assert_msg(strstr(C.out, "\nuser someone\n") != NULL && strstr(C.out, "\nport 2222\n"),
		      "%s", C.out);
	ck_no_token_on_disk();

	/* clear: the block, the files; the config is what it was. Twice is fine. */
	ck_apt(0, "ssh-cert", "clear");
	text = file_text(C.sshconf, 0);
	ck_assert_str_eq(text, original);
	free(text);
	ck_assert(!exists(C.key) && !exists(C.pub) && !exists(C.cert) && !exists(C.include) &&
		  !exists(C.known));
	ck_apt(0, "ssh-cert", "clear");
	ck_apt(0, "ssh-cert", "clear", "-q");
	ck_assert_str_eq(C.out, "");
	text = file_text(C.sshconf, 0);
	ck_assert_str_eq(text, original);
	free(text);
	ck_apt(1, "ssh-cert", "info", "--check");
}
END_TEST

/* hosts: the include applies to those patterns only. */
START_TEST(hosts_limit_the_include)
{
	char want[700];

	client_config("hosts = *.example.com 127.0.0.1\n");
	ck_apt(0, "ssh-cert", "load", "--write-ssh-config", "--no-interaction");
	snprintf(want, sizeof(want), "\ncertificatefile %s\n", C.cert);
	ck_assert_msg(sh("ssh -G -F '%s' build.example.com", C.sshconf) == 0, "%s", C.err);
	ck_assert_msg(strstr(C.out, want) != NULL, "%s", C.out);
	ck_assert_msg(sh("ssh -G -F '%s' elsewhere.org", C.sshconf) == 0, "%s", C.err);
	ck_assert_msg(strstr(C.out, C.cert) == NULL && strstr(C.out, C.key) == NULL, "%s", C.out);
	ck_login(C.sshconf, NULL);
}
END_TEST

/* --- the host CA, and an ssh config for our hosts only ------------------------- */

/* The issuer's host CA key, its base64 (static), from GET cert_url/authority. */
static const char *host_ca_b64(void)
{
	static char b64[200];
	char url[128], *body;
	long status;
	json_t *j, *list;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/ssh/cert/authority", idp.port);
	body = http_call("GET", url, NULL, NULL, &status);
	j = json_loads(body, 0, NULL);
	list = json_object_get(j, "host_authorities");
	ck_assert_msg(status == 200 && json_array_size(list) == 1, "%s", body);
	ck_assert(sscanf(json_string_value(json_array_get(list, 0)), "ssh-ed25519 %199s", b64) ==
		  1);
	json_decref(j);
	free(body);
	return b64;
}

/* POST /test/host-authorities: what the issuer says as host_authorities ("{}": nothing). */
static void host_authorities(const char *json)
{
	char url[128], *body;
	long status;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/test/host-authorities", idp.port);
	body = http_call("POST", url, NULL, json, &status);
	ck_assert_msg(status == 200, "%s: %ld %s", json, status, body);
	free(body);
}

/*
 * ssh as a fresh runner has it: only the ssh config C.sshconf (-F), strict
 * host key checking, and no known_hosts file but the ones that config names
 * (the system's left out); AUTH is the one method tried.
 */
static void runner_ssh(char *out, size_t len, const struct sshd *s, const char *auth)
{
	snprintf(out, len,
		 "ssh -F '%s' -p %d -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes "
		 "-o PreferredAuthentications=%s -o ConnectTimeout=10 -o LogLevel=ERROR %s",
		 C.sshconf, s->port, auth,
		 strcmp(auth, "publickey") == 0
		     ? "-o BatchMode=yes"
		     : "-o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1");
}

/*
 * The user's own ~/.ssh/known_hosts, the one ssh reads (home directory from
 * the user database), knows none of our servers: absent, or no 127.0.0.1.
 */
static void ck_own_known_hosts_empty(void)
{
	struct passwd *pw = getpwuid(getuid());
	char path[600], *text;

	ck_assert_ptr_nonnull(pw);
	snprintf(path, sizeof(path), "%s/.ssh/known_hosts", pw->pw_dir);
	text = file_text(path, 0);
	ck_assert_msg(text == NULL || strstr(text, "127.0.0.1") == NULL, "%s knows 127.0.0.1:\n%s",
		      path, text);
	free(text);
}

/* A bare repository NAME.git in the machine user's home, holding README = seed. */
static void make_repo(const char *name)
{
	char script[2048];

	snprintf(script, sizeof(script),
		 "set -e; mkdir -p '%s/seed-%s'; cd '%s/seed-%s'; git init -q -b main .;"
		 "echo seed > README; git add README;"
		 "git -c user.name=seed -c user.email=seed@example.invalid commit -q -m seed;"
		 "rm -rf '%s/%s.git'; git clone -q --bare . '%s/%s.git'; chown -R %s: '%s/%s.git'",
		 C.dir, name, C.dir, name, SU.member_home, name, SU.member_home, name, SU.member,
		 SU.member_home, name);
	ck_assert_int_eq(system(script), 0);
}

/*
 * The runner, through ssh config C.sshconf to S by the method AUTH (a
 * certificate for publickey, the token through `apitoken exec` else): who
 * it is on the server, then a clone of a fresh NAME.git. Both log in.
 */
static void ck_runner_clones(const struct sshd *s, const char *auth, const char *name)
{
	char ssh[1200], script[4000], want[100], *out;
	long mark;
	int rc;

	make_repo(name);
	runner_ssh(ssh, sizeof(ssh), s, auth);
	snprintf(script, sizeof(script),
		 "set -e\n"
		 "%s %s@127.0.0.1 id -un\n"
		 "GIT_SSH_COMMAND=\"%s\" git clone -q ssh://%s@127.0.0.1:%d%s/%s.git clone-%s\n"
		 "test \"$(cat clone-%s/README)\" = seed\n",
		 ssh, SU.member, ssh, SU.member, s->port, SU.member_home, name, name, name);
	mark = sshd_log_mark(s);
	if (s->method == SSHD_CERT)
		rc = sshd_client_cert(s, "/dev/null", C.home, NULL, C.dir, script, &out);
	else
		rc = sshd_client(s, C.token, C.dir, script, &out);
	ck_assert_msg(rc == 0, "exited %d:\n%s\nsshd:\n%s", rc, out, sshd_log_since(s, mark));
	snprintf(want, sizeof(want), "%s\n", SU.member);
	ck_assert_str_eq(out, want);
	free(out);
	sshd_ck_log(s, mark,
		    s->method == SSHD_CERT ? "Accepted publickey"
					   : "Accepted keyboard-interactive/pam",
		    SU.member, 2);
}

/* ssh through ssh config C.sshconf to S, whose host key is not certified: refused. */
static void ck_host_refused(const struct sshd *s, const char *auth)
{
	char ssh[1200], script[1400], *out;
	long mark = sshd_log_mark(s);
	int rc;

	runner_ssh(ssh, sizeof(ssh), s, auth);
	snprintf(script, sizeof(script), "%s %s@127.0.0.1 id -un", ssh, SU.member);
	if (s->method == SSHD_CERT)
		rc = sshd_client_cert(s, "/dev/null", C.home, NULL, NULL, script, &out);
	else
		rc = sshd_client(s, C.token, NULL, script, &out);
	ck_assert_msg(rc == 255, "ssh exited %d:\n%s", rc, out);
	ck_assert_msg(strstr(out, "Host key verification failed.") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "Permission denied") == NULL, "%s", out);
	sshd_ck_log(s, mark, "Accepted", SU.member, 0);
	free(out);
}

/* The expected line of the managed known_hosts for hosts = 127.0.0.1 (static). */
static const char *known_line(void)
{
	static char line[300];

	snprintf(line, sizeof(line), "\n@cert-authority 127.0.0.1,[127.0.0.1]:* ssh-ed25519 %s\n",
		 host_ca_b64());
	return line;
}

/*
 * Done means (issue 13): a fresh runner (empty ~/.ssh, only env vars and
 * hosts) verifies the host through the issuer's host CA with
 * StrictHostKeyChecking yes, logs in with its certificate and clones; an
 * sshd whose host key the CA did not certify is refused; clear takes the
 * file and its line away.
 */
START_TEST(fresh_runner_clones_with_certificate)
{
	char want[700], *text;
	struct stat sb;

	C.extra = "APITOKEN_HOSTS=127.0.0.1";
	ck_own_known_hosts_empty();
	ck_apt(0, "ssh-cert", "load", "--write-ssh-config", "--no-interaction");
	ck_assert_int_eq(lstat(C.known, &sb), 0);
	ck_assert_msg(S_ISREG(sb.st_mode) && (sb.st_mode & 07777) == 0600, "mode %o",
		      (unsigned)sb.st_mode);
	text = file_text(C.known, 0);
	ck_assert_msg(strstr(text, known_line()) != NULL, "no\n%s\nin\n%s", known_line(), text);
	ck_assert_int_eq(text_count(text, "@cert-authority"), 1);
	free(text);
	/* Ours first, the user's own still read. */
	ck_assert_msg(sh("ssh -G -F '%s' 127.0.0.1", C.sshconf) == 0, "%s", C.err);
	snprintf(want, sizeof(want), "\nuserknownhostsfile %s ", C.known);
	ck_assert_msg(strstr(C.out, want) != NULL && strstr(C.out, "/.ssh/known_hosts\n") != NULL,
		      "%s", C.out);

	ck_runner_clones(&hserver, "publickey", "hostca");

	/* The same runner, an sshd whose host key is not certified. */
	ck_host_refused(&server, "publickey");
	ck_own_known_hosts_empty();

	/* clear: the file and the line go with the rest. */
	ck_apt(0, "ssh-cert", "clear");
	ck_assert(!exists(C.known) && !exists(C.include));
	text = file_text(C.sshconf, 0);
	ck_assert_msg(text == NULL || strstr(text, "apitoken") == NULL, "%s", text);
	free(text);
	ck_no_token_on_disk();
}
END_TEST

/*
 * Done means, the `exec` way: a runner that answers the keyboard-interactive
 * prompt with the token gets the host CAs from `ssh-cert load
 * --known-hosts-only` (no token, no certificate needed) and clones with
 * StrictHostKeyChecking yes; askpass never answers an unverified host.
 */
START_TEST(fresh_runner_clones_with_exec)
{
	char want[2000], token[128], *text;
	long certs = idp_stat(&idp, "cert_requests");

	client_config("hosts = 127.0.0.1\n");
	snprintf(token, sizeof(token), "%s", C.token);
	C.token[0] = '\0';
	ck_own_known_hosts_empty();
	ck_apt(0, "ssh-cert", "load", "--known-hosts-only", "--no-interaction");
	snprintf(want, sizeof(want),
		 "Added an Include of %s to %s.\n"
		 "Wrote 1 host CA key to %s, for ssh to verify 127.0.0.1.\n",
		 C.include, C.sshconf, C.known);
	ck_assert_str_eq(C.out, want);
	ck_assert_int_eq(idp_stat(&idp, "cert_requests"), certs);
	ck_assert(!exists(C.key) && !exists(C.cert));
	text = file_text(C.known, 0);
	ck_assert_msg(strstr(text, known_line()) != NULL, "%s", text);
	free(text);
	text = file_text(C.include, 0);
	snprintf(want, sizeof(want), "Host 127.0.0.1\n\tUserKnownHostsFile %s ~/.ssh/known_hosts\n",
		 C.known);
	ck_assert_str_eq(text, want);
	free(text);
	text = file_text(C.sshconf, 0);
	ck_assert_msg(strstr(text, C.include) != NULL, "%s", text);
	free(text);

	snprintf(C.token, sizeof(C.token), "%s", token);
	ck_runner_clones(&kserver, "keyboard-interactive", "exec");

	/* Not certified: refused before any prompt, so before the token is sent. */
	ck_host_refused(&server, "keyboard-interactive");
	ck_own_known_hosts_empty();

	/* With a certificate loaded, --known-hosts-only keeps naming it. */
	ck_apt(0, "ssh-cert", "load", "--write-ssh-config", "--no-interaction");
	ck_apt(0, "ssh-cert", "load", "--known-hosts-only", "--no-interaction");
	text = file_text(C.include, 0);
	ck_assert_msg(strstr(text, "\tIdentityFile ") != NULL &&
			  strstr(text, "\tUserKnownHostsFile ") != NULL,
		      "%s", text);
	free(text);
}
END_TEST

/*
 * Without host_authorities (absent, or an empty list): no known_hosts file,
 * no UserKnownHostsFile line, as before; published later, written;
 * withdrawn, removed with its line.
 */
START_TEST(no_host_authorities_no_known_hosts)
{
	char *text;

	client_config("hosts = 127.0.0.1\n");
	host_authorities("{}");
	ck_apt(0, "ssh-cert", "load", "--write-ssh-config", "--no-interaction");
	ck_assert(exists(C.cert) && exists(C.include) && !exists(C.known));
	text = file_text(C.include, 0);
	ck_assert_msg(strstr(text, "UserKnownHostsFile") == NULL, "%s", text);
	free(text);
	/* The user's own known_hosts is the only source: it does not know hserver. */
	ck_host_refused(&hserver, "publickey");
	ck_apt(5, "ssh-cert", "load", "--known-hosts-only", "--no-interaction");
	ck_assert_msg(strstr(C.err, "/ssh/cert/authority publishes no host_authorities") != NULL,
		      "%s", C.err);

	idp_reset(&idp);
	ck_apt(0, "ssh-cert", "load", "--write-ssh-config", "--no-interaction");
	ck_assert(exists(C.known));
	text = file_text(C.include, 0);
	ck_assert_msg(strstr(text, "UserKnownHostsFile") != NULL, "%s", text);
	free(text);

	host_authorities("{\"host_authorities\": []}");
	ck_apt(0, "ssh-cert", "load", "--write-ssh-config", "--no-interaction");
	ck_assert(!exists(C.known) && exists(C.include));
	text = file_text(C.include, 0);
	ck_assert_msg(strstr(text, "UserKnownHostsFile") == NULL, "%s", text);
	free(text);
}
END_TEST

/* A host_authorities answer with one bad entry is refused whole, before any file is written. */
START_TEST(malformed_host_authorities_write_nothing)
{
	static const char original[] = "# mine\nHost other\n\tUser someone\n";
	char bad[4][400], *text, *known, *inc;
	struct snap before;

	snprintf(bad[0], sizeof(bad[0]),
		 "{\"host_authorities\": [\"ssh-ed25519 %s\", \"ssh-ed25519 AAAA!!!!\"]}",
		 host_ca_b64());
	snprintf(bad[1], sizeof(bad[1]), "{\"host_authorities\": \"ssh-ed25519 %s\"}",
		 host_ca_b64());
	snprintf(bad[2], sizeof(bad[2]), "{\"host_authorities\": [\"ssh-ed25519 %s\", 1]}",
		 host_ca_b64());
	snprintf(bad[3], sizeof(bad[3]),
		 "{\"host_authorities\": [\"ssh-ed25519 %s\\n@revoked * ssh-ed25519 %s\"]}",
		 host_ca_b64(), host_ca_b64());
	client_config("hosts = 127.0.0.1\n");
	put(C.sshconf, 0600, original);
	for (size_t i = 0; i < 4; i++) {
		host_authorities(bad[i]);
		ck_apt(5, "ssh-cert", "load", "--write-ssh-config", "--no-interaction");
		ck_assert_msg(strstr(C.err, "host_authorities") != NULL, "%zu: %s", i, C.err);
		ck_assert_msg(!exists(C.state), "%zu: the state directory was made", i);
		text = file_text(C.sshconf, 0);
		ck_assert_str_eq(text, original);
		free(text);
	}
	ck_assert_msg(strstr(C.err, "host authority 1 is not a public key line") != NULL, "%s",
		      C.err);

	/* Over a loaded state: every file stays as it was. */
	idp_reset(&idp);
	ck_apt(0, "ssh-cert", "load", "--write-ssh-config", "--no-interaction");
	before = snap_take();
	known = file_text(C.known, 0);
	inc = file_text(C.include, 0);
	ck_assert_ptr_nonnull(known);
	host_authorities(bad[0]);
	ck_apt(5, "ssh-cert", "load", "--new", "--write-ssh-config", "--no-interaction");
	ck_assert_msg(strstr(C.err, "host authority 2 is not a public key line") != NULL, "%s",
		      C.err);
	snap_same(&before);
	text = file_text(C.known, 0);
	ck_assert_str_eq(text, known);
	free(text);
	text = file_text(C.include, 0);
	ck_assert_str_eq(text, inc);
	free(text);
	snap_free(&before);
	free(known);
	free(inc);
}
END_TEST

/* The names in dir, sorted, one a line (malloc); "" when it is missing. */
static char *listing(const char *dir)
{
	struct dirent **names;
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	int n = scandir(dir, &names, NULL, alphasort);

	ck_assert_ptr_nonnull(m);
	for (int i = 0; i < n; i++) {
		fprintf(m, "%s\n", names[i]->d_name);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	fclose(m);
	return text;
}

/*
 * Item 2: the block is for the hosts patterns only. Without hosts, a plain
 * load writes no include, and --write-ssh-config with --no-interaction
 * refuses before anything changes, naming hosts.
 */
START_TEST(ssh_config_only_for_hosts)
{
	static const char original[] = "# mine\nHost other\n\tUser someone\n";
	char want[2000], *text, *names, *now;
	struct snap before;
	long certs;

	put(C.sshconf, 0600, original);
	ck_apt(0, "ssh-cert", "load", "--no-interaction");
	ck_assert(exists(C.cert) && !exists(C.include) && !exists(C.known));
	snprintf(want, sizeof(want),
		 "ssh will not use it by itself: run `apitoken ssh-cert load --write-ssh-config` "
		 "with hosts set (an Include in %s), or --agent, or give ssh -i %s.\n",
		 C.sshconf, C.key);
	ck_assert_msg(strstr(C.out, want) != NULL, "%s", C.out);
	names = listing(C.sshdir);
	before = snap_take();
	certs = idp_stat(&idp, "cert_requests");
	ck_apt(3, "ssh-cert", "load", "--new", "--write-ssh-config", "--no-interaction");
	ck_assert_str_eq(C.out, "");
	snprintf(want, sizeof(want),
		 "apitoken ssh-cert load: --write-ssh-config needs hosts = ... (the ssh Host "
		 "patterns the certificate is for) in %s or APITOKEN_HOSTS; without them the block "
		 "would apply to every host\n",
		 C.config);
	ck_assert_str_eq(C.err, want);
	ck_assert_int_eq(idp_stat(&idp, "cert_requests"), certs);
	now = listing(C.sshdir);
	ck_assert_str_eq(now, names);
	free(now);
	snap_same(&before);
	text = file_text(C.sshconf, 0);
	ck_assert_str_eq(text, original);
	free(text);
	ck_apt(3, "ssh-cert", "load", "--known-hosts-only", "--no-interaction");
	ck_assert_msg(strstr(C.err, "--known-hosts-only needs hosts = ") != NULL, "%s", C.err);
	/* A pattern that could inject options: refused before anything too. */
	client_config("hosts = a=b\n");
	ck_apt(3, "ssh-cert", "load", "--write-ssh-config", "--no-interaction");
	ck_assert_msg(strstr(C.err, "hosts pattern \"a\"") != NULL, "%s", C.err);
	now = listing(C.sshdir);
	ck_assert_str_eq(now, names);
	free(now);
	free(names);
	snap_free(&before);

	/* APITOKEN_HOSTS: ssh -G of another host shows nothing of ours. */
	client_config("\n");
	C.extra = "APITOKEN_HOSTS=127.0.0.1 *.corp.example";
	ck_apt(0, "ssh-cert", "load", "--write-ssh-config", "--no-interaction");
	ck_assert_msg(sh("ssh -G -F '%s' github.com", C.sshconf) == 0, "%s", C.err);
	ck_assert_msg(strstr(C.out, C.key) == NULL && strstr(C.out, C.cert) == NULL &&
			  strstr(C.out, C.known) == NULL,
		      "%s", C.out);
	ck_assert_msg(strstr(C.out, "\nidentitiesonly yes\n") == NULL, "%s", C.out);
	ck_assert_msg(sh("ssh -G -F '%s' git.corp.example", C.sshconf) == 0, "%s", C.err);
	snprintf(want, sizeof(want), "\nidentityfile %s\n", C.key);
	ck_assert_msg(strstr(C.out, want) != NULL, "%s", C.out);
	ck_assert_msg(strstr(C.out, "\nidentitiesonly yes\n") != NULL, "%s", C.out);
	ck_assert_msg(strstr(C.out, C.known) != NULL, "%s", C.out);
	ck_login(C.sshconf, NULL);
}
END_TEST

/* On a terminal, --write-ssh-config without hosts asks for them (script(1) is the terminal). */
START_TEST(write_ssh_config_asks_for_hosts)
{
	char cmd[8192], *text;

	snprintf(cmd, sizeof(cmd),
		 "printf '%s\\n' | script -qec \"env -i PATH=/usr/bin:/bin HOME=%s "
		 "XDG_STATE_HOME=%s XDG_CONFIG_HOME=%s APITOKEN_SSH_CONFIG=%s APITOKEN_TOKEN=%s "
		 "APITOKEN_CERT_URL=%s %s ssh-cert load --write-ssh-config\" /dev/null",
		 "127.0.0.1 *.corp.example", C.home, C.state, C.config_home, C.sshconf, C.token,
		 C.cert_url, apitoken);
	ck_assert_msg(sh("%s", cmd) == 0, "%s%s", C.out, C.err);
	ck_assert_msg(strstr(C.out, "The ssh Host patterns the certificate is for") != NULL, "%s",
		      C.out);
	ck_assert_msg(strstr(C.out, "hosts = 127.0.0.1 *.corp.example in ") != NULL, "%s", C.out);
	text = file_text(C.include, 0);
	ck_assert_msg(text != NULL && strncmp(text, "Host 127.0.0.1 *.corp.example\n", 30) == 0,
		      "%s", text);
	free(text);
	text = file_text(C.sshconf, 0);
	ck_assert_msg(text != NULL && strstr(text, C.include) != NULL, "%s", text);
	free(text);

	/* No answer: refused, nothing more written. */
	ck_apt(0, "ssh-cert", "clear", "-q");
	snprintf(cmd, sizeof(cmd),
		 "printf '\\n' | script -qec \"env -i PATH=/usr/bin:/bin HOME=%s "
		 "XDG_STATE_HOME=%s XDG_CONFIG_HOME=%s APITOKEN_SSH_CONFIG=%s APITOKEN_TOKEN=%s "
		 "APITOKEN_CERT_URL=%s %s ssh-cert load --write-ssh-config\" /dev/null",
		 C.home, C.state, C.config_home, C.sshconf, C.token, C.cert_url, apitoken);
	ck_assert_int_eq(sh("%s", cmd), 3);
	ck_assert_msg(strstr(C.out, "no hosts") != NULL, "%s", C.out);
	ck_assert(!exists(C.cert) && !exists(C.include));
}
END_TEST

/* --- the agent ------------------------------------------------------------------- */

START_TEST(agent_holds_one_certificate)
{
	const char *env[] = {NULL, NULL};
	char e_agent[450], *cert, *line;
	json_t *j;

	C.agent = agent_sock;
	sh("ssh-add -D");
	ck_apt(0, "ssh-cert", "load", "--agent", "--no-interaction");
	ck_assert_msg(sh("ssh-add -l") == 0, "%s%s", C.out, C.err);
	ck_assert_int_eq(text_count(C.out, "(ED25519-CERT)"), 1);
	ck_assert_int_eq(text_count(C.out, "\n"), 1);
	j = info_json();
	ck_assert(json_is_true(json_object_get(j, "in_agent")));
	json_decref(j);

	/* The agent alone logs in: no config, no files named. */
	snprintf(e_agent, sizeof(e_agent), "SSH_AUTH_SOCK=%s", agent_sock);
	env[0] = e_agent;
	ck_login("/dev/null", env);

	/* A new certificate: the old one leaves the agent. */
	ck_apt(0, "ssh-cert", "load", "--new", "--agent", "--no-interaction");
	ck_assert_msg(sh("ssh-add -L") == 0, "%s%s", C.out, C.err);
	ck_assert_int_eq(text_count(C.out, "\n"), 1);
	cert = file_text(C.cert, 0);
	line = strchr(cert, ' ');
	line = line ? strchr(line + 1, ' ') : NULL;
	ck_assert_ptr_nonnull(line);
	ck_assert_int_eq(strncmp(C.out, cert, (size_t)(line - cert)), 0);
	free(cert);

	/* clear takes it out. */
	ck_apt(0, "ssh-cert", "clear");
	ck_assert_int_eq(sh("ssh-add -l"), 1);
	ck_assert_msg(strstr(C.out, "no identities") != NULL, "%s", C.out);
	ck_apt(0, "ssh-cert", "clear");
}
END_TEST

/*
 * clear takes every identity of ours out of the agent: here a certificate
 * loaded with --agent, then replaced on disk by a load in a shell without
 * the agent (for a new key), plus our new key and certificate as `ssh-add`
 * of the key file puts them there. A key of the user's own stays.
 */
START_TEST(clear_removes_every_agent_identity)
{
	char own[600];

	C.agent = agent_sock;
	sh("ssh-add -D");
	snprintf(own, sizeof(own), "%s/own_key", C.dir);
	ck_assert_int_eq(sh("ssh-keygen -q -t ed25519 -N '' -C users-own -f %s", own), 0);
	ck_assert_int_eq(sh("ssh-add -q %s", own), 0);
	ck_apt(0, "ssh-cert", "load", "--agent", "--no-interaction");
	C.agent = NULL; /* a later job step, without the agent */
	idp_reset(&idp);
	ck_apt(0, "ssh-cert", "load", "--new", "--no-interaction");
	ck_assert_int_eq(sh("ssh-add -q %s/id_ed25519", C.sshdir), 0);
	ck_assert_int_eq(sh("ssh-add -l"), 0);
	/* ssh-add adds the certificate beside the key too: the first load's and the second's. */
	ck_assert_int_eq(text_count(C.out, "\n"), 4);
	ck_assert_int_eq(text_count(C.out, "(ED25519-CERT)"), 2);

	C.agent = agent_sock;
	ck_apt(0, "ssh-cert", "clear");
	ck_assert_str_eq(C.out, "Cleared the certificate files, the agent's 3 identities.\n");
	ck_assert_int_eq(sh("ssh-add -l"), 0);
	ck_assert_int_eq(text_count(C.out, "\n"), 1);
	ck_assert_msg(strstr(C.out, "users-own (ED25519)") != NULL, "%s", C.out);
	ck_apt(0, "ssh-cert", "clear");
	ck_assert_str_eq(C.out, "Cleared the certificate files.\n");
	sh("ssh-add -D");
}
END_TEST

/* --- both protocols, the exchange ------------------------------------------------ */

START_TEST(vault_protocol)
{
	json_t *j;

	snprintf(C.cert_url, sizeof(C.cert_url), "http://127.0.0.1:%d/v1/ssh/sign/ci-role",
		 idp.port);
	client_config("cert_protocol = vault\nhosts = 127.0.0.1\n");
	ck_apt(0, "ssh-cert", "load", "--write-ssh-config", "--no-interaction");
	ck_assert_int_eq(idp_stat(&idp, "cert_requests"), 1);
	ck_assert_int_eq(idp_stat(&idp, "certs"), 1);
	ck_assert_int_eq(idp_stat(&idp, "exchanges"), 0);
	j = info_json();
	ck_assert(json_is_true(json_object_get(j, "valid")));
	ck_assert(json_is_true(json_object_get(j, "key_matches")));
	json_decref(j);
	ck_login(C.sshconf, NULL);
	/* Vault signs host keys with another role: no host CA to write, no known_hosts. */
	ck_assert(!exists(C.known));
	ck_apt(0, "token", "check");
	ck_assert_str_eq(C.out, "The API token from APITOKEN_TOKEN is valid.\n");
	ck_no_token_on_disk();
}
END_TEST

START_TEST(apitoken_protocol_with_exchange)
{
	char conf[400];

	/* token_url from the config file this time, client_id too. */
	C.cert_url[0] = '\0';
	snprintf(conf, sizeof(conf),
		 "cert_url = http://127.0.0.1:%d/ssh/cert\n"
		 "token_url = http://127.0.0.1:%d/oauth2/token\n"
		 "client_id = ci-client\n"
		 "cert_protocol = apitoken\n",
		 idp.port, idp.port);
	client_config(conf);
	ck_apt(0, "ssh-cert", "load", "--no-interaction");
	ck_assert_int_eq(idp_stat(&idp, "exchanges"), 1);
	ck_assert_int_eq(idp_stat(&idp, "cert_requests"), 1);
	ck_assert_int_eq(idp_stat(&idp, "certs"), 1);
	ck_apt(0, "ssh-cert", "info", "--check");

	/* The exchange answers token check: no certificate. */
	ck_apt(0, "token", "check");
	ck_assert_str_eq(C.out, "The API token from APITOKEN_TOKEN is valid.\n");
	ck_assert_int_eq(idp_stat(&idp, "exchanges"), 2);
	ck_assert_int_eq(idp_stat(&idp, "certs"), 1);

	/* token_url in the environment, and no client_id: a config error, nothing sent. */
	client_config("");
	snprintf(C.cert_url, sizeof(C.cert_url), "http://127.0.0.1:%d/ssh/cert", idp.port);
	snprintf(C.token_url, sizeof(C.token_url), "http://127.0.0.1:%d/oauth2/token", idp.port);
	ck_apt(3, "token", "check");
	ck_assert_int_eq(idp_stat(&idp, "exchanges"), 2);

	/* A revoked API token: the exchange says no. */
	client_config("client_id = ci-client\n");
	idp_revoke(&idp, C.token);
	ck_apt(4, "token", "check");
	ck_assert_int_eq(idp_stat(&idp, "exchanges"), 3);
	ck_apt(4, "ssh-cert", "load", "--new", "--no-interaction");
	ck_assert_int_eq(idp_stat(&idp, "exchanges"), 4);
	ck_assert_int_eq(idp_stat(&idp, "cert_requests"), 1);
	ck_no_token_on_disk();
}
END_TEST

/* --- token check ------------------------------------------------------------------ */

START_TEST(token_check)
{
	long requests;

	ck_apt(0, "token", "check");
	ck_assert_str_eq(C.out, "The API token from APITOKEN_TOKEN is valid.\n");
	ck_assert_str_eq(C.err, "");
	ck_assert_int_eq(idp_stat(&idp, "exchanges"), 0);

	snprintf(C.token, sizeof(C.token), "%s", BOGUS_TOKEN);
	ck_apt(4, "token", "check");
	ck_assert_str_eq(C.out, "");
	ck_assert_msg(strstr(C.err, "The API token from APITOKEN_TOKEN is not valid") != NULL, "%s",
		      C.err);

	/* The issuer is down. */
	snprintf(C.cert_url, sizeof(C.cert_url), "http://127.0.0.1:%d/ssh/cert", closed_port());
	ck_apt(5, "token", "check");
	ck_apt(5, "ssh-cert", "load", "--no-interaction");
	ck_assert(!exists(C.cert));
	snprintf(C.token_url, sizeof(C.token_url), "http://127.0.0.1:%d/oauth2/token",
		 closed_port());
	client_config("client_id = ci-client\n");
	ck_apt(5, "token", "check");

	/* No token at all; no cert_url. */
	client_config("");
	C.token_url[0] = '\0';
	C.token[0] = '\0';
	ck_apt(3, "token", "check");
	ck_assert_msg(strstr(C.err, "no API token") != NULL, "%s", C.err);
	snprintf(C.token, sizeof(C.token), "%s", BOGUS_TOKEN);
	C.cert_url[0] = '\0';
	requests = idp_stat(&idp, "cert_requests");
	ck_apt(3, "token", "check");
	ck_apt(3, "ssh-cert", "load", "--no-interaction");
	ck_assert_int_eq(idp_stat(&idp, "cert_requests"), requests);
}
END_TEST

/*
 * A CI job with nothing but its platform's variables: the token in
 * UPCLOUD_TOKEN (token_env from APITOKEN_TOKEN_ENV), client_id from
 * APITOKEN_CLIENT_ID, token_url and cert_url from theirs; no config file.
 * token check names the variable, never the token.
 */
START_TEST(env_only_job)
{
	char *pasted;

	snprintf(C.token_var, sizeof(C.token_var), "UPCLOUD_TOKEN");
	/* Not listed: APITOKEN_TOKEN is the default only. */
	ck_apt(3, "token", "check");
	ck_assert_msg(strstr(C.err, "no API token: set APITOKEN_TOKEN") != NULL, "%s", C.err);

	C.extra = "APITOKEN_TOKEN_ENV=UPSUN_CLI_TOKEN UPCLOUD_TOKEN";
	ck_apt(0, "token", "check");
	ck_assert_str_eq(C.out, "The API token from UPCLOUD_TOKEN is valid.\n");
	ck_assert_str_eq(C.err, "");
	ck_apt(0, "ssh-cert", "load", "--no-interaction");
	ck_assert(exists(C.cert));

	/* The exchange, with client_id from the environment only. */
	snprintf(C.token_url, sizeof(C.token_url), "http://127.0.0.1:%d/oauth2/token", idp.port);
	snprintf(C.token_var, sizeof(C.token_var), "APITOKEN_TOKEN");
	C.extra = NULL;
	ck_apt(3, "token", "check");
	ck_assert_msg(strstr(C.err, "token_url needs client_id") != NULL, "%s", C.err);
	C.extra = "APITOKEN_CLIENT_ID=ci-client";
	ck_apt(0, "token", "check");
	ck_assert_int_eq(idp_stat(&idp, "exchanges"), 1);

	/* echo "$TOKEN" into a variable: the newline goes, with a note. */
	C.extra = NULL;
	C.token_url[0] = '\0';
	ck_assert_int_lt(strlen(C.token) + 1, sizeof(C.token));
	strcat(C.token, "\n");
	ck_apt(0, "token", "check");
	ck_assert_str_eq(C.out, "The API token from APITOKEN_TOKEN is valid.\n");
	ck_assert_str_eq(C.err,
			 "apitoken: note: removed the trailing newline from APITOKEN_TOKEN\n");

	/* A space inside is no line end: refused, naming the fix, not the token. */
	C.token[strlen(C.token) - 1] = '\0';
	memmove(C.token + 5, C.token + 4, strlen(C.token + 4) + 1);
	C.token[4] = ' ';
	ck_apt(3, "token", "check");
	ck_assert_msg(strstr(C.err, "from APITOKEN_TOKEN has a space, a control character") != NULL,
		      "%s", C.err);

	/* A token pasted into token_env is not echoed back. */
	ck_assert_int_ge(asprintf(&pasted, "APITOKEN_TOKEN_ENV=%s", "ucat_0123456789-abc"), 0);
	C.extra = pasted;
	ck_apt(3, "token", "check");
	ck_assert_msg(strstr(C.err, "token_env: word 1 is not a variable name") != NULL, "%s",
		      C.err);
	ck_assert_ptr_null(strstr(C.err, "ucat_0123456789"));
	C.extra = NULL;
	free(pasted);
}
END_TEST

/*
 * token check where no certificate endpoint exists: check_url, the
 * platform's own Bearer check (the test issuer's UpCloud-shaped /account).
 * Without any of check_url, token_url and cert_url it names them.
 */
START_TEST(token_check_by_check_url)
{
	char url[200];
	long certs = idp_stat(&idp, "cert_requests"), accounts = idp_stat(&idp, "accounts");

	C.cert_url[0] = '\0';
	ck_apt(3, "token", "check");
	ck_assert_msg(
	    strstr(C.err, "nothing to check it with: set check_url (APITOKEN_CHECK_URL") != NULL,
	    "%s", C.err);
	ck_assert_int_eq(idp_stat(&idp, "accounts"), accounts);

	snprintf(url, sizeof(url), "APITOKEN_CHECK_URL=http://127.0.0.1:%d/account", idp.port);
	C.extra = url;
	ck_apt(0, "token", "check");
	ck_assert_str_eq(C.out, "The API token from APITOKEN_TOKEN is valid.\n");
	ck_assert_int_eq(idp_stat(&idp, "accounts"), accounts + 1);
	idp_revoke(&idp, C.token);
	ck_apt(4, "token", "check");
	ck_assert_msg(strstr(C.err, "The API token from APITOKEN_TOKEN is not valid: check_url: "
				    "http://127.0.0.1:") != NULL &&
			  strstr(C.err, "/account answered HTTP 401") != NULL,
		      "%s", C.err);
	/* check_url wins over cert_url: no certificate is asked for. */
	snprintf(C.cert_url, sizeof(C.cert_url), "http://127.0.0.1:%d/ssh/cert", idp.port);
	ck_apt(4, "token", "check");
	ck_assert_int_eq(idp_stat(&idp, "cert_requests"), certs);

	snprintf(url, sizeof(url), "APITOKEN_CHECK_URL=http://127.0.0.1:%d/account", closed_port());
	ck_apt(5, "token", "check");
	snprintf(url, sizeof(url), "APITOKEN_CHECK_URL=http://example.com/account");
	ck_apt(3, "token", "check");
	ck_assert_msg(strstr(C.err, "check_url: want https://") != NULL, "%s", C.err);
	C.extra = NULL;
}
END_TEST

START_TEST(token_file_readable_by_others_refused)
{
	char tokfile[500], conf[700], line[200], token[128];

	snprintf(tokfile, sizeof(tokfile), "%s/token", C.dir);
	snprintf(line, sizeof(line), "%s\n", C.token);
	put(tokfile, 0644, line);
	snprintf(conf, sizeof(conf), "token_file = %s\n", tokfile);
	client_config(conf);
	/* No APITOKEN_TOKEN: the file it is. */
	snprintf(token, sizeof(token), "%s", C.token);
	C.token[0] = '\0';
	ck_apt(3, "ssh-cert", "load", "--no-interaction");
	ck_assert_msg(strstr(C.err, tokfile) != NULL, "%s", C.err);
	ck_assert_msg(strstr(C.out, token) == NULL && strstr(C.err, token) == NULL, "token leaked");
	ck_apt(3, "token", "check");
	ck_assert_msg(strstr(C.out, token) == NULL && strstr(C.err, token) == NULL, "token leaked");
	ck_assert_int_eq(idp_stat(&idp, "cert_requests"), 0);
	ck_assert_int_eq(idp_stat(&idp, "exchanges"), 0);
	ck_assert_int_eq(idp_stat(&idp, "certs"), 0);
	ck_assert(!exists(C.key) && !exists(C.cert));

	/* 0600: fine. */
	ck_assert_int_eq(chmod(tokfile, 0600), 0);
	ck_apt(0, "ssh-cert", "load", "--no-interaction");
	ck_apt(0, "token", "check");
	ck_assert_int_eq(idp_stat(&idp, "cert_requests"), 2);
	snprintf(C.token, sizeof(C.token), "%s", token);
	ck_no_token_on_disk();
}
END_TEST

/* A pinned CA: the issuer's passes; another refuses the certificate and writes nothing. */
START_TEST(pinned_ca)
{
	char pin[600], other[600], conf[800], cmd[1400], *ca = idp_ca_keys(&idp);

	fresh();
	snprintf(pin, sizeof(pin), "%s/ca.pub", C.dir);
	put(pin, 0644, ca);
	snprintf(conf, sizeof(conf), "ca_key_file = %s\n", pin);
	client_config(conf);
	ck_apt(0, "ssh-cert", "load", "--no-interaction");
	ck_apt(0, "token", "check");

	/* A CA we do not pin. */
	snprintf(other, sizeof(other), "%s/other", C.dir);
	snprintf(cmd, sizeof(cmd), "ssh-keygen -q -t ed25519 -N '' -f '%s'", other);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "cp '%s.pub' '%s'", other, pin);
	ck_assert_int_eq(system(cmd), 0);
	{
		struct snap before = snap_take();
		ck_apt(6, "ssh-cert", "load", "--new", "--no-interaction");
		ck_assert_msg(strstr(C.err, "not by a CA we pin") != NULL, "%s", C.err);
		snap_same(&before);
		snap_free(&before);
	}
	ck_apt(6, "token", "check");

	/* pin_ca: the keys cert_url/authority publishes. */
	client_config("pin_ca = yes\n");
	ck_apt(0, "ssh-cert", "load", "--new", "--no-interaction");
	ck_assert_int_ge(idp_stat(&idp, "authority"), 1);
	free(ca);
}
END_TEST

/* The base64 of the first key line in text, for comparing keys (static). */
static const char *key_b64(const char *text)
{
	static char b64[200];

	ck_assert_ptr_nonnull(text);
	while (*text == '#')
		text = strchr(text, '\n') + 1;
	ck_assert_int_eq(sscanf(text, "%*s %199s", b64), 1);
	return b64;
}

/*
 * Without ca_key_file, "signature valid" proved only that the certificate
 * matches the CA key it carries itself: another issuer behind cert_url (a
 * second test issuer here, with its own SSH CA) got its certificate
 * written. Now the first load pins the CA, as known_hosts pins a host key,
 * and a later certificate from any other CA is refused, nothing written,
 * until `ssh-cert clear --forget-ca`.
 */
START_TEST(ca_pinned_at_first_load)
{
	struct server idp2;
	struct stat sb;
	char cas[600], url2[200], tok1[128], b64[200], *first_out, *tok2, *ca = idp_ca_keys(&idp),
									  *ca2, *text;
	json_t *j;

	snprintf(cas, sizeof(cas), "%s/ca_keys", C.sshdir);
	ck_apt(0, "ssh-cert", "load", "--no-interaction");
	first_out = strdup(C.out);

	/* Another issuer, another CA, a token it accepts: the attack first. */
	server_start(&idp2, "tests/idp/server.js");
	ca2 = idp_ca_keys(&idp2);
	snprintf(b64, sizeof(b64), "%s", key_b64(ca));
	ck_assert_str_ne(key_b64(ca2), b64);
	tok2 = idp_mint(&idp2, SU.member, "ssh", 600, NULL);
	snprintf(tok1, sizeof(tok1), "%s", C.token);
	snprintf(C.token, sizeof(C.token), "%s", tok2);
	snprintf(url2, sizeof(url2), "http://127.0.0.1:%d/ssh/cert", idp2.port);
	snprintf(C.cert_url, sizeof(C.cert_url), "%s", url2);
	{
		struct snap before = snap_take();
		char *cas_before = file_text(cas, 0);

		ck_apt(6, "ssh-cert", "load", "--new", "--no-interaction");
		ck_assert_msg(strstr(C.err, "not by the CA pinned at the first load") != NULL &&
				  strstr(C.err, "apitoken ssh-cert clear --forget-ca") != NULL &&
				  strstr(C.err, "ca_key_file") != NULL,
			      "%s", C.err);
		ck_assert_int_eq(idp_stat(&idp2, "certs"), 1); /* issued, and refused */
		snap_same(&before);
		text = file_text(cas, 0);
		ck_assert_str_eq(text, cas_before);
		free(text);
		free(cas_before);
		snap_free(&before);
	}

	/* What the first load said and recorded: the issuer's CA, 0600. */
	ck_assert_msg(strstr(first_out, "Its signature is valid, signed by the CA SHA256:") !=
			      NULL &&
			  strstr(first_out, "pinned now") != NULL,
		      "%s", first_out);
	free(first_out);
	ck_assert_int_eq(lstat(cas, &sb), 0);
	ck_assert(S_ISREG(sb.st_mode) && (sb.st_mode & 07777) == 0600);
	text = file_text(cas, 0);
	ck_assert_msg(strstr(text, b64) != NULL, "%s", text);
	free(text);
	ck_apt(0, "ssh-cert", "info");
	ck_assert_msg(strstr(C.out, "(signature valid, the pinned CA (first load))") != NULL, "%s",
		      C.out);
	j = info_json();
	ck_assert(json_is_true(json_object_get(j, "ca_pinned")));
	ck_assert(json_is_true(json_object_get(j, "signature_valid")));
	json_decref(j);

	/* A plain clear keeps the pin. */
	ck_apt(0, "ssh-cert", "clear");
	ck_apt(6, "ssh-cert", "load", "--no-interaction");
	ck_assert(!exists(C.cert));
	ck_assert(exists(cas));

	/* --forget-ca: the next load pins the new CA, and the old one is refused in turn. */
	ck_apt(0, "ssh-cert", "clear", "--forget-ca");
	ck_assert_msg(strstr(C.out, "the pinned CA keys") != NULL, "%s", C.out);
	ck_assert(!exists(cas));
	ck_apt(0, "ssh-cert", "load", "--no-interaction");
	text = file_text(cas, 0);
	ck_assert_msg(strstr(text, key_b64(ca2)) != NULL, "%s", text);
	free(text);
	ck_apt(0, "ssh-cert", "load", "--new", "--no-interaction");
	ck_assert_msg(strstr(C.out, "Its signature is valid, signed by the pinned CA SHA256:") !=
			  NULL,
		      "%s", C.out);
	snprintf(C.token, sizeof(C.token), "%s", tok1);
	snprintf(C.cert_url, sizeof(C.cert_url), "http://127.0.0.1:%d/ssh/cert", idp.port);
	ck_apt(6, "ssh-cert", "load", "--new", "--no-interaction");

	/* ca_key_file still decides alone when it is set. */
	{
		char pin[600], conf[700];

		snprintf(pin, sizeof(pin), "%s/ca.pub", C.dir);
		put(pin, 0644, ca);
		snprintf(conf, sizeof(conf), "ca_key_file = %s\n", pin);
		client_config(conf);
		ck_apt(0, "ssh-cert", "load", "--new", "--no-interaction");
		ck_assert_msg(strstr(C.out, "signed by the pinned CA SHA256:") != NULL &&
				  strstr(C.out, "(ca_key_file ") != NULL,
			      "%s", C.out);
	}
	server_stop(&idp2);
	free(tok2);
	free(ca2);
	free(ca);
}
END_TEST

/*
 * An issuer that publishes no authority (a vault mount here): the first
 * load pins the key that signed its certificate.
 */
START_TEST(ca_pinned_without_authority)
{
	char cas[600], *text, *ca = idp_ca_keys(&idp);

	snprintf(cas, sizeof(cas), "%s/ca_keys", C.sshdir);
	snprintf(C.cert_url, sizeof(C.cert_url), "http://127.0.0.1:%d/v1/ssh/sign/ci-role",
		 idp.port);
	client_config("cert_protocol = vault\n");
	ck_apt(0, "ssh-cert", "load", "--no-interaction");
	text = file_text(cas, 0);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(strstr(text, key_b64(ca)) != NULL, "%s", text);
	free(text);
	free(ca);
}
END_TEST

/* Nothing at all under dir: no key, no certificate written through a planted path. */
static void ck_empty_dir(const char *dir)
{
	char cmd[700];

	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s')\"", dir);
	ck_assert_msg(system(cmd) == 0, "%s is not empty", dir);
}

/*
 * The state directory is reached one checked component at a time. A
 * symbolic link planted on the way (here $XDG_STATE_HOME/apitoken pointing
 * elsewhere) or a component others may write (they could plant one) makes
 * load refuse, naming the component and the fix, before any request and
 * with nothing written anywhere.
 */
START_TEST(state_path_checked)
{
	char comp[600], elsewhere[600], sshdir_elsewhere[700];

	mkdir_ok(C.state, 0700);
	snprintf(comp, sizeof(comp), "%s/apitoken", C.state);
	snprintf(elsewhere, sizeof(elsewhere), "%s/elsewhere", C.dir);
	mkdir_ok(elsewhere, 0700);
	ck_assert_int_eq(symlink(elsewhere, comp), 0);
	ck_apt(3, "ssh-cert", "load", "--no-interaction");
	ck_assert_msg(strstr(C.err, comp) != NULL && strstr(C.err, "is a symbolic link") != NULL &&
			  strstr(C.err, "remove the link") != NULL,
		      "%s", C.err);
	ck_empty_dir(elsewhere);
	ck_assert_int_eq(idp_stat(&idp, "cert_requests"), 0);
	/* info and clear go no further either. */
	ck_apt(3, "ssh-cert", "info");
	ck_assert_msg(strstr(C.err, "is a symbolic link") != NULL, "%s", C.err);
	ck_apt(1, "ssh-cert", "info", "--check");
	ck_apt(3, "ssh-cert", "clear");
	ck_empty_dir(elsewhere);

	/* The same for the last component. */
	ck_assert_int_eq(unlink(comp), 0);
	mkdir_ok(comp, 0700);
	snprintf(sshdir_elsewhere, sizeof(sshdir_elsewhere), "%s/apitoken/ssh", C.state);
	ck_assert_int_eq(symlink(elsewhere, sshdir_elsewhere), 0);
	ck_apt(3, "ssh-cert", "load", "--no-interaction");
	ck_assert_msg(strstr(C.err, sshdir_elsewhere) != NULL, "%s", C.err);
	ck_empty_dir(elsewhere);
	ck_assert_int_eq(unlink(sshdir_elsewhere), 0);

	/* A group-writable component. */
	ck_assert_int_eq(chmod(comp, 0770), 0);
	ck_apt(3, "ssh-cert", "load", "--no-interaction");
	ck_assert_msg(strstr(C.err, comp) != NULL &&
			  strstr(C.err, "writable by group or others") != NULL &&
			  strstr(C.err, "chmod go-w") != NULL,
		      "%s", C.err);
	ck_empty_dir(comp);
	/* ... or $XDG_STATE_HOME itself, writable by others. */
	ck_assert_int_eq(chmod(comp, 0700), 0);
	ck_assert_int_eq(chmod(C.state, 0703), 0);
	ck_apt(3, "ssh-cert", "load", "--no-interaction");
	ck_assert_msg(strstr(C.err, C.state) != NULL &&
			  strstr(C.err, "writable by group or others") != NULL,
		      "%s", C.err);
	ck_empty_dir(comp);
	ck_assert_int_eq(idp_stat(&idp, "cert_requests"), 0);

	/* Fixed as the message says: it works, and only in the real directory. */
	ck_assert_int_eq(chmod(C.state, 0700), 0);
	ck_apt(0, "ssh-cert", "load", "--no-interaction");
	ck_assert(exists(C.key) && exists(C.cert));
	ck_apt(0, "ssh-cert", "info", "--check");
	ck_empty_dir(elsewhere);
}
END_TEST

/* Settings mistakes are configuration errors, said before anything is sent or written. */
START_TEST(settings_mistakes_fail_early)
{
	char conf[300];

	fresh();
	/* --agent with no agent: nothing requested, nothing written. */
	C.agent = NULL;
	ck_apt(3, "ssh-cert", "load", "--agent", "--no-interaction");
	ck_assert(!exists(C.key) && !exists(C.cert));
	ck_assert_int_eq(idp_stat(&idp, "cert_requests"), 0);
	/* Plain http to a host that is not this one. */
	snprintf(C.cert_url, sizeof(C.cert_url), "http://issuer.example/ssh/cert");
	ck_apt(3, "ssh-cert", "load", "--no-interaction");
	ck_assert_msg(strstr(C.err, "https://") != NULL, "%s", C.err);
	ck_apt(3, "token", "check");
	/* An unknown protocol. */
	snprintf(C.cert_url, sizeof(C.cert_url), "http://127.0.0.1:%d/ssh/cert", idp.port);
	client_config("cert_protocol = ftp\n");
	ck_apt(3, "ssh-cert", "load", "--no-interaction");
	/* An explicit proxy is used (here one where nothing listens): the issuer sees nothing. */
	snprintf(conf, sizeof(conf), "proxy = http://127.0.0.1:%d\n", closed_port());
	client_config(conf);
	ck_apt(5, "ssh-cert", "load", "--no-interaction");
	ck_assert_int_eq(idp_stat(&idp, "cert_requests"), 0);
	ck_assert(!exists(C.cert));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ssh-cert");
	TCase *tc = tcase_create("ssh-cert");

	tcase_add_unchecked_fixture(tc, up, down);
	tcase_add_checked_fixture(tc, fresh, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, load_writes_key_and_certificate);
	tcase_add_test(tc, info_without_certificate);
	tcase_add_test(tc, certificate_logs_in_ssh_git_rsync);
	tcase_add_test(tc, expired_certificate_not_written);
	tcase_add_test(tc, short_certificate_expires);
	tcase_add_test(tc, other_principal_refused_by_sshd);
	tcase_add_test(tc, revoked_token_at_issuance);
	tcase_add_test(tc, refresh_only_asks_only_when_needed);
	tcase_add_test(tc, new_certificate_same_key_then_new_key);
	tcase_add_test(tc, write_ssh_config_and_clear);
	tcase_add_test(tc, hosts_limit_the_include);
	tcase_add_test(tc, fresh_runner_clones_with_certificate);
	tcase_add_test(tc, fresh_runner_clones_with_exec);
	tcase_add_test(tc, no_host_authorities_no_known_hosts);
	tcase_add_test(tc, malformed_host_authorities_write_nothing);
	tcase_add_test(tc, ssh_config_only_for_hosts);
	tcase_add_test(tc, write_ssh_config_asks_for_hosts);
	tcase_add_test(tc, agent_holds_one_certificate);
	tcase_add_test(tc, clear_removes_every_agent_identity);
	tcase_add_test(tc, vault_protocol);
	tcase_add_test(tc, apitoken_protocol_with_exchange);
	tcase_add_test(tc, token_check);
	tcase_add_test(tc, env_only_job);
	tcase_add_test(tc, token_check_by_check_url);
	tcase_add_test(tc, token_file_readable_by_others_refused);
	tcase_add_test(tc, pinned_ca);
	tcase_add_test(tc, ca_pinned_at_first_load);
	tcase_add_test(tc, ca_pinned_without_authority);
	tcase_add_test(tc, state_path_checked);
	tcase_add_test(tc, settings_mistakes_fail_early);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
