/*
 * prefilter.c - the classifier's literal pre-filter: which rules a text
 * cannot match, and which it surely matches, told without regexec().
 *
 * glibc's regexec() costs about a microsecond per rule even when nothing
 * matches, and a failure that no text rule explains walks them all.  So each rule's
 * pattern is read, once, alternative by alternative, for the literal strings every match
 * of that alternative must contain: runs of plain characters, and groups that must match
 * whose every alternative has such a run ("mail ?box (is )?full" must
 * contain "mail" and "full"; "(rejected|blocked) as spam" one of
 * "rejected", "blocked", and " as spam").  The two most selective of
 * those factors are kept per alternative; all the literals of all the
 * rules go into one Aho-Corasick automaton, and one pass over the text
 * says which factors are present.  A rule none of whose alternatives has
 * all its factors present cannot match and is skipped without calling
 * regexec(); an alternative that is one plain string ("user unknown")
 * matches when that string is present, without regexec() either; every
 * other rule is tried as before, in order, so the first rule that matches
 * is the same.  A pattern the reader does not understand, or with an
 * alternative that has no literal, gets no pre-filter: its rule is always
 * tried.  tests/lib/check_classify.c checks, for every rule and every test
 * text, that the pre-filter's verdict agrees with regexec().
 *
 * When regexec() must say, only the alternatives whose factors are all
 * present are tried, each compiled on its own: an unanchored search for
 * "A|B" finds a match exactly when one for A or one for B does, and a
 * small expression is much cheaper for glibc than the rule's whole one
 * (the "mail ?box (is |was )?full" alternative of the mailbox-full rule,
 * not its twelve others).  A rule one of whose alternatives does not compile
 * alone, or that has a back-reference (its number would change), runs its
 * whole expression.  check_classify's pre-filter check covers
 * these verdicts too (classify_rule_probe()).
 */

#include <ctype.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify.h"
#include "classify/prefilter.h"

#define LIT_MAX 64   /* longest literal kept (a longer run is cut) */
#define PF_FACTORS 2 /* factors kept per alternative */

/* A set of literals: every match contains at least one of them. */
struct litset {
	char **s;
	size_t n;
};

/* A top-level alternative as the reader sees it. */
struct alt_info {
	struct litset f[PF_FACTORS]; /* all must be present; n == 0: unused */
	int exact;		     /* the alternative is f[0].s[0] alone */
	size_t start, len;	     /* its text in the pattern */
};

/* A top-level alternative in the automaton: the bits of its factors. */
struct pf_alt {
	uint16_t bit[PF_FACTORS];
	unsigned char nbits;
	unsigned char exact;
};

static struct {
	unsigned char cls[256]; /* byte -> input class, 0: in no literal */
	size_t nclass;
	size_t words;		/* of a factor mask */
	uint32_t *delta;	/* nstates * nclass: the automaton */
	uint64_t *out;		/* nstates * words: factors found */
	unsigned char *has_out; /* nstates */
	struct pf_alt *alts;	/* every rule's alternatives */
	size_t *first;		/* per rule: its first in alts */
	size_t *nalt;		/* per rule: how many; 0: no pre-filter */
	size_t *bits;		/* per rule: its factors' bits end here;
				 * 0 when an alternative has none */
	regex_t *alt_re;	/* every alternative, compiled alone */
	unsigned char *split;	/* per rule: alt_re holds all of its */
} pf;

/* How many rules the pre-filter was built for. */
static size_t pf_n;

/* litset_free - free a set and leave it empty. */
static void
litset_free(struct litset *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->s[i]);
	free(l->s);
	l->s = NULL;
	l->n = 0;
}

/* litset_add - add a copy of s[0..len); -1 when memory runs out. */
static int
litset_add(struct litset *l, const char *s, size_t len)
{
	char **ns, *copy;

	if ((copy = malloc(len + 1)) == NULL)
		return (-1);
	memcpy(copy, s, len);
	copy[len] = 0;
	if ((ns = realloc(l->s, (l->n + 1) * sizeof(*ns))) == NULL) {
		free(copy);
		return (-1);
	}
	l->s = ns;
	l->s[l->n++] = copy;
	return (0);
}

