/*
 * classify.c - the bounce classifier's matcher: from Postfix's dsn= value
 * and the text of a status line to the classification (docs/events.md),
 * the reply code, the RFC 3463 enhanced code and the remote host.
 *
 * The text is read as Postfix logs it: "host NAME[IP] said: REPLY (in reply
 * to ... command)", or Postfix's own words ("connect to ...: Connection
 * refused"), or a bare SMTP reply.  A multi-line reply arrives joined into
 * one line ("550-5.1.1 The ... 550-5.1.1 ... 550 5.1.1 ..."); its
 * continuation codes are removed before the rules see it, so that a rule
 * can match words that a line break split.  The rules see the reply, not
 * the remote's name (a host named "spam-gw" says nothing of the cause);
 * the cause is what follows the last generic prefix of the reply.
 *
 * The tables (classify_int.h says the layers and their order) are compiled
 * once per process, with the literal pre-filter (prefilter.c) that spares
 * most rules regexec(); after that classify() is pure and safe to call from
 * any thread, as long as the admin's rules (classify_local.c, tried first)
 * and classify_without_provider() change only between classifications.
 */
#include <ctype.h>
#include <pthread.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "classify/classify.h"
#include "classify/classify_int.h"
#include "classify/prefilter.h"

/* The built-in rules of every layer, in order, compiled. */
static pthread_once_t rules_once = PTHREAD_ONCE_INIT;
static const struct classify_rule **rules;
static unsigned char *rules_layer;
static regex_t *rules_re;
static unsigned char *rules_ok;
static unsigned char *rules_off; /* classify_without_provider() */
static size_t nrules;
static unsigned long rules_version; /* classify_rules_version() */

/* The generic prefixes by their first byte (find_cause), and their lengths. */
static uint32_t prefix_first[256];
static size_t prefix_len[CLASSIFY_PREFIX_MAX];

