/*
 * state.h - the milter's private state: one struct conn_state per SMTP
 * connection (smfi_setpriv), holding the struct msg_state of the message
 * in progress.
 *
 * Allocations here use malloc() and report failure instead of ending the
 * process: a message whose state could not be kept is marked broken and
 * passes untouched (fail open).
 */
#ifndef PH_MILTER_STATE_H
#define PH_MILTER_STATE_H

#include <stddef.h>
#include "app_headers.h"
#include "settings.h"

/* Raw header text kept per header kind, beyond which a value is "huge". */
#define STATE_RAW_MAX (2 * APP_META_MAX_TOTAL)

struct msg_state {
	int broken;	     /* state lost: touch nothing */
	int authenticated;   /* {auth_authen} was set */
	char *sasl_username; /* {auth_authen}, or NULL */
	char *queue_id;	     /* {i} as seen before end of message */
	char *from;	     /* envelope sender without <> */
	char **rcpts;	     /* envelope recipients without <> */
	size_t nrcpts;
	size_t rcpts_cap;
	int ntag; /* instances seen of each app header */
	int nmetadata;
	int ntoken;
	char *tag; /* first instance, raw */
	char *metadata;
	char *token;
	int metadata_huge; /* first instance over STATE_RAW_MAX */
	char *subject;	   /* raw, first instance */
	char *message_id;  /* raw, first instance */
	enum spam_status spam;
	/* What tracking reads (track.c): */
	int ntrack;		 /* PREFIX-Track instances */
	char *track_hdr;	 /* raw, first instance */
	char *ctype;		 /* Content-Type, raw, first instance */
	char *cte;		 /* Content-Transfer-Encoding, raw, first instance */
	int app_signed;		 /* a DKIM-Signature or ARC-Seal is there */
	char *list_unsub;	 /* List-Unsubscribe, raw, first instance */
	struct track_msg *track; /* the message's tracking, or NULL */
	int body_seen;		 /* a body chunk came */
};

struct conn_state {
	struct milter_settings *set; /* held reference */
	int internal_host;	     /* client address in internal_hosts */
	int originating_daemon;	     /* {daemon_name} listed */
	int non_smtp;		     /* sendmail(1): cleanup's localhost, port 0 */
	char addr[64];		     /* client address as text */
	char *daemon_name;	     /* {daemon_name}, or NULL */
	unsigned long noreply;	     /* negotiated SMFIP_NR_* bits */
	int chgfrom;		     /* SMFIF_CHGFROM negotiated (VERP on) */
	int bodies;		     /* bodies negotiated (tracking on) */
	int skip;		     /* SMFIP_SKIP negotiated */
	struct msg_state *msg;	     /* the message in progress, or NULL */
};

/* conn_state_new - NULL when out of memory; holds a settings reference. */
struct conn_state *conn_state_new(struct milter_settings *set);
void conn_state_free(struct conn_state *cs);

/* msg_state_new - a fresh message; NULL when out of memory. */
struct msg_state *msg_state_new(void);
void msg_state_free(struct msg_state *ms);

/* msg_add_rcpt - remember one recipient; -1 when out of memory. */
int msg_add_rcpt(struct msg_state *ms, const char *rcpt);

/*
 * msg_see_header - note one header: count the application's headers, keep
 * the first instance of each header we read.  -1 when out of memory.
 */
int msg_see_header(struct msg_state *ms, const struct milter_settings *set,
		   const char *name, const char *value);

/* strip_angle - a copy of an address without surrounding <>; NULL: OOM. */
char *strip_angle(const char *addr);

#endif
