/*
 * check_mx.c - the MX and return path checks, and the extras: DMARC and
 * forward-confirmed reverse DNS (check.h).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns/check_int.h"
#include "dns/records.h"
#include "util/util.h"

/* is_ip_literal - an MX target written as an address */
static int
is_ip_literal(const char *host)
{
	unsigned char buf[16];
	char inner[64];
	size_t len = strlen(host);

	if (len > 2 && host[0] == '[' && host[len - 1] == ']' && len < sizeof(inner)) {
		memcpy(inner, host + 1, len - 2);
		inner[len - 2] = 0;
		host = inner;
	}
	return (inet_pton(AF_INET, host, buf) == 1
		|| inet_pton(AF_INET6, host, buf) == 1);
}

/*
 * host_resolves - 1 when host has an address, 0 when it has none, -1 when
 * the lookups failed (*r gets the failure).
 */
static int
host_resolves(const struct dns_source *src, const char *host, enum dns_result *r,
	      enum dns_type *t)
{
	static const enum dns_type types[] = { DNS_T_A, DNS_T_AAAA };
	struct dns_answer a = { 0 };
	int i, unsure = 0;

	for (i = 0; i < 2; i++) {
		(void) dns_lookup(src, host, types[i], &a);
		if (a.result == DNS_R_DATA) {
			dns_answer_clear(&a);
			return (1);
		}
		if (dns_result_unsure(a.result) && !unsure) {
			unsure = 1;
			*r = a.result;
			*t = types[i];
		}
	}
	dns_answer_clear(&a);
	return (unsure ? -1 : 0);
}

/* check_mx - MX records exist and their hosts resolve */
void
check_mx(const struct dns_source *src, const struct dns_domain_spec *spec,
	 struct dns_check *out)
{
	struct dns_answer mx = { 0 };
	const char *d = spec->domain;
	enum dns_result r;
	enum dns_type t;
	size_t i;
	int nulls = 0, rc;

	(void) dns_lookup(src, d, DNS_T_MX, &mx);
	if (dns_result_unsure(mx.result)) {
		if (mx.result == DNS_R_SERVFAIL && check_cname_loop(src, d))
			check_set(out, DNS_ST_INVALID, "There is a CNAME loop at %s", d);
		else
			check_unsure(out, d, DNS_T_MX, mx.result);
		goto done;
	}
	if (mx.result == DNS_R_NXDOMAIN) {
		check_set(out, DNS_ST_MISSING, "The domain %s does not exist", d);
		goto done;
	}
	if (mx.result != DNS_R_DATA) {
		check_set(out, DNS_ST_MISSING, "There are no MX records for this domain");
		goto done;
	}
	for (i = 0; i < mx.n; i++)
		nulls += mx.rr[i][0] == 0;
	if (nulls > 0) {
		/* RFC 7505: the null MX stands alone, for a domain taking no mail. */
		if (mx.n > 1)
			check_set(out, DNS_ST_INVALID,
				  "The null MX (\".\") must be the only MX record");
		else if (!spec->null_mx_ok)
			check_set(out, DNS_ST_INVALID,
				  "The domain has a null MX: it receives no mail "
				  "(add it with --send-only if that is meant)");
		else
			check_set(out, DNS_ST_OK, NULL);
		goto done;
	}
	for (i = 0; i < mx.n; i++) {
		if (is_ip_literal(mx.rr[i])) {
			check_set(out, DNS_ST_INVALID,
				  "The MX record points at an IP address (%s), "
				  "not a host name",
				  mx.rr[i]);
			goto done;
		}
		rc = host_resolves(src, mx.rr[i], &r, &t);
		if (rc < 0) {
			check_unsure(out, mx.rr[i], t, r);
			goto done;
		}
		if (rc == 0) {
			check_set(out, DNS_ST_INVALID, "The MX host %s has no address",
				  mx.rr[i]);
			goto done;
		}
	}
	check_set(out, DNS_ST_OK, NULL);
done:
	dns_answer_clear(&mx);
}

/* names_this_host - whether host is one of mx_hostnames */
static int
names_this_host(const struct dns_domain_spec *spec, const char *host)
{
	const char *const *h;

	for (h = spec->mx_hostnames; h != NULL && *h != NULL; h++)
		if (strcasecmp(*h, host) == 0)
			return (1);
	return (0);
}

