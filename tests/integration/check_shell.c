/*
 * `apitoken shell` as the real sshd's ForceCommand (issue 14, DESIGN.md
 * §8a): the shipped opt-in snippet conf/sshd_config.d/apitoken-shell.conf
 * (ForceCommand, ExposeAuthInfo yes), AcceptEnv * so that a client's own
 * APITOKEN_* variables do reach the session, and the real git, rsync, scp
 * (SFTP mode and -O), sftp and ssh as clients. Two servers: token logins
 * (keyboard-interactive through pam_apitoken) and certificate logins (the
 * test issuer signs the token's scopes in as scopes@apitoken).
 *
 * Each login kind runs one batch of every operation for each of the scopes
 * read, write, shell and none: every cell of §8a's table must succeed or be
 * refused, refused ones leave the repository's refs and the tree's bytes as
 * they were, and apitoken shell writes one audit line per command (to
 * audit_file: the tests have no syslog daemon).
 *
 * Needs root (users, /etc/pam.d, sshd).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sshd.h"
#include "testenv.h"
#include "unit.h"

static struct server idp;
static struct sshd tsrv, csrv; /* token logins, certificate logins */
static char shell_conf[600], audit_path[600], seed[600], extra[1400], apitoken[4096];

/*
 * The operations of a batch, in order, each one ssh connection. Expected,
 * per scope: A allowed and done; D refused by apitoken shell; F allowed
 * read-only (sftp-server -R), the write then fails in sftp-server.
 */
static const char *const ops[] = {
    "git_clone",  "git_fetch",	 "git_archive", "git_push",	"rsync_pull",	"rsync_push",
    "scp_o_pull", "scp_o_push",	 "scp_pull",	"scp_push",	"sftp_get",	"sftp_put",
    "shell_cmd",  "shell_login", "setenv_push", "setenv_shell", "rsync_remove",
};
#define NOPS (sizeof(ops) / sizeof(ops[0]))
/* clang-format off */
/*                                    clone fetch archive push rsync< rsync> scpO< scpO> scp< scp> get put cmd login setenvpush setenvshell remove */
static const char want_read[]  =     "A"   "A"   "A"     "D"  "A"    "D"    "A"   "D"   "A"  "F"  "A" "F" "D" "D"   "D"        "D"         "D";
static const char want_write[] =     "A"   "A"   "A"     "A"  "A"    "A"    "A"   "A"   "A"  "A"  "A" "A" "D" "D"   "A"        "D"         "A";
static const char want_shell[] =     "D"   "D"   "D"     "D"  "D"    "D"    "D"   "D"   "D"  "D"  "D" "D" "A" "A"   "D"        "A"         "D";
static const char want_none[]  =     "D"   "D"   "D"     "D"  "D"    "D"    "D"   "D"   "D"  "D"  "D" "D" "D" "D"   "D"        "D"         "D";
/* clang-format on */

/*
 * The batch: runs every operation against $U's home on the server and
 * prints "NAME=STATUS" for each. The client's own files are in its cwd:
 * local/ (a clone of the seed, origin the server), up/new.txt.
 */
