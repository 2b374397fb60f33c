/*
 * Editing the user's ssh config and writing our include file (see
 * sshconfig.h): the marked block found by its lines, the file read without
 * following links and checked on the open descriptor, and every write
 * done by temp file, fsync and rename in the same directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"
#include "file.h"
#include "sshconfig.h"

enum apt_rc sshconfig_path(char **out, char *err, size_t errlen)
{
	const char *env = getenv("APITOKEN_SSH_CONFIG");
	struct passwd *pw;

	*out = NULL;
	if (env != NULL && env[0] != '\0') {
		*out = strdup(env);
		return *out != NULL ? APT_OK : APT_NOMEM;
	}
	/* As ssh does: the user database, so a CI job's $HOME cannot mislead us. */
	errno = 0;
	pw = getpwuid(getuid());
	if (pw == NULL || pw->pw_dir == NULL || pw->pw_dir[0] != '/') {
		errf(err, errlen, "no home directory for uid %u in the user database%s%s",
		     (unsigned)getuid(), errno ? ": " : "", errno ? strerror(errno) : "");
		return APT_SERVICE;
	}
	if (asprintf(out, "%s/.ssh/config", strcmp(pw->pw_dir, "/") == 0 ? "" : pw->pw_dir) < 0) {
		*out = NULL;
		return APT_NOMEM;
	}
	return APT_OK;
}

/*
 * A path as one ssh_config argument. ssh expands %-tokens and ${VAR} in
 * IdentityFile and CertificateFile, globs Include, and splits on quotes and
 * backslashes: a path holding any of these would not name our file, so it
 * is refused rather than escaped. White space, '#' and '=' are safe inside
 * double quotes.
 */
static enum apt_rc put_path(struct buf *out, const char *what, const char *path, char *err,
			    size_t errlen)
{
	bool quote = false;

	if (path == NULL || path[0] != '/') {
		errf(err, errlen, "the %s path \"%s\" is not absolute", what,
		     path != NULL ? path : "");
		return APT_SERVICE;
	}
	for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || strchr("\"'\\%$*?[", *p) != NULL) {
			/* Quoted only up to the byte: a control byte is not for a terminal. */
			errf(err, errlen,
			     "the %s path \"%.*s\" is followed by byte 0x%02x, which ssh_config "
			     "would interpret (quotes, \\, %%, $, *, ?, [, control bytes are "
			     "refused)",
			     what, (int)((const char *)p - path), path, *p);
			return APT_SERVICE;
		}
		if (*p == ' ' || *p == '#' || *p == '=')
			quote = true;
	}
	if (quote)
		buf_appendf(out, "\"%s\"", path);
	else
		buf_appendf(out, "%s", path);
	return out->failed ? APT_NOMEM : APT_OK;
}

/* The block for this include, in out. */
static enum apt_rc make_block(struct buf *out, const char *include, char *err, size_t errlen)
{
	enum apt_rc rc;

	buf_appendf(out, "%s\nInclude ", SSHCONFIG_BEGIN);
	rc = put_path(out, "include file", include, err, errlen);
	if (rc != APT_OK)
		return rc;
	buf_appendf(out, "\n%s\n", SSHCONFIG_END);
	return out->failed ? APT_NOMEM : APT_OK;
}

/* The next pattern of hosts at *p (white space separated): its start and length, 0 at the end. */
static size_t next_pattern(const char **p, const char **start)
{
	*p += strspn(*p, " \t");
	*start = *p;
	*p += strcspn(*p, " \t");
	return (size_t)(*p - *start);
}

enum apt_rc sshconfig_hosts_check(const char *hosts, char *err, size_t errlen)
{
	const char *p = hosts != NULL ? hosts : "", *start;
	size_t n, npat = 0;

	while ((n = next_pattern(&p, &start)) > 0) {
		npat++;
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)start[i];

