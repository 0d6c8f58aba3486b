/*
 * logtail_store_tool - the tailer tests' view of a store:
 *
 *   logtail_store_tool DIR            print every event waiting in the
 *                                     outbox, one JSON object per line,
 *                                     and the saved queue states on
 *                                     standard error
 *   logtail_store_tool DIR RECORD     store a milter message record
 *                                     (JSON, as message_record_to_json)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "store/message.h"
#include "store/outbox.h"
#include "store/store.h"
#include "util/util.h"

struct dump {
	struct buf out; /* outbox events */
	struct buf err; /* queue states */
};

/* dump_event - one waiting event, a line of its own. */
static int
dump_event(const char *text, size_t len, void *ctx)
{
	struct dump *d = ctx;

	buf_append(&d->out, text, len);
	buf_puts(&d->out, "\n");
	return (STORE_OK);
}

/* dump_txn - walk the outbox. */
static int
dump_txn(struct store_txn *txn, void *ctx)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl;
	int rc;
	struct dump *d = ctx;

	buf_reset(&d->out);
	buf_reset(&d->err);
	if ((rc = outbox_walk(txn, dump_event, d)) != STORE_OK)
		return (rc);
	if ((rc = store_cursor_open(txn, STORE_QUEUE, &c)) != STORE_OK)
		return (rc);
	while ((rc = store_cursor_next(c, &k, &kl, &v, &vl)) == STORE_OK)
		buf_printf(&d->err, "queue %.*s %.*s\n", (int) kl, (const char *) k,
			   (int) vl, (const char *) v);
	store_cursor_close(c);
	return (rc == STORE_NOTFOUND ? STORE_OK : rc);
}

/* put_txn - store one message record. */
static int
put_txn(struct store_txn *txn, void *ctx)
{
	return (message_put(txn, ctx));
}

/* put_record - parse and store a record; the exit status. */
static int
put_record(struct store *st, const char *text)
{
	json_object *o = json_tokener_parse(text);
	struct message_record *r = o ? message_record_from_json(o) : NULL;
	int rc;

	json_object_put(o);
	if (r == NULL || r->queue_id == NULL) {
		fprintf(stderr, "not a message record: %s\n", text);
		if (r != NULL)
			message_record_free(r);
		return (1);
	}
	rc = store_run(st, put_txn, r, 10000);
	message_record_free(r);
	return (rc == STORE_OK ? 0 : 1);
}

int
main(int argc, char **argv)
{
	struct store *st;
	struct dump d;
	int rc;

	log_open("logtail_store_tool", LOG_TO_STDERR);
	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: logtail_store_tool STATE_DIR [RECORD]\n");
		return (2);
	}
	if ((st = store_open(argv[1], 0)) == NULL)
		return (1);
	if (argc == 3) {
		rc = put_record(st, argv[2]);
		store_close(st);
		return (rc);
	}
	buf_init(&d.out);
	buf_init(&d.err);
	rc = store_run(st, dump_txn, &d, 10000);
	store_close(st);
	if (rc == STORE_OK) {
		fwrite(d.out.data, 1, d.out.len, stdout);
		fwrite(d.err.data, 1, d.err.len, stderr);
	}
	buf_free(&d.out);
	buf_free(&d.err);
	fflush(stdout);
	return (rc == STORE_OK ? 0 : 1);
}
