/* A real sshd, test users and ssh clients for the integration tests (see sshd.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "sshd.h"
#include "testenv.h"

#define SSHD_BIN     "/usr/sbin/sshd"
#define PAM_DIR	     "/etc/pam.d/"
#define SERVICE_BASE "sshd-apitoken-"
#define USER_BASE    "aptci"
#define GROUP	     "apitoken"
/* Exists while the group is one the tests made (see sshd_users_create). */
#define GROUP_MARKER "/run/pam_apitoken-tests.group"
#define CLIENT_PATH  "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"

struct sshd_users SU;

#define die(...) testenv_die("sshd harness", __VA_ARGS__)

/* Runs a shell command line; returns its exit status, or -1. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void put(const char *path, mode_t mode, const char *text)
{
	size_t len;
	int fd;

	if (text == NULL)
		die("%s: nothing to write", path);
	len = strlen(text);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		die("%s: %s", path, strerror(errno));
	if (write(fd, text, len) != (ssize_t)len)
		die("%s: short write", path);
	fchmod(fd, mode);
	close(fd);
}

static void random_hex(char *out, size_t nhex)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[32];

	if (nhex > 2 * sizeof(b) || getrandom(b, (nhex + 1) / 2, 0) != (ssize_t)((nhex + 1) / 2))
		die("getrandom: %s", strerror(errno));
	for (size_t i = 0; i < nhex; i++)
		out[i] = hex[(b[i / 2] >> (i % 2 ? 0 : 4)) & 15];
	out[nhex] = '\0';
}

/* --- what to clean up, whatever happens ------------------------------------ */

#define MAX_LIVE 4
static struct sshd *live[MAX_LIVE];
static bool users_made;
static pid_t owner;

static void cleanup_all(void);

static struct sigaction old_int, old_term, old_hup;

static void on_signal(int sig)
{
	/* Not async-signal-safe, but the alternative is users and PAM files left behind. */
	cleanup_all();
	testenv_teardown();
	sigaction(sig, sig == SIGINT ? &old_int : sig == SIGTERM ? &old_term : &old_hup, NULL);
	raise(sig); /* delivered to the previous handler (Check's) once this one returns */
}

static void at_exit(void)
{
	if (owner != getpid())
		return;
	cleanup_all();
	testenv_teardown(); /* done already unless a setup aborted */
}

/* The first time this process makes something: clean up at exit and on signals. */
static void own(void)
{
	struct sigaction sa;

	if (owner == getpid())
		return;
	owner = getpid();
	atexit(at_exit);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
}

static void cleanup_all(void)
{
	/* Check's test processes are forks of the owner: they must not clean up. */
	if (owner != getpid())
		return;
	for (int i = 0; i < MAX_LIVE; i++)
		if (live[i] != NULL)
			sshd_stop(live[i]);
	sshd_users_remove();
}

/* --- users ---------------------------------------------------------------- */

static void remove_user(char *name)
{
	if (name[0] == '\0')
		return;
	/* userdel refuses while the user has processes: give them a moment, then force. */
	for (int i = 0; i < 20; i++) {
		if (getpwnam(name) == NULL || run("userdel -r %s >/dev/null 2>&1", name) == 0)
			break;
		usleep(100 * 1000);
	}
	if (getpwnam(name) != NULL && run("userdel -r -f %s >/dev/null 2>&1", name) != 0)
		fprintf(stderr, "sshd harness: could not remove user %s\n", name);
	name[0] = '\0';
}

/*
 * Test runs may overlap (several checkouts, several sessions): the group is
 * shared. Under a lock, the first run makes it and leaves the marker; the last
 * run out removes both. A group an admin made has no marker and stays.
 * /etc/pam.d is locked because its inode is stable (/etc/group is replaced
 * on every change).
 */
static int lock_fd = -1;

