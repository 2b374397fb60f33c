/*
 * The module through the real libpam (pam_start_confdir), the real helper
 * and the real test issuer (oidc-provider, tests/idp), plus the fault server
 * (tests/fault) for what no real issuer does. Every case asserts the PAM
 * code of DESIGN.md §5 and the reason in the audit line.
 */
#include <check.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "testenv.h"
#include "unit.h"

static struct server idp, fault;

/* A service against one fault-server path. */
static const char *fault_service(const char *url, const char *extra)
{
	char conf[70000];

	snprintf(conf, sizeof(conf), "introspection_url = %s\n%s", url, extra ? extra : "");
	return make_service(conf, NULL);
}

/* --- the real issuer ----------------------------------------------------- */

START_TEST(valid_token_logs_in)
{
	char *tok = idp_mint(&idp, "alice", "ssh git", 300, NULL);
	const char *dir = idp_service(&idp, "token_prefixes = huc_ ucat_\n", NULL);
	struct pam_result r;

	log_reset();
	r = pam_run(dir, "alice", "192.0.2.7", tok);
	ck_assert_int_eq(r.auth, PAM_SUCCESS);
	ck_assert_int_eq(r.acct, PAM_SUCCESS);
	ck_assert_int_eq(r.setcred, PAM_SUCCESS);
	ck_assert_int_eq(r.prompts, 1);
	ck_assert_str_eq(r.prompt, "API token: ");
	ck_audit("allow", "ok");
	ck_assert_int_eq(log_count("user=alice rhost=192.0.2.7 token=ucat_sha256:"), 1);
	ck_assert_int_eq(log_count("source=network"), 1);
	free(tok);
}
END_TEST

START_TEST(other_users_token_refused)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);
	struct pam_result r;

	log_reset();
	r = pam_run(idp_service(&idp, NULL, NULL), "bob", "192.0.2.7", tok);
	ck_assert_int_eq(r.auth, PAM_AUTH_ERR);
	ck_audit("deny", "user_mismatch");
	free(tok);
}
END_TEST

START_TEST(revoked_token_refused)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);
	const char *dir = idp_service(&idp, NULL, NULL);

	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_SUCCESS);
	idp_revoke(&idp, tok);
	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_AUTH_ERR);
	ck_audit("deny", "inactive");
	free(tok);
}
END_TEST

START_TEST(expired_token_refused)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 1, NULL);

	sleep(2);
	log_reset();
	ck_assert_int_eq(pam_run(idp_service(&idp, NULL, NULL), "alice", "192.0.2.7", tok).auth,
			 PAM_AUTH_ERR);
	ck_audit("deny", "inactive");
	free(tok);
}
END_TEST

START_TEST(unknown_token_refused)
{
	log_reset();
	ck_assert_int_eq(pam_run(idp_service(&idp, NULL, NULL), "alice", "192.0.2.7",
				 "ucat_thisTokenWasNeverIssuedByTheIssuer000000")
			     .auth,
			 PAM_AUTH_ERR);
	ck_audit("deny", "inactive");
}
END_TEST

START_TEST(scopes_required)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);

	log_reset();
	ck_assert_int_eq(pam_run(idp_service(&idp, "required_scopes = ssh git\n", NULL), "alice",
				 "192.0.2.7", tok)
			     .auth,
			 PAM_AUTH_ERR);
	ck_audit("deny", "scope_missing");
	log_reset();
	ck_assert_int_eq(
	    pam_run(idp_service(&idp, "required_scopes = ssh\n", NULL), "alice", "192.0.2.7", tok)
		.auth,
	    PAM_SUCCESS);
	free(tok);
}
END_TEST

START_TEST(client_and_issuer_checked)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);
	char extra[256];

	log_reset();
	ck_assert_int_eq(pam_run(idp_service(&idp, "allowed_client_ids = deploy-bot\n", NULL),
				 "alice", "192.0.2.7", tok)
			     .auth,
			 PAM_AUTH_ERR);
	ck_audit("deny", "client_not_allowed");
	ck_assert_int_eq(pam_run(idp_service(&idp, "allowed_client_ids = x ci-client\n", NULL),
				 "alice", "192.0.2.7", tok)
			     .auth,
			 PAM_SUCCESS);
	snprintf(extra, sizeof(extra), "issuer = http://127.0.0.1:%d\n", idp.port);
	ck_assert_int_eq(pam_run(idp_service(&idp, extra, NULL), "alice", "192.0.2.7", tok).auth,
			 PAM_SUCCESS);
	log_reset();
	ck_assert_int_eq(pam_run(idp_service(&idp, "issuer = https://elsewhere.example\n", NULL),
				 "alice", "192.0.2.7", tok)
			     .auth,
			 PAM_AUTH_ERR);
	ck_audit("deny", "issuer_mismatch");
	free(tok);
}
END_TEST

static const struct {
	const char *rhost;
	int want;
	const char *reason;
} ip_cases[] = {
    {"10.1.2.3", PAM_SUCCESS, "ok"},
    {"192.0.2.7", PAM_AUTH_ERR, "ip_not_allowed"},
    {"2001:db8::42", PAM_SUCCESS, "ok"},
    {"2001:db9::42", PAM_AUTH_ERR, "ip_not_allowed"},
    {"::ffff:10.9.8.7", PAM_SUCCESS, "ok"},
    {"::ffff:192.0.2.7", PAM_AUTH_ERR, "ip_not_allowed"},
    {"ci.example.com", PAM_AUTH_ERR, "rhost_not_numeric"},
    {NULL, PAM_AUTH_ERR, "rhost_not_numeric"},
};

START_TEST(ip_ranges)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, "[\"10.0.0.0/8\",\"2001:db8::/32\"]");
	char reason[64];
	struct pam_result r;

	log_reset();
	r = pam_run(idp_service(&idp, NULL, NULL), "alice", ip_cases[_i].rhost, tok);
	ck_assert_msg(r.auth == ip_cases[_i].want, "rhost %s: got %d", ip_cases[_i].rhost, r.auth);
	snprintf(reason, sizeof(reason), "reason=%s ", ip_cases[_i].reason);
	ck_assert_msg(log_count(reason) == 1, "%s", log_text());
	free(tok);
}
END_TEST

