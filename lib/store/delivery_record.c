/*
 * delivery_record.c - the stored form of a delivery record: parsed with
 * json-c, written straight as text (see delivery_int.h), and copied.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/delivery.h"
#include "store/delivery_int.h"
#include "util/json.h"
#include "util/jsonw.h"

/* write_int - a signed integer as json-c prints it. */
static void
write_int(struct buf *b, int64_t v)
{
	char text[24];

	jsonw_mem(b, text, (size_t) snprintf(text, sizeof(text), "%" PRId64, v));
}

/* delivery_text - see delivery_int.h. */
void
delivery_text(struct buf *b, const struct delivery *d, const char *payload,
	      size_t payload_len)
{
	if (payload == NULL)
		payload = delivery_payload_json(d, &payload_len);
	JSONW_LIT(b, "{\"id\":");
	write_int(b, (int64_t) d->id);
	JSONW_LIT(b, ",\"uuid\":");
	jsonw_string(b, d->uuid);
	JSONW_LIT(b, ",\"endpoint\":");
	jsonw_string(b, d->endpoint_id);
	JSONW_LIT(b, ",\"key\":");
	jsonw_string(b, d->event_key);
	JSONW_LIT(b, ",\"event\":");
	jsonw_string(b, event_type_name(d->type));
	JSONW_LIT(b, ",\"timestamp\":");
	jsonw_double(b, d->timestamp, 6);
	JSONW_LIT(b, ",\"payload\":");
	jsonw_mem(b, payload, payload_len);
	JSONW_LIT(b, ",\"attempts\":");
	write_int(b, d->attempts);
	JSONW_LIT(b, ",\"base\":");
	write_int(b, d->base);
	JSONW_LIT(b, ",\"spared\":");
	write_int(b, d->spared);
	if (d->parked)
		JSONW_LIT(b, ",\"parked\":true");
	else
		JSONW_LIT(b, ",\"parked\":false");
	if (d->replay)
		JSONW_LIT(b, ",\"replay\":true,\"due\":");
	else
		JSONW_LIT(b, ",\"replay\":false,\"due\":");
	write_int(b, d->due_ms);
	JSONW_LIT(b, ",\"state\":");
	write_int(b, (int64_t) d->state);
	JSONW_LIT(b, ",\"kid\":");
	jsonw_string(b, d->kid);
	JSONW_LIT(b, ",\"created\":");
	jsonw_double(b, d->created, 6);
	JSONW_LIT(b, ",\"updated\":");
	jsonw_double(b, d->updated, 6);
	JSONW_LIT(b, ",\"lastAttempt\":");
	jsonw_string(b, d->last_attempt);
	JSONW_LIT(b, "}");
	jsonw_end(b);
}

/* delivery_from_json - see delivery_int.h. */
struct delivery *
delivery_from_json(json_object *o)
{
	struct delivery *d;
	const char *uuid = json_object_get_string(json_member(o, "uuid"));
	const char *s;
	enum event_type t;

	if (uuid == NULL || strlen(uuid) != 36 || json_member(o, "endpoint") == NULL
	    || event_type_from_name(json_object_get_string(json_member(o, "event")), &t)
		   < 0)
		return NULL;
	d = xcalloc(1, sizeof(*d));
	d->id = (uint64_t) json_object_get_int64(json_member(o, "id"));
	memcpy(d->uuid, uuid, 37);
	if ((s = json_string_member(o, "endpoint")) != NULL)
		d->endpoint_id = xstrdup(s);
	if ((s = json_string_member(o, "key")) != NULL)
		d->event_key = xstrdup(s);
	d->type = t;
	d->timestamp = json_object_get_double(json_member(o, "timestamp"));
	d->payload = json_object_get(json_member(o, "payload"));
	d->attempts = json_object_get_int(json_member(o, "attempts"));
	d->base = json_object_get_int(json_member(o, "base"));
	d->spared = json_object_get_int(json_member(o, "spared"));
	d->parked = json_object_get_boolean(json_member(o, "parked"));
	d->replay = json_object_get_boolean(json_member(o, "replay"));
	d->due_ms = json_object_get_int64(json_member(o, "due"));
	d->state = (enum delivery_state) json_object_get_int(json_member(o, "state"));
	if ((s = json_string_member(o, "kid")) != NULL)
		d->kid = xstrdup(s);
	d->created = json_object_get_double(json_member(o, "created"));
	d->updated = json_object_get_double(json_member(o, "updated"));
	if ((s = json_string_member(o, "lastAttempt")) != NULL)
		d->last_attempt = xstrdup(s);
	return d;
}

