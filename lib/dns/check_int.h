/*
 * check_int.h - what the check files (check.c, check_mx.c) share: setting
 * a result, and the lookups every check needs.  Private to lib/dns.
 */
#ifndef PH_DNS_CHECK_INT_H
#define PH_DNS_CHECK_INT_H

#include "dns/check.h"

/* check_set - status and an error (printf); OK takes fmt NULL. */
void check_set(struct dns_check *c, enum dns_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* check_unsure - could not be checked: the lookup's failure as the note. */
void check_unsure(struct dns_check *c, const char *name, enum dns_type type,
		  enum dns_result r);

/*
 * check_cname_loop - after a SERVFAIL at name: whether following its
 * CNAMEs by hand comes back to a name already seen.
 */
int check_cname_loop(const struct dns_source *src, const char *name);

/*
 * check_spf_for - the SPF policy at domain passes for every sending
 * address; errors say "this domain" when here is NULL, else "at HERE".
 */
void check_spf_for(const struct dns_source *src, const char *domain, const char *here,
		   const char *const *ips, struct dns_check *out);

void check_mx(const struct dns_source *src, const struct dns_domain_spec *spec,
	      struct dns_check *out);
void check_return_path(const struct dns_source *src, const struct dns_domain_spec *spec,
		       struct dns_check *out);
void check_dmarc(const struct dns_source *src, const struct dns_domain_spec *spec,
		 const struct dns_check *done, struct dns_dmarc_info *info,
		 struct dns_check *out);
void check_fcrdns(const struct dns_source *src, const struct dns_domain_spec *spec,
		  struct dns_check *out);

#endif
