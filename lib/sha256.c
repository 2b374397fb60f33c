/*
 * SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), written from the specs so
 * that the PAM module never needs libcrypto. Portable C: byte order is handled
 * explicitly, so nothing depends on the host's endianness or alignment.
 */
#include <string.h>

#include "sha256.h"

/* FIPS 180-4 §4.2.2: first 32 bits of the fractional parts of the cube roots
 * of the first 64 primes. */
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t rotr(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static uint32_t load_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void store_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* FIPS 180-4 §6.2.2, steps 1-4, for one 512-bit block. */
static void sha256_compress(uint32_t h[8], const unsigned char *blk)
{
	uint32_t w[64];
	uint32_t a, b, c, d, e, f, g, hh, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = load_be32(blk + 4 * i);
	for (i = 16; i < 64; i++) {
		uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}

	a = h[0];
	b = h[1];
	c = h[2];
	d = h[3];
	e = h[4];
	f = h[5];
	g = h[6];
	hh = h[7];
	for (i = 0; i < 64; i++) {
		t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] +
		     w[i];
		t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		hh = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
	h[5] += f;
	h[6] += g;
	h[7] += hh;

	/* The schedule is a copy of the message (a token, an HMAC key block). */
	explicit_bzero(w, sizeof(w));
}

void sha256_init(struct sha256_ctx *c)
{
	/* FIPS 180-4 §5.3.3. */
	static const uint32_t iv[8] = {
	    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(c->h, iv, sizeof(iv));
	c->nbytes = 0;
	c->fill = 0;
	memset(c->block, 0, sizeof(c->block));
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
	const unsigned char *p = data;

	/* Callers pass (NULL, 0) for an empty message; memcpy(NULL) is UB. */
	if (len == 0)
		return;
	c->nbytes += len;

	if (c->fill > 0) {
		size_t n = SHA256_BLOCK_LEN - c->fill;

		if (n > len)
			n = len;
		memcpy(c->block + c->fill, p, n);
		c->fill += n;
		p += n;
		len -= n;
		if (c->fill < SHA256_BLOCK_LEN)
			return;
		sha256_compress(c->h, c->block);
		c->fill = 0;
	}
	for (; len >= SHA256_BLOCK_LEN; p += SHA256_BLOCK_LEN, len -= SHA256_BLOCK_LEN)
		sha256_compress(c->h, p);
	if (len > 0) {
		memcpy(c->block, p, len);
		c->fill = len;
	}
}

void sha256_final(struct sha256_ctx *c, unsigned char out[SHA256_DIGEST_LEN])
{
	/* FIPS 180-4 §5.1.1: the length is in bits, modulo 2^64. */
	uint64_t bits = c->nbytes << 3;
	int i;

	c->block[c->fill++] = 0x80;
	if (c->fill > SHA256_BLOCK_LEN - 8) {
		memset(c->block + c->fill, 0, SHA256_BLOCK_LEN - c->fill);
		sha256_compress(c->h, c->block);
		c->fill = 0;
	}
	memset(c->block + c->fill, 0, SHA256_BLOCK_LEN - 8 - c->fill);
	store_be32(c->block + 56, (uint32_t)(bits >> 32));
	store_be32(c->block + 60, (uint32_t)bits);
	sha256_compress(c->h, c->block);

	for (i = 0; i < 8; i++)
		store_be32(out + 4 * i, c->h[i]);

	/* The buffered tail is token bytes and the state can be resumed: wipe
	 * both. The context must be initialised again before reuse. */
	explicit_bzero(c, sizeof(*c));
}

void sha256(const void *data, size_t len, unsigned char out[SHA256_DIGEST_LEN])
{
	struct sha256_ctx c;

	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final(&c, out);
}

void hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		 unsigned char out[SHA256_DIGEST_LEN])
{
	unsigned char k0[SHA256_BLOCK_LEN];
	unsigned char pad[SHA256_BLOCK_LEN];
	unsigned char inner[SHA256_DIGEST_LEN];
	struct sha256_ctx c;
	size_t i;

	/* RFC 2104 §2: a key longer than the block is replaced by its hash;
	 * shorter keys are zero-padded to the block. */
	memset(k0, 0, sizeof(k0));
	if (keylen > SHA256_BLOCK_LEN)
		sha256(key, keylen, k0);
	else if (keylen > 0)
		memcpy(k0, key, keylen);

	for (i = 0; i < SHA256_BLOCK_LEN; i++)
		pad[i] = k0[i] ^ 0x36;
	sha256_init(&c);
	sha256_update(&c, pad, sizeof(pad));
	sha256_update(&c, data, len);
	sha256_final(&c, inner);

	for (i = 0; i < SHA256_BLOCK_LEN; i++)
		pad[i] = k0[i] ^ 0x5c;
	sha256_init(&c);
	sha256_update(&c, pad, sizeof(pad));
	sha256_update(&c, inner, sizeof(inner));
	sha256_final(&c, out);

	/* Everything here is key-derived; c is wiped again so that this does
	 * not rest on sha256_final() doing it. */
	explicit_bzero(k0, sizeof(k0));
	explicit_bzero(pad, sizeof(pad));
	explicit_bzero(inner, sizeof(inner));
	explicit_bzero(&c, sizeof(c));
}
