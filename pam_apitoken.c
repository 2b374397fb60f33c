/*
 * pam_apitoken: PAM entry points only. Read the arguments, get the user, the
 * remote host and the token, hand them to the core, log one audit line and
 * map the core's result onto a PAM code (DESIGN.md §5). No decision is made
 * here.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "audit.h"
#include "auth.h"
#include "buf.h"
#include "config.h"
#include "fingerprint.h"

#define DATA_USER "pam_apitoken.user"
/* Read no further: the local checks refuse anything over 4096 bytes anyway. */
#define TOKEN_READ_MAX 65536

static int pam_code(enum apt_rc rc)
{
	switch (rc) {
	case APT_OK:
		return PAM_SUCCESS;
	case APT_DENY:
		return PAM_AUTH_ERR;
	case APT_UNAVAIL:
		return PAM_AUTHINFO_UNAVAIL;
	case APT_SERVICE:
		return PAM_SERVICE_ERR;
	case APT_NOMEM:
		return PAM_BUF_ERR;
	}
	return PAM_SERVICE_ERR;
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void audit(pam_handle_t *pamh, const struct apt_config *cfg, const struct auth_outcome *o,
		  const char *user, const char *rhost, const struct timespec *t0)
{
	const void *service = NULL;
	struct audit_rec r = {
	    .result = apt_rc_word(o->rc),
	    .reason = o->reason,
	    .user = user,
	    .rhost = rhost,
	    .token = o->fingerprint[0] ? o->fingerprint : NULL, /* "-" in syslog, null in JSON */
	    .source = o->source,
	    .ms = elapsed_ms(t0),
	    /* A login a map let through went to the user the map named. */
	    .mapped_user = cfg->usermap != NULL && o->rc == APT_OK ? user : NULL,
	};
	char line[1024], why[512];

	if (o->warn[0] != '\0')
		pam_syslog(pamh, LOG_WARNING, "%s", o->warn);
	if (o->err[0] != '\0')
		pam_syslog(pamh, LOG_ERR, "%s", o->err);
	audit_format(&r, line, sizeof(line));
	pam_syslog(pamh,
		   o->rc == APT_OK     ? LOG_INFO
		   : o->rc == APT_DENY ? LOG_NOTICE
				       : LOG_ERR,
		   "%s", line);
	/* The decision is made: a file we cannot use costs one error line, not the login. */
	if (cfg->audit_file != NULL) {
		if (pam_get_item(pamh, PAM_SERVICE, &service) == PAM_SUCCESS)
			r.service = service;
		if (audit_append_json(cfg->audit_file, &r, why, sizeof(why)) < 0)
			pam_syslog(pamh, LOG_ERR,
				   "audit_file %s; this audit line went to syslog only", why);
	}
}

/*
 * The token, as our own copy (*tok, freed with free_secret()), and whether
 * it was PAM_AUTHTOK (*from_item). With use_first_pass or try_first_pass it
 * is the PAM_AUTHTOK an earlier module set; otherwise, or when
 * try_first_pass finds none, we ask ourselves with the configured prompt,
 * echo off. Not pam_get_authtok(): it hands back a PAM_AUTHTOK an earlier
 * module set (a pam_unix password would go to the issuer, DESIGN.md §5) and
 * stores what it reads there, for every later module of the stack to read.
 */
static int get_token(pam_handle_t *pamh, const struct apt_config *cfg, char **tok, bool *from_item)
{
	const void *item = NULL;
	char *resp = NULL;
	int r;

	*tok = NULL;
	*from_item = false;
	if (cfg->use_first_pass || cfg->try_first_pass) {
		if (pam_get_item(pamh, PAM_AUTHTOK, &item) == PAM_SUCCESS && item != NULL) {
			*tok = strndup(item, TOKEN_READ_MAX);
			*from_item = true;
			return *tok != NULL ? PAM_SUCCESS : PAM_BUF_ERR;
		}
		if (cfg->use_first_pass)
			return PAM_AUTH_ERR;
	}
	r = pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &resp, "%s", cfg->prompt);
	if (r != PAM_SUCCESS) {
		free_secret(resp);
		return r;
	}
	*tok = resp;
	return resp != NULL ? PAM_SUCCESS : PAM_CONV_ERR;
}

/*
 * The session's scopes and token fingerprint (auth.h). Set even when empty:
 * a variable the client sent under the same name must not survive.
 */
