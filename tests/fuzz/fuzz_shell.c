/*
 * libFuzzer harness for the classifier of `apitoken shell` (shellcmd_classify,
 * helper/shellcmd.c): the input is SSH_ORIGINAL_COMMAND, any bytes, as a
 * client controls it.
 *
 * Oracles: every input gets a class and a reason word; a refusal or a shell
 * command has nothing to exec; a read, write or sftp command has an argv of
 * 1..SHELLCMD_WORDS_MAX NUL-terminated words inside the struct's own store,
 * NULL after the last, naming the program its class is for; every path
 * operand (a word not starting with "-") of git, rsync and scp is free of
 * control bytes and ".."
 * components; an input with a NUL, or longer than SHELLCMD_MAX, is refused;
 * the read class never comes with a sender option that writes (before a
 * "--", after which words are operands); and the same
 * input classifies the same way twice.
 */
#include "oracle.h"
#include "shellcmd.h"

static struct shellcmd c, again;

static bool inside(const struct shellcmd *s, const char *p)
{
	return p >= s->store && p < s->store + sizeof(s->store);
}

static bool path_clean(const char *p)
{
	const char *seg = p;

	for (const char *q = p; *q != '\0'; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			return false;
	for (;;) {
		const char *slash = strchr(seg, '/');
		size_t n = slash != NULL ? (size_t)(slash - seg) : strlen(seg);

		if (n == 2 && seg[0] == '.' && seg[1] == '.')
			return false;
		if (slash == NULL)
			return true;
		seg = slash + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *cmd = (const char *)data;
	bool exec_class;

	shellcmd_classify(&c, cmd, size, "/home/fuzz");
	CHECK(c.reason != NULL && c.reason[0] != '\0');
	CHECK(strcmp(shellcmd_class_name(c.cls), "refuse") != 0 || c.cls == SHELLCMD_REFUSE);
	if (size > SHELLCMD_MAX || memchr(data, '\0', size) != NULL)
		CHECK(c.cls == SHELLCMD_REFUSE);
	exec_class = c.cls == SHELLCMD_READ || c.cls == SHELLCMD_WRITE || c.cls == SHELLCMD_SFTP;
	CHECK(exec_class == (c.program != SHELLCMD_NONE));
	if (exec_class) {
		CHECK(c.argc >= 1 && c.argc <= SHELLCMD_WORDS_MAX);
		CHECK(c.argv[c.argc] == NULL);
		for (size_t i = 0; i < c.argc; i++) {
			/* git's program names are literals; every other word is in the store. */
			CHECK(c.argv[i] != NULL);
			CHECK(inside(&c, c.argv[i]) || i == 0);
			CHECK(memchr(c.argv[i], '\0', sizeof(c.store) + 1) != NULL);
		}
		if (c.program == SHELLCMD_SFTP_SERVER)
			CHECK(c.cls == SHELLCMD_SFTP);
		else
			CHECK(c.cls != SHELLCMD_SFTP);
		if (c.program == SHELLCMD_GIT_RECEIVE_PACK ||
		    c.program == SHELLCMD_GIT_UPLOAD_PACK ||
		    c.program == SHELLCMD_GIT_UPLOAD_ARCHIVE) {
			CHECK(c.argc == 2 && c.argv[1][0] != '-' && path_clean(c.argv[1]));
			CHECK((c.cls == SHELLCMD_WRITE) ==
			      (c.program == SHELLCMD_GIT_RECEIVE_PACK));
		}
		/* Operands: options may stand anywhere (rsync, getopt), "--" included. */
		if (c.program == SHELLCMD_RSYNC || c.program == SHELLCMD_SCP)
			for (size_t i = 1; i < c.argc; i++)
				CHECK(c.argv[i][0] == '-' || path_clean(c.argv[i]));
		if (c.program == SHELLCMD_RSYNC && c.cls == SHELLCMD_READ)
			for (size_t i = 1; i < c.argc && strcmp(c.argv[i], "--") != 0; i++)
				CHECK(strncmp(c.argv[i], "--remove", 8) != 0 &&
				      strncmp(c.argv[i], "--delete", 8) != 0 &&
				      strncmp(c.argv[i], "--log-file", 10) != 0 &&
				      strncmp(c.argv[i], "--write-batch", 13) != 0 &&
				      strncmp(c.argv[i], "--only-write-batch", 18) != 0);
	}
	shellcmd_classify(&again, cmd, size, "/home/fuzz");
	CHECK(again.cls == c.cls && again.program == c.program &&
	      strcmp(again.reason, c.reason) == 0);
	CHECK(again.argc == c.argc);
	return 0;
}
