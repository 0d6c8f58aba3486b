/*
 * cmd_limits.c - posthookctl limits: the send volume, limits and states,
 * and the one privileged step of the hold: releasing what posthook held.
 *
 *	limits [show] [--json]
 *	limits release
 *
 * release, run as root (by posthook-release.timer every minute, or by
 * hand), first turns the held messages whose limits have room again into
 * release requests, oldest first, then runs postsuper -H for exactly each
 * requested queue id (the API's and its own), marks it done and logs it.
 * Only a helper process that stays root runs postsuper, with one checked
 * queue id at a time; the store is used as the daemons' user.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "ctl.h"
#include "limit/limit_store.h"
#include "store/release.h"
#include "util/json.h"
#include "util/util.h"

extern char **environ;

/* The usage, also for "posthookctl limits --help" (commands.c). */
const char cmd_limits_usage[] = "usage: posthookctl limits [show] [--json]\n"
				"       posthookctl limits release";

#define QID_MAX 64
#define DONE_KEPT_SECONDS (7 * 86400.0)

/* qid_valid - a Postfix queue id: letters and digits only */
static int
qid_valid(const char *q)
{
	size_t n;

	for (n = 0; q[n] != 0; n++)
		if (!isalnum((unsigned char) q[n]) || n >= QID_MAX)
			return (0);
	return (n > 0);
}

/* postsuper_release - postsuper -H qid; 0 when it succeeded */
static int
postsuper_release(const char *qid)
{
	const char *prog = getenv("POSTHOOK_POSTSUPER");
	char *argv[4];
	pid_t pid;
	int status;

	argv[0] = (char *) (prog != NULL && *prog ? prog : "/usr/sbin/postsuper");
	argv[1] = "-H";
	argv[2] = (char *) qid;
	argv[3] = NULL;
	if ((status = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ)) != 0) {
		fprintf(stderr, "posthookctl: cannot run %s: %s\n", argv[0],
			strerror(status));
		return (-1);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return (-1);
	return (WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1);
}

/* helper - the root side: one checked queue id in, "0" or "1" out */
static _Noreturn void
helper(int in, int out)
{
	FILE *r = fdopen(in, "r");
	char line[QID_MAX + 4];
	size_t len;

	while (r != NULL && fgets(line, sizeof(line), r) != NULL) {
		len = strcspn(line, "\n");
		line[len] = 0;
		if (write(out,
			  qid_valid(line) && postsuper_release(line) == 0 ? "0\n" : "1\n",
			  2)
		    != 2)
			break;
	}
	_exit(0);
}

/* The parent's ends of the helper's pipes. */
struct helper_link {
	FILE *to;
	FILE *from;
	pid_t pid;
};

/* helper_start - fork the root helper; 0, or -1 after saying why */
static int
helper_start(struct helper_link *h)
{
	int down[2], up[2];

	if (pipe(down) < 0 || pipe(up) < 0) {
		perror("posthookctl: pipe");
		return (-1);
	}
	if ((h->pid = fork()) < 0) {
		perror("posthookctl: fork");
		return (-1);
	}
	if (h->pid == 0) {
		close(down[1]);
		close(up[0]);
		helper(down[0], up[1]);
	}
	close(down[0]);
	close(up[1]);
	h->to = fdopen(down[1], "w");
	h->from = fdopen(up[0], "r");
	return (h->to != NULL && h->from != NULL ? 0 : -1);
}

/* helper_release - ask the helper; 0 when postsuper released qid */
static int
helper_release(struct helper_link *h, const char *qid)
{
	char line[8];

	if (fprintf(h->to, "%s\n", qid) < 0 || fflush(h->to) != 0
	    || fgets(line, sizeof(line), h->from) == NULL)
		return (-1);
	return (line[0] == '0' ? 0 : -1);
}

/* helper_stop - end the helper */
static void
helper_stop(struct helper_link *h)
{
	int status;

	if (h->to != NULL)
		fclose(h->to);
	if (h->from != NULL)
		fclose(h->from);
	while (h->pid > 0 && waitpid(h->pid, &status, 0) < 0 && errno == EINTR)
		;
}

/* A release run's transaction state. */
struct run {
	const struct config *cfg;
	double now;
	size_t due;
	struct release_req *reqs;
	size_t nreqs;
	const char *qid; /* release_done */
	int ok;
};

/* plan_txn - requests for what is due, and the pending list */
static int
plan_txn(struct store_txn *txn, void *arg)
{
	struct run *r = arg;
	int rc;

	release_reqs_free(r->reqs, r->nreqs);
	r->reqs = NULL;
	r->nreqs = 0;
	rc = limit_release_due(txn, r->cfg, r->now, &r->due);
	if (rc == STORE_OK)
		rc = release_pending(txn, &r->reqs, &r->nreqs);
	return (rc);
}

