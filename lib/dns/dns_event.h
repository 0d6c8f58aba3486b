/*
 * dns_event.h - when a domain's check makes an event, and its payload:
 * DomainDNSError (the hosted API's fields, then posthook's) and DomainDNSOK
 * (docs/events.md, DomainDNSError).  Pure: the record carries this run's
 * results and what the last run with events reported; the caller gives
 * the time.
 */
#ifndef PH_DNS_EVENT_H
#define PH_DNS_EVENT_H

#include <stdint.h>
#include <json-c/json.h>

#include "dns/domain.h"
#include "event/event.h"

enum dns_event_kind {
	DNS_EVENT_NONE,
	DNS_EVENT_ERROR, /* DomainDNSError */
	DNS_EVENT_OK,	 /* DomainDNSOK */
};

/*
 * dns_event_decide - the event r makes now: r holds this run's results
 * and what the last run with events reported.  An error when the domain
 * breaks (or is broken when first reported), when its errors change, and
 * repeat_ms after the last error event while it stays broken; OK when it
 * recovers.
 */
enum dns_event_kind dns_event_decide(const struct domain_record *r, double now,
				     int64_t repeat_ms);

/*
 * dns_event_reported - r's reported state after this run, and event k
 * (made at now) counted.
 */
void dns_event_reported(struct domain_record *r, enum dns_event_kind k, double now);

/* dns_event_type - the event type of a kind (not DNS_EVENT_NONE). */
enum event_type dns_event_type(enum dns_event_kind k);

/*
 * dns_event_payload - {server: {uuid, name}, domain, uuid, dns_checked_at,
 * spf_status, spf_error, dkim_..., mx_..., return_path_..., then dmarc_...,
 * dmarc_policy, dmarc_spf_aligned, dmarc_dkim_aligned, fcrdns_..., and
 * tenant when not the default}.
 */
json_object *dns_event_payload(const struct domain_record *r, const char *server_uuid,
			       const char *server_name);

#endif