/* delivery_parse_value - see delivery_int.h. */
json_object *
delivery_parse_value(const void *val, size_t vlen)
{
	json_tokener *tok = json_tokener_new();
	json_object *o;

	o = json_tokener_parse_ex(tok, val, (int) vlen);
	json_tokener_free(tok);
	return o;
}

/* find_last - the last needle in [p, p + len), or NULL. */
static const char *
find_last(const char *p, size_t len, const char *needle, size_t n)
{
	const char *hit = NULL, *end = p + len, *q = p;

	while (q < end && (q = memmem(q, (size_t) (end - q), needle, n)) != NULL)
		hit = q++;
	return hit;
}

/*
 * delivery_head_json - see delivery_int.h.  Inside a JSON string every
 * '"' is escaped, so the first ',"payload":' is the member itself (only
 * id, uuid, endpoint, key, event and timestamp come before it), and the
 * last ',"attempts":' is the member after it (the members after it hold
 * no object a payload's keys could be mistaken in).  A payload with "\/"
 * may be an older record's escaped "/": parsed whole, and printed unescaped.
 */
json_object *
delivery_head_json(const char *text, size_t len, const char **payload,
		   size_t *payload_len)
{
	static const char p_key[] = ",\"payload\":", a_key[] = ",\"attempts\":";
	const char *p, *a, *end = text + len;
	struct buf head;
	json_object *o;

	if ((p = memmem(text, len, p_key, sizeof(p_key) - 1)) == NULL)
		return NULL;
	p += sizeof(p_key) - 1;
	if ((a = find_last(p, (size_t) (end - p), a_key, sizeof(a_key) - 1)) == NULL
	    || a == p || memmem(p, (size_t) (a - p), "\\/", 2) != NULL)
		return NULL;
	buf_init(&head);
	buf_append(&head, text, (size_t) (p - text));
	buf_puts(&head, "null");
	buf_append(&head, a, (size_t) (end - a));
	o = json_parse_len(head.data, head.len);
	buf_free(&head);
	*payload = p;
	*payload_len = (size_t) (a - p);
	return o;
}

/* delivery_payload_json - see delivery.h. */
const char *
delivery_payload_json(const struct delivery *d, size_t *len)
{
	const char *s = "null";

	if (d->payload_text != NULL) {
		*len = d->payload_text_len;
		return d->payload_text;
	}
	if (d->payload != NULL)
		s = json_object_to_json_string_ext(
		    d->payload, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	*len = strlen(s);
	return s;
}

/* delivery_envelope_json - see delivery.h. */
char *
delivery_envelope_json(const struct delivery *d, size_t *len, size_t *payload_off,
		       size_t *payload_len)
{
	struct buf b;
	const char *payload = delivery_payload_json(d, payload_len);

	buf_init(&b);
	JSONW_LIT(&b, "{\"event\":");
	jsonw_string(&b, event_type_name(d->type));
	JSONW_LIT(&b, ",\"timestamp\":");
	jsonw_double(&b, d->timestamp, 6);
	JSONW_LIT(&b, ",\"uuid\":");
	jsonw_string(&b, d->uuid);
	JSONW_LIT(&b, ",\"payload\":");
	*payload_off = b.len;
	jsonw_mem(&b, payload, *payload_len);
	JSONW_LIT(&b, "}");
	jsonw_end(&b);
	*len = b.len;
	return (buf_take(&b));
}

/* text_ws - past JSON white space. */
static const char *
text_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return (p);
}

