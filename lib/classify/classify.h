/*
 * classify.h - the bounce classifier: a pure function from Postfix's dsn=
 * value and the reply text to the classification (docs/events.md), the reply
 * code, the RFC 3463 enhanced code and the remote host.
 *
 * The rules are data (classify_rules.c): ordered, first match wins.
 */
#ifndef PH_CLASSIFY_H
#define PH_CLASSIFY_H

#include "event/event.h"

struct classify_result {
	enum classification classification;	/* CLASS_NONE on success */
	int     smtp_code;			/* 0: none */
	char    smtp_enhanced_code[16];		/* "": none */
	char    remote_host[256];		/* "": none */
	int     enhanced_from_text;		/* the code is the reply's, not
						 * the dsn given (Postfix's) */
};

/* When a rule applies: any reply, or only a temporary (4) or permanent (5) one. */
enum classify_when {
	CLASSIFY_ANY,
	CLASSIFY_TEMP,
	CLASSIFY_PERM,
};

/*
 * One rule of the table in classify_rules.c.  A rule matches when all its
 * conditions hold; the first matching rule gives the classification.
 */
struct classify_rule {
	const char *text;		/* POSIX ERE, case-insensitive; NULL: any */
	const char *code;		/* "5.1.1", "*.2.2", "5.7.*" (the enhanced
					 * code) or "552", "4**" (the SMTP code);
					 * NULL: any */
	enum classify_when when;
	enum classification classification;
	const char *source;		/* the provider, filter or RFC it is for */
};

extern const struct classify_rule classify_rules[];
extern const size_t classify_rule_count;

/* Only this much of a reply is matched against the rules. */
#define CLASSIFY_MATCH_MAX	8192

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

/*
 * classify_rule_probe - for tests (not thread-safe): on text as classify()
 * matches it, whether rule i's pattern matches (*regex_match), and the
 * rule's literal pre-filter's verdict (*verdict): 0 the rule cannot match,
 * 2 it matches, 1 regexec() must say (always 1 for a rule without a
 * pre-filter; for a rule whose alternatives are compiled one by one, what
 * classify() decides with them, 0 or 2, instead of 1).  Returns how many alternatives the rule's pre-filter has
 * (0: no pre-filter, the rule is always tried), or -1 when the rule has no
 * text or its pattern did not compile.
 */
int classify_rule_probe(size_t i, const char *text, int *regex_match,
			int *verdict);

#endif
