/*
 * event_ops.c - which events are operational, and their payloads (see
 * event_ops.h).
 */
#include "event/event.h"
#include "event/event_ops.h"
#include "util/json.h"

/* event_type_operational - see event.h. */
int
event_type_operational(enum event_type t)
{
	return t == EV_WEBHOOK_DISABLED || t == EV_DELIVERY_EXHAUSTED;
}

/* webhook_json - {id, name, url}. */
static json_object *
webhook_json(const struct event_webhook *w)
{
	json_object *o = json_object_new_object();

	json_add_string(o, "id", w->id);
	json_add_string(o, "name", w->name);
	json_add_string(o, "url", w->url);
	return o;
}

/* opt_time - seconds as a number, or null for 0. */
static json_object *
opt_time(double t)
{
	return t > 0 ? json_double_new(t, 6) : NULL;
}

/* webhook_disabled_payload - see event_ops.h. */
json_object *
webhook_disabled_payload(const struct event_webhook *w, const char *reason,
			 double failing_since, const char *last_error)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "webhook", webhook_json(w));
	json_add_string(p, "reason", reason);
	json_object_object_add(p, "failing_since", opt_time(failing_since));
	json_add_string(p, "last_error", last_error);
	return p;
}

/* delivery_exhausted_payload - see event_ops.h. */
json_object *
delivery_exhausted_payload(const struct event_webhook *w, const struct event_exhausted *x)
{
	json_object *p = json_object_new_object();
	json_object *d = json_object_new_object();

	json_object_object_add(p, "webhook", webhook_json(w));
	json_object_object_add(d, "id", json_object_new_int64((int64_t) x->id));
	json_add_string(d, "uuid", x->uuid);
	json_add_string(d, "event", x->event);
	json_object_object_add(d, "attempts", json_object_new_int(x->attempts));
	json_object_object_add(d, "created", opt_time(x->created));
	json_object_object_add(p, "delivery", d);
	json_add_string(p, "last_attempt", x->last_attempt);
	json_add_string(p, "last_error", x->last_error);
	return p;
}
