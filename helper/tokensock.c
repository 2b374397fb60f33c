/*
 * The token socket between `apitoken exec` and its askpass programs (see
 * tokensock.h): the private directory, the peer checks, and the bounded
 * read on askpass's side.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "token.h"
#include "decimal.h"
#include "tokensock.h"
#include "xdg.h"
#include "errmsg.h"

#define FETCH_TIMEOUT_MS 10000 /* exec answers at once; this only bounds a stuck peer */
#define MAX_DEPTH	 4096  /* a chain of parents longer than any real one */

static int make_in(struct tokensock *ts, const char *base)
{
	int n = snprintf(ts->dir, sizeof(ts->dir), "%s/apitoken-exec.XXXXXX", base);

	/* dir + "/s" must fit sun_path: a long $XDG_RUNTIME_DIR falls back to /tmp. */
	if (n < 0 || (size_t)n >= sizeof(ts->dir) || mkdtemp(ts->dir) == NULL) {
		ts->dir[0] = '\0';
		return -1;
	}
	snprintf(ts->path, sizeof(ts->path), "%s/s", ts->dir);
	return 0;
}

int tokensock_listen(struct tokensock *ts, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *base = xdg_runtime_dir();

	memset(ts, 0, sizeof(*ts));
	ts->fd = -1;
	if ((base == NULL || make_in(ts, base) < 0) && make_in(ts, "/tmp") < 0) {
		return errf(err, errlen, "cannot make a private directory in %s: %s",
			    base != NULL ? "$XDG_RUNTIME_DIR or /tmp" : "/tmp", strerror(errno));
	}
	memcpy(sa.sun_path, ts->path, strlen(ts->path) + 1);
	ts->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ts->fd < 0 || bind(ts->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(ts->path, 0600) != 0 || listen(ts->fd, 16) != 0) {
		errf(err, errlen, "%s: %s", ts->path, strerror(errno));
		tokensock_remove(ts);
		return -1;
	}
	return 0;
}

void tokensock_remove(struct tokensock *ts)
{
	if (ts->fd >= 0)
		close(ts->fd);
	ts->fd = -1;
	if (ts->path[0] != '\0')
		unlink(ts->path);
	if (ts->dir[0] != '\0')
		rmdir(ts->dir);
	ts->path[0] = ts->dir[0] = '\0';
}

/* The parent of pid from /proc/PID/stat ("pid (comm) state ppid ..."); -1 if unknown. */
static pid_t parent_of(pid_t pid)
{
	char path[64], text[1024], *close_paren, *p;
	ssize_t n;
	long long ppid;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	/* comm may hold ')' and blanks: the last ')' ends it; then " STATE PPID ". */
	close_paren = strrchr(text, ')');
	if (close_paren == NULL || close_paren[1] != ' ' || close_paren[2] == '\0' ||
	    close_paren[3] != ' ')
		return -1;
	p = close_paren + 4;
	if (decimal_parse(p, strcspn(p, " "), 0, INT_MAX, &ppid) < 0)
		return -1;
	return (pid_t)ppid;
}

bool tokensock_descends(pid_t pid, pid_t ancestor)
{
	pid_t cur = pid;

	if (pid <= 0 || pid == ancestor)
		return false;
	for (int depth = 0; depth < MAX_DEPTH; depth++) {
		cur = parent_of(cur);
		if (cur == ancestor)
			return true;
		if (cur <= 1)
			return false;
	}
	return false;
}

int tokensock_serve_one(const struct tokensock *ts, const char *tok, size_t len, char *err,
			size_t errlen)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int c = accept4(ts->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), r = 0;

	err[0] = '\0';
	if (c < 0)
		return -1;
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 || clen != sizeof(cred)) {
		errf(err, errlen, "refused a connection: no peer credentials");
	} else if (cred.uid != getuid()) {
		errf(err, errlen, "refused the token to pid %ld: uid %lu is not ours",
		     (long)cred.pid, (unsigned long)cred.uid);
	} else if (!tokensock_descends(cred.pid, getpid())) {
		errf(err, errlen, "refused the token to pid %ld: not started under this exec",
		     (long)cred.pid);
	} else {
		/* At most 4 KiB into an empty socket buffer: it fits, and a peer that does not
		 * read cannot hold us (MSG_DONTWAIT), nor kill us (MSG_NOSIGNAL). */
		r = send(c, tok, len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len ? 1 : 0;
		if (r == 0)
			errf(err, errlen, "could not send the token to pid %ld: %s", (long)cred.pid,
			     strerror(errno));
	}
	close(c);
	return r;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

enum apt_rc tokensock_fetch(const char *path, char **tok, size_t *len, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timespec t0;
	const char *reason;
	char *buf = NULL;
	size_t have = 0;
	enum apt_rc rc = APT_SERVICE;
	int fd = -1;

	*tok = NULL;
	*len = 0;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errf(err, errlen, TOKENSOCK_ENV ": the path is too long for a socket");
		return APT_SERVICE;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* One byte more than a token may have, and the NUL free_secret() needs. */
	if ((buf = calloc(1, TOKEN_MAX_LEN + 2)) == NULL)
		return APT_NOMEM;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* A blocking connect: exec accepts at once; reads below wait in poll() only. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		errf(err, errlen, TOKENSOCK_ENV "=%.200s: %s (is apitoken exec still running?)",
		     path, strerror(errno));
		goto out;
	}
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		long left = FETCH_TIMEOUT_MS - ms_since(&t0);
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			errf(err, errlen, TOKENSOCK_ENV ": no answer within %d s",
			     FETCH_TIMEOUT_MS / 1000);
			goto out;
		}
		n = read(fd, buf + have, TOKEN_MAX_LEN + 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errf(err, errlen, TOKENSOCK_ENV ": %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		if (have > TOKEN_MAX_LEN) {
			errf(err, errlen, TOKENSOCK_ENV ": more than %d bytes", TOKEN_MAX_LEN);
			goto out;
		}
	}
	if (have == 0) {
		errf(err, errlen,
		     "apitoken exec refused the token to this askpass (" TOKENSOCK_ENV
		     " serves only the processes started under that exec)");
		goto out;
	}
	/* The checks settings_token() makes: the module would refuse anything else. */
	if (token_check_local(buf, have, NULL, &reason) != APT_OK) {
		errf(err, errlen, "the API token from " TOKENSOCK_ENV " is unusable (%s)", reason);
		goto out;
	}
	*tok = buf;
	*len = have;
	buf = NULL;
	rc = APT_OK;
out:
	if (fd >= 0)
		close(fd);
	if (buf != NULL) {
		explicit_bzero(buf, TOKEN_MAX_LEN + 2);
		free(buf);
	}
	return rc;
}
