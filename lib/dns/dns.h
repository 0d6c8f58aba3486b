/*
 * dns.h - DNS answers as the checks see them, and the one lookup call the
 * checks make: the resolver (resolver.c) answers it on the wire, a table
 * answers it in the unit tests, so every check is a pure function of the
 * answers it gets.
 */
#ifndef PH_DNS_H
#define PH_DNS_H

#include <stddef.h>

/* Record types asked for (their numbers on the wire). */
enum dns_type {
	DNS_T_A = 1,
	DNS_T_CNAME = 5,
	DNS_T_PTR = 12,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28,
};

/* What came back.  Only DNS_R_DATA has records. */
enum dns_result {
	DNS_R_DATA,	/* one or more records */
	DNS_R_NODATA,	/* the name exists, no record of the type */
	DNS_R_NXDOMAIN, /* the name does not exist */
	DNS_R_SERVFAIL, /* the server failed or refused */
	DNS_R_TIMEOUT,	/* no answer within dns_timeout */
	DNS_R_BAD,	/* an answer that could not be read */
};

/*
 * One answer.  Records are text: TXT strings joined as RFC 7208 3.3 says,
 * A and AAAA as printed addresses, MX, PTR and CNAME targets as names
 * without the final dot ("" for the root, the null MX); pref[] holds the
 * MX preferences.  canon is the name the answer was found at after CNAMEs.
 */
struct dns_answer {
	enum dns_result result;
	size_t n;
	char **rr;
	int *pref;
	char *canon;
};

/*
 * The lookup the checks make.  It fills out (which the caller clears with
 * dns_answer_clear) and returns 0, or -1 only when it could not ask at all
 * (out->result then says DNS_R_SERVFAIL).
 */
typedef int (*dns_lookup_fn)(void *ctx, const char *name, enum dns_type type,
			     struct dns_answer *out);

struct dns_source {
	dns_lookup_fn lookup;
	void *ctx;
};

/* The longest name in text, with a final dot (RFC 1035 2.3.4: 255 octets). */
#define DNS_NAME_MAX 254

/*
 * dns_lookup - ask src; out is cleared first.  A name longer than
 * DNS_NAME_MAX does not exist and is not asked about.
 */
int dns_lookup(const struct dns_source *src, const char *name, enum dns_type type,
	       struct dns_answer *out);

/* dns_answer_add - append one record (the MX preference, else 0). */
void dns_answer_add(struct dns_answer *a, const char *text, int pref);
void dns_answer_clear(struct dns_answer *a);

/* dns_result_unsure - whether a result says nothing about the zone. */
int dns_result_unsure(enum dns_result r);

/* dns_result_name - "timed out", "SERVFAIL", ... for messages. */
const char *dns_result_name(enum dns_result r);

/* dns_type_name - "TXT", "MX", ... */
const char *dns_type_name(enum dns_type t);

#endif
