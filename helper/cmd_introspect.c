/*
 * `apitoken introspect`: the module's network hands. Reads one request on
 * stdin (proto.h), makes the RFC 7662 call, turns the JSON answer into typed
 * claims and writes one response on stdout. It never decides anything: the
 * policy is applied by the module on what this returns.
 *
 * Runs as helper_user with an empty environment; the token and the client
 * secret arrive on stdin only and are zeroed when the buffers are freed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <jansson.h>

#include "claims.h"
#include "commands.h"
#include "file.h"
#include "http.h"
#include "proto.h"

#define MAX_BODY (64 * 1024) /* DESIGN.md §5: a larger answer is an error */

/* A field copied out of the request into its own (zeroed-on-free) buffer. */
static int field_buf(const struct proto_msg *m, const char *key, struct buf *out)
{
	const struct proto_field *f = proto_get(m, key);

	if (f == NULL)
		return 0;
	if (buf_append(out, f->val, f->len) < 0)
		return -1;
	return 1;
}

/* One JSON value as a typed claim (see claims.h). */
static int to_claim(json_t *v, struct claim *c)
{
	struct buf items = BUF_INIT;
	size_t i;
	json_t *e;
	double d;
	int r = 0;

	memset(c, 0, sizeof(*c));
	if (v == NULL)
		return 0;
	if (json_is_string(v)) {
		c->type = CLAIM_STRING;
		return claim_set_string(c, json_string_value(v), json_string_length(v));
	}
	if (json_is_boolean(v)) {
		c->type = CLAIM_BOOL;
		c->n = json_is_true(v);
		return 0;
	}
	if (json_is_integer(v)) {
		c->type = CLAIM_INT;
		c->n = json_integer_value(v);
		return 0;
	}
	if (json_is_real(v)) {
		/* 1700000000.0 is a NumericDate too; 1.5 is not something to round. */
		d = json_real_value(v);
		if (isfinite(d) && d == floor(d) && fabs(d) < 9007199254740992.0) {
			c->type = CLAIM_INT;
			c->n = (long long)d;
		} else {
			c->type = CLAIM_OTHER;
		}
		return 0;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, e)
		{
			if (!json_is_string(e)) {
				c->type = CLAIM_OTHER;
				buf_free(&items);
				return 0;
			}
			claim_list_add(&items, json_string_value(e), json_string_length(e));
		}
		c->type = CLAIM_LIST;
		r = items.failed ? -1
				 : claim_set_string(c, items.p ? (char *)items.p : "", items.len);
		buf_free(&items);
		return r;
	}
	c->type = CLAIM_OTHER;
	return 0;
}

void introspect_respond_error(struct buf *out, const char *error, long status, long retry_after)
{
	proto_begin(out, PROTO_RESPONSE_MAGIC);
	proto_put_str(out, PROTO_RESP_STATUS, PROTO_STATUS_ERROR);
	proto_put_str(out, PROTO_RESP_ERROR, error);
	if (status > 0)
		proto_put_long(out, PROTO_RESP_HTTP_STATUS, status);
	if (retry_after >= 0)
		proto_put_long(out, PROTO_RESP_RETRY_AFTER, retry_after);
	proto_end(out);
}

/*
 * The member at a dot path ("account.username", claims.h): each segment a
 * member of the object the one before it named. NULL, absent, when a member
 * is missing or a step goes through anything but an object.
 */
static json_t *path_get(json_t *root, const char *path)
{
	json_t *v = root;
	const char *p = path, *dot;

	for (;;) {
		dot = strchr(p, '.');
		if (!json_is_object(v))
			return NULL;
		v = json_object_getn(v, p, dot ? (size_t)(dot - p) : strlen(p));
		if (dot == NULL)
			return v;
		p = dot + 1;
	}
}

/*
 * The claims of a 200 answer, or an error word. username, ip_ranges and
 * scope are looked up at the configured paths, and sent under their own
 * names: the module never sees the shape of the issuer's JSON. userinfo: the
 * answer is an account, not an introspection; that it came at all makes the
 * token active (DESIGN.md §4), unless it says "active" itself, which then
 * counts as it is (anything but true denies).
 */
