/*
 * h_deliveries.c - /v1/webhooks/{id}/deliveries: the attempt history of
 * one of the tenant's webhooks (list, one attempt as seed 003's data),
 * a synchronous replay of one attempt, and recover of the failed ones.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "index.h"
#include "store/delivery.h"
#include "store/endpoint.h"
#include "store/probe.h"
#include "util/json.h"
#include "util/util.h"

/* Seed 003's members of a delivery, in its order; the rest stay internal. */
static const char *const seed_fields[] = { "id",	"webhookId", "webhookName",
					   "event",	"url",	     "statusCode",
					   "success",	"attempt",   "willRetry",
					   "timestamp", "request",   "response",
					   NULL };

static const char *const summary_fields[] = { "id",	    "attempt",	 "event",
					      "statusCode", "success",	 "timestamp",
					      "url",	    "webhookId", "willRetry",
					      NULL };

struct dl_ctx {
	long offset, limit, total; /* list: the page */
	uint64_t *seqs;		   /* list from the index: the page's attempts */
	long nseqs;
	const char *tenant;
	const char *webhook;
	const char *attempt_id;
	struct attempt_filter f;
	struct endpoint *ep;
	json_object *out;
	uint64_t new_id;
	int count;
};

/* pick - a new object of the named members of rec, in that order. */
static json_object *
pick(json_object *rec, const char *const *names)
{
	json_object *o = json_object_new_object(), *v;
	size_t i;

	for (i = 0; names[i] != NULL; i++)
		if (json_object_object_get_ex(rec, names[i], &v))
			json_object_object_add(o, names[i], json_object_get(v));
	return o;
}

/* endpoint_cb - the tenant's webhook, kept for its enabled flag. */
static int
endpoint_cb(struct store_txn *txn, struct dl_ctx *c)
{
	endpoint_free(c->ep);
	c->ep = NULL;
	return api_endpoint_get(txn, c->tenant, c->webhook, &c->ep);
}

/* list_cb - the webhook's matching attempts. */
static int
list_cb(struct store_txn *txn, void *arg)
{
	struct dl_ctx *c = arg;
	int rc;

	if ((rc = endpoint_cb(txn, c)) != STORE_OK)
		return rc;
	json_object_put(c->out);
	c->out = NULL;
	return attempt_page(txn, &c->f, c->offset, c->limit, &c->out, &c->total);
}

/* indexed_cb - the page's attempts the index named (some may be purged). */
static int
indexed_cb(struct store_txn *txn, void *arg)
{
	struct dl_ctx *c = arg;
	json_object *rec;
	long i;
	int rc;

	if ((rc = endpoint_cb(txn, c)) != STORE_OK)
		return rc;
	json_object_put(c->out);
	c->out = json_object_new_array();
	for (i = 0; i < c->nseqs; i++) {
		if ((rc = attempt_get_head(txn, c->seqs[i], &rec)) == STORE_NOTFOUND)
			continue;
		if (rc != STORE_OK)
			return rc;
		json_object_array_add(c->out, rec);
	}
	return STORE_OK;
}

/* one_cb - one attempt of the webhook. */
static int
one_cb(struct store_txn *txn, void *arg)
{
	struct dl_ctx *c = arg;
	const char *wid;
	int rc;

	if ((rc = endpoint_cb(txn, c)) != STORE_OK)
		return rc;
	json_object_put(c->out);
	c->out = NULL;
	if ((rc = attempt_get(txn, c->attempt_id, &c->out)) != STORE_OK)
		return rc;
	wid = json_string_member(c->out, "webhookId");
	if (wid == NULL || strcmp(wid, c->webhook) != 0)
		return STORE_NOTFOUND;
	return STORE_OK;
}

