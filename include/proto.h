/*
 * The module <-> helper protocol: small, versioned, length-prefixed, so that
 * neither side ever guesses where a value ends and the module needs no JSON.
 *
 *   message = MAGIC LF *( key SP length LF value LF ) "end" LF
 *   key     = 1*32 of [a-z0-9_.]        length = decimal, no leading zeros
 *
 * Keys are unique within a message; anything else (unknown magic, bad
 * length, missing "end", trailing bytes, too many records) is a parse error,
 * and the module treats a response it cannot parse as "issuer unavailable".
 */
#ifndef APITOKEN_PROTO_H
#define APITOKEN_PROTO_H

#include <stddef.h>
#include "buf.h"

/* 2: the helper finishes the drop to helper_user itself (lib/child.c); one that does not must not
 * run. */
#define PROTO_REQUEST_MAGIC  "apitoken-introspect-request 2"
#define PROTO_RESPONSE_MAGIC "apitoken-introspect-response 1"
#define PROTO_MAX_FIELDS     32
#define PROTO_MAX_VALUE	     (128 * 1024)
#define PROTO_MAX_MESSAGE    (512 * 1024)
/* The longest Retry-After the helper reports (it clamps) and the module accepts. */
#define PROTO_RETRY_AFTER_MAX (7L * 86400)

struct proto_field {
	char key[33];
	const unsigned char *val; /* points into the parsed buffer */
	size_t len;
};

struct proto_msg {
	struct proto_field f[PROTO_MAX_FIELDS];
	size_t n;
};

void proto_begin(struct buf *b, const char *magic);
void proto_put(struct buf *b, const char *key, const void *val, size_t len);
void proto_put_str(struct buf *b, const char *key, const char *val); /* NULL: nothing */
void proto_put_long(struct buf *b, const char *key, long v);
/* Closes the message; returns 0, or -1 when any append failed (see buf.failed). */
int proto_end(struct buf *b);

/* Returns 0, or -1 when buf is not exactly one well-formed message. */
int proto_parse(const char *magic, const unsigned char *buf, size_t len, struct proto_msg *m);
const struct proto_field *proto_get(const struct proto_msg *m, const char *key);
/* The field as a NUL-free, NUL-terminated copy in out; -1 if absent/too long/holds NUL. */
int proto_get_str(const struct proto_msg *m, const char *key, char *out, size_t outlen);
/* The field as a decimal long in [min, max]; -1 if absent or malformed. */
int proto_get_long(const struct proto_msg *m, const char *key, long min, long max, long *out);

#endif
