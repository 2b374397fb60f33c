/*
 * libFuzzer harness for the agent protocol client (helper/ssh/agent.c): the
 * replies an ssh-agent sends to the three requests `apitoken ssh-cert`
 * makes. The agent is the other end of a socketpair holding the input as
 * its reply, then closed for writing. Input: a byte choosing the request
 * (list, add, remove) and whether the input gives the 4-byte length
 * itself; then the reply.
 *
 * Oracles: the result follows from the reply by the draft's rules, checked
 * against a parser of our own (list: every identity with its exact blob and
 * comment, nothing left over; success, the three failure numbers, anything
 * else; a length of 0 or past AGENT_MAX_REPLY, or a short reply, is "no
 * agent answer"); the identities are freed whole on failure; and what was
 * sent is exactly the request message, one frame of it.
 */
#include <sys/socket.h>

#include <openssl/evp.h>

#include "agent.h"
#include "oracle.h"
#include "sshbuf.h"

/* The key, made here with libcrypto, so the expected bytes do not come from sshkey.c. */
static struct sshkey_ed25519 key;
static const unsigned char cert[] = "\0\0\0\x20ssh-ed25519-cert-v01@openssh.com fake";

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool failure(uint8_t t)
{
	return t == SSH_AGENT_FAILURE || t == 30 || t == 102;
}

/* Our own reading of an identities answer body: -1 malformed, else the count. */
static long ref_identities(const uint8_t *p, size_t len, const struct agent_identities *l)
{
	size_t off = 4;
	uint32_t n;

	if (len < 4)
		return -1;
	n = be32(p);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t bl, cl;

		if (len - off < 4 || (bl = be32(p + off)) > len - off - 4 || bl == 0)
			return -1;
		if (l != NULL &&
		    (l->v[i].blob_len != bl || memcmp(l->v[i].blob, p + off + 4, bl) != 0))
			CHECK(!"blob differs");
		off += 4 + bl;
		if (len - off < 4 || (cl = be32(p + off)) > len - off - 4)
			return -1;
		if (l != NULL &&
		    (memcmp(l->v[i].comment, p + off + 4, cl) != 0 || l->v[i].comment[cl] != '\0'))
			CHECK(!"comment differs");
		off += 4 + cl;
	}
	return off == len ? (long)n : -1;
}

static void init_key(void)
{
	EVP_PKEY *k;
	size_t len = sizeof(key.pk);

	for (int i = 0; i < 32; i++)
		key.seed[i] = (unsigned char)(i * 7 + 1);
	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, key.seed, 32);
	CHECK(k != NULL && EVP_PKEY_get_raw_public_key(k, key.pk, &len) == 1 && len == 32);
	EVP_PKEY_free(k);
}

/* The request the agent received: one frame, and it is req. */
static void check_sent(int fd, const struct buf *req)
{
	unsigned char got[1024];
	ssize_t n = recv(fd, got, sizeof(got), MSG_DONTWAIT);

	CHECK(n == (ssize_t)(req->len + 4) && be32(got) == req->len &&
	      memcmp(got + 4, req->p, req->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent a = {.fd = -1, .timeout_ms = 1000, .path = "fuzz"};
	struct agent_identities l = {0};
	struct buf req = BUF_INIT;
	const uint8_t *body = data + 1;
	size_t blen = size - 1;
	uint8_t hdr[4];
	uint32_t len;
	char err[512];
	enum apt_rc rc, want;
	int sv[2];

	if (size < 1)
		return 0;
	if (key.pk[0] == 0 && key.pk[1] == 0)
		init_key();
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	a.fd = sv[0];
	if (data[0] & 0x80) { /* the input frames its reply itself, rightly or not */
		if (blen < 4)
			goto out;
		len = be32(body);
		CHECK(write(sv[1], body, blen) == (ssize_t)blen);
		body += 4;
		blen -= 4;
	} else {
		len = (uint32_t)blen;
		hdr[0] = (uint8_t)(len >> 24);
		hdr[1] = (uint8_t)(len >> 16);
		hdr[2] = (uint8_t)(len >> 8);
		hdr[3] = (uint8_t)len;
		CHECK(write(sv[1], hdr, 4) == 4 &&
		      (blen == 0 || write(sv[1], body, blen) == (ssize_t)blen));
	}
	shutdown(sv[1], SHUT_WR);

	switch (data[0] % 3) {
	case 0:
		rc = agent_list(&a, &l, err, sizeof(err));
		sshbuf_put_u8(&req, SSH2_AGENTC_REQUEST_IDENTITIES);
		break;
	case 1:
		rc = agent_add_ed25519_cert(&a, &key, cert, sizeof(cert), "apitoken", 3600, err,
					    sizeof(err));
		sshbuf_put_u8(&req, SSH2_AGENTC_ADD_ID_CONSTRAINED);
		sshbuf_put_cstring(&req, AGENT_ED25519_CERT_TYPE);
		sshbuf_put_string(&req, cert, sizeof(cert));
		sshbuf_put_string(&req, key.pk, 32);
		sshbuf_put_u32(&req, 64);
		buf_append(&req, key.seed, 32);
		buf_append(&req, key.pk, 32);
		sshbuf_put_cstring(&req, "apitoken");
		sshbuf_put_u8(&req, SSH_AGENT_CONSTRAIN_LIFETIME);
		sshbuf_put_u32(&req, 3600);
		break;
	default:
		rc = agent_remove(&a, cert, sizeof(cert), err, sizeof(err));
		sshbuf_put_u8(&req, SSH2_AGENTC_REMOVE_IDENTITY);
		sshbuf_put_string(&req, cert, sizeof(cert));
		break;
	}
	check_sent(sv[1], &req);

	/* What the reply should have meant. */
	if (len == 0 || len > AGENT_MAX_REPLY || blen < len)
		want = APT_UNAVAIL;
	else if (data[0] % 3 == 0 && body[0] == SSH2_AGENT_IDENTITIES_ANSWER)
		want = ref_identities(body + 1, len - 1, NULL) >= 0 ? APT_OK : APT_UNAVAIL;
	else if (data[0] % 3 != 0 && body[0] == SSH_AGENT_SUCCESS)
		want = APT_OK;
	else if (failure(body[0]))
		want = APT_DENY;
	else
		want = APT_UNAVAIL;
	CHECK(rc == want);
	if (rc != APT_OK)
		CHECK(err[0] != '\0');
	if (data[0] % 3 == 0) {
		if (rc == APT_OK) {
			CHECK((long)l.n == ref_identities(body + 1, len - 1, &l));
			for (size_t i = 0; i < l.n; i++)
				CHECK(agent_identities_count(&l, l.v[i].blob, l.v[i].blob_len) >=
				      1);
		} else {
			CHECK(l.v == NULL && l.n == 0);
		}
	}
	/* A reply read whole leaves the connection usable; anything else closes it. */
	CHECK(a.fd == -1 || (len > 0 && len <= AGENT_MAX_REPLY && blen >= len));
	agent_identities_free(&l);
out:
	buf_free(&req);
	agent_close(&a);
	close(sv[1]);
	return 0;
}
