/*
 * Typed claim values and their wire form (see claims.h). The decoder is
 * strict: the module trusts nothing it cannot parse exactly.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "decimal.h"
#include "proto.h"

const char *const claim_names[CLAIM_COUNT] = {
    [CLAIM_ACTIVE] = "active",
    [CLAIM_EXP] = "exp",
    [CLAIM_NBF] = "nbf",
    [CLAIM_USERNAME] = "username",
    [CLAIM_SCOPE] = "scope",
    [CLAIM_CLIENT_ID] = "client_id",
    [CLAIM_AUD] = "aud",
    [CLAIM_ISS] = "iss",
    [CLAIM_IP_RANGES] = "ip_ranges",
    [CLAIM_TOKEN_TYPE] = "token_type",
};

int claim_encode(const struct claim *c, struct buf *out)
{
	switch (c->type) {
	case CLAIM_STRING:
		buf_append(out, "s", 1);
		buf_append(out, c->s, c->len);
		break;
	case CLAIM_LIST:
		buf_append(out, "l", 1);
		buf_append(out, c->s, c->len);
		break;
	case CLAIM_INT:
		buf_appendf(out, "i%lld", c->n);
		break;
	case CLAIM_BOOL:
		buf_append(out, c->n ? "b1" : "b0", 2);
		break;
	case CLAIM_OTHER:
		buf_append(out, "o", 1);
		break;
	case CLAIM_ABSENT:
		return -1;
	}
	return out->failed ? -1 : 0;
}

/* One netstring "LEN:bytes," at *pos of s/len; advances *pos. */
static int netstring_next(const char *s, size_t len, size_t *pos, const char **item,
			  size_t *itemlen)
{
	size_t p = *pos, n, start = p;
	long long v;

	while (p < len && s[p] >= '0' && s[p] <= '9')
		p++;
	/* At most 9 digits: no length that large fits, and size_t arithmetic stays safe. */
	if (p >= len || s[p] != ':' || decimal_parse(s + start, p - start, 0, 999999999, &v) < 0)
		return -1;
	n = (size_t)v;
	p++;
	if (n > len - p || len - p - n < 1 || s[p + n] != ',')
		return -1;
	*item = s + p;
	*itemlen = n;
	*pos = p + n + 1;
	return 0;
}

int claim_set_string(struct claim *c, const char *s, size_t len)
{
	char *copy = malloc(len + 1);

	if (copy == NULL)
		return -1;
	memcpy(copy, s, len);
	copy[len] = '\0';
	free(c->s);
	c->s = copy;
	c->len = len;
	return 0;
}

bool claim_path_valid(const char *path)
{
	size_t n = strlen(path);

	return n > 0 && path[0] != '.' && path[n - 1] != '.' && strstr(path, "..") == NULL;
}

int claim_decode(const unsigned char *p, size_t len, struct claim *out)
{
	const char *s = (const char *)p + 1;
	size_t n = len - 1;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return -1;
	switch (p[0]) {
	case 's':
		out->type = CLAIM_STRING;
		return claim_set_string(out, s, n) < 0 ? -2 : 0;
	case 'l': {
		size_t pos = 0;
		const char *item;
		size_t itemlen;
		while (pos < n)
			if (netstring_next(s, n, &pos, &item, &itemlen) < 0)
				return -1;
		out->type = CLAIM_LIST;
		return claim_set_string(out, s, n) < 0 ? -2 : 0;
	}
	case 'i':
		out->type = CLAIM_INT;
		return decimal_parse(s, n, LLONG_MIN, LLONG_MAX, &out->n);
	case 'b':
		if (n != 1 || (s[0] != '0' && s[0] != '1'))
			return -1;
		out->type = CLAIM_BOOL;
		out->n = s[0] == '1';
		return 0;
	case 'o':
		if (n != 0)
			return -1;
		out->type = CLAIM_OTHER;
		return 0;
	}
	return -1;
}

bool claim_list_next(const struct claim *c, size_t *pos, const char **item, size_t *itemlen)
{
	if (c->type != CLAIM_LIST || *pos >= c->len)
		return false;
	return netstring_next(c->s, c->len, pos, item, itemlen) == 0;
}

int claim_list_add(struct buf *netstrings, const char *item, size_t len)
{
	buf_appendf(netstrings, "%zu:", len);
	buf_append(netstrings, item, len);
	buf_append(netstrings, ",", 1);
	return netstrings->failed ? -1 : 0;
}

void claims_free(struct claims *cl)
{
	for (int i = 0; i < CLAIM_COUNT; i++) {
		free(cl->c[i].s);
		cl->c[i].s = NULL;
		cl->c[i].type = CLAIM_ABSENT;
	}
}

/* The field name of claim i: -1 if it would not fit a proto key (it would be cut). */
static int claim_key(int i, char key[PROTO_KEY_MAX + 1])
{
	int n = snprintf(key, PROTO_KEY_MAX + 1, PROTO_CLAIM_PREFIX "%s", claim_names[i]);

	return n < 0 || n > PROTO_KEY_MAX ? -1 : 0;
}

int claims_put(struct buf *msg, const struct claims *cl)
{
	struct buf v = BUF_INIT;
	char key[PROTO_KEY_MAX + 1];
	int r = 0;

	for (int i = 0; i < CLAIM_COUNT && r == 0; i++) {
		if (cl->c[i].type == CLAIM_ABSENT)
			continue;
		v.len = 0;
		if (claim_key(i, key) < 0 || claim_encode(&cl->c[i], &v) < 0)
			r = -1;
		else
			proto_put(msg, key, v.p, v.len);
	}
	buf_free(&v);
	return r < 0 || msg->failed ? -1 : 0;
}

int claims_get(const struct proto_msg *m, struct claims *cl)
{
	char key[PROTO_KEY_MAX + 1];

	memset(cl, 0, sizeof(*cl));
	for (int i = 0; i < CLAIM_COUNT; i++) {
		const struct proto_field *f;
		int r;

		if (claim_key(i, key) < 0) {
			claims_free(cl);
			return -1;
		}
		f = proto_get(m, key);
		r = f != NULL ? claim_decode(f->val, f->len, &cl->c[i]) : 0;
		if (r < 0) {
			claims_free(cl);
			return r;
		}
	}
	return 0;
}