static const char batch_script[] =
    "R() { n=$1; shift; echo \"== $n\" >>log; \"$@\" >>log 2>&1; echo \"$n=$?\"; }\n"
    "URL=\"ssh://$U@127.0.0.1:$SSH_PORT$H/app.git\"\n"
    "git -C local remote set-url origin \"$URL\"\n"
    "SFTP=\"sftp ${SCP#scp}\"\n"
    "R git_clone git clone -q \"$URL\" clone\n"
    "R git_fetch git -C local fetch -q origin\n"
    "R git_archive sh -c 'git archive --remote=\"$1\" main > archive.tar && tar -tf archive.tar' "
    "x \"$URL\"\n"
    "R git_push git -C local push -q origin HEAD:main\n"
    "R rsync_pull rsync -a -e \"$SSH\" \"$U@127.0.0.1:tree/\" pulled/\n"
    "R rsync_push rsync -a -e \"$SSH\" up/ \"$U@127.0.0.1:tree/\"\n"
    "R scp_o_pull $SCP -O \"$U@127.0.0.1:tree/a.txt\" scp-o.txt\n"
    "R scp_o_push $SCP -O up/new.txt \"$U@127.0.0.1:tree/scp-o-new.txt\"\n"
    "R scp_pull $SCP \"$U@127.0.0.1:tree/a.txt\" scp.txt\n"
    "R scp_push $SCP up/new.txt \"$U@127.0.0.1:tree/scp-new.txt\"\n"
    "echo 'get tree/a.txt sftp.txt' > get.batch\n"
    "echo 'put up/new.txt tree/sftp-new.txt' > put.batch\n"
    "R sftp_get $SFTP -b get.batch \"$U@127.0.0.1\"\n"
    "R sftp_put $SFTP -b put.batch \"$U@127.0.0.1\"\n"
    "R shell_cmd $SSH \"$U@127.0.0.1\" 'echo shell-ran-$((6*7))'\n"
    "R shell_login $SSH -T \"$U@127.0.0.1\"\n"
    /* The client's own APITOKEN_SCOPES, which AcceptEnv * lets through. */
    "R setenv_push env GIT_SSH_COMMAND=\"$SSH -o SetEnv=APITOKEN_SCOPES=write\" "
    "git -C local push -q origin HEAD:setenv\n"
    "R setenv_shell $SSH -o SetEnv='APITOKEN_SCOPES=shell' \"$U@127.0.0.1\" 'echo shell-ran'\n"
    "R rsync_remove rsync -a --remove-source-files -e \"$SSH\" \"$U@127.0.0.1:tree/\" "
    "removed/\n";

/* --- the world ---------------------------------------------------------------- */

static void sh_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh_ok(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		testenv_die("check_shell", "failed: %s", cmd);
}

/* The module's config, and apitoken shell's (the same, with audit_file and EXTRA). */
static void write_configs(const char *shell_extra)
{
	char conf[2048], *url = idp_url(&idp);
	int fd;

	snprintf(conf, sizeof(conf),
		 "introspection_url = %s\nclient_id = rs\nclient_secret_file = %s\n"
		 "token_prefixes = ucat_\ncache = yes\ncache_ttl = 60\ncache_dir = %s/cache\n",
		 url, write_file("secret", 0600, "rs-secret\n"), T.root);
	free(url);
	make_service(conf, NULL);
	snprintf(conf + strlen(conf), sizeof(conf) - strlen(conf),
		 "helper = %s\naudit_file = %s\n%s", T.helper, audit_path,
		 shell_extra != NULL ? shell_extra : "");
	snprintf(shell_conf, sizeof(shell_conf), "%s", write_file("shell.conf", 0644, conf));
	/* Appended to by apitoken shell, which runs as the machine user. */
	unlink(audit_path);
	fd = open(audit_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || fchown(fd, getpwnam(SU.member)->pw_uid, (gid_t)-1) != 0)
		testenv_die("check_shell", "%s: %s", audit_path, strerror(errno));
	close(fd);
}

/* The shipped snippet, with the helper of this build and the test's config. */
static void write_snippet(void)
{
	char *text = file_text("conf/sshd_config.d/apitoken-shell.conf", 0), *line, out[8192];
	char path[600];
	size_t n = 0;
	int force = 0, expose = 0;

	if (text == NULL)
		testenv_die("check_shell", "conf/sshd_config.d/apitoken-shell.conf: %s",
			    strerror(errno));
	for (char *save = text; (line = strsep(&save, "\n")) != NULL;) {
		const char *l = line + strspn(line, " \t");

		if (strncmp(l, "ForceCommand ", 13) == 0) {
			force++;
			n += (size_t)snprintf(out + n, sizeof(out) - n,
					      "\tForceCommand %s shell --config %s\n", T.helper,
					      shell_conf);
			continue;
		}
		if (strcmp(l, "ExposeAuthInfo yes") == 0)
			expose++;
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s\n", line);
	}
	free(text);
	if (force != 1 || expose != 1 || n >= sizeof(out))
		testenv_die("check_shell", "apitoken-shell.conf: want one ForceCommand and one "
					   "ExposeAuthInfo yes line");
	snprintf(path, sizeof(path), "%s/apitoken-shell.conf", T.root);
	unlink(path);
	snprintf(path, sizeof(path), "%s", write_file("apitoken-shell.conf", 0644, out));
	snprintf(extra, sizeof(extra), "AcceptEnv *\nInclude %s\n", path);
}

