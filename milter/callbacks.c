/*
 * callbacks.c - libmilter callbacks from connect to close: gather the
 * facts about a connection and a message into the private state.  The work
 * at end of message is in eom.c.
 *
 * Fail open: when state cannot be kept (out of memory) the connection or
 * message is accepted as it is and the reason logged.  With the protocol's
 * no-reply options negotiated, callbacks before end of message cost Postfix
 * no round trip.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "callbacks.h"
#include "util/cidr.h"
#include "eom.h"
#include "util/log.h"
#include "outgoing.h"
#include "state.h"
#include "track.h"

static struct milter_app *the_app;

/* callbacks_init - register the one context. */
void
callbacks_init(struct milter_app *app)
{
	the_app = app;
}

/* milter_app_settings - hold the current settings. */
struct milter_settings *
milter_app_settings(struct milter_app *app)
{
	struct milter_settings *s;

	pthread_mutex_lock(&app->lock);
	s = settings_hold(app->settings);
	pthread_mutex_unlock(&app->lock);
	return s;
}

/* milter_app_swap_settings - replace the settings; old holders keep theirs. */
void
milter_app_swap_settings(struct milter_app *app, struct milter_settings *set)
{
	struct milter_settings *old;

	pthread_mutex_lock(&app->lock);
	old = app->settings;
	app->settings = set;
	pthread_mutex_unlock(&app->lock);
	settings_release(old);
}

/* reply - CONTINUE, or NOREPLY when the MTA agreed to expect none. */
static sfsistat
reply(const struct conn_state *cs, unsigned long nr_bit)
{
	return cs != NULL && (cs->noreply & nr_bit) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* fail_open - let the message pass: ACCEPT, or NOREPLY when no reply is due. */
static sfsistat
fail_open(const struct conn_state *cs, unsigned long nr_bit)
{
	return cs != NULL && (cs->noreply & nr_bit) ? SMFIS_NOREPLY : SMFIS_ACCEPT;
}

/* conn_get - the connection's state, made on first use; NULL when OOM. */
static struct conn_state *
conn_get(SMFICTX *ctx)
{
	struct conn_state *cs = the_app->mfi->getpriv(ctx);
	struct milter_settings *set;

	if (cs != NULL)
		return cs;
	set = milter_app_settings(the_app);
	cs = conn_state_new(set);
	settings_release(set);
	if (cs == NULL)
		return NULL;
	if (the_app->mfi->setpriv(ctx, cs) != MI_SUCCESS) {
		conn_state_free(cs);
		return NULL;
	}
	return cs;
}

/*
 * cb_negotiate - ask for header edits, and for changing the envelope
 * sender only when return_path_domain is set in the settings this
 * connection holds (they cannot change under it: a reload applies to new
 * connections); for bodies and replacing them only when tracking is on
 * somewhere (track.h), with the SKIP reply that ends an untracked body's
 * chunks; and for no needless replies.
 */
sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
	     unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
	     unsigned long *pf3)
{
	static int warned_chgfrom, warned_chgbody;
	const unsigned long want_actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS;

	/*
	 * DATA is not skipped: Postfix sends its DATA macros anyway, and an
	 * unanswered packet just before cleanup takes the connection makes
	 * cleanup's first write wait for a delayed ACK (40 ms) on inet:.
	 */
	const unsigned long skip =
	    SMFIP_NOHELO | SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NOEOH;
	const unsigned long noreply =
	    SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_HDR;
	struct conn_state *cs;

	if ((f0 & want_actions) != want_actions) {
		log_error("the MTA does not allow adding and changing headers:"
			  " posthook-milter stays out of the way");
		return SMFIS_REJECT; /* libmilter: do not use this milter */
	}
	*pf0 = want_actions;
	*pf2 = 0;
	*pf3 = 0;
	/* Without state, ask for no silence: every fail-open reply is due. */
	if ((cs = conn_get(ctx)) == NULL) {
		*pf1 = skip & f1;
		return SMFIS_CONTINUE;
	}
	if (cs->set->verp_domain != NULL) {
		if (f0 & SMFIF_CHGFROM) {
			*pf0 |= SMFIF_CHGFROM;
			cs->chgfrom = 1;
		} else if (!__atomic_exchange_n(&warned_chgfrom, 1, __ATOMIC_RELAXED))
			log_warn("the MTA does not allow changing the envelope sender:"
				 " return_path_domain %s is not applied",
				 cs->set->verp_domain);
	}
	/* the send limit's hold (send_limit.c) */
	*pf0 |= f0 & SMFIF_QUARANTINE;
	cs->quarantine = (f0 & SMFIF_QUARANTINE) != 0;
	*pf1 = (skip | noreply) & f1;
	if (track_on_anywhere(cs->set, the_app->tenants)) {
		if (f0 & SMFIF_CHGBODY) {
			*pf0 |= SMFIF_CHGBODY;
			*pf1 &= ~(unsigned long) SMFIP_NOBODY;
			*pf1 |= f1 & SMFIP_SKIP;
			cs->skip = (f1 & SMFIP_SKIP) != 0;
		} else if (!__atomic_exchange_n(&warned_chgbody, 1, __ATOMIC_RELAXED))
			log_warn("the MTA does not allow replacing bodies: messages are"
				 " not tracked");
	}
	cs->noreply = *pf1 & noreply;
	/* Only the macros we read; Postfix then sends no others. */
	if (the_app->mfi->setsymlist(ctx, SMFIM_CONNECT, "{daemon_name}") != MI_SUCCESS
	    || the_app->mfi->setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen}")
		   != MI_SUCCESS
	    || the_app->mfi->setsymlist(ctx, SMFIM_EOM, "i") != MI_SUCCESS)
		log_warn("cannot ask the MTA for macros: relying on its defaults");
	return SMFIS_CONTINUE;
}