/* Held at most once per process: an abort while holding it cleans up under it. */
static void lock_users(void)
{
	if (lock_fd >= 0)
		return;
	lock_fd = open("/etc/pam.d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lock_fd < 0 || flock(lock_fd, LOCK_EX) != 0)
		die("lock /etc/pam.d: %s", strerror(errno));
}

static void unlock_users(void)
{
	if (lock_fd >= 0)
		close(lock_fd);
	lock_fd = -1;
}

void sshd_users_create(void)
{
	char suffix[8];
	struct passwd *pw;

	if (geteuid() != 0)
		die("the sshd tests need root");
	own();
	lock_users();
	if (getgrnam(GROUP) == NULL) {
		if (run("groupadd " GROUP) != 0)
			die("groupadd " GROUP " failed");
		close(open(GROUP_MARKER, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	}
	users_made = true;
	random_hex(suffix, 6);
	snprintf(SU.member, sizeof(SU.member), USER_BASE "%s", suffix);
	snprintf(SU.outsider, sizeof(SU.outsider), USER_BASE "%sx", suffix);
	if (run("useradd -m -s /bin/sh -G " GROUP " %s", SU.member) != 0)
		die("useradd %s failed", SU.member);
	if (run("useradd -m -s /bin/sh %s", SU.outsider) != 0)
		die("useradd %s failed", SU.outsider);
	unlock_users();
	pw = getpwnam(SU.member);
	if (pw == NULL)
		die("%s: not in the user database", SU.member);
	snprintf(SU.member_home, sizeof(SU.member_home), "%s", pw->pw_dir);
}

void sshd_users_remove(void)
{
	struct group *g;

	if (!users_made || owner != getpid())
		return;
	lock_users();
	remove_user(SU.member);
	remove_user(SU.outsider);
	users_made = false;
	if (access(GROUP_MARKER, F_OK) == 0) {
		g = getgrnam(GROUP);
		if (g == NULL) {
			unlink(GROUP_MARKER);
		} else if (g->gr_mem == NULL || g->gr_mem[0] == NULL) {
			if (run("groupdel " GROUP " >/dev/null 2>&1") == 0)
				unlink(GROUP_MARKER);
			else
				fprintf(stderr, "sshd harness: could not remove group " GROUP "\n");
		}
	}
	unlock_users();
}

/* --- the server ------------------------------------------------------------- */

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		die("free port: %s", strerror(errno));
	close(fd);
	return ntohs(a.sin_port);
}

/* Splits off the next line (the newline dropped); NULL at the end. */
static char *next_line(char **rest)
{
	char *line = *rest, *nl;

	if (line == NULL || *line == '\0')
		return NULL;
	nl = strchr(line, '\n');
	if (nl != NULL) {
		*nl = '\0';
		*rest = nl + 1;
	} else {
		*rest = NULL;
	}
	return line;
}

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/*
 * The shipped sshd_config.d snippet; for the password method with the two
 * lines replaced as its comments say; for certificates with publickey in
 * their place (as the comment's "AuthenticationMethods publickey
 * keyboard-interactive", without the token). Aborts if the snippet no
 * longer has them.
 */
static void write_snippet(const char *path, enum sshd_method method)
{
	char *text = file_text("conf/sshd_config.d/apitoken.conf", 0), *out = NULL, *line, *save;
	size_t len = 0;
	FILE *m;
	int kbd = 0, meth = 0;

	if (text == NULL)
		die("conf/sshd_config.d/apitoken.conf: %s", strerror(errno));
	m = open_memstream(&out, &len);
	if (m == NULL)
		die("out of memory");
	save = text;
	while ((line = next_line(&save)) != NULL) {
		const char *l = skip_space(line);

		if (strcmp(l, "KbdInteractiveAuthentication yes") == 0) {
			kbd++;
			if (method == SSHD_PASSWORD)
				line = "\tPasswordAuthentication yes";
			else if (method == SSHD_CERT)
				line = "\tPubkeyAuthentication yes";
		} else if (strcmp(l, "AuthenticationMethods keyboard-interactive") == 0) {
			meth++;
			if (method == SSHD_PASSWORD)
				line = "\tAuthenticationMethods password";
			else if (method == SSHD_CERT)
				line = "\tAuthenticationMethods publickey";
		}
		fprintf(m, "%s\n", line);
	}
	fclose(m);
	if (kbd != 1 || meth != 1)
		die("conf/sshd_config.d/apitoken.conf: expected one \"KbdInteractiveAuthentication "
		    "yes\" and one \"AuthenticationMethods keyboard-interactive\" line");
	put(path, 0644, out);
	free(out);
	free(text);
}

/*
 * The PAM service: the auth lines of the shipped conf/pam.d/sshd, with the
 * module from build/ and the test's config, then the rest of the auth stack,
 * and of Debian's stock /etc/pam.d/sshd what matters here.
 */
static void write_pam_service(const char *path, const char *auth_after)
{
	char *text = file_text("conf/pam.d/sshd", 0), *out = NULL, *line, *save, *mod;
	size_t len = 0;
	FILE *m;
	int lines = 0, module = 0;

	if (text == NULL)
		die("conf/pam.d/sshd: %s", strerror(errno));
	m = open_memstream(&out, &len);
	if (m == NULL)
		die("out of memory");
	fprintf(m, "# Written by the pam_apitoken tests (tests/support/sshd.c) for one run; "
		   "removed when it ends.\n");
	save = text;
	while ((line = next_line(&save)) != NULL) {
		const char *l = skip_space(line);

		if (*l == '\0' || *l == '#')
			continue;
		lines++;
		if (strncmp(l, "auth", 4) != 0 || !isspace((unsigned char)l[4]))
			die("conf/pam.d/sshd: unexpected line \"%s\"", l);
		mod = strstr(line, " pam_apitoken.so");
		if (mod == NULL) {
			fprintf(m, "%s\n", line);
			continue;
		}
		module++;
		*mod = '\0';
		fprintf(m, "%s %s config=%s/apt.conf%s\n", line, T.module, T.root,
			mod + strlen(" pam_apitoken.so"));
	}
	/* As in Debian's stock file, after the stanza; session: nothing the tests need. */
	fprintf(m, "%s\n", auth_after != NULL ? auth_after : "@include common-auth");
	fprintf(m, "@include common-account\n"
		   "session required pam_permit.so\n"
		   "password required pam_deny.so\n");
	fclose(m);
	if (lines != 2 || module != 1)
		die("conf/pam.d/sshd: expected two auth lines, the second loading pam_apitoken.so");
	put(path, 0644, out);
	free(out);
	free(text);
}

static void write_askpass(const struct sshd *s)
{
	char path[600], text[4096], pw[700] = "";

	/*
	 * Answers the module's prompt only. OpenSSH shows keyboard-interactive
	 * prompts as "(user@host) API token: "; the password method's prompt is
	 * ssh's own "user@host's password: ", answered only for that method.
	 */
	if (s->method == SSHD_PASSWORD)
		snprintf(pw, sizeof(pw), "*\"'s password: \") exec cat '%s/token' ;;\n", s->dir);
	snprintf(text, sizeof(text),
		 "#!/bin/sh\n"
		 "# Test askpass: prints the token for the module's prompt only.\n"
		 "printf '%%s\\n' \"$1\" >>'%s/prompts'\n"
		 "case \"$1\" in\n"
		 "*'API token: ') exec cat '%s/token' ;;\n"
		 "%s"
		 "esac\n"
		 "exit 1\n",
		 s->dir, s->dir, pw);
	snprintf(path, sizeof(path), "%s/askpass", s->dir);
	put(path, 0755, text);
}

static bool exited(pid_t pid)
{
	int st;

	return waitpid(pid, &st, WNOHANG) == pid;
}

/*
 * Under make check-asan the module is sanitized but sshd is not: sshd needs
 * the sanitizer runtime preloaded (it must come first) and its options in
 * the environment, as it has no compiled-in ones. The target sets
 * APITOKEN_SANITIZER_PRELOAD (the runtime) and APITOKEN_SANITIZER_OPTIONS;
 * otherwise sshd gets PATH alone. The helper children of the module need
 * nothing from here: the module runs them with an empty environment.
 */
static void sanitizer_env(char *preload, size_t plen, char *asan, size_t alen, char *ubsan,
			  size_t ulen)
{
	const char *lib = getenv("APITOKEN_SANITIZER_PRELOAD");
	const char *opts = getenv("APITOKEN_SANITIZER_OPTIONS");

	preload[0] = asan[0] = ubsan[0] = '\0';
	if (lib == NULL || lib[0] == '\0')
		return;
	if (lib[0] != '/' || access(lib, R_OK) != 0)
		die("APITOKEN_SANITIZER_PRELOAD=%s: not a readable absolute path", lib);
	snprintf(preload, plen, "LD_PRELOAD=%s", lib);
	snprintf(asan, alen, "ASAN_OPTIONS=%s", opts != NULL ? opts : "detect_leaks=0");
	snprintf(ubsan, ulen, "UBSAN_OPTIONS=%s", opts != NULL ? opts : "");
}

/* One attempt on one port: true when sshd listens, false when the port was taken. */
static bool try_start(struct sshd *s)
{
	char conf[4096], cfg[600], link[600], pidf[600], hostkey[600], errf[600], ready[100];
	char auth[800], san_preload[PATH_MAX + 16], san_asan[1200], san_ubsan[1200];
	char *logtext;
	struct timespec t0, now;
	int fd;

	s->port = free_port();
	snprintf(cfg, sizeof(cfg), "%s/sshd_config", s->dir);
	snprintf(pidf, sizeof(pidf), "%s/sshd.pid", s->dir);
	snprintf(hostkey, sizeof(hostkey), "%s/hostkey", s->dir);
	snprintf(link, sizeof(link), "%s/%s", s->dir, s->service);
	snprintf(errf, sizeof(errf), "%s/sshd.stderr", s->dir);
	if (s->method == SSHD_CERT)
		snprintf(auth, sizeof(auth),
			 "# Certificates signed by the issuer's CA, nothing else.\n"
			 "KbdInteractiveAuthentication no\n"
			 "PasswordAuthentication no\n"
			 "PubkeyAuthentication yes\n"
			 "TrustedUserCAKeys %s\n",
			 s->ca_file);
	else
		snprintf(auth, sizeof(auth),
			 "# Everybody else reaches the PAM stack too (and fails there: no "
			 "password).\n"
			 "KbdInteractiveAuthentication yes\n"
			 "PasswordAuthentication no\n"
			 "PubkeyAuthentication no\n");
	snprintf(conf, sizeof(conf),
		 "# Written by the pam_apitoken tests (tests/support/sshd.c).\n"
		 "# The shipped snippet first, as Debian's sshd_config includes sshd_config.d.\n"
		 "Include %s/apitoken.conf\n"
		 "ListenAddress 127.0.0.1:%d\n"
		 "HostKey %s\n"
		 "%s%s%s"
		 "PidFile %s\n"
		 "%s"
		 "AuthorizedKeysFile none\n"
		 "PermitRootLogin no\n"
		 "UseDNS no\n"
		 "PrintMotd no\n"
		 "Subsystem sftp internal-sftp\n",
		 s->dir, s->port, hostkey, s->host_cert[0] ? "HostCertificate " : "", s->host_cert,
		 s->host_cert[0] ? "\n" : "", pidf, auth);
	put(cfg, 0644, conf);
	unlink(s->log);

	sanitizer_env(san_preload, sizeof(san_preload), san_asan, sizeof(san_asan), san_ubsan,
		      sizeof(san_ubsan));
	s->pid = fork();
	if (s->pid < 0)
		die("fork: %s", strerror(errno));
	if (s->pid == 0) {
		char *argv[] = {link, "-D", "-f", cfg, "-E", s->log, NULL};
		char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
				san_preload[0] ? san_preload : NULL, san_asan, san_ubsan, NULL};

		fd = open("/dev/null", O_RDONLY);
		dup2(fd, 0);
		fd = open(errf, O_WRONLY | O_CREAT | O_APPEND, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		/*
		 * sshd's connection processes leave orphans (zombies for init to
		 * reap); as a subreaper (kept across execve) sshd, which reaps every
		 * child, gets them, and sshd_stop can wait for them.
		 */
		prctl(PR_SET_CHILD_SUBREAPER, 1);
		execve(link, argv, envp);
		_exit(127);
	}

	/* Ready when it says it listens (connections queue from then on). */
	snprintf(ready, sizeof(ready), "Server listening on 127.0.0.1 port %d.", s->port);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		bool gone = exited(s->pid);

		logtext = file_text(s->log, 0);
		if (logtext != NULL && strstr(logtext, ready) != NULL) {
			free(logtext);
			return true;
		}
		if (gone) {
			s->pid = 0;
			if (logtext != NULL &&
			    (strstr(logtext, "Bind to port") != NULL ||
			     strstr(logtext, "Cannot bind any address") != NULL)) {
				free(logtext);
				return false;
			}
			{
				char *err = file_text(errf, 0);
				die("sshd exited before listening:\n%s%s", logtext ? logtext : "",
				    err ? err : "");
			}
		}
		free(logtext);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > 10) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, NULL, 0);
			s->pid = 0;
			die("sshd did not listen within 10 s");
		}
		usleep(5000);
	}
}

