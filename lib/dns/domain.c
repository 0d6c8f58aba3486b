/*
 * domain.c - the watched domains' records in the store (domain.h): JSON
 * values under "TENANT\0DOMAIN", so that a tenant's domains are adjacent.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/domain.h"
#include "event/event.h"
#include "store/tenant_name.h"
#include "util/json.h"
#include "util/util.h"

#define SERVER_UUID_KEY "server_uuid"

/* domain_record_new - an unchecked record */
struct domain_record *
domain_record_new(const char *tenant, const char *domain)
{
	struct domain_record *r = xcalloc(1, sizeof(*r));

	r->tenant = tenant != NULL ? xstrdup(tenant) : NULL;
	r->domain = xstrdup(domain);
	return (r);
}

/* domain_record_free - the record and its strings */
void
domain_record_free(struct domain_record *r)
{
	int i;

	if (r == NULL)
		return;
	free(r->tenant);
	free(r->domain);
	for (i = 0; i < DNS_MAX_SELECTORS; i++) {
		free(r->selectors[i]);
		free(r->keys[i]);
	}
	free(r->return_path);
	free(r->reported_errors);
	for (i = 0; i < DNS_CHECK_COUNT; i++)
		dns_check_clear(&r->checks[i]);
	free(r);
}

/* domain_record_broken - a core check not OK */
int
domain_record_broken(const struct domain_record *r)
{
	int i;

	for (i = 0; i < DNS_CHECK_CORE; i++)
		if (r->checks[i].status != DNS_ST_OK)
			return (1);
	return (0);
}

/* domain_record_errors - "spf=Missing:No SPF...\n..." */
char *
domain_record_errors(const struct domain_record *r)
{
	struct buf b;
	int i;

	buf_init(&b);
	for (i = 0; i < DNS_CHECK_CORE; i++)
		buf_printf(&b, "%s=%s:%s\n", dns_check_field((enum dns_check_kind) i),
			   dns_status_name(r->checks[i].status),
			   r->checks[i].status != DNS_ST_OK && r->checks[i].error
			       ? r->checks[i].error
			       : "");
	return (buf_take(&b));
}

/* domain_name_normal - a host name, lowercase, without the final dot */
char *
domain_name_normal(const char *domain)
{
	size_t len = strlen(domain), i, label = 0;
	char *out;

	if (len > 0 && domain[len - 1] == '.')
		len--;
	if (len == 0 || len > 253 || domain[0] == '.')
		return (NULL);
	out = xstrndup(domain, len);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char) out[i];

		if (c == '.') {
			if (label == 0)
				break;
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_')
			break;
		if (++label > 63)
			break;
		out[i] = (char) tolower(c);
	}
	if (i < len || strchr(out, '.') == NULL) {
		free(out);
		return (NULL);
	}
	return (out);
}

/* check_to_json - {"status","error","note"} */
static json_object *
check_to_json(const struct dns_check *c)
{
	json_object *o = json_object_new_object();

	json_add_string(o, "status", dns_status_name(c->status));
	json_add_string(o, "error", c->error);
	if (c->note != NULL)
		json_add_string(o, "note", c->note);
	if (c->unsure)
		json_object_object_add(o, "unsure", json_object_new_boolean(1));
	return (o);
}

/* check_from_json - the fields of check_to_json(); unknown status: Invalid */
static void
check_from_json(json_object *o, struct dns_check *c)
{
	const char *s;

	if (o == NULL)
		return;
	if ((s = json_string_member(o, "status")) == NULL
	    || dns_status_from_name(s, &c->status) < 0)
		c->status = DNS_ST_INVALID;
	if ((s = json_string_member(o, "error")) != NULL)
		c->error = xstrdup(s);
	if ((s = json_string_member(o, "note")) != NULL)
		c->note = xstrdup(s);
	c->unsure = json_object_get_boolean(json_member(o, "unsure"));
}

