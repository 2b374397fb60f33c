/*
 * The on-disk token cache (see cache.h). Every file is reached through the
 * directory's descriptor with O_NOFOLLOW and checked on the open descriptor;
 * every write goes through a temporary file, fsync and rename, so a reader
 * sees a whole entry or none. Nothing here decides a login: the caller
 * applies the policy to what an entry holds. Entry names and MACs are bound
 * to the configuration (cache_bind); backoff markers are per configuration.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cache.h"
#include "file.h"
#include "decimal.h"
#include "hex.h"
#include "proto.h"
#include "errmsg.h"
#include "usermap.h"

/* 2: entries carry the tag of their configuration (DESIGN.md §6 ★2). */
#define ENTRY_MAGIC   "apitoken-cache-entry 2"
#define BIND_MAGIC    "apitoken-cache-config 1"
#define BACKOFF_MAGIC "apitoken-backoff 1"
#define BACKOFF_LOCK  ".lock-backoff"
#define BACKOFF_WAIT  1000 /* ms for the marker's lock; updates are a read and a write */
#define MAC_LINE      (4 + SHA256_DIGEST_LEN * 2 + 1) /* "mac " hex "\n" */
#define PRUNE_EVERY   60			      /* seconds between full scans */

static bool is_entry_name(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == CACHE_NAME_LEN;
}

/*
 * Reads a whole small file under dirfd, checked as kind on its descriptor
 * (FILE_SECRET for the key); binary is fine. -1 with errno ENOENT when it
 * is not there, anything else when it is there but unsafe or too big.
 */
static int read_at(int dirfd, const char *name, enum file_kind kind, size_t max, struct buf *out)
{
	int fd = file_open_checked_at(dirfd, name, kind, NULL, 0);
	int r, e;

	if (fd < 0)
		return -1;
	r = file_read_fd(fd, max, 0, out, name, NULL, 0);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

static int cache_bind(struct cache *c);

/* The host key: read it, or make it once; of two racing makers, link() picks one. */
static int load_key(struct cache *c, bool create)
{
	static const struct file_replace once = {
	    .mode = 0600, .tmp_prefix = ".key-", .exclusive = true};
	struct buf k = BUF_INIT;
	int r = -1;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (read_at(c->dirfd, ".key", FILE_SECRET, CACHE_KEY_LEN, &k) == 0) {
			if (k.len == CACHE_KEY_LEN) {
				memcpy(c->key, k.p, CACHE_KEY_LEN);
				r = 0;
			}
			break;
		}
		buf_free(&k);
		if (!create || errno != ENOENT ||
		    getrandom(c->key, CACHE_KEY_LEN, 0) != CACHE_KEY_LEN)
			break;
		if (file_replace_with(c->dirfd, ".key", c->key, CACHE_KEY_LEN, &once) == 0) {
			r = 0;
			break;
		}
		explicit_bzero(c->key, CACHE_KEY_LEN);
		/* EEXIST: another login made the key first; use theirs. */
		if (errno != EEXIST)
			break;
	}
	buf_free(&k);
	return r;
}

/*
 * Both opens: the directory and its key. suffix ends every message, as the
 * caller wants its failure read ("; not used" for a login, which goes on
 * without a cache). keyless (admin): no directory is not an error but
 * *state CACHE_DIR_MISSING, and a safe directory without .key is opened with
 * a random key no entry was made with, so every entry reads as invalid,
 * which is what it is, and flush can still clear them.
 */
