/*
 * loop.c - posthook-webhook's main loop (see loop.h).
 *
 * Store transactions are short and never span a request: one to fan out
 * a batch of events, one to pick due deliveries, and one per batch of
 * finished requests that records the attempts and updates the deliveries.
 * A crash between sending and recording leaves the delivery pending and
 * due, so it is sent again.
 *
 * Threads.  Everything here, libcurl and the store included, runs on the
 * loop thread; only RSA signing runs on the signing pool (signpool.h).  A
 * picked delivery becomes a transfer with its body serialized, its key
 * chosen and its kid noted (transfer_prepare), is listed in w->signing and
 * its t->job submitted to the pool; the pool hands the job back through
 * its eventfd, polled with libcurl's sockets, and the loop then adds the
 * headers and starts the request (start_signed).  While a job is in the
 * pool the loop reads only the transfer's other fields (delivery_id,
 * endpoint_id), never t->job or t->body.  Every job of a batch is signed
 * with the key keyring_signer() gave for that batch and carries that key's
 * kid; the keyring is refreshed (which may free keys) only when the pool
 * holds no job (keys_wait holds picking back until then).
 *
 * One file, though long: the states of a transfer (picked, signing,
 * running, recorded) and the rules above that keep them safe are read
 * best in one place; what stands alone is elsewhere already (transfer.c,
 * sender.c, signpool.c).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "amqp/amqp_msg.h"
#include "config/daemon.h"
#include "store/delivery.h"
#include "store/endpoint.h"
#include "store/retention.h"
#include "store/store.h"
#include "sign/sign.h"
#include "util/fault.h"
#include "util/log.h"
#include "health.h"
#include "loop.h"
#include "sender.h"
#include "signpool.h"

#define FANOUT_BATCH 200  /* events per fan-out transaction */
#define DUE_SCAN 2000	  /* due entries looked at per pick, at most */
#define IDLE_POLL_MS 25	  /* outbox poll interval when idle */
#define BUSY_POLL_MS 1	  /* ... just after it held events (doubles to idle) */
#define PICK_EVERY_MS 250 /* look for due retries this often */
#define MAINTAIN_MS 5000
#define PURGE_MS 60000
#define KEYS_MS 5000

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

/* fanout - one batch; 1 when the outbox may hold more; *events taken. */
static int
fanout(struct webhook *w, int *events)
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
	*events = c.events;
	return c.events == FANOUT_BATCH;
}

struct job {
	struct delivery *d;
	struct endpoint *ep;
	int probe;
};

