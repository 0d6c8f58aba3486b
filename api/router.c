/*
 * router.c - match a request's method and path to a route.
 *
 * Paths are split on '/' and compared segment by segment with a small
 * table; "{}" takes a parameter.  Every /v1 path is also reachable under
 * /v1/tenants/{tenantId}, which only sets the tenant.
 */
#include <stdio.h>
#include <string.h>

#include "router.h"

/* Which member of struct route a "{}" fills, by route and position. */
enum slot { S_NONE, S_WEBHOOK, S_DELIVERY, S_EMAIL };

struct pattern {
	enum route_id id;
	unsigned allowed;
	const char *segs[6]; /* NULL-terminated; "{}" a parameter */
	enum slot slots[6];
};

static const struct pattern patterns[] = {
	{ R_WEBHOOKS, M_GET | M_POST, { "webhooks", NULL }, { 0 } },
	{ R_WEBHOOK,
	  M_GET | M_PATCH | M_DELETE,
	  { "webhooks", "{}", NULL },
	  { S_NONE, S_WEBHOOK } },
	{ R_WEBHOOK_TEST,
	  M_POST,
	  { "webhooks", "{}", "test", NULL },
	  { S_NONE, S_WEBHOOK } },
	{ R_WEBHOOK_RECOVER,
	  M_POST,
	  { "webhooks", "{}", "recover", NULL },
	  { S_NONE, S_WEBHOOK } },
	{ R_DELIVERIES,
	  M_GET,
	  { "webhooks", "{}", "deliveries", NULL },
	  { S_NONE, S_WEBHOOK } },
	{ R_DELIVERY,
	  M_GET,
	  { "webhooks", "{}", "deliveries", "{}", NULL },
	  { S_NONE, S_WEBHOOK, S_NONE, S_DELIVERY } },
	{ R_DELIVERY_REPLAY,
	  M_POST,
	  { "webhooks", "{}", "deliveries", "{}", "replay", NULL },
	  { S_NONE, S_WEBHOOK, S_NONE, S_DELIVERY } },
	{ R_EMAILS, M_GET, { "emails", NULL }, { 0 } },
	{ R_EMAIL, M_GET, { "emails", "{}", NULL }, { S_NONE, S_EMAIL } },
	{ R_EMAIL_DELIVERIES,
	  M_GET,
	  { "emails", "{}", "deliveries", NULL },
	  { S_NONE, S_EMAIL } },
	{ R_EMAIL_RETRY, M_POST, { "emails", "{}", "retry", NULL }, { S_NONE, S_EMAIL } },
	{ R_EVENTS, M_GET, { "events", NULL }, { 0 } },
	{ R_LIMITS, M_GET, { "limits", NULL }, { 0 } },
};

#define MAX_SEGS 8

struct seg {
	const char *p;
	size_t len;
};

/* method_bit - enum route_method of a method name; 0 for others. */
static int
method_bit(const char *m)
{
	if (strcmp(m, "GET") == 0)
		return M_GET;
	if (strcmp(m, "POST") == 0)
		return M_POST;
	if (strcmp(m, "PATCH") == 0)
		return M_PATCH;
	if (strcmp(m, "DELETE") == 0)
		return M_DELETE;
	return 0;
}

/* split - path's segments after the leading '/'; -1 when too many or empty. */
static int
split(const char *path, struct seg *segs)
{
	const char *p = path + 1, *e;
	int n = 0;

	if (path[0] != '/')
		return -1;
	while (*p != 0) {
		if (n == MAX_SEGS)
			return -1;
		e = strchr(p, '/');
		if (e == NULL)
			e = p + strlen(p);
		if (e == p)
			return -1; /* "//" or a trailing '/' */
		segs[n].p = p;
		segs[n].len = (size_t) (e - p);
		n++;
		p = *e == '/' ? e + 1 : e;
		if (*e == '/' && *p == 0)
			return -1;
	}
	return n;
}

