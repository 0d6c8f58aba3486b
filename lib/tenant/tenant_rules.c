/*
 * tenant_rules.c - the tenant rules' values and the matcher that picks the
 * tenant of a message from them (see tenant_rules.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tenant/tenant_rules.h"
#include "util/cidr.h"
#include "util/log.h"
#include "util/util.h"

#define RULE_VALUE_MAX 255
#define DOMAIN_MAX 253

struct rule {
	char *value; /* normalised */
	char *tenant;
};

struct tenant_matcher {
	struct rule *rules[TENANT_RULE_KINDS];
	size_t count[TENANT_RULE_KINDS];
	size_t cap[TENANT_RULE_KINDS];
	struct cidr_list *clients; /* parses rules[TENANT_RULE_CLIENT], in order */
};

static const char *const kind_names[TENANT_RULE_KINDS] = {
	[TENANT_RULE_SASL] = "saslUsers",
	[TENANT_RULE_CLIENT] = "clients",
	[TENANT_RULE_DAEMON] = "daemonNames",
	[TENANT_RULE_SENDER_DOMAIN] = "senderDomains",
};

/* What a kind is called in an error message. */
static const char *const kind_words[TENANT_RULE_KINDS] = {
	[TENANT_RULE_SASL] = "SASL username",
	[TENANT_RULE_CLIENT] = "client network",
	[TENANT_RULE_DAEMON] = "daemon name",
	[TENANT_RULE_SENDER_DOMAIN] = "sender domain",
};

/* tenant_rule_kind_name - see tenant_rules.h. */
const char *
tenant_rule_kind_name(enum tenant_rule_kind kind)
{
	return (kind < TENANT_RULE_KINDS ? kind_names[kind] : "?");
}

/* check_word - a non-empty value without spaces or control characters. */
static int
check_word(enum tenant_rule_kind kind, const char *value, char *err, size_t errlen)
{
	const unsigned char *p;

	if (*value == 0 || strlen(value) > RULE_VALUE_MAX) {
		snprintf(err, errlen, "a %s must have 1 to %d bytes", kind_words[kind],
			 RULE_VALUE_MAX);
		return (-1);
	}
	for (p = (const unsigned char *) value; *p; p++) {
		if (*p <= 0x20 || *p == 0x7f) {
			snprintf(err, errlen,
				 "a %s must not contain a space or control character",
				 kind_words[kind]);
			return (-1);
		}
	}
	return (0);
}

/* domain_normalize - a DNS name in lower case, without '@' or final dot. */
static int
domain_normalize(const char *value, char *out, size_t outlen, char *err, size_t errlen)
{
	size_t len, i, label = 0;

	if (*value == '@')
		value++;
	len = strlen(value);
	if (len > 0 && value[len - 1] == '.')
		len--;
	if (len == 0 || len > DOMAIN_MAX || len >= outlen) {
		snprintf(err, errlen, "a sender domain must have 1 to %d characters",
			 DOMAIN_MAX);
		return (-1);
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char) value[i];

		if (c == '.') {
			if (label == 0)
				break;
			label = 0;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if (++label > 63)
				break;
		} else {
			break;
		}
		out[i] = (char) tolower(c);
	}
	if (i < len || label == 0) {
		snprintf(err, errlen, "\"%.80s\" is not a domain name", value);
		return (-1);
	}
	out[len] = 0;
	return (0);
}

/* tenant_rule_normalize - see tenant_rules.h. */
int
tenant_rule_normalize(enum tenant_rule_kind kind, const char *value, char *out,
		      size_t outlen, char *err, size_t errlen)
{
	if (value == NULL)
		value = "";
	switch (kind) {
	case TENANT_RULE_CLIENT:
		if (cidr_canonical(value, out, outlen) != 0) {
			snprintf(err, errlen,
				 "\"%.80s\" is not an address or network "
				 "(such as 192.0.2.0/24 or 2001:db8::/32)",
				 value);
			return (-1);
		}
		return (0);
	case TENANT_RULE_SENDER_DOMAIN:
		return (domain_normalize(value, out, outlen, err, errlen));
	case TENANT_RULE_SASL:
	case TENANT_RULE_DAEMON:
		if (check_word(kind, value, err, errlen) != 0)
			return (-1);
		if (strlen(value) >= outlen) {
			snprintf(err, errlen, "a %s is too long", kind_words[kind]);
			return (-1);
		}
		strcpy(out, value);
		return (0);
	default:
		snprintf(err, errlen, "unknown kind of tenant rule");
		return (-1);
	}
}

/* tenant_matcher_new - a matcher with no rules. */
struct tenant_matcher *
tenant_matcher_new(void)
{
	struct tenant_matcher *m = xcalloc(1, sizeof(*m));

	m->clients = cidr_list_new(NULL, NULL, 0);
	if (m->clients == NULL)
		log_fatal("out of memory allocating a client network list");
	return (m);
}

