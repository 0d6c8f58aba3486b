/*
 * tail.c - the posthook-logtail daemon: its start, the loop that reads
 * log_file in batches and commits them, and reload.
 *
 * The parts are in tail_*.c (see tail_int.h): which file to read and from
 * where (tail_file.c), what a batch commits (tail_commit.c), the saved
 * state read at start (tail_load.c), sleeping at the end of the log
 * (tail_watch.c); with log_source = journal, journal.c reads and loops
 * instead, and the position is the journal cursor of the last record
 * read.  The tenants' rules, for the mail the milter did not record, are
 * read at start, on reload and every TENANTS_MS when they changed.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "classify/classify.h"
#include "tenant/tenant.h"
#include "util/log.h"
#include "tail.h"
#include "tail_int.h"

/* feed - one line to the correlator. */
void
feed(struct tail *t, const char *line, size_t len, uint64_t off, int cut)
{
	struct log_line l;
	struct log_pos pos = { t->cur.fp, off, NULL };

	t->dirty = 1;
	if (mark_skip(t, off))
		return;
	if (cut)
		log_warn("%s: line at offset %llu is longer than %d bytes: read "
			 "its start only",
			 t->cur.path, (unsigned long long) off, LINE_MAX_BYTES);
	if (parse_line_memo(line, len, &l, &t->stamp_memo) == 0)
		correlate_feed(t->corr, &l, &pos);
}

/* tick - holds whose record appeared or whose wait is over go out. */
void
tick(struct tail *t)
{
	if (correlate_tick(t->corr, now_seconds()) > 0)
		t->dirty = 1;
}

/*
 * read_batch - read up to BATCH_LINES whole lines.  Returns the number of
 * lines read; *eof is set when the file had no more.
 */
static int
read_batch(struct tail *t, int *eof)
{
	const char *line;
	size_t len;
	uint64_t off;
	ssize_t n;
	int cut, count = 0;

	*eof = 0;
	tick(t);
	if (t->cur.changed || !file_ready(&t->cur)) {
		*eof = 1;
		return (0);
	}
	correlate_set_now(t->corr, time(NULL));
	for (;;) {
		while (count < BATCH_LINES
		       && linereader_next(t->cur.lr, &line, &len, &off, &cut)) {
			feed(t, line, len, off, cut);
			count++;
		}
		if (count >= BATCH_LINES)
			break;
		if ((n = linereader_fill(t->cur.lr)) < 0) {
			log_error("%s: read: %m", t->cur.path);
			*eof = 1;
			break;
		}
		if (n == 0) {
			*eof = 1;
			break;
		}
		/* Truncated before that read (copytruncate, the file written
		 * again past our offset): what it gave may be another file's
		 * bytes from the wrong place.  None of it is read; check_file()
		 * finishes the copy and starts the file again. */
		if (file_changed(&t->cur)) {
			t->cur.changed = 1;
			*eof = 1;
			break;
		}
	}
	t->cur.at_end = *eof;
	/* Records committed while the batch was read. */
	if (count > 0)
		tick(t);
	return (count);
}

/* correlate_opts_of - what the correlator takes from a config. */
static void
correlate_opts_of(const struct config *cfg, struct correlate_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->report = cfg->report;
	opts->internal_hosts = cfg->internal_hosts;
	opts->hop_relays = cfg->hop_relays;
	opts->hold_wait = HOLD_WAIT_S;
	opts->hop_wait = CORRELATE_HOP_WAIT;
}

/* same - two config strings (NULL as "") are equal. */
static int
same(const char *a, const char *b)
{
	return (strcmp(a ? a : "", b ? b : "") == 0);
}

/* reload - SIGHUP: read the config again for what can change running. */
void
reload(struct tail *t)
{
	struct config *n = config_new();
	struct correlate_opts opts;
	char err[1024];

	if (config_load(n, t->args->config_path, t->args->config_given, err, sizeof(err))
	    < 0) {
		log_error("reload: %s; keeping the running configuration", err);
		config_free(n);
		return;
	}
	if (n->log_source != t->cfg->log_source || !same(n->log_file, t->cfg->log_file)
	    || !same(n->journal_dir, t->cfg->journal_dir)
	    || !same(n->state_dir, t->cfg->state_dir))
		log_warn("reload: log_source, log_file, journal_dir and state_dir "
			 "take effect at the next start");
	/* config_load() checked the rules; a file changed since keeps the old. */
	if (classify_local_load(n->classify_rules_file, err, sizeof(err)) < 0)
		log_error("reload: %s; keeping the classification rules", err);
	correlate_opts_of(n, &opts);
	correlate_set_opts(t->corr, &opts);
	tenants_refresh(t, 1);
	config_free(t->live);
	t->live = n;
	log_info("configuration reloaded");
}

struct tenants_job {
	uint64_t read; /* the counter of the rules in use */
	uint64_t gen;
	int force;
	struct tenant_matcher *m; /* NULL: unchanged */
};

/* tenants_txn - the rules, when their change counter moved. */
static int
tenants_txn(struct store_txn *txn, void *ctx)
{
	struct tenants_job *job = ctx;

	/* A retry starts again from what is in use. */
	tenant_matcher_free(job->m);
	job->gen = job->read;
	return (tenant_matcher_reload(txn, &job->gen, job->force, &job->m));
}

/*
 * housekeep - between batches, in both loops: the store's maintenance
 * every MAINTAIN_MS (*last_maintain is when it last ran), and the
 * tenants' rules when they changed.
 */
