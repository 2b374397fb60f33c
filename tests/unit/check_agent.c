/*
 * Unit tests for helper/ssh/agent.c against the real OpenSSH ssh-agent
 * (started by main() on a socket in the temp dir, killed at the end) and
 * against fake agents played by the test itself: it accepts the client's
 * connection and queues a canned reply before the request is even sent, so
 * one process plays both sides with no thread and no fork. The fakes also
 * capture the request, to check its bytes against draft-miller-ssh-agent.
 *
 * Keys are Ed25519 from libcrypto; their certificates are made by the real
 * `ssh-keygen -s` with a CA made by `ssh-keygen -t ed25519`.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "agent.h"
#include "buf.h"
#include "sshbuf.h"
#include "unit.h"

static pid_t agent_pid = -1;
static char agent_sock[PATH_MAX]; /* the real ssh-agent */
static char ca_path[PATH_MAX];	  /* the CA's private key, for ssh-keygen -s */

/*
 * Runs argv (no shell) with SSH_AUTH_SOCK set to sock (when not NULL),
 * stdout and stderr into out (NUL-terminated, truncated to outlen). Returns
 * the exit status, or -1 if it did not exit normally.
 */
static int run(char *const argv[], const char *sock, char *out, size_t outlen)
{
	char var[PATH_MAX + 16];
	struct buf b = BUF_INIT;
	int rc;

	snprintf(var, sizeof(var), "SSH_AUTH_SOCK=%s", sock != NULL ? sock : "");
	rc = unit_command((const char *const *)argv, sock != NULL ? var : NULL, true, &b);
	if (out != NULL && outlen > 0)
		snprintf(out, outlen, "%s", b.p != NULL ? (const char *)b.p : "");
	buf_free(&b);
	return rc;
}

/* ------------------------------------------------------------------ keys */

struct testkey {
	unsigned char pk[32], seed[32];
	struct buf keyblob; /* string "ssh-ed25519", string pk */
	struct buf cert;    /* the certificate blob from ssh-keygen -s */
};

/* A fresh Ed25519 key from libcrypto, and its public key blob. */
static void make_keypair(struct testkey *k)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	EVP_PKEY *pkey = NULL;
	size_t pklen = 32, sklen = 32;

	memset(k, 0, sizeof(*k));
	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(EVP_PKEY_keygen_init(ctx), 1);
	ck_assert_int_eq(EVP_PKEY_keygen(ctx, &pkey), 1);
	ck_assert_int_eq(EVP_PKEY_get_raw_public_key(pkey, k->pk, &pklen), 1);
	ck_assert_int_eq(EVP_PKEY_get_raw_private_key(pkey, k->seed, &sklen), 1);
	ck_assert_uint_eq(pklen, 32);
	ck_assert_uint_eq(sklen, 32);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);

	sshbuf_put_cstring(&k->keyblob, "ssh-ed25519");
	sshbuf_put_string(&k->keyblob, k->pk, 32);
	ck_assert(!k->keyblob.failed);
}

/*
 * A user certificate for k's key into cert: name.pub is written by hand
 * ("ssh-ed25519 BASE64 comment", all that ssh-keygen -s reads), signed by
 * the CA for principal "alice" with this validity (ssh-keygen -V).
 */
static void sign_key(const struct testkey *k, const char *name, const char *validity,
		     struct buf *cert)
{
	char pub[PATH_MAX], certpath[PATH_MAX], id[64], out[1024];
	struct buf line = BUF_INIT, file = BUF_INIT;
	char *sp, *end;

	buf_appendf(&line, "ssh-ed25519 ");
	ck_assert_int_eq(base64_encode(&line, k->keyblob.p, k->keyblob.len), 0);
	buf_appendf(&line, " %s@check_agent\n", name);
	ck_assert(!line.failed);
	snprintf(id, sizeof(id), "%s.pub", name);
	unit_write(pub, id, line.p, line.len, 0644);
	{
		char *argv[] = {"ssh-keygen", "-q",    "-s", ca_path,	       "-I", (char *)name,
				"-n",	      "alice", "-V", (char *)validity, pub,  NULL};
		int rc = run(argv, NULL, out, sizeof(out));

		ck_assert_msg(rc == 0, "ssh-keygen -s: %d: %s", rc, out);
	}
	snprintf(id, sizeof(id), "%s-cert.pub", name);
	unit_path(certpath, sizeof(certpath), id);
	unit_slurp(certpath, &file);
	sp = strchr((char *)file.p, ' ');
	ck_assert_ptr_nonnull(sp);
	*sp = '\0';
	ck_assert_str_eq((char *)file.p, AGENT_ED25519_CERT_TYPE);
	end = strchr(sp + 1, ' ');
	ck_assert_ptr_nonnull(end);
	ck_assert_int_eq(base64_decode(cert, sp + 1, (size_t)(end - sp - 1)), 0);
	ck_assert_uint_gt(cert->len, 100);
	buf_free(&line);
	buf_free(&file);
}

