/*
 * main.c - posthook-logtail: follow Postfix's log and turn its delivery
 * lines into events in the outbox (tail.c), or, with --print, show the
 * events a log makes without writing any state (print.c).
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify.h"
#include "config/config.h"
#include "config/daemon.h"
#include "util/log.h"
#include "store/store.h"
#include "print.h"
#include "tail.h"

#define USAGE                                                                            \
	"posthook-logtail [-fv] [-c FILE] [--check] [--from-start] [--once]\n"           \
	"       posthook-logtail --print [-c FILE] [FILE...]\n"                          \
	"      --from-start   read the log from its start, not from the end\n"           \
	"      --once         read what the log holds now, then exit\n"                  \
	"      --print        print the events FILEs (or the log) make; write nothing"

enum { OPT_PRINT = 2000, OPT_FROM_START, OPT_ONCE };

struct opts {
	int print;
	int flags; /* TAIL_* */
};

/* own_option - --print, --from-start and --once. */
static int
own_option(int opt, const char *arg, void *ctx)
{
	struct opts *o = ctx;

	(void) arg;
	if (opt == OPT_PRINT)
		o->print = 1;
	else if (opt == OPT_FROM_START)
		o->flags |= TAIL_FROM_START;
	else if (opt == OPT_ONCE)
		o->flags |= TAIL_ONCE;
	else
		return (-1);
	return (0);
}

/* print_main - --print: report = all unless the config says otherwise. */
static int
print_main(const struct daemon_args *args, char **files, int nfiles)
{
	struct config *cfg = config_new();
	struct store *st = NULL;
	char err[1024];
	int rc;

	if (config_set(cfg, "report", "all", err, sizeof(err)) < 0
	    || config_load(cfg, args->config_path, args->config_given, err, sizeof(err))
		   < 0) {
		log_error("%s", err);
		config_free(cfg);
		return (1);
	}
	if (classify_local_load(cfg->classify_rules_file, err, sizeof(err)) < 0) {
		log_error("%s", err);
		config_free(cfg);
		return (1);
	}
	/* With -c, fill tag, metadata, token and id from the records. */
	if (args->config_given && (st = store_open(cfg->state_dir, STORE_RDONLY)) == NULL)
		log_warn("%s: cannot open the store: printing without the "
			 "milter's records",
			 cfg->state_dir);
	rc = print_run(cfg, st, files, nfiles);
	if (st != NULL)
		store_close(st);
	config_free(cfg);
	return (rc);
}

int
main(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "print", no_argument, NULL, OPT_PRINT },
		{ "from-start", no_argument, NULL, OPT_FROM_START },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon_args args;
	struct opts o = { 0, 0 };
	struct config *cfg;
	int rc;

	daemon_args_parse(argc, argv, &args, USAGE, extra, own_option, &o);
	log_set_verbose(args.verbose);
	if (o.print) {
		log_open("posthook-logtail", LOG_TO_STDERR);
		return (print_main(&args, argv + args.optind, argc - args.optind));
	}
	if (args.optind < argc) {
		log_open("posthook-logtail", LOG_TO_STDERR);
		log_error("file operands need --print");
		return (1);
	}
	log_open("posthook-logtail",
		 args.foreground || args.check ? LOG_TO_STDERR : LOG_TO_SYSLOG);
	if ((cfg = daemon_config_load(&args)) == NULL)
		return (1);
	rc = tail_main(cfg, &args, o.flags);
	config_free(cfg);
	return (rc);
}
