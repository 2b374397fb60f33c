/*
 * One authentication, start to end, in the order that sends nothing over
 * the network unless it has to: local checks on the token, then the issuer
 * through the helper, then the policy on what the issuer said.
 */
#include <string.h>
#include <time.h>

#include "auth.h"
#include "introspect.h"
#include "policy.h"
#include "token.h"

void auth_token(const struct apt_config *cfg, const char *user, const char *rhost,
		const char *token, size_t len, struct auth_outcome *out)
{
	struct introspect_answer ans;
	const char *reason = "internal";

	memset(out, 0, sizeof(*out));
	out->source = "local";
	token_fingerprint(token, len, cfg->token_prefixes, out->fingerprint);

	out->rc = token_check_local(token, len, cfg->token_prefixes, &reason);
	if (out->rc != APT_OK)
		goto done;

	out->source = "network";
	out->rc = introspect_token(cfg, token, len, &ans, &reason, out->err, sizeof(out->err));
	if (out->rc != APT_OK)
		goto done;
	out->rc = policy_check(cfg, &ans.claims, user, rhost, time(NULL), &reason);
	claims_free(&ans.claims);
done:
	out->reason = reason;
}
