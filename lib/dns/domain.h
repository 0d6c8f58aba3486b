/*
 * domain.h - the sending domains whose DNS is watched: one record per
 * tenant and domain in the store (STORE_DOMAINS), holding what is checked
 * (selectors and keys, send-only, the return path) and what the last
 * check found, which decides the next event (dns_event.h).
 */
#ifndef PH_DNS_DOMAIN_H
#define PH_DNS_DOMAIN_H

#include <json-c/json.h>

#include "dns/check.h"
#include "store/store.h"

struct domain_record {
	char *tenant; /* NULL: TENANT_DEFAULT (store/tenant_name.h) */
	char *domain; /* lowercase, no final dot */
	char uuid[37];
	double created;
	char *selectors[DNS_MAX_SELECTORS];
	char *keys[DNS_MAX_SELECTORS]; /* p= of each, base64 */
	int send_only;		       /* a null MX is right */
	char *return_path;	       /* NULL: return_path_domain */

	/* what the last check found */
	double checked_at; /* 0: never checked */
	struct dns_check checks[DNS_CHECK_COUNT];
	struct dns_dmarc_info dmarc;
	int broken; /* a core check was not OK */

	/* what the last run with events reported: the next event's base */
	int reported; /* 0: no run with events yet */
	int reported_broken;
	char *reported_errors; /* domain_record_errors() then */
	double error_event_at; /* the last DomainDNSError, or 0 */
};

struct domain_record *domain_record_new(const char *tenant, const char *domain);
void domain_record_free(struct domain_record *r);

/* domain_record_broken - whether a core check (check.h) is not OK. */
int domain_record_broken(const struct domain_record *r);

/*
 * domain_record_errors - the core checks' statuses and errors as one text,
 * compared between runs to see whether the errors changed.
 */
char *domain_record_errors(const struct domain_record *r);

/*
 * domain_name_normal - domain lowercased without a final dot, or NULL
 * when it is no host name (labels of letters, digits, "-", "_").
 */
char *domain_name_normal(const char *domain);

json_object *domain_record_to_json(const struct domain_record *r);
/* domain_record_from_json - NULL if obj is not a domain record. */
struct domain_record *domain_record_from_json(json_object *obj);

/* domain_get - STORE_OK, STORE_NOTFOUND or an error. */
int domain_get(struct store_txn *txn, const char *tenant, const char *domain,
	       struct domain_record **out);
/* domain_exists - STORE_OK or STORE_NOTFOUND without parsing the record
 * (the milter's domains_learn, once per message). */
int domain_exists(struct store_txn *txn, const char *tenant, const char *domain);
int domain_put(struct store_txn *txn, const struct domain_record *r);
/* domain_add - domain_put() unless it exists (STORE_EXISTS). */
int domain_add(struct store_txn *txn, const struct domain_record *r);
int domain_del(struct store_txn *txn, const char *tenant, const char *domain);

/*
 * domain_list - every record (of tenant, or of all tenants when tenant is
 * NULL), by tenant and name, into a NULL-terminated array the caller frees
 * with domain_records_free().
 */
int domain_list(struct store_txn *txn, const char *tenant, struct domain_record ***out,
		size_t *n);
void domain_records_free(struct domain_record **recs);

/* domain_server_uuid - this site's uuid, made and kept on first use. */
int domain_server_uuid(struct store_txn *txn, char out[37]);

#endif
