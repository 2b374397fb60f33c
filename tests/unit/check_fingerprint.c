/*
 * Unit tests for lib/fingerprint.c: exact fingerprints for known digests, the
 * prefix selection rules, and that nothing beyond the chosen prefix of a token
 * ever reaches the output, which always fits FINGERPRINT_LEN.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "sha256.h"
#include "unit.h"

#define S(lit) lit, sizeof(lit) - 1

/* Exactly FINGERPRINT_LEN bytes on the heap, so that valgrind reports any
 * write past the contract's size. */
static void fp(const char *token, size_t len, const char *prefixes, const char *want)
{
	char *out = malloc(FINGERPRINT_LEN);

	ck_assert_ptr_nonnull(out);
	memset(out, 'X', FINGERPRINT_LEN);
	token_fingerprint(token, len, prefixes, out);
	ck_assert_ptr_nonnull(memchr(out, '\0', FINGERPRINT_LEN));
	ck_assert_str_eq(out, want);
	free(out);
}

START_TEST(test_known_digests)
{
	fp(S(""), NULL, "sha256:e3b0c442");
	fp(NULL, 0, NULL, "sha256:e3b0c442");
	fp(S("abc"), NULL, "sha256:ba7816bf");
	fp(S("abc"), "", "sha256:ba7816bf");
	fp(S("ghp_abc"), NULL, "sha256:dc7f123f");
	/* Only len bytes are hashed. */
	fp("abcdef", 3, NULL, "sha256:ba7816bf");
	/* A NUL inside the token is data, not the end. */
	fp(S("at_\0secret"), "at_", "at_sha256:9b2aae1a");
}
END_TEST

START_TEST(test_prefix_match)
{
	fp(S("ghp_abc"), "ghp_", "ghp_sha256:dc7f123f");
	fp(S("ghp_abc"), "xoxb- ghp_", "ghp_sha256:dc7f123f");
	/* The token may be the prefix alone. */
	fp(S("at_"), "at_", "at_sha256:8ca97934");
	/* Matching is at the start only, and case-sensitive. */
	fp(S("xat_live"), "at_", "sha256:029b56cd");
	fp(S("AT_live_x"), "at_ at_live_", "sha256:4ecca9d6");
	/* An entry longer than the token cannot match. */
	fp(S("at_"), "at_live_", "sha256:8ca97934");
}
END_TEST

START_TEST(test_longest_prefix)
{
	static const char tok[] = "at_live_s3cr3t_part";
	const size_t n = sizeof(tok) - 1;

	fp(tok, n, "at_ at_live_ at_test_", "at_live_sha256:e7f3648c");
	fp(tok, n, "at_live_ at_", "at_live_sha256:e7f3648c");
	fp(tok, n, "at_live at_live_ at_", "at_live_sha256:e7f3648c");
	fp(tok, n, "at_test_ at_", "at_sha256:e7f3648c");
	fp(tok, n, "at_test_ at_live_s", "at_live_ssha256:e7f3648c");
}
END_TEST

START_TEST(test_separators)
{
	static const char tok[] = "at_live_s3cr3t_part";
	const size_t n = sizeof(tok) - 1;

	fp(tok, n, "  at_\t\tat_live_  ", "at_live_sha256:e7f3648c");
	fp(tok, n, "\tat_live_", "at_live_sha256:e7f3648c");
	fp(tok, n, "at_live_\t", "at_live_sha256:e7f3648c");
	fp(tok, n, " \t ", "sha256:e7f3648c");
	fp(tok, n, "", "sha256:e7f3648c");
	fp(tok, n, NULL, "sha256:e7f3648c");
}
END_TEST

START_TEST(test_unshowable_prefix)
{
	/* The longest match decides; when it may not be shown, nothing is,
	 * rather than a shorter entry the administrator did not mean. */
	fp(S("at_live!xyz"), "at_live!", "sha256:a49127b7");
	fp(S("at_live!xyz"), "at_ at_live!", "sha256:a49127b7");
	/* Only space and tab separate entries: a newline is part of one. */
	fp(S("at_\nfoo"), "at_ at_\n", "sha256:6fb831b2");
	fp(S("at_\nfoo"), "at_\nat_live", "sha256:6fb831b2");
	/* A shorter showable entry still works when the bad one does not match. */
	fp(S("at_live!xyz"), "at_ at_test!", "at_sha256:a49127b7");
	fp(S("at_live!xyz"), "at_live", "at_livesha256:a49127b7");
	fp(S("at_live!xyz"), "at_live\xc3\xa9", "sha256:a49127b7");
}
END_TEST

