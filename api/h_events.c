/*
 * h_events.c - GET /v1/events?after=CURSOR&limit=N: the tenant's events in
 * the order they were made, each exactly the envelope its webhooks
 * received, for an application to fetch what its webhooks missed (seed
 * 001).  Beyond Ark's API.  The cursor is the last delivery id read, so
 * only events fanned out to one of the tenant's webhooks are here; test
 * events and replays are not.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "store/delivery.h"
#include "store/endpoint.h"
#include "store/message.h"
#include "store/probe.h"
#include "util/json.h"
#include "util/util.h"

#define EVENTS_DEFAULT 100
#define EVENTS_MAX 1000

struct ev_ctx {
	struct store_txn *txn;
	const char *tenant;
	json_object *owners; /* message token -> its tenant's name */
	json_object *mine;   /* endpoint id -> true: the tenant's */
	json_object *list;
	char last_key[256]; /* one envelope per event */
	uint64_t cursor;
	int limit;
};

/*
 * foreign - is d about a message of another tenant?  The fan-out sends a
 * tenant's webhooks only its own events; this keeps the answer right
 * for deliveries made before it did.
 */
static int
foreign(struct ev_ctx *c, const struct delivery *d)
{
	const char *tok = json_string_member(json_member(d->payload, "message"), "token");
	struct message_record *r;
	json_object *owner;

	if (tok == NULL)
		return 0;
	if (!json_object_object_get_ex(c->owners, tok, &owner)) {
		owner = NULL;
		if (message_get_by_token(c->txn, tok, &r) == STORE_OK) {
			owner = json_object_new_string(tenant_of(r->tenant));
			message_record_free(r);
		}
		json_object_object_add(c->owners, tok, owner);
	}
	return owner != NULL && strcmp(json_object_get_string(owner), c->tenant) != 0;
}

/* each_fn - add d's envelope when it is the tenant's and new. */
static int
each_fn(const struct delivery *d, void *arg)
{
	struct ev_ctx *c = arg;

	if ((int) json_object_array_length(c->list) >= c->limit) {
		/* the same event for another webhook follows at once: skip it too */
		if (d->event_key != NULL && strcmp(d->event_key, c->last_key) == 0) {
			c->cursor = d->id;
			return 0;
		}
		return 1;
	}
	c->cursor = d->id;
	if (d->replay || d->event_key == NULL || probe_is_test(d->event_key)
	    || !json_object_object_get_ex(c->mine, d->endpoint_id, NULL)
	    || strcmp(d->event_key, c->last_key) == 0 || foreign(c, d))
		return 0;
	snprintf(c->last_key, sizeof(c->last_key), "%s", d->event_key);
	json_object_array_add(c->list,
			      event_envelope(d->type, d->timestamp, d->uuid, d->payload));
	return 0;
}

/* events_cb - the tenant's endpoints, then its events after the cursor. */
static int
events_cb(struct store_txn *txn, void *arg)
{
	struct ev_ctx *c = arg;
	struct endpoint **eps;
	uint64_t start = c->cursor;
	int rc, n, i;

	if ((rc = endpoint_list(txn, &eps, &n)) != STORE_OK)
		return rc;
	json_object_put(c->mine);
	c->mine = json_object_new_object();
	for (i = 0; i < n; i++)
		if (strcmp(tenant_of(eps[i]->tenant), c->tenant) == 0)
			json_object_object_add(c->mine, eps[i]->id, NULL);
	endpoint_list_free(eps, n);
	json_object_put(c->list);
	c->list = json_object_new_array();
	json_object_put(c->owners);
	c->owners = json_object_new_object();
	c->txn = txn;
	c->last_key[0] = 0;
	rc = delivery_each(txn, start, NULL, each_fn, c);
	if (rc != STORE_OK)
		c->cursor = start;
	return rc;
}

/* h_events - see api.h. */
void
h_events(struct api *a, struct api_req *req, struct api_resp *resp)
{
	const char *after = req->query_arg(req->query_ctx, "after");
	const char *limit = req->query_arg(req->query_ctx, "limit");
	struct ev_ctx c;
	json_object *data;
	char *end, next[32];
	long n;

	memset(&c, 0, sizeof(c));
	c.tenant = req->tenant;
	c.limit = EVENTS_DEFAULT;
	if (after != NULL) {
		c.cursor = strtoull(after, &end, 10);
		if (*after == 0 || *end != 0 || *after == '-') {
			reply_error(resp, req, 400, "invalid_parameter",
				    "after must be a cursor this endpoint returned");
			return;
		}
	}
	if (limit != NULL) {
		n = strtol(limit, &end, 10);
		if (*limit == 0 || *end != 0 || n < 1 || n > EVENTS_MAX) {
			reply_error(resp, req, 400, "invalid_parameter",
				    "limit must be a whole number from 1 to %d",
				    EVENTS_MAX);
			return;
		}
		c.limit = (int) n;
	}
	if (store_run(a->st, events_cb, &c, 0) != STORE_OK) {
		json_object_put(c.mine);
		json_object_put(c.list);
		json_object_put(c.owners);
		reply_error(resp, req, 503, "unavailable",
			    "the store cannot be used now");
		return;
	}
	snprintf(next, sizeof(next), "%" PRIu64, c.cursor);
	data = json_object_new_object();
	json_object_object_add(data, "events", c.list);
	json_object_object_add(data, "cursor", json_object_new_string(next));
	json_object_put(c.mine);
	json_object_put(c.owners);
	reply_ok(resp, req, 200, data);
}
