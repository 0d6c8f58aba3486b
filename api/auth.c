/*
 * auth.c - who is calling: the bearer key, its rate limit, and the tenant
 * a request may see.  A key sees its own tenant; an --all-tenants key
 * sees "default" under /v1/... and any tenant under /v1/tenants/{t}/.
 * A tenant the key may not see is answered 404, as an unknown one is, so
 * that no answer confirms another tenant's objects exist.
 */
#include <string.h>
#include <strings.h>

#include "api.h"
#include "api/apikey.h"
#include "ratelimit.h"
#include "util/log.h"
#include "util/util.h"

/* auth_bearer - see api.h. */
const char *
auth_bearer(const char *header)
{
	if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
		return NULL;
	header += 7;
	while (*header == ' ')
		header++;
	return *header != 0 ? header : NULL;
}

struct find_ctx {
	const char *text;
	struct apikey *key;
};

/* find_cb - the key, noting its use. */
static int
find_cb(struct store_txn *txn, void *arg)
{
	struct find_ctx *c = arg;
	int rc;

	apikey_free(c->key);
	c->key = NULL;
	if ((rc = apikey_find(txn, c->text, &c->key)) != STORE_OK)
		return rc;
	return apikey_touch(txn, c->key, now_seconds());
}

/* auth_request - see api.h. */
int
auth_request(struct api *a, struct api_req *req, struct api_resp *resp)
{
	struct find_ctx c;
	int rc, wait_s;

	memset(&c, 0, sizeof(c));
	c.text = auth_bearer(req->authorization);
	if (c.text == NULL || strlen(c.text) != APIKEY_LEN) {
		reply_error(
		    resp, req, 401, "unauthorized",
		    "send a valid API key as \"Authorization: Bearer ph_live_...\"");
		return -1;
	}
	rc = store_run(a->st, find_cb, &c, 0);
	if (rc == STORE_NOTFOUND) {
		reply_error(resp, req, 401, "unauthorized", "the API key is not valid");
		return -1;
	}
	if (rc != STORE_OK) {
		reply_error(resp, req, 503, "unavailable",
			    "the store cannot be read now");
		return -1;
	}
	req->key = c.key;
	if (!ratelimit_take(a->rl, c.key->id, monotonic_ms(), &wait_s)) {
		__atomic_add_fetch(&a->rate_limited, 1, __ATOMIC_RELAXED);
		resp->retry_after = wait_s;
		reply_error(resp, req, 429, "rate_limited",
			    "too many requests for this key: try again in %d s", wait_s);
		return -1;
	}
	if (req->route.tenant_given) {
		if (!c.key->all_tenants
		    && strcmp(c.key->tenant, req->route.tenant) != 0) {
			reply_error(resp, req, 404, "not_found", "no such tenant");
			return -1;
		}
		req->tenant = req->route.tenant;
	} else {
		req->tenant = c.key->all_tenants ? TENANT_DEFAULT : c.key->tenant;
	}
	if (c.key->read_only && req->route.method != M_GET) {
		reply_error(resp, req, 403, "read_only", "this API key may only read");
		return -1;
	}
	return 0;
}
