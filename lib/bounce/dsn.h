/*
 * dsn.h - the bounce parser: the bytes of one mail message in, what it
 * reports out.  Pure: no I/O, no store, no logging; safe from any thread.
 *
 * It reads RFC 3464 delivery status notifications (multipart/report;
 * report-type=delivery-status), RFC 5965 abuse feedback reports (ARF,
 * report-type=feedback-report), the returned message's headers
 * (message/rfc822, text/rfc822-headers), and the common non-standard forms:
 * qmail, Exim, old Sendmail, Exchange and Office 365, Gmail and Yahoo.
 * A message that is none of these but an RFC 3834 auto-reply (or says "Out
 * of Office") is recognised as one.
 *
 * Hostile input is expected: every loop and allocation is bounded by the
 * limits in struct dsn_options, and what a limit cut off is said in
 * dsn->warnings.  The good parts still count.
 */
#ifndef PH_DSN_H
#define PH_DSN_H

#include <stddef.h>
#include <json-c/json.h>

/* Defaults of struct dsn_options (0 there means the default). */
#define DSN_MAX_INPUT (16u << 20) /* bytes of the message read */
#define DSN_MAX_PART (1u << 20)	  /* bytes of one part decoded */
#define DSN_MAX_DEPTH 20	  /* MIME nesting followed */
#define DSN_MAX_RECIPIENTS 1000	  /* recipients kept */
#define DSN_MAX_PARTS 1000	  /* MIME parts visited */
#define DSN_TOKEN_HEADER "X-Posthook-Token"

struct dsn_options {
	const char *token_header; /* NULL: DSN_TOKEN_HEADER */
	size_t max_input;
	size_t max_part;
	int max_depth;
	size_t max_recipients;
};

/* What the message is. */
enum dsn_kind {
	DSN_KIND_UNKNOWN,
	DSN_KIND_BOUNCE,    /* at least one recipient failed */
	DSN_KIND_DELAYED,   /* only delays: not a bounce */
	DSN_KIND_DELIVERED, /* delivered/relayed/expanded: not a bounce */
	DSN_KIND_AUTOREPLY, /* RFC 3834 auto-reply: not a bounce */
	DSN_KIND_FEEDBACK,  /* ARF abuse report: a complaint */
};

/* In which form it said so. */
enum dsn_format {
	DSN_FORMAT_NONE,
	DSN_FORMAT_RFC3464,
	DSN_FORMAT_ARF,
	DSN_FORMAT_QMAIL,
	DSN_FORMAT_EXIM,
	DSN_FORMAT_SENDMAIL,
	DSN_FORMAT_EXCHANGE,
	DSN_FORMAT_GMAIL,
	DSN_FORMAT_YAHOO,
	DSN_FORMAT_GENERIC, /* a bounce-like notice with a reply code */
	DSN_FORMAT_AUTOREPLY,
};

enum dsn_action {
	DSN_ACTION_NONE, /* not given */
	DSN_ACTION_FAILED,
	DSN_ACTION_DELAYED,
	DSN_ACTION_DELIVERED,
	DSN_ACTION_RELAYED,
	DSN_ACTION_EXPANDED,
};

/* dsn->warnings: what was cut off or repaired. */
#define DSN_WARN_TRUNCATED 0x001  /* longer than max_input: rest unread */
#define DSN_WARN_PART_CAP 0x002	  /* a part longer than max_part */
#define DSN_WARN_DEPTH 0x004	  /* nesting deeper than max_depth */
#define DSN_WARN_RCPT_CAP 0x008	  /* more than max_recipients listed */
#define DSN_WARN_NO_HEADERS 0x010 /* the message has no header block */
#define DSN_WARN_BOUNDARY 0x020	  /* a multipart boundary missing or unclosed */
#define DSN_WARN_PARTS_CAP 0x040  /* more than DSN_MAX_PARTS parts */
#define DSN_WARN_ENCODING 0x080	  /* bad base64 or quoted-printable */
#define DSN_WARN_8BIT 0x100	  /* bytes that are not UTF-8 were replaced */
#define DSN_WARN_HEADER_CAP 0x200 /* a header block too long: rest skipped */

/* One recipient the report is about.  Strings are owned, NULL if absent. */
struct dsn_recipient {
	char *final_recipient; /* the address, its "rfc822;" removed */
	char *original_recipient;
	enum dsn_action action;
	char status[16];       /* RFC 3463 "5.1.1", or "" */
	char *diagnostic_type; /* "smtp", "x-postfix", ... */
	char *diagnostic;      /* the reason's text, unfolded */
	char *remote_mta;      /* its "dns;" removed */
	char *last_attempt_date;
	int smtp_code; /* the reply code in diagnostic, or 0 */
	int permanent; /* 1 hard, 0 soft (see dsn.c) */
};

/* Headers of one message: the report's own, or the returned one's. */
struct dsn_headers {
	char *message_id; /* without angle brackets */
	char *token;	  /* the token header's value */
	char *from;
	char *to;
	char *subject;
	char *date;
};

/* An ARF report's fields (RFC 5965). */
struct dsn_feedback {
	char *feedback_type;
	char *user_agent;
	char *version;
	char *original_mail_from;
	char *original_rcpt_to;
	char *source_ip;
	char *arrival_date;
	char *reported_domain;
	char *reported_uri;
};

struct dsn {
	enum dsn_kind kind;
	enum dsn_format format;
	struct dsn_headers self; /* the report message's own headers */
	char *auto_submitted;
	/* RFC 3464 per-message fields */
	char *reporting_mta;
	char *received_from_mta;
	char *arrival_date;
	char *postfix_queue_id; /* X-Postfix-Queue-ID: Postfix's own DSN */
	char *postfix_sender;
	/* per-recipient fields: nrcpt kept of rcpt_seen listed */
	struct dsn_recipient *rcpt;
	size_t nrcpt;
	size_t rcpt_seen;
	struct dsn_headers returned; /* the returned message's headers */
	struct dsn_feedback feedback;
	unsigned warnings; /* DSN_WARN_* */
	size_t parts;	   /* MIME parts visited */
};

/*
 * dsn_parse - parse len bytes (any bytes, NUL included).  opt may be NULL.
 * Never fails: what could not be read is DSN_KIND_UNKNOWN.  Free with
 * dsn_free().  Every string in the result is valid UTF-8 without control
 * characters.
 */
struct dsn *dsn_parse(const void *data, size_t len, const struct dsn_options *opt);
void dsn_free(struct dsn *d);

/* dsn_recipient_failed - whether this recipient bounced. */
int dsn_recipient_failed(const struct dsn_recipient *r);

const char *dsn_kind_name(enum dsn_kind k);
const char *dsn_format_name(enum dsn_format f);
const char *dsn_action_name(enum dsn_action a);

/* dsn_warnings_text - the warning flags as words ("truncated,rcpt_cap"). */
void dsn_warnings_text(unsigned warnings, char *out, size_t outlen);

/* dsn_to_json - everything parsed, as one JSON object (new reference). */
json_object *dsn_to_json(const struct dsn *d);

/* dsn_headers_to_json - one header set as an object. */
json_object *dsn_headers_to_json(const struct dsn_headers *h);

#endif
