/*
 * track.c - which outgoing messages are tracked and how (see track.h):
 * the site's settings, overridden by the tenant's settings object, and
 * narrowed by the message's own PREFIX-Track header.
 *
 * The body is kept only for a message whose HTML may be rewritten, up to
 * track_max_body; the rewrite itself is lib/track's (mime_track.h), run
 * inside the record's transaction so that every token names a link the
 * stored record has.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app_headers.h"
#include "callbacks.h"
#include "outgoing.h"
#include "state.h"
#include "track.h"
#include "track/mime_track.h"
#include "track/token.h"
#include "track/track_key.h"
#include "util/log.h"
#include "util/util.h"

/* One message's tracking, from its first body chunk to its end. */
struct track_msg {
	char *url;	   /* tracking_url, no trailing '/' */
	int opens, clicks; /* what the body gets */
	int unsubscribe;   /* add List-Unsubscribe */
	char **excluded;   /* NULL-terminated */
	char *ctype, *cte; /* the top-level MIME headers, cleaned */
	char *own_unsub;   /* the message's own List-Unsubscribe URL, or NULL */
	const char *skip;  /* why the body is left: logged at the end */
	size_t max_body;
	unsigned char *body;
	size_t len, cap;
	int over; /* the body passed max_body */
	/* The rewrite's result (track_txn), redone on a retry. */
	unsigned char key[TRACK_KEY_LEN];
	struct message_record *rec;
	unsigned nlinks;
	char *out;
	size_t outlen;
	unsigned links, parts;
	const char *note; /* why the body was not rewritten */
	char unsub[TRACK_TOKEN_SIZE + 512];
};

/* track_on_anywhere - see track.h. */
int
track_on_anywhere(const struct milter_settings *set, struct tenant_cache *tc)
{
	return (set->tracking_url != NULL || tenant_cache_any_tracking(tc));
}

/* list_copy - a copy of a NULL-terminated list. */
static char **
list_copy(char *const *l)
{
	size_t n = 0, i;
	char **c;

	while (l != NULL && l[n] != NULL)
		n++;
	c = xcalloc(n + 1, sizeof(*c));
	for (i = 0; i < n; i++)
		c[i] = xstrdup(l[i]);
	return (c);
}

/* list_free - free a list list_copy made. */
static void
list_free(char **l)
{
	char **p;

	for (p = l; p != NULL && *p != NULL; p++)
		free(*p);
	free(l);
}

/* tenant_override - apply a tenant's settings object over the site's. */
static void
tenant_override(struct track_msg *t, json_object *o, const char *tenant)
{
	json_object *v;
	char *url;
	size_t n, i;
	int bad;

	if (json_object_object_get_ex(o, "tracking_url", &v)
	    && json_object_is_type(v, json_type_string)) {
		url = settings_tracking_url(json_object_get_string(v), &bad);
		if (bad)
			log_warn("tenant %s: tracking_url \"%s\" is no http(s) URL: "
				 "its mail is not tracked",
				 tenant, json_object_get_string(v));
		free(t->url);
		t->url = url;
	}
	if (json_object_object_get_ex(o, "track_opens", &v))
		t->opens = json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "track_clicks", &v))
		t->clicks = json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "unsubscribe", &v))
		t->unsubscribe = json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "excluded_click_domains", &v)
	    && json_object_is_type(v, json_type_array)) {
		list_free(t->excluded);
		n = json_object_array_length(v);
		t->excluded = xcalloc(n + 1, sizeof(char *));
		for (i = 0; i < n; i++)
			t->excluded[i] = xstrdup(
			    json_object_get_string(json_object_array_get_idx(v, i))
				?: "");
	}
}

/* header_narrow - what PREFIX-Track leaves of opens and clicks. */
static void
header_narrow(struct track_msg *t, const struct conn_state *cs)
{
	char *v;

	if (cs->msg->track_hdr == NULL
	    || (v = header_value_clean(cs->msg->track_hdr)) == NULL)
		return;
	if (strcasecmp(v, "none") == 0) {
		t->opens = t->clicks = 0;
		t->skip = "none asked by the track header";
	} else if (strcasecmp(v, "opens") == 0)
		t->clicks = 0;
	else if (strcasecmp(v, "clicks") == 0)
		t->opens = 0;
	else if (strcasecmp(v, "all") != 0)
		log_warn("%s: %s: \"%s\" is none, opens, clicks or all: ignored",
			 cs->msg->queue_id ? cs->msg->queue_id : "NOQUEUE",
			 cs->set->hdr_track, v);
	free(v);
}