struct pick_ctx {
	struct webhook *w;
	int64_t now_ms;
	int slots;
	struct job *jobs;
	int njobs;
	struct health_pick hp; /* the endpoints' breakers */
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

/* amqp_sink_named - is id an AMQP sink's endpoint (posthook-amqp's)? */
static int
amqp_sink_named(struct endpoint **eps, int n, const char *id)
{
	const struct endpoint *ep = id[0] != 0 ? find_endpoint(eps, n, id) : NULL;

	return ep != NULL && amqp_url_is_sink(ep->url);
}

/* endpoint_load - the endpoint's requests in flight, signing or picked. */
static int
endpoint_load(void *arg, const char *id)
{
	const struct pick_ctx *c = arg;
	int i, n = sender_endpoint_load(c->w->snd, id);

	for (i = 0; i < c->njobs; i++)
		if (strcmp(c->jobs[i].ep->id, id) == 0)
			n++;
	for (i = 0; i < c->w->nsigning; i++)
		if (strcmp(c->w->signing[i]->endpoint_id, id) == 0)
			n++;
	return n;
}

/* taken - is delivery id in flight, being signed, or picked already? */
static int
taken(const struct pick_ctx *c, uint64_t id)
{
	int i;

	if (sender_has(c->w->snd, id))
		return 1;
	for (i = 0; i < c->w->nsigning; i++)
		if (c->w->signing[i]->delivery_id == id)
			return 1;
	for (i = 0; i < c->njobs; i++)
		if (c->jobs[i].d->id == id)
			return 1;
	return 0;
}

/* pick_one - take delivery id as a job, or set it aside; store status. */
static int
pick_one(struct pick_ctx *c, struct store_txn *txn, struct endpoint **eps, int nep,
	 uint64_t id)
{
	struct delivery *d;
	struct endpoint *ep;
	enum breaker_admit a;
	int rc, i;

	rc = delivery_pick(txn, id, &d);
	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	ep = find_endpoint(eps, nep, d->endpoint_id);
	if (ep != NULL && amqp_url_is_sink(ep->url)) {
		delivery_free(d); /* posthook-amqp's */
		return STORE_OK;
	}
	i = ep != NULL ? health_index(&c->hp, ep->id) : -1;
	if (ep == NULL || i < 0) {
		log_warn("delivery %llu (%s): endpoint %s no longer exists; "
			 "marked failed",
			 (unsigned long long) id, d->uuid, d->endpoint_id);
		rc = delivery_abandon(txn, d);
		delivery_free(d);
		return rc;
	}
	a = health_admit(&c->hp, i, (double) c->now_ms / 1000, endpoint_load(c, ep->id));
	if (a == ADMIT_SEND || a == ADMIT_PROBE) {
		c->jobs[c->njobs].d = d;
		c->jobs[c->njobs].ep = endpoint_dup(ep);
		c->jobs[c->njobs].probe = a == ADMIT_PROBE;
		c->njobs++;
		return STORE_OK;
	}
	if (a == ADMIT_PARK)
		rc = health_park(&c->hp, txn, i, d);
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
	int n = 0, nep = 0, i, j, rc, scan;

	jobs_clear(c); /* a retried transaction starts over */
	health_pick_clear(&c->hp);
	/*
	 * The earliest due entries are mostly those in flight: look at that
	 * many and twice the free slots, and further (up to DUE_SCAN, past a
	 * busy endpoint's backlog) only when that did not fill the slots.
	 */
	scan = sender_in_flight(c->w->snd) + c->w->nsigning + 2 * c->slots + 32;
	if (scan > DUE_SCAN)
		scan = DUE_SCAN;
	rc = endpoint_list(txn, &eps, &nep);
	if (rc == STORE_OK)
		rc = health_pick_begin(&c->hp, c->w->health, c->w->cfg, txn, eps, nep);
again:
	if (rc == STORE_OK)
		rc = delivery_due_ids(txn, c->now_ms, scan, &due, &n);
	for (i = 0; rc == STORE_OK && i < n && c->njobs < c->slots; i++) {
		if (taken(c, due[i].id) || amqp_sink_named(eps, nep, due[i].endpoint_id))
			continue;
		/* the index names the endpoint: skip a full one unread */
		j = due[i].endpoint_id[0] != 0 ? health_index(&c->hp, due[i].endpoint_id)
					       : -1;
		if (j >= 0
		    && health_full(&c->hp, j, endpoint_load(c, due[i].endpoint_id))) {
			c->hp.due[j]++;
			continue;
		}
		rc = pick_one(c, txn, eps, nep, due[i].id);
	}
	free(due);
	due = NULL;
	if (rc == STORE_OK && c->njobs < c->slots && n == scan && scan < DUE_SCAN) {
		scan = DUE_SCAN;
		goto again;
	}
	if (rc == STORE_OK)
		rc = health_pick_end(&c->hp, txn, (double) c->now_ms / 1000,
				     endpoint_load, c);
	endpoint_list_free(eps, nep);
	c->hp.eps = NULL; /* freed with the list */
	return rc;
}

/* job_transfer - the transfer a pool job belongs to. */
static struct transfer *
job_transfer(struct sign_job *j)
{
	return (struct transfer *) (void *) ((char *) j - offsetof(struct transfer, job));
}

/* signing_add - list t as being in the pool. */
static void
signing_add(struct webhook *w, struct transfer *t)
{
	if (w->nsigning == w->signing_cap) {
		w->signing_cap = w->signing_cap ? w->signing_cap * 2 : 64;
		w->signing =
		    xrealloc(w->signing, (size_t) w->signing_cap * sizeof(*w->signing));
	}
	w->signing[w->nsigning++] = t;
}

/* signing_remove - t came back from the pool. */
static void
signing_remove(struct webhook *w, struct transfer *t)
{
	int i;

	for (i = 0; i < w->nsigning; i++) {
		if (w->signing[i] == t) {
			w->signing[i] = w->signing[--w->nsigning];
			return;
		}
	}
}

/*
 * submit_jobs - hand what was picked to the signing pool, every request
 * signed with the key that signs now (the pool holds no reference past
 * the next keyring refresh: see keys_wait).
 */
static void
submit_jobs(struct webhook *w, struct pick_ctx *c)
{
	const struct signing_key *key;
	struct sign_job *head = NULL, **tail = &head;
	struct transfer *t;
	int i;

	if (c->njobs == 0)
		return;
	key = keyring_signer(w->kr, now_seconds());
	if (key == NULL) {
		log_error("no signing key is active; %d delivery(ies) wait", c->njobs);
		return;
	}
	for (i = 0; i < c->njobs; i++) {
		t = transfer_prepare(key, c->jobs[i].d, c->jobs[i].ep);
		c->jobs[i].d = NULL; /* the transfer took it */
		if (t == NULL)
			continue; /* logged; the delivery stays due */
		t->probe = c->jobs[i].probe;
		signing_add(w, t);
		t->job.next = NULL;
		*tail = &t->job;
		tail = &t->job.next;
	}
	signpool_submit(w->pool, head);
}

/* start_signed - send every request the pool has signed. */
static void
start_signed(struct webhook *w)
{
	struct sign_job *j, *next;
	struct transfer *t;
	int started = 0;

	for (j = signpool_take(w->pool); j != NULL; j = next) {
		next = j->next;
		j->next = NULL;
		t = job_transfer(j);
		signing_remove(w, t);
		if (transfer_signed(w->cfg, t) < 0 || sender_start(w->snd, t) < 0) {
			transfer_free(t); /* logged; due again at the next pick */
			continue;
		}
		started++;
		log_debug("delivery %llu (%s): attempt %d to %s",
			  (unsigned long long) t->delivery_id, t->uuid, t->attempt,
			  t->url);
	}
	if (started > 0)
		sender_perform(w->snd);
}

/* drop_signing - on stop: wait for the pool, and send none of its jobs. */
static void
drop_signing(struct webhook *w)
{
	struct sign_job *j, *next;

	signpool_wait(w->pool);
	for (j = signpool_take(w->pool); j != NULL; j = next) {
		next = j->next;
		signing_remove(w, job_transfer(j));
		transfer_free(job_transfer(j)); /* stays due; sent after restart */
	}
}

/* pick - start due deliveries while there is room. */
static void
pick(struct webhook *w)
{
	struct pick_ctx c;

	memset(&c, 0, sizeof(c));
	c.w = w;
	c.now_ms = (int64_t) (now_seconds() * 1000);
	c.slots = w->cfg->webhook_max_in_flight - sender_in_flight(w->snd) - w->nsigning;
	if (c.slots <= 0)
		return;
	c.jobs = xcalloc((size_t) c.slots, sizeof(*c.jobs));
	if (store_run(w->st, pick_cb, &c, 0) == STORE_OK) {
		health_pick_commit(&c.hp);
		if (c.hp.released > 0)
			w->pick_now = 1; /* they are due: send them */
		submit_jobs(w, &c);
	} else
		log_error("cannot read due deliveries");
	health_pick_clear(&c.hp);
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
	struct health_batch *hb; /* the endpoints' breakers */
	uint64_t *exhausted;	 /* deliveries given up on */
	int nexhausted;
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

	health_batch_reset(c->hb); /* a retried transaction starts over */
	c->nexhausted = 0;
	for (i = 0; i < c->n; i++) {
		target.name = c->done[i]->name;
		target.url = c->done[i]->url;
		target.tenant = c->done[i]->tenant;
		transfer_result(c->done[i], &r);
		rc = health_attempt(c->hb, txn, c->cfg, c->done[i], &r);
		if (rc != STORE_OK)
			return rc;
		rc = delivery_complete(txn, c->done[i]->delivery_id, c->done[i]->picked,
				       &target, &r, c->cfg->retry_schedule_ms,
				       c->cfg->retry_count, c->ids[i], &c->will_retry[i]);
		c->status[i] = rc;
		if (rc != STORE_OK && rc != STORE_NOTFOUND)
			return rc;
		if (rc == STORE_OK && !attempt_success(&r) && !c->will_retry[i])
			c->exhausted[c->nexhausted++] = c->done[i]->delivery_id;
	}
	return health_batch_end(c->hb, txn, c->exhausted, c->nexhausted);
}

/* log_attempt - one line per recorded attempt. */
static void
log_attempt(const struct transfer *t, const char *id, int will_retry)
{
	if (t->error == NULL)
		log_info("delivery %llu: %s to endpoint %s: HTTP %ld in %.3fs",
			 (unsigned long long) t->delivery_id, id, t->endpoint_id,
			 t->status, t->duration);
	else
		log_info("delivery %llu: %s to endpoint %s failed: %s in %.3fs%s",
			 (unsigned long long) t->delivery_id, id, t->endpoint_id,
			 t->error, t->duration, will_retry ? "; will retry" : "");
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
	c.ids = xcalloc((size_t) n, sizeof(*c.ids));
	c.will_retry = xcalloc((size_t) n, sizeof(*c.will_retry));
	c.status = xcalloc((size_t) n, sizeof(*c.status));
	c.exhausted = xcalloc((size_t) n, sizeof(*c.exhausted));
	c.hb = health_batch_new();
	rc = store_run(w->st, record_cb, &c, 0);
	if (rc == STORE_OK)
		health_batch_log(c.hb);
	for (i = 0; i < n; i++) {
		if (rc != STORE_OK)
			log_error("delivery %llu: cannot record the attempt; it will be "
				  "sent again",
				  (unsigned long long) done[i]->delivery_id);
		else if (c.status[i] == STORE_NOTFOUND)
			log_warn("delivery %llu: gone before its attempt was recorded",
				 (unsigned long long) done[i]->delivery_id);
		else
			log_attempt(done[i], c.ids[i], c.will_retry[i]);
	}
	free(c.ids);
	free(c.will_retry);
	free(c.status);
	free(c.exhausted);
	health_batch_free(c.hb);
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

/* housekeeping - checkpoints, retention and key changes, when due. */
static void
housekeeping(struct webhook *w, int64_t now)
{
	struct retention_counts purged;

	if (now >= w->next_maintain) {
		if (store_maintain(w->st) != STORE_OK)
			log_warn("store maintenance failed");
		w->next_maintain = now + MAINTAIN_MS;
	}
	if (now >= w->next_purge) {
		/* The sender runs retention for the whole store: it is the
		 * daemon every site has, and purging is batched so no other
		 * writer waits long. */
		if (retention_purge(w->st, w->cfg, now_seconds(), &purged) != STORE_OK)
			log_warn("purging records past their retention failed");
		else if (purged.messages + purged.events_seen + purged.deliveries
			     + purged.bounces
			 > 0)
			log_info("purged past retention: %d message(s), %d event key(s), "
				 "%d delivery record(s), %d bounce(s)",
				 purged.messages, purged.events_seen, purged.deliveries,
				 purged.bounces);
		w->next_purge = now + PURGE_MS;
	}
	if (now >= w->next_keys) {
		/* a refresh may free the key the pool's jobs are signed with */
		if (signpool_pending(w->pool) > 0) {
			w->keys_wait = 1;
			return;
		}
		if (keyring_refresh(w->kr, now_seconds()) < 0)
			log_warn("cannot refresh the signing keys");
		w->next_keys = now + KEYS_MS;
		if (w->keys_wait) {
			w->keys_wait = 0;
			w->pick_now = 1;
		}
	}
}

/* webhook_reload - see loop.h. */
void
webhook_reload(struct webhook *w)
{
	struct config *cfg = config_new();
	char err[1024];

	if (w->cfg->path == NULL
	    || config_load(cfg, w->cfg->path, 1, err, sizeof(err)) < 0) {
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

	drop_signing(w);
	while (sender_in_flight(w->snd) > 0 && monotonic_ms() < until) {
		if (sender_wait(w->snd, NULL, 0, 100) < 0)
			break;
		reap(w);
	}
}

/* want_pick - is it time to pick due deliveries? */
static int
want_pick(const struct webhook *w, int64_t now)
{
	int busy = sender_in_flight(w->snd) + w->nsigning;
	int room = w->cfg->webhook_max_in_flight - busy;
	int batch = w->cfg->webhook_max_in_flight / 8;

	if (w->keys_wait || room <= 0)
		return 0;
	if (now >= w->next_pick)
		return 1;
	/* gather a few free slots per pick (one transaction for them) */
	return w->pick_now && (busy == 0 || room >= batch);
}

/* webhook_loop - see loop.h. */
int
webhook_loop(struct webhook *w)
{
	struct curl_waitfd fds[2];
	int64_t now;
	int more = 0, timeout, events = 0;

	w->fanout_every = IDLE_POLL_MS;
	while (!w->sig->stop) {
		if (w->sig->reload) {
			w->sig->reload = 0;
			webhook_reload(w);
		}
		daemon_signals_drain(w->sig);
		now = monotonic_ms();
		more = 0;
		if (now >= w->next_fanout) {
			/* look often while events come, less when the outbox is idle */
			more = fanout(w, &events);
			if (events > 0)
				w->fanout_every = BUSY_POLL_MS;
			else if ((w->fanout_every *= 2) > IDLE_POLL_MS)
				w->fanout_every = IDLE_POLL_MS;
			w->next_fanout = now + (more ? 0 : w->fanout_every);
		}
		now = monotonic_ms();
		if (want_pick(w, now)) {
			w->pick_now = 0;
			w->next_pick = now + PICK_EVERY_MS;
			pick(w);
		}
		timeout = more ? 0 : (int) (w->next_fanout - monotonic_ms());
		if (timeout < 0)
			timeout = 0;
		memset(fds, 0, sizeof(fds));
		fds[0].fd = w->sig->wake_fd;
		fds[0].events = CURL_WAIT_POLLIN;
		fds[1].fd = signpool_fd(w->pool);
		fds[1].events = CURL_WAIT_POLLIN;
		if (sender_wait(w->snd, fds, 2, timeout) < 0)
			return -1;
		if (fds[0].revents != 0)
			w->next_fanout = 0; /* a signal: look at once */
		start_signed(w);
		if (reap(w) > 0)
			w->pick_now = 1;
		housekeeping(w, monotonic_ms());
	}
	drain(w);
	return 0;
}
