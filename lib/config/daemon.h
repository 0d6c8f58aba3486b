/*
 * daemon.h - what makes a posthook program behave like a mail daemon:
 * the common command line (-c, -f, --check, -v, -V, -h), the pid file, detaching,
 * dropping privileges to the configured user, and signals turned into
 * flags and a wake-up pipe for the main loop.
 */
#ifndef PH_DAEMON_H
#define PH_DAEMON_H

#include <signal.h>
#include "config/config.h"

struct daemon_args {
	const char *config_path; /* -c, or the default */
	int config_given;	 /* -c was on the command line */
	int foreground;		 /* -f */
	int check;		 /* --check */
	int verbose;		 /* -v */
	int optind;		 /* first operand */
};

/*
 * daemon_args_parse - parse the common options; extra is getopt_long's
 * table of the program's own long options (may be NULL) and handler sees
 * each of them.  usage is the synopsis, then one line per own option;
 * --help prints it with the common options, --version the name (usage's
 * first word) and version; both exit 0.  Prints usage and exits 1 on a
 * bad option.
 */
struct option;
void daemon_args_parse(int argc, char **argv, struct daemon_args *args, const char *usage,
		       const struct option *extra,
		       int (*handler)(int opt, const char *arg, void *ctx), void *ctx);

/*
 * daemon_config_load - load the config the arguments name, logging the
 * error (a missing file is one, the default too); with --check, exit 0 or
 * 1 right after.
 */
struct config *daemon_config_load(const struct daemon_args *args);

/* daemon_detach - fork into the background unless foreground. */
void daemon_detach(void);

/* daemon_pidfile_write - create pid_dir/name.pid; NULL on failure. */
char *daemon_pidfile_write(const char *pid_dir, const char *name);
void daemon_pidfile_remove(char *path);

/*
 * daemon_drop_privileges - when root, become cfg->user and cfg->group;
 * otherwise stay who we are.  0 or -1 (logged).
 */
int daemon_drop_privileges(const struct config *cfg);

/*
 * daemon_prepare_state_dir - create state_dir (0700), pid_dir (0755) and
 * the signing key's directory when missing (0700), owned by the daemon user
 * when root: it removes its pid file and writes its key as that user.
 */
int daemon_prepare_state_dir(const struct config *cfg);

/* Signal flags, set by the handlers daemon_signals_init() installs. */
struct daemon_signals {
	volatile sig_atomic_t stop;   /* SIGTERM, SIGINT */
	volatile sig_atomic_t reload; /* reload_sig */
	int wake_fd;		      /* readable after any signal */
};

/*
 * daemon_signals_init - catch SIGTERM/SIGINT and reload_sig (SIGHUP, or
 * SIGUSR1 in the milter), ignore SIGPIPE.  There is one set per process,
 * as there is one signal disposition.
 */
struct daemon_signals *daemon_signals_init(int reload_sig);
/* daemon_signals_drain - empty the wake-up pipe. */
void daemon_signals_drain(struct daemon_signals *sig);

#endif
