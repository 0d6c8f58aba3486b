/*
 * message.c - the milter's message records and their indexes.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "event/event.h"
#include "util/log.h"
#include "store/message.h"
#include "util/json.h"
#include "store/purge.h"
#include "util/util.h"

/* message_record_new - an empty record */
struct message_record *
message_record_new(void)
{
	struct message_record *r = xcalloc(1, sizeof(*r));

	r->recipients = xcalloc(1, sizeof(char *));
	r->links = xcalloc(1, sizeof(char *));
	return r;
}

/* message_record_free - free a record and all it holds */
void
message_record_free(struct message_record *r)
{
	char **p;

	if (r == NULL)
		return;
	free(r->token);
	free(r->queue_id);
	free(r->message_id);
	free(r->from);
	for (p = r->recipients; p != NULL && *p != NULL; p++)
		free(*p);
	free(r->recipients);
	free(r->subject);
	free(r->tag);
	json_object_put(r->metadata);
	free(r->direction);
	free(r->spam_status);
	free(r->verp_sender);
	free(r->tenant);
	free(r->metadata_error);
	free(r->track);
	for (p = r->links; p != NULL && *p != NULL; p++)
		free(*p);
	free(r->links);
	free(r);
}

/* message_record_add_recipient - append one envelope recipient */
void
message_record_add_recipient(struct message_record *r, const char *rcpt)
{
	size_t n = 0;

	while (r->recipients[n] != NULL)
		n++;
	r->recipients = xrealloc(r->recipients, (n + 2) * sizeof(char *));
	r->recipients[n] = xstrdup(rcpt);
	r->recipients[n + 1] = NULL;
}

/* message_record_add_link - append one tracked link's original URL */
unsigned
message_record_add_link(struct message_record *r, const char *url)
{
	size_t n = 0;

	while (r->links[n] != NULL)
		n++;
	r->links = xrealloc(r->links, (n + 2) * sizeof(char *));
	r->links[n] = xstrdup(url);
	r->links[n + 1] = NULL;
	return ((unsigned) n);
}

/* message_record_to_json - the record as stored and as shown */
json_object *
message_record_to_json(const struct message_record *r)
{
	json_object *o = json_object_new_object();
	json_object *rcpts = json_object_new_array();
	char **p;

	json_object_object_add(o, "id", json_object_new_uint64(r->id));
	json_add_string(o, "token", r->token);
	json_add_string(o, "direction", r->direction ? r->direction : "outgoing");
	json_add_string(o, "message_id", r->message_id);
	json_add_string(o, "from", r->from);
	json_add_string(o, "subject", r->subject);
	json_object_object_add(o, "timestamp", json_double_new(r->timestamp, 6));
	json_add_string(o, "spam_status", r->spam_status ? r->spam_status : "NotChecked");
	json_add_string(o, "tag", r->tag);
	json_object_object_add(o, "metadata", json_object_get(r->metadata));
	json_add_string(o, "queue_id", r->queue_id);
	for (p = r->recipients; *p != NULL; p++)
		json_object_array_add(rcpts, json_object_new_string(*p));
	json_object_object_add(o, "recipients", rcpts);
	if (r->verp_sender != NULL)
		json_add_string(o, "verp_sender", r->verp_sender);
	if (r->tenant != NULL)
		json_add_string(o, "tenant", r->tenant);
	if (r->metadata_error != NULL)
		json_add_string(o, "metadata_error", r->metadata_error);
	if (r->track != NULL)
		json_add_string(o, "track", r->track);
	if (r->links[0] != NULL) {
		json_object *links = json_object_new_array();

		for (p = r->links; *p != NULL; p++)
			json_object_array_add(links, json_object_new_string(*p));
		json_object_object_add(o, "links", links);
	}
	return o;
}

/* take_strings - the record's string members from its stored form */
static void
take_strings(struct message_record *r, json_object *o)
{
	struct {
		const char *key;
		char **field;
	} strings[] = {
		{ "token", &r->token },
		{ "queue_id", &r->queue_id },
		{ "message_id", &r->message_id },
		{ "from", &r->from },
		{ "subject", &r->subject },
		{ "tag", &r->tag },
		{ "direction", &r->direction },
		{ "spam_status", &r->spam_status },
		{ "verp_sender", &r->verp_sender },
		{ "tenant", &r->tenant },
		{ "metadata_error", &r->metadata_error },
		{ "track", &r->track },
	};
	const char *s;
	size_t i;

	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		if ((s = json_string_member(o, strings[i].key)) != NULL)
			*strings[i].field = xstrdup(s);
}

