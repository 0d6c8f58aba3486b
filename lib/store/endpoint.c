/*
 * endpoint.c - webhook endpoint records: validation, JSON form and the
 * STORE_ENDPOINTS table (see endpoint.h).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/endpoint.h"
#include "util/json.h"
#include "util/util.h"

#define GEN_KEY "endpoints_gen"

/* endpoint_new - an enabled endpoint with no fields set. */
struct endpoint *
endpoint_new(void)
{
	struct endpoint *ep = xcalloc(1, sizeof(*ep));

	ep->enabled = 1;
	return ep;
}

/* endpoint_free - free ep and its strings. */
void
endpoint_free(struct endpoint *ep)
{
	if (ep == NULL)
		return;
	free(ep->id);
	free(ep->name);
	free(ep->url);
	free(ep->secret);
	free(ep->tenant);
	free(ep);
}

/* opt_dup - xstrdup that passes NULL through. */
static char *
opt_dup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* endpoint_dup - a deep copy. */
struct endpoint *
endpoint_dup(const struct endpoint *ep)
{
	struct endpoint *c = xcalloc(1, sizeof(*c));

	*c = *ep;
	c->id = opt_dup(ep->id);
	c->name = opt_dup(ep->name);
	c->url = opt_dup(ep->url);
	c->secret = opt_dup(ep->secret);
	c->tenant = opt_dup(ep->tenant);
	return c;
}

/* check_host - a DNS name or dotted IPv4 address: letters, digits, '-', '.' */
static int
check_host(const char *h, size_t len, char *err, size_t errlen)
{
	size_t i, label = 0;

	if (len == 0 || len > 253) {
		snprintf(err, errlen, "URL has no valid host");
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)h[i];

		if (c == '.') {
			if (label == 0) {
				snprintf(err, errlen, "URL host has an empty label");
				return -1;
			}
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_') {
			snprintf(err, errlen, "URL host contains '%c'",
				 isprint(c) ? c : '?');
			return -1;
		}
		if (++label > 63) {
			snprintf(err, errlen, "URL host has a label over 63 characters");
			return -1;
		}
	}
	return 0;
}

/* check_ipv6 - the inside of [...]: hex digits, ':' and '.' only. */
static int
check_ipv6(const char *h, size_t len, char *err, size_t errlen)
{
	size_t i, colons = 0;

	for (i = 0; i < len; i++) {
		if (h[i] == ':')
			colons++;
		else if (!isxdigit((unsigned char)h[i]) && h[i] != '.') {
			snprintf(err, errlen, "URL has a bad IPv6 address");
			return -1;
		}
	}
	if (colons < 2 || len > 45) {
		snprintf(err, errlen, "URL has a bad IPv6 address");
		return -1;
	}
	return 0;
}

/* check_port - 1..65535 in decimal. */
static int
check_port(const char *p, size_t len, char *err, size_t errlen)
{
	long port = 0;
	size_t i;

	if (len == 0 || len > 5) {
		snprintf(err, errlen, "URL has a bad port");
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)p[i])) {
			snprintf(err, errlen, "URL has a bad port");
			return -1;
		}
		port = port * 10 + (p[i] - '0');
	}
	if (port < 1 || port > 65535) {
		snprintf(err, errlen, "URL port %ld is out of range", port);
		return -1;
	}
	return 0;
}

