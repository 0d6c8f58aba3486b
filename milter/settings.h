/*
 * settings.h - what the milter's callbacks read from the configuration,
 * prepared once per (re)load: the parsed internal_hosts list and the full
 * names of the application's headers.
 *
 * A settings object is immutable and reference counted: a connection holds
 * the one that was current when it opened, so a reload (SIGUSR1) never
 * changes the rules in the middle of a message.
 */
#ifndef PH_MILTER_SETTINGS_H
#define PH_MILTER_SETTINGS_H

#include <stddef.h>
#include "config/config.h"
#include "util/cidr.h"

struct milter_settings {
	int refs;	    /* atomic */
	struct config *cfg; /* owned */
	struct cidr_list *internal_hosts;
	char *hdr_tag;	    /* PREFIX-Tag */
	char *hdr_metadata; /* PREFIX-Metadata */
	char *hdr_token;    /* PREFIX-Token */
	char *verp_domain;  /* return_path_domain lowercased, or NULL */
	char *hdr_track;    /* PREFIX-Track */
	char *tracking_url; /* without a trailing '/', or NULL: off */
};

/*
 * settings_new - settings from a loaded config, which they then own.  NULL
 * with a message in err, naming the key, when a value cannot be used (bad
 * CIDR entry, a return_path_domain that is no domain name); the config is
 * freed then too.
 */
struct milter_settings *settings_new(struct config *cfg, char *err, size_t errlen);

/*
 * settings_tracking_url - url checked (http or https, a host, no white
 * space, quote or angle bracket) and without its trailing '/': a new
 * string, NULL for "" and for a bad URL (*bad set then).
 */
char *settings_tracking_url(const char *url, int *bad);

/* settings_hold - one more reference. */
struct milter_settings *settings_hold(struct milter_settings *s);

/* settings_release - drop a reference; the last one frees. */
void settings_release(struct milter_settings *s);

/* settings_is_originating_daemon - whether {daemon_name} is listed. */
int settings_is_originating_daemon(const struct milter_settings *s,
				   const char *daemon_name);

#endif
