/*
 * classify.h - the bounce classifier: a pure function from Postfix's dsn=
 * value and the reply text to the classification (docs/events.md), the reply
 * code, the RFC 3463 enhanced code and the remote host.
 *
 * The rules are data in layered tables (classify_int.h says the layers and
 * their order); an admin's own rules (classify_rules_file) come first.
 */
#ifndef PH_CLASSIFY_H
#define PH_CLASSIFY_H

#include <stddef.h>

#include "event/event.h"

struct classify_result {
	enum classification classification; /* CLASS_NONE on success */
	int smtp_code;			    /* 0: none */
	char smtp_enhanced_code[16];	    /* "": none */
	char remote_host[256];		    /* "": none */
	int enhanced_from_text;		    /* the code is the reply's, not
					     * the dsn given (Postfix's) */
};

/* When a rule applies: any reply, or only a temporary (4) or permanent (5) one. */
enum classify_when {
	CLASSIFY_ANY,
	CLASSIFY_TEMP,
	CLASSIFY_PERM,
};

/*
 * One rule of a table.  A rule matches when all its conditions hold; in
 * each layer the first matching rule gives the classification.
 */
struct classify_rule {
	const char *text; /* POSIX ERE, case-insensitive; NULL: any */
	const char *code; /* "5.1.1", "*.2.2", "5.7.*" (the enhanced
			   * code) or "552", "4**" (the SMTP code);
			   * NULL: any */
	enum classify_when when;
	enum classification classification;
	const char *source;   /* where the wording comes from */
	const char *host;     /* the remote host or a domain above it
			       * ("google.com"); NULL: any */
	const char *provider; /* the provider or product whose own
			       * wording it is; NULL: general */
};

/* Only this much of a reply is matched against the rules. */
#define CLASSIFY_MATCH_MAX 8192

/*
 * classify - dsn may be NULL or "" (then only the text speaks); text is the
 * part of a Postfix status line in parentheses, or a bare SMTP reply.
 */
void classify(const char *dsn, const char *text, struct classify_result *out);

/*
 * A classify_cache remembers classify()'s verdicts by what the rules read
 * of a reply (its text without addresses, its codes, the remote host), in
 * nslots slots (rounded up to a power of two; a slot's verdict is replaced
 * by the next key that hashes to it).  Verdicts are forgotten when the
 * rules in use change.  One cache per thread.
 */
struct classify_cache;

struct classify_cache *classify_cache_new(size_t nslots);
void classify_cache_free(struct classify_cache *c);

/* classify_cached - classify(), through the cache c (NULL: none). */
void classify_cached(struct classify_cache *c, const char *dsn, const char *text,
		     struct classify_result *out);

/*
 * classify_rules_version - changes whenever the rules in use change
 * (classify_local_use(), classify_without_provider()).
 */
unsigned long classify_rules_version(void);

/*
 * classify_reply_text - the remote's reply without Postfix's "host X said: "
 * and "(in reply to ... command)", written to out.
 */
void classify_reply_text(const char *text, char *out, size_t outlen);

/*
 * Local rules (classify_rules_file, posthook.conf(5)): one rule a line,
 *	CLASSIFICATION WHEN CODE HOST PATTERN
 * the columns of the built-in tables: a classification name
 * (docs/events.md), any|temp|perm, a code pattern as above or "-", a host
 * or domain or "-", and the rest of the line a POSIX ERE matched without
 * case on the reply, its mail addresses left out ("-" alone: any).  '#'
 * starts a comment line.  They are tried before every built-in rule, in
 * the file's order.
 */
struct classify_local;

/*
 * classify_local_parse - the rules of buf (name says where it comes from
 * in errors); NULL with "NAME, line N: why" in err for the first bad rule.
 */
struct classify_local *classify_local_parse(const char *buf, const char *name, char *err,
					    size_t errlen);
void classify_local_free(struct classify_local *l);

/* classify_local_read - the rules of the file at path; NULL with the error. */
struct classify_local *classify_local_read(const char *path, char *err, size_t errlen);

/*
 * classify_local_use - classify() tries l's rules first from now on
 * (NULL: none); takes l, frees the rules used before.  Call it between
 * classifications, from the thread that classifies (start and reload).
 */
void classify_local_use(struct classify_local *l);

/*
 * classify_local_load - read the rules file at path and use it (path NULL
 * or "": no local rules); 0, or -1 with the error and the rules in use
 * unchanged.
 */
int classify_local_load(const char *path, char *err, size_t errlen);

/*
 * classify_without_provider - for measurement only (bench/
 * classify_measure.py through posthookctl classify --without): the
 * built-in rules of that provider are not tried from now on.  -1 when no
 * rule names it.
 */
int classify_without_provider(const char *provider);

/* The built-in rules, all layers in classify.c's order, for tests. */
size_t classify_rule_count(void);
const struct classify_rule *classify_rule_at(size_t i);

/*
 * classify_rule_probe - for tests (not thread-safe): on text as classify()
 * matches it, whether built-in rule i's pattern matches (*regex_match), and
 * the rule's literal pre-filter's verdict (*verdict): 0 the rule cannot
 * match, 2 it matches, 1 regexec() must say (always 1 for a rule without a
 * pre-filter; for a rule whose alternatives are compiled one by one, what
 * classify() decides with them, 0 or 2, instead of 1).  Returns how many
 * alternatives the rule's pre-filter has (0: no pre-filter, the rule is
 * always tried), or -1 when the rule has no text or its pattern did not
 * compile.
 */
int classify_rule_probe(size_t i, const char *text, int *regex_match, int *verdict);

#endif