/* The client options of SSHD_CERT (publickey only, no prompt), ssh reading CONFIG. */
static void cert_opts(const struct sshd *s, const char *config, char *out, size_t len)
{
	snprintf(out, len,
		 "-F %s -o UserKnownHostsFile=%s/known_hosts -o GlobalKnownHostsFile=/dev/null "
		 "-o StrictHostKeyChecking=yes -o PreferredAuthentications=publickey "
		 "-o BatchMode=yes -o ConnectTimeout=10 -o LogLevel=ERROR",
		 config, s->dir);
}

/*
 * The host key's certificate from the issuer's host CA (POST HOST_CERT_URL,
 * the key line as the body), for 127.0.0.1 and localhost, in s->host_cert.
 */
static void certify_host_key(struct sshd *s, const char *host_cert_url)
{
	char path[600], url[600], line[4096], *pub, *body;
	json_t *j, *cert;
	long status;

	snprintf(path, sizeof(path), "%s/hostkey.pub", s->dir);
	pub = file_text(path, 0);
	if (pub == NULL)
		die("%s: %s", path, strerror(errno));
	snprintf(url, sizeof(url), "%s?principals=127.0.0.1,localhost", host_cert_url);
	body = http_call("POST", url, NULL, pub, &status);
	j = json_loads(body, 0, NULL);
	cert = json_object_get(j, "certificate");
	if (status != 200 || !json_is_string(cert))
		die("POST %s: status %ld, body %s", url, status, body);
	snprintf(s->host_cert, sizeof(s->host_cert), "%s/hostkey-cert.pub", s->dir);
	snprintf(line, sizeof(line), "%s\n", json_string_value(cert));
	put(s->host_cert, 0644, line);
	json_decref(j);
	free(body);
	free(pub);
}

