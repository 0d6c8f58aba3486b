/*
 * track_activity.c - a message's opens and clicks as Ark's activity
 * object (GET /v1/emails/{id}?expand=activity), from STORE_ACTIVITY.
 */
#include "store/activity.h"
#include "track.h"
#include "util/json.h"
#include "util/jsonw.h"
#include "util/util.h"

/* add_hit - one open or click into its list; unsubscribes are not Ark's. */
static int
add_hit(const struct activity *act, void *ctx)
{
	json_object *activity = ctx, *o;
	char when[32];

	if (act->kind != 'o' && act->kind != 'c')
		return (0);
	o = json_object_new_object();
	json_add_string(o, "ipAddress", act->ip);
	json_add_string(o, "userAgent", act->ua);
	json_object_object_add(o, "timestamp", json_double_new(act->time, 6));
	iso8601_utc(act->time, when, sizeof(when));
	json_add_string(o, "timestampIso", when);
	if (act->kind == 'c')
		json_add_string(o, "url", act->url);
	json_add_string(o, "bot", act->bot);
	json_object_array_add(
	    json_member(activity, act->kind == 'o' ? "opens" : "clicks"), o);
	return (0);
}

/* track_activity_json - see track.h. */
int
track_activity_json(struct store_txn *txn, uint64_t id, json_object **out)
{
	json_object *activity = json_object_new_object();
	int status;

	json_object_object_add(activity, "opens", json_object_new_array());
	json_object_object_add(activity, "clicks", json_object_new_array());
	if ((status = activity_each(txn, id, add_hit, activity)) != STORE_OK) {
		json_object_put(activity);
		return (status);
	}
	*out = activity;
	return (STORE_OK);
}
