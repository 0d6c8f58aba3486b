/*
 * records.h - the DNS records the checks read, parsed without I/O: SPF
 * (which TXT record is the policy), DKIM key records (RFC 6376 3.6.1,
 * RFC 8463 for ed25519), opendkim's key file, DMARC (RFC 7489 6.3).
 */
#ifndef PH_DNS_RECORDS_H
#define PH_DNS_RECORDS_H

#include <stddef.h>

#include "dns/dns.h"

/*
 * spf_record_count - how many TXT records of txt are SPF policies
 * ("v=spf1" alone or followed by a space); *first gets the first.
 */
size_t spf_record_count(const struct dns_answer *txt, const char **first);

/* spf_record_allows_all - whether the policy ends in "all" or "+all". */
int spf_record_allows_all(const char *record);

enum dkim_key_type {
	DKIM_KEY_RSA,
	DKIM_KEY_ED25519,
};

struct dkim_record {
	enum dkim_key_type key_type;
	char *p; /* base64, whitespace removed; "" revoked */
};

/*
 * dkim_record_parse - one DKIM key record.  0, or -1 and why in err: a
 * version other than DKIM1, an unknown k=, no p=, p= not base64 or not a
 * key of its type.
 */
int dkim_record_parse(const char *text, struct dkim_record *out, char *err,
		      size_t errlen);
void dkim_record_clear(struct dkim_record *r);

/* dkim_record_like - whether a TXT record is meant as a DKIM key. */
int dkim_record_like(const char *text);

/*
 * dkim_keyfile_parse - the public key an admin gives: opendkim-genkey's
 * SELECTOR.txt ("sel._domainkey IN TXT ( "v=DKIM1; ..." "p=..." )") or the
 * record text alone.  *selector gets the selector the file names (NULL if
 * none); the record is parsed as dkim_record_parse() does.
 */
int dkim_keyfile_parse(const char *text, char **selector, struct dkim_record *out,
		       char *err, size_t errlen);

struct dmarc_record {
	char policy[12]; /* none, quarantine, reject */
	int strict_spf;	 /* aspf=s */
	int strict_dkim; /* adkim=s */
};

/* dmarc_record_parse - one _dmarc TXT record; -1 and why in err. */
int dmarc_record_parse(const char *text, struct dmarc_record *out, char *err,
		       size_t errlen);

/* dmarc_record_like - whether a TXT record starts with "v=DMARC1". */
int dmarc_record_like(const char *text);

#endif