static void start(struct sshd *s, enum sshd_method method, const char *auth_after,
		  const char *ca_keys, const char *host_cert_url)
{
	char suffix[12], path[600], opts[1200], *pub, *sp;
	const char *method_name;
	int slot;

	if (geteuid() != 0)
		die("the sshd tests need root");
	if (T.root[0] == '\0')
		die("sshd_start before testenv_setup");
	own();
	for (slot = 0; slot < MAX_LIVE && live[slot] != NULL; slot++)
		;
	if (slot == MAX_LIVE)
		die("too many sshd");
	memset(s, 0, sizeof(*s));
	s->method = method;
	/* Linux-PAM lower-cases service names: keep the name lower-case. */
	random_hex(suffix, 8);
	snprintf(s->service, sizeof(s->service), SERVICE_BASE "%s", suffix);
	snprintf(s->dir, sizeof(s->dir), "%s/%s", T.root, s->service);
	snprintf(s->pam_file, sizeof(s->pam_file), PAM_DIR "%s", s->service);
	snprintf(s->log, sizeof(s->log), "%s/sshd.log", s->dir);
	if (mkdir(s->dir, 0755) != 0)
		die("%s: %s", s->dir, strerror(errno));
	live[slot] = s;

	/* sshd's privilege separation directory (the package creates it at boot). */
	if (mkdir("/run/sshd", 0755) != 0 && errno != EEXIST)
		die("/run/sshd: %s", strerror(errno));

	if (run("ssh-keygen -q -t ed25519 -N '' -C '' -f '%s/hostkey'", s->dir) != 0)
		die("ssh-keygen failed");
	if (host_cert_url != NULL)
		certify_host_key(s, host_cert_url);
	snprintf(path, sizeof(path), "%s/%s", s->dir, s->service);
	if (symlink(SSHD_BIN, path) != 0)
		die("%s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/apitoken.conf", s->dir);
	write_snippet(path, method);
	if (method == SSHD_CERT) {
		snprintf(s->ca_file, sizeof(s->ca_file), "%s/trusted_user_ca_keys", s->dir);
		put(s->ca_file, 0644, ca_keys);
	}
	write_pam_service(s->pam_file, auth_after);
	write_askpass(s);
	snprintf(path, sizeof(path), "%s/home", s->dir);
	if (mkdir(path, 0700) != 0)
		die("%s: %s", path, strerror(errno));

	for (int i = 0;; i++) {
		if (try_start(s))
			break;
		if (i == 5)
			die("sshd: no free port after 6 tries");
	}

	/* known_hosts with the host key: strict checking, no question to answer. */
	snprintf(path, sizeof(path), "%s/hostkey.pub", s->dir);
	pub = file_text(path, 0);
	if (pub == NULL)
		die("%s: %s", path, strerror(errno));
	sp = strchr(pub, ' ');
	sp = sp ? strchr(sp + 1, ' ') : NULL;
	if (sp != NULL)
		*sp = '\0';
	pub[strcspn(pub, "\n")] = '\0';
	{
		char line[1000];
		snprintf(line, sizeof(line), "[127.0.0.1]:%d %s\n", s->port, pub);
		snprintf(path, sizeof(path), "%s/known_hosts", s->dir);
		put(path, 0644, line);
	}
	free(pub);

	method_name = s->method == SSHD_PASSWORD ? "password" : "keyboard-interactive";
	if (s->method == SSHD_CERT)
		cert_opts(s, "/dev/null", opts, sizeof(opts));
	else
		snprintf(opts, sizeof(opts),
			 "-F /dev/null -o UserKnownHostsFile=%s/known_hosts "
			 "-o GlobalKnownHostsFile=/dev/null "
			 "-o StrictHostKeyChecking=yes -o PreferredAuthentications=%s "
			 "-o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1 -o BatchMode=no "
			 "-o ConnectTimeout=10 -o LogLevel=ERROR",
			 s->dir, method_name);
	snprintf(s->ssh, sizeof(s->ssh), "ssh -p %d %s", s->port, opts);
	snprintf(s->scp, sizeof(s->scp), "scp -P %d %s", s->port, opts);
}

