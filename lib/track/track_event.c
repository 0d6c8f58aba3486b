/*
 * track_event.c - MessageLoaded, MessageLinkClicked and
 * MessageUnsubscribed payloads from a message record and a hit.
 */
#include <string.h>

#include "track/track_event.h"
#include "util/json.h"

/* track_event_type - see track_event.h. */
enum event_type
track_event_type(enum track_kind kind)
{
	switch (kind) {
	case TRACK_CLICK:
		return (EV_MESSAGE_LINK_CLICKED);
	case TRACK_UNSUBSCRIBE:
		return (EV_MESSAGE_UNSUBSCRIBED);
	case TRACK_OPEN:
		break;
	}
	return (EV_MESSAGE_LOADED);
}

/* track_message - see track_event.h. */
void
track_message(struct event_message *m, const struct message_record *rec)
{
	memset(m, 0, sizeof(*m));
	m->id = rec->id;
	m->token = rec->token;
	m->direction = rec->direction ? rec->direction : (char *) "outgoing";
	m->message_id = rec->message_id && *rec->message_id ? rec->message_id : NULL;
	m->to = rec->recipients != NULL ? rec->recipients[0] : NULL;
	m->from = rec->from;
	m->subject = rec->subject;
	m->timestamp = rec->timestamp;
	m->spam_status = rec->spam_status;
	m->tag = rec->tag;
	m->metadata = rec->metadata;
}

/* track_event_payload - see track_event.h. */
json_object *
track_event_payload(const struct message_record *rec, const struct track_hit *hit)
{
	json_object *p = json_object_new_object();
	struct event_message m;

	track_message(&m, rec);
	json_object_object_add(p, "message", event_message_to_json(&m));
	if (hit->kind == TRACK_CLICK) {
		json_add_string(p, "url", hit->url);
		json_add_string(p, "token", hit->token);
	}
	json_add_string(p, "ip_address", hit->ip);
	json_add_string(p, "user_agent", hit->ua);
	if (hit->kind != TRACK_UNSUBSCRIBE) {
		json_object_object_add(p, "first", json_object_new_boolean(hit->first));
		json_add_string(p, "bot", hit->bot);
	}
	return (p);
}
