/*
 * signpool.c - signing threads for posthook-webhook (see signpool.h).
 *
 * One mutex guards both lists (todo: submitted, not yet signed; done:
 * signed, not yet taken), busy and stop.  A thread takes the oldest todo
 * job, signs it without the lock, and appends it to done; when done was
 * empty it writes the eventfd, so one wake-up covers a burst.  The loop
 * reads the eventfd before it swaps the done list out, so a job appended
 * after the swap always finds done empty and wakes the loop again.
 * pending counts jobs between submit and take; only the loop changes it.
 * The pool's threads block every signal: signals go to the loop thread.
 * Each thread keeps a signer (sign.h) for the key it last signed with, so
 * the key's context is set up once per key and thread, not per request.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/log.h"
#include "sign/sign.h"
#include "signpool.h"
#include "util/util.h"

#define MAX_THREADS 64

struct signpool {
	pthread_mutex_t mu;
	pthread_cond_t work; /* todo not empty, or stop */
	pthread_cond_t idle; /* todo empty and no thread busy */
	struct sign_job *todo, *todo_tail;
	struct sign_job *done, *done_tail;
	int busy;
	int stop;
	int efd;
	int pending; /* the loop's alone */
	int nthreads;
	pthread_t threads[MAX_THREADS];
};

/*
 * job_sign - sign with this thread's signer, made anew when the job's key
 * is another (the kid names the key, so a freed key whose address is
 * reused cannot be mistaken for it); a signer that cannot be made falls
 * back to signing_key_sign().
 */
static char *
job_sign(struct signer **s, const struct sign_job *j)
{
	if (*s == NULL || strcmp(signer_kid(*s), signing_key_kid(j->key)) != 0) {
		signer_free(*s);
		if ((*s = signer_new(j->key)) == NULL) {
			log_warn("signing pool: cannot prepare a signing context");
			return signing_key_sign(j->key, j->body, j->len);
		}
	}
	return signer_sign(*s, j->body, j->len);
}

/* worker - sign jobs until stopped. */
static void *
worker(void *arg)
{
	struct signpool *p = arg;
	struct signer *signer = NULL; /* this thread's */
	struct sign_job *j;
	uint64_t one = 1;
	int was_empty;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->todo == NULL && !p->stop)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->stop)
			break;
		j = p->todo;
		p->todo = j->next;
		if (p->todo == NULL)
			p->todo_tail = NULL;
		p->busy++;
		pthread_mutex_unlock(&p->mu);

		j->next = NULL;
		j->sig = job_sign(&signer, j);

		pthread_mutex_lock(&p->mu);
		p->busy--;
		was_empty = p->done == NULL;
		if (was_empty)
			p->done = j;
		else
			p->done_tail->next = j;
		p->done_tail = j;
		if (was_empty && write(p->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_error("signing pool: cannot wake the loop: %m");
		if (p->todo == NULL && p->busy == 0)
			pthread_cond_broadcast(&p->idle);
	}
	pthread_mutex_unlock(&p->mu);
	signer_free(signer);
	return NULL;
}

/* signpool_new - see signpool.h. */
struct signpool *
signpool_new(int n)
{
	struct signpool *p;
	sigset_t all, old;
	int rc;

	if (n < 1) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		n = cpus > 0 ? (int) cpus : 1;
	}
	if (n > MAX_THREADS)
		n = MAX_THREADS;
	p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->idle, NULL);
	p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->efd < 0) {
		log_error("signing pool: eventfd: %m");
		signpool_free(p);
		return NULL;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; p->nthreads < n; p->nthreads++) {
		rc = pthread_create(&p->threads[p->nthreads], NULL, worker, p);
		if (rc != 0) {
			log_error("signing pool: cannot start a thread: %s",
				  strerror(rc));
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (p->nthreads == 0) {
		signpool_free(p);
		return NULL;
	}
	return p;
}

/* signpool_free - see signpool.h. */
void
signpool_free(struct signpool *p)
{
	int i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	if (p->efd >= 0)
		close(p->efd);
	pthread_cond_destroy(&p->idle);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* signpool_threads - see signpool.h. */
int
signpool_threads(const struct signpool *p)
{
	return p->nthreads;
}

/* signpool_submit - see signpool.h. */
void
signpool_submit(struct signpool *p, struct sign_job *jobs)
{
	struct sign_job *last;
	int n = 0;

	if (jobs == NULL)
		return;
	for (last = jobs;; last = last->next) {
		last->sig = NULL;
		n++;
		if (last->next == NULL)
			break;
	}
	p->pending += n;
	pthread_mutex_lock(&p->mu);
	if (p->todo == NULL)
		p->todo = jobs;
	else
		p->todo_tail->next = jobs;
	p->todo_tail = last;
	if (n > 1)
		pthread_cond_broadcast(&p->work);
	else
		pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
}

/* signpool_fd - see signpool.h. */
int
signpool_fd(const struct signpool *p)
{
	return p->efd;
}

/* signpool_take - see signpool.h. */
struct sign_job *
signpool_take(struct signpool *p)
{
	struct sign_job *list, *j;
	uint64_t v;

	if (p->pending == 0)
		return NULL;
	/* first clear the eventfd, then swap: see the file comment */
	if (read(p->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_error("signing pool: eventfd read: %m");
	pthread_mutex_lock(&p->mu);
	list = p->done;
	p->done = p->done_tail = NULL;
	pthread_mutex_unlock(&p->mu);
	for (j = list; j != NULL; j = j->next)
		p->pending--;
	return list;
}

/* signpool_pending - see signpool.h. */
int
signpool_pending(const struct signpool *p)
{
	return p->pending;
}

/* signpool_wait - see signpool.h. */
void
signpool_wait(struct signpool *p)
{
	pthread_mutex_lock(&p->mu);
	while (p->todo != NULL || p->busy > 0)
		pthread_cond_wait(&p->idle, &p->mu);
	pthread_mutex_unlock(&p->mu);
}
