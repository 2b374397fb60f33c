/*
 * The SSH agent client (see agent.h): the connection to SSH_AUTH_SOCK, the
 * framing of requests and replies under a deadline, and the three requests
 * ssh-cert makes. Written from draft-miller-ssh-agent.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "errmsg.h"
#include "agent.h"
#include "buf.h"
#include "sshbuf.h"
#include "sshkey.h"

/*
 * Older agents (and ssh.com's) answer these instead of SSH_AGENT_FAILURE;
 * the draft keeps their numbers reserved. They mean the same refusal.
 */
#define SSH2_AGENT_FAILURE_OLD 30
#define SSH_COM_AGENT2_FAILURE 102

static int is_failure(uint8_t type)
{
	return type == SSH_AGENT_FAILURE || type == SSH2_AGENT_FAILURE_OLD ||
	       type == SSH_COM_AGENT2_FAILURE;
}

enum apt_rc agent_connect(struct agent *a, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct timeval tv;
	struct stat st;
	int fd, flags;

	a->fd = -1;
	a->timeout_ms = AGENT_TIMEOUT_MS;
	a->path[0] = '\0';
	if (path == NULL) {
		path = getenv("SSH_AUTH_SOCK");
		if (path == NULL || path[0] == '\0') {
			errf(err, errlen, "no ssh-agent: SSH_AUTH_SOCK is not set");
			return APT_UNAVAIL;
		}
	}
	memset(&sun, 0, sizeof(sun));
	if (path[0] == '\0' || strlen(path) >= sizeof(sun.sun_path)) {
		errf(err, errlen, "the agent socket path \"%.200s\" is empty or too long", path);
		return APT_SERVICE;
	}
	/* A clear message for the common mistakes; connect() would say less. */
	if (stat(path, &st) != 0) {
		if (errno == ENOENT)
			errf(err, errlen, "no ssh-agent at %s: no such socket", path);
		else
			errf(err, errlen, "no ssh-agent at %s: %s", path, strerror(errno));
		return APT_UNAVAIL;
	}
	if (!S_ISSOCK(st.st_mode)) {
		errf(err, errlen, "%s is not a socket: SSH_AUTH_SOCK must name the agent's socket",
		     path);
		return APT_SERVICE;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	sun.sun_family = AF_UNIX;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int e = errno;

		errf(err, errlen, "socket: %s", strerror(e));
		return e == ENOMEM || e == ENOBUFS ? APT_NOMEM : APT_UNAVAIL;
	}
	/*
	 * A blocking connect to a Unix socket whose listen queue is full waits
	 * for the send timeout, so this bounds connect() without polling.
	 */
	tv.tv_sec = a->timeout_ms / 1000;
	tv.tv_usec = (a->timeout_ms % 1000) * 1000;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		int e = errno;

		close(fd);
		if (e == ECONNREFUSED)
			errf(err, errlen,
			     "no ssh-agent is listening at %s (a stale SSH_AUTH_SOCK?)", path);
		else if (e == EAGAIN || e == EINPROGRESS || e == ETIMEDOUT)
			errf(err, errlen,
			     "the ssh-agent at %s did not accept the connection in %d ms", path,
			     a->timeout_ms);
		else
			errf(err, errlen, "cannot connect to the ssh-agent at %s: %s", path,
			     strerror(e));
		return APT_UNAVAIL;
	}
	/* From here every wait is a poll() against the request's deadline. */
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		errf(err, errlen, "fcntl: %s", strerror(errno));
		close(fd);
		return APT_UNAVAIL;
	}
	memcpy(a->path, path, strlen(path) + 1);
	a->fd = fd;
	return APT_OK;
}

