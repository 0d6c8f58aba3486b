/*
 * dnscheck.h - a check run: the domains checked in parallel, each on its
 * own thread's resolver, then each domain's results stored and (with
 * events) its DomainDNSError or DomainDNSOK queued in the same
 * transaction.  What `posthookctl domains check` and the hourly timer run.
 */
#ifndef PH_DNS_DNSCHECK_H
#define PH_DNS_DNSCHECK_H

#include <stddef.h>

#include "config/config.h"
#include "dns/dns_event.h"
#include "dns/domain.h"
#include "store/store.h"

/*
 * dnscheck_run - check recs[0..n-1] and store the results (recs are
 * updated in place; made[i] gets the event queued for recs[i], which is
 * DNS_EVENT_NONE without events).  0, or -1 and why in err.
 */
int dnscheck_run(struct store *st, const struct config *cfg, struct domain_record **recs,
		 size_t n, int events, enum dns_event_kind *made, char *err,
		 size_t errlen);

/*
 * dnscheck_sending_ips - the sending_ips key, or when empty the host's
 * global addresses (not loopback, link-local or private); NULL-terminated,
 * freed by the caller with dnscheck_list_free().
 */
char **dnscheck_sending_ips(const struct config *cfg);

/* dnscheck_mx_hostnames - mx_hostnames, bounce_own_hostnames, the host name. */
char **dnscheck_mx_hostnames(const struct config *cfg);

void dnscheck_list_free(char **list);

#endif
