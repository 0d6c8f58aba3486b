/*
 * eom.c - end of message.  Everything the milter changes in a message
 * happens here, after the store transaction that records it (record.c),
 * so that a message is never left with a token the store does not know.
 *
 * Fail open: a store that is slow or down, a missing queue id or a failed
 * header edit is logged with the queue id and the message is accepted.
 *
 * VERP: with return_path_domain set (and SMFIF_CHGFROM negotiated), the
 * envelope sender of an outgoing message becomes b+TOKEN@return_path_domain
 * (record.c decides; the record keeps it as verp_sender while `from` stays
 * the application's sender).  Postfix's own null-sender mail keeps <>, and
 * a message that comes back already carrying its VERP sender is left so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_headers.h"
#include "bounce/verp.h"
#include "eom.h"
#include "send_limit.h"
#include "util/log.h"
#include "store/message.h"
#include "outgoing.h"
#include "record.h"
#include "rfc2047.h"
#include "token.h"
#include "track.h"
#include "util/util.h"

#define SUBJECT_MAX_CHARS 200

/* What the application's headers said, after checking. */
struct app_values {
	char *tag;
	json_object *metadata;
	int bad;		    /* something was invalid or repeated */
	const char *metadata_error; /* why metadata was refused, or NULL */
};

/* read_app_headers - parse tag and metadata, logging every problem. */
static int
read_app_headers(const struct msg_state *ms, const struct milter_settings *set,
		 const char *qid, struct app_values *v)
{
	const char *why = NULL;
	int rc;

	memset(v, 0, sizeof(*v));
	if (ms->ntag > 1) {
		log_warn("%s: %d %s headers: keeping the first", qid, ms->ntag,
			 set->hdr_tag);
		v->bad = 1;
	}
	if (ms->tag != NULL) {
		rc = app_tag_parse(ms->tag, &v->tag, &why);
		if (rc == APP_ENOMEM)
			return -1;
		if (rc == APP_INVALID) {
			log_warn("%s: %s ignored: %s", qid, set->hdr_tag, why);
			v->bad = 1;
		}
	}
	if (ms->nmetadata > 1) {
		log_warn("%s: %d %s headers: keeping the first", qid, ms->nmetadata,
			 set->hdr_metadata);
		v->bad = 1;
	}
	if (ms->metadata_huge) {
		v->metadata_error = "metadata is larger than 4 KiB";
		log_warn("%s: %s ignored: %s", qid, set->hdr_metadata, v->metadata_error);
		v->bad = 1;
	} else if (ms->metadata != NULL) {
		rc = app_metadata_parse(ms->metadata, &v->metadata, &why);
		if (rc == APP_ENOMEM)
			return -1;
		if (rc == APP_INVALID) {
			log_warn("%s: %s ignored: %s", qid, set->hdr_metadata, why);
			v->metadata_error = why;
			v->bad = 1;
		}
	}
	return 0;
}

/* build_record - the record of an outgoing message. */
static struct message_record *
build_record(const struct msg_state *ms, const char *qid, struct app_values *v)
{
	struct message_record *r = message_record_new();
	size_t i;

	r->queue_id = xstrdup(qid);
	if (ms->message_id != NULL)
		r->message_id = message_id_strip(ms->message_id);
	r->from = xstrdup(ms->from ? ms->from : "");
	for (i = 0; i < ms->nrcpts; i++)
		message_record_add_recipient(r, ms->rcpts[i]);
	if (ms->subject != NULL)
		r->subject = rfc2047_decode(ms->subject, SUBJECT_MAX_CHARS);
	r->timestamp = now_seconds();
	r->tag = v->tag;
	v->tag = NULL;
	r->metadata = v->metadata;
	v->metadata = NULL;
	if (v->metadata_error != NULL)
		r->metadata_error = xstrdup(v->metadata_error);
	r->direction = xstrdup("outgoing");
	r->spam_status = xstrdup(spam_status_name(ms->spam));
	return r;
}

/* message_tenant - the tenant the rules give this message; NULL: default. */
static char *
message_tenant(struct milter_app *app, const struct conn_state *cs)
{
	struct tenant_facts f;
	char name[TENANT_NAME_MAX + 1];

	f.sasl_username = cs->msg->sasl_username;
	f.client_addr = cs->addr[0] ? cs->addr : NULL;
	f.daemon_name = cs->daemon_name;
	f.sender = cs->msg->from;
	tenant_cache_match(app->tenants, &f, name);
	return (strcmp(name, TENANT_DEFAULT) == 0 ? NULL : xstrdup(name));
}

