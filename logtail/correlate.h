/*
 * correlate.h - the per-queue-id state machine that turns parsed Postfix
 * log lines into delivery events.
 *
 * Pure: lines go in with where they were read, events come out through a
 * callback, and the milter's records are asked for through another.  No
 * I/O, no clock: the caller says what time it is (for yearless stamps, and
 * through correlate_tick() for holds waiting on a record).
 *
 * What is known of a message still in Postfix's queue (sender,
 * Message-ID, how it was submitted, recipients still deferred with their
 * last deferral, hold lines whose events wait for the milter's record,
 * delivery lines that wait to learn whether the message is a hop's) is
 * kept per queue id, bounded in number, and can be written out as JSON (for
 * the store's STORE_QUEUE table) and read back after a restart.
 */
#ifndef PH_CORRELATE_H
#define PH_CORRELATE_H

#include <stdint.h>
#include <time.h>
#include <json-c/json.h>

#include "event/event.h"
#include "store/message.h"
#include "tenant/tenant_rules.h"
#include "parse_line.h"

/* Where a line was read: its identity, from which every event key comes. */
struct log_pos {
	const char *source; /* file fingerprint, or "journal" */
	uint64_t offset;    /* byte offset of the line in the file */
	const char *cursor; /* journal cursor, or NULL */
};

struct correlate_event {
	const char *key; /* unique per (line, recipient) */
	const char *queue_id;
	const char *tenant; /* the message's; NULL: the default's */
	/* The callback may take ev's details, output, smtp_enhanced_code
	 * and remote_host (it sets them NULL); ev.message is borrowed,
	 * valid during the call only. */
	struct delivery_event ev;
};

typedef void (*correlate_emit_fn)(struct correlate_event *ev, void *ctx);
/* The milter's record for a queue id (caller frees), or NULL. */
typedef struct message_record *(*correlate_record_fn)(const char *qid, void *ctx);

struct correlate_opts {
	int report;	       /* enum report_scope */
	char **internal_hosts; /* NULL-terminated, may be NULL */
	char **hop_relays;     /* NULL-terminated, may be NULL */
	size_t max_messages;   /* 0: the default cap */
	/*
	 * Seconds a hold line's Held events wait for the milter's record
	 * (cleanup logs "hold: header" before the milter's end-of-message
	 * commits it); 0: no clock, they wait only for cleanup's message-id
	 * line (or the message's next line, or correlate_drain()).
	 */
	double hold_wait;
	/*
	 * Seconds (of the log's time, or the clock's through
	 * correlate_tick()) that a delivery line of a message that may be a
	 * content filter's re-injection waits for the line that names it
	 * "queued as" (the filter's answer to the original may be logged
	 * after the re-injected message's delivery); 0: no wait.
	 */
	double hop_wait;
	/* Nothing saves the state (--print): no list of what changed. */
	int no_save;
};

#define CORRELATE_HOP_WAIT 2.0 /* hop_wait the programs use */

struct correlate;

struct correlate *correlate_new(const struct correlate_opts *opts, correlate_emit_fn emit,
				correlate_record_fn record, void *ctx);
void correlate_free(struct correlate *c);

/* correlate_set_opts - new scope, internal hosts and hop relays (a
 * reload); the lists must outlive their use, as at correlate_new. */
void correlate_set_opts(struct correlate *c, const struct correlate_opts *opts);

/*
 * correlate_set_tenants - the tenants' rules, for the messages that have no
 * milter record (a record names its tenant): they are matched with what
 * the log shows, the smtpd client's sasl_username= and address and the
 * sender.  The daemon-name rule cannot apply: Postfix does not log
 * milter_macro_daemon_name.  Only while rules of SASL usernames or client
 * networks exist are a message's client and username kept (and saved).
 * m (NULL: none) must outlive its use, as the lists at correlate_new.
 */
void correlate_set_tenants(struct correlate *c, const struct tenant_matcher *m);

/* correlate_set_now - the clock for yearless stamps (default: 0 = time()). */
void correlate_set_now(struct correlate *c, time_t now);

/* correlate_feed - one parsed line; emits the events it completes. */
void correlate_feed(struct correlate *c, const struct log_line *line,
		    const struct log_pos *pos);

/*
 * correlate_tick - the time is now (seconds since the epoch): holds whose
 * record has appeared, or whose wait is over, make their Held events (for
 * every recipient of the record, else the one the hold line names), and
 * delivery lines whose hop_wait is over are read as the message's own.
 * Call it before each batch of lines (a hold's wait is counted from the
 * last tick) and after it, and every few milliseconds while
 * correlate_pending() is not 0.  Waiting holds are part of the state that
 * correlate_flush_dirty() writes out, and a later line of the message
 * (qmgr, a delivery, removed) makes them go out first.  Returns the
 * number of hold lines that went out.
 */
int correlate_tick(struct correlate *c, double now);

/* correlate_pending - how many messages have holds or lines waiting. */
size_t correlate_pending(const struct correlate *c);

/* correlate_drain - the input is over: every waiting hold and line goes
 * out now, with what is known. */
void correlate_drain(struct correlate *c);

/*
 * correlate_flush_dirty - for every queue id whose state changed since the
 * last flush: fn(qid, state) with its JSON, or fn(qid, NULL) when it is
 * gone; and, when they changed, the smtp processes' TLS sessions under a
 * key that is no queue id ("#tls").  The callback takes no reference to
 * state.
 */
typedef void (*correlate_state_fn)(const char *qid, json_object *state, void *ctx);
void correlate_flush_dirty(struct correlate *c, correlate_state_fn fn, void *ctx);

/* correlate_restore - take back a state flushed before (a queue id's, or
 * the TLS sessions'); 0 or -1. */
int correlate_restore(struct correlate *c, const char *qid, json_object *state);

/* correlate_count - how many messages are tracked. */
size_t correlate_count(const struct correlate *c);

#endif
