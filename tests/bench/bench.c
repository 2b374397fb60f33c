/*
 * make bench: what a login costs, against the real test issuer on loopback
 * (tests/idp) and the real libpam. A benchmark, not a test: it prints a
 * table, writes build/bench.json and says for each target whether it was
 * met; it exits non-zero only when something failed to run (a server, a
 * fork, a login that should have succeeded).
 *
 *  1. In-process pam_start_confdir … pam_end (testenv's pam_run), timed
 *     around the PAM calls only: a cache miss (a token never seen: helper
 *     child, introspection, cache write) against a cache hit. The cache is
 *     there to take the issuer and the helper off the common path, so a hit
 *     should be at least 50x cheaper than a miss.
 *  2. One process per authentication (tests/bench/pamrun), as sshd runs the
 *     stack once per connection, so exec, libpam and module loading count:
 *     pam_permit alone, the module on a cache hit, and the module without a
 *     cache. Round-robin so machine noise lands on all three alike. A hit
 *     should cost at most 1.5x a login through pam_permit (DESIGN.md §3).
 *  3. 100 processes logging in at once with one token on a cold cache:
 *     single flight (DESIGN.md §6) means the issuer sees one request.
 *  4. A hit with 100,000 entries in the cache against one with 10: an entry
 *     is found by its name, so the size of the cache should not show
 *     (p50 ratio at most 1.2).
 *
 * Each service is made with testenv's make_service, then kept under its own
 * name (ROOT/NAME.conf, ROOT/NAME.d/svc) with its own cache dir, so several
 * can be used side by side. Run from the top of the tree (make bench).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "buf.h"
#include "cache.h"
#include "config.h"
#include "testenv.h"

#define USER  "alice"
#define RHOST "192.0.2.7"
#define SCOPE "ssh"
#define TTL   3600 /* tokens outlive the run */

#define MISS_N	    300
#define MISS_WARMUP 10
#define HIT_N	    2000
#define HIT_WARMUP  50
#define PROC_N	    300
#define PROC_WARMUP 10
#define PAR_N	    100
#define BIG_N	    100000
#define SMALL_N	    10

#define PAMRUN	 "build/bench/pamrun"
#define JSON_OUT "build/bench.json"

