/*
 * bounce_tool.c - test helper for bounce_postfix.py: put a message record
 * into a store (what the milter would have written), and take the events
 * the intake queued (what the webhook sender would have taken).
 *
 *   bounce_tool seed STATE_DIR QUEUE_ID TOKEN MESSAGE_ID RCPT
 *   bounce_tool take STATE_DIR       (one JSON object per event)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "message.h"
#include "outbox.h"
#include "store.h"
#include "util.h"

struct seed {
	char  **argv;
};

static int
seed_txn(struct store_txn *txn, void *arg)
{
	struct seed *s = arg;
	struct message_record *r = message_record_new();
	uint64_t id;
	int     status;

	status = store_seq_next(txn, "message", &id);
	if (status == STORE_OK) {
		r->id = id;
		r->queue_id = xstrdup(s->argv[3]);
		r->token = xstrdup(s->argv[4]);
		r->message_id = xstrdup(s->argv[5]);
		r->from = xstrdup("app@app.test");
		r->subject = xstrdup("bounce test");
		r->timestamp = now_seconds();
		r->direction = xstrdup("outgoing");
		message_record_add_recipient(r, s->argv[6]);
		status = message_put(txn, r);
	}
	message_record_free(r);
	return status;
}

struct take {
	struct outbox_event **evs;
	int     n;
};

static int
take_txn(struct store_txn *txn, void *arg)
{
	struct take *t = arg;

	outbox_events_free(t->evs, t->n);
	t->evs = NULL;
	t->n = 0;
	return outbox_take(txn, 1000, &t->evs, &t->n);
}

int
main(int argc, char **argv)
{
	struct store *st;
	int     status, i;

	if (argc < 3 || (strcmp(argv[1], "seed") == 0 && argc != 7)
	    || (strcmp(argv[1], "take") == 0 && argc != 3)) {
		fprintf(stderr, "usage: bounce_tool seed STATE QID TOKEN MID RCPT | take STATE\n");
		return 2;
	}
	st = store_open(argv[2], 0);
	if (st == NULL)
		return 1;
	if (strcmp(argv[1], "seed") == 0) {
		struct seed s = {argv};

		status = store_run(st, seed_txn, &s, 0);
	} else {
		struct take t = {NULL, 0};

		status = store_run(st, take_txn, &t, 0);
		for (i = 0; status == STORE_OK && i < t.n; i++) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "key", json_object_new_string(t.evs[i]->key));
			json_object_object_add(o, "event",
					       json_object_new_string(event_type_name(t.evs[i]->type)));
			json_object_object_add(o, "payload", json_object_get(t.evs[i]->payload));
			puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
			json_object_put(o);
		}
		outbox_events_free(t.evs, t.n);
	}
	store_close(st);
	return status == STORE_OK ? 0 : 1;
}
