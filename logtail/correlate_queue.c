/*
 * correlate_queue.c - the correlator's table of queue ids: what is known
 * of each message still in Postfix's queue, found by hash, bounded in
 * number (the oldest goes first), with the messages that have lines
 * waiting on a list of their own, and the last deferral of each recipient.
 */
#include <stdlib.h>
#include <string.h>

#include "util/util.h"
#include "correlate_int.h"

/* strvec_push - append a copy of s. */
void
strvec_push(struct strvec *sv, const char *s)
{
	if (sv->n == sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 64;
		sv->v = xrealloc(sv->v, sv->cap * sizeof(*sv->v));
	}
	sv->v[sv->n++] = xstrdup(s);
}

/* strvec_clear - free the strings, keep the array. */
void
strvec_clear(struct strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	sv->n = 0;
}

/* hash_qid - FNV-1a of a queue id. */
static size_t
hash_qid(const char *p, size_t len)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char) p[i];
		h *= 1099511628211ULL;
	}
	return ((size_t) h);
}

/* deferral_free - one deferral. */
void
deferral_free(struct deferral *d)
{
	free(d->rcpt);
	free(d->program);
	free(d->relay);
	free(d->dsn);
	free(d->text);
	free(d);
}

/* qstate_free - one message's state. */
void
qstate_free(struct qstate *qs)
{
	struct deferral *d, *next;
	struct held *h, *hnext;
	struct waiting *w, *wnext;

	for (d = qs->deferred; d != NULL; d = next) {
		next = d->next;
		deferral_free(d);
	}
	for (h = qs->held; h != NULL; h = hnext) {
		hnext = h->next;
		held_free(h);
	}
	for (w = qs->waiting; w != NULL; w = wnext) {
		wnext = w->next;
		waiting_free(w);
	}
	if (qs->rec != NULL)
		message_record_free(qs->rec);
	free(qs->qid);
	free(qs->from);
	free(qs->message_id);
	free(qs->origin);
	free(qs->sasl_username);
	free(qs->client_addr);
	free(qs);
}

/* qs_find - the state of a queue id, or NULL. */
struct qstate *
qs_find(struct correlate *c, const char *p, size_t len)
{
	struct qstate *qs;

	for (qs = c->buckets[hash_qid(p, len) & (c->nbuckets - 1)]; qs; qs = qs->hnext)
		if (strlen(qs->qid) == len && memcmp(qs->qid, p, len) == 0)
			return (qs);
	return (NULL);
}

/* qs_mark_dirty - the state must be written out at the next flush; when
 * nothing flushes, a list of every queue id would only grow. */
void
qs_mark_dirty(struct correlate *c, struct qstate *qs)
{
	if (!qs->dirty && !c->opts.no_save) {
		qs->dirty = 1;
		strvec_push(&c->dirty, qs->qid);
	}
}

/* pend_link - the message has held events or lines waiting: at the end
 * of the list, which is oldest first. */
void
pend_link(struct correlate *c, struct qstate *qs)
{
	if (qs->pprev != NULL || c->pending == qs)
		return;
	qs->pnext = NULL;
	qs->pprev = c->pending_tail;
	if (c->pending_tail != NULL)
		c->pending_tail->pnext = qs;
	else
		c->pending = qs;
	c->pending_tail = qs;
	c->npending++;
}

/* pend_unlink - it has none any more. */
static void
pend_unlink(struct correlate *c, struct qstate *qs)
{
	if (qs->pprev == NULL && c->pending != qs)
		return;
	if (qs->pprev != NULL)
		qs->pprev->pnext = qs->pnext;
	else
		c->pending = qs->pnext;
	if (qs->pnext != NULL)
		qs->pnext->pprev = qs->pprev;
	else
		c->pending_tail = qs->pprev;
	qs->pnext = qs->pprev = NULL;
	c->npending--;
}

/* pend_update - on the pending list exactly while it has held events or
 * waiting lines. */
void
pend_update(struct correlate *c, struct qstate *qs)
{
	if (qs->held != NULL || qs->waiting != NULL)
		pend_link(c, qs);
	else
		pend_unlink(c, qs);
}

/* qs_unlink - take a state out of the table and the age list. */
static void
qs_unlink(struct correlate *c, struct qstate *qs)
{
	struct qstate **pp;

	pp = &c->buckets[hash_qid(qs->qid, strlen(qs->qid)) & (c->nbuckets - 1)];
	for (; *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == qs) {
			*pp = qs->hnext;
			break;
		}
	}
	if (qs->older)
		qs->older->newer = qs->newer;
	else
		c->oldest = qs->newer;
	if (qs->newer)
		qs->newer->older = qs->older;
	else
		c->newest = qs->older;
	pend_unlink(c, qs);
	c->count--;
}

