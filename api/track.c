/*
 * track.c - the tracking server's answers: the pixel, the click's
 * redirect to the URL recorded for that message, the one-click
 * unsubscribe page and its POST; each hit kept as the message's activity
 * and queued as its event in one store transaction.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "group.h"
#include "ratelimit.h"
#include "store/activity.h"
#include "store/message.h"
#include "store/outbox.h"
#include "track.h"
#include "track/hit.h"
#include "track/track_event.h"
#include "track/track_key.h"
#include "util/cidr.h"
#include "util/log.h"
#include "util/utf8.h"
#include "util/util.h"

#define UA_MAX 512	 /* longer User-Agents are cut: no client needs more */
#define CACHE_SLOTS 1024 /* message records kept, by id */
#define CACHE_TTL 60.0	 /* seconds a kept record is trusted (purges) */

/* A message record as read: the fields a hit uses never change once written. */
struct cached {
	uint64_t id;
	double loaded;
	struct message_record *rec;
};

struct track {
	pthread_mutex_t lock; /* the settings below, swapped on reload */
	struct cidr_list *trusted;
	struct cidr_list *apple;
	struct ratelimit *rl;
	int have_key;
	unsigned char key[TRACK_KEY_LEN];
	int report_bots;
	double click_window, burst_window;
	struct group *group;		  /* hits are committed in groups */
	struct cached cache[CACHE_SLOTS]; /* only batches touch it (group.h) */
};

/* The transparent 1x1 GIF: 43 bytes. */
static const unsigned char pixel[] = {
	0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80,
	0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
};

/* read_networks - the networks listed in path, one a line, # comments. */
static struct cidr_list *
read_networks(const char *path)
{
	char err[256], line[256], *p, *e;
	struct cidr_list *list = cidr_list_new(NULL, err, sizeof(err));
	FILE *fp;
	int n = 0;

	if (list == NULL || path == NULL || path[0] == 0)
		return (list);
	if ((fp = fopen(path, "re")) == NULL) {
		log_warn("apple_mpp_networks: cannot read %s: %s; no opens are "
			 "flagged apple_mpp",
			 path, strerror(errno));
		return (list);
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		n++;
		if ((p = strchr(line, '#')) != NULL)
			*p = 0;
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		for (e = p + strlen(p); e > p
					&& (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' '
					    || e[-1] == '\t');)
			*--e = 0;
		if (*p != 0 && cidr_list_add(list, p) < 0)
			log_warn("%s:%d: \"%s\" is not a network; ignored", path, n, p);
	}
	fclose(fp);
	return (list);
}

/* settings - the parts of t that cfg gives; -1 (logged) on a bad one. */
static int
settings(struct track *t, const struct config *cfg)
{
	char err[256];
	struct cidr_list *trusted, *apple;

	if ((trusted = cidr_list_new(cfg->trusted_proxies, err, sizeof(err))) == NULL) {
		log_error("trusted_proxies: %s", err[0] ? err : "out of memory");
		return (-1);
	}
	if ((apple = read_networks(cfg->apple_mpp_networks)) == NULL) {
		cidr_list_free(trusted);
		return (-1);
	}
	pthread_mutex_lock(&t->lock);
	cidr_list_free(t->trusted);
	cidr_list_free(t->apple);
	t->trusted = trusted;
	t->apple = apple;
	t->report_bots = cfg->report_bots;
	t->click_window = (double) cfg->scanner_click_window_ms / 1000.0;
	t->burst_window = (double) cfg->scanner_burst_window_ms / 1000.0;
	pthread_mutex_unlock(&t->lock);
	ratelimit_set(t->rl, cfg->track_rate_limit, cfg->track_rate_burst);
	return (0);
}

/* track_new - see track.h. */
struct track *
track_new(const struct config *cfg)
{
	struct track *t = xcalloc(1, sizeof(*t));

	pthread_mutex_init(&t->lock, NULL);
	t->group = group_new();
	t->rl = ratelimit_new(cfg->track_rate_limit, cfg->track_rate_burst);
	if (t->rl == NULL || settings(t, cfg) < 0) {
		track_free(t);
		return (NULL);
	}
	return (t);
}

