/*
 * ratelimit.c - token buckets in a small open-addressing table keyed by
 * API key id.  The table holds at most BUCKETS keys; when it is full the
 * bucket of the key least recently seen is reused (a fresh bucket is full,
 * so this only ever errs towards letting a request through).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"
#include "util/util.h"

#define BUCKETS 1024
#define KEY_MAX 32

struct bucket {
	char key[KEY_MAX];
	double tokens;
	int64_t last_ms;
};

struct ratelimit {
	pthread_mutex_t lock;
	int rate;
	int burst;
	struct bucket b[BUCKETS];
};

/* ratelimit_new - see ratelimit.h. */
struct ratelimit *
ratelimit_new(int rate, int burst)
{
	struct ratelimit *rl = xcalloc(1, sizeof(*rl));

	if (pthread_mutex_init(&rl->lock, NULL) != 0) {
		free(rl);
		return NULL;
	}
	ratelimit_set(rl, rate, burst);
	return rl;
}

/* ratelimit_free - see ratelimit.h. */
void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}

/* ratelimit_set - see ratelimit.h. */
void
ratelimit_set(struct ratelimit *rl, int rate, int burst)
{
	pthread_mutex_lock(&rl->lock);
	rl->rate = rate > 0 ? rate : 1;
	rl->burst = burst > 0 ? burst : 1;
	pthread_mutex_unlock(&rl->lock);
}

/* hash - FNV-1a of the key. */
static unsigned
hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s != 0; s++)
		h = (h ^ (unsigned char) *s) * 16777619u;
	return h;
}

/* find - key's bucket, made full when new or reused. */
static struct bucket *
find(struct ratelimit *rl, const char *key, int64_t now_ms)
{
	unsigned i, start = hash(key) % BUCKETS;
	struct bucket *b, *oldest = NULL;

	for (i = 0; i < 16; i++) {
		b = &rl->b[(start + i) % BUCKETS];
		if (b->key[0] != 0 && strcmp(b->key, key) == 0)
			return b;
		if (b->key[0] == 0) {
			oldest = b;
			break;
		}
		if (oldest == NULL || b->last_ms < oldest->last_ms)
			oldest = b;
	}
	memset(oldest, 0, sizeof(*oldest));
	strncpy(oldest->key, key, KEY_MAX - 1);
	oldest->tokens = rl->burst;
	oldest->last_ms = now_ms;
	return oldest;
}

/* ratelimit_take - see ratelimit.h. */
int
ratelimit_take(struct ratelimit *rl, const char *key, int64_t now_ms, int *retry_after_s)
{
	struct bucket *b;
	double need;
	int ok;

	pthread_mutex_lock(&rl->lock);
	b = find(rl, key, now_ms);
	if (now_ms > b->last_ms) {
		b->tokens += (double) (now_ms - b->last_ms) * rl->rate / 1000.0;
		if (b->tokens > rl->burst)
			b->tokens = rl->burst;
		b->last_ms = now_ms;
	}
	ok = b->tokens >= 1.0;
	if (ok) {
		b->tokens -= 1.0;
	} else {
		need = (1.0 - b->tokens) / rl->rate;
		*retry_after_s = (int) need + ((double) (int) need < need ? 1 : 0);
		if (*retry_after_s < 1)
			*retry_after_s = 1;
	}
	pthread_mutex_unlock(&rl->lock);
	return ok;
}

/* ratelimit_remaining - see ratelimit.h. */
int
ratelimit_remaining(struct ratelimit *rl, const char *key, int64_t now_ms)
{
	struct bucket *b;
	double tokens;

	pthread_mutex_lock(&rl->lock);
	b = find(rl, key, now_ms);
	tokens = b->tokens;
	if (now_ms > b->last_ms)
		tokens += (double) (now_ms - b->last_ms) * rl->rate / 1000.0;
	if (tokens > rl->burst)
		tokens = rl->burst;
	pthread_mutex_unlock(&rl->lock);
	return (int) tokens;
}
