/*
 * volume.c - per-minute send counters and limit states in STORE_VOLUME
 * (volume.h).  Keys: 'c' SCOPE NUL MINUTE (4 bytes, big-endian) -> count
 * (8 bytes, big-endian); 's' SCOPE -> state (JSON text).
 */
#include <stdlib.h>
#include <string.h>

#include "store/volume.h"
#include "util/json.h"
#include "util/log.h"
#include "util/util.h"

#define COUNT_PREFIX 'c'
#define STATE_PREFIX 's'

/* count_key - 'c' scope NUL minute; *klen its length */
static unsigned char *
count_key(const char *scope, uint32_t minute, size_t *klen)
{
	size_t sl = strlen(scope);
	unsigned char *k = xmalloc(sl + 6);
	int i;

	k[0] = COUNT_PREFIX;
	memcpy(k + 1, scope, sl + 1);
	for (i = 0; i < 4; i++)
		k[sl + 2 + i] = (unsigned char) (minute >> (24 - 8 * i));
	*klen = sl + 6;
	return (k);
}

/* be_get - a big-endian number of len bytes */
static uint64_t
be_get(const unsigned char *p, size_t len)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < len; i++)
		v = v << 8 | p[i];
	return (v);
}

/* prune - delete scope's buckets before keep_from */
static int
prune(struct store_txn *txn, const char *scope, uint32_t keep_from)
{
	struct store_cursor *c;
	size_t plen, klen, vlen, sl = strlen(scope);
	unsigned char *prefix = count_key(scope, 0, &plen);
	const void *k, *v;
	int rc;

	if ((rc = store_cursor_open(txn, STORE_VOLUME, &c)) != STORE_OK) {
		free(prefix);
		return (rc);
	}
	rc = store_cursor_seek(c, prefix, plen);
	while (rc == STORE_OK
	       && (rc = store_cursor_next(c, &k, &klen, &v, &vlen)) == STORE_OK) {
		if (klen != plen || memcmp(k, prefix, sl + 2) != 0
		    || be_get((const unsigned char *) k + sl + 2, 4) >= keep_from)
			break;
		rc = store_cursor_del(c);
	}
	store_cursor_close(c);
	free(prefix);
	return (rc == STORE_NOTFOUND ? STORE_OK : rc);
}

/* volume_add - see volume.h */
int
volume_add(struct store_txn *txn, const char *scope, uint32_t minute, uint64_t n,
	   uint32_t keep_from)
{
	size_t klen, vlen;
	unsigned char *key = count_key(scope, minute, &klen), buf[8];
	uint64_t count = 0;
	void *val;
	int rc, i;

	rc = store_get_rmw(txn, STORE_VOLUME, key, klen, &val, &vlen);
	if (rc == STORE_OK) {
		if (vlen == 8)
			count = be_get(val, 8);
		else
			log_warn("store: volume of %s: bad counter of %zu bytes, reset",
				 scope, vlen);
		free(val);
	} else if (rc == STORE_NOTFOUND) {
		rc = prune(txn, scope, keep_from);
	}
	if (rc != STORE_OK) {
		free(key);
		return (rc);
	}
	count += n;
	for (i = 0; i < 8; i++)
		buf[i] = (unsigned char) (count >> (56 - 8 * i));
	rc = store_put(txn, STORE_VOLUME, key, klen, buf, sizeof(buf));
	free(key);
	return (rc);
}

/* volume_buckets - see volume.h */
int
volume_buckets(struct store_txn *txn, const char *scope, uint32_t first,
	       struct volume_bucket **out, size_t *n)
{
	struct store_cursor *c;
	size_t plen, klen, vlen, sl = strlen(scope), cap = 0;
	unsigned char *prefix = count_key(scope, first, &plen);
	const void *k, *v;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = store_cursor_open(txn, STORE_VOLUME, &c)) != STORE_OK) {
		free(prefix);
		return (rc);
	}
	rc = store_cursor_seek(c, prefix, plen);
	while (rc == STORE_OK
	       && (rc = store_cursor_next(c, &k, &klen, &v, &vlen)) == STORE_OK) {
		if (klen != plen || memcmp(k, prefix, sl + 2) != 0)
			break;
		if (vlen != 8)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[*n].minute =
		    (uint32_t) be_get((const unsigned char *) k + sl + 2, 4);
		(*out)[*n].count = be_get(v, 8);
		(*n)++;
	}
	store_cursor_close(c);
	free(prefix);
	if (rc == STORE_NOTFOUND)
		rc = STORE_OK;
	if (rc != STORE_OK) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return (rc);
}

/* add_scope - append name unless it is the last one already */
static void
add_scope(char ***list, size_t *n, const char *name, size_t len)
{
	if (*n > 0 && strlen((*list)[*n - 1]) == len
	    && memcmp((*list)[*n - 1], name, len) == 0)
		return;
	*list = xrealloc(*list, (*n + 2) * sizeof(**list));
	(*list)[*n] = xmalloc(len + 1);
	memcpy((*list)[*n], name, len);
	(*list)[*n][len] = 0;
	(*list)[++*n] = NULL;
}

/* has_scope - whether list holds name */
static int
has_scope(char **list, const char *name, size_t len)
{
	for (; list != NULL && *list != NULL; list++)
		if (strlen(*list) == len && memcmp(*list, name, len) == 0)
			return (1);
	return (0);
}

/* volume_scopes - see volume.h */
int
volume_scopes(struct store_txn *txn, char ***out)
{
	struct store_cursor *c;
	const void *k, *v;
	const char *name;
	size_t klen, vlen, len, n = 0;
	char **list = xcalloc(1, sizeof(*list));
	int rc;

	if ((rc = store_cursor_open(txn, STORE_VOLUME, &c)) != STORE_OK) {
		free(list);
		return (rc);
	}
	while ((rc = store_cursor_next(c, &k, &klen, &v, &vlen)) == STORE_OK) {
		if (klen < 2)
			continue;
		name = (const char *) k + 1;
		len = ((const char *) k)[0] == COUNT_PREFIX ? strnlen(name, klen - 1)
							    : klen - 1;
		if (!has_scope(list, name, len))
			add_scope(&list, &n, name, len);
	}
	store_cursor_close(c);
	if (rc != STORE_NOTFOUND) {
		for (n = 0; list[n] != NULL; n++)
			free(list[n]);
		free(list);
		return (rc);
	}
	*out = list;
	return (STORE_OK);
}

/* state_key - 's' scope, without NUL */
static char *
state_key(const char *scope, size_t *klen)
{
	char *k = xasprintf("%c%s", STATE_PREFIX, scope);

	*klen = strlen(k);
	return (k);
}

/* volume_state_get - see volume.h */
int
volume_state_get(struct store_txn *txn, const char *scope, json_object **out)
{
	size_t klen, vlen;
	char *key = state_key(scope, &klen);
	void *val;
	int rc;

	*out = NULL;
	rc = store_get(txn, STORE_VOLUME, key, klen, &val, &vlen);
	free(key);
	if (rc != STORE_OK)
		return (rc);
	*out = json_parse_len(val, vlen);
	free(val);
	return (*out != NULL ? STORE_OK : STORE_NOTFOUND);
}

/* volume_state_put - see volume.h */
int
volume_state_put(struct store_txn *txn, const char *scope, json_object *state)
{
	size_t klen;
	char *key = state_key(scope, &klen);
	const char *text = json_object_to_json_string_ext(state, JSON_C_TO_STRING_PLAIN);
	int rc;

	rc = store_put(txn, STORE_VOLUME, key, klen, text, strlen(text));
	free(key);
	return (rc);
}
