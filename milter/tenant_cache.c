/*
 * tenant_cache.c - the milter's copy of the tenants' rules (see
 * tenant_cache.h).  A mutex guards the matcher: a match takes
 * microseconds, and the housekeeping thread builds a new matcher outside
 * the lock and only swaps it in under it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "tenant_cache.h"
#include "util/log.h"
#include "util/util.h"

struct tenant_cache {
	pthread_mutex_t lock;		/* guards matcher */
	struct tenant_matcher *matcher; /* NULL: no rules read yet */
	uint64_t gen;			/* change counter of what was read */
};

struct load_job {
	int force;
	uint64_t read;			/* the counter of the rules in use */
	uint64_t gen;			/* the counter now */
	struct tenant_matcher *matcher; /* NULL: unchanged */
};

/* tenant_cache_new - a cache with no rules. */
struct tenant_cache *
tenant_cache_new(void)
{
	struct tenant_cache *tc = xcalloc(1, sizeof(*tc));

	if (pthread_mutex_init(&tc->lock, NULL) != 0)
		log_fatal("pthread_mutex_init failed");
	return (tc);
}

/* tenant_cache_free - free the cache and its rules. */
void
tenant_cache_free(struct tenant_cache *tc)
{
	if (tc == NULL)
		return;
	tenant_matcher_free(tc->matcher);
	pthread_mutex_destroy(&tc->lock);
	free(tc);
}

/* load_txn - the rules, when their change counter moved. */
static int
load_txn(struct store_txn *txn, void *ctx)
{
	struct load_job *job = ctx;

	/* A retry starts again from what is in use. */
	tenant_matcher_free(job->matcher);
	job->gen = job->read;
	return (tenant_matcher_reload(txn, &job->gen, job->force, &job->matcher));
}

/* tenant_cache_refresh - see tenant_cache.h. */
int
tenant_cache_refresh(struct tenant_cache *tc, struct store *st, int force)
{
	struct load_job job;
	struct tenant_matcher *old;
	size_t n;
	int rc;

	/* Only the housekeeping thread reads and writes gen. */
	job.force = force || tc->matcher == NULL;
	job.read = tc->gen;
	job.matcher = NULL;
	if ((rc = store_run(st, load_txn, &job, 0)) != STORE_OK) {
		tenant_matcher_free(job.matcher);
		log_warn("cannot read the tenants' rules (status %d): keeping "
			 "those in use",
			 rc);
		return (-1);
	}
	if (job.matcher == NULL)
		return (0);
	tc->gen = job.gen;
	n = tenant_matcher_rules(job.matcher);
	pthread_mutex_lock(&tc->lock);
	old = tc->matcher;
	tc->matcher = job.matcher;
	pthread_mutex_unlock(&tc->lock);
	tenant_matcher_free(old);
	log_info("tenant rules loaded: %zu values", n);
	return (0);
}

/* tenant_cache_match - see tenant_cache.h. */
void
tenant_cache_match(struct tenant_cache *tc, const struct tenant_facts *f, char *out)
{
	if (tc == NULL) {
		snprintf(out, TENANT_NAME_MAX + 1, "%s", TENANT_DEFAULT);
		return;
	}
	pthread_mutex_lock(&tc->lock);
	snprintf(out, TENANT_NAME_MAX + 1, "%s", tenant_match(tc->matcher, f));
	pthread_mutex_unlock(&tc->lock);
}
