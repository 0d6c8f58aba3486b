/*
 * print.h - posthook-logtail --print: the events a log makes, printed as
 * webhook bodies, one JSON object per line, without writing any state.
 */
#ifndef PH_PRINT_H
#define PH_PRINT_H

#include "config/config.h"
#include "store/store.h"

/*
 * print_run - read each file (or standard input for none or "-") from the
 * start and print the events.  st (may be NULL) is read for the milter's
 * records.  Returns 0, or 1 when a file could not be read.
 */
int print_run(const struct config *cfg, struct store *st, char **files, int nfiles);

#endif
