/*
 * libFuzzer harness for http_parse_retry_after (helper/http.c), the
 * Retry-After of a 429/503 (delta-seconds, or an HTTP date through
 * libcurl's curl_getdate), and the trip of its value to the module.
 *
 * Oracles: the result is -1 or within 0..PROTO_RETRY_AFTER_MAX; a value of
 * digits (white space around) is its number, capped; and the helper's
 * error response carrying it is read by the module with that same
 * retry_after and reason rate_limited (a value the helper sends that the
 * module refuses would lose the backoff: the bug fixed in a4d57fc).
 */
#include "commands.h"
#include "http.h"
#include "introspect.h"
#include "oracle.h"
#include "proto.h"

#define NOW 1700000000L

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v = strndup((const char *)data, size);
	struct introspect_answer ans;
	struct buf out = BUF_INIT;
	const char *reason, *d;
	long secs;

	if (v == NULL)
		return 0;
	secs = http_parse_retry_after(v, NOW);
	CHECK(secs == -1 || (secs >= 0 && secs <= PROTO_RETRY_AFTER_MAX));

	d = v + strspn(v, " \t");
	if (*d >= '0' && *d <= '9') {
		size_t nd = strspn(d, "0123456789");
		const char *rest = d + nd;

		if (rest[strspn(rest, " \t\r\n")] == '\0') {
			long want = 0;
			for (size_t i = 0; i < nd && want <= PROTO_RETRY_AFTER_MAX; i++)
				want = want * 10 + (d[i] - '0');
			CHECK(secs ==
			      (want > PROTO_RETRY_AFTER_MAX ? PROTO_RETRY_AFTER_MAX : want));
		} else {
			CHECK(secs == -1);
		}
	}

	introspect_respond_error(&out, "rate_limited", 429, secs);
	CHECK(introspect_parse_response(out.p, out.len, &ans, &reason) == APT_UNAVAIL);
	CHECK(strcmp(reason, "rate_limited") == 0 && ans.http_status == 429 &&
	      ans.retry_after == secs);
	buf_free(&out);
	free(v);
	return 0;
}