/* track_free - see track.h. */
void
track_free(struct track *t)
{
	uint64_t batches, hits;
	unsigned i;

	if (t == NULL)
		return;
	group_stats(t->group, &batches, &hits);
	if (batches > 0)
		log_info("tracking: %llu hits committed in %llu transactions",
			 (unsigned long long) hits, (unsigned long long) batches);
	group_free(t->group);
	for (i = 0; i < CACHE_SLOTS; i++)
		message_record_free(t->cache[i].rec);
	cidr_list_free(t->trusted);
	cidr_list_free(t->apple);
	ratelimit_free(t->rl);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* track_reload - see track.h. */
int
track_reload(struct track *t, const struct config *cfg)
{
	return (settings(t, cfg));
}

/* key_txn - the store's tracking key into ctx. */
static int
key_txn(struct store_txn *txn, void *ctx)
{
	return (track_key_get(txn, ctx));
}

/* cached_key - the tracking key, from memory after the first read. */
static int
cached_key(struct api *a, unsigned char key[TRACK_KEY_LEN])
{
	struct track *t = a->track;
	unsigned char k[TRACK_KEY_LEN];

	pthread_mutex_lock(&t->lock);
	if (t->have_key) {
		memcpy(key, t->key, TRACK_KEY_LEN);
		pthread_mutex_unlock(&t->lock);
		return (0);
	}
	pthread_mutex_unlock(&t->lock);
	if (store_run(a->st, key_txn, k, 0) != STORE_OK)
		return (-1);
	pthread_mutex_lock(&t->lock);
	memcpy(t->key, k, TRACK_KEY_LEN);
	t->have_key = 1;
	pthread_mutex_unlock(&t->lock);
	memcpy(key, k, TRACK_KEY_LEN);
	return (0);
}

/* One hit on its way into the store. */
struct hit_job {
	struct track *t;
	struct track_ref ref;
	const char *token;
	const char *ip;
	const char *ua;
	int head;
	double now;
	int apple, report_bots;
	double click_window, burst_window;
	char *url; /* out: a click's target */
	int found; /* out: the message and link exist */
};

/* burst - whether every link (more than one) was clicked within window of now. */
static int
burst(const struct activity_summary *sum, double now, double window)
{
	unsigned i;

	if (sum->nlinks < 2)
		return (0);
	for (i = 0; i < sum->nlinks; i++)
		if (sum->last_click[i] <= 0 || now - sum->last_click[i] > window)
			return (0);
	return (1);
}

/* link_count - how many links rec has. */
static unsigned
link_count(const struct message_record *rec)
{
	unsigned n = 0;

	while (rec->links != NULL && rec->links[n] != NULL)
		n++;
	return (n);
}

/*
 * cached_message - the record of message id, kept by the cache when it was
 * read less than CACHE_TTL ago: a hit then skips two reads and the JSON
 * parse.  *out belongs to the cache.
 */
static int
cached_message(struct track *t, struct store_txn *txn, uint64_t id, double now,
	       struct message_record **out)
{
	struct cached *c = &t->cache[id % CACHE_SLOTS];
	struct message_record *rec;
	int status;

	if (c->rec != NULL && c->id == id && now - c->loaded < CACHE_TTL) {
		*out = c->rec;
		return (STORE_OK);
	}
	if ((status = message_get_by_id(txn, id, &rec)) != STORE_OK)
		return (status);
	message_record_free(c->rec);
	c->id = id;
	c->loaded = now;
	c->rec = rec;
	*out = rec;
	return (STORE_OK);
}

/* record_hit - one hit, in its batch's transaction: keep it, queue its event. */
static int
record_hit(struct store_txn *txn, void *ctx)
{
	struct hit_job *j = ctx;
	struct message_record *rec = NULL;
	struct activity_summary sum;
	struct track_facts f;
	struct track_hit hit;
	struct activity act;
	json_object *payload;
	uint64_t seq;
	char key[64];
	unsigned nlinks;
	int status;

	free(j->url);
	j->url = NULL;
	j->found = 0;
	status = cached_message(j->t, txn, j->ref.message_id, j->now, &rec);
	if (status != STORE_OK)
		return (status == STORE_NOTFOUND ? STORE_OK : status);
	nlinks = link_count(rec);
	if (j->ref.kind == TRACK_CLICK) {
		if (j->ref.link >= nlinks)
			return (STORE_OK);
		j->url = xstrdup(rec->links[j->ref.link]);
	}
	j->found = 1;
	if ((status = activity_summary_get(txn, rec->id, nlinks, &sum)) != STORE_OK)
		goto out;
	memset(&hit, 0, sizeof(hit));
	memset(&f, 0, sizeof(f));
	f.kind = j->ref.kind;
	f.head = j->head;
	f.apple = j->apple;
	f.since_sent = rec->timestamp > 0 ? j->now - rec->timestamp : -1;
	f.click_window = j->click_window;
	sum.time = j->now;
	if (j->ref.kind == TRACK_OPEN) {
		hit.first = sum.opens++ == 0;
	} else if (j->ref.kind == TRACK_CLICK) {
		hit.first = sum.last_click[j->ref.link] <= 0;
		sum.last_click[j->ref.link] = j->now;
		f.all_links_burst = burst(&sum, j->now, j->burst_window);
	}
	hit.kind = j->ref.kind;
	hit.url = j->url;
	hit.token = j->token;
	hit.ip = j->ip;
	hit.ua = j->ua;
	hit.bot = track_bot(&f);
	memset(&act, 0, sizeof(act));
	act.time = j->now;
	act.kind = (char) j->ref.kind;
	act.link = j->ref.link;
	act.url = j->url;
	act.ip = j->ip;
	act.ua = j->ua;
	act.bot = hit.bot;
	if ((status = activity_summary_put(txn, rec->id, &sum)) != STORE_OK
	    || (status = activity_add(txn, rec->id, &act)) != STORE_OK)
		goto out;
	if (hit.bot != NULL && !j->report_bots)
		goto out;
	if ((status = store_seq_next(txn, "track_event", &seq)) != STORE_OK)
		goto out;
	snprintf(key, sizeof(key), "track:%llu", (unsigned long long) seq);
	payload = track_event_payload(rec, &hit);
	status = outbox_add_tenant(txn, key, track_event_type(j->ref.kind), j->now,
				   payload, NULL, rec->tenant);
	json_object_put(payload);
	if (status == STORE_EXISTS)
		status = STORE_OK;
out:
	activity_summary_clear(&sum);
	return (status);
}

/* location_of - url as a Location header: bytes outside printable ASCII
 * percent-encoded; NULL unless it is an http(s) URL. */
static char *
location_of(const char *url)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b;
	const unsigned char *p;

	if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
		return (NULL);
	buf_init(&b);
	for (p = (const unsigned char *) url; *p != 0; p++) {
		if (*p > 0x20 && *p < 0x7f) {
			buf_append(&b, (const char *) p, 1);
		} else {
			char esc[3] = { '%', hex[*p >> 4], hex[*p & 15] };

			buf_append(&b, esc, 3);
		}
	}
	return (buf_take(&b));
}