void sshd_start(struct sshd *s, enum sshd_method method, const char *auth_after)
{
	if (method == SSHD_CERT)
		die("SSHD_CERT: use sshd_start_ca");
	start(s, method, auth_after, NULL, NULL);
}

void sshd_start_ca(struct sshd *s, const char *ca_keys)
{
	if (ca_keys == NULL || strncmp(ca_keys, "ssh-", 4) != 0)
		die("sshd_start_ca: no CA key");
	start(s, SSHD_CERT, NULL, ca_keys, NULL);
}

void sshd_start_host_cert(struct sshd *s, enum sshd_method method, const char *auth_after,
			  const char *ca_keys, const char *host_cert_url)
{
	if (host_cert_url == NULL)
		die("sshd_start_host_cert: no URL");
	if (method == SSHD_CERT && (ca_keys == NULL || strncmp(ca_keys, "ssh-", 4) != 0))
		die("sshd_start_host_cert: no CA key");
	start(s, method, auth_after, method == SSHD_CERT ? ca_keys : NULL, host_cert_url);
}

/* The pids whose parent is PARENT (sshd's per-connection processes), zombies too. */
static int children_of(pid_t parent, pid_t *out, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL && n < max) {
		char path[300], buf[512], *p;
		FILE *f;
		int ppid;
		char state;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "re");
		if (f == NULL)
			continue;
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		if (p != NULL && sscanf(p + 1, " %c %d", &state, &ppid) == 2 && ppid == parent)
			out[n++] = (pid_t)atoi(e->d_name);
	}
	closedir(d);
	return n;
}

