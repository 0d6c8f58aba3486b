/*
 * dispatch.c - one request from route to answer: match the path, check
 * the key (except on /health, the JWKS and /metrics, which have their own
 * rules), and call the route's handler.
 */
#include <string.h>

#include "api.h"
#include "api/apikey.h"
#include "util/util.h"

/* api_dispatch - see api.h. */
void
api_dispatch(struct api *a, struct api_req *req, struct api_resp *resp)
{
	enum route_status rs;

	__atomic_add_fetch(&a->requests, 1, __ATOMIC_RELAXED);
	rs = router_match(req->method, req->path, &req->route);
	if (rs == ROUTE_NOT_FOUND) {
		reply_error(resp, req, 404, "not_found", "no such path");
		goto out;
	}
	if (rs == ROUTE_BAD_METHOD) {
		router_allow_header(req->route.allowed, resp->allow, sizeof(resp->allow));
		reply_error(resp, req, 405, "method_not_allowed",
			    "%s is not allowed here", req->method);
		goto out;
	}
	switch (req->route.id) {
	case R_HEALTH:
		h_health(a, req, resp);
		goto out;
	case R_JWKS:
		h_jwks(a, req, resp);
		goto out;
	case R_METRICS:
		h_metrics(a, req, resp);
		goto out;
	default:
		break;
	}
	if (auth_request(a, req, resp) < 0)
		goto out;
	switch (req->route.id) {
	case R_WEBHOOKS:
	case R_WEBHOOK:
	case R_WEBHOOK_TEST:
		h_webhooks(a, req, resp);
		break;
	case R_WEBHOOK_RECOVER:
	case R_DELIVERIES:
	case R_DELIVERY:
	case R_DELIVERY_REPLAY:
		h_deliveries(a, req, resp);
		break;
	case R_EMAILS:
	case R_EMAIL:
	case R_EMAIL_DELIVERIES:
	case R_EMAIL_RETRY:
		h_emails(a, req, resp);
		break;
	case R_EVENTS:
		h_events(a, req, resp);
		break;
	case R_LIMITS:
		h_limits(a, req, resp);
		break;
	default:
		reply_error(resp, req, 404, "not_found", "no such path");
		break;
	}
out:
	if (resp->status >= 400)
		__atomic_add_fetch(&a->errors, 1, __ATOMIC_RELAXED);
	apikey_free(req->key);
	req->key = NULL;
}