/* domain_record_to_json - the stored form (and `domains show`) */
json_object *
domain_record_to_json(const struct domain_record *r)
{
	json_object *o = json_object_new_object(), *a, *c, *s;
	int i;

	json_add_string(o, "domain", r->domain);
	json_add_string(o, "tenant", r->tenant);
	json_add_string(o, "uuid", r->uuid);
	json_object_object_add(o, "created", json_double_new(r->created, 6));
	a = json_object_new_array();
	for (i = 0; i < DNS_MAX_SELECTORS && r->selectors[i] != NULL; i++) {
		s = json_object_new_object();
		json_add_string(s, "selector", r->selectors[i]);
		json_add_string(s, "public_key", r->keys[i]);
		json_object_array_add(a, s);
	}
	json_object_object_add(o, "dkim", a);
	json_object_object_add(o, "send_only", json_object_new_boolean(r->send_only));
	json_add_string(o, "return_path", r->return_path);
	if (r->checked_at > 0) {
		json_object_object_add(o, "checked_at",
				       json_double_new(r->checked_at, 6));
		c = json_object_new_object();
		for (i = 0; i < DNS_CHECK_COUNT; i++)
			json_object_object_add(c,
					       dns_check_field((enum dns_check_kind) i),
					       check_to_json(&r->checks[i]));
		json_object_object_add(o, "checks", c);
		json_add_string(o, "dmarc_policy",
				r->dmarc.policy[0] ? r->dmarc.policy : NULL);
		json_object_object_add(o, "dmarc_spf_aligned",
				       json_object_new_boolean(r->dmarc.spf_aligned));
		json_object_object_add(o, "dmarc_dkim_aligned",
				       json_object_new_boolean(r->dmarc.dkim_aligned));
		json_object_object_add(o, "broken", json_object_new_boolean(r->broken));
	}
	if (r->reported) {
		json_object_object_add(o, "reported_broken",
				       json_object_new_boolean(r->reported_broken));
		json_add_string(o, "reported_errors", r->reported_errors);
		json_object_object_add(o, "error_event_at",
				       json_double_new(r->error_event_at, 6));
	}
	return (o);
}

/* domain_record_from_json - the stored form back */
struct domain_record *
domain_record_from_json(json_object *obj)
{
	struct domain_record *r;
	json_object *a, *c, *s;
	const char *str;
	size_t i;

	if (json_string_member(obj, "domain") == NULL)
		return (NULL);
	r = domain_record_new(json_string_member(obj, "tenant"),
			      json_string_member(obj, "domain"));
	if ((str = json_string_member(obj, "uuid")) != NULL)
		snprintf(r->uuid, sizeof(r->uuid), "%s", str);
	r->created = json_object_get_double(json_member(obj, "created"));
	a = json_member(obj, "dkim");
	for (i = 0; json_object_is_type(a, json_type_array)
		    && i < json_object_array_length(a) && i < DNS_MAX_SELECTORS;
	     i++) {
		s = json_object_array_get_idx(a, i);
		if ((str = json_string_member(s, "selector")) == NULL)
			continue;
		r->selectors[i] = xstrdup(str);
		str = json_string_member(s, "public_key");
		r->keys[i] = xstrdup(str != NULL ? str : "");
	}
	r->send_only = json_object_get_boolean(json_member(obj, "send_only"));
	if ((str = json_string_member(obj, "return_path")) != NULL)
		r->return_path = xstrdup(str);
	r->checked_at = json_object_get_double(json_member(obj, "checked_at"));
	if ((c = json_member(obj, "checks")) != NULL)
		for (i = 0; i < DNS_CHECK_COUNT; i++)
			check_from_json(
			    json_member(c, dns_check_field((enum dns_check_kind) i)),
			    &r->checks[i]);
	if ((str = json_string_member(obj, "dmarc_policy")) != NULL)
		snprintf(r->dmarc.policy, sizeof(r->dmarc.policy), "%s", str);
	r->dmarc.spf_aligned =
	    json_object_get_boolean(json_member(obj, "dmarc_spf_aligned"));
	r->dmarc.dkim_aligned =
	    json_object_get_boolean(json_member(obj, "dmarc_dkim_aligned"));
	r->broken = json_object_get_boolean(json_member(obj, "broken"));
	if ((str = json_string_member(obj, "reported_errors")) != NULL) {
		r->reported = 1;
		r->reported_errors = xstrdup(str);
		r->reported_broken =
		    json_object_get_boolean(json_member(obj, "reported_broken"));
		r->error_event_at =
		    json_object_get_double(json_member(obj, "error_event_at"));
	}
	return (r);
}

/* record_key - "TENANT\0DOMAIN"; *len gets its length */
static char *
record_key(const char *tenant, const char *domain, size_t *len)
{
	const char *t = tenant_of(tenant);
	size_t tl = strlen(t), dl = strlen(domain);
	char *k = xmalloc(tl + 1 + dl + 1);

	memcpy(k, t, tl + 1);
	memcpy(k + tl + 1, domain, dl + 1);
	*len = tl + 1 + dl;
	return (k);
}

/* parse_value - a stored value as a record; NULL if corrupt */
static struct domain_record *
parse_value(const void *val, size_t vlen)
{
	struct domain_record *r;
	json_object *o = json_parse_len(val, vlen);

	if (o == NULL)
		return (NULL);
	r = domain_record_from_json(o);
	json_object_put(o);
	return (r);
}