static struct server idp;
static pid_t main_pid;
static int failures;
static bool shown_log;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	failures++;
	fprintf(stderr, "bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

/* The server and the scratch tree go whatever way the run ends (not in forked children). */
static void cleanup(void)
{
	if (getpid() != main_pid)
		return;
	server_stop(&idp);
	testenv_teardown();
	T.root[0] = '\0';
}

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* --- statistics ------------------------------------------------------------ */

struct stats {
	double p50, p99, mean;
	size_t n;
};

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v. */
static double percentile(const double *v, size_t n, double p)
{
	size_t k = (size_t)ceil(p / 100.0 * (double)n);

	return v[k == 0 ? 0 : k - 1];
}

static struct stats summarize(double *v, size_t n)
{
	struct stats s = {0, 0, 0, n};
	double sum = 0;

	if (n == 0)
		return s;
	qsort(v, n, sizeof(*v), by_value);
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	s.p50 = percentile(v, n, 50);
	s.p99 = percentile(v, n, 99);
	s.mean = sum / (double)n;
	return s;
}

static double *samples(size_t n)
{
	double *v = calloc(n, sizeof(*v));

	if (v == NULL) {
		fprintf(stderr, "bench: out of memory\n");
		exit(1);
	}
	return v;
}

/* --- services -------------------------------------------------------------- */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;
	ssize_t n;

	if (f == NULL)
		return NULL;
	n = getdelim(&text, &len, '\0', f);
	fclose(f);
	if (n < 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* text with every `from` replaced by `to` (malloc). */
static char *replace_all(const char *text, const char *from, const char *to)
{
	struct buf b = BUF_INIT;
	const char *p = text, *q;

	while ((q = strstr(p, from)) != NULL) {
		buf_append(&b, p, (size_t)(q - p));
		buf_append(&b, to, strlen(to));
		p = q + strlen(from);
	}
	buf_append(&b, p, strlen(p));
	if (buf_terminate(&b) < 0) {
		buf_free(&b);
		return NULL;
	}
	return (char *)b.p;
}

/*
 * A service against the test issuer with its own cache dir ROOT/NAME-cache:
 * made by make_service (ROOT/apt.conf, ROOT/pam.d/svc), then kept as
 * ROOT/NAME.conf and ROOT/NAME.d/svc. Returns the confdir (malloc).
 */
static char *service(const char *name, const char *extra)
{
	char conf[4096], from[700], to[700], svcpath[1300], sub[700];
	char *url = idp_url(&idp), *text, *kept;
	const char *pd;

	snprintf(conf, sizeof(conf),
		 "introspection_url = %s\nclient_id = rs\nclient_secret_file = %s/secret\n"
		 "cache_dir = %s/%s-cache\ncache_ttl = 600\n%s",
		 url, T.root, T.root, name, extra);
	free(url);
	pd = make_service(conf, NULL);
	snprintf(svcpath, sizeof(svcpath), "%s/svc", pd);
	text = slurp(svcpath);
	snprintf(from, sizeof(from), "%s/apt.conf", T.root);
	snprintf(to, sizeof(to), "%s/%s.conf", T.root, name);
	if (text == NULL || (kept = replace_all(text, from, to)) == NULL || rename(from, to) != 0) {
		fprintf(stderr, "bench: keeping service %s: %s\n", name, strerror(errno));
		exit(1);
	}
	snprintf(sub, sizeof(sub), "%s/%s.d", T.root, name);
	mkdir(sub, 0755);
	snprintf(sub, sizeof(sub), "%s.d/svc", name);
	write_file(sub, 0644, kept);
	snprintf(sub, sizeof(sub), "%s.d/other", name);
	write_file(sub, 0644, "auth required pam_deny.so\naccount required pam_deny.so\n");
	free(text);
	free(kept);
	if (asprintf(&kept, "%s/%s.d", T.root, name) < 0)
		exit(1);
	return kept;
}

/* A stack of pam_permit alone, the floor of any login. */
static char *permit_service(void)
{
	char *dir;

	if (asprintf(&dir, "%s/permit.d", T.root) < 0)
		exit(1);
	mkdir(dir, 0755);
	write_file("permit.d/svc", 0644,
		   "auth required pam_permit.so\naccount required pam_permit.so\n");
	write_file("permit.d/other", 0644,
		   "auth required pam_deny.so\naccount required pam_deny.so\n");
	return dir;
}

/* --- one login ------------------------------------------------------------- */

/* In-process, through libpam (pam_run); µs around the PAM calls only. */
static double login_us(const char *dir, const char *tok)
{
	struct pam_result r;
	double t0, t1;

	log_reset();
	t0 = now_us();
	r = pam_run(dir, USER, RHOST, tok);
	t1 = now_us();
	if (r.auth != PAM_SUCCESS) {
		fail("login via %s: %s", dir, pam_strerror(NULL, r.auth));
		if (!shown_log) {
			fprintf(stderr, "%s", log_text());
			shown_log = true;
		}
	}
	return t1 - t0;
}

/* One authentication in a new process (fork + exec pamrun); µs fork to reaped. */
static double proc_us(const char *dir, const char *tokfile)
{
	char *argv[] = {PAMRUN, (char *)dir, "svc", USER, (char *)tokfile, RHOST, NULL};
	double t0, t1;
	pid_t pid;
	int st;

	t0 = now_us();
	pid = fork();
	if (pid < 0) {
		fail("fork: %s", strerror(errno));
		return 0;
	}
	if (pid == 0) {
		execv(PAMRUN, argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	t1 = now_us();
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail("%s %s: %s %d", PAMRUN, dir, WIFEXITED(st) ? "exit" : "signal",
		     WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return t1 - t0;
}

/*
 * What the issuer saw over a phase must be what the phase claims to measure
 * (a "hit" that went to the network would make the figures meaningless).
 */
static void expect_requests(const char *what, long before, long want)
{
	long got = idp_introspections(&idp) - before;

	if (got != want)
		fail("%s: the issuer got %ld introspection requests, want %ld", what, got, want);
}

/* --- 1. in-process miss vs hit --------------------------------------------- */

struct inproc {
	struct stats miss, hit, permit;
	double ratio;
};

/*
 * permit_dir: a stack of pam_permit alone, timed alongside the hits. It is
 * libpam's own floor (pam_start_confdir loading the modules, libaudit's
 * records, pam_end unloading them), which no cache can go under.
 */
static struct inproc bench_inprocess(const char *permit_dir)
{
	char *miss_dir = service("inproc-miss", "cache = yes\n");
	char *hit_dir = service("inproc-hit", "cache = yes\n");
	char *toks[MISS_WARMUP + MISS_N], *hit_tok = idp_mint(&idp, USER, SCOPE, TTL, NULL);
	double *miss = samples(MISS_N), *hit = samples(HIT_N), *permit = samples(HIT_N);
	struct inproc r;
	long before;

	for (int i = 0; i < MISS_WARMUP + MISS_N; i++)
		toks[i] = idp_mint(&idp, USER, SCOPE, TTL, NULL);
	for (int i = 0; i < MISS_WARMUP; i++)
		login_us(miss_dir, toks[i]);
	before = idp_introspections(&idp);
	for (int i = 0; i < MISS_N; i++)
		miss[i] = login_us(miss_dir, toks[MISS_WARMUP + i]);
	expect_requests("in-process misses", before, MISS_N);

	login_us(hit_dir, hit_tok); /* the one miss that fills the entry */
	for (int i = 0; i < HIT_WARMUP; i++) {
		login_us(hit_dir, hit_tok);
		login_us(permit_dir, hit_tok);
	}
	/* Alternating, each pair in turn led by the other. */
	before = idp_introspections(&idp);
	for (int i = 0; i < HIT_N; i++) {
		if (i % 2) {
			hit[i] = login_us(hit_dir, hit_tok);
			permit[i] = login_us(permit_dir, hit_tok);
		} else {
			permit[i] = login_us(permit_dir, hit_tok);
			hit[i] = login_us(hit_dir, hit_tok);
		}
	}
	expect_requests("in-process hits", before, 0);

	r.miss = summarize(miss, MISS_N);
	r.hit = summarize(hit, HIT_N);
	r.permit = summarize(permit, HIT_N);
	r.ratio = r.hit.p50 > 0 ? r.miss.p50 / r.hit.p50 : 0;
	for (int i = 0; i < MISS_WARMUP + MISS_N; i++)
		free(toks[i]);
	free(hit_tok);
	free(miss);
	free(hit);
	free(permit);
	free(miss_dir);
	free(hit_dir);
	return r;
}

/* --- 2. one process per authentication ------------------------------------- */

enum { K_PERMIT, K_HIT, K_NOCACHE, K_COUNT };
static const char *const kind_names[K_COUNT] = {"permit", "hit", "nocache"};

struct proc {
	struct stats s[K_COUNT];
	double ratio_hit, ratio_nocache, ratio_hit_mean, ratio_nocache_mean;
};

static struct proc bench_process(const char *permit_dir)
{
	char *dirs[K_COUNT], *tok = idp_mint(&idp, USER, SCOPE, TTL, NULL), tokfile[700];
	double *v[K_COUNT];
	struct proc r;
	long before;

	dirs[K_PERMIT] = strdup(permit_dir);
	dirs[K_HIT] = service("proc-hit", "cache = yes\n");
	dirs[K_NOCACHE] = service("proc-nocache", "cache = no\n");
	snprintf(tokfile, sizeof(tokfile), "%s", write_file("token", 0600, tok));
	login_us(dirs[K_HIT], tok); /* fills the entry the hits read */
	for (int k = 0; k < K_COUNT; k++)
		v[k] = samples(PROC_N);
	for (int i = 0; i < PROC_WARMUP; i++)
		for (int k = 0; k < K_COUNT; k++)
			proc_us(dirs[k], tokfile);
	/* Round-robin, and each round starts with the next kind: no kind always goes first. */
	before = idp_introspections(&idp);
	for (int i = 0; i < PROC_N; i++)
		for (int j = 0; j < K_COUNT; j++) {
			int k = (i + j) % K_COUNT;
			v[k][i] = proc_us(dirs[k], tokfile);
		}
	expect_requests("process runs (only cache = no asks)", before, PROC_N);
	for (int k = 0; k < K_COUNT; k++) {
		r.s[k] = summarize(v[k], PROC_N);
		free(v[k]);
		free(dirs[k]);
	}
	r.ratio_hit = r.s[K_HIT].p50 / r.s[K_PERMIT].p50;
	r.ratio_nocache = r.s[K_NOCACHE].p50 / r.s[K_PERMIT].p50;
	r.ratio_hit_mean = r.s[K_HIT].mean / r.s[K_PERMIT].mean;
	r.ratio_nocache_mean = r.s[K_NOCACHE].mean / r.s[K_PERMIT].mean;
	free(tok);
	return r;
}

/* --- 3. parallel cold logins ----------------------------------------------- */

struct par {
	long requests;
	int succeeded, started;
	double wall_ms;
};

static struct par bench_parallel(void)
{
	char *dir = service("parallel", "cache = yes\n");
	char *tok = idp_mint(&idp, USER, SCOPE, TTL, NULL);
	pid_t pids[PAR_N];
	struct par r = {0, 0, 0, 0};
	long before = idp_introspections(&idp);
	double t0;
	int go[2];

	if (pipe2(go, O_CLOEXEC) != 0) {
		fail("pipe: %s", strerror(errno));
		return r;
	}
	fflush(stdout);
	fflush(stderr);
	for (int i = 0; i < PAR_N; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			fail("fork: %s", strerror(errno));
			break;
		}
		if (pids[i] == 0) {
			char c;
			struct pam_result pr;

			close(go[1]);
			/* Everyone waits here until the parent closes its end: EOF is the start. */
			while (read(go[0], &c, 1) < 0 && errno == EINTR)
				;
			pr = pam_run(dir, USER, RHOST, tok);
			_exit(pr.auth == PAM_SUCCESS ? 0 : 1);
		}
		r.started++;
	}
	close(go[0]);
	t0 = now_us();
	close(go[1]);
	for (int i = 0; i < r.started; i++) {
		int st;

		while (waitpid(pids[i], &st, 0) < 0 && errno == EINTR)
			;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			r.succeeded++;
	}
	r.wall_ms = (now_us() - t0) / 1000;
	r.requests = idp_introspections(&idp) - before;
	if (r.succeeded != PAR_N)
		fail("parallel logins: %d of %d succeeded", r.succeeded, PAR_N);
	free(tok);
	free(dir);
	return r;
}

/* --- 4. hit latency against cache size ------------------------------------- */

static const char hexd[] = "0123456789abcdef";

/*
 * Adds n filler entries to the cache of the service NAME: the library's own
 * naming and entry format (so each is a valid entry under the host key), with
 * the claims of the real token's entry, written plainly (no fsync: only the
 * count matters). Returns seconds taken, or -1.
 */
static double fill(const char *name, const char *realtok, long n)
{
	struct apt_config cfg;
	struct cache c;
	struct cache_entry tmpl;
	struct buf b = BUF_INIT;
	char arg[700], err[512], ename[CACHE_NAME_LEN + 1], tok[5 + 48 + 1];
	const char *argv[1] = {arg};
	unsigned char rnd[24];
	double t0, secs = -1;

	snprintf(arg, sizeof(arg), "config=%s/%s.conf", T.root, name);
	if (config_load(&cfg, 1, argv, err, sizeof(err)) != APT_OK) {
		fail("%s: %s", arg, err);
		config_free(&cfg);
		return -1;
	}
	if (cache_open(&c, &cfg, false, err, sizeof(err)) != APT_OK) {
		fail("%s", err);
		config_free(&cfg);
		return -1;
	}
	cache_name(&c, realtok, strlen(realtok), ename);
	if (cache_read(&c, ename, &tmpl) < 0) {
		fail("%s: the real token's entry is not there", cfg.cache_dir);
		goto out;
	}
	memcpy(tok, "ucat_", 5);
	t0 = now_us();
	for (long i = 0; i < n; i++) {
		int fd;

		if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
			break;
		for (size_t j = 0; j < sizeof(rnd); j++) {
			tok[5 + 2 * j] = hexd[rnd[j] >> 4];
			tok[5 + 2 * j + 1] = hexd[rnd[j] & 15];
		}
		tok[sizeof(tok) - 1] = '\0';
		cache_name(&c, tok, sizeof(tok) - 1, ename);
		b.len = 0;
		if (cache_format_entry(&c, ename, &tmpl, &b) < 0)
			break;
		fd = openat(c.dirfd, ename, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0600);
		if (fd < 0 || write(fd, b.p, b.len) != (ssize_t)b.len) {
			fail("%s/%s: %s", cfg.cache_dir, ename, strerror(errno));
			if (fd >= 0)
				close(fd);
			break;
		}
		close(fd);
	}
	secs = (now_us() - t0) / 1e6;
	cache_entry_free(&tmpl);
out:
	buf_free(&b);
	cache_close(&c);
	config_free(&cfg);
	return secs;
}

struct size {
	struct stats small, big;
	long small_entries, big_entries;
	double ratio, fill_s;
};

static struct size bench_cache_size(void)
{
	const char *extra = "cache = yes\ncache_max_entries = 200000\n";
	char *sdir = service("size-small", extra), *bdir = service("size-big", extra);
	char *tok = idp_mint(&idp, USER, SCOPE, TTL, NULL), path[700];
	double *vs = samples(HIT_N), *vb = samples(HIT_N);
	struct size r;
	long before;

	/* The real entry first (one real login each), then the filler beside it. */
	login_us(sdir, tok);
	login_us(bdir, tok);
	fill("size-small", tok, SMALL_N - 1);
	r.fill_s = fill("size-big", tok, BIG_N - 1);
	for (int i = 0; i < HIT_WARMUP; i++) {
		login_us(sdir, tok);
		login_us(bdir, tok);
	}
	/* Alternating, each pair in turn led by the other size. */
	before = idp_introspections(&idp);
	for (int i = 0; i < HIT_N; i++) {
		if (i % 2) {
			vs[i] = login_us(sdir, tok);
			vb[i] = login_us(bdir, tok);
		} else {
			vb[i] = login_us(bdir, tok);
			vs[i] = login_us(sdir, tok);
		}
	}
	expect_requests("hits in small and big caches", before, 0);
	r.small = summarize(vs, HIT_N);
	r.big = summarize(vb, HIT_N);
	r.ratio = r.big.p50 / r.small.p50;
	snprintf(path, sizeof(path), "%s/size-small-cache", T.root);
	r.small_entries = cache_entries(path);
	snprintf(path, sizeof(path), "%s/size-big-cache", T.root);
	r.big_entries = cache_entries(path);
	if (r.small_entries != SMALL_N || r.big_entries != BIG_N)
		fail("cache sizes: %ld and %ld entries, want %d and %d", r.small_entries,
		     r.big_entries, SMALL_N, BIG_N);
	free(vs);
	free(vb);
	free(tok);
	free(sdir);
	free(bdir);
	return r;
}

/* --- report ---------------------------------------------------------------- */

/* Prints s left-aligned in width columns (µ is two bytes, one column). */
static void label(const char *s, int width)
{
	int cols = 0;

	for (const char *p = s; *p; p++)
		cols += ((unsigned char)*p & 0xc0) != 0x80;
	fputs(s, stdout);
	while (cols++ < width)
		putchar(' ');
}

/* Prints the rest of a row with no blanks at the end. */
static void tail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void tail(const char *fmt, ...)
{
	char line[256];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == ' ')
		line[--n] = '\0';
	puts(line);
}

static void row(const char *name, const struct stats *s, const char *ratio, const char *target,
		int met)
{
	label(name, 40);
	tail("%11.1f %11.1f %11.1f %10s   %-8s %s", s->p50, s->p99, s->mean, ratio ? ratio : "",
	     target ? target : "",
	     met < 0 ? ""
	     : met   ? "met"
		     : "NOT met");
}

static void json_stats(FILE *f, const char *key, const struct stats *s, const char *tail)
{
	fprintf(
	    f,
	    "    \"%s\": {\"n\": %zu, \"p50_us\": %.1f, \"p99_us\": %.1f, \"mean_us\": %.1f}%s\n",
	    key, s->n, s->p50, s->p99, s->mean, tail);
}

int main(void)
{
	struct inproc in;
	struct proc pr;
	struct par par;
	struct size sz;
	bool t_in, t_proc, t_par, t_par_ok, t_size;
	char ratio[32], *permit_dir;
	double t0 = now_us();
	FILE *f;

	if (access(PAMRUN, X_OK) != 0) {
		fprintf(stderr, "bench: %s: %s (run make bench)\n", PAMRUN, strerror(errno));
		return 1;
	}
	main_pid = getpid();
	mkdir("build/tests", 0755); /* where server_start keeps the servers' log */
	testenv_setup();
	atexit(cleanup);
	server_start(&idp, "tests/idp/server.js");
	write_file("secret", 0600, "rs-secret\n");
	permit_dir = permit_service();

	fprintf(stderr, "bench: 1/4 in-process miss and hit\n");
	in = bench_inprocess(permit_dir);
	fprintf(stderr, "bench: 2/4 one process per authentication\n");
	pr = bench_process(permit_dir);
	fprintf(stderr, "bench: 3/4 %d parallel cold logins\n", PAR_N);
	par = bench_parallel();
	fprintf(stderr, "bench: 4/4 hit latency against cache size\n");
	sz = bench_cache_size();
	free(permit_dir);

	t_in = in.ratio >= 50;
	t_proc = pr.ratio_hit <= 1.5;
	t_par = par.requests == 1;
	t_par_ok = par.succeeded == PAR_N;
	t_size = sz.ratio <= 1.2;

	printf("\n");
	label("benchmark", 40);
	tail("%11s %11s %11s %10s   %s", "p50", "p99", "mean", "ratio", "target");
	row("in-process miss (µs)", &in.miss, NULL, NULL, -1);
	snprintf(ratio, sizeof(ratio), "%.1fx", in.ratio);
	row("in-process hit  (µs)", &in.hit, ratio, ">= 50x", t_in);
	row("in-process pam_permit (µs)", &in.permit, NULL, NULL, -1);
	row("process: pam_permit (µs)", &pr.s[K_PERMIT], NULL, NULL, -1);
	snprintf(ratio, sizeof(ratio), "%.2fx", pr.ratio_hit);
	row("process: module, hit (µs)", &pr.s[K_HIT], ratio, "<= 1.5x", t_proc);
	snprintf(ratio, sizeof(ratio), "%.2fx", pr.ratio_nocache);
	row("process: module, cache = no (µs)", &pr.s[K_NOCACHE], ratio, NULL, -1);
	row("hit, 10 entries in cache (µs)", &sz.small, NULL, NULL, -1);
	snprintf(ratio, sizeof(ratio), "%.2fx", sz.ratio);
	row("hit, 100000 entries in cache (µs)", &sz.big, ratio, "<= 1.2x", t_size);
	label("100 parallel cold logins: requests", 40);
	tail("%11ld %11s %11s %10s   %-8s %s", par.requests, "", "", "", "== 1",
	     t_par ? "met" : "NOT met");
	label("100 parallel cold logins: succeeded", 40);
	tail("%7d/%-3d %11s %11s %10s   %-8s %s", par.succeeded, PAR_N, "", "", "", "== 100",
	     t_par_ok ? "met" : "NOT met");
	printf("\nratios: in-process p50(miss)/p50(hit); process p50(kind)/p50(pam_permit) "
	       "(means: hit %.2fx, cache = no %.2fx);\n        cache size p50(100k)/p50(10).\n",
	       pr.ratio_hit_mean, pr.ratio_nocache_mean);
	printf("process runs: %d of each kind, round-robin, fork+exec %s to reaped.\n", PROC_N,
	       PAMRUN);
	printf("parallel: %d processes released at once, all done in %.1f ms.\n", par.started,
	       par.wall_ms);
	printf("cache size: %ld and %ld entries; 100k filler written in %.2f s.\n",
	       sz.small_entries, sz.big_entries, sz.fill_s);

	f = fopen(JSON_OUT, "w");
	if (f == NULL) {
		fail("%s: %s", JSON_OUT, strerror(errno));
	} else {
		fprintf(f, "{\n  \"inprocess\": {\n");
		json_stats(f, "miss", &in.miss, ",");
		json_stats(f, "hit", &in.hit, ",");
		json_stats(f, "permit", &in.permit, ",");
		fprintf(f, "    \"ratio_miss_hit_p50\": %.2f\n  },\n", in.ratio);
		fprintf(f, "  \"process\": {\n");
		for (int k = 0; k < K_COUNT; k++)
			json_stats(f, kind_names[k], &pr.s[k], ",");
		fprintf(
		    f,
		    "    \"ratio_hit_permit_p50\": %.3f,\n    \"ratio_nocache_permit_p50\": %.3f,\n"
		    "    \"ratio_hit_permit_mean\": %.3f,\n"
		    "    \"ratio_nocache_permit_mean\": %.3f\n  },\n",
		    pr.ratio_hit, pr.ratio_nocache, pr.ratio_hit_mean, pr.ratio_nocache_mean);
		fprintf(f,
			"  \"parallel\": {\"logins\": %d, \"started\": %d, \"succeeded\": %d, "
			"\"requests\": %ld, \"wall_ms\": %.1f},\n",
			PAR_N, par.started, par.succeeded, par.requests, par.wall_ms);
		fprintf(f,
			"  \"cache_size\": {\n    \"small_entries\": %ld,\n"
			"    \"big_entries\": %ld,\n    \"fill_big_s\": %.3f,\n",
			sz.small_entries, sz.big_entries, sz.fill_s);
		json_stats(f, "small", &sz.small, ",");
		json_stats(f, "big", &sz.big, ",");
		fprintf(f, "    \"ratio_big_small_p50\": %.3f\n  },\n", sz.ratio);
		fprintf(f,
			"  \"targets\": {\n    \"inprocess_hit_50x_faster\": %s,\n"
			"    \"process_hit_within_1_5x_permit\": %s,\n"
			"    \"parallel_one_request\": %s,\n"
			"    \"parallel_all_succeeded\": %s,\n"
			"    \"cache_size_within_1_2x\": %s\n  },\n",
			t_in ? "true" : "false", t_proc ? "true" : "false",
			t_par ? "true" : "false", t_par_ok ? "true" : "false",
			t_size ? "true" : "false");
		fprintf(f, "  \"failures\": %d,\n  \"total_s\": %.1f\n}\n", failures,
			(now_us() - t0) / 1e6);
		if (fclose(f) != 0)
			fail("%s: write failed", JSON_OUT);
	}
	printf("\nwrote %s in %.1f s%s\n", JSON_OUT, (now_us() - t0) / 1e6,
	       failures ? "" : "; nothing failed to run");
	if (failures)
		fprintf(stderr, "bench: %d thing(s) failed to run\n", failures);
	return failures ? 1 : 0;
}
