/*
 * check.h - the checks of one sending domain's DNS, each a function of the
 * answers its dns_source gives (no I/O of its own): SPF, DKIM, MX and the
 * return path of DomainDNSError (docs/events.md), DMARC and
 * forward-confirmed reverse DNS besides.  Each gives OK, Missing or
 * Invalid with an error in the event's words, or says it could not be
 * checked (a timeout or SERVFAIL is not a fact about the zone, so the
 * caller keeps the last status).
 */
#ifndef PH_DNS_CHECK_H
#define PH_DNS_CHECK_H

#include "dns/dns.h"

enum dns_status {
	DNS_ST_OK,
	DNS_ST_MISSING,
	DNS_ST_INVALID,
};

/* dns_status_name - "OK", "Missing", "Invalid". */
const char *dns_status_name(enum dns_status s);
/* dns_status_from_name - 0, or -1 for another name. */
int dns_status_from_name(const char *name, enum dns_status *out);

struct dns_check {
	enum dns_status status;
	char *error; /* NULL when OK */
	int unsure;  /* not checked: see note */
	char *note;  /* why not checked, or what was skipped */
};

void dns_check_clear(struct dns_check *c);

#define DNS_MAX_SELECTORS 2 /* the current and the next key */

/* What is checked for one domain. */
struct dns_domain_spec {
	const char *domain;
	const char *selectors[DNS_MAX_SELECTORS]; /* NULL: none */
	const char *keys[DNS_MAX_SELECTORS];	  /* their p= (base64) */
	int null_mx_ok;				  /* a send-only domain */
	const char *return_path;		  /* NULL or "": not checked */
	const char *const *sending_ips;		  /* NULL-terminated */
	const char *const *mx_hostnames;	  /* NULL-terminated */
};

/* The checks of the hosted API's payload, then posthook's extras. */
enum dns_check_kind {
	DNS_CHECK_SPF,
	DNS_CHECK_DKIM,
	DNS_CHECK_MX,
	DNS_CHECK_RETURN_PATH,
	DNS_CHECK_DMARC,
	DNS_CHECK_FCRDNS,
	DNS_CHECK_COUNT
};

/* The checks that decide whether a domain is healthy (the hosted API's four). */
#define DNS_CHECK_CORE 4

/* dns_check_field - the payload's prefix: "spf", ..., "return_path". */
const char *dns_check_field(enum dns_check_kind k);

/* DMARC's findings, for the payload's extra fields. */
struct dns_dmarc_info {
	char policy[12]; /* "" when there is no valid record */
	int spf_aligned;
	int dkim_aligned;
};

/*
 * dns_check_run - one check of spec into out (cleared first).  DMARC
 * reads the SPF, DKIM and return path results in done[] for alignment and
 * fills *dmarc.
 */
void dns_check_run(const struct dns_source *src, const struct dns_domain_spec *spec,
		   enum dns_check_kind k, const struct dns_check *done,
		   struct dns_dmarc_info *dmarc, struct dns_check *out);

#endif
