/*
 * h_emails.c - /v1/emails: the tenant's message history.  A message is
 * the milter's record; its status and delivery attempts are the delivery
 * events (Sent, Delayed, DeliveryFailed, Bounced, Held) made for it, as
 * kept with the webhook deliveries, newest deciding the status.  Retry
 * asks Postfix to try a queued message now.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "index.h"
#include "postqueue.h"
#include "store/delivery.h"
#include "store/message.h"
#include "track.h"
#include "util/json.h"
#include "util/util.h"

/* status_of - the email status an event sets, or NULL when it sets none. */
static const char *
status_of(enum event_type t)
{
	switch (t) {
	case EV_MESSAGE_SENT:
		return "sent";
	case EV_MESSAGE_DELAYED:
		return "softfail";
	case EV_MESSAGE_DELIVERY_FAILED:
		return "hardfail";
	case EV_MESSAGE_BOUNCED:
		return "bounced";
	case EV_MESSAGE_HELD:
		return "held";
	default:
		return NULL;
	}
}

/* token_of - the payload's message token, or NULL. */
static const char *
token_of(const struct delivery *d)
{
	return json_string_member(json_member(d->payload, "message"), "token");
}

/* event_time - the payload's timestamp, else the envelope's. */
static double
event_time(const struct delivery *d)
{
	json_object *v = json_member(d->payload, "timestamp");

	return v != NULL ? json_object_get_double(v) : d->timestamp;
}

/* email_json - Ark's email object for a record and its status. */
static json_object *
email_json(const struct message_record *r, const char *status)
{
	json_object *o = json_object_new_object(), *rc = json_object_new_array();
	char when[32];
	char **p;

	json_add_string(o, "id", r->token);
	json_add_string(o, "token", r->token);
	json_add_string(o, "queueId", r->queue_id);
	json_add_string(o, "messageId", r->message_id);
	json_add_string(o, "from", r->from != NULL ? r->from : "");
	json_add_string(o, "to", r->recipients[0] != NULL ? r->recipients[0] : "");
	for (p = r->recipients; *p != NULL; p++)
		json_object_array_add(rc, json_object_new_string(*p));
	json_object_object_add(o, "recipients", rc);
	json_add_string(o, "subject", r->subject != NULL ? r->subject : "");
	json_add_string(o, "status", status);
	json_add_string(o, "tenantId", tenant_of(r->tenant));
	json_object_object_add(o, "timestamp", json_double_new(r->timestamp, 6));
	iso8601_utc(r->timestamp, when, sizeof(when));
	json_add_string(o, "timestampIso", when);
	json_add_string(o, "tag", r->tag);
	json_add_string(o, "scope", r->direction != NULL ? r->direction : "outgoing");
	json_object_object_add(
	    o, "spam",
	    json_object_new_boolean(r->spam_status != NULL
				    && strcmp(r->spam_status, "Spam") == 0));
	json_object_object_add(o, "metadata", json_object_get(r->metadata));
	return o;
}

/* attempt_json - one delivery event as Ark's delivery attempt. */
static json_object *
attempt_json(const struct delivery *d)
{
	json_object *o = json_object_new_object(), *p = d->payload, *v;
	double ts = event_time(d);
	char when[32];

	json_add_string(o, "id", d->uuid);
	json_add_string(o, "event", event_type_name(d->type));
	json_add_string(o, "status", status_of(d->type));
	json_object_object_add(o, "timestamp", json_double_new(ts, 6));
	iso8601_utc(ts, when, sizeof(when));
	json_add_string(o, "timestampIso", when);
	json_add_string(o, "details", json_string_member(p, "details"));
	json_add_string(o, "output", json_string_member(p, "output"));
	v = json_member(p, "sent_with_ssl");
	json_object_object_add(o, "sentWithSsl", json_object_get(v));
	json_add_string(o, "classification", json_string_member(p, "classification"));
	json_object_object_add(o, "classificationCode",
			       json_object_get(json_member(p, "classification_code")));
	json_add_string(o, "smtpEnhancedCode",
			json_string_member(p, "smtp_enhanced_code"));
	json_add_string(o, "remoteHost", json_string_member(p, "remote_host"));
	return o;
}

