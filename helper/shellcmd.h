/*
 * The command a client asked sshd for (SSH_ORIGINAL_COMMAND), split into
 * words as a POSIX shell would and sorted into the classes of DESIGN.md
 * §8a: read, write or shell. Pure: no environment, no files, so that
 * tests/fuzz/fuzz_shell.c can drive it with any bytes. `apitoken shell`
 * (helper/cmd_shell.c) execs what this hands back.
 */
#ifndef APITOKEN_SHELLCMD_H
#define APITOKEN_SHELLCMD_H

#include <stdbool.h>
#include <stddef.h>

/* Longest command taken, and most words (rsync with many source files). */
#define SHELLCMD_MAX	   8192
#define SHELLCMD_WORDS_MAX 256

enum shellcmd_class {
	SHELLCMD_READ,	 /* git-upload-pack, git-upload-archive, rsync sender, scp -f */
	SHELLCMD_WRITE,	 /* git-receive-pack, rsync receiver, scp -t */
	SHELLCMD_SFTP,	 /* sftp: write with write_scope, read-only (sftp-server -R) with read */
	SHELLCMD_SHELL,	 /* anything else, run by the login shell; also no command at all */
	SHELLCMD_REFUSE, /* bad input: refused whatever the scopes */
};

enum shellcmd_program {
	SHELLCMD_NONE, /* the shell classes and refusals exec nothing of ours */
	SHELLCMD_GIT_UPLOAD_PACK,
	SHELLCMD_GIT_UPLOAD_ARCHIVE,
	SHELLCMD_GIT_RECEIVE_PACK,
	SHELLCMD_RSYNC,
	SHELLCMD_SCP,
	SHELLCMD_SFTP_SERVER,
};

struct shellcmd {
	enum shellcmd_class cls;
	enum shellcmd_program program;
	/*
	 * A static word for the audit line: what was recognised ("git",
	 * "rsync_sender", "sftp", "command", "interactive", ...) or, for
	 * SHELLCMD_REFUSE and for a stricter class than the program's own,
	 * why ("unterminated_quote", "dotdot", "rsync_sender_option", ...).
	 */
	const char *reason;
	/* For the read and write classes: the argument vector to exec, NULL-terminated. */
	char *argv[SHELLCMD_WORDS_MAX + 1];
	size_t argc;
	/* The words' bytes (argv points here); room for ~ expanded to the home directory. */
	char store[2 * SHELLCMD_MAX + 2];
};

/*
 * Classifies the command cmd (len bytes, NULL for "no command": an
 * interactive login). home: the login's home directory, which an unquoted
 * leading "~" in a word names (as the shell sshd would have used expands
 * it); NULL: such a word needs a shell. Always fills c.
 */
void shellcmd_classify(struct shellcmd *c, const char *cmd, size_t len, const char *home);

/* What one login may run: from its scopes (read_scope, write_scope, shell_scope). */
struct shellcmd_grant {
	bool read, write, shell;
};

/*
 * The decision for c under g: true when it may run. *readonly: run sftp
 * read-only (sftp-server -R). *needs: the scope class it lacked ("read",
 * "write", "shell"), for the refusal line; NULL for a SHELLCMD_REFUSE.
 */
bool shellcmd_allowed(const struct shellcmd *c, struct shellcmd_grant g, bool *readonly,
		      const char **needs);

/* "read", "write", "sftp", "shell" or "refuse". */
const char *shellcmd_class_name(enum shellcmd_class cls);

#endif
