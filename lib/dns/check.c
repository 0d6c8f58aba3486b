/*
 * check.c - the checks' results, and the SPF and DKIM checks (check.h);
 * MX, return path and the extras are in check_mx.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns/check_int.h"
#include "dns/records.h"
#include "dns/spf.h"
#include "util/util.h"

static const char *const status_names[] = { "OK", "Missing", "Invalid" };

/* dns_status_name - the status on the wire */
const char *
dns_status_name(enum dns_status s)
{
	return ((unsigned) s < 3 ? status_names[s] : "Invalid");
}

/* dns_status_from_name - the status a name stands for */
int
dns_status_from_name(const char *name, enum dns_status *out)
{
	int i;

	for (i = 0; i < 3; i++) {
		if (strcmp(status_names[i], name) == 0) {
			*out = (enum dns_status) i;
			return (0);
		}
	}
	return (-1);
}

/* dns_check_field - the payload's name of a check */
const char *
dns_check_field(enum dns_check_kind k)
{
	static const char *const fields[DNS_CHECK_COUNT] = {
		"spf", "dkim", "mx", "return_path", "dmarc", "fcrdns",
	};

	return ((unsigned) k < DNS_CHECK_COUNT ? fields[k] : "?");
}

/* dns_check_clear - free the texts */
void
dns_check_clear(struct dns_check *c)
{
	free(c->error);
	free(c->note);
	memset(c, 0, sizeof(*c));
}

