/*
 * health.c - endpoint health in the sender's pick and record steps (see
 * health.h).  The decisions are breaker.c's; this file reads and stores
 * the records around them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "health/health.h"
#include "util/log.h"
#include "util/util.h"
#include "health.h"
#include "transfer.h"

#define COOLDOWN_MAX_MS (3600 * 1000) /* the probe's wait doubles up to this */

/* What the sender remembers of an endpoint between picks. */
struct ep_mem {
	char id[24];
	long waiting;	  /* parked deliveries */
	double next_send; /* max_rate: not before this */
};

struct health_table {
	struct ep_mem *e;
	int n, cap;
	uint64_t gen;
	int counted; /* waiting is known for generation gen */
};

/* health_table_new - see health.h. */
struct health_table *
health_table_new(void)
{
	return xcalloc(1, sizeof(struct health_table));
}

/* health_table_free - see health.h. */
void
health_table_free(struct health_table *h)
{
	if (h == NULL)
		return;
	free(h->e);
	free(h);
}

/* mem - the table's entry for id, made when missing. */
static struct ep_mem *
mem(struct health_table *h, const char *id)
{
	int i;

	for (i = 0; i < h->n; i++)
		if (strcmp(h->e[i].id, id) == 0)
			return &h->e[i];
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 16;
		h->e = xrealloc(h->e, (size_t) h->cap * sizeof(*h->e));
	}
	memset(&h->e[h->n], 0, sizeof(h->e[h->n]));
	snprintf(h->e[h->n].id, sizeof(h->e[h->n].id), "%s", id);
	return &h->e[h->n++];
}

/* policy - the breaker policy for ep (NULL: no max_rate). */
static void
policy(const struct config *cfg, const struct endpoint *ep, struct breaker_policy *p)
{
	p->failures = cfg->breaker_failures;
	p->cooldown_ms = cfg->breaker_cooldown_ms;
	p->cooldown_max_ms = cfg->breaker_cooldown_ms > COOLDOWN_MAX_MS
				 ? cfg->breaker_cooldown_ms
				 : COOLDOWN_MAX_MS;
	p->disable_after_ms = cfg->disable_after_ms;
	p->max_rate = ep != NULL ? ep->max_rate : 0;
}

/* health_pick_begin - see health.h. */
int
health_pick_begin(struct health_pick *p, struct health_table *h, const struct config *cfg,
		  struct store_txn *txn, struct endpoint **eps, int nep)
{
	struct parked_count *pc = NULL;
	int i, j, npc = 0, rc;

	memset(p, 0, sizeof(*p));
	p->h = h;
	p->cfg = cfg;
	p->eps = eps;
	p->nep = nep;
	p->b = xcalloc((size_t) (nep > 0 ? nep : 1), sizeof(*p->b));
	p->dirty = xcalloc((size_t) (nep > 0 ? nep : 1), sizeof(*p->dirty));
	p->waiting = xcalloc((size_t) (nep > 0 ? nep : 1), sizeof(*p->waiting));
	p->due = xcalloc((size_t) (nep > 0 ? nep : 1), sizeof(*p->due));
	p->id = xcalloc((size_t) (nep > 0 ? nep : 1), sizeof(*p->id));
	for (i = 0; i < nep; i++)
		snprintf(p->id[i], sizeof(p->id[i]), "%s", eps[i]->id);
	rc = endpoint_generation(txn, &p->gen);
	if (rc == STORE_OK && (!h->counted || p->gen != h->gen)) {
		/* an admin enabled, discarded or deleted: count again */
		rc = delivery_parked(txn, &pc, &npc);
		p->recounted = 1;
	}
	for (i = 0; rc == STORE_OK && i < nep; i++) {
		rc = health_get(txn, eps[i]->id, 0, &p->b[i]);
		p->b[i].next_send = mem(h, eps[i]->id)->next_send;
		if (!p->recounted) {
			p->waiting[i] = mem(h, eps[i]->id)->waiting;
			continue;
		}
		for (j = 0; j < npc; j++)
			if (strcmp(pc[j].endpoint_id, eps[i]->id) == 0) {
				p->waiting[i] = pc[j].count;
				pc[j].count = 0;
			}
	}
	/* a deleted endpoint's: due again, so the pick marks them failed */
	for (j = 0; rc == STORE_OK && j < npc; j++)
		if (pc[j].count > 0)
			rc = delivery_unpark(txn, pc[j].endpoint_id, (int) pc[j].count,
					     &i);
	free(pc);
	return rc;
}

/* health_index - see health.h. */
int
health_index(const struct health_pick *p, const char *id)
{
	int i;

	for (i = 0; i < p->nep; i++)
		if (strcmp(p->eps[i]->id, id) == 0)
			return i;
	return -1;
}