/* not_found - the one answer to every bad path or token. */
static void
not_found(struct api_resp *resp)
{
	reply_text(resp, 404, "text/plain; charset=utf-8", xstrdup("not found\n"));
}

/* unsubscribe_page - the GET page: a button that POSTs (scanners GET). */
static void
unsubscribe_page(struct api_resp *resp, const char *path)
{
	char *page;

	page = xasprintf(
	    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	    "<meta name=\"robots\" content=\"noindex\">"
	    "<title>Unsubscribe</title></head>\n<body>"
	    "<form method=\"post\" action=\"%s\">"
	    "<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
	    "<p>Stop receiving these messages?</p>"
	    "<button type=\"submit\">Unsubscribe</button></form>"
	    "</body></html>\n",
	    path);
	reply_text(resp, 200, "text/html; charset=utf-8", page);
}

/* answer - the reply to a recorded hit. */
static void
answer(struct api_resp *resp, const struct hit_job *j)
{
	char *loc, *body;

	switch (j->ref.kind) {
	case TRACK_OPEN:
		body = xmalloc(sizeof(pixel));
		memcpy(body, pixel, sizeof(pixel));
		reply_text(resp, 200, "image/gif", body);
		resp->body_len = sizeof(pixel);
		return;
	case TRACK_CLICK:
		if ((loc = location_of(j->url)) == NULL) {
			not_found(resp);
			return;
		}
		body = xstrdup("moved\n");
		reply_text(resp, 302, "text/html; charset=utf-8", body);
		resp->location = loc;
		return;
	case TRACK_UNSUBSCRIBE:
		reply_text(resp, 200, "text/plain; charset=utf-8",
			   xstrdup("You are unsubscribed.\n"));
		return;
	}
}

