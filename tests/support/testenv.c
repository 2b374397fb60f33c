/* Support for the integration tests (see testenv.h). */

/* This file defines syslog() itself; fortified headers would make it a macro. */
#undef _FORTIFY_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <security/pam_appl.h>

#include "testenv.h"
#include "unit.h"

struct testenv T;

void testenv_die(const char *who, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", who);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

#define die(...) testenv_die("testenv", __VA_ARGS__)

/* --- syslog capture -------------------------------------------------------
 * libpam's pam_syslog() ends in syslog(), which a fortified libpam calls as
 * __syslog_chk. Defining them here, in the executable, takes precedence over
 * libc for libpam's calls, so the tests see exactly what a syslog daemon
 * would have received.
 */
static char logbuf[256 * 1024];
static size_t loglen;

static void log_add(int pri, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void log_add(int pri, const char *fmt, va_list ap)
{
	int n;

	(void)pri;
	if (loglen + 2 >= sizeof(logbuf))
		return;
	n = vsnprintf(logbuf + loglen, sizeof(logbuf) - loglen - 1, fmt, ap);
	if (n < 0)
		return;
	loglen += (size_t)n < sizeof(logbuf) - loglen - 1 ? (size_t)n : sizeof(logbuf) - loglen - 2;
	logbuf[loglen++] = '\n';
	logbuf[loglen] = '\0';
}

void __syslog_chk(int pri, int flag, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void syslog(int pri, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vsyslog(int pri, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

void __syslog_chk(int pri, int flag, const char *fmt, ...)
{
	va_list ap;

	(void)flag;
	va_start(ap, fmt);
	log_add(pri, fmt, ap);
	va_end(ap);
}

void syslog(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_add(pri, fmt, ap);
	va_end(ap);
}

void vsyslog(int pri, const char *fmt, va_list ap)
{
	log_add(pri, fmt, ap);
}

void log_reset(void)
{
	loglen = 0;
	logbuf[0] = '\0';
}

const char *log_text(void)
{
	return logbuf;
}

int text_count(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

int log_count(const char *needle)
{
	return text_count(logbuf, needle);
}

/* --- servers --------------------------------------------------------------- */

/*
 * Stops a server that did not come up; nothing of it outlives the test.
 * SIGTERM first, so the issuer's exit handler removes its CA directory;
 * SIGKILL after a second for one that is stuck.
 */
static void server_kill(struct server *s)
{
	int status;

	if (s->pid <= 0)
		return;
	close(s->in_fd);
	kill(s->pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			return;
		}
		usleep(10000);
	}
	kill(s->pid, SIGKILL);
	waitpid(s->pid, &status, 0);
	s->pid = 0;
}

/* One try: NULL when it said "listening PORT", else what went wrong. */
static const char *server_try(struct server *s, const char *script)
{
	int in[2], out[2];
	char line[128];
	size_t len = 0;
	const char *why = NULL;

	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
		die("pipe: %s", strerror(errno));
	s->pid = fork();
	if (s->pid < 0)
		die("fork: %s", strerror(errno));
	if (s->pid == 0) {
		/* Its chatter goes to a log beside the test's, not into the test output. */
		int log =
		    open(TEST_BUILD "/tests/servers.log", O_WRONLY | O_CREAT | O_APPEND, 0644);
		dup2(in[0], 0);
		dup2(out[1], 1);
		if (log >= 0)
			dup2(log, 2);
		execlp("node", "node", script, "--port", "0", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	s->in_fd = in[1];
	while (why == NULL) {
		struct pollfd p = {out[0], POLLIN, 0};
		ssize_t n;

		if (poll(&p, 1, 20000) <= 0) {
			why = "no 'listening' line within 20 s";
			break;
		}
		n = read(out[0], line + len, sizeof(line) - 1 - len);
		if (n <= 0) {
			why = "exited before listening";
			break;
		}
		len += (size_t)n;
		line[len] = '\0';
		if (strchr(line, '\n') != NULL)
			break;
		if (len == sizeof(line) - 1)
			why = "unexpected output";
	}
	if (why == NULL && sscanf(line, "listening %d", &s->port) != 1)
		why = "said something other than \"listening PORT\"";
	close(out[0]);
	if (why != NULL)
		server_kill(s);
	return why;
}

/*
 * A first start on a fresh machine can be slow (node reading its modules
 * from a cold disk, ssh-keygen making the CA): a server that misses the
 * mark is killed and started once more, rather than waited for longer.
 */
void server_start(struct server *s, const char *script)
{
	const char *why = server_try(s, script);

	if (why != NULL) {
		fprintf(stderr, "testenv: %s: %s; starting it again\n", script, why);
		why = server_try(s, script);
	}
	if (why != NULL)
		die("%s: %s (see " TEST_BUILD "/tests/servers.log)", script, why);
}

void server_stop(struct server *s)
{
	int status;

	if (s->pid <= 0)
		return;
	close(s->in_fd);
	kill(s->pid, SIGTERM);
	waitpid(s->pid, &status, 0);
	s->pid = 0;
}

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	FILE *f = arg;

	return fwrite(data, size, n, f);
}

char *http_call(const char *method, const char *url, const char *userpwd, const char *form,
		long *status)
{
	char *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);
	CURL *h = curl_easy_init();
	CURLcode c;

	if (f == NULL || h == NULL)
		die("out of memory");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
	if (userpwd != NULL)
		curl_easy_setopt(h, CURLOPT_USERPWD, userpwd);
	if (form != NULL)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
	c = curl_easy_perform(h);
	if (c != CURLE_OK)
		die("%s %s: %s", method, url, curl_easy_strerror(c));
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(h);
	fclose(f);
	return body;
}

static json_t *http_json(const char *method, const char *url, const char *userpwd, const char *form)
{
	long status;
	char *body = http_call(method, url, userpwd, form, &status);
	json_t *j = json_loads(body, 0, NULL);

	if (status != 200 || j == NULL)
		die("%s %s: status %ld, body %s", method, url, status, body);
	free(body);
	return j;
}

static char *escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0), *copy;

	if (e == NULL || (copy = strdup(e)) == NULL)
		die("out of memory");
	curl_free(e);
	return copy;
}

char *idp_url(const struct server *idp)
{
	char *u;

	if (asprintf(&u, "http://127.0.0.1:%d/token/introspection", idp->port) < 0)
		die("out of memory");
	return u;
}

char *idp_mint(const struct server *idp, const char *user, const char *scope, int ttl,
	       const char *ranges)
{
	char url[128], *form, *u = escape(user), *sc = escape(scope ? scope : ""),
			      *r = escape(ranges ? ranges : ""), *tok;
	json_t *j;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/test/mint", idp->port);
	if (asprintf(&form, "username=%s&scope=%s&ttl=%d%s%s", u, sc, ttl,
		     ranges ? "&ip_ranges=" : "", ranges ? r : "") < 0)
		die("out of memory");
	j = http_json("POST", url, NULL, form);
	tok = strdup(json_string_value(json_object_get(j, "access_token")));
	json_decref(j);
	free(form);
	free(u);
	free(sc);
	free(r);
	return tok;
}

void idp_revoke(const struct server *idp, const char *token)
{
	char url[128], *form, *t = escape(token), *body;
	long status;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/token/revocation", idp->port);
	if (asprintf(&form, "token=%s&token_type_hint=access_token", t) < 0)
		die("out of memory");
	body = http_call("POST", url, "admin:admin-secret", form, &status);
	if (status != 200)
		die("revoke: status %ld: %s", status, body);
	free(body);
	free(form);
	free(t);
}

long idp_introspections(const struct server *idp)
{
	char url[128];
	json_t *j;
	long n;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/test/stats", idp->port);
	j = http_json("GET", url, NULL, NULL);
	n = (long)json_integer_value(json_object_get(j, "introspections"));
	json_decref(j);
	return n;
}

char *idp_ca_keys(const struct server *idp)
{
	char url[128], *out = NULL;
	size_t len = 0, i;
	json_t *j, *list, *v;
	FILE *m;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/ssh/cert/authority", idp->port);
	j = http_json("GET", url, NULL, NULL);
	list = json_object_get(j, "authorities");
	if (!json_is_array(list) || json_array_size(list) == 0)
		die("%s: no authorities", url);
	m = open_memstream(&out, &len);
	if (m == NULL)
		die("out of memory");
	json_array_foreach(list, i, v)
	{
		if (!json_is_string(v))
			die("%s: an authority that is not a string", url);
		fprintf(m, "%s\n", json_string_value(v));
	}
	fclose(m);
	json_decref(j);
	return out;
}

long idp_stat(const struct server *idp, const char *counter)
{
	char url[128];
	json_t *j, *v;
	long n;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/test/stats", idp->port);
	j = http_json("GET", url, NULL, NULL);
	v = json_object_get(j, counter);
	if (!json_is_integer(v))
		die("/test/stats: no counter \"%s\"", counter);
	n = (long)json_integer_value(v);
	json_decref(j);
	return n;
}

void idp_cert_config(const struct server *idp, const char *validity, const char *principal)
{
	char url[128], *form, *va = escape(validity ? validity : ""),
			      *pr = escape(principal ? principal : "");

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/test/cert-config", idp->port);
	if (asprintf(&form, "validity=%s&principal=%s", va, pr) < 0)
		die("out of memory");
	json_decref(http_json("POST", url, NULL, form));
	free(form);
	free(va);
	free(pr);
}

void idp_reset(const struct server *idp)
{
	char url[128];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/test/reset", idp->port);
	json_decref(http_json("POST", url, NULL, ""));
}

char *fault_url(const struct server *f, const char *path)
{
	char *u;

	if (asprintf(&u, "http://127.0.0.1:%d%s", f->port, path) < 0)
		die("out of memory");
	return u;
}

char *fault_json_url(const struct server *f, const char *json, size_t len)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *p = (const unsigned char *)json;
	char *path = malloc(len * 2 + 16), *u;
	size_t o = 0, i;

	if (path == NULL)
		die("out of memory");
	o += (size_t)sprintf(path, "/json/");
	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		path[o++] = b64[v >> 18];
		path[o++] = b64[(v >> 12) & 63];
		path[o++] = b64[(v >> 6) & 63];
		path[o++] = b64[v & 63];
	}
	if (len - i == 1) {
		unsigned v = (unsigned)p[i] << 16;
		path[o++] = b64[v >> 18];
		path[o++] = b64[(v >> 12) & 63];
	} else if (len - i == 2) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
		path[o++] = b64[v >> 18];
		path[o++] = b64[(v >> 12) & 63];
		path[o++] = b64[(v >> 6) & 63];
	}
	path[o] = '\0';
	u = fault_url(f, path);
	free(path);
	return u;
}

