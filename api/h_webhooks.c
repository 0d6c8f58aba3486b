/*
 * h_webhooks.c - /v1/webhooks: create, list, retrieve, update, delete and
 * test the tenant's webhook endpoints, as "posthookctl webhooks" does.
 * The Standard Webhooks secret is shown only in the answer that set it.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "json_body.h"
#include "event/event_sample.h"
#include "store/endpoint.h"
#include "store/probe.h"
#include "util/json.h"
#include "util/util.h"

/* api_endpoint_get - see api.h. */
int
api_endpoint_get(struct store_txn *txn, const char *tenant, const char *id,
		 struct endpoint **out)
{
	int rc;

	if ((rc = endpoint_get(txn, id, out)) != STORE_OK)
		return rc;
	if (strcmp(tenant_of((*out)->tenant), tenant) != 0) {
		endpoint_free(*out);
		*out = NULL;
		return STORE_NOTFOUND;
	}
	return STORE_OK;
}

/* apply_body - the body's fields onto ep; -1 after the 422 answer. */
static int
apply_body(struct endpoint *ep, json_object *o, const struct api_req *req,
	   struct api_resp *resp, int *secret_set)
{
	char err[800];

	if (webhook_body_apply(ep, o, err, sizeof(err), secret_set) < 0) {
		reply_error(resp, req, 422, "validation_error", "%s", err);
		return -1;
	}
	return 0;
}

struct wh_ctx {
	const char *tenant;
	const char *id;
	struct endpoint *ep;
	struct endpoint **eps;
	int n;
};

/* create_cb - store the new endpoint. */
static int
create_cb(struct store_txn *txn, void *arg)
{
	struct wh_ctx *c = arg;

	free(c->ep->id);
	c->ep->id = NULL;
	return endpoint_create(txn, c->ep);
}

/* list_cb - the tenant's endpoints. */
static int
list_cb(struct store_txn *txn, void *arg)
{
	struct wh_ctx *c = arg;

	endpoint_list_free(c->eps, c->n);
	c->eps = NULL;
	c->n = 0;
	return endpoint_list(txn, &c->eps, &c->n);
}

/* get_cb - one endpoint of the tenant. */
static int
get_cb(struct store_txn *txn, void *arg)
{
	struct wh_ctx *c = arg;

	endpoint_free(c->ep);
	c->ep = NULL;
	return api_endpoint_get(txn, c->tenant, c->id, &c->ep);
}

/* put_cb - store the changed endpoint unless it is gone. */
static int
put_cb(struct store_txn *txn, void *arg)
{
	struct wh_ctx *c = arg;
	struct endpoint *cur;
	int rc;

	if ((rc = api_endpoint_get(txn, c->tenant, c->ep->id, &cur)) != STORE_OK)
		return rc;
	endpoint_free(cur);
	return endpoint_put(txn, c->ep);
}

/* delete_cb - remove one endpoint of the tenant. */
static int
delete_cb(struct store_txn *txn, void *arg)
{
	struct wh_ctx *c = arg;
	struct endpoint *cur;
	int rc;

	if ((rc = api_endpoint_get(txn, c->tenant, c->id, &cur)) != STORE_OK)
		return rc;
	endpoint_free(cur);
	return endpoint_delete(txn, c->id);
}

/* webhook_json - the endpoint as answered; the secret only when just set. */
static json_object *
webhook_json(const struct endpoint *ep, int show_secret)
{
	json_object *o = endpoint_to_json(ep, show_secret);

	json_object_object_del(o, "tenant");
	json_object_object_add(o, "tenantId",
			       json_object_new_string(tenant_of(ep->tenant)));
	if (!show_secret)
		json_object_object_del(o, "secret");
	json_object_object_add(o, "hasSecret",
			       json_object_new_boolean(ep->secret != NULL));
	return o;
}

