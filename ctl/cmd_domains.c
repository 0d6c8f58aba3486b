/*
 * cmd_domains.c - posthookctl domains: the sending domains whose DNS is
 * checked, and the check itself.
 *
 *	domains add DOMAIN [--dkim-selector S --dkim-public-key FILE]...
 *	            [--send-only] [--return-path NAME] [--tenant T]
 *	domains list [--tenant T]
 *	domains show DOMAIN [--tenant T]
 *	domains remove DOMAIN [--tenant T]
 *	domains check [DOMAIN | --all] [--events] [--tenant T]
 *
 * add on a known domain replaces its settings and keeps its state.  check
 * prints each check's status and error, and exits 0 only when every
 * checked domain's SPF, DKIM, MX and return path are OK; with --events
 * (the hourly timer) it also queues DomainDNSError and DomainDNSOK.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "dns/dnscheck.h"
#include "dns/records.h"
#include "store/tenant_name.h"
#include "util/util.h"

/* The usage, also for "posthookctl domains --help" (commands.c). */
const char cmd_domains_usage[] =
    "usage: posthookctl domains add DOMAIN [--dkim-selector S --dkim-public-key FILE]...\n"
    "                               [--send-only] [--return-path NAME] [--tenant T]\n"
    "       posthookctl domains list [--tenant T]\n"
    "       posthookctl domains show DOMAIN [--tenant T]\n"
    "       posthookctl domains remove DOMAIN [--tenant T]\n"
    "       posthookctl domains check [DOMAIN | --all] [--events] [--tenant T]";

#define KEY_FILE_MAX 65536

/* What the options said. */
struct dopts {
	const char *tenant;
	const char *selectors[DNS_MAX_SELECTORS];
	const char *key_files[DNS_MAX_SELECTORS];
	int nsel, nkeys;
	int send_only;
	const char *return_path;
	int all;
	int events;
	const char *domain;
};

/* parse_opts - the options after the verb; 0, or the usage status */
static int
parse_opts(int argc, char **argv, struct dopts *o)
{
	static const struct option opts[] = {
		{ "tenant", required_argument, NULL, 't' },
		{ "dkim-selector", required_argument, NULL, 's' },
		{ "dkim-public-key", required_argument, NULL, 'k' },
		{ "send-only", no_argument, NULL, 'n' },
		{ "return-path", required_argument, NULL, 'r' },
		{ "all", no_argument, NULL, 'a' },
		{ "events", no_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			o->tenant = optarg;
			break;
		case 's':
			if (o->nsel == DNS_MAX_SELECTORS)
				return (ctl_usage_error("at most %d DKIM selectors",
							DNS_MAX_SELECTORS));
			o->selectors[o->nsel++] = optarg;
			break;
		case 'k':
			if (o->nkeys == DNS_MAX_SELECTORS)
				return (ctl_usage_error("at most %d DKIM keys",
							DNS_MAX_SELECTORS));
			o->key_files[o->nkeys++] = optarg;
			break;
		case 'n':
			o->send_only = 1;
			break;
		case 'r':
			o->return_path = optarg;
			break;
		case 'a':
			o->all = 1;
			break;
		case 'e':
			o->events = 1;
			break;
		default:
			return (ctl_usage_error("%s", cmd_domains_usage));
		}
	}
	if (optind < argc)
		o->domain = argv[optind++];
	if (optind != argc)
		return (ctl_usage_error("%s", cmd_domains_usage));
	if (o->tenant != NULL && strcmp(o->tenant, TENANT_DEFAULT) == 0)
		o->tenant = NULL;
	return (0);
}

/* read_key_file - a key file's text; NULL after a message */
static char *
read_key_file(const char *path)
{
	FILE *fp = fopen(path, "r");
	struct buf b;
	char chunk[4096];
	size_t n;

	if (fp == NULL) {
		ctl_error("%s: %m", path);
		return (NULL);
	}
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0 && b.len < KEY_FILE_MAX)
		buf_append(&b, chunk, n);
	if (ferror(fp) || b.len >= KEY_FILE_MAX) {
		ctl_error("%s: %s", path, ferror(fp) ? "read error" : "too large");
		fclose(fp);
		buf_free(&b);
		return (NULL);
	}
	fclose(fp);
	buf_append(&b, "", 1);
	return (buf_take(&b));
}

