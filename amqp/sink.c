/*
 * sink.c - posthook-amqp's loop (see sink.h).
 *
 * The sink is a kind of endpoint: fan-out in posthook-webhook makes one
 * delivery per event for it (one endpoint per tenant it serves, named
 * "amqp", with the broker's URL less its password), and posthook-webhook
 * leaves those deliveries to this program.  A batch of due deliveries is
 * read in one transaction, published in delivery order, and only once the
 * broker confirmed all of them is each completed (an attempt recorded) in
 * a second transaction.  The next batch is read while the broker confirms
 * (the deliveries in flight left out), so that the store's read and the
 * broker's write overlap.  A crash in between publishes them again: at
 * least once, duplicates with the same uuid.  While the broker is away,
 * the due deliveries are parked (out of the due index, in their order)
 * so that posthook-webhook's picks never wade through them; they are let
 * go, in order, when the connection is back.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amqp.h>
#include <amqp_framing.h>

#include "config/config.h"
#include "config/daemon.h"
#include "store/delivery.h"
#include "store/endpoint.h"
#include "store/message.h"
#include "store/store.h"
#include "store/tenant_name.h"
#include "util/json.h"
#include "util/log.h"
#include "util/util.h"
#include "publish.h"
#include "sink.h"

#define DUE_SCAN 20000	  /* due entries looked at per pick */
#define PARK_BATCH 2000	  /* deliveries parked per transaction */
#define UNPARK_BATCH 2000 /* ... let go per transaction */
#define IDLE_MS 25	  /* poll interval when nothing is due */
#define STATUS_MS 1000	  /* status record written this often */
#define CONFIRM_MS 30000  /* longest wait for a batch's confirms */
#define BACKOFF_FIRST_MS 500

/* One delivery of a batch, with what its message needs. */
struct item {
	struct delivery *d;
	char *tenant; /* its endpoint's; NULL: default */
	char *name;
	char *url;
	char *queue_id;
};

struct batch {
	struct sink *s;
	int64_t now_ms;
	int park;		  /* park what is due instead of reading it */
	const struct batch *skip; /* in flight: its deliveries are not due */
	int max;
	struct item *items;
	int n;
	int parked;
	double oldest; /* envelope time of the oldest delivery seen */
};

/* items_clear - free a batch's items. */
static void
items_clear(struct batch *b)
{
	int i;

	for (i = 0; i < b->n; i++) {
		delivery_free(b->items[i].d);
		free(b->items[i].tenant);
		free(b->items[i].name);
		free(b->items[i].url);
		free(b->items[i].queue_id);
	}
	b->n = 0;
}

/* same_tenant - does the endpoint belong to tenant? */
static int
same_tenant(const struct endpoint *ep, const char *tenant)
{
	return strcmp(tenant_of(ep->tenant), tenant) == 0;
}

/* listed - is tenant one of amqp_tenants? */
static int
listed(const struct config *cfg, const char *tenant)
{
	char **t;

	for (t = cfg->amqp_tenants; t != NULL && *t != NULL; t++)
		if (strcmp(*t, tenant) == 0)
			return 1;
	return 0;
}

/* sync_endpoint - make ep (new or found) what the configuration says. */
static int
sync_endpoint(struct store_txn *txn, struct sink *s, struct endpoint *ep, int is_new,
	      const char *url)
{
	int enabled = listed(s->cfg, tenant_of(ep->tenant));

	if (!is_new && strcmp(ep->url, url) == 0 && ep->events == s->events
	    && ep->all_events == s->all_events && ep->enabled == enabled)
		return STORE_OK;
	free(ep->url);
	ep->url = xstrdup(url);
	ep->events = s->events;
	ep->all_events = s->all_events;
	ep->enabled = enabled;
	free(ep->disabled_reason);
	ep->disabled_reason = enabled ? NULL : xstrdup("admin");
	if (is_new)
		return endpoint_create(txn, ep);
	return endpoint_put(txn, ep);
}

