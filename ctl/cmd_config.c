/*
 * cmd_config.c - posthookctl config: the configuration in force, like
 * postconf(1), and the table of keys posthook.conf(5) documents.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static const char *const type_names[] = {
	[CT_STRING] = "string", [CT_PATH] = "path", [CT_INT] = "integer",
	[CT_BOOL] = "yes/no", [CT_DURATION] = "duration", [CT_LIST] = "list",
	[CT_ENUM] = "choice", [CT_SCHEDULE] = "schedule",
	[CT_NETWORKS] = "networks",
};

/* config_keys_list - every key with type, default and description */
static int
config_keys_list(struct ctl *ctl)
{
	static const char *const headers[] = { "KEY", "TYPE", "DEFAULT", "DESCRIPTION" };
	const struct config_key *k;
	struct table *t = table_new(4, headers);

	for (k = config_keys; k->name != NULL; k++) {
		const char *row[4] = { k->name, type_names[k->type], k->def, k->description };

		if (ctl->json) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "key", json_object_new_string(k->name));
			json_object_object_add(o, "type", json_object_new_string(row[1]));
			json_object_object_add(o, "default", json_object_new_string(k->def));
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

/* cmd_config - "key = value" for every key, or for the keys named */
int
cmd_config(struct ctl *ctl, int argc, char **argv)
{
	const struct config_key *k;
	struct config *cfg;
	json_object *o = NULL;
	int i;

	if (argc == 2 && strcmp(argv[1], "keys") == 0)
		return config_keys_list(ctl);
	cfg = ctl_config(ctl);
	for (i = 1; i < argc; i++)
		if (config_key_find(argv[i]) == NULL)
			return ctl_error("unknown configuration key \"%s\"", argv[i]);
	if (ctl->json)
		o = json_object_new_object();
	for (k = config_keys; k->name != NULL; k++) {
		char *value;
		int wanted = argc == 1;

		for (i = 1; i < argc && !wanted; i++)
			wanted = strcmp(argv[i], k->name) == 0;
		if (!wanted)
			continue;
		value = config_format_value(cfg, k);
		if (o != NULL)
			json_object_object_add(o, k->name, json_object_new_string(value));
		else
			printf("%s = %s\n", k->name, value);
		free(value);
	}
	if (o != NULL) {
		ctl_print_json_line(o);
		json_object_put(o);
	}
	return 0;
}
