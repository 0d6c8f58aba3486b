/*
 * correlate_save.c - the correlator's state as JSON, for the store's
 * STORE_QUEUE table: each changed queue id's state (or its deletion), the
 * TLS sessions (TLS_STATE_KEY) and the learned hop relays
 * (HOP_STATE_KEY); and the same read back after a restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "util/util.h"
#include "correlate_int.h"

/* json_num - a number member, or 0. */
static double
json_num(json_object *o, const char *key)
{
	return (json_object_get_double(json_member(o, key)));
}

/* json_flag - a boolean member, or 0. */
static int
json_flag(json_object *o, const char *key)
{
	return (json_object_get_boolean(json_member(o, key)));
}

/* qs_to_json - what must survive a restart. */
static json_object *
qs_to_json(const struct qstate *qs)
{
	json_object *o = json_object_new_object();
	json_object *arr = json_object_new_array();

	json_add_string_set(o, "from", qs->from);
	json_add_string_set(o, "message_id", qs->message_id);
	json_add_string_set(o, "origin", qs->origin);
	json_object_object_add(o, "first_seen", json_double_new(qs->first_seen, 6));
	json_object_object_add(o, "submitted", json_object_new_boolean(qs->submitted));
	json_add_string_set(o, "sasl_username", qs->sasl_username);
	json_add_string_set(o, "client", qs->client_addr);
	if (qs->loopback)
		json_object_object_add(o, "loopback", json_object_new_boolean(1));
	if (qs->removed)
		json_object_object_add(o, "removed", json_object_new_boolean(1));
	for (const struct deferral *d = qs->deferred; d != NULL; d = d->next) {
		json_object *e = json_object_new_object();

		json_add_string_set(e, "to", d->rcpt);
		json_add_string_set(e, "program", d->program);
		json_add_string_set(e, "relay", d->relay);
		json_add_string_set(e, "dsn", d->dsn);
		json_add_string_set(e, "text", d->text);
		json_object_object_add(e, "delay", json_double_new(d->delay, 3));
		json_object_object_add(e, "when", json_double_new(d->when, 6));
		if (d->time >= 0)
			json_object_object_add(e, "time", json_double_new(d->time, 3));
		if (d->ssl != SSL_UNKNOWN)
			json_object_object_add(e, "ssl", json_object_new_boolean(d->ssl));
		json_object_array_add(arr, e);
	}
	json_object_object_add(o, "deferred", arr);
	if (qs->held != NULL) {
		arr = json_object_new_array();
		for (const struct held *h = qs->held; h != NULL; h = h->next) {
			json_object *e = json_object_new_object();

			json_add_string_set(e, "key", h->keybase);
			json_add_string_set(e, "to", h->to);
			json_add_string_set(e, "reason", h->reason);
			json_add_string_set(e, "output", h->output);
			json_object_object_add(e, "when", json_double_new(h->when, 6));
			json_object_object_add(e, "deadline",
					       json_double_new(h->deadline, 3));
			json_object_array_add(arr, e);
		}
		json_object_object_add(o, "held", arr);
	}
	if (qs->waiting != NULL) {
		arr = json_object_new_array();
		for (const struct waiting *w = qs->waiting; w != NULL; w = w->next) {
			json_object *e = json_object_new_object();

			json_add_string_set(e, "source", w->source);
			json_object_object_add(
			    e, "offset", json_object_new_int64((int64_t) w->offset));
			json_add_string_set(e, "cursor", w->cursor);
			json_add_string_set(e, "program", w->program);
			json_object_object_add(e, "pid", json_object_new_int64(w->pid));
			json_add_string_set(e, "msg", w->msg);
			json_object_object_add(e, "ssl", json_object_new_int(w->ssl));
			json_object_object_add(e, "when", json_double_new(w->when, 6));
			json_object_array_add(arr, e);
		}
		json_object_object_add(o, "waiting", arr);
	}
	return (o);
}

/* tls_to_json - the open TLS sessions, [{"pid","addr","port","qid"}]. */
static json_object *
tls_to_json(const struct correlate *c)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < TLS_SLOTS; i++) {
		const struct tls_sess *t = &c->tls[i];
		json_object *o;

		if (t->pid == 0)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "pid", json_object_new_int64(t->pid));
		json_add_string_set(o, "addr", t->addr);
		json_add_string_set(o, "port", t->port);
		json_add_string_set(o, "qid", t->qid);
		json_object_array_add(arr, o);
	}
	return (arr);
}

