/*
 * release.c - held messages and release requests in STORE_RELEASES
 * (release.h).  Keys: 'h' HELD_AT (8 bytes, big-endian microseconds) QID
 * -> held record, oldest first; 'q' QID -> its 'h' key; 'r' QID -> a
 * pending request; 'd' QID -> a done one.  Records are JSON text.
 */
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "store/release.h"
#include "util/json.h"
#include "util/jsonw.h"
#include "util/util.h"

/* held_key - 'h' held_at qid */
static unsigned char *
held_key(const char *qid, double held_at, size_t *klen)
{
	size_t ql = strlen(qid);
	unsigned char *k = xmalloc(ql + 9);
	uint64_t us = held_at > 0 ? (uint64_t) (held_at * 1e6) : 0;
	int i;

	k[0] = 'h';
	for (i = 0; i < 8; i++)
		k[1 + i] = (unsigned char) (us >> (56 - 8 * i));
	memcpy(k + 9, qid, ql);
	*klen = ql + 9;
	return (k);
}

/* put_json - store obj's text under key; obj is released */
static int
put_json(struct store_txn *txn, const void *key, size_t klen, json_object *obj)
{
	const char *text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
	int rc = store_put(txn, STORE_RELEASES, key, klen, text, strlen(text));

	json_object_put(obj);
	return (rc);
}

/* release_held_add - see release.h */
int
release_held_add(struct store_txn *txn, const char *qid, const char *tenant,
		 double held_at)
{
	json_object *o = json_object_new_object();
	size_t klen;
	unsigned char *key = held_key(qid, held_at, &klen);
	char *qkey = xasprintf("q%s", qid);
	int rc;

	json_add_string(o, "queue_id", qid);
	json_add_string(o, "tenant", tenant);
	json_object_object_add(o, "held_at", json_double_new(held_at, 6));
	rc = put_json(txn, key, klen, o);
	if (rc == STORE_OK)
		rc = store_put(txn, STORE_RELEASES, qkey, strlen(qkey), key, klen);
	free(qkey);
	free(key);
	return (rc);
}

/* string_or_null - a copy of member key, or NULL */
static char *
string_or_null(json_object *o, const char *key)
{
	const char *s = json_string_member(o, key);

	return (s != NULL ? xstrdup(s) : NULL);
}

/* release_held_list - see release.h */
int
release_held_list(struct store_txn *txn, struct held_msg **out, size_t *n)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t klen, vlen, cap = 0;
	json_object *o;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = store_cursor_open(txn, STORE_RELEASES, &c)) != STORE_OK)
		return (rc);
	rc = store_cursor_seek(c, "h", 1);
	while (rc == STORE_OK
	       && (rc = store_cursor_next(c, &k, &klen, &v, &vlen)) == STORE_OK) {
		if (klen < 10 || ((const char *) k)[0] != 'h')
			break;
		if ((o = json_parse_len(v, vlen)) == NULL
		    || json_string_member(o, "queue_id") == NULL) {
			json_object_put(o);
			continue;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[*n].queue_id = string_or_null(o, "queue_id");
		(*out)[*n].tenant = string_or_null(o, "tenant");
		(*out)[*n].held_at = json_object_get_double(json_member(o, "held_at"));
		(*n)++;
		json_object_put(o);
	}
	store_cursor_close(c);
	if (rc == STORE_NOTFOUND)
		rc = STORE_OK;
	if (rc != STORE_OK) {
		release_held_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return (rc);
}

/* release_held_free - see release.h */
void
release_held_free(struct held_msg *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(list[i].queue_id);
		free(list[i].tenant);
	}
	free(list);
}

/* release_request - see release.h */
int
release_request(struct store_txn *txn, const char *qid, const char *by, double now)
{
	char *qkey = xasprintf("q%s", qid), *rkey = xasprintf("r%s", qid);
	void *hkey = NULL, *val = NULL;
	size_t hlen, vlen;
	json_object *o = NULL;
	int rc;

	rc = store_get(txn, STORE_RELEASES, qkey, strlen(qkey), &hkey, &hlen);
	if (rc == STORE_OK)
		rc = store_get(txn, STORE_RELEASES, hkey, hlen, &val, &vlen);
	if (rc == STORE_OK && (o = json_parse_len(val, vlen)) == NULL)
		rc = STORE_NOTFOUND;
	if (rc == STORE_OK) {
		json_add_string(o, "by", by);
		json_object_object_add(o, "requested_at", json_double_new(now, 6));
		rc = put_json(txn, rkey, strlen(rkey), json_object_get(o));
	}
	if (rc == STORE_OK)
		rc = store_del(txn, STORE_RELEASES, hkey, hlen);
	if (rc == STORE_OK)
		rc = store_del(txn, STORE_RELEASES, qkey, strlen(qkey));
	json_object_put(o);
	free(val);
	free(hkey);
	free(qkey);
	free(rkey);
	return (rc);
}

