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

#include "event/event.h"
#include "store/message.h"
#include "store/outbox.h"
#include "store/store.h"
#include "util/util.h"

#include "testlib.h"

/* seed - the record the milter would have written */
static int
seed(struct store *st, char **argv)
{
	struct message_record *r = message_record_new();
	int status;

	r->queue_id = xstrdup(argv[3]);
	r->token = xstrdup(argv[4]);
	r->message_id = xstrdup(argv[5]);
	r->from = xstrdup("app@app.test");
	r->subject = xstrdup("bounce test");
	r->timestamp = now_seconds();
	r->direction = xstrdup("outgoing");
	message_record_add_recipient(r, argv[6]);
	status = test_message_put(st, r);
	message_record_free(r);
	return status;
}

/* take - print the events queued, one JSON object a line */
static int
take(struct store *st)
{
	struct outbox_event **evs;
	int status, n, i;

	status = test_outbox_take(st, 1000, &evs, &n);
	for (i = 0; status == STORE_OK && i < n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "key", json_object_new_string(evs[i]->key));
		json_object_object_add(
		    o, "event", json_object_new_string(event_type_name(evs[i]->type)));
		json_object_object_add(o, "payload", json_object_get(evs[i]->payload));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	}
	outbox_events_free(evs, n);
	return status;
}

int
main(int argc, char **argv)
{
	struct store *st;
	int status;

	if (argc < 3 || (strcmp(argv[1], "seed") == 0 && argc != 7)
	    || (strcmp(argv[1], "take") == 0 && argc != 3)) {
		fprintf(
		    stderr,
		    "usage: bounce_tool seed STATE QID TOKEN MID RCPT | take STATE\n");
		return 2;
	}
	st = store_open(argv[2], 0);
	if (st == NULL)
		return 1;
	if (strcmp(argv[1], "seed") == 0)
		status = seed(st, argv);
	else
		status = take(st);
	store_close(st);
	return status == STORE_OK ? 0 : 1;
}