/* tls_restore - take back what tls_to_json() wrote; 0 or -1. */
static int
tls_restore(struct correlate *c, json_object *state)
{
	size_t n;

	if (!json_object_is_type(state, json_type_array))
		return (-1);
	n = json_object_array_length(state);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(state, i);
		long pid = (long) json_num(e, "pid");
		struct tls_sess *t;

		if (pid <= 0)
			continue;
		t = tls_slot(c, pid);
		t->pid = pid;
		snprintf(t->addr, sizeof(t->addr), "%s",
			 json_string_member(e, "addr") ? json_string_member(e, "addr")
						       : "");
		snprintf(t->port, sizeof(t->port), "%s",
			 json_string_member(e, "port") ? json_string_member(e, "port")
						       : "");
		snprintf(t->qid, sizeof(t->qid), "%s",
			 json_string_member(e, "qid") ? json_string_member(e, "qid")
						      : "");
	}
	return (0);
}

/* correlate_flush_dirty - see correlate.h. */
void
correlate_flush_dirty(struct correlate *c, correlate_state_fn fn, void *ctx)
{
	for (size_t i = 0; i < c->gone.n; i++)
		fn(c->gone.v[i], NULL, ctx);
	strvec_clear(&c->gone);
	for (size_t i = 0; i < c->dirty.n; i++) {
		const char *qid = c->dirty.v[i];
		struct qstate *qs = qs_find(c, qid, strlen(qid));
		json_object *o;

		if (qs == NULL || !qs->dirty)
			continue;
		o = qs_to_json(qs);
		fn(qid, o, ctx);
		json_object_put(o);
		qs->dirty = 0;
		qs->persisted = 1;
	}
	strvec_clear(&c->dirty);
	if (c->tls_dirty) {
		json_object *o = tls_to_json(c);

		fn(TLS_STATE_KEY, o, ctx);
		json_object_put(o);
		c->tls_dirty = 0;
	}
	if (c->hop_dirty) {
		json_object *o = json_object_new_object();
		json_object *arr = json_object_new_array();

		for (size_t i = 0; i < c->nhop_relay; i++)
			json_object_array_add(arr,
					      json_object_new_string(c->hop_relay[i]));
		json_object_object_add(o, "relays", arr);
		fn(HOP_STATE_KEY, o, ctx);
		json_object_put(o);
		c->hop_dirty = 0;
	}
}

/* hop_restore - take back the learned hop relays; 0 or -1. */
static int
hop_restore(struct correlate *c, json_object *state)
{
	json_object *arr;
	size_t n;

	if (!json_object_is_type(state, json_type_object)
	    || !json_object_object_get_ex(state, "relays", &arr)
	    || !json_object_is_type(arr, json_type_array))
		return (-1);
	n = json_object_array_length(arr);
	c->nhop_relay = 0;
	for (size_t i = 0; i < n && c->nhop_relay < HOP_RELAYS; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(arr, i));

		if (s != NULL && *s != 0 && strlen(s) < sizeof(c->hop_relay[0]))
			memcpy(c->hop_relay[c->nhop_relay++], s, strlen(s) + 1);
	}
	return (0);
}

/*
 * waiting_restore - the waiting lines of a saved state.  Their wait starts
 * again (from the next tick): the line that links them may be the next
 * one in the log.
 */
static void
waiting_restore(struct correlate *c, struct qstate *qs, json_object *arr)
{
	size_t n = json_object_array_length(arr);
	struct waiting **pp = &qs->waiting;

	while (*pp != NULL)
		pp = &(*pp)->next;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i), *v;
		const char *program = json_string_member(e, "program"),
			   *msg = json_string_member(e, "msg");
		struct waiting *w;

		if (program == NULL || msg == NULL)
			continue;
		w = xcalloc(1, sizeof(*w));
		w->source = json_string_member(e, "source")
				? xstrdup(json_string_member(e, "source"))
				: NULL;
		w->offset = json_object_object_get_ex(e, "offset", &v)
				? (uint64_t) json_object_get_int64(v)
				: 0;
		w->cursor = json_string_member(e, "cursor")
				? xstrdup(json_string_member(e, "cursor"))
				: NULL;
		w->program = xstrdup(program);
		w->pid = json_object_object_get_ex(e, "pid", &v)
			     ? (long) json_object_get_int64(v)
			     : -1;
		w->msg = xstrdup(msg);
		w->ssl = json_object_object_get_ex(e, "ssl", &v) ? json_object_get_int(v)
								 : SSL_UNKNOWN;
		if (w->ssl != 0 && w->ssl != 1)
			w->ssl = SSL_UNKNOWN;
		w->when = json_num(e, "when");
		*pp = w;
		pp = &w->next;
	}
	pend_update(c, qs);
}

