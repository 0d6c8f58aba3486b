/*
 * ratelimit.h - a token bucket per API key: rate tokens a second, at most
 * burst held.  Pure arithmetic on times the caller gives, so tests pass
 * their own clock; thread-safe.
 */
#ifndef PH_RATELIMIT_H
#define PH_RATELIMIT_H

#include <stdint.h>

struct ratelimit;

struct ratelimit *ratelimit_new(int rate, int burst);
void ratelimit_free(struct ratelimit *rl);
/* ratelimit_set - new rate and burst (reload); buckets keep their level. */
void ratelimit_set(struct ratelimit *rl, int rate, int burst);

/*
 * ratelimit_take - take one token of key's bucket at now_ms: 1 when
 * allowed, 0 when not, with *retry_after_s the whole seconds until one is
 * there.
 */
int ratelimit_take(struct ratelimit *rl, const char *key, int64_t now_ms,
		   int *retry_after_s);

/* ratelimit_remaining - whole requests key may make now (none taken). */
int ratelimit_remaining(struct ratelimit *rl, const char *key, int64_t now_ms);

#endif