void sshd_stop(struct sshd *s)
{
	char path[600];
	pid_t kids[64];
	int n = 0;

	for (int i = 0; i < MAX_LIVE; i++)
		if (live[i] == s)
			live[i] = NULL;
	if (s->pid > 0) {
		bool gone = false;

		/*
		 * Connections that are ending: let sshd reap them, so that nothing
		 * is left to init. Those still open after 3 s: end them.
		 */
		for (int i = 0; i < 300 && children_of(s->pid, kids, 64) > 0; i++)
			usleep(10 * 1000);
		n = children_of(s->pid, kids, 64);
		for (int i = 0; i < n; i++)
			kill(kids[i], SIGTERM);
		for (int i = 0; i < 200 && children_of(s->pid, kids, 64) > 0; i++)
			usleep(10 * 1000);
		kill(s->pid, SIGTERM);
		for (int i = 0; i < 500 && !(gone = exited(s->pid)); i++)
			usleep(10 * 1000);
		if (!gone) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, NULL, 0);
		}
		s->pid = 0;
	}
	if (strncmp(s->pam_file, PAM_DIR SERVICE_BASE, strlen(PAM_DIR SERVICE_BASE)) == 0)
		unlink(s->pam_file);
	s->pam_file[0] = '\0';
	if (s->dir[0] != '\0') {
		snprintf(path, sizeof(path), "%s/%s", s->dir, s->service);
		unlink(path);
	}
}

