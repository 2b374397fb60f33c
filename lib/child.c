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

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The helper runs with our privileges until it drops them: it must be ours. */
static enum apt_rc check_program(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (path[0] != '/') {
		snprintf(err, errlen, "helper %s: not an absolute path", path);
		return APT_SERVICE;
	}
	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "helper %s: %s", path, strerror(errno));
		return APT_SERVICE;
	}
	if (!S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR)) {
		snprintf(err, errlen, "helper %s: not an executable file", path);
		return APT_SERVICE;
	}
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen, "helper %s: must be owned by root and not writable by others",
			 path);
		return APT_SERVICE;
	}
	return APT_OK;
}

static enum apt_rc lookup_user(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int e = getpwnam_r(user, &pw, buf, sizeof(buf), &res);

	if (e == ENOMEM || e == ERANGE)
		return APT_NOMEM;
	if (res == NULL) {
		snprintf(err, errlen, "helper_user %s: no such user", user);
		return APT_SERVICE;
	}
	if (pw.pw_uid == 0) {
		snprintf(err, errlen, "helper_user %s: must not be root", user);
		return APT_SERVICE;
	}
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return APT_OK;
}

/* In the child: only async-signal-safe calls from here to execve. */
static void __attribute__((noreturn))
exec_child(int sock, const struct child_spec *spec, bool drop, uid_t uid, gid_t gid)
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
	 * A daemon may run with 0-2 closed, so the socket can itself be 0 or 1;
	 * dup2 onto the same number would keep its close-on-exec flag. Move it
	 * above 2 first.
	 */
	if (sock < 3 && (sock = fcntl(sock, F_DUPFD, 3)) < 0)
		_exit(126);
	devnull = open("/dev/null", O_RDWR);
	if (dup2(sock, 0) < 0 || dup2(sock, 1) < 0 || devnull < 0 || dup2(devnull, 2) < 0)
		_exit(126);
	if (close_range(3, ~0U, 0) != 0)
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
	if (drop) {
		if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
			_exit(126);
		if (setuid(0) == 0 || getuid() != uid || geteuid() != uid)
			_exit(126); /* the drop must be irreversible */
	}
	setrlimit(RLIMIT_CORE, &no_core);
	execve(spec->path, (char *const *)spec->argv, empty_env);
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
	const char *why;
	int sv[2], status;
	pid_t pid;

	*reason = "helper_failed";
	rc = check_program(spec->path, err, errlen);
	if (rc == APT_OK && drop)
		rc = lookup_user(spec->user, &uid, &gid, err, errlen);
	if (rc != APT_OK) {
		*reason = rc == APT_NOMEM ? "no_memory" : "helper_config";
		return rc;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
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
		exec_child(sv[1], spec, drop, uid, gid);
	}
	close(sv[1]);
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(sv[0]);
		sigaction(SIGCHLD, &saved, NULL);
		return APT_UNAVAIL;
	}

	why = exchange(sv[0], in, out, deadline, spec->max_output);
	close(sv[0]);
	if (why != NULL) {
		kill(pid, SIGKILL);
		killed = true;
	}
	status = reap(pid, deadline, &killed);
	sigaction(SIGCHLD, &saved, NULL);

	if (why != NULL) {
		*reason = why;
		return strcmp(why, "no_memory") == 0 ? APT_NOMEM : APT_UNAVAIL;
	}
	if (killed) {
		*reason = "timeout";
		return APT_UNAVAIL;
	}
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFEXITED(status) && WEXITSTATUS(status) == 126)
			snprintf(err, errlen, "helper: could not set up (drop to %s)",
				 spec->user ? spec->user : "-");
		else if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
			snprintf(err, errlen, "helper %s: exec failed", spec->path);
		*reason = "helper_failed";
		return APT_UNAVAIL;
	}
	*reason = "ok";
	return APT_OK;
}