/* message_verp_domain - the VERP domain for this message, or NULL. */
static const char *
message_verp_domain(const struct conn_state *cs)
{
	const struct msg_state *ms = cs->msg;

	if (cs->set->verp_domain == NULL || !cs->chgfrom)
		return NULL;
	/* Postfix's own notices (and any null-sender mail) keep <>. */
	if (ms->from == NULL || ms->from[0] == 0)
		return NULL;
	return cs->set->verp_domain;
}

/*
 * presented_token - the message's own token header, if it could be ours;
 * else, with VERP on, the token of a sender that already is one of our
 * VERP addresses (a message coming back whose token header was lost).
 */
static char *
presented_token(const struct conn_state *cs)
{
	const struct msg_state *ms = cs->msg;
	char verp[80];
	char *t;

	if (ms->token != NULL && (t = header_value_clean(ms->token)) != NULL) {
		if (token_looks_valid(t))
			return t;
		free(t);
	}
	if (message_verp_domain(cs) != NULL
	    && bounce_verp_token(ms->from, cs->set->verp_domain, verp, sizeof(verp))
	    && token_looks_valid(verp))
		return strdup(verp);
	return NULL;
}

/* remove_all - delete every instance of a header, last first. */
static void
remove_all(struct milter_app *app, SMFICTX *ctx, const char *qid, const char *name,
	   int count)
{
	int i;

	for (i = count; i >= 1; i--)
		if (app->mfi->chgheader(ctx, (char *) name, i, NULL) != MI_SUCCESS)
			log_warn("%s: cannot remove %s header #%d", qid, name, i);
}

/* edit_headers - remove the app's headers; add the token when we have one. */
static void
edit_headers(struct milter_app *app, SMFICTX *ctx, const struct conn_state *cs,
	     const char *qid, const char *token)
{
	const struct msg_state *ms = cs->msg;

	remove_all(app, ctx, qid, cs->set->hdr_tag, ms->ntag);
	remove_all(app, ctx, qid, cs->set->hdr_metadata, ms->nmetadata);
	remove_all(app, ctx, qid, cs->set->hdr_token, ms->ntoken);
	remove_all(app, ctx, qid, cs->set->hdr_track, ms->ntrack);
	if (token != NULL
	    && app->mfi->addheader(ctx, cs->set->hdr_token, (char *) token) != MI_SUCCESS)
		log_warn("%s: cannot add %s header", qid, cs->set->hdr_token);
}

/* refuse - on_bad_metadata = tempfail or reject. */
static sfsistat
refuse(struct milter_app *app, SMFICTX *ctx, const struct conn_state *cs, const char *qid)
{
	int tempfail = cs->set->cfg->on_bad_metadata == BAD_METADATA_TEMPFAIL;
	char *rcode = tempfail ? "451" : "550", *xcode = tempfail ? "4.7.1" : "5.7.1";
	char text[200];

	snprintf(text, sizeof(text), "Invalid %s or %s header", cs->set->hdr_tag,
		 cs->set->hdr_metadata);
	log_info("%s: %s %s %s: %s (on_bad_metadata)", qid,
		 tempfail ? "tempfail" : "reject", rcode, xcode, text);
	if (app->mfi->setreply(ctx, rcode, xcode, text) != MI_SUCCESS)
		log_warn("%s: cannot set the reply text", qid);
	return tempfail ? SMFIS_TEMPFAIL : SMFIS_REJECT;
}

/*
 * record_outgoing - store the record; 0 with res set (res->token to add,
 * res->verp the sender to set or ""), or -1 after logging why.
 */
static int
record_outgoing(struct milter_app *app, const struct conn_state *cs, const char *qid,
		const char *reason, struct app_values *v, struct record_result *res,
		enum limits_verdict *verdict)
{
	struct limits_job lj;
	struct message_record *rec;
	struct record_hook hook = { track_prepare, track_work, cs->msg->track };
	char *presented = presented_token(cs);
	int64_t start = monotonic_ms();
	int status;

