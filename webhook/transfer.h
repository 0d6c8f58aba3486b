/*
 * transfer.h - one HTTP attempt of a delivery, from the signed request
 * made before it is sent to the outcome libcurl reports.
 */
#ifndef PH_WEBHOOK_TRANSFER_H
#define PH_WEBHOOK_TRANSFER_H

#include <stdint.h>
#include <curl/curl.h>
#include <json-c/json.h>

#include "store/delivery.h"
#include "store/endpoint.h"
#include "signpool.h"
#include "util/util.h"

struct signing_key;
struct config;

struct transfer {
	uint64_t delivery_id;
	char *endpoint_id;
	char *name; /* endpoint name and URL when sent */
	char *url;
	char *tenant; /* the endpoint's, or NULL: the default tenant */
	char *body;   /* the exact bytes signed and sent */
	size_t body_len;
	size_t payload_off; /* where the payload's text is in body */
	size_t payload_len;
	struct delivery *picked; /* as read at pick, for delivery_complete() */
	double envelope_ts;
	json_object *headers;	     /* as recorded in the attempt */
	struct curl_slist *hdr_list; /* as given to libcurl */
	char *kid;		     /* of the key that signs it */
	char uuid[37];		     /* for the log */
	int attempt;		     /* its number, for the log */
	int probe;		     /* the breaker's probe (health.h) */
	char *std_sig;		     /* Standard Webhooks signature, or NULL */
	long std_ts;		     /* and its timestamp */
	struct sign_job job;	     /* owned by the signing pool while submitted */

	CURL *easy;
	char errbuf[CURL_ERROR_SIZE];
	struct buf response; /* first RESPONSE_BODY_MAX bytes */
	char *retry_after;
	int refused_private; /* refuse_private_endpoints stopped it */
	double started;
	int64_t started_ms; /* monotonic */

	/* outcome, set by transfer_finish() */
	long status;
	char *error;
	double duration;
};

/*
 * transfer_prepare - the request for delivery d to ep, to be signed with
 * key: the envelope serialized once, the key id, and the optional Standard
 * Webhooks signature; t->job is ready for the signing pool.  It takes d
 * (kept as t->picked, freed on failure).  NULL (logged) on failure.
 */
struct transfer *transfer_prepare(const struct signing_key *key, struct delivery *d,
				  const struct endpoint *ep);

/*
 * transfer_signed - once t->job came back from the pool: the request
 * headers, with the signature and key id under cfg's prefix.  -1 (logged)
 * when signing failed.
 */
int transfer_signed(const struct config *cfg, struct transfer *t);

void transfer_free(struct transfer *t);

/* transfer_finish - record how the request ended. */
void transfer_finish(struct transfer *t, CURLcode res);

/* transfer_result - the outcome as delivery_complete() takes it. */
void transfer_result(const struct transfer *t, struct attempt_result *r);

/* failure_reason - "timeout", "connection refused", "DNS", "TLS", ... */
const char *failure_reason(CURLcode res);

#endif
