/*
 * event.c - the event model: event and classification names, the life of
 * an event's strings, and its UUID (docs/events.md).  Its JSON is
 * event_json.c's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "event/event.h"
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
	[EV_DOMAIN_DNS_OK] = "DomainDNSOK",
	[EV_WEBHOOK_DISABLED] = "WebhookDisabled",
	[EV_DELIVERY_EXHAUSTED] = "DeliveryExhausted",
	[EV_MESSAGE_UNSUBSCRIBED] = "MessageUnsubscribed",
	[EV_MESSAGE_COMPLAINED] = "MessageComplained",
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

/* event_uuid_format - see event.h */
void
event_uuid_format(const unsigned char random[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[16];
	size_t i, o = 0;

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