/* own_unsubscribe - the http(s) URL of the message's List-Unsubscribe. */
static char *
own_unsubscribe(const char *raw)
{
	char *v = header_value_clean(raw), *p, *e, *url = NULL;

	for (p = v; p != NULL && (p = strchr(p, '<')) != NULL; p = e) {
		if ((e = strchr(++p, '>')) == NULL)
			break;
		if (strncasecmp(p, "http://", 7) == 0
		    || strncasecmp(p, "https://", 8) == 0) {
			url = xstrndup(p, (size_t) (e - p));
			break;
		}
	}
	free(v);
	return (url);
}

/* message_tenant - the name of the message's tenant into name. */
static void
message_tenant(struct milter_app *app, const struct conn_state *cs, char *name)
{
	struct tenant_facts f;

	f.sasl_username = cs->msg->sasl_username;
	f.client_addr = cs->addr[0] ? cs->addr : NULL;
	f.daemon_name = cs->daemon_name;
	f.sender = cs->msg->from;
	tenant_cache_match(app->tenants, &f, name);
}

/* track_begin - see track.h. */
struct track_msg *
track_begin(struct milter_app *app, const struct conn_state *cs)
{
	const struct config *cfg = cs->set->cfg;
	const struct msg_state *ms = cs->msg;
	char tenant[TENANT_NAME_MAX + 1];
	struct track_msg *t;
	json_object *o;

	if (!track_on_anywhere(cs->set, app->tenants) || outgoing_reason(cs, ms) == NULL)
		return (NULL);
	t = xcalloc(1, sizeof(*t));
	t->url = cs->set->tracking_url ? xstrdup(cs->set->tracking_url) : NULL;
	t->opens = cfg->track_opens;
	t->clicks = cfg->track_clicks;
	t->unsubscribe = cfg->unsubscribe;
	t->excluded = list_copy(cfg->excluded_click_domains);
	t->max_body = (size_t) cfg->track_max_body;
	message_tenant(app, cs, tenant);
	if ((o = tenant_cache_settings(app->tenants, tenant)) != NULL) {
		tenant_override(t, o, tenant);
		json_object_put(o);
	}
	if (t->url == NULL) {
		track_msg_free(t);
		return (NULL);
	}
	header_narrow(t, cs);
	if (ms->list_unsub != NULL) {
		t->unsubscribe = 0; /* the application's own stays */
		t->own_unsub = own_unsubscribe(ms->list_unsub);
	}
	if (ms->app_signed && !cfg->track_signed && (t->opens || t->clicks)) {
		t->opens = t->clicks = t->unsubscribe = 0;
		t->skip = "signed by the application (DKIM-Signature or ARC-Seal) and "
			  "track_signed = no";
	}
	if (ms->ctype != NULL)
		t->ctype = header_value_clean(ms->ctype);
	if (ms->cte != NULL)
		t->cte = header_value_clean(ms->cte);
	return (t);
}

/* track_msg_free - release a message's tracking. */
void
track_msg_free(struct track_msg *t)
{
	if (t == NULL)
		return;
	free(t->url);
	list_free(t->excluded);
	free(t->ctype);
	free(t->cte);
	free(t->own_unsub);
	free(t->body);
	free(t->out);
	free(t);
}

/* track_body - see track.h. */
int
track_body(struct track_msg *t, const unsigned char *chunk, size_t len)
{
	if (!t->opens && !t->clicks)
		return (1);
	if (t->over)
		return (1);
	if (t->len + len > t->max_body) {
		t->over = 1;
		free(t->body);
		t->body = NULL;
		t->len = t->cap = 0;
		return (1);
	}
	if (t->len + len > t->cap) {
		size_t cap = t->cap ? t->cap : 65536;

		while (cap < t->len + len)
			cap *= 2;
		t->body = xrealloc(t->body, cap);
		t->cap = cap;
	}
	memcpy(t->body + t->len, chunk, len);
	t->len += len;
	return (0);
}

/* make_url - TRACKING_URL/KIND/TOKEN into out; -1 when it cannot be made. */
static int
make_url(const struct track_msg *t, uint64_t id, enum track_kind kind, unsigned link,
	 char *out, size_t outlen)
{
	struct track_ref ref = { id, kind, link };
	char token[TRACK_TOKEN_SIZE];
	int n;

	if (track_token_make(t->key, &ref, token) != 0)
		return (-1);
	n = snprintf(out, outlen, "%s/%s/%s", t->url, track_path(kind), token);
	return (n > 0 && (size_t) n < outlen ? 0 : -1);
}

