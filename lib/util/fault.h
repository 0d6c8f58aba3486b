/*
 * fault.h - named crash points for the reliability tests.
 *
 * PH_FAULT("name") ends the process with SIGKILL when the environment
 * variable POSTHOOK_FAULT equals name.  It compiles to nothing unless the
 * build was configured with --enable-fault-injection, so a release binary
 * cannot be made to crash this way.
 */
#ifndef PH_FAULT_H
#define PH_FAULT_H

#ifdef PH_FAULT_INJECTION
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define PH_FAULT(name)                                                                   \
	do {                                                                             \
		const char *ph_f_ = getenv("POSTHOOK_FAULT");                            \
		if (ph_f_ != NULL && strcmp(ph_f_, (name)) == 0)                         \
			kill(getpid(), SIGKILL);                                         \
	} while (0)
#else
#define PH_FAULT(name)                                                                   \
	do {                                                                             \
	} while (0)
#endif

#endif
