/*
 * The one way to open a file that decides who gets in: the config file, the
 * client secret, TLS keys, the CA bundle, the helper program, token files.
 *
 * The rule, for the file and for every directory above it from / down:
 * owned by root or the effective user, and not writable by group or
 * others (a sticky, world-writable /tmp fails it too). Whoever could write
 * any of those directories could swap the file for one of their own. The
 * path is walked one component at a time with openat(O_NOFOLLOW), each
 * checked on its open descriptor, so nothing is checked by one name and
 * used by another. A symbolic link on the way is followed only when the
 * directory holding it passed the check (only its owner could have put it
 * there), and the final component may be one only for FILE_PUBLIC.
 */
#ifndef APITOKEN_FILE_H
#define APITOKEN_FILE_H

#include <stddef.h>
#include <sys/types.h>
#include "result.h"

enum file_kind {
	FILE_CONFIG,  /* a regular file */
	FILE_SECRET,  /* as FILE_CONFIG, and no group or other access at all */
	FILE_PUBLIC,  /* as FILE_CONFIG, a final symbolic link followed (CA bundles often are) */
	FILE_PROGRAM, /* an executable regular file; opened O_PATH, for fexecve() */
};

/*
 * Opens path after the checks above and those of kind. Returns a
 * close-on-exec descriptor (read-only, or O_PATH for FILE_PROGRAM), or -1
 * with a message in err that names the file, the component at fault and
 * what to change, and errno ENOMEM when it ran out of memory (else EACCES).
 * The message never holds file contents.
 */
int file_open_checked(const char *path, enum file_kind kind, char *err, size_t errlen);

/*
 * For a file directly under a directory the caller opened and checked
 * itself (dirfd): name, a single component, gets the checks of kind on its
 * own descriptor; a symbolic link is refused whatever the kind. Messages
 * name it by name alone: the caller knows the directory.
 */
int file_open_checked_at(int dirfd, const char *name, enum file_kind kind, char *err,
			 size_t errlen);

/*
 * Reads path (opened as above) into a NUL-terminated heap string (*out,
 * *len). Returns APT_OK, APT_SERVICE with a message in err (any refusal of
 * file_open_checked, larger than max, unreadable, a NUL byte: every file we
 * read is text), or APT_NOMEM. The caller frees with free_secret().
 */
enum apt_rc file_read_checked(const char *path, enum file_kind kind, size_t max, char **out,
			      size_t *len, char *err, size_t errlen);
/* The same, for name under the checked directory dirfd (file_open_checked_at). */
enum apt_rc file_read_checked_at(int dirfd, const char *name, enum file_kind kind, size_t max,
				 char **out, size_t *len, char *err, size_t errlen);

/*
 * For files another process opens by name later (ca_file, opened by the
 * helper as helper_user): checks path as FILE_PUBLIC and writes the name it
 * resolves to, with no symbolic link left in it, to resolved. Every
 * directory on that name passed the check, so no one but root or the
 * effective user can make it name another file. APT_OK, APT_SERVICE or
 * APT_NOMEM.
 */
enum apt_rc file_resolve_public(const char *path, char *resolved, size_t len, char *err,
				size_t errlen);

/*
 * Replaces name under the directory dirfd with exactly data, or leaves it as
 * it was: a temporary file in the same directory (O_EXCL, O_NOFOLLOW, mode),
 * fsync, renameat. A reader sees the old file or the new one, whole. 0, or
 * -1 with errno.
 */
int file_replace_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode);

#endif