/* param_ok - a parameter's characters and length. */
static int
param_ok(const struct seg *s)
{
	size_t i;
	char c;

	if (s->len == 0 || s->len >= ROUTE_PARAM_MAX)
		return 0;
	for (i = 0; i < s->len; i++) {
		c = s->p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		      || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@'
		      || c == '+' || c == '=' || c == '-'))
			return 0;
	}
	return 1;
}

/* seg_is - segment equals a literal. */
static int
seg_is(const struct seg *s, const char *lit)
{
	return s->len == strlen(lit) && memcmp(s->p, lit, s->len) == 0;
}

/* copy_param - a checked parameter into a route member. */
static void
copy_param(char *dst, const struct seg *s)
{
	memcpy(dst, s->p, s->len);
	dst[s->len] = 0;
}

/* match_v1 - the segments after /v1 (and any tenant prefix). */
static enum route_status
match_v1(const struct seg *segs, int n, struct route *out)
{
	const struct pattern *pt;
	size_t i;
	int j;

	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		pt = &patterns[i];
		for (j = 0; j < n && pt->segs[j] != NULL; j++) {
			if (strcmp(pt->segs[j], "{}") == 0) {
				if (!param_ok(&segs[j]))
					break;
			} else if (!seg_is(&segs[j], pt->segs[j])) {
				break;
			}
		}
		if (j != n || pt->segs[j] != NULL)
			continue;
		for (j = 0; j < n; j++) {
			switch (pt->slots[j]) {
			case S_WEBHOOK:
				copy_param(out->webhook, &segs[j]);
				break;
			case S_DELIVERY:
				copy_param(out->delivery, &segs[j]);
				break;
			case S_EMAIL:
				copy_param(out->email, &segs[j]);
				break;
			case S_NONE:
				break;
			}
		}
		out->id = pt->id;
		out->allowed = pt->allowed;
		return (out->method & pt->allowed) ? ROUTE_OK : ROUTE_BAD_METHOD;
	}
	return ROUTE_NOT_FOUND;
}

/* router_match - see router.h. */
enum route_status
router_match(const char *method, const char *path, struct route *out)
{
	struct seg segs[MAX_SEGS];
	int n;

	memset(out, 0, sizeof(*out));
	out->method = method_bit(method);
	if (strcmp(path, "/health") == 0 || strcmp(path, "/v1/health") == 0) {
		out->id = R_HEALTH;
		out->allowed = M_GET;
	} else if (strcmp(path, "/.well-known/jwks.json") == 0) {
		out->id = R_JWKS;
		out->allowed = M_GET;
	} else if (strcmp(path, "/metrics") == 0) {
		out->id = R_METRICS;
		out->allowed = M_GET;
	}
	if (out->id != R_NONE)
		return (out->method & out->allowed) ? ROUTE_OK : ROUTE_BAD_METHOD;
	if ((n = split(path, segs)) < 2 || !seg_is(&segs[0], "v1"))
		return ROUTE_NOT_FOUND;
	if (n >= 4 && seg_is(&segs[1], "tenants")) {
		if (!param_ok(&segs[2]))
			return ROUTE_NOT_FOUND;
		copy_param(out->tenant, &segs[2]);
		out->tenant_given = 1;
		return match_v1(segs + 3, n - 3, out);
	}
	return match_v1(segs + 1, n - 1, out);
}

/* router_allow_header - see router.h. */
void
router_allow_header(unsigned allowed, char *out, int outlen)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = { { M_GET, "GET" },
		      { M_POST, "POST" },
		      { M_PATCH, "PATCH" },
		      { M_DELETE, "DELETE" } };
	size_t i;
	int used = 0;

	out[0] = 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((allowed & names[i].bit) && used < outlen)
			used += snprintf(out + used, (size_t) (outlen - used), "%s%s",
					 used ? ", " : "", names[i].name);
}
