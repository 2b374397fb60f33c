/*
 * Unit tests for lib/config.c (DESIGN.md §4): every key from the file and
 * from module arguments, each default, arguments over the file, config=,
 * flags, file syntax (comments, blanks, spaces, CRLF), every error path with
 * its message (unknown keys, URL rules, duplicates, numbers, booleans, paths,
 * pairs, timeouts, unsafe or odd config files), and word_in_list() and
 * url_is_loopback_http() directly. Files live in a mkdtemp() directory
 * removed at the end.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "proto.h"
#include "settings.h"
#include "unit.h"
#include "url.h"

/* String literals with their exact length. */
#define S(lit) lit, sizeof(lit) - 1

#define URL "https://idp.example/introspect"

/* The whole message for an unknown key: its text is never repeated. */
#define UNKNOWN "unknown option (not shown: it could be a secret)"

static char empty_conf[PATH_MAX];

/* ---- helpers ---------------------------------------------------------- */

/* config_load with config=conf (when not NULL) then the NULL-terminated args. */
static enum apt_rc load(struct apt_config *cfg, const char *conf, const char *const *args,
			char *err, size_t errlen)
{
	const char *argv[64];
	char cfgarg[PATH_MAX + 8];
	int argc = 0;

	if (conf != NULL) {
		snprintf(cfgarg, sizeof(cfgarg), "config=%s", conf);
		argv[argc++] = cfgarg;
	}
	for (; args != NULL && *args != NULL; args++) {
		ck_assert_int_lt(argc, 64);
		argv[argc++] = *args;
	}
	return config_load(cfg, argc, argv, err, errlen);
}

/* Writes text to a 0644 file called name and loads it with args; expects APT_OK. */
static void load_text_ok(struct apt_config *cfg, const char *name, const char *text,
			 const char *const *args)
{
	char path[PATH_MAX], err[512] = "";
	enum apt_rc rc;

	unit_write(path, name, text, strlen(text), 0644);
	rc = load(cfg, path, args, err, sizeof(err));
	ck_assert_msg(rc == APT_OK, "%s: rc %d: %s", name, rc, err);
	ck_assert_str_eq(cfg->config, path);
}

/* Expects APT_SERVICE and an error holding every fragment given (NULL-terminated). */
static void expect_service_path(const char *conf, const char *const *args, const char *frag1,
				const char *frag2)
{
	struct apt_config cfg;
	char err[512] = "";
	enum apt_rc rc = load(&cfg, conf, args, err, sizeof(err));

	ck_assert_msg(rc == APT_SERVICE, "rc %d, want APT_SERVICE (\"%s\")", rc, frag1);
	ck_assert_msg(strstr(err, frag1) != NULL, "error \"%s\" lacks \"%s\"", err, frag1);
	if (frag2 != NULL)
		ck_assert_msg(strstr(err, frag2) != NULL, "error \"%s\" lacks \"%s\"", err, frag2);
	config_free(&cfg);
}

/* Args after config=<empty file>: expects APT_SERVICE with frag in the error. */
static void args_bad(const char *const *args, const char *frag)
{
	expect_service_path(empty_conf, args, frag, NULL);
}

/* The file text (under name): expects APT_SERVICE, frag and "path:line:". */
static void text_bad(const char *name, const char *text, unsigned line, const char *frag)
{
	char path[PATH_MAX], where[PATH_MAX + 16];

	unit_write(path, name, text, strlen(text), 0644);
	if (line > 0)
		snprintf(where, sizeof(where), "%s:%u: ", path, line);
	else
		snprintf(where, sizeof(where), "%s", frag);
	expect_service_path(path, NULL, frag, where);
}

/* ---- defaults --------------------------------------------------------- */

START_TEST(test_defaults)
{
	struct apt_config cfg;

	load_text_ok(&cfg, "defaults.conf", "introspection_url = " URL "\n", NULL);
	ck_assert_str_eq(cfg.introspection_url, URL);
	ck_assert_ptr_null(cfg.client_id);
	ck_assert_ptr_null(cfg.client_secret_file);
	ck_assert_str_eq(cfg.client_auth, "none"); /* unset, without credentials */
	ck_assert_ptr_null(cfg.ca_file);
	ck_assert_ptr_null(cfg.tls_cert_file);
	ck_assert_ptr_null(cfg.tls_key_file);
	ck_assert_ptr_null(cfg.proxy);
	ck_assert_int_eq(cfg.connect_timeout_ms, 2000);
	ck_assert_int_eq(cfg.timeout_ms, 5000);
	ck_assert_ptr_null(cfg.token_prefixes);
	ck_assert_str_eq(cfg.username_claim, "username");
	ck_assert_ptr_null(cfg.required_scopes);
	ck_assert_ptr_null(cfg.allowed_client_ids);
	ck_assert_ptr_null(cfg.audience);
	ck_assert_ptr_null(cfg.issuer);
	ck_assert_str_eq(cfg.ip_ranges_claim, "allowed_ip_ranges");
	ck_assert_str_eq(cfg.scope_claim, "scope");
	ck_assert(!cfg.require_ip_ranges);
	ck_assert_int_eq(cfg.clock_skew, 30);
	ck_assert(cfg.cache);
	ck_assert_str_eq(cfg.cache_dir, "/var/cache/pam_apitoken");
	ck_assert_int_eq(cfg.cache_ttl, 60);
	ck_assert_int_eq(cfg.negative_cache_ttl, 10);
	ck_assert_int_eq(cfg.cache_max_entries, 10000);
	ck_assert_int_eq(cfg.offline_grace, 0);
	ck_assert_str_eq(cfg.helper, APITOKEN_HELPER_PATH);
	ck_assert_str_eq(cfg.helper_user, "_apitoken");
	ck_assert_str_eq(cfg.prompt, "API token: ");
	ck_assert(!cfg.debug);
	ck_assert(!cfg.use_first_pass);
	ck_assert(!cfg.try_first_pass);
	config_free(&cfg);
}
END_TEST

START_TEST(test_default_path_missing)
{
	const char *args[] = {"introspection_url=" URL, NULL};
	struct apt_config cfg;
	char err[512] = "";

	if (access(APITOKEN_CONFIG_PATH, F_OK) == 0 || errno != ENOENT)
		return; /* this host has one: nothing to test here */
	ck_assert_int_eq(load(&cfg, NULL, args, err, sizeof(err)), APT_OK);
	ck_assert_ptr_null(cfg.config);
	ck_assert_str_eq(cfg.introspection_url, URL);
	ck_assert_int_eq(cfg.timeout_ms, 5000);
	config_free(&cfg);

	/* Fine to be absent, but the arguments must then hold what is required. */
	expect_service_path(NULL, NULL, "introspection_url is required", NULL);
}
END_TEST

START_TEST(test_named_path_missing)
{
	char path[PATH_MAX];

	unit_path(path, sizeof(path), "no-such.conf");
	expect_service_path(path, (const char *[]){"introspection_url=" URL, NULL},
			    "No such file or directory", path);
}
END_TEST

/* ---- every key -------------------------------------------------------- */

static void check_all_set(const struct apt_config *cfg)
{
	ck_assert_str_eq(cfg->introspection_url, "https://idp2.example/i");
	ck_assert_str_eq(cfg->client_id, "pam-host");
	ck_assert_str_eq(cfg->client_secret_file, "/etc/security/apitoken.secret");
	ck_assert_str_eq(cfg->ca_file, "/etc/ssl/idp.pem");
	ck_assert_str_eq(cfg->tls_cert_file, "/etc/ssl/me.crt");
	ck_assert_str_eq(cfg->tls_key_file, "/etc/ssl/me.key");
	ck_assert_str_eq(cfg->proxy, "http://proxy.example:3128");
	ck_assert_int_eq(cfg->connect_timeout_ms, 1500);
	ck_assert_int_eq(cfg->timeout_ms, 3000);
	ck_assert_str_eq(cfg->token_prefixes, "ucat_ huc_");
	ck_assert_str_eq(cfg->username_claim, "sub");
	ck_assert_str_eq(cfg->required_scopes, "git rsync");
	ck_assert_str_eq(cfg->allowed_client_ids, "ci deploy");
	ck_assert_str_eq(cfg->audience, "ssh");
	ck_assert_str_eq(cfg->issuer, "https://idp2.example");
	ck_assert_str_eq(cfg->ip_ranges_claim, "ips");
	ck_assert(cfg->require_ip_ranges);
	ck_assert_int_eq(cfg->clock_skew, 5);
	ck_assert(!cfg->cache);
	ck_assert_str_eq(cfg->cache_dir, "/run/apitoken");
	ck_assert_int_eq(cfg->cache_ttl, 30);
	ck_assert_int_eq(cfg->negative_cache_ttl, 3);
	ck_assert_int_eq(cfg->cache_max_entries, 500);
	ck_assert_int_eq(cfg->offline_grace, 600);
	ck_assert_str_eq(cfg->helper, "/usr/lib/apitoken/apitoken");
	ck_assert_str_eq(cfg->helper_user, "apitoken");
	ck_assert_str_eq(cfg->prompt, "Token:");
	ck_assert(cfg->debug);
	ck_assert(cfg->use_first_pass);
	ck_assert(cfg->try_first_pass);
}