START_TEST(ip_ranges_as_string)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, "192.0.2.0/24, 10.0.0.0/8");

	ck_assert_int_eq(pam_run(idp_service(&idp, NULL, NULL), "alice", "192.0.2.7", tok).auth,
			 PAM_SUCCESS);
	ck_assert_int_eq(pam_run(idp_service(&idp, NULL, NULL), "alice", "198.51.100.1", tok).auth,
			 PAM_AUTH_ERR);
	free(tok);
}
END_TEST

START_TEST(ip_ranges_required)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);

	log_reset();
	ck_assert_int_eq(
	    pam_run(idp_service(&idp, "require_ip_ranges = yes\n", NULL), "alice", "10.1.2.3", tok)
		.auth,
	    PAM_AUTH_ERR);
	ck_audit("deny", "ip_ranges_missing");
	free(tok);
}
END_TEST

/* Rejected before anything is sent: the issuer's counter must not move. */
static const struct {
	const char *token;
	const char *reason;
} local_cases[] = {
    {"", "empty_token"},
    {"\b\n\r\177INCORRECT", "fake_password"},
    {"ucat_with space", "token_bad_bytes"},
    {"ucat_caf\xc3\xa9", "token_bad_bytes"},
    {"ucat_tab\there", "token_bad_bytes"},
    {"upk_wrongprefix", "token_prefix"},
    {NULL, "token_too_long"},
};

START_TEST(local_rejects_send_nothing)
{
	char *long_token = malloc(4098);
	const char *tok = local_cases[_i].token;
	long before = idp_introspections(&idp);

	memset(long_token, 'a', 4097);
	memcpy(long_token, "ucat_", 5);
	long_token[4097] = '\0';
	log_reset();
	ck_assert_int_eq(pam_run(idp_service(&idp, "token_prefixes = ucat_ huc_\n", NULL), "alice",
				 "192.0.2.7", tok ? tok : long_token)
			     .auth,
			 PAM_AUTH_ERR);
	ck_assert_int_eq(log_count("result="), 1);
	ck_assert_msg(log_count(local_cases[_i].reason) == 1, "%s", log_text());
	ck_assert_int_eq(log_count("source=local"), 1);
	ck_assert_int_eq(idp_introspections(&idp), before);
	free(long_token);
}
END_TEST

START_TEST(token_of_max_length_is_sent)
{
	char *tok = malloc(4097);
	long before = idp_introspections(&idp);

	memset(tok, 'a', 4096);
	tok[4096] = '\0';
	log_reset();
	ck_assert_int_eq(pam_run(idp_service(&idp, NULL, NULL), "alice", "192.0.2.7", tok).auth,
			 PAM_AUTH_ERR);
	ck_audit("deny", "inactive");
	ck_assert_int_eq(idp_introspections(&idp), before + 1);
	free(tok);
}
END_TEST

START_TEST(wrong_client_secret_is_unavailable)
{
	char conf[1024], *url = idp_url(&idp), *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);

	snprintf(conf, sizeof(conf),
		 "introspection_url = %s\nclient_id = rs\nclient_secret_file = %s\n", url,
		 write_file("secret", 0600, "not-the-secret"));
	log_reset();
	ck_assert_int_eq(pam_run(make_service(conf, NULL), "alice", "192.0.2.7", tok).auth,
			 PAM_AUTHINFO_UNAVAIL);
	ck_audit("unavailable", "client_auth");
	free(url);
	free(tok);
}
END_TEST

START_TEST(first_pass_flags)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);
	char svc[10000];
	struct pam_result r;
	const char *dir = idp_service(&idp, NULL, NULL);

	/*
	 * Two instances: the token the first asked for is not left in
	 * PAM_AUTHTOK, so the second, with use_first_pass, has none.
	 */
	snprintf(svc, sizeof(svc),
		 "auth required %s config=%s/apt.conf\n"
		 "auth required %s config=%s/apt.conf use_first_pass\n"
		 "account required pam_permit.so\n",
		 T.module, T.root, T.module, T.root);
	write_file("pam.d/svc", 0644, svc);
	log_reset();
	r = pam_run(dir, "alice", "192.0.2.7", tok);
	ck_assert_int_eq(r.auth, PAM_AUTH_ERR);
	ck_assert_int_eq(r.prompts, 1);
	ck_assert_int_eq(log_count("result=allow reason=ok "), 1);
	ck_assert_int_eq(log_count("result=deny reason=no_token "), 1);

	/* use_first_pass alone, with nothing on the stack: no prompt, refused. */
	snprintf(svc, sizeof(svc), "auth required %s config=%s/apt.conf use_first_pass\n", T.module,
		 T.root);
	write_file("pam.d/svc", 0644, svc);
	r = pam_run(dir, "alice", "192.0.2.7", tok);
	ck_assert_int_eq(r.auth, PAM_AUTH_ERR);
	ck_assert_int_eq(r.prompts, 0);

	/* try_first_pass alone: falls back to asking. */
	snprintf(svc, sizeof(svc), "auth required %s config=%s/apt.conf try_first_pass\n", T.module,
		 T.root);
	write_file("pam.d/svc", 0644, svc);
	r = pam_run(dir, "alice", "192.0.2.7", tok);
	ck_assert_int_eq(r.auth, PAM_SUCCESS);
	ck_assert_int_eq(r.prompts, 1);
	free(tok);
}
END_TEST

/* --- PAM_AUTHTOK: other modules' passwords, our token ------------------- */

/* pam_unix asks for the user's password ("Password: ") and leaves it in PAM_AUTHTOK. */
#define UNIX_FIRST    "auth optional pam_unix.so nodelay\n"
#define UNIX_PASSWORD "ucat_ThisIsTheUnixPassword0000"

