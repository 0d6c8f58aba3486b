/*
 * cmd_version.c - posthookctl version.
 */
#include <stdio.h>

#include "ctl.h"

/* The usage, also for "posthookctl version --help" (commands.c). */
const char cmd_version_usage[] = "usage: posthookctl version   (as posthookctl -V)";

/* cmd_version - print the package version */
int
cmd_version(struct ctl *ctl, int argc, char **argv)
{
	json_object *o;

	if (argc > 1)
		return ctl_usage_error("%s", cmd_version_usage);
	if (!ctl->json) {
		printf("posthook %s\n", PACKAGE_VERSION);
		return 0;
	}
	o = json_object_new_object();
	json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
	ctl_print_json_line(o);
	json_object_put(o);
	return 0;
}
