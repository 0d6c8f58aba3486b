/*
 * classify_cache.c - remember classify()'s verdicts: a log repeats the
 * same few replies, and classifying one costs thousands of instructions.
 *
 * classify() reads only the dsn, the text and the rules in use; the key is
 * the exact dsn and text, and every verdict is dropped when the rules
 * change (classify_rules_version()).  The table is direct-mapped with a
 * fixed number of slots and a bound on the key, so memory stays flat.
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
	char *key; /* dsn, NUL, text, NUL; NULL: empty */
	size_t len;
	struct classify_result res;
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

/* classify_cached - see classify.h. */
void
classify_cached(struct classify_cache *c, const char *dsn, const char *text,
		struct classify_result *out)
{
	size_t dlen = dsn != NULL ? strlen(dsn) : 0;
	size_t tlen = text != NULL ? strlen(text) : 0;
	size_t len = dlen + 1 + tlen + 1;
	struct cache_slot *s;
	uint32_t h;

	if (c == NULL || len > CACHE_KEY_MAX) {
		classify(dsn, text, out);
		return;
	}
	if (c->version != classify_rules_version()) {
		cache_clear(c);
		c->version = classify_rules_version();
	}
	h = hash_bytes(2166136261u, dsn != NULL ? dsn : "", dlen + 1);
	h = hash_bytes(h, text != NULL ? text : "", tlen + 1);
	s = &c->slots[h & (c->nslots - 1)];
	if (s->key != NULL && s->len == len
	    && memcmp(s->key, dsn != NULL ? dsn : "", dlen + 1) == 0
	    && memcmp(s->key + dlen + 1, text != NULL ? text : "", tlen + 1) == 0) {
		*out = s->res;
		return;
	}
	classify(dsn, text, out);
	free(s->key);
	s->key = xmalloc(len);
	memcpy(s->key, dsn != NULL ? dsn : "", dlen + 1);
	memcpy(s->key + dlen + 1, text != NULL ? text : "", tlen + 1);
	s->len = len;
	s->res = *out;
}
