/* The SSH wire format, read with bounds checks and written into buffers (see sshbuf.h). */
#include <string.h>

#include "sshbuf.h"

void sshbuf_init(struct sshbuf *b, const void *p, size_t len)
{
	b->p = p;
	b->len = len;
	b->off = 0;
}

size_t sshbuf_left(const struct sshbuf *b)
{
	return b->len - b->off;
}

int sshbuf_get_bytes(struct sshbuf *b, void *out, size_t len)
{
	if (len > sshbuf_left(b))
		return -1;
	memcpy(out, b->p + b->off, len);
	b->off += len;
	return 0;
}

int sshbuf_get_u8(struct sshbuf *b, uint8_t *v)
{
	return sshbuf_get_bytes(b, v, 1);
}

int sshbuf_get_u32(struct sshbuf *b, uint32_t *v)
{
	unsigned char x[4];

	if (sshbuf_get_bytes(b, x, 4) < 0)
		return -1;
	*v = (uint32_t)x[0] << 24 | (uint32_t)x[1] << 16 | (uint32_t)x[2] << 8 | x[3];
	return 0;
}

int sshbuf_get_u64(struct sshbuf *b, uint64_t *v)
{
	uint32_t hi, lo;
	size_t at = b->off;

	if (sshbuf_get_u32(b, &hi) < 0 || sshbuf_get_u32(b, &lo) < 0) {
		b->off = at;
		return -1;
	}
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

int sshbuf_get_string(struct sshbuf *b, const unsigned char **p, size_t *len)
{
	size_t at = b->off;
	uint32_t n;

	if (sshbuf_get_u32(b, &n) < 0)
		return -1;
	if (n > sshbuf_left(b)) {
		b->off = at;
		return -1;
	}
	*p = b->p + b->off;
	*len = n;
	b->off += n;
	return 0;
}

int sshbuf_get_sub(struct sshbuf *b, struct sshbuf *sub)
{
	const unsigned char *p;
	size_t len;

	if (sshbuf_get_string(b, &p, &len) < 0)
		return -1;
	sshbuf_init(sub, p, len);
	return 0;
}

int sshbuf_get_cstring(struct sshbuf *b, char *out, size_t outlen)
{
	size_t at = b->off, len;
	const unsigned char *p;

	if (sshbuf_get_string(b, &p, &len) < 0)
		return -1;
	if (len >= outlen || memchr(p, '\0', len) != NULL) {
		b->off = at;
		return -1;
	}
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

void sshbuf_put_u8(struct buf *out, uint8_t v)
{
	buf_append(out, &v, 1);
}

void sshbuf_put_u32(struct buf *out, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
			      (unsigned char)(v >> 8), (unsigned char)v};

	buf_append(out, x, 4);
}

void sshbuf_put_u64(struct buf *out, uint64_t v)
{
	sshbuf_put_u32(out, (uint32_t)(v >> 32));
	sshbuf_put_u32(out, (uint32_t)v);
}

void sshbuf_put_string(struct buf *out, const void *p, size_t len)
{
	if (len > UINT32_MAX) {
		out->failed = 1;
		return;
	}
	sshbuf_put_u32(out, (uint32_t)len);
	buf_append(out, p, len);
}

void sshbuf_put_cstring(struct buf *out, const char *s)
{
	sshbuf_put_string(out, s, strlen(s));
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_encode(struct buf *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		char q[4] = {b64[v >> 18], b64[(v >> 12) & 63], b64[(v >> 6) & 63], b64[v & 63]};
		buf_append(out, q, 4);
	}
	if (len - i == 1) {
		unsigned v = (unsigned)p[i] << 16;
		char q[4] = {b64[v >> 18], b64[(v >> 12) & 63], '=', '='};
		buf_append(out, q, 4);
	} else if (len - i == 2) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
		char q[4] = {b64[v >> 18], b64[(v >> 12) & 63], b64[(v >> 6) & 63], '='};
		buf_append(out, q, 4);
	}
	return buf_terminate(out);
}

static int b64_value(unsigned char c)
{
	const char *at = c ? strchr(b64, c) : NULL;

	return at ? (int)(at - b64) : -1;
}

int base64_decode(struct buf *out, const char *s, size_t len)
{
	unsigned v = 0;
	int n = 0, pad = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int d;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (d = b64_value(c)) < 0)
			return -1; /* data after padding, or not base64 */
		v = v << 6 | (unsigned)d;
		if (++n == 4) {
			unsigned char x[3] = {(unsigned char)(v >> 16), (unsigned char)(v >> 8),
					      (unsigned char)v};
			buf_append(out, x, 3);
			n = 0;
			v = 0;
		}
	}
	if (n == 1 || (n == 0 && pad != 0) || (n != 0 && n + pad != 4))
		return -1;
	if (n == 2) {
		unsigned char x = (unsigned char)(v >> 4);
		buf_append(out, &x, 1);
	} else if (n == 3) {
		unsigned char x[2] = {(unsigned char)(v >> 10), (unsigned char)(v >> 2)};
		buf_append(out, x, 2);
	}
	return out->failed ? -1 : 0;
}
