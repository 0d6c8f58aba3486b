/*
 * loop.c - posthook-webhook's main loop (see loop.h).
 *
 * Store transactions are short and never span a request: one to fan out
 * events, one to pick due deliveries, and one per finished request that
 * records the attempt and updates the delivery.  A crash between sending
 * and recording leaves the delivery pending and due, so it is sent again.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "delivery.h"
#include "endpoint.h"
#include "fault.h"
#include "log.h"
#include "loop.h"
#include "sender.h"
#include "sign.h"
#include "store.h"

#define FANOUT_BATCH 200  /* events per fan-out transaction */
#define DUE_SCAN 2000	  /* due entries looked at per pick */
#define IDLE_POLL_MS 25	  /* outbox poll interval when idle */
#define PICK_EVERY_MS 250 /* look for due retries this often */
#define PAUSE_MS 10000	  /* recheck a disabled endpoint's work */
#define MAINTAIN_MS 5000
#define PURGE_MS 60000
#define KEYS_MS 5000
#define PURGE_BATCH 1000

struct fanout_ctx {
	int64_t first_delay;
	int events;
	int deliveries;
};

/* fanout_cb - take a batch of events and make their deliveries. */
static int
fanout_cb(struct store_txn *txn, void *arg)
{
	struct fanout_ctx *c = arg;

	return delivery_fanout(txn, FANOUT_BATCH, c->first_delay, &c->events,
			       &c->deliveries);
}

/* fanout - one batch; 1 when the outbox may hold more. */
static int
fanout(struct webhook *w)
{
	struct fanout_ctx c;

	memset(&c, 0, sizeof(c));
	c.first_delay = w->cfg->retry_count > 0 ? w->cfg->retry_schedule_ms[0] : 0;
	if (store_run(w->st, fanout_cb, &c, 0) != STORE_OK) {
		log_error("fan-out failed; the events stay in the outbox");
		return 0;
	}
	if (c.events > 0) {
		log_debug("fanned out %d event(s) into %d deliveries", c.events,
			  c.deliveries);
		w->pick_now = 1;
	}
	return c.events == FANOUT_BATCH;
}

struct job {
	struct delivery *d;
	struct endpoint *ep;
};

struct pick_ctx {
	struct webhook *w;
	int64_t now_ms;
	int slots;
	struct job *jobs;
	int njobs;
};

/* jobs_clear - free the picked jobs. */
static void
jobs_clear(struct pick_ctx *c)
{
	int i;

	for (i = 0; i < c->njobs; i++) {
		delivery_free(c->jobs[i].d);
		endpoint_free(c->jobs[i].ep);
	}
	c->njobs = 0;
}

/* find_endpoint - the endpoint with this id in a list, or NULL. */
static struct endpoint *
find_endpoint(struct endpoint **eps, int n, const char *id)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(eps[i]->id, id) == 0)
			return eps[i];
	return NULL;
}

/* endpoint_busy - is the endpoint at its cap, counting what was picked? */
static int
endpoint_busy(const struct pick_ctx *c, const char *id)
{
	int i, n = sender_endpoint_load(c->w->snd, id);

	for (i = 0; i < c->njobs; i++)
		if (strcmp(c->jobs[i].ep->id, id) == 0)
			n++;
	return n >= c->w->cfg->webhook_max_per_endpoint;
}

/* pick_one - take delivery id as a job, or set it aside; store status. */
static int
pick_one(struct pick_ctx *c, struct store_txn *txn, struct endpoint **eps, int nep,
	 uint64_t id)
{
	struct delivery *d;
	struct endpoint *ep;
	int rc;

	rc = delivery_get(txn, id, &d);
	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	ep = find_endpoint(eps, nep, d->endpoint_id);
	if (ep == NULL) {
		log_warn("delivery %llu (%s): endpoint %s no longer exists; "
			 "marked failed",
			 (unsigned long long)id, d->uuid, d->endpoint_id);
		rc = delivery_abandon(txn, d);
	} else if (!ep->enabled) {
		rc = delivery_reschedule(txn, d, c->now_ms + PAUSE_MS);
	} else if (!endpoint_busy(c, ep->id)) {
		c->jobs[c->njobs].d = d;
		c->jobs[c->njobs].ep = endpoint_dup(ep);
		c->njobs++;
		return STORE_OK;
	}
	delivery_free(d);
	return rc;
}