/* A fresh key with a certificate. */
static void make_key(struct testkey *k, const char *name, const char *validity)
{
	make_keypair(k);
	sign_key(k, name, validity, &k->cert);
}

static void free_key(struct testkey *k)
{
	buf_free(&k->keyblob);
	buf_free(&k->cert);
	explicit_bzero(k->seed, sizeof(k->seed));
}

/* ------------------------------------------------------------- helpers */

static void connect_real(struct agent *a)
{
	char err[512] = "";

	ck_assert_msg(agent_connect(a, agent_sock, err, sizeof(err)) == APT_OK, "%s", err);
}

/* How many identities of the real agent are exactly this blob, by our list. */
static size_t listed(struct agent *a, const struct buf *blob, char *comment, size_t clen)
{
	struct agent_identities l;
	char err[512] = "";
	size_t n;

	ck_assert_msg(agent_list(a, &l, err, sizeof(err)) == APT_OK, "%s", err);
	n = agent_identities_count(&l, blob->p, blob->len);
	if (comment != NULL) {
		comment[0] = '\0';
		for (size_t i = 0; i < l.n; i++)
			if (l.v[i].blob_len == blob->len &&
			    memcmp(l.v[i].blob, blob->p, blob->len) == 0)
				snprintf(comment, clen, "%s", l.v[i].comment);
	}
	agent_identities_free(&l);
	return n;
}

/* `ssh-add -l` against the real agent. */
static void ssh_add_l(char *out, size_t outlen)
{
	char *argv[] = {"ssh-add", "-l", NULL};

	run(argv, agent_sock, out, outlen);
}

static void add_ok(struct agent *a, const struct testkey *k, const char *comment, uint32_t life)
{
	char err[512] = "";
	enum apt_rc rc = agent_add_ed25519_cert(a, k->pk, k->seed, k->cert.p, k->cert.len, comment,
						life, err, sizeof(err));

	ck_assert_msg(rc == APT_OK, "add: rc %d: %s", rc, err);
}

/* ------------------------------------------------------ the real agent */

START_TEST(test_add_list_remove)
{
	struct testkey k;
	struct agent a;
	char err[512], out[4096], comment[256];

	make_key(&k, "k1", "+5m");
	connect_real(&a);
	add_ok(&a, &k, "apitoken k1", 300);

	/* ssh-add sees a certificate, by its comment and key type. */
	ssh_add_l(out, sizeof(out));
	ck_assert_msg(strstr(out, "apitoken k1 (ED25519-CERT)") != NULL, "ssh-add -l: %s", out);
	/* Our list: the certificate blob, as added, with the comment. */
	ck_assert_uint_eq(listed(&a, &k.cert, comment, sizeof(comment)), 1);
	ck_assert_str_eq(comment, "apitoken k1");
	/* The agent holds the certificate, not a plain key as well. */
	ck_assert_uint_eq(listed(&a, &k.keyblob, NULL, 0), 0);

	/* A plain key blob does not remove the certificate identity. */
	err[0] = '\0';
	ck_assert_int_eq(agent_remove(&a, k.keyblob.p, k.keyblob.len, err, sizeof(err)), APT_DENY);
	ck_assert_msg(strstr(err, "no such key") != NULL, "%s", err);
	ck_assert_uint_eq(listed(&a, &k.cert, NULL, 0), 1);

	ck_assert_msg(agent_remove(&a, k.cert.p, k.cert.len, err, sizeof(err)) == APT_OK, "%s",
		      err);
	ck_assert_uint_eq(listed(&a, &k.cert, NULL, 0), 0);
	ssh_add_l(out, sizeof(out));
	ck_assert_msg(strstr(out, "apitoken k1") == NULL, "ssh-add -l: %s", out);
	/* Removing again: the agent says it has no such key. */
	ck_assert_int_eq(agent_remove(&a, k.cert.p, k.cert.len, err, sizeof(err)), APT_DENY);
	agent_close(&a);
	free_key(&k);
}
END_TEST

/* SSH_AUTH_SOCK is where a NULL path leads. */
START_TEST(test_env_socket)
{
	struct agent a;
	struct agent_identities l;
	char err[512] = "";

	ck_assert_int_eq(setenv("SSH_AUTH_SOCK", agent_sock, 1), 0);
	ck_assert_msg(agent_connect(&a, NULL, err, sizeof(err)) == APT_OK, "%s", err);
	ck_assert_str_eq(a.path, agent_sock);
	ck_assert_msg(agent_list(&a, &l, err, sizeof(err)) == APT_OK, "%s", err);
	agent_identities_free(&l);
	agent_close(&a);

	ck_assert_int_eq(unsetenv("SSH_AUTH_SOCK"), 0);
	ck_assert_int_eq(agent_connect(&a, NULL, err, sizeof(err)), APT_UNAVAIL);
	ck_assert_msg(strstr(err, "SSH_AUTH_SOCK is not set") != NULL, "%s", err);
	ck_assert_int_eq(a.fd, -1);
	ck_assert_int_eq(setenv("SSH_AUTH_SOCK", "", 1), 0);
	ck_assert_int_eq(agent_connect(&a, NULL, err, sizeof(err)), APT_UNAVAIL);
	unsetenv("SSH_AUTH_SOCK");
}
END_TEST

