/*
 * The process protection every command of the helper starts under (see
 * protect_memory), set once by main() before it dispatches.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "commands.h"

/* The core limit we were started with, for the command `apitoken exec` runs. */
static struct rlimit caller_core = {0, 0};

const struct rlimit *caller_core_limit(void)
{
	return &caller_core;
}

/*
 * Every command holds a token, a private key or the cache's key at some
 * point: no core file, and no ptrace or /proc/PID/mem for other processes
 * of the user, from before anything is read. A uid change resets the
 * dumpable flag, so cmd_introspect sets it again after its drop.
 *
 * A crash dumps core up to the soft limit: that one goes to 0. The hard
 * limit stays, because raising it again takes CAP_SYS_RESOURCE, and exec
 * must be able to give CMD the caller's limit back.
 */
int protect_memory(void)
{
	struct rlimit no_core = {0, 0};

	if (getrlimit(RLIMIT_CORE, &caller_core) != 0)
		caller_core = no_core;
	no_core.rlim_max = caller_core.rlim_max;
	if (setrlimit(RLIMIT_CORE, &no_core) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		fprintf(stderr, "apitoken: cannot keep memory out of core files: %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
}
