/*
 * classify_local.c - the admin's own classification rules
 * (classify_rules_file): read and checked with the file and line of a bad
 * rule, and tried before every built-in rule.
 *
 * A rule a line, the columns of the built-in tables (classify.h):
 *	CLASSIFICATION WHEN CODE HOST PATTERN
 * Parsing is pure (classify_local_parse); classify_local_read reads the
 * file.  The rules in use are swapped at start and reload by the thread
 * that classifies.
 */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify.h"
#include "classify/classify_int.h"
#include "util/file_atomic.h"
#include "util/util.h"

/* One rule: the table's columns, owned, and its compiled pattern. */
struct local_rule {
	struct classify_rule r;
	regex_t re;
	int has_re;
};

struct classify_local {
	struct local_rule *v;
	size_t n;
};

/* The rules classify() tries first; NULL: none. */
static struct classify_local *in_use;

/* classify_local_free - see classify.h. */
void
classify_local_free(struct classify_local *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++) {
		if (l->v[i].has_re)
			regfree(&l->v[i].re);
		free((char *) l->v[i].r.text);
		free((char *) l->v[i].r.code);
		free((char *) l->v[i].r.host);
		free((char *) l->v[i].r.source);
	}
	free(l->v);
	free(l);
}

/* next_field - the blank-separated field at *p, copied to out; 0 if none. */
static int
next_field(const char **p, char *out, size_t outlen)
{
	size_t n = 0;

	while (**p == ' ' || **p == '\t')
		(*p)++;
	while (**p && **p != ' ' && **p != '\t' && **p != '\n') {
		if (n + 1 >= outlen)
			return (0);
		out[n++] = *(*p)++;
	}
	out[n] = 0;
	return (n > 0);
}

/* valid_code - "-" or a code pattern as the built-in rules write them. */
static int
valid_code(const char *c)
{
	size_t i, fields = 1, digits = 0;

	if (strchr(c, '.') == NULL) {
		for (i = 0; i < 3; i++)
			if (!isdigit((unsigned char) c[i]) && c[i] != '*')
				return (0);
		return (c[3] == 0 && (c[0] == '*' || (c[0] >= '2' && c[0] <= '5')));
	}
	for (i = 0; c[i]; i++) {
		if (c[i] == '.') {
			if (digits == 0)
				return (0);
			fields++;
			digits = 0;
		} else if (isdigit((unsigned char) c[i]) || c[i] == '*') {
			digits++;
		} else {
			return (0);
		}
	}
	return (fields == 3 && digits > 0);
}

/*
 * parse_rule - line (one, without its newline) into r; 0, or -1 with why
 * in err.
 */
static int
parse_rule(const char *line, struct local_rule *r, char *err, size_t errlen)
{
	char cls[32], when[32], code[16], host[256], pat[CLASSIFY_MATCH_MAX];
	const char *p = line;
	size_t i, len;
	int rc;

	memset(r, 0, sizeof(*r));
	if (!next_field(&p, cls, sizeof(cls)) || !next_field(&p, when, sizeof(when))
	    || !next_field(&p, code, sizeof(code))
	    || !next_field(&p, host, sizeof(host))) {
		snprintf(err, errlen, "want CLASSIFICATION WHEN CODE HOST PATTERN");
		return (-1);
	}
	if (classification_from_name(cls, &r->r.classification) != 0
	    || r->r.classification == CLASS_NONE) {
		snprintf(err, errlen, "unknown classification \"%s\"", cls);
		return (-1);
	}
	if (strcmp(when, "any") == 0)
		r->r.when = CLASSIFY_ANY;
	else if (strcmp(when, "temp") == 0)
		r->r.when = CLASSIFY_TEMP;
	else if (strcmp(when, "perm") == 0)
		r->r.when = CLASSIFY_PERM;
	else {
		snprintf(err, errlen, "\"%s\" is not any, temp or perm", when);
		return (-1);
	}
	if (strcmp(code, "-") != 0 && !valid_code(code)) {
		snprintf(err, errlen, "\"%s\" is no code pattern (5.7.1, 5.7.*, 55*)",
			 code);
		return (-1);
	}
	while (*p == ' ' || *p == '\t')
		p++;
	len = strlen(p);
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r'))
		len--;
	if (len == 0) {
		snprintf(err, errlen, "no pattern (\"-\": any text)");
		return (-1);
	}
	if (len >= sizeof(pat)) {
		snprintf(err, errlen, "pattern longer than %d bytes",
			 CLASSIFY_MATCH_MAX - 1);
		return (-1);
	}
	/* Lowercased, as the match text is (see classify.c). */
	for (i = 0; i < len; i++)
		pat[i] = (char) tolower((unsigned char) p[i]);
	pat[len] = 0;
	if (strcmp(pat, "-") != 0) {
		if ((rc = regcomp(&r->re, pat, REG_EXTENDED | REG_NOSUB)) != 0) {
			char why[128];

			regerror(rc, &r->re, why, sizeof(why));
			snprintf(err, errlen, "pattern: %s", why);
			return (-1);
		}
		r->has_re = 1;
		r->r.text = xstrdup(pat);
	}
	if (strcmp(code, "-") != 0)
		r->r.code = xstrdup(code);
	if (strcmp(host, "-") != 0)
		r->r.host = xstrdup(host);
	return (0);
}