/* domain_get - one record */
int
domain_get(struct store_txn *txn, const char *tenant, const char *domain,
	   struct domain_record **out)
{
	size_t klen, vlen;
	char *key = record_key(tenant, domain, &klen);
	void *val;
	int rc;

	*out = NULL;
	rc = store_get(txn, STORE_DOMAINS, key, klen, &val, &vlen);
	free(key);
	if (rc != STORE_OK)
		return (rc);
	*out = parse_value(val, vlen);
	free(val);
	return (*out != NULL ? STORE_OK : STORE_ERROR);
}

/* write_record - put, or put unless present */
static int
write_record(struct store_txn *txn, const struct domain_record *r, int only_new)
{
	json_object *o = domain_record_to_json(r);
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	size_t klen;
	char *key = record_key(r->tenant, r->domain, &klen);
	int rc;

	rc = only_new ? store_put_new(txn, STORE_DOMAINS, key, klen, text, strlen(text))
		      : store_put(txn, STORE_DOMAINS, key, klen, text, strlen(text));
	free(key);
	json_object_put(o);
	return (rc);
}

/* domain_exists - see domain.h */
int
domain_exists(struct store_txn *txn, const char *tenant, const char *domain)
{
	size_t klen, vlen;
	char *key = record_key(tenant, domain, &klen);
	void *val;
	int rc;

	rc = store_get(txn, STORE_DOMAINS, key, klen, &val, &vlen);
	free(key);
	if (rc == STORE_OK)
		free(val);
	return (rc);
}

/* domain_put - store the record */
int
domain_put(struct store_txn *txn, const struct domain_record *r)
{
	return (write_record(txn, r, 0));
}

/* domain_add - store a new record */
int
domain_add(struct store_txn *txn, const struct domain_record *r)
{
	return (write_record(txn, r, 1));
}

/* domain_del - forget one domain */
int
domain_del(struct store_txn *txn, const char *tenant, const char *domain)
{
	size_t klen;
	char *key = record_key(tenant, domain, &klen);
	int rc;

	rc = store_del(txn, STORE_DOMAINS, key, klen);
	free(key);
	return (rc);
}

/* domain_list - the records in key order */
int
domain_list(struct store_txn *txn, const char *tenant, struct domain_record ***out,
	    size_t *n)
{
	struct store_cursor *c;
	struct domain_record **recs = NULL, *r;
	const void *k, *v;
	size_t klen, vlen, count = 0, tl = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (tenant != NULL)
		tl = strlen(tenant) + 1; /* with its NUL */
	if ((rc = store_cursor_open(txn, STORE_DOMAINS, &c)) != STORE_OK)
		return (rc);
	if (tenant != NULL && (rc = store_cursor_seek(c, tenant, tl)) != STORE_OK
	    && rc != STORE_NOTFOUND)
		goto fail;
	while ((rc = store_cursor_next(c, &k, &klen, &v, &vlen)) == STORE_OK) {
		if (tenant != NULL && (klen < tl || memcmp(k, tenant, tl) != 0))
			break;
		if ((r = parse_value(v, vlen)) == NULL)
			continue; /* a corrupt record is skipped, not fatal */
		recs = xrealloc(recs, (count + 2) * sizeof(*recs));
		recs[count++] = r;
		recs[count] = NULL;
	}
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		goto fail;
	store_cursor_close(c);
	if (recs == NULL)
		recs = xcalloc(1, sizeof(*recs));
	*out = recs;
	*n = count;
	return (STORE_OK);
fail:
	store_cursor_close(c);
	domain_records_free(recs);
	return (rc);
}

/* domain_records_free - a list from domain_list() */
void
domain_records_free(struct domain_record **recs)
{
	size_t i;

	for (i = 0; recs != NULL && recs[i] != NULL; i++)
		domain_record_free(recs[i]);
	free(recs);
}

/* domain_server_uuid - this site's uuid, made once */
int
domain_server_uuid(struct store_txn *txn, char out[37])
{
	void *val;
	size_t vlen;
	int rc;

	rc = store_get_rmw(txn, STORE_META, SERVER_UUID_KEY, strlen(SERVER_UUID_KEY),
			   &val, &vlen);
	if (rc == STORE_OK) {
		snprintf(out, 37, "%.*s", (int) (vlen < 36 ? vlen : 36),
			 (const char *) val);
		free(val);
		return (STORE_OK);
	}
	if (rc != STORE_NOTFOUND)
		return (rc);
	event_uuid_new(out);
	return (store_put(txn, STORE_META, SERVER_UUID_KEY, strlen(SERVER_UUID_KEY), out,
			  36));
}
