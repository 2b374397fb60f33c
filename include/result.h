/*
 * The one result type of the core. The PAM glue maps it onto PAM codes
 * (DESIGN.md §5) and nothing else does: every layer below speaks only this.
 */
#ifndef APITOKEN_RESULT_H
#define APITOKEN_RESULT_H

enum apt_rc {
	APT_OK = 0,  /* allowed / succeeded                      -> PAM_SUCCESS */
	APT_DENY,    /* the token does not grant this login      -> PAM_AUTH_ERR */
	APT_UNAVAIL, /* issuer or helper could not answer        -> PAM_AUTHINFO_UNAVAIL */
	APT_SERVICE, /* bad or unsafe configuration              -> PAM_SERVICE_ERR */
	APT_NOMEM,   /* out of memory                            -> PAM_BUF_ERR */
};

#endif
