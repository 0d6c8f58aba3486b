/*
 * tail_watch.c - at the end of the log, sleep until there is more.
 *
 * The tailer sleeps until inotify says the file was written (IN_MODIFY on
 * the open file) or its directory got a new entry (IN_CREATE, IN_MOVED_TO:
 * rotation), with a slow fallback poll in case an event is missed (a
 * network file system); without inotify it polls every SHORT_POLL_MS.  A
 * signal (the wake pipe) ends the sleep too.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "util/log.h"
#include "tail_int.h"

/* watch_init - inotify on log_file's directory; without it, polling. */
void
watch_init(struct tail *t)
{
	char *dir = xstrdup(t->cfg->log_file), *slash;

	t->wd_dir = t->wd_file = -1;
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, strlen(dir) + 1, ".");
	else if (slash == dir)
		slash[1] = 0;
	else
		*slash = 0;
	if ((t->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) {
		log_warn("inotify: %m; polling %s every %d ms", t->cfg->log_file,
			 SHORT_POLL_MS);
	} else if ((t->wd_dir = inotify_add_watch(t->ino_fd, dir,
						  IN_CREATE | IN_MOVED_TO | IN_ONLYDIR))
		   < 0) {
		log_warn("inotify: %s: %m; polling %s every %d ms", dir, t->cfg->log_file,
			 SHORT_POLL_MS);
		close(t->ino_fd);
		t->ino_fd = -1;
	}
	free(dir);
}

/*
 * watch_file - inotify on the open file (the inode, found through its
 * descriptor: after a rename the path names another file).  Returns 1
 * when a new watch was set (lines may have come before it), else 0.
 */
static int
watch_file(struct tail *t)
{
	char path[64];

	if (t->ino_fd < 0 || t->cur.fd < 0)
		return (0);
	if (t->wd_file >= 0 && t->w_dev == t->cur.dev && t->w_ino == t->cur.ino)
		return (0);
	if (t->wd_file >= 0)
		inotify_rm_watch(t->ino_fd, t->wd_file);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", t->cur.fd);
	if ((t->wd_file = inotify_add_watch(t->ino_fd, path, IN_MODIFY)) < 0
	    && (t->wd_file = inotify_add_watch(t->ino_fd, t->cur.path, IN_MODIFY)) < 0) {
		log_warn("inotify: %s: %m", t->cur.path);
		return (0);
	}
	t->w_dev = t->cur.dev;
	t->w_ino = t->cur.ino;
	return (1);
}

/* watch_drain - read the inotify events there are. */
static void
watch_drain(struct tail *t)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(t->ino_fd, buf, sizeof(buf)) > 0)
		;
}

/*
 * wait_for - at the end of the log: sleep until it is written, a signal,
 * or the timeout (ms, or < 0 for the idle one).
 */
void
wait_for(struct tail *t, int ms)
{
	struct pollfd pfd[2] = {
		{ t->sig->wake_fd, POLLIN, 0 },
		{ t->ino_fd, POLLIN, 0 },
	};
	int n = t->ino_fd >= 0 ? 2 : 1;

	if (ms < 0)
		ms = t->ino_fd >= 0 ? FALLBACK_POLL_MS : SHORT_POLL_MS;
	if (watch_file(t))
		ms = 0;
	if (poll(pfd, n, ms) > 0) {
		if (pfd[0].revents)
			daemon_signals_drain(t->sig);
		if (n == 2 && pfd[1].revents)
			watch_drain(t);
	}
}