/*
 * A later module that reads PAM_AUTHTOK: pam_exec expose_authtok writes it
 * to the script's stdin, and asks "Password: " itself when it is empty.
 * Returns the line for the service; the script leaves what it got in
 * T.root/seen.
 */
static const char *authtok_reader(void)
{
	static char line[1400];
	char script[1200];

	snprintf(script, sizeof(script), "#!/bin/sh\ncat >'%s/seen'\n", T.root);
	snprintf(line, sizeof(line), "auth optional pam_exec.so expose_authtok quiet %s\n",
		 write_file("seen.sh", 0755, script));
	write_file("seen", 0600, NULL);
	return line;
}

/* What the later module read from PAM_AUTHTOK (pam_exec sends it with its NUL). */
static const char *authtok_seen(void)
{
	static char buf[8192];
	char path[600];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/seen", T.root);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* Writes the service svc: before, the module with args, after, account pam_permit. */
static void authtok_service(const char *before, const char *args, const char *after)
{
	char svc[10000];

	snprintf(svc, sizeof(svc),
		 "%sauth required %s config=%s/apt.conf %s\n%saccount required pam_permit.so\n",
		 before, T.module, T.root, args, after);
	write_file("pam.d/svc", 0644, svc);
}

/*
 * DESIGN.md §5 (★2): without use_first_pass/try_first_pass a PAM_AUTHTOK set
 * by an earlier module (here pam_unix's password) is ignored: the module asks
 * for the token itself, and the issuer gets the token, not the password.
 */
START_TEST(earlier_modules_password_not_taken)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);
	const char *json = "{\"active\":true,\"username\":\"alice\"}";
	char *url = fault_json_url(&fault, json, strlen(json)), *last, transcript[1024];
	const struct pam_answer answers[] = {
	    {"Password: ", UNIX_PASSWORD}, {"API token: ", NULL}, {NULL, NULL}};
	struct pam_answer a[3];
	struct pam_result r;
	const char *dir;

	/* The real issuer: the decision is on the token. */
	memcpy(a, answers, sizeof(a));
	a[1].answer = tok;
	dir = idp_service(&idp, NULL, NULL);
	authtok_service(UNIX_FIRST, "", "");
	log_reset();
	r = pam_run_answers(dir, "alice", "192.0.2.7", a, transcript, sizeof(transcript));
	ck_assert_msg(r.auth == PAM_SUCCESS, "got %d\n%s\n%s", r.auth, transcript, log_text());
	ck_assert_str_eq(transcript, "off:Password: \noff:API token: \n");
	ck_audit("allow", "ok");

	/* On the wire: the token went to the issuer, the password did not. */
	a[1].answer = "ucat_TheTokenTypedAtTheTokenPrompt";
	dir = fault_service(url, NULL);
	authtok_service(UNIX_FIRST, "", "");
	log_reset();
	r = pam_run_answers(dir, "alice", "192.0.2.7", a, transcript, sizeof(transcript));
	ck_assert_int_eq(r.auth, PAM_SUCCESS);
	ck_assert_str_eq(transcript, "off:Password: \noff:API token: \n");
	last = fault_last(&fault);
	ck_assert_msg(strstr(last, "token=ucat_TheTokenTypedAtTheTokenPrompt&") != NULL, "%s",
		      last);
	ck_assert_msg(strstr(last, UNIX_PASSWORD) == NULL, "%s", last);
	free(last);
	free(url);
	free(tok);
}
END_TEST

/*
 * The token never stays in PAM_AUTHTOK for a later module: asked for by the
 * module, it is never stored there; taken from there (use_first_pass,
 * try_first_pass) and accepted, it is removed. Refused, an earlier module's
 * PAM_AUTHTOK stays for the later ones (it may be that module's password).
 */
START_TEST(token_not_left_in_authtok)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);
	char transcript[1024];
	const char *reader, *dir = idp_service(&idp, NULL, NULL);
	struct pam_result r;
	static const char *const flags[] = {"use_first_pass", "try_first_pass"};

	/* The module asks: the later module finds PAM_AUTHTOK empty and asks too. */
	reader = authtok_reader();
	authtok_service("", "", reader);
	log_reset();
	r = pam_run_answers(dir, "alice", "192.0.2.7",
			    (const struct pam_answer[]){{"API token: ", tok},
							{"Password: ", "authtok-was-empty"},
							{NULL, NULL}},
			    transcript, sizeof(transcript));
	ck_assert_msg(r.auth == PAM_SUCCESS, "got %d\n%s\n%s", r.auth, transcript, log_text());
	ck_audit("allow", "ok");
	ck_assert_ptr_null(strstr(authtok_seen(), tok));
	ck_assert_str_eq(authtok_seen(), "authtok-was-empty");
	ck_assert_str_eq(transcript, "off:API token: \noff:Password: \n");

	/* The token typed at pam_unix's prompt, taken with a flag: removed once accepted. */
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		reader = authtok_reader();
		authtok_service(UNIX_FIRST, flags[i], reader);
		log_reset();
		r = pam_run_answers(dir, "alice", "192.0.2.7",
				    (const struct pam_answer[]){{"Password: ", tok},
								{"Password: ", "authtok-was-empty"},
								{NULL, NULL}},
				    transcript, sizeof(transcript));
		ck_assert_msg(r.auth == PAM_SUCCESS, "%s: got %d\n%s\n%s", flags[i], r.auth,
			      transcript, log_text());
		ck_audit("allow", "ok");
		ck_assert_msg(strstr(authtok_seen(), tok) == NULL,
			      "%s: the later module read the token", flags[i]);
		ck_assert_str_eq(authtok_seen(), "authtok-was-empty");
		ck_assert_str_eq(transcript, "off:Password: \noff:Password: \n");
	}

	/*
	 * Refused (here: the Unix password is no token), the earlier module's
	 * PAM_AUTHTOK is left as it was, for a later try_first_pass module.
	 */
	reader = authtok_reader();
	{
		char svc[10000];

		snprintf(svc, sizeof(svc),
			 UNIX_FIRST "auth sufficient %s config=%s/apt.conf try_first_pass\n%s"
				    "account required pam_permit.so\n",
			 T.module, T.root, reader);
		write_file("pam.d/svc", 0644, svc);
	}
	log_reset();
	r = pam_run_answers(
	    dir, "alice", "192.0.2.7",
	    (const struct pam_answer[]){{"Password: ", UNIX_PASSWORD}, {NULL, NULL}}, transcript,
	    sizeof(transcript));
	ck_audit("deny", "inactive");
	ck_assert_str_eq(authtok_seen(), UNIX_PASSWORD);
	ck_assert_str_eq(transcript, "off:Password: \n");
	free(tok);
}
END_TEST

