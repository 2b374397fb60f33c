/*
 * Unit tests for lib/cache.c: the directory and host-key rules of
 * cache_open, entry names (checked against libcrypto's HMAC) and their
 * binding to the answer-shaping settings, entry round-trips for every claim
 * type, every way an entry file can be damaged or planted, atomic writes,
 * the backoff markers (host-wide, per token, escalation, bounds), single-
 * flight locks across processes, pruning by age and by count, and cache_walk. Each test works in
 * its own directory under one mkdtemp() directory, removed at the end.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cache.h"
#include "proto.h"
#include "unit.h"

static const char *top; /* the temp dir */
static int seq;
static char dirpath[PATH_MAX], dirpath2[PATH_MAX];
static struct apt_config cfg, cfg2; /* cfg2: a second host, for keys that must differ */

static const char TOKEN_A[] = "ucat_Abc123_secret_part_one";
static const char TOKEN_B[] = "ucat_Xyz789_secret_part_two";

/* A new, not yet existing cache directory and a config naming it. */
static void fresh_cfg(void)
{
	memset(&cfg, 0, sizeof(cfg));
	/* The pid too: Check runs each test in a child of its own, which counts from 0. */
	snprintf(dirpath, sizeof(dirpath), "%s/c%d-%d", top, (int)getpid(), seq++);
	cfg.cache = true;
	cfg.cache_dir = dirpath;
	cfg.cache_ttl = 60;
	cfg.negative_cache_ttl = 10;
	cfg.offline_grace = 0;
	cfg.cache_max_entries = 10000;
}

/* A second cache in a directory of its own, with its own key. */
static void open_other(struct cache *c)
{
	char err[512] = "";

	cfg2 = cfg;
	snprintf(dirpath2, sizeof(dirpath2), "%s/c%d-%d", top, (int)getpid(), seq++);
	cfg2.cache_dir = dirpath2;
	ck_assert_msg(cache_open(c, &cfg2, true, err, sizeof(err)) == APT_OK, "%s", err);
}

static void open_ok(struct cache *c, bool create)
{
	char err[512] = "";
	enum apt_rc rc = cache_open(c, &cfg, create, err, sizeof(err));

	ck_assert_msg(rc == APT_OK, "cache_open %s: rc %d: %s", cfg.cache_dir, rc, err);
}

static void open_refused(bool create, const char *why)
{
	struct cache c;
	char err[512] = "";
	enum apt_rc rc = cache_open(&c, &cfg, create, err, sizeof(err));

	ck_assert_msg(rc == APT_SERVICE, "%s: cache_open rc %d, want APT_SERVICE", why, rc);
	ck_assert_msg(strstr(err, cfg.cache_dir) != NULL, "%s: error \"%s\" names no dir", why,
		      err);
	ck_assert_int_eq(c.dirfd, -1);
}

/* Writes exactly these bytes to dir/name with this mode, replacing what was there. */
static void write_raw(const char *dir, const char *name, const void *data, size_t len, mode_t mode)
{
	char p[PATH_MAX];

	unit_join(p, sizeof(p), dir, name);
	unit_write_path(p, data, len, mode);
}

/* The whole of dir/name (malloc); *len set. */
static unsigned char *read_raw(const char *dir, const char *name, size_t *len)
{
	char p[PATH_MAX];
	unsigned char *data;
	struct stat st;
	int fd;

	unit_join(p, sizeof(p), dir, name);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "%s: %s", p, strerror(errno));
	ck_assert_int_eq(fstat(fd, &st), 0);
	data = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(data);
	ck_assert_int_eq(read(fd, data, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return data;
}

static bool exists_in(const char *dir, const char *name)
{
	char p[PATH_MAX];
	struct stat st;

	unit_join(p, sizeof(p), dir, name);
	return lstat(p, &st) == 0;
}

/* How many names in dir start with prefix. */
static int count_prefixed(const char *dir, const char *prefix)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int n = 0;

	ck_assert_ptr_nonnull(dp);
	while ((d = readdir(dp)) != NULL)
		n += strncmp(d->d_name, prefix, strlen(prefix)) == 0;
	closedir(dp);
	return n;
}

