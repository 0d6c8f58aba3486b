/*
 * dns_event.c - the decision to send DomainDNSError or DomainDNSOK, and
 * their payload (dns_event.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_event.h"
#include "util/json.h"

/* dns_event_decide - see dns_event.h */
enum dns_event_kind
dns_event_decide(const struct domain_record *r, double now, int64_t repeat_ms)
{
	char *errors;
	int changed;

	if (!r->broken)
		return (r->reported && r->reported_broken ? DNS_EVENT_OK
							  : DNS_EVENT_NONE);
	if (!r->reported || !r->reported_broken)
		return (DNS_EVENT_ERROR);
	errors = domain_record_errors(r);
	changed = r->reported_errors == NULL || strcmp(errors, r->reported_errors) != 0;
	free(errors);
	if (changed)
		return (DNS_EVENT_ERROR);
	if (repeat_ms > 0 && now - r->error_event_at >= (double) repeat_ms / 1000.0)
		return (DNS_EVENT_ERROR);
	return (DNS_EVENT_NONE);
}

/* dns_event_reported - remember what this run reported */
void
dns_event_reported(struct domain_record *r, enum dns_event_kind k, double now)
{
	r->reported = 1;
	r->reported_broken = r->broken;
	free(r->reported_errors);
	r->reported_errors = domain_record_errors(r);
	if (k == DNS_EVENT_ERROR)
		r->error_event_at = now;
	else if (!r->broken)
		r->error_event_at = 0;
}

/* dns_event_type - the event of a kind */
enum event_type
dns_event_type(enum dns_event_kind k)
{
	return (k == DNS_EVENT_OK ? EV_DOMAIN_DNS_OK : EV_DOMAIN_DNS_ERROR);
}

/* add_check - NAME_status and NAME_error */
static void
add_check(json_object *p, enum dns_check_kind k, const struct dns_check *c)
{
	char name[40];
	const char *f = dns_check_field(k);

	snprintf(name, sizeof(name), "%s_status", f);
	json_add_string(p, name, dns_status_name(c->status));
	snprintf(name, sizeof(name), "%s_error", f);
	json_add_string(p, name, c->status == DNS_ST_OK ? NULL : c->error);
}

/* dns_event_payload - see dns_event.h */
json_object *
dns_event_payload(const struct domain_record *r, const char *server_uuid,
		  const char *server_name)
{
	json_object *p = json_object_new_object(), *s = json_object_new_object();
	int i;

	json_add_string(s, "uuid", server_uuid);
	json_add_string(s, "name", server_name);
	json_object_object_add(p, "server", s);
	json_add_string(p, "domain", r->domain);
	json_add_string(p, "uuid", r->uuid);
	json_object_object_add(p, "dns_checked_at", json_double_new(r->checked_at, 6));
	for (i = 0; i < DNS_CHECK_COUNT; i++) {
		add_check(p, (enum dns_check_kind) i, &r->checks[i]);
		if (i == DNS_CHECK_DMARC) {
			json_add_string(p, "dmarc_policy",
					r->dmarc.policy[0] ? r->dmarc.policy : NULL);
			json_object_object_add(
			    p, "dmarc_spf_aligned",
			    json_object_new_boolean(r->dmarc.spf_aligned));
			json_object_object_add(
			    p, "dmarc_dkim_aligned",
			    json_object_new_boolean(r->dmarc.dkim_aligned));
		}
	}
	if (r->tenant != NULL)
		json_add_string(p, "tenant", r->tenant);
	return (p);
}
