/*
 * h_meta.c - what answers without an API key: /health, the signing keys'
 * JWKS at /.well-known/jwks.json, and /metrics in Prometheus' text format
 * (behind metrics_key when one is set).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "api.h"
#include "amqp/amqp_msg.h"
#include "event/event.h"
#include "sign/sign.h"
#include "store/delivery.h"
#include "store/message.h"
#include "store/outbox.h"
#include "store/position.h"
#include "store/probe.h"
#include "logfile/rotation.h"
#include "util/json.h"
#include "util/util.h"

/* health_cb - a read of the store proves it answers. */
static int
health_cb(struct store_txn *txn, void *arg)
{
	return outbox_depth(txn, arg);
}

/* h_health - see api.h. */
void
h_health(struct api *a, struct api_req *req, struct api_resp *resp)
{
	json_object *data = json_object_new_object();
	long depth = 0;
	int ok = store_run(a->st, health_cb, &depth, 5000) == STORE_OK;

	json_add_string(data, "status", ok ? "ok" : "store_unavailable");
	json_add_string(data, "version", PACKAGE_VERSION);
	json_object_object_add(
	    data, "uptime",
	    json_object_new_int64((int64_t) (now_seconds() - a->started)));
	reply_ok(resp, req, ok ? 200 : 503, data);
}

/* h_jwks - see api.h.  The bare JWKS, as receivers expect it. */
void
h_jwks(struct api *a, struct api_req *req, struct api_resp *resp)
{
	json_object *jwks;
	double now = now_seconds();

	if (a->kr == NULL) {
		reply_error(resp, req, 503, "unavailable", "no signing keys are loaded");
		return;
	}
	pthread_mutex_lock(&a->kr_lock);
	(void) keyring_refresh(a->kr, now);
	jwks = keyring_jwks(a->kr, now);
	pthread_mutex_unlock(&a->kr_lock);
	reply_text(resp, 200, "application/json",
		   xstrdup(json_object_to_json_string_ext(jwks, JSON_C_TO_STRING_PLAIN)));
	json_object_put(jwks);
}

/* What /metrics counts in the store. */
struct counts {
	const char *pos_key; /* the tailer's position record, or NULL */
	struct position_record pos;
	int pos_found;
	long depth;
	long messages;
	long events[EV_TYPE_COUNT];
	long deliveries[3];	 /* enum delivery_state */
	json_object *classes;	 /* name -> count */
	json_object *seen;	 /* event keys counted: an event has a delivery
				  * per endpoint, not always one after another */
	struct amqp_status amqp; /* the AMQP sink's, when it ran */
	int amqp_found;
};

/* count_delivery - one delivery: its outcome; its event once. */
static int
count_delivery(const struct delivery *d, void *arg)
{
	struct counts *c = arg;
	const char *cls;
	json_object *n;

	c->deliveries[d->state]++;
	if (d->replay || d->event_key == NULL || probe_is_test(d->event_key)
	    || json_object_object_get_ex(c->seen, d->event_key, NULL))
		return 0;
	json_object_object_add(c->seen, d->event_key, NULL);
	c->events[d->type]++;
	if ((cls = json_string_member(d->payload, "classification")) != NULL) {
		n = json_member(c->classes, cls);
		json_object_object_add(
		    c->classes, cls,
		    json_object_new_int64(n ? json_object_get_int64(n) + 1 : 1));
	}
	return 0;
}

/* count_message - one recorded message. */
static int
count_message(const struct message_record *r, void *arg)
{
	struct counts *c = arg;

	(void) r;
	c->messages++;
	return 0;
}

/* counts_cb - everything /metrics reads from the store. */
static int
counts_cb(struct store_txn *txn, void *arg)
{
	struct counts *c = arg;
	json_object *classes = c->classes, *seen = c->seen;
	const char *key = c->pos_key;
	int rc;

	position_clear(&c->pos);
	amqp_status_clear(&c->amqp);
	memset(c, 0, sizeof(*c));
	c->pos_key = key;
	json_object_put(classes);
	json_object_put(seen);
	c->classes = json_object_new_object();
	c->seen = json_object_new_object();
	if ((rc = outbox_depth(txn, &c->depth)) != STORE_OK
	    || (rc = delivery_each(txn, 0, NULL, count_delivery, c)) != STORE_OK)
		return rc;
	if (key != NULL) {
		rc = position_get(txn, key, &c->pos);
		if (rc != STORE_OK && rc != STORE_NOTFOUND)
			return rc;
		c->pos_found = rc == STORE_OK;
	}
	rc = amqp_status_get(txn, &c->amqp);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	c->amqp_found = rc == STORE_OK;
	return message_each(txn, count_message, c);
}

/* amqp_metrics - what the AMQP sink published and the broker confirmed. */
static void
amqp_metrics(struct buf *b, const struct amqp_status *s)
{
	double now = now_seconds();

	buf_printf(
	    b,
	    "# HELP posthook_amqp_published_total Messages posthook-amqp "
	    "published (republishes too).\n"
	    "# TYPE posthook_amqp_published_total counter\n"
	    "posthook_amqp_published_total %llu\n"
	    "# HELP posthook_amqp_confirmed_total Publishes the broker confirmed.\n"
	    "# TYPE posthook_amqp_confirmed_total counter\n"
	    "posthook_amqp_confirmed_total %llu\n"
	    "# HELP posthook_amqp_nacked_total Publishes the broker refused.\n"
	    "# TYPE posthook_amqp_nacked_total counter\n"
	    "posthook_amqp_nacked_total %llu\n"
	    "# HELP posthook_amqp_connected 1 while posthook-amqp is connected.\n"
	    "# TYPE posthook_amqp_connected gauge\nposthook_amqp_connected %d\n"
	    "# HELP posthook_amqp_lag_seconds Age of the oldest event waiting "
	    "for the broker.\n"
	    "# TYPE posthook_amqp_lag_seconds gauge\nposthook_amqp_lag_seconds %.3f\n",
	    (unsigned long long) s->published, (unsigned long long) s->confirmed,
	    (unsigned long long) s->nacked, strcmp(s->state, "connected") == 0,
	    s->oldest_due > 0 ? now - s->oldest_due : 0.0);
}

