/*
 * correlate_int.h - what the parts of the correlator share: its state
 * (struct correlate, one struct qstate per queue id) and the functions
 * one part calls in another.  Private to logtail/correlate*.c;
 * correlate.h is the contract.
 *
 *	correlate.c		the state machine: lines in, events out
 *	correlate_queue.c	the table of queue ids, their deferrals
 *	correlate_event.c	event keys, message objects and details
 *	correlate_tls.c		smtp processes' TLS sessions
 *	correlate_hop.c		hops: relays, linking, lines that wait
 *	correlate_held.c	hold lines waiting for the milter's record
 *	correlate_save.c	the state as JSON, out and back
 */
#ifndef PH_CORRELATE_INT_H
#define PH_CORRELATE_INT_H

#include <stdint.h>

#include "util/cidr.h"
#include "util/util.h"
#include "correlate.h"

#define DEFAULT_MAX_MESSAGES 50000
#define TLS_SLOTS 256
#define TLS_STATE_KEY "#tls" /* no queue id starts with "#" */
#define HOP_STATE_KEY "#hop" /* the hop relays learned */
#define LOG_CHECK_S 0.25     /* log time between checks of waits */
#define HOP_RELAYS 8	     /* hop relays learned from the log */
#define VERDICT_SLOTS 512    /* classify() verdicts remembered */

struct classify_cache;

struct deferral {
	struct deferral *next;
	char *rcpt;
	char *program;
	char *relay;
	char *dsn;
	char *text;
	double delay; /* the line's delay= */
	double when;  /* the line's time */
	double time;  /* its delays c + d; < 0: unknown */
	int ssl;      /* its sent_with_ssl, or SSL_UNKNOWN */
};

/*
 * A hold line whose Held events wait for the milter's record: cleanup logs
 * "hold: header ..." while it reads the headers, before the milter's
 * end-of-message has committed the record (see correlate_tick).
 */
struct held {
	struct held *next;
	char *keybase; /* "F/fp/offset" or "J/cursor" */
	char *to;      /* the line's to=, without a record */
	char *reason;
	char *output;
	double when;	 /* the line's time */
	double deadline; /* wall clock; 0: from the next tick */
};

/*
 * A delivery line that waits to learn whether its message is a hop's
 * NEWQID: what parse_message() needs to read it again, where it was read
 * (its events' identity) and its TLS session as it was then.
 */
struct waiting {
	struct waiting *next;
	char *source; /* log_pos: file, or NULL */
	uint64_t offset;
	char *cursor; /* log_pos: journal, or NULL */
	char *program;
	long pid;
	char *msg;	 /* after "QID: " */
	int ssl;	 /* sent_with_ssl then, or SSL_UNKNOWN */
	double when;	 /* the line's time */
	double deadline; /* wall clock; 0: from the next tick */
};

struct qstate {
	struct qstate *hnext;	      /* hash chain */
	struct qstate *pnext, *pprev; /* with held or waiting events */
	struct qstate *older, *newer; /* age order, for the cap */
	char *qid;
	char *from; /* NULL: not seen */
	char *message_id;
	char *origin; /* a hop's original queue id */
	double first_seen;
	int submitted;	     /* this site submitted it */
	char *sasl_username; /* smtpd's, kept for tenant rules */
	char *client_addr;   /* smtpd's client, likewise */
	int loopback;	     /* smtpd client on loopback, no SASL */
	int removed;	     /* qmgr removed it; lines still wait */
	int pinned;	     /* being worked on: not evicted */
	int rec_state;	     /* REC_* */
	struct message_record *rec;
	struct deferral *deferred;
	struct held *held;	 /* oldest first */
	struct waiting *waiting; /* oldest first */
	int dirty;
	int persisted;
};

enum {
	REC_UNKNOWN, /* not asked, or not found yet */
	REC_FOUND,
	REC_NONE, /* queued without a record: final */
};

/* One smtp/lmtp process's current TLS session. */
struct tls_sess {
	long pid; /* 0: free */
	char addr[64];
	char port[8];
	char qid[33]; /* first message sent over it */
};

struct strvec {
	char **v;
	size_t n, cap;
};

struct correlate {
	struct correlate_opts opts;
	struct cidr_list *internal;	      /* opts.internal_hosts, parsed */
	const struct tenant_matcher *tenants; /* NULL: none */
	correlate_emit_fn emit;
	correlate_record_fn record;
	void *ctx;
	time_t now;

