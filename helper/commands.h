/* The helper's subcommands: one file each, dispatched from main.c. */
#ifndef APITOKEN_COMMANDS_H
#define APITOKEN_COMMANDS_H

/* Exit codes of the client commands (apitoken(1), EXIT STATUS). */
enum {
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

/*
 * main() sets the soft RLIMIT_CORE to 0 and the process non-dumpable
 * before it dispatches (main.c); this is the core limit it found, which
 * exec restores for the command it runs.
 */
struct rlimit;
const struct rlimit *main_caller_core(void);

/*
 * The answers `apitoken introspect` writes (helper/cmd_introspect.c), exported
 * for tests/fuzz/fuzz_helper_claims.c: an error response, and the response
 * for the JSON body of a 200 answer (NULL, or the error word to send).
 */
struct buf;
void introspect_respond_error(struct buf *out, const char *error, long status, long retry_after);
const char *introspect_respond_claims(struct buf *out, const struct buf *body,
				      const char *user_claim, const char *ranges_claim);

#endif