/* pick_cb - choose due deliveries to start, within both caps. */
static int
pick_cb(struct store_txn *txn, void *arg)
{
	struct pick_ctx *c = arg;
	struct endpoint **eps = NULL;
	struct due_entry *due = NULL;
	int n = 0, nep = 0, i, rc;

	jobs_clear(c); /* a retried transaction starts over */
	rc = delivery_due_ids(txn, c->now_ms, DUE_SCAN, &due, &n);
	if (rc == STORE_OK && n > 0)
		rc = endpoint_list(txn, &eps, &nep);
	for (i = 0; rc == STORE_OK && i < n && c->njobs < c->slots; i++) {
		if (sender_has(c->w->snd, due[i].id))
			continue;
		/* the index names the endpoint: skip a busy one unread */
		if (due[i].endpoint_id[0] != 0 &&
		    find_endpoint(eps, nep, due[i].endpoint_id) != NULL &&
		    endpoint_busy(c, due[i].endpoint_id))
			continue;
		rc = pick_one(c, txn, eps, nep, due[i].id);
	}
	endpoint_list_free(eps, nep);
	free(due);
	return rc;
}

/* start_jobs - sign and send what was picked. */
static void
start_jobs(struct webhook *w, struct pick_ctx *c)
{
	struct transfer *t;
	int i;

	for (i = 0; i < c->njobs; i++) {
		t = transfer_new(w->cfg, w->kr, c->jobs[i].d, c->jobs[i].ep);
		if (t == NULL)
			continue; /* logged; the delivery stays due */
		if (sender_start(w->snd, t) < 0) {
			transfer_free(t);
			continue;
		}
		log_debug("delivery %llu (%s): attempt %d to %s",
			  (unsigned long long)c->jobs[i].d->id, c->jobs[i].d->uuid,
			  c->jobs[i].d->attempts + 1, t->url);
	}
}

/* pick - start due deliveries while there is room. */
static void
pick(struct webhook *w)
{
	struct pick_ctx c;

	memset(&c, 0, sizeof(c));
	c.w = w;
	c.now_ms = (int64_t)(now_seconds() * 1000);
	c.slots = w->cfg->webhook_max_in_flight - sender_in_flight(w->snd);
	if (c.slots <= 0)
		return;
	c.jobs = xcalloc((size_t)c.slots, sizeof(*c.jobs));
	if (store_run(w->st, pick_cb, &c, 0) == STORE_OK)
		start_jobs(w, &c);
	else
		log_error("cannot read due deliveries");
	jobs_clear(&c);
	free(c.jobs);
}

#define RECORD_BATCH 256 /* finished requests recorded per transaction */

struct record_ctx {
	const struct config *cfg;
	struct transfer **done;
	int n;
	char (*ids)[32];
	int *will_retry;
	int *status;
};

/*
 * record_cb - each finished request's attempt and delivery; all in one
 * transaction, so a burst of answers costs one log flush.
 */
static int
record_cb(struct store_txn *txn, void *arg)
{
	struct record_ctx *c = arg;
	struct attempt_target target;
	struct attempt_result r;
	int i, rc;

	for (i = 0; i < c->n; i++) {
		target.name = c->done[i]->name;
		target.url = c->done[i]->url;
		transfer_result(c->done[i], &r);
		rc = delivery_complete(txn, c->done[i]->delivery_id, &target, &r,
				       c->cfg->retry_schedule_ms, c->cfg->retry_count,
				       c->ids[i], &c->will_retry[i]);
		c->status[i] = rc;
		if (rc != STORE_OK && rc != STORE_NOTFOUND)
			return rc;
	}
	return STORE_OK;
}

/* log_attempt - one line per recorded attempt. */
static void
log_attempt(const struct transfer *t, const char *id, int will_retry)
{
	if (t->error == NULL)
		log_info("delivery %llu: %s to endpoint %s: HTTP %ld in %.3fs",
			 (unsigned long long)t->delivery_id, id, t->endpoint_id,
			 t->status, t->duration);
	else
		log_info("delivery %llu: %s to endpoint %s failed: %s in %.3fs%s",
			 (unsigned long long)t->delivery_id, id, t->endpoint_id, t->error,
			 t->duration, will_retry ? "; will retry" : "");
}

/* record - store how finished requests went, and log them. */
static void
record(struct webhook *w, struct transfer **done, int n)
{
	struct record_ctx c;
	int i, rc;