/* endpoint_check_url - see endpoint.h. */
int
endpoint_check_url(const char *url, char *err, size_t errlen)
{
	const char *p, *auth, *end, *host, *hend, *port = NULL;
	size_t len;

	if (url == NULL || *url == 0) {
		snprintf(err, errlen, "URL is empty");
		return -1;
	}
	len = strlen(url);
	if (len > ENDPOINT_URL_MAX) {
		snprintf(err, errlen, "URL is longer than %d characters",
			 ENDPOINT_URL_MAX);
		return -1;
	}
	for (p = url; *p; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			snprintf(err, errlen,
				 "URL contains a space, control or non-ASCII "
				 "character (percent-encode it)");
			return -1;
		}
	}
	if (strncasecmp(url, "http://", 7) == 0)
		auth = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		auth = url + 8;
	else {
		snprintf(err, errlen, "URL must start with http:// or https://");
		return -1;
	}
	end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(end - auth)) != NULL) {
		snprintf(err, errlen, "URL must not contain user credentials");
		return -1;
	}
	if (*auth == '[') {
		host = auth + 1;
		hend = memchr(host, ']', (size_t)(end - host));
		if (hend == NULL) {
			snprintf(err, errlen, "URL has an unclosed '[' in its host");
			return -1;
		}
		if (check_ipv6(host, (size_t)(hend - host), err, errlen) < 0)
			return -1;
		if (hend + 1 < end) {
			if (hend[1] != ':') {
				snprintf(err, errlen, "URL has junk after its IPv6 host");
				return -1;
			}
			port = hend + 2;
		}
	} else {
		host = auth;
		hend = memchr(host, ':', (size_t)(end - host));
		if (hend != NULL)
			port = hend + 1;
		else
			hend = end;
		if (check_host(host, (size_t)(hend - host), err, errlen) < 0)
			return -1;
	}
	if (port != NULL && check_port(port, (size_t)(end - port), err, errlen) < 0)
		return -1;
	if (strchr(end, '#') != NULL) {
		snprintf(err, errlen, "URL must not contain a fragment ('#')");
		return -1;
	}
	return 0;
}

/* endpoint_check_name - see endpoint.h. */
int
endpoint_check_name(const char *name, char *err, size_t errlen)
{
	const unsigned char *p;

	if (name == NULL || *name == 0) {
		snprintf(err, errlen, "name is empty");
		return -1;
	}
	if (strlen(name) > ENDPOINT_NAME_MAX) {
		snprintf(err, errlen, "name is longer than %d bytes", ENDPOINT_NAME_MAX);
		return -1;
	}
	for (p = (const unsigned char *)name; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen, "name contains a control character");
			return -1;
		}
	}
	return 0;
}

/* endpoint_check_secret - see endpoint.h. */
int
endpoint_check_secret(const char *secret, char *err, size_t errlen)
{
	const char *p;

	if (secret == NULL || strncmp(secret, "whsec_", 6) != 0 || secret[6] == 0) {
		snprintf(err, errlen, "secret must be \"whsec_\" followed by base64");
		return -1;
	}
	for (p = secret + 6; *p; p++) {
		if (!isalnum((unsigned char)*p) && *p != '+' && *p != '/' && *p != '=') {
			snprintf(err, errlen,
				 "secret must be \"whsec_\" followed by base64");
			return -1;
		}
	}
	return 0;
}

/* known_events - "MessageSent, MessageDelayed, ..." for error messages. */
static void
known_events(char *out, size_t outlen)
{
	size_t used = 0;
	int t, n;

	out[0] = 0;
	for (t = 0; t < EV_TYPE_COUNT; t++) {
		n = snprintf(out + used, outlen - used, "%s%s", t ? ", " : "",
			     event_type_name((enum event_type)t));
		if (n < 0 || (size_t)n >= outlen - used)
			return;
		used += (size_t)n;
	}
}

/* endpoint_parse_events - see endpoint.h. */
int
endpoint_parse_events(const char *list, uint32_t *mask, char *err, size_t errlen)
{
	char *copy, *tok, *save = NULL;
	char known[512];
	enum event_type t;
	uint32_t m = 0;

	copy = xstrdup(list != NULL ? list : "");
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (event_type_from_name(tok, &t) < 0) {
			known_events(known, sizeof(known));
			snprintf(err, errlen, "unknown event \"%.60s\" (known: %s)", tok,
				 known);
			free(copy);
			return -1;
		}
		m |= 1u << t;
	}
	free(copy);
	if (m == 0) {
		snprintf(err, errlen,
			 "no event named (use --all-events for every event)");
		return -1;
	}
	*mask = m;
	return 0;
}

/* endpoint_wants - see endpoint.h. */
int
endpoint_wants(const struct endpoint *ep, enum event_type t)
{
	return ep->all_events || (ep->events & (1u << t)) != 0;
}