/* What a scan of the deliveries collects. */
struct scan {
	const char *token;     /* one message's: NULL for all */
	json_object *seen;     /* event key -> true: one attempt per event */
	json_object *attempts; /* token given: its attempts */
	double *times;	       /* parallel to attempts */
	json_object *latest;   /* token -> [time, status] */
};

/* scan_fn - note one delivery event. */
static int
scan_fn(const struct delivery *d, void *arg)
{
	struct scan *s = arg;
	const char *tok = token_of(d), *st = status_of(d->type);
	json_object *cur;
	double ts;
	size_t n;

	if (tok == NULL || st == NULL || d->replay || d->event_key == NULL
	    || (s->token != NULL && strcmp(tok, s->token) != 0)
	    || json_object_object_get_ex(s->seen, d->event_key, NULL))
		return 0;
	json_object_object_add(s->seen, d->event_key, NULL);
	ts = event_time(d);
	if (s->token != NULL) {
		n = json_object_array_length(s->attempts);
		s->times = xrealloc(s->times, (n + 1) * sizeof(double));
		s->times[n] = ts;
		json_object_array_add(s->attempts, attempt_json(d));
	}
	if (!json_object_object_get_ex(s->latest, tok, &cur)
	    || json_object_get_double(json_object_array_get_idx(cur, 0)) <= ts) {
		cur = json_object_new_array();
		json_object_array_add(cur, json_object_new_double(ts));
		json_object_array_add(cur, json_object_new_string(st));
		json_object_object_add(s->latest, tok, cur);
	}
	return 0;
}

/* scan_status - the status the scan found for token: "pending" if none. */
static const char *
scan_status(const struct scan *s, const char *token)
{
	json_object *cur;

	if (token == NULL || !json_object_object_get_ex(s->latest, token, &cur))
		return "pending";
	return json_object_get_string(json_object_array_get_idx(cur, 1));
}

struct em_ctx {
	const struct api_req *req;
	uint64_t *ids; /* one message: its deliveries, from the index */
	size_t nids;
	struct scan scan;
	struct message_record *rec;
	/* list filters */
	const char *status, *from, *to, *tag;
	double after, before;
	json_object *list;
	int want_activity;     /* expand=activity */
	json_object *activity; /* its opens and clicks */
};

/* scan_reset - empty the scan for a (re)run of a transaction. */
static void
scan_reset(struct scan *s, const char *token)
{
	json_object_put(s->seen);
	json_object_put(s->attempts);
	json_object_put(s->latest);
	free(s->times);
	s->token = token;
	s->seen = json_object_new_object();
	s->attempts = json_object_new_array();
	s->latest = json_object_new_object();
	s->times = NULL;
}

/* one_cb - the tenant's message by token, and its events. */
static int
one_cb(struct store_txn *txn, void *arg)
{
	struct em_ctx *c = arg;
	struct delivery *d;
	size_t i;
	int rc;

	message_record_free(c->rec);
	c->rec = NULL;
	if ((rc = message_get_by_token(txn, c->req->route.email, &c->rec)) != STORE_OK)
		return rc;
	if (strcmp(tenant_of(c->rec->tenant), c->req->tenant) != 0)
		return STORE_NOTFOUND;
	json_object_put(c->activity);
	c->activity = NULL;
	if (c->want_activity
	    && (rc = track_activity_json(txn, c->rec->id, &c->activity)) != STORE_OK)
		return rc;
	scan_reset(&c->scan, c->rec->token);
	for (i = 0; i < c->nids; i++) {
		if ((rc = delivery_get(txn, c->ids[i], &d)) == STORE_NOTFOUND)
			continue;
		if (rc != STORE_OK)
			return rc;
		(void) scan_fn(d, &c->scan);
		delivery_free(d);
	}
	return STORE_OK;
}

