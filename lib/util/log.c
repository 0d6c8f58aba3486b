/*
 * log.c - logging to syslog's mail facility or to stderr.
 *
 * The destination and verbosity are per process, as syslog itself is.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "util/log.h"

static struct {
	const char *progname;
	enum log_dest dest;
	int verbose;
} log_state = { "posthook", LOG_TO_STDERR, 0 };

/* log_open - choose where lines go */
void
log_open(const char *progname, enum log_dest dest)
{
	const char *slash = strrchr(progname, '/');

	log_state.progname = slash ? slash + 1 : progname;
	log_state.dest = dest;
	if (dest == LOG_TO_SYSLOG)
		openlog(log_state.progname, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* log_set_verbose - enable debug lines */
void
log_set_verbose(int verbose)
{
	log_state.verbose = verbose;
}

/* log_verbose - are debug lines wanted */
int
log_verbose(void)
{
	return log_state.verbose;
}

/* log_emit - one line at one priority */
static void
log_emit(int prio, const char *tag, const char *fmt, va_list ap)
{
	char line[4096];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_state.dest == LOG_TO_SYSLOG) {
		syslog(prio, "%s%s", tag, line);
		return;
	}
	fprintf(stderr, "%s: %s%s\n", log_state.progname, tag, line);
}

/* log_debug - a line for -v */
void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_state.verbose)
		return;
	va_start(ap, fmt);
	log_emit(LOG_DEBUG, "", fmt, ap);
	va_end(ap);
}

/* log_info - something worth knowing */
void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_INFO, "", fmt, ap);
	va_end(ap);
}

/* log_warn - something wrong that was handled */
void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, "warning: ", fmt, ap);
	va_end(ap);
}

/* log_error - something failed */
void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_ERR, "error: ", fmt, ap);
	va_end(ap);
}

/* log_fatal - the environment failed us: log and exit */
void
log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, "fatal: ", fmt, ap);
	va_end(ap);
	exit(1);
}
