/*
 * libFuzzer harness for proto_parse (lib/proto.c), the framing of every
 * message between the module (root, in the PAM host) and the helper, both
 * magics. Oracles: a message that parses is canonical, so writing its
 * fields back with the writer gives the input byte for byte; keys are
 * unique and well-formed and every value lies inside the input;
 * proto_get_long agrees with the value's bytes; and the writer's output for
 * any value (the input itself) parses back to that value.
 */
#include <limits.h>

#include "oracle.h"
#include "proto.h"

static void check_parsed(const char *magic, const uint8_t *data, size_t size,
			 const struct proto_msg *m)
{
	struct buf b = BUF_INIT;

	CHECK(m->n <= PROTO_MAX_FIELDS);
	proto_begin(&b, magic);
	for (size_t i = 0; i < m->n; i++) {
		const struct proto_field *f = &m->f[i];
		size_t klen = strlen(f->key);
		char num[32];
		long v;

		CHECK(klen >= 1 && klen <= 32 &&
		      strspn(f->key, "abcdefghijklmnopqrstuvwxyz0123456789_.") == klen);
		CHECK(f->val >= data && f->len <= PROTO_MAX_VALUE &&
		      (size_t)(f->val - data) + f->len < size);
		CHECK(proto_get(m, f->key) == f);
		if (proto_get_long(m, f->key, LONG_MIN, LONG_MAX, &v) == 0) {
			/* "-0" is the one other spelling it takes: the value is the same. */
			snprintf(num, sizeof(num), "%ld", v);
			CHECK((strlen(num) == f->len && memcmp(num, f->val, f->len) == 0) ||
			      (f->len == 2 && memcmp(f->val, "-0", 2) == 0));
		}
		proto_put(&b, f->key, f->val, f->len);
	}
	CHECK(proto_end(&b) == 0);
	CHECK(b.len == size && memcmp(b.p, data, size) == 0);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const magics[] = {PROTO_REQUEST_MAGIC, PROTO_RESPONSE_MAGIC};
	struct proto_msg m;
	struct buf b = BUF_INIT;
	const struct proto_field *f;

	for (size_t i = 0; i < 2; i++)
		if (proto_parse(magics[i], data, size, &m) == 0)
			check_parsed(magics[i], data, size, &m);

	/* Writer to reader: any bytes as a value, next to a number. */
	if (size <= PROTO_MAX_VALUE) {
		proto_begin(&b, PROTO_RESPONSE_MAGIC);
		proto_put(&b, "claim.username", data, size);
		proto_put_long(&b, "http_status", (long)size);
		CHECK(proto_end(&b) == 0);
		CHECK(proto_parse(PROTO_RESPONSE_MAGIC, b.p, b.len, &m) == 0 && m.n == 2);
		f = proto_get(&m, "claim.username");
		CHECK(f != NULL && f->len == size && memcmp(f->val, data, size) == 0);
		long v;
		CHECK(proto_get_long(&m, "http_status", 0, LONG_MAX, &v) == 0 && v == (long)size);
		buf_free(&b);
	}
	return 0;
}