			/* A newline would start a new option; quotes and '#' reshape the line. */
			if (c < 0x21 || c > 0x7e || strchr("\"'#=\\", c) != NULL) {
				errf(err, errlen,
				     "the hosts pattern \"%.*s\" is followed by byte 0x%02x, not "
				     "allowed in an ssh Host pattern (quotes, #, =, \\, control "
				     "and non-ASCII bytes are refused)",
				     (int)i, start, c);
				return APT_SERVICE;
			}
		}
	}
	/* "Host *" would make our key the only one ssh offers to every other remote. */
	if (npat == 0) {
		errf(err, errlen,
		     "no hosts: the ssh config block is only written for the ssh Host patterns "
		     "the certificate is for (hosts)");
		return APT_SERVICE;
	}
	return APT_OK;
}

enum apt_rc sshconfig_render(struct buf *out, const char *hosts, const char *identity,
			     const char *certificate, const char *known_hosts, char *err,
			     size_t errlen)
{
	const char *p = hosts != NULL ? hosts : "", *start; /* NULL is refused below; p never is */
	size_t n;
	enum apt_rc rc = sshconfig_hosts_check(hosts, err, errlen);

	if (rc != APT_OK)
		return rc;
	buf_appendf(out, "Host");
	while ((n = next_pattern(&p, &start)) > 0)
		buf_appendf(out, " %.*s", (int)n, start);
	if (identity != NULL) {
		buf_appendf(out, "\n\tIdentityFile ");
		if ((rc = put_path(out, "identity", identity, err, errlen)) != APT_OK)
			return rc;
		buf_appendf(out, "\n\tCertificateFile ");
		if ((rc = put_path(out, "certificate", certificate, err, errlen)) != APT_OK)
			return rc;
		buf_appendf(out, "\n\tIdentitiesOnly yes");
	}
	if (known_hosts != NULL) {
		/* Ours first; the user's own file is still read (and the one ssh adds to). */
		buf_appendf(out, "\n\tUserKnownHostsFile ");
		if ((rc = put_path(out, "known_hosts", known_hosts, err, errlen)) != APT_OK)
			return rc;
		buf_appendf(out, " ~/.ssh/known_hosts");
	}
	buf_appendf(out, "\n");
	return out->failed ? APT_NOMEM : APT_OK;
}

/* ------------------------------------------------------------ files */

/*
 * DIR and the temporary files' prefix ".BASE.apitoken-" for path, heap
 * strings; *base points into path.
 */
static enum apt_rc split_path(const char *path, char **dir, char **prefix, const char **base)
{
	const char *slash = strrchr(path, '/');

	*base = slash != NULL ? slash + 1 : path;
	*prefix = NULL;
	if (slash == NULL)
		*dir = strdup(".");
	else if (slash == path)
		*dir = strdup("/");
	else
		*dir = strndup(path, (size_t)(slash - path));
	if (*dir == NULL)
		return APT_NOMEM;
	if (asprintf(prefix, ".%s.apitoken-", *base) < 0) {
		*prefix = NULL;
		free(*dir);
		*dir = NULL;
		return APT_NOMEM;
	}
	return APT_OK;
}

/*
 * Replaces path with data (file_replace_with): a temp file beside it (mode,
 * and gid when not -1), fsync, rename, fsync of the directory. When was is
 * not NULL the file must still be that one (or, for was->st_nlink == 0,
 * still absent) just before the rename: an edit made meanwhile by someone
 * else is not lost silently.
 */
