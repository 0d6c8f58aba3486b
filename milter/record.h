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
 * A step run inside the transaction of a new record, after its id is
 * drawn and before it is put (tracking: track.h); STORE_OK or the store's
 * error.  It may run again when the transaction is retried.
 */
struct record_hook {
	int (*fn)(struct store_txn *txn, struct message_record *rec, void *ctx);
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
 * hook (or NULL) runs for a new record only, not for one that came back.
 *
 * Returns STORE_OK or the store's error; token generation failure is
 * STORE_ERROR.
 */
int record_message(struct store *st, int64_t deadline_ms, struct message_record *rec,
		   const char *presented_token, const char *verp_domain,
		   const char *sender, const struct record_hook *hook,
		   struct record_result *res);

#endif
