/*
 * tenant_rules.h - which tenant a message belongs to: the rules tenants
 * claim (SASL usernames, client networks, milter_macro_daemon_name values,
 * envelope sender domains) and a pure matcher over them.
 *
 * The most specific rule decides: a SASL username, then the client address
 * (the longest network holding it), then the daemon name, then the sender
 * domain (the domain itself, then each parent domain).  Mail no rule
 * matches belongs to TENANT_DEFAULT.  One value of one kind belongs to at
 * most one tenant: the matcher refuses a second claim.  No I/O, no clock.
 */
#ifndef PH_TENANT_RULES_H
#define PH_TENANT_RULES_H

#include <stddef.h>
#include "store/tenant_name.h"

/* The kinds of rule, most specific first: the order the matcher asks. */
enum tenant_rule_kind {
	TENANT_RULE_SASL,	   /* SASL username, exact */
	TENANT_RULE_CLIENT,	   /* client network (CIDR) */
	TENANT_RULE_DAEMON,	   /* milter_macro_daemon_name, exact */
	TENANT_RULE_SENDER_DOMAIN, /* sender domain and its subdomains */
	TENANT_RULE_KINDS
};

/* tenant_rule_kind_name - the JSON member of a kind: "saslUsers", ... */
const char *tenant_rule_kind_name(enum tenant_rule_kind kind);

/*
 * tenant_rule_normalize - a value as it is kept and compared: a client
 * network as "network/bits", a sender domain in lower case without a
 * leading '@' or trailing dot; other kinds as given.  0, or -1 and the
 * reason in err when the value is not valid for its kind.
 */
int tenant_rule_normalize(enum tenant_rule_kind kind, const char *value, char *out,
			  size_t outlen, char *err, size_t errlen);

/* What is known of one message; any field may be NULL. */
struct tenant_facts {
	const char *sasl_username;
	const char *client_addr; /* textual IPv4 or IPv6 address */
	const char *daemon_name;
	const char *sender; /* envelope sender, with or without <> */
};

struct tenant_matcher;

struct tenant_matcher *tenant_matcher_new(void);
void tenant_matcher_free(struct tenant_matcher *m);

/*
 * tenant_matcher_add - tenant claims value (normalised first).  0, or -1
 * with err saying why: a bad value, or one another tenant claims already
 * (err names it).  The same tenant claiming a value twice is no error.
 */
int tenant_matcher_add(struct tenant_matcher *m, const char *tenant,
		       enum tenant_rule_kind kind, const char *value, char *err,
		       size_t errlen);

/* tenant_matcher_rules - how many values are claimed. */
size_t tenant_matcher_rules(const struct tenant_matcher *m);

/* tenant_matcher_claims - how many values of one kind are claimed (m may be NULL). */
size_t tenant_matcher_claims(const struct tenant_matcher *m, enum tenant_rule_kind kind);

/*
 * tenant_match - the tenant of a message, borrowed from the matcher (valid
 * until it is freed), or TENANT_DEFAULT; m may be NULL (no rules).
 */
const char *tenant_match(const struct tenant_matcher *m, const struct tenant_facts *f);

#endif