/* not_found - the one answer for a missing or foreign webhook. */
static void
not_found(struct api_resp *resp, const struct api_req *req)
{
	reply_error(resp, req, 404, "not_found", "no webhook with this id");
}

/* store_failed - a 503 for a store that did not answer. */
static void
store_failed(struct api_resp *resp, const struct api_req *req)
{
	reply_error(resp, req, 503, "unavailable", "the store cannot be used now");
}

/* wh_create - POST /webhooks. */
static void
wh_create(struct api *a, struct api_req *req, struct api_resp *resp)
{
	struct wh_ctx c;
	json_object *o;
	int secret_set;

	if ((o = body_object(req, resp, webhook_body_fields)) == NULL)
		return;
	if (json_member(o, "name") == NULL || json_member(o, "url") == NULL) {
		json_object_put(o);
		reply_error(resp, req, 422, "validation_error",
			    "name and url are required");
		return;
	}
	memset(&c, 0, sizeof(c));
	c.ep = endpoint_new();
	c.ep->enabled = 1;
	c.ep->all_events = json_member(o, "events") == NULL;
	if (strcmp(req->tenant, "default") != 0)
		c.ep->tenant = xstrdup(req->tenant);
	if (apply_body(c.ep, o, req, resp, &secret_set) == 0) {
		if (store_run(a->st, create_cb, &c, 0) != STORE_OK)
			store_failed(resp, req);
		else
			reply_ok(resp, req, 201, webhook_json(c.ep, secret_set));
	}
	json_object_put(o);
	endpoint_free(c.ep);
}

/* wh_list - GET /webhooks. */
static void
wh_list(struct api *a, struct api_req *req, struct api_resp *resp)
{
	struct wh_ctx c;
	json_object *arr, *data;
	int i;

	memset(&c, 0, sizeof(c));
	if (store_run(a->st, list_cb, &c, 0) != STORE_OK) {
		store_failed(resp, req);
		return;
	}
	arr = json_object_new_array();
	for (i = 0; i < c.n; i++)
		if (strcmp(tenant_of(c.eps[i]->tenant), req->tenant) == 0)
			json_object_array_add(arr, webhook_json(c.eps[i], 0));
	endpoint_list_free(c.eps, c.n);
	data = json_object_new_object();
	json_object_object_add(data, "webhooks", arr);
	reply_ok(resp, req, 200, data);
}

/* wh_one - GET, PATCH and DELETE /webhooks/{id}. */
static void
wh_one(struct api *a, struct api_req *req, struct api_resp *resp)
{
	struct wh_ctx c;
	json_object *o = NULL, *data;
	int rc, secret_set = 0;

	memset(&c, 0, sizeof(c));
	c.tenant = req->tenant;
	c.id = req->route.webhook;
	if (req->route.method == M_DELETE) {
		rc = store_run(a->st, delete_cb, &c, 0);
		if (rc == STORE_NOTFOUND) {
			not_found(resp, req);
		} else if (rc != STORE_OK) {
			store_failed(resp, req);
		} else {
			data = json_object_new_object();
			json_object_object_add(data, "message",
					       json_object_new_string("webhook deleted"));
			reply_ok(resp, req, 200, data);
		}
		return;
	}
	if (req->route.method == M_PATCH
	    && (o = body_object(req, resp, webhook_body_fields)) == NULL)
		return;
	rc = store_run(a->st, get_cb, &c, 0);
	if (rc == STORE_NOTFOUND)
		not_found(resp, req);
	else if (rc != STORE_OK)
		store_failed(resp, req);
	else if (o == NULL)
		reply_ok(resp, req, 200, webhook_json(c.ep, 0));
	else if (apply_body(c.ep, o, req, resp, &secret_set) == 0) {
		rc = store_run(a->st, put_cb, &c, 0);
		if (rc == STORE_NOTFOUND)
			not_found(resp, req);
		else if (rc != STORE_OK)
			store_failed(resp, req);
		else
			reply_ok(resp, req, 200, webhook_json(c.ep, secret_set));
	}
	json_object_put(o);
	endpoint_free(c.ep);
}

