/*
 * logtail_store_tool - the tailer tests' view of a store:
 *
 *   logtail_store_tool DIR            print every event waiting in the
 *                                     outbox, one JSON object per line,
 *                                     and the saved queue states on
 *                                     standard error
 *   logtail_store_tool DIR RECORD     store a milter message record
 *                                     (JSON, as message_record_to_json)
 *   logtail_store_tool DIR --take     take every event out of the outbox
 *                                     as the sender does (outbox_take,
 *                                     200 a transaction) and print each,
 *                                     one JSON object a line: key, event,
 *                                     timestamp, endpoint, tenant, payload
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

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

#define TAKE_MAX 200 /* the sender's FANOUT_BATCH */

struct take {
	struct outbox_event **evs;
	int n;
};

/* take_txn - the next events, as the sender takes them. */
static int
take_txn(struct store_txn *txn, void *ctx)
{
	struct take *tk = ctx;

	return (outbox_take(txn, TAKE_MAX, &tk->evs, &tk->n));
}

/* print_event - one taken event as a JSON line. */
static void
print_event(const struct outbox_event *ev)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "key", json_object_new_string(ev->key));
	json_object_object_add(o, "event",
			       json_object_new_string(event_type_name(ev->type)));
	json_object_object_add(o, "timestamp", json_object_new_double(ev->timestamp));
	json_object_object_add(o, "endpoint",
			       ev->endpoint_id ? json_object_new_string(ev->endpoint_id)
					       : NULL);
	json_object_object_add(o, "tenant",
			       ev->tenant ? json_object_new_string(ev->tenant) : NULL);
	json_object_object_add(o, "payload", json_object_get(ev->payload));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

/* take_all - drain the outbox to standard output; the exit status. */
static int
take_all(struct store *st)
{
	struct take tk;

	do {
		tk.evs = NULL;
		tk.n = 0;
		if (store_run(st, take_txn, &tk, 10000) != STORE_OK)
			return (1);
		for (int i = 0; i < tk.n; i++)
			print_event(tk.evs[i]);
		outbox_events_free(tk.evs, tk.n);
	} while (tk.n == TAKE_MAX);
	return (fflush(stdout) == 0 ? 0 : 1);
}

int
main(int argc, char **argv)
{
	struct store *st;
	struct dump d;
	int rc;

	log_open("logtail_store_tool", LOG_TO_STDERR);
	if (argc != 2 && argc != 3) {
		fprintf(stderr,
			"usage: logtail_store_tool STATE_DIR [RECORD | --take]\n");
		return (2);
	}
	if ((st = store_open(argv[1], 0)) == NULL)
		return (1);
	if (argc == 3) {
		rc = strcmp(argv[2], "--take") == 0 ? take_all(st)
						    : put_record(st, argv[2]);
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
