/*
 * bounce_record.c - the bounces the intake kept in STORE_BOUNCES (see
 * bounce_record.h): listed for posthookctl, purged by retention.
 */
#include <stdlib.h>

#include "store/bounce_record.h"
#include "event/event.h"
#include "store/purge.h"
#include "util/json.h"
#include "util/util.h"

/* received_of - a kept record's receive time */
static double
received_of(json_object *o)
{
	return json_object_get_double(json_member(o, "received"));
}

/* newest_first - qsort order of kept records */
static int
newest_first(const void *a, const void *b)
{
	double x = received_of(*(json_object *const *) a);
	double y = received_of(*(json_object *const *) b);

	return x < y ? 1 : x > y ? -1 : 0;
}

/* bounce_record_list - see bounce_record.h */
int
bounce_record_list(struct store_txn *txn, double since, int limit, json_object ***out,
		   int *n)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl, cap = 0;
	json_object **recs = NULL;
	int status, count = 0;

	*out = NULL;
	*n = 0;
	status = store_cursor_open(txn, STORE_BOUNCES, &c);
	if (status != STORE_OK)
		return status;
	while ((status = store_cursor_next(c, &k, &kl, &v, &vl)) == STORE_OK) {
		json_object *o = json_parse_len(v, vl);

		if (o == NULL)
			continue;
		if (received_of(o) < since) {
			json_object_put(o);
			continue;
		}
		if ((size_t) count == cap) {
			cap = cap ? cap * 2 : 64;
			recs = xrealloc(recs, cap * sizeof(*recs));
		}
		recs[count++] = o;
	}
	store_cursor_close(c);
	if (status != STORE_NOTFOUND) {
		bounce_records_free(recs, count);
		return status;
	}
	if (count > 0)
		qsort(recs, (size_t) count, sizeof(*recs), newest_first);
	while (limit > 0 && count > limit)
		json_object_put(recs[--count]);
	*out = recs;
	*n = count;
	return STORE_OK;
}

/* bounce_records_free - free a list */
void
bounce_records_free(json_object **recs, int n)
{
	for (int i = 0; i < n; i++)
		json_object_put(recs[i]);
	free(recs);
}

/* kept_time - when a stored bounce record was received */
static double
kept_time(const void *val, size_t len)
{
	json_object *o = json_parse_len(val, len);
	double t = o ? received_of(o) : -1;

	json_object_put(o);
	return t;
}

/* bounce_record_purge - see bounce_record.h */
int
bounce_record_purge(struct store_txn *txn, double cutoff, int limit, int *count)
{
	static const struct purge_ops ops = { STORE_BOUNCES, kept_time, NULL };

	return purge_older(txn, &ops, cutoff, limit, count);
}
