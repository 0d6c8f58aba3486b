/*
 * event.c - event names, classification names, and the JSON of the
 * payloads and the envelope (docs/events.md, Envelope, Delivery events).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "event/event.h"
#include "util/json.h"
#include "util/log.h"
#include "util/util.h"

static const char *const event_names[EV_TYPE_COUNT] = {
	[EV_MESSAGE_SENT] = "MessageSent",
	[EV_MESSAGE_DELAYED] = "MessageDelayed",
	[EV_MESSAGE_DELIVERY_FAILED] = "MessageDeliveryFailed",
	[EV_MESSAGE_BOUNCED] = "MessageBounced",
	[EV_MESSAGE_HELD] = "MessageHeld",
	[EV_MESSAGE_LOADED] = "MessageLoaded",
	[EV_MESSAGE_LINK_CLICKED] = "MessageLinkClicked",
	[EV_DOMAIN_DNS_ERROR] = "DomainDNSError",
	[EV_SEND_LIMIT] = "SendLimit",
};

/* event_type_name - the event's name on the wire */
const char *
event_type_name(enum event_type t)
{
	return (unsigned) t < EV_TYPE_COUNT ? event_names[t] : "Unknown";
}

/* event_type_from_name - the type a name stands for */
int
event_type_from_name(const char *name, enum event_type *out)
{
	int t;

	for (t = 0; t < EV_TYPE_COUNT; t++) {
		if (strcmp(event_names[t], name) == 0) {
			*out = (enum event_type) t;
			return 0;
		}
	}
	return -1;
}

/* event_status_name - payload.status of a delivery event, or NULL */
const char *
event_status_name(enum event_type t)
{
	switch (t) {
	case EV_MESSAGE_SENT:
		return "Sent";
	case EV_MESSAGE_DELAYED:
		return "SoftFail";
	case EV_MESSAGE_DELIVERY_FAILED:
		return "HardFail";
	case EV_MESSAGE_HELD:
		return "Held";
	default:
		return NULL;
	}
}

static const struct {
	enum classification code;
	const char *name;
} class_names[] = {
	{ CLASS_INVALID_RECIPIENT, "invalid_recipient" },
	{ CLASS_INACTIVE_MAILBOX, "inactive_mailbox" },
	{ CLASS_MAILBOX_FULL, "mailbox_full" },
	{ CLASS_INVALID_DOMAIN, "invalid_domain" },
	{ CLASS_DNS_FAILURE, "dns_failure" },
	{ CLASS_ROUTING_ERROR, "routing_error" },
	{ CLASS_SPAM_BLOCK, "spam_block" },
	{ CLASS_SPAM_CONTENT, "spam_content" },
	{ CLASS_POLICY_REJECTION, "policy_rejection" },
	{ CLASS_CONNECTION_ERROR, "connection_error" },
	{ CLASS_PROTOCOL_ERROR, "protocol_error" },
	{ CLASS_TRANSIENT_FAILURE, "transient_failure" },
	{ CLASS_UNCLASSIFIED, "unclassified" },
};

#define NCLASSES (sizeof(class_names) / sizeof(class_names[0]))

/* classification_name - the name on the wire, or NULL for CLASS_NONE */
const char *
classification_name(enum classification c)
{
	size_t i;

	for (i = 0; i < NCLASSES; i++)
		if (class_names[i].code == c)
			return class_names[i].name;
	return NULL;
}

/* classification_from_name - the code of a name */
int
classification_from_name(const char *name, enum classification *out)
{
	size_t i;

	for (i = 0; i < NCLASSES; i++) {
		if (strcmp(class_names[i].name, name) == 0) {
			*out = class_names[i].code;
			return 0;
		}
	}
	return -1;
}

/*
 * format_fixed - v as printf's "%.*f" writes it, decimals 0 to 9, with its
 * trailing zeros cut to one ("2.110000" -> "2.11", "3.000" -> "3.0");
 * returns the length.  The digits are computed exactly (v is m * 2^e; its
 * value times 10^decimals is rounded to the nearest integer, a tie to the
 * even one, as glibc's printf does in the default rounding mode) with
 * 128-bit integers; what does not fit (NaN, infinities, very large or very
 * small magnitudes) goes through snprintf().  size must be at least
 * JSON_DOUBLE_MAX (event.h): "%.9f" of the largest double has 320
 * characters.  (Before
 * this formatter json_double_new() printed into 64 bytes, which cut numbers
 * of 1e55 and more and could write one byte past the buffer.)
 */