/* done_txn - mark one request done */
static int
done_txn(struct store_txn *txn, void *arg)
{
	struct run *r = arg;

	return (release_done(txn, r->qid, r->ok, r->now, r->now - DONE_KEPT_SECONDS));
}

/* limits_release - see the top of the file */
static int
limits_release(struct ctl *ctl)
{
	struct helper_link h;
	struct store *st;
	struct run run;
	size_t i;
	int failed = 0;

	if (geteuid() != 0)
		return (ctl_error("limits release runs postsuper -H: run it as root"));
	memset(&h, 0, sizeof(h));
	memset(&run, 0, sizeof(run));
	run.cfg = ctl_config(ctl);
	signal(SIGPIPE, SIG_IGN);
	if (helper_start(&h) != 0) {
		helper_stop(&h);
		return (1);
	}
	st = ctl_store(ctl); /* the daemons' user from here on */
	run.now = now_seconds();
	if (store_run(st, plan_txn, &run, 0) != STORE_OK) {
		helper_stop(&h);
		return (ctl_error("cannot read the held messages from the store"));
	}
	openlog("posthookctl", LOG_PID, LOG_MAIL);
	for (i = 0; i < run.nreqs; i++) {
		struct release_req *q = &run.reqs[i];

		run.qid = q->queue_id;
		run.ok = helper_release(&h, q->queue_id) == 0;
		run.now = now_seconds();
		syslog(run.ok ? LOG_NOTICE : LOG_ERR,
		       "%s: %s from hold (requested by %s, tenant %s): postsuper -H",
		       q->queue_id, run.ok ? "released" : "NOT released",
		       q->by ? q->by : "?", q->tenant ? q->tenant : "default");
		printf("%s %s by=%s tenant=%s\n", q->queue_id,
		       run.ok ? "released" : "failed", q->by ? q->by : "?",
		       q->tenant ? q->tenant : "default");
		if (!run.ok)
			failed++;
		if (store_run(st, done_txn, &run, 0) != STORE_OK) {
			failed++;
			fprintf(stderr, "posthookctl: %s: cannot mark the release done\n",
				q->queue_id);
		}
	}
	closelog();
	helper_stop(&h);
	release_reqs_free(run.reqs, run.nreqs);
	return (failed ? 1 : 0);
}

/* A show's transaction state. */
struct show {
	const struct config *cfg;
	json_object *status;
};

/* show_txn - the status of every scope */
static int
show_txn(struct store_txn *txn, void *arg)
{
	struct show *s = arg;

	json_object_put(s->status);
	s->status = NULL;
	return (limit_status(txn, s->cfg, now_seconds(), &s->status));
}

/* add_row - one scope in the table */
static void
add_row(struct table *t, const char *name, json_object *o)
{
	char vol[24], lim[24], held[24];
	const char *cells[5];

	snprintf(vol, sizeof(vol), "%s",
		 json_object_get_string(json_member(o, "volume")));
	snprintf(lim, sizeof(lim), "%s",
		 json_object_get_int64(json_member(o, "limit")) > 0
		     ? json_object_get_string(json_member(o, "limit"))
		     : "none");
	snprintf(held, sizeof(held), "%s",
		 json_object_get_string(json_member(o, "held")));
	cells[0] = name;
	cells[1] = vol;
	cells[2] = lim;
	cells[3] = json_string_member(o, "state");
	cells[4] = held;
	table_add_row(t, cells);
}

/* limits_show - the table, or the status object with --json */
static int
limits_show(struct ctl *ctl)
{
	static const char *const headers[] = { "SCOPE", "VOLUME(60m)", "LIMIT", "STATE",
					       "HELD" };
	struct show s = { ctl_config(ctl), NULL };
	json_object *arr, *o;
	struct table *t;
	size_t i;

	if (store_run(ctl_store(ctl), show_txn, &s, 0) != STORE_OK)
		return (ctl_error("cannot read the send volume from the store"));
	if (ctl->json) {
		ctl_print_json(ctl, s.status);
		json_object_put(s.status);
		return (0);
	}
	t = table_new(5, headers);
	add_row(t, "total", json_member(s.status, "total"));
	arr = json_member(s.status, "tenants");
	for (i = 0; i < json_object_array_length(arr); i++) {
		o = json_object_array_get_idx(arr, i);
		add_row(t, json_string_member(o, "tenant"), o);
	}
	table_print(t);
	table_free(t);
	json_object_put(s.status);
	return (0);
}

/* cmd_limits - see ctl.h */
int
cmd_limits(struct ctl *ctl, int argc, char **argv)
{
	int i, release = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			ctl->json = 1;
		else if (strcmp(argv[i], "release") == 0 && i == 1)
			release = 1;
		else if (strcmp(argv[i], "show") != 0 || i != 1)
			return (ctl_usage_error("%s", cmd_limits_usage));
	}
	return (release ? limits_release(ctl) : limits_show(ctl));
}
