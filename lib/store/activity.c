/*
 * activity.c - recipients' opens, clicks and unsubscribes in
 * STORE_ACTIVITY (see activity.h): added by the tracking server, listed
 * for posthookctl and the API, purged with the messages.
 */
#include <stdlib.h>
#include <string.h>

#include "store/activity.h"
#include "store/purge.h"
#include "util/json.h"
#include "util/jsonw.h"
#include "util/util.h"

#define KEY_LEN 16
#define SUMMARY_TIME UINT64_MAX /* the summary's key sorts after every hit */

static const unsigned char summary_suffix[8] = { 0xff, 0xff, 0xff, 0xff,
						 0xff, 0xff, 0xff, 0xff };

/* put_be64 - v big-endian into p, so keys sort by number. */
static void
put_be64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char) (v & 0xff);
}

/* kind_name - the stored name of a kind. */
static const char *
kind_name(char kind)
{
	return kind == 'o' ? "open" : kind == 'c' ? "click" : "unsubscribe";
}

/* activity_add - see activity.h. */
int
activity_add(struct store_txn *txn, uint64_t id, const struct activity *a)
{
	unsigned char key[KEY_LEN];
	uint64_t us = a->time > 0 ? (uint64_t) (a->time * 1e6) : 0;
	json_object *o = json_object_new_object();
	const char *text;
	int status, tries;

	json_object_object_add(o, "time", json_double_new(a->time, 6));
	json_add_string(o, "kind", kind_name(a->kind));
	if (a->kind == 'c') {
		json_object_object_add(o, "link", json_object_new_int64(a->link));
		json_add_string(o, "url", a->url);
	}
	json_add_string(o, "ip", a->ip);
	json_add_string(o, "ua", a->ua);
	json_add_string(o, "bot", a->bot);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN
						     | JSON_C_TO_STRING_NOSLASHESCAPE);
	put_be64(key, id);
	/* two hits in one microsecond: the second goes a microsecond later */
	for (tries = 0; tries < 1000; tries++, us++) {
		put_be64(key + 8, us);
		status = store_put_new(txn, STORE_ACTIVITY, key, sizeof(key), text,
				       strlen(text));
		if (status != STORE_EXISTS)
			break;
	}
	json_object_put(o);
	return (status);
}

/* activity_each - see activity.h. */
int
activity_each(struct store_txn *txn, uint64_t id,
	      int (*fn)(const struct activity *a, void *ctx), void *ctx)
{
	struct store_cursor *c;
	unsigned char want[8];
	const void *k, *v;
	size_t kl, vl;
	struct activity a;
	json_object *o;
	const char *kind;
	int status, rc = 0;

	put_be64(want, id);
	if ((status = store_cursor_open(txn, STORE_ACTIVITY, &c)) != STORE_OK)
		return (status);
	if ((status = store_cursor_seek(c, want, sizeof(want))) != STORE_OK) {
		store_cursor_close(c);
		return (status == STORE_NOTFOUND ? STORE_OK : status);
	}
	while (rc == 0 && (status = store_cursor_next(c, &k, &kl, &v, &vl)) == STORE_OK) {
		if (kl != KEY_LEN || memcmp(k, want, sizeof(want)) != 0)
			break;
		if (memcmp((const unsigned char *) k + 8, summary_suffix, 8) == 0)
			break;
		if ((o = json_parse_len(v, vl)) == NULL)
			continue;
		memset(&a, 0, sizeof(a));
		a.time = json_object_get_double(json_member(o, "time"));
		kind = json_text_member(o, "kind");
		a.kind = kind == NULL	  ? 'o'
			 : kind[0] == 'c' ? 'c'
			 : kind[0] == 'u' ? 'u'
					  : 'o';
		a.link = (unsigned) json_object_get_int64(json_member(o, "link"));
		a.url = json_string_member(o, "url");
		a.ip = json_string_member(o, "ip");
		a.ua = json_string_member(o, "ua");
		a.bot = json_string_member(o, "bot");
		rc = fn(&a, ctx);
		json_object_put(o);
	}
	store_cursor_close(c);
	if (rc < 0)
		return (STORE_ERROR);
	return (status == STORE_NOTFOUND || status == STORE_OK ? STORE_OK : status);
}

/* summary_key - the key of message id's summary. */
static void
summary_key(unsigned char key[KEY_LEN], uint64_t id)
{
	put_be64(key, id);
	put_be64(key + 8, SUMMARY_TIME);
}

/* activity_summary_get - see activity.h. */
int
activity_summary_get(struct store_txn *txn, uint64_t id, unsigned nlinks,
		     struct activity_summary *s)
{
	unsigned char key[KEY_LEN];
	json_object *o, *clicks;
	void *val;
	size_t vlen, i, n;
	int status;

	memset(s, 0, sizeof(*s));
	s->nlinks = nlinks;
	s->last_click = xcalloc(nlinks + 1, sizeof(double));
	summary_key(key, id);
	status = store_get_rmw(txn, STORE_ACTIVITY, key, sizeof(key), &val, &vlen);
	if (status == STORE_NOTFOUND)
		return (STORE_OK);
	if (status != STORE_OK)
		return (status);
	o = json_parse_len(val, vlen);
	free(val);
	if (o == NULL)
		return (STORE_OK); /* unreadable: counted again from here */
	s->opens = (long) json_object_get_int64(json_member(o, "opens"));
	s->time = json_object_get_double(json_member(o, "time"));
	clicks = json_member(o, "last_click");
	n = json_object_is_type(clicks, json_type_array)
		? json_object_array_length(clicks)
		: 0;
	for (i = 0; i < n && i < nlinks; i++)
		s->last_click[i] =
		    json_object_get_double(json_object_array_get_idx(clicks, i));
	json_object_put(o);
	return (STORE_OK);
}

/* activity_summary_put - see activity.h. */
int
activity_summary_put(struct store_txn *txn, uint64_t id, const struct activity_summary *s)
{
	unsigned char key[KEY_LEN];
	json_object *o = json_object_new_object(), *clicks = json_object_new_array();
	const char *text;
	unsigned i;
	int status;

	json_object_object_add(o, "time", json_double_new(s->time, 6));
	json_object_object_add(o, "opens", json_object_new_int64(s->opens));
	for (i = 0; i < s->nlinks; i++)
		json_object_array_add(clicks, json_double_new(s->last_click[i], 6));
	json_object_object_add(o, "last_click", clicks);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	summary_key(key, id);
	status = store_put(txn, STORE_ACTIVITY, key, sizeof(key), text, strlen(text));
	json_object_put(o);
	return (status);
}

/* activity_summary_clear - free what s holds. */
void
activity_summary_clear(struct activity_summary *s)
{
	free(s->last_click);
	memset(s, 0, sizeof(*s));
}

/* activity_when - a stored hit's time; -1 when unreadable. */
static double
activity_when(const void *val, size_t len)
{
	json_object *o = json_parse_len(val, len);
	double t;

	if (o == NULL)
		return (-1);
	t = json_object_get_double(json_member(o, "time"));
	json_object_put(o);
	return (t);
}

/* activity_purge - see activity.h. */
int
activity_purge(struct store_txn *txn, double cutoff, int limit, int *count)
{
	static const struct purge_ops ops = { STORE_ACTIVITY, activity_when, NULL };

	return (purge_older(txn, &ops, cutoff, limit, count));
}