START_TEST(test_prefix_length_limit)
{
	/* 32 bytes: the longest that may be shown. */
	static const char p32[] = "0123456789abcdef0123456789ABCDEF";
	static const char p33[] = "0123456789abcdef0123456789ABCDEFx";

	ck_assert_uint_eq(strlen(p32), FINGERPRINT_PREFIX_MAX);
	fp(S("0123456789abcdef0123456789ABCDEF_tail"), p32,
	   "0123456789abcdef0123456789ABCDEFsha256:7bf233b0");
	ck_assert_uint_eq(strlen("0123456789abcdef0123456789ABCDEFsha256:7bf233b0"),
			  FINGERPRINT_LEN - 1);

	fp(S("0123456789abcdef0123456789ABCDEFx_tail"), p33, "sha256:d7274085");
	fp(S("0123456789abcdef0123456789ABCDEFx_tail"), "0123 0123456789abcdef0123456789ABCDEFx",
	   "sha256:d7274085");
	fp(S("0123456789abcdef0123456789ABCDEFx_tail"), "0123", "0123sha256:d7274085");
}
END_TEST

START_TEST(test_no_secret_shown)
{
	/* Opaque tokens use '_' inside the secret too: it is no separator. */
	fp(S("abc_def_ghi"), NULL, "sha256:c9846344");
	fp(S("abc_def_ghi"), "abc_", "abc_sha256:c9846344");
	fp(S("abc_def_ghi"), "abc", "abcsha256:c9846344");
	fp(S("abc_def_ghi"), "xyz_", "sha256:c9846344");
}
END_TEST

/* The rules restated as plainly as possible, as an oracle. */
static void ref_fingerprint(const char *tok, size_t tlen, const char *list, char *out,
			    size_t outlen)
{
	unsigned char md[SHA256_DIGEST_LEN];
	const char *best = NULL;
	size_t best_len = 0, i = 0, j;

	while (list[i] != '\0') {
		size_t start, n;

		if (list[i] == ' ' || list[i] == '\t') {
			i++;
			continue;
		}
		start = i;
		while (list[i] != '\0' && list[i] != ' ' && list[i] != '\t')
			i++;
		n = i - start;
		if (n <= tlen && n > best_len && memcmp(tok, list + start, n) == 0) {
			best = list + start;
			best_len = n;
		}
	}
	if (best_len > FINGERPRINT_PREFIX_MAX)
		best_len = 0;
	for (j = 0; j < best_len; j++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-",
			   best[j]) == NULL)
			best_len = 0;
	sha256(tok, tlen, md);
	snprintf(out, outlen, "%.*ssha256:%02x%02x%02x%02x", (int)best_len, best ? best : "", md[0],
		 md[1], md[2], md[3]);
}

/* Random tokens against random lists of entries cut from the token's start
 * (so that matches, ties and the 32-byte limit are all common), sometimes
 * with one byte changed. */
START_TEST(test_random_vs_reference)
{
	static const char alpha[] = "aB9_.-\t \x01\xff!:";
	char tok[80] = "", list[400];
	char out[FINGERPRINT_LEN + 16], want[128];
	int iter;

	unit_rng_seed(0x243f6a8885a308d3ULL); /* fixed: a failure replays exactly */
	for (iter = 0; iter < 20000; iter++) {
		size_t tlen = unit_rng_below(sizeof(tok) + 1);
		size_t nent = unit_rng_below(6), e, i, l = 0;

		for (i = 0; i < tlen; i++)
			tok[i] = alpha[unit_rng_below(sizeof(alpha) - 1)];
		for (e = 0; e < nent; e++) {
			size_t k = unit_rng_below(45), sep = unit_rng_below(3);

			for (i = 0; i < sep; i++)
				list[l++] = unit_rng_below(2) ? ' ' : '\t';
			for (i = 0; i < k; i++) {
				char ch = i < tlen ? tok[i] : 'a';

				/* '\0' would end the list early. */
				list[l++] = ch == '\0' ? 'a' : ch;
			}
			if (k > 0 && unit_rng_below(4) == 0)
				list[l - 1 - unit_rng_below(k)] =
				    alpha[unit_rng_below(sizeof(alpha) - 1)];
			if (unit_rng_below(2))
				list[l++] = ' ';
		}
		list[l] = '\0';

		memset(out, 'X', sizeof(out));
		token_fingerprint(tok, tlen, list, out);
		for (i = FINGERPRINT_LEN; i < sizeof(out); i++)
			ck_assert_int_eq(out[i], 'X');
		ck_assert_ptr_nonnull(memchr(out, '\0', FINGERPRINT_LEN));

		ref_fingerprint(tok, tlen, list, want, sizeof(want));
		ck_assert_msg(strcmp(out, want) == 0, "iteration %d: got \"%s\", want \"%s\"", iter,
			      out, want);
	}
}
END_TEST

