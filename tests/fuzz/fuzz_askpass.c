/*
 * libFuzzer harness for the prompt tests of `apitoken askpass`
 * (helper/cmd_askpass.c): the prompt comes from ssh and, inside it, from the
 * server, and the answer is the token; with `hosts` set, only for a host
 * that matches (sshconfig_host_match, helper/ssh/sshconfig.c). The file is
 * compiled in here whole (its tests are static and it is not ours to
 * edit); cmd_askpass is not called. Input: our prompt, NUL, the prompt ssh
 * passes, NUL, the hosts patterns.
 *
 * Oracles: a prompt taken as ours is our prompt exactly (no host), or
 * ssh's "(user@host) " prefix (no '(' or ')' inside, no newline anywhere)
 * then our prompt exactly, the host being what follows the last '@' of
 * the prefix, only [A-Za-z0-9.-_:%], after a user without blanks; a
 * password prompt is exactly "user@host's password: " with no white space
 * before the tail, the same host rule; passphrase, host-key, sudo and PIN
 * prompts are never taken. Host matching agrees with fnmatch(3) on each
 * pattern (for patterns fnmatch reads the same: no '[' or '\'), a
 * matching "!pattern" excluding the host.
 */
#include <fnmatch.h>

#include "oracle.h"

#include "../../helper/cmd_askpass.c"

static const char *const never[] = {
    "Enter passphrase for key '/home/u/.ssh/id_ed25519': ",
    "Are you sure you want to continue connecting (yes/no/[fingerprint])? ",
    "[sudo] password for u: ",
    "Enter PIN for authenticator: ",
    "Password: ",
};

/* who[0..n) is "user@host" with host the extracted one, under the rules above. */
static void check_host(const char *who, size_t n, const char *host)
{
	size_t h = strlen(host);
	const char *at;

	CHECK(h > 0 && h < n && who[n - h - 1] == '@' && memcmp(who + n - h, host, h) == 0);
	CHECK(strspn(host, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_:%") ==
	      h);
	at = who + n - h - 1;
	CHECK(at > who);
	for (const char *u = who; u < at; u++)
		CHECK((unsigned char)*u > ' ' && *u != 0x7f && *u != '(' && *u != ')');
}

static void check_prompt(const char *prompt, const char *ours)
{
	size_t n = strlen(prompt), k = strlen(ours);
	char host[NI_MAXHOST], shown[128];

	/* What a refusal shows of the prompt: printable ASCII, cut to fit. */
	memset(shown, 'Z', sizeof(shown));
	prompt_shown(prompt, shown, sizeof(shown));
	CHECK(memchr(shown, '\0', sizeof(shown)) != NULL);
	for (const char *c = shown; *c != '\0'; c++)
		CHECK(*c >= ' ' && *c < 0x7f);
	CHECK(refusal_reason(prompt) != NULL);

	memset(host, 'Z', sizeof(host));
	if (is_our_prompt(prompt, ours, host)) {
		CHECK(n >= k && strcmp(prompt + n - k, ours) == 0);
		if (strcmp(prompt, ours) == 0) {
			CHECK(host[0] == '\0');
		} else {
			size_t pre = n - k;
			CHECK(prompt[0] == '(' && pre >= 3 && prompt[pre - 2] == ')' &&
			      prompt[pre - 1] == ' ');
			CHECK(memchr(prompt + 1, ')', pre - 3) == NULL &&
			      memchr(prompt + 1, '(', pre - 3) == NULL &&
			      strchr(prompt, '\n') == NULL);
			check_host(prompt + 1, pre - 3, host);
		}
	}
	memset(host, 'Z', sizeof(host));
	if (is_password_prompt(prompt, host)) {
		static const char tail[] = "'s password: ";
		size_t who = n - (sizeof(tail) - 1);

		CHECK(n > sizeof(tail) - 1 && strcmp(prompt + who, tail) == 0);
		CHECK(strcspn(prompt, " \t\n") >= who);
		check_host(prompt, who, host);
	}
}

/* The Host-line rule on hosts, with fnmatch as the pattern matcher; -1: not comparable. */
static int ref_match(const char *hosts, const char *host)
{
	const char *p = hosts;
	bool positive = false, excluded = false;
	size_t stars = 0;

	if (host[0] == '\0')
		return 0;
	for (const char *c = hosts; *c; c++)
		stars += *c == '*';
	if (strpbrk(hosts, "[\\") != NULL || stars > 4)
		return -1; /* fnmatch reads these otherwise; many stars make both slow */
	while (*p != '\0') {
		size_t n;
		char pat[4096];
		bool neg;

		p += strspn(p, " \t,");
		n = strcspn(p, " \t,");
		if (n == 0)
			break;
		neg = p[0] == '!';
		snprintf(pat, sizeof(pat), "%.*s", (int)(n - neg), p + neg);
		if (fnmatch(pat, host, 0) == 0) {
			if (neg)
				excluded = true;
			else
				positive = true;
		}
		p += n;
	}
	return positive && !excluded;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t left = size;
	char *ours = next_part(&p, &left), *prompt = next_part(&p, &left),
	     *hosts = next_part(&p, &left);
	int want;

	check_prompt(prompt, ours);
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		char host[NI_MAXHOST];
		size_t a = strlen(never[i]), b = strlen(ours);

		CHECK(!is_password_prompt(never[i], host));
		/* Ours may be anything the admin chose: only one that ends one of these could
		 * match. */
		if (b > a || strcmp(never[i] + a - b, ours) != 0)
			CHECK(!is_our_prompt(never[i], ours, host));
	}
	/* Host matching, with the prompt part as the host: any text, as a hostile one could be. */
	if (strlen(prompt) < NI_MAXHOST && (want = ref_match(hosts, prompt)) >= 0)
		CHECK(sshconfig_host_match(hosts, prompt) == (want == 1));
	free(ours);
	free(prompt);
	free(hosts);
	return 0;
}
