/*
 * outbox.c - the durable event outbox.
 *
 * STORE_OUTBOX holds the queued events under an 8-byte sequence number,
 * so they are taken in the order made.  A record holds up to
 * OUTBOX_RECORD_MAX events, those of one outbox_add_many() call (one
 * tailer batch): one logged B-tree record for them all, not one each.
 * It is "B", the count (4 bytes, big-endian), then each event's length
 * (4 bytes) and text: the JSON object {"key","event","timestamp",
 * "payload"} with "endpoint" when the event is for one endpoint only and
 * "tenant" when it is not the default tenant's.  A record made before
 * (by the previous release) is one such object alone; both are read.
 * The sequence numbers count events, not records: a record's key is its
 * first event's number.
 *
 * STORE_EVENTS_SEEN remembers event keys (until retention) so that the
 * same event is never queued twice; a log source that keeps its own
 * high-water mark there (outbox_mark_put()) instead adds its events with
 * outbox_add_fresh(), no key each.  A source the previous release read
 * has no mark but the seen keys of its events: its mark is found from
 * them, once.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "store/outbox.h"
#include "store/purge.h"
#include "util/json.h"
#include "util/util.h"

#define RECORD_TAG 'B'
#define RECORD_HEAD 5 /* tag and count */

/* seq_key - 8-byte big-endian key */
static void
seq_key(uint64_t seq, unsigned char key[8])
{
	int i;

	for (i = 7; i >= 0; i--, seq >>= 8)
		key[i] = (unsigned char) (seq & 0xff);
}

/* put_u32 - 4 bytes, big-endian, at p */
static void
put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char) (v >> 24);
	p[1] = (unsigned char) (v >> 16);
	p[2] = (unsigned char) (v >> 8);
	p[3] = (unsigned char) v;
}

