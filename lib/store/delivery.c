/*
 * delivery.c - delivery records, their due-time index, fan-out from the
 * outbox, completion of an attempt, replay, recover and purge (see
 * delivery.h).  Attempt records are built in attempt.c, retry delays
 * computed in retry.c, the record's stored form read and written in
 * delivery_record.c.  What stays here is one job, the life of a
 * delivery record: made by fan-out, due in the STORE_DELIVERY_DUE index
 * that delivery_write() keeps in step with it, completed, replayed,
 * recovered, purged.  Apart, each part would need delivery_write(), so it
 * reads best whole.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/delivery.h"
#include "store/delivery_int.h"
#include "store/endpoint.h"
#include "util/log.h"
#include "store/outbox.h"
#include "store/tenant_name.h"
#include "util/json.h"

/* be64_put - v as 8 big-endian bytes. */
static void
be64_put(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (unsigned char) (v & 0xff);
		v >>= 8;
	}
}

/* be64_get - 8 big-endian bytes as a number. */
static uint64_t
be64_get(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* delivery_free - free d. */
void
delivery_free(struct delivery *d)
{
	if (d == NULL)
		return;
	free(d->endpoint_id);
	free(d->event_key);
	free(d->kid);
	free(d->last_attempt);
	free(d->stored);
	free(d->payload_text);
	if (d->payload != NULL)
		json_object_put(d->payload);
	free(d);
}

/* delivery_state_name - pending, succeeded or failed. */
const char *
delivery_state_name(enum delivery_state s)
{
	switch (s) {
	case DELIVERY_PENDING:
		return "pending";
	case DELIVERY_SUCCEEDED:
		return "succeeded";
	case DELIVERY_FAILED:
		return "failed";
	}
	return "unknown";
}

/*
 * A parked delivery (its endpoint's breaker is open, or it is disabled)
 * keeps its due time, with this bit set in its index entry: it sorts
 * after every due time, in its old order, and is never due.
 */
#define PARK_BIT ((uint64_t) 1 << 62)

/* due_key - 8-byte due ms (PARK_BIT when parked) + 8-byte id. */
static void
due_key(unsigned char key[16], int64_t due_ms, uint64_t id)
{
	be64_put(key, due_ms < 0 ? 0 : (uint64_t) due_ms);
	be64_put(key + 8, id);
}

/* index_pos - where d's due entry is: its due time, with PARK_BIT if parked. */
static int64_t
index_pos(const struct delivery *d)
{
	int64_t due = d->due_ms < 0 ? 0 : d->due_ms;

	return d->parked ? (int64_t) ((uint64_t) due | PARK_BIT) : due;
}

/*
 * delivery_parse - the delivery stored as val (taken: kept as its
 * stored text); NULL (logged) when broken.
 */
static struct delivery *
delivery_parse(uint64_t id, void *val, size_t vlen)
{
	json_object *o = delivery_parse_value(val, vlen);
	struct delivery *d = o ? delivery_from_json(o) : NULL;

	if (o != NULL)
		json_object_put(o);
	if (d == NULL) {
		log_error("delivery %" PRIu64 ": stored record is broken", id);
		free(val);
		return NULL;
	}
	d->stored = val;
	d->stored_len = vlen;
	return d;
}

/* delivery_read - a delivery's stored text, with a write lock when rmw. */
static int
delivery_read(struct store_txn *txn, uint64_t id, int rmw, void **val, size_t *vlen)
{
	unsigned char key[8];

	be64_put(key, id);
	if (rmw)
		return store_get_rmw(txn, STORE_DELIVERIES, key, sizeof(key), val, vlen);
	return store_get(txn, STORE_DELIVERIES, key, sizeof(key), val, vlen);
}

/* delivery_load - read a delivery, with a write lock when rmw. */
static int
delivery_load(struct store_txn *txn, uint64_t id, int rmw, struct delivery **out)
{
	void *val;
	size_t vlen;
	int rc;

	if ((rc = delivery_read(txn, id, rmw, &val, &vlen)) != STORE_OK)
		return rc;
	*out = delivery_parse(id, val, vlen);
	return *out != NULL ? STORE_OK : STORE_ERROR;
}

/* delivery_pick - see delivery.h. */
int
delivery_pick(struct store_txn *txn, uint64_t id, struct delivery **out)
{
	const char *payload;
	size_t vlen, plen;
	json_object *o;
	void *val;
	int rc;

	if ((rc = delivery_read(txn, id, 0, &val, &vlen)) != STORE_OK)
		return rc;
	o = delivery_head_json(val, vlen, &payload, &plen);
	*out = o != NULL ? delivery_from_json(o) : NULL;
	if (o != NULL)
		json_object_put(o);
	if (*out == NULL) {
		*out = delivery_parse(id, val, vlen);
		return *out != NULL ? STORE_OK : STORE_ERROR;
	}
	(*out)->payload_text = xstrndup(payload, plen);
	(*out)->payload_text_len = plen;
	(*out)->stored = val;
	(*out)->stored_len = vlen;
	return STORE_OK;
}

/* delivery_get - see delivery.h. */
int
delivery_get(struct store_txn *txn, uint64_t id, struct delivery **out)
{
	return delivery_load(txn, id, 0, out);
}

/*
 * delivery_write_text - store d, its payload's text given (see
 * delivery_text); old_due_ms >= 0 names the due entry it had while
 * pending (index_pos), which is replaced.
 */
static int
delivery_write_text(struct store_txn *txn, const struct delivery *d, int64_t old_due_ms,
		    const char *payload, size_t payload_len)
{
	unsigned char key[8], dkey[16];
	struct buf text;
	int rc;

	buf_init(&text);
	delivery_text(&text, d, payload, payload_len);
	be64_put(key, d->id);
	rc = store_put(txn, STORE_DELIVERIES, key, sizeof(key), text.data, text.len);
	buf_free(&text);
	if (rc != STORE_OK)
		return rc;
	if (old_due_ms >= 0) {
		due_key(dkey, old_due_ms, d->id);
		rc = store_del(txn, STORE_DELIVERY_DUE, dkey, sizeof(dkey));
		if (rc != STORE_OK && rc != STORE_NOTFOUND)
			return rc;
	}
	if (d->state == DELIVERY_PENDING) {
		due_key(dkey, index_pos(d), d->id);
		rc = store_put(txn, STORE_DELIVERY_DUE, dkey, sizeof(dkey),
			       d->endpoint_id, strlen(d->endpoint_id));
	}
	return rc;
}

/* delivery_write - store d (see delivery_write_text). */
static int
delivery_write(struct store_txn *txn, const struct delivery *d, int64_t old_due_ms)
{
	return delivery_write_text(txn, d, old_due_ms, NULL, 0);
}

/*
 * delivery_add - store a new pending delivery of an event for an endpoint;
 * the caller has set every field but the id.
 */
static int
delivery_add(struct store_txn *txn, struct delivery *d)
{
	int rc;

	rc = store_seq_next(txn, "delivery", &d->id);
	if (rc != STORE_OK)
		return rc;
	return delivery_write(txn, d, -1);
}

/* fanout_one - one delivery of ev for ep. */
static int
fanout_one(struct store_txn *txn, const struct outbox_event *ev, const char *endpoint_id,
	   int64_t due_ms, double now)
{
	struct delivery d;
	int rc;

	memset(&d, 0, sizeof(d));
	event_uuid_new(d.uuid);
	d.endpoint_id = (char *) endpoint_id;
	d.event_key = ev->key;
	d.type = ev->type;
	d.timestamp = ev->timestamp;
	d.payload = ev->payload;
	d.due_ms = due_ms;
	d.state = DELIVERY_PENDING;
	d.created = now;
	d.updated = now;
	rc = delivery_add(txn, &d);
	return rc;
}

/* delivery_fanout - see delivery.h. */
int
delivery_fanout(struct store_txn *txn, int max, int64_t first_delay_ms, int *events,
		int *deliveries)
{
	struct outbox_event **evs = NULL;
	struct endpoint **eps = NULL;
	int nev = 0, nep = 0, i, j, rc, made = 0;
	double now = now_seconds();
	int64_t due = (int64_t) (now * 1000) + first_delay_ms;

	*events = *deliveries = 0;
	rc = outbox_take(txn, max, &evs, &nev);
	if (rc != STORE_OK || nev == 0) {
		outbox_events_free(evs, nev);
		return rc;
	}
	rc = endpoint_list(txn, &eps, &nep);
	for (i = 0; rc == STORE_OK && i < nev; i++) {
		const struct outbox_event *ev = evs[i];

		for (j = 0; rc == STORE_OK && j < nep; j++) {
			if (ev->endpoint_id != NULL) {
				if (strcmp(ev->endpoint_id, eps[j]->id) != 0)
					continue;
			} else if (!eps[j]->enabled || !endpoint_wants(eps[j], ev->type)
				   || strcmp(tenant_of(ev->tenant),
					     tenant_of(eps[j]->tenant))
					  != 0)
				continue;
			rc = fanout_one(txn, ev, eps[j]->id, due, now);
			made++;
		}
	}
	endpoint_list_free(eps, nep);
	outbox_events_free(evs, nev);
	if (rc == STORE_OK) {
		*events = nev;
		*deliveries = made;
	}
	return rc;
}

/* delivery_due_ids - see delivery.h. */
int
delivery_due_ids(struct store_txn *txn, int64_t now_ms, int max, struct due_entry **out,
		 int *n)
{
	struct store_cursor *c;
	struct due_entry *e;
	const void *k, *v;
	size_t klen, vlen;
	int rc, count = 0;

	*out = xcalloc((size_t) (max > 0 ? max : 1), sizeof(**out));
	*n = 0;
	rc = store_cursor_open(txn, STORE_DELIVERY_DUE, &c);
	if (rc != STORE_OK)
		return rc;
	while (count < max
	       && (rc = store_cursor_next(c, &k, &klen, &v, &vlen)) == STORE_OK) {
		if (klen != 16)
			continue;
		if ((int64_t) be64_get(k) > now_ms)
			break;
		e = &(*out)[count++];
		e->id = be64_get((const unsigned char *) k + 8);
		memcpy(e->endpoint_id, v, vlen < sizeof(e->endpoint_id) ? vlen : 0);
	}
	store_cursor_close(c);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	*n = count;
	return STORE_OK;
}

/* delivery_abandon - see delivery.h. */
int
delivery_abandon(struct store_txn *txn, struct delivery *d)
{
	int64_t old = index_pos(d);

	d->state = DELIVERY_FAILED;
	d->parked = 0;
	d->updated = now_seconds();
	return delivery_write(txn, d, old);
}

/* delivery_park - see delivery.h. */
int
delivery_park(struct store_txn *txn, struct delivery *d)
{
	int64_t old = index_pos(d);

	if (d->state != DELIVERY_PENDING || d->parked)
		return STORE_OK;
	d->parked = 1;
	return delivery_write(txn, d, old);
}

/*
 * parked_ids - up to max (0: all) of the endpoint's parked deliveries,
 * oldest first, read from the index alone.
 */
static int
parked_ids(struct store_txn *txn, const char *endpoint_id, int max, uint64_t **out,
	   int *n)
{
	struct store_cursor *c;
	unsigned char from[16];
	const void *k, *v;
	size_t klen, vlen, elen = strlen(endpoint_id);
	int rc, cap = 0;

	*out = NULL;
	*n = 0;
	be64_put(from, PARK_BIT);
	memset(from + 8, 0, 8);
	rc = store_cursor_open(txn, STORE_DELIVERY_DUE, &c);
	if (rc != STORE_OK)
		return rc;
	rc = store_cursor_seek(c, from, sizeof(from));
	while (rc == STORE_OK && (max <= 0 || *n < max)
	       && (rc = store_cursor_next(c, &k, &klen, &v, &vlen)) == STORE_OK) {
		if (klen != 16 || vlen != elen || memcmp(v, endpoint_id, elen) != 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*out = xrealloc(*out, (size_t) cap * sizeof(**out));
		}
		(*out)[(*n)++] = be64_get((const unsigned char *) k + 8);
	}
	store_cursor_close(c);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* delivery_unpark - see delivery.h. */
int
delivery_unpark(struct store_txn *txn, const char *endpoint_id, int max, int *count)
{
	struct delivery *d;
	uint64_t *ids;
	int64_t old;
	int rc, n, i;

	*count = 0;
	if (max <= 0)
		return STORE_OK;
	rc = parked_ids(txn, endpoint_id, max, &ids, &n);
	for (i = 0; rc == STORE_OK && i < n; i++) {
		rc = delivery_load(txn, ids[i], 1, &d);
		if (rc == STORE_NOTFOUND) {
			rc = STORE_OK;
			continue;
		}
		if (rc != STORE_OK)
			break;
		old = index_pos(d);
		d->parked = 0;
		rc = delivery_write(txn, d, old);
		delivery_free(d);
		if (rc == STORE_OK)
			(*count)++;
	}
	free(ids);
	return rc;
}

/* delivery_discard_parked - see delivery.h. */
int
delivery_discard_parked(struct store_txn *txn, const char *endpoint_id, int *count)
{
	struct delivery *d;
	uint64_t *ids;
	int rc, n, i;

	*count = 0;
	rc = parked_ids(txn, endpoint_id, 0, &ids, &n);
	for (i = 0; rc == STORE_OK && i < n; i++) {
		rc = delivery_load(txn, ids[i], 1, &d);
		if (rc == STORE_NOTFOUND) {
			rc = STORE_OK;
			continue;
		}
		if (rc != STORE_OK)
			break;
		rc = delivery_abandon(txn, d);
		delivery_free(d);
		if (rc == STORE_OK)
			(*count)++;
	}
	free(ids);
	return rc;
}

/* delivery_parked - see delivery.h. */
int
delivery_parked(struct store_txn *txn, struct parked_count **out, int *n)
{
	struct store_cursor *c;
	unsigned char from[16];
	const void *k, *v;
	size_t klen, vlen;
	int rc, i, cap = 0;

	*out = NULL;
	*n = 0;
	be64_put(from, PARK_BIT);
	memset(from + 8, 0, 8);
	rc = store_cursor_open(txn, STORE_DELIVERY_DUE, &c);
	if (rc != STORE_OK)
		return rc;
	rc = store_cursor_seek(c, from, sizeof(from));
	while (rc == STORE_OK
	       && (rc = store_cursor_next(c, &k, &klen, &v, &vlen)) == STORE_OK) {
		if (klen != 16 || vlen == 0 || vlen >= sizeof((*out)->endpoint_id))
			continue;
		for (i = 0; i < *n; i++)
			if (strlen((*out)[i].endpoint_id) == vlen
			    && memcmp((*out)[i].endpoint_id, v, vlen) == 0)
				break;
		if (i == *n) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 8;
				*out = xrealloc(*out, (size_t) cap * sizeof(**out));
			}
			memset(&(*out)[i], 0, sizeof(**out));
			memcpy((*out)[i].endpoint_id, v, vlen);
			(*n)++;
		}
		(*out)[i].count++;
	}
	store_cursor_close(c);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* attempt_key - the store key of attempt sequence seq. */
static void
attempt_key(unsigned char key[8], uint64_t seq)
{
	be64_put(key, seq);
}

/* delivery_complete - see delivery.h. */
int
delivery_complete(struct store_txn *txn, uint64_t delivery_id,
		  const struct delivery *picked, const struct attempt_target *target,
		  const struct attempt_result *r, const int64_t *sched, int count,
		  char record_id[32], int *will_retry)
{
	struct delivery *d;
	struct buf text;
	unsigned char key[8];
	const char *payload = NULL;
	size_t payload_len = 0, vlen;
	void *val;
	uint64_t seq;
	int64_t old_due, delay = 0;
	int rc, retry = 0, success = attempt_success(r);

	rc = delivery_read(txn, delivery_id, 1, &val, &vlen);
	if (rc != STORE_OK)
		return rc;
	if (picked != NULL && picked->id == delivery_id && picked->stored != NULL
	    && picked->stored_len == vlen && memcmp(picked->stored, val, vlen) == 0) {
		/* unchanged since it was picked: no second parse */
		free(val);
		d = delivery_copy(picked);
		payload = r->payload;
		payload_len = r->payload_len;
	} else if ((d = delivery_parse(delivery_id, val, vlen)) == NULL)
		return STORE_ERROR;
	rc = store_seq_next(txn, "attempt", &seq);
	if (rc != STORE_OK) {
		delivery_free(d);
		return rc;
	}
	snprintf(record_id, 32, "whr_%012" PRIx64, seq);
	old_due = d->state == DELIVERY_PENDING ? index_pos(d) : -1;
	d->parked = 0;
	d->attempts++;
	if (!success && r->spare && !d->replay) {
		/* the breaker's or a throttled attempt: no retry spent */
		d->spared++;
		retry = 1;
		delay = r->not_before_ms;
	} else if (!success && !d->replay)
		retry = retry_delay(sched, count, d->attempts - d->base - d->spared,
				    r->status, r->retry_after, r->started + r->duration,
				    &delay);
	if (success)
		d->state = DELIVERY_SUCCEEDED;
	else if (retry) {
		d->state = DELIVERY_PENDING;
		d->due_ms = (int64_t) ((r->started + r->duration) * 1000) + delay;
	} else
		d->state = DELIVERY_FAILED;
	free(d->kid);
	d->kid = r->kid ? xstrdup(r->kid) : NULL;
	free(d->last_attempt);
	d->last_attempt = xstrdup(record_id);
	d->updated = r->started + r->duration;

	buf_init(&text);
	attempt_wrap_text(&text, record_id, d, target, r, d->attempts, retry);
	attempt_key(key, seq);
	rc = store_put(txn, STORE_ATTEMPTS, key, sizeof(key), text.data, text.len);
	buf_free(&text);
	if (rc == STORE_OK)
		rc = delivery_write_text(txn, d, old_due, payload, payload_len);
	delivery_free(d);
	*will_retry = retry;
	return rc;
}

/* delivery_replay - see delivery.h. */
int
delivery_replay(struct store_txn *txn, const char *attempt_id, uint64_t *new_id)
{
	json_object *rec, *req;
	struct delivery d;
	const char *uuid, *ep;
	enum event_type t;
	double now = now_seconds();
	int rc;

	rc = attempt_get(txn, attempt_id, &rec);
	if (rc != STORE_OK)
		return rc;
	uuid = json_object_get_string(json_member(rec, "uuid"));
	ep = json_object_get_string(json_member(rec, "webhookId"));
	req = json_member(rec, "request");
	if (uuid == NULL || strlen(uuid) != 36 || ep == NULL || req == NULL
	    || event_type_from_name(json_object_get_string(json_member(rec, "event")), &t)
		   < 0) {
		json_object_put(rec);
		return STORE_ERROR;
	}
	memset(&d, 0, sizeof(d));
	memcpy(d.uuid, uuid, 37);
	d.endpoint_id = (char *) ep;
	d.type = t;
	d.timestamp = now;
	d.payload = json_member(req, "payload");
	d.replay = 1;
	d.due_ms = (int64_t) (now * 1000);
	d.state = DELIVERY_PENDING;
	d.created = d.updated = now;
	rc = delivery_add(txn, &d);
	if (rc == STORE_OK)
		*new_id = d.id;
	json_object_put(rec);
	return rc;
}

/* delivery_recover - see delivery.h. */
int
delivery_recover(struct store_txn *txn, const char *endpoint_id, double since, int *count)
{
	struct store_cursor *c;
	struct delivery **todo = NULL, *d;
	const void *k, *v;
	size_t klen, vlen;
	json_object *o;
	int rc, n = 0, cap = 0, i;
	double now = now_seconds();

	*count = 0;
	rc = store_cursor_open(txn, STORE_DELIVERIES, &c);
	if (rc != STORE_OK)
		return rc;
	while ((rc = store_cursor_next(c, &k, &klen, &v, &vlen)) == STORE_OK) {
		if ((o = delivery_parse_value(v, vlen)) == NULL)
			continue;
		d = delivery_from_json(o);
		json_object_put(o);
		if (d == NULL || d->state != DELIVERY_FAILED || d->replay
		    || d->created < since || strcmp(d->endpoint_id, endpoint_id) != 0) {
			delivery_free(d);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			todo = xrealloc(todo, (size_t) cap * sizeof(*todo));
		}
		todo[n++] = d;
	}
	store_cursor_close(c);
	if (rc == STORE_NOTFOUND)
		rc = STORE_OK;
	for (i = 0; i < n; i++) {
		d = todo[i];
		if (rc == STORE_OK) {
			d->state = DELIVERY_PENDING;
			d->base = d->attempts;
			d->spared = 0;
			d->parked = 0;
			d->due_ms = (int64_t) (now * 1000);
			d->updated = now;
			rc = delivery_write(txn, d, -1);
		}
		delivery_free(d);
	}
	free(todo);
	if (rc == STORE_OK)
		*count = n;
	return rc;
}

/* delivery_each - see delivery.h. */
int
delivery_each(struct store_txn *txn, uint64_t after, const char *needle,
	      int (*fn)(const struct delivery *d, void *ctx), void *ctx)
{
	struct store_cursor *c;
	unsigned char key[8];
	const void *k, *v;
	size_t klen, vlen;
	struct delivery *d;
	json_object *o;
	int rc, stop = 0;

	rc = store_cursor_open(txn, STORE_DELIVERIES, &c);
	if (rc != STORE_OK)
		return rc;
	be64_put(key, after + 1);
	rc = store_cursor_seek(c, key, sizeof(key));
	while (rc == STORE_OK && stop == 0
	       && (rc = store_cursor_next(c, &k, &klen, &v, &vlen)) == STORE_OK) {
		if (needle != NULL && memmem(v, vlen, needle, strlen(needle)) == NULL)
			continue;
		if ((o = delivery_parse_value(v, vlen)) == NULL)
			continue;
		d = delivery_from_json(o);
		json_object_put(o);
		if (d == NULL)
			continue;
		stop = fn(d, ctx);
		delivery_free(d);
	}
	store_cursor_close(c);
	if (stop < 0)
		return STORE_ERROR;
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* purge_attempts - delete attempt records older than cutoff, oldest first. */
static int
purge_attempts(struct store_txn *txn, double cutoff, int limit, int *count)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t klen, vlen;
	json_object *o;
	double ts;
	int rc;

	rc = store_cursor_open(txn, STORE_ATTEMPTS, &c);
	if (rc != STORE_OK)
		return rc;
	while (*count < limit
	       && (rc = store_cursor_next(c, &k, &klen, &v, &vlen)) == STORE_OK) {
		o = delivery_parse_value(v, vlen);
		ts = o ? json_object_get_double(json_member(o, "ts")) : 0;
		if (o != NULL)
			json_object_put(o);
		if (ts >= cutoff)
			break;
		if ((rc = store_cursor_del(c)) != STORE_OK)
			break;
		(*count)++;
	}
	store_cursor_close(c);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* purge_deliveries - delete finished deliveries last touched before cutoff. */
static int
purge_deliveries(struct store_txn *txn, double cutoff, int limit, int *count)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t klen, vlen;
	const char *payload;
	size_t plen;
	json_object *o;
	int rc, done;

	rc = store_cursor_open(txn, STORE_DELIVERIES, &c);
	if (rc != STORE_OK)
		return rc;
	while (*count < limit
	       && (rc = store_cursor_next(c, &k, &klen, &v, &vlen)) == STORE_OK) {
		/* state and updated only: the payload is not parsed */
		if ((o = delivery_head_json(v, vlen, &payload, &plen)) == NULL
		    && (o = delivery_parse_value(v, vlen)) == NULL)
			continue;
		done = json_object_get_int(json_member(o, "state")) != DELIVERY_PENDING
		       && json_object_get_double(json_member(o, "updated")) < cutoff;
		json_object_put(o);
		if (!done)
			continue;
		if ((rc = store_cursor_del(c)) != STORE_OK)
			break;
		(*count)++;
	}
	store_cursor_close(c);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* delivery_purge - see delivery.h. */
int
delivery_purge(struct store_txn *txn, double cutoff, int limit, int *count)
{
	int rc, a = 0, d = 0;

	*count = 0;
	rc = purge_attempts(txn, cutoff, limit, &a);
	if (rc == STORE_OK)
		rc = purge_deliveries(txn, cutoff, limit, &d);
	if (rc == STORE_OK)
		*count = a + d;
	return rc;
}
