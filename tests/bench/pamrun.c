/*
 * pamrun: one authentication in a fresh process, for `make bench`.
 *
 * sshd runs the PAM stack in a new process for every connection, so what a
 * login costs there includes exec, loading libpam, reading the service file
 * and loading every module of the stack. The bench runs this driver once per
 * authentication, with a stack of pam_permit alone as the floor, to see what
 * the module adds on top of that (DESIGN.md §3: the module links only libpam
 * and libc to keep this small).
 *
 *   pamrun CONFDIR SERVICE USER TOKENFILE [RHOST]
 *
 * pam_start_confdir(SERVICE, USER, conv, CONFDIR) → pam_authenticate →
 * pam_end; the conversation answers every prompt with the first line of
 * TOKENFILE. Exit 0 when pam_authenticate succeeded, 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <security/pam_appl.h>

static char token[16384];

static int converse(int n, const struct pam_message **msg, struct pam_response **resp, void *arg)
{
	struct pam_response *r;

	if (n <= 0)
		return PAM_CONV_ERR;
	r = calloc((size_t)n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF &&
		    msg[i]->msg_style != PAM_PROMPT_ECHO_ON)
			continue;
		r[i].resp = strdup(arg);
		if (r[i].resp == NULL) {
			for (int j = 0; j < i; j++)
				free(r[j].resp);
			free(r);
			return PAM_BUF_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

static int read_token(const char *path)
{
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t n = read(fd, token + len, sizeof(token) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return -1;
		}
		if (n == 0 || (len += (size_t)n) == sizeof(token) - 1)
			break;
	}
	close(fd);
	token[len] = '\0';
	token[strcspn(token, "\r\n")] = '\0';
	return 0;
}

int main(int argc, char **argv)
{
	struct pam_conv conv = {converse, token};
	pam_handle_t *pamh = NULL;
	int r;

	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: pamrun CONFDIR SERVICE USER TOKENFILE [RHOST]\n");
		return 1;
	}
	if (read_token(argv[4]) < 0) {
		fprintf(stderr, "pamrun: %s: %s\n", argv[4], strerror(errno));
		return 1;
	}
	r = pam_start_confdir(argv[2], argv[3], &conv, argv[1], &pamh);
	if (r != PAM_SUCCESS) {
		fprintf(stderr, "pamrun: pam_start_confdir: %d\n", r);
		return 1;
	}
	if (argc == 6)
		pam_set_item(pamh, PAM_RHOST, argv[5]);
	r = pam_authenticate(pamh, 0);
	if (r != PAM_SUCCESS)
		fprintf(stderr, "pamrun: pam_authenticate: %s\n", pam_strerror(pamh, r));
	pam_end(pamh, r);
	explicit_bzero(token, sizeof(token));
	return r == PAM_SUCCESS ? 0 : 1;
}
