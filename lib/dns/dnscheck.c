/*
 * dnscheck.c - a check run (dnscheck.h): worker threads take the next
 * domain, run its checks on their own resolver with dns_timeout bounding
 * each check, then the results go to the store one domain per transaction.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns/dnscheck.h"
#include "dns/resolver.h"
#include "store/outbox.h"
#include "store/tenant_name.h"
#include "util/log.h"
#include "util/util.h"

#define MAX_THREADS 64

/* What the workers share. */
struct run {
	const struct config *cfg;
	struct domain_record **recs;
	size_t n;
	size_t next; /* atomic: the next domain to take */
	char **ips;
	char **mx_hostnames;
	int failed; /* a worker had no resolver */
	char err[256];
	pthread_mutex_t lock;
};

/* list_add - append to a NULL-terminated list */
static char **
list_add(char **list, size_t *n, const char *s)
{
	list = xrealloc(list, (*n + 2) * sizeof(*list));
	list[(*n)++] = xstrdup(s);
	list[*n] = NULL;
	return (list);
}

/* dnscheck_list_free - a list of dnscheck_sending_ips() */
void
dnscheck_list_free(char **list)
{
	char **p;

	for (p = list; p != NULL && *p != NULL; p++)
		free(*p);
	free(list);
}

/* global_v4 - not loopback, private, shared, link-local or unspecified */
static int
global_v4(const struct in_addr *a)
{
	uint32_t h = ntohl(a->s_addr);

	return (!((h >> 24) == 0 || (h >> 24) == 10 || (h >> 24) == 127
		  || (h >> 16) == 0xa9fe || (h >> 20) == 0xac1 || (h >> 16) == 0xc0a8
		  || (h >> 22) == (0x64400000u >> 22)));
}

/* global_v6 - not loopback, link-local or unique local */
static int
global_v6(const struct in6_addr *a)
{
	return (!(IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_LINKLOCAL(a)
		  || IN6_IS_ADDR_UNSPECIFIED(a) || (a->s6_addr[0] & 0xfe) == 0xfc
		  || IN6_IS_ADDR_V4MAPPED(a)));
}

/* dnscheck_sending_ips - the key, or the host's global addresses */
char **
dnscheck_sending_ips(const struct config *cfg)
{
	struct ifaddrs *ifs, *i;
	char **list = NULL, text[INET6_ADDRSTRLEN];
	size_t n = 0;
	char **p;

	for (p = cfg->sending_ips; p != NULL && *p != NULL; p++)
		list = list_add(list, &n, *p);
	if (n > 0)
		return (list);
	if (getifaddrs(&ifs) == 0) {
		for (i = ifs; i != NULL; i = i->ifa_next) {
			const void *a = NULL;
			int fam = i->ifa_addr ? i->ifa_addr->sa_family : 0;

			if (fam == AF_INET
			    && global_v4(
				&((struct sockaddr_in *) (void *) i->ifa_addr)->sin_addr))
				a = &((struct sockaddr_in *) (void *) i->ifa_addr)
					 ->sin_addr;
			else if (fam == AF_INET6
				 && global_v6(
				     &((struct sockaddr_in6 *) (void *) i->ifa_addr)
					  ->sin6_addr))
				a = &((struct sockaddr_in6 *) (void *) i->ifa_addr)
					 ->sin6_addr;
			if (a != NULL && inet_ntop(fam, a, text, sizeof(text)) != NULL)
				list = list_add(list, &n, text);
		}
		freeifaddrs(ifs);
	}
	if (list == NULL)
		list = xcalloc(1, sizeof(*list));
	return (list);
}

/* dnscheck_mx_hostnames - the names an MX must give to reach this host */
char **
dnscheck_mx_hostnames(const struct config *cfg)
{
	char **list = NULL, **p, host[256];
	size_t n = 0;

	for (p = cfg->mx_hostnames; p != NULL && *p != NULL; p++)
		list = list_add(list, &n, *p);
	for (p = cfg->bounce_own_hostnames; n == 0 && p != NULL && *p != NULL; p++)
		list = list_add(list, &n, *p);
	if (n == 0 && gethostname(host, sizeof(host) - 1) == 0) {
		host[sizeof(host) - 1] = 0;
		list = list_add(list, &n, host);
	}
	if (list == NULL)
		list = xcalloc(1, sizeof(*list));
	return (list);
}

/* check_domain - every check of one domain; unsure ones keep the last */
static void
check_domain(struct run *run, struct dns_resolver *res, struct domain_record *r)
{
	struct dns_source src = dns_resolver_source(res);
	struct dns_domain_spec spec;
	struct dns_check now[DNS_CHECK_COUNT];
	struct dns_dmarc_info dmarc;
	int i;

	memset(&spec, 0, sizeof(spec));
	memset(now, 0, sizeof(now));
	spec.domain = r->domain;
	for (i = 0; i < DNS_MAX_SELECTORS; i++) {
		spec.selectors[i] = r->selectors[i];
		spec.keys[i] = r->keys[i];
	}
	spec.null_mx_ok = r->send_only;
	spec.return_path =
	    r->return_path != NULL ? r->return_path : run->cfg->return_path_domain;
	spec.sending_ips = (const char *const *) run->ips;
	spec.mx_hostnames = (const char *const *) run->mx_hostnames;
	memset(&dmarc, 0, sizeof(dmarc));
	for (i = 0; i < DNS_CHECK_COUNT; i++) {
		dns_resolver_deadline(res, monotonic_ms() + run->cfg->dns_timeout_ms);
		dns_check_run(&src, &spec, (enum dns_check_kind) i, now, &dmarc, &now[i]);
	}
	dns_resolver_deadline(res, 0);
	for (i = 0; i < DNS_CHECK_COUNT; i++) {
		if (now[i].unsure) {
			/* Not a fact about the zone: the last status stands. */
			now[i].status = r->checks[i].status;
			free(now[i].error);
			now[i].error = r->checks[i].error;
			r->checks[i].error = NULL;
		}
		dns_check_clear(&r->checks[i]);
		r->checks[i] = now[i];
	}
	if (!now[DNS_CHECK_DMARC].unsure)
		r->dmarc = dmarc;
	r->checked_at = now_seconds();
	r->broken = domain_record_broken(r);
}

