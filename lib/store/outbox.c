/*
 * outbox.c - the durable event outbox.
 *
 * STORE_EVENTS_SEEN remembers every event key (until retention), so the
 * same event is never queued twice; STORE_OUTBOX holds the queued events
 * under an 8-byte sequence number, so they are taken in the order made.
 * A record is the JSON object {"key","event","timestamp","payload"} with
 * "endpoint" when the event is for one endpoint only and "tenant" when it
 * is not the default tenant's.  One writer makes it
 * (outbox_add_many(), from payload text: the tailer writes its payloads
 * without json-c); outbox_add() serializes its payload object and uses it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "store/outbox.h"
#include "store/purge.h"
#include "util/json.h"
#include "util/util.h"

/* seq_key - 8-byte big-endian key */
static void
seq_key(uint64_t seq, unsigned char key[8])
{
	int i;

	for (i = 7; i >= 0; i--, seq >>= 8)
		key[i] = (unsigned char) (seq & 0xff);
}

/* put_json_string - s as a JSON string */
static void
put_json_string(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	char esc[6] = { '\\', 'u', '0', '0', 0, 0 };

	buf_append(b, "\"", 1);
	for (p = (const unsigned char *) s; *p != 0; p++) {
		const unsigned char *run = p;

		while (*p >= 0x20 && *p != '"' && *p != '\\')
			p++;
		buf_append(b, run, (size_t) (p - run));
		if (*p == 0)
			break;
		if (*p == '"' || *p == '\\') {
			esc[1] = (char) *p;
			buf_append(b, esc, 2);
			esc[1] = 'u';
		} else {
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 0xf];
			buf_append(b, esc, 6);
		}
	}
	buf_append(b, "\"", 1);
}

/*
 * outbox_add_many - queue events with ready payload text.  The keys are
 * checked first, so that the new events are numbered without gaps, as
 * outbox_add() one by one would number them; the record is the one
 * outbox_add() writes, with the payload text as given.
 */
int
outbox_add_many(struct store_txn *txn, const struct outbox_item *items, size_t n,
		long *added)
{
	char seen[32], ts[JSON_DOUBLE_MAX];
	unsigned char k[8];
	unsigned char *fresh;
	struct buf b;
	uint64_t seq;
	size_t i, count = 0;
	int status = STORE_OK;

	*added = 0;
	if (n == 0)
		return STORE_OK;
	fresh = xcalloc(n, 1);
	snprintf(seen, sizeof(seen), "%.6f", now_seconds());
	for (i = 0; i < n; i++) {
		status = store_put_new(txn, STORE_EVENTS_SEEN, items[i].key,
				       strlen(items[i].key), seen, strlen(seen));
		if (status == STORE_EXISTS)
			continue;
		if (status != STORE_OK)
			goto out;
		fresh[i] = 1;
		count++;
	}
	status = STORE_OK;
	if (count == 0)
		goto out;
	if ((status = store_seq_reserve(txn, "outbox", count, &seq)) != STORE_OK)
		goto out;
	buf_init(&b);
	for (i = 0; i < n && status == STORE_OK; i++) {
		const struct outbox_item *it = &items[i];

		if (!fresh[i])
			continue;
		buf_reset(&b);
		buf_append(&b, "{\"key\":", 7);
		put_json_string(&b, it->key);
		buf_append(&b, ",\"event\":", 9);
		put_json_string(&b, event_type_name(it->type));
		buf_puts(&b, ",\"timestamp\":");
		buf_append(&b, ts, json_double_format(ts, sizeof(ts), it->timestamp, 6));
		buf_puts(&b, ",\"payload\":");
		buf_append(&b, it->payload, it->payload_len);
		if (it->endpoint_id != NULL) {
			buf_append(&b, ",\"endpoint\":", 12);
			put_json_string(&b, it->endpoint_id);
		}
		if (it->tenant != NULL) {
			buf_append(&b, ",\"tenant\":", 10);
			put_json_string(&b, it->tenant);
		}
		buf_append(&b, "}", 1);
		seq_key(seq++, k);
		status = store_put(txn, STORE_OUTBOX, k, sizeof(k), b.data, b.len);
	}
	buf_free(&b);
	if (status == STORE_OK)
		*added = (long) count;
out:
	free(fresh);
	return status;
}

/* outbox_add - queue an event unless its key was seen */
int
outbox_add(struct store_txn *txn, const char *key, enum event_type type, double timestamp,
	   json_object *payload, const char *endpoint_id)
{
	return outbox_add_tenant(txn, key, type, timestamp, payload, endpoint_id, NULL);
}

