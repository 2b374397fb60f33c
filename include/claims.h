/*
 * The claims the policy needs, as typed values that survive the trip from
 * the helper's JSON parser to the module, and into the cache entries,
 * without the module having to parse JSON. Each claim keeps its JSON type so
 * that "active":"true" or a numeric username stays distinguishable from the
 * real thing.
 *
 * Wire form of one claim value: a type byte, then the payload:
 *   's' bytes        a JSON string (may hold NUL; the length tells)
 *   'i' decimal      a JSON integer (or a real with an integral value)
 *   'b' '0' | '1'    a JSON boolean
 *   'l' netstrings   an array of strings, each "LEN:bytes,"
 *   'o'              any other JSON type (null, object, mixed array, ...)
 */
#ifndef APITOKEN_CLAIMS_H
#define APITOKEN_CLAIMS_H

#include <stdbool.h>
#include <stddef.h>
#include "buf.h"

enum claim_type { CLAIM_ABSENT = 0, CLAIM_STRING, CLAIM_INT, CLAIM_BOOL, CLAIM_LIST, CLAIM_OTHER };

enum claim_id {
	CLAIM_ACTIVE,
	CLAIM_EXP,
	CLAIM_NBF,
	CLAIM_USERNAME, /* from the configured username_claim */
	CLAIM_SCOPE,	/* from the configured scope_claim */
	CLAIM_CLIENT_ID,
	CLAIM_AUD,
	CLAIM_ISS,
	CLAIM_IP_RANGES, /* from the configured ip_ranges_claim */
	CLAIM_TOKEN_TYPE,
	CLAIM_COUNT
};

struct claim {
	enum claim_type type;
	char *s; /* STRING bytes, or LIST netstrings; NUL-terminated copy */
	size_t len;
	long long n; /* INT value, or BOOL 0/1 */
};

struct claims {
	struct claim c[CLAIM_COUNT];
};

/* Names used on the wire and in cache entries: "active", "exp", ... */
extern const char *const claim_names[CLAIM_COUNT];

/* Appends the wire form of c. Returns 0 or -1 (out of memory). */
int claim_encode(const struct claim *c, struct buf *out);
/* Strict decode of a wire value; returns 0, -1 when malformed, -2 when out of memory. */
int claim_decode(const unsigned char *p, size_t len, struct claim *out);

/* Iterates LIST items: start with *pos = 0; returns false at the end. */
bool claim_list_next(const struct claim *c, size_t *pos, const char **item, size_t *itemlen);
/* Appends one item to a LIST claim being built. Returns 0 or -1. */
int claim_list_add(struct buf *netstrings, const char *item, size_t len);

int claim_set_string(struct claim *c, const char *s, size_t len);

/*
 * A configured claim name (username_claim, ip_ranges_claim, scope_claim) is
 * a dot path into nested objects: "account.username" is the member
 * "username" of the object "account". Valid: non-empty, no empty segment
 * ("a..b", ".a", "a." are not), so that every path names one place.
 */
bool claim_path_valid(const char *path);

void claims_free(struct claims *cl);

/*
 * The claims as fields of a proto.h message, one per claim present, named
 * PROTO_CLAIM_PREFIX and claim_names[i] ("claim.exp"): the form of the
 * helper's response and of the cache entries. claims_put appends them to a
 * message being built: 0, or -1 when out of memory. claims_get reads them
 * from a parsed message (fields of other names are not claims): 0; -1 when
 * one is malformed, -2 when out of memory, with cl left empty.
 */
struct proto_msg;
int claims_put(struct buf *msg, const struct claims *cl);
int claims_get(const struct proto_msg *m, struct claims *cl);

#endif
