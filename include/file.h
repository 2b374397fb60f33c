/*
 * Reading files that decide who gets in: the config file, the client secret,
 * TLS keys, token files. Each is opened without following a final symlink,
 * checked on the open descriptor (no check-then-open race) and read whole.
 */
#ifndef APITOKEN_FILE_H
#define APITOKEN_FILE_H

#include <stddef.h>
#include <sys/types.h>
#include "result.h"

enum file_kind {
	FILE_CONFIG, /* owner root or euid; not writable by group or others */
	FILE_SECRET, /* as FILE_CONFIG, and no group or other access at all */
};

/*
 * Reads path into a NUL-terminated heap string (*out, *len). Returns APT_OK,
 * APT_SERVICE with a message in err (symlink, not a regular file, owner,
 * mode, larger than max, unreadable), or APT_NOMEM. The caller frees with
 * free_secret(). A file holding a NUL byte is refused: every file we read is
 * text.
 */
enum apt_rc file_read_checked(const char *path, enum file_kind kind, size_t max, char **out,
			      size_t *len, char *err, size_t errlen);

/*
 * For files the helper opens itself (ca_file): the path, symlinks followed
 * as bundles often are, must end in a regular file owned by root or euid and
 * not writable by group or others; anyone who could write it could vouch
 * for a fake issuer. APT_OK or APT_SERVICE with err.
 */
enum apt_rc file_check_public(const char *path, char *err, size_t errlen);

/*
 * Replaces name under the directory dirfd with exactly data, or leaves it as
 * it was: a temporary file in the same directory (O_EXCL, O_NOFOLLOW, mode),
 * fsync, renameat. A reader sees the old file or the new one, whole. 0, or
 * -1 with errno.
 */
int file_replace_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode);

#endif