START_TEST(prompt_is_configurable)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);
	struct pam_result r = pam_run(idp_service(&idp, "prompt = \"Deploy token: \"\n", NULL),
				      "alice", "192.0.2.7", tok);

	ck_assert_int_eq(r.auth, PAM_SUCCESS);
	ck_assert_str_eq(r.prompt, "Deploy token: ");
	free(tok);
}
END_TEST

START_TEST(acct_mgmt_only_for_our_user)
{
	/* No authentication by this module: acct_mgmt ignores, pam_deny decides. */
	char svc[5000];
	const char *dir = idp_service(&idp, NULL, NULL);
	struct pam_result r;

	snprintf(svc, sizeof(svc),
		 "auth required pam_permit.so\n"
		 "account sufficient %s config=%s/apt.conf\n"
		 "account required pam_deny.so\n",
		 T.module, T.root);
	write_file("pam.d/svc", 0644, svc);
	r = pam_run(dir, "alice", "192.0.2.7", "unused");
	ck_assert_int_eq(r.auth, PAM_SUCCESS);
	ck_assert_int_ne(r.acct, PAM_SUCCESS);
}
END_TEST

/* No token, secret or part of one reaches a log line; one decision line per login. */
START_TEST(logs_hold_no_secret)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);
	const char *dir = idp_service(&idp, NULL, "debug");
	char secret_part[16];

	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", tok).auth, PAM_SUCCESS);
	ck_assert_int_eq(pam_run(dir, "bob", "192.0.2.7", tok).auth, PAM_AUTH_ERR);
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_nope").auth, PAM_AUTH_ERR);
	ck_assert_int_eq(log_count("result="), 3);
	ck_assert_ptr_null(strstr(log_text(), tok));
	ck_assert_ptr_null(strstr(log_text(), tok + 5)); /* the part after the prefix */
	memcpy(secret_part, tok + 10, 8);
	secret_part[8] = '\0';
	ck_assert_ptr_null(strstr(log_text(), secret_part));
	ck_assert_ptr_null(strstr(log_text(), "rs-secret"));
	ck_assert_ptr_null(strstr(log_text(), "ucat_nope"));
	ck_assert_int_gt(log_count("url="), 0); /* debug did log */
	free(tok);
}
END_TEST

START_TEST(user_name_cannot_forge_fields)
{
	char *tok = idp_mint(&idp, "alice", "ssh", 300, NULL);

	log_reset();
	ck_assert_int_eq(
	    pam_run(idp_service(&idp, NULL, NULL), "x result=allow\nreason=ok", "192.0.2.7", tok)
		.auth,
	    PAM_AUTH_ERR);
	ck_assert_int_eq(log_count("result="), 1);
	ck_assert_int_eq(log_count("user=x%20result%3Dallow%0Areason%3Dok "), 1);
	free(tok);
}
END_TEST

/* --- the fault server ---------------------------------------------------- */

static struct pam_result fault_run(const char *path, const char *extra)
{
	char *url = fault_url(&fault, path);
	struct pam_result r;

	log_reset();
	r = pam_run(fault_service(url, extra), "alice", "192.0.2.7", "ucat_faulttoken");
	free(url);
	return r;
}

static const struct {
	const char *path;
	const char *reason;
} unavailable_cases[] = {
    {"/status/500", "http_status"},
    {"/status/503", "http_status"},
    {"/status/404", "http_status"},
    {"/status/401", "client_auth"},
    {"/ratelimit", "rate_limited"},
    {"/ratelimit-date", "rate_limited"},
    {"/ratelimit-far", "rate_limited"},
    {"/ratelimit-date-far", "rate_limited"},
    {"/truncated", "bad_json"},
    {"/truncated-conn", "connect_failed"},
    {"/empty", "bad_json"},
    {"/html", "bad_json"},
    {"/dupkeys", "bad_json"},
    {"/redirect", "redirect"},
    {"/huge", "body_too_large"},
};

START_TEST(fault_unavailable)
{
	struct pam_result r = fault_run(unavailable_cases[_i].path, NULL);
	char want[64];

	ck_assert_msg(r.auth == PAM_AUTHINFO_UNAVAIL, "%s: got %d\n%s", unavailable_cases[_i].path,
		      r.auth, log_text());
	snprintf(want, sizeof(want), "result=unavailable reason=%s ", unavailable_cases[_i].reason);
	ck_assert_msg(log_count(want) == 1, "%s: want %s in\n%s", unavailable_cases[_i].path, want,
		      log_text());
	/* The admin sees the status the issuer gave, in a line of its own. */
	if (strncmp(unavailable_cases[_i].path, "/status/", 8) == 0) {
		snprintf(want, sizeof(want), "answered HTTP %s", unavailable_cases[_i].path + 8);
		ck_assert_msg(log_count(want) == 1, "%s", log_text());
	}
}
END_TEST

START_TEST(fault_hang_ends_at_timeout)
{
	struct timespec t0, t1;
	struct pam_result r;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = fault_run("/hang", "timeout_ms = 1000\nconnect_timeout_ms = 500\n");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ck_assert_int_eq(r.auth, PAM_AUTHINFO_UNAVAIL);
	ck_assert_int_eq(log_count("reason=timeout "), 1);
	/* The deadline is hard; the upper bound is loose because machines are shared. */
	ck_assert_int_ge(ms, 900);
	ck_assert_int_lt(ms, 4000);
}
END_TEST

