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
	proto_put_str(out, "status", "error");
	proto_put_str(out, "error", error);
	if (status > 0)
		proto_put_long(out, "http_status", status);
	if (retry_after >= 0)
		proto_put_long(out, "retry_after", retry_after);
	proto_end(out);
}

/* The claims of a 200 answer, or an error word. */
const char *introspect_respond_claims(struct buf *out, const struct buf *body,
				      const char *user_claim, const char *ranges_claim)
{
	const char *names[CLAIM_COUNT];
	json_error_t jerr;
	json_t *root;
	int i;

	root = json_loadb(body->p ? (const char *)body->p : "", body->len,
			  JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		return "bad_json";
	}
	for (i = 0; i < CLAIM_COUNT; i++)
		names[i] = claim_names[i];
	names[CLAIM_USERNAME] = user_claim;
	names[CLAIM_IP_RANGES] = ranges_claim;

	proto_begin(out, PROTO_RESPONSE_MAGIC);
	proto_put_str(out, "status", "ok");
	proto_put_long(out, "http_status", 200);
	for (i = 0; i < CLAIM_COUNT; i++) {
		struct claim c;
		struct buf v = BUF_INIT;
		char key[48];

		if (to_claim(json_object_get(root, names[i]), &c) < 0) {
			json_decref(root);
			return "internal";
		}
		if (c.type != CLAIM_ABSENT) {
			snprintf(key, sizeof(key), "claim.%s", claim_names[i]);
			claim_encode(&c, &v);
			proto_put(out, key, v.p, v.len);
		}
		free(c.s);
		buf_free(&v);
	}
	json_decref(root);
	proto_end(out);
	return out->failed ? "internal" : NULL;
}

static const char *status_failure(long status)
{
	if (status == 401)
		return "client_auth";
	if (status == 429)
		return "rate_limited";
	if (status >= 300 && status < 400)
		return "redirect";
	return "http_status";
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

int cmd_introspect(int argc, char **argv)
{
	struct buf in = BUF_INIT, out = BUF_INIT, form = BUF_INIT, user = BUF_INIT, pass = BUF_INIT,
		   token = BUF_INIT, secret = BUF_INIT, cert = BUF_INIT, key = BUF_INIT;
	struct http_response res = {0, -1, BUF_INIT};
	struct http_request req;
	struct proto_msg m;
	char url[2048], ca[1024], proxy[1024], uclaim[128], rclaim[128], client_id[512];
	long cto, to;
	const char *fail = NULL;
	int have_cert, have_key;

	(void)argv;
	/* main() left no core limit and made us non-dumpable; the drop must keep it so. */
	if (finish_drop() < 0)
		return 126; /* the module says "could not set up (drop to ...)" */
	if (argc != 1 || isatty(STDIN_FILENO)) {
		fprintf(stderr, "apitoken introspect: for the PAM module only; reads its request "
				"on standard input\n");
		return 2;
	}
	memset(&req, 0, sizeof(req));
	if (file_read_fd(STDIN_FILENO, PROTO_MAX_MESSAGE, 0, &in, "stdin", NULL, 0) < 0 ||
	    proto_parse(PROTO_REQUEST_MAGIC, in.p, in.len, &m) < 0 ||
	    proto_get_str(&m, "url", url, sizeof(url)) < 0 ||
	    proto_get_str(&m, "username_claim", uclaim, sizeof(uclaim)) < 0 ||
	    proto_get_str(&m, "ip_ranges_claim", rclaim, sizeof(rclaim)) < 0 ||
	    proto_get_long(&m, "connect_timeout_ms", 1, 600000, &cto) < 0 ||
	    proto_get_long(&m, "timeout_ms", 1, 600000, &to) < 0 ||
	    field_buf(&m, "token", &token) != 1) {
		fail = "bad_request";
		goto out;
	}
	req.url = url;
	req.connect_timeout_ms = cto;
	req.timeout_ms = to;
	if (proto_get(&m, "ca_file") != NULL) {
		if (proto_get_str(&m, "ca_file", ca, sizeof(ca)) < 0) {
			fail = "bad_request";
			goto out;
		}
		req.ca_file = ca;
	}
	if (proto_get(&m, "proxy") != NULL) {
		if (proto_get_str(&m, "proxy", proxy, sizeof(proxy)) < 0) {
			fail = "bad_request";
			goto out;
		}
		req.proxy = proxy;
	}
	have_cert = field_buf(&m, "tls_cert", &cert);
	have_key = field_buf(&m, "tls_key", &key);
	if (have_cert < 0 || have_key < 0 || have_cert != have_key) {
		fail = "bad_request";
		goto out;
	}
	if (have_cert) {
		req.tls_cert = &cert;
		req.tls_key = &key;
	}
	if (proto_get(&m, "client_id") != NULL) {
		if (proto_get_str(&m, "client_id", client_id, sizeof(client_id)) < 0 ||
		    field_buf(&m, "client_secret", &secret) != 1 ||
		    http_form_encode(&user, client_id, strlen(client_id)) < 0 ||
		    http_form_encode(&pass, (char *)secret.p, secret.len) < 0) {
			fail = "bad_request";
			goto out;
		}
		req.basic_user = (char *)user.p;
		req.basic_password = (char *)pass.p;
	}

	/* RFC 7662 §2.1: form-encoded token, with the hint that it is an access token. */
	buf_append(&form, "token=", 6);
	http_form_encode(&form, (char *)token.p, token.len);
	buf_append(&form, "&token_type_hint=access_token", 29);
	if (form.failed) {
		fail = "internal";
		goto out;
	}
	req.content_type = "application/x-www-form-urlencoded";
	req.body = form.p;
	req.body_len = form.len;
	req.max_body = MAX_BODY;

	fail = http_send(&req, &res);
	if (fail == NULL && res.status != 200)
		fail = status_failure(res.status);
	if (fail == NULL)
		fail = introspect_respond_claims(&out, &res.body, uclaim, rclaim);
out:
	if (fail != NULL) {
		buf_free(&out);
		introspect_respond_error(&out, fail, res.status, res.retry_after);
	}
	buf_free(&in);
	buf_free(&form);
	buf_free(&user);
	buf_free(&pass);
	buf_free(&token);
	buf_free(&secret);
	buf_free(&cert);
	buf_free(&key);
	buf_free(&res.body);
	if (out.failed || file_write_all(STDOUT_FILENO, out.p, out.len) < 0) {
		buf_free(&out);
		return 1;
	}
	buf_free(&out);
	return 0;
}
