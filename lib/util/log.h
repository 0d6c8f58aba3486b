/*
 * log.h - the one logging interface of every posthook program.
 *
 * Daemons log to syslog's mail facility; with -f, and for the command line
 * tool, to stderr.  Lines about one message start with its queue id, as
 * Postfix's own do: log_info("%s: token=%s", qid, token).
 */
#ifndef PH_LOG_H
#define PH_LOG_H

#define PH_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum log_dest {
	LOG_TO_SYSLOG,
	LOG_TO_STDERR,
};

void log_open(const char *progname, enum log_dest dest);
void log_set_verbose(int verbose);
int log_verbose(void);

void log_debug(const char *fmt, ...) PH_PRINTF(1, 2);
void log_info(const char *fmt, ...) PH_PRINTF(1, 2);
void log_warn(const char *fmt, ...) PH_PRINTF(1, 2);
void log_error(const char *fmt, ...) PH_PRINTF(1, 2);
/* log_fatal - log and exit(1): for failures of the environment. */
_Noreturn void log_fatal(const char *fmt, ...) PH_PRINTF(1, 2);

#endif
