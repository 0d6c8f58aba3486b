/*
 * group.c - group commit of store callbacks: the first waiting thread
 * commits the batch of everything queued while the previous batch ran.
 */
#include <pthread.h>
#include <stdlib.h>

#include "group.h"

#define BATCH_MAX 256 /* callbacks in one transaction, to bound its locks */

struct job {
	store_fn fn;
	void *ctx;
	int64_t deadline_ms;
	int status;
	int done;
	struct job *next;
};

struct group {
	pthread_mutex_t lock;
	pthread_cond_t done;
	struct job *head, **tail; /* queued for the next batch */
	int busy;		  /* a batch is running */
	uint64_t batches, calls;
};

/* group_new - see group.h. */
struct group *
group_new(void)
{
	struct group *g = xcalloc(1, sizeof(*g));

	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->done, NULL);
	g->tail = &g->head;
	return (g);
}

/* group_free - see group.h; no thread may be in group_run(). */
void
group_free(struct group *g)
{
	if (g == NULL)
		return;
	pthread_cond_destroy(&g->done);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

/* run_batch - every callback of the batch, in the one transaction. */
static int
run_batch(struct store_txn *txn, void *ctx)
{
	struct job *j;
	int status;

	for (j = ctx; j != NULL; j = j->next)
		if ((status = j->fn(txn, j->ctx)) != STORE_OK)
			return (status);
	return (STORE_OK);
}

/* take - detach up to BATCH_MAX queued jobs, oldest first; the lock is held. */
static struct job *
take(struct group *g, int64_t *deadline_ms, unsigned *n)
{
	struct job *first = g->head, *j = first, *last = NULL;

	*deadline_ms = 0;
	for (*n = 0; j != NULL && *n < BATCH_MAX; j = j->next, (*n)++) {
		if (j->deadline_ms > 0
		    && (*deadline_ms == 0 || j->deadline_ms < *deadline_ms))
			*deadline_ms = j->deadline_ms;
		last = j;
	}
	g->head = j;
	if (j == NULL)
		g->tail = &g->head;
	if (last != NULL)
		last->next = NULL;
	return (first);
}

/* commit - run one batch, each callback alone when the batch fails. */
static void
commit(struct store *st, struct job *batch, int64_t deadline_ms, unsigned n)
{
	struct job *j;
	int status = store_run(st, run_batch, batch, deadline_ms);

	for (j = batch; j != NULL; j = j->next)
		j->status = status;
	if (status != STORE_OK && n > 1)
		for (j = batch; j != NULL; j = j->next)
			j->status = store_run(st, j->fn, j->ctx, j->deadline_ms);
}

/* group_run - see group.h. */
int
group_run(struct group *g, struct store *st, store_fn fn, void *ctx, int64_t deadline_ms)
{
	struct job me = { fn, ctx, deadline_ms, STORE_ERROR, 0, NULL };
	struct job *batch, *j;
	int64_t batch_deadline;
	unsigned n;

	pthread_mutex_lock(&g->lock);
	*g->tail = &me;
	g->tail = &me.next;
	while (!me.done) {
		if (g->busy) {
			pthread_cond_wait(&g->done, &g->lock);
			continue;
		}
		g->busy = 1;
		batch = take(g, &batch_deadline, &n);
		pthread_mutex_unlock(&g->lock);
		commit(st, batch, batch_deadline, n);
		pthread_mutex_lock(&g->lock);
		for (j = batch; j != NULL; j = j->next)
			j->done = 1; /* its thread reads it under the lock */
		g->batches++;
		g->calls += n;
		g->busy = 0;
		pthread_cond_broadcast(&g->done);
	}
	pthread_mutex_unlock(&g->lock);
	return (me.status);
}

/* group_stats - see group.h. */
void
group_stats(struct group *g, uint64_t *batches, uint64_t *calls)
{
	pthread_mutex_lock(&g->lock);
	*batches = g->batches;
	*calls = g->calls;
	pthread_mutex_unlock(&g->lock);
}
