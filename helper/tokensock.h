/*
 * How `apitoken exec` hands the token to the askpass programs it starts
 * (DESIGN.md §8, ★2): not through the environment, which every build step,
 * git hook and ProxyCommand inherits, but through a Unix socket in a fresh
 * private directory that exec serves to its own descendants only (same
 * uid, and exec on the peer's chain of parents in /proc).
 *
 * The protocol is the token's bytes, then end of stream; a refused peer
 * gets end of stream alone.
 */
#ifndef APITOKEN_TOKENSOCK_H
#define APITOKEN_TOKENSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "result.h"

/* The variable exec sets in CMD's environment: the socket's path. */
#define TOKENSOCK_ENV "APITOKEN_ASKPASS_SOCKET"

struct tokensock {
	char dir[100];	/* the private directory, "" when none; short, for: */
	char path[108]; /* dir/s, which must fit a sockaddr_un's sun_path */
	int fd;		/* listening, close-on-exec; -1 when none */
};

/*
 * Makes a directory 0700 with mkdtemp under $XDG_RUNTIME_DIR when that is
 * an absolute, real directory of ours that nobody else may enter, else
 * under /tmp, and listens on a socket in it. APT_OK, or APT_SERVICE with err.
 */
enum apt_rc tokensock_listen(struct tokensock *ts, char *err, size_t errlen);

/* Closes the socket and removes it and its directory. */
void tokensock_remove(struct tokensock *ts);

/*
 * Accepts one connection on the listening socket and sends the token when
 * the peer runs as our uid and descends from this process; never blocks
 * on a peer that does not read. 1 when sent, 0 when refused (why in err),
 * -1 when nothing was accepted.
 */
int tokensock_serve_one(const struct tokensock *ts, const char *tok, size_t len, char *err,
			size_t errlen);

/* Whether pid's chain of parents (/proc/PID/stat) reaches ancestor. Not pid itself. */
bool tokensock_descends(pid_t pid, pid_t ancestor);

/*
 * askpass's side: the token from the socket at path, read with a bound
 * and a timeout, checked as settings_token() checks it. *tok is freed with
 * free_secret(). APT_OK; APT_SERVICE with err (never quoting the token);
 * APT_NOMEM.
 */
enum apt_rc tokensock_fetch(const char *path, char **tok, size_t *len, char *err, size_t errlen);

#endif