/* all_rules - every built-in table, in layer order, into rules[]. */
static int
all_rules(void)
{
	static const struct {
		const struct classify_rule *t;
		const size_t *n;
		enum classify_layer layer;
	} tables[] = {
		{ classify_postfix, &classify_postfix_count, LAYER_POSTFIX },
		{ classify_provider, &classify_provider_count, LAYER_PROVIDER },
		{ classify_causes, &classify_causes_count, LAYER_CAUSE },
		{ classify_detail, &classify_detail_count, LAYER_DETAIL },
		{ classify_weak, &classify_weak_count, LAYER_WEAK },
		{ classify_subject, &classify_subject_count, LAYER_SUBJECT },
	};
	size_t t, j, n = 0;

	for (t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		n += *tables[t].n;
	rules = calloc(n, sizeof(*rules));
	rules_layer = calloc(n, 1);
	rules_re = calloc(n, sizeof(*rules_re));
	rules_ok = calloc(n, 1);
	rules_off = calloc(n, 1);
	if (rules == NULL || rules_layer == NULL || rules_re == NULL || rules_ok == NULL
	    || rules_off == NULL)
		return (-1);
	for (t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		for (j = 0; j < *tables[t].n; j++) {
			rules[nrules] = &tables[t].t[j];
			rules_layer[nrules++] = (unsigned char) tables[t].layer;
		}
	}
	return (0);
}

/*
 * compile_rules - compile every rule's text once; a rule that does not
 * compile is skipped (the test suite compiles each one).  Patterns and text
 * are lowercased instead of using REG_ICASE, which is several times slower
 * in glibc.  Then the pre-filter.
 */
static void
compile_rules(void)
{
	char pat[PATTERN_MAX];
	size_t i, j;
	char **pats;

	if (all_rules() != 0 || (pats = calloc(nrules, sizeof(*pats))) == NULL) {
		free(rules);
		free(rules_layer);
		free(rules_re);
		free(rules_ok);
		free(rules_off);
		rules_re = NULL;
		nrules = 0;
		return;
	}
	for (i = 0; i < nrules; i++) {
		const char *text = rules[i]->text;

		if (text == NULL)
			continue;
		for (j = 0; text[j] && j + 1 < sizeof(pat); j++)
			pat[j] = (char) tolower((unsigned char) text[j]);
		pat[j] = 0;
		if (text[j] == 0
		    && regcomp(&rules_re[i], pat, REG_EXTENDED | REG_NOSUB) == 0) {
			rules_ok[i] = 1;
			pats[i] = strdup(pat);
		}
	}
	prefilter_build(pats, nrules);
	for (i = 0; i < nrules; i++)
		free(pats[i]);
	free(pats);
	for (i = 0; i < classify_prefix_count && i < CLASSIFY_PREFIX_MAX; i++) {
		prefix_len[i] = strlen(classify_prefixes[i].text);
		prefix_first[(unsigned char) classify_prefixes[i].text[0]] |= (uint32_t) 1
									      << i;
	}
}

/* ready - the rules compiled; 0 when they cannot be. */
static int
ready(void)
{
	return (pthread_once(&rules_once, compile_rules) == 0 && rules_re != NULL);
}

/* smtp_code_at - the SMTP reply code at p (followed by space, '-', ':' or
 * the end), or 0. */
static int
smtp_code_at(const char *p)
{
	if (p[0] < '2' || p[0] > '5' || !isdigit((unsigned char) p[1])
	    || !isdigit((unsigned char) p[2]))
		return (0);
	if (p[3] != 0 && p[3] != ' ' && p[3] != '-' && p[3] != ':')
		return (0);
	return ((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
}

/* digits - how many decimal digits (at most max) start at p; 0 if more. */
static size_t
digits(const char *p, size_t max)
{
	size_t n = 0;

	while (isdigit((unsigned char) p[n]))
		if (++n > max)
			return (0);
	return (n);
}

/* enhanced_code_at - length of an RFC 3463 code X.Y.Z at p that stands
 * alone (not part of an IP address or a version), or 0. */
static size_t
enhanced_code_at(const char *start, const char *p)
{
	size_t n1, n2;
	const char *end;

	if (*p < '2' || *p > '5' || p[1] != '.')
		return (0);
	if (p > start && (isalnum((unsigned char) p[-1]) || p[-1] == '.'))
		return (0);
	if ((n1 = digits(p + 2, 3)) == 0 || p[2 + n1] != '.')
		return (0);
	if ((n2 = digits(p + 3 + n1, 3)) == 0)
		return (0);
	end = p + 3 + n1 + n2;
	if (isalpha((unsigned char) *end)
	    || (*end == '.' && isdigit((unsigned char) end[1])))
		return (0);
	return ((size_t) (end - p));
}

/* find_enhanced_code - copy the first enhanced code of text to out. */
static int
find_enhanced_code(const char *text, char *out, size_t outlen)
{
	const char *p;
	size_t len;

	for (p = text; *p; p++) {
		if ((len = enhanced_code_at(text, p)) != 0 && len < outlen) {
			memcpy(out, p, len);
			out[len] = 0;
			return (1);
		}
	}
	return (0);
}

/* valid_dsn - whether dsn is exactly an RFC 3463 code. */
static int
valid_dsn(const char *dsn)
{
	return (dsn != NULL && enhanced_code_at(dsn, dsn) == strlen(dsn)
		&& strlen(dsn) > 0);
}

/*
 * find_host_said - where Postfix's "host NAME[IP] said: " (or "refused to
 * talk to me: ", *greeting then) is in text: the NAME's start and length,
 * and where the remote's reply begins.  0 when the text has none.
 */
static int
find_host_said(const char *text, const char **name, size_t *namelen, const char **reply,
	       int *greeting)
{
	static const char *const verbs[] = { "] said: ", "] refused to talk to me: " };
	const char *p, *n, *close;
	size_t i;

	for (p = strstr(text, "host "); p != NULL; p = strstr(p + 1, "host ")) {
		if (p > text && !isspace((unsigned char) p[-1]) && p[-1] != ':')
			continue;
		n = p + 5;
		for (close = n;
		     *close && *close != '[' && !isspace((unsigned char) *close); close++)
			;
		if (*close != '[' || close == n)
			continue;
		if ((close = strchr(close, ']')) == NULL)
			return (0);
		for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
			if (strncmp(close, verbs[i], strlen(verbs[i])) == 0) {
				*name = n;
				*namelen = (size_t) (strchr(n, '[') - n);
				*reply = close + strlen(verbs[i]);
				*greeting = i == 1;
				return (1);
			}
		}
	}
	return (0);
}

/* valid_host_name - a name for remote_host: printable ASCII, no spaces. */
static int
valid_host_name(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len >= sizeof(((struct classify_result *) 0)->remote_host))
		return (0);
	for (i = 0; i < len; i++)
		if (!isgraph((unsigned char) name[i]) || (unsigned char) name[i] > 126)
			return (0);
	return (1);
}

/* addr_stop - a byte that ends a word that may be a mail address. */
static int
addr_stop(char c)
{
	return (c == ' ' || c == '<' || c == '>' || c == '(' || c == ')' || c == '"'
		|| c == '\'' || c == ',' || c == ';' || c == ':' || c == '[' || c == ']');
}

/*
 * drop_addresses - remove from s every word with an '@': a mail address
 * names no cause, and a local part such as "mailboxfull" or "spam" must
 * not read as one.  In place; only the bytes around each '@' are looked
 * at.
 */
static void
drop_addresses(char *s, size_t len)
{
	size_t r = 0, w = 0, b, e;
	const char *at;

	while ((at = memchr(s + r, '@', len - r)) != NULL) {
		b = e = (size_t) (at - s);
		while (b > r && !addr_stop(s[b - 1]))
			b--;
		while (e < len && !addr_stop(s[e]))
			e++;
		memmove(s + w, s + r, b - r);
		w += b - r;
		r = e;
	}
	if (r == 0)
		return;
	memmove(s + w, s + r, len - r);
	s[w + len - r] = 0;
}

/*
 * match_text - the text the rules see: at most CLASSIFY_MATCH_MAX bytes,
 * with the codes of a multi-line reply's continuation lines removed
 * ("550-5.1.1 " and, after them, the last line's "550 5.1.1 "), without
 * mail addresses, in lowercase.
 */
static void
match_text(const char *text, char *out, size_t outlen)
{
	const char *p = text;
	size_t o = 0, elen;
	int cont = 0, code;

	while (*p && o + 1 < outlen) {
		if ((p == text || p[-1] == ' ') && (code = smtp_code_at(p)) != 0
		    && (p[3] == '-' || (cont == code && p[3] == ' '))) {
			cont = (p[3] == '-') ? code : 0;
			p += 4;
			if ((elen = enhanced_code_at(text, p)) != 0 && p[elen] == ' ')
				p += elen + 1;
			continue;
		}
		out[o++] = (char) tolower((unsigned char) *p++);
	}
	out[o] = 0;
	drop_addresses(out, o);
}

/* classify_code_matches - see classify_int.h. */
int
classify_code_matches(const char *pat, const char *enh, int smtp)
{
	char num[4];
	const char *f;
	size_t flen;

	if (strchr(pat, '.') == NULL) {
		if (smtp == 0)
			return (0);
		num[0] = (char) ('0' + smtp / 100);
		num[1] = (char) ('0' + smtp / 10 % 10);
		num[2] = (char) ('0' + smtp % 10);
		return ((pat[0] == '*' || pat[0] == num[0])
			&& (pat[1] == '*' || pat[1] == num[1])
			&& (pat[2] == '*' || pat[2] == num[2]) && pat[3] == 0);
	}
	if (*enh == 0)
		return (0);
	/* Field by field: "*" or the same digits. */
	for (;;) {
		flen = strcspn(pat, ".");
		f = enh;
		enh += strcspn(enh, ".");
		if (!(flen == 1 && *pat == '*')
		    && (flen != (size_t) (enh - f) || strncmp(pat, f, flen) != 0))
			return (0);
		pat += flen;
		if (*pat == 0 || *enh == 0)
			return (*pat == 0 && *enh == 0);
		pat++;
		enh++;
	}
}

/* classify_host_matches - see classify_int.h. */
int
classify_host_matches(const char *key, const char *host)
{
	size_t kl = strlen(key), hl = strlen(host);

	if (hl < kl || strcasecmp(host + hl - kl, key) != 0)
		return (0);
	return (hl == kl || host[hl - kl - 1] == '.');
}

/* What the reading of a reply found beside its codes. */
struct reading {
	const char *cause; /* in the match text */
	enum classify_subject subject;
	enum classification dflt; /* the prefix's own reading */
};

/*
 * find_cause - the cause is what follows the last generic prefix of buf
 * that is cut; the subject and the default are those of the last prefix
 * that names one (one that is cut first).  Prefixes are looked for only
 * at a word's start, through the mask of those that begin with each byte
 * (a strstr() per prefix costs more than the rules it spares).  A
 * sender's code (X.1.7, X.1.8) concerns the sender when no prefix says
 * otherwise.
 */
static void
find_cause(const char *buf, const char *enh, struct reading *rd)
{
	const struct classify_prefix *p;
	const char *at;
	enum classify_subject weak = SUBJECT_NONE;
	enum classification weak_dflt = CLASS_NONE;
	uint32_t m;
	int k;

	rd->cause = buf;
	for (at = buf; *at; at++) {
		if ((m = prefix_first[(unsigned char) *at]) == 0
		    || (at > buf && isalnum((unsigned char) at[-1])))
			continue;
		for (k = 0; m != 0; k++, m >>= 1) {
			p = &classify_prefixes[k];
			if (!(m & 1) || strncmp(at, p->text, prefix_len[k]) != 0)
				continue;
			if (!p->cut) {
				weak = p->subject;
				weak_dflt = p->dflt;
				continue;
			}
			rd->cause = at + prefix_len[k];
			if (p->subject != SUBJECT_NONE) {
				rd->subject = p->subject;
				rd->dflt = p->dflt;
			}
		}
	}
	if (rd->subject == SUBJECT_NONE && weak != SUBJECT_NONE) {
		rd->subject = weak;
		rd->dflt = weak_dflt;
	}
	if (rd->subject == SUBJECT_NONE
	    && (classify_code_matches("*.1.7", enh, 0)
		|| classify_code_matches("*.1.8", enh, 0))) {
		rd->subject = SUBJECT_SENDER;
		rd->dflt = CLASS_POLICY_REJECTION;
	}
}

/* about_recipient - a class that says what is wrong with a recipient. */
static int
about_recipient(enum classification c)
{
	return (c == CLASS_INVALID_RECIPIENT || c == CLASS_INVALID_DOMAIN
		|| c == CLASS_INACTIVE_MAILBOX || c == CLASS_MAILBOX_FULL);
}

/* classify_rule_applies - see classify_int.h. */
int
classify_rule_applies(const struct classify_rule *r, int severity,
		      const struct classify_result *res)
{
	if (r->when == CLASSIFY_TEMP && severity != 4)
		return (0);
	if (r->when == CLASSIFY_PERM && severity != 5)
		return (0);
	if (r->code != NULL
	    && !classify_code_matches(r->code, res->smtp_enhanced_code, res->smtp_code))
		return (0);
	if (r->host != NULL && !classify_host_matches(r->host, res->remote_host))
		return (0);
	return (1);
}

/*
 * walk - the built-in rules, layer by layer; the prefix's own reading just
 * before the weak words.  A cause that names a recipient's trouble in a
 * reply about the sender or the sending host is the prefix's reading: a
 * refusal of the sender, a block of the host.
 */
static enum classification
walk(const char *buf, const struct reading *rd, int severity,
     const struct classify_result *res)
{
	uint64_t mask[PF_MAX_WORDS], cmask[PF_MAX_WORDS];
	const uint64_t *m;
	const char *text;
	enum classification c;
	size_t i;
	int verdict, on_cause, prefix_done = 0;

	prefilter_scan(buf, mask);
	if (rd->cause != buf)
		prefilter_scan(rd->cause, cmask);
	for (i = 0; i < nrules; i++) {
		if (!prefix_done && rules_layer[i] >= LAYER_WEAK) {
			prefix_done = 1;
			if (rd->dflt != CLASS_NONE)
				return (rd->dflt);
		}
		if (rules_off[i])
			continue;
		/* Most rules have only a text: no call for their conditions. */
		if ((rules[i]->when != CLASSIFY_ANY || rules[i]->code != NULL
		     || rules[i]->host != NULL)
		    && !classify_rule_applies(rules[i], severity, res))
			continue;
		on_cause = rules_layer[i] == LAYER_CAUSE || rules_layer[i] == LAYER_WEAK;
		text = on_cause ? rd->cause : buf;
		m = on_cause && rd->cause != buf ? cmask : mask;
		if (rules[i]->text != NULL) {
			if (!rules_ok[i])
				continue;
			if ((verdict = prefilter_verdict(i, m)) == 1)
				verdict = prefilter_match(i, m, text, &rules_re[i]);
			if (verdict == 0)
				continue;
		}
		c = rules[i]->classification;
		if ((rd->subject == SUBJECT_SENDER || rd->subject == SUBJECT_CLIENT)
		    && about_recipient(c)
		    && (rules_layer[i] == LAYER_CAUSE || rules_layer[i] == LAYER_DETAIL))
			c = rd->dflt;
		return (c);
	}
	return (rd->dflt != CLASS_NONE ? rd->dflt : CLASS_UNCLASSIFIED);
}

/* classify_prepare - see classify_int.h. */
int
classify_prepare(const char *dsn, const char *text, struct classify_result *out,
		 char *buf, size_t buflen, int *severity, int *greeting)
{
	const char *reply, *name;
	size_t namelen;

	memset(out, 0, sizeof(*out));
	out->classification = CLASS_NONE;
	*greeting = 0;
	if (text == NULL)
		text = "";
	if (dsn != NULL && *dsn == 0)
		dsn = NULL;
	if (*text == 0 && !valid_dsn(dsn))
		return (0);

	reply = text;
	if (find_host_said(text, &name, &namelen, &reply, greeting)
	    && valid_host_name(name, namelen)) {
		memcpy(out->remote_host, name, namelen);
		out->remote_host[namelen] = 0;
	}
	while (*reply == ' ')
		reply++;
	out->smtp_code = smtp_code_at(reply);
	if (find_enhanced_code(text, out->smtp_enhanced_code,
			       sizeof(out->smtp_enhanced_code)))
		out->enhanced_from_text = 1;
	else if (valid_dsn(dsn))
		strcpy(out->smtp_enhanced_code, dsn);

	/* Success and failure: the enhanced code's class, else the reply's. */
	if (out->smtp_enhanced_code[0])
		*severity = out->smtp_enhanced_code[0] - '0';
	else
		*severity = out->smtp_code / 100;
	if (*severity == 2)
		return (0);

	match_text(reply, buf, buflen);
	return (1);
}

/* classify_decide - see classify_int.h. */
void
classify_decide(const char *buf, int severity, int greeting, struct classify_result *out)
{
	struct reading rd = { NULL, SUBJECT_NONE, CLASS_NONE };

	if (classify_local_apply(buf, severity, out))
		return;
	if (!ready()) {
		out->classification = CLASS_UNCLASSIFIED;
		return;
	}
	find_cause(buf, out->smtp_enhanced_code, &rd);
	/* Postfix: the server refused us in its greeting. */
	if (greeting && rd.subject == SUBJECT_NONE) {
		rd.subject = SUBJECT_CLIENT;
		rd.dflt = CLASS_SPAM_BLOCK;
	}
	out->classification = walk(buf, &rd, severity, out);
}

/* classify - see classify.h. */
void
classify(const char *dsn, const char *text, struct classify_result *out)
{
	char buf[CLASSIFY_MATCH_MAX + 1];
	int severity, greeting;

	if (classify_prepare(dsn, text, out, buf, sizeof(buf), &severity, &greeting))
		classify_decide(buf, severity, greeting, out);
}

/* classify_reply_text - see classify.h. */
void
classify_reply_text(const char *text, char *out, size_t outlen)
{
	static const char suffix[] = " command)";
	const char *start = text, *end, *name, *open;
	size_t namelen, len;
	int greeting;

	if (outlen == 0)
		return;
	if (text == NULL) {
		*out = 0;
		return;
	}
	(void) find_host_said(text, &name, &namelen, &start, &greeting);
	end = start + strlen(start);
	len = (size_t) (end - start);
	if (len >= sizeof(suffix) - 1
	    && strcmp(end - (sizeof(suffix) - 1), suffix) == 0) {
		for (open = end - 1; open > start; open--) {
			if (strncmp(open, " (in reply to ", 14) == 0) {
				end = open;
				break;
			}
		}
	}
	while (start < end && isspace((unsigned char) *start))
		start++;
	while (end > start && isspace((unsigned char) end[-1]))
		end--;
	len = (size_t) (end - start);
	if (len >= outlen)
		len = outlen - 1;
	memcpy(out, start, len);
	out[len] = 0;
}

/* classify_rules_changed - see classify_int.h. */
void
classify_rules_changed(void)
{
	rules_version++;
}

/* classify_rules_version - see classify.h. */
unsigned long
classify_rules_version(void)
{
	return (rules_version);
}

/* classify_without_provider - see classify.h. */
int
classify_without_provider(const char *provider)
{
	size_t i;
	int found = -1;

	if (!ready())
		return (-1);
	for (i = 0; i < nrules; i++) {
		if (rules[i]->provider != NULL
		    && strcmp(rules[i]->provider, provider) == 0) {
			rules_off[i] = 1;
			found = 0;
			classify_rules_changed();
		}
	}
	return (found);
}

/* classify_rule_count - see classify.h. */
size_t
classify_rule_count(void)
{
	return (ready() ? nrules : 0);
}

/* classify_rule_at - see classify.h. */
const struct classify_rule *
classify_rule_at(size_t i)
{
	return (ready() && i < nrules ? rules[i] : NULL);
}

/* classify_rule_probe - see classify.h. */
int
classify_rule_probe(size_t i, const char *text, int *regex_match, int *verdict)
{
	static char buf[CLASSIFY_MATCH_MAX + 1];
	uint64_t mask[PF_MAX_WORDS];

	*regex_match = 0;
	*verdict = 1;
	if (!ready() || i >= nrules || !rules_ok[i])
		return (-1);
	match_text(text != NULL ? text : "", buf, sizeof(buf));
	*regex_match = regexec(&rules_re[i], buf, 0, NULL, 0) == 0;
	if (prefilter_alts(i) == 0)
		return (0);
	prefilter_scan(buf, mask);
	/* Split rules: the verdict of the alternatives' own expressions. */
	if ((*verdict = prefilter_verdict(i, mask)) == 1 && prefilter_split(i))
		*verdict = prefilter_match(i, mask, buf, &rules_re[i]);
	return ((int) prefilter_alts(i));
}
