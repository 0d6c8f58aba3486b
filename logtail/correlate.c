/*
 * correlate.c - per-queue-id state: which lines of one message belong
 * together, and which delivery events they make.
 *
 * A message is known from its first line (smtpd client=, pickup, cleanup,
 * qmgr) until qmgr says "removed".  Delivery lines make Sent, SoftFail and
 * HardFail events; qmgr's "status=expired" turns every recipient still
 * deferred into HardFail; cleanup's hold lines make Held.  A delivery that
 * hands the message to a content filter or a second instance logging here
 * ("queued as NEWQID" from a loopback relay where NEWQID is in this log,
 * or a relay named in hop_relays or learned as a hop) is no delivery:
 * NEWQID inherits the message and its final delivery is reported as the
 * original's.  The filter may deliver NEWQID before its answer to the
 * original is logged: once this log has shown a hop through a loopback
 * relay, delivery lines of a message that came in from a loopback client
 * without a record wait (hop_wait seconds, of the log's time or the
 * clock's) for the line that links it, and are replayed then; a relay so
 * learned stays a hop.
 *
 * This file is the state machine: what each kind of line changes and
 * which events it makes.  The table of queue ids, the events' details,
 * TLS sessions, hops, held lines and the saved state are each in a
 * correlate_*.c file of their own (see correlate_int.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify.h"
#include "config/config.h"
#include "util/util.h"
#include "util/utf8.h"
#include "correlate_int.h"

/* span_dup - a copy of a span, as valid UTF-8 for the JSON it goes to. */
char *
span_dup(struct span s)
{
	return (utf8_clean_dup(s.p, s.len));
}

/* internal_set - parse opts.internal_hosts (config_load has checked it:
 * a list that does not parse matches nothing) */
static void
internal_set(struct correlate *c)
{
	char err[256];

	cidr_list_free(c->internal);
	c->internal = NULL;
	if (c->opts.internal_hosts != NULL)
		c->internal = cidr_list_new(c->opts.internal_hosts, err, sizeof(err));
}

/* internal_host - the client address is in internal_hosts */
static int
internal_host(const struct correlate *c, struct span addr)
{
	char text[64];

	if (c->internal == NULL || addr.len == 0 || addr.len >= sizeof(text))
		return 0;
	memcpy(text, addr.p, addr.len);
	text[addr.len] = '\0';
	return cidr_list_match_text(c->internal, text);
}

/* is_loopback - a client address on 127.0.0.0/8 or ::1 */
int
is_loopback(struct span addr)
{
	return ((addr.len > 4 && memcmp(addr.p, "127.", 4) == 0) || span_eq(addr, "::1")
		|| (addr.len > 11 && memcmp(addr.p, "::ffff:127.", 11) == 0));
}

/* correlate_new - see correlate.h. */
struct correlate *
correlate_new(const struct correlate_opts *opts, correlate_emit_fn emit,
	      correlate_record_fn record, void *ctx)
{
	struct correlate *c = xcalloc(1, sizeof(*c));

	c->opts = *opts;
	if (c->opts.max_messages == 0)
		c->opts.max_messages = DEFAULT_MAX_MESSAGES;
	internal_set(c);
	c->emit = emit;
	c->record = record;
	c->ctx = ctx;
	c->nbuckets = 1024;
	c->buckets = xcalloc(c->nbuckets, sizeof(*c->buckets));
	buf_init(&c->key);
	c->verdicts = classify_cache_new(VERDICT_SLOTS);
	return (c);
}

/* correlate_free - everything. */
void
correlate_free(struct correlate *c)
{
	struct qstate *qs, *next;

	if (c == NULL)
		return;
	for (qs = c->oldest; qs != NULL; qs = next) {
		next = qs->newer;
		qstate_free(qs);
	}
	free(c->buckets);
	cidr_list_free(c->internal);
	strvec_clear(&c->dirty);
	strvec_clear(&c->gone);
	free(c->dirty.v);
	free(c->gone.v);
	buf_free(&c->key);
	free(c->scratch);
	classify_cache_free(c->verdicts);
	free(c);
}

/* correlate_set_tenants - see correlate.h. */
void
correlate_set_tenants(struct correlate *c, const struct tenant_matcher *m)
{
	c->tenants = m;
}

/* keep_client - remember the smtpd client's facts that tenant rules use. */
static void
keep_client(struct correlate *c, struct qstate *qs, const struct log_line *l)
{
	if (tenant_matcher_claims(c->tenants, TENANT_RULE_SASL) > 0
	    && l->sasl_username.len > 0) {
		free(qs->sasl_username);
		qs->sasl_username = span_dup(l->sasl_username);
		qs_mark_dirty(c, qs);
	}
	if (tenant_matcher_claims(c->tenants, TENANT_RULE_CLIENT) > 0
	    && l->client_addr.len > 0) {
		free(qs->client_addr);
		qs->client_addr = span_dup(l->client_addr);
		qs_mark_dirty(c, qs);
	}
}

