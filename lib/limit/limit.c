/*
 * limit.c - the send limit's arithmetic and state machine (limit.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "limit/limit.h"
#include "util/json.h"
#include "util/jsonw.h"

static const char *const state_names[] = { "ok", "approaching", "exceeded" };
static const char *const action_names[] = { "report", "hold", "defer", NULL };

/* limit_minute - see limit.h */
uint32_t
limit_minute(double now)
{
	return (now <= 0 ? 0 : (uint32_t) (now / 60.0));
}

/* limit_window_sum - see limit.h */
uint64_t
limit_window_sum(const struct volume_bucket *b, size_t n, uint32_t now_minute)
{
	uint32_t first = now_minute >= LIMIT_WINDOW_MINUTES - 1
			     ? now_minute - (LIMIT_WINDOW_MINUTES - 1)
			     : 0;
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i].minute >= first && b[i].minute <= now_minute)
			sum += b[i].count;
	return (sum);
}

/* limit_state_of - see limit.h */
enum limit_state
limit_state_of(uint64_t volume, uint64_t limit)
{
	if (limit == 0)
		return (LIMIT_OK);
	if (volume >= limit)
		return (LIMIT_EXCEEDED);
	/* volume / limit >= 90 %, in integers */
	if (volume * 100 >= limit * LIMIT_APPROACHING_PERCENT)
		return (LIMIT_APPROACHING);
	return (LIMIT_OK);
}

/* limit_state_name - see limit.h */
const char *
limit_state_name(enum limit_state s)
{
	return ((unsigned) s <= LIMIT_EXCEEDED ? state_names[s] : "ok");
}

/* limit_decide - see limit.h */
enum limit_state
limit_decide(struct limit_record *r, uint64_t volume, uint64_t limit, double now)
{
	enum limit_state s = limit_state_of(volume, limit);
	enum limit_state fire = LIMIT_OK;

	if (s > (enum limit_state) r->state
	    && (r->event_at[s] <= 0 || now - r->event_at[s] >= LIMIT_REPEAT_SECONDS)) {
		fire = s;
		r->event_at[s] = now;
	}
	r->state = s;
	return (fire);
}

/* limit_over - see limit.h */
int
limit_over(uint64_t volume, uint64_t limit)
{
	return (limit > 0 && volume >= limit);
}

/* limit_room - see limit.h */
uint64_t
limit_room(uint64_t volume, uint64_t limit)
{
	if (limit == 0)
		return (UINT64_MAX);
	return (volume < limit ? limit - volume : 0);
}

/* limit_settings_of - see limit.h */
int
limit_settings_of(const struct config *cfg, json_object *settings,
		  struct limit_settings *out, char *err, size_t errlen)
{
	json_object *v;
	const char *a;
	double d;
	int i;

	out->tenant_limit = 0;
	out->action = cfg->send_limit_action;
	if (settings == NULL)
		return (0);
	if (json_object_object_get_ex(settings, "send_limit", &v)) {
		d = json_object_is_type(v, json_type_int)
			    || json_object_is_type(v, json_type_double)
			? json_object_get_double(v)
			: -1;
		if (d < 0 || d > 1e12 || d != floor(d)) {
			snprintf(err, errlen, "send_limit must be a whole number >= 0");
			return (-1);
		}
		out->tenant_limit = (uint64_t) d;
	}
	if (json_object_object_get_ex(settings, "send_limit_action", &v)) {
		a = json_object_is_type(v, json_type_string) ? json_object_get_string(v)
							     : "";
		for (i = 0; action_names[i] != NULL; i++)
			if (strcmp(a, action_names[i]) == 0)
				break;
		if (action_names[i] == NULL) {
			out->tenant_limit = 0;
			snprintf(err, errlen,
				 "send_limit_action must be report, hold or defer");
			return (-1);
		}
		out->action = i;
	}
	return (0);
}

/* limit_event_payload - see limit.h */
json_object *
limit_event_payload(const char *server_uuid, const char *server_name, const char *tenant,
		    enum limit_state state, uint64_t volume, uint64_t limit)
{
	json_object *p = json_object_new_object(), *s = json_object_new_object();

	json_add_string(s, "uuid", server_uuid);
	json_add_string(s, "name", server_name);
	json_object_object_add(p, "server", s);
	json_object_object_add(p, "volume", json_object_new_int64((int64_t) volume));
	json_object_object_add(p, "limit", json_object_new_int64((int64_t) limit));
	json_add_string(p, "tenant", tenant);
	json_add_string(p, "state", limit_state_name(state));
	return (p);
}

/* limit_record_to_json - {"state", "approaching_at", "exceeded_at"} */
json_object *
limit_record_to_json(const struct limit_record *r)
{
	json_object *o = json_object_new_object();

	json_add_string(o, "state", limit_state_name(r->state));
	json_object_object_add(o, "approaching_at",
			       json_double_new(r->event_at[LIMIT_APPROACHING], 6));
	json_object_object_add(o, "exceeded_at",
			       json_double_new(r->event_at[LIMIT_EXCEEDED], 6));
	return (o);
}

/* limit_record_from_json - see limit.h */
int
limit_record_from_json(json_object *obj, struct limit_record *r)
{
	const char *s;
	int i;

	memset(r, 0, sizeof(*r));
	if (!json_object_is_type(obj, json_type_object)
	    || (s = json_string_member(obj, "state")) == NULL)
		return (-1);
	for (i = LIMIT_OK; i <= LIMIT_EXCEEDED; i++)
		if (strcmp(s, state_names[i]) == 0)
			r->state = i;
	r->event_at[LIMIT_APPROACHING] =
	    json_object_get_double(json_member(obj, "approaching_at"));
	r->event_at[LIMIT_EXCEEDED] =
	    json_object_get_double(json_member(obj, "exceeded_at"));
	return (0);
}