static enum apt_rc open_cache(struct cache *c, const struct apt_config *cfg, bool create,
			      bool keyless, enum cache_dir_state *state, const char *suffix,
			      char *err, size_t errlen)
{
	const char *path = cfg->cache_dir;
	struct stat st;

	memset(c, 0, sizeof(*c));
	c->dirfd = -1;
	c->cfg = cfg;
	*state = CACHE_DIR_MISSING;
	c->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	/* Made on first use only: a login that finds it pays no mkdir. */
	if (c->dirfd < 0 && errno == ENOENT && create) {
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			errf(err, errlen, "cache %s: %s%s", path, strerror(errno), suffix);
			return APT_SERVICE;
		}
		c->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (c->dirfd < 0 && errno == ENOENT && keyless)
		return APT_OK; /* nothing cached yet */
	if (c->dirfd < 0) {
		errf(err, errlen, "cache %s: %s%s", path,
		     errno == ELOOP || errno == ENOTDIR
			 ? "not a directory (or a symbolic link); cache_dir must name a real "
			   "directory, owned by root, mode 0700"
			 : strerror(errno),
		     suffix);
		return APT_SERVICE;
	}
	if (fstat(c->dirfd, &st) != 0 || !S_ISDIR(st.st_mode)) {
		errf(err, errlen, "cache %s: not a usable directory%s", path, suffix);
		cache_close(c);
		return APT_SERVICE;
	}
	/* Whoever else could write it could plant entries: say so, and the fix. */
	if (file_trust(&st) != FILE_TRUSTED) {
		if (file_trust(&st) == FILE_OTHER_OWNER)
			errf(err, errlen, "cache %s: owned by uid %u, not root (chown root %s)%s",
			     path, (unsigned)st.st_uid, path, suffix);
		else
			errf(err, errlen, "cache %s: writable by group or others (chmod 700 %s)%s",
			     path, path, suffix);
		cache_close(c);
		return APT_SERVICE;
	}
	*state = CACHE_DIR_READY;
	if (load_key(c, create) < 0) {
		/* Gone, not unusable: an admin may delete .key to void every entry at once. */
		if (!keyless || fstatat(c->dirfd, ".key", &st, AT_SYMLINK_NOFOLLOW) == 0 ||
		    errno != ENOENT || getrandom(c->key, CACHE_KEY_LEN, 0) != CACHE_KEY_LEN) {
			errf(err, errlen, "cache %s: no usable host key (.key)%s", path, suffix);
			cache_close(c);
			*state = CACHE_DIR_MISSING;
			return APT_SERVICE;
		}
		*state = CACHE_DIR_NO_KEY;
	}
	if (cache_bind(c) < 0) {
		errf(err, errlen, "cache %s: out of memory", path);
		cache_close(c);
		*state = CACHE_DIR_MISSING;
		return APT_NOMEM;
	}
	return APT_OK;
}

enum apt_rc cache_open(struct cache *c, const struct apt_config *cfg, bool create, char *err,
		       size_t errlen)
{
	enum cache_dir_state state;

	return open_cache(c, cfg, create, false, &state, "; not used", err, errlen);
}

enum apt_rc cache_open_admin(struct cache *c, const struct apt_config *cfg,
			     enum cache_dir_state *state, char *err, size_t errlen)
{
	return open_cache(c, cfg, false, true, state, "", err, errlen);
}

void cache_close(struct cache *c)
{
	if (c->dirfd >= 0)
		close(c->dirfd);
	c->dirfd = -1;
	explicit_bzero(c->key, sizeof(c->key));
	explicit_bzero(c->bind, sizeof(c->bind));
}

/*
 * The settings that shape what an entry says (DESIGN.md §6 ★2): which check
 * the helper makes, at which endpoint, as which client, and by which names it
 * takes the claims out of the answer. A new answer-shaping key (verify =
 * userinfo and its URL, user_map's content) is one more row here; its value
 * goes in as it is. Lifetimes and the policy are not here: both are applied
 * from the config in force at every read.
 */
static const char *bind_verify(const struct apt_config *cfg)
{
	return config_verify(cfg);
}
/* introspection_url or userinfo_url, whichever verify uses. */
static const char *bind_endpoint(const struct apt_config *cfg)
{
	return config_endpoint(cfg);
}
static const char *bind_client_id(const struct apt_config *cfg)
{
	return cfg->client_id;
}
static const char *bind_username_claim(const struct apt_config *cfg)
{
	return cfg->username_claim;
}
static const char *bind_ip_ranges_claim(const struct apt_config *cfg)
{
	return cfg->ip_ranges_claim;
}
static const char *bind_scope_claim(const struct apt_config *cfg)
{
	return cfg->scope_claim;
}

/* The map's bytes, not its path: an edited map voids what was cached under the old one. */
static const char *bind_user_map(const struct apt_config *cfg)
{
	return cfg->usermap != NULL ? cfg->usermap->digest : NULL;
}