/* replay_cb - queue the attempt's delivery once more, when enabled. */
static int
replay_cb(struct store_txn *txn, void *arg)
{
	struct dl_ctx *c = arg;
	int rc;

	if ((rc = one_cb(txn, c)) != STORE_OK)
		return rc;
	if (!c->ep->enabled)
		return STORE_OK;
	return delivery_replay(txn, c->attempt_id, &c->new_id);
}

/* done_cb - the replay's attempt, once made. */
static int
done_cb(struct store_txn *txn, void *arg)
{
	struct dl_ctx *c = arg;

	json_object_put(c->out);
	return probe_delivery_done(txn, c->new_id, &c->out);
}

/* recover_cb - requeue the webhook's failed deliveries. */
static int
recover_cb(struct store_txn *txn, void *arg)
{
	struct dl_ctx *c = arg;
	int rc;

	if ((rc = endpoint_cb(txn, c)) != STORE_OK)
		return rc;
	return delivery_recover(txn, c->webhook, c->f.since, &c->count);
}

/* answer_failed - 404 for what the tenant cannot see, else 503. */
static void
answer_failed(struct api_resp *resp, const struct api_req *req, int rc, const char *what)
{
	if (rc == STORE_NOTFOUND)
		reply_error(resp, req, 404, "not_found", "no %s with this id", what);
	else
		reply_error(resp, req, 503, "unavailable",
			    "the store cannot be used now");
}

/* dl_list - GET .../deliveries?after&before&event&success&page&perPage. */
static void
dl_list(struct api *a, struct api_req *req, struct api_resp *resp, struct dl_ctx *c)
{
	const char *ev = req->query_arg(req->query_ctx, "event");
	const char *ok = req->query_arg(req->query_ctx, "success");
	json_object *page_arr;
	enum event_type t;
	int page, per_page, rc;
	size_t i;

	c->f.event = -1;
	if (query_page(req, resp, &page, &per_page) < 0
	    || query_time(req, resp, "after", &c->f.since) < 0
	    || query_time(req, resp, "before", &c->f.before) < 0)
		return;
	if (ev != NULL) {
		if (event_type_from_name(ev, &t) < 0) {
			reply_error(resp, req, 400, "invalid_parameter",
				    "event: unknown event \"%.100s\"", ev);
			return;
		}
		c->f.event = (int) t;
	}
	if (ok != NULL) {
		if (strcmp(ok, "true") == 0)
			c->f.succeeded_only = 1;
		else if (strcmp(ok, "false") == 0)
			c->f.failed_only = 1;
		else {
			reply_error(resp, req, 400, "invalid_parameter",
				    "success must be true or false");
			return;
		}
	}
	c->f.endpoint_id = c->webhook;
	c->offset = (long) (page - 1) * per_page;
	c->limit = per_page;
	if (ev == NULL && ok == NULL && c->f.since == 0 && c->f.before == 0) {
		/* the whole history of the webhook: its index names the page */
		c->seqs = xcalloc((size_t) per_page, sizeof(*c->seqs));
		rc = index_attempts(a->ix, a->st, c->webhook, c->offset, c->limit,
				    c->seqs, &c->nseqs, &c->total);
		if (rc == STORE_OK)
			rc = store_run(a->st, indexed_cb, c, 0);
		free(c->seqs);
	} else {
		rc = store_run(a->st, list_cb, c, 0);
	}
	if (rc != STORE_OK) {
		answer_failed(resp, req, rc, "webhook");
		return;
	}
	page_arr = json_object_new_array();
	for (i = 0; i < json_object_array_length(c->out); i++)
		json_object_array_add(
		    page_arr, pick(json_object_array_get_idx(c->out, i), summary_fields));
	reply_page(resp, req, page_arr, page, per_page, c->total);
}

