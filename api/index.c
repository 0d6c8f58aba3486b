/*
 * index.c - the attempts of each webhook and the deliveries of each
 * message, in memory.  Both tables of the store are keyed by a sequence
 * that only grows, so an index is brought up to date by reading the keys
 * after the last one it saw.  Attempts are purged oldest first: the
 * oldest sequence left cuts every list.  Deliveries are purged by age, so
 * a reader skips one that is gone.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/linkhash.h>

#include "index.h"
#include "store/delivery.h"
#include "util/json.h"
#include "util/log.h"
#include "util/util.h"

#define PRUNE_EVERY_MS 60000

/* A list of sequences, oldest first; [start, n) are live. */
struct seqs {
	uint64_t *v;
	size_t start, n, cap;
};

struct api_index {
	pthread_mutex_t lock;
	struct lh_table *by_webhook; /* webhook id -> struct seqs */
	struct lh_table *by_token;   /* message token -> struct seqs */
	uint64_t attempt_seen;	     /* last attempt sequence read */
	uint64_t delivery_seen;	     /* last delivery id read */
	int64_t pruned_ms;	     /* when by_token was last pruned */
};

/* One (key, sequence) read by a refresh. */
struct pair {
	char *key;
	uint64_t seq;
};

/* What one refresh read, applied once its transaction has ended. */
struct fresh {
	int attempts_wanted, deliveries_wanted, prune_wanted;
	struct pair *attempts, *deliveries;
	size_t na, nd, capa, capd;
	uint64_t attempt_seen, delivery_seen, first_attempt, first_delivery;
};

/* free_entry - a table entry's key and list. */
static void
free_entry(struct lh_entry *e)
{
	struct seqs *s = (struct seqs *) lh_entry_v(e);

	free((char *) lh_entry_k(e));
	free(s->v);
	free(s);
}

/* index_new - see index.h. */
struct api_index *
index_new(void)
{
	struct api_index *ix = xcalloc(1, sizeof(*ix));

	if (pthread_mutex_init(&ix->lock, NULL) != 0) {
		free(ix);
		return NULL;
	}
	ix->by_webhook = lh_kchar_table_new(64, free_entry);
	ix->by_token = lh_kchar_table_new(4096, free_entry);
	if (ix->by_webhook == NULL || ix->by_token == NULL) {
		index_free(ix);
		return NULL;
	}
	return ix;
}

/* index_free - see index.h. */
void
index_free(struct api_index *ix)
{
	if (ix == NULL)
		return;
	if (ix->by_webhook != NULL)
		lh_table_free(ix->by_webhook);
	if (ix->by_token != NULL)
		lh_table_free(ix->by_token);
	pthread_mutex_destroy(&ix->lock);
	free(ix);
}

/* push - append (key, seq) to a growing array of pairs. */
static void
push(struct pair **arr, size_t *n, size_t *cap, const char *key, uint64_t seq)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		*arr = xrealloc(*arr, *cap * sizeof(**arr));
	}
	(*arr)[*n].key = xstrdup(key);
	(*arr)[*n].seq = seq;
	(*n)++;
}

/* fresh_clear - free what a refresh read. */
static void
fresh_clear(struct fresh *f)
{
	int aw = f->attempts_wanted, dw = f->deliveries_wanted, pw = f->prune_wanted;
	size_t i;

	for (i = 0; i < f->na; i++)
		free(f->attempts[i].key);
	for (i = 0; i < f->nd; i++)
		free(f->deliveries[i].key);
	free(f->attempts);
	free(f->deliveries);
	memset(f, 0, sizeof(*f));
	f->attempts_wanted = aw;
	f->deliveries_wanted = dw;
	f->prune_wanted = pw;
}

/* attempt_fn - note one new attempt. */
static int
attempt_fn(uint64_t seq, const char *webhook, void *arg)
{
	struct fresh *f = arg;

	push(&f->attempts, &f->na, &f->capa, webhook, seq);
	f->attempt_seen = seq;
	return 0;
}

/* delivery_fn - note one new delivery of a message. */
static int
delivery_fn(const struct delivery *d, void *arg)
{
	struct fresh *f = arg;
	const char *tok = json_string_member(json_member(d->payload, "message"), "token");

	if (tok != NULL)
		push(&f->deliveries, &f->nd, &f->capd, tok, d->id);
	f->delivery_seen = d->id;
	return 0;
}

/* first_fn - the first delivery's id, then stop. */
static int
first_fn(const struct delivery *d, void *arg)
{
	*(uint64_t *) arg = d->id;
	return 1;
}

