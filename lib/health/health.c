/*
 * health.c - breaker records in the store, disabling and enabling an
 * endpoint, and the WebhookDisabled and DeliveryExhausted events (see
 * health.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/event_ops.h"
#include "health/health.h"
#include "store/delivery.h"
#include "store/endpoint.h"
#include "store/outbox.h"
#include "store/tenant_name.h"
#include "util/json.h"
#include "util/log.h"
#include "util/util.h"

#define HEALTH_PREFIX "health:"

/* health_key - "health:ID" into key. */
static size_t
health_key(char key[64], const char *endpoint_id)
{
	int n = snprintf(key, 64, HEALTH_PREFIX "%s", endpoint_id);

	return n > 0 && n < 64 ? (size_t) n : 0;
}

/* health_get - see health.h. */
int
health_get(struct store_txn *txn, const char *endpoint_id, int rmw, struct breaker *b)
{
	char key[64];
	size_t klen = health_key(key, endpoint_id);
	json_object *o;
	void *val;
	size_t vlen;
	int rc;

	breaker_init(b);
	if (klen == 0)
		return STORE_OK;
	if (rmw)
		rc = store_get_rmw(txn, STORE_META, key, klen, &val, &vlen);
	else
		rc = store_get(txn, STORE_META, key, klen, &val, &vlen);
	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	o = json_parse_len(val, vlen);
	free(val);
	if (o != NULL) {
		breaker_from_json(b, o);
		json_object_put(o);
	}
	return STORE_OK;
}

/* health_put - see health.h. */
int
health_put(struct store_txn *txn, const char *endpoint_id, const struct breaker *b)
{
	char key[64];
	size_t klen = health_key(key, endpoint_id);
	json_object *o;
	const char *s;
	int rc;

	if (klen == 0)
		return STORE_ERROR;
	o = breaker_to_json(b);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	rc = store_put(txn, STORE_META, key, klen, s, strlen(s));
	json_object_put(o);
	return rc;
}