/* header - a request header, or NULL. */
static const char *
header(const struct api_req *req, const char *name)
{
	/* server.c's header callback reads the connection query_ctx names */
	return (req->header != NULL ? req->header(req->query_ctx, name) : NULL);
}

/* allowed - whether method may hit kind; *head set for HEAD. */
static int
allowed(const char *method, enum track_kind kind, int *head)
{
	*head = strcmp(method, "HEAD") == 0;
	if (strcmp(method, "GET") == 0 || *head)
		return (1);
	return (strcmp(method, "POST") == 0 && kind == TRACK_UNSUBSCRIBE);
}

/* track_dispatch - see track.h. */
void
track_dispatch(struct api *a, struct api_req *req, struct api_resp *resp)
{
	struct track *t = a->track;
	struct hit_job j;
	enum track_kind kind;
	const char *token, *ua;
	char ip[64], uabuf[UA_MAX * 3 + 1];
	unsigned char key[TRACK_KEY_LEN];
	int retry, head;

	__atomic_add_fetch(&a->requests, 1, __ATOMIC_RELAXED);
	if (track_path_split(req->path, &kind, &token) < 0
	    || !allowed(req->method, kind, &head)) {
		not_found(resp);
		return;
	}
	pthread_mutex_lock(&t->lock);
	if (track_client_ip(req->peer, header(req, "X-Forwarded-For"), t->trusted, ip,
			    sizeof(ip))
	    < 0)
		snprintf(ip, sizeof(ip), "%s", req->peer);
	memset(&j, 0, sizeof(j));
	j.apple = t->apple != NULL && cidr_list_match_text(t->apple, ip);
	j.report_bots = t->report_bots;
	j.click_window = t->click_window;
	j.burst_window = t->burst_window;
	pthread_mutex_unlock(&t->lock);
	if (!ratelimit_take(t->rl, ip, monotonic_ms(), &retry)) {
		__atomic_add_fetch(&a->rate_limited, 1, __ATOMIC_RELAXED);
		reply_text(resp, 429, "text/plain; charset=utf-8",
			   xstrdup("slow down\n"));
		resp->retry_after = retry;
		return;
	}
	if (cached_key(a, key) < 0) {
		reply_text(resp, 503, "text/plain; charset=utf-8",
			   xstrdup("try later\n"));
		return;
	}
	if (track_token_parse(key, token, &j.ref) < 0 || j.ref.kind != kind) {
		not_found(resp);
		return;
	}
	/* what does not count: a GET of the unsubscribe page, a HEAD of the pixel */
	if (kind == TRACK_UNSUBSCRIBE && strcmp(req->method, "POST") != 0) {
		unsubscribe_page(resp, req->path);
		return;
	}
	ua = header(req, "User-Agent");
	if (ua != NULL) {
		utf8_clean_to(uabuf, ua, strnlen(ua, UA_MAX));
		ua = uabuf;
	}
	j.t = t;
	j.token = token;
	j.ip = ip[0] ? ip : NULL;
	j.ua = ua;
	j.head = head;
	j.now = now_seconds();
	if (kind == TRACK_OPEN && head) {
		answer(resp, &j);
		return;
	}
	if (group_run(t->group, a->st, record_hit, &j, 5000) != STORE_OK) {
		free(j.url);
		reply_text(resp, 503, "text/plain; charset=utf-8",
			   xstrdup("try later\n"));
		return;
	}
	if (!j.found)
		not_found(resp);
	else
		answer(resp, &j);
	free(j.url);
}
