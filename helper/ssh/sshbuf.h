/*
 * The SSH wire format (RFC 4251 §5): big-endian integers and
 * length-prefixed strings, read from a bounded view with every length
 * checked before use, and written into a struct buf (which zeroes what it
 * releases: private keys pass through here). One API for keys,
 * certificates and the agent protocol, as OpenSSH has its sshbuf.
 */
#ifndef APITOKEN_SSHBUF_H
#define APITOKEN_SSHBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* A read cursor over bytes it does not own. */
struct sshbuf {
	const unsigned char *p;
	size_t len, off;
};

void sshbuf_init(struct sshbuf *b, const void *p, size_t len);
size_t sshbuf_left(const struct sshbuf *b);

/* Each returns 0, or -1 (leaving the cursor where it was) when the bytes run out. */
int sshbuf_get_u8(struct sshbuf *b, uint8_t *v);
int sshbuf_get_u32(struct sshbuf *b, uint32_t *v);
int sshbuf_get_u64(struct sshbuf *b, uint64_t *v);
/* A string: points into the buffer, not copied. */
int sshbuf_get_string(struct sshbuf *b, const unsigned char **p, size_t *len);
/* A string as a sub-cursor (for nested structures: options, principals). */
int sshbuf_get_sub(struct sshbuf *b, struct sshbuf *sub);
/* A string that must hold no NUL, copied into out (NUL-terminated); -1 if too long. */
int sshbuf_get_cstring(struct sshbuf *b, char *out, size_t outlen);
/* Raw bytes. */
int sshbuf_get_bytes(struct sshbuf *b, void *out, size_t len);

/* Writers append to a struct buf; failures are sticky in out->failed. */
void sshbuf_put_u8(struct buf *out, uint8_t v);
void sshbuf_put_u32(struct buf *out, uint32_t v);
void sshbuf_put_u64(struct buf *out, uint64_t v);
void sshbuf_put_string(struct buf *out, const void *p, size_t len);
void sshbuf_put_cstring(struct buf *out, const char *s);

/* Base64 (RFC 4648, with padding), as in key lines and PEM bodies. */
int base64_encode(struct buf *out, const void *p, size_t len);
/* Decodes, ignoring white space; -1 on any other stray byte or bad padding. */
int base64_decode(struct buf *out, const char *s, size_t len);

#endif
