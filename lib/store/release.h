/*
 * release.h - messages posthook put in Postfix's hold queue and the
 * requests to release them (STORE_RELEASES): the daemons, which are not
 * root, only write here; posthookctl limits release, run as root, runs
 * postsuper -H for exactly the queue ids requested and marks each done.
 *
 * A queue id is "held by posthook" from release_held_add() until a
 * release is requested; only such ids can be requested, so nothing
 * posthook did not hold is ever released through it.
 */
#ifndef PH_STORE_RELEASE_H
#define PH_STORE_RELEASE_H

#include <stddef.h>

#include "store/store.h"

struct held_msg {
	char *queue_id;
	char *tenant; /* NULL: the default tenant */
	double held_at;
};

struct release_req {
	char *queue_id;
	char *tenant; /* NULL: the default tenant */
	char *by;     /* who asked: "limit", "api", "ctl" */
	double held_at;
	double requested_at;
	double done_at; /* 0: pending */
	int ok;		/* done: postsuper succeeded */
};

/* release_held_add - qid was held by posthook at held_at. */
PH_MUST_CHECK int release_held_add(struct store_txn *txn, const char *qid,
				   const char *tenant, double held_at);

/* release_held_list - every held message, oldest first; free with
 * release_held_free(). */
PH_MUST_CHECK int release_held_list(struct store_txn *txn, struct held_msg **out,
				    size_t *n);
void release_held_free(struct held_msg *list, size_t n);

/*
 * release_request - ask for qid's release: STORE_OK, or STORE_NOTFOUND
 * when posthook does not hold it (never held, or already requested).
 */
PH_MUST_CHECK int release_request(struct store_txn *txn, const char *qid, const char *by,
				  double now);

/* release_pending - the requests not done yet, oldest first (then by
 * the time each was held). */
PH_MUST_CHECK int release_pending(struct store_txn *txn, struct release_req **out,
				  size_t *n);
void release_reqs_free(struct release_req *list, size_t n);

/*
 * release_done - mark a request done (ok: postsuper released it); done
 * requests older than forget_before are deleted.
 */
PH_MUST_CHECK int release_done(struct store_txn *txn, const char *qid, int ok, double now,
			       double forget_before);

#endif