static const struct {
	const char *key;
	const char *(*value)(const struct apt_config *cfg); /* NULL: not set */
} bind_inputs[] = {
    {"verify", bind_verify},
    {"endpoint", bind_endpoint},
    {"client_id", bind_client_id},
    {"username_claim", bind_username_claim},
    {"ip_ranges_claim", bind_ip_ranges_claim},
    {"scope_claim", bind_scope_claim},
    {"user_map", bind_user_map},
};

/*
 * bind = HMAC(host key, the inputs as one length-prefixed proto message, so
 * no two settings encode alike); it keys entry names and never leaves memory.
 * The tag, SHA-256(bind), is what entries and marker names carry: it tells
 * configurations apart and says nothing about bind or the settings
 * (DESIGN.md §6 ★2). Sets c->bind and c->tag; 0, or -1 out of memory.
 */
static int cache_bind(struct cache *c)
{
	struct buf b = BUF_INIT;
	unsigned char tag[SHA256_DIGEST_LEN];

	proto_begin(&b, BIND_MAGIC);
	for (size_t i = 0; i < sizeof(bind_inputs) / sizeof(bind_inputs[0]); i++)
		proto_put_str(&b, bind_inputs[i].key, bind_inputs[i].value(c->cfg));
	if (proto_end(&b) < 0) {
		buf_free(&b);
		return -1;
	}
	hmac_sha256(c->key, CACHE_KEY_LEN, b.p, b.len, c->bind);
	buf_free(&b);
	sha256(c->bind, sizeof(c->bind), tag);
	hex_encode(tag, sizeof(tag), c->tag);
	return 0;
}

void cache_name(const struct cache *c, const char *token, size_t len, char name[CACHE_NAME_LEN + 1])
{
	unsigned char mac[SHA256_DIGEST_LEN];

	hmac_sha256(c->bind, sizeof(c->bind), token, len, mac);
	hex_encode(mac, sizeof(mac), name);
	explicit_bzero(mac, sizeof(mac));
}

/*
 * The MAC binds an entry to its name: a valid entry copied under another name
 * is invalid. -1 when out of memory: there is then no MAC to compare with (a
 * stand-in value would be one anyone could write into a file).
 */
static int entry_mac(const struct cache *c, const char *name, const unsigned char *msg, size_t len,
		     char hex[SHA256_DIGEST_LEN * 2 + 1])
{
	struct buf b = BUF_INIT;
	unsigned char mac[SHA256_DIGEST_LEN];

	buf_append(&b, name, strlen(name));
	buf_append(&b, "\n", 1);
	buf_append(&b, msg, len);
	if (b.failed) {
		buf_free(&b);
		return -1;
	}
	hmac_sha256(c->key, CACHE_KEY_LEN, b.p, b.len, mac);
	hex_encode(mac, sizeof(mac), hex);
	explicit_bzero(mac, sizeof(mac));
	buf_free(&b);
	return 0;
}

