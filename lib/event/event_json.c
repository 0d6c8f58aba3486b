/*
 * event_json.c - the JSON of the payloads and the envelope (docs/events.md):
 * as json-c objects, and as the same bytes written straight into a buffer
 * for the tailer's hot path.  Both shapes live here, side by side: a
 * field added to one must be added to the other.
 */
#include <stdint.h>
#include <string.h>

#include "event/event.h"
#include "util/json.h"
#include "util/jsonw.h"
#include "util/util.h"

/* event_message_to_json - docs/events.md, The message object, keys in order */
json_object *
event_message_to_json(const struct event_message *m)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", m->id ? json_object_new_uint64(m->id) : NULL);
	json_add_string(o, "token", m->token);
	json_object_object_add(
	    o, "direction",
	    json_object_new_string(m->direction ? m->direction : "outgoing"));
	json_add_string(o, "message_id", m->message_id);
	json_add_string(o, "to", m->to);
	json_add_string(o, "from", m->from);
	json_add_string(o, "subject", m->subject);
	json_object_object_add(
	    o, "timestamp", m->timestamp > 0 ? json_double_new(m->timestamp, 6) : NULL);
	json_object_object_add(
	    o, "spam_status",
	    json_object_new_string(m->spam_status ? m->spam_status : "NotChecked"));
	json_add_string(o, "tag", m->tag);
	json_object_object_add(o, "metadata", json_object_get(m->metadata));
	return o;
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
			       ev->sent_with_ssl == SSL_UNKNOWN
				   ? NULL
				   : json_object_new_boolean(ev->sent_with_ssl));
	json_object_object_add(o, "timestamp", json_double_new(ev->timestamp, 6));
	json_object_object_add(o, "time",
			       ev->time >= 0 ? json_double_new(ev->time, 3) : NULL);
	if (ev->type == EV_MESSAGE_DELAYED || ev->type == EV_MESSAGE_DELIVERY_FAILED) {
		enum classification c = ev->classification != CLASS_NONE
					    ? ev->classification
					    : CLASS_UNCLASSIFIED;

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

/*
 * write_payload - the payload object; ts is the text of ev->timestamp
 * with six decimals when the caller has it already, else NULL.
 */
static void
write_payload(struct buf *b, const struct delivery_event *ev, const char *ts,
	      size_t tslen)
{
	const struct event_message *m = &ev->message;

	JSONW_LIT(b, "{\"message\":{\"id\":");
	if (m->id)
		jsonw_uint(b, m->id);
	else
		JSONW_LIT(b, "null");
	JSONW_LIT(b, ",\"token\":");
	jsonw_string(b, m->token);
	JSONW_LIT(b, ",\"direction\":");
	if (m->direction != NULL)
		jsonw_string(b, m->direction);
	else
		JSONW_LIT(b, "\"outgoing\"");
	JSONW_LIT(b, ",\"message_id\":");
	jsonw_string(b, m->message_id);
	JSONW_LIT(b, ",\"to\":");
	jsonw_string(b, m->to);
	JSONW_LIT(b, ",\"from\":");
	jsonw_string(b, m->from);
	JSONW_LIT(b, ",\"subject\":");
	jsonw_string(b, m->subject);
	JSONW_LIT(b, ",\"timestamp\":");
	if (m->timestamp > 0)
		jsonw_double(b, m->timestamp, 6);
	else
		JSONW_LIT(b, "null");
	JSONW_LIT(b, ",\"spam_status\":");
	if (m->spam_status != NULL)
		jsonw_string(b, m->spam_status);
	else
		JSONW_LIT(b, "\"NotChecked\"");
	JSONW_LIT(b, ",\"tag\":");
	jsonw_string(b, m->tag);
	JSONW_LIT(b, ",\"metadata\":");
	if (m->metadata != NULL) {
		size_t mlen;
		const char *mj = json_object_to_json_string_length(
		    m->metadata, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		    &mlen);

		jsonw_mem(b, mj, mlen);
	} else
		JSONW_LIT(b, "null");

	JSONW_LIT(b, "},\"status\":");
	jsonw_name(b, event_status_name(ev->type));
	JSONW_LIT(b, ",\"details\":");
	jsonw_string(b, ev->details);
	JSONW_LIT(b, ",\"output\":");
	jsonw_string(b, ev->output);
	JSONW_LIT(b, ",\"sent_with_ssl\":");
	if (ev->sent_with_ssl == SSL_UNKNOWN)
		JSONW_LIT(b, "null");
	else if (ev->sent_with_ssl)
		JSONW_LIT(b, "true");
	else
		JSONW_LIT(b, "false");
	JSONW_LIT(b, ",\"timestamp\":");
	if (ts != NULL)
		jsonw_mem(b, ts, tslen);
	else
		jsonw_double(b, ev->timestamp, 6);
	JSONW_LIT(b, ",\"time\":");
	if (ev->time >= 0)
		jsonw_double(b, ev->time, 3);
	else
		JSONW_LIT(b, "null");
	if (ev->type == EV_MESSAGE_DELAYED || ev->type == EV_MESSAGE_DELIVERY_FAILED) {
		enum classification c = ev->classification != CLASS_NONE
					    ? ev->classification
					    : CLASS_UNCLASSIFIED;

		JSONW_LIT(b, ",\"classification\":");
		jsonw_name(b, classification_name(c));
		JSONW_LIT(b, ",\"classification_code\":");
		jsonw_uint(b, (uint64_t) c);
		JSONW_LIT(b, ",\"smtp_enhanced_code\":");
		jsonw_string(b, ev->smtp_enhanced_code);
		JSONW_LIT(b, ",\"remote_host\":");
		jsonw_string(b, ev->remote_host);
	}
	JSONW_LIT(b, "}");
	jsonw_end(b);
}

/* delivery_event_write_json - see event.h */
void
delivery_event_write_json(struct buf *b, double timestamp, const char *uuid,
			  const struct delivery_event *ev)
{
	char ts[JSON_DOUBLE_MAX];
	size_t tslen;

	JSONW_LIT(b, "{\"event\":");
	jsonw_name(b, event_type_name(ev->type));
	JSONW_LIT(b, ",\"timestamp\":");
	tslen = json_double_format(ts, sizeof(ts), timestamp, 6);
	jsonw_mem(b, ts, tslen);
	JSONW_LIT(b, ",\"uuid\":");
	jsonw_name(b, uuid);
	JSONW_LIT(b, ",\"payload\":");
	/* The payload's timestamp is most often the envelope's. */
	if (memcmp(&timestamp, &ev->timestamp, sizeof(timestamp)) == 0)
		write_payload(b, ev, ts, tslen);
	else
		write_payload(b, ev, NULL, 0);
	JSONW_LIT(b, "}");
	jsonw_end(b);
}

/* delivery_event_write_payload_json - see event.h */
void
delivery_event_write_payload_json(struct buf *b, const struct delivery_event *ev)
{
	write_payload(b, ev, NULL, 0);
}
