/*
 * cmd_config.c - posthookctl config: the configuration in force, like
 * postconf(1), and the table of keys posthook.conf(5) documents.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static const char *const type_names[] = {
	[CT_STRING] = "string", [CT_PATH] = "path",	    [CT_INT] = "integer",
	[CT_BOOL] = "yes/no",	[CT_DURATION] = "duration", [CT_LIST] = "list",
	[CT_ENUM] = "choice",	[CT_SCHEDULE] = "schedule", [CT_NETWORKS] = "networks",
	[CT_COUNT] = "count",
};

/* config_keys_list - every key with type, default and description */
static int
config_keys_list(struct ctl *ctl)
{
	static const char *const headers[] = { "KEY", "TYPE", "DEFAULT", "DESCRIPTION" };
	const struct config_key *k;
	struct table *t = table_new(4, headers);

	for (k = config_keys; k->name != NULL; k++) {
		const char *row[4] = { k->name, type_names[k->type], k->def,
				       k->description };

		if (ctl->json) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "key", json_object_new_string(k->name));
			json_object_object_add(o, "type", json_object_new_string(row[1]));
			json_object_object_add(o, "default",
					       json_object_new_string(k->def));
			json_object_object_add(o, "description",
					       json_object_new_string(k->description));
			ctl_print_json_line(o);
			json_object_put(o);
		} else {
			table_add_row(t, row);
		}
	}
	if (!ctl->json)
		table_print(t);
	table_free(t);
	return 0;
}

/* The usage, also for "posthookctl config --help" (commands.c). */
const char cmd_config_usage[] =
    "usage: posthookctl config [-n] [KEY...]\n"
    "       posthookctl config keys\n"
    "  KEY...   the settings in force, as \"key = value\" (all when none named)\n"
    "  -n       only the settings that differ from their defaults\n"
    "  keys     every key with its type, default and description";

/* differs - the value of k in cfg is not its default */
static int
differs(const struct config *cfg, const struct config *def, const struct config_key *k)
{
	char *a = config_format_value(cfg, k), *b = config_format_value(def, k);
	int d = strcmp(a, b) != 0;

	free(a);
	free(b);
	return d;
}

/* cmd_config - "key = value" for every key, or for the keys named */
int
cmd_config(struct ctl *ctl, int argc, char **argv)
{
	const struct config_key *k;
	struct config *cfg, *def = NULL;
	json_object *o = NULL;
	int i, first = 1;

	if (argc == 2 && strcmp(argv[1], "keys") == 0)
		return config_keys_list(ctl);
	if (argc > 1 && strcmp(argv[1], "-n") == 0) {
		def = config_new();
		first = 2;
	}
	cfg = ctl_config(ctl);
	for (i = first; i < argc; i++)
		if (config_key_find(argv[i]) == NULL) {
			config_free(def);
			return ctl_error("unknown configuration key \"%s\"", argv[i]);
		}
	if (ctl->json)
		o = json_object_new_object();
	for (k = config_keys; k->name != NULL; k++) {
		char *value;
		int wanted = argc == first;

		for (i = first; i < argc && !wanted; i++)
			wanted = strcmp(argv[i], k->name) == 0;
		if (!wanted || (def != NULL && !differs(cfg, def, k)))
			continue;
		value = config_format_value(cfg, k);
		if (o != NULL)
			json_object_object_add(o, k->name, json_object_new_string(value));
		else
			printf("%s = %s\n", k->name, value);
		free(value);
	}
	config_free(def);
	if (o != NULL) {
		ctl_print_json_line(o);
		json_object_put(o);
	}
	return 0;
}
