/*
 * prefilter.h - the classifier's literal pre-filter, private to
 * lib/classify/: for rule i of the built-in tables and a text, whether the
 * rule cannot match it, surely matches it, or regexec() must say.  The
 * verdicts never differ from regexec()'s (prefilter.c says how, and
 * check_classify checks every rule through classify_rule_probe()).
 *
 * Built once, with the rules (classify.c's pthread_once); read-only and
 * safe from any thread after that.  When it cannot be built every rule
 * is simply tried.
 */
#ifndef PH_CLASSIFY_PREFILTER_H
#define PH_CLASSIFY_PREFILTER_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#define PATTERN_MAX 1024 /* longest rule pattern, its NUL included */
#define PF_MAX_WORDS 32	 /* words of a factor mask: 64 factors each */

/*
 * prefilter_build - the pre-filter of the n rules whose lowercased
 * patterns are pats[0 .. n) (NULL: a rule that did not compile or has no
 * text), in classify.c's order of the built-in tables.
 */
void prefilter_build(char *const *pats, size_t n);

/* prefilter_scan - which factors the (lowercased) text holds, into mask
 * (PF_MAX_WORDS words); nothing without a pre-filter. */
void prefilter_scan(const char *text, uint64_t *mask);

/* prefilter_verdict - rule i against a scanned text: 0 when it cannot
 * match, 2 when it matches, 1 when regexec() must say. */
int prefilter_verdict(size_t i, const uint64_t *mask);

/* prefilter_match - decide a verdict of 1: 2 when the rule matches text,
 * else 0; whole is the rule's own compiled expression. */
int prefilter_match(size_t i, const uint64_t *mask, const char *text,
		    const regex_t *whole);

/* prefilter_alts - how many alternatives rule i's pre-filter has; 0: none,
 * the rule is always tried. */
size_t prefilter_alts(size_t i);

/* prefilter_split - whether rule i's alternatives are compiled one by one. */
int prefilter_split(size_t i);

#endif
