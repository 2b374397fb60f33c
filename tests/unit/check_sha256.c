/*
 * Unit tests for lib/sha256.c: the FIPS 180-4 example messages, the RFC 4231
 * HMAC-SHA256 test cases, and a seeded randomized comparison with libcrypto
 * over many lengths and arbitrary update() splits.
 */
#include <check.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "unit.h"

static void to_hex(const unsigned char *d, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

static void assert_sha256(const void *msg, size_t len, const char *want)
{
	unsigned char md[SHA256_DIGEST_LEN];
	char hex[2 * SHA256_DIGEST_LEN + 1];

	sha256(msg, len, md);
	to_hex(md, sizeof(md), hex);
	ck_assert_str_eq(hex, want);
}

static void assert_hmac(const void *key, size_t keylen, const void *msg, size_t len, size_t outlen,
			const char *want)
{
	unsigned char md[SHA256_DIGEST_LEN];
	char hex[2 * SHA256_DIGEST_LEN + 1];

	hmac_sha256(key, keylen, msg, len, md);
	to_hex(md, outlen, hex);
	ck_assert_str_eq(hex, want);
}

/* Random bytes from unit_rng(), seeded per loop iteration: a failure replays exactly. */
static void rng_fill(unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(unit_rng() >> 32);
}

static void openssl_sha256(const void *msg, size_t len, unsigned char out[SHA256_DIGEST_LEN])
{
	unsigned int n = 0;

	ck_assert_int_eq(EVP_Digest(msg, len, out, &n, EVP_sha256(), NULL), 1);
	ck_assert_uint_eq(n, SHA256_DIGEST_LEN);
}

static void openssl_hmac(const void *key, size_t keylen, const void *msg, size_t len,
			 unsigned char out[SHA256_DIGEST_LEN])
{
	unsigned int n = 0;

	ck_assert_ptr_nonnull(HMAC(EVP_sha256(), key, (int)keylen, msg, len, out, &n));
	ck_assert_uint_eq(n, SHA256_DIGEST_LEN);
}

/* Feeds msg in random-sized pieces, zero-length ones included. */
static void sha256_split(const unsigned char *msg, size_t len, size_t maxchunk,
			 unsigned char out[SHA256_DIGEST_LEN])
{
	struct sha256_ctx c;
	size_t off = 0;

	sha256_init(&c);
	while (off < len) {
		size_t n = unit_rng_below(maxchunk + 1);

		if (n > len - off)
			n = len - off;
		sha256_update(&c, msg + off, n);
		off += n;
	}
	sha256_final(&c, out);
}

/* FIPS 180-4 examples (NIST CSRC "SHA256.pdf", "SHA2 additional"). */

START_TEST(test_empty)
{
	assert_sha256("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_sha256(NULL, 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

START_TEST(test_abc)
{
	assert_sha256("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(test_448bit)
{
	static const char m[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	ck_assert_uint_eq(strlen(m) * 8, 448);
	assert_sha256(m, strlen(m),
		      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

START_TEST(test_896bit)
{
	static const char m[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
				"hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

	ck_assert_uint_eq(strlen(m) * 8, 896);
	assert_sha256(m, strlen(m),
		      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}
END_TEST

START_TEST(test_million_a)
{
	static const char want[] =
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
	unsigned char chunk[1000];
	unsigned char md[SHA256_DIGEST_LEN];
	char hex[2 * SHA256_DIGEST_LEN + 1];
	struct sha256_ctx c;
	unsigned char *big;
	int i;

	memset(chunk, 'a', sizeof(chunk));
	sha256_init(&c);
	for (i = 0; i < 1000; i++)
		sha256_update(&c, chunk, sizeof(chunk));
	sha256_final(&c, md);
	to_hex(md, sizeof(md), hex);
	ck_assert_str_eq(hex, want);

	big = malloc(1000000);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', 1000000);
	assert_sha256(big, 1000000, want);
	free(big);
}
END_TEST

/* Every padding position: the length field lands in the same block for
 * fill <= 55 and needs an extra block from 56 on. */
START_TEST(test_padding_boundaries)
{
	static const char *const want[] = {
	    [55] = "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
	    [56] = "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
	    [63] = "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",
	    [64] = "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
	    [65] = "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0",
	};
	unsigned char m[65];
	size_t n;

	memset(m, 'a', sizeof(m));
	for (n = 0; n < sizeof(want) / sizeof(want[0]); n++)
		if (want[n] != NULL)
			assert_sha256(m, n, want[n]);
}
END_TEST

/* RFC 4231 §4.2-4.8. */

START_TEST(test_hmac_rfc4231_1)
{
	unsigned char key[20];

	memset(key, 0x0b, sizeof(key));
	assert_hmac(key, sizeof(key), "Hi There", 8, SHA256_DIGEST_LEN,
		    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}
END_TEST

START_TEST(test_hmac_rfc4231_2)
{
	static const char d[] = "what do ya want for nothing?";

	assert_hmac("Jefe", 4, d, strlen(d), SHA256_DIGEST_LEN,
		    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
END_TEST

START_TEST(test_hmac_rfc4231_3)
{
	unsigned char key[20], d[50];

	memset(key, 0xaa, sizeof(key));
	memset(d, 0xdd, sizeof(d));
	assert_hmac(key, sizeof(key), d, sizeof(d), SHA256_DIGEST_LEN,
		    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
}
END_TEST

START_TEST(test_hmac_rfc4231_4)
{
	unsigned char key[25], d[50];
	size_t i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)(i + 1);
	memset(d, 0xcd, sizeof(d));
	assert_hmac(key, sizeof(key), d, sizeof(d), SHA256_DIGEST_LEN,
		    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
}
END_TEST

START_TEST(test_hmac_rfc4231_5)
{
	static const char d[] = "Test With Truncation";
	unsigned char key[20];

	/* The RFC gives only the first 128 bits. */
	memset(key, 0x0c, sizeof(key));
	assert_hmac(key, sizeof(key), d, strlen(d), 16, "a3b6167473100ee06e0c796c2955552b");
}
END_TEST

START_TEST(test_hmac_rfc4231_6)
{
	static const char d[] = "Test Using Larger Than Block-Size Key - Hash Key First";
	unsigned char key[131];

	memset(key, 0xaa, sizeof(key));
	assert_hmac(key, sizeof(key), d, strlen(d), SHA256_DIGEST_LEN,
		    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}
END_TEST

START_TEST(test_hmac_rfc4231_7)
{
	static const char d[] = "This is a test using a larger than block-size key and a larger "
				"than block-size data. The key needs to be hashed before being "
				"used by the HMAC algorithm.";
	unsigned char key[131];

	memset(key, 0xaa, sizeof(key));
	assert_hmac(key, sizeof(key), d, strlen(d), SHA256_DIGEST_LEN,
		    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}
END_TEST

/* A key of exactly one block is used as is; one byte more is hashed. */
START_TEST(test_hmac_key_block_edges)
{
	unsigned char key[SHA256_BLOCK_LEN + 1], hashed[SHA256_DIGEST_LEN];
	unsigned char a[SHA256_DIGEST_LEN], b[SHA256_DIGEST_LEN];

	memset(key, 0x5a, sizeof(key));
	hmac_sha256(key, SHA256_BLOCK_LEN + 1, "x", 1, a);
	sha256(key, SHA256_BLOCK_LEN + 1, hashed);
	hmac_sha256(hashed, sizeof(hashed), "x", 1, b);
	ck_assert_mem_eq(a, b, SHA256_DIGEST_LEN);

	hmac_sha256(key, SHA256_BLOCK_LEN, "x", 1, a);
	openssl_hmac(key, SHA256_BLOCK_LEN, "x", 1, b);
	ck_assert_mem_eq(a, b, SHA256_DIGEST_LEN);

	/* An empty key is a block of zeros. */
	hmac_sha256(NULL, 0, "x", 1, a);
	openssl_hmac(key, 0, "x", 1, b);
	ck_assert_mem_eq(a, b, SHA256_DIGEST_LEN);
}
END_TEST

#define RAND_MAX_LEN 1000

START_TEST(test_random_vs_openssl)
{
	static unsigned char msg[RAND_MAX_LEN];
	static const size_t maxchunks[] = {1, 7, 63, 64, 65, 200, RAND_MAX_LEN};
	unsigned char want[SHA256_DIGEST_LEN], got[SHA256_DIGEST_LEN];
	size_t len, k;

	unit_rng_seed(0x9e3779b97f4a7c15ULL + (uint64_t)_i);
	for (len = 0; len <= RAND_MAX_LEN; len++) {
		rng_fill(msg, len);
		openssl_sha256(msg, len, want);

		sha256(msg, len, got);
		ck_assert_msg(memcmp(got, want, sizeof(want)) == 0, "one-shot, len %zu", len);

		for (k = 0; k < sizeof(maxchunks) / sizeof(maxchunks[0]); k++) {
			sha256_split(msg, len, maxchunks[k], got);
			ck_assert_msg(memcmp(got, want, sizeof(want)) == 0,
				      "split <= %zu, len %zu, seed run %d", maxchunks[k], len, _i);
		}
	}
}
END_TEST

START_TEST(test_hmac_random_vs_openssl)
{
	static unsigned char msg[RAND_MAX_LEN], key[3 * SHA256_BLOCK_LEN];
	unsigned char want[SHA256_DIGEST_LEN], got[SHA256_DIGEST_LEN];
	size_t len, keylen;

	unit_rng_seed(0xd1b54a32d192ed03ULL + (uint64_t)_i);
	for (len = 0; len <= RAND_MAX_LEN; len++) {
		/* Cycle through every key length so both sides of the block size
		 * are hit for many message lengths. */
		keylen = len % (sizeof(key) + 1);
		rng_fill(key, keylen);
		rng_fill(msg, len);
		openssl_hmac(key, keylen, msg, len, want);
		hmac_sha256(key, keylen, msg, len, got);
		ck_assert_msg(memcmp(got, want, sizeof(want)) == 0, "keylen %zu, len %zu, run %d",
			      keylen, len, _i);

		keylen = unit_rng_below(sizeof(key) + 1);
		rng_fill(key, keylen);
		openssl_hmac(key, keylen, msg, len, want);
		hmac_sha256(key, keylen, msg, len, got);
		ck_assert_msg(memcmp(got, want, sizeof(want)) == 0, "keylen %zu, len %zu, run %d",
			      keylen, len, _i);
	}
}
END_TEST

static Suite *sha256_suite(void)
{
	Suite *s = suite_create("sha256");
	TCase *tc;

	tc = tcase_create("fips180-4");
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_abc);
	tcase_add_test(tc, test_448bit);
	tcase_add_test(tc, test_896bit);
	tcase_add_test(tc, test_million_a);
	tcase_add_test(tc, test_padding_boundaries);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("hmac-rfc4231");
	tcase_add_test(tc, test_hmac_rfc4231_1);
	tcase_add_test(tc, test_hmac_rfc4231_2);
	tcase_add_test(tc, test_hmac_rfc4231_3);
	tcase_add_test(tc, test_hmac_rfc4231_4);
	tcase_add_test(tc, test_hmac_rfc4231_5);
	tcase_add_test(tc, test_hmac_rfc4231_6);
	tcase_add_test(tc, test_hmac_rfc4231_7);
	tcase_add_test(tc, test_hmac_key_block_edges);
	suite_add_tcase(s, tc);

	tc = tcase_create("vs-libcrypto");
	tcase_add_loop_test(tc, test_random_vs_openssl, 0, 4);
	tcase_add_loop_test(tc, test_hmac_random_vs_openssl, 0, 4);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return unit_run(sha256_suite());
}