/* tenant_matcher_free - free m and every rule. */
void
tenant_matcher_free(struct tenant_matcher *m)
{
	size_t i;
	int k;

	if (m == NULL)
		return;
	for (k = 0; k < TENANT_RULE_KINDS; k++) {
		for (i = 0; i < m->count[k]; i++) {
			free(m->rules[k][i].value);
			free(m->rules[k][i].tenant);
		}
		free(m->rules[k]);
	}
	cidr_list_free(m->clients);
	free(m);
}

/* find_exact - the rule of this kind with this normalised value, or NULL. */
static const struct rule *
find_exact(const struct tenant_matcher *m, enum tenant_rule_kind kind, const char *value)
{
	size_t i;

	for (i = 0; i < m->count[kind]; i++)
		if (strcmp(m->rules[kind][i].value, value) == 0)
			return (&m->rules[kind][i]);
	return (NULL);
}

/* tenant_matcher_add - see tenant_rules.h. */
int
tenant_matcher_add(struct tenant_matcher *m, const char *tenant,
		   enum tenant_rule_kind kind, const char *value, char *err,
		   size_t errlen)
{
	char norm[RULE_VALUE_MAX + 1];
	const struct rule *old;
	struct rule *r;

	if (kind >= TENANT_RULE_KINDS) {
		snprintf(err, errlen, "unknown kind of tenant rule");
		return (-1);
	}
	if (tenant_rule_normalize(kind, value, norm, sizeof(norm), err, errlen) != 0)
		return (-1);
	if ((old = find_exact(m, kind, norm)) != NULL) {
		if (strcmp(old->tenant, tenant) == 0)
			return (0);
		snprintf(err, errlen, "the %s %s belongs to tenant %s already",
			 kind_words[kind], norm, old->tenant);
		return (-1);
	}
	if (kind == TENANT_RULE_CLIENT && cidr_list_add(m->clients, norm) != 0) {
		snprintf(err, errlen, "cannot add client network %s", norm);
		return (-1);
	}
	if (m->count[kind] == m->cap[kind]) {
		m->cap[kind] = m->cap[kind] ? 2 * m->cap[kind] : 8;
		m->rules[kind] =
		    xrealloc(m->rules[kind], m->cap[kind] * sizeof(struct rule));
	}
	r = &m->rules[kind][m->count[kind]++];
	r->value = xstrdup(norm);
	r->tenant = xstrdup(tenant);
	return (0);
}

/* tenant_matcher_rules - see tenant_rules.h. */
size_t
tenant_matcher_rules(const struct tenant_matcher *m)
{
	size_t n = 0;
	int k;

	for (k = 0; k < TENANT_RULE_KINDS; k++)
		n += m->count[k];
	return (n);
}

/* tenant_matcher_claims - see tenant_rules.h. */
size_t
tenant_matcher_claims(const struct tenant_matcher *m, enum tenant_rule_kind kind)
{
	return (m != NULL && kind < TENANT_RULE_KINDS ? m->count[kind] : 0);
}

/* sender_domain - the domain of an envelope sender, lower case; 0 or -1. */
static int
sender_domain(const char *sender, char *out, size_t outlen)
{
	const char *at = strrchr(sender, '@');
	size_t len, i;

	if (at == NULL)
		return (-1);
	at++;
	len = strcspn(at, ">");
	while (len > 0 && at[len - 1] == '.')
		len--;
	if (len == 0 || len >= outlen)
		return (-1);
	for (i = 0; i < len; i++)
		out[i] = (char) tolower((unsigned char) at[i]);
	out[len] = 0;
	return (0);
}

/* match_domain - the domain's rule, else its nearest parent's, or NULL. */
static const struct rule *
match_domain(const struct tenant_matcher *m, const char *sender)
{
	char dom[DOMAIN_MAX + 2];
	const struct rule *r;
	const char *d;

	if (m->count[TENANT_RULE_SENDER_DOMAIN] == 0
	    || sender_domain(sender, dom, sizeof(dom)) != 0)
		return (NULL);
	for (d = dom; d != NULL; d = strchr(d, '.'), d = d ? d + 1 : NULL)
		if ((r = find_exact(m, TENANT_RULE_SENDER_DOMAIN, d)) != NULL)
			return (r);
	return (NULL);
}

/* tenant_match - see tenant_rules.h. */
const char *
tenant_match(const struct tenant_matcher *m, const struct tenant_facts *f)
{
	const struct rule *r = NULL;
	int best;

	if (m == NULL)
		return (TENANT_DEFAULT);
	if (f->sasl_username != NULL && *f->sasl_username)
		r = find_exact(m, TENANT_RULE_SASL, f->sasl_username);
	if (r == NULL && f->client_addr != NULL && m->count[TENANT_RULE_CLIENT] > 0
	    && (best = cidr_list_best_text(m->clients, f->client_addr)) >= 0)
		r = &m->rules[TENANT_RULE_CLIENT][best];
	if (r == NULL && f->daemon_name != NULL && *f->daemon_name)
		r = find_exact(m, TENANT_RULE_DAEMON, f->daemon_name);
	if (r == NULL && f->sender != NULL)
		r = match_domain(m, f->sender);
	return (r != NULL ? r->tenant : TENANT_DEFAULT);
}
