/*
 * make soak: minutes of logins under faults. 16 worker processes (sshd
 * forks one per connection, so do we) run 5,000 authentications through
 * the real libpam and the module, mixing good tokens, revoked ones,
 * another user's, garbage and over-long ones, while this process stops
 * and restarts the test issuer, empties the cache directory and points the
 * module at the fault server's failures for a moment. Then it checks:
 *
 *   - no token that should fail got in (revoked before any use, another
 *     user's, garbage, too long: none of them is ever good for alice);
 *   - no worker crashed, every one ended its run;
 *   - file descriptors of each worker the same at the end as at the start;
 *   - the cache directory no larger than cache_max_entries (plus its own
 *     files);
 *   - no helper left running or unreaped;
 *   - no audit line holding a token.
 *
 * Prints the counts; exits 0 when all held. Not part of make check.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "testenv.h"

#define WORKERS	    16
#define LOGINS	    5000
#define MAX_ENTRIES 40

enum kind { GOOD, REVOKED, OTHER_USER, GARBAGE, TOO_LONG, KINDS };
static const char *const kind_names[KINDS] = {"good", "revoked", "other-user", "garbage",
					      "too-long"};

/* What one worker saw, sent to the parent through a pipe. */
struct counts {
	long runs[KINDS], allowed[KINDS], denied[KINDS], unavailable[KINDS], other[KINDS];
	long leaks; /* audit lines holding the token */
	int fds_before, fds_after;
	bool done;
};

static struct server idp, fault;
static char tokens_path[600], conf_path[600], confdir[600];

