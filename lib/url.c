/* The https-or-loopback rule for the URLs we talk to (see url.h). */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "decimal.h"
#include "url.h"

bool url_scheme_allowed(const char *url)
{
	return strncasecmp(url, "https://", 8) == 0 || url_is_loopback_http(url);
}

bool url_is_loopback_http(const char *url)
{
	const char *host, *end;
	size_t n;

	if (strncasecmp(url, "http://", 7) != 0)
		return false;
	host = url + 7;
	if (strchr(host, '@') != NULL && strchr(host, '@') < host + strcspn(host, "/?#"))
		return false; /* userinfo: the real host is elsewhere in the string */
	if (host[0] == '[') {
		end = strchr(host, ']');
		return end != NULL && (size_t)(end - host) == 4 && strncmp(host, "[::1]", 5) == 0 &&
		       (end[1] == '\0' || strchr(":/?#", end[1]) != NULL);
	}
	n = strcspn(host, ":/?#");
	if (n == 9 && strncasecmp(host, "localhost", 9) == 0)
		return true;
	if (n >= 7 && strncmp(host, "127.", 4) == 0) {
		/*
		 * Four decimal octets, digits only, no leading zeros: no shorthand,
		 * sign, space or octal form ("127.0.0.08" is a name to curl and to
		 * getaddrinfo) that a resolver could read differently.
		 */
		const char *p = host;
		int parts = 0;

		end = host + n;
		while (p < end) {
			long long v;
			size_t d = 0;

			while (p + d < end && p[d] >= '0' && p[d] <= '9')
				d++;
			if (decimal_parse(p, d, 0, 255, &v) < 0)
				return false;
			p += d;
			if (++parts == 4)
				return p == end;
			if (p == end || *p != '.')
				return false;
			p++;
		}
	}
	return false;
}
