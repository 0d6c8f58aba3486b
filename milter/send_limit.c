/*
 * send_limit.c - send volume, limits and learned domains at end of message,
 * inside the milter's one transaction (send_limit.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns/domain.h"
#include "event/event.h"
#include "limit/limit_store.h"
#include "send_limit.h"
#include "store/outbox.h"
#include "store/release.h"
#include "store/tenant_name.h"
#include "store/volume.h"
#include "util/log.h"

/* send_event - queue SendLimit for a scope that entered state s */
static int
send_event(struct store_txn *txn, const struct limits_job *j, const char *scope,
	   enum limit_state s, uint64_t volume, uint64_t limit)
{
	const char *tenant = strcmp(scope, VOLUME_TOTAL) == 0 ? NULL : scope;
	char server[37], host[256], *key;
	json_object *p;
	int rc;

	if ((rc = domain_server_uuid(txn, server)) != STORE_OK)
		return (rc);
	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = 0;
	p = limit_event_payload(server, host, tenant, s, volume, limit);
	key = xasprintf("limit:%s:%s:%.6f", scope, limit_state_name(s), j->now);
	rc = outbox_add_tenant(
	    txn, key, EV_SEND_LIMIT, j->now, p, NULL,
	    tenant != NULL && strcmp(tenant, TENANT_DEFAULT) != 0 ? tenant : NULL);
	if (rc == STORE_EXISTS)
		rc = STORE_OK;
	free(key);
	json_object_put(p);
	return (rc);
}

/* scope_state - the scope's limit state after this message; events */
static int
scope_state(struct store_txn *txn, const struct limits_job *j, const char *scope,
	    uint64_t volume, uint64_t limit)
{
	struct limit_record r;
	enum limit_state fire;
	int state;
	double at[3];
	json_object *o = NULL;
	int rc;

	rc = volume_state_get(txn, scope, &o);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return (rc);
	if (limit_record_from_json(o, &r) != 0)
		memset(&r, 0, sizeof(r));
	json_object_put(o);
	state = r.state;
	memcpy(at, r.event_at, sizeof(at));
	fire = limit_decide(&r, volume, limit, j->now);
	if (fire != LIMIT_OK
	    && (rc = send_event(txn, j, scope, fire, volume, limit)) != STORE_OK)
		return (rc);
	if (state == r.state && memcmp(at, r.event_at, sizeof(at)) == 0)
		return (STORE_OK); /* nothing changed: no write */
	o = limit_record_to_json(&r);
	rc = volume_state_put(txn, scope, o);
	json_object_put(o);
	return (rc);
}

/* learn_domain - the sender's domain joins the tenant's domains list */
static int
learn_domain(struct store_txn *txn, struct limits_job *j)
{
	const char *at = j->sender != NULL ? strrchr(j->sender, '@') : NULL;
	const char *tenant = j->tenant != NULL && strcmp(j->tenant, TENANT_DEFAULT) != 0
				 ? j->tenant
				 : NULL;
	struct domain_record *r = NULL;
	char *d;
	int rc;

	if (at == NULL || (d = domain_name_normal(at + 1)) == NULL)
		return (STORE_OK);
	if (strchr(d, '.') == NULL) { /* a local name is no sending domain */
		free(d);
		return (STORE_OK);
	}
	rc = domain_exists(txn, tenant, d);
	if (rc == STORE_NOTFOUND) {
		r = domain_record_new(tenant, d);
		event_uuid_new(r->uuid);
		r->created = j->now;
		rc = domain_add(txn, r);
		if (rc == STORE_EXISTS)
			rc = STORE_OK;
		else if (rc == STORE_OK)
			snprintf(j->learned, sizeof(j->learned), "%s", d);
	}
	domain_record_free(r);
	free(d);
	return (rc);
}

/* limits_txn - see send_limit.h */
int
limits_txn(struct store_txn *txn, struct limits_job *j)
{
	const char *scope = j->tenant != NULL ? j->tenant : TENANT_DEFAULT;
	uint64_t tv, total, total_limit = (uint64_t) j->cfg->send_limit;
	struct limit_settings ls;
	int rc, over;

	j->verdict = LIMITS_PASS;
	j->unheld = 0;
	j->learned[0] = 0;
	if ((rc = limit_tenant_settings(txn, j->cfg, j->tenant, &ls)) != STORE_OK
	    || (rc = limit_volume(txn, scope, j->now, &tv)) != STORE_OK
	    || (rc = limit_volume(txn, VOLUME_TOTAL, j->now, &total)) != STORE_OK)
		return (rc);
	over = limit_over(tv, ls.tenant_limit) || limit_over(total, total_limit);
	if (over && ls.action == SEND_LIMIT_DEFER)
		j->verdict = LIMITS_DEFER;
	else if (over && ls.action == SEND_LIMIT_HOLD && j->can_hold)
		j->verdict = LIMITS_HOLD;
	else if (over && ls.action == SEND_LIMIT_HOLD)
		j->unheld = 1;
	if (j->verdict == LIMITS_PASS) {
		if ((rc = limit_count(txn, j->tenant, j->now, 1)) != STORE_OK)
			return (rc);
		tv++;
		total++;
	} else if (j->verdict == LIMITS_HOLD
		   && (rc = release_held_add(txn, j->qid, j->tenant, j->now))
			  != STORE_OK) {
		return (rc);
	}
	if (ls.tenant_limit > 0
	    && (rc = scope_state(txn, j, scope, tv, ls.tenant_limit)) != STORE_OK)
		return (rc);
	if (total_limit > 0
	    && (rc = scope_state(txn, j, VOLUME_TOTAL, total, total_limit)) != STORE_OK)
		return (rc);
	if (j->cfg->domains_learn && j->verdict != LIMITS_DEFER)
		rc = learn_domain(txn, j);
	return (rc);
}

/* limits_job_init - see send_limit.h */
void
limits_job_init(struct limits_job *j, const struct config *cfg, const char *tenant,
		const char *sender, const char *qid, int can_hold)
{
	memset(j, 0, sizeof(*j));
	j->cfg = cfg;
	j->tenant = tenant;
	j->sender = sender;
	j->qid = qid;
	j->can_hold = can_hold;
	j->now = now_seconds();
	j->verdict = LIMITS_PASS;
}

/* limits_log - see send_limit.h */
void
limits_log(const struct limits_job *j)
{
	if (j->unheld)
		log_warn("%s: over the send limit but not held: the MTA does not"
			 " allow quarantine",
			 j->qid);
	if (j->learned[0])
		log_info("%s: domain %s learned%s%s", j->qid, j->learned,
			 j->tenant ? " for tenant " : "", j->tenant ? j->tenant : "");
}

/* limits_defer - see send_limit.h */
sfsistat
limits_defer(struct milter_app *app, SMFICTX *ctx, const char *qid)
{
	log_info("%s: tempfail 451 4.7.1: send limit reached (send_limit_action)", qid);
	if (app->mfi->setreply(ctx, "451", "4.7.1", "Send limit reached, try again later")
	    != MI_SUCCESS)
		log_warn("%s: cannot set the reply text", qid);
	return SMFIS_TEMPFAIL;
}

/* limits_hold - see send_limit.h */
void
limits_hold(struct milter_app *app, SMFICTX *ctx, const char *qid)
{
	if (app->mfi->quarantine == NULL
	    || app->mfi->quarantine(ctx, "posthook send limit") != MI_SUCCESS)
		log_error("%s: cannot hold the message (quarantine not allowed):"
			  " it goes on over the send limit",
			  qid);
	else
		log_info("%s: held: send limit reached (send_limit_action)", qid);
}