/* correlate_set_opts - see correlate.h. */
void
correlate_set_opts(struct correlate *c, const struct correlate_opts *opts)
{
	size_t max = c->opts.max_messages;

	c->opts = *opts;
	c->opts.max_messages = opts->max_messages ? opts->max_messages : max;
	internal_set(c);
}

/* correlate_set_now - see correlate.h. */
void
correlate_set_now(struct correlate *c, time_t now)
{
	c->now = now;
}

/* correlate_count - see correlate.h. */
size_t
correlate_count(const struct correlate *c)
{
	return (c->count);
}

/* in_scope - report events of this message? */
int
in_scope(struct correlate *c, struct qstate *qs)
{
	struct message_record *rec = qs_record(c, qs);

	/* Postfix's own notifications are no messages of the site's. */
	if (rec == NULL && qs->from != NULL && qs->from[0] == 0)
		return (0);
	switch (c->opts.report) {
	case REPORT_RECORDED:
		return (rec != NULL);
	case REPORT_OUTGOING:
		return (rec != NULL || qs->submitted);
	default:
		return (1);
	}
}

/* line_time - seconds since the epoch of a stamp; 0 when it is none. */
static double
line_time(struct correlate *c, const struct log_stamp *st)
{
	struct log_stamp key;
	double t;

	if (st->epoch > 0)
		return (st->epoch);
	/* mktime() is slow: resolve each minute once. */
	key = *st;
	key.sec = 0;
	key.usec = 0;
	key.frac_digits = 0;
	if (c->minute_valid && memcmp(&key, &c->minute_key, sizeof(key)) == 0)
		return (c->minute_base + st->sec + st->usec / 1e6);
	if (log_stamp_resolve(&key, c->now ? c->now : time(NULL), &t) != 0)
		return (0);
	c->minute_key = key;
	c->minute_base = t;
	c->minute_valid = 1;
	return (t + st->sec + st->usec / 1e6);
}

/* scratch_clean - a span as valid UTF-8 in c->scratch at *off, which
 * advances; the room was reserved by scratch_reserve(). */
static char *
scratch_clean(struct correlate *c, size_t *off, struct span s)
{
	char *p = c->scratch + *off;

	*off += utf8_clean_to(p, s.p, s.len) + 1;
	return (p);
}

/* scratch_reserve - room for the cleaned copies of spans of n bytes in
 * all (each may triple, plus its NUL: count nspans). */
static void
scratch_reserve(struct correlate *c, size_t n, size_t nspans)
{
	size_t need = n * 3 + nspans;

	if (need > c->scratch_cap) {
		free(c->scratch);
		c->scratch_cap = need > 4096 ? need : 4096;
		c->scratch = xmalloc(c->scratch_cap);
	}
}

/*
 * on_delivery - a delivery line: one recipient's attempt.  ssl is its
 * sent_with_ssl when it was read earlier, else SSL_FROM_SESSION.
 */
