/*
 * settings.c - the milter's prepared, reference-counted configuration.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "settings.h"
#include "util.h"

/* settings_new - prepare settings from cfg. */
struct milter_settings *
settings_new(struct config *cfg, char *err, size_t errlen)
{
	struct milter_settings *s = xcalloc(1, sizeof(*s));

	s->refs = 1;
	s->cfg = cfg;
	s->internal_hosts = cidr_list_new(cfg->internal_hosts, err, errlen);
	if (s->internal_hosts == NULL) {
		if (errlen > 0 && err[0] == 0)
			strncpy(err, "out of memory", errlen - 1);
		settings_release(s);
		return NULL;
	}
	s->hdr_tag = xasprintf("%s-Tag", cfg->header_prefix);
	s->hdr_metadata = xasprintf("%s-Metadata", cfg->header_prefix);
	s->hdr_token = xasprintf("%s-Token", cfg->header_prefix);
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
	config_free(s->cfg);
	free(s);
}

/* settings_is_originating_daemon - {daemon_name} in originating_daemons. */
int
settings_is_originating_daemon(const struct milter_settings *s,
			       const char *daemon_name)
{
	char  **p;

	if (daemon_name == NULL || *daemon_name == 0)
		return 0;
	for (p = s->cfg->originating_daemons; p != NULL && *p != NULL; p++)
		if (strcasecmp(*p, daemon_name) == 0)
			return 1;
	return 0;
}
