/*
 * event.c - event names, classification names, and the JSON of seed
 * 002's payloads and seed 000's envelope.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "event.h"
#include "log.h"
#include "util.h"

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

/* classification_name - seed 002's name, or NULL for CLASS_NONE */
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

/* json_double_new - a number printed with up to `decimals` places */
json_object *
json_double_new(double v, int decimals)
{
	char text[64];
	size_t len;

	snprintf(text, sizeof(text), "%.*f", decimals, v);
	len = strlen(text);
	if (strchr(text, '.') != NULL) {
		while (len > 0 && text[len - 1] == '0')
			text[--len] = '\0';
		if (len > 0 && text[len - 1] == '.')
			text[len++] = '0', text[len] = '\0';
	}
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

/* json_string_or_null - a string, or null for NULL */
static json_object *
json_string_or_null(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
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

/* event_message_to_json - seed 003's message object, keys in its order */
json_object *
event_message_to_json(const struct event_message *m)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", m->id ? json_object_new_uint64(m->id) : NULL);
	json_object_object_add(o, "token", json_string_or_null(m->token));
	json_object_object_add(o, "direction",
			       json_object_new_string(m->direction ? m->direction : "outgoing"));
	json_object_object_add(o, "message_id", json_string_or_null(m->message_id));
	json_object_object_add(o, "to", json_string_or_null(m->to));
	json_object_object_add(o, "from", json_string_or_null(m->from));
	json_object_object_add(o, "subject", json_string_or_null(m->subject));
	json_object_object_add(o, "timestamp",
			       m->timestamp > 0 ? json_double_new(m->timestamp, 6) : NULL);
	json_object_object_add(o, "spam_status",
			       json_object_new_string(m->spam_status ? m->spam_status
						      : "NotChecked"));
	json_object_object_add(o, "tag", json_string_or_null(m->tag));
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

/* delivery_event_payload - seed 002's payload for a delivery event */
json_object *
delivery_event_payload(const struct delivery_event *ev)
{
	json_object *o = json_object_new_object();
	const char *status = event_status_name(ev->type);

	json_object_object_add(o, "message", event_message_to_json(&ev->message));
	json_object_object_add(o, "status", json_string_or_null(status));
	json_object_object_add(o, "details", json_string_or_null(ev->details));
	json_object_object_add(o, "output", json_string_or_null(ev->output));
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
		json_object_object_add(o, "smtp_enhanced_code",
				       json_string_or_null(ev->smtp_enhanced_code));
		json_object_object_add(o, "remote_host", json_string_or_null(ev->remote_host));
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
	r[6] = (unsigned char) ((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char) ((r[8] & 0x3f) | 0x80);
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9],
		 r[10], r[11], r[12], r[13], r[14], r[15]);
}
