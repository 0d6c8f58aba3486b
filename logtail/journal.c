/*
 * journal.c - log_source = journal: read Postfix's records from the
 * systemd journal with libsystemd, resuming after a saved cursor, and the
 * tailer's loop over them (read a batch, commit it with the cursor of its
 * last record, wait for more).
 *
 * Each record's fields (SYSLOG_IDENTIFIER, _PID, MESSAGE, _HOSTNAME) are
 * copied out, since sd_journal_get_data() reuses its buffer, and parsed
 * with parse_journal_fields().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <systemd/sd-journal.h>

#include "util/log.h"
#include "util/util.h"
#include "journal.h"
#include "tail_int.h"

struct journal_src {
	sd_journal *j;
	struct buf ident, pid, msg, host;
	char *cursor;
};

/* field - copy FIELD's value of the current record into b; 0 or -1. */
static int
field(sd_journal *j, const char *name, struct buf *b)
{
	const void *data;
	size_t len, nl = strlen(name) + 1;

	buf_reset(b);
	if (sd_journal_get_data(j, name, &data, &len) < 0 || len < nl)
		return (-1);
	buf_append(b, (const char *) data + nl, len - nl);
	return (0);
}

/* journal_src_open - see journal.h. */
struct journal_src *
journal_src_open(const char *dir, const char *cursor, int from_start)
{
	struct journal_src *js = xcalloc(1, sizeof(*js));
	int r;

	if (dir != NULL && *dir != 0)
		r = sd_journal_open_directory(&js->j, dir, 0);
	else
		r = sd_journal_open(&js->j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
	if (r < 0) {
		log_error("cannot open the journal%s%s: %s", dir && *dir ? " in " : "",
			  dir && *dir ? dir : "", strerror(-r));
		free(js);
		return (NULL);
	}
	buf_init(&js->ident);
	buf_init(&js->pid);
	buf_init(&js->msg);
	buf_init(&js->host);
	/* Postfix logs to the mail facility. */
	if ((r = sd_journal_add_match(js->j, "SYSLOG_FACILITY=2", 0)) < 0)
		log_warn("journal: cannot match the mail facility: %s", strerror(-r));
	if (cursor != NULL && *cursor != 0) {
		if ((r = sd_journal_seek_cursor(js->j, cursor)) < 0) {
			log_warn("journal: saved cursor unusable (%s): reading from "
				 "the start",
				 strerror(-r));
			sd_journal_seek_head(js->j);
		} else if (sd_journal_next(js->j) > 0
			   && sd_journal_test_cursor(js->j, cursor) <= 0) {
			/* The saved record is gone: read from the one after. */
			sd_journal_previous(js->j);
			log_info("journal: the saved cursor's record is gone; "
				 "resuming at the one after it");
		} else {
			log_info("journal: resuming after the saved cursor");
		}
	} else if (from_start) {
		log_info("journal: first start: reading from the start");
		sd_journal_seek_head(js->j);
	} else {
		log_info("journal: first start: reading from the end");
		sd_journal_seek_tail(js->j);
		if (sd_journal_previous(js->j) > 0
		    && sd_journal_get_cursor(js->j, &js->cursor) < 0)
			js->cursor = NULL;
	}
	return (js);
}

/* journal_src_close - see journal.h. */
void
journal_src_close(struct journal_src *js)
{
	if (js == NULL)
		return;
	sd_journal_close(js->j);
	buf_free(&js->ident);
	buf_free(&js->pid);
	buf_free(&js->msg);
	buf_free(&js->host);
	free(js->cursor);
	free(js);
}

/* journal_src_next - see journal.h. */
int
journal_src_next(struct journal_src *js, struct log_line *line, const char **cursor)
{
	uint64_t usec = 0;
	char *c = NULL;
	int r;

	if ((r = sd_journal_next(js->j)) < 0) {
		log_error("journal: %s", strerror(-r));
		return (-1);
	}
	if (r == 0)
		return (0);
	if ((r = sd_journal_get_cursor(js->j, &c)) < 0) {
		log_error("journal: no cursor: %s", strerror(-r));
		return (-1);
	}
	free(js->cursor);
	js->cursor = c;
	*cursor = js->cursor;
	if (sd_journal_get_realtime_usec(js->j, &usec) < 0)
		usec = 0;
	if (field(js->j, "SYSLOG_IDENTIFIER", &js->ident) < 0
	    || field(js->j, "MESSAGE", &js->msg) < 0) {
		memset(line, 0, sizeof(*line));
		line->kind = LK_NONE;
		return (1);
	}
	if (field(js->j, "SYSLOG_PID", &js->pid) < 0)
		field(js->j, "_PID", &js->pid);
	field(js->j, "_HOSTNAME", &js->host);
	if (parse_journal_fields(js->ident.data, js->ident.len,
				 js->pid.len ? js->pid.data : NULL, js->pid.len,
				 js->msg.data, js->msg.len, usec,
				 js->host.len ? js->host.data : NULL, js->host.len, line)
	    < 0)
		line->kind = LK_NONE;
	return (1);
}

/* journal_src_cursor - see journal.h. */
const char *
journal_src_cursor(const struct journal_src *js)
{
	return (js->cursor);
}

/* journal_src_wait - see journal.h. */
void
journal_src_wait(struct journal_src *js, int ms)
{
	sd_journal_wait(js->j, (uint64_t) ms * 1000);
}

/*
 * wait_journal_dir - journal_dir does not exist (yet): say so once and
 * wait for it, as for a missing log_file.  -1 when told to stop first.
 */
static int
wait_journal_dir(struct tail *t)
{
	const char *dir = t->cfg->journal_dir;
	struct stat sb;
	int said = 0;

	if (dir == NULL || *dir == 0)
		return (0);
	while (stat(dir, &sb) < 0 && errno == ENOENT) {
		if (t->sig->stop)
			return (-1);
		if (!said)
			log_warn("journal_dir %s: %m; waiting for it", dir);
		said = 1;
		wait_for(t, FALLBACK_POLL_MS);
	}
	if (said)
		log_info("journal_dir %s: there now", dir);
	return (0);
}

/* journal_loop - log_source = journal: read, commit, wait. */
int
journal_loop(struct tail *t, const struct position_record *pos, int from_start)
{
	int64_t last_maintain = monotonic_ms();
	struct log_line l;
	const char *cur;
	int n, r = 0;

	if (wait_journal_dir(t) < 0)
		return (0);
	t->js = journal_src_open(t->cfg->journal_dir, pos->cursor, from_start);
	if (t->js == NULL)
		return (-1);
	if (pos->cursor == NULL && journal_src_cursor(t->js) != NULL) {
		t->cursor = xstrdup(journal_src_cursor(t->js));
		t->dirty = 1;
		if (commit(t) < 0)
			return (-1);
	}
	while (!t->sig->stop) {
		tick(t);
		correlate_set_now(t->corr, time(NULL));
		for (n = 0;
		     n < BATCH_LINES && (r = journal_src_next(t->js, &l, &cur)) == 1;
		     n++) {
			struct log_pos lp = { "journal", 0, cur };

			correlate_feed(t->corr, &l, &lp);
			free(t->cursor);
			t->cursor = xstrdup(cur);
			t->dirty = 1;
		}
		if (n > 0)
			tick(t);
		if (commit(t) < 0)
			break;
		if (r < 0)
			return (-1);
		if (n == 0 && t->once)
			break;
		if (t->sig->reload) {
			t->sig->reload = 0;
			reload(t);
		}
		if (n < BATCH_LINES)
			journal_src_wait(t->js, correlate_pending(t->corr) > 0
						    ? HOLD_RECHECK_MS
						    : IDLE_POLL_MS);
		housekeep(t, &last_maintain);
	}
	return (commit(t));
}