/* has_recipient - is rcpt among r's recipients? */
static int
has_recipient(const struct message_record *r, const char *rcpt)
{
	char **p;

	for (p = r->recipients; *p != NULL; p++)
		if (strcasecmp(*p, rcpt) == 0)
			return 1;
	return 0;
}

/* list_fn - one record through the list's filters. */
static int
list_fn(const struct message_record *r, void *arg)
{
	struct em_ctx *c = arg;
	const char *st = scan_status(&c->scan, r->token);

	if (strcmp(tenant_of(r->tenant), c->req->tenant) != 0
	    || (c->status && strcmp(st, c->status) != 0)
	    || (c->from && (r->from == NULL || strcasecmp(r->from, c->from) != 0))
	    || (c->to && !has_recipient(r, c->to))
	    || (c->tag && (r->tag == NULL || strcmp(r->tag, c->tag) != 0))
	    || (c->after > 0 && r->timestamp < c->after)
	    || (c->before > 0 && r->timestamp >= c->before))
		return 0;
	json_object_array_add(c->list, email_json(r, st));
	return 0;
}

/* list_cb - every matching record, with the status of each. */
static int
list_cb(struct store_txn *txn, void *arg)
{
	struct em_ctx *c = arg;
	int rc;

	scan_reset(&c->scan, NULL);
	if ((rc = delivery_each(txn, 0, NULL, scan_fn, &c->scan)) != STORE_OK)
		return rc;
	json_object_put(c->list);
	c->list = json_object_new_array();
	return message_each(txn, list_fn, c);
}

/* newest_first - by timestamp, newest first. */
static int
newest_first(const void *a, const void *b)
{
	json_object *const *x = a, *const *y = b;
	double dx = json_object_get_double(json_member(*x, "timestamp"));
	double dy = json_object_get_double(json_member(*y, "timestamp"));

	return dx < dy ? 1 : dx > dy ? -1 : 0;
}

/* sorted_attempts - the scan's attempts in time order. */
static json_object *
sorted_attempts(struct scan *s)
{
	json_object *out = json_object_new_array();
	size_t n = json_object_array_length(s->attempts), i, j, best;
	char *used = xcalloc(n + 1, 1);

	for (i = 0; i < n; i++) {
		best = n;
		for (j = 0; j < n; j++)
			if (!used[j] && (best == n || s->times[j] < s->times[best]))
				best = j;
		used[best] = 1;
		json_object_array_add(
		    out, json_object_get(json_object_array_get_idx(s->attempts, best)));
	}
	free(used);
	return out;
}

/* em_list - GET /emails with filters, newest first, paginated. */
static void
em_list(struct api *a, struct api_req *req, struct api_resp *resp, struct em_ctx *c)
{
	static const char *const statuses[] = { "pending", "sent", "softfail", "hardfail",
						"bounced", "held", NULL };
	json_object *page_arr;
	int page, per_page, i;
	size_t n, k, first;

	if (query_page(req, resp, &page, &per_page) < 0
	    || query_time(req, resp, "after", &c->after) < 0
	    || query_time(req, resp, "before", &c->before) < 0)
		return;
	c->status = req->query_arg(req->query_ctx, "status");
	c->from = req->query_arg(req->query_ctx, "from");
	c->to = req->query_arg(req->query_ctx, "to");
	c->tag = req->query_arg(req->query_ctx, "tag");
	if (c->status != NULL) {
		for (i = 0; statuses[i] != NULL && strcmp(statuses[i], c->status) != 0;
		     i++)
			;
		if (statuses[i] == NULL) {
			reply_error(
			    resp, req, 400, "invalid_parameter",
			    "status must be one of pending, sent, softfail, hardfail, "
			    "bounced, held");
			return;
		}
	}
	if (store_run(a->st, list_cb, c, 0) != STORE_OK) {
		reply_error(resp, req, 503, "unavailable",
			    "the store cannot be used now");
		return;
	}
	json_object_array_sort(c->list, newest_first);
	n = json_object_array_length(c->list);
	page_arr = json_object_new_array();
	first = (size_t) (page - 1) * (size_t) per_page;
	for (k = first; k < n && k < first + (size_t) per_page; k++)
		json_object_array_add(
		    page_arr, json_object_get(json_object_array_get_idx(c->list, k)));
	reply_page(resp, req, page_arr, page, per_page, (long) n);
}

