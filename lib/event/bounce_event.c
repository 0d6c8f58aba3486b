/*
 * bounce_event.c - the MessageBounced payload (see bounce_event.h).
 */
#include "event/bounce_event.h"
#include "util/json.h"

/* nonempty - s, or NULL for NULL and "": those are null in the JSON */
static const char *
nonempty(const char *s)
{
	return (s != NULL && *s ? s : NULL);
}

/* bounce_event_payload - see bounce_event.h */
json_object *
bounce_event_payload(const struct bounce_event *ev)
{
	json_object *p = json_object_new_object();
	enum classification cls =
	    ev->classification == CLASS_NONE ? CLASS_UNCLASSIFIED : ev->classification;

	json_object_object_add(p, "original_message",
			       event_message_to_json(&ev->original));
	json_object_object_add(p, "bounce", event_message_to_json(&ev->bounce));
	json_object_object_add(
	    p, "status", json_object_new_string(ev->permanent ? "HardFail" : "SoftFail"));
	json_add_string(p, "classification", nonempty(classification_name(cls)));
	json_object_object_add(p, "classification_code", json_object_new_int((int) cls));
	json_add_string(p, "smtp_enhanced_code", nonempty(ev->smtp_enhanced_code));
	json_add_string(p, "remote_host", nonempty(ev->remote_host));
	json_add_string(p, "diagnostic", nonempty(ev->diagnostic));
	json_add_string(p, "recipient", nonempty(ev->recipient));
	return (p);
}