/* selector_valid - labels of letters, digits, "-" and "_" (RFC 6376 3.1) */
static int
selector_valid(const char *s)
{
	size_t label = 0;

	for (; *s; s++) {
		if (*s == '.') {
			if (label == 0)
				return (0);
			label = 0;
		} else if ((isalnum((unsigned char) *s) || *s == '-' || *s == '_')
			   && ++label <= 63) {
			continue;
		} else {
			return (0);
		}
	}
	return (label > 0);
}

/* set_keys - the record's selectors and keys from the options */
static int
set_keys(const struct dopts *o, struct domain_record *r)
{
	struct dkim_record rec;
	char err[200], *text, *sel;
	int i;

	if (o->nsel != o->nkeys && o->nsel > 0)
		return (
		    ctl_usage_error("give one --dkim-public-key per --dkim-selector"));
	for (i = 0; i < o->nkeys; i++) {
		if ((text = read_key_file(o->key_files[i])) == NULL)
			return (1);
		if (dkim_keyfile_parse(text, &sel, &rec, err, sizeof(err)) < 0) {
			free(text);
			return (ctl_error("%s: not a DKIM public key: %s",
					  o->key_files[i], err));
		}
		free(text);
		if (o->selectors[i] == NULL && sel == NULL) {
			dkim_record_clear(&rec);
			return (ctl_error("%s names no selector: give --dkim-selector",
					  o->key_files[i]));
		}
		if (!selector_valid(o->selectors[i] ? o->selectors[i] : sel)) {
			dkim_record_clear(&rec);
			free(sel);
			return (ctl_usage_error("bad DKIM selector \"%s\"",
						o->selectors[i] ? o->selectors[i] : sel));
		}
		free(r->selectors[i]);
		free(r->keys[i]);
		r->selectors[i] = xstrdup(o->selectors[i] ? o->selectors[i] : sel);
		r->keys[i] = rec.p;
		free(sel);
	}
	for (; i < DNS_MAX_SELECTORS; i++) {
		free(r->selectors[i]);
		free(r->keys[i]);
		r->selectors[i] = r->keys[i] = NULL;
	}
	return (0);
}

/* One store step of add, show and remove. */
struct one {
	const char *tenant;
	const char *domain;
	struct domain_record *set; /* add: the new settings */
	struct domain_record *got; /* show, add: the stored record */
	int added;
};

/* add_txn - store new settings, keeping the state of a known domain */
static int
add_txn(struct store_txn *txn, void *arg)
{
	struct one *a = arg;
	struct domain_record *cur;
	int rc, i;

	a->added = 0;
	rc = domain_get(txn, a->tenant, a->domain, &cur);
	if (rc == STORE_NOTFOUND) {
		a->added = 1;
		return (domain_put(txn, a->set));
	}
	if (rc != STORE_OK)
		return (rc);
	for (i = 0; i < DNS_MAX_SELECTORS; i++) {
		free(cur->selectors[i]);
		free(cur->keys[i]);
		cur->selectors[i] =
		    a->set->selectors[i] ? xstrdup(a->set->selectors[i]) : NULL;
		cur->keys[i] = a->set->keys[i] ? xstrdup(a->set->keys[i]) : NULL;
	}
	cur->send_only = a->set->send_only;
	free(cur->return_path);
	cur->return_path = a->set->return_path ? xstrdup(a->set->return_path) : NULL;
	rc = domain_put(txn, cur);
	domain_record_free(cur);
	return (rc);
}

/* domains_add - add or update one domain */
static int
domains_add(struct ctl *ctl, const struct dopts *o, const char *domain)
{
	struct one a;
	int rc;

	memset(&a, 0, sizeof(a));
	a.tenant = o->tenant;
	a.domain = domain;
	a.set = domain_record_new(o->tenant, domain);
	event_uuid_new(a.set->uuid);
	a.set->created = now_seconds();
	a.set->send_only = o->send_only;
	if (o->return_path != NULL && *o->return_path
	    && (a.set->return_path = domain_name_normal(o->return_path)) == NULL) {
		domain_record_free(a.set);
		return (ctl_usage_error("bad return path \"%s\"", o->return_path));
	}
	if ((rc = set_keys(o, a.set)) != 0) {
		domain_record_free(a.set);
		return (rc);
	}
	rc = store_run(ctl_store(ctl), add_txn, &a, 0);
	domain_record_free(a.set);
	if (rc != STORE_OK)
		return (ctl_error("cannot store %s (store status %d)", domain, rc));
	printf("%s %s\n", a.added ? "added" : "updated", domain);
	return (0);
}