/* em_retry - POST /emails/{id}/retry: postqueue -i, 409 when not queued. */
static void
em_retry(struct api_req *req, struct api_resp *resp, struct em_ctx *c)
{
	json_object *data;
	int has;

	has = postqueue_has(c->rec->queue_id);
	if (has < 0) {
		reply_error(resp, req, 503, "unavailable", "postqueue could not be run");
		return;
	}
	if (has == 0) {
		reply_error(resp, req, 409, "not_queued",
			    "the message is no longer in Postfix's queue");
		return;
	}
	if (postqueue_flush(c->rec->queue_id) < 0) {
		reply_error(
		    resp, req, 409, "not_queued",
		    "Postfix did not take the retry (is the message still queued?)");
		return;
	}
	data = json_object_new_object();
	json_add_string(data, "id", c->rec->token);
	json_add_string(data, "queueId", c->rec->queue_id);
	json_add_string(data, "message", "delivery requested now");
	reply_ok(resp, req, 200, data);
}

/* h_emails - see api.h. */
void
h_emails(struct api *a, struct api_req *req, struct api_resp *resp)
{
	const char *expand;
	struct em_ctx c;
	json_object *data;
	int rc;

	memset(&c, 0, sizeof(c));
	c.req = req;
	if (req->route.id == R_EMAILS) {
		em_list(a, req, resp, &c);
		goto out;
	}
	if ((rc = index_deliveries(a->ix, a->st, req->route.email, &c.ids, &c.nids))
	    != STORE_OK) {
		reply_error(resp, req, 503, "unavailable",
			    "the store cannot be used now");
		goto out;
	}
	expand = req->query_arg(req->query_ctx, "expand");
	c.want_activity = expand != NULL && strstr(expand, "activity") != NULL;
	if ((rc = store_run(a->st, one_cb, &c, 0)) != STORE_OK) {
		if (rc == STORE_NOTFOUND)
			reply_error(resp, req, 404, "not_found", "no email with this id");
		else
			reply_error(resp, req, 503, "unavailable",
				    "the store cannot be used now");
		goto out;
	}
	switch (req->route.id) {
	case R_EMAIL:
		data = email_json(c.rec, scan_status(&c.scan, c.rec->token));
		if (expand != NULL && strstr(expand, "deliveries") != NULL)
			json_object_object_add(data, "deliveries",
					       sorted_attempts(&c.scan));
		if (c.activity != NULL) {
			json_object_object_add(data, "activity", c.activity);
			c.activity = NULL;
		}
		reply_ok(resp, req, 200, data);
		break;
	case R_EMAIL_DELIVERIES:
		data = json_object_new_object();
		json_add_string(data, "id", c.rec->token);
		json_add_string(data, "status", scan_status(&c.scan, c.rec->token));
		json_object_object_add(data, "deliveries", sorted_attempts(&c.scan));
		json_object_object_add(
		    data, "canRetryManually",
		    json_object_new_boolean(
			strcmp(scan_status(&c.scan, c.rec->token), "softfail") == 0
			|| strcmp(scan_status(&c.scan, c.rec->token), "pending") == 0));
		reply_ok(resp, req, 200, data);
		break;
	default:
		em_retry(req, resp, &c);
		break;
	}
out:
	json_object_put(c.activity);
	free(c.ids);
	message_record_free(c.rec);
	json_object_put(c.scan.seen);
	json_object_put(c.scan.attempts);
	json_object_put(c.scan.latest);
	free(c.scan.times);
	json_object_put(c.list);
}