	struct qstate **buckets;
	size_t nbuckets;
	size_t count;
	struct qstate *oldest, *newest;
	struct qstate *pending; /* messages with held or waiting lines */
	struct qstate *pending_tail;
	size_t npending;
	double clock;	    /* the last correlate_tick() */
	double log_checked; /* log time of the last wait check */
	/* Relays ("addr:port") this log has shown to be hops. */
	char hop_relay[HOP_RELAYS][72];
	size_t nhop_relay;
	int hop_dirty; /* changed since the last flush */

	struct strvec dirty;
	struct strvec gone;

	struct tls_sess tls[TLS_SLOTS];
	int tls_dirty; /* changed since the last flush */

	/* Yearless stamps: the minute last resolved. */
	struct log_stamp minute_key;
	double minute_base;
	int minute_valid;

	struct buf key; /* the event key being emitted */
	char *scratch;	/* a delivery line's fields, cleaned */
	size_t scratch_cap;

	struct classify_cache *verdicts; /* classify()'s, remembered */
};

/* One delivery attempt, as a delivery line or a saved deferral gives it. */
struct attempt {
	const char *program;
	const char *relay;
	const char *to;
	const char *dsn;
	const char *text;
};

#define SSL_FROM_SESSION (-2) /* on_delivery: ask session_ssl() */

/* correlate.c */
char *span_dup(struct span s);
int is_loopback(struct span addr);
int in_scope(struct correlate *c, struct qstate *qs);
void on_delivery(struct correlate *c, struct qstate *qs, const struct log_line *l,
		 const struct log_pos *pos, double when, int ssl);

/* correlate_queue.c */
void strvec_push(struct strvec *sv, const char *s);
void strvec_clear(struct strvec *sv);
struct qstate *qs_find(struct correlate *c, const char *p, size_t len);
struct qstate *qs_get(struct correlate *c, struct span qid, double when);
void qs_mark_dirty(struct correlate *c, struct qstate *qs);
void qs_forget(struct correlate *c, struct qstate *qs);
void qstate_free(struct qstate *qs);
struct message_record *qs_record(struct correlate *c, struct qstate *qs);
void pend_link(struct correlate *c, struct qstate *qs);
void pend_update(struct correlate *c, struct qstate *qs);
struct deferral *deferral_take(struct qstate *qs, const char *rcpt);
void deferral_add(struct qstate *qs, const struct attempt *a, double delay, double when,
		  double time, int ssl);
void deferral_free(struct deferral *d);

/* correlate_event.c */
char *key_base(const struct log_pos *pos);
void emit_event(struct correlate *c, struct qstate *qs, const struct log_pos *pos,
		const char *rcpt, struct delivery_event *ev);
void emit_key(struct correlate *c, struct qstate *qs, char *key,
	      struct delivery_event *ev);
void fill_message(struct correlate *c, struct qstate *qs, const char *rcpt,
		  struct event_message *m);
int is_remote_program(const char *program);
void describe(struct correlate *c, const struct attempt *a, struct delivery_event *ev);

/* correlate_tls.c */
struct tls_sess *tls_slot(struct correlate *c, long pid);
void on_tls(struct correlate *c, const struct log_line *l);
int line_ssl(struct correlate *c, const struct log_line *l, const char *program,
	     const char *qid);

/* correlate_hop.c */
int is_hop_relay(struct correlate *c, const struct log_line *l);
void hop_relay_learn(struct correlate *c, const struct log_line *l);
struct qstate *link_hop(struct correlate *c, struct qstate *qs, struct span new_qid,
			double when);
int may_be_hop(struct correlate *c, struct qstate *qs);
void waiting_add(struct correlate *c, struct qstate *qs, const struct log_line *l,
		 const struct log_pos *pos, double when);
void waiting_replay_all(struct correlate *c, struct qstate *qs);
void waiting_release(struct correlate *c, struct qstate *qs);
int release_due(struct correlate *c, double log_now, double wall_now);
void waiting_free(struct waiting *w);

/* correlate_held.c */
void on_hold(struct correlate *c, struct qstate *qs, const struct log_line *l,
	     const struct log_pos *pos, double when);
void held_add(struct correlate *c, struct qstate *qs, char *keybase, char *to,
	      char *reason, char *output, double when, double deadline);
int held_flush(struct correlate *c, struct qstate *qs, int wait);
void held_free(struct held *h);

#endif