/* The agent forgets the identity when its lifetime ends. */
START_TEST(test_lifetime)
{
	struct testkey k;
	struct agent a;

	make_key(&k, "k2", "+5m");
	connect_real(&a);
	add_ok(&a, &k, "apitoken k2", 2);
	ck_assert_uint_eq(listed(&a, &k.cert, NULL, 0), 1);
	sleep(3);
	ck_assert_uint_eq(listed(&a, &k.cert, NULL, 0), 0);
	agent_close(&a);
	free_key(&k);
}
END_TEST

/* Adding the same certificate again replaces it: one identity, the new lifetime. */
START_TEST(test_add_twice)
{
	struct testkey k;
	struct agent a;
	char comment[256];

	make_key(&k, "k3", "+5m");
	connect_real(&a);
	add_ok(&a, &k, "apitoken first", 300);
	add_ok(&a, &k, "apitoken second", 2);
	ck_assert_uint_eq(listed(&a, &k.cert, comment, sizeof(comment)), 1);
	/* OpenSSH takes the new comment and the new constraints. */
	ck_assert_str_eq(comment, "apitoken second");
	sleep(3);
	ck_assert_uint_eq(listed(&a, &k.cert, NULL, 0), 0);
	agent_close(&a);
	free_key(&k);
}
END_TEST

/* Two certificates for two keys are two identities; each goes by its own blob. */
START_TEST(test_two_keys)
{
	struct testkey k1, k2;
	struct agent a;
	char err[512] = "";

	make_key(&k1, "k4", "+5m");
	make_key(&k2, "k5", "+5m");
	connect_real(&a);
	add_ok(&a, &k1, "apitoken k4", 300);
	add_ok(&a, &k2, "apitoken k5", 300);
	ck_assert_uint_eq(listed(&a, &k1.cert, NULL, 0), 1);
	ck_assert_uint_eq(listed(&a, &k2.cert, NULL, 0), 1);
	ck_assert_msg(agent_remove(&a, k1.cert.p, k1.cert.len, err, sizeof(err)) == APT_OK, "%s",
		      err);
	ck_assert_uint_eq(listed(&a, &k1.cert, NULL, 0), 0);
	ck_assert_uint_eq(listed(&a, &k2.cert, NULL, 0), 1);
	ck_assert_msg(agent_remove(&a, k2.cert.p, k2.cert.len, err, sizeof(err)) == APT_OK, "%s",
		      err);
	agent_close(&a);
	free_key(&k1);
	free_key(&k2);
}
END_TEST

/* A certificate for another key: the real agent refuses, and we say why. */
START_TEST(test_real_refusal)
{
	struct testkey k1, k2;
	struct agent a;
	char err[512] = "";
	enum apt_rc rc;

	make_key(&k1, "k6", "+5m");
	make_key(&k2, "k7", "+5m");
	connect_real(&a);
	/* k1's private key and public key with k2's certificate. */
	rc = agent_add_ed25519_cert(&a, k1.pk, k1.seed, k2.cert.p, k2.cert.len, "mismatch", 60, err,
				    sizeof(err));
	ck_assert_msg(rc == APT_DENY, "rc %d: %s", rc, err);
	ck_assert_msg(strstr(err, "refused the certificate") != NULL, "%s", err);
	ck_assert_uint_eq(listed(&a, &k2.cert, NULL, 0), 0);
	/* A seed that is not the public key's: refused before the agent sees it. */
	rc = agent_add_ed25519_cert(&a, k1.pk, k2.seed, k1.cert.p, k1.cert.len, "badseed", 60, err,
				    sizeof(err));
	ck_assert_msg(rc == APT_SERVICE, "rc %d: %s", rc, err);
	ck_assert_msg(strstr(err, "does not match") != NULL, "%s", err);
	ck_assert_uint_eq(listed(&a, &k1.cert, NULL, 0), 0);
	agent_close(&a);
	free_key(&k1);
	free_key(&k2);
}
END_TEST

/*
 * A renewed certificate for the same key is a second identity, not a
 * replacement: the caller must remove the old one by its blob.
 */
