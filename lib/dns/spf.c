/*
 * spf.c - libspf2 with its DNS layer replaced by a dns_source (spf.h).
 *
 * libspf2 keeps RFC 7208's rules (includes, redirect, macros, the limit of
 * ten lookups) and Debian carries its security fixes; its own resolver
 * layer (res_query) cannot be bounded, so the one layer it gets here asks
 * the caller's source, which the checks bound by dns_timeout.
 */
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spf2/spf.h>

#include "dns/spf.h"
#include "util/util.h"

static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;

/* ignore - libspf2's warnings and notes are its own business */
static void
ignore(const char *file, int line, const char *msg)
{
	(void) file;
	(void) line;
	(void) msg;
}

/* quiet - no libspf2 chatter on stderr */
static void
quiet(void)
{
	SPF_warning_handler = ignore;
	SPF_info_handler = ignore;
	SPF_debug_handler = ignore;
}

/* herrno_of - the answer in libspf2's terms */
static SPF_dns_stat_t
herrno_of(enum dns_result r)
{
	switch (r) {
	case DNS_R_DATA:
		return (NETDB_SUCCESS);
	case DNS_R_NODATA:
		return (NO_DATA);
	case DNS_R_NXDOMAIN:
		return (HOST_NOT_FOUND);
	case DNS_R_BAD:
		return (NO_RECOVERY);
	default:
		return (TRY_AGAIN);
	}
}

/* fill - one record into the libspf2 answer; -1 if unusable */
static int
fill(SPF_dns_rr_t *rr, int idx, ns_type type, const char *text)
{
	size_t len = strlen(text) + 1;

	switch (type) {
	case ns_t_a:
		if (SPF_dns_rr_buf_realloc(rr, idx, sizeof(struct in_addr))
		    != SPF_E_SUCCESS)
			return (-1);
		return (inet_pton(AF_INET, text, &rr->rr[idx]->a) == 1 ? 0 : -1);
	case ns_t_aaaa:
		if (SPF_dns_rr_buf_realloc(rr, idx, sizeof(struct in6_addr))
		    != SPF_E_SUCCESS)
			return (-1);
		return (inet_pton(AF_INET6, text, &rr->rr[idx]->aaaa) == 1 ? 0 : -1);
	default:
		/* txt, mx and ptr share the character buffer */
		if (SPF_dns_rr_buf_realloc(rr, idx, len) != SPF_E_SUCCESS)
			return (-1);
		memcpy(rr->rr[idx]->txt, text, len);
		return (0);
	}
}

/* layer_lookup - libspf2's lookup, answered by the dns_source */
static SPF_dns_rr_t *
layer_lookup(SPF_dns_server_t *server, const char *domain, ns_type type, int should_cache)
{
	const struct dns_source *src = server->hook;
	struct dns_answer a = { 0 };
	SPF_dns_rr_t *rr;
	size_t i;
	int n = 0;

	(void) should_cache;
	switch (type) {
	case ns_t_a:
	case ns_t_aaaa:
	case ns_t_mx:
	case ns_t_txt:
	case ns_t_ptr:
		(void) dns_lookup(src, domain, (enum dns_type) type, &a);
		break;
	default:
		/* SPF asks nothing else (the SPF type 99 is obsolete). */
		a.result = DNS_R_NODATA;
		break;
	}
	rr = SPF_dns_rr_new_init(server, domain, type, 0, herrno_of(a.result));
	if (rr == NULL) {
		dns_answer_clear(&a);
		return (NULL);
	}
	for (i = 0; a.result == DNS_R_DATA && i < a.n; i++)
		if (fill(rr, n, type, a.rr[i]) == 0)
			n++;
	rr->num_rr = n;
	dns_answer_clear(&a);
	return (rr);
}

/* verdict_of - libspf2's result as the check reads it */
static enum spf_verdict
verdict_of(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS:
		return (SPF_V_PASS);
	case SPF_RESULT_NONE:
		return (SPF_V_NONE);
	case SPF_RESULT_TEMPERROR:
		return (SPF_V_TEMPERROR);
	case SPF_RESULT_PERMERROR:
	case SPF_RESULT_INVALID:
		return (SPF_V_PERMERROR);
	default:
		return (SPF_V_FAIL);
	}
}

/* first_error - the first error libspf2 recorded, for the message */
static void
first_error(SPF_response_t *resp, char *out, size_t outlen)
{
	const char *comment;
	int i;

	out[0] = 0;
	for (i = 0; i < SPF_response_messages(resp); i++) {
		SPF_error_t *e = SPF_response_message(resp, i);

		if (e != NULL && SPF_error_errorp(e) && SPF_error_message(e)) {
			snprintf(out, outlen, "%s", SPF_error_message(e));
			return;
		}
	}
	comment = SPF_response_get_header_comment(resp);
	if (comment != NULL)
		snprintf(out, outlen, "%s", comment);
}

/* spf_evaluate - libspf2's verdict for ip sending as postmaster@domain */
int
spf_evaluate(const struct dns_source *src, const char *domain, const char *ip,
	     struct spf_eval *out)
{
	SPF_dns_server_t *layer;
	SPF_server_t *server;
	SPF_request_t *req;
	SPF_response_t *resp = NULL;
	SPF_result_t r;
	char *from;
	int bad_ip;

	memset(out, 0, sizeof(*out));
	(void) pthread_once(&quiet_once, quiet);
	/* No destroy: libspf2 then leaves the layer to its owner, here. */
	layer = xcalloc(1, sizeof(*layer));
	layer->lookup = layer_lookup;
	layer->name = "posthook";
	/* libspf2 takes a non-const hook; the source is only read. */
	layer->hook = (void *) src;
	if ((server = SPF_server_new_dns(layer, 0)) == NULL) {
		free(layer);
		return (-1);
	}
	if ((req = SPF_request_new(server)) == NULL) {
		SPF_server_free(server);
		free(layer);
		return (-1);
	}
	bad_ip = strchr(ip, ':') != NULL
		     ? SPF_request_set_ipv6_str(req, ip) != SPF_E_SUCCESS
		     : SPF_request_set_ipv4_str(req, ip) != SPF_E_SUCCESS;
	from = xasprintf("postmaster@%s", domain);
	if (bad_ip || SPF_request_set_env_from(req, from) != 0) {
		out->verdict = SPF_V_PERMERROR;
		snprintf(out->reason, sizeof(out->reason), "cannot evaluate %s for %s",
			 domain, ip);
	} else {
		(void) SPF_request_query_mailfrom(req, &resp);
		r = resp != NULL ? SPF_response_result(resp) : SPF_RESULT_TEMPERROR;
		out->verdict = verdict_of(r);
		snprintf(out->result, sizeof(out->result), "%s", SPF_strresult(r));
		if (resp != NULL)
			first_error(resp, out->reason, sizeof(out->reason));
	}
	free(from);
	if (resp != NULL)
		SPF_response_free(resp);
	SPF_request_free(req);
	SPF_server_free(server);
	free(layer);
	return (0);
}