/* req_from - a request record from its JSON text */
static int
req_from(const void *text, size_t len, struct release_req *r)
{
	json_object *o = json_parse_len(text, len);

	memset(r, 0, sizeof(*r));
	if (o == NULL || json_string_member(o, "queue_id") == NULL) {
		json_object_put(o);
		return (-1);
	}
	r->queue_id = string_or_null(o, "queue_id");
	r->tenant = string_or_null(o, "tenant");
	r->by = string_or_null(o, "by");
	r->held_at = json_object_get_double(json_member(o, "held_at"));
	r->requested_at = json_object_get_double(json_member(o, "requested_at"));
	r->done_at = json_object_get_double(json_member(o, "done_at"));
	r->ok = json_object_get_boolean(json_member(o, "ok"));
	json_object_put(o);
	return (0);
}

/* req_clear - free a request's strings */
static void
req_clear(struct release_req *r)
{
	free(r->queue_id);
	free(r->tenant);
	free(r->by);
}

/* by_requested - oldest request first */
static int
by_requested(const void *a, const void *b)
{
	const struct release_req *x = a, *y = b;

	return (x->requested_at < y->requested_at ? -1
						  : x->requested_at > y->requested_at);
}

/* release_pending - see release.h */
int
release_pending(struct store_txn *txn, struct release_req **out, size_t *n)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t klen, vlen, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = store_cursor_open(txn, STORE_RELEASES, &c)) != STORE_OK)
		return (rc);
	rc = store_cursor_seek(c, "r", 1);
	while (rc == STORE_OK
	       && (rc = store_cursor_next(c, &k, &klen, &v, &vlen)) == STORE_OK) {
		if (klen < 2 || ((const char *) k)[0] != 'r')
			break;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		if (req_from(v, vlen, &(*out)[*n]) == 0)
			(*n)++;
	}
	store_cursor_close(c);
	if (rc == STORE_NOTFOUND)
		rc = STORE_OK;
	if (rc != STORE_OK) {
		release_reqs_free(*out, *n);
		*out = NULL;
		*n = 0;
	} else if (*n > 1) {
		qsort(*out, *n, sizeof(**out), by_requested);
	}
	return (rc);
}

/* release_reqs_free - see release.h */
void
release_reqs_free(struct release_req *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		req_clear(&list[i]);
	free(list);
}

/* forget_done - delete done requests finished before cutoff */
static int
forget_done(struct store_txn *txn, double cutoff)
{
	struct store_cursor *c;
	struct release_req r;
	const void *k, *v;
	size_t klen, vlen;
	int rc;

	if ((rc = store_cursor_open(txn, STORE_RELEASES, &c)) != STORE_OK)
		return (rc);
	rc = store_cursor_seek(c, "d", 1);
	while (rc == STORE_OK
	       && (rc = store_cursor_next(c, &k, &klen, &v, &vlen)) == STORE_OK) {
		if (klen < 2 || ((const char *) k)[0] != 'd')
			break;
		if (req_from(v, vlen, &r) != 0 || r.done_at < cutoff)
			rc = store_cursor_del(c);
		req_clear(&r);
	}
	store_cursor_close(c);
	return (rc == STORE_NOTFOUND ? STORE_OK : rc);
}

/* release_done - see release.h */
int
release_done(struct store_txn *txn, const char *qid, int ok, double now,
	     double forget_before)
{
	char *rkey = xasprintf("r%s", qid), *dkey = xasprintf("d%s", qid);
	size_t vlen;
	void *val;
	json_object *o = NULL;
	int rc;

	rc = store_get(txn, STORE_RELEASES, rkey, strlen(rkey), &val, &vlen);
	if (rc == STORE_OK) {
		o = json_parse_len(val, vlen);
		free(val);
		if (o == NULL)
			o = json_object_new_object();
		json_object_object_add(o, "done_at", json_double_new(now, 6));
		json_object_object_add(o, "ok", json_object_new_boolean(ok));
		rc = put_json(txn, dkey, strlen(dkey), o);
	}
	if (rc == STORE_OK)
		rc = store_del(txn, STORE_RELEASES, rkey, strlen(rkey));
	if (rc == STORE_OK)
		rc = forget_done(txn, forget_before);
	free(rkey);
	free(dkey);
	return (rc);
}
