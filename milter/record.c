/*
 * record.c - the milter's one store transaction per outgoing message.
 *
 * store_run() may run the callback more than once (deadlock, lock
 * timeout): everything it decides is recomputed from the store each time,
 * and the random token is drawn once, outside.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

#define MESSAGE_SEQUENCE	"message"

struct record_job {
	struct message_record *rec;
	const char *presented;
	struct record_result *res;
};

/* record_txn - the transaction body. */
static int
record_txn(struct store_txn *txn, void *ctx)
{
	struct record_job *job = ctx;
	struct message_record *old = NULL;
	int     status;

	job->res->reused = 0;
	if (job->presented != NULL) {
		status = message_get_by_token(txn, job->presented, &old);
		if (status == STORE_OK) {
			job->res->reused = 1;
			job->res->id = old->id;
			snprintf(job->res->token, sizeof(job->res->token), "%s",
				 job->presented);
			if (old->queue_id == NULL
			    || strcmp(old->queue_id, job->rec->queue_id) != 0)
				status = message_rekey(txn, job->presented,
						       job->rec->queue_id);
			message_record_free(old);
			return status;
		}
		if (status != STORE_NOTFOUND)
			return status;
	}
	status = store_seq_next(txn, MESSAGE_SEQUENCE, &job->rec->id);
	if (status != STORE_OK)
		return status;
	job->res->id = job->rec->id;
	snprintf(job->res->token, sizeof(job->res->token), "%s", job->rec->token);
	return message_put(txn, job->rec);
}

/* record_message - see record.h. */
int
record_message(struct store *st, int64_t deadline_ms,
	       struct message_record *rec, const char *presented_token,
	       struct record_result *res)
{
	struct record_job job;
	char    token[TOKEN_LEN + 1];

	memset(res, 0, sizeof(*res));
	if (token_new(token) != 0)
		return STORE_ERROR;
	free(rec->token);
	if ((rec->token = strdup(token)) == NULL)
		return STORE_ERROR;
	job.rec = rec;
	job.presented = presented_token;
	job.res = res;
	return store_run(st, record_txn, &job, deadline_ms);
}