long fault_requests(const struct server *f)
{
	char *url = fault_url(f, "/stats");
	json_t *j = http_json("GET", url, NULL, NULL);
	long n = (long)json_integer_value(json_object_get(j, "requests"));

	json_decref(j);
	free(url);
	return n;
}

char *fault_last(const struct server *f)
{
	char *url = fault_url(f, "/last"), *body;
	long status;

	body = http_call("GET", url, NULL, NULL, &status);
	free(url);
	return body;
}

int closed_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		die("closed_port: %s", strerror(errno));
	close(fd); /* bound but never listening, and now closed: connections are refused */
	return ntohs(a.sin_port);
}

/* --- scratch tree -------------------------------------------------------------- */

static void copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out;
	ssize_t n;

	if (in < 0)
		die("%s: %s (run make first)", from, strerror(errno));
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (out < 0)
		die("%s: %s", to, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			die("%s: short write", to);
	fchmod(out, mode);
	close(in);
	close(out);
}

/*
 * The helper's user (helper_user's default), made as `make install` makes
 * it when this machine has none, and removed again at the end if we made it.
 */
static bool made_helper_user;

static void helper_user_ensure(void)
{
	if (geteuid() != 0 || getpwnam(HELPER_USER) != NULL)
		return;
	if (system("useradd --system --no-create-home --home-dir /nonexistent "
		   "--shell /usr/sbin/nologin " HELPER_USER " >/dev/null 2>&1") != 0 ||
	    getpwnam(HELPER_USER) == NULL)
		die("useradd " HELPER_USER " failed");
	made_helper_user = true;
}