/* get_u32 - the 4 bytes at p, big-endian */
static uint32_t
get_u32(const unsigned char *p)
{
	return ((uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8
		| (uint32_t) p[3]);
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

/* put_event - append one event, its length first, to a record in b */
static void
put_event(struct buf *b, const struct outbox_item *it)
{
	char ts[JSON_DOUBLE_MAX];
	unsigned char len[4] = { 0, 0, 0, 0 };
	size_t at = b->len;

	buf_append(b, len, sizeof(len));
	buf_append(b, "{\"key\":", 7);
	put_json_string(b, it->key);
	buf_append(b, ",\"event\":", 9);
	put_json_string(b, event_type_name(it->type));
	buf_puts(b, ",\"timestamp\":");
	buf_append(b, ts, json_double_format(ts, sizeof(ts), it->timestamp, 6));
	buf_puts(b, ",\"payload\":");
	buf_append(b, it->payload, it->payload_len);
	if (it->endpoint_id != NULL) {
		buf_append(b, ",\"endpoint\":", 12);
		put_json_string(b, it->endpoint_id);
	}
	if (it->tenant != NULL) {
		buf_append(b, ",\"tenant\":", 10);
		put_json_string(b, it->tenant);
	}
	buf_append(b, "}", 1);
	put_u32((unsigned char *) b->data + at, (uint32_t) (b->len - at - 4));
}

/*
 * put_records - store the items not skipped (skip NULL: all), count of
 * them, under consecutive sequence numbers, OUTBOX_RECORD_MAX a record.
 */
static int
put_records(struct store_txn *txn, const struct outbox_item *items, size_t n,
	    const unsigned char *skip, size_t count)
{
	unsigned char k[8];
	struct buf b;
	uint64_t seq;
	uint32_t in = 0;
	size_t i;
	int status;

	if (count == 0)
		return (STORE_OK);
	if ((status = store_seq_reserve(txn, "outbox", count, &seq)) != STORE_OK)
		return (status);
	buf_init(&b);
	for (i = 0; i < n && status == STORE_OK; i++) {
		if (skip != NULL && skip[i])
			continue;
		if (in == 0) {
			buf_reset(&b);
			buf_append(&b, "B\0\0\0\0", RECORD_HEAD);
		}
		put_event(&b, &items[i]);
		in++;
		if (--count > 0 && in < OUTBOX_RECORD_MAX)
			continue;
		put_u32((unsigned char *) b.data + 1, in);
		seq_key(seq, k);
		seq += in;
		in = 0;
		status = store_put(txn, STORE_OUTBOX, k, sizeof(k), b.data, b.len);
	}
	buf_free(&b);
	return (status);
}

/*
 * outbox_add_many - queue events with ready payload text.  The keys are
 * checked first, so that the new events are numbered without gaps, as
 * outbox_add() one by one would number them.
 */
int
outbox_add_many(struct store_txn *txn, const struct outbox_item *items, size_t n,
		long *added)
{
	char seen[32];
	unsigned char *skip;
	size_t i, count = 0;
	int status = STORE_OK;

	*added = 0;
	if (n == 0)
		return (STORE_OK);
	skip = xcalloc(n, 1);
	snprintf(seen, sizeof(seen), "%.6f", now_seconds());
	for (i = 0; i < n; i++) {
		status = store_put_new(txn, STORE_EVENTS_SEEN, items[i].key,
				       strlen(items[i].key), seen, strlen(seen));
		if (status == STORE_EXISTS) {
			skip[i] = 1;
			continue;
		}
		if (status != STORE_OK)
			goto out;
		count++;
	}
	if ((status = put_records(txn, items, n, skip, count)) == STORE_OK)
		*added = (long) count;
out:
	free(skip);
	return (status);
}

/* outbox_add_fresh - queue events known to be new: no seen keys */
int
outbox_add_fresh(struct store_txn *txn, const struct outbox_item *items, size_t n)
{
	return (put_records(txn, items, n, NULL, n));
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

/*
 * outbox_record_events - the events of a stored record: up to max slices
 * into rec (one for a record of the previous release).  Returns how many
 * the record holds, or -1 when it is damaged.
 */
int
outbox_record_events(const void *rec, size_t len, struct outbox_slice *out, int max)
{
	const unsigned char *p = rec, *end = p + len;
	uint32_t count, i, elen;

	if (len > 0 && p[0] == '{') {
		if (max > 0) {
			out[0].text = rec;
			out[0].len = len;
		}
		return (1);
	}
	if (len < RECORD_HEAD || p[0] != RECORD_TAG)
		return (-1);
	count = get_u32(p + 1);
	if (count == 0 || count > OUTBOX_RECORD_MAX)
		return (-1);
	for (i = 0, p += RECORD_HEAD; i < count; i++, p += elen) {
		if (end - p < 4)
			return (-1);
		elen = get_u32(p);
		p += 4;
		if ((size_t) (end - p) < elen)
			return (-1);
		if ((int) i < max) {
			out[i].text = (const char *) p;
			out[i].len = elen;
		}
	}
	return (p == end ? (int) count : -1);
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

/*
 * rest_of - the record that is left of rec once its first skip events
 * are taken: the same form, the next sequence number's key.
 */
static void
rest_of(const unsigned char *key, const struct outbox_slice *ev, int count, int skip,
	struct buf *out, unsigned char next[8])
{
	uint64_t seq = 0;
	unsigned char len[4];
	int i;

	for (i = 0; i < 8; i++)
		seq = seq << 8 | key[i];
	seq_key(seq + (uint64_t) skip, next);
	buf_reset(out);
	buf_append(out, "B\0\0\0\0", RECORD_HEAD);
	put_u32((unsigned char *) out->data + 1, (uint32_t) (count - skip));
	for (i = skip; i < count; i++) {
		put_u32(len, (uint32_t) ev[i].len);
		buf_append(out, len, sizeof(len));
		buf_append(out, ev[i].text, ev[i].len);
	}
}

/*
 * outbox_take - remove the oldest events.  When max ends inside a record,
 * the rest of it is stored again under the key of its first event left.
 */
int
outbox_take(struct store_txn *txn, int max, struct outbox_event ***out, int *n)
{
	struct outbox_event **evs = xcalloc((size_t) (max > 0 ? max : 1), sizeof(*evs));
	struct outbox_slice ev[OUTBOX_RECORD_MAX];
	unsigned char next[8];
	struct store_cursor *c;
	struct buf rest;
	const void *k, *v;
	size_t kl, vl;
	int status, count, i;

	*out = NULL;
	*n = 0;
	buf_init(&rest);
	status = store_cursor_open(txn, STORE_OUTBOX, &c);
	if (status != STORE_OK) {
		free(evs);
		return status;
	}
	while (*n < max
	       && (status = store_cursor_next(c, &k, &kl, &v, &vl)) == STORE_OK) {
		count = outbox_record_events(v, vl, ev, OUTBOX_RECORD_MAX);
		if (count < 0)
			log_error("outbox: dropped a damaged event record (%zu bytes)",
				  vl);
		for (i = 0; i < count && *n < max; i++) {
			struct outbox_event *e =
			    outbox_event_parse(ev[i].text, ev[i].len);

			if (e == NULL)
				log_error("outbox: dropped a damaged event (%zu bytes)",
					  ev[i].len);
			else
				evs[(*n)++] = e;
		}
		if (i < count && kl == sizeof(next))
			rest_of(k, ev, count, i, &rest, next);
		if ((status = store_cursor_del(c)) != STORE_OK)
			break;
	}
	store_cursor_close(c);
	if (status == STORE_OK && rest.len > 0)
		status =
		    store_put(txn, STORE_OUTBOX, next, sizeof(next), rest.data, rest.len);
	buf_free(&rest);
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
	int status, count;

	*depth = 0;
	status = store_cursor_open(txn, STORE_OUTBOX, &c);
	if (status != STORE_OK)
		return status;
	while ((status = store_cursor_next(c, &k, &kl, &v, &vl)) == STORE_OK)
		if ((count = outbox_record_events(v, vl, NULL, 0)) > 0)
			*depth += count;
	store_cursor_close(c);
	return status == STORE_NOTFOUND ? STORE_OK : status;
}

/*
 * outbox_walk - each waiting event's text, oldest first, to fn (read
 * only; fn returns STORE_OK to go on).
 */
int
outbox_walk(struct store_txn *txn, outbox_walk_fn fn, void *ctx)
{
	struct outbox_slice ev[OUTBOX_RECORD_MAX];
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl;
	int status, count, i;

	if ((status = store_cursor_open(txn, STORE_OUTBOX, &c)) != STORE_OK)
		return (status);
	while ((status = store_cursor_next(c, &k, &kl, &v, &vl)) == STORE_OK) {
		count = outbox_record_events(v, vl, ev, OUTBOX_RECORD_MAX);
		for (i = 0; i < count && status == STORE_OK; i++)
			status = fn(ev[i].text, ev[i].len, ctx);
		if (status != STORE_OK)
			break;
	}
	store_cursor_close(c);
	return (status == STORE_NOTFOUND ? STORE_OK : status);
}

/* seen_time - when an event key was first seen (a mark: last moved) */
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

/* outbox_mark_parse - the offset in a mark's text "TIME OFFSET"; 0 or -1 */
int
outbox_mark_parse(const char *text, size_t len, uint64_t *offset)
{
	char buf[64], *end;
	const char *sp;
	unsigned long long v;

	if (len >= sizeof(buf))
		return (-1);
	memcpy(buf, text, len);
	buf[len] = 0;
	if ((sp = strchr(buf, ' ')) == NULL || sp[1] < '0' || sp[1] > '9')
		return (-1);
	v = strtoull(sp + 1, &end, 10);
	if (*end != 0)
		return (-1);
	*offset = (uint64_t) v;
	return (0);
}

/*
 * mark_of_seen - a mark from the seen keys the previous release kept
 * for the source's events ("source/OFFSET/..."): past the largest offset.
 */
static int
mark_of_seen(struct store_txn *txn, const char *source, uint64_t *offset)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl, sl = strlen(source);
	char *prefix = xasprintf("%s/", source);
	int status, found = 0;

	if ((status = store_cursor_open(txn, STORE_EVENTS_SEEN, &c)) != STORE_OK) {
		free(prefix);
		return (status);
	}
	status = store_cursor_seek(c, prefix, sl + 1);
	while (status == STORE_OK
	       && (status = store_cursor_next(c, &k, &kl, &v, &vl)) == STORE_OK && kl > sl
	       && memcmp(k, prefix, sl + 1) == 0) {
		const char *p = (const char *) k + sl + 1, *end = (const char *) k + kl;
		uint64_t off = 0;

		if (p >= end || *p < '0' || *p > '9')
			continue;
		for (; p < end && *p >= '0' && *p <= '9'; p++)
			off = off * 10 + (uint64_t) (*p - '0');
		if (!found || off + 1 > *offset)
			*offset = off + 1;
		found = 1;
	}
	store_cursor_close(c);
	free(prefix);
	if (status != STORE_OK && status != STORE_NOTFOUND)
		return (status);
	return (found ? STORE_OK : STORE_NOTFOUND);
}

/* outbox_mark_get - a source's high-water mark */
int
outbox_mark_get(struct store_txn *txn, const char *source, uint64_t *offset)
{
	void *val;
	size_t len;
	int status;

	*offset = 0;
	status = store_get(txn, STORE_EVENTS_SEEN, source, strlen(source), &val, &len);
	if (status == STORE_NOTFOUND)
		return (mark_of_seen(txn, source, offset));
	if (status != STORE_OK)
		return (status);
	if (outbox_mark_parse(val, len, offset) < 0) {
		log_warn("outbox: unreadable high-water mark of %s: ignored", source);
		status = mark_of_seen(txn, source, offset);
	}
	free(val);
	return (status);
}

/* outbox_mark_put - move a source's high-water mark */
int
outbox_mark_put(struct store_txn *txn, const char *source, uint64_t offset)
{
	char text[64];
	int len;

	len = snprintf(text, sizeof(text), "%.6f %" PRIu64, now_seconds(), offset);
	return (store_put(txn, STORE_EVENTS_SEEN, source, strlen(source), text,
			  (size_t) len));
}
