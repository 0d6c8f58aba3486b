/*
 * signpool.h - RSA signing off posthook-webhook's loop thread: a few
 * threads that sign request bodies handed to them, and hand the jobs back
 * through a queue whose eventfd the loop polls beside libcurl's sockets.
 *
 * Ownership.  The loop thread fills a job (key, body) and submits it; from
 * then until signpool_take() returns it, the job belongs to the pool: the
 * loop must not touch the job, the body or free the key, and the pool
 * touches nothing but the job (it reads key, body and len, and writes sig).
 * The key must outlive the job: the loop refreshes the keyring (which may
 * free keys) only when signpool_pending() is 0.  Only the loop thread calls
 * these functions; the pool's own threads only sign.
 */
#ifndef PH_WEBHOOK_SIGNPOOL_H
#define PH_WEBHOOK_SIGNPOOL_H

#include <stddef.h>

struct signing_key;
struct signpool;

struct sign_job {
	struct sign_job *next; /* the pool's list link */
	/* set by the loop before signpool_submit(), read by the pool */
	const struct signing_key *key;
	const char *body;
	size_t len;
	/* set by the pool: the base64 signature (malloc()ed), NULL on failure */
	char *sig;
};

/* signpool_new - n signing threads (n < 1: one per online CPU); NULL (logged). */
struct signpool *signpool_new(int n);
/* signpool_free - stop and join the threads; jobs not taken are lost. */
void signpool_free(struct signpool *p);
/* signpool_threads - how many threads sign. */
int signpool_threads(const struct signpool *p);

/* signpool_submit - queue jobs (a list linked by next) for signing. */
void signpool_submit(struct signpool *p, struct sign_job *jobs);

/* signpool_fd - readable when signed jobs wait to be taken. */
int signpool_fd(const struct signpool *p);

/*
 * signpool_take - every signed job, as a list linked by next (oldest
 * first), or NULL; clears signpool_fd.
 */
struct sign_job *signpool_take(struct signpool *p);

/* signpool_pending - jobs submitted and not yet taken. */
int signpool_pending(const struct signpool *p);

/* signpool_wait - block until every submitted job is signed. */
void signpool_wait(struct signpool *p);

#endif
