/*
 * record.h - write an outgoing message's record to the store in one
 * transaction: a new id and token, or, for a message that comes back
 * carrying a token this store issued, the old record moved to the new
 * queue id.
 */
#ifndef PH_MILTER_RECORD_H
#define PH_MILTER_RECORD_H

#include <stdint.h>
#include "message.h"
#include "store.h"
#include "token.h"

struct record_result {
	uint64_t id;
	char    token[TOKEN_LEN + 1];	/* the token the message carries now */
	int     reused;			/* the presented token was ours */
};

/*
 * record_message - store rec (queue id, sender, recipients, ... set; id and
 * token are filled in here) unless presented_token (or NULL) names a record
 * already, which then learns rec's queue id.  Bounded by deadline_ms.
 * Returns STORE_OK or the store's error; token generation failure is
 * STORE_ERROR.
 */
int     record_message(struct store *st, int64_t deadline_ms,
		       struct message_record *rec, const char *presented_token,
		       struct record_result *res);

#endif