static void up(void)
{
	char *ca;

	if (realpath(TEST_BUILD "/apitoken", apitoken) == NULL)
		testenv_die("check_shell", TEST_BUILD "/apitoken: %s", strerror(errno));
	testenv_up(&idp, NULL);
	sshd_users_create();
	snprintf(audit_path, sizeof(audit_path), "%s/shell-audit.jsonl", T.root);
	write_configs(NULL);
	write_snippet();
	/* The seed both the server's repository and the clients' local clones come from. */
	snprintf(seed, sizeof(seed), "%s/seed", T.root);
	sh_ok("set -e; git init -q -b main '%s'; cd '%s'; echo seed > README; git add README;"
	      "git -c user.name=seed -c user.email=seed@example.invalid commit -q -m seed",
	      seed, seed);
	sshd_extra_config = extra;
	sshd_start(&tsrv, SSHD_KBDINT, "auth required pam_deny.so");
	ca = idp_ca_keys(&idp);
	sshd_start_ca(&csrv, ca);
	free(ca);
	sshd_extra_config = NULL;
}

static void down(void)
{
	sshd_stop(&tsrv);
	sshd_stop(&csrv);
	sshd_users_remove();
	testenv_down(&idp, NULL);
}

/* Before each test: the configs as up() wrote them, a fresh repository and tree. */
static void each_test(void)
{
	const char *h = SU.member_home;

	write_configs(NULL);
	sh_ok("set -e; cd '%s'; rm -rf app.git tree; git clone -q --bare '%s' app.git;"
	      "mkdir -p tree/sub; echo hello > tree/a.txt; head -c 5000 /dev/urandom > "
	      "tree/sub/b.bin;"
	      "chown -R %s: app.git tree",
	      h, seed, SU.member);
}

/* What a refused command must not change: the refs of the repository, the tree's bytes. */
static char *server_state(void)
{
	char cmd[1200], *out;
	int st;

	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && git -c safe.directory='*' --git-dir=app.git for-each-ref "
		 "--format='%%(objectname) %%(refname)' && find tree | sort && "
		 "find tree -type f -exec sha256sum {} + | sort",
		 SU.member_home);
	out = shell_output(cmd, &st);
	ck_assert_msg(out != NULL && st == 0, "%s", cmd);
	return out;
}

/* A client's work directory: local/ (a clone of the seed, one commit ahead) and up/new.txt. */
static const char *client_dir(const char *name)
{
	static char dir[600];

	snprintf(dir, sizeof(dir), "%s/%s", T.root, name);
	sh_ok("set -e; rm -rf '%s'; mkdir -p '%s/up'; cd '%s'; echo new > up/new.txt;"
	      "git clone -q '%s' local; cd local; echo change > CHANGE; git add CHANGE;"
	      "git -c user.name=ci -c user.email=ci@example.invalid commit -q -m change",
	      dir, dir, dir, seed);
	return dir;
}

/* The script of a batch, with U and H set. */
static void batch(char *script, size_t len)
{
	snprintf(script, len, "U=%s; H=%s\n%s", SU.member, SU.member_home, batch_script);
}

/* The audit lines apitoken shell appended since MARK. */
static long audit_mark(void)
{
	struct stat st;

	return stat(audit_path, &st) == 0 ? (long)st.st_size : 0;
}

/*
 * Checks the batch's output OUT against WANT, the server's state against
 * BEFORE (unchanged unless the scope may write), and the audit lines.
 */