/* message_record_from_json - parse a stored record; NULL if malformed */
struct message_record *
message_record_from_json(json_object *o)
{
	struct message_record *r;
	json_object *v;
	size_t i, n;

	if (!json_object_is_type(o, json_type_object))
		return NULL;
	r = message_record_new();
	take_strings(r, o);
	if (json_object_object_get_ex(o, "id", &v))
		r->id = json_object_get_uint64(v);
	if (json_object_object_get_ex(o, "timestamp", &v))
		r->timestamp = json_object_get_double(v);
	if (json_object_object_get_ex(o, "metadata", &v)
	    && json_object_is_type(v, json_type_object))
		r->metadata = json_object_get(v);
	if (json_object_object_get_ex(o, "recipients", &v)
	    && json_object_is_type(v, json_type_array)) {
		n = json_object_array_length(v);
		for (i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(v, i);

			if (json_object_is_type(e, json_type_string))
				message_record_add_recipient(r,
							     json_object_get_string(e));
		}
	}
	if (json_object_object_get_ex(o, "links", &v)
	    && json_object_is_type(v, json_type_array)) {
		n = json_object_array_length(v);
		for (i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(v, i);

			/* Indexes are in the tokens: a hole keeps its place. */
			message_record_add_link(r,
						json_object_is_type(e, json_type_string)
						    ? json_object_get_string(e)
						    : "");
		}
	}
	return r;
}

/* id_key - the 8-byte big-endian key of an id */
static void
id_key(uint64_t id, unsigned char key[8])
{
	int i;

	for (i = 7; i >= 0; i--, id >>= 8)
		key[i] = (unsigned char) (id & 0xff);
}

/* message_put - store and index a record */
int
message_put(struct store_txn *txn, const struct message_record *r)
{
	json_object *o = message_record_to_json(r);
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	unsigned char key[8];
	int status;

	status = store_put(txn, STORE_MESSAGES, r->queue_id, strlen(r->queue_id), text,
			   strlen(text));
	if (status == STORE_OK && r->token != NULL)
		status = store_put(txn, STORE_MESSAGE_TOKENS, r->token, strlen(r->token),
				   r->queue_id, strlen(r->queue_id));
	if (status == STORE_OK && r->id != 0) {
		id_key(r->id, key);
		status = store_put(txn, STORE_MESSAGE_IDS, key, sizeof(key), r->queue_id,
				   strlen(r->queue_id));
	}
	if (status == STORE_OK)
		status = message_index_mid(txn, r);
	json_object_put(o);
	return status;
}

/* message_get_by_queue_id - the record stored under a queue id */
int
message_get_by_queue_id(struct store_txn *txn, const char *qid,
			struct message_record **out)
{
	json_object *o;
	size_t len;
	void *val;
	int status;

	*out = NULL;
	status = store_get(txn, STORE_MESSAGES, qid, strlen(qid), &val, &len);
	if (status != STORE_OK)
		return status;
	o = json_parse_len(val, len);
	free(val);
	if (o == NULL) {
		log_warn("%s: message record is not valid JSON", qid);
		return STORE_NOTFOUND;
	}
	*out = message_record_from_json(o);
	json_object_put(o);
	return *out != NULL ? STORE_OK : STORE_NOTFOUND;
}

/* lookup_index - follow an index table to a record */
static int
lookup_index(struct store_txn *txn, enum store_table t, const void *key, size_t klen,
	     struct message_record **out)
{
	size_t len;
	void *val;
	char *qid;
	int status;

	*out = NULL;
	status = store_get(txn, t, key, klen, &val, &len);
	if (status != STORE_OK)
		return status;
	qid = xstrndup(val, len);
	free(val);
	status = message_get_by_queue_id(txn, qid, out);
	free(qid);
	return status;
}

/* message_get_by_token - the record of a token */
int
message_get_by_token(struct store_txn *txn, const char *token,
		     struct message_record **out)
{
	return lookup_index(txn, STORE_MESSAGE_TOKENS, token, strlen(token), out);
}

/* message_get_by_id - the record of an id */
int
message_get_by_id(struct store_txn *txn, uint64_t id, struct message_record **out)
{
	unsigned char key[8];

	id_key(id, key);
	return lookup_index(txn, STORE_MESSAGE_IDS, key, sizeof(key), out);
}

/* message_index_mid - the Message-ID index entry of a record */
int
message_index_mid(struct store_txn *txn, const struct message_record *r)
{
	if (r->message_id == NULL || *r->message_id == 0 || r->queue_id == NULL)
		return STORE_OK;
	return store_put(txn, STORE_MESSAGE_MIDS, r->message_id, strlen(r->message_id),
			 r->queue_id, strlen(r->queue_id));
}

/* message_get_by_message_id - the record of a Message-ID */
int
message_get_by_message_id(struct store_txn *txn, const char *mid,
			  struct message_record **out)
{
	int status;