struct test_ctx {
	const char *id;
	const char *key;
	enum event_type type;
	json_object *payload;
	uint64_t after;
	int disabled;
	json_object *found;
};

/* test_queue_cb - queue the sample event for this endpoint alone. */
static int
test_queue_cb(struct store_txn *txn, void *arg)
{
	struct test_ctx *c = arg;

	return probe_queue(txn, c->id, c->key, c->type, c->payload, &c->after,
			   &c->disabled);
}

/* test_find_cb - its first attempt, once made. */
static int
test_find_cb(struct store_txn *txn, void *arg)
{
	struct test_ctx *c = arg;

	json_object_put(c->found);
	return probe_find(txn, c->key, c->after, &c->found);
}

/* wh_test - POST /webhooks/{id}/test {"event": NAME}: one attempt, answered. */
static void
wh_test(struct api *a, struct api_req *req, struct api_resp *resp)
{
	static const char *const test_fields[] = { "event", NULL };
	struct wh_ctx w;
	struct test_ctx c;
	json_object *o = NULL, *v;
	char uuid[37], *key;
	int64_t until;
	int rc;

	memset(&c, 0, sizeof(c));
	c.type = EV_MESSAGE_SENT;
	if (req->body_len > 0) {
		if ((o = body_object(req, resp, test_fields)) == NULL)
			return;
		if ((v = json_member(o, "event")) != NULL
		    && (!json_object_is_type(v, json_type_string)
			|| event_type_from_name(json_object_get_string(v), &c.type)
			       < 0)) {
			reply_error(resp, req, 422, "validation_error",
				    "event: not a known event name");
			json_object_put(o);
			return;
		}
		json_object_put(o);
	}
	memset(&w, 0, sizeof(w));
	w.tenant = req->tenant;
	w.id = req->route.webhook;
	if ((rc = store_run(a->st, get_cb, &w, 0)) != STORE_OK) {
		if (rc == STORE_NOTFOUND)
			not_found(resp, req);
		else
			store_failed(resp, req);
		return;
	}
	endpoint_free(w.ep);
	event_uuid_new(uuid);
	key = xasprintf(PROBE_TEST_KEY_PREFIX "%s", uuid);
	c.id = req->route.webhook;
	c.key = key;
	c.payload = event_sample_payload(c.type, now_seconds());
	rc = store_run(a->st, test_queue_cb, &c, 0);
	json_object_put(c.payload);
	if (rc != STORE_OK || c.disabled) {
		if (rc == STORE_NOTFOUND)
			not_found(resp, req);
		else if (c.disabled)
			reply_error(resp, req, 409, "webhook_disabled",
				    "the webhook is disabled; enable it first");
		else
			store_failed(resp, req);
		free(key);
		return;
	}
	until = monotonic_ms() + a->cfg->webhook_timeout_ms + 15000;
	while (c.found == NULL && monotonic_ms() < until) {
		usleep(50 * 1000);
		if (store_run(a->st, test_find_cb, &c, 0) != STORE_OK)
			break;
	}
	free(key);
	if (c.found == NULL) {
		reply_error(resp, req, 504, "not_sent",
			    "the test event was queued, but no attempt was made in time: "
			    "is posthook-webhook running?");
		return;
	}
	reply_ok(resp, req, 200, c.found);
}

/* h_webhooks - see api.h. */
void
h_webhooks(struct api *a, struct api_req *req, struct api_resp *resp)
{
	if (req->route.id == R_WEBHOOK_TEST)
		wh_test(a, req, resp);
	else if (req->route.id == R_WEBHOOK)
		wh_one(a, req, resp);
	else if (req->route.method == M_POST)
		wh_create(a, req, resp);
	else
		wh_list(a, req, resp);
}