/* health_full - see health.h. */
int
health_full(const struct health_pick *p, int i, int load)
{
	return p->b[i].state == BREAKER_CLOSED
	       && load >= breaker_cap(&p->b[i], p->cfg->webhook_max_per_endpoint);
}

/* health_admit - see health.h. */
enum breaker_admit
health_admit(struct health_pick *p, int i, double now, int load)
{
	struct breaker_policy pol;
	enum breaker_admit a;

	policy(p->cfg, p->eps[i], &pol);
	a = breaker_admit(&p->b[i], &pol, now, load, p->cfg->webhook_max_per_endpoint,
			  p->eps[i]->enabled);
	if (a == ADMIT_PROBE) {
		breaker_probe(&p->b[i], now);
		p->dirty[i] = 1;
	}
	if (a == ADMIT_SEND || a == ADMIT_PROBE)
		breaker_sent(&p->b[i], &pol, now);
	if (a == ADMIT_LATER)
		p->due[i]++;
	return a;
}

/* health_park - see health.h. */
int
health_park(struct health_pick *p, struct store_txn *txn, int i, struct delivery *d)
{
	int rc = delivery_park(txn, d);

	if (rc == STORE_OK) {
		p->waiting[i]++;
		p->parked++;
	}
	return rc;
}

/* health_pick_end - see health.h. */
int
health_pick_end(struct health_pick *p, struct store_txn *txn, double now,
		int (*load)(void *, const char *), void *arg)
{
	struct breaker_policy pol;
	int i, n, got, rc = STORE_OK;

	for (i = 0; rc == STORE_OK && i < p->nep; i++) {
		if (p->waiting[i] <= 0)
			continue;
		policy(p->cfg, p->eps[i], &pol);
		n = breaker_release(
		    &p->b[i], &pol, now, load(arg, p->eps[i]->id) + p->due[i],
		    p->cfg->webhook_max_per_endpoint, p->waiting[i], p->eps[i]->enabled);
		if (n <= 0)
			continue;
		rc = delivery_unpark(txn, p->eps[i]->id, n, &got);
		if (rc != STORE_OK)
			break;
		p->waiting[i] -= got;
		p->released += got;
		if (got < n)
			p->waiting[i] = 0; /* fewer than counted: none left */
	}
	for (i = 0; rc == STORE_OK && i < p->nep; i++)
		if (p->dirty[i])
			rc = health_put(txn, p->eps[i]->id, &p->b[i]);
	return rc;
}

/* health_pick_commit - see health.h. */
void
health_pick_commit(struct health_pick *p)
{
	struct ep_mem *m;
	int i;

	for (i = 0; i < p->nep; i++) {
		m = mem(p->h, p->id[i]);
		m->waiting = p->waiting[i];
		m->next_send = p->b[i].next_send;
	}
	if (p->recounted) {
		p->h->gen = p->gen;
		p->h->counted = 1;
	}
	if (p->parked + p->released > 0)
		log_debug("parked %d delivery(ies), released %d", p->parked, p->released);
}

/* health_pick_clear - see health.h. */
void
health_pick_clear(struct health_pick *p)
{
	free(p->b);
	free(p->dirty);
	free(p->waiting);
	free(p->due);
	free(p->id);
	memset(p, 0, sizeof(*p));
}

/* One endpoint's breaker in a record batch. */
struct batch_ep {
	char id[24];
	struct breaker b;
	enum breaker_change change; /* the last one that mattered */
	int opened, closed;
};

struct health_batch {
	struct batch_ep *e;
	int n, cap;
	int exhausted_notified;
};

/* health_batch_new - see health.h. */
struct health_batch *
health_batch_new(void)
{
	return xcalloc(1, sizeof(struct health_batch));
}

/* health_batch_free - see health.h. */
void
health_batch_free(struct health_batch *hb)
{
	if (hb == NULL)
		return;
	free(hb->e);
	free(hb);
}

/* health_batch_reset - see health.h. */
void
health_batch_reset(struct health_batch *hb)
{
	hb->n = 0;
	hb->exhausted_notified = 0;
}

/* batch_ep - the batch's breaker of endpoint id, read once per batch. */
static int
batch_ep(struct health_batch *hb, struct store_txn *txn, const char *id,
	 struct batch_ep **out)
{
	int i, rc;

