/*
 * classify.h - the bounce classifier: a pure function from Postfix's dsn=
 * value and the reply text to seed 002's classification, the SMTP reply
 * code, the RFC 3463 enhanced code and the remote host.
 *
 * The rules are data (classify_rules.c): ordered, first match wins.
 */
#ifndef PH_CLASSIFY_H
#define PH_CLASSIFY_H

#include "event.h"

struct classify_result {
	enum classification classification;	/* CLASS_NONE on success */
	int     smtp_code;			/* 0: none */
	char    smtp_enhanced_code[16];		/* "": none */
	char    remote_host[256];		/* "": none */
};

/*
 * classify - dsn may be NULL or "" (then only the text speaks); text is the
 * part of a Postfix status line in parentheses, or a bare SMTP reply.
 */
void classify(const char *dsn, const char *text, struct classify_result *out);

/*
 * classify_reply_text - the remote's reply without Postfix's "host X said: "
 * and "(in reply to ... command)", written to out.
 */
void classify_reply_text(const char *text, char *out, size_t outlen);

#endif
