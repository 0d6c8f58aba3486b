/*
 * tenant.c - tenant records: names, rules kept on the record, the JSON
 * form and the STORE_TENANTS table (see tenant.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/event.h"
#include "store/endpoint.h"
#include "tenant/tenant.h"
#include "util/json.h"
#include "util/util.h"

#define GEN_KEY "tenants_gen"
#define VALUE_MAX 256

/* tenant_new - see tenant.h. */
struct tenant *
tenant_new(const char *name)
{
	struct tenant *t = xcalloc(1, sizeof(*t));

	t->name = xstrdup(name);
	return (t);
}

/* free_values - free a NULL-terminated list of strings. */
static void
free_values(char **v)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* tenant_free - see tenant.h. */
void
tenant_free(struct tenant *t)
{
	int k;

	if (t == NULL)
		return;
	free(t->name);
	for (k = 0; k < TENANT_RULE_KINDS; k++)
		free_values(t->rules[k]);
	if (t->settings != NULL)
		json_object_put(t->settings);
	free(t);
}

/* tenant_name_valid - see tenant.h. */
int
tenant_name_valid(const char *name)
{
	size_t i;

	if (name == NULL || name[0] == 0)
		return (0);
	for (i = 0; name[i]; i++) {
		char c = name[i];

		if (i >= TENANT_NAME_MAX)
			return (0);
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if (i > 0 && (c == '_' || c == '-'))
			continue;
		return (0);
	}
	return (1);
}

/* count_values - the length of a NULL-terminated list (NULL: 0). */
static size_t
count_values(char **v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return (n);
}

/* tenant_rule_add - see tenant.h. */
int
tenant_rule_add(struct tenant *t, enum tenant_rule_kind kind, const char *value,
		char *err, size_t errlen)
{
	char norm[VALUE_MAX];
	size_t n, i;

	if (kind >= TENANT_RULE_KINDS) {
		snprintf(err, errlen, "unknown kind of tenant rule");
		return (-1);
	}
	if (tenant_rule_normalize(kind, value, norm, sizeof(norm), err, errlen) != 0)
		return (-1);
	n = count_values(t->rules[kind]);
	for (i = 0; i < n; i++)
		if (strcmp(t->rules[kind][i], norm) == 0)
			return (0);
	t->rules[kind] = xrealloc(t->rules[kind], (n + 2) * sizeof(char *));
	t->rules[kind][n] = xstrdup(norm);
	t->rules[kind][n + 1] = NULL;
	return (0);
}

/* tenant_rule_remove - see tenant.h. */
int
tenant_rule_remove(struct tenant *t, enum tenant_rule_kind kind, const char *value)
{
	char norm[VALUE_MAX], err[16];
	size_t n, i;

	if (kind >= TENANT_RULE_KINDS
	    || tenant_rule_normalize(kind, value, norm, sizeof(norm), err, sizeof(err))
		   != 0)
		return (-1);
	n = count_values(t->rules[kind]);
	for (i = 0; i < n; i++) {
		if (strcmp(t->rules[kind][i], norm) == 0) {
			free(t->rules[kind][i]);
			memmove(&t->rules[kind][i], &t->rules[kind][i + 1],
				(n - i) * sizeof(char *));
			return (0);
		}
	}
	return (-1);
}

/* add_time - "<key>At" as ISO 8601 and "<key>" as seconds, when set. */
static void
add_time(json_object *o, const char *key, double when)
{
	char iso[32], name[32];

	if (when == 0)
		return;
	iso8601_utc(when, iso, sizeof(iso));
	snprintf(name, sizeof(name), "%sAt", key);
	json_object_object_add(o, name, json_object_new_string(iso));
	json_object_object_add(o, key, json_double_new(when, 6));
}

