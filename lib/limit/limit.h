/*
 * limit.h - send limits, pure: the rolling hour's volume from per-minute
 * buckets, the state a volume puts a scope in, when a SendLimit event
 * fires, its payload, and which held messages may go.  The store side is
 * store/volume.h; the callers give the time.
 */
#ifndef PH_LIMIT_H
#define PH_LIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "config/config.h"
#include "store/volume.h"

#define LIMIT_WINDOW_MINUTES 60
#define LIMIT_REPEAT_SECONDS 3600.0 /* at most one event an hour per state */
#define LIMIT_APPROACHING_PERCENT 90

enum limit_state {
	LIMIT_OK,
	LIMIT_APPROACHING, /* at 90 % of the limit */
	LIMIT_EXCEEDED,	   /* at 100 % */
};

/* What is kept per scope between messages: the next event's base. */
struct limit_record {
	int state;	    /* enum limit_state, as last decided */
	double event_at[3]; /* last event of each state, or 0 */
};

/* What applies to one message's tenant. */
struct limit_settings {
	uint64_t tenant_limit; /* 0: none */
	int action;	       /* enum send_limit_action */
};

/* limit_minute - the bucket a time falls in. */
uint32_t limit_minute(double now);

/*
 * limit_window_sum - the sum of the buckets in the rolling hour that ends
 * with minute now_minute: minutes now_minute - 59 .. now_minute.
 */
uint64_t limit_window_sum(const struct volume_bucket *b, size_t n, uint32_t now_minute);

/* limit_state_of - the state volume puts a limit in (0: none, LIMIT_OK). */
enum limit_state limit_state_of(uint64_t volume, uint64_t limit);

/* limit_state_name - "ok", "approaching" or "exceeded". */
const char *limit_state_name(enum limit_state s);

/*
 * limit_decide - r's state becomes the one volume gives; returns the state
 * whose event fires now, or LIMIT_OK for none.  An event fires when a
 * higher state is entered (ok -> approaching, ok or approaching ->
 * exceeded), and not again for that state within an hour of its last one;
 * falling back fires nothing.
 */
enum limit_state limit_decide(struct limit_record *r, uint64_t volume, uint64_t limit,
			      double now);

/* limit_over - whether one more message would pass the limit (0: none). */
int limit_over(uint64_t volume, uint64_t limit);

/* limit_room - how many more messages the limit allows now. */
uint64_t limit_room(uint64_t volume, uint64_t limit);

/*
 * limit_settings_of - a tenant's limit and action: its settings object
 * (may be NULL) "send_limit" (a number >= 0) and "send_limit_action"
 * ("report", "hold", "defer") over cfg's action.  0, or -1 with err set
 * when a setting is invalid (the config's then apply).
 */
int limit_settings_of(const struct config *cfg, json_object *settings,
		      struct limit_settings *out, char *err, size_t errlen);

/*
 * limit_event_payload - SendLimit's {server: {uuid, name}, volume, limit,
 * tenant, state}; tenant NULL for the limit of all tenants together.
 */
json_object *limit_event_payload(const char *server_uuid, const char *server_name,
				 const char *tenant, enum limit_state state,
				 uint64_t volume, uint64_t limit);

json_object *limit_record_to_json(const struct limit_record *r);
/* limit_record_from_json - 0, or -1 (r zeroed) when obj is no record. */
int limit_record_from_json(json_object *obj, struct limit_record *r);

#endif
