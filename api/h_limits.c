/*
 * h_limits.c - GET /v1/limits: the caller's API rate limit and send limit
 * in the hosted API's shape ({rateLimit, sendLimit, billing}), for the
 * tenant in scope.
 *
 * The send limit shown is the tenant's own send_limit when it has one,
 * else the site's (posthook.conf send_limit): the one that holds its mail
 * back.  The window is the rolling hour (the seed's "in the last hour"),
 * so resetsAt is when the oldest message counted leaves it, not the top
 * of the hour.  Beyond the hosted API: state, scope ("tenant" or
 * "site"), tenant and held (its messages waiting in the hold queue).
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api/apikey.h"
#include "limit/limit_store.h"
#include "ratelimit.h"
#include "store/release.h"
#include "store/volume.h"
#include "util/json.h"
#include "util/util.h"

/* What the transaction reads. */
struct limits_read {
	const struct config *cfg;
	const char *tenant;
	double now;
	struct limit_settings ls;
	uint64_t used;	 /* in the scope whose limit applies */
	uint64_t limit;	 /* 0: none */
	uint32_t oldest; /* minute of the oldest count in the hour, or 0 */
	int site;	 /* the site's limit applies */
	long held;
};

/* read_cb - the limit that applies, its volume and oldest minute */
static int
read_cb(struct store_txn *txn, void *arg)
{
	struct limits_read *r = arg;
	uint32_t minute = limit_minute(r->now);
	struct volume_bucket *b = NULL;
	struct held_msg *h = NULL;
	size_t nb = 0, nh = 0, i;
	int rc;

	if ((rc = limit_tenant_settings(txn, r->cfg, r->tenant, &r->ls)) != STORE_OK)
		return (rc);
	r->site = r->ls.tenant_limit == 0 && r->cfg->send_limit > 0;
	r->limit = r->site ? (uint64_t) r->cfg->send_limit : r->ls.tenant_limit;
	rc = volume_buckets(txn, r->site ? VOLUME_TOTAL : r->tenant,
			    minute - (LIMIT_WINDOW_MINUTES - 1), &b, &nb);
	if (rc != STORE_OK)
		return (rc);
	r->used = limit_window_sum(b, nb, minute);
	r->oldest = 0;
	for (i = 0; i < nb && r->oldest == 0; i++)
		if (b[i].count > 0 && b[i].minute <= minute)
			r->oldest = b[i].minute;
	free(b);
	if ((rc = release_held_list(txn, &h, &nh)) != STORE_OK)
		return (rc);
	r->held = 0;
	for (i = 0; i < nh; i++)
		if (strcmp(h[i].tenant != NULL ? h[i].tenant : TENANT_DEFAULT, r->tenant)
		    == 0)
			r->held++;
	release_held_free(h, nh);
	return (STORE_OK);
}

/* send_limit_json - the sendLimit object */
static json_object *
send_limit_json(const struct limits_read *r)
{
	json_object *o = json_object_new_object();
	enum limit_state s = limit_state_of(r->used, r->limit);
	double resets =
	    r->oldest > 0 ? (double) (r->oldest + LIMIT_WINDOW_MINUTES) * 60.0 : r->now;
	char when[40];

	iso8601_utc(resets, when, sizeof(when));
	json_object_object_add(o, "approaching",
			       json_object_new_boolean(s == LIMIT_APPROACHING));
	json_object_object_add(o, "exceeded",
			       json_object_new_boolean(s == LIMIT_EXCEEDED));
	json_object_object_add(
	    o, "limit", r->limit > 0 ? json_object_new_int64((int64_t) r->limit) : NULL);
	json_add_string(o, "period", "hour");
	json_object_object_add(
	    o, "remaining",
	    r->limit > 0 ? json_object_new_int64((int64_t) limit_room(r->used, r->limit))
			 : NULL);
	json_add_string(o, "resetsAt", when);
	json_object_object_add(
	    o, "usagePercent",
	    r->limit > 0 ? json_object_new_double(
		(double) ((r->used * 1000 + r->limit / 2) / r->limit) / 10.0)
			 : NULL);
	json_object_object_add(o, "used", json_object_new_int64((int64_t) r->used));
	json_add_string(o, "state", limit_state_name(s));
	json_add_string(o, "scope", r->site ? "site" : "tenant");
	json_add_string(o, "tenant", r->tenant);
	json_object_object_add(o, "held", json_object_new_int64(r->held));
	return (o);
}

/* h_limits - see api.h. */
void
h_limits(struct api *a, struct api_req *req, struct api_resp *resp)
{
	struct limits_read r;
	json_object *data, *rate;
	int64_t now_ms = monotonic_ms();

	memset(&r, 0, sizeof(r));
	r.cfg = a->cfg;
	r.tenant = req->tenant;
	r.now = now_seconds();
	if (store_run(a->st, read_cb, &r, 5000) != STORE_OK) {
		reply_error(resp, req, 503, "unavailable", "the store did not answer");
		return;
	}
	rate = json_object_new_object();
	json_object_object_add(rate, "limit",
			       json_object_new_int(a->cfg->api_rate_limit));
	json_add_string(rate, "period", "second");
	json_object_object_add(
	    rate, "remaining",
	    json_object_new_int(ratelimit_remaining(a->rl, req->key->id, now_ms)));
	json_object_object_add(rate, "reset", json_object_new_int64((int64_t) r.now + 1));
	data = json_object_new_object();
	json_object_object_add(data, "billing", NULL);
	json_object_object_add(data, "rateLimit", rate);
	json_object_object_add(data, "sendLimit", send_limit_json(&r));
	reply_ok(resp, req, 200, data);
}
