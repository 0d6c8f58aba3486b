/*
 * bounce_event.h - the payload of MessageBounced, built by one function
 * for the bounce intake (lib/bounce) and for `posthookctl webhooks test`
 * (event_sample.c) alike, so that a test event has a real one's shape.
 */
#ifndef PH_BOUNCE_EVENT_H
#define PH_BOUNCE_EVENT_H

#include <json-c/json.h>
#include "event/event.h"

/* One returned message for one recipient.  Strings are the caller's. */
struct bounce_event {
	struct event_message original;	    /* the message posthook sent */
	struct event_message bounce;	    /* the bounce, as received */
	int permanent;			    /* HardFail, else SoftFail */
	enum classification classification; /* CLASS_NONE: Unclassified */
	const char *smtp_enhanced_code;	    /* NULL or "": null */
	const char *remote_host;
	const char *diagnostic;
	const char *recipient;
};

/*
 * bounce_event_payload - {"original_message","bounce","status",
 * "classification","classification_code","smtp_enhanced_code",
 * "remote_host","diagnostic","recipient"}; empty strings are null.
 */
json_object *bounce_event_payload(const struct bounce_event *ev);

#endif