	status = lookup_index(txn, STORE_MESSAGE_MIDS, mid, strlen(mid), out);
	/* A stale entry (the record was purged or rekeyed): not found. */
	if (status == STORE_OK && (*out)->message_id != NULL
	    && strcmp((*out)->message_id, mid) != 0) {
		message_record_free(*out);
		*out = NULL;
		return STORE_NOTFOUND;
	}
	return status;
}

/* message_get - by decimal id, queue id or token */
int
message_get(struct store_txn *txn, const char *key, struct message_record **out)
{
	const char *p;
	int status;

	for (p = key; isdigit((unsigned char) *p); p++)
		;
	if (*key != '\0' && *p == '\0') {
		status = message_get_by_id(txn, strtoull(key, NULL, 10), out);
		if (status != STORE_NOTFOUND)
			return status;
	}
	status = message_get_by_queue_id(txn, key, out);
	if (status != STORE_NOTFOUND)
		return status;
	return message_get_by_token(txn, key, out);
}

/* message_rekey - move a record to the queue id its message has now */
int
message_rekey(struct store_txn *txn, const char *token, const char *new_qid)
{
	struct message_record *r;
	char *old_qid;
	int status;

	status = message_get_by_token(txn, token, &r);
	if (status != STORE_OK)
		return status;
	old_qid = r->queue_id;
	r->queue_id = xstrdup(new_qid);
	status = message_put(txn, r);
	if (status == STORE_OK && strcmp(old_qid, new_qid) != 0)
		status = store_del(txn, STORE_MESSAGES, old_qid, strlen(old_qid));
	if (status == STORE_NOTFOUND)
		status = STORE_OK;
	free(old_qid);
	message_record_free(r);
	return status;
}

/* record_parse - a stored record, or NULL */
static struct message_record *
record_parse(const void *val, size_t len)
{
	json_object *o = json_parse_len(val, len);
	struct message_record *r = o ? message_record_from_json(o) : NULL;

	json_object_put(o);
	return r;
}

/* record_time - when a stored record was made; -1 if unreadable */
static double
record_time(const void *val, size_t len)
{
	struct message_record *r = record_parse(val, len);
	double t = r != NULL ? r->timestamp : -1;

	message_record_free(r);
	return t;
}

/* del_index - delete an index entry that may be gone already */
static int
del_index(struct store_txn *txn, enum store_table t, const void *key, size_t klen)
{
	int status = store_del(txn, t, key, klen);

	return status == STORE_NOTFOUND ? STORE_OK : status;
}

/* record_forget - delete the index entries of a stored record */
static int
record_forget(struct store_txn *txn, const void *val, size_t len)
{
	struct message_record *r = record_parse(val, len);
	unsigned char key[8];
	int status = STORE_OK;

	if (r == NULL)
		return STORE_OK;
	if (r->token != NULL)
		status = del_index(txn, STORE_MESSAGE_TOKENS, r->token, strlen(r->token));
	if (status == STORE_OK && r->message_id != NULL && *r->message_id != '\0')
		status = del_index(txn, STORE_MESSAGE_MIDS, r->message_id,
				   strlen(r->message_id));
	if (status == STORE_OK && r->id != 0) {
		id_key(r->id, key);
		status = del_index(txn, STORE_MESSAGE_IDS, key, sizeof(key));
	}
	message_record_free(r);
	return status;
}

/* message_purge - delete records (and their index entries) before cutoff */
int
message_purge(struct store_txn *txn, double cutoff, int limit, int *count)
{
	static const struct purge_ops ops = { STORE_MESSAGES, record_time,
					      record_forget };

	return purge_older(txn, &ops, cutoff, limit, count);
}

/* message_each - see message.h. */
int
message_each(struct store_txn *txn, int (*fn)(const struct message_record *r, void *ctx),
	     void *ctx)
{
	struct store_cursor *c;
	struct message_record *r;
	const void *k, *v;
	size_t kl, vl;
	json_object *o;
	int status, stop = 0;

	if ((status = store_cursor_open(txn, STORE_MESSAGES, &c)) != STORE_OK)
		return status;
	while (stop == 0
	       && (status = store_cursor_next(c, &k, &kl, &v, &vl)) == STORE_OK) {
		if ((o = json_parse_len(v, vl)) == NULL)
			continue;
		r = message_record_from_json(o);
		json_object_put(o);
		if (r == NULL)
			continue;
		stop = fn(r, ctx);
		message_record_free(r);
	}
	store_cursor_close(c);
	if (stop < 0)
		return STORE_ERROR;
	return status == STORE_NOTFOUND ? STORE_OK : status;
}