long sshd_log_mark(const struct sshd *s)
{
	struct stat st;

	return stat(s->log, &st) == 0 ? (long)st.st_size : 0;
}

char *sshd_log_since(const struct sshd *s, long mark)
{
	char *t = file_text(s->log, mark);

	return t != NULL ? t : strdup("");
}

/*
 * Waits for a client started in its own process group (killed after 60 s),
 * then hands back what it printed. Its exit status, 128+signal, or -1 on
 * the timeout.
 */
static int wait_client(pid_t pid, const char *outf, char **out)
{
	struct timespec t0, now;
	bool timed_out = false;
	int st = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (r < 0 || now.tv_sec - t0.tv_sec >= 60) {
			kill(-pid, SIGKILL);
			waitpid(pid, &st, 0);
			timed_out = true;
			break;
		}
		usleep(2000);
	}
	if (out != NULL) {
		*out = file_text(outf, 0);
		if (*out == NULL)
			*out = strdup("");
	}
	if (timed_out)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* --- the client ------------------------------------------------------------- */

/*
 * The environment every client script gets (see sshd_client): $SSH, and
 * git's and rsync's ssh, all SSH; $SCP; a clean locale and PATH; HOME; the
 * port; git's author and committer. The strings live in the struct.
 */
#define CLIENT_ENV_MAX 32
struct client_env {
	char ssh[2100], scp[2100], git[2100], rsync[2100], home[700], port[32];
	char *envp[CLIENT_ENV_MAX + 1];
	size_t n;
};

static void client_env(struct client_env *e, const char *ssh, const char *scp, const char *home,
		       int port)
{
	char *const base[] = {"PATH=" CLIENT_PATH,
			      e->home,
			      "LANG=C",
			      "LC_ALL=C",
			      e->ssh,
			      e->scp,
			      e->git,
			      e->rsync,
			      e->port,
			      "GIT_CONFIG_NOSYSTEM=1",
			      "GIT_AUTHOR_NAME=CI job",
			      "GIT_AUTHOR_EMAIL=ci@example.invalid",
			      "GIT_COMMITTER_NAME=CI job",
			      "GIT_COMMITTER_EMAIL=ci@example.invalid"};

	snprintf(e->ssh, sizeof(e->ssh), "SSH=%s", ssh);
	snprintf(e->scp, sizeof(e->scp), "SCP=%s", scp);
	snprintf(e->git, sizeof(e->git), "GIT_SSH_COMMAND=%s", ssh);
	snprintf(e->rsync, sizeof(e->rsync), "RSYNC_RSH=%s", ssh);
	snprintf(e->home, sizeof(e->home), "HOME=%s", home);
	snprintf(e->port, sizeof(e->port), "SSH_PORT=%d", port);
	e->n = 0;
	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		e->envp[e->n++] = base[i];
	e->envp[e->n] = NULL;
}

/* One more "NAME=value" for the client; the string must outlive the run. */
static void client_env_add(struct client_env *e, const char *var)
{
	if (e->n >= CLIENT_ENV_MAX)
		die("sshd client: too many variables");
	e->envp[e->n++] = (char *)var;
	e->envp[e->n] = NULL;
}

/*
 * Runs PROGRAM with ARGV and the client environment E in its own process
 * group, in CWD (NULL: here), stdin /dev/null, stdout and stderr to S's
 * client.out; then as wait_client.
 */