/* litset_score - how selective a set is: its shortest literal (0: none). */
static size_t
litset_score(const struct litset *l)
{
	size_t i, len, min = 0;

	for (i = 0; i < l->n; i++) {
		len = strlen(l->s[i]);
		if (i == 0 || len < min)
			min = len;
	}
	return (min);
}

/* add_factor - keep cand if it is among the nf most selective factors of
 * f (filled from f[0]); cand is consumed. */
static void
add_factor(struct litset *f, size_t nf, struct litset *cand)
{
	size_t k, worst = 0;

	if (cand->n == 0)
		return;
	for (k = 0; k < nf; k++) {
		if (f[k].n == 0) {
			worst = k;
			break;
		}
		if (litset_score(&f[k]) < litset_score(&f[worst]))
			worst = k;
	}
	if (f[worst].n == 0 || litset_score(cand) > litset_score(&f[worst])) {
		litset_free(&f[worst]);
		f[worst] = *cand;
	} else {
		litset_free(cand);
	}
	cand->s = NULL;
	cand->n = 0;
}

/* skip_bracket - past the bracket expression at p ('['), or NULL. */
static const char *
skip_bracket(const char *p)
{
	const char *e;
	char d;

	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p && *p != ']') {
		if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			d = p[1];
			for (e = p + 2; *e && !(e[0] == d && e[1] == ']'); e++)
				;
			if (*e == 0)
				return (NULL);
			p = e + 2;
		} else {
			p++;
		}
	}
	return (*p == ']' ? p + 1 : NULL);
}

/* skip_quantifiers - past the quantifiers at *pp; *optional when the atom
 * may match nothing (or a bound says how often), *plus for '+', *any for
 * any quantifier.  -1 for an interval without its '}'. */
static int
skip_quantifiers(const char **pp, int *optional, int *plus, int *any)
{
	const char *p = *pp, *e;

	*optional = *plus = 0;
	for (;;) {
		if (*p == '?' || *p == '*') {
			*optional = 1;
			p++;
		} else if (*p == '+') {
			*plus = 1;
			p++;
		} else if (*p == '{') {
			if ((e = strchr(p, '}')) == NULL)
				return (-1);
			*optional = 1;
			p = e + 1;
		} else {
			break;
		}
	}
	*any = p != *pp;
	*pp = p;
	return (0);
}

static int lit_alternation(const char **pp, struct litset *out, int depth);

/* flush_run - the literal run so far becomes a candidate factor. */
static int
flush_run(struct litset *f, size_t nf, char *run, size_t *rlen)
{
	struct litset cand = { NULL, 0 };

	if (*rlen == 0)
		return (0);
	if (litset_add(&cand, run, *rlen) != 0)
		return (-1);
	*rlen = 0;
	add_factor(f, nf, &cand);
	return (0);
}

/* free_factors - empty f[0..nf). */
static void
free_factors(struct litset *f, size_t nf)
{
	size_t k;

	for (k = 0; k < nf; k++)
		litset_free(&f[k]);
}

/*
 * lit_sequence - one alternative (up to '|', ')' or the end): in f[0..nf)
 * the most selective factors every match contains (each a set of literals
 * of which one is present): runs of plain characters that must all match,
 * and groups that must match whose every alternative has a factor.  *exact
 * when the alternative is one plain string.  -1 for what is not
 * understood.
 */
