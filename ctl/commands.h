/*
 * commands.h - the table of posthookctl's subcommands (commands.c).
 */
#ifndef PH_CTL_COMMANDS_H
#define PH_CTL_COMMANDS_H

#include "ctl.h"

struct ctl_command {
	const char *name;
	ctl_cmd_fn run;
	const char *summary;
	const char *usage; /* for NAME --help; NULL: the summary */
};

extern const struct ctl_command ctl_commands[];

/*
 * ctl_args_take_json - remove every --json before "--" from argv, wherever
 * it stands on the line; returns the new argc and sets *json when found.
 */
int ctl_args_take_json(int argc, char **argv, int *json);

/* ctl_args_want_help - a --help or -h after the command, before "--". */
int ctl_args_want_help(int argc, char **argv);

/* ctl_command_help - print the command's usage on stdout; 0. */
int ctl_command_help(const struct ctl_command *c);

#endif