static bool equal_ct(const char *a, const char *b, size_t n)
{
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/*
 * The MAC is under the host key, so the admin commands can verify entries of
 * every configuration; a login reads only its own (any_config false): the
 * name it computed, holding its own tag.
 */
static int read_entry(const struct cache *c, const char *name, bool any_config,
		      struct cache_entry *e)
{
	struct buf b = BUF_INIT;
	struct proto_msg m;
	char mac[SHA256_DIGEST_LEN * 2 + 1], kind[16];
	long v;
	size_t mlen;
	int r = -1;

	memset(e, 0, sizeof(*e));
	if (!is_entry_name(name) || read_at(c->dirfd, name, FILE_CONFIG, CACHE_ENTRY_MAX, &b) < 0 ||
	    b.len < MAC_LINE)
		goto out;
	mlen = b.len - MAC_LINE;
	if (memcmp(b.p + mlen, "mac ", 4) != 0 || b.p[b.len - 1] != '\n')
		goto out;
	if (entry_mac(c, name, b.p, mlen, mac) < 0 ||
	    !equal_ct(mac, (const char *)b.p + mlen + 4, SHA256_DIGEST_LEN * 2))
		goto out;
	if (proto_parse(ENTRY_MAGIC, b.p, mlen, &m) < 0 ||
	    proto_get_str(&m, "kind", kind, sizeof(kind)) < 0 ||
	    proto_get_str(&m, "fingerprint", e->fingerprint, sizeof(e->fingerprint)) < 0 ||
	    proto_get_str(&m, "config", e->config, sizeof(e->config)) < 0 ||
	    strlen(e->config) != CACHE_TAG_LEN)
		goto out;
	e->other_config = !equal_ct(e->config, c->tag, CACHE_TAG_LEN);
	if (e->other_config && !any_config)
		goto out;
	if (strcmp(kind, "positive") == 0)
		e->kind = CACHE_POSITIVE;
	else if (strcmp(kind, "negative") == 0)
		e->kind = CACHE_NEGATIVE;
	else
		goto out;
	if (proto_get_long(&m, "fetched", 0, 1L << 40, &v) < 0)
		goto out;
	e->fetched = v;
	if (claims_get(&m, &e->claims) < 0)
		goto out;
	cache_lifetimes(c->cfg, e);
	r = 0;
out:
	if (r < 0)
		cache_entry_free(e);
	buf_free(&b);
	return r;
}

int cache_read(const struct cache *c, const char *name, struct cache_entry *e)
{
	return read_entry(c, name, false, e);
}

enum cache_state cache_entry_state(const struct cache_entry *e, time_t now)
{
	if (e->fetched > now + 60)
		return CACHE_EXPIRED;
	if (now < e->fresh_until)
		return CACHE_FRESH;
	if (e->kind == CACHE_POSITIVE && now < e->grace_until)
		return CACHE_GRACE;
	return CACHE_EXPIRED;
}

/*
 * From the config in force now, not the one at fetch time: an admin who
 * lowers cache_ttl or offline_grace after an incident is obeyed at once.
 */
void cache_lifetimes(const struct apt_config *cfg, struct cache_entry *e)
{
	const struct claim *exp = &e->claims.c[CLAIM_EXP];

	if (e->kind == CACHE_NEGATIVE) {
		e->fresh_until = e->grace_until = e->fetched + cfg->negative_cache_ttl;
		return;
	}
	e->fresh_until = e->fetched + cfg->cache_ttl;
	e->grace_until = e->fresh_until + cfg->offline_grace;
	/* Never past the token's own expiry; an exp we cannot read gives no lifetime. */
	if (exp->type == CLAIM_INT) {
		if (exp->n < e->fresh_until)
			e->fresh_until = (time_t)exp->n;
		if (exp->n < e->grace_until)
			e->grace_until = (time_t)exp->n;
	} else if (exp->type != CLAIM_ABSENT) {
		e->fresh_until = e->grace_until = 0;
	}
}

void cache_entry_free(struct cache_entry *e)
{
	claims_free(&e->claims);
}

/*
 * Bookkeeping in .prune: "TIME COUNT", the last full scan and the writes
 * since. False when absent, unreadable or out of range: anyone who could
 * write it could write anything, and the arithmetic below must not overflow.
 */
static bool prune_read(const struct cache *c, time_t *when, long *count)
{
	struct buf b = BUF_INIT;
	long long t = 0, n = 0;
	char *f[2];
	bool ok = false;

	/* Exactly what prune_note writes: "TIME COUNT\n". */
	if (read_at(c->dirfd, ".prune", FILE_CONFIG, 64, &b) == 0 && buf_terminate(&b) == 0 &&
	    b.len > 0 && b.p[b.len - 1] == '\n' && strlen((char *)b.p) == b.len) {
		b.p[b.len - 1] = '\0';
		ok = decimal_fields((char *)b.p, f, 2) == 0 &&
		     decimal_parse(f[0], strlen(f[0]), 0, 1LL << 40, &t) == 0 &&
		     decimal_parse(f[1], strlen(f[1]), 0, 10000000000LL, &n) == 0;
	}

	buf_free(&b);
	*when = ok ? (time_t)t : 0;
	*count = ok ? (long)n : 0;
	return ok;
}

static bool prune_due(const struct cache *c, time_t now, long *count)
{
	time_t t;

	if (!prune_read(c, &t, count) || t > now)
		return true;
	return now - t >= PRUNE_EVERY || *count + 1 > c->cfg->cache_max_entries;
}

static void prune_note(const struct cache *c, time_t when, long count)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "%lld %ld\n", (long long)when, count);

	file_replace_at(c->dirfd, ".prune", line, (size_t)n, 0600);
}

