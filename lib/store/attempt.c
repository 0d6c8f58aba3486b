/*
 * attempt.c - attempt records (docs/events.md, Delivery attempt) for one HTTP
 * request of a delivery, and reading them back from STORE_ATTEMPTS
 * (see delivery.h).  Records are written as text (attempt_wrap_text), in
 * the order the readers below rely on, by delivery_complete().
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/delivery.h"
#include "store/tenant_name.h"
#include "util/json.h"
#include "util/jsonw.h"
#include "util/utf8.h"

/* attempt_success - see delivery.h. */
int
attempt_success(const struct attempt_result *r)
{
	return r->error == NULL && r->status >= 200 && r->status <= 299;
}

/* write_payload - the request payload: r's text as sent, else d's printed. */
static void
write_payload(struct buf *b, const struct delivery *d, const struct attempt_result *r)
{
	const char *s;
	size_t len;

	if (r->payload != NULL) {
		jsonw_mem(b, r->payload, r->payload_len);
		return;
	}
	s = delivery_payload_json(d, &len);
	jsonw_mem(b, s, len);
}

/* write_status - the HTTP status, or null when none came. */
static void
write_status(struct buf *b, long status)
{
	if (status > 0)
		jsonw_uint(b, (uint64_t) status);
	else
		JSONW_LIT(b, "null");
}

/*
 * write_record - the record (docs/events.md, Delivery attempt) written
 * straight as text, members in the order attempt_get_head() and peek()
 * read them: id, webhookId, webhookName, event, ..., success, ...,
 * request.  The payload is copied as text, not built and printed again.
 */