/* outbox_add_tenant - queue a tenant's event unless its key was seen */
int
outbox_add_tenant(struct store_txn *txn, const char *key, enum event_type type,
		  double timestamp, json_object *payload, const char *endpoint_id,
		  const char *tenant)
{
	struct outbox_item it;
	size_t len;
	long added;
	int status;

	it.key = key;
	it.type = type;
	it.timestamp = timestamp;
	it.payload = json_object_to_json_string_length(
	    payload, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	it.payload_len = len;
	it.endpoint_id = endpoint_id;
	it.tenant = tenant;
	status = outbox_add_many(txn, &it, 1, &added);
	if (status == STORE_OK && added == 0)
		status = STORE_EXISTS;
	return status;
}

/* outbox_event_free - free one event */
void
outbox_event_free(struct outbox_event *ev)
{
	if (ev == NULL)
		return;
	free(ev->key);
	json_object_put(ev->payload);
	free(ev->endpoint_id);
	free(ev->tenant);
	free(ev);
}

/* outbox_events_free - free what outbox_take() returned */
void
outbox_events_free(struct outbox_event **evs, int n)
{
	int i;

	for (i = 0; i < n; i++)
		outbox_event_free(evs[i]);
	free(evs);
}

/* outbox_event_parse - a stored event, or NULL if it is damaged */
static struct outbox_event *
outbox_event_parse(const void *val, size_t vlen)
{
	json_object *o = json_parse_len(val, vlen);
	json_object *key, *name, *ts, *payload, *ep;
	const char *tenant;
	struct outbox_event *ev = NULL;
	enum event_type type;

	if (o != NULL && json_object_object_get_ex(o, "key", &key)
	    && json_object_object_get_ex(o, "event", &name)
	    && json_object_object_get_ex(o, "timestamp", &ts)
	    && json_object_object_get_ex(o, "payload", &payload)
	    && event_type_from_name(json_object_get_string(name), &type) == 0) {
		ev = xcalloc(1, sizeof(*ev));
		ev->key = xstrdup(json_object_get_string(key));
		ev->type = type;
		ev->timestamp = json_object_get_double(ts);
		ev->payload = json_object_get(payload);
		if (json_object_object_get_ex(o, "endpoint", &ep))
			ev->endpoint_id = xstrdup(json_object_get_string(ep));
		if ((tenant = json_string_member(o, "tenant")) != NULL)
			ev->tenant = xstrdup(tenant);
	}
	json_object_put(o);
	return ev;
}

/* outbox_take - remove the oldest events */
int
outbox_take(struct store_txn *txn, int max, struct outbox_event ***out, int *n)
{
	struct outbox_event **evs = xcalloc((size_t) (max > 0 ? max : 1), sizeof(*evs));
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl;
	int status;

	*out = NULL;
	*n = 0;
	status = store_cursor_open(txn, STORE_OUTBOX, &c);
	if (status != STORE_OK) {
		free(evs);
		return status;
	}
	while (*n < max
	       && (status = store_cursor_next(c, &k, &kl, &v, &vl)) == STORE_OK) {
		struct outbox_event *ev = outbox_event_parse(v, vl);

		status = store_cursor_del(c);
		if (status != STORE_OK) {
			outbox_event_free(ev);
			break;
		}
		if (ev == NULL) {
			log_error("outbox: dropped a damaged event record (%zu bytes)",
				  vl);
			continue;
		}
		evs[(*n)++] = ev;
	}
	store_cursor_close(c);
	if (status != STORE_OK && status != STORE_NOTFOUND) {
		outbox_events_free(evs, *n);
		*n = 0;
		return status;
	}
	*out = evs;
	return STORE_OK;
}

/* outbox_depth - count waiting events */
int
outbox_depth(struct store_txn *txn, long *depth)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl;
	int status;

	*depth = 0;
	status = store_cursor_open(txn, STORE_OUTBOX, &c);
	if (status != STORE_OK)
		return status;
	while ((status = store_cursor_next(c, &k, &kl, &v, &vl)) == STORE_OK)
		(*depth)++;
	store_cursor_close(c);
	return status == STORE_NOTFOUND ? STORE_OK : status;
}

/* seen_time - when an event key was first seen */
static double
seen_time(const void *val, size_t len)
{
	char text[32];

	snprintf(text, sizeof(text), "%.*s", (int) (len < 31 ? len : 31),
		 (const char *) val);
	return strtod(text, NULL);
}

/* outbox_purge_seen - forget keys of events made before cutoff */
int
outbox_purge_seen(struct store_txn *txn, double cutoff, int limit, int *count)
{
	static const struct purge_ops ops = { STORE_EVENTS_SEEN, seen_time, NULL };

	return purge_older(txn, &ops, cutoff, limit, count);
}
