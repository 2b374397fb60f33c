/*
 * Running the helper from inside a PAM host (sshd, su, ...): fork, drop to
 * an unprivileged user, exec with an empty environment, feed the request on
 * a socket (never argv or environment), read the answer under a hard
 * deadline and kill the child when it passes. The host's SIGCHLD handler is
 * kept from reaping our child meanwhile, as pam_unix does around unix_chkpwd.
 */
#ifndef APITOKEN_CHILD_H
#define APITOKEN_CHILD_H

#include "buf.h"
#include "result.h"

struct child_spec {
	const char *path; /* absolute; owner root or euid, not group/other writable */
	const char *const *argv;
	const char *user; /* run as this user when we are root; NULL = stay */
	long deadline_ms; /* whole exchange, from fork to the last byte */
	size_t max_output;
};

/*
 * APT_OK with the child's whole output in out (the child exited 0);
 * APT_UNAVAIL with *reason timeout / helper_failed / helper_output;
 * APT_SERVICE (unsafe helper path, unknown user) with a message in err;
 * APT_NOMEM.
 */
enum apt_rc child_run(const struct child_spec *spec, const struct buf *in, struct buf *out,
		      const char **reason, char *err, size_t errlen);

#endif