/* endpoint_to_json - see endpoint.h. */
json_object *
endpoint_to_json(const struct endpoint *ep, int show_secret)
{
	json_object *o = json_object_new_object();
	json_object *ev;
	char when[32];
	int t;

	json_object_object_add(o, "id", json_object_new_string(ep->id ? ep->id : ""));
	json_object_object_add(o, "name", json_object_new_string(ep->name));
	json_object_object_add(o, "url", json_object_new_string(ep->url));
	ev = json_object_new_array();
	for (t = 0; t < EV_TYPE_COUNT; t++)
		if (endpoint_wants(ep, (enum event_type)t))
			json_object_array_add(ev, json_object_new_string(event_type_name(
						      (enum event_type)t)));
	json_object_object_add(o, "events", ev);
	json_object_object_add(o, "allEvents", json_object_new_boolean(ep->all_events));
	json_object_object_add(o, "enabled", json_object_new_boolean(ep->enabled));
	iso8601_utc(ep->created_at, when, sizeof(when));
	json_object_object_add(o, "createdAt", json_object_new_string(when));
	json_object_object_add(o, "created", json_double_new(ep->created_at, 6));
	if (ep->secret != NULL)
		json_object_object_add(
		    o, "secret",
		    json_object_new_string(show_secret ? ep->secret : "whsec_(hidden)"));
	if (ep->tenant != NULL)
		json_object_object_add(o, "tenant", json_object_new_string(ep->tenant));
	return o;
}

/* endpoint_from_json - see endpoint.h. */
struct endpoint *
endpoint_from_json(json_object *obj)
{
	struct endpoint *ep;
	json_object *v, *ev;
	enum event_type t;
	size_t i;

	if (json_string_member(obj, "id") == NULL || json_string_member(obj, "name") == NULL ||
	    json_string_member(obj, "url") == NULL)
		return NULL;
	ep = endpoint_new();
	ep->id = xstrdup(json_string_member(obj, "id"));
	ep->name = xstrdup(json_string_member(obj, "name"));
	ep->url = xstrdup(json_string_member(obj, "url"));
	ep->secret = opt_dup(json_string_member(obj, "secret"));
	ep->tenant = opt_dup(json_string_member(obj, "tenant"));
	if (json_object_object_get_ex(obj, "allEvents", &v))
		ep->all_events = json_object_get_boolean(v);
	if (json_object_object_get_ex(obj, "enabled", &v))
		ep->enabled = json_object_get_boolean(v);
	if (json_object_object_get_ex(obj, "created", &v))
		ep->created_at = json_object_get_double(v);
	if (json_object_object_get_ex(obj, "events", &ev) &&
	    json_object_is_type(ev, json_type_array)) {
		for (i = 0; i < json_object_array_length(ev); i++) {
			v = json_object_array_get_idx(ev, i);
			if (event_type_from_name(json_object_get_string(v), &t) == 0)
				ep->events |= 1u << t;
		}
	}
	return ep;
}

/* bump_generation - count one change of the endpoint table. */
static int
bump_generation(struct store_txn *txn)
{
	uint64_t gen = 0;
	int rc;

	rc = endpoint_generation(txn, &gen);
	if (rc != STORE_OK)
		return rc;
	gen++;
	return store_put(txn, STORE_META, GEN_KEY, strlen(GEN_KEY), &gen, sizeof(gen));
}

/* endpoint_generation - see endpoint.h. */
int
endpoint_generation(struct store_txn *txn, uint64_t *gen)
{
	void *val;
	size_t vlen;
	int rc;

	rc = store_get(txn, STORE_META, GEN_KEY, strlen(GEN_KEY), &val, &vlen);
	if (rc == STORE_NOTFOUND) {
		*gen = 0;
		return STORE_OK;
	}
	if (rc != STORE_OK)
		return rc;
	if (vlen == sizeof(*gen))
		memcpy(gen, val, sizeof(*gen));
	else
		*gen = 0;
	free(val);
	return STORE_OK;
}