START_TEST(test_every_key_file)
{
	struct apt_config cfg;

	load_text_ok(&cfg, "all.conf",
		     "introspection_url = https://idp2.example/i\n"
		     "client_id = pam-host\n"
		     "client_secret_file = /etc/security/apitoken.secret\n"
		     "ca_file = /etc/ssl/idp.pem\n"
		     "tls_cert_file = /etc/ssl/me.crt\n"
		     "tls_key_file = /etc/ssl/me.key\n"
		     "proxy = http://proxy.example:3128\n"
		     "connect_timeout_ms = 1500\n"
		     "timeout_ms = 3000\n"
		     "token_prefixes = ucat_ huc_\n"
		     "username_claim = sub\n"
		     "required_scopes = git rsync\n"
		     "allowed_client_ids = ci deploy\n"
		     "audience = ssh\n"
		     "issuer = https://idp2.example\n"
		     "ip_ranges_claim = ips\n"
		     "require_ip_ranges = yes\n"
		     "clock_skew = 5\n"
		     "cache = no\n"
		     "cache_dir = /run/apitoken\n"
		     "cache_ttl = 30\n"
		     "negative_cache_ttl = 3\n"
		     "cache_max_entries = 500\n"
		     "offline_grace = 600\n"
		     "helper = /usr/lib/apitoken/apitoken\n"
		     "helper_user = apitoken\n"
		     "prompt = Token:\n"
		     "debug = yes\n"
		     "use_first_pass = yes\n"
		     "try_first_pass = yes\n",
		     NULL);
	check_all_set(&cfg);
	config_free(&cfg);
}
END_TEST

START_TEST(test_every_key_args)
{
	static const char *const args[] = {
	    "introspection_url=https://idp2.example/i",
	    "client_id=pam-host",
	    "client_secret_file=/etc/security/apitoken.secret",
	    "ca_file=/etc/ssl/idp.pem",
	    "tls_cert_file=/etc/ssl/me.crt",
	    "tls_key_file=/etc/ssl/me.key",
	    "proxy=http://proxy.example:3128",
	    "connect_timeout_ms=1500",
	    "timeout_ms=3000",
	    "token_prefixes=ucat_ huc_",
	    "username_claim=sub",
	    "required_scopes=git rsync",
	    "allowed_client_ids=ci deploy",
	    "audience=ssh",
	    "issuer=https://idp2.example",
	    "ip_ranges_claim=ips",
	    "require_ip_ranges=yes",
	    "clock_skew=5",
	    "cache=no",
	    "cache_dir=/run/apitoken",
	    "cache_ttl=30",
	    "negative_cache_ttl=3",
	    "cache_max_entries=500",
	    "offline_grace=600",
	    "helper=/usr/lib/apitoken/apitoken",
	    "helper_user=apitoken",
	    "prompt=Token:",
	    "debug",
	    "use_first_pass",
	    "try_first_pass",
	    NULL,
	};
	struct apt_config cfg;
	char err[512] = "";

	ck_assert_int_eq(load(&cfg, empty_conf, args, err, sizeof(err)), APT_OK);
	ck_assert_str_eq(cfg.config, empty_conf);
	check_all_set(&cfg);
	config_free(&cfg);
}
END_TEST

START_TEST(test_args_override_file)
{
	static const char *const args[] = {
	    "timeout_ms=4000",
	    "username_claim=sub",
	    "cache=yes",
	    "token_prefixes=upk_",
	    "introspection_url=http://localhost/i",
	    "prompt=Key: ",
	    NULL,
	};
	struct apt_config cfg;

	load_text_ok(&cfg, "override.conf",
		     "introspection_url = " URL "\n"
		     "timeout_ms = 3000\n"
		     "username_claim = preferred_username\n"
		     "cache = no\n"
		     "token_prefixes = ucat_ huc_\n"
		     "clock_skew = 7\n",
		     args);
	ck_assert_int_eq(cfg.timeout_ms, 4000);
	ck_assert_str_eq(cfg.username_claim, "sub");
	ck_assert(cfg.cache);
	ck_assert_str_eq(cfg.token_prefixes, "upk_");
	ck_assert_str_eq(cfg.introspection_url, "http://localhost/i");
	ck_assert_str_eq(cfg.prompt, "Key: "); /* an argument keeps its trailing space */
	ck_assert_int_eq(cfg.clock_skew, 7);   /* not overridden: the file's */
	config_free(&cfg);
}
END_TEST

START_TEST(test_args_empty_unsets)
{
	static const char *const args[] = {"token_prefixes=", "audience=", NULL};
	struct apt_config cfg;

	load_text_ok(&cfg, "unset.conf",
		     "introspection_url = " URL "\ntoken_prefixes = ucat_\naudience = ssh\n", args);
	ck_assert_ptr_null(cfg.token_prefixes);
	ck_assert_ptr_null(cfg.audience);
	config_free(&cfg);
}
END_TEST

START_TEST(test_args_twice_last_wins)
{
	static const char *const args[] = {"introspection_url=" URL, "clock_skew=1", "clock_skew=2",
					   NULL};
	struct apt_config cfg;
	char err[512] = "";

	ck_assert_int_eq(load(&cfg, empty_conf, args, err, sizeof(err)), APT_OK);
	ck_assert_int_eq(cfg.clock_skew, 2);
	config_free(&cfg);
}
END_TEST

START_TEST(test_config_arg)
{
	char path[PATH_MAX];

	/* config= is an absolute path, and no key of the file. */
	args_bad((const char *[]){NULL}, "introspection_url is required");
	expect_service_path(NULL, (const char *[]){"config=etc/pam_apitoken.conf", NULL},
			    "config: want an absolute path", NULL);
	expect_service_path(NULL, (const char *[]){"config=", NULL},
			    "config: want an absolute path", NULL);
	text_bad("config-key.conf", "introspection_url = " URL "\nconfig = /etc/x\n", 2, UNKNOWN);
	/* The last config= names the file. */
	unit_write(path, "second.conf", S("introspection_url = " URL "\n"), 0644);
	{
		const char *args[] = {"config=/nonexistent/first.conf", NULL, NULL};
		char arg2[PATH_MAX + 8], err[512] = "";
		struct apt_config cfg;

		snprintf(arg2, sizeof(arg2), "config=%s", path);
		args[1] = arg2;
		ck_assert_int_eq(config_load(&cfg, 2, args, err, sizeof(err)), APT_OK);
		ck_assert_str_eq(cfg.config, path);
		ck_assert_str_eq(cfg.introspection_url, URL);
		config_free(&cfg);
	}
}
END_TEST

/* ---- flags and syntax ------------------------------------------------- */

START_TEST(test_flags)
{
	struct apt_config cfg;
	char err[512] = "";

	ck_assert_int_eq(load(&cfg, empty_conf,
			      (const char *[]){"introspection_url=" URL, "debug", NULL}, err,
			      sizeof(err)),
			 APT_OK);
	ck_assert(cfg.debug && !cfg.use_first_pass && !cfg.try_first_pass);
	config_free(&cfg);

	ck_assert_int_eq(load(&cfg, empty_conf,
			      (const char *[]){"introspection_url=" URL, "use_first_pass", NULL},
			      err, sizeof(err)),
			 APT_OK);
	ck_assert(!cfg.debug && cfg.use_first_pass && !cfg.try_first_pass);
	config_free(&cfg);

	ck_assert_int_eq(load(&cfg, empty_conf,
			      (const char *[]){"introspection_url=" URL, "try_first_pass", NULL},
			      err, sizeof(err)),
			 APT_OK);
	ck_assert(!cfg.debug && !cfg.use_first_pass && cfg.try_first_pass);
	config_free(&cfg);

	/* In the file: "flag = yes", "flag = true", or the bare word. */
	load_text_ok(&cfg, "flags1.conf",
		     "introspection_url = " URL "\ndebug = yes\nuse_first_pass = true\n"
		     "try_first_pass\n",
		     NULL);
	ck_assert(cfg.debug && cfg.use_first_pass && cfg.try_first_pass);
	config_free(&cfg);

	load_text_ok(&cfg, "flags2.conf",
		     "introspection_url = " URL "\ndebug = no\nuse_first_pass = false\n"
		     "try_first_pass = 0\n",
		     NULL);
	ck_assert(!cfg.debug && !cfg.use_first_pass && !cfg.try_first_pass);
	config_free(&cfg);

	/* A bare flag argument wins over "no" in the file. */
	load_text_ok(&cfg, "flags3.conf", "introspection_url = " URL "\ndebug = no\n",
		     (const char *[]){"debug", NULL});
	ck_assert(cfg.debug);
	config_free(&cfg);

	/* And "debug=no" as an argument turns it off. */
	load_text_ok(&cfg, "flags4.conf", "introspection_url = " URL "\ndebug\n",
		     (const char *[]){"debug=no", NULL});
	ck_assert(!cfg.debug);
	config_free(&cfg);

	text_bad("flags5.conf", "introspection_url = " URL "\ndebug = maybe\n", 2,
		 "option debug: want yes or no");
	/* A key that is no flag needs a value. */
	args_bad((const char *[]){"introspection_url=" URL, "cache", NULL},
		 "option cache needs a value");
	text_bad("flags6.conf", "introspection_url = " URL "\n\ntimeout_ms\n", 3,
		 "option timeout_ms needs a value");
}
END_TEST