static int
lit_sequence(const char **pp, struct litset *f, size_t nf, int *exact, int depth)
{
	const char *p = *pp;
	char run[LIT_MAX], c = 0;
	size_t rlen = 0, k;
	int literal, have_sub, optional, plus, anyq, plain = 1;
	struct litset sub;

	for (k = 0; k < nf; k++) {
		f[k].s = NULL;
		f[k].n = 0;
	}
	while (*p && *p != '|' && *p != ')') {
		literal = have_sub = 0;
		sub.s = NULL;
		sub.n = 0;
		if (*p == '(') {
			p++;
			if (lit_alternation(&p, &sub, depth + 1) != 0)
				goto bad;
			if (*p != ')') {
				litset_free(&sub);
				goto bad;
			}
			p++;
			have_sub = 1;
		} else if (*p == '[') {
			if ((p = skip_bracket(p)) == NULL)
				goto bad;
		} else if (*p == '\\') {
			if (p[1] == 0)
				goto bad;
			c = p[1];
			p += 2;
			/* \w, \b, \1 ...: not a literal */
			literal = !isalnum((unsigned char) c);
		} else if (*p == '.' || *p == '^' || *p == '$') {
			p++;
		} else if (*p == '*' || *p == '+' || *p == '?' || *p == '{') {
			goto bad;
		} else {
			c = *p++;
			literal = 1;
		}
		if (skip_quantifiers(&p, &optional, &plus, &anyq) != 0) {
			litset_free(&sub);
			goto bad;
		}
		if (!literal || anyq)
			plain = 0;
		if (literal && !optional) {
			if (rlen == sizeof(run)) {
				plain = 0;
				if (flush_run(f, nf, run, &rlen) != 0)
					goto bad;
			}
			run[rlen++] = c;
			if (plus && flush_run(f, nf, run, &rlen) != 0)
				goto bad;
			continue;
		}
		if (flush_run(f, nf, run, &rlen) != 0) {
			litset_free(&sub);
			goto bad;
		}
		if (have_sub && !optional)
			add_factor(f, nf, &sub);
		else
			litset_free(&sub);
	}
	if (flush_run(f, nf, run, &rlen) != 0)
		goto bad;
	*exact = plain && f[0].n == 1;
	*pp = p;
	return (0);
bad:
	free_factors(f, nf);
	return (-1);
}

/* lit_alternation - alternatives up to ')' or the end: the union of their
 * best factors, or no set when one alternative has none. */
static int
lit_alternation(const char **pp, struct litset *out, int depth)
{
	const char *p = *pp;
	struct litset alt;
	size_t i;
	int none = 0, exact;

	out->s = NULL;
	out->n = 0;
	if (depth > 16)
		return (-1);
	for (;;) {
		if (lit_sequence(&p, &alt, 1, &exact, depth) != 0) {
			litset_free(out);
			return (-1);
		}
		if (alt.n == 0)
			none = 1;
		for (i = 0; !none && i < alt.n; i++) {
			if (litset_add(out, alt.s[i], strlen(alt.s[i])) != 0) {
				litset_free(&alt);
				litset_free(out);
				return (-1);
			}
		}
		litset_free(&alt);
		if (*p != '|')
			break;
		p++;
	}
	if (none)
		litset_free(out);
	*pp = p;
	return (0);
}

/* free_alts - free what pattern_alts() made. */
static void
free_alts(struct alt_info *alts, size_t n)
{
	size_t j;

	for (j = 0; j < n; j++)
		free_factors(alts[j].f, PF_FACTORS);
	free(alts);
}

/* pattern_alts - the top-level alternatives of a (lowercased) pattern and
 * their factors; *n = 0 when one has none or the pattern is not
 * understood. */
static struct alt_info *
pattern_alts(const char *pat, size_t *n)
{
	const char *p = pat;
	struct alt_info *alts = NULL, *na, ai;

	*n = 0;
	for (;;) {
		ai.start = (size_t) (p - pat);
		if (lit_sequence(&p, ai.f, PF_FACTORS, &ai.exact, 0) != 0)
			goto none;
		ai.len = (size_t) (p - pat) - ai.start;
		if (ai.f[0].n == 0
		    || (na = realloc(alts, (*n + 1) * sizeof(*alts))) == NULL) {
			free_factors(ai.f, PF_FACTORS);
			goto none;
		}
		alts = na;
		alts[(*n)++] = ai;
		if (*p != '|')
			break;
		p++;
	}
	if (*p == 0)
		return (alts);
none:
	free_alts(alts, *n);
	*n = 0;
	return (NULL);
}