/* get_txn - one record */
static int
get_txn(struct store_txn *txn, void *arg)
{
	struct one *a = arg;

	domain_record_free(a->got);
	a->got = NULL;
	return (domain_get(txn, a->tenant, a->domain, &a->got));
}

/* del_txn - forget one record */
static int
del_txn(struct store_txn *txn, void *arg)
{
	struct one *a = arg;

	return (domain_del(txn, a->tenant, a->domain));
}

/* domains_show_remove - show or remove one domain */
static int
domains_show_remove(struct ctl *ctl, const struct dopts *o, const char *domain,
		    int remove)
{
	struct one a;
	json_object *j;
	int rc;

	memset(&a, 0, sizeof(a));
	a.tenant = o->tenant;
	a.domain = domain;
	rc = store_run(ctl_store(ctl), remove ? del_txn : get_txn, &a, 0);
	if (rc == STORE_NOTFOUND)
		return (ctl_error("no domain %s", domain));
	if (rc != STORE_OK)
		return (ctl_error("cannot read %s (store status %d)", domain, rc));
	if (remove) {
		printf("removed %s\n", domain);
		return (0);
	}
	j = domain_record_to_json(a.got);
	ctl_print_json(ctl, j);
	json_object_put(j);
	domain_record_free(a.got);
	return (0);
}

/* One store step of list and check. */
struct many {
	const char *tenant;
	struct domain_record **recs;
	size_t n;
};

/* list_txn - the tenant's domains, or every tenant's */
static int
list_txn(struct store_txn *txn, void *arg)
{
	struct many *m = arg;

	domain_records_free(m->recs);
	m->recs = NULL;
	return (domain_list(txn, m->tenant, &m->recs, &m->n));
}

/* status_cell - "OK", "Missing", ... with "?" when not checked now */
static void
status_cell(const struct dns_check *c, char *out, size_t len)
{
	snprintf(out, len, "%s%s", dns_status_name(c->status), c->unsure ? "?" : "");
}

/* domains_list - a table of the domains and their last statuses */
static int
domains_list(struct ctl *ctl, const struct dopts *o)
{
	static const char *const headers[] = { "DOMAIN", "TENANT",	"SPF",	  "DKIM",
					       "MX",	 "RETURN_PATH", "CHECKED" };
	struct many m = { o->tenant, NULL, 0 };
	struct table *t;
	char cells[4][16], when[64];
	const char *row[7];
	json_object *j;
	size_t i;
	int k, rc;

	if ((rc = store_run(ctl_store(ctl), list_txn, &m, 0)) != STORE_OK)
		return (ctl_error("cannot list the domains (store status %d)", rc));
	t = table_new(7, headers);
	for (i = 0; i < m.n; i++) {
		const struct domain_record *r = m.recs[i];

		if (ctl->json) {
			j = domain_record_to_json(r);
			ctl_print_json_line(j);
			json_object_put(j);
			continue;
		}
		row[0] = r->domain;
		row[1] = tenant_of(r->tenant);
		for (k = 0; k < 4; k++) {
			status_cell(&r->checks[k], cells[k], sizeof(cells[k]));
			row[2 + k] = r->checked_at > 0 ? cells[k] : NULL;
		}
		iso8601_utc(r->checked_at, when, sizeof(when));
		row[6] = r->checked_at > 0 ? when : "never";
		table_add_row(t, row);
	}
	if (!ctl->json)
		table_print(t);
	table_free(t);
	domain_records_free(m.recs);
	return (0);
}

/* print_result - one domain's checks, readable */
static void
print_result(const struct domain_record *r, enum dns_event_kind made)
{
	const struct dns_check *c;
	int k;

	printf("%s%s%s%s\n", r->domain, r->tenant ? " (tenant " : "",
	       r->tenant ? r->tenant : "", r->tenant ? ")" : "");
	for (k = 0; k < DNS_CHECK_COUNT; k++) {
		c = &r->checks[k];
		printf("  %-12s %-8s%s\n", dns_check_field((enum dns_check_kind) k),
		       dns_status_name(c->status),
		       c->status != DNS_ST_OK && c->error ? c->error : "");
		if (c->note != NULL)
			printf("  %-12s %-8s(%s%s)\n", "", "", c->note,
			       c->unsure ? "; the last status is kept" : "");
	}
	if (r->dmarc.policy[0])
		printf("  %-12s p=%s, SPF %saligned, DKIM %saligned\n", "dmarc policy",
		       r->dmarc.policy, r->dmarc.spf_aligned ? "" : "not ",
		       r->dmarc.dkim_aligned ? "" : "not ");
	if (made != DNS_EVENT_NONE)
		printf("  event        %s queued\n",
		       event_type_name(dns_event_type(made)));
}