static enum apt_rc replace_file(const char *path, const void *data, size_t len, mode_t mode,
				gid_t gid, const struct stat *was, char *err, size_t errlen)
{
	char *dir = NULL, *prefix = NULL;
	const char *base;
	enum apt_rc rc = split_path(path, &dir, &prefix, &base);
	struct file_replace how = {.mode = mode,
				   .set_gid = gid != (gid_t)-1,
				   .gid = gid,
				   .tmp_prefix = prefix,
				   .was = was,
				   .sync_dir = true};
	int dfd;

	if (rc != APT_OK)
		return rc;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		errf(err, errlen, "cannot create a temp file in %s: %s", dir, strerror(errno));
		rc = APT_SERVICE;
	} else if (file_replace_with(dfd, base, data, len, &how) < 0) {
		if (errno == ESTALE)
			errf(err, errlen, "%s changed while apitoken was editing it; try again",
			     path);
		else
			errf(err, errlen, "cannot replace %s: %s", path, strerror(errno));
		rc = APT_SERVICE;
	}
	if (dfd >= 0)
		close(dfd);
	free(dir);
	free(prefix);
	return rc;
}

/*
 * Reads config, which must be a regular file of ours and not a link, into
 * out. *st gets its status; st->st_nlink is 0 when it does not exist.
 */