START_TEST(test_syntax)
{
	struct apt_config cfg;

	load_text_ok(&cfg, "syntax.conf",
		     "# pam_apitoken configuration\n"
		     "\n"
		     "   # an indented comment = with an equals sign\n"
		     "\t\n"
		     "introspection_url=" URL "\n"
		     "  timeout_ms   =   4000   \n"
		     "\tclock_skew\t=\t9\t\n"
		     "required_scopes =   git    rsync  \n"
		     "   \n"
		     "#debug\n"
		     "audience=ssh",
		     NULL);
	ck_assert_str_eq(cfg.introspection_url, URL);
	ck_assert_int_eq(cfg.timeout_ms, 4000);
	ck_assert_int_eq(cfg.clock_skew, 9);
	ck_assert_str_eq(cfg.required_scopes, "git    rsync");
	ck_assert_str_eq(cfg.audience, "ssh"); /* last line without LF */
	ck_assert(!cfg.debug);
	config_free(&cfg);
}
END_TEST

/* Double quotes keep white space at the ends of a value; inner quotes stay. */
START_TEST(test_quoted_values)
{
	struct apt_config cfg;

	load_text_ok(&cfg, "quoted.conf",
		     "introspection_url = " URL "\n"
		     "prompt = \"Deploy token: \"\n"
		     "audience = \"a\"b\"\n",
		     NULL);
	ck_assert_str_eq(cfg.prompt, "Deploy token: ");
	ck_assert_str_eq(cfg.audience, "a\"b");
	config_free(&cfg);
	load_text_ok(&cfg, "quoted2.conf", "introspection_url = " URL "\nissuer = \"\n", NULL);
	ck_assert_str_eq(cfg.issuer, "\"");
	config_free(&cfg);
}
END_TEST

START_TEST(test_crlf)
{
	struct apt_config cfg;

	load_text_ok(&cfg, "crlf.conf",
		     "# written on Windows\r\n"
		     "\r\n"
		     "introspection_url = " URL "\r\n"
		     "timeout_ms = 4000\r\n"
		     "cache = no\r\n"
		     "debug\r\n"
		     "helper_user = apitoken\r\n",
		     NULL);
	ck_assert_str_eq(cfg.introspection_url, URL);
	ck_assert_int_eq(cfg.timeout_ms, 4000);
	ck_assert(!cfg.cache);
	ck_assert(cfg.debug);
	ck_assert_str_eq(cfg.helper_user, "apitoken");
	config_free(&cfg);
}
END_TEST

/* ---- errors ----------------------------------------------------------- */

START_TEST(test_unknown_key)
{
	text_bad("unknown.conf", "introspection_url = " URL "\n# x\nbogus = 1\n", 3, UNKNOWN);
	/* A key name but for the case: shown, with the key it was meant to be. */
	text_bad("unknown2.conf", "introspection_url = " URL "\nTimeout_ms = 1\n", 2,
		 "unknown option \"Timeout_ms\"; did you mean \"timeout_ms\"?");
	text_bad("unknown3.conf", "introspection_url = " URL "\nbogus\n", 2, UNKNOWN);
	text_bad("unknown4.conf", "= value\n", 1, UNKNOWN);
	/* Arguments are counted from 1, config= included. */
	args_bad((const char *[]){"introspection_url=" URL, "bogus=1", NULL},
		 "argument 3: " UNKNOWN);
	args_bad((const char *[]){"introspection_url=" URL, "bogus", NULL}, "argument 3: " UNKNOWN);
	/* The start of one key, a key but for the case: the key they were meant to be. */
	args_bad((const char *[]){"timeout=5", "introspection_url=" URL, NULL},
		 "argument 2: unknown option \"timeout\"; did you mean \"timeout_ms\"?");
	args_bad((const char *[]){"introspection_url=" URL, "Debug", NULL},
		 "argument 3: unknown option \"Debug\"; did you mean \"debug\"?");
	args_bad((const char *[]){"introspection_url=" URL, "client_secret=x", NULL},
		 "argument 3: unknown option \"client_secret\"; did you mean "
		 "\"client_secret_file\"?");
}
END_TEST

/* err (from a failed load) holds none of the planted text, nor a piece of it. */
static void assert_not_quoted(const char *err, const char *planted)
{
	char piece[9];
	size_t n = strlen(planted);

	for (size_t i = 0; i + 8 <= n; i++) {
		memcpy(piece, planted + i, 8);
		piece[8] = '\0';
		ck_assert_msg(strstr(err, piece) == NULL, "error \"%s\" quotes \"%s\"", err, piece);
	}
}

/* Loads conf (a path, or NULL) with args, expects APT_SERVICE and want in err, planted not. */
static void secret_not_quoted(const char *conf, const char *const *args, const char *want,
			      const char *planted)
{
	struct apt_config cfg;
	char err[512] = "";
	enum apt_rc rc = load(&cfg, conf, args, err, sizeof(err));

	ck_assert_msg(rc == APT_SERVICE, "rc %d, want APT_SERVICE (%s)", rc, want);
	assert_not_quoted(err, planted);
	ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" lacks \"%s\"", err, want);
	config_free(&cfg);
}

/*
 * A token pasted on a line of its own, a secret file given as config=, a
 * token as a module argument, secrets as the values of known keys: the
 * error gives the place (file:line, "argument N") and a known key's name,
 * never the text.
 */
START_TEST(test_errors_never_quote_text)
{
	static const char tok[] = "ucat_Zq8vR3nT6yW1pL4kD7hF0sJ2";
	char path[PATH_MAX], want[PATH_MAX + 80], text[512];
	static const struct {
		const char *line; /* %s: the token */
		const char *msg;
	} lines[] = {
	    {"%s", UNKNOWN},
	    {"  %s  ", UNKNOWN},
	    {"%s=", UNKNOWN},
	    {"%s=more", UNKNOWN},
	    {"x%sx%sx%sx%s = 1", UNKNOWN}, /* longer than the 64 bytes once quoted */
	    {"\"%s\"", UNKNOWN},
	    {"timeout_ms = %s", "option timeout_ms: want a whole number"},
	    {"cache = %s", "option cache: want yes or no"},
	    {"helper = %s", "option helper: want an absolute path"},
	    {"debug = %s", "option debug: want yes or no"},
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char line[400];

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(line, sizeof(line), lines[i].line, tok, tok, tok, tok);
#pragma GCC diagnostic pop
		snprintf(text, sizeof(text), "introspection_url = " URL "\n\n%s\n", line);
		unit_write(path, "pasted.conf", text, strlen(text), 0600);
		snprintf(want, sizeof(want), "%s:3: %s", path, lines[i].msg);
		secret_not_quoted(path, NULL, want, tok);

		/* The same as a module argument. */
		{
			const char *args[] = {"introspection_url=" URL, line, NULL};
			char *eq;

			/* Arguments have no spaces around "=" and no quotes. */
			if (strchr(line, ' ') != NULL || line[0] == '"') {
				eq = strstr(line, " = ");
				if (eq == NULL)
					continue;
				memmove(eq + 1, eq + 3, strlen(eq + 3) + 1);
				eq[0] = '=';
			}
			snprintf(want, sizeof(want), "argument 3: %s", lines[i].msg);
			secret_not_quoted(empty_conf, args, want, tok);
		}
	}

	/* A control character in a known key's value: named, not shown. */
	snprintf(text, sizeof(text), "introspection_url = " URL "\nprompt = %s\x01x\n", tok);
	unit_write(path, "ctl.conf", text, strlen(text), 0600);
	snprintf(want, sizeof(want), "%s:2: option prompt: control characters in value", path);
	secret_not_quoted(path, NULL, want, tok);

	/* config= naming the client secret (or any other secret file). */
	unit_write(path, "client.secret", S("s3cr3t-Client-Secret-Value-0042\n"), 0600);
	snprintf(want, sizeof(want), "%s:1: " UNKNOWN, path);
	secret_not_quoted(path, NULL, want, "s3cr3t-Client-Secret-Value-0042");
	unit_write(path, "client2.secret", S("   Key:Value With Spaces And=Equals \r\n"), 0600);
	snprintf(want, sizeof(want), "%s:1: " UNKNOWN, path);
	secret_not_quoted(path, NULL, want, "Key:Value With Spaces And=Equals");
}
END_TEST

/*
 * The client's config (~/.config/apitoken/config, helper/settings.c) is
 * read by the same code: a token pasted into it is not echoed either.
 */
