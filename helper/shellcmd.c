/*
 * SSH_ORIGINAL_COMMAND into words and a class (DESIGN.md §8a). sshd hands
 * the command over as one string, which the client built by quoting its
 * arguments for a POSIX shell (git: 'path' with '\'' for a quote; rsync
 * 3.2.4+: backslashes; scp: quotes). The read and write classes are exec'd
 * without a shell, so this splits the string as sh would for the quoting
 * alone; anything a shell would do more with (expansions, operators,
 * globs, assignments, comments) is a shell command, the strictest class.
 * Input that no reading makes one command (a NUL, an open quote) is refused.
 */
#include <stdint.h>
#include <string.h>

#include "shellcmd.h"

struct splitter {
	struct shellcmd *c;
	size_t used;	  /* bytes of c->store */
	bool in_word;	  /* a word has started (even an empty '' one) */
	bool needs_shell; /* something only a shell gives meaning to */
	const char *refuse;
};

static bool refuse(struct splitter *s, const char *why)
{
	if (s->refuse == NULL)
		s->refuse = why;
	return false;
}

static bool start_word(struct splitter *s)
{
	if (s->in_word)
		return true;
	if (s->c->argc == SHELLCMD_WORDS_MAX)
		return refuse(s, "too_many_words");
	s->c->argv[s->c->argc++] = s->c->store + s->used;
	s->in_word = true;
	return true;
}

static bool put_byte(struct splitter *s, char b)
{
	if (!start_word(s))
		return false;
	/* One byte for this word's NUL is always kept free. */
	if (s->used + 2 > sizeof(s->c->store))
		return refuse(s, "too_long");
	s->c->store[s->used++] = b;
	return true;
}

static void end_word(struct splitter *s)
{
	if (!s->in_word)
		return;
	s->c->store[s->used++] = '\0';
	s->in_word = false;
}

static bool put_text(struct splitter *s, const char *t)
{
	for (; *t != '\0'; t++)
		if (!put_byte(s, *t))
			return false;
	return true;
}

/* Bytes outside quotes that make a shell do more than split words ("{": bash's braces). */
static bool shell_special(char b)
{
	return b != '\0' && strchr("|&;<>()$`*?[{#=\n", b) != NULL;
}

/* "~" or "~/..." at the start of an unquoted word: the home directory, as sh expands it. */
static size_t tilde(struct splitter *s, const char *cmd, size_t len, size_t i, const char *home)
{
	size_t next = i + 1;

	if (next < len && cmd[next] != '/' && cmd[next] != ' ' && cmd[next] != '\t') {
		s->needs_shell = true; /* ~user, ~+, ...: the shell's business */
		return next;
	}
	if (home == NULL || home[0] != '/') {
		s->needs_shell = true;
		return next;
	}
	put_text(s, home);
	return next;
}

/* A single-quoted part from cmd[i] (the quote); returns the index after the closing quote. */
static size_t single_quoted(struct splitter *s, const char *cmd, size_t len, size_t i)
{
	const char *end = memchr(cmd + i + 1, '\'', len - i - 1);

	if (end == NULL) {
		refuse(s, "unterminated_quote");
		return len;
	}
	start_word(s);
	for (i++; cmd + i < end; i++)
		put_byte(s, cmd[i]);
	return i + 1;
}

/* A double-quoted part; "$" and "`" in it are expansions, which only a shell makes. */
static size_t double_quoted(struct splitter *s, const char *cmd, size_t len, size_t i)
{
	start_word(s);
	for (i++; i < len; i++) {
		char b = cmd[i];

		if (b == '"')
			return i + 1;
		if (b == '$' || b == '`')
			s->needs_shell = true;
		if (b == '\\' && i + 1 < len && strchr("$`\"\\\n", cmd[i + 1]) != NULL) {
			i++;
			if (cmd[i] == '\n')
				continue; /* a line continuation */
			b = cmd[i];
		}
		put_byte(s, b);
	}
	refuse(s, "unterminated_quote");
	return len;
}

static void split(struct splitter *s, const char *cmd, size_t len, const char *home)
{
	size_t i = 0;

	if (memchr(cmd, '\0', len) != NULL) {
		refuse(s, "nul");
		return;
	}
	while (i < len && s->refuse == NULL) {
		char b = cmd[i];

		if (b == ' ' || b == '\t') {
			end_word(s);
			i++;
		} else if (b == '\'') {
			i = single_quoted(s, cmd, len, i);
		} else if (b == '"') {
			i = double_quoted(s, cmd, len, i);
		} else if (b == '\\') {
			if (i + 1 == len) {
				refuse(s, "trailing_backslash");
				return;
			}
			if (cmd[i + 1] != '\n')
				put_byte(s, cmd[i + 1]);
			i += 2;
		} else if (b == '~' && !s->in_word) {
			i = tilde(s, cmd, len, i, home);
		} else {
			bool first = s->c->argc == 0 || (s->c->argc == 1 && s->in_word);

			/*
			 * "a=b" is literal in a later word, an assignment in the
			 * first; "#" starts a comment only at the start of a word.
			 */
			if (shell_special(b) && (b != '=' || first) && (b != '#' || !s->in_word))
				s->needs_shell = true;
			if (b == '\n')
				end_word(s);
			else
				put_byte(s, b);
			i++;
		}
	}
	end_word(s);
	s->c->argv[s->c->argc] = NULL;
}

