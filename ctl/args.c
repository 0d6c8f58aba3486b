/*
 * args.c - what every posthookctl command line accepts wherever it
 * stands: --json for one-line JSON output and --help (-h) for the
 * command's usage, as admins type them after the command too.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

/* ctl_args_take_json - drop each --json before "--", moving the rest up */
int
ctl_args_take_json(int argc, char **argv, int *json)
{
	int i, n = 0, done = 0;

	for (i = 0; i < argc; i++) {
		if (!done && strcmp(argv[i], "--") == 0)
			done = 1;
		if (!done && strcmp(argv[i], "--json") == 0) {
			*json = 1;
			continue;
		}
		argv[n++] = argv[i];
	}
	argv[n] = NULL;
	return (n);
}

/* ctl_args_want_help - --help or -h among the arguments, before "--" */
int
ctl_args_want_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return (1);
	return (0);
}

/* ctl_command_help - the command's usage, or its summary */
int
ctl_command_help(const struct ctl_command *c)
{
	if (c->usage != NULL)
		printf("%s\n", c->usage);
	else
		printf("usage: posthookctl %s ...\n  %s\n", c->name, c->summary);
	return (0);
}
