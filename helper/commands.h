/* The helper's subcommands: one file each, dispatched from main.c. */
#ifndef APITOKEN_COMMANDS_H
#define APITOKEN_COMMANDS_H

#include <stdbool.h>
#include <string.h>

#include "certissue.h"
#include "result.h"

/* Exit codes of the client commands (apitoken(1), EXIT STATUS). */
enum {
	EXIT_NO = 1,	      /* the answer is no: ssh-cert info has no valid certificate,
				 askpass does not answer the prompt */
	EXIT_USAGE = 2,	      /* bad command line */
	EXIT_CONFIG = 3,      /* settings, files, no token */
	EXIT_REJECTED = 4,    /* the issuer refused the token */
	EXIT_UNAVAILABLE = 5, /* the issuer could not be reached or answered badly */
	EXIT_BADCERT = 6,     /* a certificate that fails our checks */
};

int cmd_introspect(int argc, char **argv);
int cmd_cache(int argc, char **argv);
int cmd_askpass(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_ssh_cert(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_check(int argc, char **argv);
/* apitoken check's sentence for a reason word of the audit line, or NULL (helper/cmd_check.c). */
const char *check_reason_text(const char *word);
int cmd_shell(int argc, char **argv);

/*
 * `--help` or `-h`: every subcommand prints its options on stdout for it
 * and exits 0 (`apitoken help SUB` calls SUB with it).
 */
static inline bool help_option(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/*
 * No core file, not dumpable: main() calls this before it dispatches
 * (helper/protect.c); 0, or -1 with a message on stderr. caller_core_limit()
 * is the core limit found then, which exec restores for the command it runs.
 */
int protect_memory(void);
struct rlimit;
const struct rlimit *caller_core_limit(void);

/*
 * What ssh-cert and token exit with for a result below them: the one
 * mapping, as pam_code() is the module's (helper/cmd_ssh_cert.c).
 */
int cert_exit_status(enum cert_rc rc);
/* askpass's and exec's, for what their steps came to (helper/cmd_askpass.c, cmd_exec.c). */
int askpass_exit_status(enum apt_rc rc);
int exec_exit_status(enum apt_rc rc);
/* check --user's, for the decision (helper/cmd_check.c): 0 allow, 4 deny, 5 unavailable, 3. */
int check_exit_status(enum apt_rc rc);

/*
 * The answers `apitoken introspect` writes (helper/cmd_introspect.c), exported
 * for tests/fuzz/fuzz_helper_claims.c: an error response, and the response
 * for the JSON body of a 200 answer (NULL, or the error word to send).
 */
struct buf;
void introspect_respond_error(struct buf *out, const char *error, long status, long retry_after);
const char *introspect_respond_claims(struct buf *out, const struct buf *body,
				      const char *user_claim, const char *ranges_claim,
				      const char *scope_claim);

#endif