/* pf_free - drop the pre-filter: every rule is tried. */
static void
pf_free(void)
{
	if (pf.split != NULL)
		for (size_t i = 0; i < pf_n; i++)
			if (pf.split[i])
				for (size_t j = 0; j < pf.nalt[i]; j++)
					regfree(&pf.alt_re[pf.first[i] + j]);
	free(pf.alt_re);
	free(pf.split);
	free(pf.delta);
	free(pf.out);
	free(pf.has_out);
	free(pf.alts);
	free(pf.first);
	free(pf.nalt);
	free(pf.bits);
	memset(&pf, 0, sizeof(pf));
}

/*
 * pf_build - the automaton of every rule's literals.  On any failure there
 * is no pre-filter, which is slower and gives the same answers.
 */
static void
pf_build(struct alt_info **alts, const size_t *nalts)
{
	size_t i, j, k, m, nstates = 1, cap, total = 0, nbits = 0, nall = 0;
	size_t head, tail, pos = 0, bit = 0;
	uint32_t *queue = NULL, *fail = NULL, s, t, f;
	const unsigned char *l;
	struct litset *fs;

	memset(pf.cls, 0, sizeof(pf.cls));
	pf.nclass = 1;
	for (i = 0; i < pf_n; i++) {
		nall += nalts[i];
		for (j = 0; j < nalts[i]; j++) {
			for (k = 0; k < PF_FACTORS && alts[i][j].f[k].n > 0; k++) {
				nbits++;
				fs = &alts[i][j].f[k];
				for (m = 0; m < fs->n; m++)
					for (l = (const unsigned char *) fs->s[m]; *l;
					     l++, total++)
						if (pf.cls[*l] == 0)
							pf.cls[*l] =
							    (unsigned char) pf.nclass++;
			}
		}
	}
	pf.words = (nbits + 63) / 64;
	if (nbits == 0 || pf.words > PF_MAX_WORDS || total + 1 >= UINT32_MAX)
		goto bad;
	cap = total + 1;
	pf.delta = calloc(cap * pf.nclass, sizeof(*pf.delta));
	pf.out = calloc(cap * pf.words, sizeof(*pf.out));
	pf.has_out = calloc(cap, 1);
	pf.alts = calloc(nall, sizeof(*pf.alts));
	pf.first = calloc(pf_n, sizeof(*pf.first));
	pf.nalt = calloc(pf_n, sizeof(*pf.nalt));
	pf.bits = calloc(pf_n, sizeof(*pf.bits));
	queue = calloc(cap, sizeof(*queue));
	fail = calloc(cap, sizeof(*fail));
	if (pf.delta == NULL || pf.out == NULL || pf.has_out == NULL || pf.alts == NULL
	    || pf.first == NULL || pf.nalt == NULL || pf.bits == NULL || queue == NULL
	    || fail == NULL)
		goto bad;

	/* The trie: 0 is the root, and 0 as an edge means none yet.  A rule's
	 * bits follow the previous rule's. */
	for (i = 0; i < pf_n; i++) {
		int every = 1;

		pf.first[i] = pos;
		pf.nalt[i] = nalts[i];
		for (j = 0; j < nalts[i]; j++, pos++) {
			if (alts[i][j].f[0].n == 0)
				every = 0;
			pf.alts[pos].exact = (unsigned char) alts[i][j].exact;
			for (k = 0; k < PF_FACTORS && alts[i][j].f[k].n > 0; k++, bit++) {
				pf.alts[pos].bit[k] = (uint16_t) bit;
				pf.alts[pos].nbits++;
				fs = &alts[i][j].f[k];
				for (m = 0; m < fs->n; m++) {
					s = 0;
					for (l = (const unsigned char *) fs->s[m]; *l;
					     l++) {
						t = pf.delta[s * pf.nclass + pf.cls[*l]];
						if (t == 0) {
							t = (uint32_t) nstates++;
							pf.delta[s * pf.nclass
								 + pf.cls[*l]] = t;
						}
						s = t;
					}
					pf.out[s * pf.words + bit / 64] |= (uint64_t) 1
									   << (bit % 64);
					pf.has_out[s] = 1;
				}
			}
		}
		pf.bits[i] = every ? bit : 0;
	}
	/* Failure links, breadth first, folded into the transitions. */
	head = tail = 0;
	for (k = 1; k < pf.nclass; k++) {
		if ((t = pf.delta[k]) != 0) {
			fail[t] = 0;
			queue[tail++] = t;
		}
	}
	while (head < tail) {
		s = queue[head++];
		f = fail[s];
		for (k = 0; k < pf.words; k++)
			pf.out[s * pf.words + k] |= pf.out[f * pf.words + k];
		pf.has_out[s] |= pf.has_out[f];
		for (k = 1; k < pf.nclass; k++) {
			t = pf.delta[s * pf.nclass + k];
			if (t != 0) {
				fail[t] = pf.delta[f * pf.nclass + k];
				queue[tail++] = t;
			} else {
				pf.delta[s * pf.nclass + k] = pf.delta[f * pf.nclass + k];
			}
		}
	}
	free(queue);
	free(fail);
	return;
bad:
	free(queue);
	free(fail);
	pf_free();
}

