/*
 * cmd_keys.c - posthookctl keys: the webhook signing keys.
 *
 *	keys jwks	the JWKS receivers verify signatures with
 *	keys list	every published key: kid, state, activation, retirement
 *	keys rotate	publish a new key now; it signs after key_activation_delay
 *
 * The keys are files beside signing_key (see lib/sign/keyring.c), read and
 * written as the daemons' user, so that no key file ends up owned by root.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "config/daemon.h"
#include "sign/sign.h"
#include "util/util.h"

/* open_keyring - the keyring, as the daemons' user; NULL after a message */
static struct keyring *
open_keyring(struct ctl *ctl)
{
	struct config *cfg = ctl_config(ctl);
	struct keyring *kr;
	char err[1024];

	if (daemon_drop_privileges(cfg) < 0)
		return NULL; /* logged */
	kr = keyring_open(cfg, NULL, err, sizeof(err));
	if (kr == NULL)
		ctl_error("%s", err);
	return kr;
}

/* add_time - a time as ISO 8601, or null for "none" */
static void
add_time(json_object *o, const char *name, double when)
{
	char text[64];

	if (when == 0) {
		json_object_object_add(o, name, NULL);
		return;
	}
	iso8601_utc(when, text, sizeof(text));
	json_object_object_add(o, name, json_object_new_string(text));
}

/* key_object - one key of the ring as JSON */
static json_object *
key_object(const struct keyring_info *ki, double now)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "kid", json_object_new_string(ki->kid));
	json_object_object_add(o, "state",
			       json_object_new_string(keyring_state(ki, now)));
	add_time(o, "published", ki->published);
	add_time(o, "activates", ki->activates);
	add_time(o, "retires", ki->retired);
	add_time(o, "unpublished", ki->retire_until);
	return o;
}

/* keys_list - the table of keys, or one JSON object per key */
static int
keys_list(struct ctl *ctl, struct keyring *kr, double now)
{
	static const char *const headers[] = { "KID", "STATE", "ACTIVATES", "RETIRES",
					       "UNPUBLISHED" };
	struct table *t = table_new(5, headers);
	struct keyring_info ki;
	char times[3][64];
	const char *row[5];
	json_object *o;
	size_t i;

	for (i = 0; keyring_info(kr, i, &ki) == 0; i++) {
		if (ctl->json) {
			o = key_object(&ki, now);
			ctl_print_json_line(o);
			json_object_put(o);
			continue;
		}
		iso8601_utc(ki.activates, times[0], sizeof(times[0]));
		iso8601_utc(ki.retired, times[1], sizeof(times[1]));
		iso8601_utc(ki.retire_until, times[2], sizeof(times[2]));
		row[0] = ki.kid;
		row[1] = keyring_state(&ki, now);
		row[2] = ki.activates != 0 ? times[0] : NULL;
		row[3] = ki.retired != 0 ? times[1] : NULL;
		row[4] = ki.retire_until != 0 ? times[2] : NULL;
		table_add_row(t, row);
	}
	if (!ctl->json)
		table_print(t);
	table_free(t);
	return 0;
}

/* keys_rotate - make the next key and print it */
static int
keys_rotate(struct ctl *ctl, struct keyring *kr, double now)
{
	struct keyring_info ki;
	char err[1024];
	json_object *o;

	if (keyring_rotate(kr, now, err, sizeof(err)) < 0)
		return ctl_error("rotate: %s", err);
	/* The new key activates last, so it is the last of the ring. */
	if (keyring_info(kr, keyring_count(kr) - 1, &ki) < 0)
		return ctl_error("rotate: the new key is missing");
	o = key_object(&ki, now);
	ctl_print_json(ctl, o);
	json_object_put(o);
	return 0;
}

/* The usage, also for "posthookctl keys --help" (commands.c). */
const char cmd_keys_usage[] =
    "usage: posthookctl keys jwks     the published keys as a JWKS document\n"
    "       posthookctl keys list     every key, its kid and state\n"
    "       posthookctl keys rotate   make a new key; it signs after key_activation_delay";

/* cmd_keys - posthookctl keys jwks|list|rotate */
int
cmd_keys(struct ctl *ctl, int argc, char **argv)
{
	struct keyring *kr;
	json_object *jwks;
	double now = now_seconds();
	int rc = 0;

	if (argc != 2
	    || (strcmp(argv[1], "jwks") != 0 && strcmp(argv[1], "list") != 0
		&& strcmp(argv[1], "rotate") != 0))
		return ctl_usage_error("%s", cmd_keys_usage);
	if ((kr = open_keyring(ctl)) == NULL)
		return 1;
	if (strcmp(argv[1], "jwks") == 0) {
		jwks = keyring_jwks(kr, now);
		ctl_print_json(ctl, jwks);
		json_object_put(jwks);
	} else if (strcmp(argv[1], "list") == 0) {
		rc = keys_list(ctl, kr, now);
	} else {
		rc = keys_rotate(ctl, kr, now);
	}
	keyring_free(kr);
	return rc;
}
