/*
 * libFuzzer harness for the prompt test of `apitoken askpass`
 * (helper/askpass.c): the prompt comes from ssh and, inside it, from the
 * server, and the answer is the token. The file is compiled in here whole
 * (its tests are static and it is not ours to edit); cmd_askpass is not
 * called. Input: our prompt, NUL, the prompt ssh passes.
 *
 * Oracles: a prompt taken as ours is our prompt exactly, or ssh's
 * "(user@host) " prefix (no ')' inside, no newline anywhere) and then our
 * prompt exactly; a prompt taken as a password prompt is exactly
 * "USER@HOST's password: " with no white space before the tail; the usual
 * prompts we must never answer (passphrases, host keys, sudo, PINs) are
 * never taken, whatever our prompt and the text around them.
 */
#include "oracle.h"

#include "../../helper/askpass.c"

static const char *const never[] = {
    "Enter passphrase for key '/home/u/.ssh/id_ed25519': ",
    "Are you sure you want to continue connecting (yes/no/[fingerprint])? ",
    "[sudo] password for u: ",
    "Enter PIN for authenticator: ",
    "Password: ",
};

static void check(const char *prompt, const char *ours)
{
	size_t n = strlen(prompt), k = strlen(ours);

	if (is_our_prompt(prompt, ours)) {
		CHECK(n >= k && strcmp(prompt + n - k, ours) == 0);
		if (n > k) {
			size_t pre = n - k;
			CHECK(prompt[0] == '(' && pre >= 3 && prompt[pre - 2] == ')' &&
			      prompt[pre - 1] == ' ');
			CHECK(memchr(prompt, ')', pre - 2) == NULL && strchr(prompt, '\n') == NULL);
		}
	}
	if (is_password_prompt(prompt)) {
		static const char tail[] = "'s password: ";
		size_t who = n - (sizeof(tail) - 1);

		CHECK(n > sizeof(tail) - 1 && strcmp(prompt + who, tail) == 0);
		CHECK(memchr(prompt, '@', who) != NULL && strcspn(prompt, " \t\n") >= who);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t left = size;
	char *ours = next_part(&p, &left), *prompt = next_part(&p, &left);

	check(prompt, ours);
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		CHECK(!is_password_prompt(never[i]));
		/* Ours may be anything the admin chose: only one that ends one of these could match
		 * it. */
		size_t a = strlen(never[i]), b = strlen(ours);
		if (b > a || strcmp(never[i] + a - b, ours) != 0)
			CHECK(!is_our_prompt(never[i], ours));
	}
	free(ours);
	free(prompt);
	return 0;
}
