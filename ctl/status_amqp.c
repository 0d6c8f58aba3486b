/*
 * status_amqp.c - the AMQP sink's part of posthookctl status: its state,
 * lag and last error, and what it published and the broker confirmed,
 * as posthook-amqp last stored them.
 */
#include <stdio.h>
#include <string.h>

#include "amqp/amqp_msg.h"
#include "config/config.h"
#include "store/store.h"
#include "util/json.h"
#include "util/util.h"
#include "ctl.h"

#define STALE_S 10 /* a running sink stores its status every second */

/* get_cb - read the status record. */
static int
get_cb(struct store_txn *txn, void *arg)
{
	int rc = amqp_status_get(txn, arg);

	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* status_amqp_json - see ctl.h. */
json_object *
status_amqp_json(struct ctl *ctl, const struct config *cfg)
{
	struct amqp_status s;
	json_object *o;
	double now = now_seconds();

	if (store_run(ctl_store(ctl), get_cb, &s, 0) != STORE_OK)
		return NULL;
	if (s.state[0] == 0 && cfg->amqp_url[0] == 0)
		return NULL; /* no sink, now or before */
	if (s.state[0] == 0)
		snprintf(s.state, sizeof(s.state), "never started");
	else if (strcmp(s.state, "stopped") != 0 && now - s.updated > STALE_S)
		snprintf(s.state, sizeof(s.state), "stale");
	o = amqp_status_to_json(&s);
	json_object_object_add(o, "configured",
			       json_object_new_boolean(cfg->amqp_url[0] != 0));
	json_object_object_add(o, "lag_seconds",
			       s.oldest_due > 0
				   ? json_object_new_double(now - s.oldest_due)
				   : json_object_new_double(0));
	amqp_status_clear(&s);
	return o;
}

/* status_amqp_print - see ctl.h. */
void
status_amqp_print(json_object *o)
{
	const char *err = json_string_member(o, "last_error");
	json_object *lag = json_member(o, "lag_seconds");

	printf("amqp:     %s to %s; lag %.1f s; %s published, %s confirmed, "
	       "%s refused, %s reconnects\n",
	       json_string_member(o, "state"),
	       json_string_member(o, "url") ? json_string_member(o, "url") : "-",
	       lag != NULL ? json_object_get_double(lag) : 0.0,
	       json_text_member(o, "published"), json_text_member(o, "confirmed"),
	       json_text_member(o, "nacked"), json_text_member(o, "reconnects"));
	if (err != NULL) {
		char when[32];

		iso8601_utc(json_object_get_double(json_member(o, "last_error_at")), when,
			    sizeof(when));
		printf("          last error %s: %s\n", when, err);
	}
}
