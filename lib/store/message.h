/*
 * message.h - the milter's record of one outgoing message, kept under its
 * Postfix queue id, with indexes by token and by id.
 *
 * The tailer and posthookctl read it; the milter writes it.  Records are
 * JSON in the store, so fields can be added without a migration.
 */
#ifndef PH_MESSAGE_H
#define PH_MESSAGE_H

#include <stdint.h>
#include <json-c/json.h>
#include "store/store.h"
#include "util/util.h"

struct message_record {
	uint64_t id;
	char *token;
	char *queue_id;
	char *message_id;  /* without angle brackets */
	char *from;	   /* envelope sender as the app gave it */
	char **recipients; /* NULL-terminated */
	char *subject;
	double timestamp;
	char *tag;
	json_object *metadata; /* owned reference, or NULL */
	char *direction;       /* "outgoing" or "incoming" */
	char *spam_status;     /* NotChecked, Spam, NotSpam */
	char *verp_sender;     /* envelope sender set by the milter */
	char *tenant;	       /* owning tenant; NULL means "default" */
	char *metadata_error;  /* why the app's metadata was refused */
	char *track;	       /* "opens", "clicks" or "all"; NULL: not tracked */
	char **links; /* tracked links' original URLs, by index; NULL-terminated */
};

struct message_record *message_record_new(void);
void message_record_free(struct message_record *r);
void message_record_add_recipient(struct message_record *r, const char *rcpt);
/* message_record_add_link - append a tracked link; returns its index. */
unsigned message_record_add_link(struct message_record *r, const char *url);

json_object *message_record_to_json(const struct message_record *r);
struct message_record *message_record_from_json(json_object *obj);

/*
 * message_put - store r under its queue id and index it by token and id,
 * in the caller's transaction.
 */
PH_MUST_CHECK int message_put(struct store_txn *txn, const struct message_record *r);

/* message_get_by_* - STORE_OK with *out set (caller frees), or NOTFOUND. */
PH_MUST_CHECK int message_get_by_queue_id(struct store_txn *txn, const char *qid,
					  struct message_record **out);
PH_MUST_CHECK int message_get_by_token(struct store_txn *txn, const char *token,
				       struct message_record **out);
PH_MUST_CHECK int message_get_by_id(struct store_txn *txn, uint64_t id,
				    struct message_record **out);
/*
 * message_get_by_message_id - the record of a Message-ID (without angle
 * brackets), through the index message_put keeps (message_index_mid).
 */
PH_MUST_CHECK int message_get_by_message_id(struct store_txn *txn, const char *mid,
					    struct message_record **out);
/* message_index_mid - index r by its Message-ID; OK when it has none. */
PH_MUST_CHECK int message_index_mid(struct store_txn *txn,
				    const struct message_record *r);
/* message_get - by queue id, token or decimal id, whichever KEY is. */
PH_MUST_CHECK int message_get(struct store_txn *txn, const char *key,
			      struct message_record **out);

/* message_rekey - the message with this token now has queue id new_qid. */
PH_MUST_CHECK int message_rekey(struct store_txn *txn, const char *token,
				const char *new_qid);

/*
 * message_each - call fn with every record, by queue id, until it returns
 * non-zero: 1 stops, -1 stops with STORE_ERROR.  r is valid during the
 * call only.
 */
PH_MUST_CHECK int message_each(struct store_txn *txn,
			       int (*fn)(const struct message_record *r, void *ctx),
			       void *ctx);

/* message_purge - delete records older than cutoff; *count gets how many. */
PH_MUST_CHECK int message_purge(struct store_txn *txn, double cutoff, int limit,
				int *count);

#endif