START_TEST(test_client_config_never_quotes_text)
{
	static const char tok[] = "ucat_Zq8vR3nT6yW1pL4kD7hF0sJ2";
	char dir[PATH_MAX], path[PATH_MAX], text[256], want[PATH_MAX + 80], err[512] = "";
	struct settings st;
	enum apt_rc rc;

	unit_path(dir, sizeof(dir), "xdg");
	mkdir(dir, 0700);
	unit_path(path, sizeof(path), "xdg/apitoken");
	mkdir(path, 0700);
	unit_path(path, sizeof(path), "xdg/apitoken/config");
	snprintf(text, sizeof(text), "hosts = *.example.com\n%s\n", tok);
	unit_write_path(path, text, strlen(text), 0600);
	setenv("XDG_CONFIG_HOME", dir, 1);
	rc = settings_load(&st, err, sizeof(err));
	unsetenv("XDG_CONFIG_HOME");
	ck_assert_int_eq(rc, APT_SERVICE);
	snprintf(want, sizeof(want), "%s:2: " UNKNOWN, path);
	assert_not_quoted(err, tok);
	ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" lacks \"%s\"", err, want);
	settings_free(&st);
}
END_TEST

/*
 * The nearest key for a typo (DESIGN.md §4 "Unknown keys", issue 12 item
 * 4): within two edits, or the one key a name is the start of, shown with
 * the name; a name that only starts with a key gets the key but is not
 * shown (what follows the key could be a secret); no key near: no hint.
 */
START_TEST(test_unknown_key_suggests_nearest)
{
	static const struct {
		const char *line, *msg;
	} cases[] = {
	    {"introspecton_url = " URL,
	     "unknown option \"introspecton_url\"; did you mean \"introspection_url\"?"},
	    {"introspection_uri = " URL,
	     "unknown option \"introspection_uri\"; did you mean \"introspection_url\"?"},
	    {"cache_tll = 5", "unknown option \"cache_tll\"; did you mean \"cache_ttl\"?"},
	    {"requried_scopes = ssh",
	     "unknown option \"requried_scopes\"; did you mean \"required_scopes\"?"},
	    {"helper_usr = x", "unknown option \"helper_usr\"; did you mean \"helper_user\"?"},
	    {"negative_cache = 1",
	     "unknown option \"negative_cache\"; did you mean \"negative_cache_ttl\"?"},
	    {"cache_dir_old = /x", "unknown option (not shown: it could be a secret); did you mean "
				   "\"cache_dir\"?"},
	    {"client = x", UNKNOWN}, /* the start of three keys: none is clear */
	    {"frobnicate = 1", UNKNOWN},
	};
	char path[PATH_MAX], text[512], want[PATH_MAX + 200];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct apt_config cfg;
		char err[512] = "";

		snprintf(text, sizeof(text), "introspection_url = " URL "\n%s\n", cases[i].line);
		if (strncmp(cases[i].line, "introspect", 10) == 0)
			snprintf(text, sizeof(text), "# x\n%s\n", cases[i].line);
		unit_write(path, "typo.conf", text, strlen(text), 0600);
		ck_assert_int_eq(load(&cfg, path, NULL, err, sizeof(err)), APT_SERVICE);
		snprintf(want, sizeof(want), "%s:2: %s", path, cases[i].msg);
		ck_assert_msg(strcmp(err, want) == 0, "%s: got \"%s\", want \"%s\"", cases[i].line,
			      err, want);
		config_free(&cfg);
	}
}
END_TEST

/* A token pasted right after a key's name: the key is named, the token never. */
START_TEST(test_unknown_key_hint_never_quotes_text)
{
	static const char tok[] = "ucat_Zq8vR3nT6yW1pL4kD7hF0sJ2";
	char path[PATH_MAX], text[512], want[PATH_MAX + 120];

	snprintf(text, sizeof(text), "introspection_url = " URL "\nclient_id%s\n", tok);
	unit_write(path, "glued.conf", text, strlen(text), 0600);
	snprintf(want, sizeof(want), "%s:2: " UNKNOWN "; did you mean \"client_id\"?", path);
	secret_not_quoted(path, NULL, want, tok);
	/* Two letters off a key but holding a control byte: named, not shown. */
	snprintf(text, sizeof(text), "introspection_url = " URL "\ncache_\x1b = 1\n");
	unit_write(path, "ctl.conf", text, strlen(text), 0600);
	snprintf(want, sizeof(want), "%s:2: " UNKNOWN "; did you mean \"cache\"?", path);
	secret_not_quoted(path, NULL, want, "cache_\x1b");
}
END_TEST

/* config_load_report: every problem, in order, each where it is; err the first. */
struct collected {
	char msgs[16][600];
	int n;
};

static void collect(void *ctx, const char *msg)
{
	struct collected *c = ctx;

	ck_assert_int_lt(c->n, 16);
	snprintf(c->msgs[c->n++], sizeof(c->msgs[0]), "%s", msg);
}

START_TEST(test_report_every_problem)
{
	static const char text[] = "# four problems and a good line\n"
				   "introspecton_url = " URL "\n"
				   "timeout_ms = soon\n"
				   "cache = yes\n"
				   "cache = no\n"
				   "tls_cert_file = /etc/ssl/c.pem\n";
	char path[PATH_MAX], err[512] = "", want[PATH_MAX + 200];
	struct collected c = {.n = 0};
	struct config_report rep = {.problem = collect, .ctx = &c};
	struct apt_config cfg;
	const char *argv[2], *wants[5];
	char cfgarg[PATH_MAX + 32];
	enum apt_rc rc;

	unit_write(path, "many.conf", text, sizeof(text) - 1, 0644);
	snprintf(cfgarg, sizeof(cfgarg), "config=%s", path);
	argv[0] = cfgarg;
	argv[1] = "proxi=http://127.0.0.1:3128";
	rc = config_load_report(&cfg, 2, argv, &rep, err, sizeof(err));
	ck_assert_int_eq(rc, APT_SERVICE);
	wants[0] = ":2: unknown option \"introspecton_url\"; did you mean \"introspection_url\"?";
	wants[1] = ":3: option timeout_ms: want a whole number from 1 to";
	wants[2] = ":5: cache given twice";
	wants[3] = NULL; /* the argument, below */
	wants[4] = ": introspection_url is required (add \"introspection_url = https://";
	ck_assert_int_eq(c.n, 6);
	ck_assert_int_eq((int)rep.problems, 6);
	for (int i = 0; i < 5; i++) {
		if (wants[i] == NULL)
			continue;
		snprintf(want, sizeof(want), "%s%s", path, wants[i]);
		ck_assert_msg(strncmp(c.msgs[i], want, strlen(want)) == 0,
			      "problem %d: \"%s\", want \"%s\"", i, c.msgs[i], want);
	}
	ck_assert_str_eq(c.msgs[3],
			 "argument 2: unknown option \"proxi\"; did you mean \"proxy\"?");
	snprintf(want, sizeof(want), "%s:6: tls_cert_file and tls_key_file go together", path);
	ck_assert_str_eq(c.msgs[5], want);
	/* err is the first, as the module would log it, and what config_load says. */
	ck_assert_str_eq(err, c.msgs[0]);
	config_free(&cfg);
	ck_assert_int_eq(config_load(&cfg, 2, argv, err, sizeof(err)), APT_SERVICE);
	ck_assert_str_eq(err, c.msgs[0]);
	config_free(&cfg);

	/* A file that cannot be read: that one problem, not the noise of an empty config. */
	c.n = 0;
	snprintf(cfgarg, sizeof(cfgarg), "config=%s.missing", path);
	rc = config_load_report(&cfg, 1, argv, &rep, err, sizeof(err));
	ck_assert_int_eq(rc, APT_SERVICE);
	ck_assert_int_eq(c.n, 1);
	ck_assert_msg(strstr(c.msgs[0], ".missing") != NULL, "%s", c.msgs[0]);
	config_free(&cfg);

	/* A good file: no problem, APT_OK, and where each key was set. */
	c.n = 0;
	unit_write(path, "good.conf", S("# ok\nintrospection_url = " URL "\n"), 0644);
	snprintf(cfgarg, sizeof(cfgarg), "config=%s", path);
	argv[1] = "cache=no";
	rc = config_load_report(&cfg, 2, argv, &rep, err, sizeof(err));
	ck_assert_msg(rc == APT_OK, "%s", err);
	ck_assert_int_eq(c.n, 0);
	config_report_problem(&rep, "introspection_url", "a check of %s", "mine");
	config_report_problem(&rep, "cache", "and %s", "this");
	config_report_problem(&rep, "helper", "default");
	snprintf(want, sizeof(want), "%s:2: a check of mine", path);
	ck_assert_str_eq(c.msgs[0], want);
	ck_assert_str_eq(c.msgs[1], "argument 2: and this");
	snprintf(want, sizeof(want), "%s: default", path);
	ck_assert_str_eq(c.msgs[2], want);
	ck_assert_int_eq((int)rep.problems, 3);
	config_free(&cfg);
}
END_TEST

/* client_auth: a word of a fixed set, and the credentials each word needs. */
static void client_auth_ok(const char *const *args, const char *want)
{
	struct apt_config cfg;
	char err[512] = "";
	enum apt_rc rc = load(&cfg, empty_conf, args, err, sizeof(err));

	ck_assert_msg(rc == APT_OK, "rc %d: %s", rc, err);
	ck_assert_str_eq(cfg.client_auth, want);
	config_free(&cfg);
}

