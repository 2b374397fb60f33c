/*
 * The on-disk token cache (DESIGN.md §6). One file per token and
 * configuration in cache_dir, named by HMAC-SHA256 under a key derived from
 * the host key and the settings that shape an answer (cache_bind), so the
 * directory is no oracle for tokens and two services sharing it never serve
 * each other's answers; each entry carries its own MAC (bound to its name
 * and its configuration) so a corrupt, truncated or planted file is simply
 * not there. Entries hold the typed claims the policy needs, the token's
 * fingerprint (for admins) and the fetch time, never the token.
 *
 * Layout of cache_dir (0700, owned by root or the effective user):
 *   .key             32 random bytes, 0600, made on first use
 *   .backoff-TAG     per configuration (TAG: 16 hex of its tag): the
 *                    host-wide backoff and recent per-token failures, by
 *                    entry name; MAC'd, at most CACHE_BACKOFF_FILE_MAX bytes
 *   .prune           bookkeeping for opportunistic pruning
 *   .lock-XX         256 lock stripes for single flight (XX = first name byte)
 *   .lock-backoff    serialises updates of the .backoff-TAG files
 *   <64 hex>         one entry per token and configuration
 */
#ifndef APITOKEN_CACHE_H
#define APITOKEN_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "claims.h"
#include "config.h"
#include "fingerprint.h"
#include "result.h"
#include "sha256.h"

#define CACHE_NAME_LEN	  (SHA256_DIGEST_LEN * 2)
#define CACHE_KEY_LEN	  32
#define CACHE_ENTRY_MAX	  (64 * 1024)
#define CACHE_TAG_LEN	  (SHA256_DIGEST_LEN * 2)
#define CACHE_BACKOFF_DEF 30  /* seconds, host-wide, when a 429 gives no Retry-After */
#define CACHE_BACKOFF_MAX 600 /* a Retry-After longer than this is cut to it */
/* One token's failure (5xx, transport, ...): that token alone waits this long by default. */
#define CACHE_TOKEN_BACKOFF_DEF 10
/* Failures of this many distinct tokens within the window are the endpoint's: host-wide. */
#define CACHE_FAIL_TOKENS      3
#define CACHE_FAIL_WINDOW      30 /* seconds */
#define CACHE_FAIL_RECORDS     16 /* per-token failures kept per configuration, newest */
#define CACHE_BACKOFF_FILE_MAX 4096
#define CACHE_REASON_LEN       24

struct cache {
	int dirfd;
	unsigned char key[CACHE_KEY_LEN];
	const struct apt_config *cfg;
	/* From cache_bind: the key entry names are made with (secret), and its public tag. */
	unsigned char bind[SHA256_DIGEST_LEN];
	char tag[CACHE_TAG_LEN + 1];
};

enum cache_kind { CACHE_POSITIVE, CACHE_NEGATIVE };

struct cache_entry {
	enum cache_kind kind;
	time_t fetched;
	/* Not stored: worked out from the config in force, by cache_lifetimes(). */
	time_t fresh_until; /* positive: min(fetched + cache_ttl, exp); negative: + negative ttl */
	time_t grace_until; /* positive: min(fresh_until + offline_grace, exp) */
	char fingerprint[FINGERPRINT_LEN];
	struct claims claims;
	/* Set by cache_walk only: the entry of another configuration sharing cache_dir. */
	bool other_config;
	char config[CACHE_TAG_LEN + 1]; /* the tag of the configuration it was made for */
};

/*
 * Opens cache_dir (creating it 0700 when missing) and its host key (creating
 * it 0600 on first use). APT_OK; APT_SERVICE when the directory is unsafe or
 * unusable (the message in err; the caller goes on without a cache); APT_NOMEM.
 */
enum apt_rc cache_open(struct cache *c, const struct apt_config *cfg, bool create, char *err,
		       size_t errlen);

/* What cache_open_admin found. */
enum cache_dir_state {
	CACHE_DIR_MISSING, /* no directory: nothing cached yet (c holds no descriptor) */
	CACHE_DIR_READY,
	CACHE_DIR_NO_KEY, /* a safe directory without .key: no entry in it can be verified */
};

/*
 * For the admin commands: opens cache_dir as cache_open does, but creates
 * nothing, and a missing directory or .key is a state, not an error. A
 * directory without .key is opened under a random key of this process that
 * no entry was made with, so every entry in it reads as invalid (and can be
 * removed). APT_OK with *state; APT_SERVICE or APT_NOMEM with the reason in
 * err, worded to stop a command. cache_close() is fine in every state.
 */
enum apt_rc cache_open_admin(struct cache *c, const struct apt_config *cfg,
			     enum cache_dir_state *state, char *err, size_t errlen);
