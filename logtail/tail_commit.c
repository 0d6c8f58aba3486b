/*
 * tail_commit.c - what a batch of lines made, committed at once.
 *
 * Lines are read in batches; each batch's events, the queue state it
 * changed (STORE_QUEUE) and the read position (STORE_POSITIONS) are
 * committed in one transaction, so a crash at any point neither loses nor
 * repeats an event.  With them goes the file's high-water mark (its
 * offset, under "F/fingerprint": outbox_mark_put()), which outlives the
 * position: a line before it is never fed again, whatever makes us read
 * the file once more, so its events are added without a seen key each
 * (outbox_add_fresh).  A file read by the previous release gets its mark
 * from that release's seen keys.  The journal (and a file whose mark
 * cannot be read) adds its events idempotent by key (outbox_add_many).
 * A file is known by its first line's fingerprint: one whose first line
 * is byte for byte an earlier file's would be passed over up to that
 * file's mark (before, only its events whose offset and recipient matched
 * were dropped).  A hold line's Held events may wait up to HOLD_WAIT_S
 * for the milter's record (see correlate_tick()); while they wait they
 * are part of the saved queue state, committed with the position past
 * their line, and they go out in the transaction that deletes them from
 * it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fault.h"
#include "util/log.h"
#include "store/outbox.h"
#include "records.h"
#include "tail_int.h"

/*
 * payload_text - append the event's payload to t->text as JSON, written by
 * delivery_event_write_payload_json(): json-c's text for
 * delivery_event_payload() but for "/" left unescaped, the same value once
 * parsed, at an eighth of the cost.
 */
static void
payload_text(struct tail *t, const struct delivery_event *ev, struct pending_event *p)
{
	p->payload = t->text.len;
	delivery_event_write_payload_json(&t->text, ev);
	p->payload_len = t->text.len - p->payload;
}

/* on_event - keep an event for the next commit. */
void
on_event(struct correlate_event *ce, void *ctx)
{
	struct tail *t = ctx;
	struct pending_event *p;

	if (t->nev == t->capev) {
		t->capev = t->capev ? t->capev * 2 : 256;
		t->ev = xrealloc(t->ev, t->capev * sizeof(*t->ev));
	}
	p = &t->ev[t->nev++];
	p->key = t->text.len;
	buf_append(&t->text, ce->key, strlen(ce->key) + 1);
	p->tenant = NO_TENANT;
	if (ce->tenant != NULL) {
		p->tenant = t->text.len;
		buf_append(&t->text, ce->tenant, strlen(ce->tenant) + 1);
	}
	p->type = ce->ev.type;
	p->timestamp = ce->ev.timestamp;
	payload_text(t, &ce->ev, p);
}

/* on_record - the milter's record for the correlator. */
struct message_record *
on_record(const char *qid, void *ctx)
{
	struct tail *t = ctx;

	return (records_lookup(t->st, qid));
}

/* on_state - keep a changed queue state for the next commit. */
static void
on_state(const char *qid, json_object *state, void *ctx)
{
	struct tail *t = ctx;
	struct pending_state *p;

	if (t->nqs == t->capqs) {
		t->capqs = t->capqs ? t->capqs * 2 : 256;
		t->qs = xrealloc(t->qs, t->capqs * sizeof(*t->qs));
	}
	p = &t->qs[t->nqs++];
	p->qid = xstrdup(qid);
	p->json =
	    state ? xstrdup(json_object_to_json_string_ext(state, JSON_C_TO_STRING_PLAIN))
		  : NULL;
}

/* pending_clear - forget what was committed. */
void
pending_clear(struct tail *t)
{
	buf_reset(&t->text);
	for (size_t i = 0; i < t->nqs; i++) {
		free(t->qs[i].qid);
		free(t->qs[i].json);
	}
	t->nev = t->nqs = 0;
}

/* position_of - where we are, as stored (the cursor is borrowed). */
static void
position_of(struct tail *t, uint64_t offset, struct position_record *pos)
{
	memset(pos, 0, sizeof(*pos));
	if (t->js != NULL) {
		pos->cursor = t->cursor;
		return;
	}
	pos->old = t->cur.old;
	pos->dev = (unsigned long long) t->cur.dev;
	pos->ino = (unsigned long long) t->cur.ino;
	snprintf(pos->fp, sizeof(pos->fp), "%s", t->cur.fp);
	pos->offset = offset;
}

/* mark_key - the key of the current file's high-water mark. */
static void
mark_key(const struct tail *t, char key[FINGERPRINT_LEN + 2])
{
	snprintf(key, FINGERPRINT_LEN + 2, "F/%s", t->cur.fp);
}

/* mark_get_txn - read the current file's mark. */
static int
mark_get_txn(struct store_txn *txn, void *ctx)
{
	struct tail *t = ctx;
	char key[FINGERPRINT_LEN + 2];

	mark_key(t, key);
	return (outbox_mark_get(txn, key, &t->cur.mark));
}

