/*
 * probe.c - queue one event for one endpoint and find its attempt.
 */
#include <string.h>

#include "store/delivery.h"
#include "store/endpoint.h"
#include "store/outbox.h"
#include "store/probe.h"
#include "util/util.h"

/* probe_queue - see probe.h. */
int
probe_queue(struct store_txn *txn, const char *id, const char *key, enum event_type type,
	    json_object *payload, uint64_t *after, int *disabled)
{
	struct endpoint *ep;
	int rc;

	rc = endpoint_get(txn, id, &ep);
	if (rc != STORE_OK)
		return rc;
	*disabled = !ep->enabled;
	endpoint_free(ep);
	if (*disabled)
		return STORE_OK;
	rc = attempt_last_seq(txn, after);
	if (rc != STORE_OK)
		return rc;
	return outbox_add(txn, key, type, now_seconds(), payload, id);
}

/* probe_is_test - see probe.h. */
int
probe_is_test(const char *event_key)
{
	return strncmp(event_key, PROBE_TEST_KEY_PREFIX,
		       sizeof(PROBE_TEST_KEY_PREFIX) - 1)
	       == 0;
}

/* probe_find - see probe.h. */
int
probe_find(struct store_txn *txn, const char *key, uint64_t after, json_object **found)
{
	struct attempt_filter f;
	json_object *list;
	size_t n;
	int rc;

	*found = NULL;
	memset(&f, 0, sizeof(f));
	f.event = -1;
	f.event_key = key;
	f.after_seq = after;
	rc = attempt_list(txn, &f, &list);
	if (rc != STORE_OK)
		return rc;
	n = json_object_array_length(list);
	if (n > 0) /* newest first: take the oldest */
		*found = json_object_get(json_object_array_get_idx(list, n - 1));
	json_object_put(list);
	return STORE_OK;
}

/* probe_delivery_done - see probe.h. */
int
probe_delivery_done(struct store_txn *txn, uint64_t id, json_object **found)
{
	struct delivery *d;
	int rc;

	*found = NULL;
	if ((rc = delivery_get(txn, id, &d)) != STORE_OK)
		return rc;
	if (d->state != DELIVERY_PENDING && d->last_attempt != NULL)
		rc = attempt_get(txn, d->last_attempt, found);
	delivery_free(d);
	return rc;
}