START_TEST(fault_slow_body_ends_at_timeout)
{
	struct pam_result r = fault_run("/slow", "timeout_ms = 1500\nconnect_timeout_ms = 500\n");

	ck_assert_int_eq(r.auth, PAM_AUTHINFO_UNAVAIL);
	ck_assert_int_eq(log_count("reason=timeout "), 1);
}
END_TEST

START_TEST(refused_connection)
{
	char url[64];
	struct pam_result r;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/introspect", closed_port());
	log_reset();
	r = pam_run(fault_service(url, NULL), "alice", "192.0.2.7", "ucat_x");
	ck_assert_int_eq(r.auth, PAM_AUTHINFO_UNAVAIL);
	ck_audit("unavailable", "connect_failed");
}
END_TEST

/* Claims sent by the fault server's /json/ path; %ld is replaced by now. */
static const struct {
	const char *json;
	int want;
	const char *reason;
} claim_cases[] = {
    {"{\"active\":true,\"username\":\"alice\"}", PAM_SUCCESS, "ok"},
    {"{\"active\":\"true\",\"username\":\"alice\"}", PAM_AUTH_ERR, "inactive"},
    {"{\"active\":1,\"username\":\"alice\"}", PAM_AUTH_ERR, "inactive"},
    {"{\"active\":false}", PAM_AUTH_ERR, "inactive"},
    {"{\"username\":\"alice\"}", PAM_AUTH_ERR, "inactive"},
    {"{\"active\":true,\"username\":\"alice\",\"exp\":%ld}", PAM_AUTH_ERR, "expired"},
    {"{\"active\":true,\"username\":\"alice\",\"nbf\":%ld}", PAM_AUTH_ERR, "not_yet_valid"},
    {"{\"active\":true,\"username\":\"alice\",\"exp\":\"soon\"}", PAM_AUTH_ERR, "bad_exp"},
    {"{\"active\":true}", PAM_AUTH_ERR, "username_missing"},
    {"{\"active\":true,\"username\":42}", PAM_AUTH_ERR, "user_mismatch"},
    {"{\"active\":true,\"username\":\"alic\"}", PAM_AUTH_ERR, "user_mismatch"},
    {"{\"active\":true,\"username\":\"alice2\"}", PAM_AUTH_ERR, "user_mismatch"},
    {"{\"active\":true,\"username\":\"alice\\u0000x\"}", PAM_AUTH_ERR, "user_mismatch"},
    {"{\"active\":true,\"username\":null}", PAM_AUTH_ERR, "user_mismatch"},
    {"{\"active\":true,\"username\":\"alice\",\"allowed_ip_ranges\":[\"192.0.2.0/33\"]}",
     PAM_AUTH_ERR, "bad_ip_ranges"},
    {"{\"active\":true,\"username\":\"alice\",\"allowed_ip_ranges\":[\"not-a-cidr\"]}",
     PAM_AUTH_ERR, "bad_ip_ranges"},
    {"{\"active\":true,\"username\":\"alice\",\"allowed_ip_ranges\":[]}", PAM_AUTH_ERR,
     "bad_ip_ranges"},
    {"{\"active\":true,\"username\":\"alice\",\"allowed_ip_ranges\":[1,2]}", PAM_AUTH_ERR,
     "bad_ip_ranges"},
    {"{\"active\":true,\"username\":\"alice\",\"allowed_ip_ranges\":[\"192.0.2.0/24\"]}",
     PAM_SUCCESS, "ok"},
    {"{\"active\":true,\"username\":\"alice\",\"allowed_ip_ranges\":\"10.0.0.0/8\"}", PAM_AUTH_ERR,
     "ip_not_allowed"},
    {"[{\"active\":true,\"username\":\"alice\"}]", PAM_AUTHINFO_UNAVAIL, "bad_json"},
    {"{\"active\":true,\"username\":\"alice\"} trailing", PAM_AUTHINFO_UNAVAIL, "bad_json"},
    {"{\"active\":true,\"username\":\"alice\",\"x\":{\"a\":1,\"a\":2}}", PAM_AUTHINFO_UNAVAIL,
     "bad_json"},
};

START_TEST(fault_claims)
{
	char json[512], want[64];
	long t = (long)time(NULL);
	char *url;
	struct pam_result r;

	/* An exp two minutes ago, an nbf two minutes ahead: beyond the 30 s skew. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(json, sizeof(json), claim_cases[_i].json,
		 strstr(claim_cases[_i].json, "nbf") ? t + 120 : t - 120);
#pragma GCC diagnostic pop
	url = fault_json_url(&fault, json, strlen(json));
	log_reset();
	r = pam_run(fault_service(url, NULL), "alice", "192.0.2.7", "ucat_x");
	ck_assert_msg(r.auth == claim_cases[_i].want, "%s: got %d\n%s", json, r.auth, log_text());
	snprintf(want, sizeof(want), "reason=%s ", claim_cases[_i].reason);
	ck_assert_msg(log_count(want) == 1, "%s: want %s in\n%s", json, want, log_text());
	free(url);
}
END_TEST

START_TEST(scope_claim_checked)
{
	static const char *bad[] = {
	    "{\"active\":true,\"username\":\"alice\"}",
	    "{\"active\":true,\"username\":\"alice\",\"scope\":[\"sshd\",\"git\"]}",
	    "{\"active\":true,\"username\":\"alice\",\"scope\":\"sshd\"}",
	};
	/* ★2 a JSON array of strings is scopes too (DESIGN.md §4 scope_claim). */
	static const char *good[] = {
	    "{\"active\":true,\"username\":\"alice\",\"scope\":\"git ssh\"}",
	    "{\"active\":true,\"username\":\"alice\",\"scope\":[\"ssh\"]}",
	};
	char *url;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		url = fault_json_url(&fault, bad[i], strlen(bad[i]));
		log_reset();
		ck_assert_int_eq(pam_run(fault_service(url, "required_scopes = ssh\n"), "alice",
					 "192.0.2.7", "ucat_x")
				     .auth,
				 PAM_AUTH_ERR);
		ck_audit("deny", "scope_missing");
		free(url);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		url = fault_json_url(&fault, good[i], strlen(good[i]));
		ck_assert_int_eq(pam_run(fault_service(url, "required_scopes = ssh\n"), "alice",
					 "192.0.2.7", "ucat_x")
				     .auth,
				 PAM_SUCCESS);
		free(url);
	}
}
END_TEST

