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
};

extern const struct ctl_command ctl_commands[];

#endif