static enum apt_rc read_config(const char *path, struct buf *out, struct stat *st, const char *todo,
			       char *err, size_t errlen)
{
	struct stat lst;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	enum apt_rc rc = APT_SERVICE;

	memset(st, 0, sizeof(*st));
	if (fd < 0) {
		if (errno == ENOENT)
			return APT_OK;
		if (errno == ELOOP && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
			errf(err, errlen,
			     "%s is a symbolic link; apitoken does not edit through links "
			     "(it would replace the link with a file): %s, or set "
			     "APITOKEN_SSH_CONFIG to the file it points to",
			     path, todo);
		else
			errf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return APT_SERVICE;
	}
	if (fstat(fd, st) != 0) {
		errf(err, errlen, "cannot stat %s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st->st_mode)) {
		errf(err, errlen, "%s is not a regular file", path);
		goto fail;
	}
	if (st->st_uid != getuid()) {
		errf(err, errlen,
		     "%s is owned by uid %u, not by you (uid %u); apitoken edits only "
		     "your own ssh config",
		     path, (unsigned)st->st_uid, (unsigned)getuid());
		goto fail;
	}
	/* rename() would leave the other names with the old text: a split the user would not see.
	 */
	if (st->st_nlink > 1) {
		errf(err, errlen,
		     "%s has %lu hard links; apitoken will not split them by replacing it: %s",
		     path, (unsigned long)st->st_nlink, todo);
		goto fail;
	}
	if (file_read_fd(fd, SSHCONFIG_MAX, 0, out, path, err, errlen) < 0) {
		if (errno == ENOMEM)
			rc = APT_NOMEM;
		goto fail;
	}
	if (st->st_nlink == 0)
		st->st_nlink = 1; /* unlinked while open: still "it existed" for replace_file */
	close(fd);
	return APT_OK;
fail:
	close(fd);
	buf_free(out);
	memset(st, 0, sizeof(*st));
	return rc;
}

/* Makes the config's directory (~/.ssh) 0700 when it is missing; its parent must exist. */
static enum apt_rc ensure_dir(const char *path, char *err, size_t errlen)
{
	char *dir = NULL, *prefix = NULL;
	const char *base;
	enum apt_rc rc = split_path(path, &dir, &prefix, &base);
	struct stat st;

	if (rc != APT_OK)
		return rc;
	if (stat(dir, &st) != 0) {
		if (errno != ENOENT || mkdir(dir, 0700) != 0 || chmod(dir, 0700) != 0) {
			errf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
			rc = APT_SERVICE;
		}
	} else if (!S_ISDIR(st.st_mode)) {
		errf(err, errlen, "%s is not a directory", dir);
		rc = APT_SERVICE;
	}
	free(dir);
	free(prefix);
	return rc;
}

struct span {
	size_t start, end; /* [start, end): from the BEGIN line to after the END line */
};

/* Whether line [p, p+len) is marker: exactly, or the BEGIN prefix and more (a later wording). */
static bool is_marker(const unsigned char *p, size_t len, const char *marker, bool prefix)
{
	size_t mlen = strlen(marker);

	/* ssh ignores trailing white space (CR of a CRLF file included); so do we. */
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r'))
		len--;
	if (len < mlen || memcmp(p, marker, mlen) != 0)
		return false;
	return len == mlen || (prefix && (p[mlen] == ' ' || p[mlen] == '\t'));
}

#define BEGIN_PREFIX "# BEGIN apitoken"

/*
 * Finds our blocks in text: up to max spans into spans, their count in *n.
 * -1 with err when a BEGIN has no END before the next BEGIN or the end.
 */
static int find_blocks(const struct buf *text, struct span *spans, size_t max, size_t *n,
		       const char *path, char *err, size_t errlen)
{
	size_t off = 0, begin = 0;
	bool in_block = false;

	*n = 0;
	while (off < text->len) {
		const unsigned char *line = text->p + off;
		const unsigned char *nl = memchr(line, '\n', text->len - off);
		size_t len = nl != NULL ? (size_t)(nl - line) : text->len - off;
		size_t next = off + len + (nl != NULL ? 1 : 0);

		if (is_marker(line, len, BEGIN_PREFIX, true)) {
			if (in_block)
				goto unclosed;
			in_block = true;
			begin = off;
		} else if (in_block && is_marker(line, len, SSHCONFIG_END, false)) {
			in_block = false;
			if (*n == max) {
				errf(err, errlen, "%s holds more than %zu apitoken blocks", path,
				     max);
				return -1;
			}
			spans[*n].start = begin;
			spans[(*n)++].end = next;
		}
		off = next;
	}
	if (!in_block)
		return 0;
unclosed:
	errf(err, errlen,
	     "%s has a \"%s\" line without its \"%s\" line; fix the file by hand first", path,
	     BEGIN_PREFIX, SSHCONFIG_END);
	return -1;
}

#define MAX_BLOCKS 16

/*
 * out = text with spans[0] replaced by block (when block is not NULL) and
 * every other span taken out.
 */
static void splice_blocks(struct buf *out, const struct buf *text, const struct span *spans,
			  size_t n, const struct buf *block)
{
	size_t at = 0;

	for (size_t i = 0; i < n; i++) {
		buf_append(out, text->p + at, spans[i].start - at);
		if (i == 0 && block != NULL)
			buf_append(out, block->p, block->len);
		at = spans[i].end;
	}
	buf_append(out, text->p + at, text->len - at);
}

enum apt_rc sshconfig_insert(const char *config, const char *include, bool *changed, char *err,
			     size_t errlen)
{
	struct buf block = BUF_INIT, text = BUF_INIT, out = BUF_INIT;
	struct span spans[MAX_BLOCKS];
	char todo[512];
	struct stat st;
	size_t n;
	enum apt_rc rc;

	if (changed != NULL)
		*changed = false;
	rc = make_block(&block, include, err, errlen);
	if (rc != APT_OK)
		goto out;
	snprintf(todo, sizeof(todo), "add \"Include %s\" at its top yourself", include);
	rc = read_config(config, &text, &st, todo, err, errlen);
	if (rc != APT_OK)
		goto out;
	if (find_blocks(&text, spans, MAX_BLOCKS, &n, config, err, errlen) < 0) {
		rc = APT_SERVICE;
		goto out;
	}
	/* A block found means text was read (text.p set): said for the analyzer. */
	if (n == 1 && text.p != NULL && spans[0].end - spans[0].start == block.len &&
	    memcmp(text.p + spans[0].start, block.p, block.len) == 0)
		goto out; /* already there, as it should be */
	if (n == 0) {
		/* At the top: after a Host or Match line, Include would be conditional. */
		buf_append(&out, block.p, block.len);
		buf_append(&out, text.p, text.len);
	} else {
		splice_blocks(&out, &text, spans, n, &block);
	}
	if (out.failed) {
		rc = APT_NOMEM;
		goto out;
	}
	if (st.st_nlink == 0) {
		rc = ensure_dir(config, err, errlen);
		if (rc != APT_OK)
			goto out;
	}
	rc = replace_file(config, out.p, out.len, st.st_nlink ? st.st_mode & 07777 : 0600,
			  st.st_nlink ? st.st_gid : (gid_t)-1, &st, err, errlen);
	if (rc == APT_OK && changed != NULL)
		*changed = true;
out:
	buf_free(&block);
	buf_free(&text);
	buf_free(&out);
	return rc;
}

enum apt_rc sshconfig_remove(const char *config, bool *changed, char *err, size_t errlen)
{
	struct buf text = BUF_INIT, out = BUF_INIT;
	struct span spans[MAX_BLOCKS];
	struct stat st;
	size_t n;
	enum apt_rc rc;

	if (changed != NULL)
		*changed = false;
	rc = read_config(config, &text, &st, "remove the apitoken block from it yourself", err,
			 errlen);
	if (rc != APT_OK || st.st_nlink == 0)
		goto out;
	if (find_blocks(&text, spans, MAX_BLOCKS, &n, config, err, errlen) < 0) {
		rc = APT_SERVICE;
		goto out;
	}
	if (n == 0)
		goto out;
	splice_blocks(&out, &text, spans, n, NULL);
	if (out.failed) {
		rc = APT_NOMEM;
		goto out;
	}
	rc = replace_file(config, out.p != NULL ? out.p : (const unsigned char *)"", out.len,
			  st.st_mode & 07777, st.st_gid, &st, err, errlen);
	if (rc == APT_OK && changed != NULL)
		*changed = true;
out:
	buf_free(&text);
	buf_free(&out);
	return rc;
}

enum apt_rc sshconfig_write_include(const char *path, const char *hosts, const char *identity,
				    const char *certificate, const char *known_hosts, char *err,
				    size_t errlen)
{
	struct buf text = BUF_INIT;
	enum apt_rc rc =
	    sshconfig_render(&text, hosts, identity, certificate, known_hosts, err, errlen);

	if (rc == APT_OK)
		rc = replace_file(path, text.p, text.len, 0600, (gid_t)-1, NULL, err, errlen);
	buf_free(&text);
	return rc;
}

/* ------------------------------------------------------------ Host patterns */

/*
 * ssh's match_pattern(): '*' any run, '?' one byte, case sensitive as ssh
 * 9.2 matches Host lines (`ssh -G GIT.corp.example` does not match
 * "Host git.*"), so askpass answers exactly where the Host block applies.
 */
static bool pattern_match(const char *s, const char *p, size_t plen)
{
	while (plen > 0) {
		if (*p == '*') {
			while (plen > 0 && *p == '*')
				p++, plen--;
			if (plen == 0)
				return true;
			for (; *s != '\0'; s++)
				if (pattern_match(s, p, plen))
					return true;
			return false;
		}
		if (*s == '\0')
			return false;
		if (*p != '?' && *p != *s)
			return false;
		s++, p++, plen--;
	}
	return *s == '\0';
}

size_t sshconfig_next_host(const char **p, const char **start)
{
	*p += strspn(*p, " \t,");
	*start = *p;
	*p += strcspn(*p, " \t,");
	return (size_t)(*p - *start);
}

bool sshconfig_host_match(const char *hosts, const char *host)
{
	const char *p = hosts != NULL ? hosts : "", *pat;
	bool positive = false;
	size_t n;

	if (host == NULL || host[0] == '\0')
		return false;
	while ((n = sshconfig_next_host(&p, &pat)) > 0) {
		bool negated = pat[0] == '!';

		/* As on a Host line: one matching negation excludes the host whatever else matches.
		 */
		if (pattern_match(host, pat + negated, n - negated)) {
			if (negated)
				return false;
			positive = true;
		}
	}
	return positive;
}