/* dl_replay - POST .../deliveries/{d}/replay: send now, answer the result. */
static void
dl_replay(struct api *a, struct api_req *req, struct api_resp *resp, struct dl_ctx *c)
{
	json_object *data, *v;
	int64_t started, until;
	int rc;

	started = monotonic_ms();
	if ((rc = store_run(a->st, replay_cb, c, 0)) != STORE_OK) {
		answer_failed(resp, req, rc, "delivery");
		return;
	}
	if (!c->ep->enabled) {
		reply_error(resp, req, 409, "webhook_disabled",
			    "the webhook is disabled; enable it to replay");
		return;
	}
	json_object_put(c->out);
	c->out = NULL;
	until = started + a->cfg->webhook_timeout_ms + 15000;
	while (c->out == NULL && monotonic_ms() < until) {
		usleep(20 * 1000);
		if (store_run(a->st, done_cb, c, 0) != STORE_OK)
			break;
	}
	if (c->out == NULL) {
		reply_error(resp, req, 504, "not_sent",
			    "the replay was queued, but no attempt was made in time: "
			    "is posthook-webhook running?");
		return;
	}
	data = json_object_new_object();
	v = json_member(c->out, "duration");
	json_object_object_add(
	    data, "duration",
	    json_object_new_int64(v ? (int64_t) (json_object_get_double(v) * 1000)
				    : monotonic_ms() - started));
	json_object_object_add(data, "newDeliveryId",
			       json_object_get(json_member(c->out, "id")));
	json_object_object_add(data, "originalDeliveryId",
			       json_object_new_string(c->attempt_id));
	json_object_object_add(data, "statusCode",
			       json_object_get(json_member(c->out, "statusCode")));
	json_object_object_add(data, "success",
			       json_object_get(json_member(c->out, "success")));
	json_object_object_add(data, "timestamp",
			       json_object_get(json_member(c->out, "timestamp")));
	reply_ok(resp, req, 200, data);
}

/* dl_recover - POST /webhooks/{id}/recover {"since": T}. */
static void
dl_recover(struct api *a, struct api_req *req, struct api_resp *resp, struct dl_ctx *c)
{
	static const char *const fields[] = { "since", NULL };
	json_object *o, *v, *data;
	int rc;

	if ((o = body_object(req, resp, fields)) == NULL)
		return;
	v = json_member(o, "since");
	if (v == NULL
	    || !(
		(json_object_is_type(v, json_type_string)
		 && parse_time_spec(json_object_get_string(v), now_seconds(), &c->f.since)
			== 0)
		|| ((json_object_is_type(v, json_type_int)
		     || json_object_is_type(v, json_type_double))
		    && (c->f.since = json_object_get_double(v)) >= 0))) {
		json_object_put(o);
		reply_error(
		    resp, req, 422, "validation_error",
		    "since: required, ISO 8601 UTC, a span ago (2h) or epoch seconds");
		return;
	}
	json_object_put(o);
	if ((rc = store_run(a->st, recover_cb, c, 0)) != STORE_OK) {
		answer_failed(resp, req, rc, "webhook");
		return;
	}
	data = json_object_new_object();
	json_object_object_add(data, "recovered", json_object_new_int(c->count));
	reply_ok(resp, req, 200, data);
}

/* h_deliveries - see api.h. */
void
h_deliveries(struct api *a, struct api_req *req, struct api_resp *resp)
{
	struct dl_ctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.tenant = req->tenant;
	c.webhook = req->route.webhook;
	c.attempt_id = req->route.delivery;
	switch (req->route.id) {
	case R_DELIVERIES:
		dl_list(a, req, resp, &c);
		break;
	case R_DELIVERY:
		if ((rc = store_run(a->st, one_cb, &c, 0)) != STORE_OK)
			answer_failed(resp, req, rc, "delivery");
		else
			reply_ok(resp, req, 200, pick(c.out, seed_fields));
		break;
	case R_DELIVERY_REPLAY:
		dl_replay(a, req, resp, &c);
		break;
	default:
		dl_recover(a, req, resp, &c);
		break;
	}
	json_object_put(c.out);
	endpoint_free(c.ep);
}
