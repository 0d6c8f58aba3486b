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
#include <strings.h>

#include "record.h"

#define MESSAGE_SEQUENCE "message"

struct record_job {
	struct message_record *rec;
	const char *presented;
	const char *verp_domain; /* NULL: no VERP */
	const char *sender;
	const struct record_hook *hook;
	struct record_result *res;
};

/*
 * reused_verp - a message came back with a known record: the VERP address
 * to set (none when the sender already is it), and the record's
 * verp_sender brought up to date when it differs (VERP turned on since).
 */
static int
reused_verp(struct store_txn *txn, struct record_job *job)
{
	struct message_record *r;
	int status;

	if (verp_address(job->presented, job->verp_domain, job->res->verp) != 0)
		return STORE_OK;
	status = message_get_by_token(txn, job->presented, &r);
	if (status != STORE_OK)
		return status;
	if (r->verp_sender == NULL || strcmp(r->verp_sender, job->res->verp) != 0) {
		free(r->verp_sender);
		r->verp_sender = strdup(job->res->verp);
		status = r->verp_sender ? message_put(txn, r) : STORE_ERROR;
	}
	message_record_free(r);
	if (job->sender != NULL && strcasecmp(job->sender, job->res->verp) == 0)
		job->res->verp[0] = 0; /* already the VERP sender */
	return status;
}

/* record_txn - the transaction body. */
static int
record_txn(struct store_txn *txn, void *ctx)
{
	struct record_job *job = ctx;
	struct message_record *old = NULL;
	int status;

	job->res->reused = 0;
	job->res->verp[0] = 0;
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
			if (status == STORE_OK && job->verp_domain != NULL)
				status = reused_verp(txn, job);
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
	if (job->rec->verp_sender != NULL)
		snprintf(job->res->verp, sizeof(job->res->verp), "%s",
			 job->rec->verp_sender);
	if (job->hook != NULL
	    && (status = job->hook->fn(txn, job->rec, job->hook->ctx)) != STORE_OK)
		return status;
	return message_put(txn, job->rec);
}

/* record_message - see record.h. */
int
record_message(struct store *st, int64_t deadline_ms, struct message_record *rec,
	       const char *presented_token, const char *verp_domain, const char *sender,
	       const struct record_hook *hook, struct record_result *res)
{
	struct record_job job;
	char token[TOKEN_LEN + 1], verp[VERP_ADDR_MAX + 1];

	memset(res, 0, sizeof(*res));
	if (token_new(token) != 0)
		return STORE_ERROR;
	free(rec->token);
	if ((rec->token = strdup(token)) == NULL)
		return STORE_ERROR;
	free(rec->verp_sender);
	rec->verp_sender = NULL;
	if (verp_domain != NULL && verp_address(token, verp_domain, verp) == 0
	    && (rec->verp_sender = strdup(verp)) == NULL)
		return STORE_ERROR;
	job.rec = rec;
	job.presented = presented_token;
	job.verp_domain = verp_domain;
	job.sender = sender;
	job.hook = hook;
	job.res = res;
	return store_run(st, record_txn, &job, deadline_ms);
}