/* check_return_path - it resolves, an MX is this host, its SPF passes */
void
check_return_path(const struct dns_source *src, const struct dns_domain_spec *spec,
		  struct dns_check *out)
{
	struct dns_answer mx = { 0 };
	const char *rp = spec->return_path;
	enum dns_result r;
	enum dns_type t;
	size_t i;
	int rc, ours = 0;

	if (rp == NULL || *rp == 0) {
		check_set(out, DNS_ST_OK, NULL);
		out->note = xstrdup("Not checked: no return_path_domain is set");
		return;
	}
	(void) dns_lookup(src, rp, DNS_T_MX, &mx);
	if (dns_result_unsure(mx.result)) {
		if (mx.result == DNS_R_SERVFAIL && check_cname_loop(src, rp))
			check_set(out, DNS_ST_INVALID, "There is a CNAME loop at %s", rp);
		else
			check_unsure(out, rp, DNS_T_MX, mx.result);
		goto done;
	}
	if (mx.result == DNS_R_DATA) {
		for (i = 0; i < mx.n; i++)
			ours |= names_this_host(spec, mx.rr[i]);
		if (!ours) {
			check_set(out, DNS_ST_INVALID,
				  "No MX record of %s names this host (mx_hostnames), "
				  "so bounces do not reach posthook",
				  rp);
			goto done;
		}
	} else {
		/* No MX: mail goes to the name's own address (RFC 5321 5.1). */
		rc = host_resolves(src, rp, &r, &t);
		if (rc < 0) {
			check_unsure(out, rp, t, r);
			goto done;
		}
		if (rc == 0) {
			check_set(out, DNS_ST_MISSING,
				  "There is no return path record at %s", rp);
			goto done;
		}
		if (!names_this_host(spec, rp)) {
			check_set(out, DNS_ST_INVALID,
				  "%s has no MX record naming this host (mx_hostnames)",
				  rp);
			goto done;
		}
	}
	check_spf_for(src, rp, rp, spec->sending_ips, out);
done:
	dns_answer_clear(&mx);
}

/*
 * org_domain - the last two labels of a name: the organisational domain
 * as DMARC's relaxed alignment compares it, without the Public Suffix
 * List (so "example.co.uk" compares as "co.uk": alignment there is only
 * reported, never decides an event).
 */
static const char *
org_domain(const char *name)
{
	const char *p = name + strlen(name);
	int dots = 0;

	while (p > name) {
		if (p[-1] == '.' && ++dots == 2)
			return (p);
		p--;
	}
	return (name);
}

/* aligned - whether a name aligns with the domain, strictly or relaxed */
static int
aligned(const char *domain, const char *name, int strict)
{
	if (strict)
		return (strcasecmp(domain, name) == 0);
	return (strcasecmp(org_domain(domain), org_domain(name)) == 0);
}

/* check_dmarc - _dmarc exists and parses; its policy; alignment */
void
check_dmarc(const struct dns_source *src, const struct dns_domain_spec *spec,
	    const struct dns_check *done, struct dns_dmarc_info *info,
	    struct dns_check *out)
{
	struct dns_answer txt = { 0 };
	struct dmarc_record rec;
	char *name = xasprintf("_dmarc.%s", spec->domain);
	const char *found = NULL;
	char err[200];
	size_t i, n = 0;

