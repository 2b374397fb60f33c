/*
 * libFuzzer harness for the claim wire form (lib/claims.c), what the helper
 * sends the module for each claim. Oracles, both ways round: the input as a
 * wire value that decodes must encode back to the same bytes
 * (encode(decode(x)) == x, so it is accepted again), and a claim built from
 * the input (string, list of strings, integer, boolean, other) must come
 * back from decode(encode(c)) as the same claim, list items included.
 */
#include "claims.h"
#include "oracle.h"

static bool same_claim(const struct claim *a, const struct claim *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case CLAIM_STRING:
	case CLAIM_LIST:
		return a->len == b->len && memcmp(a->s, b->s, a->len) == 0 && b->s[b->len] == '\0';
	case CLAIM_INT:
	case CLAIM_BOOL:
		return a->n == b->n;
	case CLAIM_OTHER:
	case CLAIM_ABSENT:
		return true;
	}
	return false;
}

static void decode_encode(const uint8_t *data, size_t size)
{
	struct claim c;
	struct buf out = BUF_INIT;
	size_t pos = 0, itemlen;
	const char *item;

	if (claim_decode(data, size, &c) < 0) {
		free(c.s);
		return;
	}
	CHECK(c.type != CLAIM_ABSENT);
	CHECK(claim_encode(&c, &out) == 0);
	CHECK(out.len == size && memcmp(out.p, data, size) == 0);
	if (c.type == CLAIM_BOOL)
		CHECK(c.n == 0 || c.n == 1);
	/*
	 * A list that decodes is read to its end by the iterator the policy uses,
	 * and is canonical: its items written again are its bytes (no "01:" length).
	 */
	out.len = 0;
	while (claim_list_next(&c, &pos, &item, &itemlen)) {
		CHECK(item >= c.s && item + itemlen <= c.s + c.len);
		CHECK(claim_list_add(&out, item, itemlen) == 0);
	}
	if (c.type == CLAIM_LIST)
		CHECK(pos == c.len && out.len == c.len && memcmp(out.p, c.s, c.len) == 0);
	free(c.s);
	buf_free(&out);
}

/* A claim of the type the first byte picks, from the rest of the input. */
static void encode_decode(const uint8_t *data, size_t size)
{
	struct claim c = {0}, back;
	struct buf items = BUF_INIT, wire = BUF_INIT;
	const uint8_t *p = data + 1;
	size_t left = size - 1, pos = 0, itemlen, k = 0;
	const char *item;

	switch (data[0] % 5) {
	case 0:
		c.type = CLAIM_STRING;
		CHECK(claim_set_string(&c, (const char *)p, left) == 0);
		break;
	case 1: /* items cut at NUL bytes; an item may itself be empty */
		c.type = CLAIM_LIST;
		while (left > 0) {
			char *s = next_part(&p, &left);
			CHECK(claim_list_add(&items, s, strlen(s)) == 0);
			free(s);
		}
		CHECK(claim_set_string(&c, items.p ? (char *)items.p : "", items.len) == 0);
		break;
	case 2:
		c.type = CLAIM_INT;
		for (size_t i = 0; i < 8 && i < left; i++)
			c.n = (long long)((unsigned long long)c.n << 8 | p[i]);
		break;
	case 3:
		c.type = CLAIM_BOOL;
		c.n = left > 0 && (p[0] & 1);
		break;
	default:
		c.type = CLAIM_OTHER;
	}
	CHECK(claim_encode(&c, &wire) == 0);
	CHECK(claim_decode(wire.p, wire.len, &back) == 0);
	CHECK(same_claim(&c, &back));
	if (c.type == CLAIM_LIST) {
		/* The items come back in order, as they went in. */
		p = data + 1;
		left = size - 1;
		while (claim_list_next(&back, &pos, &item, &itemlen)) {
			char *s = next_part(&p, &left);
			CHECK(strlen(s) == itemlen && memcmp(s, item, itemlen) == 0);
			free(s);
			k++;
		}
		CHECK(pos == back.len && left == 0);
		(void)k;
	}
	free(c.s);
	free(back.s);
	buf_free(&items);
	buf_free(&wire);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode_encode(data, size);
	if (size > 0)
		encode_decode(data, size);
	return 0;
}
