/*
 * syslog-sink SOCKET FILE: a stand-in syslog daemon for the demo and the
 * sshd tests on machines that run none. It binds SOCKET (normally
 * /dev/log) only if nothing is there, appends each message to FILE as a
 * line, says "listening" when ready, and removes SOCKET again when its
 * stdin closes or it gets SIGTERM, so it never takes over a real daemon's
 * socket nor leaves its own behind.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct sigaction sa;
	struct stat st;
	FILE *out;
	int fd;

	if (argc != 3 || strlen(argv[1]) >= sizeof(a.sun_path)) {
		fprintf(stderr, "usage: syslog-sink SOCKET FILE\n");
		return 2;
	}
	if (lstat(argv[1], &st) == 0) {
		fprintf(stderr, "syslog-sink: %s exists: a syslog daemon is there\n", argv[1]);
		return 3;
	}
	out = fopen(argv[2], "a");
	if (out == NULL) {
		perror(argv[2]);
		return 1;
	}
	strcpy(a.sun_path, argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		perror("syslog-sink: bind");
		fclose(out);
		return 1;
	}
	chmod(argv[1], 0666); /* as syslog daemons do: every process may log */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("listening\n");
	fflush(stdout);
	while (!stop) {
		struct pollfd p[2] = {{fd, POLLIN, 0}, {0, POLLIN, 0}};
		char msg[8192];
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			char c;
			if (read(0, &c, 1) <= 0)
				break; /* whoever started us is gone */
		}
		if (p[0].revents & POLLIN) {
			n = recv(fd, msg, sizeof(msg) - 1, 0);
			if (n > 0) {
				while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\0'))
					n--;
				msg[n] = '\0';
				fprintf(out, "%s\n", msg);
				fflush(out);
			}
		}
	}
	unlink(argv[1]);
	fclose(out);
	return 0;
}