/*
 * RFC 6749 §3.3: scope tokens are separated by spaces only. An issuer's
 * "a<TAB>ssh" is one scope, which is not "ssh".
 */
START_TEST(scope_split_on_spaces_only)
{
	static const char *bad[] = {
	    "{\"active\":true,\"username\":\"alice\",\"scope\":\"a\\tssh\"}",
	    "{\"active\":true,\"username\":\"alice\",\"scope\":\"ssh\\tgit\"}",
	    "{\"active\":true,\"username\":\"alice\",\"scope\":\"git\\nssh\"}",
	};
	const char *good = "{\"active\":true,\"username\":\"alice\",\"scope\":\"a\\tb ssh\"}";
	char *url;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		url = fault_json_url(&fault, bad[i], strlen(bad[i]));
		log_reset();
		ck_assert_msg(pam_run(fault_service(url, "required_scopes = ssh\n"), "alice",
				      "192.0.2.7", "ucat_x")
				      .auth == PAM_AUTH_ERR,
			      "%s: not refused", bad[i]);
		ck_audit("deny", "scope_missing");
		free(url);
	}
	url = fault_json_url(&fault, good, strlen(good));
	log_reset();
	ck_assert_int_eq(
	    pam_run(fault_service(url, "required_scopes = ssh\n"), "alice", "192.0.2.7", "ucat_x")
		.auth,
	    PAM_SUCCESS);
	ck_audit("allow", "ok");
	free(url);
}
END_TEST

START_TEST(audience_claim_checked)
{
	const char *list = "{\"active\":true,\"username\":\"alice\",\"aud\":[\"a\",\"hosts\"]}";
	const char *str = "{\"active\":true,\"username\":\"alice\",\"aud\":\"hosts\"}";
	const char *other = "{\"active\":true,\"username\":\"alice\",\"aud\":\"web\"}";
	char *u1 = fault_json_url(&fault, list, strlen(list)),
	     *u2 = fault_json_url(&fault, str, strlen(str)),
	     *u3 = fault_json_url(&fault, other, strlen(other));

	ck_assert_int_eq(
	    pam_run(fault_service(u1, "audience = hosts\n"), "alice", "192.0.2.7", "ucat_x").auth,
	    PAM_SUCCESS);
	ck_assert_int_eq(
	    pam_run(fault_service(u2, "audience = hosts\n"), "alice", "192.0.2.7", "ucat_x").auth,
	    PAM_SUCCESS);
	log_reset();
	ck_assert_int_eq(
	    pam_run(fault_service(u3, "audience = hosts\n"), "alice", "192.0.2.7", "ucat_x").auth,
	    PAM_AUTH_ERR);
	ck_audit("deny", "audience_mismatch");
	free(u1);
	free(u2);
	free(u3);
}
END_TEST

/* What goes over the wire: RFC 7662 form body, client_secret_basic, no proxy. */
START_TEST(request_on_the_wire)
{
	const char *json = "{\"active\":true,\"username\":\"alice\"}";
	char conf[1024], *url = fault_json_url(&fault, json, strlen(json)), *last;

	snprintf(conf, sizeof(conf),
		 "introspection_url = %s\nclient_id = my client\nclient_secret_file = %s\n", url,
		 write_file("secret", 0600, "s3cr:t/+\n"));
	setenv("http_proxy", "http://127.0.0.1:1", 1);
	setenv("HTTP_PROXY", "http://127.0.0.1:1", 1);
	ck_assert_int_eq(
	    pam_run(make_service(conf, NULL), "alice", "192.0.2.7", "ucat_a+b/c=").auth,
	    PAM_SUCCESS);
	last = fault_last(&fault);
	ck_assert_msg(
	    strstr(last, "\"body\":\"token=ucat_a%2Bb%2Fc%3D&token_type_hint=access_token\"") !=
		NULL,
	    "%s", last);
	/* base64("my+client:s3cr%3At%2F%2B") */
	ck_assert_msg(strstr(last, "Basic bXkrY2xpZW50OnMzY3IlM0F0JTJGJTJC") != NULL, "%s", last);
	ck_assert_msg(strstr(last, "application/x-www-form-urlencoded") != NULL, "%s", last);
	free(last);
	free(url);
}
END_TEST

/* --- configuration errors ----------------------------------------------- */

