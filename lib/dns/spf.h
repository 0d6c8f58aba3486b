/*
 * spf.h - an SPF policy evaluated as a receiver would (RFC 7208), by
 * libspf2, for one address and one domain, with libspf2's DNS layer
 * replaced by a dns_source: every lookup goes through the caller's
 * resolver, so dns_timeout bounds it and tests answer from a table.
 */
#ifndef PH_DNS_SPF_H
#define PH_DNS_SPF_H

#include <stddef.h>

#include "dns/dns.h"

enum spf_verdict {
	SPF_V_PASS,
	SPF_V_FAIL,	 /* fail, softfail or neutral */
	SPF_V_NONE,	 /* no SPF record */
	SPF_V_PERMERROR, /* a broken record */
	SPF_V_TEMPERROR, /* DNS failed: says nothing */
};

struct spf_eval {
	enum spf_verdict verdict;
	char result[16];  /* "pass", "softfail", ... */
	char reason[200]; /* why, for the error message */
};

/*
 * spf_evaluate - the result of "MAIL FROM:<postmaster@domain>" from ip
 * (IPv4 or IPv6 text).  -1 only when libspf2 could not be set up.
 */
int spf_evaluate(const struct dns_source *src, const char *domain, const char *ip,
		 struct spf_eval *out);

#endif