/* setup_cb - one endpoint per tenant served; those of others disabled. */
static int
setup_cb(struct store_txn *txn, void *arg)
{
	struct sink *s = arg;
	struct endpoint **eps = NULL, *ep;
	struct amqp_status stored;
	char **t;
	int n = 0, i, found, rc;

	rc = endpoint_list(txn, &eps, &n);
	for (i = 0; rc == STORE_OK && i < n; i++)
		if (amqp_url_is_sink(eps[i]->url))
			rc = sync_endpoint(txn, s, eps[i], 0, s->status.url);
	for (t = s->cfg->amqp_tenants; rc == STORE_OK && *t != NULL; t++) {
		for (found = 0, i = 0; i < n && !found; i++)
			found = amqp_url_is_sink(eps[i]->url) && same_tenant(eps[i], *t);
		if (found)
			continue;
		ep = endpoint_new();
		ep->name = xstrdup(AMQP_SINK_NAME);
		ep->url = xstrdup("");
		ep->tenant = strcmp(*t, TENANT_DEFAULT) == 0 ? NULL : xstrdup(*t);
		rc = sync_endpoint(txn, s, ep, 1, s->status.url);
		endpoint_free(ep);
	}
	endpoint_list_free(eps, n);
	if (rc == STORE_OK)
		rc = amqp_status_get(txn, &stored);
	if (rc == STORE_OK) {
		/* the counts go on from the last run's */
		s->status.published = stored.published;
		s->status.confirmed = stored.confirmed;
		s->status.nacked = stored.nacked;
		s->status.reconnects = stored.reconnects;
		amqp_status_clear(&stored);
	}
	return rc == STORE_NOTFOUND ? STORE_OK : rc; /* a first start */
}

/* sink_setup - see sink.h. */
int
sink_setup(struct sink *s)
{
	char err[512];
	char *url;
	char **t;

	if (s->cfg->amqp_url[0] == 0) {
		log_error("amqp_url is not set: posthook-amqp has no broker");
		return -1;
	}
	if ((url = amqp_url_redact(s->cfg->amqp_url)) == NULL) {
		log_error("amqp_url is not an amqp:// or amqps:// URL with a host");
		return -1;
	}
	for (t = s->cfg->amqp_tenants; t != NULL && *t != NULL; t++) {
		if (!amqp_tenant_valid(*t)) {
			log_error("amqp_tenants: \"%s\" is not a tenant name", *t);
			free(url);
			return -1;
		}
	}
	if (s->cfg->amqp_tenants == NULL || s->cfg->amqp_tenants[0] == NULL) {
		log_error("amqp_tenants names no tenant");
		free(url);
		return -1;
	}
	if (s->cfg->amqp_batch < 1) {
		log_error("amqp_batch must be at least 1");
		free(url);
		return -1;
	}
	s->all_events = s->cfg->amqp_events[0] == 0;
	s->events = ENDPOINT_ALL_EVENTS;
	if (!s->all_events
	    && endpoint_parse_events(s->cfg->amqp_events, &s->events, err, sizeof(err))
		   < 0) {
		log_error("amqp_events: %s", err);
		free(url);
		return -1;
	}
	amqp_status_clear(&s->status);
	s->status.url = url;
	if (store_run(s->st, setup_cb, s, 0) != STORE_OK) {
		log_error("cannot set up the sink's endpoints");
		return -1;
	}
	s->base_sent = s->status.published;
	s->base_acked = s->status.confirmed;
	s->base_nacked = s->status.nacked;
	return 0;
}

/* find_sink - the sink endpoint with this id in eps, or NULL. */
static struct endpoint *
find_sink(struct endpoint **eps, int n, const char *id)
{
	int i;

	for (i = 0; i < n; i++)
		if (amqp_url_is_sink(eps[i]->url) && strcmp(eps[i]->id, id) == 0)
			return eps[i];
	return NULL;
}