/*
 * The grammar the listing shows (fingerprint_valid), and what `apitoken
 * cache forget` takes (fingerprint_from_arg: the grammar, or the 8 hex
 * alone, made the tail): every form accepted, and every near miss refused,
 * as a table. arg is what forget makes of s, NULL when it refuses it.
 */
START_TEST(test_grammar)
{
	static const struct {
		const char *s;
		bool ok;
		const char *arg;
	} cases[] = {
	    {"sha256:3f2a9c1b", true, "sha256:3f2a9c1b"},
	    {"ucat_sha256:3f2a9c1b", true, "ucat_sha256:3f2a9c1b"},
	    {"huc_sha256:00000000", true, "huc_sha256:00000000"},
	    {"a.b-c_sha256:0123abcd", true, "a.b-c_sha256:0123abcd"},
	    {"0123456789abcdef0123456789ABCDEFsha256:7bf233b0", true,
	     "0123456789abcdef0123456789ABCDEFsha256:7bf233b0"}, /* 32-byte prefix */
	    {"sha256_sha256:3f2a9c1b", true, "sha256_sha256:3f2a9c1b"},
	    {"sha256sha256:3f2a9c1b", true, "sha256sha256:3f2a9c1b"},
	    {"", false, NULL},
	    {"sha256:", false, NULL},
	    {"3f2a9c1b", false, "sha256:3f2a9c1b"},	  /* the hex alone: for forget, the tail */
	    {"sha256:3f2a9c1", false, NULL},		  /* 7 hex */
	    {"sha256:3f2a9c1b0", false, NULL},		  /* 9 hex */
	    {"sha256:3F2A9C1B", false, NULL},		  /* uppercase hex */
	    {"sha256:3f2a9c1g", false, NULL},		  /* not hex */
	    {"SHA256:3f2a9c1b", false, NULL},		  /* the tag is lowercase */
	    {"ucat_sha512:3f2a9c1b", false, NULL},	  /* another tag */
	    {"ucat_sha256-3f2a9c1b", false, NULL},	  /* no colon */
	    {"ucat_sha256:3f2a9c1b ", false, NULL},	  /* trailing space */
	    {"ucat_sha256:3f2a9c1b\n", false, NULL},	  /* trailing newline */
	    {" sha256:3f2a9c1b", false, NULL},		  /* leading space */
	    {"u cat_sha256:3f2a9c1b", false, NULL},	  /* space in the prefix */
	    {"ucat/sha256:3f2a9c1b", false, NULL},	  /* '/' in the prefix */
	    {"ucat:sha256:3f2a9c1b", false, NULL},	  /* ':' in the prefix */
	    {"sha256:sha256:3f2a9c1b", false, NULL},	  /* ':' in the prefix */
	    {"uc%41t_sha256:3f2a9c1b", false, NULL},	  /* '%' in the prefix */
	    {"uc\xc3\xa9t_sha256:3f2a9c1b", false, NULL}, /* UTF-8 in the prefix */
	    {"ucat\tsha256:3f2a9c1b", false, NULL},	  /* tab in the prefix */
	    {"0123456789abcdef0123456789ABCDEFxsha256:d7274085", false, NULL}, /* 33-byte prefix */
	    {"ucat_ucat_live_s3cr3t_part", false, NULL}, /* a token pasted by mistake */
	    /* The hex alone: 8 lowercase hex digits and nothing else. */
	    {"00000000", false, "sha256:00000000"},
	    {"0123abcd", false, "sha256:0123abcd"},
	    {"3F2A9C1B", false, NULL},	       /* uppercase */
	    {"3f2a9c1", false, NULL},	       /* 7 hex */
	    {"3f2a9c1b0", false, NULL},	       /* 9 hex */
	    {"3f2a9c1g", false, NULL},	       /* not hex */
	    {" 3f2a9c1b", false, NULL},	       /* leading space */
	    {"3f2a9c1b\n", false, NULL},       /* trailing newline */
	    {"_3f2a9c1b", false, NULL},	       /* a prefix without the tag */
	    {":3f2a9c1b", false, NULL},	       /* the colon without the tag */
	    {"sha2563f2a9c1b", false, NULL},   /* the tag without its colon */
	    {"ucat_3f2a9c1b", false, NULL},    /* a prefix and the hex */
	    {"3f2a9c1b3f2a9c1b", false, NULL}, /* a longer digest */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[FINGERPRINT_LEN];

		ck_assert_msg(fingerprint_valid(cases[i].s) == cases[i].ok,
			      "case %zu \"%s\": want %s", i, cases[i].s,
			      cases[i].ok ? "accepted" : "refused");
		memset(out, 'X', sizeof(out));
		ck_assert_msg(fingerprint_from_arg(cases[i].s, out) == (cases[i].arg != NULL),
			      "case %zu \"%s\": want %s as an argument", i, cases[i].s,
			      cases[i].arg ? "accepted" : "refused");
		if (cases[i].arg != NULL) {
			/* What forget matches with: in the grammar itself. */
			ck_assert_str_eq(out, cases[i].arg);
			ck_assert(fingerprint_valid(out));
		} else {
			ck_assert_int_eq(out[0], 'X'); /* untouched */
		}
	}
}
END_TEST