void testenv_setup(void)
{
	char cwd[PATH_MAX];

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		die("getcwd");
	helper_user_ensure();
	/* Not /tmp: the module refuses files under a directory others can write. */
	snprintf(T.root, sizeof(T.root), "%s/apitoken-test.XXXXXX", unit_scratch_base());
	if (mkdtemp(T.root) == NULL)
		die("mkdtemp %s: %s", T.root, strerror(errno));
	/* The helper runs as helper_user: it must be able to reach and run its copy. */
	chmod(T.root, 0755);
	snprintf(T.module, sizeof(T.module), "%s/" TEST_BUILD "/pam_apitoken.so", cwd);
	snprintf(T.helper, sizeof(T.helper), "%s/apitoken", T.root);
	copy_file(TEST_BUILD "/apitoken", T.helper, 0755);
}

void testenv_teardown(void)
{
	char cmd[300];

	if (made_helper_user && system("userdel " HELPER_USER " >/dev/null 2>&1") == 0)
		made_helper_user = false;
	if (T.root[0] == '\0' || strstr(T.root, "/apitoken-test.") == NULL)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", T.root);
	if (system(cmd) != 0)
		fprintf(stderr, "testenv: could not remove %s\n", T.root);
}

void testenv_up(struct server *idp, struct server *fault)
{
	testenv_setup();
	if (idp != NULL)
		server_start(idp, "tests/idp/server.js");
	if (fault != NULL)
		server_start(fault, "tests/fault/server.js");
}