/* prefilter_scan - which factors the (lowercased) text holds. */
void
prefilter_scan(const char *text, uint64_t *mask)
{
	const unsigned char *p;
	uint32_t s = 0;
	size_t k;

	if (pf.delta == NULL)
		return;
	memset(mask, 0, pf.words * sizeof(*mask));
	for (p = (const unsigned char *) text; *p; p++) {
		s = pf.delta[s * pf.nclass + pf.cls[*p]];
		if (pf.has_out[s])
			for (k = 0; k < pf.words; k++)
				mask[k] |= pf.out[s * pf.words + k];
	}
}

/* alt_present - whether every factor of alternative a is in the text's
 * mask of factors found. */
static int
alt_present(const struct pf_alt *a, const uint64_t *mask)
{
	size_t k;

	for (k = 0; k < a->nbits; k++)
		if (!((mask[a->bit[k] / 64] >> (a->bit[k] % 64)) & 1))
			return (0);
	return (1);
}

/*
 * any_bit - whether a bit from lo up to hi (not included) is set in mask:
 * when none of a rule's factors is in the text, none of its alternatives
 * can match, and they need not be looked at one by one.
 */
static int
any_bit(const uint64_t *mask, size_t lo, size_t hi)
{
	for (size_t w = lo / 64; w * 64 < hi; w++) {
		uint64_t m = mask[w];

		if (w == lo / 64)
			m &= ~(uint64_t) 0 << (lo % 64);
		if ((w + 1) * 64 > hi)
			m &= ~(uint64_t) 0 >> (64 - hi % 64);
		if (m != 0)
			return (1);
	}
	return (0);
}

/* prefilter_verdict - for rule i and the factors of a text: 0 when the rule
 * cannot match, 2 when it matches, 1 when regexec() must say. */
int
prefilter_verdict(size_t i, const uint64_t *mask)
{
	const struct pf_alt *a;
	size_t j;
	int maybe = 0;

	if (pf.delta == NULL || pf.nalt[i] == 0)
		return (1);
	if (pf.bits[i] > 0 && !any_bit(mask, pf.alts[pf.first[i]].bit[0], pf.bits[i]))
		return (0);
	for (j = 0; j < pf.nalt[i]; j++) {
		a = &pf.alts[pf.first[i] + j];
		if (!alt_present(a, mask))
			continue;
		if (a->exact)
			return (2);
		maybe = 1;
	}
	return (maybe);
}