/* Counts a write since the last scan, keeping that scan's time. */
static void prune_bump(const struct cache *c, long count)
{
	time_t t;
	long n;

	if (prune_read(c, &t, &n))
		prune_note(c, t, count);
}

int cache_format_entry(const struct cache *c, const char *name, const struct cache_entry *e,
		       struct buf *out)
{
	char mac[SHA256_DIGEST_LEN * 2 + 1];
	size_t start = out->len;

	proto_begin(out, ENTRY_MAGIC);
	proto_put_str(out, "kind", e->kind == CACHE_POSITIVE ? "positive" : "negative");
	proto_put_long(out, "fetched", (long)e->fetched);
	proto_put_str(out, "fingerprint", e->fingerprint);
	proto_put_str(out, "config", c->tag);
	if (claims_put(out, &e->claims) < 0 || proto_end(out) < 0)
		return -1;
	if (entry_mac(c, name, out->p + start, out->len - start, mac) < 0)
		return -1;
	buf_appendf(out, "mac %s\n", mac);
	return out->failed ? -1 : 0;
}

int cache_write(struct cache *c, const char *name, const struct cache_entry *e)
{
	struct buf b = BUF_INIT;
	time_t now = time(NULL);
	long count;
	int r;

	/* An entry cache_read would refuse as too big is not worth a write (and an fsync). */
	r = cache_format_entry(c, name, e, &b) < 0 || b.len > CACHE_ENTRY_MAX
		? -1
		: file_replace_at(c->dirfd, name, b.p, b.len, 0600);
	if (r == 0) {
		/* Opportunistic pruning: a full scan only when due, else count the write. */
		if (prune_due(c, now, &count))
			prune_note(c, now, cache_prune(c, now));
		else
			prune_bump(c, count + 1);
	}
	buf_free(&b);
	return r;
}

int cache_lock(const struct cache *c, const char *name, long wait_ms)
{
	char lock[16];

	snprintf(lock, sizeof(lock), ".lock-%.2s", name);
	return file_lock_at(c->dirfd, lock, wait_ms);
}

void cache_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}

/*
 * --- backoff markers ---------------------------------------------------------------
 *
 * One file per configuration, ".backoff-" and 16 hex of its tag, a proto
 * message under a MAC like an entry's (bound to the file name):
 *   host     "UNTIL REASON"                     the host-wide backoff
 *   tN       "NAME UNTIL AT COUNTED REASON"     a token's last failure, by entry name
 * Read whole (at most CACHE_BACKOFF_FILE_MAX), changed under .lock-backoff,
 * replaced atomically. Anything that does not verify, parse or fall within
 * the bounds we write is dropped: a marker can only ever hold requests back.
 */

struct fail_rec {
	char name[CACHE_NAME_LEN + 1];
	long long until, at;
	bool counted;
	char reason[CACHE_REASON_LEN];
};

struct backoff_marker {
	long long host_until;
	char host_reason[CACHE_REASON_LEN];
	struct fail_rec r[CACHE_FAIL_RECORDS];
	size_t n;
};

void cache_backoff_file(const struct cache *c, char out[32])
{
	snprintf(out, 32, ".backoff-%.16s", c->tag);
}

static bool reason_word(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz_");

	return n > 0 && s[n] == '\0' && n < CACHE_REASON_LEN;
}

/* A deadline we could have written at now: in the future, at most the cap away. */
static bool until_ok(long long until, time_t now)
{
	return until > now && until - now <= CACHE_BACKOFF_MAX;
}

