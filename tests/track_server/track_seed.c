/*
 * track_seed.c - test helper: what the milter would leave for the
 * tracking server, a message record with its links and the signed tokens
 * of its tracking URLs.
 *
 *	track_seed STATE_DIR message RECORD_JSON
 *	track_seed STATE_DIR token MESSAGE_ID o|c|u [LINK]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/message.h"
#include "store/store.h"
#include "track/token.h"
#include "track/track_key.h"
#include "util/log.h"
#include "util/util.h"

struct seed {
	struct message_record *rec;
	unsigned char key[TRACK_KEY_LEN];
};

/* message_cb - store the record. */
static int
message_cb(struct store_txn *txn, void *arg)
{
	struct seed *s = arg;

	return message_put(txn, s->rec);
}

/* key_cb - the store's tracking key (made on first use). */
static int
key_cb(struct store_txn *txn, void *arg)
{
	struct seed *s = arg;

	return track_key_get(txn, s->key);
}

int
main(int argc, char **argv)
{
	char tok[TRACK_TOKEN_SIZE];
	struct track_ref ref;
	struct store *st;
	struct seed s;
	json_object *o;
	int rc;

	log_open("track_seed", LOG_TO_STDERR);
	memset(&s, 0, sizeof(s));
	memset(&ref, 0, sizeof(ref));
	if (argc == 4 && strcmp(argv[2], "message") == 0) {
		if ((o = json_tokener_parse(argv[3])) == NULL
		    || (s.rec = message_record_from_json(o)) == NULL) {
			fprintf(stderr, "track_seed: bad record\n");
			return 2;
		}
		json_object_put(o);
	} else if ((argc == 5 || argc == 6) && strcmp(argv[2], "token") == 0) {
		ref.message_id = strtoull(argv[3], NULL, 10);
		ref.kind = (enum track_kind) argv[4][0];
		ref.link = argc == 6 ? (unsigned) strtoul(argv[5], NULL, 10) : 0;
	} else {
		fprintf(stderr, "usage: track_seed DIR message JSON | DIR token ID KIND "
				"[LINK]\n");
		return 2;
	}
	if ((st = store_open(argv[1], 0)) == NULL)
		return 1;
	rc = store_run(st, s.rec != NULL ? message_cb : key_cb, &s, 0);
	store_close(st);
	if (rc != STORE_OK) {
		fprintf(stderr, "track_seed: store error %d\n", rc);
		return 1;
	}
	if (s.rec == NULL) {
		if (track_token_make(s.key, &ref, tok) < 0) {
			fprintf(stderr, "track_seed: cannot encode that reference\n");
			return 2;
		}
		puts(tok);
	}
	message_record_free(s.rec);
	return 0;
}
