/*
 * limit_store.c - send limits over the store (limit_store.h).
 */
#include <stdlib.h>
#include <string.h>

#include "limit/limit_store.h"
#include "store/release.h"
#include "store/tenant_name.h"
#include "store/volume.h"
#include "tenant/tenant.h"
#include "util/log.h"
#include "util/util.h"

/* scope_of - the scope of a tenant */
static const char *
scope_of(const char *tenant)
{
	return (tenant != NULL ? tenant : TENANT_DEFAULT);
}

/* limit_volume - see limit_store.h */
int
limit_volume(struct store_txn *txn, const char *scope, double now, uint64_t *out)
{
	uint32_t minute = limit_minute(now);
	struct volume_bucket *b;
	size_t n;
	int rc;

	rc = volume_buckets(txn, scope, minute - (LIMIT_WINDOW_MINUTES - 1), &b, &n);
	if (rc != STORE_OK)
		return (rc);
	*out = limit_window_sum(b, n, minute);
	free(b);
	return (STORE_OK);
}

/* limit_tenant_settings - see limit_store.h */
int
limit_tenant_settings(struct store_txn *txn, const struct config *cfg, const char *tenant,
		      struct limit_settings *out)
{
	struct tenant *t = NULL;
	char err[120];
	int rc;

	rc = tenant_get(txn, scope_of(tenant), &t);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return (rc);
	if (limit_settings_of(cfg, t != NULL ? t->settings : NULL, out, err, sizeof(err))
	    != 0)
		log_warn("tenant %s: %s: its setting is ignored", scope_of(tenant), err);
	if (t != NULL)
		tenant_free(t);
	return (STORE_OK);
}

/* limit_count - see limit_store.h */
int
limit_count(struct store_txn *txn, const char *tenant, double now, uint64_t n)
{
	uint32_t minute = limit_minute(now);
	uint32_t keep = minute - (LIMIT_WINDOW_MINUTES - 1);
	int rc;

	rc = volume_add(txn, scope_of(tenant), minute, n, keep);
	if (rc == STORE_OK)
		rc = volume_add(txn, VOLUME_TOTAL, minute, n, keep);
	return (rc);
}

/* scope_json - {tenant, volume, limit, state[, held]} */
static json_object *
scope_json(const char *tenant, uint64_t volume, uint64_t limit, long held)
{
	json_object *o = json_object_new_object();

	if (tenant != NULL)
		json_object_object_add(o, "tenant", json_object_new_string(tenant));
	json_object_object_add(o, "volume", json_object_new_int64((int64_t) volume));
	json_object_object_add(o, "limit", json_object_new_int64((int64_t) limit));
	json_object_object_add(
	    o, "state",
	    json_object_new_string(limit_state_name(limit_state_of(volume, limit))));
	if (held >= 0)
		json_object_object_add(o, "held", json_object_new_int64(held));
	return (o);
}

/* held_of - how many held messages belong to scope */
static long
held_of(const struct held_msg *h, size_t n, const char *scope)
{
	long count = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(scope_of(h[i].tenant), scope) == 0)
			count++;
	return (count);
}

/* add_tenant - one tenant's line */
static int
add_tenant(struct store_txn *txn, const struct config *cfg, double now, const char *name,
	   const struct held_msg *h, size_t nh, json_object *arr)
{
	struct limit_settings ls;
	uint64_t v;
	int rc;

	if ((rc = limit_tenant_settings(txn, cfg, name, &ls)) != STORE_OK
	    || (rc = limit_volume(txn, name, now, &v)) != STORE_OK)
		return (rc);
	json_object_array_add(arr,
			      scope_json(name, v, ls.tenant_limit, held_of(h, nh, name)));
	return (STORE_OK);
}

