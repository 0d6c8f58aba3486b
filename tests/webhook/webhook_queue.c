/*
 * webhook_queue.c - test helper: queue sample events in the outbox, as
 * the tailer would, for the posthook-webhook tests.
 *
 *	webhook_queue STATE_DIR EVENT COUNT [ENDPOINT_ID]
 *
 * Prints the event keys it queued, one a line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/event_sample.h"
#include "util/log.h"
#include "store/outbox.h"
#include "store/store.h"
#include "util/util.h"

struct queue_ctx {
	enum event_type type;
	int count;
	const char *endpoint;
	char **keys;
};

/* queue_cb - add count events under fresh keys. */
static int
queue_cb(struct store_txn *txn, void *arg)
{
	struct queue_ctx *c = arg;
	json_object *p;
	int i, rc = STORE_OK;

	for (i = 0; rc == STORE_OK && i < c->count; i++) {
		p = event_sample_payload(c->type, now_seconds());
		rc = outbox_add(txn, c->keys[i], c->type, now_seconds(), p, c->endpoint);
		json_object_put(p);
	}
	return rc;
}

int
main(int argc, char **argv)
{
	struct queue_ctx c;
	struct store *st;
	char uuid[37];
	int i, rc;

	if (argc < 4 || argc > 5) {
		fprintf(stderr,
			"usage: webhook_queue STATE_DIR EVENT COUNT [ENDPOINT_ID]\n");
		return 2;
	}
	log_open("webhook_queue", LOG_TO_STDERR);
	memset(&c, 0, sizeof(c));
	if (event_type_from_name(argv[2], &c.type) < 0) {
		fprintf(stderr, "webhook_queue: unknown event %s\n", argv[2]);
		return 2;
	}
	c.count = atoi(argv[3]);
	c.endpoint = argc == 5 ? argv[4] : NULL;
	c.keys = xcalloc((size_t) (c.count > 0 ? c.count : 1), sizeof(*c.keys));
	for (i = 0; i < c.count; i++) {
		event_uuid_new(uuid);
		c.keys[i] = xasprintf("queue:%s", uuid);
	}
	if ((st = store_open(argv[1], 0)) == NULL)
		return 1;
	rc = store_run(st, queue_cb, &c, 0);
	store_close(st);
	for (i = 0; i < c.count; i++) {
		if (rc == STORE_OK)
			printf("%s\n", c.keys[i]);
		free(c.keys[i]);
	}
	free(c.keys);
	return rc == STORE_OK ? 0 : 1;
}