static int client_run(const struct sshd *s, const char *cwd, const char *program,
		      char *const argv[], const struct client_env *e, char **out)
{
	char outf[600];
	pid_t pid;
	int fd;

	snprintf(outf, sizeof(outf), "%s/client.out", s->dir);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		setpgid(0, 0);
		if (cwd != NULL && chdir(cwd) != 0)
			_exit(126);
		fd = open("/dev/null", O_RDONLY);
		dup2(fd, 0);
		fd = open(outf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		execve(program, argv, e->envp);
		_exit(127);
	}
	return wait_client(pid, outf, out);
}

int sshd_client(const struct sshd *s, const char *token, const char *cwd, const char *script,
		char **out)
{
	char helper_path[PATH_MAX];
	char tokf[600], prompts[600], home[600], env_askpass[600], env_token[8300], env_xdg[700];
	struct client_env e;

	snprintf(tokf, sizeof(tokf), "%s/token", s->dir);
	snprintf(prompts, sizeof(prompts), "%s/prompts", s->dir);
	put(tokf, 0600, token ? token : "");
	unlink(prompts);

	snprintf(home, sizeof(home), "%s/home", s->dir);
	client_env(&e, s->ssh, s->scp, home, s->port);
	/* The client as a CI job has it: build/apitoken, with apitoken-askpass beside it. */
	if (realpath(TEST_BUILD "/apitoken", helper_path) == NULL)
		die(TEST_BUILD "/apitoken: %s (run make first)", strerror(errno));

	/*
	 * The one place that decides how the client answers the prompt: the
	 * test's askpass, which reads the token file and records prompts, or
	 * `apitoken exec` with APITOKEN_TOKEN, as a CI job does it.
	 */
	if (s->test_askpass) {
		char *argv[] = {"sh", "-c", (char *)script, NULL};

		snprintf(env_askpass, sizeof(env_askpass), "SSH_ASKPASS=%s/askpass", s->dir);
		client_env_add(&e, env_askpass);
		client_env_add(&e, "SSH_ASKPASS_REQUIRE=force");
		return client_run(s, cwd, "/bin/sh", argv, &e, out);
	}
	{
		bool pw = s->method == SSHD_PASSWORD;
		char *exec_argv[] = {helper_path,
				     "exec",
				     pw ? "--password" : "--",
				     pw ? "--" : "/bin/sh",
				     pw ? "/bin/sh" : "-c",
				     pw ? "-c" : (char *)script,
				     pw ? (char *)script : NULL,
				     NULL};

		snprintf(env_token, sizeof(env_token), "APITOKEN_TOKEN=%s", token ? token : "");
		client_env_add(&e, env_token);
		/* No client config of the machine's user: the environment says it all. */
		snprintf(env_xdg, sizeof(env_xdg), "XDG_CONFIG_HOME=%s/xdg", s->dir);
		client_env_add(&e, env_xdg);
		return client_run(s, cwd, helper_path, exec_argv, &e, out);
	}
}

char *sshd_prompts(const struct sshd *s)
{
	char path[600], *t;

	if (!s->test_askpass)
		return NULL; /* apitoken-askpass records nothing */
	snprintf(path, sizeof(path), "%s/prompts", s->dir);
	t = file_text(path, 0);
	return t != NULL ? t : strdup("");
}

int sshd_client_cert(const struct sshd *s, const char *config, const char *home_dir,
		     const char *const *env, const char *cwd, const char *script, char **out)
{
	char opts[1200], ssh[1300], scp[1300], scratch[600];
	char *argv[] = {"sh", "-c", (char *)script, NULL};
	struct client_env e;

	if (s->method != SSHD_CERT)
		die("sshd_client_cert: the server is not in SSHD_CERT mode");
	cert_opts(s, config != NULL ? config : "/dev/null", opts, sizeof(opts));
	snprintf(scratch, sizeof(scratch), "%s/home", s->dir);
	snprintf(ssh, sizeof(ssh), "ssh -p %d %s", s->port, opts);
	snprintf(scp, sizeof(scp), "scp -P %d %s", s->port, opts);
	client_env(&e, ssh, scp, home_dir != NULL ? home_dir : scratch, s->port);
	for (size_t i = 0; env != NULL && env[i] != NULL; i++)
		client_env_add(&e, env[i]);
	return client_run(s, cwd, "/bin/sh", argv, &e, out);
}