static void ck_batch(const char *kind, const char *scope, const char *want, const char *out,
		     const char *dir, const char *before, long mark)
{
	char key[64], logf[700], *log, *after, *audit;
	int allow = 0, deny = 0;

	snprintf(logf, sizeof(logf), "%s/log", dir);
	log = file_text(logf, 0);
	for (size_t i = 0; i < NOPS; i++) {
		const char *p;
		int rc;

		snprintf(key, sizeof(key), "%s=", ops[i]);
		p = strstr(out, key);
		ck_assert_msg(p != NULL, "%s/%s: no %s in:\n%s", kind, scope, ops[i], out);
		rc = atoi(p + strlen(key));
		ck_assert_msg((want[i] == 'A') == (rc == 0),
			      "%s login, scope %s: %s exited %d, want %s\noutput:\n%s\nlog:\n%s",
			      kind, scope, ops[i], rc, want[i] == 'A' ? "success" : "failure", out,
			      log ? log : "");
		allow += want[i] != 'D';
		deny += want[i] == 'D';
	}
	/* One line per command decision: every connection went through apitoken shell. */
	audit = file_text(audit_path, mark);
	ck_assert_ptr_nonnull(audit);
	ck_assert_msg(text_count(audit, "\"result\":\"allow\"") == allow &&
			  text_count(audit, "\"result\":\"deny\"") == deny,
		      "%s/%s: want %d allow and %d deny lines:\n%s", kind, scope, allow, deny,
		      audit);
	ck_assert_int_eq(text_count(audit, "\"reason\":\"scope\""), deny);
	/* scp (SFTP mode) and sftp, four connections: read-only where only reading is allowed. */
	ck_assert_int_eq(text_count(audit, "\"reason\":\"sftp_read_only\""),
			 want[9] == 'F' ? 4 : 0);
	ck_assert_int_eq(text_count(audit, "\"reason\":\"sftp\""), want[9] == 'A' ? 4 : 0);
	ck_assert_int_eq(text_count(audit, "\"service\":\"apitoken-shell\""), allow + deny);
	ck_assert_int_eq(text_count(audit, strcmp(kind, "token") == 0 ? "\"source\":\"token\""
								      : "\"source\":\"cert\""),
			 allow + deny);
	/* Each refusal said which scope it needed. */
	if (want[3] == 'D')
		ck_assert_msg(strstr(log, "git-receive-pack needs the scope write") != NULL, "%s",
			      log);
	if (want[12] == 'D')
		ck_assert_msg(strstr(log, "a shell command needs the scope shell") != NULL, "%s",
			      log);
	if (want[12] == 'A')
		ck_assert_msg(strstr(log, "shell-ran-42") != NULL, "%s", log);
	after = server_state();
	if (strchr(want, 'A') == NULL || want[3] != 'A') {
		/* No write allowed: refs and bytes as they were. */
		ck_assert_msg(strcmp(before, after) == 0, "%s/%s: the server changed:\n%s\n---\n%s",
			      kind, scope, before, after);
	} else {
		/*
		 * Written: main is the client's commit, setenv too; the tree took
		 * every upload, which rsync --remove-source-files then moved to
		 * the client, leaving no file behind.
		 */
		char cmd[1200];
		int st;
		char *o;

		snprintf(
		    cmd, sizeof(cmd),
		    "cd '%s' && test \"$(git -c safe.directory='*' --git-dir=app.git rev-parse "
		    "main)\" = \"$(git -C '%s/local' rev-parse HEAD)\" && git -c "
		    "safe.directory='*' --git-dir=app.git rev-parse -q --verify setenv && "
		    "cd '%s/removed' && cmp a.txt ../scp.txt && cmp new.txt ../up/new.txt && "
		    "cmp scp-o-new.txt new.txt && cmp scp-new.txt new.txt && "
		    "cmp sftp-new.txt new.txt && test -z \"$(find '%s/tree' -type f)\"",
		    SU.member_home, dir, dir, SU.member_home);
		o = shell_output(cmd, &st);
		ck_assert_msg(st == 0, "%s/%s: the writes did not land (%s):\n%s", kind, scope, cmd,
			      after);
		free(o);
	}
	free(after);
	free(audit);
	free(log);
}