/* --- the programs ----------------------------------------------------------- */

static bool is(const char *a, const char *b)
{
	return a != NULL && strcmp(a, b) == 0;
}

/*
 * A path operand of ours: no control byte (a newline would split a log
 * line or a protocol's file list), no ".." component (the commands are
 * meant for the trees they name, not for climbing out of them).
 */
static const char *path_problem(const char *p)
{
	const char *seg = p;

	for (const char *q = p; *q != '\0'; q++) {
		if (*q == '\n' || *q == '\r')
			return "newline";
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			return "control";
	}
	while (seg != NULL) {
		const char *slash = strchr(seg, '/');
		size_t n = slash != NULL ? (size_t)(slash - seg) : strlen(seg);

		if (n == 2 && seg[0] == '.' && seg[1] == '.')
			return "dotdot";
		seg = slash != NULL ? slash + 1 : NULL;
	}
	return NULL;
}

static void set(struct shellcmd *c, enum shellcmd_class cls, enum shellcmd_program program,
		const char *reason)
{
	c->cls = cls;
	c->program = program;
	c->reason = reason;
}

/* git-upload-pack 'PATH' (or "git upload-pack 'PATH'"): one repository, nothing else. */
static void classify_git(struct shellcmd *c, size_t first)
{
	const char *sub = c->argv[first] + (first == 0 ? 4 : 0); /* past "git-" */
	enum shellcmd_program p;
	const char *why;

	if (is(sub, "upload-pack"))
		p = SHELLCMD_GIT_UPLOAD_PACK;
	else if (is(sub, "upload-archive"))
		p = SHELLCMD_GIT_UPLOAD_ARCHIVE;
	else if (is(sub, "receive-pack"))
		p = SHELLCMD_GIT_RECEIVE_PACK;
	else {
		set(c, SHELLCMD_SHELL, SHELLCMD_NONE, "command");
		return;
	}
	/* Options (--strict, --timeout, ...) are no git client's: refuse rather than pass them. */
	if (c->argc != first + 2 || c->argv[first + 1][0] == '-' || c->argv[first + 1][0] == '\0') {
		set(c, SHELLCMD_REFUSE, SHELLCMD_NONE, "git_args");
		return;
	}
	why = path_problem(c->argv[first + 1]);
	if (why != NULL) {
		set(c, SHELLCMD_REFUSE, SHELLCMD_NONE, why);
		return;
	}
	/* exec'd as git-NAME PATH, the form of the first word. */
	c->argv[0] = p == SHELLCMD_GIT_UPLOAD_PACK	? "git-upload-pack"
		     : p == SHELLCMD_GIT_UPLOAD_ARCHIVE ? "git-upload-archive"
							: "git-receive-pack";
	c->argv[1] = c->argv[first + 1];
	c->argv[2] = NULL;
	c->argc = 2;
	set(c, p == SHELLCMD_GIT_RECEIVE_PACK ? SHELLCMD_WRITE : SHELLCMD_READ, p, "git");
}

/*
 * Long options an rsync sender may take and stay a reader. Anything else
 * (--remove-source-files and --remove-sent-files delete what was sent,
 * --delete*, --log-file and --write-batch write on this side, or an option
 * we do not know) makes the sender the write class.
 */
