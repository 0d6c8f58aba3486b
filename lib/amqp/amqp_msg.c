/*
 * amqp_msg.c - the AMQP sink's routing keys, properties, shown URL and
 * status record (see amqp_msg.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amqp/amqp_msg.h"
#include "store/tenant_name.h"
#include "tenant/tenant.h"
#include "util/json.h"
#include "util/util.h"

#define STATUS_KEY "amqp_sink"

/* amqp_tenant_valid - see amqp_msg.h. */
int
amqp_tenant_valid(const char *tenant)
{
	return tenant_name_valid(tenant);
}

/* amqp_routing_key - see amqp_msg.h. */
int
amqp_routing_key(enum event_type t, const char *tenant, char *out, size_t outlen)
{
	const char *name = event_type_name(t);
	int n;

	tenant = tenant_of(tenant);
	if (name == NULL || !amqp_tenant_valid(tenant))
		return -1;
	n = snprintf(out, outlen, "%s.%s", name, tenant);
	return n < 0 || (size_t) n >= outlen ? -1 : 0;
}

/* scheme_len - length of "amqp://" or "amqps://" at the start of url, or 0. */
static size_t
scheme_len(const char *url)
{
	if (url == NULL)
		return 0;
	if (strncmp(url, "amqp://", 7) == 0)
		return 7;
	if (strncmp(url, "amqps://", 8) == 0)
		return 8;
	return 0;
}

/* amqp_url_is_sink - see amqp_msg.h. */
int
amqp_url_is_sink(const char *url)
{
	return scheme_len(url) > 0;
}

/* amqp_url_redact - see amqp_msg.h. */
char *
amqp_url_redact(const char *url)
{
	size_t sl = scheme_len(url);
	const char *auth, *host, *at, *colon;
	char *out;

	if (sl == 0)
		return NULL;
	auth = url + sl;
	host = auth + strcspn(auth, "/?#");
	at = memchr(auth, '@', (size_t) (host - auth));
	/* the last '@' ends the credentials; a password may hold none escaped */
	while (at != NULL && memchr(at + 1, '@', (size_t) (host - at - 1)) != NULL)
		at = memchr(at + 1, '@', (size_t) (host - at - 1));
	if (at == NULL)
		return (host > auth ? xstrdup(url) : NULL);
	if (at + 1 == host)
		return NULL;
	colon = memchr(auth, ':', (size_t) (at - auth));
	if (colon == NULL)
		return xstrdup(url);
	out = xasprintf("%.*s%s", (int) (colon - url), url, at);
	return out;
}

/* amqp_props_fill - see amqp_msg.h. */
int
amqp_props_fill(struct amqp_props *p, enum event_type t, const char *tenant,
		double timestamp, const char *uuid, const char *host_name,
		const char *queue_id, const char *event_key, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	if (amqp_routing_key(t, tenant, p->routing_key, sizeof(p->routing_key)) < 0) {
		snprintf(err, errlen, "tenant \"%s\" cannot be part of a routing key",
			 tenant_of(tenant));
		return -1;
	}
	p->message_id = uuid;
	p->type = event_type_name(t);
	p->timestamp = timestamp > 0 ? (uint64_t) timestamp : 0;
	p->host_name = host_name;
	p->queue_id = queue_id != NULL && queue_id[0] != 0 ? queue_id : NULL;
	p->tenant = tenant_of(tenant);
	p->event_key = event_key;
	return 0;
}

/* amqp_status_clear - free what s holds and zero it. */
void
amqp_status_clear(struct amqp_status *s)
{
	free(s->url);
	free(s->last_error);
	memset(s, 0, sizeof(*s));
}

/* add_u64 - member key: v. */
static void
add_u64(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

/* amqp_status_to_json - see amqp_msg.h. */
json_object *
amqp_status_to_json(const struct amqp_status *s)
{
	json_object *o = json_object_new_object();

	json_add_string(o, "state", s->state);
	json_add_string(o, "url", s->url);
	json_add_string(o, "last_error", s->last_error);
	json_object_object_add(o, "last_error_at",
			       json_object_new_double(s->last_error_at));
	json_object_object_add(o, "since", json_object_new_double(s->since));
	json_object_object_add(o, "oldest_due", json_object_new_double(s->oldest_due));
	add_u64(o, "published", s->published);
	add_u64(o, "confirmed", s->confirmed);
	add_u64(o, "nacked", s->nacked);
	add_u64(o, "reconnects", s->reconnects);
	json_object_object_add(o, "updated", json_object_new_double(s->updated));
	return o;
}

/* get_double - member key as a number, or 0. */
static double
get_double(json_object *o, const char *key)
{
	json_object *m = json_member(o, key);

	return m != NULL ? json_object_get_double(m) : 0;
}

/* get_u64 - member key as an unsigned number, or 0. */
static uint64_t
get_u64(json_object *o, const char *key)
{
	json_object *m = json_member(o, key);

	return m != NULL ? json_object_get_uint64(m) : 0;
}

/* amqp_status_from_json - see amqp_msg.h. */
int
amqp_status_from_json(json_object *o, struct amqp_status *s)
{
	const char *state = json_string_member(o, "state"), *v;

	memset(s, 0, sizeof(*s));
	if (state == NULL || strlen(state) >= sizeof(s->state))
		return -1;
	strcpy(s->state, state);
	if ((v = json_string_member(o, "url")) != NULL)
		s->url = xstrdup(v);
	if ((v = json_string_member(o, "last_error")) != NULL)
		s->last_error = xstrdup(v);
	s->last_error_at = get_double(o, "last_error_at");
	s->since = get_double(o, "since");
	s->oldest_due = get_double(o, "oldest_due");
	s->published = get_u64(o, "published");
	s->confirmed = get_u64(o, "confirmed");
	s->nacked = get_u64(o, "nacked");
	s->reconnects = get_u64(o, "reconnects");
	s->updated = get_double(o, "updated");
	return 0;
}

/* amqp_status_get - see amqp_msg.h. */
int
amqp_status_get(struct store_txn *txn, struct amqp_status *s)
{
	json_object *o;
	void *val;
	size_t vlen;
	int rc;

	memset(s, 0, sizeof(*s));
	rc = store_get(txn, STORE_META, STATUS_KEY, strlen(STATUS_KEY), &val, &vlen);
	if (rc != STORE_OK)
		return rc;
	o = json_parse_len(val, vlen);
	free(val);
	rc = o != NULL && amqp_status_from_json(o, s) == 0 ? STORE_OK : STORE_NOTFOUND;
	json_object_put(o);
	return rc;
}

/* amqp_status_put - see amqp_msg.h. */
int
amqp_status_put(struct store_txn *txn, const struct amqp_status *s)
{
	json_object *o = amqp_status_to_json(s);
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	int rc;

	rc = store_put(txn, STORE_META, STATUS_KEY, strlen(STATUS_KEY), text,
		       strlen(text));
	json_object_put(o);
	return rc;
}