/* health_delete - see health.h. */
int
health_delete(struct store_txn *txn, const char *endpoint_id)
{
	char key[64];
	size_t klen = health_key(key, endpoint_id);
	int rc;

	if (klen == 0)
		return STORE_OK;
	rc = store_del(txn, STORE_META, key, klen);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* same_tenant - do a and b belong to one tenant (NULL is TENANT_DEFAULT)? */
static int
same_tenant(const struct endpoint *a, const struct endpoint *b)
{
	return strcmp(tenant_of(a->tenant), tenant_of(b->tenant)) == 0;
}

/*
 * notify - queue the operational event (type, payload) for every other
 * enabled endpoint of subject's tenant that names it, under keys made of
 * key_base and the target's id, so the same event is never queued twice.
 */
static int
notify(struct store_txn *txn, const struct endpoint *subject, enum event_type type,
       json_object *payload, const char *key_base, int *notified)
{
	struct endpoint **eps;
	char *key;
	int n, i, rc;

	*notified = 0;
	rc = endpoint_list(txn, &eps, &n);
	for (i = 0; rc == STORE_OK && i < n; i++) {
		if (strcmp(eps[i]->id, subject->id) == 0 || !eps[i]->enabled
		    || !endpoint_wants(eps[i], type) || !same_tenant(eps[i], subject))
			continue;
		key = xasprintf("%s:%s", key_base, eps[i]->id);
		rc = outbox_add(txn, key, type, now_seconds(), payload, eps[i]->id);
		free(key);
		if (rc == STORE_EXISTS)
			rc = STORE_OK;
		else if (rc == STORE_OK)
			(*notified)++;
	}
	endpoint_list_free(eps, n);
	return rc;
}

/* endpoint_disable - see health.h. */
int
endpoint_disable(struct store_txn *txn, const char *id, const char *reason, int *notified)
{
	struct event_webhook w;
	struct endpoint *ep;
	struct breaker b;
	json_object *payload;
	char *key;
	int rc;

	*notified = 0;
	rc = endpoint_get(txn, id, &ep);
	if (rc != STORE_OK)
		return rc;
	rc = health_get(txn, id, 1, &b);
	if (rc == STORE_OK) {
		b.state = BREAKER_DISABLED;
		rc = health_put(txn, id, &b);
	}
	if (rc == STORE_OK) {
		ep->enabled = 0;
		free(ep->disabled_reason);
		ep->disabled_reason = xstrdup(reason);
		rc = endpoint_put(txn, ep);
	}
	if (rc == STORE_OK) {
		w.id = ep->id;
		w.name = ep->name;
		w.url = ep->url;
		payload = webhook_disabled_payload(&w, reason, b.failing_since,
						   b.last_error[0] ? b.last_error : NULL);
		key =
		    xasprintf("op:WebhookDisabled:%s:%.0f", ep->id, now_seconds() * 1000);
		rc = notify(txn, ep, EV_WEBHOOK_DISABLED, payload, key, notified);
		free(key);
		json_object_put(payload);
	}
	endpoint_free(ep);
	return rc;
}

/* endpoint_enable - see health.h. */
int
endpoint_enable(struct store_txn *txn, const char *id, enum enable_mode mode, int *count)
{
	struct endpoint *ep;
	struct breaker b;
	double since;
	int rc;

	*count = 0;
	rc = endpoint_get(txn, id, &ep);
	if (rc != STORE_OK)
		return rc;
	rc = health_get(txn, id, 1, &b);
	since = b.failing_since;
	breaker_reset(&b);
	if (rc == STORE_OK)
		rc = health_put(txn, id, &b);
	if (rc == STORE_OK) {
		ep->enabled = 1;
		free(ep->disabled_reason);
		ep->disabled_reason = NULL;
		rc = endpoint_put(txn, ep);
	}
	if (rc == STORE_OK && mode == ENABLE_DISCARD)
		rc = delivery_discard_parked(txn, id, count);
	if (rc == STORE_OK && mode == ENABLE_RECOVER)
		rc = delivery_recover(txn, id, since, count);
	endpoint_free(ep);
	return rc;
}

/* last_error - the error of the attempt "whr_...", or NULL; caller frees. */
static char *
last_error(struct store_txn *txn, const char *attempt_id)
{
	json_object *rec;
	const char *e;
	char *out = NULL;

	if (attempt_id == NULL || attempt_get(txn, attempt_id, &rec) != STORE_OK)
		return NULL;
	if ((e = json_string_member(rec, "error")) != NULL)
		out = xstrdup(e);
	json_object_put(rec);
	return out;
}

/* delivery_exhausted_raise - see health.h. */
int
delivery_exhausted_raise(struct store_txn *txn, uint64_t delivery_id, int *notified)
{
	struct event_exhausted x;
	struct event_webhook w;
	struct delivery *d;
	struct endpoint *ep;
	json_object *payload;
	char *err, *key;
	int rc;

	*notified = 0;
	rc = delivery_get(txn, delivery_id, &d);
	if (rc != STORE_OK)
		return rc;
	if (d->replay || event_type_operational(d->type)
	    || endpoint_get(txn, d->endpoint_id, &ep) != STORE_OK) {
		delivery_free(d);
		return STORE_OK;
	}
	w.id = ep->id;
	w.name = ep->name;
	w.url = ep->url;
	err = last_error(txn, d->last_attempt);
	memset(&x, 0, sizeof(x));
	x.id = d->id;
	x.uuid = d->uuid;
	x.event = event_type_name(d->type);
	x.attempts = d->attempts;
	x.created = d->created;
	x.last_attempt = d->last_attempt;
	x.last_error = err;
	payload = delivery_exhausted_payload(&w, &x);
	key = xasprintf("op:DeliveryExhausted:%" PRIu64 ":%d", d->id, d->attempts);
	rc = notify(txn, ep, EV_DELIVERY_EXHAUSTED, payload, key, notified);
	free(key);
	json_object_put(payload);
	free(err);
	endpoint_free(ep);
	delivery_free(d);
	return rc;
}