void testenv_down(struct server *idp, struct server *fault)
{
	if (idp != NULL)
		server_stop(idp);
	if (fault != NULL)
		server_stop(fault);
	testenv_teardown();
}

static struct server *fixture_idp, *fixture_fault;

void testenv_servers(struct server *idp, struct server *fault)
{
	fixture_idp = idp;
	fixture_fault = fault;
}

void testenv_servers_up(void)
{
	testenv_up(fixture_idp, fixture_fault);
}

void testenv_servers_down(void)
{
	testenv_down(fixture_idp, fixture_fault);
}

char *file_text(const char *path, long from)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	char chunk[8192];
	size_t n;

	if (f == NULL)
		return NULL;
	m = open_memstream(&buf, &len);
	if (m == NULL)
		die("out of memory");
	if (from > 0)
		fseek(f, from, SEEK_SET);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(f);
	fclose(m);
	return buf;
}

char *shell_output(const char *cmd, int *status)
{
	char *out = NULL, chunk[4096];
	size_t len = 0, n;
	FILE *m, *p = popen(cmd, "r");

	if (p == NULL)
		return NULL;
	m = open_memstream(&out, &len);
	if (m == NULL)
		die("out of memory");
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		fwrite(chunk, 1, n, m);
	*status = pclose(p);
	fclose(m);
	return out;
}

const char *write_file(const char *name, mode_t mode, const char *content)
{
	static char path[600];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", T.root, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	if (fd < 0)
		die("%s: %s", path, strerror(errno));
	if (content != NULL && write(fd, content, strlen(content)) != (ssize_t)strlen(content))
		die("%s: short write", path);
	fchmod(fd, mode);
	close(fd);
	return path;
}

const char *make_service(const char *conf, const char *args)
{
	static char dir[600];
	char text[8192], svc[12000];
	int n;

	n = snprintf(text, sizeof(text), "%s\n", conf ? conf : "");
	if (conf == NULL || strstr(conf, "helper =") == NULL)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "helper = %s\n", T.helper);
	if (conf == NULL || strstr(conf, "timeout_ms =") == NULL)
		n += snprintf(text + n, sizeof(text) - (size_t)n,
			      "timeout_ms = 3000\nconnect_timeout_ms = 1000\n");
	/* Never the system's cache; and none unless the test is about it. */
	if (conf == NULL || strstr(conf, "cache_dir =") == NULL)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "cache_dir = %s/cache\n", T.root);
	if (conf == NULL || strstr(conf, "cache =") == NULL)
		snprintf(text + n, sizeof(text) - (size_t)n, "cache = no\n");
	write_file("apt.conf", 0644, text);

	snprintf(dir, sizeof(dir), "%s/pam.d", T.root);
	mkdir(dir, 0755);
	snprintf(svc, sizeof(svc),
		 "auth required %s config=%s/apt.conf %s\n"
		 "account sufficient %s config=%s/apt.conf %s\n"
		 "account required pam_deny.so\n",
		 T.module, T.root, args ? args : "", T.module, T.root, args ? args : "");
	write_file("pam.d/svc", 0644, svc);
	write_file("pam.d/other", 0644,
		   "auth required pam_deny.so\naccount required pam_deny.so\n");
	return dir;
}

const char *idp_service(const struct server *idp, const char *extra, const char *args)
{
	char conf[4096], *url = idp_url(idp);

	snprintf(conf, sizeof(conf),
		 "introspection_url = %s\nclient_id = rs\nclient_secret_file = %s\n%s", url,
		 write_file("secret", 0600, "rs-secret\n"), extra ? extra : "");
	free(url);
	return make_service(conf, args);
}