	for (i = 0; i < hb->n; i++)
		if (strcmp(hb->e[i].id, id) == 0) {
			*out = &hb->e[i];
			return STORE_OK;
		}
	if (hb->n == hb->cap) {
		hb->cap = hb->cap ? hb->cap * 2 : 8;
		hb->e = xrealloc(hb->e, (size_t) hb->cap * sizeof(*hb->e));
	}
	*out = &hb->e[hb->n];
	memset(*out, 0, sizeof(**out));
	snprintf((*out)->id, sizeof((*out)->id), "%s", id);
	rc = health_get(txn, id, 1, &(*out)->b);
	if (rc == STORE_OK)
		hb->n++;
	return rc;
}

/* health_attempt - see health.h. */
int
health_attempt(struct health_batch *hb, struct store_txn *txn, const struct config *cfg,
	       const struct transfer *t, struct attempt_result *r)
{
	struct breaker_policy pol;
	struct batch_ep *e;
	enum breaker_verdict v;
	enum breaker_change ch;
	enum breaker_state was;
	double end = r->started + r->duration;
	int64_t ra = -1;
	int rc;

	rc = batch_ep(hb, txn, t->endpoint_id, &e);
	if (rc != STORE_OK)
		return rc;
	policy(cfg, NULL, &pol);
	if (retry_after_parse(r->retry_after, end, &ra) < 0)
		ra = -1;
	v = breaker_verdict(r->status, r->error, ra >= 0);
	was = e->b.state;
	ch = breaker_record(&e->b, &pol, end, v, t->probe, r->status, r->error, ra);
	if (ch != BREAKER_SAME)
		e->change = ch;
	e->opened |= ch == BREAKER_OPENED;
	e->closed |= ch == BREAKER_CLOSED_AGAIN;
	if (v == VERDICT_OK)
		return STORE_OK;
	/*
	 * A throttling answer, a 410, a probe or an attempt that ended with
	 * the breaker no longer closed spends no retry: the delivery waits
	 * (parked) in its place instead.
	 */
	if (v == VERDICT_THROTTLED) {
		r->spare = 1;
		r->not_before_ms = breaker_delay(&e->b, end, ra);
		if (r->not_before_ms < 1000)
			r->not_before_ms = 1000;
	} else if (v == VERDICT_GONE || t->probe || was != BREAKER_CLOSED) {
		r->spare = 1;
		r->not_before_ms = 0;
	}
	return STORE_OK;
}

/* health_batch_end - see health.h. */
int
health_batch_end(struct health_batch *hb, struct store_txn *txn,
		 const uint64_t *exhausted, int n)
{
	int i, rc = STORE_OK, notified;

	for (i = 0; rc == STORE_OK && i < hb->n; i++)
		rc = health_put(txn, hb->e[i].id, &hb->e[i].b);
	for (i = 0; rc == STORE_OK && i < hb->n; i++) {
		if (hb->e[i].change == BREAKER_DISABLE_GONE)
			rc = endpoint_disable(txn, hb->e[i].id, DISABLED_GONE, &notified);
		else if (hb->e[i].change == BREAKER_DISABLE_FAILING)
			rc = endpoint_disable(txn, hb->e[i].id, DISABLED_FAILING,
					      &notified);
		if (rc == STORE_NOTFOUND)
			rc = STORE_OK; /* deleted meanwhile */
	}
	for (i = 0; rc == STORE_OK && i < n; i++) {
		rc = delivery_exhausted_raise(txn, exhausted[i], &notified);
		if (rc == STORE_NOTFOUND)
			rc = STORE_OK;
		hb->exhausted_notified += notified;
	}
	return rc;
}

/* health_batch_log - see health.h. */
void
health_batch_log(struct health_batch *hb)
{
	struct batch_ep *e;
	int i;

	if (hb->exhausted_notified > 0)
		log_debug("DeliveryExhausted queued for %d endpoint(s)",
			  hb->exhausted_notified);
	for (i = 0; i < hb->n; i++) {
		e = &hb->e[i];
		if (e->change == BREAKER_DISABLE_GONE)
			log_warn(
			    "endpoint %s disabled: it answered 410 Gone; its deliveries "
			    "wait until it is enabled",
			    e->id);
		else if (e->change == BREAKER_DISABLE_FAILING)
			log_warn("endpoint %s disabled: every attempt failed since %.0f "
				 "(last: %s); its deliveries wait until it is enabled",
				 e->id, e->b.failing_since, e->b.last_error);
		else if (e->b.state == BREAKER_OPEN && e->opened)
			log_warn("endpoint %s: breaker open after %d failed attempt(s) "
				 "(last: %s); next probe in %llds",
				 e->id, e->b.failures, e->b.last_error,
				 (long long) (e->b.cooldown_ms / 1000));
		else if (e->closed)
			log_info("endpoint %s: breaker closed, the probe succeeded",
				 e->id);
	}
}
