/*
 * correlate_held.c - cleanup's hold lines: Held events for each recipient,
 * and the hold lines whose events wait for the milter's record (cleanup
 * logs "hold: header" before the milter's end-of-message commits it).
 */
#include <stdlib.h>

#include "util/util.h"
#include "correlate_int.h"

/* held_free - one waiting hold. */
void
held_free(struct held *h)
{
	free(h->keybase);
	free(h->to);
	free(h->reason);
	free(h->output);
	free(h);
}

/*
 * held_emit - Held for each recipient of the message (from the milter's
 * record; without one, the recipient the hold line names).
 */
static void
held_emit(struct correlate *c, struct qstate *qs, const struct held *h)
{
	struct message_record *rec;
	struct delivery_event ev;
	char **rcpts, *single[2];

	if (!in_scope(c, qs))
		return;
	rec = qs_record(c, qs);
	if (rec != NULL && rec->recipients != NULL && rec->recipients[0] != NULL) {
		rcpts = rec->recipients;
	} else {
		single[0] = h->to;
		single[1] = NULL;
		rcpts = single;
	}
	for (; *rcpts != NULL; rcpts++) {
		delivery_event_init(&ev, EV_MESSAGE_HELD);
		fill_message(c, qs, *rcpts, &ev.message);
		ev.timestamp = h->when;
		ev.details = xasprintf("Message held: %s", h->reason);
		ev.output = xstrdup(h->output);
		emit_key(c, qs, xasprintf("%s/%s", h->keybase, *rcpts), &ev);
	}
}

/*
 * held_flush - the waiting hold events of a message go out: all of them
 * (wait = 0), or (wait = 1) only once the record is there.  Returns the
 * number of hold lines handled.
 */
int
held_flush(struct correlate *c, struct qstate *qs, int wait)
{
	struct held *h;
	int n = 0;

	if (qs->held == NULL)
		return (0);
	if (wait && qs_record(c, qs) == NULL)
		return (0);
	while ((h = qs->held) != NULL) {
		qs->held = h->next;
		held_emit(c, qs, h);
		held_free(h);
		n++;
	}
	pend_update(c, qs);
	qs_mark_dirty(c, qs);
	return (n);
}

/* held_add - a hold line waits for the record; kept in the saved state. */
void
held_add(struct correlate *c, struct qstate *qs, char *keybase, char *to, char *reason,
	 char *output, double when, double deadline)
{
	struct held *h = xcalloc(1, sizeof(*h)), **pp;

	h->keybase = keybase;
	h->to = to;
	h->reason = reason;
	h->output = output;
	h->when = when;
	h->deadline = deadline;
	for (pp = &qs->held; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = h;
	pend_link(c, qs);
	qs_mark_dirty(c, qs);
}

/* on_hold - the message is on hold: Held for each recipient. */
void
on_hold(struct correlate *c, struct qstate *qs, const struct log_line *l,
	const struct log_pos *pos, double when)
{
	struct held h;

	if (qs->from == NULL && l->has_from) {
		qs->from = span_dup(l->from);
		qs_mark_dirty(c, qs);
	}
	/*
	 * No record yet: cleanup may be still reading the headers, before the
	 * milter commits it.  Wait for it (bounded).  Without a clock to bound
	 * the wait (hold_wait 0), wait only for cleanup's message-id line,
	 * which comes when it reaches that header or the headers' end.
	 */
	if (qs_record(c, qs) == NULL && qs->rec_state == REC_UNKNOWN
	    && (c->opts.hold_wait > 0 || qs->message_id == NULL)) {
		held_add(c, qs, key_base(pos), span_dup(l->to), span_dup(l->hold_reason),
			 span_dup(l->msg), when,
			 c->clock > 0 && c->opts.hold_wait > 0
			     ? c->clock + c->opts.hold_wait
			     : 0);
		return;
	}
	if (qs->held != NULL) {
		/* Keep the order: earlier holds first. */
		held_flush(c, qs, 0);
	}
	h.next = NULL;
	h.keybase = key_base(pos);
	h.to = span_dup(l->to);
	h.reason = span_dup(l->hold_reason);
	h.output = span_dup(l->msg);
	h.when = when;
	held_emit(c, qs, &h);
	free(h.keybase);
	free(h.to);
	free(h.reason);
	free(h.output);
}
