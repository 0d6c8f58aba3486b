/*
 * track_event.h - the payloads of what a recipient did (docs/events.md):
 * MessageLoaded, MessageLinkClicked and MessageUnsubscribed, made from the
 * message record a tracking token names.
 */
#ifndef PH_TRACK_EVENT_H
#define PH_TRACK_EVENT_H

#include <json-c/json.h>

#include "event/event.h"
#include "store/message.h"
#include "track/token.h"

/* One hit as its event tells it.  Strings are borrowed. */
struct track_hit {
	enum track_kind kind;
	const char *url;   /* a click's original URL */
	const char *token; /* the token of the URL that was hit */
	const char *ip;
	const char *ua; /* NULL: none sent */
	int first;	/* the first open, or the first click of this link */
	const char *bot;
};

/* track_event_type - the event a kind of hit makes. */
enum event_type track_event_type(enum track_kind kind);

/*
 * track_message - the message object of rec, as the delivery events
 * carry it, for its first recipient; m borrows rec's strings (no clear).
 */
void track_message(struct event_message *m, const struct message_record *rec);

/*
 * track_event_payload - {message, [url, token,] ip_address, user_agent,
 * first, bot} in the seed's order, posthook's two members last.
 */
json_object *track_event_payload(const struct message_record *rec,
				 const struct track_hit *hit);

#endif
