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
#include <poll.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "errmsg.h"
#include "file.h"
#include "hex.h"

#define MAX_LINKS 40 /* as the kernel's own limit on symbolic links in a lookup */
/* A final link is refused (but for FILE_PUBLIC): the fix is to name its target. */
#define LINK_REFUSED "is a symbolic link (name the file itself, not a link to it)"

enum file_trust file_trust(const struct stat *st)
{
	/* Owner root or us: anyone else could replace what is there. */
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return FILE_OTHER_OWNER;
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return FILE_SHARED_WRITE;
	return FILE_TRUSTED;
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
	enum file_trust t = file_trust(st);

	/*
	 * The fix comes first, right after the fault: the module's outcome
	 * holds 256 bytes, and a long path must not push the fix out of it.
	 */
	if (t == FILE_OTHER_OWNER)
		return errf(err, errlen,
			    "%s: directory %s is owned by uid %u, not root or the effective user "
			    "(chown root %s, or move the file out of it)",
			    path, shown, (unsigned)st->st_uid, shown);
	/* A sticky directory (/tmp) is shared on purpose: the fix is to move out of it. */
	if (t == FILE_SHARED_WRITE && (st->st_mode & S_ISVTX))
		return errf(err, errlen,
			    "%s: directory %s is writable by group or others, who could replace "
			    "the file (it is shared, as /tmp is: move the file out of it)",
			    path, shown);
	if (t == FILE_SHARED_WRITE)
		return errf(err, errlen,
			    "%s: directory %s is writable by group or others, who could replace "
			    "the file (chmod go-w %s, or move the file out of it)",
			    path, shown, shown);
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
	enum file_trust t = file_trust(st);

	if (!S_ISREG(st->st_mode))
		return errf(err, errlen, "%s: not a regular file", path);
	/* Each refusal names its fix: root's for the module, the user's own for the helper. */
	if (t == FILE_OTHER_OWNER && geteuid() == 0)
		return errf(err, errlen,
			    "%s: owned by uid %u, not root or the effective user (chown root %s)",
			    path, (unsigned)st->st_uid, path);
	if (t == FILE_OTHER_OWNER)
		return errf(err, errlen,
			    "%s: owned by uid %u, not root or the effective user (chown %u %s, "
			    "or use a copy of your own)",
			    path, (unsigned)st->st_uid, (unsigned)geteuid(), path);
	if (t == FILE_SHARED_WRITE)
		return errf(err, errlen, "%s: writable by group or others (chmod go-w %s)", path,
			    path);
	if ((kind == FILE_SECRET || kind == FILE_APPEND) && (st->st_mode & (S_IRWXG | S_IRWXO)))
		return errf(err, errlen, "%s: accessible by group or others (chmod 600 %s)", path,
			    path);
	/* Another name for the file may be a log someone else reads: appends land there too. */
	if (kind == FILE_APPEND && st->st_nlink != 1)
		return errf(err, errlen, "%s: has %lu links, want exactly one (remove the others)",
			    path, (unsigned long)st->st_nlink);
	if (kind == FILE_PROGRAM && !(st->st_mode & S_IXUSR))
		return errf(err, errlen, "%s: not executable (chmod u+x %s)", path, path);
	return 0;
}