/* limit_status - see limit_store.h */
int
limit_status(struct store_txn *txn, const struct config *cfg, double now,
	     json_object **out)
{
	struct tenant **tl = NULL;
	struct held_msg *h = NULL;
	size_t ntl = 0, nh = 0, i;
	char **scopes = NULL;
	json_object *o = NULL, *arr;
	uint64_t total;
	int rc;

	*out = NULL;
	if ((rc = tenant_list(txn, &tl, &ntl)) != STORE_OK)
		return (rc);
	if ((rc = volume_scopes(txn, &scopes)) != STORE_OK
	    || (rc = release_held_list(txn, &h, &nh)) != STORE_OK
	    || (rc = limit_volume(txn, VOLUME_TOTAL, now, &total)) != STORE_OK)
		goto done;
	o = json_object_new_object();
	json_object_object_add(
	    o, "total", scope_json(NULL, total, (uint64_t) cfg->send_limit, (long) nh));
	arr = json_object_new_array();
	json_object_object_add(o, "tenants", arr);
	for (i = 0; rc == STORE_OK && i < ntl; i++)
		rc = add_tenant(txn, cfg, now, tl[i]->name, h, nh, arr);
	/* counted under a tenant since removed */
	for (i = 0; rc == STORE_OK && scopes[i] != NULL; i++) {
		size_t k;

		for (k = 0; k < ntl && strcmp(tl[k]->name, scopes[i]) != 0; k++)
			;
		if (k == ntl && strcmp(scopes[i], VOLUME_TOTAL) != 0)
			rc = add_tenant(txn, cfg, now, scopes[i], h, nh, arr);
	}
done:
	if (rc == STORE_OK)
		*out = o;
	else
		json_object_put(o);
	for (i = 0; scopes != NULL && scopes[i] != NULL; i++)
		free(scopes[i]);
	free(scopes);
	release_held_free(h, nh);
	tenant_list_free(tl, ntl);
	return (rc);
}

/* One scope's room during a release run. */
struct room {
	char *scope;
	uint64_t left;
};

/* room_of - the room of scope, looked up once per run */
static int
room_of(struct store_txn *txn, const struct config *cfg, double now, const char *tenant,
	struct room **rooms, size_t *n, uint64_t **left)
{
	struct limit_settings ls;
	uint64_t v;
	size_t i;
	int rc;

	for (i = 0; i < *n; i++)
		if (strcmp((*rooms)[i].scope, scope_of(tenant)) == 0) {
			*left = &(*rooms)[i].left;
			return (STORE_OK);
		}
	if ((rc = limit_tenant_settings(txn, cfg, tenant, &ls)) != STORE_OK
	    || (rc = limit_volume(txn, scope_of(tenant), now, &v)) != STORE_OK)
		return (rc);
	*rooms = xrealloc(*rooms, (*n + 1) * sizeof(**rooms));
	(*rooms)[*n].scope = xstrdup(scope_of(tenant));
	(*rooms)[*n].left = limit_room(v, ls.tenant_limit);
	*left = &(*rooms)[(*n)++].left;
	return (STORE_OK);
}

/* limit_release_due - see limit_store.h */
int
limit_release_due(struct store_txn *txn, const struct config *cfg, double now, size_t *n)
{
	struct held_msg *h = NULL;
	struct room *rooms = NULL;
	size_t nh = 0, nrooms = 0, i;
	uint64_t total, total_left, *left;
	int rc;

	*n = 0;
	if ((rc = limit_volume(txn, VOLUME_TOTAL, now, &total)) != STORE_OK
	    || (rc = release_held_list(txn, &h, &nh)) != STORE_OK)
		return (rc);
	total_left = limit_room(total, (uint64_t) cfg->send_limit);
	for (i = 0; rc == STORE_OK && i < nh && total_left > 0; i++) {
		if ((rc = room_of(txn, cfg, now, h[i].tenant, &rooms, &nrooms, &left))
		    != STORE_OK)
			break;
		if (*left == 0)
			continue;
		rc = release_request(txn, h[i].queue_id, "limit", now);
		if (rc == STORE_OK)
			rc = limit_count(txn, h[i].tenant, now, 1);
		if (rc != STORE_OK)
			break;
		(*left)--;
		total_left--;
		(*n)++;
	}
	for (i = 0; i < nrooms; i++)
		free(rooms[i].scope);
	free(rooms);
	release_held_free(h, nh);
	return (rc);
}
