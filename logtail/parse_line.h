/*
 * parse_line.h - one Postfix log line to a struct, with no I/O.
 *
 * parse_line() splits the prefix (time stamp, host, program, pid), the
 * queue id and the message, then recognises the message kinds the tailer
 * correlates.  Every string is a span into the caller's line: nothing is
 * copied or allocated, so the struct lives as long as the line.
 *
 * Prefixes: classic syslog ("Nov  3 14:02:11", space-padded day),
 * Postfix's maillog_file ("Nov 03 14:02:11"), RFC 3339 as rsyslog writes
 * it ("2026-11-23T21:40:34.123456+00:00"), and journald records, whose
 * fields arrive separately (parse_journal_fields).
 */
#ifndef PH_PARSE_LINE_H
#define PH_PARSE_LINE_H

#include <stddef.h>
#include <string.h>
#include <time.h>

struct span {
	const char *p;
	size_t len;
};

/* The time stamp as written.  Yearless stamps are local time. */
struct log_stamp {
	int year; /* 0: not in the stamp */
	int mon;  /* 1..12 */
	int mday, hour, min, sec;
	long usec;
	int frac_digits; /* precision: digits after the second */
	int has_offset;	 /* a zone offset was given */
	int offset_sec;	 /* east of UTC */
	double epoch;	 /* journald: the time itself, else 0 */
};

enum line_kind {
	LK_NONE,	       /* not a Postfix line, or unparsable */
	LK_OTHER,	       /* Postfix, but nothing the tailer uses */
	LK_CLEANUP_MESSAGE_ID, /* cleanup: message-id=<...> */
	LK_HOLD,	       /* cleanup/smtpd: hold: or milter-hold: */
	LK_QMGR_FROM,	       /* qmgr: from=<>, size=, nrcpt= */
	LK_QMGR_REMOVED,       /* qmgr: removed */
	LK_QMGR_EXPIRED,       /* qmgr: from=<>, status=expired, ... */
	LK_DELIVERY,	       /* to=<>, relay=, ..., status= (...) */
	LK_SMTPD_CLIENT,       /* smtpd: client=name[addr] */
	LK_PICKUP,	       /* pickup: uid=, from=<> */
	LK_TLS_ESTABLISHED,    /* smtp: TLS connection established/reused to */
};

enum delivery_status {
	DS_UNKNOWN,
	DS_SENT,
	DS_DEFERRED,
	DS_BOUNCED,
	DS_SOFTBOUNCE,
	DS_DELIVERABLE,	  /* address verification probe */
	DS_UNDELIVERABLE, /* address verification probe */
	DS_EXPIRED,
};

struct log_line {
	struct log_stamp stamp;
	struct span host;
	struct span program;	 /* last component: smtp, qmgr, ... */
	struct span syslog_name; /* everything before it: postfix-out */
	long pid;		 /* -1: none */
	struct span queue_id;	 /* empty when none */
	int noqueue;		 /* NOQUEUE */
	struct span msg;	 /* after "QID: ", or after "prog[pid]: " */

	enum line_kind kind;

	/* LK_CLEANUP_MESSAGE_ID */
	struct span message_id; /* without angle brackets */

	/* LK_HOLD: reason, and the envelope cleanup names */
	struct span hold_reason;
	int milter_hold;

	/* LK_QMGR_FROM, LK_QMGR_EXPIRED, LK_PICKUP, LK_HOLD */
	struct span from; /* without angle brackets, may be empty */
	int has_from;
	long long size;
	long nrcpt;
	int force_expired;
	long uid;
	struct span orig_id; /* LK_PICKUP: postsuper -r's old id */

	/* LK_DELIVERY, LK_HOLD */
	struct span to, orig_to;
	int has_orig_to;
	struct span relay;	/* whole relay= value */
	struct span relay_host; /* name in name[addr]:port */
	struct span relay_addr; /* addr */
	struct span relay_port; /* port, may be empty */
	long conn_use;		/* 0: not given */
	double delay;
	double delays[4]; /* a/b/c/d */
	int has_delays;
	struct span tls; /* tls= value (Postfix 3.11), or empty */
	struct span dsn;
	enum delivery_status status;
	struct span status_word;
	struct span text;      /* inside the parentheses */
	struct span queued_as; /* "queued as ID" in text, or empty */

	/* LK_SMTPD_CLIENT */
	struct span client_name, client_addr;
	struct span sasl_username;

	/* LK_TLS_ESTABLISHED: relay_host, relay_addr, relay_port */
};

/*
 * parse_line - parse one line (without its newline).  Returns 0 when the
 * line is a Postfix line (kind may still be LK_OTHER), -1 when it is not.
 */
int parse_line(const char *line, size_t len, struct log_line *out);

/* The length of a classic stamp, "Nov  3 14:02:11". */
#define CLASSIC_STAMP_LEN 15

/*
 * A stamp_memo (zeroed to start) keeps the last classic stamp parsed and
 * its text: a log writes many lines a second, and the next line with the
 * same text gets the same stamp without parsing it again.
 */
struct stamp_memo {
	char text[CLASSIC_STAMP_LEN];
	struct log_stamp stamp; /* to the second: without the fraction */
	int valid;
};

/* parse_line_memo - parse_line() with the stamp of the line before in memo
 * (NULL: none). */
int parse_line_memo(const char *line, size_t len, struct log_line *out,
		    struct stamp_memo *memo);

/*
 * parse_journal_fields - the same for a journald record: its
 * SYSLOG_IDENTIFIER, _PID (or NULL), MESSAGE, and realtime in
 * microseconds.  host may be NULL.
 */
int parse_journal_fields(const char *ident, size_t ident_len, const char *pid,
			 size_t pid_len, const char *msg, size_t msg_len,
			 unsigned long long realtime_usec, const char *host,
			 size_t host_len, struct log_line *out);

/* parse_message - recognise the kind of out->msg (the prefix already set). */
void parse_message(struct log_line *out);

/*
 * log_stamp_resolve - seconds since the epoch for a stamp.  A yearless
 * stamp is local time in the year that puts it nearest before now (a stamp
 * more than a day in the future belongs to last year: a December line
 * read in January).  Returns -1 for an impossible stamp.
 */
int log_stamp_resolve(const struct log_stamp *st, time_t now, double *out);

/* parse_relay - split "name[addr]:port"; addr and port empty when absent. */
void parse_relay(struct span relay, struct span *host, struct span *addr,
		 struct span *port);

/* is_queue_id - short hex or long (base-52 with 'z') Postfix queue id. */
int is_queue_id(const char *p, size_t len);

/* span_eq - the span equals the NUL-terminated s.  Inline: with a
 * literal the length is known when compiling, and it is called for most
 * lines. */
static inline int
span_eq(struct span s, const char *str)
{
	size_t n = strlen(str);

	return (s.len == n && memcmp(s.p, str, n) == 0);
}

#endif