/*
 * client_facts - the address text and the internal_hosts test; returns the
 * client port, or -1 when the address is not IPv4 or IPv6.
 */
static int
client_facts(struct conn_state *cs, const struct sockaddr *sa)
{
	const unsigned char *bytes = NULL;
	int port = -1;

	cs->addr[0] = 0;
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *) sa;

		bytes = (const unsigned char *) &in->sin_addr;
		port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;

		bytes = (const unsigned char *) &in6->sin6_addr;
		port = ntohs(in6->sin6_port);
	}
	if (bytes == NULL)
		return -1;
	if (inet_ntop(sa->sa_family, bytes, cs->addr, sizeof(cs->addr)) == NULL)
		cs->addr[0] = 0;
	cs->internal_host =
	    cidr_list_match_bytes(cs->set->internal_hosts, sa->sa_family, bytes);
	return port;
}

/* cb_connect - who is the client, and is it one of ours? */
sfsistat
cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct conn_state *cs = conn_get(ctx);
	const char *daemon;

	if (cs == NULL) {
		log_error("connect from %s: out of memory: connection passes"
			  " untouched",
			  hostname ? hostname : "unknown");
		return SMFIS_ACCEPT;
	}
	cs->non_smtp = outgoing_is_non_smtp(hostname, client_facts(cs, hostaddr));
	daemon = the_app->mfi->getsymval(ctx, "{daemon_name}");
	cs->originating_daemon = settings_is_originating_daemon(cs->set, daemon);
	free(cs->daemon_name);
	/* Out of memory, the daemon-name tenant rule just does not apply. */
	cs->daemon_name = daemon != NULL && *daemon ? strdup(daemon) : NULL;
	if (log_verbose())
		log_debug("connect from %s[%s] daemon_name=%s internal=%d sendmail=%d",
			  hostname ? hostname : "unknown", cs->addr,
			  daemon ? daemon : "(none)", cs->internal_host, cs->non_smtp);
	return reply(cs, SMFIP_NR_CONN);
}