void cache_close(struct cache *c);

/* The entry name of a token: HMAC-SHA256 under c->bind, so per configuration. */
void cache_name(const struct cache *c, const char *token, size_t len,
		char name[CACHE_NAME_LEN + 1]);

/*
 * Reads and verifies an entry: 0 with *e filled, -1 when absent, corrupt,
 * forged, or made for another configuration.
 */
int cache_read(const struct cache *c, const char *name, struct cache_entry *e);
enum cache_state {
	CACHE_FRESH,   /* serves any login (a negative one denies) */
	CACHE_GRACE,   /* positive, past cache_ttl: serves only while the issuer is unavailable */
	CACHE_EXPIRED, /* serves no one */
};

/*
 * The one rule for what an entry may do at time now, for logins and admin
 * commands alike. An entry fetched more than a minute "in the future" (the
 * clock went back) is expired: its lifetimes mean nothing.
 */
enum cache_state cache_entry_state(const struct cache_entry *e, time_t now);

/* Sets fresh_until and grace_until of e from cfg (cache_read does it). */
void cache_lifetimes(const struct apt_config *cfg, struct cache_entry *e);

/* The bytes of an entry file, MAC included (for cache_write, and for tests and bench). */
int cache_format_entry(const struct cache *c, const char *name, const struct cache_entry *e,
		       struct buf *out);
/* Writes an entry atomically (temp file, fsync, rename), then prunes if due. */
int cache_write(struct cache *c, const char *name, const struct cache_entry *e);
void cache_entry_free(struct cache_entry *e);

/*
 * Single flight: takes the lock stripe of name, waiting at most wait_ms.
 * Returns an fd to pass to cache_unlock, or -1: errno ETIMEDOUT when another
 * login held it all that time, anything else when there is no lock to take.
 */
int cache_lock(const struct cache *c, const char *name, long wait_ms);
void cache_unlock(int fd);

/*
 * Backoff (DESIGN.md §6 ★2), per configuration: a host-wide one (a 429, or
 * failures of CACHE_FAIL_TOKENS distinct tokens within CACHE_FAIL_WINDOW)
 * and one per token (its own last failure). A marker that is corrupt,
 * planted, oversized or out of range is not there.
 */
struct cache_backoff {
	time_t until;
	bool host_wide;		       /* else it is name's own */
	char reason[CACHE_REASON_LEN]; /* the failure's word, [a-z_] only */
};
/* True with *b when a backoff holds for name (NULL: the host-wide one only) at now. */
bool cache_backoff_get(const struct cache *c, const char *name, time_t now,
		       struct cache_backoff *b);
bool cache_backoff_active(const struct cache *c, time_t now); /* host-wide */
/* When the host-wide backoff that holds at now ends (for the admin commands); 0 when none. */
time_t cache_backoff_until(const struct cache *c, time_t now);
/* Host-wide after a 429: Retry-After (-1: none, CACHE_BACKOFF_DEF), at most the cap. */
void cache_backoff_set(const struct cache *c, time_t now, long retry_after);

enum cache_fail {
	CACHE_FAIL_TOKEN,   /* about this request (a 4xx...): this token only */
	CACHE_FAIL_COUNTED, /* 5xx or transport: this token, host-wide once several fail */
	CACHE_FAIL_HOST,    /* 429: every token of this configuration */
};
/*
 * Records a failed request for name (reason: its audit word): the token
 * backs off for Retry-After (-1: CACHE_TOKEN_BACKOFF_DEF, or CACHE_BACKOFF_DEF
 * when host-wide), at most CACHE_BACKOFF_MAX; waiters behind the failed
 * request find it here. Never stores a token: names are HMACs.
 */
void cache_fail_note(const struct cache *c, const char *name, time_t now, long retry_after,
		     const char *reason, enum cache_fail kind);
/* The name of c's backoff marker in cache_dir (".backoff-" and 16 hex). */
void cache_backoff_file(const struct cache *c, char out[32]);

/*
 * Walks the entries (for the admin commands): calls fn for each valid entry,
 * those of other configurations sharing cache_dir included (e->other_config;
 * their lifetimes by c's config); invalid ones are reported with e == NULL.
 * Stops when fn returns non-zero.
 */
typedef int (*cache_walk_fn)(const struct cache *c, const char *name, const struct cache_entry *e,
			     void *arg);
int cache_walk(const struct cache *c, cache_walk_fn fn, void *arg);
int cache_remove(const struct cache *c, const char *name);
/* Removes the backoff markers of every configuration (for flush). 0, or -1 with errno. */
int cache_clear_backoff(const struct cache *c);

/* Drops expired entries and, past cache_max_entries, the oldest. Returns the count left. */
long cache_prune(struct cache *c, time_t now);

#endif