/* Opens and checks the last component, name under the checked directory dir. */
static int open_final(int dir, const char *name, enum file_kind kind, const char *path, char *err,
		      size_t errlen)
{
	/* O_NONBLOCK: a FIFO planted at the path must not hang the login. */
	int flags =
	    kind == FILE_PROGRAM ? O_PATH | O_NOFOLLOW | O_CLOEXEC
	    : kind == FILE_APPEND
		? O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK
		: O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	struct stat st;
	/* Only FILE_APPEND creates: 0600, so no one else may read or write what it appends. */
	int fd = openat(dir, name, flags, 0600);

	if (fd < 0) {
		int e = errno; /* the caller may tell ENOENT ("not there") from the rest */

		errf(err, errlen, "%s: %s", path, e == ELOOP ? LINK_REFUSED : strerror(e));
		errno = e;
		return -1;
	}
	/* O_PATH opens a link itself rather than failing: the check below refuses it. */
	if (fstat(fd, &st) != 0 || check_file(&st, kind, path, err, errlen) < 0) {
		if (S_ISLNK(st.st_mode))
			errf(err, errlen, "%s: " LINK_REFUSED, path);
		close(fd);
		errno = EACCES; /* there, but refused */
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
				errf(err, errlen, "%s: " LINK_REFUSED, path);
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

int file_read_fd(int fd, size_t max, unsigned flags, struct buf *out, const char *name, char *err,
		 size_t errlen)
{
	unsigned char chunk[4096];
	size_t start = out->len;
	struct stat st;
	int e = 0;

	if (fstat(fd, &st) != 0) {
		e = errno;
		errf(err, errlen, "%s: %s", name, strerror(e));
		goto fail;
	}
	/* A file already too big costs no read; one that grows is caught below. */
	if (S_ISREG(st.st_mode) && (size_t)st.st_size > max) {
		e = EFBIG;
		goto fail;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			errf(err, errlen, "%s: %s", name, strerror(e));
			goto fail;
		}
		if (n == 0)
			break;
		if ((size_t)n > max - (out->len - start)) {
			e = EFBIG;
			goto fail;
		}
		if (buf_append(out, chunk, (size_t)n) < 0) {
			e = ENOMEM;
			goto fail;
		}
	}
	explicit_bzero(chunk, sizeof(chunk));
	if ((flags & FILE_READ_TEXT) && out->len > start &&
	    memchr(out->p + start, '\0', out->len - start) != NULL) {
		errf(err, errlen, "%s: holds a NUL byte", name);
		buf_free(out);
		errno = EILSEQ;
		return -1;
	}
	return 0;
fail:
	explicit_bzero(chunk, sizeof(chunk));
	if (e == EFBIG)
		errf(err, errlen, "%s: larger than %zu bytes", name, max);
	buf_free(out);
	errno = e;
	return -1;
}

/* Reads the whole of fd, checked already, into a fresh string (see file_read_checked). */
static enum apt_rc read_whole(int fd, const char *path, size_t max, char **out, size_t *len,
			      char *err, size_t errlen)
{
	struct buf b = BUF_INIT;
	int r = file_read_fd(fd, max, FILE_READ_TEXT, &b, path, err, errlen);
	int e = errno;

	close(fd);
	if (r < 0)
		return e == ENOMEM ? APT_NOMEM : APT_SERVICE;
	if (buf_terminate(&b) < 0) {
		buf_free(&b);
		return APT_NOMEM;
	}
	*out = (char *)b.p;
	*len = b.len;
	return APT_OK;
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

int file_write_all(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EIO; /* a regular file or pipe that takes nothing will not later */
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Whether name under dirfd is still the file *was said (or still absent). */
static bool unchanged(int dirfd, const char *name, const struct stat *was)
{
	struct stat now;

	if (fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT && was->st_nlink == 0;
	return was->st_nlink != 0 && now.st_dev == was->st_dev && now.st_ino == was->st_ino &&
	       now.st_size == was->st_size && now.st_mtim.tv_sec == was->st_mtim.tv_sec &&
	       now.st_mtim.tv_nsec == was->st_mtim.tv_nsec;
}

int file_replace_with(int dirfd, const char *name, const void *data, size_t len,
		      const struct file_replace *how)
{
	const char *prefix = how->tmp_prefix != NULL ? how->tmp_prefix : ".tmp-";
	size_t plen = strlen(prefix);
	unsigned char rnd[6];
	char tmp[NAME_MAX + 1];
	int fd, e;

	if (plen + 2 * sizeof(rnd) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -1;
	memcpy(tmp, prefix, plen);
	hex_encode(rnd, sizeof(rnd), tmp + plen);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, how->mode);
	if (fd < 0)
		return -1;
	if (how->set_gid)
		(void)!fchown(fd, (uid_t)-1, how->gid); /* best effort, as the caller asked */
	/* The mode asked for, whatever the umask made of it. */
	if (file_write_all(fd, data, len) < 0 || fchmod(fd, how->mode) != 0 || fsync(fd) != 0) {
		e = errno;
		close(fd);
		goto fail;
	}
	if (close(fd) != 0) {
		e = errno;
		goto fail;
	}
	if (how->was != NULL && !unchanged(dirfd, name, how->was)) {
		e = ESTALE;
		goto fail;
	}
	if (how->exclusive) {
		/* linkat fails with EEXIST if name appeared meanwhile: theirs stays. */
		if (linkat(dirfd, tmp, dirfd, name, 0) != 0) {
			e = errno;
			goto fail;
		}
		unlinkat(dirfd, tmp, 0);
	} else if (renameat(dirfd, tmp, dirfd, name) != 0) {
		e = errno;
		goto fail;
	}
	if (how->sync_dir)
		(void)fsync(dirfd); /* best effort: the new file itself is whole either way */
	return 0;
fail:
	unlinkat(dirfd, tmp, 0);
	errno = e;
	return -1;
}

int file_replace_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode)
{
	struct file_replace how = {.mode = mode};

	return file_replace_with(dirfd, name, data, len, &how);
}

int file_lock_at(int dirfd, const char *name, long timeout_ms)
{
	struct timespec t0, t1;
	int fd, e;

	fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == ETIMEDOUT)
			errno = EIO; /* ETIMEDOUT means "someone held it" and nothing else */
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		long waited;

		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		waited = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (waited >= timeout_ms) {
			close(fd);
			errno = ETIMEDOUT;
			return -1;
		}
		/* Quick tries first: most holders are done within milliseconds. */
		poll(NULL, 0, waited < 20 ? 1 : 5);
	}
	e = errno == ETIMEDOUT ? EIO : errno;
	close(fd);
	errno = e;
	return -1;
}