/* qs_forget - drop a message, remembering to delete what was written. */
void
qs_forget(struct correlate *c, struct qstate *qs)
{
	/* Held events and waiting lines go out now, with what is known. */
	qs->pinned++;
	held_flush(c, qs, 0);
	waiting_replay_all(c, qs);
	if (qs->persisted)
		strvec_push(&c->gone, qs->qid);
	qs_unlink(c, qs);
	qstate_free(qs);
}

/* grow - double the hash table. */
static void
grow(struct correlate *c)
{
	size_t n = c->nbuckets * 2;
	struct qstate **b = xcalloc(n, sizeof(*b));

	for (size_t i = 0; i < c->nbuckets; i++) {
		struct qstate *qs, *next;

		for (qs = c->buckets[i]; qs; qs = next) {
			size_t h = hash_qid(qs->qid, strlen(qs->qid)) & (n - 1);

			next = qs->hnext;
			qs->hnext = b[h];
			b[h] = qs;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
}

/* qs_create - a new, empty state for a queue id. */
static struct qstate *
qs_create(struct correlate *c, const char *p, size_t len, double when)
{
	struct qstate *qs = xcalloc(1, sizeof(*qs));
	size_t h;

	/* Bounded memory: the oldest message goes first, unless it is one
	 * being worked on. */
	while (c->count >= c->opts.max_messages) {
		struct qstate *v = c->oldest;

		while (v != NULL && v->pinned)
			v = v->newer;
		if (v == NULL)
			break;
		qs_forget(c, v);
	}
	if (c->count >= c->nbuckets)
		grow(c);
	qs->qid = xstrndup(p, len);
	qs->first_seen = when;
	h = hash_qid(p, len) & (c->nbuckets - 1);
	qs->hnext = c->buckets[h];
	c->buckets[h] = qs;
	qs->older = c->newest;
	if (c->newest)
		c->newest->newer = qs;
	else
		c->oldest = qs;
	c->newest = qs;
	c->count++;
	return (qs);
}

/* qs_get - the state of a queue id, created when new. */
struct qstate *
qs_get(struct correlate *c, struct span qid, double when)
{
	struct qstate *qs = qs_find(c, qid.p, qid.len);

	return (qs != NULL ? qs : qs_create(c, qid.p, qid.len, when));
}

/*
 * qs_record - the milter's record, asked for until it is known.  A hop's
 * record is under its own queue id when the milter saw the re-injection
 * (it moves the record to the new queue id), else under the original's.
 */
struct message_record *
qs_record(struct correlate *c, struct qstate *qs)
{
	if (qs->rec_state == REC_UNKNOWN && c->record != NULL) {
		qs->rec = c->record(qs->qid, c->ctx);
		if (qs->rec == NULL && qs->origin != NULL)
			qs->rec = c->record(qs->origin, c->ctx);
		if (qs->rec != NULL)
			qs->rec_state = REC_FOUND;
	}
	return (qs->rec);
}

/* deferral_take - unlink and return the deferral of rcpt, or NULL. */
struct deferral *
deferral_take(struct qstate *qs, const char *rcpt)
{
	struct deferral **pp, *d;

	for (pp = &qs->deferred; (d = *pp) != NULL; pp = &d->next) {
		if (strcmp(d->rcpt, rcpt) == 0) {
			*pp = d->next;
			d->next = NULL;
			return (d);
		}
	}
	return (NULL);
}

/* deferral_add - remember the last deferral of a recipient: the attempt
 * a (copied), when, its delay=, its delays c + d and its TLS. */
void
deferral_add(struct qstate *qs, const struct attempt *a, double delay, double when,
	     double time, int ssl)
{
	struct deferral *d = deferral_take(qs, a->to);

	if (d != NULL)
		deferral_free(d);
	d = xcalloc(1, sizeof(*d));
	d->rcpt = xstrdup(a->to);
	d->program = xstrdup(a->program);
	d->relay = xstrdup(a->relay);
	d->dsn = xstrdup(a->dsn);
	d->text = xstrdup(a->text);
	d->delay = delay;
	d->when = when;
	d->time = time;
	d->ssl = ssl;
	d->next = qs->deferred;
	qs->deferred = d;
}