START_TEST(config_errors)
{
	char url[128], conf[1024], link[700];
	const char *dir;
	struct passwd *nobody = getpwnam("nobody");

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/json/e30", fault.port);
	struct {
		const char *conf, *args, *what;
	} cases[] = {
	    {"bogus_key = 1\n", NULL, "unknown option"},
	    {"", "bogus_arg=1", "unknown option"},
	    {NULL, NULL, "introspection_url is required"},
	    {"introspection_url = http://issuer.example/x\n", NULL, "must be https"},
	    {"cache_ttl = -5\n", NULL, "cache_ttl"},
	    {"require_ip_ranges = maybe\n", NULL, "yes or no"},
	    {"client_id = rs\n", NULL, "go together"},
	    {"helper = relative/apitoken\n", NULL, "absolute path"},
	    {"helper = /nonexistent/apitoken\n", NULL, "No such file"},
	    {"helper_user = no-such-user-here\n", NULL, "no such user"},
	    {"client_secret_file = /nonexistent/secret\nclient_id = rs\n", NULL, "No such file"},
	    {"ca_file = /nonexistent/ca.pem\n", NULL, "No such file"},
	    {"introspection_url = https://ci:pw@issuer.example/x\n", NULL, "user:password@"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].conf == NULL)
			snprintf(conf, sizeof(conf), "# nothing\n");
		else
			snprintf(conf, sizeof(conf), "introspection_url = %s\n%s", url,
				 cases[i].conf);
		if (cases[i].conf != NULL && strncmp(cases[i].conf, "introspection_url", 17) == 0)
			snprintf(conf, sizeof(conf), "%s", cases[i].conf);
		log_reset();
		ck_assert_msg(
		    pam_run(make_service(conf, cases[i].args), "alice", "192.0.2.7", "ucat_x")
			    .auth == PAM_SERVICE_ERR,
		    "case %zu (%s)", i, cases[i].what);
		ck_assert_msg(strstr(log_text(), cases[i].what) != NULL, "want \"%s\" in\n%s",
			      cases[i].what, log_text());
		ck_assert_int_eq(log_count("result=error reason="), 1);
	}

	/* Unsafe files: secret readable by others, secret or config a symlink, config writable. */
	snprintf(conf, sizeof(conf),
		 "introspection_url = %s\nclient_id = rs\nclient_secret_file = %s\n", url,
		 write_file("secret", 0644, "rs-secret"));
	dir = make_service(conf, NULL);
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_x").auth, PAM_SERVICE_ERR);

	snprintf(link, sizeof(link), "%s/secret-link", T.root);
	write_file("secret", 0600, "rs-secret");
	unlink(link);
	ck_assert_int_eq(symlink("secret", link), 0);
	snprintf(conf, sizeof(conf),
		 "introspection_url = %s\nclient_id = rs\nclient_secret_file = %s\n", url, link);
	log_reset();
	ck_assert_int_eq(pam_run(make_service(conf, NULL), "alice", "192.0.2.7", "ucat_x").auth,
			 PAM_SERVICE_ERR);
	ck_assert_ptr_nonnull(strstr(log_text(), "symbolic link"));

	snprintf(conf, sizeof(conf), "introspection_url = %s\n", url);
	dir = make_service(conf, NULL);
	chmod(write_file("apt.conf", 0666, conf), 0666);
	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_x").auth, PAM_SERVICE_ERR);
	ck_assert_ptr_nonnull(strstr(log_text(), "writable by group or others"));

	snprintf(link, sizeof(link), "%s/apt-real.conf", T.root);
	write_file("apt-real.conf", 0644, conf);
	{
		char cpath[700];
		snprintf(cpath, sizeof(cpath), "%s/apt.conf", T.root);
		unlink(cpath);
		ck_assert_int_eq(symlink(link, cpath), 0);
		log_reset();
		ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_x").auth,
				 PAM_SERVICE_ERR);
		ck_assert_ptr_nonnull(strstr(log_text(), "symbolic link"));
		unlink(cpath);
	}

	if (geteuid() == 0 && nobody != NULL) {
		const char *p = write_file("apt.conf", 0644, conf);
		ck_assert_int_eq(chown(p, nobody->pw_uid, nobody->pw_gid), 0);
		log_reset();
		ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_x").auth,
				 PAM_SERVICE_ERR);
		ck_assert_ptr_nonnull(strstr(log_text(), "not root or the effective user"));
	}

	/* A CA bundle others may write could vouch for a fake issuer. */
	snprintf(conf, sizeof(conf), "introspection_url = %s\nca_file = %s\n", url,
		 write_file("ca.pem", 0666, "x"));
	chmod(write_file("ca.pem", 0666, "x"), 0666);
	log_reset();
	ck_assert_int_eq(pam_run(make_service(conf, NULL), "alice", "192.0.2.7", "ucat_x").auth,
			 PAM_SERVICE_ERR);
	ck_assert_ptr_nonnull(strstr(log_text(), "ca.pem: writable by group or others"));

	/* A named config file that does not exist. */
	{
		char svc[5000];
		snprintf(svc, sizeof(svc), "auth required %s config=%s/missing.conf\n", T.module,
			 T.root);
		write_file("pam.d/svc", 0644, svc);
		ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_x").auth,
				 PAM_SERVICE_ERR);
	}
}
END_TEST

/* log (what syslog got) holds no 8-byte piece of planted. */
static void log_never_quotes(const char *planted)
{
	char piece[9];

	for (size_t i = 0; i + 8 <= strlen(planted); i++) {
		memcpy(piece, planted + i, 8);
		piece[8] = '\0';
		ck_assert_msg(strstr(log_text(), piece) == NULL, "log quotes \"%s\":\n%s", piece,
			      log_text());
	}
}

/*
 * A token pasted into the config, a secret file given as config=, a token as
 * a module argument: the error line and the audit line say where, never
 * what.
 */
START_TEST(config_errors_never_quote_text)
{
	static const char tok[] = "ucat_Pz4mW8qL2xV6nB0tR5yK9cJ3";
	static const char secret[] = "rs-9f3Kq7Lm2Xv8Wz4Tn6Hy";
	char url[128], conf[1024], svc[5000], want[700];
	const char *dir;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/json/e30", fault.port);

	snprintf(conf, sizeof(conf), "introspection_url = %s\n%s\n", url, tok);
	log_reset();
	ck_assert_int_eq(pam_run(make_service(conf, NULL), "alice", "192.0.2.7", "ucat_x").auth,
			 PAM_SERVICE_ERR);
	log_never_quotes(tok);
	snprintf(want, sizeof(want), "%s/apt.conf:2: unknown option", T.root);
	ck_assert_msg(strstr(log_text(), want) != NULL, "want \"%s\" in\n%s", want, log_text());
	ck_audit("error", "config");

	snprintf(conf, sizeof(conf), "introspection_url = %s\n", url);
	log_reset();
	ck_assert_int_eq(pam_run(make_service(conf, tok), "alice", "192.0.2.7", "ucat_x").auth,
			 PAM_SERVICE_ERR);
	log_never_quotes(tok);
	ck_assert_msg(strstr(log_text(), "argument 2: unknown option") != NULL, "%s", log_text());
	ck_audit("error", "config");

	/* config= naming the client secret file instead of the config. */
	dir = make_service(conf, NULL);
	snprintf(svc, sizeof(svc), "auth required %s config=%s\n", T.module,
		 write_file("secret", 0600, secret));
	write_file("pam.d/svc", 0644, svc);
	log_reset();
	ck_assert_int_eq(pam_run(dir, "alice", "192.0.2.7", "ucat_x").auth, PAM_SERVICE_ERR);
	log_never_quotes(secret);
	snprintf(want, sizeof(want), "%s/secret:1: unknown option", T.root);
	ck_assert_msg(strstr(log_text(), want) != NULL, "want \"%s\" in\n%s", want, log_text());
	ck_audit("error", "config");
}
END_TEST