START_TEST(test_client_auth)
{
#define ID     "client_id=pam-host"
#define SECRET "client_secret_file=/etc/security/apitoken.secret"
	static const char *const words[] = {"basic", "basic_raw", "post"};
	char arg[64], msg[128];

	/* Unset: basic with credentials (today's behaviour), none without. */
	client_auth_ok((const char *[]){"introspection_url=" URL, ID, SECRET, NULL}, "basic");
	client_auth_ok((const char *[]){"introspection_url=" URL, NULL}, "none");
	args_bad((const char *[]){"introspection_url=" URL, ID, NULL},
		 "client_id and client_secret_file go together");
	args_bad((const char *[]){"introspection_url=" URL, SECRET, NULL},
		 "client_id and client_secret_file go together");
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		snprintf(arg, sizeof(arg), "client_auth=%s", words[i]);
		snprintf(msg, sizeof(msg),
			 "client_auth = %s needs client_id and client_secret_file", words[i]);
		client_auth_ok((const char *[]){"introspection_url=" URL, ID, SECRET, arg, NULL},
			       words[i]);
		args_bad((const char *[]){"introspection_url=" URL, arg, NULL}, msg);
		args_bad((const char *[]){"introspection_url=" URL, ID, arg, NULL}, msg);
		args_bad((const char *[]){"introspection_url=" URL, SECRET, arg, NULL}, msg);
	}
	/* RFC 7617: the user-id ends at the first ':', so basic_raw cannot send one. */
	args_bad((const char *[]){"introspection_url=" URL, "client_id=a:b", SECRET,
				  "client_auth=basic_raw", NULL},
		 "client_id cannot hold ':'");
	client_auth_ok((const char *[]){"introspection_url=" URL, "client_id=a:b", SECRET,
					"client_auth=basic", NULL},
		       "basic");
	/* bearer: the secret file is the token; a client_id would not be sent. */
	client_auth_ok(
	    (const char *[]){"introspection_url=" URL, SECRET, "client_auth=bearer", NULL},
	    "bearer");
	args_bad(
	    (const char *[]){"introspection_url=" URL, ID, SECRET, "client_auth=bearer", NULL},
	    "client_auth = bearer needs client_secret_file (the bearer token) and no client_id");
	args_bad((const char *[]){"introspection_url=" URL, "client_auth=bearer", NULL},
		 "client_auth = bearer needs client_secret_file");
	/* none: neither. */
	client_auth_ok((const char *[]){"introspection_url=" URL, "client_auth=none", NULL},
		       "none");
	args_bad((const char *[]){"introspection_url=" URL, ID, SECRET, "client_auth=none", NULL},
		 "client_auth = none takes no client_id or client_secret_file");
	args_bad((const char *[]){"introspection_url=" URL, SECRET, "client_auth=none", NULL},
		 "client_auth = none takes no client_id or client_secret_file");
	/* Anything else names the words, and never the value (a secret on the wrong line?). */
	args_bad((const char *[]){"introspection_url=" URL, ID, SECRET, "client_auth=Basic", NULL},
		 "client_auth: want basic, basic_raw, post, bearer or none");
	args_bad((const char *[]){"introspection_url=" URL, ID, SECRET, "client_auth=basic ", NULL},
		 "client_auth: want basic, basic_raw, post, bearer or none");
	args_bad((const char *[]){"introspection_url=" URL, ID, SECRET,
				  "client_auth=client_secret_post", NULL},
		 "client_auth: want basic, basic_raw, post, bearer or none");
	{
		struct apt_config cfg;
		char err[512] = "";

		ck_assert_int_eq(load(&cfg, empty_conf,
				      (const char *[]){"introspection_url=" URL, ID, SECRET,
						       "client_auth=hunter2-secret", NULL},
				      err, sizeof(err)),
				 APT_SERVICE);
		ck_assert_ptr_null(strstr(err, "hunter2"));
		config_free(&cfg);
	}
	/* Set in the file, the same rules. */
	text_bad("client_auth.conf", "introspection_url = " URL "\nclient_auth = post\n", 0,
		 "client_auth = post needs client_id and client_secret_file");
#undef ID
#undef SECRET
}
END_TEST

START_TEST(test_url_required)
{
	args_bad((const char *[]){"timeout_ms=3000", NULL}, "introspection_url is required");
	args_bad((const char *[]){"introspection_url=", NULL}, "introspection_url is required");
	text_bad("nourl.conf", "# nothing\ncache = yes\n", 0, "introspection_url is required");
}
END_TEST

static void url_ok(const char *url)
{
	char arg[512], err[512] = "";
	struct apt_config cfg;
	enum apt_rc rc;

	snprintf(arg, sizeof(arg), "introspection_url=%s", url);
	rc = load(&cfg, empty_conf, (const char *[]){arg, NULL}, err, sizeof(err));
	ck_assert_msg(rc == APT_OK, "%s refused: %s", url, err);
	ck_assert_str_eq(cfg.introspection_url, url);
	config_free(&cfg);
}

static void url_bad(const char *url)
{
	char arg[512];

	snprintf(arg, sizeof(arg), "introspection_url=%s", url);
	args_bad((const char *[]){arg, NULL},
		 "introspection_url must be https://, or http:// to a loopback address");
}

START_TEST(test_url_rules)
{
	url_ok("http://127.0.0.1:8080/x");
	url_ok("http://127.0.0.1/x");
	url_ok("http://127.1.2.3/x");
	url_ok("http://[::1]/x");
	url_ok("http://[::1]:8443/x");
	url_ok("http://localhost/x");
	url_ok("http://localhost:3000/introspect");
	url_ok("https://idp.example/x");
	url_ok("https://10.0.0.1:8443/x");
	url_ok("https://any");

	url_bad("http://idp.example/x");
	url_bad("http://10.0.0.1/x");
	url_bad("http://128.0.0.1/x");
	url_bad("ftp://127.0.0.1/x");
	url_bad("idp.example/introspect");
	url_bad("https:/idp.example/x");
	/* Hosts that look like loopback and are not, or may not be. */
	url_bad("http://127.0.0.1.evil.com/");
	url_bad("http://user@127.0.0.1@evil/");
	url_bad("http://127.0.0.1@evil.com/");
	url_bad("http://127.0.0.1:80@evil.com/");
	url_bad("http://127.1/");
	url_bad("http://0x7f.0.0.1/");
	url_bad("http://0177.0.0.1/");
	url_bad("http://2130706433/");
	url_bad("http://127.0.0.08/");
	url_bad("http://localhost.evil.com/");
	url_bad("http://[::1].evil.com/");
	url_bad("http://[::ffff:127.0.0.1]/");
}
END_TEST

START_TEST(test_url_whitespace)
{
	args_bad((const char *[]){"introspection_url=https://idp.example/a b", NULL},
		 "introspection_url holds white space");
	text_bad("urlspace.conf", "introspection_url = https://idp.example/a b\n", 0,
		 "introspection_url holds white space");
	text_bad("urltab.conf", "introspection_url = https://idp.example/a\tb\n", 1,
		 "option introspection_url: control characters in value");
	args_bad((const char *[]){"introspection_url=https://idp.example/\x01", NULL},
		 "option introspection_url: control characters in value");
	args_bad((const char *[]){"introspection_url=" URL, "prompt=a\x7f", NULL},
		 "option prompt: control characters in value");
}
END_TEST

START_TEST(test_key_twice)
{
	text_bad("twice.conf",
		 "introspection_url = " URL "\ntimeout_ms = 3000\ntimeout_ms = 3000\n", 3,
		 "timeout_ms given twice");
	text_bad("twice2.conf", "debug\nintrospection_url = " URL "\ndebug = yes\n", 3,
		 "debug given twice");
	text_bad("twice3.conf", "introspection_url = " URL "\nintrospection_url=" URL "\n", 2,
		 "introspection_url given twice");
}
END_TEST

struct num_key {
	const char *name;
	long min, max;
};

static const struct num_key num_keys[] = {
    {"connect_timeout_ms", 1, 600000}, {"timeout_ms", 1, 600000},
    {"clock_skew", 0, 3600},	       {"cache_ttl", 0, 86400},
    {"negative_cache_ttl", 0, 86400},  {"cache_max_entries", 1, 10000000},
    {"offline_grace", 0, 604800},
};

static long num_field(const struct apt_config *cfg, const char *name)
{
	if (strcmp(name, "connect_timeout_ms") == 0)
		return cfg->connect_timeout_ms;
	if (strcmp(name, "timeout_ms") == 0)
		return cfg->timeout_ms;
	if (strcmp(name, "clock_skew") == 0)
		return cfg->clock_skew;
	if (strcmp(name, "cache_ttl") == 0)
		return cfg->cache_ttl;
	if (strcmp(name, "negative_cache_ttl") == 0)
		return cfg->negative_cache_ttl;
	if (strcmp(name, "cache_max_entries") == 0)
		return cfg->cache_max_entries;
	if (strcmp(name, "offline_grace") == 0)
		return cfg->offline_grace;
	ck_abort_msg("no key %s", name);
	return -1;
}