START_TEST(test_renewed_cert)
{
	struct buf renewed = BUF_INIT;
	struct testkey k;
	struct agent a;
	char err[512] = "";

	make_key(&k, "k9", "+5m");
	sign_key(&k, "k9", "+10m", &renewed);
	ck_assert(renewed.len != k.cert.len || memcmp(renewed.p, k.cert.p, k.cert.len) != 0);
	connect_real(&a);
	add_ok(&a, &k, "apitoken k9", 300);
	ck_assert_msg(agent_add_ed25519_cert(&a, k.pk, k.seed, renewed.p, renewed.len,
					     "apitoken k9", 600, err, sizeof(err)) == APT_OK,
		      "%s", err);
	ck_assert_uint_eq(listed(&a, &k.cert, NULL, 0), 1);
	ck_assert_uint_eq(listed(&a, &renewed, NULL, 0), 1);
	ck_assert_msg(agent_remove(&a, k.cert.p, k.cert.len, err, sizeof(err)) == APT_OK, "%s",
		      err);
	ck_assert_uint_eq(listed(&a, &k.cert, NULL, 0), 0);
	ck_assert_uint_eq(listed(&a, &renewed, NULL, 0), 1);
	ck_assert_msg(agent_remove(&a, renewed.p, renewed.len, err, sizeof(err)) == APT_OK, "%s",
		      err);
	agent_close(&a);
	buf_free(&renewed);
	free_key(&k);
}
END_TEST

/* ssh-agent does not look at validity: an expired certificate goes in. */
START_TEST(test_expired_cert)
{
	struct testkey k;
	struct agent a;
	char err[512] = "";

	make_key(&k, "k10", "-10m:-5m");
	connect_real(&a);
	add_ok(&a, &k, "apitoken k10", 60);
	ck_assert_uint_eq(listed(&a, &k.cert, NULL, 0), 1);
	ck_assert_msg(agent_remove(&a, k.cert.p, k.cert.len, err, sizeof(err)) == APT_OK, "%s",
		      err);
	agent_close(&a);
	free_key(&k);
}
END_TEST

/* Arguments the agent would hold forever, or nothing to hold. */
START_TEST(test_bad_arguments)
{
	struct testkey k;
	struct agent a;
	char err[512] = "";

	make_key(&k, "k8", "+5m");
	connect_real(&a);
	ck_assert_int_eq(agent_add_ed25519_cert(&a, k.pk, k.seed, k.cert.p, k.cert.len, "x", 0, err,
						sizeof(err)),
			 APT_SERVICE);
	ck_assert_int_eq(
	    agent_add_ed25519_cert(&a, k.pk, k.seed, NULL, 0, "x", 60, err, sizeof(err)),
	    APT_SERVICE);
	ck_assert_int_eq(agent_remove(&a, NULL, 0, err, sizeof(err)), APT_SERVICE);
	ck_assert_uint_eq(listed(&a, &k.cert, NULL, 0), 0);
	agent_close(&a);
	free_key(&k);
}
END_TEST

/* ------------------------------------------------------ socket paths */

static void sun_set(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(path), sizeof(sun->sun_path));
	memcpy(sun->sun_path, path, strlen(path) + 1);
}

static void expect_connect(const char *path, enum apt_rc want, const char *frag)
{
	struct agent a;
	char err[512] = "";
	enum apt_rc rc = agent_connect(&a, path, err, sizeof(err));

	ck_assert_msg(rc == want, "%s: rc %d, want %d: %s", path, rc, want, err);
	ck_assert_msg(strstr(err, frag) != NULL, "error \"%s\" lacks \"%s\"", err, frag);
	ck_assert_int_eq(a.fd, -1);
}

START_TEST(test_paths)
{
	char p[PATH_MAX], longpath[300];
	struct sockaddr_un sun;
	int fd;

	unit_path(p, sizeof(p), "no-such-agent.sock");
	expect_connect(p, APT_UNAVAIL, "no such socket");

	unit_write(p, "regular-file", "x", 1, 0600);
	expect_connect(p, APT_SERVICE, "is not a socket");
	expect_connect(unit_tmpdir(NULL), APT_SERVICE, "is not a socket");

	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	expect_connect(longpath, APT_SERVICE, "too long");

	/* A socket file that nobody listens on any more (a stale SSH_AUTH_SOCK). */
	unit_path(p, sizeof(p), "stale.sock");
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	sun_set(&sun, p);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	close(fd);
	expect_connect(p, APT_UNAVAIL, "no ssh-agent is listening");
	unlink(p);
}
END_TEST

/* ------------------------------------------------------- fake agents */

struct fake {
	int lfd, sfd; /* listening socket; the accepted connection */
	char path[PATH_MAX];
};

/* A fake agent at a fresh socket, with a connected from the client side. */
static void fake_start(struct fake *f, struct agent *a, int timeout_ms)
{
	static int seq;
	struct sockaddr_un sun;
	char name[64], err[512] = "";

	snprintf(name, sizeof(name), "fake%d.sock", seq++);
	unit_path(f->path, sizeof(f->path), name);
	unlink(f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(f->lfd, 0);
	sun_set(&sun, f->path);
	ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(f->lfd, 4), 0);
	ck_assert_msg(agent_connect(a, f->path, err, sizeof(err)) == APT_OK, "%s", err);
	a->timeout_ms = timeout_ms;
	f->sfd = accept(f->lfd, NULL, NULL);
	ck_assert_int_ge(f->sfd, 0);
}

