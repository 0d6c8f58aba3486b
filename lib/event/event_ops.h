/*
 * event_ops.h - the payloads of the operational events, which tell an
 * application about posthook's own webhooks (docs/events.md,
 * WebhookDisabled and DeliveryExhausted).
 */
#ifndef PH_EVENT_OPS_H
#define PH_EVENT_OPS_H

#include <stdint.h>
#include <json-c/json.h>

/* The endpoint an operational event is about. */
struct event_webhook {
	const char *id;
	const char *name;
	const char *url;
};

/*
 * webhook_disabled_payload - {webhook: {id, name, url}, reason,
 * failing_since, last_error}; reason is gone, failing or admin;
 * failing_since 0 and last_error NULL print as null.
 */
json_object *webhook_disabled_payload(const struct event_webhook *w, const char *reason,
				      double failing_since, const char *last_error);

/* The delivery a DeliveryExhausted event is about. */
struct event_exhausted {
	uint64_t id;
	const char *uuid;  /* the envelope uuid every attempt carried */
	const char *event; /* its event's name */
	int attempts;
	double created;
	const char *last_attempt; /* "whr_..." */
	const char *last_error;
};

/*
 * delivery_exhausted_payload - {webhook: {id, name, url}, delivery: {id,
 * uuid, event, attempts, created}, last_attempt, last_error}.
 */
json_object *delivery_exhausted_payload(const struct event_webhook *w,
					const struct event_exhausted *x);

#endif