static void
write_record(struct buf *b, const char *id, const struct delivery *d,
	     const char *webhook_name, const char *url, const struct attempt_result *r,
	     int attempt, int will_retry)
{
	const char *s;
	char when[32];

	JSONW_LIT(b, "{\"id\":");
	jsonw_string(b, id);
	JSONW_LIT(b, ",\"webhookId\":");
	jsonw_string(b, d->endpoint_id);
	JSONW_LIT(b, ",\"webhookName\":");
	jsonw_string(b, webhook_name ? webhook_name : "");
	JSONW_LIT(b, ",\"event\":");
	jsonw_string(b, event_type_name(d->type));
	JSONW_LIT(b, ",\"url\":");
	jsonw_string(b, url ? url : "");
	JSONW_LIT(b, ",\"statusCode\":");
	write_status(b, r->status);
	if (attempt_success(r))
		JSONW_LIT(b, ",\"success\":true,\"attempt\":");
	else
		JSONW_LIT(b, ",\"success\":false,\"attempt\":");
	jsonw_uint(b, (uint64_t) (attempt > 0 ? attempt : 0));
	if (will_retry)
		JSONW_LIT(b, ",\"willRetry\":true,\"timestamp\":");
	else
		JSONW_LIT(b, ",\"willRetry\":false,\"timestamp\":");
	iso8601_utc(r->started, when, sizeof(when));
	jsonw_string(b, when);
	JSONW_LIT(b, ",\"request\":{\"payload\":");
	write_payload(b, d, r);
	JSONW_LIT(b, ",\"headers\":");
	s = r->headers != NULL ? json_object_to_json_string_ext(
		r->headers, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
			       : "{}";
	jsonw_mem(b, s, strlen(s));
	JSONW_LIT(b, "},\"response\":{\"statusCode\":");
	write_status(b, r->status);
	JSONW_LIT(b, ",\"body\":");
	if (r->status > 0) {
		/* utf8_clean_append() leaves no NUL: the text ends where it ends */
		struct buf body;

		buf_init(&body);
		utf8_clean_append(&body, r->body ? r->body : "",
				  r->body_len < RESPONSE_BODY_MAX ? r->body_len
								  : RESPONSE_BODY_MAX);
		jsonw_string(b, body.data ? body.data : "");
		buf_free(&body);
	} else
		JSONW_LIT(b, "null");
	JSONW_LIT(b, "},\"duration\":");
	jsonw_double(b, r->duration, 3);
	JSONW_LIT(b, ",\"error\":");
	jsonw_string(b, r->error);
	JSONW_LIT(b, ",\"uuid\":");
	jsonw_string(b, d->uuid);
	JSONW_LIT(b, ",\"envelopeTimestamp\":");
	jsonw_double(b, r->envelope_ts, 6);
	JSONW_LIT(b, "}");
}

/* attempt_record_new - see delivery.h. */
json_object *
attempt_record_new(const char *id, const struct delivery *d, const char *webhook_name,
		   const char *url, const struct attempt_result *r, int attempt,
		   int will_retry)
{
	struct buf b;
	json_object *o;

	buf_init(&b);
	write_record(&b, id, d, webhook_name, url, r, attempt, will_retry);
	o = json_parse_len(b.data, b.len);
	buf_free(&b);
	return o;
}

/* attempt_wrap_text - see delivery.h. */
void
attempt_wrap_text(struct buf *b, const char *id, const struct delivery *d,
		  const struct attempt_target *target, const struct attempt_result *r,
		  int attempt, int will_retry)
{
	JSONW_LIT(b, "{\"ts\":");
	jsonw_double(b, r->started, 6);
	JSONW_LIT(b, ",\"delivery\":");
	jsonw_uint(b, d->id);
	JSONW_LIT(b, ",\"key\":");
	jsonw_string(b, d->event_key);
	if (target->tenant != NULL) {
		JSONW_LIT(b, ",\"tenant\":");
		jsonw_string(b, target->tenant);
	}
	JSONW_LIT(b, ",\"record\":");
	write_record(b, id, d, target->name, target->url, r, attempt, will_retry);
	JSONW_LIT(b, "}");
	jsonw_end(b);
}

/* parse_id - "whr_<hex>" to its sequence; -1 when malformed. */
static int
parse_id(const char *id, uint64_t *seq)
{
	char *end;

	if (strncmp(id, "whr_", 4) != 0 || id[4] == 0 || strlen(id) > 20)
		return -1;
	*seq = strtoull(id + 4, &end, 16);
	return *end == 0 ? 0 : -1;
}

/* key_of - the 8-byte big-endian key of a sequence. */
static void
key_of(unsigned char key[8], uint64_t seq)
{
	int i;

	for (i = 7; i >= 0; i--) {
		key[i] = (unsigned char) (seq & 0xff);
		seq >>= 8;
	}
}

/* parse_wrap - the stored {"ts","delivery","key","tenant","record"}, or NULL. */
static json_object *
parse_wrap(const void *val, size_t vlen)
{
	json_tokener *tok = json_tokener_new();
	json_object *o, *rec;

	o = json_tokener_parse_ex(tok, val, (int) vlen);
	json_tokener_free(tok);
	if (o != NULL && !json_object_object_get_ex(o, "record", &rec)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* load_wrap - the stored wrapper of "whr_..." (caller puts it). */
static int
load_wrap(struct store_txn *txn, const char *id, json_object **w)
{
	unsigned char key[8];
	uint64_t seq;
	void *val;
	size_t vlen;
	int rc;

	if (parse_id(id, &seq) < 0)
		return STORE_NOTFOUND;
	key_of(key, seq);
	rc = store_get(txn, STORE_ATTEMPTS, key, sizeof(key), &val, &vlen);
	if (rc != STORE_OK)
		return rc;
	*w = parse_wrap(val, vlen);
	free(val);
	return *w != NULL ? STORE_OK : STORE_ERROR;
}

/* wrap_tenant - the tenant of a stored attempt: its endpoint's when made. */
static const char *
wrap_tenant(json_object *w)
{
	return tenant_of(json_string_member(w, "tenant"));
}

/* attempt_tenant - see delivery.h. */
int
attempt_tenant(struct store_txn *txn, const char *id, char **tenant)
{
	json_object *w;
	int rc;

	*tenant = NULL;
	if ((rc = load_wrap(txn, id, &w)) != STORE_OK)
		return rc;
	*tenant = xstrdup(wrap_tenant(w));
	json_object_put(w);
	return STORE_OK;
}

/* attempt_get - see delivery.h. */
int
attempt_get(struct store_txn *txn, const char *id, json_object **rec)
{
	json_object *w, *r;
	int rc;

	if ((rc = load_wrap(txn, id, &w)) != STORE_OK)
		return rc;
	json_object_object_get_ex(w, "record", &r);
	*rec = json_object_get(r);
	json_object_put(w);
	return STORE_OK;
}

/* matches - does a stored wrapper pass the filter? */
static int
matches(json_object *w, const struct attempt_filter *f)
{
	json_object *rec, *v;
	const char *s;
	enum event_type t;

	json_object_object_get_ex(w, "record", &rec);
	s = json_text_member(rec, "webhookId");
	if (f->endpoint_id && strcmp(s ? s : "", f->endpoint_id) != 0)
		return 0;
	if (f->failed_only && json_object_object_get_ex(rec, "success", &v)
	    && json_object_get_boolean(v))
		return 0;
	if (f->succeeded_only
	    && !(json_object_object_get_ex(rec, "success", &v)
		 && json_object_get_boolean(v)))
		return 0;
	s = json_text_member(rec, "event");
	if (f->event >= 0
	    && (event_type_from_name(s ? s : "", &t) < 0 || (int) t != f->event))
		return 0;
	if (f->since > 0 && json_object_object_get_ex(w, "ts", &v)
	    && json_object_get_double(v) < f->since)
		return 0;
	if (f->before > 0 && json_object_object_get_ex(w, "ts", &v)
	    && json_object_get_double(v) >= f->before)
		return 0;
	s = json_text_member(w, "key");
	if (f->event_key && strcmp(s ? s : "", f->event_key) != 0)
		return 0;
	if (f->tenant && strcmp(wrap_tenant(w), f->tenant) != 0)
		return 0;
	return 1;
}

/*
 * What peek() reads from a stored wrapper's text without parsing it.  The
 * wrapper is written by one writer (delivery_complete) in one order:
 * {"ts":T,"delivery":N,"key":...[,"tenant":...],"record":{"id":"whr_...","webhookId":"W",
 * "webhookName":...,"event":"E",...,"success":B,...}.  Inside a JSON string
 * every '"' is escaped, so the first '"record":{"id":"' and, after it, the
 * first ',"event":"' and ',"success":' are the members themselves.
 */
struct peeked {
	double ts;
	char webhook[32];
	char event[40];
	int success;
};

/* after - the byte after the first needle in [p, end), or NULL. */
static const char *
after(const char *p, const char *end, const char *needle)
{
	size_t n = strlen(needle);
	const char *hit = memmem(p, (size_t) (end - p), needle, n);

	return hit != NULL ? hit + n : NULL;
}

/* copy_until_quote - a string member's plain text; -1 if escaped or long. */
static int
copy_until_quote(const char *p, const char *end, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; p + i < end && p[i] != '"'; i++)
		if (p[i] == '\\' || i + 1 >= outlen)
			return -1;
	if (p + i >= end)
		return -1;
	memcpy(out, p, i);
	out[i] = 0;
	return 0;
}

/* peek - the filter's fields of a wrapper's text; -1: parse it instead. */
static int
peek(const char *v, size_t len, struct peeked *out)
{
	const char *end = v + len, *rec, *p;
	char *num_end;

	if (len < 8 || memcmp(v, "{\"ts\":", 6) != 0)
		return -1;
	out->ts = strtod(v + 6, &num_end);
	if (num_end == v + 6 || (rec = after(v, end, "\"record\":{\"id\":\"")) == NULL
	    || (p = after(rec, end, "\",\"webhookId\":\"")) == NULL
	    || copy_until_quote(p, end, out->webhook, sizeof(out->webhook)) < 0
	    || (p = after(p, end, ",\"event\":\"")) == NULL
	    || copy_until_quote(p, end, out->event, sizeof(out->event)) < 0
	    || (p = after(p, end, ",\"success\":")) == NULL)
		return -1;
	if (end - p >= 4 && memcmp(p, "true", 4) == 0)
		out->success = 1;
	else if (end - p >= 5 && memcmp(p, "false", 5) == 0)
		out->success = 0;
	else
		return -1;
	return 0;
}

/* peek_matches - the filter on peeked fields (no event_key filter). */
static int
peek_matches(const struct peeked *pk, const struct attempt_filter *f)
{
	enum event_type t;

	if (f->endpoint_id && strcmp(pk->webhook, f->endpoint_id) != 0)
		return 0;
	if (f->failed_only && pk->success)
		return 0;
	if (f->succeeded_only && !pk->success)
		return 0;
	if (f->event >= 0
	    && (event_type_from_name(pk->event, &t) < 0 || (int) t != f->event))
		return 0;
	if (f->since > 0 && pk->ts < f->since)
		return 0;
	if (f->before > 0 && pk->ts >= f->before)
		return 0;
	return 1;
}

/* attempt_get_head - see delivery.h. */
int
attempt_get_head(struct store_txn *txn, uint64_t seq, json_object **rec)
{
	unsigned char key[8];
	const char *text, *end, *start, *cut;
	json_tokener *tok;
	json_object *w, *r;
	struct buf head;
	void *val;
	size_t vlen;
	int rc;

	*rec = NULL;
	key_of(key, seq);
	if ((rc = store_get(txn, STORE_ATTEMPTS, key, sizeof(key), &val, &vlen))
	    != STORE_OK)
		return rc;
	text = val;
	end = text + vlen;
	/* the record up to its request, closed: what a list shows */
	if ((start = after(text, end, "\"record\":{")) != NULL
	    && (cut = memmem(start, (size_t) (end - start), ",\"request\":{", 12))
		   != NULL) {
		buf_init(&head);
		buf_append(&head, start - 1, (size_t) (cut - start + 1));
		buf_append(&head, "}", 1);
		if ((tok = json_tokener_new()) != NULL) {
			*rec = json_tokener_parse_ex(tok, head.data, (int) head.len);
			json_tokener_free(tok);
		}
		buf_free(&head);
	}
	if (*rec == NULL && (w = parse_wrap(val, vlen)) != NULL) {
		json_object_object_get_ex(w, "record", &r);
		*rec = json_object_get(r);
		json_object_put(w);
	}
	free(val);
	return *rec != NULL ? STORE_OK : STORE_ERROR;
}

/* A matching attempt's text, kept until the page is known. */
struct kept {
	char *text;
	size_t len;
};

/* attempt_page - see delivery.h. */
int
attempt_page(struct store_txn *txn, const struct attempt_filter *f, long offset,
	     long limit, json_object **out, long *total)
{
	struct store_cursor *c;
	struct kept *ring = NULL;
	struct peeked pk;
	json_object *w, *rec;
	const void *k, *v;
	size_t klen, vlen, cap = 0, i, keep;
	unsigned char start[8];
	long n = 0;
	int rc, ok;

	*out = NULL;
	*total = 0;
	rc = store_cursor_open(txn, STORE_ATTEMPTS, &c);
	if (rc != STORE_OK)
		return rc;
	if (f->after_seq > 0) {
		key_of(start, f->after_seq + 1);
		rc = store_cursor_seek(c, start, sizeof(start));
	}
	if (limit > 0)
		cap = (size_t) (offset + limit);
	while (rc == STORE_OK
	       && (rc = store_cursor_next(c, &k, &klen, &v, &vlen)) == STORE_OK) {
		if (f->event_key == NULL && f->tenant == NULL
		    && peek(v, vlen, &pk) == 0) {
			ok = peek_matches(&pk, f);
		} else {
			if ((w = parse_wrap(v, vlen)) == NULL)
				continue;
			ok = matches(w, f);
			json_object_put(w);
		}
		if (!ok)
			continue;
		if (limit <= 0 && (size_t) n == cap) {
			cap = cap ? cap * 2 : 64;
			ring = xrealloc(ring, cap * sizeof(*ring));
		} else if (ring == NULL) {
			ring = xcalloc(cap, sizeof(*ring));
		}
		i = (size_t) n % cap;
		if (limit > 0 && (size_t) n >= cap)
			free(ring[i].text);
		ring[i].text = xstrndup(v, vlen);
		ring[i].len = vlen;
		n++;
	}
	store_cursor_close(c);
	keep = (size_t) n < cap || limit <= 0 ? (size_t) n : cap;
	if (rc == STORE_NOTFOUND) {
		rc = STORE_OK;
		*out = json_object_new_array();
		*total = n;
	}
	/* newest first: the newest offset are skipped, the next limit kept */
	for (i = 0; i < keep; i++) {
		size_t idx = (size_t) (n - 1 - (long) i) % (cap ? cap : 1);

		if (*out != NULL && (long) i >= offset
		    && (w = parse_wrap(ring[idx].text, ring[idx].len)) != NULL) {
			json_object_object_get_ex(w, "record", &rec);
			json_object_array_add(*out, json_object_get(rec));
			json_object_put(w);
		}
		free(ring[idx].text);
	}
	free(ring);
	return rc;
}

/* attempt_list - see delivery.h. */
int
attempt_list(struct store_txn *txn, const struct attempt_filter *f, json_object **out)
{
	long total;

	return attempt_page(txn, f, 0, f->limit, out, &total);
}

/* seq_of - the sequence of an 8-byte key. */
static uint64_t
seq_of(const void *k)
{
	uint64_t seq = 0;
	int i;

	for (i = 0; i < 8; i++)
		seq = (seq << 8) | ((const unsigned char *) k)[i];
	return seq;
}

/* attempt_each_webhook - see delivery.h. */
int
attempt_each_webhook(struct store_txn *txn, uint64_t after,
		     int (*fn)(uint64_t seq, const char *webhook_id, void *ctx),
		     void *ctx)
{
	struct store_cursor *c;
	struct peeked pk;
	unsigned char start[8];
	const void *k, *v;
	size_t klen, vlen;
	json_object *w, *rec;
	const char *id;
	int rc, stop = 0;

	if ((rc = store_cursor_open(txn, STORE_ATTEMPTS, &c)) != STORE_OK)
		return rc;
	key_of(start, after + 1);
	rc = store_cursor_seek(c, start, sizeof(start));
	while (rc == STORE_OK && stop == 0
	       && (rc = store_cursor_next(c, &k, &klen, &v, &vlen)) == STORE_OK) {
		if (klen != 8)
			continue;
		if (peek(v, vlen, &pk) == 0) {
			stop = fn(seq_of(k), pk.webhook, ctx);
			continue;
		}
		if ((w = parse_wrap(v, vlen)) == NULL)
			continue;
		json_object_object_get_ex(w, "record", &rec);
		id = json_text_member(rec, "webhookId");
		stop = fn(seq_of(k), id != NULL ? id : "", ctx);
		json_object_put(w);
	}
	store_cursor_close(c);
	if (stop < 0)
		return STORE_ERROR;
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* attempt_first_seq - see delivery.h. */
int
attempt_first_seq(struct store_txn *txn, uint64_t *seq)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t klen, vlen;
	int rc;

	*seq = 0;
	if ((rc = store_cursor_open(txn, STORE_ATTEMPTS, &c)) != STORE_OK)
		return rc;
	while ((rc = store_cursor_next(c, &k, &klen, &v, &vlen)) == STORE_OK)
		if (klen == 8) {
			*seq = seq_of(k);
			break;
		}
	store_cursor_close(c);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* attempt_last_seq - see delivery.h. */
int
attempt_last_seq(struct store_txn *txn, uint64_t *seq)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t klen, vlen;
	int rc, i;

	*seq = 0;
	rc = store_cursor_open(txn, STORE_ATTEMPTS, &c);
	if (rc != STORE_OK)
		return rc;
	while ((rc = store_cursor_next(c, &k, &klen, &v, &vlen)) == STORE_OK) {
		if (klen != 8)
			continue;
		*seq = 0;
		for (i = 0; i < 8; i++)
			*seq = (*seq << 8) | ((const unsigned char *) k)[i];
	}
	store_cursor_close(c);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}
