/*
 * postqueue.c - run postqueue(1) without a shell (posix_spawn: the daemon
 * has threads) and read what it says.  POSTHOOK_POSTQUEUE names another
 * program for tests.
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <json-c/json.h>

#include "postqueue.h"
#include "util/json.h"
#include "util/log.h"
#include "util/util.h"

extern char **environ;

#define OUTPUT_MAX (64L * 1024 * 1024)

/* program - postqueue's path. */
static const char *
program(void)
{
	const char *p = getenv("POSTHOOK_POSTQUEUE");

	return p != NULL && *p != 0 ? p : "/usr/sbin/postqueue";
}

/* run - postqueue with one option and argument; its stdout into out. */
static int
run(const char *opt, const char *arg, struct buf *out)
{
	posix_spawn_file_actions_t fa;
	char *argv[4];
	char chunk[8192];
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe(fds) < 0)
		return -1;
	argv[0] = (char *) program();
	argv[1] = (char *) opt;
	argv[2] = (char *) arg;
	argv[3] = NULL;
	if (posix_spawn_file_actions_init(&fa) != 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	posix_spawn_file_actions_addclose(&fa, fds[1]);
	status = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (status != 0) {
		close(fds[0]);
		log_error("cannot run %s: %s", argv[0], strerror(status));
		return -1;
	}
	while ((n = read(fds[0], chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0 && (long) out->len < OUTPUT_MAX)
			buf_append(out, chunk, (size_t) n);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		log_warn("%s %s %s failed", argv[0], opt, arg ? arg : "");
		return -1;
	}
	return 0;
}

/* postqueue_has - see postqueue.h. */
int
postqueue_has(const char *qid)
{
	struct buf out;
	char *line, *next;
	json_object *o;
	const char *id;
	int found = 0;

	buf_init(&out);
	if (run("-j", NULL, &out) < 0) {
		buf_free(&out);
		return -1;
	}
	for (line = out.data; line != NULL && *line != 0 && !found; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = 0;
		if ((o = json_tokener_parse(line)) == NULL)
			continue;
		id = json_string_member(o, "queue_id");
		found = id != NULL && strcmp(id, qid) == 0;
		json_object_put(o);
	}
	buf_free(&out);
	return found;
}

/* postqueue_flush - see postqueue.h. */
int
postqueue_flush(const char *qid)
{
	struct buf out;
	int rc;

	buf_init(&out);
	rc = run("-i", qid, &out);
	buf_free(&out);
	return rc;
}
