/*
 * Which URLs the module and the helper may send a token or a secret to
 * (DESIGN.md §4): https://, or http:// only when the host is loopback, so
 * that nothing leaves the machine in clear. One rule for introspection_url,
 * the client's cert_url and token_url, and the helper's last check before
 * the request.
 */
#ifndef APITOKEN_URL_H
#define APITOKEN_URL_H

#include <stdbool.h>

/* True for https:// (any case), and for http:// when url_is_loopback_http(). */
bool url_scheme_allowed(const char *url);

/*
 * True for http:// URLs whose host is 127.0.0.0/8 in the plain four-octet
 * form, [::1] or localhost; never when userinfo could hide the real host.
 */
bool url_is_loopback_http(const char *url);

#endif