START_TEST(test_numbers)
{
	static const char *const junk[] = {
	    "-1",    "12abc", "", " 12", "+12", "0x10", "1e3", "1.5", "99999999999999999999",
	    "twelve"};

	for (size_t k = 0; k < sizeof(num_keys) / sizeof(num_keys[0]); k++) {
		const struct num_key *nk = &num_keys[k];
		char arg[96], want[160];
		/* Timeouts wide apart, so that only the key under test decides. */
		const char *args[] = {"introspection_url=" URL, "connect_timeout_ms=1",
				      "timeout_ms=600000", arg, NULL};

		snprintf(want, sizeof(want), "option %s: want a whole number from %ld to %ld",
			 nk->name, nk->min, nk->max);
		for (int edge = 0; edge < 2; edge++) {
			long v = edge ? nk->max : nk->min;
			struct apt_config cfg;
			char err[512] = "";

			snprintf(arg, sizeof(arg), "%s=%ld", nk->name, v);
			ck_assert_msg(load(&cfg, empty_conf, args, err, sizeof(err)) == APT_OK,
				      "%s: %s", arg, err);
			ck_assert_int_eq(num_field(&cfg, nk->name), v);
			config_free(&cfg);
		}
		snprintf(arg, sizeof(arg), "%s=%ld", nk->name, nk->min - 1);
		args_bad(args, want);
		snprintf(arg, sizeof(arg), "%s=%ld", nk->name, nk->max + 1);
		args_bad(args, want);
		for (size_t j = 0; j < sizeof(junk) / sizeof(junk[0]); j++) {
			snprintf(arg, sizeof(arg), "%s=%s", nk->name, junk[j]);
			args_bad(args, want);
		}
	}
	/* The same from the file, with its location. */
	text_bad("num1.conf", "introspection_url = " URL "\ntimeout_ms = 12abc\n", 2,
		 "option timeout_ms: want a whole number from 1 to 600000");
	text_bad("num2.conf", "introspection_url = " URL "\ncache_ttl = -5\n", 2,
		 "option cache_ttl: want a whole number from 0 to 86400");
	text_bad("num3.conf", "introspection_url = " URL "\nclock_skew =\n", 2,
		 "option clock_skew: want a whole number from 0 to 3600");
}
END_TEST

START_TEST(test_booleans)
{
	static const char *const keys[] = {"cache", "require_ip_ranges", "debug"};
	static const char *const bad[] = {"maybe", "", "2", "on", "y", "yes please"};

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		char arg[64], want[96];
		const char *args[] = {"introspection_url=" URL, arg, NULL};

		snprintf(want, sizeof(want), "option %s: want yes or no", keys[k]);
		for (size_t j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
			snprintf(arg, sizeof(arg), "%s=%s", keys[k], bad[j]);
			args_bad(args, want);
		}
	}
	{
		static const char *const yes[] = {"yes", "true", "1", "Yes", "TRUE"};
		static const char *const no[] = {"no", "false", "0", "No", "FALSE"};

		for (size_t j = 0; j < 5; j++) {
			struct apt_config cfg;
			char arg1[64], arg2[64], err[512] = "";

			snprintf(arg1, sizeof(arg1), "require_ip_ranges=%s", yes[j]);
			snprintf(arg2, sizeof(arg2), "cache=%s", no[j]);
			ck_assert_int_eq(
			    load(&cfg, empty_conf,
				 (const char *[]){"introspection_url=" URL, arg1, arg2, NULL}, err,
				 sizeof(err)),
			    APT_OK);
			ck_assert(cfg.require_ip_ranges);
			ck_assert(!cfg.cache);
			config_free(&cfg);
		}
	}
	text_bad("bool.conf", "introspection_url = " URL "\ncache = maybe\n", 2,
		 "option cache: want yes or no");
}
END_TEST

START_TEST(test_relative_paths)
{
	static const char *const keys[] = {"client_secret_file", "ca_file",   "tls_cert_file",
					   "tls_key_file",	 "cache_dir", "helper"};

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		char arg[96], want[96];
		const char *args[] = {"introspection_url=" URL, arg, NULL};

		snprintf(want, sizeof(want), "option %s: want an absolute path", keys[k]);
		snprintf(arg, sizeof(arg), "%s=etc/file", keys[k]);
		args_bad(args, want);
		snprintf(arg, sizeof(arg), "%s=./file", keys[k]);
		args_bad(args, want);
		snprintf(arg, sizeof(arg), "%s=~/file", keys[k]);
		args_bad(args, want);
	}
	text_bad("relpath.conf", "introspection_url = " URL "\nca_file = certs/ca.pem\n", 2,
		 "option ca_file: want an absolute path");
}
END_TEST

/* An empty value unsets, so an argument can take back a path the file set. */
START_TEST(test_empty_path_unsets)
{
	struct apt_config cfg;
	char err[512] = "";
	const char *args[] = {"ca_file=", "proxy=", NULL};

	load_text_ok(&cfg, "unset.conf",
		     "introspection_url = " URL
		     "\nca_file = /etc/ssl/ca.pem\nproxy = http://p:3128\n",
		     args);
	ck_assert_ptr_null(cfg.ca_file);
	ck_assert_ptr_null(cfg.proxy);
	config_free(&cfg);
	/* ...but what must have a value still must. */
	args_bad((const char *[]){"introspection_url=" URL, "helper=", NULL}, "cannot be empty");
	args_bad((const char *[]){"introspection_url=" URL, "cache_dir=", NULL}, "cannot be empty");
	(void)err;
}
END_TEST

/* Credentials in the URL would reach the debug line; long values the helper's limits. */
START_TEST(test_url_userinfo_and_lengths)
{
	char longurl[2100], arg[2200];

	args_bad((const char *[]){"introspection_url=https://u:p@idp.example/x", NULL},
		 "must not hold user:password@");
	args_bad((const char *[]){"introspection_url=https://u@idp.example/x", NULL},
		 "must not hold user:password@");
	memset(longurl, 'a', sizeof(longurl) - 1);
	longurl[sizeof(longurl) - 1] = '\0';
	snprintf(arg, sizeof(arg), "introspection_url=https://idp.example/%s", longurl);
	args_bad((const char *[]){arg, NULL}, "value too long");
	{
		struct apt_config cfg;
		char err[512] = "";
		/* An '@' after the authority is just part of the path. */
		ck_assert_int_eq(
		    load(&cfg, empty_conf,
			 (const char *[]){"introspection_url=https://idp.example/a@b", NULL}, err,
			 sizeof(err)),
		    APT_OK);
		config_free(&cfg);
	}
}
END_TEST

START_TEST(test_pairs)
{
	args_bad((const char *[]){"introspection_url=" URL, "client_id=pam", NULL},
		 "client_id and client_secret_file go together");
	args_bad((const char *[]){"introspection_url=" URL, "client_secret_file=/etc/s", NULL},
		 "client_id and client_secret_file go together");
	args_bad((const char *[]){"introspection_url=" URL, "tls_cert_file=/etc/c", NULL},
		 "tls_cert_file and tls_key_file go together");
	args_bad((const char *[]){"introspection_url=" URL, "tls_key_file=/etc/k", NULL},
		 "tls_cert_file and tls_key_file go together");
}
END_TEST

START_TEST(test_timeouts)
{
	struct apt_config cfg;
	char err[512] = "";

	args_bad((const char *[]){"introspection_url=" URL, "connect_timeout_ms=3000",
				  "timeout_ms=2999", NULL},
		 "connect_timeout_ms is longer than timeout_ms");
	/* Given explicitly, in the file, it is still checked against timeout_ms. */
	text_bad("timeouts.conf",
		 "introspection_url = " URL "\nconnect_timeout_ms = 1600\ntimeout_ms = 1500\n", 0,
		 "connect_timeout_ms is longer than timeout_ms");
	args_bad((const char *[]){"introspection_url=" URL, "connect_timeout_ms=2000",
				  "timeout_ms=1000", NULL},
		 "connect_timeout_ms is longer than timeout_ms");
	ck_assert_int_eq(load(&cfg, empty_conf,
			      (const char *[]){"introspection_url=" URL, "connect_timeout_ms=3000",
					       "timeout_ms=3000", NULL},
			      err, sizeof(err)),
			 APT_OK);
	config_free(&cfg);
}
END_TEST

/*
 * Unset, connect_timeout_ms is min(2000, timeout_ms) (DESIGN.md §4): a short
 * timeout_ms alone is a valid config, not a conflict with a default.
 */
