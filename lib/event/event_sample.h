/*
 * event_sample.h - a sample payload of each event type, as docs/events.md
 * describes, for `posthookctl webhooks test` and for benchmarks.
 */
#ifndef PH_EVENT_SAMPLE_H
#define PH_EVENT_SAMPLE_H

#include <json-c/json.h>
#include "event/event.h"

/* event_sample_payload - a new payload object for type t at time now. */
json_object *event_sample_payload(enum event_type t, double now);

#endif
