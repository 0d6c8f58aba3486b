/*
 * main.c - posthookctl: global options, then one subcommand.
 */
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "ctl.h"
#include "config/daemon.h"
#include "util/log.h"
#include "util/util.h"

/* usage - the list of subcommands */
static void
usage(FILE *fp)
{
	const struct ctl_command *c;

	fprintf(
	    fp,
	    "usage: posthookctl [-c FILE] [--json] COMMAND [ARGS] [--json]\n"
	    "  -c, --config FILE  read FILE, not " PH_DEFAULT_CONFIG "\n"
	    "  -j, --json         one JSON object per line (anywhere on the line)\n"
	    "  -V, --version      print the version and exit\n"
	    "  -h, --help         print this help and exit; COMMAND --help: its usage\n"
	    "\ncommands:\n");
	for (c = ctl_commands; c->name != NULL; c++)
		fprintf(fp, "  %-11s %s\n", c->name, c->summary);
}

/* ctl_config - load the configuration once */
struct config *
ctl_config(struct ctl *ctl)
{
	char err[1024];

	if (ctl->cfg != NULL)
		return ctl->cfg;
	ctl->cfg = config_new();
	if (config_load(ctl->cfg, ctl->config_path, ctl->config_given, err, sizeof(err))
	    < 0) {
		fprintf(stderr, "posthookctl: %s\n", err);
		exit(1);
	}
	return ctl->cfg;
}

/* ctl_store - open the store as the daemons' user */
struct store *
ctl_store(struct ctl *ctl)
{
	struct config *cfg = ctl_config(ctl);

	if (ctl->store != NULL)
		return ctl->store;
	if (daemon_drop_privileges(cfg) < 0)
		exit(1);
	ctl->store = store_open(cfg->state_dir, 0);
	if (ctl->store == NULL) {
		fprintf(stderr, "posthookctl: cannot open the state store in %s\n",
			cfg->state_dir);
		exit(1);
	}
	store_set_lock_timeout(ctl->store, cfg->store_lock_timeout_ms);
	return ctl->store;
}

/* ctl_print_json - one object: pretty, or one line with --json */
void
ctl_print_json(const struct ctl *ctl, json_object *obj)
{
	int flags = ctl->json ? JSON_C_TO_STRING_PLAIN
			      : JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED;

	puts(json_object_to_json_string_ext(obj, flags | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* ctl_print_json_line - one object on one line */
void
ctl_print_json_line(json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN
						     | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* ctl_vmessage - "posthookctl: " and the message on stderr */
static void
ctl_vmessage(const char *fmt, va_list ap)
{
	fputs("posthookctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* ctl_usage_error - a usage message, status 2 */
int
ctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_vmessage(fmt, ap);
	va_end(ap);
	return 2;
}

/* ctl_error - an error message, status 1 */
int
ctl_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_vmessage(fmt, ap);
	va_end(ap);
	return 1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct ctl_command *c;
	struct ctl ctl;
	int status;
	int opt;

	memset(&ctl, 0, sizeof(ctl));
	ctl.config_path = PH_DEFAULT_CONFIG;
	log_open("posthookctl", LOG_TO_STDERR);
	argc = ctl_args_take_json(argc, argv, &ctl.json);
	/* "+": stop at the subcommand, whose own options follow it */
	while ((opt = getopt_long(argc, argv, "+c:jVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			ctl.config_path = optarg;
			ctl.config_given = 1;
			break;
		case 'j':
			ctl.json = 1;
			break;
		case 'V':
			printf("posthookctl (posthook) %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (c = ctl_commands; c->name != NULL; c++)
		if (strcmp(c->name, argv[optind]) == 0)
			break;
	if (c->name == NULL) {
		fprintf(stderr, "posthookctl: unknown command \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (ctl_args_want_help(argc - optind, argv + optind))
		return ctl_command_help(c);
	status = c->run(&ctl, argc - optind, argv + optind);
	if (ctl.store != NULL)
		store_close(ctl.store);
	config_free(ctl.cfg);
	return status;
}