static const char *respond_claims(struct buf *out, const struct buf *body, const char *user_claim,
				  const char *ranges_claim, const char *scope_claim, int userinfo)
{
	const char *names[CLAIM_COUNT];
	struct claims cl;
	json_error_t jerr;
	json_t *root;
	int i, r = 0;

	root = json_loadb(body->p ? (const char *)body->p : "", body->len,
			  JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		return PROTO_ERR_BAD_JSON;
	}
	for (i = 0; i < CLAIM_COUNT; i++)
		names[i] = claim_names[i];
	names[CLAIM_USERNAME] = user_claim;
	names[CLAIM_IP_RANGES] = ranges_claim;
	names[CLAIM_SCOPE] = scope_claim;

	memset(&cl, 0, sizeof(cl));
	for (i = 0; i < CLAIM_COUNT && r == 0; i++)
		r = to_claim(path_get(root, names[i]), &cl.c[i]);
	json_decref(root);
	if (userinfo && cl.c[CLAIM_ACTIVE].type == CLAIM_ABSENT) {
		cl.c[CLAIM_ACTIVE].type = CLAIM_BOOL;
		cl.c[CLAIM_ACTIVE].n = 1;
	}
	if (r == 0) {
		proto_begin(out, PROTO_RESPONSE_MAGIC);
		proto_put_str(out, PROTO_RESP_STATUS, PROTO_STATUS_OK);
		proto_put_long(out, PROTO_RESP_HTTP_STATUS, 200);
		r = claims_put(out, &cl);
		proto_end(out);
	}
	claims_free(&cl);
	return r < 0 || out->failed ? PROTO_ERR_INTERNAL : NULL;
}

const char *introspect_respond_claims(struct buf *out, const struct buf *body,
				      const char *user_claim, const char *ranges_claim,
				      const char *scope_claim)
{
	return respond_claims(out, body, user_claim, ranges_claim, scope_claim, 0);
}

/*
 * userinfo's 401/403: the endpoint refused the token itself (it is the only
 * credential sent), so the token is inactive, an answer the module caches
 * for negative_cache_ttl like introspection's active:false.
 */
static const char *respond_inactive(struct buf *out, long status)
{
	struct claims cl;
	int r;

	memset(&cl, 0, sizeof(cl));
	cl.c[CLAIM_ACTIVE].type = CLAIM_BOOL;
	cl.c[CLAIM_ACTIVE].n = 0;
	proto_begin(out, PROTO_RESPONSE_MAGIC);
	proto_put_str(out, PROTO_RESP_STATUS, PROTO_STATUS_OK);
	proto_put_long(out, PROTO_RESP_HTTP_STATUS, status);
	r = claims_put(out, &cl);
	proto_end(out);
	return r < 0 || out->failed ? PROTO_ERR_INTERNAL : NULL;
}

static const char *status_failure(long status)
{
	/* 403 too: Django OAuth Toolkit answers bad client credentials so. */
	if (status == 401 || status == 403)
		return PROTO_ERR_CLIENT_AUTH;
	if (status == 429)
		return PROTO_ERR_RATE_LIMITED;
	if (status >= 300 && status < 400)
		return PROTO_ERR_REDIRECT;
	return PROTO_ERR_HTTP_STATUS;
}

/*
 * The module execs us with the drop to helper_user half done: real uid the
 * helper user's, effective and saved uid root (lib/child.c). Until here no
 * process of helper_user could attach to us; finish the drop before the
 * request is read, and make sure it cannot be undone. A full credential
 * change makes the kernel mark us non-dumpable, and prctl() keeps it so
 * even where fs.suid_dumpable says otherwise. -1 when the drop failed.
 */
static int finish_drop(void)
{
	uid_t ruid, euid, suid, uid = getuid();

	if (geteuid() == uid)
		return 0; /* not run by a root module: nothing to drop */
	if (uid == 0 || setresuid(uid, uid, uid) != 0)
		return -1;
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (getresuid(&ruid, &euid, &suid) != 0 || ruid != uid || euid != uid || suid != uid ||
	    setuid(0) == 0 || seteuid(0) == 0)
		return -1;
	return 0;
}

/*
 * The request, in this process's own memory: the strings in buffers of the
 * contract's limits (proto.h), the secrets in buffers zeroed when freed.
 */
