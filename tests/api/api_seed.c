/*
 * api_seed.c - test helper: put what the milter and the tailer would into
 * a store, for the posthook-api tests.
 *
 *	api_seed STATE_DIR message RECORD_JSON
 *	api_seed STATE_DIR event EVENT PAYLOAD_JSON
 *	api_seed STATE_DIR count TENANT N
 *	api_seed STATE_DIR hold QUEUE_ID TENANT
 *
 * A message record is stored as message_record_from_json reads it; an
 * event is queued in the outbox under a fresh key, printed, for the tenant
 * of the record its payload's message.token names (as the tailer does).
 * count adds N messages to the tenant's send volume now, as the milter
 * counts; hold records a queue id as held by posthook for the tenant.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/event.h"
#include "limit/limit_store.h"
#include "store/release.h"
#include "store/message.h"
#include "store/outbox.h"
#include "store/store.h"
#include "util/json.h"
#include "util/log.h"
#include "util/util.h"

struct seed {
	struct message_record *rec;
	enum event_type type;
	json_object *payload;
	char key[64];
	const char *tenant; /* count, hold */
	const char *qid;    /* hold */
	long n;		    /* count */
};

/* count_cb - count n messages of the tenant, or hold one. */
static int
count_cb(struct store_txn *txn, void *arg)
{
	struct seed *s = arg;
	const char *t = strcmp(s->tenant, "default") == 0 ? NULL : s->tenant;

	if (s->qid != NULL)
		return release_held_add(txn, s->qid, t, now_seconds());
	return limit_count(txn, t, now_seconds(), (uint64_t) s->n);
}

/* message_cb - store the record. */
static int
message_cb(struct store_txn *txn, void *arg)
{
	struct seed *s = arg;

	return message_put(txn, s->rec);
}

/* event_cb - queue the event, its message's tenant's. */
static int
event_cb(struct store_txn *txn, void *arg)
{
	struct seed *s = arg;
	const char *token =
	    json_string_member(json_member(s->payload, "message"), "token");
	struct message_record *rec = NULL;
	int rc;

	if (token != NULL) {
		rc = message_get_by_token(txn, token, &rec);
		if (rc != STORE_OK && rc != STORE_NOTFOUND)
			return rc;
	}
	rc = outbox_add_tenant(txn, s->key, s->type, now_seconds(), s->payload, NULL,
			       rec != NULL ? rec->tenant : NULL);
	message_record_free(rec);
	return rc;
}

int
main(int argc, char **argv)
{
	struct store *st;
	struct seed s;
	json_object *o;
	char uuid[37];
	int rc;

	log_open("api_seed", LOG_TO_STDERR);
	memset(&s, 0, sizeof(s));
	if (argc == 4 && strcmp(argv[2], "message") == 0) {
		if ((o = json_tokener_parse(argv[3])) == NULL
		    || (s.rec = message_record_from_json(o)) == NULL) {
			fprintf(stderr, "api_seed: bad record\n");
			return 2;
		}
		json_object_put(o);
	} else if (argc == 5 && strcmp(argv[2], "event") == 0) {
		if (event_type_from_name(argv[3], &s.type) < 0
		    || (s.payload = json_tokener_parse(argv[4])) == NULL) {
			fprintf(stderr, "api_seed: bad event or payload\n");
			return 2;
		}
		event_uuid_new(uuid);
		snprintf(s.key, sizeof(s.key), "api-test:%s", uuid);
	} else if (argc == 5 && strcmp(argv[2], "count") == 0) {
		s.tenant = argv[3];
		s.n = atol(argv[4]);
	} else if (argc == 5 && strcmp(argv[2], "hold") == 0) {
		s.qid = argv[3];
		s.tenant = argv[4];
	} else {
		fprintf(stderr, "usage: api_seed DIR message JSON | DIR event NAME JSON"
				" | DIR count TENANT N | DIR hold QID TENANT\n");
		return 2;
	}
	if ((st = store_open(argv[1], 0)) == NULL)
		return 1;
	rc = store_run(st,
		       s.tenant != NULL ? count_cb
		       : s.rec != NULL	? message_cb
					: event_cb,
		       &s, 0);
	store_close(st);
	if (rc != STORE_OK) {
		fprintf(stderr, "api_seed: store error %d\n", rc);
		return 1;
	}
	if (s.rec == NULL && s.tenant == NULL)
		puts(s.key);
	message_record_free(s.rec);
	json_object_put(s.payload);
	return 0;
}