/* classify_local_parse - see classify.h. */
struct classify_local *
classify_local_parse(const char *buf, const char *name, char *err, size_t errlen)
{
	struct classify_local *l = xcalloc(1, sizeof(*l));
	struct local_rule r;
	const char *p = buf, *eol;
	char line[CLASSIFY_MATCH_MAX + 512], why[256];
	size_t lineno = 0, len, cap = 0;

	for (; *p; p = *eol ? eol + 1 : eol) {
		lineno++;
		eol = p + strcspn(p, "\n");
		len = (size_t) (eol - p);
		while (len > 0 && isspace((unsigned char) *p)) {
			p++;
			len--;
		}
		if (len == 0 || *p == '#')
			continue;
		if (len >= sizeof(line)) {
			snprintf(err, errlen, "%s, line %zu: line too long", name,
				 lineno);
			classify_local_free(l);
			return (NULL);
		}
		memcpy(line, p, len);
		line[len] = 0;
		if (parse_rule(line, &r, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s, line %zu: %s", name, lineno, why);
			classify_local_free(l);
			return (NULL);
		}
		snprintf(why, sizeof(why), "%s, line %zu", name, lineno);
		r.r.source = xstrdup(why);
		if (l->n == cap) {
			cap = cap ? 2 * cap : 8;
			l->v = xrealloc(l->v, cap * sizeof(*l->v));
		}
		l->v[l->n++] = r;
	}
	return (l);
}

/* classify_local_read - see classify.h. */
struct classify_local *
classify_local_read(const char *path, char *err, size_t errlen)
{
	struct classify_local *l;
	size_t len;
	char *buf;

	if ((buf = file_read_all(path, &len)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	if (strlen(buf) != len) {
		snprintf(err, errlen, "%s: a NUL byte in a rules file", path);
		free(buf);
		return (NULL);
	}
	l = classify_local_parse(buf, path, err, errlen);
	free(buf);
	return (l);
}

/* classify_local_load - see classify.h. */
int
classify_local_load(const char *path, char *err, size_t errlen)
{
	struct classify_local *l = NULL;

	if (path != NULL && *path != 0
	    && (l = classify_local_read(path, err, errlen)) == NULL)
		return (-1);
	classify_local_use(l);
	return (0);
}

/* classify_local_use - see classify.h. */
void
classify_local_use(struct classify_local *l)
{
	classify_local_free(in_use);
	in_use = l;
	classify_rules_changed();
}

/* classify_local_apply - see classify_int.h. */
int
classify_local_apply(const char *buf, int severity, struct classify_result *res)
{
	const struct local_rule *r;
	size_t i;

	if (in_use == NULL)
		return (0);
	for (i = 0; i < in_use->n; i++) {
		r = &in_use->v[i];
		if (!classify_rule_applies(&r->r, severity, res))
			continue;
		if (r->has_re && regexec(&r->re, buf, 0, NULL, 0) != 0)
			continue;
		res->classification = r->r.classification;
		return (1);
	}
	return (0);
}
