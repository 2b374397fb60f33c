/*
 * A real OpenSSH sshd on loopback for the integration tests (needs root).
 *
 * The server: /usr/sbin/sshd started in the foreground (-D) by the test, on
 * 127.0.0.1 and a port it picks, with its own host key, sshd_config, pid file
 * and log (-E). Its config includes the shipped conf/sshd_config.d/apitoken.conf
 * (for the password method, with the two lines its comments say to replace).
 * Its PAM service is its program name (OpenSSH 9.2 has no option for it): a
 * symlink "sshd-apitoken-<random>" -> /usr/sbin/sshd, started by its absolute
 * path, reads /etc/pam.d/sshd-apitoken-<random>: the two auth lines of the
 * shipped conf/pam.d/sshd (pam_apitoken.so loaded from build/ with
 * config=T.root/apt.conf, written by make_service), then the rest of the auth
 * stack (Debian's "@include common-auth" unless told otherwise), then
 * common-account as in Debian's stock file, and pam_permit for sessions.
 *
 * The users: the group "apitoken" (created when missing) and two users
 * "aptci<random>" (a member of it) and "aptci<random>x" (not a member).
 *
 * Everything made here is removed by sshd_stop/sshd_users_remove, and also at
 * exit and on SIGINT/SIGTERM/SIGHUP of the process that made it (not of
 * Check's forked test processes): no users, group, /etc/pam.d file or
 * process is left behind. /run/sshd, sshd's privilege separation directory,
 * is created when missing and kept.
 */
#ifndef APITOKEN_SSHD_H
#define APITOKEN_SSHD_H

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/types.h>

#include "testenv.h"

enum sshd_method {
	SSHD_KBDINT,   /* the shipped snippet: AuthenticationMethods keyboard-interactive */
	SSHD_PASSWORD, /* its variant: PasswordAuthentication yes, AuthenticationMethods password */
	/*
	 * SSH certificates (apitoken ssh-cert): the snippet's Match block with
	 * PubkeyAuthentication yes and AuthenticationMethods publickey, and
	 * TrustedUserCAKeys with the CA keys given to sshd_start_ca. No
	 * authorized_keys: only a certificate signed by that CA, with the user's
	 * name among its principals, lets a user in. Started by sshd_start_ca.
	 */
	SSHD_CERT
};

struct sshd {
	pid_t pid;
	int port;
	enum sshd_method method;
	char service[40];    /* program name = PAM service */
	char dir[400];	     /* its files, under T.root */
	char pam_file[80];   /* /etc/pam.d/<service> */
	char log[480];	     /* sshd -E */
	char ssh[2048];	     /* the ssh command line for this server, without the destination */
	char scp[2048];	     /* the same for scp */
	char ca_file[480];   /* SSHD_CERT: the TrustedUserCAKeys file */
	char host_cert[480]; /* its HostCertificate, "" for none (sshd_start_host_cert) */
	/*
	 * How the client answers: through `apitoken exec` (the default, as a CI
	 * job does; --password for the password method), or with the test's own
	 * askpass, which records the prompts it is shown (see sshd_prompts).
	 */
	bool test_askpass;
};

struct sshd_users {
	char member[40];   /* in the group apitoken */
	char outsider[40]; /* not */
	char member_home[300];
};
extern struct sshd_users SU;

/* Creates the group apitoken when missing and the two users. Aborts on failure. */
void sshd_users_create(void);
void sshd_users_remove(void);

/*
 * Starts sshd (testenv_setup must have run) and waits until it listens.
 * AUTH_AFTER: the PAM auth lines after the shipped stanza, NULL for
 * "@include common-auth". Aborts on failure.
 */
void sshd_start(struct sshd *s, enum sshd_method method, const char *auth_after);
void sshd_stop(struct sshd *s);

/*
 * Starts sshd in SSHD_CERT mode, trusting the CA keys CA_KEYS (public key
 * lines, as GET /ssh/cert/authority lists them). Aborts on failure.
 */
void sshd_start_ca(struct sshd *s, const char *ca_keys);

/*
 * As sshd_start (sshd_start_ca for SSHD_CERT, trusting CA_KEYS), with its
 * host key certified by the test issuer's host CA: HOST_CERT_URL is the
 * issuer's POST /test/host-cert, which signs it for 127.0.0.1 and
 * localhost, and sshd presents the certificate (HostCertificate). The
 * known_hosts of s->ssh still pins the plain key. Aborts on failure.
 */
void sshd_start_host_cert(struct sshd *s, enum sshd_method method, const char *auth_after,
			  const char *ca_keys, const char *host_cert_url);

/* The size of sshd's log now, and what it logged since (malloc). */
long sshd_log_mark(const struct sshd *s);
char *sshd_log_since(const struct sshd *s, long mark);

/*
 * Fails the test unless what S logged since MARK has exactly WANT lines
 * "WHAT for USER from 127.0.0.1" (sshd's words for a login's outcome). Only
 * the tests call this: it is inline so that sshd.c does not need Check.
 */
static inline void sshd_ck_log(const struct sshd *s, long mark, const char *what, const char *user,
			       int want)
{
	char needle[200], *log = sshd_log_since(s, mark);

	snprintf(needle, sizeof(needle), "%s for %s from 127.0.0.1", what, user);
	ck_assert_msg(text_count(log, needle) == want, "want %d \"%s\" in sshd's log:\n%s", want,
		      needle, log);
	free(log);
}

/*
 * Runs `/bin/sh -c SCRIPT` in the directory CWD as a CI job reaching this
 * server would, and answers the module's prompt with TOKEN. The script sees:
 *   SSH              ssh with this server's port and options (no destination)
 *   SCP              the same for scp
 *   GIT_SSH_COMMAND, RSYNC_RSH   = $SSH
 *   SSH_PORT         the port
 * and a clean environment otherwise (HOME is a scratch directory; git's author
 * and committer are set). The client authenticates with the server's method
 * only (keyboard-interactive or password), one attempt, stdin /dev/null.
 * Returns the exit status (128+N when killed by signal N, -1 after a 60 s
 * deadline) and, when OUT is not NULL, stdout and stderr together (malloc).
 */
int sshd_client(const struct sshd *s, const char *token, const char *cwd, const char *script,
		char **out);

/*
 * The prompts the client's askpass was shown during the last sshd_client
 * call, one per line (malloc); NULL when they cannot be observed.
 */
char *sshd_prompts(const struct sshd *s);

/*
 * For SSHD_CERT: runs `/bin/sh -c SCRIPT` in CWD with no askpass and no
 * token, ssh reading CONFIG (-F; "/dev/null" for none) and authenticating
 * with publickey only, in batch mode (no prompt at all). The script sees
 * SSH, SCP, GIT_SSH_COMMAND, RSYNC_RSH and SSH_PORT as for sshd_client,
 * HOME=HOME_DIR (NULL: a scratch directory), git's author and committer,
 * and the variables of ENV ("NAME=value", NULL-terminated; may be NULL),
 * nothing else (no SSH_AUTH_SOCK unless ENV has one). ssh takes the user's
 * files from the user database, not $HOME: CONFIG and ENV say everything.
 * Returns as sshd_client does.
 */
int sshd_client_cert(const struct sshd *s, const char *config, const char *home_dir,
		     const char *const *env, const char *cwd, const char *script, char **out);

#endif