/* worker - take domains until none is left */
static void *
worker(void *arg)
{
	struct run *run = arg;
	struct dns_resolver *res;
	char err[256];
	size_t i;

	res = dns_resolver_new(NULL, run->cfg->dns_timeout_ms, err, sizeof(err));
	if (res == NULL) {
		pthread_mutex_lock(&run->lock);
		run->failed = 1;
		snprintf(run->err, sizeof(run->err), "%s", err);
		pthread_mutex_unlock(&run->lock);
		return (NULL);
	}
	while ((i = __atomic_fetch_add(&run->next, 1, __ATOMIC_RELAXED)) < run->n)
		check_domain(run, res, run->recs[i]);
	dns_resolver_free(res);
	return (NULL);
}

/* One domain's results on their way into the store. */
struct save {
	const struct domain_record *r; /* this run's results */
	int64_t repeat_ms;
	int events;
	const char *server_name;
	enum dns_event_kind made;
};

/* copy_check - a deep copy */
static void
copy_check(struct dns_check *to, const struct dns_check *from)
{
	dns_check_clear(to);
	to->status = from->status;
	to->unsure = from->unsure;
	to->error = from->error != NULL ? xstrdup(from->error) : NULL;
	to->note = from->note != NULL ? xstrdup(from->note) : NULL;
}

/*
 * save_one - the stored record (what the admin may have changed meanwhile
 * is kept) gets the results; with events, its event is queued with it.
 */
static int
save_one(struct store_txn *txn, void *arg)
{
	struct save *s = arg;
	struct domain_record *cur;
	json_object *payload;
	char server[37], *key;
	int rc, i;

	s->made = DNS_EVENT_NONE;
	rc = domain_get(txn, s->r->tenant, s->r->domain, &cur);
	if (rc == STORE_NOTFOUND)
		return (STORE_OK); /* removed while it was checked */
	if (rc != STORE_OK)
		return (rc);
	for (i = 0; i < DNS_CHECK_COUNT; i++)
		copy_check(&cur->checks[i], &s->r->checks[i]);
	cur->dmarc = s->r->dmarc;
	cur->checked_at = s->r->checked_at;
	cur->broken = s->r->broken;
	if (s->events) {
		s->made = dns_event_decide(cur, cur->checked_at, s->repeat_ms);
		dns_event_reported(cur, s->made, cur->checked_at);
	}
	if (s->made != DNS_EVENT_NONE
	    && (rc = domain_server_uuid(txn, server)) == STORE_OK) {
		payload = dns_event_payload(cur, server, s->server_name);
		key = xasprintf("dns:%s:%s:%.6f", tenant_of(cur->tenant), cur->domain,
				cur->checked_at);
		rc = outbox_add_tenant(txn, key, dns_event_type(s->made), cur->checked_at,
				       payload, NULL, cur->tenant);
		if (rc == STORE_EXISTS)
			rc = STORE_OK;
		free(key);
		json_object_put(payload);
	}
	if (rc == STORE_OK)
		rc = domain_put(txn, cur);
	domain_record_free(cur);
	return (rc);
}

/* dnscheck_run - see dnscheck.h */
int
dnscheck_run(struct store *st, const struct config *cfg, struct domain_record **recs,
	     size_t n, int events, enum dns_event_kind *made, char *err, size_t errlen)
{
	pthread_t threads[MAX_THREADS];
	struct run run;
	struct save save;
	char host[256];
	int nthreads, started = 0, i, rc = 0;
	size_t k;

	memset(&run, 0, sizeof(run));
	run.cfg = cfg;
	run.recs = recs;
	run.n = n;
	run.ips = dnscheck_sending_ips(cfg);
	run.mx_hostnames = dnscheck_mx_hostnames(cfg);
	pthread_mutex_init(&run.lock, NULL);
	nthreads = cfg->dns_check_parallel;
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > MAX_THREADS)
		nthreads = MAX_THREADS;
	if ((size_t) nthreads > n)
		nthreads = n > 0 ? (int) n : 1;
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&threads[i], NULL, worker, &run) != 0)
			break;
		started++;
	}
	if (started == 0)
		worker(&run);
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	if (run.failed && run.next < n) {
		snprintf(err, errlen, "%s", run.err);
		rc = -1;
		goto done;
	}
	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = 0;
	for (k = 0; k < n; k++) {
		memset(&save, 0, sizeof(save));
		save.r = recs[k];
		save.repeat_ms = cfg->dns_error_repeat_ms;
		save.events = events;
		save.server_name = host;
		if (store_run(st, save_one, &save, 0) != STORE_OK) {
			snprintf(err, errlen, "cannot store the results of %s",
				 recs[k]->domain);
			rc = -1;
			goto done;
		}
		if (made != NULL)
			made[k] = save.made;
	}
done:
	pthread_mutex_destroy(&run.lock);
	dnscheck_list_free(run.ips);
	dnscheck_list_free(run.mx_hostnames);
	return (rc);
}