/* refresh_cb - what was added after what the index saw. */
static int
refresh_cb(struct store_txn *txn, void *arg)
{
	struct fresh *f = arg;
	uint64_t a = f->attempt_seen, d = f->delivery_seen;
	int rc;

	fresh_clear(f);
	f->attempt_seen = a;
	f->delivery_seen = d;
	if (f->attempts_wanted
	    && ((rc = attempt_first_seq(txn, &f->first_attempt)) != STORE_OK
		|| (rc = attempt_each_webhook(txn, a, attempt_fn, f)) != STORE_OK))
		return rc;
	if (f->prune_wanted
	    && (rc = delivery_each(txn, 0, NULL, first_fn, &f->first_delivery))
		   != STORE_OK)
		return rc;
	if (f->deliveries_wanted
	    && (rc = delivery_each(txn, d, NULL, delivery_fn, f)) != STORE_OK)
		return rc;
	return STORE_OK;
}

/* add - append seq to key's list in table t. */
static void
add(struct lh_table *t, const char *key, uint64_t seq)
{
	struct seqs *s;
	void *v;

	if (lh_table_lookup_ex(t, key, &v)) {
		s = v;
	} else {
		s = xcalloc(1, sizeof(*s));
		if (lh_table_insert(t, xstrdup(key), s) != 0)
			log_fatal("out of memory");
	}
	if (s->n == s->cap) {
		/* drop the dead front before growing */
		if (s->start > 0) {
			memmove(s->v, s->v + s->start, (s->n - s->start) * sizeof(*s->v));
			s->n -= s->start;
			s->start = 0;
		}
		if (s->n == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 8;
			s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
		}
	}
	s->v[s->n++] = seq;
}

/*
 * prune_tokens - drop the deliveries below the oldest left, and messages
 * with none left, so that the index does not outgrow what the store keeps.
 */
static void
prune_tokens(struct api_index *ix, uint64_t first_delivery)
{
	struct lh_entry *e, *tmp;
	struct seqs *s;

	lh_foreach_safe(ix->by_token, e, tmp)
	{
		s = (struct seqs *) lh_entry_v(e);
		while (s->start < s->n
		       && (first_delivery == 0 || s->v[s->start] < first_delivery))
			s->start++;
		if (s->start == s->n)
			lh_table_delete_entry(ix->by_token, e);
	}
}

/*
 * refresh - bring the index of attempts or of deliveries (or both) up to
 * date; called with the lock held.
 */
static int
refresh(struct api_index *ix, struct store *st, int attempts, int deliveries)
{
	struct fresh f;
	struct lh_entry *e;
	struct seqs *s;
	size_t i;
	int rc;

	memset(&f, 0, sizeof(f));
	f.attempts_wanted = attempts;
	f.deliveries_wanted = deliveries;
	f.prune_wanted = deliveries && monotonic_ms() - ix->pruned_ms >= PRUNE_EVERY_MS;
	f.attempt_seen = ix->attempt_seen;
	f.delivery_seen = ix->delivery_seen;
	if ((rc = store_run(st, refresh_cb, &f, 0)) != STORE_OK) {
		fresh_clear(&f);
		return rc;
	}
	for (i = 0; i < f.na; i++)
		add(ix->by_webhook, f.attempts[i].key, f.attempts[i].seq);
	for (i = 0; i < f.nd; i++)
		add(ix->by_token, f.deliveries[i].key, f.deliveries[i].seq);
	ix->attempt_seen = f.attempt_seen;
	ix->delivery_seen = f.delivery_seen;
	/* attempts older than the oldest left were purged */
	lh_foreach(ix->by_webhook, e)
	{
		if (!attempts)
			break;
		s = (struct seqs *) lh_entry_v(e);
		while (s->start < s->n
		       && (f.first_attempt == 0 || s->v[s->start] < f.first_attempt))
			s->start++;
	}
	if (f.prune_wanted) {
		prune_tokens(ix, f.first_delivery);
		ix->pruned_ms = monotonic_ms();
	}
	fresh_clear(&f);
	return STORE_OK;
}

/* index_attempts - see index.h. */
int
index_attempts(struct api_index *ix, struct store *st, const char *webhook, long offset,
	       long limit, uint64_t *out, long *n, long *total)
{
	struct seqs *s;
	void *v;
	long i, live;
	int rc;

	*n = *total = 0;
	pthread_mutex_lock(&ix->lock);
	if ((rc = refresh(ix, st, 1, 0)) == STORE_OK
	    && lh_table_lookup_ex(ix->by_webhook, webhook, &v)) {
		s = v;
		live = (long) (s->n - s->start);
		*total = live;
		for (i = offset; i < live && *n < limit; i++)
			out[(*n)++] = s->v[s->n - 1 - (size_t) i];
	}
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

/* index_deliveries - see index.h. */
int
index_deliveries(struct api_index *ix, struct store *st, const char *token,
		 uint64_t **out, size_t *n)
{
	struct seqs *s;
	void *v;
	int rc;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&ix->lock);
	if ((rc = refresh(ix, st, 0, 1)) == STORE_OK
	    && lh_table_lookup_ex(ix->by_token, token, &v)) {
		s = v;
		*n = s->n - s->start;
		*out = xmalloc((*n ? *n : 1) * sizeof(**out));
		memcpy(*out, s->v + s->start, *n * sizeof(**out));
	}
	pthread_mutex_unlock(&ix->lock);
	return rc;
}