START_TEST(unsafe_helper_refused)
{
	char conf[2048], url[128], hpath[600];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/json/e30", fault.port);
	snprintf(hpath, sizeof(hpath), "%s/apitoken-gw", T.root);
	{
		/* A group-writable copy of the helper. */
		char cmd[2400];
		snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && chmod 0775 '%s'", T.helper, hpath,
			 hpath);
		ck_assert_int_eq(system(cmd), 0);
	}
	snprintf(conf, sizeof(conf), "introspection_url = %s\nhelper = %s\n", url, hpath);
	log_reset();
	ck_assert_int_eq(pam_run(make_service(conf, NULL), "alice", "192.0.2.7", "ucat_x").auth,
			 PAM_SERVICE_ERR);
	/* What is wrong and the command that fixes it, exactly. */
	{
		char want[1400];

		snprintf(want, sizeof(want),
			 "helper %s: writable by group or others (chmod go-w %s)", hpath, hpath);
		ck_assert_msg(strstr(log_text(), want) != NULL, "want \"%s\" in\n%s", want,
			      log_text());
	}
	ck_audit("error", "helper_config");

	/* Owned by someone else: they could replace it; the fix is root's. */
	{
		struct passwd *nobody = getpwnam("nobody");
		char want[1400];

		if (geteuid() != 0 || nobody == NULL)
			return;
		ck_assert_int_eq(chmod(hpath, 0755), 0);
		ck_assert_int_eq(chown(hpath, nobody->pw_uid, nobody->pw_gid), 0);
		log_reset();
		ck_assert_int_eq(
		    pam_run(make_service(conf, NULL), "alice", "192.0.2.7", "ucat_x").auth,
		    PAM_SERVICE_ERR);
		snprintf(want, sizeof(want),
			 "helper %s: owned by uid %u, not root or the effective user (chown root "
			 "%s)",
			 hpath, (unsigned)nobody->pw_uid, hpath);
		ck_assert_msg(strstr(log_text(), want) != NULL, "want \"%s\" in\n%s", want,
			      log_text());
		ck_audit("error", "helper_config");
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pam");
	TCase *issuer = tcase_create("issuer"), *faults = tcase_create("faults"),
	      *config = tcase_create("config");

	testenv_servers(&idp, &fault);

	tcase_add_unchecked_fixture(issuer, testenv_servers_up, testenv_servers_down);
	tcase_set_timeout(issuer, 60);
	tcase_add_test(issuer, valid_token_logs_in);
	tcase_add_test(issuer, other_users_token_refused);
	tcase_add_test(issuer, revoked_token_refused);
	tcase_add_test(issuer, expired_token_refused);
	tcase_add_test(issuer, unknown_token_refused);
	tcase_add_test(issuer, scopes_required);
	tcase_add_test(issuer, client_and_issuer_checked);
	tcase_add_loop_test(issuer, ip_ranges, 0, sizeof(ip_cases) / sizeof(ip_cases[0]));
	tcase_add_test(issuer, ip_ranges_as_string);
	tcase_add_test(issuer, ip_ranges_required);
	tcase_add_loop_test(issuer, local_rejects_send_nothing, 0,
			    sizeof(local_cases) / sizeof(local_cases[0]));
	tcase_add_test(issuer, token_of_max_length_is_sent);
	tcase_add_test(issuer, wrong_client_secret_is_unavailable);
	tcase_add_test(issuer, first_pass_flags);
	tcase_add_test(issuer, earlier_modules_password_not_taken);
	tcase_add_test(issuer, token_not_left_in_authtok);
	tcase_add_test(issuer, prompt_is_configurable);
	tcase_add_test(issuer, acct_mgmt_only_for_our_user);
	tcase_add_test(issuer, logs_hold_no_secret);
	tcase_add_test(issuer, user_name_cannot_forge_fields);
	suite_add_tcase(s, issuer);

	tcase_add_unchecked_fixture(faults, testenv_servers_up, testenv_servers_down);
	tcase_set_timeout(faults, 60);
	tcase_add_loop_test(faults, fault_unavailable, 0,
			    sizeof(unavailable_cases) / sizeof(unavailable_cases[0]));
	tcase_add_test(faults, fault_hang_ends_at_timeout);
	tcase_add_test(faults, fault_slow_body_ends_at_timeout);
	tcase_add_test(faults, refused_connection);
	tcase_add_loop_test(faults, fault_claims, 0, sizeof(claim_cases) / sizeof(claim_cases[0]));
	tcase_add_test(faults, scope_claim_checked);
	tcase_add_test(faults, scope_split_on_spaces_only);
	tcase_add_test(faults, audience_claim_checked);
	tcase_add_test(faults, request_on_the_wire);
	suite_add_tcase(s, faults);

	tcase_add_unchecked_fixture(config, testenv_servers_up, testenv_servers_down);
	tcase_set_timeout(config, 60);
	tcase_add_test(config, config_errors);
	tcase_add_test(config, unsafe_helper_refused);
	tcase_add_test(config, config_errors_never_quote_text);
	suite_add_tcase(s, config);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