/* tenant_to_json - see tenant.h. */
json_object *
tenant_to_json(const struct tenant *t)
{
	json_object *o = json_object_new_object();
	json_object *rules = json_object_new_object();
	json_object *arr;
	size_t i;
	int k;

	json_object_object_add(o, "name", json_object_new_string(t->name));
	for (k = 0; k < TENANT_RULE_KINDS; k++) {
		arr = json_object_new_array();
		for (i = 0; t->rules[k] != NULL && t->rules[k][i] != NULL; i++)
			json_object_array_add(arr,
					      json_object_new_string(t->rules[k][i]));
		json_object_object_add(rules, tenant_rule_kind_name(k), arr);
	}
	json_object_object_add(o, "rules", rules);
	json_object_object_add(o, "settings",
			       t->settings != NULL ? json_object_get(t->settings)
						   : json_object_new_object());
	add_time(o, "created", t->created_at);
	add_time(o, "updated", t->updated_at);
	return (o);
}

/* tenant_from_json - see tenant.h. */
struct tenant *
tenant_from_json(json_object *obj)
{
	const char *name = json_string_member(obj, "name");
	json_object *rules, *arr, *v;
	struct tenant *t;
	char err[256];
	size_t i;
	int k;

	if (!tenant_name_valid(name))
		return (NULL);
	t = tenant_new(name);
	rules = json_member(obj, "rules");
	for (k = 0; rules != NULL && k < TENANT_RULE_KINDS; k++) {
		arr = json_member(rules, tenant_rule_kind_name(k));
		if (arr == NULL)
			continue;
		if (!json_object_is_type(arr, json_type_array))
			goto bad;
		for (i = 0; i < json_object_array_length(arr); i++) {
			v = json_object_array_get_idx(arr, i);
			if (!json_object_is_type(v, json_type_string)
			    || tenant_rule_add(t, k, json_object_get_string(v), err,
					       sizeof(err))
				   != 0)
				goto bad;
		}
	}
	if ((v = json_member(obj, "settings")) != NULL) {
		if (!json_object_is_type(v, json_type_object))
			goto bad;
		t->settings = json_object_get(v);
	}
	if ((v = json_member(obj, "created")) != NULL)
		t->created_at = json_object_get_double(v);
	if ((v = json_member(obj, "updated")) != NULL)
		t->updated_at = json_object_get_double(v);
	return (t);
bad:
	tenant_free(t);
	return (NULL);
}

/* parse_record - a stored value to a tenant, or NULL. */
static struct tenant *
parse_record(const void *val, size_t vlen)
{
	json_tokener *tok = json_tokener_new();
	json_object *o;
	struct tenant *t = NULL;

	o = json_tokener_parse_ex(tok, val, (int) vlen);
	json_tokener_free(tok);
	if (o != NULL) {
		t = tenant_from_json(o);
		json_object_put(o);
	}
	return (t);
}

/* tenant_generation - see tenant.h. */
int
tenant_generation(struct store_txn *txn, uint64_t *gen)
{
	void *val;
	size_t vlen;
	int rc;

	*gen = 0;
	rc = store_get(txn, STORE_META, GEN_KEY, strlen(GEN_KEY), &val, &vlen);
	if (rc == STORE_NOTFOUND)
		return (STORE_OK);
	if (rc != STORE_OK)
		return (rc);
	if (vlen == sizeof(*gen))
		memcpy(gen, val, sizeof(*gen));
	free(val);
	return (STORE_OK);
}

/* bump_generation - count one change of the tenant table. */
static int
bump_generation(struct store_txn *txn)
{
	uint64_t gen;
	int rc;

	if ((rc = tenant_generation(txn, &gen)) != STORE_OK)
		return (rc);
	gen++;
	return (store_put(txn, STORE_META, GEN_KEY, strlen(GEN_KEY), &gen, sizeof(gen)));
}

/* tenant_get - see tenant.h. */
int
tenant_get(struct store_txn *txn, const char *name, struct tenant **out)
{
	void *val;
	size_t vlen;
	int rc;

	*out = NULL;
	if (!tenant_name_valid(name))
		return (STORE_NOTFOUND);
	rc = store_get(txn, STORE_TENANTS, name, strlen(name), &val, &vlen);
	if (rc == STORE_NOTFOUND && strcmp(name, TENANT_DEFAULT) == 0) {
		*out = tenant_new(TENANT_DEFAULT);
		return (STORE_OK);
	}
	if (rc != STORE_OK)
		return (rc);
	*out = parse_record(val, vlen);
	free(val);
	return (*out != NULL ? STORE_OK : STORE_ERROR);
}

