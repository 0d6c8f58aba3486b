/*
 * config.c - read posthook.conf into a struct config, driven by the key
 * table in config_keys.c (which holds the keys; this file only their
 * parsing, loading and printing).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cidr.h"
#include "classify/classify.h"
#include "config/config.h"
#include "util/log.h"
#include "util/util.h"

#define FIELD(cfg, k, type) ((type *) ((char *) (cfg) + (k)->offset))

/* config_key_find - look a key up by name */
const struct config_key *
config_key_find(const char *name)
{
	const struct config_key *k;

	for (k = config_keys; k->name != NULL; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

/* list_free - free a NULL-terminated string list */
static void
list_free(char **list)
{
	char **p;

	if (list == NULL)
		return;
	for (p = list; *p != NULL; p++)
		free(*p);
	free(list);
}

/* list_parse - split on commas and white space */
static char **
list_parse(const char *value)
{
	char **list = xcalloc(1, sizeof(char *));
	const char *p = value;
	size_t n = 0;

	while (*p != '\0') {
		size_t len;

		while (*p == ',' || isspace((unsigned char) *p))
			p++;
		len = strcspn(p, ", \t");
		if (len == 0)
			break;
		list = xrealloc(list, (n + 2) * sizeof(char *));
		list[n++] = xstrndup(p, len);
		list[n] = NULL;
		p += len;
	}
	return list;
}

/* set_error - format an error about one key */
static int __attribute__((format(printf, 4, 5)))
set_error(char *err, size_t errlen, const char *key, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s: %s", key, what);
	return -1;
}

/* parse_schedule - the retry schedule: one duration per attempt */
static int
parse_schedule(struct config *cfg, const char *value, char *err, size_t errlen)
{
	char **list = list_parse(value);
	int64_t ms[PH_RETRY_MAX];
	int n;

	for (n = 0; list[n] != NULL; n++) {
		if (n == PH_RETRY_MAX) {
			list_free(list);
			return set_error(err, errlen, "retry_schedule",
					 "more than %d attempts", PH_RETRY_MAX);
		}
		if (parse_duration_ms(list[n], &ms[n]) < 0) {
			set_error(err, errlen, "retry_schedule",
				  "bad delay \"%s\" (use e.g. 0 30s 2m 1h)", list[n]);
			list_free(list);
			return -1;
		}
	}
	list_free(list);
	if (n == 0)
		return set_error(err, errlen, "retry_schedule",
				 "at least one attempt is needed");
	memcpy(cfg->retry_schedule_ms, ms, sizeof(ms[0]) * (size_t) n);
	cfg->retry_count = n;
	return 0;
}

/* parse_networks - a list of networks, each checked */
static int
parse_networks(struct config *cfg, const struct config_key *k, const char *value,
	       char *err, size_t errlen)
{
	char **list = list_parse(value);
	struct cidr_list *nets;
	char why[256];

	nets = cidr_list_new(list, why, sizeof(why));
	if (nets == NULL) {
		list_free(list);
		return set_error(err, errlen, k->name, "%s",
				 why[0] ? why : "out of memory");
	}
	cidr_list_free(nets);
	list_free(*FIELD(cfg, k, char **));
	*FIELD(cfg, k, char **) = list;
	return 0;
}

/* config_set - parse one value for one key */
int
config_set(struct config *cfg, const char *key, const char *value, char *err,
	   size_t errlen)
{
	const struct config_key *k = config_key_find(key);
	const char *const *c;
	long long n;
	char *end;
	int i;

	if (k == NULL)
		return set_error(err, errlen, key, "unknown key");
	switch (k->type) {
	case CT_PATH:
		if (*value != '\0' && *value != '/')
			return set_error(err, errlen, key,
					 "\"%s\" is not an absolute path", value);
		/* FALLTHROUGH */
	case CT_STRING:
		free(*FIELD(cfg, k, char *));
		*FIELD(cfg, k, char *) = xstrdup(value);
		return 0;
	case CT_INT:
	case CT_COUNT:
		errno = 0;
		n = strtoll(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0' || n > INT_MAX
		    || n < (k->type == CT_COUNT ? 0 : 1))
			return set_error(
			    err, errlen, key, "\"%s\" is not a %s integer", value,
			    k->type == CT_COUNT ? "non-negative" : "positive");
		*FIELD(cfg, k, int) = (int) n;
		return 0;
	case CT_BOOL:
		if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0)
			*FIELD(cfg, k, int) = 1;
		else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0)
			*FIELD(cfg, k, int) = 0;
		else
			return set_error(err, errlen, key, "\"%s\" is not yes or no",
					 value);
		return 0;
	case CT_DURATION:
		if (parse_duration_ms(value, FIELD(cfg, k, int64_t)) < 0)
			return set_error(
			    err, errlen, key,
			    "\"%s\" is not a duration (e.g. 200ms, 5s, 2m, 1h, 30d)",
			    value);
		return 0;
	case CT_LIST:
		list_free(*FIELD(cfg, k, char **));
		*FIELD(cfg, k, char **) = list_parse(value);
		return 0;
	case CT_NETWORKS:
		return parse_networks(cfg, k, value, err, errlen);
	case CT_ENUM:
		for (i = 0, c = k->choices; *c != NULL; c++, i++) {
			if (strcmp(*c, value) == 0) {
				*FIELD(cfg, k, int) = i;
				return 0;
			}
		}
		return set_error(err, errlen, key,
				 "\"%s\" is not one of the allowed values", value);
	case CT_SCHEDULE:
		return parse_schedule(cfg, value, err, errlen);
	}
	return set_error(err, errlen, key, "internal error: bad type");
}