/* correlate_restore - see correlate.h. */
int
correlate_restore(struct correlate *c, const char *qid, json_object *state)
{
	struct span q = { qid, strlen(qid) };
	struct qstate *qs;
	json_object *arr;
	const char *s;

	if (strcmp(qid, TLS_STATE_KEY) == 0)
		return (tls_restore(c, state));
	if (strcmp(qid, HOP_STATE_KEY) == 0)
		return (hop_restore(c, state));
	if (!is_queue_id(qid, q.len) || !json_object_is_type(state, json_type_object))
		return (-1);
	qs = qs_get(c, q, json_num(state, "first_seen"));
	if ((s = json_string_member(state, "from")) != NULL) {
		free(qs->from);
		qs->from = xstrdup(s);
	}
	if ((s = json_string_member(state, "message_id")) != NULL) {
		free(qs->message_id);
		qs->message_id = xstrdup(s);
	}
	if ((s = json_string_member(state, "origin")) != NULL) {
		free(qs->origin);
		qs->origin = xstrdup(s);
	}
	if ((s = json_string_member(state, "sasl_username")) != NULL) {
		free(qs->sasl_username);
		qs->sasl_username = xstrdup(s);
	}
	if ((s = json_string_member(state, "client")) != NULL) {
		free(qs->client_addr);
		qs->client_addr = xstrdup(s);
	}
	qs->first_seen = json_num(state, "first_seen");
	qs->submitted = json_flag(state, "submitted");
	qs->loopback = json_flag(state, "loopback");
	qs->removed = json_flag(state, "removed");
	if (json_object_object_get_ex(state, "deferred", &arr)
	    && json_object_is_type(arr, json_type_array)) {
		size_t n = json_object_array_length(arr);

		for (size_t i = n; i-- > 0;) {
			json_object *e = json_object_array_get_idx(arr, i);
			struct attempt a;

			if ((a.to = json_string_member(e, "to")) == NULL)
				continue;
			a.program = json_string_member(e, "program")
					? json_string_member(e, "program")
					: "smtp";
			a.relay = json_string_member(e, "relay")
				      ? json_string_member(e, "relay")
				      : "none";
			a.dsn = json_string_member(e, "dsn")
				    ? json_string_member(e, "dsn")
				    : "";
			a.text = json_string_member(e, "text")
				     ? json_string_member(e, "text")
				     : "";
			deferral_add(qs, &a, json_num(e, "delay"), json_num(e, "when"),
				     json_object_object_get_ex(e, "time", NULL)
					 ? json_num(e, "time")
					 : -1,
				     json_object_object_get_ex(e, "ssl", NULL)
					 ? json_flag(e, "ssl")
					 : SSL_UNKNOWN);
		}
	}
	if (json_object_object_get_ex(state, "held", &arr)
	    && json_object_is_type(arr, json_type_array)) {
		size_t n = json_object_array_length(arr);

		for (size_t i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(arr, i);
			const char *key = json_string_member(e, "key");

			if (key == NULL)
				continue;
			held_add(c, qs, xstrdup(key),
				 xstrdup(json_string_member(e, "to")
					     ? json_string_member(e, "to")
					     : ""),
				 xstrdup(json_string_member(e, "reason")
					     ? json_string_member(e, "reason")
					     : ""),
				 xstrdup(json_string_member(e, "output")
					     ? json_string_member(e, "output")
					     : ""),
				 json_num(e, "when"), json_num(e, "deadline"));
		}
	}
	if (json_object_object_get_ex(state, "waiting", &arr)
	    && json_object_is_type(arr, json_type_array))
		waiting_restore(c, qs, arr);
	qs->persisted = 1;
	qs->dirty = 0;
	return (0);
}