START_TEST(test_connect_timeout_default_clamped)
{
	static const struct {
		const char *timeout, *connect;
		long want_timeout, want_connect;
	} cases[] = {
	    {"timeout_ms=1500", NULL, 1500, 1500},
	    {"timeout_ms=1", NULL, 1, 1},
	    {"timeout_ms=1999", NULL, 1999, 1999},
	    {"timeout_ms=2000", NULL, 2000, 2000},
	    {"timeout_ms=2001", NULL, 2001, 2000},
	    {"timeout_ms=600000", NULL, 600000, 2000},
	    {NULL, NULL, 5000, 2000},
	    {"timeout_ms=1500", "connect_timeout_ms=700", 1500, 700},
	    {NULL, "connect_timeout_ms=5000", 5000, 5000},
	};
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct apt_config cfg;
		char err[512] = "";
		const char *args[4] = {"introspection_url=" URL};
		int n = 1;

		if (cases[i].timeout != NULL)
			args[n++] = cases[i].timeout;
		if (cases[i].connect != NULL)
			args[n++] = cases[i].connect;
		ck_assert_msg(load(&cfg, empty_conf, args, err, sizeof(err)) == APT_OK,
			      "case %zu: %s", i, err);
		ck_assert_int_eq(cfg.timeout_ms, cases[i].want_timeout);
		ck_assert_int_eq(cfg.connect_timeout_ms, cases[i].want_connect);
		config_free(&cfg);
	}
	/* The same from the file. */
	{
		struct apt_config cfg;

		load_text_ok(&cfg, "short-timeout.conf",
			     "introspection_url = " URL "\ntimeout_ms = 1500\n", NULL);
		ck_assert_int_eq(cfg.timeout_ms, 1500);
		ck_assert_int_eq(cfg.connect_timeout_ms, 1500);
		config_free(&cfg);
	}
	/* An argument's timeout_ms over the file's: the clamp follows the value in force. */
	unit_write(path, "long-timeout.conf", S("introspection_url = " URL "\ntimeout_ms = 9000\n"),
		   0644);
	{
		struct apt_config cfg;
		char err[512] = "";

		ck_assert_msg(load(&cfg, path, (const char *[]){"timeout_ms=1200", NULL}, err,
				   sizeof(err)) == APT_OK,
			      "%s", err);
		ck_assert_int_eq(cfg.connect_timeout_ms, 1200);
		config_free(&cfg);
	}
}
END_TEST

START_TEST(test_empty_required)
{
	static const char *const keys[] = {"username_claim", "ip_ranges_claim", "scope_claim",
					   "helper_user"};

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		char arg[64];

		snprintf(arg, sizeof(arg), "%s=", keys[k]);
		args_bad((const char *[]){"introspection_url=" URL, arg, NULL}, "cannot be empty");
	}
	/* An empty prompt falls back to the default. */
	{
		struct apt_config cfg;
		char err[512] = "";

		ck_assert_int_eq(load(&cfg, empty_conf,
				      (const char *[]){"introspection_url=" URL, "prompt=", NULL},
				      err, sizeof(err)),
				 APT_OK);
		ck_assert_str_eq(cfg.prompt, "API token: ");
		config_free(&cfg);
	}
}
END_TEST

/*
 * ★2 the claim names are dot paths: "account.username" is accepted as it
 * is (the helper walks it); a path with an empty segment names no place and
 * is a config error that names the key, not the value.
 */
START_TEST(test_claim_paths)
{
	static const char *const keys[] = {"username_claim", "ip_ranges_claim", "scope_claim"};
	static const char *const good[] = {"account.username", "a.b.c", "x", "a-b.c_d",
					   "https://x/claims"};
	static const char *const bad[] = {"a..b", ".a", "a.", ".", "..", "a.b.", ".a.b", "a...b"};
	char arg[256], frag[128];

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
			struct apt_config cfg;
			char err[512] = "";

			snprintf(arg, sizeof(arg), "%s=%s", keys[k], good[i]);
			ck_assert_msg(load(&cfg, empty_conf,
					   (const char *[]){"introspection_url=" URL, arg, NULL},
					   err, sizeof(err)) == APT_OK,
				      "%s: %s", arg, err);
			ck_assert_str_eq(k == 0	  ? cfg.username_claim
					 : k == 1 ? cfg.ip_ranges_claim
						  : cfg.scope_claim,
					 good[i]);
			config_free(&cfg);
		}
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(arg, sizeof(arg), "%s=%s", keys[k], bad[i]);
			snprintf(frag, sizeof(frag), "%s: a claim path with an empty segment",
				 keys[k]);
			args_bad((const char *[]){"introspection_url=" URL, arg, NULL}, frag);
		}
		/* The helper's limit (proto.h) holds for every claim name. */
		{
			char longname[PROTO_CLAIM_NAME_MAX + 2];

			memset(longname, 'a', sizeof(longname) - 1);
			longname[sizeof(longname) - 1] = '\0';
			snprintf(arg, sizeof(arg), "%s=%s", keys[k], longname);
			args_bad((const char *[]){"introspection_url=" URL, arg, NULL},
				 "value too long");
			longname[sizeof(longname) - 2] = '\0';
			snprintf(arg, sizeof(arg), "%s=%s", keys[k], longname);
			{
				struct apt_config cfg;
				char err[512] = "";

				ck_assert_msg(
				    load(&cfg, empty_conf,
					 (const char *[]){"introspection_url=" URL, arg, NULL}, err,
					 sizeof(err)) == APT_OK,
				    "%s", err);
				config_free(&cfg);
			}
		}
	}
	text_bad("path.conf", "introspection_url = " URL "\nscope_claim = authz..scopes\n", 0,
		 "scope_claim: a claim path with an empty segment");
}
END_TEST

/* ---- the config file itself ------------------------------------------- */

START_TEST(test_file_symlink)
{
	char target[PATH_MAX], link[PATH_MAX];

	unit_write(target, "real.conf", S("introspection_url = " URL "\n"), 0644);
	unit_path(link, sizeof(link), "link.conf");
	unlink(link);
	ck_assert_int_eq(symlink(target, link), 0);
	expect_service_path(link, NULL, "symbolic link", link);
}
END_TEST

START_TEST(test_file_modes)
{
	char path[PATH_MAX];
	struct apt_config cfg;

	unit_write(path, "g-w.conf", S("introspection_url = " URL "\n"), 0664);
	expect_service_path(path, NULL, "writable by group or others", path);
	unit_write(path, "o-w.conf", S("introspection_url = " URL "\n"), 0646);
	expect_service_path(path, NULL, "writable by group or others", path);
	unit_write(path, "600.conf", S("introspection_url = " URL "\n"), 0600);
	{
		char err[512] = "";
		ck_assert_int_eq(load(&cfg, path, NULL, err, sizeof(err)), APT_OK);
		config_free(&cfg);
	}
}
END_TEST

START_TEST(test_file_owner)
{
	char path[PATH_MAX], frag[64];
	struct passwd *pw;

	if (geteuid() != 0)
		return; /* only root can give a file away */
	pw = getpwnam("nobody");
	ck_assert_ptr_nonnull(pw);
	unit_write(path, "nobody.conf", S("introspection_url = " URL "\n"), 0644);
	ck_assert_int_eq(chown(path, pw->pw_uid, (gid_t)-1), 0);
	snprintf(frag, sizeof(frag), "owned by uid %u", (unsigned)pw->pw_uid);
	expect_service_path(path, NULL, frag, path);
}
END_TEST

START_TEST(test_file_fifo)
{
	char path[PATH_MAX];

	unit_path(path, sizeof(path), "fifo.conf");
	unlink(path);
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	expect_service_path(path, NULL, "not a regular file", path);
	unit_path(path, sizeof(path), "dir.conf");
	ck_assert_int_eq(mkdir(path, 0755), 0);
	expect_service_path(path, NULL, "not a regular file", path);
}
END_TEST

START_TEST(test_file_size)
{
	static const char head[] = "introspection_url = " URL "\n";
	char path[PATH_MAX];
	char *text = malloc(CONFIG_MAX_SIZE + 1);
	struct apt_config cfg;
	char err[512] = "";

	ck_assert_int_eq(CONFIG_MAX_SIZE, 65536);
	ck_assert_ptr_nonnull(text);
	/* Exactly 64 KiB: the URL line, then a comment up to the limit. */
	memcpy(text, head, sizeof(head) - 1);
	text[sizeof(head) - 1] = '#';
	memset(text + sizeof(head), 'x', CONFIG_MAX_SIZE - sizeof(head));
	text[CONFIG_MAX_SIZE - 1] = '\n';
	unit_write(path, "64k.conf", text, CONFIG_MAX_SIZE, 0644);
	ck_assert_msg(load(&cfg, path, NULL, err, sizeof(err)) == APT_OK, "%s", err);
	ck_assert_str_eq(cfg.introspection_url, URL);
	config_free(&cfg);

	text[CONFIG_MAX_SIZE - 1] = 'x';
	text[CONFIG_MAX_SIZE] = '\n';
	unit_write(path, "64k1.conf", text, CONFIG_MAX_SIZE + 1, 0644);
	expect_service_path(path, NULL, "larger than 65536 bytes", path);
	free(text);
}
END_TEST

START_TEST(test_file_nul)
{
	char path[PATH_MAX];

	unit_write(path, "nul.conf", S("introspection_url = " URL "\n# \0\n"), 0644);
	expect_service_path(path, NULL, "holds a NUL byte", path);
}
END_TEST

/* ---- word_in_list and url_is_loopback_http ----------------------------- */

