/*
 * transfer.h - one HTTP attempt of a delivery, from the signed request
 * made before it is sent to the outcome libcurl reports.
 */
#ifndef PH_WEBHOOK_TRANSFER_H
#define PH_WEBHOOK_TRANSFER_H

#include <stdint.h>
#include <curl/curl.h>
#include <json-c/json.h>

#include "delivery.h"
#include "endpoint.h"
#include "util.h"

struct keyring;
struct config;

struct transfer {
	uint64_t delivery_id;
	char *endpoint_id;
	char *name; /* endpoint name and URL when sent */
	char *url;
	char *body; /* the exact bytes signed and sent */
	size_t body_len;
	double envelope_ts;
	json_object *headers;	     /* as recorded in the attempt */
	struct curl_slist *hdr_list; /* as given to libcurl */
	char *kid;

	CURL *easy;
	char errbuf[CURL_ERROR_SIZE];
	struct buf response; /* first RESPONSE_BODY_MAX bytes */
	char *retry_after;
	double started;
	int64_t started_ms; /* monotonic */

	/* outcome, set by transfer_finish() */
	long status;
	char *error;
	double duration;
};

/*
 * transfer_new - the signed request for delivery d to ep: the envelope
 * serialized once, its signature and key id, and the optional Standard
 * Webhooks headers.  NULL (logged) when there is no key to sign with.
 */
struct transfer *transfer_new(const struct config *cfg, struct keyring *kr,
			      const struct delivery *d, const struct endpoint *ep);
void transfer_free(struct transfer *t);

/* transfer_finish - record how the request ended. */
void transfer_finish(struct transfer *t, CURLcode res);

/* transfer_result - the outcome as delivery_complete() takes it. */
void transfer_result(const struct transfer *t, struct attempt_result *r);

/* failure_reason - "timeout", "connection refused", "DNS", "TLS", ... */
const char *failure_reason(CURLcode res);

#endif