/* Queues bytes for the client to read once it has sent its request. */
static void fake_say(struct fake *f, const void *p, size_t len)
{
	ck_assert_int_eq(send(f->sfd, p, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* A whole reply: length, then these bytes. */
static void fake_reply(struct fake *f, const void *p, size_t len)
{
	struct buf m = BUF_INIT;

	sshbuf_put_string(&m, p, len);
	ck_assert(!m.failed);
	fake_say(f, m.p, m.len);
	buf_free(&m);
}

/* What the client sent, as far as it got. */
static void fake_heard(struct fake *f, struct buf *out)
{
	unsigned char chunk[4096];
	ssize_t n;

	while ((n = recv(f->sfd, chunk, sizeof(chunk), MSG_DONTWAIT)) > 0)
		buf_append(out, chunk, (size_t)n);
}

static void fake_stop(struct fake *f)
{
	if (f->sfd >= 0)
		close(f->sfd);
	close(f->lfd);
	unlink(f->path);
}

/* A real pair: the client checks that the seed is the public key's. Made once. */
static struct testkey fake_key;

static void need_fake_key(void)
{
	if (fake_key.keyblob.len == 0)
		make_keypair(&fake_key);
}
static const char fake_cert[] = "not really a certificate, but bytes";

static enum apt_rc fake_add(struct agent *a, char *err, size_t errlen)
{
	need_fake_key();
	return agent_add_ed25519_cert(a, fake_key.pk, fake_key.seed, fake_cert,
				      sizeof(fake_cert) - 1, "the comment", 1234, err, errlen);
}

/* The add request, byte by byte, as the draft lays it out. */
START_TEST(test_add_request_bytes)
{
	struct buf heard = BUF_INIT;
	struct sshbuf b, msg;
	const unsigned char *p;
	unsigned char ok = SSH_AGENT_SUCCESS;
	struct fake f;
	struct agent a;
	char err[512] = "", s[64];
	uint32_t u32;
	uint8_t u8;
	size_t len;

	fake_start(&f, &a, 2000);
	fake_reply(&f, &ok, 1);
	ck_assert_msg(fake_add(&a, err, sizeof(err)) == APT_OK, "%s", err);
	fake_heard(&f, &heard);
	sshbuf_init(&b, heard.p, heard.len);
	ck_assert_int_eq(sshbuf_get_sub(&b, &msg), 0);
	ck_assert_uint_eq(sshbuf_left(&b), 0);
	ck_assert_int_eq(sshbuf_get_u8(&msg, &u8), 0);
	ck_assert_uint_eq(u8, SSH2_AGENTC_ADD_ID_CONSTRAINED);
	ck_assert_int_eq(sshbuf_get_cstring(&msg, s, sizeof(s)), 0);
	ck_assert_str_eq(s, "ssh-ed25519-cert-v01@openssh.com");
	ck_assert_int_eq(sshbuf_get_string(&msg, &p, &len), 0);
	ck_assert_uint_eq(len, sizeof(fake_cert) - 1);
	ck_assert_int_eq(memcmp(p, fake_cert, len), 0);
	ck_assert_int_eq(sshbuf_get_string(&msg, &p, &len), 0);
	ck_assert_uint_eq(len, 32);
	ck_assert_int_eq(memcmp(p, fake_key.pk, 32), 0);
	ck_assert_int_eq(sshbuf_get_string(&msg, &p, &len), 0);
	ck_assert_uint_eq(len, 64);
	ck_assert_int_eq(memcmp(p, fake_key.seed, 32), 0);
	ck_assert_int_eq(memcmp(p + 32, fake_key.pk, 32), 0);
	ck_assert_int_eq(sshbuf_get_cstring(&msg, s, sizeof(s)), 0);
	ck_assert_str_eq(s, "the comment");
	ck_assert_int_eq(sshbuf_get_u8(&msg, &u8), 0);
	ck_assert_uint_eq(u8, SSH_AGENT_CONSTRAIN_LIFETIME);
	ck_assert_int_eq(sshbuf_get_u32(&msg, &u32), 0);
	ck_assert_uint_eq(u32, 1234);
	ck_assert_uint_eq(sshbuf_left(&msg), 0);
	buf_free(&heard);
	agent_close(&a);
	fake_stop(&f);
}
END_TEST

/* The list and remove requests, and a well-formed list parsed. */
START_TEST(test_list_parse)
{
	struct buf reply = BUF_INIT, heard = BUF_INIT;
	struct agent_identities l;
	unsigned char ok = SSH_AGENT_SUCCESS;
	static const unsigned char want_list[] = {0, 0, 0, 1, SSH2_AGENTC_REQUEST_IDENTITIES};
	static const unsigned char want_remove[] = {
	    0, 0, 0, 8, SSH2_AGENTC_REMOVE_IDENTITY, 0, 0, 0, 3, 'k', 'e', 'y'};
	struct fake f;
	struct agent a;
	char err[512] = "";

	sshbuf_put_u8(&reply, SSH2_AGENT_IDENTITIES_ANSWER);
	sshbuf_put_u32(&reply, 2);
	sshbuf_put_string(&reply, "blob-one", 8);
	sshbuf_put_cstring(&reply, "first");
	sshbuf_put_string(&reply, "blob-two", 8);
	sshbuf_put_cstring(&reply, "");

	fake_start(&f, &a, 2000);
	fake_reply(&f, reply.p, reply.len);
	fake_reply(&f, &ok, 1);
	ck_assert_msg(agent_list(&a, &l, err, sizeof(err)) == APT_OK, "%s", err);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_uint_eq(l.v[0].blob_len, 8);
	ck_assert_int_eq(memcmp(l.v[0].blob, "blob-one", 8), 0);
	ck_assert_str_eq(l.v[0].comment, "first");
	ck_assert_int_eq(memcmp(l.v[1].blob, "blob-two", 8), 0);
	ck_assert_str_eq(l.v[1].comment, "");
	ck_assert_uint_eq(agent_identities_count(&l, "blob-two", 8), 1);
	ck_assert_uint_eq(agent_identities_count(&l, "blob-tw", 7), 0);
	agent_identities_free(&l);
	ck_assert_uint_eq(l.n, 0);

	/* The same connection carries the next request. */
	ck_assert_msg(agent_remove(&a, "key", 3, err, sizeof(err)) == APT_OK, "%s", err);
	fake_heard(&f, &heard);
	ck_assert_uint_eq(heard.len, sizeof(want_list) + sizeof(want_remove));
	ck_assert_int_eq(memcmp(heard.p, want_list, sizeof(want_list)), 0);
	ck_assert_int_eq(memcmp(heard.p + sizeof(want_list), want_remove, sizeof(want_remove)), 0);
	buf_free(&heard);
	buf_free(&reply);
	agent_close(&a);
	fake_stop(&f);
}
END_TEST

/* An agent that cannot hold certificates (gpg-agent, gnome-keyring) answers FAILURE. */
START_TEST(test_fake_refuses)
{
	/* SSH_AGENT_FAILURE, and the older failure numbers some agents send. */
	static const unsigned char failures[] = {SSH_AGENT_FAILURE, 30, 102};

	for (size_t i = 0; i < sizeof(failures); i++) {
		struct fake f;
		struct agent a;
		char err[512] = "";

		fake_start(&f, &a, 2000);
		fake_reply(&f, &failures[i], 1);
		ck_assert_int_eq(fake_add(&a, err, sizeof(err)), APT_DENY);
		ck_assert_msg(strstr(err,
				     "refused the certificate (gpg-agent and gnome-keyring "
				     "cannot hold certificates); use the files instead") != NULL,
			      "%s", err);
		ck_assert_msg(strstr(err, f.path) != NULL, "%s", err);
		/* A refusal is an answer: the connection stays usable. */
		ck_assert_int_ge(a.fd, 0);
		agent_close(&a);
		fake_stop(&f);
	}
}
END_TEST

/* Any other answer to the add is reported as such. */
START_TEST(test_fake_unexpected)
{
	unsigned char ans = SSH2_AGENT_IDENTITIES_ANSWER;
	struct agent_identities l;
	unsigned char fail = SSH_AGENT_FAILURE, ok = SSH_AGENT_SUCCESS;
	struct fake f;
	struct agent a;
	char err[512] = "";

	fake_start(&f, &a, 2000);
	fake_reply(&f, &ans, 1);
	ck_assert_int_eq(fake_add(&a, err, sizeof(err)), APT_UNAVAIL);
	ck_assert_msg(strstr(err, "message 12") != NULL, "%s", err);
	/* An agent that refuses to list, and one that answers SUCCESS to a list. */
	fake_reply(&f, &fail, 1);
	ck_assert_int_eq(agent_list(&a, &l, err, sizeof(err)), APT_DENY);
	ck_assert_ptr_null(l.v);
	fake_reply(&f, &ok, 1);
	ck_assert_int_eq(agent_list(&a, &l, err, sizeof(err)), APT_UNAVAIL);
	ck_assert_msg(strstr(err, "message 6") != NULL, "%s", err);
	fake_reply(&f, &ans, 1);
	ck_assert_int_eq(agent_remove(&a, "k", 1, err, sizeof(err)), APT_UNAVAIL);
	agent_close(&a);
	fake_stop(&f);
}
END_TEST

/* Malformed lists: refused, nothing returned, nothing leaked. */
START_TEST(test_fake_garbage_lists)
{
	for (int i = 0; i < 6; i++) {
		struct buf r = BUF_INIT;
		struct agent_identities l;
		struct fake f;
		struct agent a;
		char err[512] = "";

		sshbuf_put_u8(&r, SSH2_AGENT_IDENTITIES_ANSWER);
		switch (i) {
		case 0: /* a count far beyond what the reply holds */
			sshbuf_put_u32(&r, 0xffffffffu);
			break;
		case 1: /* a string running past the end */
			sshbuf_put_u32(&r, 1);
			sshbuf_put_u32(&r, 1000);
			sshbuf_put_u32(&r, 0);
			break;
		case 2: /* one entry short */
			sshbuf_put_u32(&r, 2);
			sshbuf_put_string(&r, "blob", 4);
			sshbuf_put_cstring(&r, "c");
			sshbuf_put_u64(&r, 0);
			break;
		case 3: /* bytes after the last entry */
			sshbuf_put_u32(&r, 1);
			sshbuf_put_string(&r, "blob", 4);
			sshbuf_put_cstring(&r, "c");
			sshbuf_put_u8(&r, 0);
			break;
		case 4: /* no count at all */
			break;
		case 5: /* an empty key blob */
			sshbuf_put_u32(&r, 1);
			sshbuf_put_string(&r, "", 0);
			sshbuf_put_cstring(&r, "c");
			break;
		}
		fake_start(&f, &a, 2000);
		fake_reply(&f, r.p, r.len);
		ck_assert_int_eq(agent_list(&a, &l, err, sizeof(err)), APT_UNAVAIL);
		ck_assert_msg(strstr(err, "malformed") != NULL, "case %d: %s", i, err);
		ck_assert_ptr_null(l.v);
		ck_assert_uint_eq(l.n, 0);
		agent_close(&a);
		fake_stop(&f);
		buf_free(&r);
	}
}
END_TEST

/* Lengths that are zero or beyond the cap are refused before any allocation. */
START_TEST(test_fake_bad_lengths)
{
	static const unsigned char huge[] = {0xff, 0xff, 0xff, 0xff, SSH_AGENT_SUCCESS};
	static const unsigned char over[] = {0x00, 0x04, 0x00, 0x01, SSH_AGENT_SUCCESS};
	static const unsigned char zero[] = {0, 0, 0, 0};
	const unsigned char *cases[] = {huge, over, zero};
	const size_t lens[] = {sizeof(huge), sizeof(over), sizeof(zero)};

	for (size_t i = 0; i < 3; i++) {
		struct agent_identities l;
		struct fake f;
		struct agent a;
		char err[512] = "";

		fake_start(&f, &a, 2000);
		fake_say(&f, cases[i], lens[i]);
		ck_assert_int_eq(agent_list(&a, &l, err, sizeof(err)), APT_UNAVAIL);
		ck_assert_msg(strstr(err, "sent a reply of") != NULL, "%s", err);
		ck_assert_ptr_null(l.v);
		/* Out of step with the agent now: the connection is closed. */
		ck_assert_int_eq(a.fd, -1);
		ck_assert_int_eq(agent_list(&a, &l, err, sizeof(err)), APT_UNAVAIL);
		ck_assert_msg(strstr(err, "not connected") != NULL, "%s", err);
		agent_close(&a);
		fake_stop(&f);
	}
}
END_TEST

static long long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An agent that says nothing, or stops halfway: the timeout ends the wait. */
START_TEST(test_fake_silent)
{
	static const unsigned char half[] = {0, 0, 0, 100, SSH2_AGENT_IDENTITIES_ANSWER, 0, 0};

	for (int i = 0; i < 3; i++) {
		struct agent_identities l;
		struct fake f;
		struct agent a;
		char err[512] = "";
		long long t0;

		fake_start(&f, &a, 300);
		if (i == 1)
			fake_say(&f, half, sizeof(half));
		if (i == 2)
			fake_say(&f, half, 2); /* half of the length */
		t0 = ms_now();
		ck_assert_int_eq(agent_list(&a, &l, err, sizeof(err)), APT_UNAVAIL);
		ck_assert_msg(strstr(err, "did not answer within 300 ms") != NULL, "%s", err);
		ck_assert_int_ge(ms_now() - t0, 250);
		ck_assert_int_lt(ms_now() - t0, 3000);
		agent_close(&a);
		fake_stop(&f);
	}
}
END_TEST

/* An agent that hangs up: an error, and no SIGPIPE. */
START_TEST(test_fake_hangs_up)
{
	struct agent_identities l;
	struct fake f;
	struct agent a;
	char err[512] = "";

	fake_start(&f, &a, 2000);
	close(f.sfd);
	f.sfd = -1;
	ck_assert_int_eq(agent_list(&a, &l, err, sizeof(err)), APT_UNAVAIL);
	ck_assert_msg(strstr(err, "closed the connection") != NULL ||
			  strstr(err, "writing to the ssh-agent") != NULL,
		      "%s", err);
	/* A big request into a closed connection: EPIPE, not a signal. */
	fake_stop(&f);
	fake_start(&f, &a, 2000);
	close(f.sfd);
	f.sfd = -1;
	{
		struct buf big = BUF_INIT;

		for (int i = 0; i < 200000 && !big.failed; i++)
			buf_append(&big, "0123456789abcdef", 16);
		ck_assert(!big.failed);
		need_fake_key();
		ck_assert_int_eq(agent_add_ed25519_cert(&a, fake_key.pk, fake_key.seed, big.p,
							big.len, "c", 60, err, sizeof(err)),
				 APT_UNAVAIL);
		buf_free(&big);
	}
	agent_close(&a);
	fake_stop(&f);
}
END_TEST

/* An agent whose listen queue is full: connect() gives up after the timeout. */
START_TEST(test_fake_queue_full)
{
	struct sockaddr_un sun;
	struct agent a;
	char path[PATH_MAX], err[512] = "";
	int lfd, held[64], nheld = 0;
	long long t0;

	unit_path(path, sizeof(path), "full.sock");
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	sun_set(&sun, path);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(lfd, 0), 0);
	/* Fill the queue with connections nobody accepts. */
	while (nheld < 64) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		ck_assert_int_ge(fd, 0);
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
			ck_assert_int_eq(errno, EAGAIN);
			close(fd);
			break;
		}
		held[nheld++] = fd;
	}
	ck_assert_int_lt(nheld, 64);
	t0 = ms_now();
	ck_assert_int_eq(agent_connect(&a, path, err, sizeof(err)), APT_UNAVAIL);
	ck_assert_msg(strstr(err, "did not accept the connection") != NULL, "%s", err);
	ck_assert_int_ge(ms_now() - t0, AGENT_TIMEOUT_MS - 100);
	ck_assert_int_lt(ms_now() - t0, AGENT_TIMEOUT_MS + 2000);
	ck_assert_int_eq(a.fd, -1);
	while (nheld > 0)
		close(held[--nheld]);
	close(lfd);
	unlink(path);
}
END_TEST

