/*
 * event.h - the event model: event names, the payloads (docs/events.md),
 * and the envelope {"event","timestamp","uuid","payload"} every webhook carries
 * (event.c the model, event_json.c its JSON).
 *
 * An event is built once, by whoever saw it happen (the tailer, the bounce
 * intake, later the tracker), as a payload object; the envelope is made
 * per delivery, when the event is fanned out to an endpoint.
 */
#ifndef PH_EVENT_H
#define PH_EVENT_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

/* The numbers of every payload are json_double_new()'s, and whoever reads
 * a stored event parses it with json_parse_len(): both come with events. */
#include "util/json.h"
#include "util/jsonw.h"

enum event_type {
	EV_MESSAGE_SENT,
	EV_MESSAGE_DELAYED,
	EV_MESSAGE_DELIVERY_FAILED,
	EV_MESSAGE_BOUNCED,
	EV_MESSAGE_HELD,
	EV_MESSAGE_LOADED,
	EV_MESSAGE_LINK_CLICKED,
	EV_DOMAIN_DNS_ERROR,
	EV_SEND_LIMIT,
	EV_DOMAIN_DNS_OK,    /* posthook's: a broken sending domain recovered */
	EV_WEBHOOK_DISABLED, /* operational: see event_type_operational */
	EV_DELIVERY_EXHAUSTED,
	EV_MESSAGE_UNSUBSCRIBED, /* posthook's: a one-click unsubscribe (RFC 8058) */
	EV_MESSAGE_COMPLAINED,	 /* posthook's: a feedback-loop report (RFC 5965) */
	EV_TYPE_COUNT
};

/*
 * event_type_operational - is t about posthook's own webhooks
 * (WebhookDisabled, DeliveryExhausted)?  An endpoint gets those only when
 * it names them, never through "all events".
 */
int event_type_operational(enum event_type t);

const char *event_type_name(enum event_type t);
/* event_type_from_name - 0 and *out set, or -1 for an unknown name. */
int event_type_from_name(const char *name, enum event_type *out);

/* The delivery status a delivery event carries: Sent, SoftFail, ... */
const char *event_status_name(enum event_type t);

/* The 13 bounce classifications (docs/events.md, Bounce classifications). */
enum classification {
	CLASS_NONE = 0, /* success: no classification */
	CLASS_INVALID_RECIPIENT = 10,
	CLASS_INACTIVE_MAILBOX = 11,
	CLASS_MAILBOX_FULL = 12,
	CLASS_INVALID_DOMAIN = 20,
	CLASS_DNS_FAILURE = 21,
	CLASS_ROUTING_ERROR = 22,
	CLASS_SPAM_BLOCK = 30,
	CLASS_SPAM_CONTENT = 31,
	CLASS_POLICY_REJECTION = 32,
	CLASS_CONNECTION_ERROR = 40,
	CLASS_PROTOCOL_ERROR = 41,
	CLASS_TRANSIENT_FAILURE = 42,
	CLASS_UNCLASSIFIED = 99,
};

const char *classification_name(enum classification c);
int classification_from_name(const char *name, enum classification *out);

/* The message object (docs/events.md).  Strings are owned; NULL prints as null. */
struct event_message {
	uint64_t id; /* 0: unknown (null) */
	char *token;
	char *direction;
	char *message_id;
	char *to;
	char *from;
	char *subject;
	double timestamp;  /* 0: unknown (null) */
	char *spam_status; /* NULL prints NotChecked */
	char *tag;
	json_object *metadata; /* owned reference, or NULL */
};

void event_message_clear(struct event_message *m);
json_object *event_message_to_json(const struct event_message *m);

#define SSL_UNKNOWN (-1) /* sent_with_ssl: null */

/* A delivery event: MessageSent, MessageDelayed, MessageDeliveryFailed,
 * MessageHeld.  Strings are owned. */
struct delivery_event {
	enum event_type type;
	struct event_message message;
	char *details;
	char *output;
	int sent_with_ssl; /* 0, 1 or SSL_UNKNOWN */
	double timestamp;
	double time; /* < 0: null */
	enum classification classification;
	char *smtp_enhanced_code;
	char *remote_host;
};

void delivery_event_init(struct delivery_event *ev, enum event_type type);
void delivery_event_clear(struct delivery_event *ev);

/* delivery_event_payload - the payload (docs/events.md, Delivery events). */
json_object *delivery_event_payload(const struct delivery_event *ev);

/*
 * event_envelope - {"event","timestamp","uuid","payload"}; takes a new
 * reference to payload.
 */
json_object *event_envelope(enum event_type t, double timestamp, const char *uuid,
			    json_object *payload);

/* event_uuid_new - a random RFC 4122 version 4 UUID, lowercase. */
void event_uuid_new(char out[37]);
/* event_uuid_format - the version 4 UUID made of 16 random bytes. */
void event_uuid_format(const unsigned char random[16], char out[37]);

struct buf;

/*
 * delivery_event_write_json - append to b the webhook body of a delivery
 * event: byte for byte what json-c prints (JSON_C_TO_STRING_PLAIN |
 * JSON_C_TO_STRING_NOSLASHESCAPE) for event_envelope(ev->type, timestamp,
 * uuid, delivery_event_payload(ev)), without building json-c objects.
 */
void delivery_event_write_json(struct buf *b, double timestamp, const char *uuid,
			       const struct delivery_event *ev);

/*
 * delivery_event_write_payload_json - append to b the payload alone: the
 * bytes json-c prints for delivery_event_payload(ev) with the same flags
 * (JSON_C_TO_STRING_NOSLASHESCAPE: "/" is not escaped).
 */
void delivery_event_write_payload_json(struct buf *b, const struct delivery_event *ev);

#endif