static void marker_load(const struct cache *c, time_t now, struct backoff_marker *mk)
{
	struct buf b = BUF_INIT;
	struct proto_msg m;
	char file[32], mac[SHA256_DIGEST_LEN * 2 + 1], v[160], *fld[5];
	size_t mlen;

	memset(mk, 0, sizeof(*mk));
	cache_backoff_file(c, file);
	if (read_at(c->dirfd, file, FILE_CONFIG, CACHE_BACKOFF_FILE_MAX, &b) < 0 ||
	    b.len < MAC_LINE)
		goto out;
	mlen = b.len - MAC_LINE;
	if (memcmp(b.p + mlen, "mac ", 4) != 0 || b.p[b.len - 1] != '\n' ||
	    entry_mac(c, file, b.p, mlen, mac) < 0 ||
	    !equal_ct(mac, (const char *)b.p + mlen + 4, SHA256_DIGEST_LEN * 2) ||
	    proto_parse(BACKOFF_MAGIC, b.p, mlen, &m) < 0)
		goto out;
	/* "UNTIL REASON", as marker_store writes it. */
	if (proto_get_str(&m, "host", v, sizeof(v)) == 0 && decimal_fields(v, fld, 2) == 0 &&
	    decimal_parse(fld[0], strlen(fld[0]), LLONG_MIN, LLONG_MAX, &mk->host_until) == 0 &&
	    reason_word(fld[1]) && until_ok(mk->host_until, now))
		memcpy(mk->host_reason, fld[1], strlen(fld[1]) + 1); /* reason_word: it fits */
	else
		mk->host_until = 0;
	for (int i = 0; i < CACHE_FAIL_RECORDS; i++) {
		struct fail_rec *f = &mk->r[mk->n];
		char key[8];
		long long counted;

		/* "NAME UNTIL AT COUNTED REASON", as marker_store writes it. */
		snprintf(key, sizeof(key), "t%d", i);
		if (proto_get_str(&m, key, v, sizeof(v)) < 0 || decimal_fields(v, fld, 5) < 0 ||
		    !is_entry_name(fld[0]) ||
		    decimal_parse(fld[1], strlen(fld[1]), LLONG_MIN, LLONG_MAX, &f->until) < 0 ||
		    decimal_parse(fld[2], strlen(fld[2]), LLONG_MIN, LLONG_MAX, &f->at) < 0 ||
		    decimal_parse(fld[3], strlen(fld[3]), 0, 1, &counted) < 0 ||
		    !reason_word(fld[4]) || f->at < 0 || f->at > now + 60 || f->until < f->at ||
		    f->until - f->at > CACHE_BACKOFF_MAX)
			continue;
		memcpy(f->name, fld[0], CACHE_NAME_LEN + 1); /* is_entry_name: it fits */
		f->counted = counted == 1;
		memcpy(f->reason, fld[4], strlen(fld[4]) + 1);
		mk->n++;
	}
out:
	buf_free(&b);
}

static void marker_store(const struct cache *c, const struct backoff_marker *mk)
{
	struct buf b = BUF_INIT;
	char file[32], mac[SHA256_DIGEST_LEN * 2 + 1], v[160];

	cache_backoff_file(c, file);
	proto_begin(&b, BACKOFF_MAGIC);
	if (mk->host_until != 0) {
		snprintf(v, sizeof(v), "%lld %s", mk->host_until, mk->host_reason);
		proto_put_str(&b, "host", v);
	}
	for (size_t i = 0; i < mk->n; i++) {
		const struct fail_rec *f = &mk->r[i];
		char key[8];

		snprintf(key, sizeof(key), "t%zu", i);
		snprintf(v, sizeof(v), "%s %lld %lld %d %s", f->name, f->until, f->at,
			 f->counted ? 1 : 0, f->reason);
		proto_put_str(&b, key, v);
	}
	if (proto_end(&b) == 0 && entry_mac(c, file, b.p, b.len, mac) == 0) {
		buf_appendf(&b, "mac %s\n", mac);
		if (!b.failed && b.len <= CACHE_BACKOFF_FILE_MAX)
			file_replace_at(c->dirfd, file, b.p, b.len, 0600);
	}
	buf_free(&b);
}

static long clamp_secs(long retry_after, long def)
{
	long secs = retry_after < 0 ? def : retry_after;

	return secs < 1 ? 1 : secs > CACHE_BACKOFF_MAX ? CACHE_BACKOFF_MAX : secs;
}