static size_t
format_fixed(char *text, size_t size, double v, int decimals)
{
	static const uint64_t pow10[] = {
		1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
		1000000000,
	};
	unsigned __int128 scaled, q, r, half;
	uint64_t bits, mant, ip, fp;
	int     exp, neg, shift, i;
	char    digits[48], *p = text;
	size_t  len, n;

	memcpy(&bits, &v, sizeof(bits));
	neg = (int) (bits >> 63);
	exp = (int) ((bits >> 52) & 0x7ff);
	mant = bits & ((UINT64_C(1) << 52) - 1);
	if (size < JSON_DOUBLE_MAX)
		return (0);
	if (decimals < 0 || decimals > 9 || exp == 0x7ff)
		goto slow;
	if (exp == 0 && mant == 0) {
		exp = 0;			/* zero: q is 0 below */
	} else if (exp == 0) {
		exp = 1 - 1075;			/* subnormal or zero */
	} else {
		mant |= UINT64_C(1) << 52;
		exp -= 1075;
	}
	if (exp > 20 || exp < -100)
		goto slow;
	if (mant == 0) {
		q = 0;
	} else if (exp >= 0) {
		q = ((unsigned __int128) mant << exp) * pow10[decimals];
	} else {
		shift = -exp;
		scaled = (unsigned __int128) mant * pow10[decimals];
		q = scaled >> shift;
		r = scaled - (q << shift);
		half = (unsigned __int128) 1 << (shift - 1);
		if (r > half || (r == half && (q & 1)))
			q++;
	}
	if ((q >> 64) == 0) {
		/* The usual case (a time in microseconds): 64-bit division,
		 * several times cheaper than the 128-bit one. */
		ip = (uint64_t) q / pow10[decimals];
		fp = (uint64_t) q % pow10[decimals];
	} else {
		if (q / pow10[decimals] > UINT64_MAX)
			goto slow;
		ip = (uint64_t) (q / pow10[decimals]);
		fp = (uint64_t) (q % pow10[decimals]);
	}
	if (neg)
		*p++ = '-';
	n = 0;
	do {
		digits[n++] = (char) ('0' + ip % 10);
		ip /= 10;
	} while (ip != 0);
	while (n > 0)
		*p++ = digits[--n];
	if (decimals > 0) {
		*p++ = '.';
		for (i = decimals - 1; i >= 0; i--) {
			p[i] = (char) ('0' + fp % 10);
			fp /= 10;
		}
		p += decimals;
		while (p[-1] == '0' && p[-2] != '.')
			p--;
	}
	*p = 0;
	return ((size_t) (p - text));
slow:
	snprintf(text, size, "%.*f", decimals, v);
	len = strlen(text);
	if (strchr(text, '.') != NULL) {
		while (len > 0 && text[len - 1] == '0')
			text[--len] = '\0';
		if (len > 0 && text[len - 1] == '.' && len + 1 < size)
			text[len++] = '0', text[len] = '\0';
	}
	return (len);
}

/* json_double_new - a number printed with up to `decimals` places */
json_object *
json_double_new(double v, int decimals)
{
	char text[JSON_DOUBLE_MAX];

	(void) format_fixed(text, sizeof(text), v, decimals);
	return json_object_new_double_s(v, text);
}

