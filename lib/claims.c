/*
 * Typed claim values and their wire form (see claims.h). The decoder is
 * strict: the module trusts nothing it cannot parse exactly.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "proto.h"

const char *const claim_names[CLAIM_COUNT] = {
    [CLAIM_ACTIVE] = "active",	   [CLAIM_EXP] = "exp",	    [CLAIM_NBF] = "nbf",
    [CLAIM_USERNAME] = "username", [CLAIM_SCOPE] = "scope", [CLAIM_CLIENT_ID] = "client_id",
    [CLAIM_AUD] = "aud",	   [CLAIM_ISS] = "iss",	    [CLAIM_IP_RANGES] = "ip_ranges",
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

/* Decimal, optional '-', no leading zeros, within long long. */
static int parse_decimal(const char *p, size_t len, long long *out)
{
	char tmp[24];
	char *end;
	size_t digits = len;
	const char *d = p;

	if (len == 0 || len >= sizeof(tmp))
		return -1;
	if (*d == '-') {
		d++;
		digits--;
	}
	if (digits == 0 || (d[0] == '0' && digits > 1) || (p[0] == '-' && d[0] == '0'))
		return -1;
	for (size_t i = 0; i < digits; i++)
		if (d[i] < '0' || d[i] > '9')
			return -1;
	memcpy(tmp, p, len);
	tmp[len] = '\0';
	errno = 0;
	*out = strtoll(tmp, &end, 10);
	return errno == 0 && *end == '\0' ? 0 : -1;
}

/* One netstring "LEN:bytes," at *pos of s/len; advances *pos. */
static int netstring_next(const char *s, size_t len, size_t *pos, const char **item,
			  size_t *itemlen)
{
	size_t p = *pos, n = 0, start = p;

	while (p < len && s[p] >= '0' && s[p] <= '9') {
		if (p - start >= 9)
			return -1;
		n = n * 10 + (size_t)(s[p] - '0');
		p++;
	}
	if (p == start || p >= len || s[p] != ':' || (s[start] == '0' && p - start > 1))
		return -1;
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
		return parse_decimal(s, n, &out->n);
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
