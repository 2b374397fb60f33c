/*
 * The client side of the SSH agent protocol (draft-miller-ssh-agent), as
 * much of it as `apitoken ssh-cert` needs: list the agent's identities, add
 * an Ed25519 key together with its certificate under a lifetime constraint,
 * remove an identity. The key is encoded by sshkey.c, as a key file holds
 * it; certificates and identities are taken as raw bytes, so this depends
 * on no certificate parser.
 *
 * Every read and write waits at most timeout_ms (poll), so a stuck agent
 * cannot hang the command, and replies larger than AGENT_MAX_REPLY are
 * refused unread. Private key bytes only pass through a struct buf, which
 * is zeroed when freed.
 *
 * Results (enum apt_rc): APT_OK; APT_UNAVAIL when there is no agent to talk
 * to (SSH_AUTH_SOCK unset, nothing at the path, nobody listening), or it
 * did not answer properly (I/O error, timeout, closed, malformed reply);
 * APT_DENY when the agent answered SSH_AGENT_FAILURE; APT_SERVICE for bad
 * arguments or a path that is not a socket; APT_NOMEM. Every error but
 * APT_NOMEM comes with a message in err.
 */
#ifndef APITOKEN_AGENT_H
#define APITOKEN_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include "buf.h"
#include "result.h"
#include "sshbuf.h"
#include "sshkey.h"

#define AGENT_TIMEOUT_MS 5000
#define AGENT_MAX_REPLY	 (256 * 1024)

/* Message numbers (draft-miller-ssh-agent §6.1) and constraint identifiers. */
#define SSH_AGENT_FAILURE	       5
#define SSH_AGENT_SUCCESS	       6
#define SSH2_AGENTC_REQUEST_IDENTITIES 11
#define SSH2_AGENT_IDENTITIES_ANSWER   12
#define SSH2_AGENTC_REMOVE_IDENTITY    18
#define SSH2_AGENTC_ADD_ID_CONSTRAINED 25
#define SSH_AGENT_CONSTRAIN_LIFETIME   1

#define AGENT_ED25519_CERT_TYPE "ssh-ed25519-cert-v01@openssh.com"

struct agent {
	int fd;
	int timeout_ms; /* for each request and its reply; AGENT_TIMEOUT_MS by default */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* the socket, for messages */
};

struct agent_identity {
	unsigned char *blob; /* the public key or certificate, wire format */
	size_t blob_len;
	char *comment; /* NUL-terminated; as the agent sent it, unsanitised */
};

struct agent_identities {
	struct agent_identity *v;
	size_t n;
};

/*
 * Connects to the agent at path, or at $SSH_AUTH_SOCK when path is NULL.
 * The path must name a Unix socket (symlinks to one are followed, as ssh
 * does). On success a->fd is open; close it with agent_close().
 */
enum apt_rc agent_connect(struct agent *a, const char *path, char *err, size_t errlen);
void agent_close(struct agent *a);

/* The agent's identities, in its order. Free with agent_identities_free(). */
enum apt_rc agent_list(struct agent *a, struct agent_identities *out, char *err, size_t errlen);
void agent_identities_free(struct agent_identities *l);
/* How many of l are this exact blob (0 or 1 with a sane agent). */
size_t agent_identities_count(const struct agent_identities *l, const void *blob, size_t len);

/*
 * Adds the Ed25519 key k with its OpenSSH certificate (cert: the certificate
 * blob, wire format, for k's public key) for lifetime seconds, after which
 * the agent forgets it. lifetime must be positive: an unconstrained
 * identity would outlive its certificate and fill the agent with expired
 * ones. k is a pair as sshkey.c makes and reads them (its public key
 * derived from its seed), sent as seed || pk. The agent checks that the
 * certificate is for k, but not its validity. Adding the same certificate
 * again replaces it (comment and lifetime); a second certificate for the
 * same key is a second identity. APT_DENY when the agent refuses, with a
 * message that says agents such as gpg-agent cannot hold certificates.
 */
enum apt_rc agent_add_ed25519_cert(struct agent *a, const struct sshkey_ed25519 *k,
				   const void *cert, size_t cert_len, const char *comment,
				   uint32_t lifetime, char *err, size_t errlen);

/*
 * Removes the identity whose blob is exactly this one (a certificate blob
 * removes that certificate's identity, a plain key blob the plain key).
 * APT_DENY when the agent says it holds no such identity.
 */
enum apt_rc agent_remove(struct agent *a, const void *blob, size_t len, char *err, size_t errlen);

/*
 * The one reading of an agent's reply (reply: its type byte and payload) to
 * a request that wants the message want. APT_OK, with *body (when not
 * NULL) over the payload after the type byte; APT_DENY when the agent
 * answered one of the failure messages (SSH_AGENT_FAILURE, or the older
 * numbers some agents send), err "the ssh-agent at PATH " + refused;
 * APT_UNAVAIL for an empty reply or any other message, err naming what
 * was asked.
 */
enum apt_rc agent_reply(const struct agent *a, const struct buf *reply, uint8_t want,
			struct sshbuf *body, const char *asked, const char *refused, char *err,
			size_t errlen);

#endif