bool cache_backoff_get(const struct cache *c, const char *name, time_t now, struct cache_backoff *b)
{
	struct backoff_marker mk;

	memset(b, 0, sizeof(*b));
	marker_load(c, now, &mk);
	/* The token's own failure first: its word is what a waiter behind it reports. */
	for (size_t i = 0; name != NULL && i < mk.n; i++)
		if (strcmp(mk.r[i].name, name) == 0 && until_ok(mk.r[i].until, now)) {
			b->until = (time_t)mk.r[i].until;
			snprintf(b->reason, sizeof(b->reason), "%s", mk.r[i].reason);
			return true;
		}
	if (mk.host_until == 0)
		return false;
	b->until = (time_t)mk.host_until;
	b->host_wide = true;
	snprintf(b->reason, sizeof(b->reason), "%s", mk.host_reason);
	return true;
}

time_t cache_backoff_until(const struct cache *c, time_t now)
{
	struct cache_backoff b;

	return cache_backoff_get(c, NULL, now, &b) ? b.until : 0;
}

bool cache_backoff_active(const struct cache *c, time_t now)
{
	return cache_backoff_until(c, now) != 0;
}

/* Keeps the records that still matter at now, and room for one more. */
static void marker_trim(struct backoff_marker *mk, const char *name, time_t now)
{
	size_t k = 0;

	for (size_t i = 0; i < mk->n; i++) {
		const struct fail_rec *f = &mk->r[i];

		if ((name != NULL && strcmp(f->name, name) == 0) ||
		    (f->until <= now && f->at <= now - CACHE_FAIL_WINDOW))
			continue;
		mk->r[k++] = *f;
	}
	mk->n = k;
	while (mk->n >= CACHE_FAIL_RECORDS) {
		size_t oldest = 0;

		for (size_t i = 1; i < mk->n; i++)
			if (mk->r[i].at < mk->r[oldest].at)
				oldest = i;
		mk->r[oldest] = mk->r[--mk->n];
	}
}

void cache_fail_note(const struct cache *c, const char *name, time_t now, long retry_after,
		     const char *reason, enum cache_fail kind)
{
	struct backoff_marker mk;
	const char *word = reason != NULL && reason_word(reason) ? reason : "internal";
	int lock = file_lock_at(c->dirfd, BACKOFF_LOCK, BACKOFF_WAIT);
	long host = 0;
	int distinct = 0;

	/*
	 * Without the lock (some other login held it a whole second) the update
	 * is still made, atomically: at worst a concurrent one is lost, which
	 * only ever means less backoff.
	 */
	marker_load(c, now, &mk);
	marker_trim(&mk, name, now);
	if (name != NULL && is_entry_name(name)) {
		struct fail_rec *f = &mk.r[mk.n++];

		memcpy(f->name, name, sizeof(f->name));
		f->at = now;
		f->until = now + clamp_secs(retry_after, kind == CACHE_FAIL_HOST
							     ? CACHE_BACKOFF_DEF
							     : CACHE_TOKEN_BACKOFF_DEF);
		f->counted = kind == CACHE_FAIL_COUNTED;
		snprintf(f->reason, sizeof(f->reason), "%s", word);
	}
	for (size_t i = 0; i < mk.n; i++)
		distinct += mk.r[i].counted && mk.r[i].at > now - CACHE_FAIL_WINDOW;
	if (kind == CACHE_FAIL_HOST ||
	    (kind == CACHE_FAIL_COUNTED && distinct >= CACHE_FAIL_TOKENS))
		host = clamp_secs(retry_after, CACHE_BACKOFF_DEF);
	/* A backoff is only ever lengthened by a later failure, never cut short. */
	if (host != 0 && now + host > mk.host_until) {
		mk.host_until = now + host;
		snprintf(mk.host_reason, sizeof(mk.host_reason), "%s",
			 kind == CACHE_FAIL_HOST ? word : "failures");
	}
	marker_store(c, &mk);
	cache_unlock(lock);
}

void cache_backoff_set(const struct cache *c, time_t now, long retry_after)
{
	cache_fail_note(c, NULL, now, retry_after, "rate_limited", CACHE_FAIL_HOST);
}

/* A directory stream on the cache's own descriptor (not the path, which could change). */
static DIR *open_dir(const struct cache *c)
{
	int fd = dup(c->dirfd);
	DIR *dir;

	if (fd < 0)
		return NULL;
	dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return NULL;
	}
	rewinddir(dir); /* a dup shares the offset of an earlier walk */
	return dir;
}