	if (app->store == NULL) {
		log_error("%s: not recorded: no store", qid);
		free(presented);
		return -1;
	}
	rec = build_record(cs->msg, qid, v);
	rec->tenant = message_tenant(app, cs);
	limits_job_init(&lj, cs->set->cfg, rec->tenant, cs->msg->from, qid,
			cs->quarantine);
	status = record_message(app->store, cs->set->cfg->milter_store_timeout_ms, rec,
				presented, message_verp_domain(cs), cs->msg->from, &lj,
				cs->msg->track ? &hook : NULL, res);
	*verdict = lj.verdict;
	if (status == STORE_OK)
		limits_log(&lj);
	if (status != STORE_OK) {
		log_error("%s: not recorded: store failed (status %d) after %lld ms;"
			  " message accepted without token%s",
			  qid, status, (long long) (monotonic_ms() - start),
			  message_verp_domain(cs) ? ", its return path unchanged" : "");
		message_record_free(rec);
		free(presented);
		return -1;
	}
	if (lj.verdict == LIMITS_DEFER)
		log_info("%s: not recorded: deferred by the send limit%s%s", qid,
			 rec->tenant ? " of tenant " : "",
			 rec->tenant ? rec->tenant : "");
	else if (res->reused)
		log_info("%s: token=%s id=%llu kept: message came back, record"
			 " moved to this queue id%s%s",
			 qid, res->token, (unsigned long long) res->id,
			 res->verp[0] ? " return_path=" : "", res->verp);
	else
		log_info("%s: id=%llu token=%s outgoing (%s)%s%s%s%s%s%s", qid,
			 (unsigned long long) res->id, res->token, reason,
			 rec->tag ? " tag=" : "", rec->tag ? rec->tag : "",
			 res->verp[0] ? " return_path=" : "", res->verp,
			 rec->tenant ? " tenant=" : "", rec->tenant ? rec->tenant : "");
	message_record_free(rec);
	free(presented);
	return 0;
}

/* set_return_path - the VERP envelope sender; a failure is logged only. */
static void
set_return_path(struct milter_app *app, SMFICTX *ctx, const char *qid, const char *from,
		const char *verp)
{
	char addr[VERP_ADDR_MAX + 3];

	snprintf(addr, sizeof(addr), "<%s>", verp);
	if (app->mfi->chgfrom(ctx, addr, NULL) != MI_SUCCESS)
		log_error("%s: cannot change the envelope sender to %s: the message"
			  " goes with sender <%s>; its bounces are linked by their"
			  " returned headers only",
			  qid, addr, from ? from : "");
}

/* eom_finish - see eom.h. */
sfsistat
eom_finish(struct milter_app *app, SMFICTX *ctx, struct conn_state *cs)
{
	struct msg_state *ms = cs->msg;
	const char *qid = app->mfi->getsymval(ctx, "i");
	const char *reason;
	struct app_values v;
	struct record_result res;
	enum limits_verdict verdict = LIMITS_PASS;
	int recorded;

	if (qid == NULL || *qid == 0)
		qid = ms->queue_id;
	if (ms->broken) {
		log_error("%s: state lost (out of memory): message passes untouched",
			  qid ? qid : "NOQUEUE");
		return SMFIS_CONTINUE;
	}
	if ((reason = outgoing_reason(cs, ms)) == NULL) {
		if (ms->ntag + ms->nmetadata + ms->ntoken > 0)
			log_info("%s: incoming: removing %d application headers",
				 qid ? qid : "NOQUEUE",
				 ms->ntag + ms->nmetadata + ms->ntoken);
		edit_headers(app, ctx, cs, qid ? qid : "NOQUEUE", NULL);
		return SMFIS_CONTINUE;
	}
	if (qid == NULL) {
		log_error("NOQUEUE: outgoing message not recorded: the MTA sent no"
			  " {i} macro (queue id) at end of message");
		edit_headers(app, ctx, cs, "NOQUEUE", NULL);
		return SMFIS_CONTINUE;
	}
	if (read_app_headers(ms, cs->set, qid, &v) != 0) {
		log_error("%s: out of memory: message passes untouched", qid);
		return SMFIS_CONTINUE;
	}
	if (v.bad && cs->set->cfg->on_bad_metadata != BAD_METADATA_ACCEPT) {
		free(v.tag);
		json_object_put(v.metadata);
		return refuse(app, ctx, cs, qid);
	}
	if (ms->track == NULL && !ms->body_seen)
		ms->track = track_begin(app, cs); /* a message with no body */
	recorded = record_outgoing(app, cs, qid, reason, &v, &res, &verdict) == 0;
	free(v.tag);
	json_object_put(v.metadata);
	if (recorded && verdict == LIMITS_DEFER)
		return limits_defer(app, ctx, qid);
	edit_headers(app, ctx, cs, qid, recorded ? res.token : NULL);
	if (recorded && verdict == LIMITS_HOLD)
		limits_hold(app, ctx, qid);
	if (recorded && !res.reused)
		track_finish(app, ctx, ms->track, qid);
	if (recorded && res.verp[0])
		set_return_path(app, ctx, qid, ms->from, res.verp);
	return SMFIS_CONTINUE;
}