/* queue_id_of - the Postfix queue id of the delivery's message, or NULL. */
static int
queue_id_of(struct store_txn *txn, const struct delivery *d, char **out)
{
	struct message_record *m;
	uint64_t id;
	int rc;

	*out = NULL;
	if (!delivery_message_id(d, &id))
		return STORE_OK;
	rc = message_get_by_id(txn, id, &m);
	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	if (m->queue_id != NULL)
		*out = xstrdup(m->queue_id);
	message_record_free(m);
	return STORE_OK;
}

/* in_flight - is delivery id in batch b (items sorted by id)? */
static int
in_flight(const struct batch *b, uint64_t id)
{
	int lo = 0, hi = b != NULL ? b->n : 0, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (b->items[mid].d->id == id)
			return 1;
		if (b->items[mid].d->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* take - add d of sink ep to the batch, or park it. */
static int
take(struct batch *b, struct store_txn *txn, struct delivery *d,
     const struct endpoint *ep)
{
	struct item *it;

	if (b->oldest == 0 || d->timestamp < b->oldest)
		b->oldest = d->timestamp;
	if (b->park) {
		b->parked++;
		return delivery_park(txn, d);
	}
	it = &b->items[b->n++];
	memset(it, 0, sizeof(*it));
	it->tenant = ep->tenant != NULL ? xstrdup(ep->tenant) : NULL;
	it->name = xstrdup(ep->name);
	it->url = xstrdup(ep->url);
	it->d = d;
	return queue_id_of(txn, d, &it->queue_id);
}

/* pick_cb - the sink's due deliveries: read into the batch, or parked. */
static int
pick_cb(struct store_txn *txn, void *arg)
{
	struct batch *b = arg;
	struct endpoint **eps = NULL, *ep;
	struct due_entry *due = NULL;
	struct delivery *d;
	int nep = 0, n = 0, i, rc, scan;

	items_clear(b); /* a retried transaction starts over */
	b->parked = 0;
	b->oldest = 0;
	/*
	 * Look at a little more than a batch first; past other endpoints'
	 * due entries (up to DUE_SCAN) only when that did not fill it.
	 */
	scan = 2 * b->max + 64 < DUE_SCAN ? 2 * b->max + 64 : DUE_SCAN;
	rc = endpoint_list(txn, &eps, &nep);
again:
	if (rc == STORE_OK)
		rc = delivery_due_ids(txn, b->now_ms, scan, &due, &n);
	for (i = 0; rc == STORE_OK && i < n && b->n + b->parked < b->max; i++) {
		if (due[i].endpoint_id[0] != 0
		    && find_sink(eps, nep, due[i].endpoint_id) == NULL)
			continue;
		if (in_flight(b->skip, due[i].id))
			continue;
		rc = delivery_pick(txn, due[i].id, &d); /* payload as text */
		if (rc == STORE_NOTFOUND) {
			rc = STORE_OK;
			continue;
		}
		if (rc != STORE_OK)
			break;
		if ((ep = find_sink(eps, nep, d->endpoint_id)) == NULL) {
			delivery_free(d);
			continue;
		}
		rc = take(b, txn, d, ep);
		if (b->park)
			delivery_free(d);
	}
	free(due);
	due = NULL;
	if (rc == STORE_OK && b->n + b->parked < b->max && n == scan && scan < DUE_SCAN) {
		/* start over: what this scan took is taken again, in order */
		items_clear(b);
		b->parked = 0;
		scan = DUE_SCAN;
		goto again;
	}
	endpoint_list_free(eps, nep);
	return rc;
}

/* by_id - qsort: deliveries in the order they were made. */
static int
by_id(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	return x->d->id < y->d->id ? -1 : x->d->id > y->d->id;
}

struct record_ctx {
	struct batch *b;
	const struct config *cfg;
	double started, duration;
};

/* record_cb - every confirmed delivery of the batch succeeded. */
static int
record_cb(struct store_txn *txn, void *arg)
{
	struct record_ctx *c = arg;
	struct attempt_target target;
	struct attempt_result r;
	struct item *it;
	json_object *headers;
	char rec[32], key[AMQP_KEY_MAX];
	int i, rc = STORE_OK, will_retry;

	for (i = 0; rc == STORE_OK && i < c->b->n; i++) {
		it = &c->b->items[i];
		if (amqp_routing_key(it->d->type, it->tenant, key, sizeof(key)) < 0) {
			rc = delivery_abandon(txn,
					      it->d); /* never sent: see publish_batch */
			continue;
		}
		headers = json_object_new_object();
		json_add_string(headers, "routing_key", key);
		json_add_string(headers, "host_name", c->b->s->host_name);
		json_add_string_set(headers, "queue_id", it->queue_id);
		memset(&r, 0, sizeof(r));
		r.started = c->started;
		r.duration = c->duration;
		r.status = AMQP_REPLY_SUCCESS; /* 200: AMQP's own "reply-success" */
		r.body = "basic.ack";
		r.body_len = strlen(r.body);
		r.headers = headers;
		r.kid = "";
		r.envelope_ts = it->d->timestamp;
		target.name = it->name;
		target.url = it->url;
		target.tenant = it->tenant;
		/* it->d as read: not parsed again while its record is unchanged */
		rc = delivery_complete(txn, it->d->id, it->d, &target, &r,
				       c->cfg->retry_schedule_ms, c->cfg->retry_count,
				       rec, &will_retry);
		if (rc == STORE_NOTFOUND)
			rc = STORE_OK; /* deleted meanwhile (purged, endpoint gone) */
		json_object_put(headers);
	}
	return rc;
}

/* status_cb - store the status record. */
static int
status_cb(struct store_txn *txn, void *arg)
{
	return amqp_status_put(txn, arg);
}

/* status_set - the sink's state changed (err: the reason, or NULL). */
static void
status_set(struct sink *s, const char *state, const char *err)
{
	double now = now_seconds();

	if (strcmp(s->status.state, state) != 0) {
		snprintf(s->status.state, sizeof(s->status.state), "%s", state);
		s->status.since = now;
	}
	if (err != NULL) {
		free(s->status.last_error);
		s->status.last_error = xstrdup(err);
		s->status.last_error_at = now;
	}
	s->status_dirty = 1;
}

/* status_flush - write the status record when due (or forced). */
static void
status_flush(struct sink *s, int force)
{
	int64_t now = monotonic_ms();

	if (!force && (!s->status_dirty || now < s->next_status))
		return;
	s->status.published = s->base_sent + publisher_sent(s->pub);
	s->status.confirmed = s->base_acked + publisher_acked(s->pub);
	s->status.nacked = s->base_nacked + publisher_nacked(s->pub);
	s->status.updated = now_seconds();
	if (store_run(s->st, status_cb, &s->status, 0) != STORE_OK)
		log_warn("cannot store the sink's status");
	s->status_dirty = 0;
	s->next_status = now + STATUS_MS;
}

/* down - the broker failed us: close, note why, try again later. */
static void
down(struct sink *s, const char *err, int waiting)
{
	char *wait;

	publisher_close(s->pub);
	s->backoff_ms = s->backoff_ms == 0 ? BACKOFF_FIRST_MS : s->backoff_ms * 2;
	if (s->backoff_ms > s->cfg->amqp_backoff_max_ms)
		s->backoff_ms = s->cfg->amqp_backoff_max_ms;
	s->next_connect = monotonic_ms() + s->backoff_ms;
	wait = format_duration(s->backoff_ms);
	if (waiting > 0)
		log_warn("broker %s: %s; the %d event(s) of the batch wait in the "
			 "store; connecting again in %s",
			 s->status.url, err, waiting, wait);
	else
		log_warn("broker %s: %s; events wait in the store; connecting again "
			 "in %s",
			 s->status.url, err, wait);
	free(wait);
	status_set(s, "down", err);
}

struct unpark_ctx {
	int total;
	int count;
};

/* unpark_cb - let the sink endpoints' parked deliveries go, a batch. */
static int
unpark_cb(struct store_txn *txn, void *arg)
{
	struct unpark_ctx *c = arg;
	struct endpoint **eps = NULL;
	int n = 0, i, count, rc;

	c->count = 0;
	rc = endpoint_list(txn, &eps, &n);
	for (i = 0; rc == STORE_OK && i < n; i++) {
		if (!amqp_url_is_sink(eps[i]->url))
			continue;
		rc = delivery_unpark(txn, eps[i]->id, UNPARK_BATCH, &count);
		c->count += count;
	}
	endpoint_list_free(eps, n);
	return rc;
}

/* broker_connect - try the broker; on success let the parked deliveries go. */
static void
broker_connect(struct sink *s)
{
	struct unpark_ctx u;
	char err[512];

	if (publisher_connect(s->pub, err, sizeof(err)) < 0) {
		down(s, err, 0);
		return;
	}
	if (s->connected_once++ > 0)
		s->status.reconnects++;
	log_info("connected to %s, exchange \"%s\"", s->status.url,
		 s->cfg->amqp_exchange);
	s->backoff_ms = 0;
	status_set(s, "connected", NULL);
	memset(&u, 0, sizeof(u));
	do {
		if (store_run(s->st, unpark_cb, &u, 0) != STORE_OK) {
			log_error("cannot let the parked deliveries go; they wait");
			break;
		}
		u.total += u.count;
	} while (u.count > 0);
	if (u.total > 0)
		log_info("%d event(s) that waited for the broker go now", u.total);
}

/*
 * read_batch - the due deliveries, in the order they were made, less
 * those of skip (in flight); 0, or -1 when the store failed.
 */
static int
read_batch(struct sink *s, struct batch *b, const struct batch *skip)
{
	b->park = 0;
	b->skip = skip;
	b->max = s->cfg->amqp_batch;
	b->now_ms = (int64_t) (now_seconds() * 1000);
	if (store_run(s->st, pick_cb, b, 0) != STORE_OK) {
		log_error("cannot read the sink's due deliveries");
		return -1;
	}
	b->skip = NULL;
	s->status.oldest_due = b->oldest;
	s->status_dirty = 1;
	qsort(b->items, (size_t) b->n, sizeof(*b->items), by_id);
	return 0;
}

/*
 * publish_batch - publish b (read) and complete it once confirmed,
 * reading the next batch into next while the broker confirms; the number
 * published, or -1 when the store failed.  When the broker fails us next
 * is emptied: what it held is read again after the reconnect.
 */
static int
publish_batch(struct sink *s, struct batch *b, struct batch *next)
{
	struct record_ctx rc;
	struct amqp_props p;
	char *body;
	size_t len, off, plen;
	char err[512];
	int i, sent = 0;
	int64_t t1, t2, t3, t4;

	if (b->n == 0)
		return 0;
	memset(&rc, 0, sizeof(rc));
	rc.started = now_seconds();
	t1 = monotonic_ms();
	for (i = 0; i < b->n; i++) {
		struct delivery *d = b->items[i].d;

		if (amqp_props_fill(&p, d->type, b->items[i].tenant, d->timestamp,
				    d->uuid, s->host_name, b->items[i].queue_id,
				    d->event_key, err, sizeof(err))
		    < 0) {
			log_error("delivery %llu (%s): %s; marked failed",
				  (unsigned long long) d->id, d->uuid, err);
			continue;
		}
		/* the body HTTP endpoints get, the payload as stored */
		body = delivery_envelope_json(d, &len, &off, &plen);
		if (publisher_send(s->pub, &p, body, len, err, sizeof(err)) < 0) {
			free(body);
			down(s, err, b->n);
			return 0;
		}
		free(body);
		sent++;
	}
	/* the broker writes the batch meanwhile: the store's time is free */
	t2 = monotonic_ms();
	if (read_batch(s, next, b) < 0)
		return -1;
	t3 = monotonic_ms();
	if (publisher_wait(s->pub, CONFIRM_MS, err, sizeof(err)) < 0) {
		items_clear(next);
		down(s, err, b->n);
		return 0;
	}
	rc.b = b;
	rc.cfg = s->cfg;
	rc.duration = now_seconds() - rc.started;
	t4 = monotonic_ms();
	if (store_run(s->st, record_cb, &rc, 0) != STORE_OK) {
		log_error(
		    "cannot record %d confirmed event(s); they will be published again",
		    b->n);
		return -1;
	}
	log_debug("published %d event(s): publish %lld ms, next read %lld ms, "
		  "rest of the confirm wait %lld ms, record %lld ms",
		  sent, (long long) (t2 - t1), (long long) (t3 - t2),
		  (long long) (t4 - t3), (long long) (monotonic_ms() - t4));
	return b->n;
}

/* park_due - the broker is away: park what fell due meanwhile. */
static int
park_due(struct sink *s, struct batch *b)
{
	double oldest = s->status.oldest_due;

	b->park = 1;
	b->max = PARK_BATCH;
	b->now_ms = (int64_t) (now_seconds() * 1000);
	do {
		if (store_run(s->st, pick_cb, b, 0) != STORE_OK) {
			log_error("cannot park the sink's due deliveries");
			return -1;
		}
		if (b->oldest > 0 && (oldest == 0 || b->oldest < oldest))
			oldest = b->oldest;
	} while (b->parked == PARK_BATCH && !s->sig->stop);
	if (oldest != s->status.oldest_due) {
		s->status.oldest_due = oldest;
		s->status_dirty = 1;
	}
	return 0;
}

/* nap - wait up to ms, or until a signal. */
static void
nap(struct sink *s, int64_t ms)
{
	struct pollfd fd;

	if (ms <= 0)
		return;
	fd.fd = s->sig->wake_fd;
	fd.events = POLLIN;
	fd.revents = 0;
	if (poll(&fd, 1, (int) ms) > 0)
		daemon_signals_drain(s->sig);
}

/* sink_run - see sink.h. */
int
sink_run(struct sink *s)
{
	struct batch b, next, t;
	size_t cap =
	    (size_t) (s->cfg->amqp_batch > PARK_BATCH ? s->cfg->amqp_batch : PARK_BATCH);
	int n, rc = 0;
	int64_t wait;

	memset(&b, 0, sizeof(b));
	b.s = s;
	b.items = xcalloc(cap, sizeof(*b.items));
	next = b;
	next.items = xcalloc(cap, sizeof(*next.items));
	status_set(s, "down", NULL);
	while (!s->sig->stop) {
		if (s->sig->reload) {
			s->sig->reload = 0;
			log_info("reload: connecting again at once");
			s->next_connect = 0;
			if (publisher_connected(s->pub))
				publisher_close(s->pub);
		}
		if (!publisher_connected(s->pub) && monotonic_ms() >= s->next_connect)
			broker_connect(s);
		if (publisher_connected(s->pub)) {
			/* b was read during the last confirm wait, or is read now */
			if (b.n == 0 && read_batch(s, &b, NULL) < 0) {
				rc = -1;
				break;
			}
			n = publish_batch(s, &b, &next);
			items_clear(&b);
			t = b;
			b = next;
			next = t;
			if (n < 0) {
				rc = -1;
				break;
			}
			status_flush(s, 0);
			if (n == 0 && publisher_connected(s->pub))
				nap(s, IDLE_MS);
			continue;
		}
		if (park_due(s, &b) < 0) {
			rc = -1;
			break;
		}
		status_flush(s, 0);
		wait = s->next_connect - monotonic_ms();
		nap(s, wait < 200 ? wait : 200);
	}
	items_clear(&b);
	free(b.items);
	items_clear(&next);
	free(next.items);
	publisher_close(s->pub);
	status_set(s, "stopped", NULL);
	status_flush(s, 1);
	return rc;
}
