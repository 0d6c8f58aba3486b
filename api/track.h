/*
 * track.h - the tracking server inside posthook-api: its own listener and
 * answering function (track_dispatch), so that no API path is reachable
 * on track_listen and no tracking path on api_listen.
 */
#ifndef PH_TRACK_H
#define PH_TRACK_H

#include "api.h"

/*
 * track_new - the tracking state for cfg: trusted proxies, Apple's
 * prefetch networks (a missing file is logged and means none), the per
 * address rate limit.  NULL (logged) on a bad setting.
 */
struct track *track_new(const struct config *cfg);
void track_free(struct track *t);

/* track_reload - take cfg's tracking settings; -1 (logged, unchanged) on error. */
int track_reload(struct track *t, const struct config *cfg);

/* track_dispatch - answer one hit on a tracking URL (api_dispatch_fn). */
void track_dispatch(struct api *a, struct api_req *req, struct api_resp *resp);

/*
 * track_activity_json - {opens[], clicks[]} of the message id, oldest
 * first, each {ipAddress, userAgent, timestamp, timestampIso, [url,] bot}
 * (track_activity.c).  STORE_OK with *out set, or the store's status.
 */
PH_MUST_CHECK int track_activity_json(struct store_txn *txn, uint64_t id,
				      json_object **out);

#endif