/* Whatever token_fingerprint writes is in the grammar. */
START_TEST(test_grammar_of_output)
{
	static const char *const lists[] = {NULL,
					    "",
					    "at_",
					    "at_live!",
					    "0123456789abcdef0123456789ABCDEF",
					    "0123456789abcdef0123456789ABCDEFx",
					    "a.b-c_"};
	char out[FINGERPRINT_LEN];

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		token_fingerprint(S("0123456789abcdef0123456789ABCDEFx_at_live!a.b-c_tail"),
				  lists[i], out);
		ck_assert_msg(fingerprint_valid(out), "list %zu: \"%s\"", i, out);
	}
}
END_TEST

START_TEST(test_matches)
{
	static const struct {
		const char *stored, *wanted;
		bool match;
	} cases[] = {
	    {"ucat_sha256:3f2a9c1b", "ucat_sha256:3f2a9c1b", true},
	    {"ucat_sha256:3f2a9c1b", "sha256:3f2a9c1b", true}, /* by the tail alone */
	    {"sha256:3f2a9c1b", "sha256:3f2a9c1b", true},
	    {"ucat_sha256:3f2a9c1b", "huc_sha256:3f2a9c1b", false}, /* another prefix */
	    {"sha256:3f2a9c1b", "ucat_sha256:3f2a9c1b", false},	    /* a prefix it lacks */
	    {"ucat_sha256:3f2a9c1b", "sha256:3f2a9c1c", false},
	    {"ucat_sha256:3f2a9c1b", "t_sha256:3f2a9c1b", false}, /* a cut prefix */
	    {"ucat_sha256:3f2a9c1b", "ha256:3f2a9c1b", false},
	    {"-", "sha256:3f2a9c1b", false}, /* shorter than the tail */
	};
	char arg[FINGERPRINT_LEN];

	/* The hex alone, as forget makes it, names the token whatever its prefix. */
	ck_assert(fingerprint_from_arg("3f2a9c1b", arg));
	ck_assert(fingerprint_matches("ucat_sha256:3f2a9c1b", arg));
	ck_assert(fingerprint_matches("huc_sha256:3f2a9c1b", arg));
	ck_assert(fingerprint_matches("sha256:3f2a9c1b", arg));
	ck_assert(!fingerprint_matches("ucat_sha256:3f2a9c1c", arg));

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(fingerprint_matches(cases[i].stored, cases[i].wanted) ==
				  cases[i].match,
			      "case %zu", i);
}
END_TEST

static Suite *fingerprint_suite(void)
{
	Suite *s = suite_create("fingerprint");
	TCase *tc;

	tc = tcase_create("fingerprint");
	tcase_add_test(tc, test_known_digests);
	tcase_add_test(tc, test_prefix_match);
	tcase_add_test(tc, test_longest_prefix);
	tcase_add_test(tc, test_separators);
	tcase_add_test(tc, test_unshowable_prefix);
	tcase_add_test(tc, test_prefix_length_limit);
	tcase_add_test(tc, test_no_secret_shown);
	tcase_add_test(tc, test_random_vs_reference);
	tcase_add_test(tc, test_grammar);
	tcase_add_test(tc, test_grammar_of_output);
	tcase_add_test(tc, test_matches);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return unit_run(fingerprint_suite());
}