/* json_parse_len - a whole JSON text of known length */
json_object *
json_parse_len(const void *data, size_t len)
{
	struct json_tokener *tok;
	json_object *o;

	if (data == NULL || len == 0 || len > INT32_MAX)
		return NULL;
	tok = json_tokener_new();
	if (tok == NULL)
		return NULL;
	o = json_tokener_parse_ex(tok, data, (int) len);
	if (o != NULL && json_tokener_get_parse_end(tok) != len) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* event_message_clear - free the strings of a message object */
void
event_message_clear(struct event_message *m)
{
	free(m->token);
	free(m->direction);
	free(m->message_id);
	free(m->to);
	free(m->from);
	free(m->subject);
	free(m->spam_status);
	free(m->tag);
	json_object_put(m->metadata);
	memset(m, 0, sizeof(*m));
}

/* event_message_to_json - docs/events.md, The message object, keys in order */
json_object *
event_message_to_json(const struct event_message *m)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", m->id ? json_object_new_uint64(m->id) : NULL);
	json_add_string(o, "token", m->token);
	json_object_object_add(o, "direction",
			       json_object_new_string(m->direction ? m->direction : "outgoing"));
	json_add_string(o, "message_id", m->message_id);
	json_add_string(o, "to", m->to);
	json_add_string(o, "from", m->from);
	json_add_string(o, "subject", m->subject);
	json_object_object_add(o, "timestamp",
			       m->timestamp > 0 ? json_double_new(m->timestamp, 6) : NULL);
	json_object_object_add(o, "spam_status",
			       json_object_new_string(m->spam_status ? m->spam_status
						      : "NotChecked"));
	json_add_string(o, "tag", m->tag);
	json_object_object_add(o, "metadata", json_object_get(m->metadata));
	return o;
}

/* delivery_event_init - an empty event of a type */
void
delivery_event_init(struct delivery_event *ev, enum event_type type)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->sent_with_ssl = SSL_UNKNOWN;
	ev->time = -1;
}

/* delivery_event_clear - free what the event owns */
void
delivery_event_clear(struct delivery_event *ev)
{
	event_message_clear(&ev->message);
	free(ev->details);
	free(ev->output);
	free(ev->smtp_enhanced_code);
	free(ev->remote_host);
	delivery_event_init(ev, ev->type);
}

/* delivery_event_payload - docs/events.md, Delivery events */
json_object *
delivery_event_payload(const struct delivery_event *ev)
{
	json_object *o = json_object_new_object();
	const char *status = event_status_name(ev->type);

	json_object_object_add(o, "message", event_message_to_json(&ev->message));
	json_add_string(o, "status", status);
	json_add_string(o, "details", ev->details);
	json_add_string(o, "output", ev->output);
	json_object_object_add(o, "sent_with_ssl",
			       ev->sent_with_ssl == SSL_UNKNOWN ? NULL
			       : json_object_new_boolean(ev->sent_with_ssl));
	json_object_object_add(o, "timestamp", json_double_new(ev->timestamp, 6));
	json_object_object_add(o, "time", ev->time >= 0 ? json_double_new(ev->time, 3) : NULL);
	if (ev->type == EV_MESSAGE_DELAYED || ev->type == EV_MESSAGE_DELIVERY_FAILED) {
		enum classification c = ev->classification != CLASS_NONE
			? ev->classification : CLASS_UNCLASSIFIED;

		json_object_object_add(o, "classification",
				       json_object_new_string(classification_name(c)));
		json_object_object_add(o, "classification_code", json_object_new_int(c));
		json_add_string(o, "smtp_enhanced_code", ev->smtp_enhanced_code);
		json_add_string(o, "remote_host", ev->remote_host);
	}
	return o;
}

/* event_envelope - the envelope every webhook body is */
json_object *
event_envelope(enum event_type t, double timestamp, const char *uuid,
	       json_object *payload)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "event", json_object_new_string(event_type_name(t)));
	json_object_object_add(o, "timestamp", json_double_new(timestamp, 6));
	json_object_object_add(o, "uuid", json_object_new_string(uuid));
	json_object_object_add(o, "payload", json_object_get(payload));
	return o;
}

/*
 * The webhook body of a delivery event written straight into a buffer:
 * the same bytes as json-c prints for event_envelope() around
 * delivery_event_payload() with JSON_C_TO_STRING_PLAIN |
 * JSON_C_TO_STRING_NOSLASHESCAPE (tests/lib/check_event.c compares the two on
 * many events), at a fraction of the cost, for posthook-logtail --print.
 * The shape is the one above: a field added there must be added here.
 */
#define PUT_LIT(b, s)	put_mem((b), (s), sizeof(s) - 1)

/* reserve - room for n more bytes and the NUL, growing as buf_append()
 * does; the writer below fills b->data directly. */
