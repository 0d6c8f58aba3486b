/*
 * settings.c - the milter's prepared, reference-counted configuration.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "settings.h"
#include "util/util.h"

/* Longest domain whose VERP address still fits an RFC 5321 path (256). */
#define VERP_DOMAIN_MAX 200

/*
 * verp_domain - return_path_domain checked and lowercased: NULL when it is
 * empty (VERP off), or when it is no domain name (err says why).
 */
static char *
verp_domain(const char *v, char *err, size_t errlen, int *bad)
{
	size_t n = strlen(v), label = 0, i;
	char *d;

	*bad = 0;
	while (n > 0 && v[n - 1] == '.') /* a trailing root dot */
		n--;
	if (n == 0) {
		if (*v != 0)
			goto invalid;
		return NULL;
	}
	if (n > VERP_DOMAIN_MAX)
		goto invalid;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char) v[i];

		if (c == '.') {
			if (label == 0 || v[i - 1] == '-')
				goto invalid;
			label = 0;
		} else if (isalnum(c) || (c == '-' && label > 0)) {
			if (++label > 63)
				goto invalid;
		} else
			goto invalid;
	}
	if (v[n - 1] == '-')
		goto invalid;
	d = xstrndup(v, n);
	for (i = 0; i < n; i++)
		d[i] = (char) tolower((unsigned char) d[i]);
	return d;
invalid:
	*bad = 1;
	snprintf(err, errlen,
		 "return_path_domain: \"%s\" is not a domain name"
		 " (letters, digits, hyphens and dots, at most %d characters)",
		 v, VERP_DOMAIN_MAX);
	return NULL;
}

/* settings_tracking_url - see settings.h. */
char *
settings_tracking_url(const char *url, int *bad)
{
	size_t n = strlen(url), i, skip;

	*bad = 0;
	if (n == 0)
		return NULL;
	skip = strncasecmp(url, "https://", 8) == 0  ? 8
	       : strncasecmp(url, "http://", 7) == 0 ? 7
						     : 0;
	while (n > skip && url[n - 1] == '/')
		n--;
	for (i = 0; i < n; i++)
		if ((unsigned char) url[i] <= ' ' || url[i] == '"' || url[i] == '\''
		    || url[i] == '<' || url[i] == '>' || url[i] == '\\' || url[i] == 0x7f)
			break;
	if (skip == 0 || n == skip || i < n || strchr("/?#", url[skip]) != NULL) {
		*bad = 1;
		return NULL;
	}
	return xstrndup(url, n);
}

/* settings_new - prepare settings from cfg. */
struct milter_settings *
settings_new(struct config *cfg, char *err, size_t errlen)
{
	struct milter_settings *s = xcalloc(1, sizeof(*s));
	int bad;
	char why[200] = "";

	s->refs = 1;
	s->cfg = cfg;

	s->internal_hosts = cidr_list_new(cfg->internal_hosts, why, sizeof(why));
	if (s->internal_hosts == NULL) {
		snprintf(err, errlen, "internal_hosts: %s",
			 why[0] ? why : "out of memory");
		settings_release(s);
		return NULL;
	}
	s->verp_domain = verp_domain(
	    cfg->return_path_domain ? cfg->return_path_domain : "", err, errlen, &bad);
	if (bad) {
		settings_release(s);
		return NULL;
	}
	s->hdr_tag = xasprintf("%s-Tag", cfg->header_prefix);
	s->hdr_metadata = xasprintf("%s-Metadata", cfg->header_prefix);
	s->hdr_token = xasprintf("%s-Token", cfg->header_prefix);
	s->hdr_track = xasprintf("%s-Track", cfg->header_prefix);
	s->tracking_url = settings_tracking_url(cfg->tracking_url, &bad);
	if (bad) {
		snprintf(err, errlen,
			 "tracking_url: \"%s\" is not an http or https URL with a host",
			 cfg->tracking_url);
		settings_release(s);
		return NULL;
	}
	return s;
}

/* settings_hold - add a reference. */
struct milter_settings *
settings_hold(struct milter_settings *s)
{
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
	return s;
}

/* settings_release - drop a reference, freeing on the last. */
void
settings_release(struct milter_settings *s)
{
	if (s == NULL || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	cidr_list_free(s->internal_hosts);
	free(s->hdr_tag);
	free(s->hdr_metadata);
	free(s->hdr_token);
	free(s->verp_domain);
	free(s->hdr_track);
	free(s->tracking_url);
	config_free(s->cfg);
	free(s);
}

/* settings_is_originating_daemon - {daemon_name} in originating_daemons. */
int
settings_is_originating_daemon(const struct milter_settings *s, const char *daemon_name)
{
	char **p;

	if (daemon_name == NULL || *daemon_name == 0)
		return 0;
	for (p = s->cfg->originating_daemons; p != NULL && *p != NULL; p++)
		if (strcasecmp(*p, daemon_name) == 0)
			return 1;
	return 0;
}