static void set_mtime(const char *dir, const char *name, time_t t)
{
	char p[PATH_MAX];
	struct timespec ts[2] = {{t, 0}, {t, 0}};

	unit_join(p, sizeof(p), dir, name);
	ck_assert_int_eq(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static void set_string(struct claim *c, const char *s, size_t len)
{
	ck_assert_int_eq(claim_set_string(c, s, len), 0);
	c->type = CLAIM_STRING;
}

/* A positive entry holding every claim type (a string with a NUL, int, bool, list, other). */
static void make_positive(struct cache_entry *e, time_t now)
{
	struct buf l = BUF_INIT;

	memset(e, 0, sizeof(*e));
	e->kind = CACHE_POSITIVE;
	e->fetched = now;
	snprintf(e->fingerprint, sizeof(e->fingerprint), "ucat_sha256:3f2a9c1b");
	e->claims.c[CLAIM_ACTIVE].type = CLAIM_BOOL;
	e->claims.c[CLAIM_ACTIVE].n = 1;
	e->claims.c[CLAIM_EXP].type = CLAIM_INT;
	e->claims.c[CLAIM_EXP].n = (long long)now + 3600;
	e->claims.c[CLAIM_NBF].type = CLAIM_OTHER;
	set_string(&e->claims.c[CLAIM_USERNAME], "al\0ice", 6);
	set_string(&e->claims.c[CLAIM_SCOPE], "ssh deploy", 10);
	e->claims.c[CLAIM_CLIENT_ID].type = CLAIM_INT;
	e->claims.c[CLAIM_CLIENT_ID].n = -42;
	claim_list_add(&l, "api", 3);
	claim_list_add(&l, "", 0);
	claim_list_add(&l, "r,e:p\0o", 7);
	ck_assert(!l.failed);
	ck_assert_int_eq(claim_set_string(&e->claims.c[CLAIM_AUD], (char *)l.p, l.len), 0);
	e->claims.c[CLAIM_AUD].type = CLAIM_LIST;
	buf_free(&l);
	e->claims.c[CLAIM_ISS].type = CLAIM_BOOL;
	e->claims.c[CLAIM_ISS].n = 0;
	claim_list_add(&l, "192.0.2.0/24", 12);
	ck_assert_int_eq(claim_set_string(&e->claims.c[CLAIM_IP_RANGES], (char *)l.p, l.len), 0);
	e->claims.c[CLAIM_IP_RANGES].type = CLAIM_LIST;
	buf_free(&l);
}

static void make_negative(struct cache_entry *e, time_t now)
{
	memset(e, 0, sizeof(*e));
	e->kind = CACHE_NEGATIVE;
	e->fetched = now;
	snprintf(e->fingerprint, sizeof(e->fingerprint), "sha256:0badc0de");
}

/* b as read back from a as written: lifetimes are not stored but worked out from cfg. */
static void assert_same_entry(const struct cache_entry *a, const struct cache_entry *b)
{
	struct cache_entry want = *a;

	cache_lifetimes(&cfg, &want);
	ck_assert_int_eq(a->kind, b->kind);
	ck_assert_int_eq(a->fetched, b->fetched);
	ck_assert_int_eq(want.fresh_until, b->fresh_until);
	ck_assert_int_eq(want.grace_until, b->grace_until);
	ck_assert_str_eq(a->fingerprint, b->fingerprint);
	for (int i = 0; i < CLAIM_COUNT; i++) {
		const struct claim *x = &a->claims.c[i], *y = &b->claims.c[i];

		ck_assert_msg(x->type == y->type, "claim %s: type %d, want %d", claim_names[i],
			      y->type, x->type);
		if (x->type == CLAIM_STRING || x->type == CLAIM_LIST) {
			ck_assert_uint_eq(x->len, y->len);
			ck_assert_int_eq(memcmp(x->s, y->s, x->len), 0);
		}
		if (x->type == CLAIM_INT || x->type == CLAIM_BOOL)
			ck_assert(x->n == y->n);
	}
}

static void expect_unreadable(const struct cache *c, const char *name, const char *why)
{
	struct cache_entry e;

	ck_assert_msg(cache_read(c, name, &e) == -1, "%s: cache_read accepted it", why);
	/* Nothing half-filled is left behind for a careless caller. */
	for (int i = 0; i < CLAIM_COUNT; i++)
		ck_assert_ptr_null(e.claims.c[i].s);
}

/* --- cache_open and the host key ------------------------------------------------- */

START_TEST(test_open_creates_dir_and_key)
{
	struct cache c, c2;
	char p[PATH_MAX], n1[CACHE_NAME_LEN + 1], n2[CACHE_NAME_LEN + 1];
	unsigned char *key;
	struct stat st;
	size_t len;

	fresh_cfg();
	open_ok(&c, true);
	ck_assert_int_eq(stat(dirpath, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0700);
	unit_join(p, sizeof(p), dirpath, ".key");
	ck_assert_int_eq(lstat(p, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(st.st_size, CACHE_KEY_LEN);
	key = read_raw(dirpath, ".key", &len);
	ck_assert_int_eq(memcmp(key, c.key, CACHE_KEY_LEN), 0);
	cache_name(&c, TOKEN_A, strlen(TOKEN_A), n1);

	/* Opened again, with or without create: the same key, so the same names. */
	open_ok(&c2, false);
	ck_assert_int_eq(memcmp(c2.key, c.key, CACHE_KEY_LEN), 0);
	cache_name(&c2, TOKEN_A, strlen(TOKEN_A), n2);
	ck_assert_str_eq(n1, n2);
	cache_close(&c2);
	open_ok(&c2, true);
	cache_name(&c2, TOKEN_A, strlen(TOKEN_A), n2);
	ck_assert_str_eq(n1, n2);
	free(key);
	key = read_raw(dirpath, ".key", &len);
	ck_assert_int_eq(memcmp(key, c2.key, CACHE_KEY_LEN), 0);
	cache_close(&c2);
	cache_close(&c);
	free(key);
}
END_TEST

START_TEST(test_open_without_create)
{
	struct cache c;

	struct stat st;

	fresh_cfg();
	open_refused(false, "missing dir, no create");
	ck_assert_int_eq(lstat(dirpath, &st), -1);
	/* A directory without a key: not made when create is false. */
	ck_assert_int_eq(mkdir(dirpath, 0700), 0);
	open_refused(false, "no key, no create");
	ck_assert(!exists_in(dirpath, ".key"));
	open_ok(&c, true);
	ck_assert(exists_in(dirpath, ".key"));
	cache_close(&c);
}
END_TEST

START_TEST(test_names_differ_by_key)
{
	struct cache a, b;
	char na[CACHE_NAME_LEN + 1], nb[CACHE_NAME_LEN + 1], na2[CACHE_NAME_LEN + 1];

	fresh_cfg();
	open_ok(&a, true);
	open_other(&b);
	ck_assert_int_ne(memcmp(a.key, b.key, CACHE_KEY_LEN), 0);
	cache_name(&a, TOKEN_A, strlen(TOKEN_A), na);
	cache_name(&b, TOKEN_A, strlen(TOKEN_A), nb);
	ck_assert_str_ne(na, nb);
	cache_name(&a, TOKEN_B, strlen(TOKEN_B), na2);
	ck_assert_str_ne(na, na2);
	cache_close(&a);
	cache_close(&b);
}
END_TEST

START_TEST(test_name_is_hmac_of_token)
{
	struct cache c;
	char name[CACHE_NAME_LEN + 1], want[CACHE_NAME_LEN + 1];
	unsigned char *key, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t len, i;

	fresh_cfg();
	open_ok(&c, true);
	cache_name(&c, TOKEN_A, strlen(TOKEN_A), name);
	ck_assert_uint_eq(strlen(name), CACHE_NAME_LEN);
	for (i = 0; i < CACHE_NAME_LEN; i++)
		ck_assert_msg((name[i] >= '0' && name[i] <= '9') ||
				  (name[i] >= 'a' && name[i] <= 'f'),
			      "name %s", name);
	key = read_raw(dirpath, ".key", &len);
	ck_assert_uint_eq(len, CACHE_KEY_LEN);
	/* bind = HMAC(host key, the answer-shaping settings); name = HMAC(bind, token). */
	{
		struct buf b = BUF_INIT;
		unsigned char bind[EVP_MAX_MD_SIZE];
		unsigned int blen = 0;

		cfg.introspection_url = "https://issuer.example/introspect";
		cfg.username_claim = "username";
		cache_close(&c);
		open_ok(&c, false);
		cache_name(&c, TOKEN_A, strlen(TOKEN_A), name);
		proto_begin(&b, "apitoken-cache-config 1");
		proto_put_str(&b, "verify", "introspection");
		proto_put_str(&b, "endpoint", cfg.introspection_url);
		proto_put_str(&b, "username_claim", "username");
		ck_assert_int_eq(proto_end(&b), 0);
		ck_assert_ptr_nonnull(HMAC(EVP_sha256(), key, (int)len, b.p, b.len, bind, &blen));
		ck_assert_int_eq(memcmp(bind, c.bind, 32), 0);
		buf_free(&b);
		free(key);
		key = malloc(32);
		ck_assert_ptr_nonnull(key);
		memcpy(key, bind, 32);
	}
	ck_assert_ptr_nonnull(HMAC(EVP_sha256(), key, 32, (const unsigned char *)TOKEN_A,
				   strlen(TOKEN_A), md, &mdlen));
	ck_assert_uint_eq(mdlen, 32);
	for (i = 0; i < mdlen; i++)
		snprintf(want + 2 * i, 3, "%02x", md[i]);
	ck_assert_str_eq(name, want);
	/* The name never holds the token, and the token never sits in the directory. */
	ck_assert_ptr_null(strstr(name, "secret"));
	free(key);
	cache_close(&c);
}
END_TEST

/* Each answer-shaping setting changes names and tag; lifetimes and policy keys do not. */
START_TEST(test_names_bound_to_config)
{
	struct cache c;
	char base[CACHE_NAME_LEN + 1], name[CACHE_NAME_LEN + 1], tag[CACHE_TAG_LEN + 1];
	struct apt_config keep;
	char **field[] = {&cfg.introspection_url, &cfg.client_id, &cfg.username_claim,
			  &cfg.ip_ranges_claim, &cfg.scope_claim};

	fresh_cfg();
	cfg.introspection_url = "http://127.0.0.1:1/a";
	cfg.client_id = "rs";
	cfg.username_claim = "username";
	cfg.ip_ranges_claim = "allowed_ip_ranges";
	cfg.scope_claim = "scope";
	keep = cfg;
	open_ok(&c, true);
	cache_name(&c, TOKEN_A, strlen(TOKEN_A), base);
	memcpy(tag, c.tag, sizeof(tag));
	ck_assert_uint_eq(strlen(tag), CACHE_TAG_LEN);
	cache_close(&c);
	for (size_t i = 0; i < sizeof(field) / sizeof(field[0]); i++) {
		for (int unset = 0; unset < 2; unset++) {
			cfg = keep;
			*field[i] = unset ? NULL : "other";
			open_ok(&c, false);
			cache_name(&c, TOKEN_A, strlen(TOKEN_A), name);
			ck_assert_msg(strcmp(name, base) != 0, "field %zu (unset %d)", i, unset);
			ck_assert_str_ne(c.tag, tag);
			cache_close(&c);
		}
	}
	/*
	 * verify is bound too: the same URL checked by userinfo is another
	 * answer; and with userinfo, userinfo_url is the endpoint that binds.
	 */
	cfg = keep;
	cfg.verify = "userinfo";
	cfg.userinfo_url = "http://127.0.0.1:1/a";
	open_ok(&c, false);
	cache_name(&c, TOKEN_A, strlen(TOKEN_A), name);
	ck_assert_str_ne(name, base);
	ck_assert_str_ne(c.tag, tag);
	cache_name(&c, TOKEN_A, strlen(TOKEN_A), base);
	cache_close(&c);
	cfg.userinfo_url = "http://127.0.0.1:1/b";
	cfg.introspection_url = NULL;
	open_ok(&c, false);
	cache_name(&c, TOKEN_A, strlen(TOKEN_A), name);
	ck_assert_str_ne(name, base);
	cache_close(&c);
	cfg = keep;
	cfg.verify = "introspection";
	open_ok(&c, false);
	cache_name(&c, TOKEN_A, strlen(TOKEN_A), name);
	ck_assert_str_eq(c.tag, tag); /* unset verify is introspection */
	cache_close(&c);
	/* Values cannot run into each other: "ab"+"c" is not "a"+"bc". */
	cfg = keep;
	cfg.username_claim = "ab";
	cfg.ip_ranges_claim = "c";
	open_ok(&c, false);
	cache_name(&c, TOKEN_A, strlen(TOKEN_A), base);
	cache_close(&c);
	cfg.username_claim = "a";
	cfg.ip_ranges_claim = "bc";
	open_ok(&c, false);
	cache_name(&c, TOKEN_A, strlen(TOKEN_A), name);
	ck_assert_str_ne(name, base);
	cache_close(&c);
	/* Not answer-shaping: applied at every read instead. */
	cfg = keep;
	open_ok(&c, false);
	cache_name(&c, TOKEN_A, strlen(TOKEN_A), base);
	cache_close(&c);
	cfg.cache_ttl = 5;
	cfg.offline_grace = 99;
	cfg.required_scopes = "ssh";
	cfg.audience = "x";
	open_ok(&c, false);
	cache_name(&c, TOKEN_A, strlen(TOKEN_A), name);
	ck_assert_str_eq(name, base);
	ck_assert_str_eq(c.tag, tag);
	cache_close(&c);
}
END_TEST

static int find_cb(const struct cache *c, const char *name, const struct cache_entry *e, void *arg)
{
	int *seen = arg;

	(void)c;
	(void)name;
	if (e != NULL)
		*seen = e->other_config ? 2 : 1;
	return 0;
}

/* An entry of another configuration: never read by a login, shown by the walk as other. */
START_TEST(test_entry_of_other_config)
{
	struct cache a, b;
	struct cache_entry w, r;
	char na[CACHE_NAME_LEN + 1], nb[CACHE_NAME_LEN + 1];
	struct apt_config cfg_b;
	int seen = 0;

	fresh_cfg();
	cfg.introspection_url = "http://127.0.0.1:1/a";
	open_ok(&a, true);
	cfg_b = cfg;
	cfg_b.introspection_url = "http://127.0.0.1:1/b";
	ck_assert_int_eq(cache_open(&b, &cfg_b, false, NULL, 0), APT_OK);
	cache_name(&a, TOKEN_A, strlen(TOKEN_A), na);
	cache_name(&b, TOKEN_A, strlen(TOKEN_A), nb);
	ck_assert_str_ne(na, nb);
	make_positive(&w, time(NULL));
	ck_assert_int_eq(cache_write(&a, na, &w), 0);
	ck_assert_int_eq(cache_read(&a, na, &r), 0);
	ck_assert(!r.other_config);
	ck_assert_str_eq(r.config, a.tag);
	cache_entry_free(&r);
	/* Not under B's name, and not under A's name either when B reads it. */
	expect_unreadable(&b, nb, "B's name for the token");
	expect_unreadable(&b, na, "A's entry read by B");
	ck_assert_int_eq(cache_walk(&a, find_cb, &seen), 0);
	ck_assert_int_eq(seen, 1);
	ck_assert_int_eq(cache_walk(&b, find_cb, &seen), 0);
	ck_assert_int_eq(seen, 2);
	cache_entry_free(&w);
	cache_close(&a);
	cache_close(&b);
}
END_TEST

START_TEST(test_refuses_symlink_dir)
{
	char real[PATH_MAX];

	fresh_cfg();
	ck_assert_int_lt(snprintf(real, sizeof(real), "%s.real", dirpath), (int)sizeof(real));
	ck_assert_int_eq(mkdir(real, 0700), 0);
	ck_assert_int_eq(symlink(real, dirpath), 0);
	open_refused(true, "symlinked dir");
	open_refused(false, "symlinked dir");
	ck_assert(!exists_in(real, ".key"));
}
END_TEST

START_TEST(test_refuses_writable_dir)
{
	static const mode_t bad[] = {0770, 0720, 0702, 0777, 0730};
	struct cache c;

	fresh_cfg();
	ck_assert_int_eq(mkdir(dirpath, 0700), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(chmod(dirpath, bad[i]), 0);
		open_refused(true, "group/world-writable dir");
	}
	ck_assert(!exists_in(dirpath, ".key"));
	/* Readable by others is fine: the entries are no oracle. */
	ck_assert_int_eq(chmod(dirpath, 0755), 0);
	open_ok(&c, true);
	cache_close(&c);
}
END_TEST

START_TEST(test_refuses_foreign_owner)
{
	struct passwd *pw;
	struct cache c;
	char p[PATH_MAX];

	if (geteuid() != 0)
		return; /* only root can give a directory away */
	pw = getpwnam("nobody");
	ck_assert_ptr_nonnull(pw);
	fresh_cfg();
	open_ok(&c, true);
	cache_close(&c);
	ck_assert_int_eq(chown(dirpath, pw->pw_uid, (gid_t)-1), 0);
	open_refused(true, "dir owned by nobody");
	ck_assert_int_eq(chown(dirpath, 0, (gid_t)-1), 0);
	unit_join(p, sizeof(p), dirpath, ".key");
	ck_assert_int_eq(chown(p, pw->pw_uid, (gid_t)-1), 0);
	open_refused(true, ".key owned by nobody");
	ck_assert_int_eq(chown(p, 0, (gid_t)-1), 0);
	open_ok(&c, false);
	cache_close(&c);
}
END_TEST

/* A .key that is not exactly ours is refused, and never replaced by a new one. */
START_TEST(test_refuses_bad_key)
{
	static const struct {
		size_t len;
		mode_t mode;
		const char *why;
	} bad[] = {
	    {31, 0600, "short key"},	  {33, 0600, "long key"},
	    {0, 0600, "empty key"},	  {32, 0640, "group-readable"},
	    {32, 0604, "world-readable"}, {32, 0620, "group-writable"},
	};
	unsigned char junk[64], *back;
	char p[PATH_MAX], other[PATH_MAX];
	struct cache c;
	size_t len;

	memset(junk, 0x5a, sizeof(junk));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fresh_cfg();
		ck_assert_int_eq(mkdir(dirpath, 0700), 0);
		write_raw(dirpath, ".key", junk, bad[i].len, bad[i].mode);
		open_refused(true, bad[i].why);
		open_refused(false, bad[i].why);
		back = read_raw(dirpath, ".key", &len);
		ck_assert_uint_eq(len, bad[i].len);
		free(back);
	}

	/* A symbolic link to a perfectly good key. */
	fresh_cfg();
	ck_assert_int_eq(mkdir(dirpath, 0700), 0);
	ck_assert_int_lt(snprintf(other, sizeof(other), "%s.key", dirpath), (int)sizeof(other));
	write_raw(top, other + strlen(top) + 1, junk, CACHE_KEY_LEN, 0600);
	unit_join(p, sizeof(p), dirpath, ".key");
	ck_assert_int_eq(symlink(other, p), 0);
	open_refused(true, "symlinked key");
	ck_assert_int_eq(unlink(p), 0);
	write_raw(dirpath, ".key", junk, CACHE_KEY_LEN, 0600);
	open_ok(&c, false);
	ck_assert_int_eq(memcmp(c.key, junk, CACHE_KEY_LEN), 0);
	cache_close(&c);
}
END_TEST

/* --- entries ------------------------------------------------------------------------ */

START_TEST(test_roundtrip)
{
	struct cache c;
	struct cache_entry w, r;
	char na[CACHE_NAME_LEN + 1], nb[CACHE_NAME_LEN + 1];
	time_t now = time(NULL);
	unsigned char *raw;
	size_t len;

	fresh_cfg();
	open_ok(&c, true);
	cache_name(&c, TOKEN_A, strlen(TOKEN_A), na);
	cache_name(&c, TOKEN_B, strlen(TOKEN_B), nb);

	make_positive(&w, now);
	ck_assert_int_eq(cache_write(&c, na, &w), 0);
	ck_assert_int_eq(cache_read(&c, na, &r), 0);
	assert_same_entry(&w, &r);
	cache_entry_free(&r);
	/* The token is nowhere in the file. */
	raw = read_raw(dirpath, na, &len);
	ck_assert_ptr_null(memmem(raw, len, TOKEN_A, strlen(TOKEN_A)));
	ck_assert_ptr_null(memmem(raw, len, "secret", 6));
	free(raw);
	cache_entry_free(&w);

	make_negative(&w, now);
	ck_assert_int_eq(cache_write(&c, nb, &w), 0);
	ck_assert_int_eq(cache_read(&c, nb, &r), 0);
	assert_same_entry(&w, &r);
	cache_entry_free(&r);

	/* Overwritten in place: the new entry wins. */
	w.fetched = now + 1;
	ck_assert_int_eq(cache_write(&c, nb, &w), 0);
	ck_assert_int_eq(cache_read(&c, nb, &r), 0);
	ck_assert_int_eq(r.fetched, now + 1);
	cache_entry_free(&r);

	/* Absent, or not an entry name at all. */
	expect_unreadable(&c, "0000000000000000000000000000000000000000000000000000000000000000",
			  "absent");
	expect_unreadable(&c, ".key", "not an entry name");
	expect_unreadable(&c, "", "empty name");
	na[0] = 'A';
	expect_unreadable(&c, na, "upper-case name");
	cache_close(&c);
}
END_TEST

/* Reads name back and expects these deadlines. */
static void expect_deadlines(const struct cache *c, const char *name, time_t fresh, time_t grace)
{
	struct cache_entry r;

	ck_assert_int_eq(cache_read(c, name, &r), 0);
	ck_assert_int_eq(r.fresh_until, fresh);
	ck_assert_int_eq(r.grace_until, grace);
	cache_entry_free(&r);
}

/* Deadlines come from the config in force at read time, never past exp. */
START_TEST(test_lifetimes)
{
	struct cache c;
	struct cache_entry w;
	char name[CACHE_NAME_LEN + 1];
	time_t now = time(NULL);

	fresh_cfg();
	cfg.cache_ttl = 60;
	cfg.offline_grace = 300;
	cfg.negative_cache_ttl = 10;
	open_ok(&c, true);
	cache_name(&c, TOKEN_A, strlen(TOKEN_A), name);
	make_positive(&w, now); /* exp: now + 3600 */
	ck_assert_int_eq(cache_write(&c, name, &w), 0);
	expect_deadlines(&c, name, now + 60, now + 360);

	/* An admin lowers the lifetimes after an incident: obeyed by the next read. */
	cfg.cache_ttl = 5;
	cfg.offline_grace = 0;
	expect_deadlines(&c, name, now + 5, now + 5);

	/* exp caps both; an exp that is not an integer gives no lifetime at all. */
	cfg.cache_ttl = 60;
	cfg.offline_grace = 300;
	w.claims.c[CLAIM_EXP].n = (long long)now + 100;
	ck_assert_int_eq(cache_write(&c, name, &w), 0);
	expect_deadlines(&c, name, now + 60, now + 100);
	w.claims.c[CLAIM_EXP].n = (long long)now + 20;
	ck_assert_int_eq(cache_write(&c, name, &w), 0);
	expect_deadlines(&c, name, now + 20, now + 20);
	set_string(&w.claims.c[CLAIM_EXP], "soon", 4);
	ck_assert_int_eq(cache_write(&c, name, &w), 0);
	expect_deadlines(&c, name, 0, 0);
	cache_entry_free(&w);

	make_negative(&w, now);
	ck_assert_int_eq(cache_write(&c, name, &w), 0);
	expect_deadlines(&c, name, now + 10, now + 10);
	cache_close(&c);
}
END_TEST

START_TEST(test_damaged_entries)
{
	struct cache c, other;
	struct cache_entry w, r;
	char na[CACHE_NAME_LEN + 1], nb[CACHE_NAME_LEN + 1], why[128];
	unsigned char *raw, *copy;
	struct buf b = BUF_INIT;
	size_t len, i;
	time_t now = time(NULL);

	fresh_cfg();
	open_ok(&c, true);
	cache_name(&c, TOKEN_A, strlen(TOKEN_A), na);
	cache_name(&c, TOKEN_B, strlen(TOKEN_B), nb);
	make_positive(&w, now);
	ck_assert_int_eq(cache_write(&c, na, &w), 0);
	raw = read_raw(dirpath, na, &len);
	copy = malloc(len + 1);
	ck_assert_ptr_nonnull(copy);

	/* One flipped bit, anywhere. */
	for (i = 0; i < len; i++) {
		memcpy(copy, raw, len);
		copy[i] ^= 1;
		write_raw(dirpath, na, copy, len, 0600);
		snprintf(why, sizeof(why), "bit flipped at byte %zu of %zu", i, len);
		expect_unreadable(&c, na, why);
	}
	/* Cut short, at every length. */
	for (i = 0; i < len; i++) {
		write_raw(dirpath, na, raw, i, 0600);
		snprintf(why, sizeof(why), "truncated to %zu of %zu", i, len);
		expect_unreadable(&c, na, why);
	}
	/* One byte more, of either kind. */
	memcpy(copy, raw, len);
	copy[len] = '\n';
	write_raw(dirpath, na, copy, len + 1, 0600);
	expect_unreadable(&c, na, "appended newline");
	copy[len] = 'x';
	write_raw(dirpath, na, copy, len + 1, 0600);
	expect_unreadable(&c, na, "appended byte");

	/* A well-formed MAC made with another host's key. */
	open_other(&other);
	ck_assert_int_eq(cache_format_entry(&other, na, &w, &b), 0);
	write_raw(dirpath, na, b.p, b.len, 0600);
	expect_unreadable(&c, na, "MAC from another key");
	buf_free(&b);
	cache_close(&other);

	/* A valid entry under another token's name. */
	write_raw(dirpath, na, raw, len, 0600);
	ck_assert_int_eq(cache_read(&c, na, &r), 0);
	cache_entry_free(&r);
	write_raw(dirpath, nb, raw, len, 0600);
	expect_unreadable(&c, nb, "copied under another name");

	/* Group- or world-writable: refused; group-readable is fine. */
	write_raw(dirpath, na, raw, len, 0620);
	expect_unreadable(&c, na, "group-writable entry");
	write_raw(dirpath, na, raw, len, 0602);
	expect_unreadable(&c, na, "world-writable entry");
	write_raw(dirpath, na, raw, len, 0640);
	ck_assert_int_eq(cache_read(&c, na, &r), 0);
	cache_entry_free(&r);

	free(raw);
	free(copy);
	cache_entry_free(&w);
	cache_close(&c);
}
END_TEST

START_TEST(test_symlink_entry)
{
	struct cache c;
	struct cache_entry w, r;
	struct buf b = BUF_INIT;
	char name[CACHE_NAME_LEN + 1], p[PATH_MAX], target[PATH_MAX];

	fresh_cfg();
	open_ok(&c, true);
	cache_name(&c, TOKEN_A, strlen(TOKEN_A), name);
	make_positive(&w, time(NULL));
	/* Valid bytes for exactly this name, reached through a link. */
	ck_assert_int_eq(cache_format_entry(&c, name, &w, &b), 0);
	write_raw(dirpath, "elsewhere", b.p, b.len, 0600);
	unit_join(target, sizeof(target), dirpath, "elsewhere");
	unit_join(p, sizeof(p), dirpath, name);
	ck_assert_int_eq(symlink(target, p), 0);
	expect_unreadable(&c, name, "symlink named as an entry");
	/* The same bytes as a plain file are fine. */
	ck_assert_int_eq(unlink(p), 0);
	write_raw(dirpath, name, b.p, b.len, 0600);
	ck_assert_int_eq(cache_read(&c, name, &r), 0);
	cache_entry_free(&r);
	buf_free(&b);
	cache_entry_free(&w);
	cache_close(&c);
}
END_TEST

START_TEST(test_write_leaves_no_temp_files)
{
	struct cache c;
	struct cache_entry w;
	char name[CACHE_NAME_LEN + 1], tok[32];
	struct stat st;
	char p[PATH_MAX];

	fresh_cfg();
	open_ok(&c, true);
	make_positive(&w, time(NULL));
	for (int i = 0; i < 5; i++) {
		snprintf(tok, sizeof(tok), "tok-%d", i);
		cache_name(&c, tok, strlen(tok), name);
		ck_assert_int_eq(cache_write(&c, name, &w), 0);
		ck_assert_int_eq(cache_write(&c, name, &w), 0); /* and over itself */
		unit_join(p, sizeof(p), dirpath, name);
		ck_assert_int_eq(lstat(p, &st), 0);
		ck_assert(S_ISREG(st.st_mode));
		ck_assert_int_eq(st.st_mode & 077, 0);
	}
	cache_backoff_set(&c, time(NULL), 10);
	ck_assert_int_eq(count_prefixed(dirpath, ".tmp-"), 0);
	ck_assert_int_eq(count_prefixed(dirpath, ".key-"), 0);
	ck_assert_int_eq(count_prefixed(dirpath, ".") - count_prefixed(dirpath, ".lock-"),
			 5); /* . .. .key .prune .backoff */
	cache_entry_free(&w);
	cache_close(&c);
}
END_TEST

/* An entry cache_read would refuse as too big is not written at all; one at the limit is. */
START_TEST(test_entry_size_limit)
{
	struct cache c;
	struct cache_entry w, r;
	struct buf b = BUF_INIT;
	char name[CACHE_NAME_LEN + 1];
	char *big = malloc(CACHE_ENTRY_MAX);
	size_t overhead, fit;

	ck_assert_ptr_nonnull(big);
	memset(big, 's', CACHE_ENTRY_MAX);
	fresh_cfg();
	open_ok(&c, true);
	cache_name(&c, TOKEN_A, strlen(TOKEN_A), name);
	make_positive(&w, time(NULL));
	/* The bytes around a 5-digit-long scope, as at the limit. */
	set_string(&w.claims.c[CLAIM_SCOPE], big, 10000);
	ck_assert_int_eq(cache_format_entry(&c, name, &w, &b), 0);
	overhead = b.len - 10000;
	buf_free(&b);
	fit = CACHE_ENTRY_MAX - overhead;

	set_string(&w.claims.c[CLAIM_SCOPE], big, fit + 1);
	ck_assert_int_eq(cache_write(&c, name, &w), -1);
	ck_assert(!exists_in(dirpath, name));
	set_string(&w.claims.c[CLAIM_SCOPE], big, fit);
	ck_assert_int_eq(cache_write(&c, name, &w), 0);
	ck_assert_int_eq(cache_read(&c, name, &r), 0);
	ck_assert_uint_eq(r.claims.c[CLAIM_SCOPE].len, fit);
	cache_entry_free(&r);
	free(big);
	cache_entry_free(&w);
	cache_close(&c);
}
END_TEST

/* --- backoff ---------------------------------------------------------------------- */

static void write_backoff(const struct cache *c, const void *data, size_t len, mode_t mode)
{
	char file[32];

	cache_backoff_file(c, file);
	write_raw(dirpath, file, data, len, mode);
}

START_TEST(test_backoff)
{
	struct cache c;
	time_t now = time(NULL);
	char file[32];

	fresh_cfg();
	open_ok(&c, true);
	ck_assert(!cache_backoff_active(&c, now));
	ck_assert_int_eq(cache_backoff_until(&c, now), 0);

	cache_backoff_set(&c, now, 5);
	ck_assert(cache_backoff_active(&c, now));
	ck_assert(cache_backoff_active(&c, now + 4));
	ck_assert(!cache_backoff_active(&c, now + 5));
	ck_assert_int_eq(cache_backoff_until(&c, now), now + 5);
	cache_backoff_file(&c, file);
	ck_assert_int_eq(strncmp(file, ".backoff-", 9), 0);
	ck_assert_int_eq(strncmp(file + 9, c.tag, 16), 0);
	ck_assert_uint_eq(strlen(file), 9 + 16);

	/* A later 429 lengthens the backoff, never cuts it short. */
	cache_backoff_set(&c, now, 1);
	ck_assert_int_eq(cache_backoff_until(&c, now), now + 5);
	cache_close(&c);

	/* Retry-After is clamped to [1, 600]; none given means 30 s. */
	fresh_cfg();
	open_ok(&c, true);
	cache_backoff_set(&c, now, 100000);
	ck_assert_int_eq(cache_backoff_until(&c, now), now + CACHE_BACKOFF_MAX);
	ck_assert(cache_backoff_active(&c, now + 599));
	ck_assert(!cache_backoff_active(&c, now + 600));
	cache_close(&c);
	fresh_cfg();
	open_ok(&c, true);
	cache_backoff_set(&c, now, 0);
	ck_assert_int_eq(cache_backoff_until(&c, now), now + 1);
	cache_close(&c);
	fresh_cfg();
	open_ok(&c, true);
	cache_backoff_set(&c, now, -1);
	ck_assert_int_eq(cache_backoff_until(&c, now), now + CACHE_BACKOFF_DEF);
	ck_assert_int_eq(CACHE_BACKOFF_DEF, 30);
	ck_assert(!cache_backoff_active(&c, now + 30));
	ck_assert_int_eq(count_prefixed(dirpath, ".tmp-"), 0);
	cache_close(&c);
}
END_TEST

/* Per configuration: a 429 for one endpoint is nothing to another sharing the directory. */
START_TEST(test_backoff_per_config)
{
	struct cache a, b;
	struct apt_config cfg_b;
	time_t now = time(NULL);

	fresh_cfg();
	cfg.introspection_url = "http://127.0.0.1:1/a";
	open_ok(&a, true);
	cfg_b = cfg;
	cfg_b.introspection_url = "http://127.0.0.1:1/b";
	ck_assert_int_eq(cache_open(&b, &cfg_b, false, NULL, 0), APT_OK);
	cache_backoff_set(&a, now, 60);
	ck_assert(cache_backoff_active(&a, now));
	ck_assert(!cache_backoff_active(&b, now));
	ck_assert_int_eq(count_prefixed(dirpath, ".backoff-"), 1);
	cache_close(&a);
	cache_close(&b);
}
END_TEST

START_TEST(test_token_backoff)
{
	struct cache c;
	struct cache_backoff b;
	time_t now = time(NULL);
	char n[CACHE_FAIL_RECORDS * 3][CACHE_NAME_LEN + 1], tok[32], file[32];
	int i;

	fresh_cfg();
	open_ok(&c, true);
	for (i = 0; i < CACHE_FAIL_RECORDS * 3; i++) {
		snprintf(tok, sizeof(tok), "tok-%d", i);
		cache_name(&c, tok, strlen(tok), n[i]);
	}
	/* One token's 5xx: that token only, for the default time, with its word. */
	cache_fail_note(&c, n[0], now, -1, "http_status", CACHE_FAIL_COUNTED);
	ck_assert(cache_backoff_get(&c, n[0], now, &b));
	ck_assert(!b.host_wide);
	ck_assert_int_eq(b.until, now + CACHE_TOKEN_BACKOFF_DEF);
	ck_assert_str_eq(b.reason, "http_status");
	ck_assert(!cache_backoff_get(&c, n[0], now + CACHE_TOKEN_BACKOFF_DEF, &b));
	ck_assert(!cache_backoff_get(&c, n[1], now, &b));
	ck_assert(!cache_backoff_active(&c, now));
	/* The same token again, and 4xx-like failures of others: still not host-wide. */
	cache_fail_note(&c, n[0], now, -1, "timeout", CACHE_FAIL_COUNTED);
	ck_assert(cache_backoff_get(&c, n[0], now, &b));
	ck_assert_str_eq(b.reason, "timeout");
	for (i = 1; i <= CACHE_FAIL_TOKENS; i++)
		cache_fail_note(&c, n[i], now, -1, "bad_json", CACHE_FAIL_TOKEN);
	ck_assert(!cache_backoff_active(&c, now));
	/* Distinct tokens failing within the window: host-wide, for CACHE_BACKOFF_DEF. */
	for (i = 1; i < CACHE_FAIL_TOKENS - 1; i++)
		cache_fail_note(&c, n[10 + i], now - CACHE_FAIL_WINDOW, -1, "timeout",
				CACHE_FAIL_COUNTED); /* outside the window at now */
	cache_fail_note(&c, n[20], now, -1, "timeout", CACHE_FAIL_COUNTED);
	ck_assert(!cache_backoff_active(&c, now));
	for (i = 21; i < 20 + CACHE_FAIL_TOKENS - 1; i++)
		cache_fail_note(&c, n[i], now, -1, "connect_failed", CACHE_FAIL_COUNTED);
	ck_assert(cache_backoff_active(&c, now));
	ck_assert_int_eq(cache_backoff_until(&c, now), now + CACHE_BACKOFF_DEF);
	ck_assert(cache_backoff_get(&c, n[40], now, &b));
	ck_assert(b.host_wide);
	ck_assert_str_eq(b.reason, "failures");
	/* A token's own record comes first (a waiter reports its word). */
	ck_assert(cache_backoff_get(&c, n[20], now, &b));
	ck_assert(!b.host_wide);
	cache_close(&c);

	/* Retry-After honoured and capped; a word we do not know is stored as "internal". */
	fresh_cfg();
	open_ok(&c, true);
	cache_fail_note(&c, n[0], now, 100000, "rm -rf /", CACHE_FAIL_TOKEN);
	ck_assert(cache_backoff_get(&c, n[0], now, &b));
	ck_assert_int_eq(b.until, now + CACHE_BACKOFF_MAX);
	ck_assert_str_eq(b.reason, "internal");
	cache_fail_note(&c, n[1], now, 42, "http_status", CACHE_FAIL_COUNTED);
	ck_assert(cache_backoff_get(&c, n[1], now, &b));
	ck_assert_int_eq(b.until, now + 42);
	/* Bounded: the newest CACHE_FAIL_RECORDS are kept, the file stays small. */
	for (i = 2; i < CACHE_FAIL_RECORDS * 3; i++)
		cache_fail_note(&c, n[i], now + i, -1, "bad_json", CACHE_FAIL_TOKEN);
	ck_assert(cache_backoff_get(&c, n[CACHE_FAIL_RECORDS * 3 - 1], now + 50, &b));
	ck_assert(!cache_backoff_get(&c, n[0], now + 50, &b)); /* pushed out (until now + 600) */
	cache_backoff_file(&c, file);
	{
		size_t len;
		unsigned char *raw = read_raw(dirpath, file, &len);

		ck_assert_uint_le(len, CACHE_BACKOFF_FILE_MAX);
		/* Entry names only: no token in the file. */
		ck_assert_ptr_null(memmem(raw, len, "tok-", 4));
		free(raw);
	}
	ck_assert_int_eq(count_prefixed(dirpath, ".tmp-"), 0);
	cache_close(&c);
}
END_TEST

START_TEST(test_backoff_marker_not_trusted)
{
	struct cache c, other;
	struct apt_config cfg_b;
	struct cache_backoff b;
	time_t now = time(NULL);
	char name[CACHE_NAME_LEN + 1], file[32], p[PATH_MAX], real[PATH_MAX];
	unsigned char *raw, *copy, big[CACHE_BACKOFF_FILE_MAX + 100];
	size_t len;

	fresh_cfg();
	cfg.introspection_url = "http://127.0.0.1:1/a";
	open_ok(&c, true);
	cache_name(&c, TOKEN_A, strlen(TOKEN_A), name);
	write_backoff(&c, "garbage\n", 8, 0600);
	ck_assert(!cache_backoff_get(&c, name, now, &b));
	write_backoff(&c, "", 0, 0600);
	ck_assert(!cache_backoff_get(&c, name, now, &b));
	/* A good marker, then damaged in every byte: never believed. */
	cache_fail_note(&c, name, now, 60, "timeout", CACHE_FAIL_HOST);
	ck_assert(cache_backoff_get(&c, name, now, &b));
	cache_backoff_file(&c, file);
	raw = read_raw(dirpath, file, &len);
	copy = malloc(len);
	ck_assert_ptr_nonnull(copy);
	for (size_t i = 0; i < len; i++) {
		memcpy(copy, raw, len);
		copy[i] ^= 1;
		write_backoff(&c, copy, len, 0600);
		ck_assert_msg(!cache_backoff_get(&c, name, now, &b), "bit flipped at %zu", i);
	}
	/* Cut short, one byte more, too big. */
	write_backoff(&c, raw, len - 1, 0600);
	ck_assert(!cache_backoff_get(&c, name, now, &b));
	memset(big, '\n', sizeof(big));
	memcpy(big, raw, len);
	write_backoff(&c, big, len + 1, 0600);
	ck_assert(!cache_backoff_get(&c, name, now, &b));
	write_backoff(&c, big, sizeof(big), 0600);
	ck_assert(!cache_backoff_get(&c, name, now, &b));
	/* Right bytes, wrong mode; then right again. */
	write_backoff(&c, raw, len, 0620);
	ck_assert(!cache_backoff_get(&c, name, now, &b));
	write_backoff(&c, raw, len, 0600);
	ck_assert(cache_backoff_get(&c, name, now, &b));
	/* Far beyond what we would write (the clock went back, or a planted copy). */
	ck_assert(!cache_backoff_get(&c, name, now - CACHE_BACKOFF_MAX, &b));
	/* Another configuration's valid marker copied under our name. */
	cfg_b = cfg;
	cfg_b.introspection_url = "http://127.0.0.1:1/b";
	ck_assert_int_eq(cache_open(&other, &cfg_b, false, NULL, 0), APT_OK);
	cache_backoff_set(&other, now, 60);
	{
		char ofile[32];
		size_t olen;
		unsigned char *o;

		cache_backoff_file(&other, ofile);
		o = read_raw(dirpath, ofile, &olen);
		write_backoff(&c, o, olen, 0600);
		free(o);
	}
	ck_assert(!cache_backoff_get(&c, name, now, &b));
	cache_close(&other);
	/* Through a symbolic link. */
	write_raw(dirpath, "real-backoff", raw, len, 0600);
	unit_join(real, sizeof(real), dirpath, "real-backoff");
	unit_join(p, sizeof(p), dirpath, file);
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(symlink(real, p), 0);
	ck_assert(!cache_backoff_get(&c, name, now, &b));
	/* And a marker we cannot read is replaced whole by the next failure. */
	ck_assert_int_eq(unlink(p), 0);
	write_backoff(&c, "garbage\n", 8, 0600);
	cache_fail_note(&c, name, now, -1, "timeout", CACHE_FAIL_COUNTED);
	ck_assert(cache_backoff_get(&c, name, now, &b));
	free(raw);
	free(copy);
	cache_close(&c);
}
END_TEST

/* --- single flight ------------------------------------------------------------------- */

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

START_TEST(test_lock_across_processes)
{
	struct cache c;
	char name[CACHE_NAME_LEN + 1], same[CACHE_NAME_LEN + 1], other[CACHE_NAME_LEN + 1];
	int up[2], down[2], fd, status;
	char x = 0;
	pid_t pid;

	fresh_cfg();
	open_ok(&c, true);
	cache_name(&c, TOKEN_A, strlen(TOKEN_A), name);
	/* Another name on the same stripe (the first byte), and one on another stripe. */
	memcpy(same, name, sizeof(same));
	same[CACHE_NAME_LEN - 1] = same[CACHE_NAME_LEN - 1] == '0' ? '1' : '0';
	memcpy(other, name, sizeof(other));
	other[0] = other[0] == '0' ? '1' : '0';

	fd = cache_lock(&c, name, 1000);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pipe(up), 0);
	ck_assert_int_eq(pipe(down), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct timespec t0;
		int l;
		long waited;

		/* Our copy of the parent's descriptor would hold its lock for ever. */
		close(fd);
		l = cache_lock(&c, other, 0);
		if (l < 0)
			_exit(3);
		cache_unlock(l);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		l = cache_lock(&c, same, 300);
		waited = ms_since(&t0);
		if (l >= 0)
			_exit(4);
		if (errno != ETIMEDOUT) /* "someone held it", told apart from "no lock at all" */
			_exit(8);
		if (waited < 280 || waited > 5000)
			_exit(5);
		if (write(up[1], "w", 1) != 1 || read(down[0], &x, 1) != 1)
			_exit(6);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		l = cache_lock(&c, same, 5000);
		if (l < 0)
			_exit(7);
		cache_unlock(l);
		_exit(0);
	}
	ck_assert_int_eq(read(up[0], &x, 1), 1);
	cache_unlock(fd);
	ck_assert_int_eq(write(down[1], "u", 1), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
	/* Free again for us too. */
	fd = cache_lock(&c, same, 0);
	ck_assert_int_ge(fd, 0);
	cache_unlock(fd);
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
	cache_close(&c);
}
END_TEST

/* --- prune and walk -------------------------------------------------------------------- */

/* Writes an entry for token tok and returns its name in out. */
static void put(struct cache *c, const char *tok, bool positive, char out[CACHE_NAME_LEN + 1])
{
	struct cache_entry w;

	cache_name(c, tok, strlen(tok), out);
	if (positive)
		make_positive(&w, time(NULL));
	else
		make_negative(&w, time(NULL));
	ck_assert_int_eq(cache_write(c, out, &w), 0);
	cache_entry_free(&w);
}

START_TEST(test_prune_by_age)
{
	struct cache c;
	char old[CACHE_NAME_LEN + 1], mid[CACHE_NAME_LEN + 1], young[CACHE_NAME_LEN + 1],
	    future[CACHE_NAME_LEN + 1];
	time_t now = time(NULL);

	fresh_cfg();
	cfg.cache_ttl = 60;
	cfg.negative_cache_ttl = 10;
	cfg.offline_grace = 30; /* lifetime: max(60, 10) + 30 = 90 s */
	open_ok(&c, true);
	put(&c, "old", true, old);
	put(&c, "mid", false, mid);
	put(&c, "young", true, young);
	put(&c, "future", true, future);
	set_mtime(dirpath, old, now - 91);
	set_mtime(dirpath, mid, now - 89);
	set_mtime(dirpath, young, now);
	set_mtime(dirpath, future, now + 3600); /* a clock that jumped: trust none of it */
	/* Left by crashed writers: removed once older than a minute. */
	write_raw(dirpath, ".tmp-aaaaaaaaaaaa", "x", 1, 0600);
	set_mtime(dirpath, ".tmp-aaaaaaaaaaaa", now - 61);
	write_raw(dirpath, ".tmp-bbbbbbbbbbbb", "x", 1, 0600);
	set_mtime(dirpath, ".tmp-bbbbbbbbbbbb", now - 10);
	write_raw(dirpath, ".key-cccccccccccc", "x", 1, 0600);
	set_mtime(dirpath, ".key-cccccccccccc", now - 120);
	write_raw(dirpath, "README", "x", 1, 0600);
	set_mtime(dirpath, "README", now - 100000);
	/* Backoff markers once nothing in them can hold any more, of any configuration. */
	write_raw(dirpath, ".backoff-0000000000000000", "x", 1, 0600);
	set_mtime(dirpath, ".backoff-0000000000000000",
		  now - CACHE_BACKOFF_MAX - CACHE_FAIL_WINDOW - 1);
	write_raw(dirpath, ".backoff-1111111111111111", "x", 1, 0600);
	set_mtime(dirpath, ".backoff-1111111111111111", now - 60);

	ck_assert_int_eq(cache_prune(&c, now), 2);
	ck_assert(!exists_in(dirpath, old));
	ck_assert(exists_in(dirpath, mid));
	ck_assert(exists_in(dirpath, young));
	ck_assert(!exists_in(dirpath, future));
	ck_assert(!exists_in(dirpath, ".tmp-aaaaaaaaaaaa"));
	ck_assert(exists_in(dirpath, ".tmp-bbbbbbbbbbbb"));
	ck_assert(!exists_in(dirpath, ".key-cccccccccccc"));
	ck_assert(exists_in(dirpath, "README"));
	ck_assert(exists_in(dirpath, ".key"));
	ck_assert(!exists_in(dirpath, ".backoff-0000000000000000"));
	ck_assert(exists_in(dirpath, ".backoff-1111111111111111"));
	cache_close(&c);
}
END_TEST

START_TEST(test_prune_by_count)
{
	struct cache c;
	char names[5][CACHE_NAME_LEN + 1], tok[16];
	time_t now = time(NULL);
	int i;

	fresh_cfg();
	open_ok(&c, true);
	for (i = 0; i < 5; i++) {
		snprintf(tok, sizeof(tok), "t%d", i);
		put(&c, tok, i % 2 == 0, names[i]);
		set_mtime(dirpath, names[i], now - 10 * (i + 1)); /* names[4] the oldest */
	}
	ck_assert_int_eq(cache_prune(&c, now), 5);
	cfg.cache_max_entries = 3;
	ck_assert_int_eq(cache_prune(&c, now), 3);
	for (i = 0; i < 5; i++)
		ck_assert_msg(exists_in(dirpath, names[i]) == (i < 3), "entry %d", i);
	cache_close(&c);
}
END_TEST

/* A planted .prune with numbers at the edges of long long: read as none, rewritten sane. */
START_TEST(test_prune_marker_out_of_range)
{
	static const char *const planted[] = {
	    "-9223372036854775808 9223372036854775807\n",
	    "9223372036854775807 1\n",
	    "0 -5\n",
	    "garbage\n",
	};
	struct cache c;
	char names[1][CACHE_NAME_LEN + 1];
	unsigned char *data;
	long long t = -1, n = -1;
	size_t len;

	for (size_t i = 0; i < sizeof(planted) / sizeof(planted[0]); i++) {
		fresh_cfg();
		open_ok(&c, true);
		write_raw(dirpath, ".prune", planted[i], strlen(planted[i]), 0600);
		put(&c, "tok", true, names[0]);
		data = read_raw(dirpath, ".prune", &len);
		ck_assert_int_eq(sscanf((char *)data, "%lld %lld", &t, &n), 2);
		/* A full scan ran and wrote its own time and count. */
		ck_assert_msg(t > time(NULL) - 60 && t <= time(NULL), "%s: .prune now %s",
			      planted[i], (char *)data);
		ck_assert_int_eq(n, 1);
		free(data);
		cache_close(&c);
	}
}
END_TEST

/*
 * .prune is read as prune_note writes it, "TIME COUNT\n", and nothing
 * looser: a recent time in any other form (sign, spaces, trailing bytes)
 * is read as none, so a full scan runs and the count starts again at 1.
 * The exact form is kept and its count goes on.
 */
START_TEST(test_prune_marker_strict)
{
	/* What comes before and after a recent time; the last one is the exact form. */
	static const char *const planted[][2] = {
	    {"", " 5 x\n"}, {" ", " 5\n"}, {"+", " 5\n"}, {"", " +5\n"}, {"", "  5\n"}, {"", " 5"},
	    {"", " 5\n\n"}, {"0", " 5\n"}, {"", " 05\n"}, {"", "\t5\n"}, {"", " 5\n"},
	};
	const size_t last = sizeof(planted) / sizeof(planted[0]) - 1;
	struct cache c;
	char names[1][CACHE_NAME_LEN + 1], line[64];
	unsigned char *data;
	long long t = -1, n = -1;
	size_t len;

	for (size_t i = 0; i <= last; i++) {
		fresh_cfg();
		open_ok(&c, true);
		snprintf(line, sizeof(line), "%s%lld%s", planted[i][0], (long long)time(NULL),
			 planted[i][1]);
		write_raw(dirpath, ".prune", line, strlen(line), 0600);
		put(&c, "tok", true, names[0]);
		data = read_raw(dirpath, ".prune", &len);
		ck_assert_int_eq(sscanf((char *)data, "%lld %lld", &t, &n), 2);
		ck_assert_msg(n == (i == last ? 6 : 1), "planted \"%s\": .prune now %s", line,
			      (char *)data);
		free(data);
		cache_close(&c);
	}
}
END_TEST

struct tally {
	int valid, invalid, calls, stop_after;
	char bad[CACHE_NAME_LEN + 1];
};

static int count_cb(const struct cache *c, const char *name, const struct cache_entry *e, void *arg)
{
	struct tally *t = arg;

	(void)c;
	t->calls++;
	if (e == NULL) {
		t->invalid++;
		snprintf(t->bad, sizeof(t->bad), "%s", name);
	} else {
		ck_assert(e->kind == CACHE_POSITIVE || e->kind == CACHE_NEGATIVE);
		t->valid++;
	}
	return t->stop_after && t->calls == t->stop_after;
}

START_TEST(test_walk)
{
	struct cache c;
	char a[CACHE_NAME_LEN + 1], b[CACHE_NAME_LEN + 1];
	static const char planted[] =
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	struct tally t;

	fresh_cfg();
	open_ok(&c, true);
	put(&c, TOKEN_A, true, a);
	put(&c, TOKEN_B, false, b);
	write_raw(dirpath, planted, "apitoken-cache-entry 1\nend\nmac 00\n", 34, 0600);
	write_raw(dirpath, "not-an-entry", "x", 1, 0600);
	cache_backoff_set(&c, time(NULL), 10);

	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(cache_walk(&c, count_cb, &t), 0);
	ck_assert_int_eq(t.valid, 2);
	ck_assert_int_eq(t.invalid, 1);
	ck_assert_str_eq(t.bad, planted);

	/* A callback's non-zero return stops the walk. */
	memset(&t, 0, sizeof(t));
	t.stop_after = 1;
	ck_assert_int_eq(cache_walk(&c, count_cb, &t), 0);
	ck_assert_int_eq(t.calls, 1);

	/* cache_remove takes entry names only. */
	ck_assert_int_eq(cache_remove(&c, planted), 0);
	ck_assert_int_eq(cache_remove(&c, ".key"), -1);
	ck_assert_int_eq(cache_remove(&c, "../x"), -1);
	ck_assert(exists_in(dirpath, ".key"));
	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(cache_walk(&c, count_cb, &t), 0);
	ck_assert_int_eq(t.valid, 2);
	ck_assert_int_eq(t.invalid, 0);
	cache_close(&c);
}
END_TEST

static Suite *cache_suite(void)
{
	Suite *s = suite_create("cache");
	TCase *tc;

	tc = tcase_create("open");
	tcase_add_test(tc, test_open_creates_dir_and_key);
	tcase_add_test(tc, test_open_without_create);
	tcase_add_test(tc, test_names_differ_by_key);
	tcase_add_test(tc, test_name_is_hmac_of_token);
	tcase_add_test(tc, test_names_bound_to_config);
	tcase_add_test(tc, test_entry_of_other_config);
	tcase_add_test(tc, test_refuses_symlink_dir);
	tcase_add_test(tc, test_refuses_writable_dir);
	tcase_add_test(tc, test_refuses_foreign_owner);
	tcase_add_test(tc, test_refuses_bad_key);
	suite_add_tcase(s, tc);

	tc = tcase_create("entries");
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_lifetimes);
	tcase_add_test(tc, test_damaged_entries);
	tcase_add_test(tc, test_symlink_entry);
	tcase_add_test(tc, test_write_leaves_no_temp_files);
	tcase_add_test(tc, test_entry_size_limit);
	tcase_set_timeout(tc, 60); /* every byte of an entry is damaged in turn */
	suite_add_tcase(s, tc);

	tc = tcase_create("backoff");
	tcase_add_test(tc, test_backoff);
	tcase_add_test(tc, test_backoff_per_config);
	tcase_add_test(tc, test_token_backoff);
	tcase_add_test(tc, test_backoff_marker_not_trusted);
	suite_add_tcase(s, tc);

	tc = tcase_create("lock");
	tcase_add_test(tc, test_lock_across_processes);
	suite_add_tcase(s, tc);

	tc = tcase_create("prune");
	tcase_add_test(tc, test_prune_by_age);
	tcase_add_test(tc, test_prune_by_count);
	tcase_add_test(tc, test_prune_marker_out_of_range);
	tcase_add_test(tc, test_prune_marker_strict);
	tcase_add_test(tc, test_walk);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	top = unit_tmpdir("check_cache");
	return unit_run(cache_suite());
}
