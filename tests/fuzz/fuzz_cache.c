/*
 * libFuzzer harness for the cache files the module reads as root
 * (lib/cache.c): entries, backoff markers and .prune, planted with a valid
 * MAC where the real file has one, so the fuzzer reaches the parsers behind
 * it. The first input byte picks the file; the rest is its body, in which
 * "@TAG@" stands for this run's configuration tag and "@NAME@" for the
 * entry name of the harness's token (both change with the random host key,
 * so a committed seed could not hold them).
 *
 * Oracles:
 *   entry    cache_read takes it or leaves it; one it takes has a known kind,
 *            a fetch time in range,
 *            and written back by cache_format_entry reads as the same entry;
 *   marker   a backoff it holds ends after now and at most the cap away, with
 *            a reason word of [a-z_]; noting a failure on top writes a marker
 *            that reads back with that token's own record;
 *   .prune   the next cache write leaves it as "TIME COUNT" with TIME not in
 *            the future and COUNT not negative.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cache.h"
#include "oracle.h"
#include "sha256.h"

static struct apt_config cfg;
static struct cache cache;
static char name[CACHE_NAME_LEN + 1];

static void setup(void)
{
	static char dir[300], url[] = "https://issuer.example/introspect", user[] = "username",
			      ranges[] = "allowed_ip_ranges";
	char err[512];

	snprintf(dir, sizeof(dir), "%s/cache", fuzz_dir(false));
	cfg.cache = true;
	cfg.cache_dir = dir;
	cfg.cache_ttl = 60;
	cfg.negative_cache_ttl = 10;
	cfg.offline_grace = 30;
	cfg.cache_max_entries = 4;
	cfg.introspection_url = url;
	cfg.username_claim = user;
	cfg.ip_ranges_claim = ranges;
	if (cache_open(&cache, &cfg, true, err, sizeof(err)) != APT_OK) {
		fprintf(stderr, "fuzz_cache: %s\n", err);
		abort();
	}
	cache_name(&cache, "ucat_fuzz", 9, name);
}

/* The input with @TAG@ and @NAME@ put in. */
static void expand(struct buf *out, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len;) {
		if (len - i >= 5 && memcmp(p + i, "@TAG@", 5) == 0) {
			buf_append(out, cache.tag, strlen(cache.tag));
			i += 5;
		} else if (len - i >= 6 && memcmp(p + i, "@NAME@", 6) == 0) {
			buf_append(out, name, strlen(name));
			i += 6;
		} else {
			buf_append(out, p + i++, 1);
		}
	}
}

/* body, then "mac HEX\n" of HMAC(host key, file "\n" body), as lib/cache.c writes them. */
static void plant(const char *file, const uint8_t *in, size_t inlen)
{
	struct buf b = BUF_INIT, body = BUF_INIT;
	unsigned char mac[SHA256_DIGEST_LEN];
	char path[400];
	size_t len;
	const unsigned char *p;

	expand(&body, in, inlen);
	p = body.p;
	len = body.len;
	buf_append(&b, file, strlen(file));
	buf_append(&b, "\n", 1);
	buf_append(&b, p, len);
	if (b.failed)
		abort();
	hmac_sha256(cache.key, CACHE_KEY_LEN, b.p, b.len, mac);
	b.len = 0;
	buf_append(&b, p, len);
	buf_append(&b, "mac ", 4);
	for (size_t i = 0; i < sizeof(mac); i++)
		buf_appendf(&b, "%02x", mac[i]);
	buf_append(&b, "\n", 1);
	if (b.failed)
		abort();
	snprintf(path, sizeof(path), "%s/%s", cfg.cache_dir, file);
	write_file(path, b.p, b.len);
	buf_free(&b);
	buf_free(&body);
}

static bool same_claims(const struct claims *a, const struct claims *b)
{
	for (int i = 0; i < CLAIM_COUNT; i++) {
		const struct claim *x = &a->c[i], *y = &b->c[i];

		if (x->type != y->type || x->n != y->n || x->len != y->len ||
		    (x->len > 0 && memcmp(x->s, y->s, x->len) != 0))
			return false;
	}
	return true;
}

static void fuzz_entry(const uint8_t *p, size_t len, time_t now)
{
	struct cache_entry e, again;
	struct buf out = BUF_INIT;
	char path[400];

	plant(name, p, len);
	if (cache_read(&cache, name, &e) < 0)
		return;
	CHECK(e.kind == CACHE_POSITIVE || e.kind == CACHE_NEGATIVE);
	CHECK(e.fetched >= 0 && e.fetched <= (time_t)1 << 40);
	(void)cache_entry_state(&e, now);
	/* Written back, the same entry. */
	CHECK(cache_format_entry(&cache, name, &e, &out) == 0);
	snprintf(path, sizeof(path), "%s/%s", cfg.cache_dir, name);
	write_file(path, out.p, out.len);
	CHECK(cache_read(&cache, name, &again) == 0);
	CHECK(again.kind == e.kind && again.fetched == e.fetched);
	CHECK(strcmp(again.fingerprint, e.fingerprint) == 0);
	CHECK(same_claims(&again.claims, &e.claims));
	cache_entry_free(&again);
	cache_entry_free(&e);
	buf_free(&out);
}

static void check_backoff(const struct cache_backoff *b, time_t now)
{
	CHECK(b->until > now && b->until - now <= CACHE_BACKOFF_MAX);
	CHECK(b->reason[0] != '\0' &&
	      strspn(b->reason, "abcdefghijklmnopqrstuvwxyz_") == strlen(b->reason));
}

static void fuzz_marker(const uint8_t *p, size_t len, time_t now)
{
	struct cache_backoff b;
	char file[32];

	cache_backoff_file(&cache, file);
	plant(file, p, len);
	if (cache_backoff_get(&cache, name, now, &b))
		check_backoff(&b, now);
	if (cache_backoff_get(&cache, NULL, now, &b))
		check_backoff(&b, now);
	(void)cache_backoff_until(&cache, now);
	/* A failure noted on top of whatever was there reads back as this token's. */
	cache_fail_note(&cache, name, now, 5, "timeout", CACHE_FAIL_TOKEN);
	CHECK(cache_backoff_get(&cache, name, now, &b));
	check_backoff(&b, now);
}

static void fuzz_prune(const uint8_t *p, size_t len, time_t now)
{
	struct cache_entry e;
	struct buf b = BUF_INIT;
	long long t = -1, n = -1;
	char path[400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/.prune", cfg.cache_dir);
	write_file(path, p, len);
	memset(&e, 0, sizeof(e));
	e.kind = CACHE_NEGATIVE;
	e.fetched = now;
	snprintf(e.fingerprint, sizeof(e.fingerprint), "sha256:00000000");
	cache_lifetimes(&cfg, &e);
	CHECK(cache_write(&cache, name, &e) == 0);
	f = fopen(path, "r");
	CHECK(f != NULL);
	CHECK(fscanf(f, "%lld %lld", &t, &n) == 2);
	fclose(f);
	/* The write reads the clock itself, a second later at most. */
	CHECK(t >= 0 && t <= time(NULL) && n >= 0);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	time_t now = time(NULL);

	if (cache.cfg == NULL)
		setup();
	if (size < 1 || size > 8192)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_entry(data + 1, size - 1, now);
		break;
	case 1:
		fuzz_marker(data + 1, size - 1, now);
		break;
	default:
		fuzz_prune(data + 1, size - 1, now);
		break;
	}
	return 0;
}