struct request {
	char url[PROTO_URL_MAX + 1], ca[PROTO_CA_FILE_MAX + 1], proxy[PROTO_PROXY_MAX + 1];
	char client_id[PROTO_CLIENT_ID_MAX + 1];
	char uclaim[PROTO_CLAIM_NAME_MAX + 1], rclaim[PROTO_CLAIM_NAME_MAX + 1],
	    sclaim[PROTO_CLAIM_NAME_MAX + 1];
	struct buf token, secret, cert, key;
	struct buf user, pass, form; /* made from them for the HTTP request */
	struct buf auth_header;	     /* client_auth = bearer, or userinfo: the header line */
	int post_credentials;	     /* client_auth = post: client_id, secret in form */
	int userinfo;		     /* verify = userinfo: GET with the token as the bearer */
	struct http_request http;
};

static void request_free(struct request *r)
{
	buf_free(&r->form);
	buf_free(&r->auth_header);
	buf_free(&r->user);
	buf_free(&r->pass);
	buf_free(&r->token);
	buf_free(&r->secret);
	buf_free(&r->cert);
	buf_free(&r->key);
}

/* The fields every request has. */
static int request_required(const struct proto_msg *m, struct request *r)
{
	if (proto_get_str(m, PROTO_REQ_URL, r->url, sizeof(r->url)) < 0 ||
	    proto_get_str(m, PROTO_REQ_USERNAME_CLAIM, r->uclaim, sizeof(r->uclaim)) < 0 ||
	    proto_get_str(m, PROTO_REQ_IP_RANGES_CLAIM, r->rclaim, sizeof(r->rclaim)) < 0 ||
	    proto_get_str(m, PROTO_REQ_SCOPE_CLAIM, r->sclaim, sizeof(r->sclaim)) < 0 ||
	    proto_get_long(m, PROTO_REQ_CONNECT_TIMEOUT_MS, 1, PROTO_TIMEOUT_MS_MAX,
			   &r->http.connect_timeout_ms) < 0 ||
	    proto_get_long(m, PROTO_REQ_TIMEOUT_MS, 1, PROTO_TIMEOUT_MS_MAX, &r->http.timeout_ms) <
		0 ||
	    field_buf(m, PROTO_REQ_TOKEN, &r->token) != 1)
		return -1;
	/* lib/config.c refuses these; one with an empty segment is not from our module. */
	if (!claim_path_valid(r->uclaim) || !claim_path_valid(r->rclaim) ||
	    !claim_path_valid(r->sclaim))
		return -1;
	r->http.url = r->url;
	return 0;
}

/* An optional string field: absent is fine (*set NULL), present must fit out. */
static int optional_str(const struct proto_msg *m, const char *key, char *out, size_t outlen,
			const char **set)
{
	if (proto_get(m, key) == NULL)
		return 0;
	if (proto_get_str(m, key, out, outlen) < 0)
		return -1;
	*set = out;
	return 0;
}

/* The TLS client certificate and its key: both or neither. */
static int request_tls(const struct proto_msg *m, struct request *r)
{
	int have_cert = field_buf(m, PROTO_REQ_TLS_CERT, &r->cert);
	int have_key = field_buf(m, PROTO_REQ_TLS_KEY, &r->key);

	if (have_cert < 0 || have_key < 0 || have_cert != have_key)
		return -1;
	if (have_cert) {
		r->http.tls_cert = &r->cert;
		r->http.tls_key = &r->key;
	}
	return 0;
}

/*
 * How the request says client_id and the secret reach the endpoint
 * (PROTO_REQ_CLIENT_AUTH); absent, basic with a client_id and none without.
 */
static const char *client_auth_word(const struct proto_msg *m, char *word, size_t len)
{
	if (proto_get(m, PROTO_REQ_CLIENT_AUTH) == NULL)
		return proto_get(m, PROTO_REQ_CLIENT_ID) ? PROTO_CLIENT_AUTH_BASIC
							 : PROTO_CLIENT_AUTH_NONE;
	if (proto_get_str(m, PROTO_REQ_CLIENT_AUTH, word, len) < 0)
		return NULL;
	return word;
}

/* True when the len bytes of s are all visible ASCII: a bearer token fit for a header line. */
static int visible_ascii(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return 0;
	return len > 0;
}

/* "Authorization: Bearer <cred>" as the request's secret header: 0, or -1 out of memory. */
static int bearer_header(struct request *r, const struct buf *cred)
{
	buf_append(&r->auth_header, "Authorization: Bearer ", 22);
	buf_append(&r->auth_header, cred->p, cred->len);
	if (buf_terminate(&r->auth_header) < 0)
		return -1;
	r->http.secret_header = (char *)r->auth_header.p;
	return 0;
}