START_TEST(test_word_in_list)
{
	ck_assert(word_in_list("git rsync", S("git")));
	ck_assert(word_in_list("git rsync", S("rsync")));
	ck_assert(word_in_list("  git\t\trsync  ", S("rsync")));
	ck_assert(word_in_list("git", S("git")));
	ck_assert(!word_in_list("git rsync", S("gi")));
	ck_assert(!word_in_list("git rsync", S("gitx")));
	ck_assert(!word_in_list("gitx rsync", S("git")));
	ck_assert(!word_in_list("git rsync", S("git rsync")));
	ck_assert(!word_in_list("git rsync", S("sync")));
	ck_assert(!word_in_list("Git", S("git")));
	ck_assert(!word_in_list("git rsync", "", 0));
	ck_assert(!word_in_list("", S("git")));
	ck_assert(!word_in_list("   ", S("git")));
	ck_assert(!word_in_list(NULL, S("git")));
	/* Only len bytes of the word count. */
	ck_assert(word_in_list("git rsync", "gitlab", 3));
	ck_assert(!word_in_list("git rsync", "git\0x", 5));
}
END_TEST

START_TEST(test_url_is_loopback_http)
{
	static const char *const yes[] = {
	    "http://127.0.0.1:8080/x", "http://127.0.0.1/x", "http://127.0.0.1",
	    "http://127.0.0.1?q",      "http://127.0.0.1#f", "http://127.255.255.255/",
	    "http://127.10.0.1:1/",    "http://[::1]/x",     "http://[::1]",
	    "http://[::1]:8080/x",     "http://localhost/x", "http://localhost",
	    "http://LocalHost:80/",    "HTTP://127.0.0.1/",
	};
	static const char *const no[] = {
	    "https://127.0.0.1/",
	    "https://localhost/",
	    "http://127.0.0.1.evil.com/",
	    "http://127.0.0.1.evil/",
	    "http://user@127.0.0.1@evil/",
	    "http://user@127.0.0.1/",
	    "http://127.0.0.1@evil.com/",
	    "http://127.1/",
	    "http://127.0.1/",
	    "http://0x7f.0.0.1/",
	    "http://0177.0.0.1/",
	    "http://2130706433/",
	    "http://127.0.0.01/",
	    "http://127.0.0.08/",
	    "http://127.00.0.1/",
	    "http://127.+0.0.1/",
	    "http://127.-0.0.1/",
	    "http://127. 0.0.1/",
	    "http://127.0.0.1./",
	    "http://127.0.0./",
	    "http://127..0.1/",
	    "http://127.0.0.256/",
	    "http://127.0.0.1000/",
	    "http://127.0.0.1.1/",
	    "http://128.0.0.1/",
	    "http://12.0.0.1/",
	    "http://localhost.evil.com/",
	    "http://localhost./",
	    "http://localhostx/",
	    "http://xlocalhost/",
	    "http://[::1].evil.com/",
	    "http://[::1]evil/",
	    "http://[::2]/",
	    "http://[0::1]/",
	    "http://[::ffff:127.0.0.1]/",
	    "http://[::1/",
	    "http://",
	    "http:/127.0.0.1/",
	    "127.0.0.1",
	    "",
	};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		ck_assert_msg(url_is_loopback_http(yes[i]), "refused %s", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		ck_assert_msg(!url_is_loopback_http(no[i]), "accepted %s", no[i]);
}
END_TEST

/* verify (DESIGN.md §4 ★2): two words, each with its own URL, userinfo without credentials. */
START_TEST(test_verify)
{
	struct apt_config cfg;
	char err[512] = "";
	const char *ui = "userinfo_url=https://api.example/1.3/account";

	/* Default: introspection, at introspection_url. */
	ck_assert_int_eq(load(&cfg, empty_conf, (const char *[]){"introspection_url=" URL, NULL},
			      err, sizeof(err)),
			 APT_OK);
	ck_assert_str_eq(cfg.verify, "introspection");
	ck_assert_str_eq(config_endpoint(&cfg), URL);
	config_free(&cfg);
	/* userinfo: its URL only; introspection_url no longer required. */
	ck_assert_int_eq(
	    load(&cfg, empty_conf, (const char *[]){"verify=userinfo", ui, NULL}, err, sizeof(err)),
	    APT_OK);
	ck_assert_str_eq(cfg.verify, "userinfo");
	ck_assert_str_eq(config_endpoint(&cfg), "https://api.example/1.3/account");
	ck_assert_str_eq(cfg.client_auth, "none");
	config_free(&cfg);
	ck_assert_int_eq(load(&cfg, empty_conf,
			      (const char *[]){"verify=userinfo", ui, "client_auth=none", NULL},
			      err, sizeof(err)),
			 APT_OK);
	config_free(&cfg);

	args_bad((const char *[]){"verify=Userinfo", ui, NULL},
		 "verify: want introspection or userinfo");
	args_bad((const char *[]){"verify=jwt", "introspection_url=" URL, NULL},
		 "verify: want introspection or userinfo");
	args_bad((const char *[]){"verify=userinfo", NULL}, "userinfo_url is required");
	args_bad((const char *[]){"verify=userinfo", "introspection_url=" URL, NULL},
		 "userinfo_url is required");
	/* The other mode's URL says the admin meant the other mode. */
	args_bad((const char *[]){"verify=userinfo", ui, "introspection_url=" URL, NULL},
		 "introspection_url is for verify = introspection");
	args_bad((const char *[]){ui, "introspection_url=" URL, NULL},
		 "userinfo_url is for verify = userinfo");
	args_bad((const char *[]){ui, NULL}, "introspection_url is required");
	/* The https-or-loopback rule, white space, user:password@. */
	args_bad((const char *[]){"verify=userinfo", "userinfo_url=http://api.example/me", NULL},
		 "userinfo_url must be https://, or http:// to a loopback address");
	args_bad(
	    (const char *[]){"verify=userinfo", "userinfo_url=https://u:p@api.example/me", NULL},
	    "userinfo_url must not hold user:password@");
	args_bad((const char *[]){"verify=userinfo", "userinfo_url=https://api.example/a b", NULL},
		 "userinfo_url holds white space");
	/* The token is the bearer: client credentials could not be sent. */
	args_bad((const char *[]){"verify=userinfo", ui, "client_id=rs", NULL},
		 "verify = userinfo sends the token as the bearer");
	args_bad((const char *[]){"verify=userinfo", ui, "client_auth=bearer", NULL},
		 "verify = userinfo sends the token as the bearer");
	args_bad((const char *[]){"verify=userinfo", ui, "client_auth=basic", NULL},
		 "verify = userinfo sends the token as the bearer");
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("defaults");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_default_path_missing);
	tcase_add_test(tc, test_named_path_missing);
	suite_add_tcase(s, tc);

	tc = tcase_create("keys");
	tcase_add_test(tc, test_every_key_file);
	tcase_add_test(tc, test_every_key_args);
	tcase_add_test(tc, test_args_override_file);
	tcase_add_test(tc, test_args_empty_unsets);
	tcase_add_test(tc, test_args_twice_last_wins);
	tcase_add_test(tc, test_config_arg);
	suite_add_tcase(s, tc);

	tc = tcase_create("syntax");
	tcase_add_test(tc, test_flags);
	tcase_add_test(tc, test_syntax);
	tcase_add_test(tc, test_crlf);
	tcase_add_test(tc, test_quoted_values);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_unknown_key);
	tcase_add_test(tc, test_unknown_key_suggests_nearest);
	tcase_add_test(tc, test_unknown_key_hint_never_quotes_text);
	tcase_add_test(tc, test_report_every_problem);
	tcase_add_test(tc, test_errors_never_quote_text);
	tcase_add_test(tc, test_client_config_never_quotes_text);
	tcase_add_test(tc, test_client_auth);
	tcase_add_test(tc, test_url_required);
	tcase_add_test(tc, test_url_rules);
	tcase_add_test(tc, test_url_whitespace);
	tcase_add_test(tc, test_key_twice);
	tcase_add_test(tc, test_numbers);
	tcase_add_test(tc, test_booleans);
	tcase_add_test(tc, test_relative_paths);
	tcase_add_test(tc, test_empty_path_unsets);
	tcase_add_test(tc, test_url_userinfo_and_lengths);
	tcase_add_test(tc, test_pairs);
	tcase_add_test(tc, test_timeouts);
	tcase_add_test(tc, test_connect_timeout_default_clamped);
	tcase_add_test(tc, test_empty_required);
	tcase_add_test(tc, test_claim_paths);
	tcase_add_test(tc, test_verify);
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_test(tc, test_file_symlink);
	tcase_add_test(tc, test_file_modes);
	tcase_add_test(tc, test_file_owner);
	tcase_add_test(tc, test_file_fifo);
	tcase_add_test(tc, test_file_size);
	tcase_add_test(tc, test_file_nul);
	suite_add_tcase(s, tc);

	tc = tcase_create("helpers");
	tcase_add_test(tc, test_word_in_list);
	tcase_add_test(tc, test_url_is_loopback_http);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	unit_tmpdir("check_config");
	unit_empty_file(empty_conf, sizeof(empty_conf), "empty.conf", 0644);
	return unit_run(config_suite());
}