/* mark_load - the current file's mark, read once it is known. */
static void
mark_load(struct tail *t)
{
	int rc = store_run(t->st, mark_get_txn, t, 0);

	t->cur.marked = rc == STORE_OK || rc == STORE_NOTFOUND ? 1 : -1;
	if (rc != STORE_OK)
		t->cur.mark = 0; /* NOTFOUND: never read before */
	if (t->cur.marked < 0)
		log_warn("%s: cannot read its high-water mark; its events are "
			 "checked one by one",
			 t->cur.path);
}

/*
 * mark_skip - was the line at off read and committed before (it lies
 * below the file's high-water mark)?
 */
int
mark_skip(struct tail *t, uint64_t off)
{
	if (t->cur.marked == 0) {
		mark_load(t);
		if (off < t->cur.mark)
			log_info("%s: read up to offset %llu before: passing over "
				 "those lines",
				 t->cur.path, (unsigned long long) t->cur.mark);
	}
	return (off < t->cur.mark);
}

struct commit {
	struct tail *t;
	struct position_record pos;
	struct outbox_item *items; /* t->ev as the outbox takes them */
	uint64_t mark;		   /* the file's high-water mark after it */
	long added;
};

/* commit_txn - events, queue states and position, all or nothing. */
static int
commit_txn(struct store_txn *txn, void *ctx)
{
	struct commit *cm = ctx;
	struct tail *t = cm->t;
	char key[FINGERPRINT_LEN + 2];
	int rc;

	if (t->js == NULL && t->cur.marked == 1) {
		rc = outbox_add_fresh(txn, cm->items, t->nev);
		cm->added = (long) t->nev;
	} else {
		rc = outbox_add_many(txn, cm->items, t->nev, &cm->added);
	}
	if (rc != STORE_OK)
		return (rc);
	if (t->js == NULL && t->cur.marked == 1) {
		mark_key(t, key);
		if ((rc = outbox_mark_put(txn, key, cm->mark)) != STORE_OK)
			return (rc);
	}
	for (size_t i = 0; i < t->nqs; i++) {
		struct pending_state *p = &t->qs[i];

		if (p->json != NULL)
			rc = store_put(txn, STORE_QUEUE, p->qid, strlen(p->qid), p->json,
				       strlen(p->json));
		else if ((rc = store_del(txn, STORE_QUEUE, p->qid, strlen(p->qid)))
			 == STORE_NOTFOUND)
			rc = STORE_OK;
		if (rc != STORE_OK)
			return (rc);
	}
	return (position_put(txn, t->poskey, &cm->pos));
}

/* commit - make the batch durable; retried until it is or we stop. */
int
commit(struct tail *t)
{
	struct commit cm;
	uint64_t offset;
	int rc;

	if (t->js != NULL) {
		if (!t->dirty || t->cursor == NULL)
			return (0);
		offset = 0;
	} else {
		if (t->cur.lr == NULL || t->cur.fp[0] == 0)
			return (0);
		offset = linereader_offset(t->cur.lr);
		if (!t->dirty && offset == t->committed)
			return (0);
	}
	correlate_flush_dirty(t->corr, on_state, t);
	memset(&cm, 0, sizeof(cm));
	cm.t = t;
	position_of(t, offset, &cm.pos);
	if (t->js == NULL) {
		if (t->cur.marked == 0)
			mark_load(t);
		cm.mark = offset > t->cur.mark ? offset : t->cur.mark;
	}
	cm.items = xcalloc(t->nev ? t->nev : 1, sizeof(*cm.items));
	for (size_t i = 0; i < t->nev; i++) {
		const struct pending_event *p = &t->ev[i];

		cm.items[i].key = t->text.data + p->key;
		cm.items[i].type = p->type;
		cm.items[i].timestamp = p->timestamp;
		cm.items[i].payload = t->text.data + p->payload;
		cm.items[i].payload_len = p->payload_len;
		cm.items[i].tenant =
		    p->tenant != NO_TENANT ? t->text.data + p->tenant : NULL;
	}
	PH_FAULT("logtail-before-commit");
	while ((rc = store_run(t->st, commit_txn, &cm, 0)) != STORE_OK) {
		log_error("cannot commit %zu events at offset %llu of %s; "
			  "retrying",
			  t->nev, (unsigned long long) offset,
			  t->js ? "the journal" : t->cur.path);
		if (t->sig->stop) {
			free(cm.items);
			return (-1);
		}
		sleep(1);
	}
	PH_FAULT("logtail-after-commit");
	t->events_total += cm.added;
	if (log_verbose())
		log_debug("committed %ld new events, offset %llu", cm.added,
			  (unsigned long long) offset);
	free(cm.items);
	pending_clear(t);
	t->committed = offset;
	t->dirty = 0;
	if (t->js == NULL && t->cur.marked == 1)
		t->cur.mark = cm.mark;
	return (0);
}