/* has_backref - the pattern has a back-reference (\1 .. \9). */
static int
has_backref(const char *p)
{
	for (; *p; p++)
		if (*p == '\\' && p[1] != 0 && isdigit((unsigned char) *++p))
			return (1);
	return (0);
}

/*
 * pf_split - compile each alternative of every rule with more than one
 * alone (see above); a rule where one fails keeps its whole expression.
 */
static void
pf_split(struct alt_info **alts, const size_t *nalts, char *const *pats)
{
	size_t i, j, nall = 0;
	regex_t *re;
	char alt[PATTERN_MAX]; /* a part of a pattern: it fits */

	for (i = 0; i < pf_n; i++)
		nall += nalts[i];
	pf.alt_re = calloc(nall ? nall : 1, sizeof(*pf.alt_re));
	pf.split = calloc(pf_n, 1);
	if (pf.alt_re == NULL || pf.split == NULL) {
		free(pf.alt_re);
		free(pf.split);
		pf.alt_re = NULL;
		pf.split = NULL;
		return;
	}
	for (i = 0; i < pf_n; i++) {
		if (nalts[i] < 2 || pats[i] == NULL || pf.nalt[i] != nalts[i]
		    || has_backref(pats[i]))
			continue;
		for (j = 0; j < nalts[i]; j++) {
			re = &pf.alt_re[pf.first[i] + j];
			memcpy(alt, pats[i] + alts[i][j].start, alts[i][j].len);
			alt[alts[i][j].len] = 0;
			if (alts[i][j].len == 0
			    || regcomp(re, alt, REG_EXTENDED | REG_NOSUB) != 0)
				break;
		}
		if (j == nalts[i]) {
			pf.split[i] = 1;
			continue;
		}
		while (j-- > 0)
			regfree(&pf.alt_re[pf.first[i] + j]);
	}
}

/*
 * prefilter_match - the pre-filter's verdict 1 for rule i, decided: 2 when one of
 * the alternatives whose factors are all present matches text, else 0;
 * the rule's whole expression (whole) when it is not split.
 */
int
prefilter_match(size_t i, const uint64_t *mask, const char *text, const regex_t *whole)
{
	const struct pf_alt *a;
	size_t j;

	if (!prefilter_split(i))
		return (regexec(whole, text, 0, NULL, 0) == 0 ? 2 : 0);
	for (j = 0; j < pf.nalt[i]; j++) {
		a = &pf.alts[pf.first[i] + j];
		if (!alt_present(a, mask))
			continue;
		if (a->exact
		    || regexec(&pf.alt_re[pf.first[i] + j], text, 0, NULL, 0) == 0)
			return (2);
	}
	return (0);
}

/* prefilter_alts - see prefilter.h. */
size_t
prefilter_alts(size_t i)
{
	return (pf.delta != NULL ? pf.nalt[i] : 0);
}

/* prefilter_split - see prefilter.h. */
int
prefilter_split(size_t i)
{
	return (pf.split != NULL && pf.split[i]);
}

/* prefilter_build - see prefilter.h. */
void
prefilter_build(char *const *pats, size_t n)
{
	struct alt_info **alts;
	size_t *nalts;
	size_t i;

	pf_n = n;
	alts = calloc(pf_n, sizeof(*alts));
	nalts = calloc(pf_n, sizeof(*nalts));
	if (alts == NULL || nalts == NULL) {
		free(alts);
		free(nalts);
		return;
	}
	for (i = 0; i < pf_n; i++)
		if (pats[i] != NULL)
			alts[i] = pattern_alts(pats[i], &nalts[i]);
	pf_build(alts, nalts);
	if (pf.delta != NULL)
		pf_split(alts, nalts, pats);
	for (i = 0; i < pf_n; i++)
		free_alts(alts[i], nalts[i]);
	free(alts);
	free(nalts);
}
