/*
 * classify_int.h - the classifier's tables and layers, private to
 * lib/classify/: what classify.c walks, in which order, on which text.
 */
#ifndef PH_CLASSIFY_INT_H
#define PH_CLASSIFY_INT_H

#include <stddef.h>

#include "classify/classify.h"

/*
 * The layers, in the order classify.c tries them (the first rule that
 * matches decides).  Each built-in layer is one table:
 *  POSTFIX   Postfix's own texts (classify_vocab.c), on the whole reply.
 *  PROVIDER  where a provider's wording contradicts the general reading
 *            (classify_provider.c), on the whole reply, keyed on the
 *            remote host where the entry names one.
 *  CAUSE     the cause vocabulary (classify_vocab.c), on the cause: the
 *            text after the last generic prefix (classify_prefixes[]).
 *  DETAIL    RFC 3463 details that name a class (classify_status.c).
 *  WEAK      words that name no cause ("rejected", "try later")
 *            (classify_vocab.c), on the cause; tried after the prefix's
 *            own reading.
 *  SUBJECT   RFC 3463 subjects and the SMTP code's class
 *            (classify_status.c).
 */
enum classify_layer {
	LAYER_POSTFIX,
	LAYER_PROVIDER,
	LAYER_CAUSE,
	LAYER_DETAIL,
	LAYER_WEAK,
	LAYER_SUBJECT,
	LAYER_COUNT
};

/* Whose address a generic prefix says was refused. */
enum classify_subject {
	SUBJECT_NONE,
	SUBJECT_RECIPIENT,
	SUBJECT_SENDER,
	SUBJECT_CLIENT, /* the sending host: greeting, HELO, client */
};

/*
 * A generic prefix: the receiver's frame around the cause (Postfix's
 * "Recipient address rejected: ", Exchange's "Remote Server returned").
 * The cause is read after it; when the cause names nothing, the prefix's
 * own reading (dflt, CLASS_NONE: none) comes before the weak words.
 */
struct classify_prefix {
	const char *text; /* lowercase, matched at a word's start */
	enum classify_subject subject;
	enum classification dflt;
	int cut; /* the cause follows it; 0: it only
		  * names the subject, when no prefix
		  * that is cut does */
	const char *source;
};

/* At most this many prefixes (a bit mask of them is kept per byte). */
#define CLASSIFY_PREFIX_MAX 32

extern const struct classify_rule classify_postfix[];
extern const size_t classify_postfix_count;
extern const struct classify_rule classify_provider[];
extern const size_t classify_provider_count;
extern const struct classify_rule classify_causes[];
extern const size_t classify_causes_count;
extern const struct classify_rule classify_weak[];
extern const size_t classify_weak_count;
extern const struct classify_rule classify_detail[];
extern const size_t classify_detail_count;
extern const struct classify_rule classify_subject[];
extern const size_t classify_subject_count;
extern const struct classify_prefix classify_prefixes[];
extern const size_t classify_prefix_count;

/* classify_code_matches - whether a rule's code pattern ("5.7.*", "4**") matches
 * the reply's enhanced code enh ("" none) or SMTP code smtp (0 none). */
int classify_code_matches(const char *pat, const char *enh, int smtp);

/* classify_host_matches - whether host is key or a name below it. */
int classify_host_matches(const char *key, const char *host);

/* classify_rule_applies - rule r's conditions other than its text hold
 * for a reply of that severity (4, 5) and res's codes and host. */
int classify_rule_applies(const struct classify_rule *r, int severity,
			  const struct classify_result *res);

/*
 * classify_local_apply - the admin's rules in use (classify_local.c) on
 * the match text buf: 1 with res->classification set when one matches.
 */
int classify_local_apply(const char *buf, int severity, struct classify_result *res);

/*
 * classify() in two halves, for classify_cached(): classify_prepare() reads
 * the codes and the remote host into out and the text the rules see into
 * buf, and returns 0 when that settles it (success, nothing to read);
 * classify_decide() then sets out->classification from buf, severity,
 * greeting and out's codes and host: nothing else.
 */
int classify_prepare(const char *dsn, const char *text, struct classify_result *out,
		     char *buf, size_t buflen, int *severity, int *greeting);
void classify_decide(const char *buf, int severity, int greeting,
		     struct classify_result *out);

/* classify_rules_changed - the rules in use changed: cached verdicts go. */
void classify_rules_changed(void);

#endif
