/*
 * transfer.c - build one signed webhook request and describe its outcome
 * (see transfer.h).  The body is serialized once; the signature covers
 * exactly those bytes.  transfer_prepare() and transfer_signed() run on
 * the loop thread; between them the signing pool signs t->job (see
 * signpool.h), and nothing else of t is touched by the pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "util/log.h"
#include "sign/sign.h"
#include "transfer.h"

#define USER_AGENT "posthook/" PACKAGE_VERSION

/* add_header - one request header, to the record and to libcurl's list. */
static int
add_header(struct transfer *t, const char *name, const char *value)
{
	struct curl_slist *l;
	char *line = xasprintf("%s: %s", name, value);

	json_object_object_add(t->headers, name, json_object_new_string(value));
	l = curl_slist_append(t->hdr_list, line);
	free(line);
	if (l == NULL)
		return -1;
	t->hdr_list = l;
	return 0;
}

/* transfer_prepare - see transfer.h. */
struct transfer *
transfer_prepare(const struct signing_key *key, struct delivery *d,
		 const struct endpoint *ep)
{
	struct transfer *t;
	double now = now_seconds();

	t = xcalloc(1, sizeof(*t));
	buf_init(&t->response);
	t->picked = d;
	t->delivery_id = d->id;
	t->endpoint_id = xstrdup(ep->id);
	t->name = xstrdup(ep->name);
	t->url = xstrdup(ep->url);
	t->tenant = ep->tenant != NULL ? xstrdup(ep->tenant) : NULL;
	t->envelope_ts = d->timestamp;
	memcpy(t->uuid, d->uuid, sizeof(t->uuid));
	t->uuid[sizeof(t->uuid) - 1] = 0;
	t->attempt = d->attempts + 1;
	/* the envelope's payload: its place in the body kept for the attempt */
	t->body =
	    delivery_envelope_json(d, &t->body_len, &t->payload_off, &t->payload_len);
	t->kid = xstrdup(signing_key_kid(key));
	if (ep->secret != NULL) {
		t->std_ts = (long) now;
		t->std_sig = stdwebhooks_signature(ep->secret, d->uuid, t->std_ts,
						   t->body, t->body_len);
		if (t->std_sig == NULL) {
			log_error("delivery %llu: endpoint %s has a bad whsec_ secret",
				  (unsigned long long) d->id, ep->id);
			transfer_free(t);
			return NULL;
		}
	}
	t->job.key = key;
	t->job.body = t->body;
	t->job.len = t->body_len;
	return t;
}

/* transfer_signed - see transfer.h. */
int
transfer_signed(const struct config *cfg, struct transfer *t)
{
	char *name, ts[32];
	int rc;

	if (t->job.sig == NULL) {
		log_error("delivery %llu: signing failed",
			  (unsigned long long) t->delivery_id);
		return -1;
	}
	t->headers = json_object_new_object();
	rc = add_header(t, "Content-Type", "application/json");
	if (rc == 0)
		rc = add_header(t, "User-Agent", USER_AGENT);
	name = xasprintf("%s-Signature", cfg->signature_header_prefix);
	if (rc == 0)
		rc = add_header(t, name, t->job.sig);
	free(name);
	name = xasprintf("%s-Signature-KID", cfg->signature_header_prefix);
	if (rc == 0)
		rc = add_header(t, name, t->kid);
	free(name);
	if (rc == 0 && t->std_sig != NULL) {
		snprintf(ts, sizeof(ts), "%ld", t->std_ts);
		rc = add_header(t, "webhook-id", t->uuid);
		if (rc == 0)
			rc = add_header(t, "webhook-timestamp", ts);
		if (rc == 0)
			rc = add_header(t, "webhook-signature", t->std_sig);
	}
	/* no "Expect: 100-continue" round trip; not part of the record */
	if (rc == 0 && (t->hdr_list = curl_slist_append(t->hdr_list, "Expect:")) == NULL)
		rc = -1;
	if (rc != 0)
		log_error("delivery %llu: cannot build the request headers",
			  (unsigned long long) t->delivery_id);
	return rc;
}

/* transfer_free - free t and its easy handle (already removed from multi). */
void
transfer_free(struct transfer *t)
{
	if (t == NULL)
		return;
	if (t->easy != NULL)
		curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->hdr_list);
	if (t->headers != NULL)
		json_object_put(t->headers);
	buf_free(&t->response);
	free(t->endpoint_id);
	free(t->name);
	free(t->url);
	free(t->tenant);
	free(t->body);
	delivery_free(t->picked);
	free(t->kid);
	free(t->std_sig);
	free(t->job.sig);
	free(t->retry_after);
	free(t->error);
	free(t);
}

/* failure_reason - see transfer.h. */
const char *
failure_reason(CURLcode res)
{
	switch (res) {
	case CURLE_OPERATION_TIMEDOUT:
		return "timeout";
	case CURLE_COULDNT_CONNECT:
		return "connection refused";
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return "DNS";
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_USE_SSL_FAILED:
		return "TLS";
	case CURLE_UNSUPPORTED_PROTOCOL: /* HTTP/0.9: a reply that is no HTTP */
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return "bad response";
	default:
		return "network";
	}
}

/* transfer_finish - see transfer.h. */
void
transfer_finish(struct transfer *t, CURLcode res)
{
	long status = 0;

	t->duration = (double) (monotonic_ms() - t->started_ms) / 1000.0;
	if (curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		status = 0;
	free(t->error);
	t->error = NULL;
	if (res != CURLE_OK) {
		/* a response cut short still tells its status; the attempt failed */
		t->status = status;
		if (t->refused_private)
			t->error = xstrdup("refused: a private or loopback address "
					   "(refuse_private_endpoints = yes)");
		else
			t->error =
			    xasprintf("%s: %s", failure_reason(res),
				      t->errbuf[0] ? t->errbuf : curl_easy_strerror(res));
	} else {
		t->status = status;
		if (status >= 300 && status <= 399)
			t->error =
			    xasprintf("HTTP %ld (redirects are not followed)", status);
		else if (status < 200 || status > 299)
			t->error = xasprintf("HTTP %ld", status);
	}
}

/* transfer_result - see transfer.h. */
void
transfer_result(const struct transfer *t, struct attempt_result *r)
{
	memset(r, 0, sizeof(*r));
	r->started = t->started;
	r->duration = t->duration;
	r->status = t->status;
	r->error = t->error;
	r->body = t->response.data;
	r->body_len = t->response.len;
	r->headers = t->headers;
	r->kid = t->kid;
	r->retry_after = t->retry_after;
	r->envelope_ts = t->envelope_ts;
	r->payload = t->body + t->payload_off;
	r->payload_len = t->payload_len;
}
