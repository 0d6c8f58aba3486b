/*
 * correlate_hop.c - hops: a delivery to a content filter or a second
 * instance that logs here ("queued as NEWQID") is no delivery, and NEWQID
 * carries the original's identity.  The relays that are hops (named in
 * hop_relays, or learned from this log), the linking, and the delivery
 * lines of a possible NEWQID that wait (hop_wait) for the line that links
 * it, then are read again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"
#include "correlate_int.h"

/* waiting_free - one waiting delivery line. */
void
waiting_free(struct waiting *w)
{
	free(w->source);
	free(w->cursor);
	free(w->program);
	free(w->msg);
	free(w);
}

/* relay_ap - "addr:port" of the line's relay, "" without an address. */
static void
relay_ap(const struct log_line *l, char *out, size_t size)
{
	out[0] = 0;
	if (l->relay_addr.len > 0)
		snprintf(out, size, "%.*s:%.*s", (int) l->relay_addr.len, l->relay_addr.p,
			 (int) l->relay_port.len, l->relay_port.p);
}

/*
 * is_hop_relay - the relay is named in hop_relays (name, addr:port,
 * [addr]:port, or the whole relay= value), or this log has shown it to be
 * one (hop_relay_learn): its answers name hops also when their new id has
 * been forgotten or is still to come.
 */
int
is_hop_relay(struct correlate *c, const struct log_line *l)
{
	char ap[128], br[132];
	int named = c->opts.hop_relays != NULL && c->opts.hop_relays[0] != NULL;

	/* Most "queued as" answers are remote: no formatting for them. */
	if (!named && (c->nhop_relay == 0 || !is_loopback(l->relay_addr)))
		return (0);
	relay_ap(l, ap, sizeof(ap));
	for (size_t i = 0; ap[0] && i < c->nhop_relay; i++)
		if (strcmp(ap, c->hop_relay[i]) == 0)
			return (1);
	if (!named)
		return (0);
	snprintf(br, sizeof(br), "[%.*s]:%.*s", (int) l->relay_addr.len, l->relay_addr.p,
		 (int) l->relay_port.len, l->relay_port.p);
	for (char **h = c->opts.hop_relays; *h != NULL; h++)
		if (span_eq(l->relay, *h) || span_eq(l->relay_host, *h)
		    || strcmp(ap, *h) == 0 || strcmp(br, *h) == 0)
			return (1);
	return (0);
}

/*
 * hop_relay_learn - remember that this line's relay is a hop (the first
 * HOP_RELAYS of them: a site has one or two).  Only loopback relays: a
 * remote server's queue id that happens to be one of this log's must not
 * make that server a hop for good.
 */
void
hop_relay_learn(struct correlate *c, const struct log_line *l)
{
	char ap[72];

	if (!is_loopback(l->relay_addr) || c->nhop_relay == HOP_RELAYS)
		return;
	relay_ap(l, ap, sizeof(ap));
	for (size_t i = 0; i < c->nhop_relay; i++)
		if (strcmp(ap, c->hop_relay[i]) == 0)
			return;
	memcpy(c->hop_relay[c->nhop_relay++], ap, sizeof(ap));
	c->hop_dirty = 1;
}

/*
 * link_hop - the message went on as new_qid on this host: new_qid carries
 * the original's identity.  Returns new_qid's state.
 */
struct qstate *
link_hop(struct correlate *c, struct qstate *qs, struct span new_qid, double when)
{
	struct qstate *nq = qs_get(c, new_qid, when);

	if (nq == qs)
		return (nq);
	free(nq->origin);
	nq->origin = xstrdup(qs->origin ? qs->origin : qs->qid);
	if (qs->from) {
		free(nq->from);
		nq->from = xstrdup(qs->from);
	}
	if (qs->message_id) {
		free(nq->message_id);
		nq->message_id = xstrdup(qs->message_id);
	}
	nq->first_seen = qs->first_seen;
	nq->submitted = qs->submitted;
	if (qs->sasl_username) {
		free(nq->sasl_username);
		nq->sasl_username = xstrdup(qs->sasl_username);
	}
	if (qs->client_addr) {
		free(nq->client_addr);
		nq->client_addr = xstrdup(qs->client_addr);
	}
	if (nq->rec != NULL)
		message_record_free(nq->rec);
	nq->rec = NULL;
	nq->rec_state = REC_UNKNOWN;
	qs_mark_dirty(c, nq);
	return (nq);
}