void
housekeep(struct tail *t, int64_t *last_maintain)
{
	if (monotonic_ms() - *last_maintain > MAINTAIN_MS) {
		if (store_maintain(t->st) != STORE_OK)
			log_warn("store maintenance failed; will retry");
		*last_maintain = monotonic_ms();
	}
	tenants_refresh(t, 0);
}

/*
 * tenants_refresh - reread the tenants' rules when they changed (at most
 * every TENANTS_MS, unless forced); a store that cannot be read keeps the
 * rules in use.
 */
void
tenants_refresh(struct tail *t, int force)
{
	struct tenants_job job = { t->tenants_gen, 0, 0, NULL };
	int rc;

	if (!force && monotonic_ms() - t->tenants_read < TENANTS_MS)
		return;
	t->tenants_read = monotonic_ms();
	job.force = force || t->tenants == NULL;
	if ((rc = store_run(t->st, tenants_txn, &job, 0)) != STORE_OK) {
		tenant_matcher_free(job.m);
		log_warn("cannot read the tenants' rules (status %d): keeping "
			 "those in use",
			 rc);
		return;
	}
	if (job.m == NULL)
		return;
	correlate_set_tenants(t->corr, job.m);
	tenant_matcher_free(t->tenants);
	t->tenants = job.m;
	t->tenants_gen = job.gen;
	if (log_verbose())
		log_debug("tenant rules loaded: %zu values", tenant_matcher_rules(job.m));
}

/* tail_loop - read, commit, follow, until told to stop. */
static int
tail_loop(struct tail *t)
{
	int64_t last_maintain = monotonic_ms();
	int eof, n;

	while (!t->sig->stop) {
		n = read_batch(t, &eof);
		if (commit(t) < 0)
			break;
		if (t->sig->reload) {
			t->sig->reload = 0;
			reload(t);
			log_info("reopening %s", t->cfg->log_file);
			check_file(t);
		}
		if (eof) {
			check_file(t);
			if (n == 0 && t->once && !t->cur.old)
				break;
			if (n == 0) {
				int ms =
				    correlate_pending(t->corr) > 0 ? HOLD_RECHECK_MS : -1;

				/* A rotated file: look again when its grace
				 * period is over. */
				if (t->cur.old && t->cur.fd >= 0) {
					int g = old_grace_left(&t->cur) + 1;

					if (ms < 0 || g < ms)
						ms = g;
				}
				wait_for(t, ms);
			}
		}
		housekeep(t, &last_maintain);
	}
	return (commit(t));
}

/* tail_main - see tail.h. */
int
tail_main(struct config *cfg, const struct daemon_args *args, int flags)
{
	int from_start = (flags & TAIL_FROM_START) != 0;
	struct correlate_opts opts = { 0 };
	struct tail t;
	struct position_record pos;
	long states = 0;
	char *pidfile = NULL, err[1024];
	int found, rc;

	memset(&t, 0, sizeof(t));
	t.cur.fd = -1;
	t.ino_fd = t.wd_dir = t.wd_file = -1;
	t.cfg = cfg;
	t.once = (flags & TAIL_ONCE) != 0;
	t.args = args;
	if (daemon_prepare_state_dir(cfg) < 0)
		return (1);
	if (!args->foreground)
		daemon_detach();
	t.sig = daemon_signals_init(SIGHUP);
	if (cfg->pid_dir != NULL && cfg->pid_dir[0] != 0
	    && (pidfile = daemon_pidfile_write(cfg->pid_dir, "posthook-logtail")) == NULL)
		return (1);
	if (daemon_drop_privileges(cfg) < 0)
		return (1);
	/* Right after a crash another opener may be recovering: wait. */
	for (int i = 0; (t.st = store_open(cfg->state_dir, 0)) == NULL; i++) {
		if (i == 20 || t.sig->stop)
			return (1);
		usleep(500000);
	}
	store_set_lock_timeout(t.st, cfg->store_lock_timeout_ms);
	buf_init(&t.text);
	if (classify_local_load(cfg->classify_rules_file, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return (1);
	}
	correlate_opts_of(cfg, &opts);
	t.corr = correlate_new(&opts, on_event, on_record, &t);
	tenants_refresh(&t, 1);
	if (cfg->log_source == LOG_SOURCE_JOURNAL)
		t.poskey = position_key_journal(cfg->journal_dir);
	else
		t.poskey = position_key_file(cfg->log_file);
	memset(&pos, 0, sizeof(pos));
	if ((found = tail_load(&t, &pos, &states)) < 0) {
		log_error("cannot read the saved position");
		rc = -1;
	} else {
		log_info("started: %ld queued messages known", states);
		if (cfg->log_source == LOG_SOURCE_JOURNAL) {
			rc = journal_loop(&t, &pos, from_start);
		} else {
			watch_init(&t);
			start_position(&t, found ? &pos : NULL, from_start);
			/* A first start commits where it starts at once, so
			 * that a crash before the first batch moves nothing. */
			if (!found && file_ready(&t.cur)) {
				t.dirty = 1;
				commit(&t);
			}
			rc = tail_loop(&t);
		}
	}
	log_info("stopping: %ld events queued", t.events_total);
	position_clear(&pos);
	journal_src_close(t.js);
	free(t.cursor);
	pending_clear(&t);
	free(t.ev);
	free(t.qs);
	buf_free(&t.text);
	file_close(&t.cur);
	if (t.ino_fd >= 0)
		close(t.ino_fd);
	free(t.poskey);
	correlate_free(t.corr);
	tenant_matcher_free(t.tenants);
	config_free(t.live);
	store_close(t.st);
	daemon_pidfile_remove(pidfile);
	return (rc < 0 ? 1 : 0);
}
