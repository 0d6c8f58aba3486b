/*
 * journal.c - read Postfix's records from the systemd journal with
 * libsystemd, resuming after a saved cursor.
 *
 * Each record's fields (SYSLOG_IDENTIFIER, _PID, MESSAGE, _HOSTNAME) are
 * copied out, since sd_journal_get_data() reuses its buffer, and parsed
 * with parse_journal_fields().
 */
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>

#include "util/log.h"
#include "util/util.h"
#include "journal.h"

struct journal_src {
	sd_journal *j;
	struct buf ident, pid, msg, host;
	char   *cursor;
};

/* field - copy FIELD's value of the current record into b; 0 or -1. */
static int
field(sd_journal *j, const char *name, struct buf *b)
{
	const void *data;
	size_t  len, nl = strlen(name) + 1;

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
	int     r;

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
				 "the start", strerror(-r));
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
journal_src_next(struct journal_src *js, struct log_line *line,
		 const char **cursor)
{
	uint64_t usec = 0;
	char   *c = NULL;
	int     r;

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
				 js->host.len ? js->host.data : NULL, js->host.len,
				 line) < 0)
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