static const char *const rsync_sender_long[] = {
    "--server",	       "--sender",	  "--numeric-ids",    "--ignore-errors",
    "--size-only",     "--safe-links",	  "--munge-links",    "--copy-unsafe-links",
    "--copy-dirlinks", "--keep-dirlinks", "--hard-links",     "--one-file-system",
    "--existing",      "--append",	  "--append-verify",  "--checksum",
    "--open-noatime",  "--atimes",	  "--crtimes",	      "--from0",
    "--protect-args",  "--secluded-args", "--old-args",	      "--no-implied-dirs",
    "--msgs2stderr",   "--8-bit-output",  "--fuzzy",	      "--prune-empty-dirs",
    "--mkpath",	       "--partial",	  "--list-only",      "--dry-run",
    "--fake-super",    "--ignore-times",  "--copy-links",     "--relative",
    "--whole-file",    "--sparse",	  "--acls",	      "--xattrs",
    "--owner",	       "--group",	  "--perms",	      "--times",
    "--links",	       "--recursive",	  "--dirs",	      "--devices",
    "--specials",      "--compress",	  "--omit-dir-times", "--omit-link-times",
};
/* The same for "--NAME=VALUE". */
static const char *const rsync_sender_long_value[] = {
    "--timeout=",
    "--contimeout=",
    "--bwlimit=",
    "--compress-level=",
    "--zl=",
    "--compress-choice=",
    "--zc=",
    "--checksum-choice=",
    "--cc=",
    "--checksum-seed=",
    "--modify-window=",
    "--max-size=",
    "--min-size=",
    "--info=",
    "--debug=",
    "--iconv=",
    "--out-format=",
    "--log-format=",
    "--stderr=",
    "--block-size=",
    "--files-from=",
    "--max-alloc=",
    "--chmod=",
    "--usermap=",
    "--groupmap=",
    "--chown=",
};
/*
 * Letters of a sender's short option bundle (-vlogDtpr...) that only read.
 * "e" ends the bundle: rsync passes its protocol flags as -e.VALUE.
 */
#define RSYNC_SENDER_SHORT "vlogDtprRzcHSAXOJKkmnWdxuUNIq08ELCyisW"

static bool in_list(const char *w, const char *const *list, size_t n, bool prefix)
{
	for (size_t i = 0; i < n; i++)
		if (prefix ? strncmp(w, list[i], strlen(list[i])) == 0 : strcmp(w, list[i]) == 0)
			return true;
	return false;
}

static bool rsync_sender_option_ok(const char *w)
{
	if (w[1] == '-')
		return in_list(w, rsync_sender_long,
			       sizeof(rsync_sender_long) / sizeof(rsync_sender_long[0]), false) ||
		       in_list(w, rsync_sender_long_value,
			       sizeof(rsync_sender_long_value) / sizeof(rsync_sender_long_value[0]),
			       true);
	for (const char *p = w + 1; *p != '\0'; p++) {
		if (*p == 'e')
			return true;
		if (strchr(RSYNC_SENDER_SHORT, *p) == NULL)
			return false;
	}
	return true;
}

/*
 * rsync --server [--sender] OPTIONS . PATH...: what the rsync client runs
 * over ssh. rsync's option parser (popt) takes an option wherever it
 * stands until "--", so every word is looked at, not only the leading ones.
 */
static void classify_rsync(struct shellcmd *c)
{
	bool sender = false, sender_ok = true, options = true;
	size_t i, operands = 0;
	const char *why = NULL;

	if (!is(c->argv[1], "--server")) {
		set(c, SHELLCMD_SHELL, SHELLCMD_NONE, "command");
		return;
	}
	for (i = 1; i < c->argc; i++) {
		const char *w = c->argv[i];

		if (options && is(w, "--")) {
			options = false;
		} else if (options && w[0] == '-' && w[1] != '\0') {
			/* A daemon runs what its config says (pre-xfer exec): a shell's power. */
			if (is(w, "--daemon") || strncmp(w, "--config", 8) == 0) {
				set(c, SHELLCMD_SHELL, SHELLCMD_NONE, "rsync_daemon");
				return;
			}
			if (is(w, "--sender"))
				sender = true;
			else if (!rsync_sender_option_ok(w))
				sender_ok = false;
		} else {
			/* "." then the paths. */
			if (operands++ == 0 ? !is(w, ".") : (why = path_problem(w)) != NULL) {
				set(c, SHELLCMD_REFUSE, SHELLCMD_NONE,
				    operands == 1 ? "rsync_args" : why);
				return;
			}
		}
	}
	/* A server with no path is not an rsync client's. */
	if (operands < 2) {
		set(c, SHELLCMD_REFUSE, SHELLCMD_NONE, "rsync_args");
		return;
	}
	if (!sender)
		set(c, SHELLCMD_WRITE, SHELLCMD_RSYNC, "rsync_receiver");
	else if (!sender_ok)
		set(c, SHELLCMD_WRITE, SHELLCMD_RSYNC, "rsync_sender_option");
	else
		set(c, SHELLCMD_READ, SHELLCMD_RSYNC, "rsync_sender");
}

