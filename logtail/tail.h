/*
 * tail.h - the posthook-logtail daemon: follow the log, commit events,
 * read position and queue state together.
 */
#ifndef PH_TAIL_H
#define PH_TAIL_H

#include "config/config.h"
#include "config/daemon.h"

#define TAIL_FROM_START 0x01 /* first start: read from the start */
#define TAIL_ONCE 0x02	     /* stop at the end of the log */

/* tail_main - run until SIGTERM (or the end, with TAIL_ONCE); the exit
 * status. */
int tail_main(struct config *cfg, const struct daemon_args *args, int flags);

#endif
