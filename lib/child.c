/*
 * Running the helper from inside a PAM host (see child.h). The host may be
 * multi-threaded and may have its own SIGCHLD handler; after fork the child
 * only makes async-signal-safe calls, and everything it needs (the user's
 * ids, the argv) is prepared before the fork.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "file.h"
#include "errmsg.h"

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum apt_rc lookup_user(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int e = getpwnam_r(user, &pw, buf, sizeof(buf), &res);

	if (e == ENOMEM || e == ERANGE)
		return APT_NOMEM;
	if (res == NULL) {
		snprintf(
		    err, errlen,
		    "helper_user %s: no such user; create it (useradd --system --no-create-home "
		    "--home-dir /nonexistent --shell /usr/sbin/nologin %s; make install does)",
		    user, user);
		return APT_SERVICE;
	}
	if (pw.pw_uid == 0) {
		errf(err, errlen, "helper_user %s: must not be root", user);
		return APT_SERVICE;
	}
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return APT_OK;
}

/*
 * In the child: only async-signal-safe calls from here to the exec.
 *
 * The drop to helper_user is left half done on purpose: real uid and all
 * gids become the helper user's, the effective and saved uids stay root.
 * The kernel execs such a process as non-dumpable and with AT_SECURE, and
 * a process of helper_user cannot ptrace it (the effective uid differs), so
 * from its first instruction the helper cannot be attached to, read or
 * steered by anyone running as helper_user. The helper finishes the drop
 * itself, which makes it non-dumpable again (helper/cmd_introspect.c). Dropping
 * fully here would exec a dumpable image that helper_user could seize
 * before the helper's own prctl().
 */
static void __attribute__((noreturn))
exec_child(int sock, int prog, const struct child_spec *spec, bool drop, uid_t uid, gid_t gid)
{
	static char *const empty_env[] = {NULL};
	struct rlimit no_core = {0, 0};
	struct sigaction dfl;
	sigset_t none;
	int devnull, sig;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL); /* fails harmlessly for KILL, STOP, RT ones */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/*
	 * A daemon may run with 0-2 closed, so the socket or the program can
	 * itself be 0, 1 or 2; dup2 onto the same number would keep its
	 * close-on-exec flag, and a later dup2 onto 0 or 1 would close it.
	 * Move both above 2 first.
	 */
	if (sock < 3 && (sock = fcntl(sock, F_DUPFD, 3)) < 0)
		_exit(126);
	if (prog < 3 && (prog = fcntl(prog, F_DUPFD_CLOEXEC, 3)) < 0)
		_exit(126);
	/* /dev/null too: opened at 0 or 1, the dup2s below would put the socket on stderr. */
	devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0 && devnull < 3)
		devnull = fcntl(devnull, F_DUPFD, 3);
	if (devnull < 0 || dup2(sock, 0) < 0 || dup2(sock, 1) < 0 || dup2(devnull, 2) < 0)
		_exit(126);
	/* Everything but 0-2 and the program (close-on-exec itself) goes. */
	if ((prog > 3 && close_range(3, (unsigned)prog - 1, 0) != 0) ||
	    close_range((unsigned)prog + 1, ~0U, 0) != 0)
		for (int fd = 3; fd < 1024; fd++)
			if (fd != prog)
				close(fd);
	if (drop) {
		if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 ||
		    setresuid(uid, 0, 0) != 0)
			_exit(126);
		if (getuid() != uid || getgid() != gid || getegid() != gid)
			_exit(126);
	}
	setrlimit(RLIMIT_CORE, &no_core);
	/* The very file that was checked, not whatever the path names by now. */
	fexecve(prog, (char *const *)spec->argv, empty_env);
	_exit(127);
}