/* scp -f PATH... (the source side) or scp -t PATH (the sink): legacy scp, scp -O. */
static void classify_scp(struct shellcmd *c)
{
	bool from = false, to = false;
	size_t i;
	const char *why;

	for (i = 1; i < c->argc && c->argv[i][0] == '-'; i++) {
		if (is(c->argv[i], "--")) {
			i++;
			break;
		}
		for (const char *p = c->argv[i] + 1; *p != '\0'; p++) {
			if (*p == 'f')
				from = true;
			else if (*p == 't')
				to = true;
			else if (strchr("dprv", *p) == NULL) {
				set(c, SHELLCMD_REFUSE, SHELLCMD_NONE, "scp_option");
				return;
			}
		}
	}
	if (from == to || i == c->argc || (to && i + 1 != c->argc)) {
		set(c, SHELLCMD_REFUSE, SHELLCMD_NONE, "scp_args");
		return;
	}
	for (size_t first = i; i < c->argc; i++) {
		/* getopt takes "-t" after a path as an option too, unless "--" came first. */
		if (c->argv[i][0] == '-' && !(first > 1 && is(c->argv[first - 1], "--"))) {
			set(c, SHELLCMD_REFUSE, SHELLCMD_NONE, "scp_args");
			return;
		}
		why = path_problem(c->argv[i]);
		if (why != NULL) {
			set(c, SHELLCMD_REFUSE, SHELLCMD_NONE, why);
			return;
		}
	}
	set(c, to ? SHELLCMD_WRITE : SHELLCMD_READ, SHELLCMD_SCP, to ? "scp_sink" : "scp_source");
}

/*
 * The sftp subsystem: sshd runs the ForceCommand for it too, with
 * SSH_ORIGINAL_COMMAND the Subsystem line's command ("internal-sftp", or
 * sftp-server's path and the admin's options). Only logging options pass:
 * the others (-d, -u, -P, -p, -Q) would be the client's to choose when the
 * same string comes as a plain command.
 */
static void classify_sftp(struct shellcmd *c)
{
	for (size_t i = 1; i < c->argc; i++) {
		const char *w = c->argv[i];

		if (is(w, "-e"))
			continue;
		if ((is(w, "-l") || is(w, "-f")) && i + 1 < c->argc &&
		    strspn(c->argv[i + 1], "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") ==
			strlen(c->argv[i + 1]) &&
		    c->argv[i + 1][0] != '\0') {
			i++;
			continue;
		}
		set(c, SHELLCMD_SHELL, SHELLCMD_NONE, "sftp_option");
		return;
	}
	set(c, SHELLCMD_SFTP, SHELLCMD_SFTP_SERVER, "sftp");
}

static bool is_sftp(const char *w)
{
	const char *base = strrchr(w, '/');

	return is(w, "internal-sftp") || (base != NULL && w[0] == '/' && is(base, "/sftp-server"));
}

void shellcmd_classify(struct shellcmd *c, const char *cmd, size_t len, const char *home)
{
	struct splitter s = {.c = c};

	c->argc = 0;
	c->argv[0] = NULL;
	if (cmd == NULL) {
		set(c, SHELLCMD_SHELL, SHELLCMD_NONE, "interactive");
		return;
	}
	if (len > SHELLCMD_MAX) {
		set(c, SHELLCMD_REFUSE, SHELLCMD_NONE, "too_long");
		return;
	}
	split(&s, cmd, len, home);
	if (s.refuse != NULL) {
		c->argc = 0;
		c->argv[0] = NULL;
		set(c, SHELLCMD_REFUSE, SHELLCMD_NONE, s.refuse);
		return;
	}
	if (s.needs_shell || c->argc == 0) {
		set(c, SHELLCMD_SHELL, SHELLCMD_NONE, s.needs_shell ? "shell_syntax" : "command");
		return;
	}
	if (strncmp(c->argv[0], "git-", 4) == 0)
		classify_git(c, 0);
	else if (is(c->argv[0], "git") && c->argc > 1)
		classify_git(c, 1);
	else if (is(c->argv[0], "rsync"))
		classify_rsync(c);
	else if (is(c->argv[0], "scp"))
		classify_scp(c);
	else if (is_sftp(c->argv[0]))
		classify_sftp(c);
	else
		set(c, SHELLCMD_SHELL, SHELLCMD_NONE, "command");
}

bool shellcmd_allowed(const struct shellcmd *c, struct shellcmd_grant g, bool *readonly,
		      const char **needs)
{
	*readonly = false;
	*needs = NULL;
	switch (c->cls) {
	case SHELLCMD_READ:
		*needs = "read";
		return g.read || g.write;
	case SHELLCMD_WRITE:
		*needs = "write";
		return g.write;
	case SHELLCMD_SFTP:
		*needs = "read";
		*readonly = !g.write;
		return g.read || g.write;
	case SHELLCMD_SHELL:
		*needs = "shell";
		return g.shell;
	case SHELLCMD_REFUSE:
		break;
	}
	return false;
}

const char *shellcmd_class_name(enum shellcmd_class cls)
{
	switch (cls) {
	case SHELLCMD_READ:
		return "read";
	case SHELLCMD_WRITE:
		return "write";
	case SHELLCMD_SFTP:
		return "sftp";
	case SHELLCMD_SHELL:
		return "shell";
	case SHELLCMD_REFUSE:
		break;
	}
	return "refuse";
}