/* --- token logins ------------------------------------------------------------- */

static const char *load_cert(const char *dir, const char *scope, const char *protocol);

static void token_batch(const char *scope, const char *want)
{
	char script[8192], name[64], *tok, *before, *out;
	const char *dir;
	long mark;

	snprintf(name, sizeof(name), "token-%s", scope[0] ? scope : "none");
	dir = client_dir(name);
	tok = idp_mint(&idp, SU.member, scope, 600, NULL);
	batch(script, sizeof(script));
	before = server_state();
	mark = audit_mark();
	sshd_client(&tsrv, tok, dir, script, &out);
	ck_batch("token", scope[0] ? scope : "none", want, out, dir, before, mark);
	free(out);
	free(before);
	free(tok);
}

START_TEST(token_read)
{
	token_batch("read", want_read);
}
END_TEST

START_TEST(token_write)
{
	token_batch("write", want_write);
}
END_TEST

/*
 * What a shell command sees of the variables a client sent: for a token
 * login the module's APITOKEN_SCOPES over the client's (PAM environment
 * last), for a certificate login the client's own, which reached the
 * session and still granted nothing (the batch's setenv_push).
 */
static void ck_client_env(bool token, const char *scopes_seen)
{
	char script[600], want[200], *tok = NULL, *out;
	int rc;

	snprintf(script, sizeof(script),
		 "$SSH -o SetEnv='APITOKEN_SCOPES=write APITOKEN_OTHER=sent' %s@127.0.0.1 "
		 "'echo \"seen [$APITOKEN_SCOPES] [$APITOKEN_OTHER]\"'",
		 SU.member);
	if (token) {
		tok = idp_mint(&idp, SU.member, "shell", 600, NULL);
		rc = sshd_client(&tsrv, tok, NULL, script, &out);
	} else {
		rc = sshd_client_cert(&csrv, load_cert(client_dir("cert-env"), "shell", "apitoken"),
				      NULL, NULL, NULL, script, &out);
	}
	snprintf(want, sizeof(want), "seen [%s] [sent]", scopes_seen);
	ck_assert_msg(rc == 0 && strstr(out, want) != NULL, "exit %d, want \"%s\":\n%s", rc, want,
		      out);
	free(out);
	free(tok);
}

START_TEST(token_shell)
{
	token_batch("shell", want_shell);
	ck_client_env(true, "shell");
}
END_TEST

START_TEST(token_no_scopes)
{
	token_batch("", want_none);
}
END_TEST

/* --- certificate logins ------------------------------------------------------ */

/*
 * `apitoken ssh-cert load` for a token with SCOPE (cert_protocol PROTOCOL),
 * in DIR; returns the ssh config that uses the certificate (static).
 */
