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
