/*
 * libFuzzer harness for lib/usermap.c: the user_map file and its matcher.
 * Input: the map's text, NUL, then an identity (the rest, NUL bytes and
 * all). Oracles: APT_OK or APT_SERVICE with a "name:LINE: " message that
 * quotes no byte of the input past the name; a parsed map has rules of two
 * non-empty fields without blanks or control bytes, no '*' in a user; the
 * lookup's answer is the user of the first rule that a plain recursive
 * glob (the definition: '*' any run, everything else literal) says
 * matches, and NULL for an identity holding NUL.
 */
#include "oracle.h"
#include "usermap.h"

/*
 * The definition, as a table: ok[i][j] = the first i bytes of the pattern
 * match the first j of s. Only for short inputs (pattern <= 32, s <= 64).
 */
static bool glob_ref(const char *p, const char *s, size_t n)
{
	bool ok[33][65] = {{false}};
	size_t m = strlen(p);

	ok[0][0] = true;
	for (size_t i = 1; i <= m; i++)
		for (size_t j = 0; j <= n; j++)
			ok[i][j] = p[i - 1] == '*'
				       ? ok[i - 1][j] || (j > 0 && ok[i][j - 1])
				       : j > 0 && ok[i - 1][j - 1] && p[i - 1] == s[j - 1];
	return ok[m][n];
}

static bool clean_field(const char *f)
{
	if (f[0] == '\0')
		return false;
	for (; *f; f++)
		if ((unsigned char)*f <= 0x20 || (unsigned char)*f == 0x7f)
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t left = size;
	char *text = next_part(&p, &left), err[256] = "";
	const char *id = (const char *)p, *got, *want = NULL;
	struct usermap m;
	bool known;
	enum apt_rc rc = usermap_parse(text, strlen(text), "map", &m, err, sizeof(err));

	CHECK(rc == APT_OK || rc == APT_SERVICE || rc == APT_NOMEM);
	CHECK(strlen(m.digest) == 64);
	if (rc == APT_SERVICE) {
		CHECK(strncmp(err, "map:", 4) == 0);
		CHECK(strstr(err, "(line not shown") != NULL);
	}
	if (rc == APT_OK) {
		for (size_t i = 0; i < m.n; i++) {
			CHECK(clean_field(m.rules[i].identity) && clean_field(m.rules[i].user));
			CHECK(strchr(m.rules[i].user, '*') == NULL);
		}
		got = usermap_lookup(&m, id, left);
		/* Known only while every rule before the answer is short enough to check. */
		known = memchr(id, '\0', left) == NULL && left <= 64;
		for (size_t i = 0; i < m.n && known && want == NULL; i++) {
			if (strlen(m.rules[i].identity) > 32)
				known = false;
			else if (glob_ref(m.rules[i].identity, id, left))
				want = m.rules[i].user;
		}
		if (memchr(id, '\0', left) != NULL)
			CHECK(got == NULL);
		else if (known)
			CHECK(got == want);
		for (size_t i = 0; i < m.n; i++)
			CHECK(usermap_glob(m.rules[i].identity, m.rules[i].identity,
					   strlen(m.rules[i].identity)) ||
			      strchr(m.rules[i].identity, '*') != NULL);
	}
	usermap_free(&m);
	free(text);
	return 0;
}
