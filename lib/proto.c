/* Framing of the module <-> helper messages (see proto.h). */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "proto.h"

void proto_begin(struct buf *b, const char *magic)
{
	buf_appendf(b, "%s\n", magic);
}

void proto_put(struct buf *b, const char *key, const void *val, size_t len)
{
	buf_appendf(b, "%s %zu\n", key, len);
	buf_append(b, val, len);
	buf_append(b, "\n", 1);
}

void proto_put_str(struct buf *b, const char *key, const char *val)
{
	if (val != NULL)
		proto_put(b, key, val, strlen(val));
}

void proto_put_long(struct buf *b, const char *key, long v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%ld", v);

	proto_put(b, key, tmp, (size_t)n);
}

int proto_end(struct buf *b)
{
	buf_append(b, "end\n", 4);
	return b->failed ? -1 : 0;
}

static bool key_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

int proto_parse(const char *magic, const unsigned char *buf, size_t len, struct proto_msg *m)
{
	size_t mlen = strlen(magic), pos;

	m->n = 0;
	if (len > PROTO_MAX_MESSAGE || len < mlen + 1 || memcmp(buf, magic, mlen) != 0 ||
	    buf[mlen] != '\n')
		return -1;
	pos = mlen + 1;
	for (;;) {
		size_t k = 0, vlen, digits = 0;
		long long v;
		struct proto_field *f;

		while (pos + k < len && key_char(buf[pos + k]) && k <= PROTO_KEY_MAX)
			k++;
		if (k == 0 || k > PROTO_KEY_MAX || pos + k >= len)
			return -1;
		if (k == 3 && memcmp(buf + pos, "end", 3) == 0 && buf[pos + 3] == '\n')
			return pos + 4 == len ? 0 : -1;
		if (buf[pos + k] != ' ' || m->n == PROTO_MAX_FIELDS)
			return -1;
		f = &m->f[m->n];
		memcpy(f->key, buf + pos, k);
		f->key[k] = '\0';
		for (size_t i = 0; i < m->n; i++)
			if (strcmp(m->f[i].key, f->key) == 0)
				return -1;
		pos += k + 1;
		while (pos + digits < len && buf[pos + digits] >= '0' && buf[pos + digits] <= '9')
			digits++;
		if (decimal_parse((const char *)buf + pos, digits, 0, PROTO_MAX_VALUE, &v) < 0)
			return -1;
		vlen = (size_t)v;
		pos += digits;
		if (pos >= len || buf[pos] != '\n')
			return -1;
		pos++;
		if (vlen > len - pos || len - pos - vlen < 1 || buf[pos + vlen] != '\n')
			return -1;
		f->val = buf + pos;
		f->len = vlen;
		m->n++;
		pos += vlen + 1;
	}
}

const struct proto_field *proto_get(const struct proto_msg *m, const char *key)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->f[i].key, key) == 0)
			return &m->f[i];
	return NULL;
}

int proto_get_str(const struct proto_msg *m, const char *key, char *out, size_t outlen)
{
	const struct proto_field *f = proto_get(m, key);

	if (f == NULL || f->len >= outlen || memchr(f->val, '\0', f->len) != NULL)
		return -1;
	memcpy(out, f->val, f->len);
	out[f->len] = '\0';
	return 0;
}

int proto_get_long(const struct proto_msg *m, const char *key, long min, long max, long *out)
{
	const struct proto_field *f = proto_get(m, key);
	long long v;

	if (f == NULL || decimal_parse((const char *)f->val, f->len, min, max, &v) < 0)
		return -1;
	*out = (long)v;
	return 0;
}
