/*
 * router.h - the API's paths: method and path in, the handler's route and
 * its parameters out.  Pure: no I/O, no allocation; fuzzed.
 */
#ifndef PH_ROUTER_H
#define PH_ROUTER_H

enum route_id {
	R_NONE,
	R_HEALTH,
	R_JWKS,
	R_METRICS,
	R_WEBHOOKS,	    /* /v1/webhooks */
	R_WEBHOOK,	    /* /v1/webhooks/{w} */
	R_WEBHOOK_TEST,	    /* /v1/webhooks/{w}/test */
	R_WEBHOOK_RECOVER,  /* /v1/webhooks/{w}/recover */
	R_DELIVERIES,	    /* /v1/webhooks/{w}/deliveries */
	R_DELIVERY,	    /* /v1/webhooks/{w}/deliveries/{d} */
	R_DELIVERY_REPLAY,  /* /v1/webhooks/{w}/deliveries/{d}/replay */
	R_EMAILS,	    /* /v1/emails */
	R_EMAIL,	    /* /v1/emails/{e} */
	R_EMAIL_DELIVERIES, /* /v1/emails/{e}/deliveries */
	R_EMAIL_RETRY,	    /* /v1/emails/{e}/retry */
	R_EVENTS,	    /* /v1/events */
	R_LIMITS,	    /* /v1/limits */
};

enum route_method {
	M_GET = 1,
	M_POST = 2,
	M_PATCH = 4,
	M_DELETE = 8,
};

#define ROUTE_PARAM_MAX 128

struct route {
	enum route_id id;
	int method;	  /* enum route_method of the request */
	unsigned allowed; /* the methods this path takes */
	int tenant_given; /* under /v1/tenants/{t}/ */
	char tenant[ROUTE_PARAM_MAX];
	char webhook[ROUTE_PARAM_MAX];
	char delivery[ROUTE_PARAM_MAX];
	char email[ROUTE_PARAM_MAX];
};

enum route_status {
	ROUTE_OK,
	ROUTE_NOT_FOUND,
	ROUTE_BAD_METHOD, /* path known: see allowed */
};

/*
 * router_match - match method and path (without the query) against the
 * API's paths.  A parameter is 1..127 of [A-Za-z0-9._@+=-].
 */
enum route_status router_match(const char *method, const char *path, struct route *out);

/* router_allow_header - "GET, POST" for allowed, into out. */
void router_allow_header(unsigned allowed, char *out, int outlen);

#endif
