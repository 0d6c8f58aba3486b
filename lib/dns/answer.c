/*
 * answer.c - the DNS answer the checks read (dns.h): building, clearing,
 * naming its results.
 */
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"
#include "util/util.h"

/* dns_answer_add - append one record */
void
dns_answer_add(struct dns_answer *a, const char *text, int pref)
{
	a->rr = xrealloc(a->rr, (a->n + 1) * sizeof(*a->rr));
	a->pref = xrealloc(a->pref, (a->n + 1) * sizeof(*a->pref));
	a->rr[a->n] = xstrdup(text);
	a->pref[a->n] = pref;
	a->n++;
	a->result = DNS_R_DATA;
}

/* dns_answer_clear - free the records; the answer is empty again */
void
dns_answer_clear(struct dns_answer *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->rr[i]);
	free(a->rr);
	free(a->pref);
	free(a->canon);
	memset(a, 0, sizeof(*a));
}

/* dns_lookup - one question to the source */
int
dns_lookup(const struct dns_source *src, const char *name, enum dns_type type,
	   struct dns_answer *out)
{
	dns_answer_clear(out);
	/* No name this long exists (RFC 1035 2.3.4); an SPF macro can make one. */
	if (strlen(name) > DNS_NAME_MAX) {
		out->result = DNS_R_NXDOMAIN;
		return (0);
	}
	if (src->lookup(src->ctx, name, type, out) < 0) {
		dns_answer_clear(out);
		out->result = DNS_R_SERVFAIL;
		return (-1);
	}
	if (out->result == DNS_R_DATA && out->n == 0)
		out->result = DNS_R_NODATA;
	return (0);
}

/* dns_result_unsure - a failure of the resolver, not a fact of the zone */
int
dns_result_unsure(enum dns_result r)
{
	return (r == DNS_R_SERVFAIL || r == DNS_R_TIMEOUT);
}

/* dns_result_name - the result in a message */
const char *
dns_result_name(enum dns_result r)
{
	switch (r) {
	case DNS_R_DATA:
		return ("an answer");
	case DNS_R_NODATA:
		return ("no record");
	case DNS_R_NXDOMAIN:
		return ("NXDOMAIN");
	case DNS_R_SERVFAIL:
		return ("SERVFAIL");
	case DNS_R_TIMEOUT:
		return ("a timeout");
	case DNS_R_BAD:
		return ("an unreadable answer");
	}
	return ("?");
}

/* dns_type_name - the type's mnemonic */
const char *
dns_type_name(enum dns_type t)
{
	switch (t) {
	case DNS_T_A:
		return ("A");
	case DNS_T_CNAME:
		return ("CNAME");
	case DNS_T_PTR:
		return ("PTR");
	case DNS_T_MX:
		return ("MX");
	case DNS_T_TXT:
		return ("TXT");
	case DNS_T_AAAA:
		return ("AAAA");
	}
	return ("?");
}
