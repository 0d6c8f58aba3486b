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
	pthread_mutex_t lock;		/* guards matcher and settings */
	struct tenant_matcher *matcher; /* NULL: no rules read yet */
	json_object *settings;		/* {name: settings} of those that have any */
	int any_tracking;		/* some tenant sets tracking_url */
	uint64_t gen;			/* change counter of what was read */
};

struct load_job {
	int force;
	uint64_t read;			/* the counter of the rules in use */
	uint64_t gen;			/* the counter now */
	struct tenant_matcher *matcher; /* NULL: unchanged */
	json_object *settings;		/* read with a new matcher */
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
	json_object_put(tc->settings);
	pthread_mutex_destroy(&tc->lock);
	free(tc);
}

/* load_settings - every tenant's settings object, by name. */
static int
load_settings(struct store_txn *txn, json_object **out)
{
	struct tenant **list;
	size_t n, i;
	int rc;

	*out = NULL;
	if ((rc = tenant_list(txn, &list, &n)) != STORE_OK)
		return (rc);
	*out = json_object_new_object();
	for (i = 0; i < n; i++)
		if (list[i]->settings != NULL
		    && json_object_is_type(list[i]->settings, json_type_object))
			json_object_object_add(*out, list[i]->name,
					       json_object_get(list[i]->settings));
	tenant_list_free(list, n);
	return (STORE_OK);
}

/* load_txn - the rules and settings, when their change counter moved. */
static int
load_txn(struct store_txn *txn, void *ctx)
{
	struct load_job *job = ctx;
	int rc;

	/* A retry starts again from what is in use. */
	tenant_matcher_free(job->matcher);
	job->matcher = NULL;
	json_object_put(job->settings);
	job->settings = NULL;
	job->gen = job->read;
	rc = tenant_matcher_reload(txn, &job->gen, job->force, &job->matcher);
	if (rc == STORE_OK && job->matcher != NULL)
		rc = load_settings(txn, &job->settings);
	return (rc);
}

/* tracking_in - whether some tenant's settings name a tracking_url. */
static int
tracking_in(json_object *settings)
{
	json_object *v;

	json_object_object_foreach(settings, name, one)
	{
		(void) name;
		if (json_object_object_get_ex(one, "tracking_url", &v)
		    && json_object_is_type(v, json_type_string)
		    && json_object_get_string_len(v) > 0)
			return (1);
	}
	return (0);
}

/* tenant_cache_refresh - see tenant_cache.h. */
int
tenant_cache_refresh(struct tenant_cache *tc, struct store *st, int force)
{
	struct load_job job;
	struct tenant_matcher *old;
	json_object *old_settings;
	size_t n;
	int rc;

	/* Only the housekeeping thread reads and writes gen. */
	job.force = force || tc->matcher == NULL;
	job.read = tc->gen;
	job.matcher = NULL;
	job.settings = NULL;
	if ((rc = store_run(st, load_txn, &job, 0)) != STORE_OK) {
		tenant_matcher_free(job.matcher);
		json_object_put(job.settings);
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
	old_settings = tc->settings;
	tc->settings = job.settings;
	__atomic_store_n(&tc->any_tracking, tracking_in(job.settings), __ATOMIC_RELEASE);
	pthread_mutex_unlock(&tc->lock);
	tenant_matcher_free(old);
	json_object_put(old_settings);
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

/* tenant_cache_settings - see tenant_cache.h. */
json_object *
tenant_cache_settings(struct tenant_cache *tc, const char *name)
{
	json_object *v = NULL;

	if (tc == NULL)
		return (NULL);
	pthread_mutex_lock(&tc->lock);
	if (tc->settings != NULL && json_object_object_get_ex(tc->settings, name, &v))
		v = json_object_get(v);
	else
		v = NULL;
	pthread_mutex_unlock(&tc->lock);
	return (v);
}

/* tenant_cache_any_tracking - see tenant_cache.h. */
int
tenant_cache_any_tracking(struct tenant_cache *tc)
{
	return (tc != NULL && __atomic_load_n(&tc->any_tracking, __ATOMIC_ACQUIRE));
}