static int export_grant(pam_handle_t *pamh, const struct auth_outcome *o)
{
	char var[sizeof(AUTH_ENV_SCOPES "=") + AUTH_SCOPES_MAX];

	snprintf(var, sizeof(var), AUTH_ENV_SCOPES "=%s", o->scopes);
	if (pam_putenv(pamh, var) != PAM_SUCCESS)
		return -1;
	snprintf(var, sizeof(var), AUTH_ENV_TOKEN_FP "=%s", o->fingerprint);
	return pam_putenv(pamh, var) == PAM_SUCCESS ? 0 : -1;
}

static void free_data(pam_handle_t *pamh, void *data, int status)
{
	(void)pamh;
	(void)status;
	free(data);
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct apt_config cfg;
	struct auth_outcome o;
	struct timespec t0;
	const char *user = NULL;
	const void *rhost = NULL;
	char *tok = NULL, *saved;
	size_t toklen;
	bool from_item = false;
	int r;

	(void)flags;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&o, 0, sizeof(o));
	o.source = "local";
	pam_set_data(pamh, DATA_USER, NULL, NULL);
	pam_get_item(pamh, PAM_RHOST, &rhost);

	o.rc = config_load(&cfg, argc, argv, o.err, sizeof(o.err));
	if (o.rc != APT_OK) {
		o.reason = o.rc == APT_NOMEM ? "no_memory" : "config";
		goto out;
	}
	r = pam_get_user(pamh, &user, NULL);
	if (r != PAM_SUCCESS || user == NULL || user[0] == '\0') {
		o.rc = r == PAM_BUF_ERR ? APT_NOMEM : APT_DENY;
		o.reason = "no_user";
		user = NULL;
		goto out;
	}
	r = get_token(pamh, &cfg, &tok, &from_item);
	if (r != PAM_SUCCESS || tok == NULL) {
		o.rc = r == PAM_BUF_ERR ? APT_NOMEM : APT_DENY;
		o.reason = "no_token";
		goto out;
	}
	/* ms= is the module's own time: from the token in hand to the decision. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	toklen = strnlen(tok, TOKEN_READ_MAX);
	if (cfg.debug)
		pam_syslog(pamh, LOG_DEBUG,
			   "config=%s verify=%s url=%s helper=%s as=%s timeout_ms=%ld",
			   cfg.config ? cfg.config : "(none)", config_verify(&cfg),
			   config_endpoint(&cfg), cfg.helper, cfg.helper_user, cfg.timeout_ms);
	auth_token(&cfg, user, rhost, tok, toklen, &o);
	/*
	 * A PAM_AUTHTOK that was a good token is ours now: no later module of
	 * the stack gets to read it. Refused, it stays as the earlier module
	 * set it: it may be that module's password, which a later
	 * try_first_pass module still needs (pam_apitoken(8), PAM_AUTHTOK).
	 */
	if (o.rc == APT_OK && from_item && pam_set_item(pamh, PAM_AUTHTOK, NULL) != PAM_SUCCESS) {
		o.rc = APT_SERVICE;
		o.reason = "internal";
		snprintf(o.err, sizeof(o.err), "cannot clear PAM_AUTHTOK");
	}
	if (o.rc == APT_OK) {
		/* For acct_mgmt: this module vouches for this user, no other. */
		saved = strdup(user);
		if (saved == NULL ||
		    pam_set_data(pamh, DATA_USER, saved, free_data) != PAM_SUCCESS) {
			free(saved);
			o.rc = APT_NOMEM;
			o.reason = "no_memory";
		}
	}
	/* Without them the session could run on scopes the client chose: no login. */
	if (o.rc == APT_OK && export_grant(pamh, &o) < 0) {
		o.rc = APT_NOMEM;
		o.reason = "no_memory";
	}
out:
	audit(pamh, &cfg, &o, user, rhost, &t0);
	free_secret(tok);
	config_free(&cfg);
	return pam_code(o.rc);
}

/* sshd fails the login unless setcred succeeds; the module has no credentials to set. */
PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}

/* Account is fine for the user we just authenticated; for anyone else we have no say. */
PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const void *data = NULL;
	const char *user = NULL;

	(void)flags;
	(void)argc;
	(void)argv;
	if (pam_get_data(pamh, DATA_USER, &data) != PAM_SUCCESS || data == NULL)
		return PAM_IGNORE;
	if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || user == NULL)
		return PAM_IGNORE;
	return strcmp(user, data) == 0 ? PAM_SUCCESS : PAM_IGNORE;
}
