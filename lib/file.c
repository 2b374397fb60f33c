/*
 * The one way to open a file that decides who gets in (see file.h): a walk
 * from / down, one component at a time, each opened with O_NOFOLLOW and
 * checked on its descriptor before the next is looked up in it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "errmsg.h"
#include "file.h"
#include "hex.h"

#define MAX_LINKS 40 /* as the kernel's own limit on symbolic links in a lookup */

/* Owner root or us: anyone else could replace what is there. */
static bool owner_ok(const struct stat *st)
{
	return st->st_uid == 0 || st->st_uid == geteuid();
}

/*
 * The walk: the directory we are in (checked), the name it was reached by
 * (for messages), and what is left to look up. A symbolic link's target
 * is spliced in front of what is left.
 */
struct walk {
	int dir;
	char at[PATH_MAX];	 /* the checked directory's name, no trailing slash ("" is /) */
	char rest[2 * PATH_MAX]; /* what is left, relative to dir */
	unsigned links;
};

static int check_dir(const struct walk *w, const struct stat *st, const char *path, char *err,
		     size_t errlen)
{
	const char *shown = w->at[0] ? w->at : "/";

	if (!owner_ok(st))
		return errf(err, errlen,
			    "%s: directory %s is owned by uid %u, not root or the effective "
			    "user; keep the file under directories only root can change",
			    path, shown, (unsigned)st->st_uid);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return errf(err, errlen,
			    "%s: directory %s is writable by group or others, who could replace "
			    "the file; keep it under directories only root can change (chmod "
			    "go-w, or move it)",
			    path, shown);
	return 0;
}

/* Makes w->rest the link's target followed by what was left after the link. */
static int splice_link(struct walk *w, const char *name, const char *after, const char *path,
		       char *err, size_t errlen)
{
	char target[PATH_MAX], left[PATH_MAX];
	ssize_t n;

	if (++w->links > MAX_LINKS)
		return errf(err, errlen, "%s: too many levels of symbolic links", path);
	n = readlinkat(w->dir, name, target, sizeof(target) - 1);
	if (n <= 0)
		return errf(err, errlen, "%s: %s", path, n < 0 ? strerror(errno) : "empty link");
	target[n] = '\0';
	if (snprintf(left, sizeof(left), "%s", after) >= (int)sizeof(left) ||
	    snprintf(w->rest, sizeof(w->rest), "%s%s%s", target, after[0] ? "/" : "", left) >=
		(int)sizeof(w->rest))
		return errf(err, errlen, "%s: %s", path, strerror(ENAMETOOLONG));
	if (target[0] == '/') {
		/* An absolute target starts again from /, checked again. */
		int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (root < 0)
			return errf(err, errlen, "/: %s", strerror(errno));
		close(w->dir);
		w->dir = root;
		w->at[0] = '\0';
	}
	return 0;
}

/* What the last component must be, on its own open descriptor. */
static int check_file(const struct stat *st, enum file_kind kind, const char *path, char *err,
		      size_t errlen)
{
	if (!S_ISREG(st->st_mode))
		return errf(err, errlen, "%s: not a regular file", path);
	if (!owner_ok(st))
		return errf(err, errlen, "%s: owned by uid %u, not root or the effective user",
			    path, (unsigned)st->st_uid);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return errf(err, errlen, "%s: writable by group or others", path);
	if (kind == FILE_SECRET && (st->st_mode & (S_IRWXG | S_IRWXO)))
		return errf(err, errlen, "%s: accessible by group or others (chmod 600)", path);
	if (kind == FILE_PROGRAM && !(st->st_mode & S_IXUSR))
		return errf(err, errlen, "%s: not executable", path);
	return 0;
}