	PH_FAULT("webhook-before-record");
	memset(&c, 0, sizeof(c));
	c.cfg = w->cfg;
	c.done = done;
	c.n = n;
	c.ids = xcalloc((size_t)n, sizeof(*c.ids));
	c.will_retry = xcalloc((size_t)n, sizeof(*c.will_retry));
	c.status = xcalloc((size_t)n, sizeof(*c.status));
	rc = store_run(w->st, record_cb, &c, 0);
	for (i = 0; i < n; i++) {
		if (rc != STORE_OK)
			log_error("delivery %llu: cannot record the attempt; it will be "
				  "sent again",
				  (unsigned long long)done[i]->delivery_id);
		else if (c.status[i] == STORE_NOTFOUND)
			log_warn("delivery %llu: gone before its attempt was recorded",
				 (unsigned long long)done[i]->delivery_id);
		else
			log_attempt(done[i], c.ids[i], c.will_retry[i]);
	}
	free(c.ids);
	free(c.will_retry);
	free(c.status);
}

/* reap - record every finished request, a batch per transaction. */
static int
reap(struct webhook *w)
{
	struct transfer *done[RECORD_BATCH];
	int n, i, total = 0;

	do {
		for (n = 0;
		     n < RECORD_BATCH && (done[n] = sender_next_done(w->snd)) != NULL;)
			n++;
		if (n > 0)
			record(w, done, n);
		for (i = 0; i < n; i++)
			transfer_free(done[i]);
		total += n;
	} while (n == RECORD_BATCH);
	return total;
}

struct purge_ctx {
	double cutoff;
	int count;
};

/* purge_cb - one batch of expired history. */
static int
purge_cb(struct store_txn *txn, void *arg)
{
	struct purge_ctx *c = arg;

	return delivery_purge(txn, c->cutoff, PURGE_BATCH, &c->count);
}

/* housekeeping - checkpoints, retention and key changes, when due. */
static void
housekeeping(struct webhook *w, int64_t now)
{
	struct purge_ctx c;

	if (now >= w->next_maintain) {
		if (store_maintain(w->st) != STORE_OK)
			log_warn("store maintenance failed");
		w->next_maintain = now + MAINTAIN_MS;
	}
	if (now >= w->next_purge) {
		c.cutoff = now_seconds() - (double)w->cfg->delivery_retention_ms / 1000.0;
		c.count = 0;
		if (store_run(w->st, purge_cb, &c, 0) != STORE_OK)
			log_warn("purging delivery history failed");
		else if (c.count > 0)
			log_info("purged %d expired delivery record(s)", c.count);
		w->next_purge = now + (c.count >= PURGE_BATCH ? 1000 : PURGE_MS);
	}
	if (now >= w->next_keys) {
		if (keyring_refresh(w->kr, now_seconds()) < 0)
			log_warn("cannot refresh the signing keys");
		w->next_keys = now + KEYS_MS;
	}
}

/* webhook_reload - see loop.h. */
void
webhook_reload(struct webhook *w)
{
	struct config *cfg = config_new();
	char err[1024];

	if (w->cfg->path == NULL ||
	    config_load(cfg, w->cfg->path, 1, err, sizeof(err)) < 0) {
		if (w->cfg->path != NULL)
			log_error("reload: %s; keeping the old configuration", err);
		config_free(cfg);
		return;
	}
	config_free(w->cfg);
	w->cfg = cfg;
	sender_configure(w->snd, cfg);
	w->next_keys = 0;
	log_info("configuration reloaded");
}

/* drain - on stop, let requests in flight finish and record them. */
static void
drain(struct webhook *w)
{
	int64_t until = monotonic_ms() + w->cfg->webhook_timeout_ms + 1000;

	while (sender_in_flight(w->snd) > 0 && monotonic_ms() < until) {
		if (sender_wait(w->snd, -1, 100) < 0)
			break;
		reap(w);
	}
}

/* webhook_loop - see loop.h. */
int
webhook_loop(struct webhook *w)
{
	int64_t now;
	int more, timeout;

	while (!w->sig->stop) {
		if (w->sig->reload) {
			w->sig->reload = 0;
			webhook_reload(w);
		}
		daemon_signals_drain(w->sig);
		more = fanout(w);
		now = monotonic_ms();
		if (w->pick_now || now >= w->next_pick) {
			w->pick_now = 0;
			w->next_pick = now + PICK_EVERY_MS;
			pick(w);
		}
		timeout = more ? 0 : IDLE_POLL_MS;
		if (sender_wait(w->snd, w->sig->wake_fd, timeout) < 0)
			return -1;
		if (reap(w) > 0)
			w->pick_now = 1;
		housekeeping(w, monotonic_ms());
	}
	drain(w);
	return 0;
}