/* by_name - order tenants by name. */
static int
by_name(const void *a, const void *b)
{
	const struct tenant *x = *(struct tenant *const *) a;
	const struct tenant *y = *(struct tenant *const *) b;

	return (strcmp(x->name, y->name));
}

/* list_add - append t to a growing list. */
static void
list_add(struct tenant ***list, size_t *count, size_t *cap, struct tenant *t)
{
	if (*count == *cap) {
		*cap = *cap ? 2 * *cap : 8;
		*list = xrealloc(*list, *cap * sizeof(**list));
	}
	(*list)[(*count)++] = t;
}

/* tenant_list - see tenant.h. */
int
tenant_list(struct store_txn *txn, struct tenant ***out, size_t *n)
{
	struct store_cursor *c;
	struct tenant **list = NULL, *t;
	const void *k, *v;
	size_t klen, vlen, count = 0, cap = 0;
	int rc, have_default = 0;

	*out = NULL;
	*n = 0;
	if ((rc = store_cursor_open(txn, STORE_TENANTS, &c)) != STORE_OK)
		return (rc);
	while ((rc = store_cursor_next(c, &k, &klen, &v, &vlen)) == STORE_OK) {
		if ((t = parse_record(v, vlen)) == NULL)
			continue;
		if (strcmp(t->name, TENANT_DEFAULT) == 0)
			have_default = 1;
		list_add(&list, &count, &cap, t);
	}
	store_cursor_close(c);
	if (rc != STORE_NOTFOUND) {
		tenant_list_free(list, count);
		return (rc);
	}
	if (!have_default)
		list_add(&list, &count, &cap, tenant_new(TENANT_DEFAULT));
	qsort(list, count, sizeof(*list), by_name);
	*out = list;
	*n = count;
	return (STORE_OK);
}

/* tenant_list_free - see tenant.h. */
void
tenant_list_free(struct tenant **list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		tenant_free(list[i]);
	free(list);
}

/* matcher_add_tenant - every rule of t; 0, or -1 and err at the first refused. */
static int
matcher_add_tenant(struct tenant_matcher *m, const struct tenant *t, char *err,
		   size_t errlen)
{
	size_t i;
	int k;

	for (k = 0; k < TENANT_RULE_KINDS; k++)
		for (i = 0; t->rules[k] != NULL && t->rules[k][i] != NULL; i++)
			if (tenant_matcher_add(m, t->name, k, t->rules[k][i], err, errlen)
			    != 0)
				return (-1);
	return (0);
}

/* tenant_matcher_load - see tenant.h. */
int
tenant_matcher_load(struct store_txn *txn, struct tenant_matcher **out)
{
	struct tenant **list;
	size_t n, i;
	char err[VALUE_MAX * 2];
	int rc;

	*out = NULL;
	if ((rc = tenant_list(txn, &list, &n)) != STORE_OK)
		return (rc);
	*out = tenant_matcher_new();
	for (i = 0; i < n; i++)
		(void) matcher_add_tenant(*out, list[i], err, sizeof(err));
	tenant_list_free(list, n);
	return (STORE_OK);
}

/* tenant_matcher_reload - see tenant.h. */
int
tenant_matcher_reload(struct store_txn *txn, uint64_t *gen, int force,
		      struct tenant_matcher **out)
{
	uint64_t now;
	int rc;

	*out = NULL;
	if ((rc = tenant_generation(txn, &now)) != STORE_OK)
		return (rc);
	if (!force && now == *gen)
		return (STORE_OK);
	if ((rc = tenant_matcher_load(txn, out)) != STORE_OK)
		return (rc);
	*gen = now;
	return (STORE_OK);
}

