/*
 * Reading the files that decide who gets in. Checks are made on the open
 * descriptor, never on the path before opening, so a file swapped in between
 * is still the one checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"

enum apt_rc file_read_checked(const char *path, enum file_kind kind, size_t max, char **out,
			      size_t *len, char *err, size_t errlen)
{
	enum apt_rc rc = APT_SERVICE;
	struct stat st;
	char *data = NULL;
	size_t got = 0;
	int fd;

	*out = NULL;
	*len = 0;
	/* O_NONBLOCK: a FIFO planted at the path must not hang the login. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path,
			 errno == ELOOP ? "is a symbolic link" : strerror(errno));
		return APT_SERVICE;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: owned by uid %u, not root or the effective user", path,
			 (unsigned)st.st_uid);
		goto out;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "%s: writable by group or others", path);
		goto out;
	}
	if (kind == FILE_SECRET && (st.st_mode & (S_IRWXG | S_IRWXO))) {
		snprintf(err, errlen, "%s: accessible by group or others (chmod 600)", path);
		goto out;
	}
	if ((size_t)st.st_size > max) {
		snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
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
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > max) {
		snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
		goto out;
	}
	if (memchr(data, '\0', got) != NULL) {
		snprintf(err, errlen, "%s: holds a NUL byte", path);
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

enum apt_rc file_check_public(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return APT_SERVICE;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return APT_SERVICE;
	}
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen,
			 "%s: must be owned by root and not writable by group or others", path);
		return APT_SERVICE;
	}
	return APT_OK;
}

int file_replace_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[6];
	char tmp[32];
	size_t off = 0;
	int fd, e;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -1;
	memcpy(tmp, ".tmp-", 5);
	for (size_t i = 0; i < sizeof(rnd); i++) {
		tmp[5 + 2 * i] = hex[rnd[i] >> 4];
		tmp[6 + 2 * i] = hex[rnd[i] & 15];
	}
	tmp[5 + 2 * sizeof(rnd)] = '\0';
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