/*
 * client_id with its secret, the way client_auth says (DESIGN.md §4): basic
 * form-encodes both first (RFC 6749 §2.3.1), basic_raw sends them as typed,
 * post leaves them to request_body(), bearer sends the secret as the bearer
 * token (RFC 7662 §2.1), none sends nothing. Each way takes exactly the
 * fields it uses, so a request that disagrees with itself is refused.
 */
static int request_client_auth(const struct proto_msg *m, struct request *r)
{
	char word[16];
	const char *auth = client_auth_word(m, word, sizeof(word));
	int have_id = proto_get(m, PROTO_REQ_CLIENT_ID) != NULL;
	int have_secret = field_buf(m, PROTO_REQ_CLIENT_SECRET, &r->secret);

	/* The module sends no empty secret (lib/introspect.c refuses an empty file). */
	if (auth == NULL || have_secret < 0 || (have_secret && r->secret.len == 0) ||
	    (have_id &&
	     proto_get_str(m, PROTO_REQ_CLIENT_ID, r->client_id, sizeof(r->client_id)) < 0))
		return -1;
	if (strcmp(auth, PROTO_CLIENT_AUTH_NONE) == 0)
		return have_id || have_secret ? -1 : 0;
	if (strcmp(auth, PROTO_CLIENT_AUTH_BEARER) == 0) {
		if (have_id || !have_secret || !visible_ascii(r->secret.p, r->secret.len))
			return -1;
		return bearer_header(r, &r->secret);
	}
	if (!have_id || !have_secret)
		return -1;
	if (strcmp(auth, PROTO_CLIENT_AUTH_POST) == 0) {
		r->post_credentials = 1;
		return 0;
	}
	if (strcmp(auth, PROTO_CLIENT_AUTH_BASIC_RAW) == 0) {
		/* As typed; a ':' in the id or a NUL anywhere could not arrive as typed. */
		if (strchr(r->client_id, ':') != NULL ||
		    memchr(r->secret.p, '\0', r->secret.len) != NULL ||
		    buf_append(&r->user, r->client_id, strlen(r->client_id)) < 0 ||
		    buf_terminate(&r->user) < 0 ||
		    buf_append(&r->pass, r->secret.p, r->secret.len) < 0 ||
		    buf_terminate(&r->pass) < 0)
			return -1;
	} else if (strcmp(auth, PROTO_CLIENT_AUTH_BASIC) != 0 ||
		   http_form_encode(&r->user, r->client_id, strlen(r->client_id)) < 0 ||
		   http_form_encode(&r->pass, (char *)r->secret.p, r->secret.len) < 0) {
		return -1;
	}
	r->http.basic_user = (char *)r->user.p;
	r->http.basic_password = (char *)r->pass.p;
	return 0;
}

/*
 * verify (PROTO_REQ_VERIFY; absent, introspection). userinfo sends the
 * token as the bearer, in the Authorization header, so it takes no client
 * credentials (there is no second Authorization header for them) and a
 * token that fits a header line only: visible ASCII, no CR/LF to add a
 * header of its own. Never in the URL, which proxies and servers log.
 */
static int request_verify(const struct proto_msg *m, struct request *r)
{
	char word[16];

	if (proto_get(m, PROTO_REQ_VERIFY) == NULL)
		return 0;
	if (proto_get_str(m, PROTO_REQ_VERIFY, word, sizeof(word)) < 0)
		return -1;
	if (strcmp(word, PROTO_VERIFY_INTROSPECTION) == 0)
		return 0;
	if (strcmp(word, PROTO_VERIFY_USERINFO) != 0 || r->http.secret_header != NULL ||
	    r->http.basic_user != NULL || r->post_credentials ||
	    !visible_ascii(r->token.p, r->token.len))
		return -1;
	r->userinfo = 1;
	return bearer_header(r, &r->token);
}

/* The request read from in into r: NULL, or the error word to answer with. */
static const char *request_read(const struct buf *in, struct request *r)
{
	struct proto_msg m;

	if (proto_parse(PROTO_REQUEST_MAGIC, in->p, in->len, &m) < 0 ||
	    request_required(&m, r) < 0 ||
	    optional_str(&m, PROTO_REQ_CA_FILE, r->ca, sizeof(r->ca), &r->http.ca_file) < 0 ||
	    optional_str(&m, PROTO_REQ_PROXY, r->proxy, sizeof(r->proxy), &r->http.proxy) < 0 ||
	    request_tls(&m, r) < 0 || request_client_auth(&m, r) < 0 || request_verify(&m, r) < 0)
		return PROTO_ERR_BAD_REQUEST;
	return NULL;
}

