/*
 * amqp_msg.h - what the AMQP sink publishes for one delivery: its routing
 * key, its properties and headers, the broker URL as it may be shown, and
 * the sink's status record.  Pure: no broker, no clock (the status record
 * is read and written by posthook-amqp and posthookctl through the store).
 *
 * The body is the webhook envelope an HTTP endpoint gets, byte for byte;
 * the routing key is "EVENT.TENANT" (MessageSent.default), unambiguous
 * because tenant names are [a-z0-9][a-z0-9_-]* and event names are letters.
 */
#ifndef PH_AMQP_MSG_H
#define PH_AMQP_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "event/event.h"
#include "store/store.h"

#define AMQP_KEY_MAX 256 /* an AMQP short string */
#define AMQP_APP_ID "posthook"
#define AMQP_SINK_NAME "amqp" /* the name of the sink's endpoints */

/*
 * amqp_routing_key - "EVENT.TENANT" into out (NULL tenant: the default
 * one); -1 when the tenant is not a valid name or out is too short.
 */
int amqp_routing_key(enum event_type t, const char *tenant, char *out, size_t outlen);

/* amqp_tenant_valid - 1 for a tenant name (tenant_name_valid()): no dot. */
int amqp_tenant_valid(const char *tenant);

/* amqp_url_is_sink - 1 for an amqp:// or amqps:// URL (an AMQP sink's endpoint). */
int amqp_url_is_sink(const char *url);

/*
 * amqp_url_redact - url without its password (amqp://user@host/vhost), for
 * endpoint records, logs and status; caller frees.  NULL when url is not
 * amqp:// or amqps:// with a host.
 */
char *amqp_url_redact(const char *url);

/* The properties and headers one published event carries. */
struct amqp_props {
	char routing_key[AMQP_KEY_MAX];
	const char *message_id; /* the envelope uuid */
	const char *type;	/* the event name */
	uint64_t timestamp;	/* envelope time, whole seconds */
	const char *host_name;	/* header host_name */
	const char *queue_id;	/* header queue_id; NULL: none known */
	const char *tenant;	/* header tenant */
	const char *event_key;	/* header event_key (the outbox's); NULL: none */
};

/*
 * amqp_props_fill - p for an event of type t, tenant (NULL: default), made
 * at timestamp with envelope uuid; strings are borrowed.  -1 (and err)
 * when the tenant cannot make a routing key.
 */
int amqp_props_fill(struct amqp_props *p, enum event_type t, const char *tenant,
		    double timestamp, const char *uuid, const char *host_name,
		    const char *queue_id, const char *event_key, char *err,
		    size_t errlen);

/* Where the sink stands, as posthookctl status shows it. */
struct amqp_status {
	char state[16];	  /* "connected", "down", "stopped" */
	char *url;	  /* redacted */
	char *last_error; /* NULL: none yet */
	double last_error_at;
	double since;	     /* in this state since */
	double oldest_due;   /* envelope time of the oldest event waiting; 0: none */
	uint64_t published;  /* publishes sent, counting republishes */
	uint64_t confirmed;  /* acks from the broker */
	uint64_t nacked;     /* nacks and returns */
	uint64_t reconnects; /* connections made after the first */
	double updated;
};

void amqp_status_clear(struct amqp_status *s);
json_object *amqp_status_to_json(const struct amqp_status *s);
/* amqp_status_from_json - -1 when o is no status record. */
int amqp_status_from_json(json_object *o, struct amqp_status *s);

/* amqp_status_get - the stored record (STORE_OK), or STORE_NOTFOUND. */
PH_MUST_CHECK int amqp_status_get(struct store_txn *txn, struct amqp_status *s);
PH_MUST_CHECK int amqp_status_put(struct store_txn *txn, const struct amqp_status *s);

#endif