/* Writes in, reads out, until EOF or the deadline. Returns 0, or the reason word. */
static const char *exchange(int fd, const struct buf *in, struct buf *out, long deadline,
			    size_t max_output)
{
	size_t sent = 0;
	unsigned char chunk[4096];

	if (in->len == 0)
		shutdown(fd, SHUT_WR);
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		long left = deadline - now_ms();
		ssize_t n;

		if (sent < in->len)
			p.events |= POLLOUT;
		if (left <= 0)
			return "timeout";
		if (poll(&p, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return "helper_failed";
		}
		if ((p.revents & POLLOUT) && sent < in->len) {
			n = send(fd, in->p + sent, in->len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && errno != EINTR && errno != EAGAIN)
				return "helper_failed";
			if (n > 0 && (sent += (size_t)n) == in->len)
				shutdown(fd, SHUT_WR);
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n < 0)
				return "helper_failed";
			if (n == 0)
				return sent == in->len ? NULL : "helper_failed";
			if (out->len + (size_t)n > max_output)
				return "helper_output";
			if (buf_append(out, chunk, (size_t)n) < 0)
				return "no_memory";
		}
	}
}

/* Reaps pid, killing it once the deadline has passed. Returns the wait status. */
static int reap(pid_t pid, long deadline, bool *killed)
{
	int status = 0;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		if (!*killed && now_ms() >= deadline) {
			kill(pid, SIGKILL);
			*killed = true;
		}
		if (r == 0)
			poll(NULL, 0, *killed ? 1 : 2);
	}
}

enum apt_rc child_run(const struct child_spec *spec, const struct buf *in, struct buf *out,
		      const char **reason, char *err, size_t errlen)
{
	struct sigaction dfl, saved;
	enum apt_rc rc;
	uid_t uid = 0;
	gid_t gid = 0;
	bool drop = spec->user != NULL && geteuid() == 0, killed = false;
	long deadline = now_ms() + spec->deadline_ms;
	const char *failed;
	char why[512];
	int sv[2], status, prog;
	pid_t pid;

	/* It runs as root until it drops: it and every directory above it must be root's. */
	*reason = "helper_config";
	prog = file_open_checked(spec->path, FILE_PROGRAM, why, sizeof(why));
	if (prog < 0 && errno == ENOMEM) {
		*reason = "no_memory";
		return APT_NOMEM;
	}
	if (prog < 0) {
		errf(err, errlen, "helper %s", why);
		return APT_SERVICE;
	}
	rc = drop ? lookup_user(spec->user, &uid, &gid, err, errlen) : APT_OK;
	if (rc != APT_OK) {
		*reason = rc == APT_NOMEM ? "no_memory" : "helper_config";
		close(prog);
		return rc;
	}
	*reason = "helper_failed";
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		errf(err, errlen, "socketpair: %s", strerror(errno));
		close(prog);
		return APT_UNAVAIL;
	}

	/*
	 * A host's SIGCHLD handler could reap our child and leave waitpid()
	 * with nothing; as pam_unix does for unix_chkpwd, hold the default
	 * disposition for the duration and put the host's back afterwards.
	 */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &dfl, &saved);

	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		exec_child(sv[1], prog, spec, drop, uid, gid);
	}
	close(sv[1]);
	close(prog);
	if (pid < 0) {
		errf(err, errlen, "fork: %s", strerror(errno));
		close(sv[0]);
		sigaction(SIGCHLD, &saved, NULL);
		return APT_UNAVAIL;
	}

	failed = exchange(sv[0], in, out, deadline, spec->max_output);
	close(sv[0]);
	if (failed != NULL) {
		kill(pid, SIGKILL);
		killed = true;
	}
	status = reap(pid, deadline, &killed);
	sigaction(SIGCHLD, &saved, NULL);

	if (failed != NULL) {
		*reason = failed;
		return strcmp(failed, "no_memory") == 0 ? APT_NOMEM : APT_UNAVAIL;
	}
	if (killed) {
		*reason = "timeout";
		return APT_UNAVAIL;
	}
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFEXITED(status) && WEXITSTATUS(status) == 126)
			errf(err, errlen, "helper: could not set up (drop to %s)",
			     spec->user ? spec->user : "-");
		else if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
			errf(err, errlen, "helper %s: exec failed", spec->path);
		*reason = "helper_failed";
		return APT_UNAVAIL;
	}
	*reason = "ok";
	return APT_OK;
}