/* cb_envfrom - a new message begins. */
sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn_state *cs = conn_get(ctx);
	struct msg_state *ms;
	const char *auth, *qid;

	if (cs == NULL)
		return SMFIS_ACCEPT;
	msg_state_free(cs->msg);
	if ((cs->msg = ms = msg_state_new()) == NULL) {
		log_error("NOQUEUE: out of memory: message passes untouched");
		return fail_open(cs, SMFIP_NR_MAIL);
	}
	auth = the_app->mfi->getsymval(ctx, "{auth_authen}");
	ms->authenticated = auth != NULL && *auth != 0;
	if (ms->authenticated && (ms->sasl_username = strdup(auth)) == NULL)
		ms->broken = 1;
	if ((qid = the_app->mfi->getsymval(ctx, "i")) != NULL && *qid != 0
	    && (ms->queue_id = strdup(qid)) == NULL)
		ms->broken = 1;
	if (argv[0] != NULL && (ms->from = strip_angle(argv[0])) == NULL)
		ms->broken = 1;
	return reply(cs, SMFIP_NR_MAIL);
}

/* cb_envrcpt - one recipient. */
sfsistat
cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn_state *cs = the_app->mfi->getpriv(ctx);

	if (cs == NULL || cs->msg == NULL)
		return reply(cs, SMFIP_NR_RCPT);
	if (argv[0] != NULL && !cs->msg->broken && msg_add_rcpt(cs->msg, argv[0]) != 0)
		cs->msg->broken = 1;
	return reply(cs, SMFIP_NR_RCPT);
}

/* cb_header - note the headers we read or remove. */
sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn_state *cs = the_app->mfi->getpriv(ctx);

	if (cs == NULL || cs->msg == NULL)
		return reply(cs, SMFIP_NR_HDR);
	if (!cs->msg->broken
	    && msg_see_header(cs->msg, cs->set, name, value ? value : "") != 0)
		cs->msg->broken = 1;
	return reply(cs, SMFIP_NR_HDR);
}

/*
 * cb_body - one body chunk: kept for a tracked message (track.c); the
 * first decides whether it is.  Once no more are wanted, SKIP spares the
 * MTA sending the rest where it agreed to.
 */
sfsistat
cb_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct conn_state *cs = the_app->mfi->getpriv(ctx);
	struct msg_state *ms;

	if (cs == NULL || (ms = cs->msg) == NULL || ms->broken)
		return SMFIS_CONTINUE;
	if (ms->track == NULL && !ms->body_seen)
		ms->track = track_begin(the_app, cs);
	ms->body_seen = 1;
	if (ms->track == NULL || track_body(ms->track, chunk, len) != 0)
		return cs->skip ? SMFIS_SKIP : SMFIS_CONTINUE;
	return SMFIS_CONTINUE;
}

/* cb_eom - end of message: record, edit headers (eom.c). */
sfsistat
cb_eom(SMFICTX *ctx)
{
	struct conn_state *cs = the_app->mfi->getpriv(ctx);
	sfsistat rc;

	if (cs == NULL || cs->msg == NULL)
		return SMFIS_CONTINUE;
	rc = eom_finish(the_app, ctx, cs);
	msg_state_free(cs->msg);
	cs->msg = NULL;
	return rc;
}

/* cb_abort - the message is gone; the connection may carry on. */
sfsistat
cb_abort(SMFICTX *ctx)
{
	struct conn_state *cs = the_app->mfi->getpriv(ctx);

	if (cs != NULL) {
		msg_state_free(cs->msg);
		cs->msg = NULL;
	}
	return SMFIS_CONTINUE;
}

/* cb_close - the connection is gone. */
sfsistat
cb_close(SMFICTX *ctx)
{
	struct conn_state *cs = the_app->mfi->getpriv(ctx);

	if (cs != NULL) {
		the_app->mfi->setpriv(ctx, NULL);
		conn_state_free(cs);
	}
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
	.xxfi_name = "posthook-milter",
	.xxfi_version = SMFI_VERSION,
	/* The most it may ask for; cb_negotiate asks per connection. */
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGFROM | SMFIF_QUARANTINE
		      | SMFIF_CHGBODY,
	.xxfi_connect = cb_connect,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = cb_envrcpt,
	.xxfi_header = cb_header,
	.xxfi_body = cb_body,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_negotiate = cb_negotiate,
};

/* callbacks_desc - what main() registers. */
struct smfiDesc *
callbacks_desc(void)
{
	return &desc;
}