/* endpoint_put - see endpoint.h (the secret is stored, not hidden). */
int
endpoint_put(struct store_txn *txn, const struct endpoint *ep)
{
	json_object *o = endpoint_to_json(ep, 1);
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	int rc;

	rc = store_put(txn, STORE_ENDPOINTS, ep->id, strlen(ep->id), s, strlen(s));
	json_object_put(o);
	if (rc != STORE_OK)
		return rc;
	return bump_generation(txn);
}

/* endpoint_create - see endpoint.h. */
int
endpoint_create(struct store_txn *txn, struct endpoint *ep)
{
	uint64_t seq;
	int rc;

	rc = store_seq_next(txn, "endpoint", &seq);
	if (rc != STORE_OK)
		return rc;
	free(ep->id);
	ep->id = xasprintf("%" PRIu64, seq);
	if (ep->created_at == 0)
		ep->created_at = now_seconds();
	return endpoint_put(txn, ep);
}

/* parse_record - a stored value to an endpoint, or NULL. */
static struct endpoint *
parse_record(const void *val, size_t vlen)
{
	json_tokener *tok = json_tokener_new();
	json_object *o;
	struct endpoint *ep = NULL;

	o = json_tokener_parse_ex(tok, val, (int)vlen);
	json_tokener_free(tok);
	if (o != NULL) {
		ep = endpoint_from_json(o);
		json_object_put(o);
	}
	return ep;
}

/* endpoint_get - see endpoint.h. */
int
endpoint_get(struct store_txn *txn, const char *id, struct endpoint **out)
{
	void *val;
	size_t vlen;
	int rc;

	rc = store_get(txn, STORE_ENDPOINTS, id, strlen(id), &val, &vlen);
	if (rc != STORE_OK)
		return rc;
	*out = parse_record(val, vlen);
	free(val);
	return *out != NULL ? STORE_OK : STORE_ERROR;
}

/* endpoint_delete - see endpoint.h. */
int
endpoint_delete(struct store_txn *txn, const char *id)
{
	int rc;

	rc = store_del(txn, STORE_ENDPOINTS, id, strlen(id));
	if (rc != STORE_OK)
		return rc;
	return bump_generation(txn);
}

/* by_id - order endpoints by numeric id. */
static int
by_id(const void *a, const void *b)
{
	const struct endpoint *x = *(struct endpoint *const *)a;
	const struct endpoint *y = *(struct endpoint *const *)b;
	unsigned long long ix = strtoull(x->id, NULL, 10);
	unsigned long long iy = strtoull(y->id, NULL, 10);

	return ix < iy ? -1 : ix > iy;
}

/* endpoint_list - see endpoint.h. */
int
endpoint_list(struct store_txn *txn, struct endpoint ***out, int *n)
{
	struct store_cursor *c;
	struct endpoint **eps = NULL, *ep;
	const void *k, *v;
	size_t klen, vlen;
	int rc, count = 0, cap = 0;

	*out = NULL;
	*n = 0;
	rc = store_cursor_open(txn, STORE_ENDPOINTS, &c);
	if (rc != STORE_OK)
		return rc;
	while ((rc = store_cursor_next(c, &k, &klen, &v, &vlen)) == STORE_OK) {
		if ((ep = parse_record(v, vlen)) == NULL)
			continue;
		if (count == cap) {
			cap = cap ? cap * 2 : 8;
			eps = xrealloc(eps, (size_t)cap * sizeof(*eps));
		}
		eps[count++] = ep;
	}
	store_cursor_close(c);
	if (rc != STORE_NOTFOUND) {
		endpoint_list_free(eps, count);
		return rc;
	}
	if (count > 1)
		qsort(eps, (size_t)count, sizeof(*eps), by_id);
	*out = eps;
	*n = count;
	return STORE_OK;
}

/* endpoint_list_free - free a list from endpoint_list. */
void
endpoint_list_free(struct endpoint **eps, int n)
{
	int i;

	for (i = 0; i < n; i++)
		endpoint_free(eps[i]);
	free(eps);
}