static const char *load_cert(const char *dir, const char *scope, const char *protocol)
{
	static char sshconf[700];
	char cmd[10000], *tok = idp_mint(&idp, SU.member, scope, 600, NULL), *o;
	int st;

	sh_ok("mkdir -p '%s/home' '%s/state' '%s/config/apitoken' && printf 'cert_protocol = "
	      "%s\\n' > '%s/config/apitoken/config' && chmod 600 '%s/config/apitoken/config'",
	      dir, dir, dir, protocol, dir, dir);
	/* The token through the environment only, as a CI job has it. */
	setenv("APITOKEN_TOKEN", tok, 1);
	snprintf(cmd, sizeof(cmd),
		 "env -i PATH=/usr/bin:/bin HOME='%s/home' XDG_STATE_HOME='%s/state' "
		 "XDG_CONFIG_HOME='%s/config' APITOKEN_TOKEN=\"$APITOKEN_TOKEN\" "
		 "APITOKEN_CERT_URL='http://127.0.0.1:%d/%s' '%s' ssh-cert load -q "
		 "--no-interaction 2>&1",
		 dir, dir, dir, idp.port,
		 strcmp(protocol, "vault") == 0 ? "v1/ssh/sign/ci-role" : "ssh/cert", apitoken);
	o = shell_output(cmd, &st);
	unsetenv("APITOKEN_TOKEN");
	ck_assert_msg(st == 0, "ssh-cert load: %s", o);
	free(o);
	free(tok);
	snprintf(sshconf, sizeof(sshconf), "%s/ssh_config", dir);
	snprintf(cmd, sizeof(cmd),
		 "printf 'IdentityFile %%s\\nCertificateFile %%s\\nIdentitiesOnly yes\\n' "
		 "'%s/state/apitoken/ssh/id_ed25519' '%s/state/apitoken/ssh/id_ed25519-cert.pub' "
		 "> '%s'",
		 dir, dir, sshconf);
	sh_ok("%s", cmd);
	return sshconf;
}

/* The certificate's extensions, as ssh-keygen -L lists them (malloc). */
static char *cert_listing(const char *dir)
{
	char cmd[800], *o;
	int st;

	snprintf(cmd, sizeof(cmd), "ssh-keygen -L -f '%s/state/apitoken/ssh/id_ed25519-cert.pub'",
		 dir);
	o = shell_output(cmd, &st);
	ck_assert_msg(o != NULL && st == 0, "%s", cmd);
	return o;
}

static void cert_batch(const char *scope, const char *want, const char *protocol)
{
	char script[8192], name[64], *before, *out, *listing;
	const char *dir, *conf;
	long mark;

	snprintf(name, sizeof(name), "cert-%s", scope[0] ? scope : "none");
	dir = client_dir(name);
	conf = load_cert(dir, scope, protocol);
	/* The issuer signed the token's scopes in (or nothing, for a token without). */
	listing = cert_listing(dir);
	ck_assert_msg((strstr(listing, "scopes@apitoken") != NULL) == (scope[0] != '\0'), "%s",
		      listing);
	free(listing);
	batch(script, sizeof(script));
	before = server_state();
	mark = audit_mark();
	sshd_client_cert(&csrv, conf, NULL, NULL, dir, script, &out);
	ck_batch("cert", scope[0] ? scope : "none", want, out, dir, before, mark);
	free(out);
	free(before);
}

START_TEST(cert_read)
{
	cert_batch("read", want_read, "apitoken");
}
END_TEST

START_TEST(cert_write)
{
	/* The other certificate protocol signs the scopes in too. */
	cert_batch("write", want_write, "vault");
}
END_TEST

START_TEST(cert_shell)
{
	cert_batch("shell", want_shell, "apitoken");
	ck_client_env(false, "write");
}
END_TEST

START_TEST(cert_no_scopes)
{
	cert_batch("", want_none, "apitoken");
}
END_TEST

/* --- the rest ---------------------------------------------------------------- */