void agent_close(struct agent *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on a->fd until deadline; -1 with err on timeout or poll failure. */
static int wait_fd(struct agent *a, short events, long long deadline, char *err, size_t errlen)
{
	for (;;) {
		struct pollfd pfd = {a->fd, events, 0};
		long long left = deadline - now_ms();
		int n;

		if (left <= 0) {
			errf(err, errlen, "the ssh-agent at %s did not answer within %d ms",
			     a->path, a->timeout_ms);
			return -1;
		}
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 0; /* ready, or POLLERR/POLLHUP: the next call reports it */
		if (n < 0 && errno != EINTR) {
			errf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
	}
}

static int send_all(struct agent *a, const unsigned char *p, size_t len, long long deadline,
		    char *err, size_t errlen)
{
	while (len > 0) {
		/* MSG_NOSIGNAL: an agent that went away is an error, not SIGPIPE. */
		ssize_t n = send(a->fd, p, len, MSG_NOSIGNAL);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(a, POLLOUT, deadline, err, errlen) < 0)
				return -1;
		} else if (n < 0 && errno != EINTR) {
			errf(err, errlen, "writing to the ssh-agent at %s: %s", a->path,
			     strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Reads exactly len bytes into p, or appends them to out when p is NULL. */
static int recv_all(struct agent *a, unsigned char *p, struct buf *out, size_t len,
		    long long deadline, char *err, size_t errlen)
{
	unsigned char chunk[4096];

	while (len > 0) {
		unsigned char *dst = p != NULL ? p : chunk;
		size_t want = p != NULL || len < sizeof(chunk) ? len : sizeof(chunk);
		ssize_t n = recv(a->fd, dst, want, 0);

		if (n > 0) {
			if (p != NULL)
				p += n;
			else if (buf_append(out, chunk, (size_t)n) < 0)
				return -2;
			len -= (size_t)n;
		} else if (n == 0) {
			errf(err, errlen, "the ssh-agent at %s closed the connection", a->path);
			return -1;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(a, POLLIN, deadline, err, errlen) < 0)
				return -1;
		} else if (errno != EINTR) {
			errf(err, errlen, "reading from the ssh-agent at %s: %s", a->path,
			     strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * Sends one message (req: type byte and payload) and reads the one reply
 * into *reply (type byte and payload). A connection that failed mid-message
 * is out of step with the agent, so it is closed: later calls fail cleanly.
 */
static enum apt_rc agent_call(struct agent *a, const struct buf *req, struct buf *reply, char *err,
			      size_t errlen)
{
	long long deadline = now_ms() + (a->timeout_ms > 0 ? a->timeout_ms : AGENT_TIMEOUT_MS);
	unsigned char hdr[4];
	uint32_t len;
	int r;

	if (a->fd < 0) {
		errf(err, errlen, "not connected to an ssh-agent");
		return APT_UNAVAIL;
	}
	if (req->failed)
		return APT_NOMEM;
	if (req->len == 0 || req->len > UINT32_MAX) {
		errf(err, errlen, "an agent request of %zu bytes", req->len);
		return APT_SERVICE;
	}
	hdr[0] = (unsigned char)(req->len >> 24);
	hdr[1] = (unsigned char)(req->len >> 16);
	hdr[2] = (unsigned char)(req->len >> 8);
	hdr[3] = (unsigned char)req->len;
	if (send_all(a, hdr, 4, deadline, err, errlen) < 0 ||
	    send_all(a, req->p, req->len, deadline, err, errlen) < 0 ||
	    recv_all(a, hdr, NULL, 4, deadline, err, errlen) < 0)
		goto broken;
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (len == 0 || len > AGENT_MAX_REPLY) {
		errf(err, errlen,
		     "the ssh-agent at %s sent a reply of %lu bytes (at most %d accepted)", a->path,
		     (unsigned long)len, AGENT_MAX_REPLY);
		goto broken;
	}
	r = recv_all(a, NULL, reply, len, deadline, err, errlen);
	if (r == -2) {
		agent_close(a);
		return APT_NOMEM;
	}
	if (r < 0)
		goto broken;
	return APT_OK;
broken:
	agent_close(a);
	return APT_UNAVAIL;
}

enum apt_rc agent_reply(const struct agent *a, const struct buf *reply, uint8_t want,
			struct sshbuf *body, const char *asked, const char *refused, char *err,
			size_t errlen)
{
	uint8_t type;

	if (reply->len == 0) {
		errf(err, errlen, "the ssh-agent at %s sent an empty reply to %s", a->path, asked);
		return APT_UNAVAIL;
	}
	type = reply->p[0];
	if (type == want) {
		if (body != NULL)
			sshbuf_init(body, reply->p + 1, reply->len - 1);
		return APT_OK;
	}
	if (is_failure(type)) {
		errf(err, errlen, "the ssh-agent at %s %s", a->path, refused);
		return APT_DENY;
	}
	errf(err, errlen, "the ssh-agent at %s answered %s with message %u, not the expected reply",
	     a->path, asked, type);
	return APT_UNAVAIL;
}

void agent_identities_free(struct agent_identities *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].blob);
		free(l->v[i].comment);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

size_t agent_identities_count(const struct agent_identities *l, const void *blob, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].blob_len == len && memcmp(l->v[i].blob, blob, len) == 0)
			n++;
	return n;
}

/* Copies the reply's identities into out; -1 when malformed, -2 out of memory. */
static int parse_identities(struct sshbuf *b, struct agent_identities *out)
{
	uint32_t n;

	if (sshbuf_get_u32(b, &n) < 0)
		return -1;
	/* Each entry takes at least two empty strings: this bounds the allocation. */
	if (n > sshbuf_left(b) / 8)
		return -1;
	out->v = calloc(n > 0 ? n : 1, sizeof(*out->v));
	if (out->v == NULL)
		return -2;
	for (uint32_t i = 0; i < n; i++) {
		struct agent_identity *id = &out->v[i];
		const unsigned char *blob, *comment;
		size_t blen, clen;

		if (sshbuf_get_string(b, &blob, &blen) < 0 ||
		    sshbuf_get_string(b, &comment, &clen) < 0 || blen == 0)
			return -1;
		out->n = i + 1;
		id->blob = malloc(blen);
		id->comment = malloc(clen + 1);
		if (id->blob == NULL || id->comment == NULL)
			return -2;
		memcpy(id->blob, blob, blen);
		id->blob_len = blen;
		memcpy(id->comment, comment, clen);
		id->comment[clen] = '\0';
	}
	return sshbuf_left(b) == 0 ? 0 : -1;
}

enum apt_rc agent_list(struct agent *a, struct agent_identities *out, char *err, size_t errlen)
{
	struct buf req = BUF_INIT, reply = BUF_INIT;
	struct sshbuf b;
	enum apt_rc rc;
	int r;

	out->v = NULL;
	out->n = 0;
	sshbuf_put_u8(&req, SSH2_AGENTC_REQUEST_IDENTITIES);
	rc = agent_call(a, &req, &reply, err, errlen);
	buf_free(&req);
	if (rc != APT_OK)
		goto out;
	rc = agent_reply(a, &reply, SSH2_AGENT_IDENTITIES_ANSWER, &b, "the request for its keys",
			 "refused to list its keys", err, errlen);
	if (rc != APT_OK)
		goto out;
	r = parse_identities(&b, out);
	if (r < 0) {
		agent_identities_free(out);
		if (r == -2) {
			rc = APT_NOMEM;
		} else {
			errf(err, errlen, "the ssh-agent at %s sent a malformed list of keys",
			     a->path);
			rc = APT_UNAVAIL;
		}
	}
out:
	buf_free(&reply);
	return rc;
}

enum apt_rc agent_add_ed25519_cert(struct agent *a, const struct sshkey_ed25519 *k,
				   const void *cert, size_t cert_len, const char *comment,
				   uint32_t lifetime, char *err, size_t errlen)
{
	struct buf req = BUF_INIT, reply = BUF_INIT;
	enum apt_rc rc;

	if (cert == NULL || cert_len == 0 || lifetime == 0) {
		errf(err, errlen, "adding to the agent needs a certificate and a lifetime");
		return APT_SERVICE;
	}
	/*
	 * An Ed25519 certificate as the agent takes it (draft-miller-ssh-agent,
	 * "Adding keys to the agent"): key type, certificate, then the key's
	 * fields as a key file holds them (public key, seed || public key),
	 * comment and constraints.
	 */
	sshbuf_put_u8(&req, SSH2_AGENTC_ADD_ID_CONSTRAINED);
	sshbuf_put_cstring(&req, AGENT_ED25519_CERT_TYPE);
	sshbuf_put_string(&req, cert, cert_len);
	sshkey_put_private_fields(&req, k);
	sshbuf_put_cstring(&req, comment != NULL ? comment : "");
	sshbuf_put_u8(&req, SSH_AGENT_CONSTRAIN_LIFETIME);
	sshbuf_put_u32(&req, lifetime);
	rc = agent_call(a, &req, &reply, err, errlen);
	buf_free(&req); /* zeroes the private key */
	if (rc == APT_OK)
		rc = agent_reply(a, &reply, SSH_AGENT_SUCCESS, NULL, "the key and certificate",
				 "refused the certificate (gpg-agent and gnome-keyring cannot "
				 "hold certificates); use the files instead",
				 err, errlen);
	buf_free(&reply);
	return rc;
}

enum apt_rc agent_remove(struct agent *a, const void *blob, size_t len, char *err, size_t errlen)
{
	struct buf req = BUF_INIT, reply = BUF_INIT;
	enum apt_rc rc;

	if (blob == NULL || len == 0) {
		errf(err, errlen, "no key to remove from the agent");
		return APT_SERVICE;
	}
	sshbuf_put_u8(&req, SSH2_AGENTC_REMOVE_IDENTITY);
	sshbuf_put_string(&req, blob, len);
	rc = agent_call(a, &req, &reply, err, errlen);
	buf_free(&req);
	if (rc == APT_OK)
		rc = agent_reply(a, &reply, SSH_AGENT_SUCCESS, NULL, "the removal of a key",
				 "holds no such key", err, errlen);
	buf_free(&reply);
	return rc;
}
