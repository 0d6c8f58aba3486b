/*
 * api.h - posthook-api's shared state and the request/answer pair every
 * handler sees.  Nothing here knows HTTP's wire format: server.c turns
 * libmicrohttpd's calls into a struct api_req and sends the api_resp.
 */
#ifndef PH_API_H
#define PH_API_H

#include <pthread.h>
#include <stddef.h>
#include <json-c/json.h>

#include "config/config.h"
#include "store/store.h"
#include "store/tenant_name.h"
#include "router.h"

struct keyring;
struct ratelimit;
struct api_index;
struct apikey;
struct track;

/* The daemon's state, shared by every request thread. */
struct api {
	struct config *cfg;
	struct store *st;
	struct keyring *kr;	 /* NULL: no signing keys to publish */
	pthread_mutex_t kr_lock; /* the keyring is single-threaded */
	struct ratelimit *rl;
	struct api_index *ix; /* attempts by webhook, deliveries by message */
	double started;
	/* counters for /metrics, updated atomically */
	unsigned long requests;
	unsigned long errors;
	unsigned long rate_limited;
	struct track *track; /* the tracking server's state (track.c); or NULL */
};

/* One request, as the handlers see it. */
struct api_req {
	const char *method;
	const char *path;
	struct route route;
	const char *body; /* NUL-terminated, may be empty */
	size_t body_len;
	const char *authorization; /* header, or NULL */
	/* query_arg - a query parameter, or NULL */
	const char *(*query_arg)(void *ctx, const char *name);
	void *query_ctx;
	char request_id[24];
	struct apikey *key; /* after auth: the caller's key */
	const char *tenant; /* after auth: the tenant in scope */
	char peer[64];	    /* the client's address as text; "" when unknown */
	/* header - a request header, or NULL (the tracking server's) */
	const char *(*header)(void *ctx, const char *name);
};

/* The answer: status, body and the few headers handlers set. */
struct api_resp {
	int status;
	char *body;		  /* malloc()ed */
	const char *content_type; /* NULL: application/json */
	int retry_after;	  /* seconds; 0: no header */
	char allow[48];		  /* 405: the methods allowed */
	size_t body_len;	  /* 0: strlen(body); binary bodies set it */
	char *location;		  /* a redirect's target (malloc()ed), or NULL */
};

/* api_dispatch - route, authenticate and answer one request (dispatch.c). */
void api_dispatch(struct api *a, struct api_req *req, struct api_resp *resp);
/* A server's answering function: api_dispatch, or track_dispatch. */
typedef void (*api_dispatch_fn)(struct api *a, struct api_req *req,
				struct api_resp *resp);
void api_resp_clear(struct api_resp *resp);

/* reply.c: the envelopes. */
void reply_request_id(char out[24]);
/* reply_ok - {"success":true,"data":data,"meta":{"requestId"}}; takes data. */
void reply_ok(struct api_resp *resp, const struct api_req *req, int status,
	      json_object *data);
/*
 * reply_page - reply_ok with page, perPage, total, totalPages beside data;
 * a 400 (taking data) when page is past the last one.
 */
void reply_page(struct api_resp *resp, const struct api_req *req, json_object *data,
		int page, int per_page, long total);
/* reply_error - {"success":false,"error":{"code","message"},"meta"}. */
void reply_error(struct api_resp *resp, const struct api_req *req, int status,
		 const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* reply_text - a non-JSON body (metrics). */
void reply_text(struct api_resp *resp, int status, const char *content_type, char *body);

/* auth.c */
/*
 * auth_request - find the caller's key and the tenant in scope; 0, or -1
 * with the error answer (401, 404, 403, 429) in resp.
 */
int auth_request(struct api *a, struct api_req *req, struct api_resp *resp);
/* auth_bearer - the token of "Bearer TOKEN", or NULL. */
const char *auth_bearer(const char *header);

/* body.c: JSON request bodies. */
/*
 * body_object - the body as a JSON object whose members are all among
 * allowed (NULL-terminated); NULL with the 400/422 answer in resp.
 */
json_object *body_object(const struct api_req *req, struct api_resp *resp,
			 const char *const *allowed);
/* query_page - page and perPage (default 30, at most 100); -1 after a 400. */
int query_page(const struct api_req *req, struct api_resp *resp, int *page,
	       int *per_page);
/* query_time - a time parameter (ISO 8601 or epoch seconds); -1 after a 400. */
int query_time(const struct api_req *req, struct api_resp *resp, const char *name,
	       double *out);

/* The handlers, one file each. */
void h_webhooks(struct api *a, struct api_req *req, struct api_resp *resp);
void h_deliveries(struct api *a, struct api_req *req, struct api_resp *resp);
void h_emails(struct api *a, struct api_req *req, struct api_resp *resp);
void h_events(struct api *a, struct api_req *req, struct api_resp *resp);
void h_health(struct api *a, struct api_req *req, struct api_resp *resp);
void h_jwks(struct api *a, struct api_req *req, struct api_resp *resp);
void h_metrics(struct api *a, struct api_req *req, struct api_resp *resp);
/* h_limits - GET /v1/limits (h_limits.c). */
void h_limits(struct api *a, struct api_req *req, struct api_resp *resp);

/*
 * api_endpoint_get - the webhook id of the tenant in scope: STORE_OK, or
 * STORE_NOTFOUND also when another tenant owns it (h_webhooks.c).
 */
struct endpoint;
int api_endpoint_get(struct store_txn *txn, const char *tenant, const char *id,
		     struct endpoint **out);

#endif
