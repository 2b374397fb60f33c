/*
 * `apitoken ssh-cert load|info|clear`: a short-lived OpenSSH certificate
 * from the API token (DESIGN.md §8), kept where ssh finds it with no prompt.
 *
 * State lives in $XDG_STATE_HOME/apitoken/ssh/ (0700; files 0600):
 * id_ed25519, id_ed25519.pub, id_ed25519-cert.pub, ssh_config (the
 * include file) and known_hosts (the issuer's host CAs, when it publishes
 * any). Every file is replaced whole (temp file, fsync, rename)
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
#include "knownhosts.h"
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
	char known_hosts[PATH_MAX];
	int dirfd;
};

#define PINNED_CAS "ca_keys" /* the CA keys trusted at the first load, in the state dir */

struct opts {
	bool new_cert, refresh_only, agent, write_config, quiet, no_interaction, json, check,
	    forget_ca;
	bool known_hosts_only; /* load: the host CAs and the ssh config, no certificate */
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
static enum cert_rc dir_step(int parent, const char *name, const char *path, bool create, bool last,
			     int *fd, char *err, size_t errlen)
{
	struct stat sb;

	*fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0 && errno == ENOENT && create) {
		if (mkdirat(parent, name, 0700) != 0 && errno != EEXIST) {
			errf(err, errlen, "%.300s: %s", path, strerror(errno));
			return CERT_LOCAL;
		}
		*fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (*fd < 0) {
		if (errno == ENOENT && !create)
			return CERT_OK;
		if (fstatat(parent, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(sb.st_mode))
			errf(err, errlen,
			     "%.300s is a symbolic link; the state directory is used only "
			     "through real directories: remove the link, " STATE_FIX,
			     path);
		else
			errf(err, errlen, "%.300s: %s", path, strerror(errno));
		return CERT_LOCAL;
	}
	if (dir_checked(*fd, path, last, err, errlen) != 0) {
		close(*fd);
		*fd = -1;
		return CERT_LOCAL;
	}
	return CERT_OK;
}

/*
 * Opens the state directory one checked component at a time from its
 * base down, each relative to the descriptor of the one above, so no
 * link or directory swapped in by someone else can move where the key is
 * written. Everything later is done relative to st->dirfd.
 */
static enum cert_rc state_open(struct state *st, bool create, char *err, size_t errlen)
{
	char base[PATH_MAX], path[PATH_MAX], names[PATH_MAX], *name, *save = NULL;
	const char *rel;
	enum cert_rc rc = CERT_OK;
	int fd, next;

	memset(st, 0, sizeof(*st));
	st->dirfd = -1;
	if (state_base(base, sizeof(base), &rel) < 0 ||
	    snprintf(st->dir, sizeof(st->dir), "%s/%s", base, rel) >= (int)sizeof(st->dir)) {
		errf(err, errlen, "no state directory: set XDG_STATE_HOME or HOME");
		return CERT_LOCAL;
	}
	snprintf(st->key, sizeof(st->key), "%s/id_ed25519", st->dir);
	snprintf(st->pub, sizeof(st->pub), "%s/id_ed25519.pub", st->dir);
	snprintf(st->cert, sizeof(st->cert), "%s/id_ed25519-cert.pub", st->dir);
	snprintf(st->include, sizeof(st->include), "%s/ssh_config", st->dir);
	snprintf(st->cas, sizeof(st->cas), "%s/" PINNED_CAS, st->dir);
	snprintf(st->known_hosts, sizeof(st->known_hosts), "%s/" KNOWNHOSTS_FILE, st->dir);

	/* The base is where the user put it (its own path may hold links); it is checked too. */
	if (create && getenv("XDG_STATE_HOME") != NULL && access(base, F_OK) != 0 &&
	    make_dirs(base) < 0) {
		errf(err, errlen, "%.300s: %s", base, strerror(errno));
		return CERT_LOCAL;
	}
	fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (!create && errno == ENOENT)
			return CERT_OK; /* nothing loaded yet */
		errf(err, errlen, "%.300s: %s", base, strerror(errno));
		return CERT_LOCAL;
	}
	if (dir_checked(fd, base, false, err, errlen) != 0) {
		rc = CERT_LOCAL;
		goto out;
	}
	snprintf(path, sizeof(path), "%s", base);
	snprintf(names, sizeof(names), "%s", rel);
	for (name = strtok_r(names, "/", &save); name != NULL; name = strtok_r(NULL, "/", &save)) {
		bool last = strcmp(name, "ssh") == 0 && save != NULL && *save == '\0';

		snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s", name);
		rc = dir_step(fd, name, path, create, last, &next, err, errlen);
		close(fd);
		fd = next;
		if (rc != CERT_OK || fd < 0)
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
		errf(why, len, "%s", !l->have_key ? "no key yet" : "no certificate yet");
		return false;
	}
	if (sshcert_check(&l->cert, l->key_blob.p, l->key_blob.len, (uint64_t)now, why, len) < 0)
		return false;
	if (sshcert_seconds_left(&l->cert, (uint64_t)now) < spare) {
		errf(why, len, "the certificate expires within %llu s", (unsigned long long)spare);
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

/*
 * Whether the agent's identity id is one of ours: our key itself (an
 * `ssh-add` of the key file), a certificate of our key (any load --agent,
 * however many loads ago), or an Ed25519 certificate that load added under
 * our comment, for a key since replaced by `load --new`. The user's own
 * keys and certificates are none of these.
 */
static bool agent_identity_ours(const struct loaded *l, const struct agent_identity *id)
{
	struct sshcert c;
	char err[128];
	bool ours;

	if (l->have_key && id->blob_len == l->key_blob.len &&
	    memcmp(id->blob, l->key_blob.p, id->blob_len) == 0)
		return true;
	if (sshcert_parse(&c, id->blob, id->blob_len, err, sizeof(err)) < 0)
		return false;
	ours = (l->have_key && sshcert_key_is(&c, l->key_blob.p, l->key_blob.len)) ||
	       (strcmp(c.type, AGENT_ED25519_CERT_TYPE) == 0 && id->comment != NULL &&
		strcmp(id->comment, KEY_COMMENT) == 0);
	sshcert_free(&c);
	return ours;
}

/*
 * clear: every identity of ours out of the agent, not only the certificate
 * on disk now; a load without the agent replaces that file and leaves the
 * agent's older copy behind. How many went; -1 when the agent could not be
 * asked (no agent is not an error: nothing to clear there).
 */
static int agent_forget_all(const struct loaded *l, char *err, size_t errlen)
{
	struct agent_identities ids = {0};
	struct agent a;
	int removed = 0;

	if (getenv("SSH_AUTH_SOCK") == NULL)
		return 0;
	if (agent_connect(&a, NULL, err, errlen) != APT_OK)
		return 0; /* a stale SSH_AUTH_SOCK: no agent holds anything */
	if (agent_list(&a, &ids, err, errlen) != APT_OK) {
		agent_close(&a);
		return -1;
	}
	for (size_t i = 0; i < ids.n; i++)
		if (agent_identity_ours(l, &ids.v[i])) {
			if (agent_remove(&a, ids.v[i].blob, ids.v[i].blob_len, err, errlen) !=
			    APT_OK) {
				removed = -1;
				break;
			}
			removed++;
		}
	agent_identities_free(&ids);
	agent_close(&a);
	return removed;
}

static enum cert_rc agent_load(const struct loaded *l, const struct buf *old_blob, time_t now,
			       char *err, size_t errlen)
{
	uint64_t left = sshcert_seconds_left(&l->cert, (uint64_t)now);
	struct agent a;
	enum apt_rc rc;

	if (agent_connect(&a, NULL, err, errlen) != APT_OK)
		return CERT_LOCAL;
	/* Expired certificates must not pile up in the agent ("Too many authentication failures").
	 */
	if (old_blob != NULL && old_blob->len > 0)
		agent_remove(&a, old_blob->p, old_blob->len, err, errlen);
	rc = agent_add_ed25519_cert(&a, &l->key, l->cert.blob.p, l->cert.blob.len, KEY_COMMENT,
				    left > UINT32_MAX ? UINT32_MAX : (uint32_t)left, err, errlen);
	agent_close(&a);
	return rc == APT_OK ? CERT_OK : CERT_LOCAL;
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

/* Whether the ssh config file config already holds our Include block. */
static bool config_has_block(const char *config)
{
	char *text = NULL, err[256];
	size_t len;
	bool present = file_read_checked(config, FILE_CONFIG, SSHCONFIG_MAX, &text, &len, err,
					 sizeof(err)) == APT_OK &&
		       strstr(text, SSHCONFIG_END) != NULL;

	free(text);
	return present;
}

/* The managed known_hosts: known's lines, or no file when the issuer publishes no host CA. */
static enum cert_rc write_known_hosts(const struct state *st, const struct buf *known, char *err,
				      size_t errlen)
{
	if (known->len > 0
		? file_replace_at(st->dirfd, KNOWNHOSTS_FILE, known->p, known->len, 0600) < 0
		: unlinkat(st->dirfd, KNOWNHOSTS_FILE, 0) != 0 && errno != ENOENT) {
		errf(err, errlen, "%.300s: %s", st->known_hosts, strerror(errno));
		return CERT_LOCAL;
	}
	return CERT_OK;
}

/*
 * The include file for hosts (none without hosts: never a "Host *" block),
 * naming our key and certificate when identity, and the managed
 * known_hosts when known holds host CAs; then, with --write-ssh-config or
 * when the user says yes, the Include of it in ssh's config.
 */
static enum cert_rc write_config(const char *hosts, const struct buf *known, bool identity,
				 const struct state *st, const struct opts *o, char *err,
				 size_t errlen)
{
	char *config = NULL;
	struct buf inc = BUF_INIT;
	bool changed = false;
	enum cert_rc rc = CERT_OK;

	if (hosts == NULL)
		return CERT_OK;
	/* The known_hosts file first: the include names it once it is there. */
	if ((rc = write_known_hosts(st, known, err, errlen)) != CERT_OK)
		return rc;
	/* The include file, relative to the checked directory like every file of it. */
	if (sshconfig_render(&inc, hosts, identity ? st->key : NULL, identity ? st->cert : NULL,
			     known->len > 0 ? st->known_hosts : NULL, err, errlen) != APT_OK) {
		buf_free(&inc);
		return CERT_LOCAL;
	}
	if (file_replace_at(st->dirfd, "ssh_config", inc.p, inc.len, 0600) < 0) {
		errf(err, errlen, "%.300s: %s", st->include, strerror(errno));
		buf_free(&inc);
		return CERT_LOCAL;
	}
	buf_free(&inc);
	if (!o->write_config &&
	    (o->no_interaction || !isatty(STDIN_FILENO) || !isatty(STDERR_FILENO)))
		return CERT_OK;
	if (sshconfig_path(&config, err, errlen) != APT_OK)
		return CERT_LOCAL;
	if (!o->write_config) {
		char q[PATH_MAX + 128];

		if (config_has_block(config))
			goto out; /* nothing to ask: the block is there */
		snprintf(q, sizeof(q), "Add an Include of %.2000s to %.2000s, so that ssh uses it?",
			 st->include, config);
		if (!ask_yes(q))
			goto out;
	}
	if (sshconfig_insert(config, st->include, &changed, err, errlen) != APT_OK)
		rc = CERT_LOCAL;
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
static char *pinned_cas(const struct state *st, enum cert_rc *rc, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len;

	*rc = CERT_OK;
	if (st->dirfd < 0 ||
	    (faccessat(st->dirfd, PINNED_CAS, F_OK, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT))
		return NULL;
	if (read_in(st, PINNED_CAS, FILE_CONFIG, CA_KEYS_MAX, &text, &len, err, errlen) != APT_OK) {
		*rc = CERT_LOCAL;
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
static enum cert_rc ca_trusted(const struct settings *s, const struct state *st,
			       const struct sshcert *c, char *what, size_t wlen, char *err,
			       size_t errlen)
{
	char fp[SSHKEY_FP_LEN] = "", aerr[256] = "", **lines = NULL, *text;
	struct buf rec = BUF_INIT;
	size_t n = 0;
	enum cert_rc rc;

	sshcert_ca_fingerprint(c, fp);
	if (s->ca_key_file != NULL) {
		if ((rc = cert_ca_pinned(s, c, err, errlen)) != CERT_OK)
			return rc;
		snprintf(what, wlen, "signed by the pinned CA %s (ca_key_file %.300s)", fp,
			 s->ca_key_file);
		return CERT_OK;
	}
	if ((text = pinned_cas(st, &rc, err, errlen)) != NULL || rc != CERT_OK) {
		bool ok = text != NULL && cert_ca_listed(c, text);

		free(text);
		if (rc != CERT_OK)
			return rc;
		if (!ok) {
			errf(err, errlen,
			     "the certificate is signed by %s, not by the CA pinned at the first "
			     "load (%.300s). If the issuer really changed its CA, check the new "
			     "key with its administrator, then run `apitoken ssh-cert clear "
			     "--forget-ca` and load again, or set ca_key_file",
			     fp, st->cas);
			return CERT_BAD;
		}
		if ((rc = cert_ca_pinned(s, c, err, errlen)) != CERT_OK) /* pin_ca: also now */
			return rc;
		snprintf(what, wlen, "signed by the pinned CA %s", fp);
		return CERT_OK;
	}

	/* The first load: trust on first use, as ssh does for a host key. */
	buf_appendf(&rec, "# The CA keys `apitoken ssh-cert load` trusts, recorded at the first "
			  "load.\n# `apitoken ssh-cert clear --forget-ca` removes them.\n");
	rc = cert_authorities(s, &lines, &n, aerr, sizeof(aerr));
	if (rc == CERT_OK) {
		bool ok = false;

		for (size_t i = 0; i < n; i++) {
			ok = ok || cert_ca_listed(c, lines[i]);
			if (strpbrk(lines[i], "\r\n") == NULL)
				buf_appendf(&rec, "%s\n", lines[i]);
		}
		free_lines(lines, n);
		if (!ok) {
			errf(err, errlen,
			     "the certificate is signed by %s, which cert_url/authority does not "
			     "publish",
			     fp);
			rc = CERT_BAD;
			goto out;
		}
	} else if (s->pin_ca) {
		errf(err, errlen, "%s", aerr);
		goto out;
	} else if (cert_ca_line(c, &rec) < 0) { /* no authority published: its signer, then */
		errf(err, errlen, "out of memory");
		rc = CERT_NOMEM;
		goto out;
	}
	if (rec.failed || file_replace_at(st->dirfd, PINNED_CAS, rec.p, rec.len, 0600) < 0) {
		errf(err, errlen, "%.300s: %s", st->cas,
		     rec.failed ? "out of memory" : strerror(errno));
		rc = rec.failed ? CERT_NOMEM : CERT_LOCAL;
		goto out;
	}
	rc = CERT_OK;
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

/* What one load works with, from the settings to the files it writes. */
struct load {
	const struct opts *o;
	struct settings s;
	struct state st;
	int lock;
	struct loaded l;
	bool new_key;	      /* l.key is new: its files are written too */
	struct buf old_blob;  /* the certificate replaced, to drop from the agent */
	struct buf publine;   /* l.key's public key line */
	char *certline;	      /* what the issuer sent */
	struct sshcert fresh; /* ... parsed, when have_fresh */
	bool have_fresh;
	char verified[512]; /* how its CA was checked, for the output */
	const char *hosts;  /* the include's Host patterns: s.hosts or asked; NULL: no include */
	char *asked;	    /* the patterns the user typed, when asked */
	struct buf known;   /* the managed known_hosts text; empty: the issuer has no host CA */
	size_t nhost_cas;
	char err[1024];
};

static void load_free(struct load *ld)
{
	if (ld->have_fresh)
		sshcert_free(&ld->fresh);
	if (ld->lock >= 0)
		close(ld->lock);
	free(ld->certline);
	buf_free(&ld->old_blob);
	buf_free(&ld->publine);
	buf_free(&ld->known);
	free(ld->asked);
	loaded_free(&ld->l);
	state_close(&ld->st);
	settings_free(&ld->s);
}

/* The option that wants an ssh config, for messages. */
static const char *config_option(const struct opts *o)
{
	return o->known_hosts_only ? "--known-hosts-only" : "--write-ssh-config";
}

/*
 * The Host patterns of the include: the hosts setting; without it, asked
 * for on a terminal, refused with --no-interaction (before anything is
 * written), and none (no include at all) when no ssh config was asked for.
 */
static enum cert_rc load_hosts(struct load *ld)
{
	const struct opts *o = ld->o;
	char line[1024];
	size_t n;

	if (sshconfig_hosts_check(ld->s.hosts, ld->err, sizeof(ld->err)) == APT_OK) {
		ld->hosts = ld->s.hosts;
		return CERT_OK;
	}
	if (ld->s.hosts != NULL && ld->s.hosts[strspn(ld->s.hosts, " \t")] != '\0') {
		n = strlen(ld->err);
		errf(ld->err + n, sizeof(ld->err) - n, " (hosts, in %.300s or APITOKEN_HOSTS)",
		     ld->s.path ? ld->s.path : "~/.config/apitoken/config");
		return CERT_LOCAL;
	}
	if (!o->write_config)
		return CERT_OK;
	if (o->no_interaction || !isatty(STDIN_FILENO) || !isatty(STDERR_FILENO)) {
		errf(ld->err, sizeof(ld->err),
		     "%s needs hosts = ... (the ssh Host patterns the certificate is for) in "
		     "%.300s or APITOKEN_HOSTS; without them the block would apply to every host",
		     config_option(o), ld->s.path ? ld->s.path : "~/.config/apitoken/config");
		return CERT_LOCAL;
	}
	fprintf(stderr, "The ssh Host patterns the certificate is for "
			"(e.g. git.example.com *.example.org): ");
	if (fgets(line, sizeof(line), stdin) == NULL)
		line[0] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (sshconfig_hosts_check(line, ld->err, sizeof(ld->err)) != APT_OK)
		return CERT_LOCAL;
	if ((ld->asked = strdup(line)) == NULL) {
		errf(ld->err, sizeof(ld->err), "out of memory");
		return CERT_NOMEM;
	}
	ld->hosts = ld->asked;
	fprintf(stderr, "Put hosts = %s in %.300s (or set APITOKEN_HOSTS) not to be asked again.\n",
		line, ld->s.path ? ld->s.path : "~/.config/apitoken/config");
	return CERT_OK;
}

/*
 * The issuer's host CAs for the include, as the managed known_hosts text
 * in ld->known: fetched and every key checked before anything is written,
 * so a bad answer leaves every file as it was.
 */
static enum cert_rc load_host_cas(struct load *ld)
{
	char **lines = NULL;
	size_t n = 0;
	enum cert_rc rc;

	if (ld->hosts == NULL)
		return CERT_OK;
	if (ld->s.cert_url == NULL) {
		if (!ld->o->known_hosts_only)
			return CERT_OK; /* the certificate request says what is missing */
		errf(ld->err, sizeof(ld->err),
		     "--known-hosts-only needs cert_url (APITOKEN_CERT_URL): its /authority "
		     "publishes the host CAs");
		return CERT_LOCAL;
	}
	rc = cert_host_authorities(&ld->s, &lines, &n, ld->err, sizeof(ld->err));
	if (rc == CERT_OK && n > 0 &&
	    knownhosts_render(&ld->known, ld->hosts, lines, n, ld->err, sizeof(ld->err)) !=
		APT_OK) {
		size_t len = strlen(ld->err);

		errf(ld->err + len, sizeof(ld->err) - len,
		     " (in the host_authorities of cert_url/authority; nothing was written)");
		rc = ld->known.failed ? CERT_NOMEM : CERT_UNAVAILABLE;
	}
	ld->nhost_cas = rc == CERT_OK ? n : 0;
	free_lines(lines, n);
	return rc;
}

/* The settings, the state directory under its lock, and what is in it. */
static enum cert_rc load_open(struct load *ld)
{
	enum cert_rc rc;

	if (settings_load(&ld->s, ld->err, sizeof(ld->err)) != APT_OK)
		return CERT_LOCAL;
	if ((rc = load_hosts(ld)) != CERT_OK || (rc = load_host_cas(ld)) != CERT_OK)
		return rc;
	if ((rc = state_open(&ld->st, true, ld->err, sizeof(ld->err))) != CERT_OK)
		return rc;
	if ((ld->lock = state_lock(&ld->st, ld->err, sizeof(ld->err))) < 0)
		return CERT_LOCAL;
	read_state(&ld->st, &ld->l);
	return CERT_OK;
}

/*
 * After a load: how ssh will find the certificate, or that it will not. A
 * "Loaded" followed by ssh's "Permission denied" is what a CI log shows
 * otherwise, with nothing to say why.
 */
static void say_how_ssh_finds(const struct load *ld)
{
	char *config = NULL, err[256];

	if (ld->o->quiet || ld->o->agent)
		return; /* the agent offers it to every ssh of this session */
	if (sshconfig_path(&config, err, sizeof(err)) == APT_OK && config_has_block(config))
		printf("ssh uses it through the Include block in %s.\n", config);
	else
		printf("ssh will not use it by itself: run `apitoken ssh-cert load "
		       "--write-ssh-config`%s (an Include in %s), or --agent, or give ssh "
		       "-i %s.\n",
		       /* The include is for hosts only: without them that command refuses. */
		       ld->hosts == NULL ? " with hosts set" : "",
		       config != NULL ? config : "~/.ssh/config", ld->st.key);
	free(config);
}

/* The certificate is valid for a while yet: nothing to ask for, the rest made sure of. */
static enum cert_rc load_keep(struct load *ld, time_t now)
{
	enum cert_rc rc;

	if (ld->o->refresh_only)
		return CERT_OK;
	if (ld->o->agent && !in_agent(&ld->l) &&
	    (rc = agent_load(&ld->l, NULL, now, ld->err, sizeof(ld->err))) != CERT_OK)
		return rc;
	if ((rc = write_config(ld->hosts, &ld->known, true, &ld->st, ld->o, ld->err,
			       sizeof(ld->err))) != CERT_OK)
		return rc;
	if (!ld->o->quiet)
		say_loaded(&ld->l, now, "The certificate is still valid");
	say_how_ssh_finds(ld);
	return CERT_OK;
}

/* --agent without an agent: said before anything is asked for or written. */
static enum cert_rc agent_there(char *err, size_t errlen)
{
	struct agent a;

	if (agent_connect(&a, NULL, err, errlen) != APT_OK)
		return CERT_LOCAL;
	agent_close(&a);
	return CERT_OK;
}

/* The key to certify: a new one when there is none or it is older than key_ttl. */
static enum cert_rc load_key(struct load *ld, time_t now)
{
	struct loaded *l = &ld->l;

	ld->new_key = !l->have_key || now - l->key_mtime >= ld->s.key_ttl;
	if (ld->new_key) {
		sshkey_clear(&l->key);
		if (sshkey_generate(&l->key) < 0) {
			errf(ld->err, sizeof(ld->err), "could not make a key");
			return CERT_LOCAL;
		}
		l->key_blob.len = 0;
		sshkey_put_public(&l->key_blob, &l->key);
	}
	if (l->have_cert)
		buf_append(&ld->old_blob, l->cert.blob.p, l->cert.blob.len);
	if (sshkey_public_line(&ld->publine, &l->key, KEY_COMMENT) < 0) {
		errf(ld->err, sizeof(ld->err), "out of memory");
		return CERT_NOMEM;
	}
	return CERT_OK;
}

/*
 * The issuer's certificate for the key, in ld->fresh: one we can use (for
 * our key, valid now, correctly signed, by a CA we trust) before anything
 * is written.
 */
static enum cert_rc load_cert(struct load *ld)
{
	char *tok = NULL;
	size_t len;
	enum cert_rc rc;

	if (settings_token(&ld->s, &tok, &len, ld->err, sizeof(ld->err)) != APT_OK)
		return CERT_LOCAL;
	rc = cert_issue(&ld->s, tok, len, (char *)ld->publine.p, &ld->certline, ld->err,
			sizeof(ld->err));
	free_secret(tok);
	if (rc != CERT_OK)
		return rc;
	if (sshcert_parse_line(&ld->fresh, ld->certline, strlen(ld->certline), ld->err,
			       sizeof(ld->err)) < 0)
		return CERT_BAD;
	ld->have_fresh = true;
	if (sshcert_check(&ld->fresh, ld->l.key_blob.p, ld->l.key_blob.len, (uint64_t)time(NULL),
			  ld->err, sizeof(ld->err)) < 0 ||
	    sshcert_verify(&ld->fresh, ld->err, sizeof(ld->err)) < 0)
		return CERT_BAD;
	return ca_trusted(&ld->s, &ld->st, &ld->fresh, ld->verified, sizeof(ld->verified), ld->err,
			  sizeof(ld->err));
}

/*
 * The files: the key first (a new one only), since the old certificate no
 * longer matches it anyway; then the certificate, which becomes l's.
 */
static enum cert_rc load_write(struct load *ld)
{
	struct buf file = BUF_INIT;
	enum cert_rc rc = CERT_OK;

	if (ld->new_key &&
	    (sshkey_private_file(&file, &ld->l.key, KEY_COMMENT) < 0 ||
	     file_replace_at(ld->st.dirfd, "id_ed25519", file.p, file.len, 0600) < 0 ||
	     file_replace_at(ld->st.dirfd, "id_ed25519.pub", ld->publine.p, ld->publine.len, 0600) <
		 0)) {
		errf(ld->err, sizeof(ld->err), "%.300s: %s", ld->st.key, strerror(errno));
		rc = CERT_LOCAL;
	}
	if (rc == CERT_OK) {
		file.len = 0;
		buf_appendf(&file, "%s\n", ld->certline);
		if (file.failed || file_replace_at(ld->st.dirfd, "id_ed25519-cert.pub", file.p,
						   file.len, 0600) < 0) {
			errf(ld->err, sizeof(ld->err), "%.300s: %s", ld->st.cert, strerror(errno));
			rc = CERT_LOCAL;
		}
	}
	buf_free(&file);
	if (rc != CERT_OK)
		return rc;
	if (ld->l.have_cert)
		sshcert_free(&ld->l.cert);
	ld->l.cert = ld->fresh;
	ld->l.have_cert = true;
	ld->l.have_key = true;
	ld->have_fresh = false;
	return CERT_OK;
}

/* The new certificate where ssh finds it: the agent (or the old one out of it), the config. */
static enum cert_rc load_install(struct load *ld)
{
	enum cert_rc rc;

	if (ld->o->agent && (rc = agent_load(&ld->l, &ld->old_blob, time(NULL), ld->err,
					     sizeof(ld->err))) != CERT_OK)
		return rc;
	if (!ld->o->agent && ld->old_blob.len > 0)
		agent_forget(NULL,
			     &ld->old_blob); /* our previous certificate, if an agent held it */
	if ((rc = write_config(ld->hosts, &ld->known, true, &ld->st, ld->o, ld->err,
			       sizeof(ld->err))) != CERT_OK)
		return rc;
	if (!ld->o->quiet) {
		say_loaded(&ld->l, time(NULL), "Loaded a certificate");
		printf("Its signature is valid, %s.\n", ld->verified);
	}
	say_how_ssh_finds(ld);
	return CERT_OK;
}

/*
 * --known-hosts-only: for a job that logs in with the token itself
 * (`apitoken exec`), the host CAs and an include naming them, with no
 * token and no certificate (the key and certificate too if one is loaded).
 */
static enum cert_rc load_known_hosts(struct load *ld)
{
	enum cert_rc rc;

	if (ld->nhost_cas == 0) {
		errf(ld->err, sizeof(ld->err),
		     "%.300s/authority publishes no host_authorities: there is no host CA to "
		     "write (pin the host keys from a trusted source instead, see apitoken(1))",
		     ld->s.cert_url);
		return CERT_UNAVAILABLE;
	}
	rc = write_config(ld->hosts, &ld->known, ld->l.have_key && ld->l.have_cert, &ld->st, ld->o,
			  ld->err, sizeof(ld->err));
	if (rc == CERT_OK && !ld->o->quiet)
		printf("Wrote %zu host CA key%s to %s, for ssh to verify %s.\n", ld->nhost_cas,
		       ld->nhost_cas == 1 ? "" : "s", ld->st.known_hosts, ld->hosts);
	return rc;
}

static int load(const struct opts *o)
{
	struct load ld = {.o = o, .st = {.dirfd = -1}, .lock = -1};
	time_t now = time(NULL);
	char why[256];
	enum cert_rc rc;

	rc = load_open(&ld);
	if (rc == CERT_OK && o->known_hosts_only) {
		rc = load_known_hosts(&ld);
	} else if (rc == CERT_OK && !o->new_cert &&
		   cert_good(&ld.l, now, RENEW_BEFORE, why, sizeof(why))) {
		rc = load_keep(&ld, now);
	} else {
		if (rc == CERT_OK && o->agent)
			rc = agent_there(ld.err, sizeof(ld.err));
		if (rc == CERT_OK)
			rc = load_key(&ld, now);
		if (rc == CERT_OK)
			rc = load_cert(&ld);
		if (rc == CERT_OK)
			rc = load_write(&ld);
		if (rc == CERT_OK)
			rc = load_install(&ld);
	}
	if (rc != CERT_OK)
		fprintf(stderr, "apitoken ssh-cert load: %s\n", ld.err);
	load_free(&ld);
	return cert_exit_status(rc);
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
	enum cert_rc rc = CERT_OK;

	*sig_ok = sshcert_verify(c, err, sizeof(err)) == 0;
	*pinned = false;
	if (settings_load(&s, err, sizeof(err)) == APT_OK && s.ca_key_file != NULL) {
		where = "ca_key_file";
		if (file_read_checked(s.ca_key_file, FILE_CONFIG, CA_KEYS_MAX, &text, &tlen, err,
				      sizeof(err)) != APT_OK)
			rc = CERT_LOCAL;
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
	else if (rc != CERT_OK)
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

/* What info shows of the loaded certificate, gathered before any of it is printed. */
struct cert_view {
	bool valid, match, sig_ok, pinned, in_agent;
	uint64_t left;
	char why[256], fp[SSHKEY_FP_LEN], after[SSHCERT_TIME_LEN], before[SSHCERT_TIME_LEN];
	char ca_said[600];
};

static void view_gather(const struct state *st, const struct loaded *l, time_t now,
			struct cert_view *v)
{
	ca_status(st, &l->cert, &v->sig_ok, &v->pinned, v->ca_said, sizeof(v->ca_said));
	v->match = l->have_key && sshcert_key_is(&l->cert, l->key_blob.p, l->key_blob.len);
	sshcert_ca_fingerprint(&l->cert, v->fp);
	sshcert_format_time(l->cert.valid_after, v->after);
	sshcert_format_time(l->cert.valid_before, v->before);
	v->left = sshcert_seconds_left(&l->cert, (uint64_t)now);
	v->in_agent = in_agent(l);
}

static void view_json(const struct state *st, const struct sshcert *c, const struct cert_view *v)
{
	json_t *j = json_object(), *pr = json_array();
	char *text;

	for (size_t i = 0; i < c->nprincipals; i++)
		json_array_append_new(pr, json_string(c->principals[i]));
	json_object_set_new(j, "file", json_string(st->cert));
	json_object_set_new(j, "type", json_string(sshcert_type_name(c)));
	json_object_set_new(j, "key_id", json_string(c->key_id));
	json_object_set_new(j, "serial", json_integer((json_int_t)c->serial));
	json_object_set_new(j, "principals", pr);
	json_object_set_new(j, "valid_after", json_string(v->after));
	json_object_set_new(j, "valid_before", json_string(v->before));
	json_object_set_new(j, "seconds_left", json_integer((json_int_t)v->left));
	json_object_set_new(j, "critical_options", options_json(c->options, c->noptions));
	json_object_set_new(j, "extensions", options_json(c->extensions, c->nextensions));
	json_object_set_new(j, "ca_fingerprint", json_string(v->fp));
	json_object_set_new(j, "signature_valid", json_boolean(v->sig_ok));
	json_object_set_new(j, "ca_pinned", json_boolean(v->pinned));
	json_object_set_new(j, "key_matches", json_boolean(v->match));
	json_object_set_new(j, "in_agent", json_boolean(v->in_agent));
	json_object_set_new(j, "valid", json_boolean(v->valid));
	if (!v->valid)
		json_object_set_new(j, "problem", json_string(v->why));
	text = json_dumps(j, JSON_INDENT(2));
	puts(text ? text : "{}");
	free(text);
	json_decref(j);
}

static void view_text(const struct state *st, const struct sshcert *c, const struct cert_view *v)
{
	printf("Certificate:      %s\n", st->cert);
	printf("Type:             %s %s\n", sshcert_type_name(c), c->type);
	printf("Key ID:           %s\n", c->key_id);
	printf("Serial:           %llu\n", (unsigned long long)c->serial);
	printf("Principals:      ");
	for (size_t i = 0; i < c->nprincipals; i++)
		printf(" %s", c->principals[i]);
	printf("\nValid:            from %s to %s", v->after, v->before);
	if (v->valid)
		printf(" (%llu s left)\n", (unsigned long long)v->left);
	else
		printf(" (NOT VALID: %s)\n", v->why);
	printf("Critical options:");
	for (size_t i = 0; i < c->noptions; i++)
		printf(" %s%s%s", c->options[i].name, c->options[i].has_value ? "=" : "",
		       c->options[i].value);
	printf("%s\nExtensions:      ", c->noptions ? "" : " (none)");
	for (size_t i = 0; i < c->nextensions; i++)
		printf(" %s", c->extensions[i].name);
	printf("%s\n", c->nextensions ? "" : " (none)");
	printf("Signed by CA:     %s (%s)\n", v->fp, v->ca_said);
	printf("Matches the key:  %s\n", v->match ? "yes" : "NO");
	printf("In the agent:     %s\n", v->in_agent ? "yes" : "no");
}

static int info(const struct opts *o)
{
	struct state st = {.dirfd = -1};
	struct cert_view v = {0};
	struct loaded l;
	time_t now = time(NULL);
	char err[512];
	enum cert_rc rc = state_open(&st, false, err, sizeof(err));

	if (rc != CERT_OK) {
		if (o->check)
			return EXIT_NO;
		fprintf(stderr, "apitoken ssh-cert info: %s\n", err);
		return cert_exit_status(rc);
	}
	read_state(&st, &l);
	v.valid = cert_good(&l, now, 0, v.why, sizeof(v.why));
	if (o->check) {
		/* the answer is the exit status alone */
	} else if (!l.have_cert) {
		fprintf(stderr, "No certificate loaded (%s): run apitoken ssh-cert load.\n",
			l.cert_err[0] ? l.cert_err : st.cert);
	} else {
		view_gather(&st, &l, now, &v);
		if (o->json)
			view_json(&st, &l.cert, &v);
		else
			view_text(&st, &l.cert, &v);
	}
	state_close(&st);
	loaded_free(&l);
	return v.valid ? 0 : EXIT_NO;
}

/* --- clear ------------------------------------------------------------------------ */

static int clear(const struct opts *o)
{
	static const char *const files[] = {"id_ed25519-cert.pub", "id_ed25519", "id_ed25519.pub",
					    "ssh_config", KNOWNHOSTS_FILE};
	struct state st = {.dirfd = -1};
	struct loaded l;
	char err[512], *config = NULL;
	bool changed = false;
	int from_agent;
	enum cert_rc rc = state_open(&st, false, err, sizeof(err));

	if (rc != CERT_OK) {
		fprintf(stderr, "apitoken ssh-cert clear: %s\n", err);
		return cert_exit_status(rc);
	}
	read_state(&st, &l);
	/* Before the key file goes: it is how our identities are recognised. */
	if ((from_agent = agent_forget_all(&l, err, sizeof(err))) < 0) {
		fprintf(stderr, "apitoken ssh-cert clear: the agent: %s\n", err);
		rc = CERT_LOCAL;
	}
	if (sshconfig_path(&config, err, sizeof(err)) != APT_OK ||
	    sshconfig_remove(config, &changed, err, sizeof(err)) != APT_OK) {
		fprintf(stderr, "apitoken ssh-cert clear: %s\n", err);
		rc = CERT_LOCAL;
	}
	for (size_t i = 0; st.dirfd >= 0 && i < sizeof(files) / sizeof(files[0]); i++)
		if (unlinkat(st.dirfd, files[i], 0) != 0 && errno != ENOENT) {
			fprintf(stderr, "apitoken ssh-cert clear: %s/%s: %s\n", st.dir, files[i],
				strerror(errno));
			rc = CERT_LOCAL;
		}
	/* The pinned CAs survive a plain clear, as known_hosts survives a new key. */
	if (o->forget_ca && st.dirfd >= 0 && unlinkat(st.dirfd, PINNED_CAS, 0) != 0 &&
	    errno != ENOENT) {
		fprintf(stderr, "apitoken ssh-cert clear: %s: %s\n", st.cas, strerror(errno));
		rc = CERT_LOCAL;
	}
	if (rc == CERT_OK && !o->quiet) {
		char agent[64] = "";

		if (from_agent == 1)
			snprintf(agent, sizeof(agent), ", the agent's identity");
		else if (from_agent > 1)
			snprintf(agent, sizeof(agent), ", the agent's %d identities", from_agent);
		printf("Cleared the certificate files%s%s%s.\n", agent,
		       o->forget_ca ? ", the pinned CA keys" : "",
		       changed ? " and the Include block in the ssh config" : "");
	}
	free(config);
	loaded_free(&l);
	state_close(&st);
	return cert_exit_status(rc);
}

/* --- the command -------------------------------------------------------------------- */

int cert_exit_status(enum cert_rc rc)
{
	switch (rc) {
	case CERT_OK:
		return 0;
	case CERT_REJECTED:
		return EXIT_REJECTED;
	case CERT_UNAVAILABLE:
		return EXIT_UNAVAILABLE;
	case CERT_BAD:
		return EXIT_BADCERT;
	case CERT_LOCAL:
	case CERT_NOMEM:
		return EXIT_CONFIG;
	}
	return EXIT_CONFIG;
}

/* Whether the help for sub (NULL: every subcommand) shows name's options. */
static bool help_shows(const char *sub, const char *name)
{
	return sub == NULL || strcmp(sub, name) == 0;
}

/* The option lists, by subcommand; NULL: all of them. */
static void usage(FILE *f, const char *sub)
{
	fputs("usage: apitoken ssh-cert load [--new] [--refresh-only] [--agent] "
	      "[--write-ssh-config]\n"
	      "                              [-q] [--no-interaction]\n"
	      "       apitoken ssh-cert load --known-hosts-only [-q] [--no-interaction]\n"
	      "       apitoken ssh-cert info [--json] [--check]\n"
	      "       apitoken ssh-cert clear [--forget-ca] [-q]\n",
	      f);
	if (help_shows(sub, "load"))
		fputs(
		    "\n"
		    "load: make sure a valid SSH certificate for the token is in the state\n"
		    "directory (~/.local/state/apitoken/ssh), asking cert_url only when needed\n"
		    "  --new               ask for a new certificate even if the one there is "
		    "good\n"
		    "  --refresh-only      while the certificate is good, do nothing at all\n"
		    "  --agent             also load key and certificate into SSH_AUTH_SOCK's "
		    "agent\n"
		    "  --write-ssh-config  add the Include block to ~/.ssh/config without asking\n"
		    "  --known-hosts-only  only the issuer's host CAs (known_hosts) and the "
		    "Include\n"
		    "                      block, no token or certificate (for `apitoken exec` "
		    "jobs)\n"
		    "  -q, --quiet         print nothing on success\n"
		    "  --no-interaction    never ask a question\n",
		    f);
	if (help_shows(sub, "info"))
		fputs("\n"
		      "info: show the certificate there, without a request; exit 1 if not valid\n"
		      "  --json              one JSON object\n"
		      "  --check             print nothing; exit 0 valid, 1 not\n",
		      f);
	if (help_shows(sub, "clear"))
		fputs("\n"
		      "clear: remove what load made (files, agent identity, Include block)\n"
		      "  --forget-ca         forget the pinned CA keys too\n"
		      "  -q, --quiet         print nothing on success\n",
		      f);
	fputs("\n"
	      "  --help, -h          this text (`ssh-cert SUB --help`: SUB's options)\n"
	      "\n"
	      "Exit status: 0 ok, 1 no valid certificate (info), 2 usage, 3 settings, files or\n"
	      "agent, 4 refused by the issuer, 5 issuer unavailable, 6 a bad certificate.\n"
	      "See apitoken(1).\n",
	      f);
}

static int usage_error(void)
{
	usage(stderr, NULL);
	return EXIT_USAGE;
}

int cmd_ssh_cert(int argc, char **argv)
{
	struct opts o = {0};
	const char *sub = argc > 1 ? argv[1] : "";
	bool known =
	    strcmp(sub, "load") == 0 || strcmp(sub, "info") == 0 || strcmp(sub, "clear") == 0;

	if (argc == 2 && help_option(sub)) {
		usage(stdout, NULL);
		return 0;
	}
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		bool is_load = strcmp(sub, "load") == 0, is_info = strcmp(sub, "info") == 0;

		/* Help wins over the options around it; never for an unknown subcommand. */
		if (known && help_option(a)) {
			usage(stdout, sub);
			return 0;
		}
		if (is_load && strcmp(a, "--new") == 0)
			o.new_cert = true;
		else if (is_load && strcmp(a, "--refresh-only") == 0)
			o.refresh_only = true;
		else if (is_load && strcmp(a, "--agent") == 0)
			o.agent = true;
		else if (is_load && strcmp(a, "--write-ssh-config") == 0)
			o.write_config = true;
		else if (is_load && strcmp(a, "--known-hosts-only") == 0)
			o.known_hosts_only = o.write_config = true;
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
			return usage_error();
	}
	if (strcmp(sub, "load") == 0)
		return load(&o);
	if (strcmp(sub, "info") == 0)
		return info(&o);
	if (strcmp(sub, "clear") == 0)
		return clear(&o);
	return usage_error();
}
