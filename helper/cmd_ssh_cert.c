/*
 * `apitoken ssh-cert load|info|clear`: a short-lived OpenSSH certificate
 * from the API token (DESIGN.md §8), kept where ssh finds it with no prompt.
 *
 * State lives in $XDG_STATE_HOME/apitoken/ssh/ (0700; files 0600):
 * id_ed25519, id_ed25519.pub, id_ed25519-cert.pub and ssh_config (the
 * include file). Every file is replaced whole (temp file, fsync, rename)
 * under a lock. The key is reused up to key_ttl, so a renewal replaces only
 * the certificate and a connection in progress sees the old pair or the new
 * one. Once per key_ttl the key itself changes, and ssh could read the new
 * key with the old certificate in the instant between the two renames;
 * that one connection falls back to the key alone. Nothing is written until
 * the issuer's certificate has passed our checks (a user certificate, for
 * our key, with a principal, valid now, correctly signed, by a pinned CA
 * when one is set).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "agent.h"
#include "buf.h"
#include "certissue.h"
#include "commands.h"
#include "file.h"
#include "settings.h"
#include "sshcert.h"
#include "sshconfig.h"
#include "sshkey.h"
#include "xdg.h"
#include "errmsg.h"

#define RENEW_BEFORE 120 /* seconds: a certificate closer to its end is renewed */
#define KEY_COMMENT  "apitoken"

struct state {
	char dir[PATH_MAX - 64]; /* room for the file names below */
	char key[PATH_MAX], pub[PATH_MAX], cert[PATH_MAX], include[PATH_MAX], cas[PATH_MAX];
	int dirfd;
};

#define PINNED_CAS "ca_keys" /* the CA keys trusted at the first load, in the state dir */

struct opts {
	bool new_cert, refresh_only, agent, write_config, quiet, no_interaction, json, check,
	    forget_ca;
};

/* --- the state directory ------------------------------------------------------ */

/*
 * Where the state directory hangs: $XDG_STATE_HOME, else the home
 * directory, in base; and the path below it in rel. base holds
 * "BASE\0REL" and rel points into it.
 */
static int state_base(char *base, size_t len, const char **rel)
{
	size_t n;
	char *p = xdg_path(XDG_STATE, "apitoken/ssh", &n);
	int r = -1;

	if (p != NULL && strlen(p) < len) {
		memcpy(base, p, strlen(p) + 1);
		base[n] = '\0'; /* was the '/' between BASE and REL */
		*rel = base + n + 1;
		r = 0;
	}
	free(p);
	return r;
}