/* read_scope names another word: a token with that scope reads, and only reads. */
START_TEST(scope_names_from_config)
{
	char script[1024], *tok, *out, *before, *audit;
	const char *dir = client_dir("names");
	long mark;
	int rc;

	write_configs("read_scope = git\nwrite_scope = deploy\nshell_scope = admin\n");
	tok = idp_mint(&idp, SU.member, "git read write shell", 600, NULL);
	before = server_state();
	mark = audit_mark();
	snprintf(
	    script, sizeof(script),
	    "git clone -q ssh://%s@127.0.0.1:$SSH_PORT%s/app.git clone || exit 10\n"
	    "git -C local push -q ssh://%s@127.0.0.1:$SSH_PORT%s/app.git HEAD:main && exit 11\n"
	    "$SSH %s@127.0.0.1 id && exit 12\n"
	    "exit 0\n",
	    SU.member, SU.member_home, SU.member, SU.member_home, SU.member);
	rc = sshd_client(&tsrv, tok, dir, script, &out);
	ck_assert_msg(rc == 0, "exit %d:\n%s", rc, out);
	ck_assert_msg(strstr(out, "git-receive-pack needs the scope deploy") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "needs the scope admin") != NULL, "%s", out);
	audit = file_text(audit_path, mark);
	ck_assert_int_eq(text_count(audit, "\"result\":\"allow\""), 1);
	ck_assert_int_eq(text_count(audit, "\"result\":\"deny\""), 2);
	/* What runs is in the line, with the token's fingerprint; a shell command's first word. */
	ck_assert_msg(text_count(audit, "\"command\":\"git-receive-pack ") == 1, "%s", audit);
	ck_assert_msg(text_count(audit, "\"command\":\"id\"") == 1, "%s", audit);
	ck_assert_msg(text_count(audit, "\"token\":\"ucat_sha256:") == 3, "%s", audit);
	{
		char *after = server_state();

		ck_assert_str_eq(before, after);
		free(after);
	}
	free(audit);
	free(before);
	free(out);
	free(tok);
}
END_TEST

/* Bad input over the wire: refused whatever the scopes, with the reason, nothing run. */
START_TEST(bad_input_refused)
{
	char script[2048], *tok, *out, *before, *audit;
	const char *dir = client_dir("bad");
	long mark;
	int rc;

	tok = idp_mint(&idp, SU.member, "read write shell", 600, NULL);
	before = server_state();
	mark = audit_mark();
	snprintf(script, sizeof(script),
		 "U=%s; H=%s; NL=$(printf '\\nx'); NL=${NL%%x}\n"
		 "$SSH $U@127.0.0.1 \"git-upload-pack '$H/app.git\" && exit 10\n"
		 "$SSH $U@127.0.0.1 \"git-upload-pack --strict '$H/app.git'\" && exit 11\n"
		 "$SSH $U@127.0.0.1 \"git-receive-pack '$H/../$U/app.git'\" && exit 12\n"
		 "$SSH $U@127.0.0.1 \"scp -t '$H/tree/a${NL}b'\" && exit 13\n"
		 "$SSH $U@127.0.0.1 \"$(head -c 9000 /dev/zero | tr '\\0' a)\" && exit 14\n"
		 "exit 0\n",
		 SU.member, SU.member_home);
	rc = sshd_client(&tsrv, tok, dir, script, &out);
	ck_assert_msg(rc == 0, "exit %d:\n%s", rc, out);
	audit = file_text(audit_path, mark);
	ck_assert_int_eq(text_count(audit, "\"result\":\"deny\""), 5);
	ck_assert_int_eq(text_count(audit, "\"result\":\"allow\""), 0);
	ck_assert_msg(strstr(audit, "\"reason\":\"unterminated_quote\"") &&
			  strstr(audit, "\"reason\":\"git_args\"") &&
			  strstr(audit, "\"reason\":\"dotdot\"") &&
			  strstr(audit, "\"reason\":\"newline\"") &&
			  strstr(audit, "\"reason\":\"too_long\""),
		      "%s", audit);
	/* The command in the line is escaped and cut: no control byte, at most 128 shown. */
	ck_assert_msg(text_count(audit, "\n") == 5 && strstr(audit, "...\"") != NULL, "%s", audit);
	ck_assert_msg(strstr(out, "refused:") != NULL &&
			  strstr(out, "(unterminated_quote)") != NULL,
		      "%s", out);
	{
		char *after = server_state();

		ck_assert_str_eq(before, after);
		free(after);
	}
	free(audit);
	free(before);
	free(out);
	free(tok);
}
END_TEST

/*
 * `apitoken shell` run by hand (as root, no sshd): its --help, a bad
 * argument, no SSH_USER_AUTH, an unsafe one, and an auth info file whose
 * methods decide whose variables count. Prints stdout and stderr; returns
 * the exit status.
 */