/*
 * RFC 7662 §2.1: form-encoded token, with the hint that it is an access
 * token. userinfo: a GET, no body (the token is in the header).
 */
static const char *request_body(struct request *r)
{
	r->http.max_body = MAX_BODY;
	if (r->userinfo) {
		r->http.get = 1;
		return NULL;
	}
	buf_append(&r->form, "token=", 6);
	http_form_encode(&r->form, (char *)r->token.p, r->token.len);
	buf_append(&r->form, "&token_type_hint=access_token", 29);
	/* client_secret_post (RFC 6749 §2.3.1): the same encoding as the token's. */
	if (r->post_credentials) {
		buf_append(&r->form, "&client_id=", 11);
		http_form_encode(&r->form, r->client_id, strlen(r->client_id));
		buf_append(&r->form, "&client_secret=", 15);
		http_form_encode(&r->form, (char *)r->secret.p, r->secret.len);
	}
	if (r->form.failed)
		return PROTO_ERR_INTERNAL;
	r->http.content_type = "application/x-www-form-urlencoded";
	r->http.body = r->form.p;
	r->http.body_len = r->form.len;
	return NULL;
}

/* The response to the request in in, into out. */
static void introspect(const struct buf *in, struct buf *out)
{
	struct http_response res = {0, -1, BUF_INIT};
	struct request r;
	const char *fail;

	memset(&r, 0, sizeof(r));
	fail = request_read(in, &r);
	if (fail == NULL)
		fail = request_body(&r);
	if (fail == NULL)
		fail = http_send(&r.http, &res);
	/* userinfo: the token was the only credential, so a refusal is the token's. */
	if (fail == NULL && r.userinfo && (res.status == 401 || res.status == 403))
		fail = respond_inactive(out, res.status);
	else if (fail == NULL && res.status != 200)
		fail = status_failure(res.status);
	else if (fail == NULL)
		fail = respond_claims(out, &res.body, r.uclaim, r.rclaim, r.sclaim, r.userinfo);
	if (fail != NULL) {
		buf_free(out);
		introspect_respond_error(out, fail, res.status, res.retry_after);
	}
	request_free(&r);
	buf_free(&res.body);
}

static void usage(FILE *f)
{
	fputs("usage: apitoken introspect\n"
	      "\n"
	      "For pam_apitoken only: reads one request in the module's private format on\n"
	      "standard input (the token and the client secret are in it, never in argv),\n"
	      "asks the issuer's introspection endpoint about the token and writes the claims,\n"
	      "or the reason there are none, on standard output. It decides nothing; it\n"
	      "refuses to run when standard input is a terminal. Not for running by hand.\n"
	      "\n"
	      "  --help, -h   this text\n"
	      "\n"
	      "Exit status: 0 wrote an answer, 1 could not, 2 arguments or a terminal.\n"
	      "See apitoken(1) and pam_apitoken(8).\n",
	      f);
}

int cmd_introspect(int argc, char **argv)
{
	struct buf in = BUF_INIT, out = BUF_INIT;
	int r = 0;

	/* main() left no core limit and made us non-dumpable; the drop must keep it so. */
	if (finish_drop() < 0)
		return 126; /* the module says "could not set up (drop to ...)" */
	/* The module passes no argument: this is a person asking, stdin is not read. */
	if (argc == 2 && help_option(argv[1])) {
		usage(stdout);
		return 0;
	}
	if (argc != 1 || isatty(STDIN_FILENO)) {
		fprintf(stderr, "apitoken introspect: for the PAM module only; reads its request "
				"on standard input\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (file_read_fd(STDIN_FILENO, PROTO_MAX_MESSAGE, 0, &in, "stdin", NULL, 0) < 0)
		introspect_respond_error(&out, PROTO_ERR_BAD_REQUEST, 0, -1);
	else
		introspect(&in, &out);
	buf_free(&in);
	if (out.failed || file_write_all(STDOUT_FILENO, out.p, out.len) < 0)
		r = 1;
	buf_free(&out);
	return r;
}