static Suite *agent_suite(void)
{
	Suite *s = suite_create("agent");
	TCase *tc;

	tc = tcase_create("ssh-agent");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_add_list_remove);
	tcase_add_test(tc, test_env_socket);
	tcase_add_test(tc, test_lifetime);
	tcase_add_test(tc, test_add_twice);
	tcase_add_test(tc, test_two_keys);
	tcase_add_test(tc, test_real_refusal);
	tcase_add_test(tc, test_renewed_cert);
	tcase_add_test(tc, test_expired_cert);
	tcase_add_test(tc, test_bad_arguments);
	suite_add_tcase(s, tc);

	tc = tcase_create("paths");
	tcase_add_test(tc, test_paths);
	suite_add_tcase(s, tc);

	tc = tcase_create("fake");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_add_request_bytes);
	tcase_add_test(tc, test_list_parse);
	tcase_add_test(tc, test_fake_refuses);
	tcase_add_test(tc, test_fake_unexpected);
	tcase_add_test(tc, test_fake_garbage_lists);
	tcase_add_test(tc, test_fake_bad_lengths);
	tcase_add_test(tc, test_fake_silent);
	tcase_add_test(tc, test_fake_hangs_up);
	tcase_add_test(tc, test_fake_queue_full);
	suite_add_tcase(s, tc);
	return s;
}