/* check_set - a status and its error */
void
check_set(struct dns_check *c, enum dns_status s, const char *fmt, ...)
{
	va_list ap;
	char text[600];

	c->status = s;
	free(c->error);
	c->error = NULL;
	if (fmt == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	c->error = xstrdup(text);
}

/* check_unsure - not checked, and why */
void
check_unsure(struct dns_check *c, const char *name, enum dns_type type, enum dns_result r)
{
	c->unsure = 1;
	free(c->note);
	c->note = xasprintf("Could not be checked: %s lookup at %s got %s",
			    dns_type_name(type), name, dns_result_name(r));
}

/* check_cname_loop - follow CNAMEs one by one, at most 16 */
int
check_cname_loop(const struct dns_source *src, const char *name)
{
	struct dns_answer a = { 0 };
	char *seen[17];
	int n = 0, i, loop = 0;

	seen[n++] = xstrdup(name);
	while (n < 17 && !loop) {
		(void) dns_lookup(src, seen[n - 1], DNS_T_CNAME, &a);
		if (a.result != DNS_R_DATA || a.n != 1)
			break;
		for (i = 0; i < n; i++)
			if (strcasecmp(seen[i], a.rr[0]) == 0)
				loop = 1;
		seen[n++] = xstrdup(a.rr[0]);
	}
	if (n == 17)
		loop = 1; /* as long as a loop, for a resolver */
	dns_answer_clear(&a);
	for (i = 0; i < n; i++)
		free(seen[i]);
	return (loop);
}

/* where - "this domain", or "at NAME" when the check is about another */
static const char *
where(const char *here, char *buf, size_t len)
{
	if (here == NULL)
		return ("for this domain");
	snprintf(buf, len, "at %s", here);
	return (buf);
}

/* check_spf_for - see check_int.h */
void
check_spf_for(const struct dns_source *src, const char *domain, const char *here,
	      const char *const *ips, struct dns_check *out)
{
	struct dns_answer txt = { 0 };
	struct spf_eval ev;
	const char *rec;
	char wb[300];
	const char *w = where(here, wb, sizeof(wb));
	size_t n;

	(void) dns_lookup(src, domain, DNS_T_TXT, &txt);
	if (dns_result_unsure(txt.result)) {
		if (txt.result == DNS_R_SERVFAIL && check_cname_loop(src, domain))
			check_set(out, DNS_ST_INVALID, "There is a CNAME loop at %s",
				  domain);
		else
			check_unsure(out, domain, DNS_T_TXT, txt.result);
		goto done;
	}
	if (txt.result == DNS_R_BAD) {
		check_set(out, DNS_ST_INVALID, "The TXT records at %s cannot be read",
			  domain);
		goto done;
	}
	n = spf_record_count(&txt, &rec);
	if (n == 0) {
		if (here == NULL)
			check_set(out, DNS_ST_MISSING,
				  "No SPF record exists for this domain");
		else
			check_set(out, DNS_ST_MISSING, "No SPF record exists at %s",
				  here);
		goto done;
	}
	if (n > 1) {
		check_set(out, DNS_ST_INVALID,
			  "There are %zu SPF records %s; there must be one", n, w);
		goto done;
	}
	if (spf_record_allows_all(rec)) {
		check_set(out, DNS_ST_INVALID,
			  "The SPF record %s allows every address (+all)", w);
		goto done;
	}
	if (ips == NULL || *ips == NULL)
		out->note = xstrdup("Not evaluated: no sending address (sending_ips)");
	for (; ips != NULL && *ips != NULL; ips++) {
		if (spf_evaluate(src, domain, *ips, &ev) < 0) {
			out->unsure = 1;
			out->note = xstrdup("Could not be checked: libspf2 failed");
			goto done;
		}
		switch (ev.verdict) {
		case SPF_V_PASS:
			continue;
		case SPF_V_TEMPERROR:
			out->unsure = 1;
			out->note = xasprintf("Could not be checked: SPF evaluation "
					      "of %s got a DNS error%s%s",
					      *ips, ev.reason[0] ? ": " : "", ev.reason);
			goto done;
		case SPF_V_NONE:
			check_set(out, DNS_ST_MISSING, "No SPF record exists %s", w);
			goto done;
		case SPF_V_PERMERROR:
			check_set(out, DNS_ST_INVALID, "The SPF record %s is invalid%s%s",
				  w, ev.reason[0] ? ": " : "", ev.reason);
			goto done;
		case SPF_V_FAIL:
			check_set(out, DNS_ST_INVALID,
				  "The SPF record %s does not allow %s to send (%s)", w,
				  *ips, ev.result);
			goto done;
		}
	}
	check_set(out, DNS_ST_OK, NULL);
done:
	dns_answer_clear(&txt);
}

/* check_selector - one selector's key record against the configured key */
static void
check_selector(const struct dns_source *src, const char *domain, const char *selector,
	       const char *key, struct dns_check *out)
{
	struct dns_answer txt = { 0 };
	struct dkim_record rec;
	char *name = xasprintf("%s._domainkey.%s", selector, domain);
	char err[200];
	const char *found = NULL;
	size_t i, n = 0;

	(void) dns_lookup(src, name, DNS_T_TXT, &txt);
	if (dns_result_unsure(txt.result)) {
		if (txt.result == DNS_R_SERVFAIL && check_cname_loop(src, name))
			check_set(out, DNS_ST_INVALID, "There is a CNAME loop at %s",
				  name);
		else
			check_unsure(out, name, DNS_T_TXT, txt.result);
		goto done;
	}
	for (i = 0; txt.result == DNS_R_DATA && i < txt.n; i++) {
		if (dkim_record_like(txt.rr[i])) {
			found = txt.rr[i];
			n++;
		}
	}
	if (n == 0) {
		check_set(out, DNS_ST_MISSING, "There is no DKIM record at %s", name);
		goto done;
	}
	if (n > 1) {
		check_set(out, DNS_ST_INVALID,
			  "There are %zu DKIM records at %s; there must be one", n, name);
		goto done;
	}
	if (dkim_record_parse(found, &rec, err, sizeof(err)) < 0) {
		check_set(out, DNS_ST_INVALID, "The DKIM record at %s is invalid: %s",
			  name, err);
		goto done;
	}
	if (*rec.p == 0)
		check_set(out, DNS_ST_INVALID,
			  "The DKIM record at %s is revoked (empty p=)", name);
	else if (strcmp(rec.p, key) != 0)
		check_set(out, DNS_ST_INVALID,
			  "The DKIM record at %s does not match the configured "
			  "public key",
			  name);
	else
		check_set(out, DNS_ST_OK, NULL);
	dkim_record_clear(&rec);
done:
	dns_answer_clear(&txt);
	free(name);
}

/* check_dkim - every configured selector has the configured key */
static void
check_dkim(const struct dns_source *src, const struct dns_domain_spec *spec,
	   struct dns_check *out)
{
	int i;

	if (spec->selectors[0] == NULL) {
		check_set(out, DNS_ST_OK, NULL);
		out->note = xstrdup("Not checked: no DKIM selector is configured");
		return;
	}
	/* During a rotation both keys are published: both must be right. */
	for (i = 0; i < DNS_MAX_SELECTORS && spec->selectors[i] != NULL; i++) {
		check_selector(src, spec->domain, spec->selectors[i],
			       spec->keys[i] != NULL ? spec->keys[i] : "", out);
		if (out->unsure || out->status != DNS_ST_OK)
			return;
	}
}

/* dns_check_run - one check */
void
dns_check_run(const struct dns_source *src, const struct dns_domain_spec *spec,
	      enum dns_check_kind k, const struct dns_check *done,
	      struct dns_dmarc_info *dmarc, struct dns_check *out)
{
	dns_check_clear(out);
	switch (k) {
	case DNS_CHECK_SPF:
		check_spf_for(src, spec->domain, NULL, spec->sending_ips, out);
		break;
	case DNS_CHECK_DKIM:
		check_dkim(src, spec, out);
		break;
	case DNS_CHECK_MX:
		check_mx(src, spec, out);
		break;
	case DNS_CHECK_RETURN_PATH:
		check_return_path(src, spec, out);
		break;
	case DNS_CHECK_DMARC:
		check_dmarc(src, spec, done, dmarc, out);
		break;
	case DNS_CHECK_FCRDNS:
		check_fcrdns(src, spec, out);
		break;
	default:
		check_set(out, DNS_ST_INVALID, "unknown check");
		break;
	}
}