/*
 * may_be_hop - might this message be a hop's NEWQID whose linking line is
 * still to come?  It came from a loopback smtpd client (a content filter
 * re-injecting, a second instance) with no record of its own, nothing has
 * linked it yet, and this log has shown a hop relay before: sites without
 * hops never wait.
 */
int
may_be_hop(struct correlate *c, struct qstate *qs)
{
	if (c->opts.hop_wait <= 0 || c->nhop_relay == 0 || !qs->loopback
	    || qs->origin != NULL)
		return (0);
	return (qs_record(c, qs) == NULL);
}

/* waiting_add - a delivery line waits for a hop's linking line; kept in the
 * saved state. */
void
waiting_add(struct correlate *c, struct qstate *qs, const struct log_line *l,
	    const struct log_pos *pos, double when)
{
	struct waiting *w = xcalloc(1, sizeof(*w)), **pp;

	w->source = pos->source ? xstrdup(pos->source) : NULL;
	w->offset = pos->offset;
	w->cursor = pos->cursor ? xstrdup(pos->cursor) : NULL;
	w->program = span_dup(l->program);
	w->pid = l->pid;
	w->msg = span_dup(l->msg);
	/* The session is known now; later the process may have a new one. */
	w->ssl = line_ssl(c, l, w->program, qs->qid);
	w->when = when;
	w->deadline = c->clock > 0 ? c->clock + c->opts.hop_wait : 0;
	for (pp = &qs->waiting; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = w;
	pend_link(c, qs);
	qs_mark_dirty(c, qs);
}

/* waiting_replay_all - the waiting lines are read again, in order, as what
 * the message is now (linked to its original, or its own). */
void
waiting_replay_all(struct correlate *c, struct qstate *qs)
{
	struct waiting *w;

	if (qs->waiting == NULL)
		return;
	qs->pinned++;
	while ((w = qs->waiting) != NULL) {
		struct log_pos pos = { w->source, w->offset, w->cursor };
		struct log_line l;

		qs->waiting = w->next;
		memset(&l, 0, sizeof(l));
		l.pid = w->pid;
		l.program = (struct span){ w->program, strlen(w->program) };
		l.queue_id = (struct span){ qs->qid, strlen(qs->qid) };
		l.msg = (struct span){ w->msg, strlen(w->msg) };
		parse_message(&l);
		if (l.kind == LK_DELIVERY)
			on_delivery(c, qs, &l, &pos, w->when, w->ssl);
		waiting_free(w);
	}
	qs->pinned--;
	pend_update(c, qs);
	qs_mark_dirty(c, qs);
}

/* waiting_release - replay the waiting lines; a message qmgr has removed
 * meanwhile is forgotten then. */
void
waiting_release(struct correlate *c, struct qstate *qs)
{
	waiting_replay_all(c, qs);
	if (qs->removed && !qs->pinned)
		qs_forget(c, qs);
}

/*
 * release_due - waiting lines whose wait is over: by the log's time
 * (log_now, 0: not known) or by the clock (wall_now, 0: not known).
 * Returns how many messages were released.
 */
int
release_due(struct correlate *c, double log_now, double wall_now)
{
	struct qstate *qs;
	int n = 0;

again:
	for (qs = c->pending; qs != NULL; qs = qs->pnext) {
		const struct waiting *w = qs->waiting;

		if (w == NULL)
			continue;
		if ((log_now > 0 && log_now >= w->when + c->opts.hop_wait)
		    || (wall_now > 0 && w->deadline > 0 && wall_now >= w->deadline)) {
			/* Releasing may link or forget others: start over. */
			waiting_release(c, qs);
			n++;
			goto again;
		}
	}
	return (n);
}