void
on_delivery(struct correlate *c, struct qstate *qs, const struct log_line *l,
	    const struct log_pos *pos, double when, int ssl)
{
	struct qstate *nq;
	struct delivery_event ev;
	struct deferral *d;
	struct attempt a;
	enum event_type type;
	char *to, *program;
	size_t off = 0;

	switch (l->status) {
	case DS_SENT:
		type = EV_MESSAGE_SENT;
		break;
	case DS_DEFERRED:
	case DS_SOFTBOUNCE:
		type = EV_MESSAGE_DELAYED;
		break;
	case DS_BOUNCED:
		type = EV_MESSAGE_DELIVERY_FAILED;
		break;
	default:
		/* Address probes, and lines cut before status=. */
		return;
	}
	/* The line's fields, cleaned, in one reused buffer. */
	scratch_reserve(
	    c, l->to.len + l->program.len + l->relay.len + l->dsn.len + l->text.len, 5);
	to = scratch_clean(c, &off, l->to);
	program = scratch_clean(c, &off, l->program);
	if (ssl == SSL_FROM_SESSION)
		ssl = line_ssl(c, l, program, qs->qid);
	/*
	 * A hop is a local relay: a remote MX's queue id may be one of this
	 * log's by chance, and linking it would drop the delivery.
	 */
	if (type == EV_MESSAGE_SENT && l->queued_as.len > 0
	    && (is_hop_relay(c, l)
		|| (is_loopback(l->relay_addr)
		    && qs_find(c, l->queued_as.p, l->queued_as.len) != NULL))) {
		if ((d = deferral_take(qs, to)) != NULL) {
			deferral_free(d);
			qs_mark_dirty(c, qs);
		}
		hop_relay_learn(c, l);
		qs->pinned++;
		nq = link_hop(c, qs, l->queued_as, when);
		/* Lines of the new id that came first are its now. */
		if (nq != qs && nq->waiting != NULL)
			waiting_release(c, nq);
		qs->pinned--;
		return;
	}
	if (type != EV_MESSAGE_DELAYED && (d = deferral_take(qs, to)) != NULL) {
		deferral_free(d);
		qs_mark_dirty(c, qs);
	}
	if (type != EV_MESSAGE_DELAYED && !in_scope(c, qs))
		return;
	a.program = program;
	a.relay = scratch_clean(c, &off, l->relay);
	a.to = to;
	a.dsn = scratch_clean(c, &off, l->dsn);
	a.text = scratch_clean(c, &off, l->text);
	if (type == EV_MESSAGE_DELAYED) {
		deferral_add(qs, &a, l->delay, when,
			     l->has_delays ? l->delays[2] + l->delays[3] : -1, ssl);
		qs_mark_dirty(c, qs);
	}
	if (in_scope(c, qs)) {
		delivery_event_init(&ev, type);
		fill_message(c, qs, to, &ev.message);
		ev.timestamp = when;
		ev.time = l->has_delays ? l->delays[2] + l->delays[3] : -1;
		ev.sent_with_ssl = ssl;
		describe(c, &a, &ev);
		emit_event(c, qs, pos, to, &ev);
	}
}

/* on_expired - every recipient still deferred failed for good. */
static void
on_expired(struct correlate *c, struct qstate *qs, const struct log_pos *pos, double when)
{
	struct deferral *d, *next;
	struct delivery_event ev;
	struct attempt a;
	char age[64];
	int report = in_scope(c, qs);

	for (d = qs->deferred; d != NULL; d = next) {
		next = d->next;
		if (report) {
			char *inner;

			delivery_event_init(&ev, EV_MESSAGE_DELIVERY_FAILED);
			fill_message(c, qs, d->rcpt, &ev.message);
			ev.timestamp = when;
			/* The attempt the classification comes from. */
			ev.time = d->time;
			ev.sent_with_ssl = d->ssl;
			a.program = d->program;
			a.relay = d->relay;
			a.to = d->rcpt;
			a.dsn = d->dsn;
			a.text = d->text;
			describe(c, &a, &ev);
			format_age(qs->first_seen > 0 ? when - qs->first_seen
						      : d->delay + (when - d->when),
				   age, sizeof(age));
			inner = ev.details;
			ev.details = xasprintf("Message expired after %s in the "
					       "queue: %s",
					       age, inner);
			free(inner);
			emit_event(c, qs, pos, d->rcpt, &ev);
		}
		deferral_free(d);
	}
	qs->deferred = NULL;
	qs_mark_dirty(c, qs);
}

/* correlate_tick - see correlate.h. */
int
correlate_tick(struct correlate *c, double now)
{
	struct qstate *qs, *next;
	int n = 0;

	c->clock = now;
	for (qs = c->pending; qs != NULL; qs = qs->pnext)
		for (struct waiting *w = qs->waiting; w != NULL; w = w->next)
			if (w->deadline <= 0)
				w->deadline = now + c->opts.hop_wait;
	n += release_due(c, 0, now);
	for (qs = c->pending; qs != NULL; qs = next) {
		int late = 1;

		next = qs->pnext;
		for (struct held *h = qs->held; h != NULL; h = h->next) {
			if (h->deadline <= 0)
				h->deadline = now + c->opts.hold_wait;
			if (now < h->deadline)
				late = 0;
		}
		if (qs->rec_state == REC_UNKNOWN)
			n += held_flush(c, qs, !late);
		else
			n += held_flush(c, qs, 0);
	}
	return (n);
}

/* correlate_drain - see correlate.h. */
void
correlate_drain(struct correlate *c)
{
	struct qstate *qs;

	while ((qs = c->pending) != NULL) {
		held_flush(c, qs, 0);
		waiting_release(c, qs);
	}
}

/* correlate_pending - see correlate.h. */
size_t
correlate_pending(const struct correlate *c)
{
	return (c->npending);
}

/*
 * on_requeue - postsuper -r put the message back through pickup as qs
 * ("orig_id=OLD"): it is OLD going on, no new submission, and OLD gets
 * no "removed" line.  qs takes OLD's identity and deferrals, and OLD is
 * forgotten; an OLD this log did not show is only remembered as the
 * origin, where the milter's record may be found.
 */