long cache_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	long n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strlen(e->d_name) == 64 && strspn(e->d_name, "0123456789abcdef") == 64)
			n++;
	closedir(d);
	return n;
}

/* --- libpam -------------------------------------------------------------- */

struct conv_state {
	const char *token;
	struct pam_result *res;
};

static int converse(int n, const struct pam_message **msg, struct pam_response **resp, void *arg)
{
	struct conv_state *st = arg;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
		    msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
			st->res->prompts++;
			snprintf(st->res->prompt, sizeof(st->res->prompt), "%s", msg[i]->msg);
			r[i].resp = strdup(st->token ? st->token : "");
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* One login of service "svc" in confdir with conv; the results go into *res. */
static void pam_drive(const char *confdir, const char *user, const char *rhost,
		      const struct pam_conv *conv, struct pam_result *res)
{
	pam_handle_t *pamh = NULL;
	int r;

	r = pam_start_confdir("svc", user, conv, confdir, &pamh);
	if (r != PAM_SUCCESS)
		die("pam_start_confdir: %d", r);
	if (rhost != NULL)
		pam_set_item(pamh, PAM_RHOST, rhost);
	res->auth = pam_authenticate(pamh, 0);
	if (res->auth == PAM_SUCCESS) {
		res->acct = pam_acct_mgmt(pamh, 0);
		res->setcred = pam_setcred(pamh, PAM_ESTABLISH_CRED);
	}
	pam_end(pamh, res->auth);
}

struct pam_result pam_run(const char *confdir, const char *user, const char *rhost,
			  const char *token)
{
	struct pam_result res = {.auth = -1, .acct = -1, .setcred = -1};
	struct conv_state st = {token, &res};
	struct pam_conv conv = {converse, &st};

	pam_drive(confdir, user, rhost, &conv, &res);
	return res;
}

/* --- libpam, each prompt answered by its text ------------------------------ */

#define MAX_ANSWERS 16

struct answers_state {
	const struct pam_answer *answers;
	bool used[MAX_ANSWERS];
	struct pam_result *res;
	char *transcript;
	size_t len, at;
};

static void transcript_add(struct answers_state *st, const char *style, const char *text)
{
	int n;

	if (st->transcript == NULL || st->at >= st->len)
		return;
	n = snprintf(st->transcript + st->at, st->len - st->at, "%s:%s\n", style, text);
	if (n > 0)
		st->at += (size_t)n < st->len - st->at ? (size_t)n : st->len - st->at - 1;
}

static int converse_answers(int n, const struct pam_message **msg, struct pam_response **resp,
			    void *arg)
{
	struct answers_state *st = arg;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		int style = msg[i]->msg_style;
		size_t a;

		if (style != PAM_PROMPT_ECHO_OFF && style != PAM_PROMPT_ECHO_ON) {
			transcript_add(st, style == PAM_ERROR_MSG ? "error" : "info", msg[i]->msg);
			continue;
		}
		transcript_add(st, style == PAM_PROMPT_ECHO_OFF ? "off" : "on", msg[i]->msg);
		st->res->prompts++;
		snprintf(st->res->prompt, sizeof(st->res->prompt), "%s", msg[i]->msg);
		for (a = 0; a < MAX_ANSWERS && st->answers[a].prompt != NULL; a++)
			if (!st->used[a] && strstr(msg[i]->msg, st->answers[a].prompt) != NULL)
				break;
		if (a == MAX_ANSWERS || st->answers[a].prompt == NULL) {
			/* A prompt the test did not expect: no answer at all, as a careful client.
			 */
			for (int j = 0; j < i; j++)
				free(r[j].resp);
			free(r);
			return PAM_CONV_ERR;
		}
		st->used[a] = true;
		r[i].resp = strdup(st->answers[a].answer);
	}
	*resp = r;
	return PAM_SUCCESS;
}

struct pam_result pam_run_answers(const char *confdir, const char *user, const char *rhost,
				  const struct pam_answer *answers, char *transcript, size_t len)
{
	struct pam_result res = {.auth = -1, .acct = -1, .setcred = -1};
	struct answers_state st = {
	    .answers = answers, .res = &res, .transcript = transcript, .len = len};
	struct pam_conv conv = {converse_answers, &st};

	if (transcript != NULL && len > 0)
		transcript[0] = '\0';
	pam_drive(confdir, user, rhost, &conv, &res);
	return res;
}