/* domains_check - check one domain or all; 0 only when all are OK */
static int
domains_check(struct ctl *ctl, const struct dopts *o)
{
	struct many m = { o->tenant, NULL, 0 };
	struct one a;
	enum dns_event_kind *made;
	char err[300];
	json_object *j;
	size_t i;
	int rc, bad = 0, k;

	if ((o->domain == NULL) == !o->all)
		return (ctl_usage_error("check: name a DOMAIN or give --all"));
	if (o->all) {
		if ((rc = store_run(ctl_store(ctl), list_txn, &m, 0)) != STORE_OK)
			return (
			    ctl_error("cannot list the domains (store status %d)", rc));
	} else {
		memset(&a, 0, sizeof(a));
		a.tenant = o->tenant;
		a.domain = o->domain;
		rc = store_run(ctl_store(ctl), get_txn, &a, 0);
		if (rc == STORE_NOTFOUND)
			return (ctl_error("no domain %s (add it first)", o->domain));
		if (rc != STORE_OK)
			return (
			    ctl_error("cannot read %s (store status %d)", o->domain, rc));
		m.recs = xcalloc(2, sizeof(*m.recs));
		m.recs[0] = a.got;
		m.n = 1;
	}
	made = xcalloc(m.n + 1, sizeof(*made));
	if (dnscheck_run(ctl_store(ctl), ctl_config(ctl), m.recs, m.n, o->events, made,
			 err, sizeof(err))
	    < 0) {
		free(made);
		domain_records_free(m.recs);
		return (ctl_error("check: %s", err));
	}
	for (i = 0; i < m.n; i++) {
		const struct domain_record *r = m.recs[i];

		bad |= r->broken;
		for (k = 0; k < DNS_CHECK_CORE; k++)
			bad |= r->checks[k].unsure;
		if (ctl->json) {
			j = domain_record_to_json(r);
			if (made[i] != DNS_EVENT_NONE)
				json_object_object_add(
				    j, "event",
				    json_object_new_string(
					event_type_name(dns_event_type(made[i]))));
			ctl_print_json_line(j);
			json_object_put(j);
		} else {
			print_result(r, made[i]);
		}
	}
	free(made);
	domain_records_free(m.recs);
	return (bad ? 1 : 0);
}

/* cmd_domains - posthookctl domains VERB ... */
int
cmd_domains(struct ctl *ctl, int argc, char **argv)
{
	struct dopts o;
	const char *verb;
	char *domain;
	int rc;

	if (argc < 2)
		return (ctl_usage_error("%s", cmd_domains_usage));
	verb = argv[1];
	if ((rc = parse_opts(argc - 1, argv + 1, &o)) != 0)
		return (rc);
	if (strcmp(verb, "list") == 0)
		return (o.domain ? ctl_usage_error("%s", cmd_domains_usage)
				 : domains_list(ctl, &o));
	if (strcmp(verb, "check") == 0 && o.domain == NULL)
		return (domains_check(ctl, &o));
	if (strcmp(verb, "add") != 0 && strcmp(verb, "show") != 0
	    && strcmp(verb, "remove") != 0 && strcmp(verb, "check") != 0)
		return (ctl_usage_error("%s", cmd_domains_usage));
	if (o.domain == NULL)
		return (ctl_usage_error("%s", cmd_domains_usage));
	if ((domain = domain_name_normal(o.domain)) == NULL)
		return (ctl_usage_error("bad domain \"%s\"", o.domain));
	o.domain = domain;
	if (strcmp(verb, "add") == 0)
		rc = domains_add(ctl, &o, domain);
	else if (strcmp(verb, "check") == 0)
		rc = domains_check(ctl, &o);
	else
		rc = domains_show_remove(ctl, &o, domain, strcmp(verb, "remove") == 0);
	free(domain);
	return (rc);
}