static void die(const char *what)
{
	fprintf(stderr, "soak: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own */
}

/* Writes path whole through a temp file and rename: readers see old or new. */
static void replace(const char *path, const char *text)
{
	char tmp[700];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		die(tmp);
	chmod(tmp, 0644);
	if (rename(tmp, path) != 0)
		die(path);
}

/* The module's config, aimed at the issuer or at one of the fault server's paths. */
static void aim(const char *fault_path)
{
	char text[2048], *url = fault_path ? fault_url(&fault, fault_path) : idp_url(&idp);

	snprintf(text, sizeof(text),
		 "introspection_url = %s\nclient_id = rs\nclient_secret_file = %s/secret\n"
		 "helper = %s\ntoken_prefixes = ucat_\ntimeout_ms = 800\nconnect_timeout_ms = 500\n"
		 "cache_dir = %s/cache\ncache_ttl = 2\nnegative_cache_ttl = 1\n"
		 "cache_max_entries = %d\noffline_grace = 3\n",
		 url, T.root, T.helper, T.root, MAX_ENTRIES);
	free(url);
	replace(conf_path, text);
}

/* New tokens after the issuer lost its memory: good, revoked before use, bob's. */
static void mint(void)
{
	char text[2048], *good = idp_mint(&idp, "alice", "ssh", 600, NULL),
			 *revoked = idp_mint(&idp, "alice", "ssh", 600, NULL),
			 *bob = idp_mint(&idp, "bob", "ssh", 600, NULL);

	idp_revoke(&idp, revoked);
	snprintf(text, sizeof(text), "%s\n%s\n%s\n", good, revoked, bob);
	replace(tokens_path, text);
	free(good);
	free(revoked);
	free(bob);
}

static void read_tokens(char tok[3][256])
{
	FILE *f = fopen(tokens_path, "r");

	for (int i = 0; i < 3; i++) {
		tok[i][0] = '\0';
		if (f != NULL && fgets(tok[i], 256, f) != NULL)
			tok[i][strcspn(tok[i], "\n")] = '\0';
	}
	if (f != NULL)
		fclose(f);
}

static void worker(int id, int out)
{
	static char longtok[5000];
	struct counts c = {0};
	char tok[3][256], garbage[64];
	unsigned seed = (unsigned)id * 7919u + (unsigned)getpid();

	memcpy(longtok, "ucat_", 5);
	memset(longtok + 5, 'x', sizeof(longtok) - 6);
	c.fds_before = open_fds();
	for (int i = id; i < LOGINS; i += WORKERS) {
		enum kind k = (enum kind)(rand_r(&seed) % KINDS);
		const char *t;
		int r;

		read_tokens(tok);
		switch (k) {
		case GOOD:
			t = tok[0];
			break;
		case REVOKED:
			t = tok[1];
			break;
		case OTHER_USER:
			t = tok[2];
			break;
		case GARBAGE:
			/* Mostly new ones: negative entries pile up against the bound. */
			snprintf(garbage, sizeof(garbage), "ucat_garbage%u", rand_r(&seed));
			t = garbage;
			break;
		default:
			t = longtok;
			break;
		}
		/* Paced, so that the faults below come and go many times under the run. */
		usleep((useconds_t)(rand_r(&seed) % 100) * 1000);
		log_reset();
		r = pam_run(confdir, "alice", "192.0.2.7", t).auth;
		c.runs[k]++;
		if (r == PAM_SUCCESS)
			c.allowed[k]++;
		else if (r == PAM_AUTH_ERR)
			c.denied[k]++;
		else if (r == PAM_AUTHINFO_UNAVAIL)
			c.unavailable[k]++;
		else
			c.other[k]++;
		if (t[0] != '\0' && strstr(log_text(), k == TOO_LONG ? "ucat_xxxxxxxx" : t) != NULL)
			c.leaks++;
	}
	c.fds_after = open_fds();
	c.done = true;
	if (write(out, &c, sizeof(c)) != (ssize_t)sizeof(c))
		_exit(3);
	_exit(0);
}

static long count_entries(void)
{
	char path[700];
	DIR *d;
	struct dirent *e;
	long n = 0;

	snprintf(path, sizeof(path), "%s/cache", T.root);
	d = opendir(path);
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void flush_cache(void)
{
	char cmd[800];

	/* Entries and backoff markers; the host key stays. */
	snprintf(cmd, sizeof(cmd),
		 "find '%s/cache' -maxdepth 1 -type f \\( ! -name '.*' -o -name '.backoff-*' \\) "
		 "-delete",
		 T.root);
	if (system(cmd) != 0)
		fprintf(stderr, "soak: flush failed\n");
}

/* Helpers still there (running or zombie) once every worker is gone. */
static int helpers_left(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char path[300], exe[700];
		ssize_t len;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/exe", e->d_name);
		len = readlink(path, exe, sizeof(exe) - 1);
		if (len <= 0)
			continue;
		exe[len] = '\0';
		n += strcmp(exe, T.helper) == 0;
	}
	closedir(d);
	return n;
}

int main(void)
{
	static const char *const faults[] = {"/status/503", "/hang", "/ratelimit", "/truncated",
					     "/status/500"};
	struct counts total = {0};
	int pipes[WORKERS][2], crashed = 0, unfinished = 0, fd_growth = 0, restarts = 0,
			       flushes = 0, switches = 0, helpers;
	pid_t pids[WORKERS];
	long max_entries = 0, violations = 0;
	struct timespec t0, t1;
	int running = WORKERS;

	setvbuf(stdout, NULL, _IOLBF, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	testenv_up(&idp, &fault);
	snprintf(tokens_path, sizeof(tokens_path), "%s/tokens", T.root);
	snprintf(conf_path, sizeof(conf_path), "%s/apt.conf", T.root);
	write_file("secret", 0600, "rs-secret\n");
	snprintf(confdir, sizeof(confdir), "%s", make_service(NULL, NULL));
	aim(NULL);
	mint();

	for (int w = 0; w < WORKERS; w++) {
		if (pipe(pipes[w]) != 0)
			die("pipe");
		pids[w] = fork();
		if (pids[w] < 0)
			die("fork");
		if (pids[w] == 0) {
			close(pipes[w][0]);
			worker(w, pipes[w][1]);
		}
		close(pipes[w][1]);
	}

	/* The faults, in turn, until the workers are done. */
	for (int step = 0; running > 0; step++) {
		int status;
		pid_t p;

		usleep(150 * 1000);
		switch (step % 4) {
		case 0:
			aim(faults[(step / 4) % (sizeof(faults) / sizeof(faults[0]))]);
			switches++;
			break;
		case 1:
			aim(NULL);
			break;
		case 2:
			flush_cache();
			flushes++;
			break;
		case 3: /* the issuer goes away and comes back, with no memory of its tokens */
			server_stop(&idp);
			usleep(100 * 1000);
			server_start(&idp, "tests/idp/server.js");
			aim(NULL);
			mint();
			restarts++;
			break;
		}
		if (count_entries() > max_entries)
			max_entries = count_entries();
		while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
			for (int w = 0; w < WORKERS; w++)
				if (pids[w] == p) {
					running--;
					if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
						crashed++;
				}
		}
	}
	for (int w = 0; w < WORKERS; w++) {
		struct counts c = {0};

		if (read(pipes[w][0], &c, sizeof(c)) != (ssize_t)sizeof(c) || !c.done) {
			unfinished++;
			continue;
		}
		close(pipes[w][0]);
		for (int k = 0; k < KINDS; k++) {
			total.runs[k] += c.runs[k];
			total.allowed[k] += c.allowed[k];
			total.denied[k] += c.denied[k];
			total.unavailable[k] += c.unavailable[k];
			total.other[k] += c.other[k];
		}
		total.leaks += c.leaks;
		fd_growth += c.fds_after != c.fds_before;
	}
	helpers = helpers_left();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	testenv_down(&idp, &fault);

	printf("soak: %d workers, %d logins, %.1f s; issuer restarted %d times, cache flushed %d "
	       "times, %d switches to a fault\n",
	       WORKERS, LOGINS, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	       restarts, flushes, switches);
	printf("%-11s %6s %8s %7s %12s %6s\n", "token", "logins", "allowed", "denied",
	       "unavailable", "other");
	for (int k = 0; k < KINDS; k++) {
		printf("%-11s %6ld %8ld %7ld %12ld %6ld\n", kind_names[k], total.runs[k],
		       total.allowed[k], total.denied[k], total.unavailable[k], total.other[k]);
		if (k != GOOD)
			violations += total.allowed[k];
	}
	printf("bad tokens let in: %ld; workers crashed: %d, unfinished: %d; workers whose fds "
	       "grew: %d;\ncache files at most: %ld (bound %d); helpers left: %d; audit lines "
	       "holding a token: %ld\n",
	       violations, crashed, unfinished, fd_growth, max_entries, MAX_ENTRIES, helpers,
	       total.leaks);
	/* Pruning runs at a write that finds the bound passed: a few writers may overshoot. */
	if (violations || crashed || unfinished || fd_growth ||
	    max_entries > MAX_ENTRIES + WORKERS || helpers != 0 || total.leaks ||
	    total.runs[GOOD] == 0 || total.allowed[GOOD] == 0) {
		printf("soak: FAILED\n");
		return 1;
	}
	printf("soak: passed\n");
	return 0;
}