/* h_metrics - see api.h. */
void
h_metrics(struct api *a, struct api_req *req, struct api_resp *resp)
{
	const char *mkey = a->cfg->metrics_key, *given, *reading;
	long long lag_bytes = -1, lag_lines = -1;
	struct counts c;
	struct buf b;
	char *key;
	int t, rc;

	if (mkey != NULL && mkey[0] != 0) {
		given = auth_bearer(req->authorization);
		if (given == NULL || strlen(given) != strlen(mkey)
		    || CRYPTO_memcmp(given, mkey, strlen(mkey)) != 0) {
			reply_error(resp, req, 401, "unauthorized",
				    "send metrics_key as \"Authorization: Bearer ...\"");
			return;
		}
	}
	memset(&c, 0, sizeof(c));
	key = a->cfg->log_source == LOG_SOURCE_FILE ? position_key_file(a->cfg->log_file)
						    : NULL;
	c.pos_key = key;
	rc = store_run(a->st, counts_cb, &c, 0);
	free(key);
	if (rc != STORE_OK) {
		position_clear(&c.pos);
		amqp_status_clear(&c.amqp);
		json_object_put(c.classes);
		json_object_put(c.seen);
		reply_error(resp, req, 503, "unavailable",
			    "the store cannot be used now");
		return;
	}
	buf_init(&b);
	buf_puts(&b,
		 "# HELP posthook_events_total Events made, by type (those fanned out).\n"
		 "# TYPE posthook_events_total counter\n");
	for (t = 0; t < EV_TYPE_COUNT; t++)
		buf_printf(&b, "posthook_events_total{event=\"%s\"} %ld\n",
			   event_type_name((enum event_type) t), c.events[t]);
	buf_puts(&b, "# HELP posthook_deliveries Webhook deliveries kept, by outcome.\n"
		     "# TYPE posthook_deliveries gauge\n");
	for (t = 0; t < 3; t++)
		buf_printf(&b, "posthook_deliveries{outcome=\"%s\"} %ld\n",
			   delivery_state_name((enum delivery_state) t), c.deliveries[t]);
	buf_printf(&b,
		   "# HELP posthook_outbox_depth Events waiting for fan-out.\n"
		   "# TYPE posthook_outbox_depth gauge\nposthook_outbox_depth %ld\n",
		   c.depth);
	buf_printf(&b,
		   "# HELP posthook_messages Messages the milter recorded (kept).\n"
		   "# TYPE posthook_messages gauge\nposthook_messages %ld\n",
		   c.messages);
	buf_puts(&b, "# HELP posthook_classifications_total Failed deliveries by "
		     "classification.\n# TYPE posthook_classifications_total counter\n");
	json_object_object_foreach(c.classes, name, n)
	    buf_printf(&b, "posthook_classifications_total{classification=\"%s\"} %lld\n",
		       name, (long long) json_object_get_int64(n));
	buf_printf(&b,
		   "# HELP posthook_api_requests_total API requests answered.\n"
		   "# TYPE posthook_api_requests_total counter\n"
		   "posthook_api_requests_total %lu\n"
		   "# HELP posthook_api_errors_total API answers with status >= 400.\n"
		   "# TYPE posthook_api_errors_total counter\n"
		   "posthook_api_errors_total %lu\n"
		   "# HELP posthook_api_rate_limited_total API requests refused by the "
		   "rate limit.\n# TYPE posthook_api_rate_limited_total counter\n"
		   "posthook_api_rate_limited_total %lu\n",
		   __atomic_load_n(&a->requests, __ATOMIC_RELAXED),
		   __atomic_load_n(&a->errors, __ATOMIC_RELAXED),
		   __atomic_load_n(&a->rate_limited, __ATOMIC_RELAXED));
	if (c.amqp_found)
		amqp_metrics(&b, &c.amqp);
	amqp_status_clear(&c.amqp);
	if (c.pos_found) {
		rotation_lag(a->cfg->log_file, c.pos.fp, c.pos.dev, c.pos.ino,
			     c.pos.offset, &lag_bytes, &lag_lines, &reading);
		buf_puts(
		    &b,
		    "# HELP posthook_tailer_lag_bytes Log not yet read by the tailer.\n"
		    "# TYPE posthook_tailer_lag_bytes gauge\n");
		if (lag_bytes >= 0)
			buf_printf(&b, "posthook_tailer_lag_bytes %lld\n", lag_bytes);
		buf_puts(&b,
			 "# HELP posthook_tailer_lag_lines Log lines not yet read by the "
			 "tailer.\n# TYPE posthook_tailer_lag_lines gauge\n");
		if (lag_lines >= 0)
			buf_printf(&b, "posthook_tailer_lag_lines %lld\n", lag_lines);
	}
	position_clear(&c.pos);
	json_object_put(c.classes);
	json_object_put(c.seen);
	reply_text(resp, 200, "text/plain; version=0.0.4", buf_take(&b));
}