static inline void
reserve(struct buf *b, size_t n)
{
	if (b->len + n + 1 <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 64;
	while (b->len + n + 1 > b->cap)
		b->cap *= 2;
	b->data = xrealloc(b->data, b->cap);
}

/* put_mem - append n bytes (the NUL is written once, at the end). */
static inline void
put_mem(struct buf *b, const char *s, size_t n)
{
	reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

/* plain8 - none of the 8 bytes at p needs escaping: no control character
 * (below 0x20), no '"', no '\\' (bytes from 0x80 on are copied as they
 * are).  Exact: the byte tests are the usual "has a byte below n" and
 * "has a zero byte" word tricks, whose only false alarms cannot occur
 * without a true one. */
static inline int
plain8(const unsigned char *p)
{
	uint64_t w, q, bs;

	memcpy(&w, p, sizeof(w));
	q = w ^ (ONES * '"');
	bs = w ^ (ONES * '\\');
	return ((((w - ONES * 0x20) & ~w)
		 | ((q - ONES) & ~q)
		 | ((bs - ONES) & ~bs)) & HIGHS) == 0;
}

/* json_put_string - a JSON string as json-c escapes it (with
 * JSON_C_TO_STRING_NOSLASHESCAPE): '"', '\\' and the control characters;
 * every other byte as it is.  NULL is null. */
static void
json_put_string(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p, *end;
	unsigned char c;
	size_t  len;
	char   *o;

	if (s == NULL) {
		PUT_LIT(b, "null");
		return;
	}
	len = strlen(s);
	reserve(b, 6 * len + 2);
	o = b->data + b->len;
	*o++ = '"';
	end = (const unsigned char *) s + len;
	for (p = (const unsigned char *) s; (c = *p) != 0; p++) {
		/* Eight plain bytes at a time while there are eight. */
		while (end - p >= 8 && plain8(p)) {
			memcpy(o, p, 8);
			o += 8;
			p += 8;
		}
		if ((c = *p) == 0)
			break;
		if (c >= 0x20 && c != '"' && c != '\\') {
			*o++ = (char) c;
			continue;
		}
		*o++ = '\\';
		switch (c) {
		case '\b':
			*o++ = 'b';
			break;
		case '\n':
			*o++ = 'n';
			break;
		case '\r':
			*o++ = 'r';
			break;
		case '\t':
			*o++ = 't';
			break;
		case '\f':
			*o++ = 'f';
			break;
		case '"':
		case '\\':
			*o++ = (char) c;
			break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 0xf];
			break;
		}
	}
	*o++ = '"';
	b->len = (size_t) (o - b->data);
}

/* json_put_double - a number as json_double_new() prints it. */
static void
json_put_double(struct buf *b, double v, int decimals)
{
	char    text[JSON_DOUBLE_MAX];

	put_mem(b, text, format_fixed(text, sizeof(text), v, decimals));
}

/* json_put_uint - an unsigned integer. */
static void
json_put_uint(struct buf *b, uint64_t v)
{
	char    text[24];
	size_t  n = sizeof(text);

	do {
		text[--n] = (char) ('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put_mem(b, text + n, sizeof(text) - n);
}

/*
 * write_payload - the payload object; ts is the text of ev->timestamp
 * with six decimals when the caller has it already, else NULL.
 */
static void
write_payload(struct buf *b, const struct delivery_event *ev,
	      const char *ts, size_t tslen)
{
	const struct event_message *m = &ev->message;

	PUT_LIT(b, "{\"message\":{\"id\":");
	if (m->id)
		json_put_uint(b, m->id);
	else
		PUT_LIT(b, "null");
	PUT_LIT(b, ",\"token\":");
	json_put_string(b, m->token);
	PUT_LIT(b, ",\"direction\":");
	json_put_string(b, m->direction ? m->direction : "outgoing");
	PUT_LIT(b, ",\"message_id\":");
	json_put_string(b, m->message_id);
	PUT_LIT(b, ",\"to\":");
	json_put_string(b, m->to);
	PUT_LIT(b, ",\"from\":");
	json_put_string(b, m->from);
	PUT_LIT(b, ",\"subject\":");
	json_put_string(b, m->subject);
	PUT_LIT(b, ",\"timestamp\":");
	if (m->timestamp > 0)
		json_put_double(b, m->timestamp, 6);
	else
		PUT_LIT(b, "null");
	PUT_LIT(b, ",\"spam_status\":");
	json_put_string(b, m->spam_status ? m->spam_status : "NotChecked");
	PUT_LIT(b, ",\"tag\":");
	json_put_string(b, m->tag);
	PUT_LIT(b, ",\"metadata\":");
	if (m->metadata != NULL) {
		size_t  mlen;
		const char *mj = json_object_to_json_string_length(m->metadata,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &mlen);

		put_mem(b, mj, mlen);
	} else
		PUT_LIT(b, "null");

	PUT_LIT(b, "},\"status\":");
	json_put_string(b, event_status_name(ev->type));
	PUT_LIT(b, ",\"details\":");
	json_put_string(b, ev->details);
	PUT_LIT(b, ",\"output\":");
	json_put_string(b, ev->output);
	PUT_LIT(b, ",\"sent_with_ssl\":");
	if (ev->sent_with_ssl == SSL_UNKNOWN)
		PUT_LIT(b, "null");
	else if (ev->sent_with_ssl)
		PUT_LIT(b, "true");
	else
		PUT_LIT(b, "false");
	PUT_LIT(b, ",\"timestamp\":");
	if (ts != NULL)
		put_mem(b, ts, tslen);
	else
		json_put_double(b, ev->timestamp, 6);
	PUT_LIT(b, ",\"time\":");
	if (ev->time >= 0)
		json_put_double(b, ev->time, 3);
	else
		PUT_LIT(b, "null");
	if (ev->type == EV_MESSAGE_DELAYED || ev->type == EV_MESSAGE_DELIVERY_FAILED) {
		enum classification c = ev->classification != CLASS_NONE
			? ev->classification : CLASS_UNCLASSIFIED;

		PUT_LIT(b, ",\"classification\":");
		json_put_string(b, classification_name(c));
		PUT_LIT(b, ",\"classification_code\":");
		json_put_uint(b, (uint64_t) c);
		PUT_LIT(b, ",\"smtp_enhanced_code\":");
		json_put_string(b, ev->smtp_enhanced_code);
		PUT_LIT(b, ",\"remote_host\":");
		json_put_string(b, ev->remote_host);
	}
	PUT_LIT(b, "}");
	b->data[b->len] = 0;
}

/* delivery_event_write_json - see event.h */
void
delivery_event_write_json(struct buf *b, double timestamp, const char *uuid,
			  const struct delivery_event *ev)
{
	char    ts[JSON_DOUBLE_MAX];
	size_t  tslen;

	PUT_LIT(b, "{\"event\":");
	json_put_string(b, event_type_name(ev->type));
	PUT_LIT(b, ",\"timestamp\":");
	tslen = format_fixed(ts, sizeof(ts), timestamp, 6);
	put_mem(b, ts, tslen);
	PUT_LIT(b, ",\"uuid\":");
	json_put_string(b, uuid);
	PUT_LIT(b, ",\"payload\":");
	/* The payload's timestamp is most often the envelope's. */
	if (memcmp(&timestamp, &ev->timestamp, sizeof(timestamp)) == 0)
		write_payload(b, ev, ts, tslen);
	else
		write_payload(b, ev, NULL, 0);
	PUT_LIT(b, "}");
	b->data[b->len] = 0;
}

/* delivery_event_write_payload_json - see event.h */
void
delivery_event_write_payload_json(struct buf *b,
				  const struct delivery_event *ev)
{
	write_payload(b, ev, NULL, 0);
}

/* json_double_format - see event.h */
size_t
json_double_format(char *out, size_t size, double v, int decimals)
{
	char    text[JSON_DOUBLE_MAX];
	size_t  len = format_fixed(text, sizeof(text), v, decimals);

	if (size == 0)
		return (len);
	memcpy(out, text, len < size ? len + 1 : size - 1);
	if (len >= size)
		out[size - 1] = 0;
	return (len);
}

/* event_uuid_format - see event.h */
void
event_uuid_format(const unsigned char random[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[16];
	size_t  i, o = 0;

	memcpy(r, random, sizeof(r));
	r[6] = (unsigned char) ((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char) ((r[8] & 0x3f) | 0x80);
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[r[i] >> 4];
		out[o++] = hex[r[i] & 0xf];
	}
	out[o] = 0;
}

/* event_uuid_new - random version 4 UUID */
void
event_uuid_new(char out[37])
{
	unsigned char r[16];
	size_t got = 0;

	while (got < sizeof(r)) {
		ssize_t n = getrandom(r + got, sizeof(r) - got, 0);

		if (n < 0)
			log_fatal("getrandom: %m");
		got += (size_t) n;
	}
	event_uuid_format(r, out);
}
