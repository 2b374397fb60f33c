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

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "buf.h"
#include "result.h"

/*
 * Results: calls that hand back a descriptor or act on one return it or 0,
 * and -1 with errno (callers branch on it: ENOENT "not there", EEXIST,
 * ETIMEDOUT "someone holds it", ENOMEM), plus a message in err where they
 * take one. The three readers by path below return enum apt_rc, as their
 * callers (config, settings, certificates) do.
 */

/* The rule above for one file or directory, on its status. */
enum file_trust {
	FILE_TRUSTED,	  /* owned by root or the effective user, not writable by group or others */
	FILE_OTHER_OWNER, /* owned by someone else, who could replace it */
	FILE_SHARED_WRITE, /* writable by group or others, who could replace it */
};
enum file_trust file_trust(const struct stat *st);

enum file_kind {
	FILE_CONFIG,  /* a regular file */
	FILE_SECRET,  /* as FILE_CONFIG, and no group or other access at all */
	FILE_PUBLIC,  /* as FILE_CONFIG, a final symbolic link followed (CA bundles often are) */
	FILE_PROGRAM, /* an executable regular file; opened O_PATH, for fexecve() */
	FILE_APPEND,  /* as FILE_SECRET with one link; write-only O_APPEND, made 0600 if absent */
};

/*
 * Opens path after the checks above and those of kind. Returns a
 * close-on-exec descriptor (read-only, O_PATH for FILE_PROGRAM, write-only
 * O_APPEND for FILE_APPEND, which creates a missing file 0600), or -1
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

#define FILE_READ_TEXT 1 /* file_read_fd: a NUL byte is refused (the file is text) */

/*
 * The one bounded read: fd (a file opened and checked by the caller, or a
 * pipe or socket) to its end, appended to out, at most max bytes. A
 * regular file that fstat says is larger is refused before any read; one
 * that grows, or a stream, when it gets there. Retries EINTR. 0, or -1 with
 * errno EFBIG (larger than max), EILSEQ (a NUL byte under FILE_READ_TEXT),
 * ENOMEM or read's, out freed (it may hold part of a secret), and a message
 * naming name in err (none for ENOMEM). fd stays open.
 */
int file_read_fd(int fd, size_t max, unsigned flags, struct buf *out, const char *name, char *err,
		 size_t errlen);

/* Writes all of data to fd, through short writes and EINTR. 0, or -1 with errno. */
int file_write_all(int fd, const void *data, size_t len);

/* How file_replace_with writes (see there); zero is "as file_replace_at" but for mode. */
struct file_replace {
	mode_t mode;  /* the new file's, whatever the umask */
	bool set_gid; /* give it group gid (best effort: a file keeps its group) */
	gid_t gid;
	const char *tmp_prefix; /* the temporary file's name, before 12 random hex; NULL: ".tmp-" */
	/*
	 * Not NULL: just before the rename name must still be this file (same
	 * device, inode, size and mtime), or still absent when was->st_nlink
	 * is 0; else ESTALE, and an edit made meanwhile is not lost.
	 */
	const struct stat *was;
	bool exclusive; /* name is made only if absent (linkat, not renameat); else EEXIST */
	bool sync_dir;	/* fsync dirfd afterwards, so the new name survives a crash too */
};

/*
 * Puts exactly data at name under the directory dirfd, or leaves it as it
 * was: a temporary file in the same directory (O_EXCL, O_NOFOLLOW), written
 * whole, fchmod, fsync, then renameat (or linkat). A reader sees the old
 * file or the new one, whole. 0, or -1 with errno; no temporary file is
 * left either way.
 */
int file_replace_with(int dirfd, const char *name, const void *data, size_t len,
		      const struct file_replace *how);
/* The common case: replace, with mode. */
int file_replace_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode);

/*
 * Opens the lock file name under dirfd (created 0600, never through a
 * symbolic link) and takes its flock, trying for at most timeout_ms: short
 * non-blocking tries and sleeps, so the wait is bounded without alarm() in a
 * PAM host. Returns the descriptor (closing it releases the lock), or -1
 * with errno ETIMEDOUT when another holder kept it all that time, else the
 * openat's or flock's (never ETIMEDOUT).
 */
int file_lock_at(int dirfd, const char *name, long timeout_ms);

#endif