/* mkdir -p, new directories 0700 (for a missing $XDG_STATE_HOME itself). */
static int make_dirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return mkdir(path, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

#define STATE_FIX "or set XDG_STATE_HOME to a directory of yours"

/*
 * A directory on the way to the key: whoever may write it can swap what is
 * below, so it must be owned by root or us and not writable by group or
 * others. The last one (ours alone) must be ours and is made private.
 */
static int dir_checked(int fd, const char *path, bool last, char *err, size_t errlen)
{
	struct stat sb;
	enum file_trust t;

	if (fstat(fd, &sb) != 0) {
		errf(err, errlen, "%.300s: %s", path, strerror(errno));
		return EXIT_CONFIG;
	}
	/* Above it, the rule of every file we trust; the last one is ours alone. */
	t = file_trust(&sb);
	if (last ? sb.st_uid != getuid() : t == FILE_OTHER_OWNER) {
		errf(err, errlen, "%.300s is owned by uid %u, not by you%s: " STATE_FIX, path,
		     (unsigned)sb.st_uid, last ? "" : " or root");
		return EXIT_CONFIG;
	}
	if (!last && t == FILE_SHARED_WRITE) {
		snprintf(
		    err, errlen,
		    "%.300s is writable by group or others, who could swap the state directory "
		    "below it: run chmod go-w %.300s, " STATE_FIX,
		    path, path);
		return EXIT_CONFIG;
	}
	/* Ours: make it private if it is not (a key lives here). */
	if (last && (sb.st_mode & 077) != 0 && fchmod(fd, 0700) != 0) {
		errf(err, errlen, "%.300s: %s", path, strerror(errno));
		return EXIT_CONFIG;
	}
	return 0;
}

/*
 * Opens the directory name under parent without following a symbolic
 * link, made 0700 with mkdirat when missing and create. *fd is -1 when it
 * is missing and not to be made.
 */
static int dir_step(int parent, const char *name, const char *path, bool create, bool last, int *fd,
		    char *err, size_t errlen)
{
	struct stat sb;
	int rc;

	*fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0 && errno == ENOENT && create) {
		if (mkdirat(parent, name, 0700) != 0 && errno != EEXIST) {
			errf(err, errlen, "%.300s: %s", path, strerror(errno));
			return EXIT_CONFIG;
		}
		*fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (*fd < 0) {
		if (errno == ENOENT && !create)
			return 0;
		if (fstatat(parent, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(sb.st_mode))
			errf(err, errlen,
			     "%.300s is a symbolic link; the state directory is used only "
			     "through real directories: remove the link, " STATE_FIX,
			     path);
		else
			errf(err, errlen, "%.300s: %s", path, strerror(errno));
		return EXIT_CONFIG;
	}
	if ((rc = dir_checked(*fd, path, last, err, errlen)) != 0) {
		close(*fd);
		*fd = -1;
	}
	return rc;
}

/*
 * Opens the state directory one checked component at a time from its
 * base down, each relative to the descriptor of the one above, so no
 * link or directory swapped in by someone else can move where the key is
 * written. Everything later is done relative to st->dirfd.
 */
static int state_open(struct state *st, bool create, char *err, size_t errlen)
{
	char base[PATH_MAX], path[PATH_MAX], names[PATH_MAX], *name, *save = NULL;
	const char *rel;
	int fd, next, rc = 0;

	memset(st, 0, sizeof(*st));
	st->dirfd = -1;
	if (state_base(base, sizeof(base), &rel) < 0 ||
	    snprintf(st->dir, sizeof(st->dir), "%s/%s", base, rel) >= (int)sizeof(st->dir)) {
		errf(err, errlen, "no state directory: set XDG_STATE_HOME or HOME");
		return EXIT_CONFIG;
	}
	snprintf(st->key, sizeof(st->key), "%s/id_ed25519", st->dir);
	snprintf(st->pub, sizeof(st->pub), "%s/id_ed25519.pub", st->dir);
	snprintf(st->cert, sizeof(st->cert), "%s/id_ed25519-cert.pub", st->dir);
	snprintf(st->include, sizeof(st->include), "%s/ssh_config", st->dir);
	snprintf(st->cas, sizeof(st->cas), "%s/" PINNED_CAS, st->dir);

	/* The base is where the user put it (its own path may hold links); it is checked too. */
	if (create && getenv("XDG_STATE_HOME") != NULL && access(base, F_OK) != 0 &&
	    make_dirs(base) < 0) {
		errf(err, errlen, "%.300s: %s", base, strerror(errno));
		return EXIT_CONFIG;
	}
	fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (!create && errno == ENOENT)
			return 0; /* nothing loaded yet */
		errf(err, errlen, "%.300s: %s", base, strerror(errno));
		return EXIT_CONFIG;
	}
	if ((rc = dir_checked(fd, base, false, err, errlen)) != 0)
		goto out;
	snprintf(path, sizeof(path), "%s", base);
	snprintf(names, sizeof(names), "%s", rel);
	for (name = strtok_r(names, "/", &save); name != NULL; name = strtok_r(NULL, "/", &save)) {
		bool last = strcmp(name, "ssh") == 0 && save != NULL && *save == '\0';

		snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s", name);
		rc = dir_step(fd, name, path, create, last, &next, err, errlen);
		close(fd);
		fd = next;
		if (rc != 0 || fd < 0)
			goto out; /* refused, or (without create) not there: nothing loaded yet */
	}
	st->dirfd = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* A file of the state directory, reached from st->dirfd, never by its path. */
static enum apt_rc read_in(const struct state *st, const char *name, enum file_kind kind,
			   size_t max, char **out, size_t *len, char *err, size_t errlen)
{
	char why[512];
	enum apt_rc rc =
	    file_read_checked_at(st->dirfd, name, kind, max, out, len, why, sizeof(why));

	/* The message names the file; give it its directory. */
	if (rc != APT_OK)
		errf(err, errlen, "%.300s/%s", st->dir, why);
	return rc;
}

static void state_close(struct state *st)
{
	if (st->dirfd >= 0)
		close(st->dirfd);
	st->dirfd = -1;
}

/* One load at a time: a second waits (bounded) and then finds the first's result. */
static int state_lock(const struct state *st, char *err, size_t errlen)
{
	int fd = file_lock_at(st->dirfd, ".lock", 30000);

	if (fd < 0)
		errf(err, errlen, "%.300s/.lock: another apitoken ssh-cert is still running",
		     st->dir);
	return fd;
}

/* --- what is there ---------------------------------------------------------------- */

struct loaded {
	bool have_key, have_cert;
	struct sshkey_ed25519 key;
	time_t key_mtime;
	struct buf key_blob;
	struct sshcert cert;
	char cert_err[256];
};

static void loaded_free(struct loaded *l)
{
	sshkey_clear(&l->key);
	buf_free(&l->key_blob);
	if (l->have_cert)
		sshcert_free(&l->cert);
	memset(l, 0, sizeof(*l));
}

static void read_state(const struct state *st, struct loaded *l)
{
	char *text = NULL, err[256];
	size_t len;
	struct stat sb;

	memset(l, 0, sizeof(*l));
	if (st->dirfd < 0)
		return;
	if (read_in(st, "id_ed25519", FILE_SECRET, SSHKEY_FILE_MAX, &text, &len, err,
		    sizeof(err)) == APT_OK &&
	    sshkey_parse_private(&l->key, NULL, 0, text, len, err, sizeof(err)) == 0 &&
	    fstatat(st->dirfd, "id_ed25519", &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		l->have_key = true;
		l->key_mtime = sb.st_mtime;
		sshkey_put_public(&l->key_blob, &l->key);
	}
	free_secret(text);
	text = NULL;
	if (read_in(st, "id_ed25519-cert.pub", FILE_CONFIG, SSHCERT_MAX_BLOB * 2, &text, &len,
		    l->cert_err, sizeof(l->cert_err)) == APT_OK &&
	    sshcert_parse_line(&l->cert, text, len, l->cert_err, sizeof(l->cert_err)) == 0)
		l->have_cert = true;
	free(text);
}

/* Usable as it is: for our key, valid now, with some time to spare. */
static bool cert_good(const struct loaded *l, time_t now, uint64_t spare, char *why, size_t len)
{
	if (!l->have_key || !l->have_cert) {
		snprintf(why, len, "%s", !l->have_key ? "no key yet" : "no certificate yet");
		return false;
	}
	if (sshcert_check(&l->cert, l->key_blob.p, l->key_blob.len, (uint64_t)now, why, len) < 0)
		return false;
	if (sshcert_seconds_left(&l->cert, (uint64_t)now) < spare) {
		snprintf(why, len, "the certificate expires within %llu s",
			 (unsigned long long)spare);
		return false;
	}
	return true;
}

/* --- the agent -------------------------------------------------------------------- */

/* Drops our identities (this certificate, and the one before) from the agent: true if any was
 * there. */
static bool agent_forget(const struct buf *cert_blob, const struct buf *old_blob)
{
	struct agent a;
	char err[256];
	bool removed = false;

	if (getenv("SSH_AUTH_SOCK") == NULL || agent_connect(&a, NULL, err, sizeof(err)) != APT_OK)
		return false;
	if (cert_blob != NULL && cert_blob->len > 0)
		removed |=
		    agent_remove(&a, cert_blob->p, cert_blob->len, err, sizeof(err)) == APT_OK;
	if (old_blob != NULL && old_blob->len > 0)
		removed |= agent_remove(&a, old_blob->p, old_blob->len, err, sizeof(err)) == APT_OK;
	agent_close(&a);
	return removed;
}

static int agent_load(const struct loaded *l, const struct buf *old_blob, time_t now, char *err,
		      size_t errlen)
{
	uint64_t left = sshcert_seconds_left(&l->cert, (uint64_t)now);
	struct agent a;
	enum apt_rc rc;

	if (agent_connect(&a, NULL, err, errlen) != APT_OK)
		return EXIT_CONFIG;
	/* Expired certificates must not pile up in the agent ("Too many authentication failures").
	 */
	if (old_blob != NULL && old_blob->len > 0)
		agent_remove(&a, old_blob->p, old_blob->len, err, errlen);
	rc = agent_add_ed25519_cert(&a, l->key.pk, l->key.seed, l->cert.blob.p, l->cert.blob.len,
				    KEY_COMMENT, left > UINT32_MAX ? UINT32_MAX : (uint32_t)left,
				    err, errlen);
	agent_close(&a);
	return rc == APT_OK ? 0 : EXIT_CONFIG;
}

static bool in_agent(const struct loaded *l)
{
	struct agent_identities ids = {0};
	struct agent a;
	char err[256];
	bool found = false;

	if (!l->have_cert || getenv("SSH_AUTH_SOCK") == NULL ||
	    agent_connect(&a, NULL, err, sizeof(err)) != APT_OK)
		return false;
	if (agent_list(&a, &ids, err, sizeof(err)) == APT_OK)
		found = agent_identities_count(&ids, l->cert.blob.p, l->cert.blob.len) > 0;
	agent_identities_free(&ids);
	agent_close(&a);
	return found;
}

/* --- ssh's config ------------------------------------------------------------------- */

static bool ask_yes(const char *question)
{
	char answer[16];

	fprintf(stderr, "%s [y/N] ", question);
	if (fgets(answer, sizeof(answer), stdin) == NULL)
		return false;
	return answer[0] == 'y' || answer[0] == 'Y';
}

static int write_config(const struct settings *s, const struct state *st, const struct opts *o,
			char *err, size_t errlen)
{
	char *config = NULL;
	struct buf inc = BUF_INIT;
	bool changed = false;
	int rc = 0;

	/* The include file, relative to the checked directory like every file of it. */
	if (sshconfig_render(&inc, s->hosts, st->key, st->cert, err, errlen) != APT_OK) {
		buf_free(&inc);
		return EXIT_CONFIG;
	}
	if (file_replace_at(st->dirfd, "ssh_config", inc.p, inc.len, 0600) < 0) {
		errf(err, errlen, "%.300s: %s", st->include, strerror(errno));
		buf_free(&inc);
		return EXIT_CONFIG;
	}
	buf_free(&inc);
	if (!o->write_config &&
	    (o->no_interaction || !isatty(STDIN_FILENO) || !isatty(STDERR_FILENO)))
		return 0;
	if (sshconfig_path(&config, err, errlen) != APT_OK)
		return EXIT_CONFIG;
	if (!o->write_config) {
		char q[PATH_MAX + 128];
		char *text = NULL;
		size_t len;
		bool present = file_read_checked(config, FILE_CONFIG, SSHCONFIG_MAX, &text, &len,
						 err, errlen) == APT_OK &&
			       strstr(text, SSHCONFIG_END) != NULL;

		free(text);
		err[0] = '\0';
		if (present)
			goto out; /* nothing to ask: the block is there */
		snprintf(q, sizeof(q), "Add an Include of %.2000s to %.2000s, so that ssh uses it?",
			 st->include, config);
		if (!ask_yes(q))
			goto out;
	}
	if (sshconfig_insert(config, st->include, &changed, err, errlen) != APT_OK)
		rc = EXIT_CONFIG;
	else if (changed && !o->quiet)
		printf("Added an Include of %s to %s.\n", st->include, config);
out:
	free(config);
	return rc;
}

/* --- which CA -------------------------------------------------------------------- */

/*
 * The pinned CA keys of the state directory, or NULL (none yet, or unreadable:
 * then *rc says which).
 */
static char *pinned_cas(const struct state *st, int *rc, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len;

	*rc = 0;
	if (st->dirfd < 0 ||
	    (faccessat(st->dirfd, PINNED_CAS, F_OK, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT))
		return NULL;
	if (read_in(st, PINNED_CAS, FILE_CONFIG, CA_KEYS_MAX, &text, &len, err, errlen) != APT_OK) {
		*rc = EXIT_CONFIG;
		return NULL;
	}
	return text;
}

/*
 * Whether c comes from the CA we trust, with what that means in what
 * (for the output). The signature itself is already verified; without a
 * pin that proves only that the certificate is intact, since the key it
 * is checked against is the one the certificate carries. So, as
 * known_hosts does for host keys: ca_key_file pins when set; otherwise the
 * first load records the CA keys cert_url/authority publishes (or, when
 * it publishes none, the key that signed this first certificate) and every
 * later load refuses a certificate from any other CA.
 */
static int ca_trusted(const struct settings *s, const struct state *st, const struct sshcert *c,
		      char *what, size_t wlen, char *err, size_t errlen)
{
	char fp[SSHKEY_FP_LEN] = "", aerr[256] = "", **lines = NULL, *text;
	struct buf rec = BUF_INIT;
	size_t n = 0;
	int rc;

	sshcert_ca_fingerprint(c, fp);
	if (s->ca_key_file != NULL) {
		if ((rc = cert_ca_pinned(s, c, err, errlen)) != 0)
			return rc;
		snprintf(what, wlen, "signed by the pinned CA %s (ca_key_file %.300s)", fp,
			 s->ca_key_file);
		return 0;
	}
	if ((text = pinned_cas(st, &rc, err, errlen)) != NULL || rc != 0) {
		bool ok = text != NULL && cert_ca_listed(c, text);

		free(text);
		if (rc != 0)
			return rc;
		if (!ok) {
			snprintf(
			    err, errlen,
			    "the certificate is signed by %s, not by the CA pinned at the first "
			    "load (%.300s). If the issuer really changed its CA, check the new "
			    "key with its administrator, then run `apitoken ssh-cert clear "
			    "--forget-ca` and load again, or set ca_key_file",
			    fp, st->cas);
			return EXIT_BADCERT;
		}
		if ((rc = cert_ca_pinned(s, c, err, errlen)) != 0) /* pin_ca: also published now */
			return rc;
		snprintf(what, wlen, "signed by the pinned CA %s", fp);
		return 0;
	}

	/* The first load: trust on first use, as ssh does for a host key. */
	buf_appendf(&rec, "# The CA keys `apitoken ssh-cert load` trusts, recorded at the first "
			  "load.\n# `apitoken ssh-cert clear --forget-ca` removes them.\n");
	rc = cert_authorities(s, &lines, &n, aerr, sizeof(aerr));
	if (rc == 0) {
		bool ok = false;

		for (size_t i = 0; i < n; i++) {
			ok = ok || cert_ca_listed(c, lines[i]);
			if (strpbrk(lines[i], "\r\n") == NULL)
				buf_appendf(&rec, "%s\n", lines[i]);
		}
		free_lines(lines, n);
		if (!ok) {
			snprintf(
			    err, errlen,
			    "the certificate is signed by %s, which cert_url/authority does not "
			    "publish",
			    fp);
			rc = EXIT_BADCERT;
			goto out;
		}
	} else if (s->pin_ca) {
		errf(err, errlen, "%s", aerr);
		goto out;
	} else if (cert_ca_line(c, &rec) < 0) { /* no authority published: its signer, then */
		errf(err, errlen, "out of memory");
		rc = EXIT_CONFIG;
		goto out;
	}
	if (rec.failed || file_replace_at(st->dirfd, PINNED_CAS, rec.p, rec.len, 0600) < 0) {
		errf(err, errlen, "%.300s: %s", st->cas,
		     rec.failed ? "out of memory" : strerror(errno));
		rc = EXIT_CONFIG;
		goto out;
	}
	rc = 0;
	snprintf(what, wlen, "signed by the CA %s, pinned now (first load; %.300s)", fp, st->cas);
out:
	buf_free(&rec);
	return rc;
}

/* --- load -------------------------------------------------------------------------- */

static void say_loaded(const struct loaded *l, time_t now, const char *what)
{
	char until[SSHCERT_TIME_LEN];
	uint64_t left = sshcert_seconds_left(&l->cert, (uint64_t)now);

	sshcert_format_time(l->cert.valid_before, until);
	printf("%s for %s%s, valid until %s (%llu min left).\n", what, l->cert.principals[0],
	       l->cert.nprincipals > 1 ? " and others" : "", until,
	       (unsigned long long)(left / 60));
}

static int load(const struct opts *o)
{
	struct settings s;
	struct state st = {.dirfd = -1};
	struct loaded l;
	struct buf old_blob = BUF_INIT, publine = BUF_INIT, file = BUF_INIT;
	struct sshcert fresh;
	char err[1024], why[256], verified[512] = "", *tok = NULL, *certline = NULL;
	time_t now = time(NULL);
	bool new_key, have_fresh = false;
	size_t len;
	int lock = -1, rc;

	memset(&l, 0, sizeof(l));
	rc = settings_load(&s, err, sizeof(err)) == APT_OK ? 0 : EXIT_CONFIG;
	if (rc == 0)
		rc = state_open(&st, true, err, sizeof(err));
	if (rc != 0)
		goto out;
	if ((lock = state_lock(&st, err, sizeof(err))) < 0) {
		rc = EXIT_CONFIG;
		goto out;
	}
	read_state(&st, &l);

	/* Valid for a while yet: nothing to ask for (and, with --refresh-only, nothing else). */
	if (!o->new_cert && cert_good(&l, now, RENEW_BEFORE, why, sizeof(why))) {
		if (o->refresh_only)
			goto out;
		if (o->agent && !in_agent(&l) &&
		    (rc = agent_load(&l, NULL, now, err, sizeof(err))) != 0)
			goto out;
		if ((rc = write_config(&s, &st, o, err, sizeof(err))) != 0)
			goto out;
		if (!o->quiet)
			say_loaded(&l, now, "The certificate is still valid");
		goto out;
	}

	/* --agent without an agent: say so before anything is asked for or written. */
	if (o->agent) {
		struct agent a;

		if (agent_connect(&a, NULL, err, sizeof(err)) != APT_OK) {
			rc = EXIT_CONFIG;
			goto out;
		}
		agent_close(&a);
	}

	/* A new key when there is none or it is older than key_ttl; else the same one. */
	new_key = !l.have_key || now - l.key_mtime >= s.key_ttl;
	if (new_key) {
		sshkey_clear(&l.key);
		if (sshkey_generate(&l.key) < 0) {
			errf(err, sizeof(err), "could not make a key");
			rc = EXIT_CONFIG;
			goto out;
		}
		l.key_blob.len = 0;
		sshkey_put_public(&l.key_blob, &l.key);
	}
	if (l.have_cert)
		buf_append(&old_blob, l.cert.blob.p, l.cert.blob.len);

	rc = settings_token(&s, &tok, &len, err, sizeof(err)) == APT_OK ? 0 : EXIT_CONFIG;
	if (rc == 0 && sshkey_public_line(&publine, &l.key, KEY_COMMENT) < 0)
		rc = EXIT_CONFIG;
	if (rc == 0) {
		publine.p[publine.len - 1] = '\0'; /* no newline inside the JSON string */
		rc = cert_issue(&s, tok, len, (char *)publine.p, &certline, err, sizeof(err));
	}
	if (rc != 0)
		goto out;

	/* What the issuer sent must be a certificate we can use, before anything is written. */
	if (sshcert_parse_line(&fresh, certline, strlen(certline), err, sizeof(err)) < 0) {
		rc = EXIT_BADCERT;
		goto out;
	}
	have_fresh = true;
	if (sshcert_check(&fresh, l.key_blob.p, l.key_blob.len, (uint64_t)time(NULL), err,
			  sizeof(err)) < 0 ||
	    sshcert_verify(&fresh, err, sizeof(err)) < 0) {
		rc = EXIT_BADCERT;
		goto out;
	}
	if ((rc = ca_trusted(&s, &st, &fresh, verified, sizeof(verified), err, sizeof(err))) != 0)
		goto out;

	/* The key first (a new one only): the old certificate no longer matches it anyway. */
	if (new_key) {
		if (sshkey_private_file(&file, &l.key, KEY_COMMENT) < 0 ||
		    file_replace_at(st.dirfd, "id_ed25519", file.p, file.len, 0600) < 0 ||
		    file_replace_at(st.dirfd, "id_ed25519.pub", publine.p, publine.len - 1, 0600) <
			0) {
			errf(err, sizeof(err), "%.300s: %s", st.key, strerror(errno));
			rc = EXIT_CONFIG;
			goto out;
		}
	}
	file.len = 0;
	buf_appendf(&file, "%s\n", certline);
	if (file.failed ||
	    file_replace_at(st.dirfd, "id_ed25519-cert.pub", file.p, file.len, 0600) < 0) {
		errf(err, sizeof(err), "%.300s: %s", st.cert, strerror(errno));
		rc = EXIT_CONFIG;
		goto out;
	}
	if (l.have_cert)
		sshcert_free(&l.cert);
	l.cert = fresh;
	l.have_cert = true;
	l.have_key = true;
	have_fresh = false;

	if (o->agent && (rc = agent_load(&l, &old_blob, time(NULL), err, sizeof(err))) != 0)
		goto out;
	if (!o->agent && old_blob.len > 0)
		agent_forget(NULL, &old_blob); /* our previous certificate, if an agent held it */
	if ((rc = write_config(&s, &st, o, err, sizeof(err))) != 0)
		goto out;
	if (!o->quiet) {
		say_loaded(&l, time(NULL), "Loaded a certificate");
		printf("Its signature is valid, %s.\n", verified);
	}
out:
	if (rc != 0)
		fprintf(stderr, "apitoken ssh-cert load: %s\n", err);
	if (have_fresh)
		sshcert_free(&fresh);
	if (lock >= 0)
		close(lock);
	free_secret(tok);
	free(certline);
	buf_free(&old_blob);
	buf_free(&publine);
	buf_free(&file);
	loaded_free(&l);
	state_close(&st);
	settings_free(&s);
	return rc;
}

/* --- info ------------------------------------------------------------------------- */

/*
 * What info can say of c's CA without a request: whether the signature is
 * valid, and whether its key is pinned (ca_key_file, else the keys the
 * first load recorded).
 */
static void ca_status(const struct state *st, const struct sshcert *c, bool *sig_ok, bool *pinned,
		      char *said, size_t len)
{
	char err[512], *text = NULL, *where;
	struct settings s;
	size_t tlen;
	int rc = 0;

	*sig_ok = sshcert_verify(c, err, sizeof(err)) == 0;
	*pinned = false;
	if (settings_load(&s, err, sizeof(err)) == APT_OK && s.ca_key_file != NULL) {
		where = "ca_key_file";
		if (file_read_checked(s.ca_key_file, FILE_CONFIG, CA_KEYS_MAX, &text, &tlen, err,
				      sizeof(err)) != APT_OK)
			rc = EXIT_CONFIG;
	} else {
		where = "first load";
		text = pinned_cas(st, &rc, err, sizeof(err));
	}
	if (text != NULL)
		*pinned = cert_ca_listed(c, text);
	if (!*sig_ok)
		snprintf(said, len, "signature NOT valid");
	else if (*pinned)
		snprintf(said, len, "signature valid, the pinned CA (%s)", where);
	else if (text != NULL)
		snprintf(said, len, "signature valid, NOT the pinned CA (%s)", where);
	else if (rc != 0)
		snprintf(said, len, "signature valid, pinned CAs unreadable: %.300s", err);
	else
		snprintf(said, len, "signature valid, CA not pinned");
	free(text);
	settings_free(&s);
}

static json_t *options_json(const struct sshcert_option *v, size_t n)
{
	json_t *o = json_object();

	for (size_t i = 0; i < n; i++)
		json_object_set_new(o, v[i].name, json_string(v[i].value));
	return o;
}

static int info(const struct opts *o)
{
	struct state st = {.dirfd = -1};
	struct loaded l;
	char err[512], why[256], fp[SSHKEY_FP_LEN] = "", after[SSHCERT_TIME_LEN],
				 before[SSHCERT_TIME_LEN];
	char ca_said[600];
	time_t now = time(NULL);
	bool valid, match, sig_ok, pinned;
	int rc;

	rc = state_open(&st, false, err, sizeof(err));
	if (rc != 0) {
		if (!o->check)
			fprintf(stderr, "apitoken ssh-cert info: %s\n", err);
		return o->check ? 1 : rc;
	}
	read_state(&st, &l);
	valid = cert_good(&l, now, 0, why, sizeof(why));
	if (o->check) {
		state_close(&st);
		loaded_free(&l);
		return valid ? 0 : 1;
	}
	if (!l.have_cert) {
		fprintf(stderr, "No certificate loaded (%s): run apitoken ssh-cert load.\n",
			l.cert_err[0] ? l.cert_err : st.cert);
		state_close(&st);
		loaded_free(&l);
		return 1;
	}
	ca_status(&st, &l.cert, &sig_ok, &pinned, ca_said, sizeof(ca_said));
	state_close(&st);
	match = l.have_key && sshcert_key_is(&l.cert, l.key_blob.p, l.key_blob.len);
	sshcert_ca_fingerprint(&l.cert, fp);
	sshcert_format_time(l.cert.valid_after, after);
	sshcert_format_time(l.cert.valid_before, before);
	if (o->json) {
		json_t *j = json_object(), *pr = json_array();
		char *text;

		for (size_t i = 0; i < l.cert.nprincipals; i++)
			json_array_append_new(pr, json_string(l.cert.principals[i]));
		json_object_set_new(j, "file", json_string(st.cert));
		json_object_set_new(j, "type", json_string(sshcert_type_name(&l.cert)));
		json_object_set_new(j, "key_id", json_string(l.cert.key_id));
		json_object_set_new(j, "serial", json_integer((json_int_t)l.cert.serial));
		json_object_set_new(j, "principals", pr);
		json_object_set_new(j, "valid_after", json_string(after));
		json_object_set_new(j, "valid_before", json_string(before));
		json_object_set_new(
		    j, "seconds_left",
		    json_integer((json_int_t)sshcert_seconds_left(&l.cert, (uint64_t)now)));
		json_object_set_new(j, "critical_options",
				    options_json(l.cert.options, l.cert.noptions));
		json_object_set_new(j, "extensions",
				    options_json(l.cert.extensions, l.cert.nextensions));
		json_object_set_new(j, "ca_fingerprint", json_string(fp));
		json_object_set_new(j, "signature_valid", json_boolean(sig_ok));
		json_object_set_new(j, "ca_pinned", json_boolean(pinned));
		json_object_set_new(j, "key_matches", json_boolean(match));
		json_object_set_new(j, "in_agent", json_boolean(in_agent(&l)));
		json_object_set_new(j, "valid", json_boolean(valid));
		if (!valid)
			json_object_set_new(j, "problem", json_string(why));
		text = json_dumps(j, JSON_INDENT(2));
		puts(text ? text : "{}");
		free(text);
		json_decref(j);
	} else {
		printf("Certificate:      %s\n", st.cert);
		printf("Type:             %s %s\n", sshcert_type_name(&l.cert), l.cert.type);
		printf("Key ID:           %s\n", l.cert.key_id);
		printf("Serial:           %llu\n", (unsigned long long)l.cert.serial);
		printf("Principals:      ");
		for (size_t i = 0; i < l.cert.nprincipals; i++)
			printf(" %s", l.cert.principals[i]);
		printf("\nValid:            from %s to %s", after, before);
		if (valid)
			printf(" (%llu s left)\n",
			       (unsigned long long)sshcert_seconds_left(&l.cert, (uint64_t)now));
		else
			printf(" (NOT VALID: %s)\n", why);
		printf("Critical options:");
		for (size_t i = 0; i < l.cert.noptions; i++)
			printf(" %s%s%s", l.cert.options[i].name,
			       l.cert.options[i].has_value ? "=" : "", l.cert.options[i].value);
		printf("%s\nExtensions:      ", l.cert.noptions ? "" : " (none)");
		for (size_t i = 0; i < l.cert.nextensions; i++)
			printf(" %s", l.cert.extensions[i].name);
		printf("%s\n", l.cert.nextensions ? "" : " (none)");
		printf("Signed by CA:     %s (%s)\n", fp, ca_said);
		printf("Matches the key:  %s\n", match ? "yes" : "NO");
		printf("In the agent:     %s\n", in_agent(&l) ? "yes" : "no");
	}
	loaded_free(&l);
	return valid ? 0 : 1;
}

/* --- clear ------------------------------------------------------------------------ */

static int clear(const struct opts *o)
{
	static const char *const files[] = {"id_ed25519-cert.pub", "id_ed25519", "id_ed25519.pub",
					    "ssh_config"};
	struct state st = {.dirfd = -1};
	struct loaded l;
	char err[512], *config = NULL;
	bool changed = false, from_agent = false;
	int rc = 0;

	if (state_open(&st, false, err, sizeof(err)) != 0) {
		fprintf(stderr, "apitoken ssh-cert clear: %s\n", err);
		return EXIT_CONFIG;
	}
	read_state(&st, &l);
	if (l.have_cert)
		from_agent = agent_forget(&l.cert.blob, NULL);
	if (sshconfig_path(&config, err, sizeof(err)) != APT_OK ||
	    sshconfig_remove(config, &changed, err, sizeof(err)) != APT_OK) {
		fprintf(stderr, "apitoken ssh-cert clear: %s\n", err);
		rc = EXIT_CONFIG;
	}
	for (size_t i = 0; st.dirfd >= 0 && i < sizeof(files) / sizeof(files[0]); i++)
		if (unlinkat(st.dirfd, files[i], 0) != 0 && errno != ENOENT) {
			fprintf(stderr, "apitoken ssh-cert clear: %s/%s: %s\n", st.dir, files[i],
				strerror(errno));
			rc = EXIT_CONFIG;
		}
	/* The pinned CAs survive a plain clear, as known_hosts survives a new key. */
	if (o->forget_ca && st.dirfd >= 0 && unlinkat(st.dirfd, PINNED_CAS, 0) != 0 &&
	    errno != ENOENT) {
		fprintf(stderr, "apitoken ssh-cert clear: %s: %s\n", st.cas, strerror(errno));
		rc = EXIT_CONFIG;
	}
	if (rc == 0 && !o->quiet)
		printf("Cleared the certificate files%s%s%s.\n",
		       from_agent ? ", the agent's identity" : "",
		       o->forget_ca ? ", the pinned CA keys" : "",
		       changed ? " and the Include block in the ssh config" : "");
	free(config);
	loaded_free(&l);
	state_close(&st);
	return rc;
}

/* --- the command -------------------------------------------------------------------- */

static int usage(void)
{
	fprintf(stderr, "usage: apitoken ssh-cert load [--new] [--refresh-only] [--agent] "
			"[--write-ssh-config] [-q] [--no-interaction]\n"
			"       apitoken ssh-cert info [--json] [--check]\n"
			"       apitoken ssh-cert clear [--forget-ca] [-q]\n");
	return EXIT_USAGE;
}

int cmd_ssh_cert(int argc, char **argv)
{
	struct opts o = {0};
	const char *sub = argc > 1 ? argv[1] : "";

	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		bool is_load = strcmp(sub, "load") == 0, is_info = strcmp(sub, "info") == 0;

		if (is_load && strcmp(a, "--new") == 0)
			o.new_cert = true;
		else if (is_load && strcmp(a, "--refresh-only") == 0)
			o.refresh_only = true;
		else if (is_load && strcmp(a, "--agent") == 0)
			o.agent = true;
		else if (is_load && strcmp(a, "--write-ssh-config") == 0)
			o.write_config = true;
		else if (is_load && strcmp(a, "--no-interaction") == 0)
			o.no_interaction = true;
		else if (!is_info && (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0))
			o.quiet = true;
		else if (is_info && strcmp(a, "--json") == 0)
			o.json = true;
		else if (is_info && strcmp(a, "--check") == 0)
			o.check = true;
		else if (strcmp(sub, "clear") == 0 && strcmp(a, "--forget-ca") == 0)
			o.forget_ca = true;
		else
			return usage();
	}
	if (strcmp(sub, "load") == 0)
		return load(&o);
	if (strcmp(sub, "info") == 0)
		return info(&o);
	if (strcmp(sub, "clear") == 0)
		return clear(&o);
	return usage();
}