/* text_string - past the string that starts at p ('"'), or NULL. */
static const char *
text_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return (p + 1);
	}
	return (NULL);
}

/* text_value - past the value that starts at p, or NULL. */
static const char *
text_value(const char *p, const char *end)
{
	int depth = 0;

	while (p < end) {
		if (*p == '"') {
			if ((p = text_string(p, end)) == NULL || depth == 0)
				return (p);
			continue;
		}
		if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (depth == 0)
				return (p); /* a scalar's end */
			if (--depth == 0)
				return (p + 1);
		} else if (depth == 0 && (*p == ',' || text_ws(p, end) != p)) {
			return (p);
		}
		p++;
	}
	return (depth == 0 ? p : NULL);
}

/*
 * text_member - the value of member key of the object at *p..end (its
 * start in *p, its end returned), or NULL.  Names are compared as
 * written: those of stored payloads have no escapes.
 */
static const char *
text_member(const char **p, const char *end, const char *key)
{
	const char *s = text_ws(*p, end), *name, *v;
	size_t klen = strlen(key), nlen;

	if (s >= end || *s != '{')
		return (NULL);
	s = text_ws(s + 1, end);
	while (s < end && *s == '"') {
		name = s + 1;
		if ((s = text_string(s, end)) == NULL)
			return (NULL);
		nlen = (size_t) (s - 1 - name);
		s = text_ws(s, end);
		if (s >= end || *s != ':')
			return (NULL);
		v = text_ws(s + 1, end);
		if ((s = text_value(v, end)) == NULL)
			return (NULL);
		if (nlen == klen && memcmp(name, key, klen) == 0) {
			*p = v;
			return (s);
		}
		s = text_ws(s, end);
		if (s >= end || *s != ',')
			return (NULL);
		s = text_ws(s + 1, end);
	}
	return (NULL);
}

/* delivery_message_id - see delivery.h. */
int
delivery_message_id(const struct delivery *d, uint64_t *id)
{
	json_object *o;
	const char *p, *end;
	uint64_t v = 0;

	if (d->payload_text == NULL) {
		o = json_member(json_member(d->payload, "message"), "id");
		if (o == NULL || !json_object_is_type(o, json_type_int))
			return (0);
		*id = json_object_get_uint64(o);
		return (1);
	}
	p = d->payload_text;
	if ((end = text_member(&p, p + d->payload_text_len, "message")) == NULL
	    || (end = text_member(&p, end, "id")) == NULL || p == end)
		return (0);
	for (; p < end; p++) {
		if (*p < '0' || *p > '9' || v > (UINT64_MAX - (uint64_t) (*p - '0')) / 10)
			return (0);
		v = v * 10 + (uint64_t) (*p - '0');
	}
	*id = v;
	return (1);
}

/* delivery_copy - see delivery_int.h. */
struct delivery *
delivery_copy(const struct delivery *src)
{
	struct delivery *d = xmalloc(sizeof(*d));

	*d = *src;
	d->endpoint_id = src->endpoint_id ? xstrdup(src->endpoint_id) : NULL;
	d->event_key = src->event_key ? xstrdup(src->event_key) : NULL;
	d->kid = src->kid ? xstrdup(src->kid) : NULL;
	d->last_attempt = src->last_attempt ? xstrdup(src->last_attempt) : NULL;
	d->payload = json_object_get(src->payload);
	if (src->payload_text != NULL)
		d->payload_text = xstrndup(src->payload_text, src->payload_text_len);
	d->stored = NULL;
	d->stored_len = 0;
	return d;
}
