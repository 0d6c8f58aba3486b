/*
 * bounce_intake.h - what the bounce intake does with one parsed message
 * inside one store transaction: link it to the original message (VERP
 * token in the envelope recipient, then the token header of the returned
 * headers, then the Message-ID; for an abuse report the VERP address in
 * its Original-Mail-From comes second), skip Postfix's own non-delivery
 * notices, queue one MessageBounced per bounced recipient, or one
 * MessageComplained per abuse report (ARF), in the outbox with the
 * message's tenant, and keep what matches nothing in STORE_BOUNCES.
 *
 * The program (bounce/) reads the message, parses it with dsn_parse() and
 * runs bounce_intake_run() through store_run(); posthookctl reads the kept
 * records with bounce_record_list() (bounce_record.h).
 */
#ifndef PH_BOUNCE_INTAKE_H
#define PH_BOUNCE_INTAKE_H

#include <stddef.h>
#include <json-c/json.h>

#include "bounce/dsn.h"
#include "bounce/verp.h"
#include "store/store.h"

/* What became of one message. */
enum bounce_outcome {
	BOUNCE_REPORTED,   /* MessageBounced queued (one or more) */
	BOUNCE_DUPLICATE,  /* seen before: nothing new queued */
	BOUNCE_UNMATCHED,  /* a bounce linked to no message: kept */
	BOUNCE_FEEDBACK,   /* an ARF report linked to no message: kept */
	BOUNCE_OWN_NDR,	   /* Postfix's own notice: the tailer reported it */
	BOUNCE_NOT_BOUNCE, /* delay, delivery report, auto-reply */
	BOUNCE_UNPARSED,   /* nothing recognisable: kept */
	BOUNCE_COMPLAINED, /* an ARF report: MessageComplained queued */
};

struct bounce_intake {
	/* in */
	const char *data; /* the message as received */
	size_t len;
	const struct dsn *dsn;		  /* dsn_parse() of it */
	const char *recipient;		  /* envelope recipient (VERP address) or NULL */
	const char *sender;		  /* envelope sender or NULL */
	const char *return_path_domain;	  /* "" or NULL: any domain */
	const char *const *own_hostnames; /* NULL-terminated, may be NULL */
	double now;
	/* out: reset by every run (store_run may run it again) */
	enum bounce_outcome outcome;
	int reported;	    /* events queued */
	int duplicates;	    /* events whose key was seen */
	char id[65];	    /* hex SHA-256 of the message (its id) */
	char linked_by[16]; /* "verp", "header", "message-id" or "" */
	char queue_id[64];  /* the original message's, or "" */
	char why[256];	    /* a line for the log */
};

/* bounce_message_id - the hex SHA-256 of the message without the trace
 * headers (Return-Path, Received, Delivered-To, X-Original-To) at its top,
 * so that a redelivery has the same id.  out holds 65 bytes. */
void bounce_message_id(const void *data, size_t len, char out[65]);

/* bounce_intake_run - a store_fn: ctx is a struct bounce_intake. */
int bounce_intake_run(struct store_txn *txn, void *ctx);

/* bounce_outcome_name - "reported", "unmatched", ... */
const char *bounce_outcome_name(enum bounce_outcome o);

#endif