int cache_walk(const struct cache *c, cache_walk_fn fn, void *arg)
{
	struct dirent *d;
	DIR *dir = open_dir(c);
	int r = 0;

	if (dir == NULL)
		return -1;
	while (r == 0 && (d = readdir(dir)) != NULL) {
		struct cache_entry e;

		if (!is_entry_name(d->d_name))
			continue;
		if (read_entry(c, d->d_name, true, &e) == 0) {
			r = fn(c, d->d_name, &e, arg);
			cache_entry_free(&e);
		} else {
			r = fn(c, d->d_name, NULL, arg);
		}
	}
	closedir(dir);
	return r < 0 ? -1 : 0;
}

int cache_clear_backoff(const struct cache *c)
{
	struct dirent *d;
	DIR *dir = open_dir(c);
	int r = 0;

	if (dir == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL)
		if (strncmp(d->d_name, ".backoff", 8) == 0 &&
		    unlinkat(c->dirfd, d->d_name, 0) != 0 && errno != ENOENT)
			r = -1;
	closedir(dir);
	return r;
}

int cache_remove(const struct cache *c, const char *name)
{
	if (!is_entry_name(name))
		return -1;
	return unlinkat(c->dirfd, name, 0);
}

struct aged {
	char name[CACHE_NAME_LEN + 1];
	time_t mtime;
};

static int by_age(const void *a, const void *b)
{
	const struct aged *x = a, *y = b;

	return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

/*
 * Works from file times alone (an entry's mtime is its fetch time), so a
 * scan of a large cache costs a stat per file, not a read and a MAC. Past
 * mtime + the longest lifetime plus offline_grace an entry can serve no one.
 */
long cache_prune(struct cache *c, time_t now)
{
	const struct apt_config *cfg = c->cfg;
	long life =
	    (cfg->cache_ttl > cfg->negative_cache_ttl ? cfg->cache_ttl : cfg->negative_cache_ttl) +
	    cfg->offline_grace;
	struct aged *live = NULL;
	size_t n = 0, cap = 0;
	struct dirent *d;
	DIR *dir = open_dir(c);

	if (dir == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL) {
		struct stat st;
		bool temp =
		    strncmp(d->d_name, ".tmp-", 5) == 0 || strncmp(d->d_name, ".key-", 5) == 0;
		/* Of any configuration (and the single .backoff of entry format 1). */
		bool marker = strncmp(d->d_name, ".backoff", 8) == 0;

		if (!temp && !marker && !is_entry_name(d->d_name))
			continue;
		if (fstatat(c->dirfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (marker) {
			/* Everything in it ended by then: rewritten at every failure. */
			if (now - st.st_mtime > CACHE_BACKOFF_MAX + CACHE_FAIL_WINDOW)
				unlinkat(c->dirfd, d->d_name, 0);
			continue;
		}
		if (temp) {
			/* Left by a crashed writer. */
			if (now - st.st_mtime > 60)
				unlinkat(c->dirfd, d->d_name, 0);
			continue;
		}
		if (!S_ISREG(st.st_mode) || st.st_mtime + life < now || st.st_mtime > now + 60) {
			unlinkat(c->dirfd, d->d_name, 0);
			continue;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct aged *p = realloc(live, ncap * sizeof(*p));
			if (p == NULL)
				break;
			live = p;
			cap = ncap;
		}
		memcpy(live[n].name, d->d_name, CACHE_NAME_LEN + 1);
		live[n].mtime = st.st_mtime;
		n++;
	}
	closedir(dir);
	if (live != NULL && (long)n > cfg->cache_max_entries) {
		/*
		 * Down to 90% of the bound, not to the bound itself: otherwise a
		 * full cache would be scanned again at every miss.
		 */
		size_t keep = (size_t)(cfg->cache_max_entries - cfg->cache_max_entries / 10);

		qsort(live, n, sizeof(*live), by_age);
		for (size_t i = 0; i < n - keep; i++)
			unlinkat(c->dirfd, live[i].name, 0);
		n = keep;
	}
	free(live);
	return (long)n;
}
