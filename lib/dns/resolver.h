/*
 * resolver.h - the system's resolver, through libunbound, with every
 * question bounded by dns_timeout.
 *
 * libunbound reads /etc/resolv.conf (its nameservers become forwarders) and
 * /etc/hosts is not consulted: the checks are about what the world sees.
 * One resolver per thread: a resolver is not shared.
 */
#ifndef PH_DNS_RESOLVER_H
#define PH_DNS_RESOLVER_H

#include <stdint.h>

#include "dns/dns.h"

struct dns_resolver;

/*
 * dns_resolver_new - a resolver using resolv_conf (NULL: the system's),
 * answering each question within timeout_ms.  NULL and a message in err
 * on failure.
 */
struct dns_resolver *dns_resolver_new(const char *resolv_conf, int64_t timeout_ms,
				      char *err, size_t errlen);
void dns_resolver_free(struct dns_resolver *r);

/*
 * dns_resolver_deadline - no question asked from now on waits past
 * deadline_ms (monotonic_ms()); 0 lifts it.  The checks set one per check,
 * so that dns_timeout bounds a check's lookups together, not each lookup.
 */
void dns_resolver_deadline(struct dns_resolver *r, int64_t deadline_ms);

/* dns_resolver_source - the resolver as the checks' lookup. */
struct dns_source dns_resolver_source(struct dns_resolver *r);

#endif