static int shell_by_hand(const char *args, const char *auth_info, const char *env, char **out)
{
	char cmd[3000];
	int st;

	snprintf(
	    cmd, sizeof(cmd),
	    "env -i PATH=/usr/bin:/bin %s%s%s SSH_ORIGINAL_COMMAND='git-receive-pack /nonexistent' "
	    "'%s' shell %s 2>&1",
	    auth_info != NULL ? "SSH_USER_AUTH=" : "", auth_info != NULL ? auth_info : "",
	    env != NULL ? env : "", T.helper, args);
	*out = shell_output(cmd, &st);
	ck_assert_ptr_nonnull(*out);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(outside_sshd)
{
	char conf[700], info[700], *out;
	const char *key = "AAAAC3NzaC1lZDI1NTE5AAAAIOu6hRhXb3pZyUFm3zD8eM9r1hJ3i7y3b7Y9m4m7b2Xl";

	snprintf(conf, sizeof(conf), "--config %s", shell_conf);
	ck_assert_int_eq(shell_by_hand("--help", NULL, NULL, &out), 0);
	ck_assert_msg(strstr(out, "usage: apitoken shell") != NULL, "%s", out);
	free(out);
	ck_assert_int_eq(shell_by_hand("--bogus", NULL, NULL, &out), 2);
	free(out);
	/* No ExposeAuthInfo: nothing runs. */
	ck_assert_int_eq(shell_by_hand(conf, NULL, " APITOKEN_SCOPES=write", &out), 3);
	ck_assert_msg(strstr(out, "ExposeAuthInfo yes") != NULL, "%s", out);
	free(out);
	/* An auth info file others may write is not believed. */
	snprintf(info, sizeof(info), "%s", write_file("auth-info", 0622, "password\n"));
	ck_assert_int_eq(shell_by_hand(conf, info, " APITOKEN_SCOPES=write", &out), 3);
	free(out);
	/* A token login: the PAM environment's scopes count. */
	snprintf(info, sizeof(info), "%s",
		 write_file("auth-info", 0600, "keyboard-interactive/pam\n"));
	ck_assert_int_eq(shell_by_hand(conf, info, " APITOKEN_SCOPES=read", &out), 1);
	ck_assert_msg(strstr(out, "git-receive-pack needs the scope write") != NULL, "%s", out);
	free(out);
	/* A plain key login: the variable is nobody's, no scopes; the same for no method. */
	snprintf(info, sizeof(info), "publickey ssh-ed25519 %s\n", key);
	snprintf(info, sizeof(info), "%s", write_file("auth-info", 0600, info));
	ck_assert_int_eq(shell_by_hand(conf, info, " APITOKEN_SCOPES=write", &out), 1);
	ck_assert_msg(strstr(out, "needs the scope write") != NULL, "%s", out);
	free(out);
	snprintf(info, sizeof(info), "%s", write_file("auth-info", 0600, ""));
	ck_assert_int_eq(shell_by_hand(conf, info, " APITOKEN_SCOPES=write", &out), 1);
	free(out);
	/* A certificate that does not parse: refused, not taken for "no certificate". */
	snprintf(info, sizeof(info), "%s",
		 write_file("auth-info", 0600,
			    "publickey ssh-ed25519-cert-v01@openssh.com AAAAbroken\npassword\n"));
	ck_assert_int_eq(shell_by_hand(conf, info, " APITOKEN_SCOPES=write", &out), 3);
	free(out);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("shell");
	TCase *tc = tcase_create("shell");

	tcase_add_unchecked_fixture(tc, up, down);
	tcase_add_checked_fixture(tc, each_test, NULL);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, token_read);
	tcase_add_test(tc, token_write);
	tcase_add_test(tc, token_shell);
	tcase_add_test(tc, token_no_scopes);
	tcase_add_test(tc, cert_read);
	tcase_add_test(tc, cert_write);
	tcase_add_test(tc, cert_shell);
	tcase_add_test(tc, cert_no_scopes);
	tcase_add_test(tc, scope_names_from_config);
	tcase_add_test(tc, bad_input_refused);
	tcase_add_test(tc, outside_sshd);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
