/*
 * classify_cache.c - remember classify()'s verdicts: a log repeats the
 * same few replies, and classifying one costs thousands of instructions.
 *
 * The replies differ mostly in the addresses they quote, which the rules
 * never see.  So the key is what classify_decide() reads: the text the
 * rules see (addresses dropped, lowercase), the severity, the greeting
 * flag, the reply and enhanced codes and the remote host; the codes and
 * host themselves are read from the text each time (classify_prepare()).
 * Every verdict is dropped when the rules change (classify_rules_version()).
 * The table is direct-mapped with a fixed number of slots and a bound on
 * the key, so memory stays flat.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify.h"
#include "classify/classify_int.h"
#include "util/util.h"

/* Longer keys are classified every time: replies that long are rare. */
#define CACHE_KEY_MAX 1024

struct cache_slot {
	char *key; /* key_make()'s; NULL: empty */
	size_t len;
	enum classification classification;
};

struct classify_cache {
	struct cache_slot *slots;
	size_t nslots; /* a power of two */
	unsigned long version;
};

/* classify_cache_new - see classify.h. */
struct classify_cache *
classify_cache_new(size_t nslots)
{
	struct classify_cache *c = xcalloc(1, sizeof(*c));
	size_t n = 1;

	while (n < nslots && n < ((size_t) 1 << 20))
		n <<= 1;
	c->slots = xcalloc(n, sizeof(*c->slots));
	c->nslots = n;
	c->version = classify_rules_version();
	return (c);
}

/* cache_clear - forget every verdict. */
static void
cache_clear(struct classify_cache *c)
{
	size_t i;

	for (i = 0; i < c->nslots; i++) {
		free(c->slots[i].key);
		c->slots[i].key = NULL;
	}
}

/* classify_cache_free - see classify.h. */
void
classify_cache_free(struct classify_cache *c)
{
	if (c == NULL)
		return;
	cache_clear(c);
	free(c->slots);
	free(c);
}

/* hash_bytes - FNV-1a. */
static uint32_t
hash_bytes(uint32_t h, const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char) p[i];
		h *= 16777619u;
	}
	return (h);
}

/* key_add - append len bytes of p to key at *len; 0 when it is full. */
static int
key_add(char *key, size_t *len, const void *p, size_t n)
{
	if (n > CACHE_KEY_MAX - *len)
		return (0);
	memcpy(key + *len, p, n);
	*len += n;
	return (1);
}

/* key_make - everything classify_decide() reads, in key; its length, or 0
 * when it is too long to keep. */
static size_t
key_make(char *key, const char *buf, int severity, int greeting,
	 const struct classify_result *res)
{
	int num[3] = { severity, greeting, res->smtp_code };
	size_t len = 0;

	if (!key_add(key, &len, num, sizeof(num))
	    || !key_add(key, &len, res->smtp_enhanced_code,
			strlen(res->smtp_enhanced_code) + 1)
	    || !key_add(key, &len, res->remote_host, strlen(res->remote_host) + 1)
	    || !key_add(key, &len, buf, strlen(buf) + 1))
		return (0);
	return (len);
}

/* classify_cached - see classify.h. */
void
classify_cached(struct classify_cache *c, const char *dsn, const char *text,
		struct classify_result *out)
{
	char buf[CLASSIFY_MATCH_MAX + 1], key[CACHE_KEY_MAX];
	struct cache_slot *s;
	int severity, greeting;
	size_t len;

	if (!classify_prepare(dsn, text, out, buf, sizeof(buf), &severity, &greeting))
		return;
	if (c == NULL || (len = key_make(key, buf, severity, greeting, out)) == 0) {
		classify_decide(buf, severity, greeting, out);
		return;
	}
	if (c->version != classify_rules_version()) {
		cache_clear(c);
		c->version = classify_rules_version();
	}
	s = &c->slots[hash_bytes(2166136261u, key, len) & (c->nslots - 1)];
	if (s->key != NULL && s->len == len && memcmp(s->key, key, len) == 0) {
		out->classification = s->classification;
		return;
	}
	classify_decide(buf, severity, greeting, out);
	free(s->key);
	s->key = xmalloc(len);
	memcpy(s->key, key, len);
	s->len = len;
	s->classification = out->classification;
}