/* The CA that signs the test certificates, made once. */
static int make_ca(void)
{
	char out[1024];
	char *argv[] = {"ssh-keygen",	  "-q", "-t",	 "ed25519", "-N", "", "-C",
			"check_agent CA", "-f", ca_path, NULL};
	int rc;

	snprintf(ca_path, sizeof(ca_path), "%s/ca", unit_tmpdir(NULL));
	rc = run(argv, NULL, out, sizeof(out));
	if (rc != 0)
		fprintf(stderr, "ssh-keygen -t ed25519: %d: %s\n", rc, out);
	return rc;
}

/*
 * A private ssh-agent in the foreground (-D), so its pid is the one we
 * forked; it dies with us (PR_SET_PDEATHSIG) should we die first.
 */
static int start_agent(void)
{
	struct stat st;
	pid_t parent = getpid();

	snprintf(agent_sock, sizeof(agent_sock), "%s/agent.sock", unit_tmpdir(NULL));
	agent_pid = fork();
	if (agent_pid < 0)
		return -1;
	if (agent_pid == 0) {
		int null = open("/dev/null", O_RDWR);

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execlp("ssh-agent", "ssh-agent", "-D", "-a", agent_sock, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		if (stat(agent_sock, &st) == 0 && S_ISSOCK(st.st_mode))
			return 0;
		usleep(10000);
	}
	fprintf(stderr, "ssh-agent did not make %s\n", agent_sock);
	return -1;
}

static void stop_agent(void)
{
	if (agent_pid > 0) {
		kill(agent_pid, SIGTERM);
		waitpid(agent_pid, NULL, 0);
		agent_pid = -1;
	}
}

int main(void)
{
	SRunner *sr;
	int failed;

	unit_tmpdir("check_agent");
	/* Tests change SSH_AUTH_SOCK; ssh-add gets the right one from run(). */
	unsetenv("SSH_AUTH_SOCK");
	if (make_ca() != 0 || start_agent() != 0) {
		stop_agent();
		unit_tmpdir_remove();
		return EXIT_FAILURE;
	}
	sr = srunner_create(agent_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	free_key(&fake_key);
	stop_agent();
	unit_tmpdir_remove();
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
