/*
 * apitoken check's reason in words (helper/cmd_check.c): a sentence for
 * every reason word pam_apitoken(8) lists under "Reason words", so that a
 * new word documented there without a sentence here fails this test, and
 * nothing for a word that is none.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "unit.h"

#define MAN "man/pam_apitoken.8"

START_TEST(test_every_documented_reason_has_words)
{
	FILE *f = fopen(MAN, "r");
	char line[512], prev[512] = "";
	bool in = false;
	int words = 0;

	ck_assert_msg(f != NULL, "%s: run from the top of the tree", MAN);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, ".SS ", 4) == 0 || strncmp(line, ".SH ", 4) == 0)
			in = strcmp(line, ".SS Reason words\n") == 0;
		/* A word is the ".B word" line right after ".TP". */
		if (in && strcmp(prev, ".TP\n") == 0 && strncmp(line, ".B ", 3) == 0) {
			char word[64];
			size_t j = 0;

			for (const char *p = line + 3; *p && *p != '\n' && j + 1 < sizeof(word);
			     p++)
				if (*p != '\\')
					word[j++] = *p;
			word[j] = '\0';
			ck_assert_msg(check_reason_text(word) != NULL, "no words for reason %s",
				      word);
			words++;
		}
		snprintf(prev, sizeof(prev), "%s", line);
	}
	fclose(f);
	/* The section was found and read: DESIGN.md §5 has well over 40 words. */
	ck_assert_int_ge(words, 40);
	ck_assert_ptr_null(check_reason_text("no_such_reason"));
	ck_assert_ptr_nonnull(strstr(check_reason_text("user_not_mapped"), "user_map"));
}
END_TEST

static Suite *reasons_suite(void)
{
	Suite *s = suite_create("reasons");
	TCase *tc = tcase_create("words");

	tcase_add_test(tc, test_every_documented_reason_has_words);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(reasons_suite());
}