	memset(info, 0, sizeof(*info));
	(void) dns_lookup(src, name, DNS_T_TXT, &txt);
	if (dns_result_unsure(txt.result)) {
		check_unsure(out, name, DNS_T_TXT, txt.result);
		goto done;
	}
	for (i = 0; txt.result == DNS_R_DATA && i < txt.n; i++) {
		if (dmarc_record_like(txt.rr[i])) {
			found = txt.rr[i];
			n++;
		}
	}
	if (n == 0) {
		check_set(out, DNS_ST_MISSING, "There is no DMARC record at %s", name);
		goto done;
	}
	if (n > 1) {
		check_set(out, DNS_ST_INVALID,
			  "There are %zu DMARC records at %s; there must be one", n,
			  name);
		goto done;
	}
	if (dmarc_record_parse(found, &rec, err, sizeof(err)) < 0) {
		check_set(out, DNS_ST_INVALID, "The DMARC record at %s is invalid: %s",
			  name, err);
		goto done;
	}
	snprintf(info->policy, sizeof(info->policy), "%s", rec.policy);
	/* SPF aligns through the return path: the envelope sender's domain. */
	if (spec->return_path != NULL && *spec->return_path)
		info->spf_aligned =
		    done[DNS_CHECK_RETURN_PATH].status == DNS_ST_OK
		    && aligned(spec->domain, spec->return_path, rec.strict_spf);
	else
		info->spf_aligned = done[DNS_CHECK_SPF].status == DNS_ST_OK;
	/* posthook's DKIM signer signs as the domain itself (d=domain). */
	info->dkim_aligned =
	    spec->selectors[0] != NULL && done[DNS_CHECK_DKIM].status == DNS_ST_OK;
	if (!info->spf_aligned && !info->dkim_aligned)
		check_set(out, DNS_ST_INVALID,
			  "Neither SPF (through the return path) nor DKIM aligns "
			  "with %s, so DMARC fails",
			  spec->domain);
	else
		check_set(out, DNS_ST_OK, NULL);
done:
	dns_answer_clear(&txt);
	free(name);
}

/* reverse_name - the PTR name of an address; -1 if it is none */
static int
reverse_name(const char *ip, char *out, size_t outlen)
{
	unsigned char a[16];
	size_t used = 0;
	int i;

	if (inet_pton(AF_INET, ip, a) == 1) {
		snprintf(out, outlen, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
		return (0);
	}
	if (inet_pton(AF_INET6, ip, a) != 1 || outlen < 73)
		return (-1);
	for (i = 15; i >= 0; i--)
		used += (size_t) snprintf(out + used, outlen - used, "%x.%x.", a[i] & 0xf,
					  a[i] >> 4);
	snprintf(out + used, outlen - used, "ip6.arpa");
	return (0);
}

/* confirms - whether name has ip among its addresses; -1 unsure */
static int
confirms(const struct dns_source *src, const char *name, const char *ip)
{
	struct dns_answer a = { 0 };
	size_t i;
	int found = 0;

	(void) dns_lookup(src, name, strchr(ip, ':') ? DNS_T_AAAA : DNS_T_A, &a);
	if (dns_result_unsure(a.result)) {
		dns_answer_clear(&a);
		return (-1);
	}
	for (i = 0; a.result == DNS_R_DATA && i < a.n; i++)
		found |= strcmp(a.rr[i], ip) == 0;
	dns_answer_clear(&a);
	return (found);
}

/* check_fcrdns - each sending address's PTR name resolves back to it */
void
check_fcrdns(const struct dns_source *src, const struct dns_domain_spec *spec,
	     struct dns_check *out)
{
	const char *const *ip;
	struct dns_answer ptr = { 0 };
	char rev[80];
	size_t i;
	int ok, rc;

	for (ip = spec->sending_ips; ip != NULL && *ip != NULL; ip++) {
		if (reverse_name(*ip, rev, sizeof(rev)) < 0)
			continue;
		(void) dns_lookup(src, rev, DNS_T_PTR, &ptr);
		if (dns_result_unsure(ptr.result)) {
			check_unsure(out, rev, DNS_T_PTR, ptr.result);
			goto done;
		}
		if (ptr.result != DNS_R_DATA) {
			check_set(out, DNS_ST_MISSING, "There is no PTR record for %s",
				  *ip);
			goto done;
		}
		for (ok = 0, i = 0; i < ptr.n && !ok; i++) {
			if ((rc = confirms(src, ptr.rr[i], *ip)) < 0) {
				check_unsure(out, ptr.rr[i], DNS_T_A, DNS_R_SERVFAIL);
				goto done;
			}
			ok = rc;
		}
		if (!ok) {
			check_set(out, DNS_ST_INVALID,
				  "The PTR name of %s (%s) does not resolve back to it",
				  *ip, ptr.rr[0]);
			goto done;
		}
		dns_answer_clear(&ptr);
	}
	check_set(out, DNS_ST_OK, NULL);
done:
	dns_answer_clear(&ptr);
}