/* check_claims - TENANT_CONFLICT when another tenant claims one of t's values. */
static int
check_claims(struct store_txn *txn, const struct tenant *t, char *err, size_t errlen)
{
	struct tenant_matcher *m = tenant_matcher_new();
	struct tenant **list;
	size_t n, i;
	int rc;

	if ((rc = tenant_list(txn, &list, &n)) != STORE_OK) {
		tenant_matcher_free(m);
		return (rc);
	}
	for (i = 0; i < n; i++)
		if (strcmp(list[i]->name, t->name) != 0)
			(void) matcher_add_tenant(m, list[i], err, errlen);
	tenant_list_free(list, n);
	rc = matcher_add_tenant(m, t, err, errlen) == 0 ? STORE_OK : TENANT_CONFLICT;
	tenant_matcher_free(m);
	return (rc);
}

/* check_tenant - TENANT_INVALID unless the name and every value are valid. */
static int
check_tenant(const struct tenant *t, char *err, size_t errlen)
{
	char norm[VALUE_MAX];
	size_t i;
	int k;

	if (!tenant_name_valid(t->name)) {
		snprintf(err, errlen,
			 "a tenant name is 1 to %d characters of "
			 "a-z, 0-9, '_' and '-', starting with a letter or digit",
			 TENANT_NAME_MAX);
		return (TENANT_INVALID);
	}
	if (t->settings != NULL && !json_object_is_type(t->settings, json_type_object)) {
		snprintf(err, errlen, "a tenant's settings must be a JSON object");
		return (TENANT_INVALID);
	}
	for (k = 0; k < TENANT_RULE_KINDS; k++)
		for (i = 0; t->rules[k] != NULL && t->rules[k][i] != NULL; i++)
			if (tenant_rule_normalize(k, t->rules[k][i], norm, sizeof(norm),
						  err, errlen)
			    != 0)
				return (TENANT_INVALID);
	return (STORE_OK);
}

/* tenant_put - see tenant.h. */
int
tenant_put(struct store_txn *txn, const struct tenant *t, char *err, size_t errlen)
{
	struct tenant *old = NULL;
	json_object *o;
	const char *s;
	double created;
	int rc;

	if ((rc = check_tenant(t, err, errlen)) != STORE_OK)
		return (rc);
	if ((rc = check_claims(txn, t, err, errlen)) != STORE_OK)
		return (rc);
	rc = tenant_get(txn, t->name, &old);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return (rc);
	created = old != NULL && old->created_at != 0 ? old->created_at : now_seconds();
	tenant_free(old);
	o = tenant_to_json(t);
	json_object_object_del(o, "createdAt");
	json_object_object_del(o, "created");
	json_object_object_del(o, "updatedAt");
	json_object_object_del(o, "updated");
	add_time(o, "created", created);
	add_time(o, "updated", now_seconds());
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	rc = store_put(txn, STORE_TENANTS, t->name, strlen(t->name), s, strlen(s));
	json_object_put(o);
	if (rc != STORE_OK)
		return (rc);
	return (bump_generation(txn));
}

/* owns_endpoint - STORE_OK and *owns when an endpoint belongs to name. */
static int
owns_endpoint(struct store_txn *txn, const char *name, int *owns)
{
	struct endpoint **eps;
	int n, i, rc;

	*owns = 0;
	if ((rc = endpoint_list(txn, &eps, &n)) != STORE_OK)
		return (rc);
	for (i = 0; i < n; i++)
		if (strcmp(tenant_of(eps[i]->tenant), name) == 0)
			*owns = 1;
	endpoint_list_free(eps, n);
	return (STORE_OK);
}

/* tenant_delete - see tenant.h. */
int
tenant_delete(struct store_txn *txn, const char *name)
{
	void *val;
	size_t vlen;
	int owns, rc;

	if (!tenant_name_valid(name))
		return (STORE_NOTFOUND);
	if (strcmp(name, TENANT_DEFAULT) == 0)
		return (TENANT_INVALID);
	if ((rc = store_get(txn, STORE_TENANTS, name, strlen(name), &val, &vlen))
	    != STORE_OK)
		return (rc);
	free(val);
	if ((rc = owns_endpoint(txn, name, &owns)) != STORE_OK)
		return (rc);
	if (owns)
		return (TENANT_CONFLICT);
	if ((rc = store_del(txn, STORE_TENANTS, name, strlen(name))) != STORE_OK)
		return (rc);
	return (bump_generation(txn));
}