/* config_new - every key at its default */
struct config *
config_new(void)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));
	const struct config_key *k;
	char err[512];

	for (k = config_keys; k->name != NULL; k++)
		if (config_set(cfg, k->name, k->def, err, sizeof(err)) < 0)
			log_fatal("default of %s: %s", k->name, err);
	return cfg;
}

/* config_free - release a config */
void
config_free(struct config *cfg)
{
	const struct config_key *k;

	if (cfg == NULL)
		return;
	for (k = config_keys; k->name != NULL; k++) {
		if (k->type == CT_STRING || k->type == CT_PATH)
			free(*FIELD(cfg, k, char *));
		else if (k->type == CT_LIST || k->type == CT_NETWORKS)
			list_free(*FIELD(cfg, k, char **));
	}
	free(cfg->path);
	free(cfg);
}

/*
 * classify_rules_check - the classify_rules_file named is readable and
 * every rule in it is valid; -1 with its file and line.
 */
static int
classify_rules_check(const struct config *cfg, char *err, size_t errlen)
{
	struct classify_local *l;

	if (cfg->classify_rules_file == NULL || *cfg->classify_rules_file == 0)
		return 0;
	if ((l = classify_local_read(cfg->classify_rules_file, err, errlen)) == NULL)
		return -1;
	classify_local_free(l);
	return 0;
}

/* config_load - read a file of key = value lines */
int
config_load(struct config *cfg, const char *path, int must_exist, char *err,
	    size_t errlen)
{
	char kerr[512];
	size_t cap = 0;
	char *line = NULL;
	int lineno = 0;
	int status = 0;
	FILE *fp;

	fp = fopen(path, "r");
	if (fp == NULL) {
		if (errno == ENOENT && !must_exist)
			return 0;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	while (status == 0 && getline(&line, &cap, fp) >= 0) {
		char *key, *value, *eq;

		lineno++;
		key = str_trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s, line %d: expected \"key = value\"",
				 path, lineno);
			status = -1;
			break;
		}
		*eq = '\0';
		value = str_trim(eq + 1);
		key = str_trim(key);
		if (config_set(cfg, key, value, kerr, sizeof(kerr)) < 0) {
			snprintf(err, errlen, "%s, line %d: %s", path, lineno, kerr);
			status = -1;
		}
	}
	if (status == 0 && ferror(fp)) {
		snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
		status = -1;
	}
	free(line);
	fclose(fp);
	if (status == 0 && classify_rules_check(cfg, err, errlen) < 0)
		status = -1;
	if (status == 0) {
		free(cfg->path);
		cfg->path = xstrdup(path);
	}
	return status;
}

/* config_format_value - a key's current value, as it would be written */
char *
config_format_value(const struct config *cfg, const struct config_key *k)
{
	struct buf b;
	char **p;
	int i;

	switch (k->type) {
	case CT_STRING:
	case CT_PATH:
		return xstrdup(*FIELD(cfg, k, char *));
	case CT_INT:
	case CT_COUNT:
		return xasprintf("%d", *FIELD(cfg, k, int));
	case CT_BOOL:
		return xstrdup(*FIELD(cfg, k, int) ? "yes" : "no");
	case CT_ENUM:
		return xstrdup(k->choices[*FIELD(cfg, k, int)]);
	case CT_DURATION:
		return format_duration(*FIELD(cfg, k, int64_t));
	case CT_LIST:
	case CT_NETWORKS:
		buf_init(&b);
		for (p = *FIELD(cfg, k, char **); *p != NULL; p++)
			buf_printf(&b, "%s%s", b.len ? ", " : "", *p);
		return buf_take(&b);
	case CT_SCHEDULE:
		buf_init(&b);
		for (i = 0; i < cfg->retry_count; i++) {
			char *d = format_duration(cfg->retry_schedule_ms[i]);

			buf_printf(&b, "%s%s", i ? " " : "", d);
			free(d);
		}
		return buf_take(&b);
	}
	return xstrdup("");
}