static void
on_requeue(struct correlate *c, struct qstate *qs, struct span orig_id, double when)
{
	struct qstate *old = qs_find(c, orig_id.p, orig_id.len);
	struct deferral **pp;

	if (old == qs)
		return;
	if (old == NULL) {
		free(qs->origin);
		qs->origin = xstrndup(orig_id.p, orig_id.len);
		qs_mark_dirty(c, qs);
		return;
	}
	qs->pinned++;
	(void) link_hop(c, old, (struct span){ qs->qid, strlen(qs->qid) }, when);
	for (pp = &qs->deferred; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = old->deferred;
	old->deferred = NULL;
	qs_forget(c, old);
	qs->pinned--;
}

/* correlate_feed - see correlate.h. */
void
correlate_feed(struct correlate *c, const struct log_line *l, const struct log_pos *pos)
{
	struct qstate *qs;
	double when;

	if (l->kind == LK_TLS_ESTABLISHED) {
		on_tls(c, l);
		return;
	}
	if (l->kind == LK_NONE || l->kind == LK_OTHER || l->queue_id.len == 0)
		return;
	when = line_time(c, &l->stamp);
	/* Waits end by the log's time too (a log read at once, --print). */
	if (c->npending > 0
	    && (when >= c->log_checked + LOG_CHECK_S || when < c->log_checked)) {
		c->log_checked = when;
		release_due(c, when, 0);
	}
	if (l->kind == LK_QMGR_REMOVED) {
		if ((qs = qs_find(c, l->queue_id.p, l->queue_id.len)) == NULL)
			return;
		if (qs->waiting != NULL) {
			/* Kept until its lines know whose they are. */
			qs->removed = 1;
			qs_mark_dirty(c, qs);
		} else {
			qs_forget(c, qs);
		}
		return;
	}
	qs = qs_get(c, l->queue_id, when);
	if (qs->held != NULL && c->opts.hold_wait <= 0) {
		/* Only the message-id line was waited for (on_hold). */
		if (l->kind != LK_CLEANUP_MESSAGE_ID && l->kind != LK_HOLD)
			held_flush(c, qs, 0);
	} else if (qs->held != NULL) {
		/*
		 * A later line of a message with holds waiting: look for the
		 * record again; once the message is queued (qmgr) or being
		 * delivered, there will be none, and the holds go first.
		 */
		held_flush(c, qs,
			   !(l->kind == LK_QMGR_FROM || l->kind == LK_QMGR_EXPIRED
			     || l->kind == LK_DELIVERY));
	}
	switch (l->kind) {
	case LK_SMTPD_CLIENT:
		if (l->sasl_username.len > 0 || internal_host(c, l->client_addr)) {
			qs->submitted = 1;
			qs_mark_dirty(c, qs);
		}
		if (l->sasl_username.len == 0 && is_loopback(l->client_addr)) {
			qs->loopback = 1;
			qs_mark_dirty(c, qs);
		}
		keep_client(c, qs, l);
		break;
	case LK_PICKUP:
		if (l->orig_id.len > 0) {
			on_requeue(c, qs, l->orig_id, when);
			break;
		}
		qs->submitted = 1;
		if (qs->from == NULL && l->has_from)
			qs->from = span_dup(l->from);
		qs_mark_dirty(c, qs);
		break;
	case LK_CLEANUP_MESSAGE_ID:
		free(qs->message_id);
		qs->message_id = span_dup(l->message_id);
		qs_mark_dirty(c, qs);
		if (qs->held != NULL && c->opts.hold_wait <= 0)
			held_flush(c, qs, 0);
		break;
	case LK_QMGR_FROM:
		if (qs->from == NULL || !span_eq(l->from, qs->from)) {
			free(qs->from);
			qs->from = span_dup(l->from);
			qs_mark_dirty(c, qs);
		}
		/* The message is queued: a record, if any, exists now. */
		if (qs_record(c, qs) == NULL)
			qs->rec_state = REC_NONE;
		break;
	case LK_QMGR_EXPIRED:
		if (qs->from == NULL)
			qs->from = span_dup(l->from);
		/* Its deferrals first, whoever's they are. */
		waiting_replay_all(c, qs);
		on_expired(c, qs, pos, when);
		break;
	case LK_HOLD:
		on_hold(c, qs, l, pos, when);
		break;
	case LK_DELIVERY:
		if (qs->waiting != NULL || may_be_hop(c, qs))
			waiting_add(c, qs, l, pos, when);
		else
			on_delivery(c, qs, l, pos, when, SSL_FROM_SESSION);
		break;
	default:
		break;
	}
}
