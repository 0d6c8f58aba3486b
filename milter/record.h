/*
 * record.h - write an outgoing message's record to the store in one
 * transaction: a new id and token, or, for a message that comes back
 * carrying a token this store issued, the old record moved to the new
 * queue id.
 */
#ifndef PH_MILTER_RECORD_H
#define PH_MILTER_RECORD_H

#include <stdint.h>
#include "bounce/verp.h"
#include "send_limit.h"
#include "store/message.h"
#include "store/store.h"
#include "token.h"

struct record_result {
	uint64_t id;
	char token[TOKEN_LEN + 1];    /* the token the message carries now */
	int reused;		      /* the presented token was ours */
	char verp[VERP_ADDR_MAX + 1]; /* envelope sender to set, or "" */
};

/*
 * Work on a new record that needs its id but must not hold the store's
 * locks while it runs (tracking's rewrite: track.h).  With a hook,
 * record_message() first draws the id in a short transaction of its own,
 * where prepare reads what work needs (STORE_OK or the store's error);
 * work then runs outside any transaction, once, and may add to rec before
 * the record's own transaction puts it.  Neither runs for a record that
 * came back (a presented token the store knows).
 */
struct record_hook {
	int (*prepare)(struct store_txn *txn, void *ctx);
	void (*work)(struct message_record *rec, void *ctx);
	void *ctx;
};

/*
 * record_message - store rec (queue id, sender, recipients, ... set; id and
 * token are filled in here) unless presented_token (or NULL) names a record
 * already, which then learns rec's queue id.  Bounded by deadline_ms.
 *
 * With verp_domain (NULL: no VERP for this message), res->verp gets the
 * VERP address of the message's token, which the record keeps as
 * verp_sender, unless sender (the envelope sender now) already is that
 * address: a message coming back through the milter is not wrapped twice,
 * and res->verp is then "".  rec->from stays the application's sender.
 *
 * A new record is counted, and may be held or deferred, by limits (NULL:
 * none; send_limit.h) in the same transaction; a deferred one is not stored.
 * hook: see struct record_hook; NULL for none.
 *
 * Returns STORE_OK or the store's error; token generation failure is
 * STORE_ERROR.
 */
int record_message(struct store *st, int64_t deadline_ms, struct message_record *rec,
		   const char *presented_token, const char *verp_domain,
		   const char *sender, struct limits_job *limits,
		   const struct record_hook *hook, struct record_result *res);

#endif