/* link_url - the tracking URL of one link, the same index for a repeat. */
static int
link_url(void *ctx, const char *url, char *out, size_t outlen)
{
	struct track_msg *t = ctx;
	unsigned i;

	for (i = 0; i < t->nlinks; i++)
		if (strcmp(t->rec->links[i], url) == 0)
			break;
	if (i == t->nlinks) {
		if (t->nlinks >= TRACK_LINKS_MAX)
			return (-1);
		i = message_record_add_link(t->rec, url);
		t->nlinks++;
	}
	return (make_url(t, t->rec->id, TRACK_CLICK, i, out, outlen));
}

/* reset - forget a previous try's result (store_run retries). */
static void
reset(struct track_msg *t, struct message_record *rec)
{
	char **p;

	for (p = rec->links; p != NULL && *p != NULL; p++)
		free(*p);
	if (rec->links != NULL)
		rec->links[0] = NULL;
	free(rec->track);
	rec->track = NULL;
	free(t->out);
	t->out = NULL;
	t->outlen = 0;
	t->nlinks = t->links = t->parts = 0;
	t->note = NULL;
	t->unsub[0] = 0;
}

/* rewrite - the body's rewrite with the record's id and key. */
static void
rewrite(struct track_msg *t, struct message_record *rec)
{
	char pixel[TRACK_TOKEN_SIZE + 512];
	struct html_track_opts o;
	struct mime_track_result r;
	int rc;

	memset(&o, 0, sizeof(o));
	o.clicks = t->clicks;
	o.pixel_url =
	    t->opens && make_url(t, rec->id, TRACK_OPEN, 0, pixel, sizeof(pixel)) == 0
		? pixel
		: NULL;
	o.excluded_domains = (const char *const *) t->excluded;
	o.unsubscribe_url = t->own_unsub;
	o.link = link_url;
	o.ctx = t;
	t->rec = rec;
	rc = mime_track(t->ctype, t->cte, (const char *) t->body, t->len, &o, &r);
	if (rc == MIME_TRACK_CHANGED) {
		t->out = r.out;
		t->outlen = r.len;
		t->links = r.links;
		t->parts = r.parts;
		rec->track = xstrdup(t->opens && t->clicks ? "all"
				     : t->opens		   ? "opens"
							   : "clicks");
		return;
	}
	reset(t, rec); /* links a part that stayed may have asked for */
	t->note = rc == MIME_TRACK_UNPARSED ? r.why
		  : rc == MIME_TRACK_NOMEM  ? "out of memory"
					    : NULL;
}

/* track_txn - see track.h. */
int
track_txn(struct store_txn *txn, struct message_record *rec, void *track_msg)
{
	struct track_msg *t = track_msg;
	int status;

	reset(t, rec);
	if (!t->unsubscribe && (t->skip != NULL || t->over || t->body == NULL))
		return (STORE_OK);
	if ((status = track_key_get(txn, t->key)) != STORE_OK)
		return (status);
	if (t->unsubscribe) {
		t->unsub[0] = '<';
		if (make_url(t, rec->id, TRACK_UNSUBSCRIBE, 0, t->unsub + 1,
			     sizeof(t->unsub) - 2)
		    == 0)
			strcat(t->unsub, ">");
		else
			t->unsub[0] = 0;
	}
	if (t->skip == NULL && !t->over && t->body != NULL)
		rewrite(t, rec);
	return (STORE_OK);
}

/* track_finish - see track.h. */
void
track_finish(struct milter_app *app, SMFICTX *ctx, struct track_msg *t, const char *qid)
{
	if (t == NULL)
		return;
	if (t->skip != NULL)
		log_info("%s: not tracked: %s", qid, t->skip);
	else if (t->over)
		log_warn("%s: not tracked: body larger than track_max_body (%zu bytes):"
			 " it goes out untouched",
			 qid, t->max_body);
	else if (t->note != NULL)
		log_warn("%s: not tracked: %s: the body goes out untouched", qid,
			 t->note);
	if (t->unsub[0] != 0) {
		if (app->mfi->addheader(ctx, "List-Unsubscribe", t->unsub) != MI_SUCCESS
		    || app->mfi->addheader(ctx, "List-Unsubscribe-Post",
					   "List-Unsubscribe=One-Click")
			   != MI_SUCCESS)
			log_warn("%s: cannot add the List-Unsubscribe headers", qid);
	}
	if (t->out != NULL) {
		if (app->mfi->replacebody(ctx, (unsigned char *) t->out, (int) t->outlen)
		    != MI_SUCCESS)
			log_error("%s: cannot replace the body: it goes out untracked"
				  " (its links are recorded but unused)",
				  qid);
		else
			log_info("%s: tracked: %u links in %u HTML parts%s", qid,
				 t->links, t->parts, t->opens ? ", open pixel" : "");
	}
}