/* Opens and checks the last component, name under the checked directory dir. */
static int open_final(int dir, const char *name, enum file_kind kind, const char *path, char *err,
		      size_t errlen)
{
	/* O_NONBLOCK: a FIFO planted at the path must not hang the login. */
	int flags = kind == FILE_PROGRAM
			? O_PATH | O_NOFOLLOW | O_CLOEXEC
			: O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	struct stat st;
	int fd = openat(dir, name, flags);

	if (fd < 0)
		return errf(err, errlen, "%s: %s", path,
			    errno == ELOOP ? "is a symbolic link" : strerror(errno));
	/* O_PATH opens a link itself rather than failing: the check below refuses it. */
	if (fstat(fd, &st) != 0 || check_file(&st, kind, path, err, errlen) < 0) {
		if (S_ISLNK(st.st_mode))
			errf(err, errlen, "%s: is a symbolic link", path);
		close(fd);
		return -1;
	}
	return fd;
}

int file_open_checked(const char *path, enum file_kind kind, char *err, size_t errlen)
{
	struct walk *w;
	struct stat st;
	int fd = -1;

	if (path == NULL || path[0] != '/') {
		errf(err, errlen, "%s: not an absolute path", path ? path : "(none)");
		return -1;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		errf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		errno = ENOMEM;
		return -1;
	}
	w->dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (w->dir < 0 || snprintf(w->rest, sizeof(w->rest), "%s", path) >= (int)sizeof(w->rest)) {
		errf(err, errlen, "%s: %s", path, strerror(w->dir < 0 ? errno : ENAMETOOLONG));
		goto fail;
	}
	for (;;) {
		char *name = w->rest, *slash, *after;
		bool last;

		/* The directory we stand in, every time: / first, then each one below. */
		if (fstat(w->dir, &st) != 0) {
			errf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (check_dir(w, &st, path, err, errlen) < 0)
			goto fail;
		while (*name == '/')
			name++;
		slash = strchr(name, '/');
		after = slash ? slash + 1 : name + strlen(name);
		if (slash != NULL)
			*slash = '\0';
		while (*after == '/')
			after++;
		last = *after == '\0';
		if (name[0] == '\0' ||
		    (last && (strcmp(name, ".") == 0 || strcmp(name, "..") == 0))) {
			errf(err, errlen, "%s: names a directory, not a file", path);
			goto fail;
		}
		if (strcmp(name, ".") == 0) {
			memmove(w->rest, after, strlen(after) + 1);
			continue;
		}
		/*
		 * A symbolic link in a directory that passed the check could only
		 * have been put there by root or us: follow it, and check again
		 * everything it leads through.
		 */
		if (fstatat(w->dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
			if (last && kind != FILE_PUBLIC) {
				errf(err, errlen, "%s: is a symbolic link", path);
				goto fail;
			}
			if (splice_link(w, name, after, path, err, errlen) < 0)
				goto fail;
			continue;
		}
		if (last) {
			fd = open_final(w->dir, name, kind, path, err, errlen);
			if (fd < 0)
				goto fail;
			break;
		}
		fd = openat(w->dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			errf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		/* Descend: the next round checks this directory before using it. */
		if (strcmp(name, "..") == 0) {
			char *up = strrchr(w->at, '/');
			if (up != NULL)
				*up = '\0';
		} else if (snprintf(w->at + strlen(w->at), sizeof(w->at) - strlen(w->at), "/%s",
				    name) >= (int)(sizeof(w->at) - strlen(w->at))) {
			errf(err, errlen, "%s: %s", path, strerror(ENAMETOOLONG));
			goto fail;
		}
		memmove(w->rest, after, strlen(after) + 1);
		close(w->dir);
		w->dir = fd;
		fd = -1;
	}
	close(w->dir);
	free(w);
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	if (w->dir >= 0)
		close(w->dir);
	free(w);
	errno = EACCES; /* refused; ENOMEM is kept for running out of memory */
	return -1;
}

int file_open_checked_at(int dirfd, const char *name, enum file_kind kind, char *err, size_t errlen)
{
	if (name[0] == '\0' || strchr(name, '/') != NULL || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0) {
		errf(err, errlen, "%s: not a file name", name);
		errno = EINVAL;
		return -1;
	}
	return open_final(dirfd, name, kind, name, err, errlen);
}

/* Reads the whole of fd, checked already, into a fresh string (see file_read_checked). */
static enum apt_rc read_whole(int fd, const char *path, size_t max, char **out, size_t *len,
			      char *err, size_t errlen)
{
	enum apt_rc rc = APT_SERVICE;
	struct stat st;
	char *data = NULL;
	size_t got = 0;

	*out = NULL;
	*len = 0;
	if (fstat(fd, &st) != 0) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((size_t)st.st_size > max) {
		errf(err, errlen, "%s: larger than %zu bytes", path, max);
		goto out;
	}
	data = malloc(max + 1);
	if (data == NULL) {
		rc = APT_NOMEM;
		goto out;
	}
	/* Read up to max+1 so a file that grew after fstat is still caught. */
	while (got <= max) {
		ssize_t n = read(fd, data + got, max + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > max) {
		errf(err, errlen, "%s: larger than %zu bytes", path, max);
		goto out;
	}
	if (memchr(data, '\0', got) != NULL) {
		errf(err, errlen, "%s: holds a NUL byte", path);
		goto out;
	}
	data[got] = '\0';
	*out = data;
	*len = got;
	data = NULL;
	rc = APT_OK;
out:
	if (data != NULL) {
		explicit_bzero(data, max + 1);
		free(data);
	}
	close(fd);
	return rc;
}

enum apt_rc file_read_checked(const char *path, enum file_kind kind, size_t max, char **out,
			      size_t *len, char *err, size_t errlen)
{
	int fd = file_open_checked(path, kind, err, errlen);

	*out = NULL;
	*len = 0;
	if (fd < 0)
		return errno == ENOMEM ? APT_NOMEM : APT_SERVICE;
	return read_whole(fd, path, max, out, len, err, errlen);
}

enum apt_rc file_read_checked_at(int dirfd, const char *name, enum file_kind kind, size_t max,
				 char **out, size_t *len, char *err, size_t errlen)
{
	int fd = file_open_checked_at(dirfd, name, kind, err, errlen);

	*out = NULL;
	*len = 0;
	if (fd < 0)
		return APT_SERVICE;
	return read_whole(fd, name, max, out, len, err, errlen);
}

enum apt_rc file_resolve_public(const char *path, char *resolved, size_t len, char *err,
				size_t errlen)
{
	char proc[64];
	ssize_t n;
	int fd = file_open_checked(path, FILE_PUBLIC, err, errlen);

	if (fd < 0)
		return errno == ENOMEM ? APT_NOMEM : APT_SERVICE;
	/* The kernel's name for what we opened: the walk's end, links resolved. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, resolved, len);
	close(fd);
	if (n <= 0 || (size_t)n >= len || resolved[0] != '/') {
		errf(err, errlen, "%s: cannot tell where it leads (is /proc mounted?)", path);
		return APT_SERVICE;
	}
	resolved[n] = '\0';
	return APT_OK;
}
int file_replace_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode)
{
	unsigned char rnd[6];
	char tmp[32];
	size_t off = 0;
	int fd, e;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -1;
	memcpy(tmp, ".tmp-", 5);
	hex_encode(rnd, sizeof(rnd), tmp + 5);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	while (off < len) {
		ssize_t n = write(fd, (const char *)data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	/* The mode asked for, whatever the umask made of it. */
	if (fchmod(fd, mode) != 0 || fsync(fd) != 0)
		goto fail;
	close(fd);
	if (renameat(dirfd, tmp, dirfd, name) != 0) {
		e = errno;
		unlinkat(dirfd, tmp, 0);
		errno = e;
		return -1;
	}
	return 0;
fail:
	e = errno;
	close(fd);
	unlinkat(dirfd, tmp, 0);
	errno = e;
	return -1;
}
