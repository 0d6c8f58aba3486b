/*
 * endpoint.h - webhook endpoints: where events are POSTed, kept in
 * STORE_ENDPOINTS under a decimal id from the "endpoint" sequence.
 *
 * An endpoint has a name, an http or https URL, the event types it wants
 * (or all of them), an enabled flag and optionally a Standard Webhooks
 * secret ("whsec_..."), for which the sender adds webhook-* headers.
 * A disabled endpoint says why (disabled_reason: the receiver answered 410
 * Gone, it failed for disable_after, or an admin disabled it).
 * Every change bumps the "endpoints_gen" counter in STORE_META, so a
 * running sender notices it without a restart.
 */
#ifndef PH_ENDPOINT_H
#define PH_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "event/event.h"
#include "store/store.h"

/* "All events": every message and domain event, not the operational ones. */
#define ENDPOINT_ALL_EVENTS                                                              \
	((uint32_t) ((1u << EV_TYPE_COUNT) - 1)                                          \
	 & ~((1u << EV_WEBHOOK_DISABLED) | (1u << EV_DELIVERY_EXHAUSTED)))
#define ENDPOINT_NAME_MAX 200
#define ENDPOINT_URL_MAX 2048

struct endpoint {
	char *id; /* decimal, assigned by endpoint_create */
	char *name;
	char *url;
	uint32_t events; /* bit (1 << enum event_type) */
	int all_events;	 /* subscribed to every type, new ones too */
	int enabled;
	double created_at;
	char *secret;	       /* "whsec_...", or NULL */
	char *tenant;	       /* owning tenant; NULL means "default" */
	char *disabled_reason; /* gone, failing or admin; NULL while enabled */
	double max_rate;       /* requests per second; 0 unlimited */
};

struct endpoint *endpoint_new(void);
void endpoint_free(struct endpoint *ep);
struct endpoint *endpoint_dup(const struct endpoint *ep);

/*
 * endpoint_check_url - 0 when url is an absolute http or https URL with a
 * host (name, IPv4 or [IPv6]), an optional port and path; else -1 and the
 * reason in err.  Pure: no lookup is made.
 */
PH_MUST_CHECK int endpoint_check_url(const char *url, char *err, size_t errlen);

/* endpoint_check_name - 0 for a printable name of 1..ENDPOINT_NAME_MAX. */
PH_MUST_CHECK int endpoint_check_name(const char *name, char *err, size_t errlen);

/* endpoint_new_secret - "whsec_" and 24 random bytes in base64; NULL when none. */
char *endpoint_new_secret(void);

/* endpoint_check_secret - 0 for "whsec_" followed by base64. */
PH_MUST_CHECK int endpoint_check_secret(const char *secret, char *err, size_t errlen);

/*
 * endpoint_parse_events - "MessageSent,MessageHeld" to a mask; -1 and err
 * naming the unknown event (and the known ones) on error.
 */
PH_MUST_CHECK int endpoint_parse_events(const char *list, uint32_t *mask, char *err,
					size_t errlen);

/*
 * endpoint_wants - does ep receive events of type t?  The operational
 * events only when it names them.
 */
int endpoint_wants(const struct endpoint *ep, enum event_type t);

/*
 * endpoint_to_json - the endpoint as shown to the admin; the secret is
 * shown only with show_secret.
 */
json_object *endpoint_to_json(const struct endpoint *ep, int show_secret);
/* endpoint_from_json - NULL when a required field is missing. */
struct endpoint *endpoint_from_json(json_object *obj);

/* endpoint_create - give ep a new id and store it. */
PH_MUST_CHECK int endpoint_create(struct store_txn *txn, struct endpoint *ep);
/* endpoint_put - store an existing endpoint (update). */
PH_MUST_CHECK int endpoint_put(struct store_txn *txn, const struct endpoint *ep);
/* endpoint_get - STORE_OK with *out (caller frees), or STORE_NOTFOUND. */
PH_MUST_CHECK int endpoint_get(struct store_txn *txn, const char *id,
			       struct endpoint **out);
PH_MUST_CHECK int endpoint_delete(struct store_txn *txn, const char *id);

/* endpoint_list - every endpoint, by id; free with endpoint_list_free. */
PH_MUST_CHECK int endpoint_list(struct store_txn *txn, struct endpoint ***out, int *n);
void endpoint_list_free(struct endpoint **eps, int n);

/* endpoint_generation - the change counter (0 before any change). */
PH_MUST_CHECK int endpoint_generation(struct store_txn *txn, uint64_t *gen);

#endif
