/*
 * tail.c - the posthook-logtail daemon with log_source = file.
 *
 * Follows log_file through rename rotation (the old file is read until
 * it has been quiet for ROTATE_GRACE_MS and to its end before the new
 * one: the writer keeps appending to it until it reopens; a restart that
 * finds the saved file renamed to log_file.1, or log_file.N after several
 * rotations, or compressed, finishes it first, then the newer rotated
 * files in turn: rotation.c knows their names and order) and
 * copytruncate (the file shrank below our offset, or its first line
 * changed, also when it was written again past our offset before we
 * looked: every read is checked against the first line; the lines we had
 * not read yet are finished in the copy, log_file.1, when it is the same
 * file).  A file is known by device, inode and the fingerprint of its
 * first line (of what it decompresses to, for a gzip-compressed rotated
 * file: it is read through zlib).  A log_file that is
 * missing, unreadable or not a regular file (a directory, a FIFO) is said
 * once and waited for.
 *
 * With log_source = journal, records come from journal.c instead, and the
 * position is the journal cursor of the last record read.
 *
 * Lines are read in batches; each batch's events (outbox_add_many, idempotent
 * by key), the queue state it changed (STORE_QUEUE) and the read position
 * (STORE_POSITIONS) are committed in one transaction, so a crash at any
 * point neither loses nor repeats an event.  A hold line's Held events may
 * wait up to HOLD_WAIT_S for the milter's record (see correlate_tick());
 * while they wait they are part of the saved queue state, committed with
 * the position past their line, and they go out in the transaction that
 * deletes them from it.
 *
 * At the end of the file the tailer sleeps until inotify says the file
 * was written (IN_MODIFY on the open file) or its directory got a new
 * entry (IN_CREATE, IN_MOVED_TO: rotation), with a slow fallback poll in
 * case an event is missed (a network file system); without inotify it
 * polls every SHORT_POLL_MS.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/fault.h"
#include "util/log.h"
#include "store/outbox.h"
#include "store/store.h"
#include "util/util.h"
#include "correlate.h"
#include "logfile/fingerprint.h"
#include "util/gzfile.h"
#include "journal.h"
#include "linereader.h"
#include "records.h"
#include "logfile/rotation.h"
#include "tail.h"

#define BATCH_LINES	5000
#define IDLE_POLL_MS	250		/* the journal's wait */
#define FALLBACK_POLL_MS 1000		/* with inotify: in case one is missed */
#define SHORT_POLL_MS	10		/* without inotify */
#define HOLD_RECHECK_MS	20		/* holds waiting: look for records */
#define HOLD_WAIT_S	2.0		/* the longest a hold waits */
#define MAINTAIN_MS	10000

/*
 * After a rename rotation the writer keeps appending to the old file until
 * it reopens the log: logrotate renames mail.log, creates a new one and
 * only then runs "postfix reload", and postlogd reopens a moment later.
 * The old file is finished only once it has not grown for this long (and
 * is read to its end); the new file's lines wait meanwhile, from its start.
 */
#define ROTATE_GRACE_MS	2000

struct pending_event {
	size_t  key;			/* offsets in tail.text */
	size_t  payload, payload_len;
	enum event_type type;
	double  timestamp;
};

struct pending_state {
	char   *qid;
	char   *json;			/* NULL: delete */
};

struct tailfile {
	char   *path;
	int     fd;
	dev_t   dev;
	ino_t   ino;
	char    fp[FINGERPRINT_LEN];	/* "" until the first line is there */
	uint64_t start;			/* offset to start at once fp is known */
	int     old;			/* a rotated file: move on at its end */
	int     gz;			/* old and gzip-compressed */
	off_t   seen_size;		/* old: its size when last looked at */
	int64_t quiet_since;		/* old: when it last grew (monotonic) */
	int     at_end;			/* the last read_batch() came to its end */
	int     changed;		/* its first line changed under the reader */
	struct linereader *lr;
};

struct posrec {
	char   *cursor;			/* log_source = journal */
	char    fp[FINGERPRINT_LEN];
	unsigned long long dev, ino, offset;
	int     found;
};

struct tail {
	struct config *cfg;		/* as started: the log's path */
	struct config *live;		/* reloaded by SIGHUP, or NULL */
	const struct daemon_args *args;
	struct store *st;
	struct daemon_signals *sig;
	struct correlate *corr;
	struct tailfile cur;
	struct journal_src *js;		/* log_source = journal */
	char   *cursor;			/* of the last journal record read */
	char   *poskey;

	struct pending_event *ev;
	size_t  nev, capev;
	struct buf text;		/* the events' keys and payloads */
	struct pending_state *qs;
	size_t  nqs, capqs;
	uint64_t committed;		/* offset last committed */
	int     dirty;			/* lines read since the last commit */
	int     once;			/* TAIL_ONCE */
	int     missing;		/* log_file gone: said so once */
	int     open_err;		/* the open failure said last (0: none) */
	const struct posrec *resume;	/* saved position not reached yet */
	int     first_at_end;		/* first start, log_file unreadable */
	long    events_total;

	int     ino_fd;			/* inotify, or -1 */
	int     wd_dir;			/* log_file's directory, or -1 */
	int     wd_file;		/* the open file, or -1 */
	dev_t   w_dev;			/* what wd_file watches */
	ino_t   w_ino;
};

/*
 * payload_text - append the event's payload to t->text as JSON, written by
 * delivery_event_write_payload_json(): json-c's text for
 * delivery_event_payload() but for "/" left unescaped, the same value once
 * parsed, at an eighth of the cost.
 */
static void
payload_text(struct tail *t, const struct delivery_event *ev,
	     struct pending_event *p)
{
	p->payload = t->text.len;
	delivery_event_write_payload_json(&t->text, ev);
	p->payload_len = t->text.len - p->payload;
}

/* on_event - keep an event for the next commit. */
static void
on_event(struct correlate_event *ce, void *ctx)
{
	struct tail *t = ctx;
	struct pending_event *p;

	if (t->nev == t->capev) {
		t->capev = t->capev ? t->capev * 2 : 256;
		t->ev = xrealloc(t->ev, t->capev * sizeof(*t->ev));
	}
	p = &t->ev[t->nev++];
	p->key = t->text.len;
	buf_append(&t->text, ce->key, strlen(ce->key) + 1);
	p->type = ce->ev.type;
	p->timestamp = ce->ev.timestamp;
	payload_text(t, &ce->ev, p);
}

/* on_record - the milter's record for the correlator. */
static struct message_record *
on_record(const char *qid, void *ctx)
{
	struct tail *t = ctx;

	return (records_lookup(t->st, qid));
}

/* on_state - keep a changed queue state for the next commit. */
static void
on_state(const char *qid, json_object *state, void *ctx)
{
	struct tail *t = ctx;
	struct pending_state *p;

	if (t->nqs == t->capqs) {
		t->capqs = t->capqs ? t->capqs * 2 : 256;
		t->qs = xrealloc(t->qs, t->capqs * sizeof(*t->qs));
	}
	p = &t->qs[t->nqs++];
	p->qid = xstrdup(qid);
	p->json = state ? xstrdup(json_object_to_json_string_ext(state,
					JSON_C_TO_STRING_PLAIN)) : NULL;
}

/* pending_clear - forget what was committed. */
static void
pending_clear(struct tail *t)
{
	buf_reset(&t->text);
	for (size_t i = 0; i < t->nqs; i++) {
		free(t->qs[i].qid);
		free(t->qs[i].json);
	}
	t->nev = t->nqs = 0;
}

/* position_json - where we are, as stored. */
static char *
position_json(const struct tail *t, uint64_t offset)
{
	if (t->js != NULL) {
		json_object *o = json_object_new_object();
		char   *s;

		json_object_object_add(o, "cursor", json_object_new_string(t->cursor));
		s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		return (s);
	}
	return (xasprintf("{\"path\":\"%s\",\"dev\":%llu,\"ino\":%llu,"
			  "\"fp\":\"%s\",\"offset\":%llu}",
			  t->cur.old ? "old" : "current",
			  (unsigned long long) t->cur.dev,
			  (unsigned long long) t->cur.ino, t->cur.fp,
			  (unsigned long long) offset));
}

struct commit {
	struct tail *t;
	char   *pos;
	struct outbox_item *items;	/* t->ev as the outbox takes them */
	long    added;
};

/* commit_txn - events, queue states and position, all or nothing. */
static int
commit_txn(struct store_txn *txn, void *ctx)
{
	struct commit *cm = ctx;
	struct tail *t = cm->t;
	int     rc;

	if ((rc = outbox_add_many(txn, cm->items, t->nev, &cm->added)) != STORE_OK)
		return (rc);
	for (size_t i = 0; i < t->nqs; i++) {
		struct pending_state *p = &t->qs[i];

		if (p->json != NULL)
			rc = store_put(txn, STORE_QUEUE, p->qid, strlen(p->qid),
				       p->json, strlen(p->json));
		else if ((rc = store_del(txn, STORE_QUEUE, p->qid,
					 strlen(p->qid))) == STORE_NOTFOUND)
			rc = STORE_OK;
		if (rc != STORE_OK)
			return (rc);
	}
	return (store_put(txn, STORE_POSITIONS, t->poskey, strlen(t->poskey),
			  cm->pos, strlen(cm->pos)));
}

/* commit - make the batch durable; retried until it is or we stop. */
static int
commit(struct tail *t)
{
	struct commit cm = { t, NULL, NULL, 0 };
	uint64_t offset;
	int     rc;

	if (t->js != NULL) {
		if (!t->dirty || t->cursor == NULL)
			return (0);
		offset = 0;
	} else {
		if (t->cur.lr == NULL || t->cur.fp[0] == 0)
			return (0);
		offset = linereader_offset(t->cur.lr);
		if (!t->dirty && offset == t->committed)
			return (0);
	}
	correlate_flush_dirty(t->corr, on_state, t);
	cm.pos = position_json(t, offset);
	cm.items = xcalloc(t->nev ? t->nev : 1, sizeof(*cm.items));
	for (size_t i = 0; i < t->nev; i++) {
		const struct pending_event *p = &t->ev[i];

		cm.items[i].key = t->text.data + p->key;
		cm.items[i].type = p->type;
		cm.items[i].timestamp = p->timestamp;
		cm.items[i].payload = t->text.data + p->payload;
		cm.items[i].payload_len = p->payload_len;
	}
	PH_FAULT("logtail-before-commit");
	while ((rc = store_run(t->st, commit_txn, &cm, 0)) != STORE_OK) {
		log_error("cannot commit %zu events at offset %llu of %s; "
			  "retrying", t->nev, (unsigned long long) offset,
			  t->js ? "the journal" : t->cur.path);
		if (t->sig->stop) {
			free(cm.pos);
			free(cm.items);
			return (-1);
		}
		sleep(1);
	}
	PH_FAULT("logtail-after-commit");
	t->events_total += cm.added;
	if (log_verbose())
		log_debug("committed %ld new events, offset %llu", cm.added,
			  (unsigned long long) offset);
	free(cm.pos);
	free(cm.items);
	pending_clear(t);
	t->committed = offset;
	t->dirty = 0;
	return (0);
}

/* file_close - forget the current file. */
static void
file_close(struct tailfile *f)
{
	linereader_free(f->lr);
	f->lr = NULL;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	free(f->path);
	f->path = NULL;
	f->fp[0] = 0;
	f->old = 0;
	f->gz = 0;
	f->at_end = 0;
	f->changed = 0;
}

/*
 * file_open - open path; the reader starts at offset once fp is known.
 * As rotation_open() when it cannot: a directory, a FIFO or a device is
 * never read, and never waited on.
 */
static int
file_open(struct tailfile *f, const char *path, uint64_t offset, int old)
{
	struct stat sb;
	int     fd;

	if ((fd = rotation_open(path, &sb)) < 0)
		return (fd);
	file_close(f);
	f->fd = fd;
	f->path = xstrdup(path);
	f->dev = sb.st_dev;
	f->ino = sb.st_ino;
	f->start = offset;
	f->old = old;
	f->seen_size = sb.st_size;
	f->quiet_since = monotonic_ms();
	/* A compressed file is done with: no writer, no grace period. */
	if (old && (f->gz = gzfile_is(fd)))
		f->quiet_since -= ROTATE_GRACE_MS;
	return (0);
}

/*
 * open_failed - say why path cannot be read (rc from file_open()), once
 * for as long as the reason stays the same.
 */
static void
open_failed(struct tail *t, const char *path, int rc)
{
	int     err = errno, why = rc == ROTATION_NOT_REGULAR ? -1 : err;

	if (t->open_err == why)
		return;
	t->open_err = why;
	if (rc == ROTATION_NOT_REGULAR) {
		log_warn("%s: not a regular file; waiting for a log file there",
			 path);
	} else {
		errno = err;
		log_warn("%s: cannot open: %m; waiting for it", path);
	}
}

/*
 * file_changed - the open file no longer starts with the first line it
 * had (or no longer holds a whole one): it was truncated, and maybe
 * written again past our offset, since we took its fingerprint.
 */
static int
file_changed(struct tailfile *f)
{
	char    fp[FINGERPRINT_LEN];
	int     rc;

	if (f->gz)
		return (0);			/* nobody truncates it */
	if ((rc = fingerprint_fd(f->fd, fp)) < 0)
		return (0);			/* a read error: said by the reader */
	return (rc == 0 || strcmp(fp, f->fp) != 0);
}

/*
 * file_mark_old - the open file was rotated away: finish it before the
 * live one.  quiet: nobody writes to it (a copy), no grace period.
 */
static void
file_mark_old(struct tailfile *f, int quiet)
{
	struct stat sb;

	f->old = 1;
	f->seen_size = fstat(f->fd, &sb) == 0 ? sb.st_size : -1;
	f->quiet_since = monotonic_ms() - (quiet ? ROTATE_GRACE_MS : 0);
}

/*
 * old_grace_left - ms until the rotated file counts as finished (0: it
 * has been quiet long enough); a file that grew starts the wait again.
 */
static int
old_grace_left(struct tailfile *f)
{
	struct stat sb;
	int64_t left;

	if (fstat(f->fd, &sb) == 0 && sb.st_size != f->seen_size) {
		f->seen_size = sb.st_size;
		f->quiet_since = monotonic_ms();
	}
	left = f->quiet_since + ROTATE_GRACE_MS - monotonic_ms();
	return (left > 0 ? (int) left : 0);
}

/* file_ready - the fingerprint is known and the reader set up: 1, else 0. */
static int
file_ready(struct tailfile *f)
{
	int     rc;

	if (f->fd < 0)
		return (0);
	if (f->lr != NULL)
		return (1);
	rc = f->gz ? fingerprint_gz_fd(f->fd, f->fp) : fingerprint_fd(f->fd, f->fp);
	if (rc <= 0) {
		if (rc < 0)
			log_error("%s: read: %m", f->path);
		f->fp[0] = 0;
		return (0);
	}
	if (f->gz) {
		if ((f->lr = linereader_new_gz(f->fd, f->start)) == NULL) {
			log_error("%s: cannot decompress up to offset %llu: %m",
				  f->path, (unsigned long long) f->start);
			return (0);
		}
		return (1);
	}
	if (lseek(f->fd, (off_t) f->start, SEEK_SET) < 0) {
		log_error("%s: seek: %m", f->path);
		return (0);
	}
	f->lr = linereader_new(f->fd, f->start);
	return (1);
}

/* feed - one line to the correlator. */
static void
feed(struct tail *t, const char *line, size_t len, uint64_t off, int cut)
{
	struct log_line l;
	struct log_pos pos = { t->cur.fp, off, NULL };

	if (cut)
		log_warn("%s: line at offset %llu is longer than %d bytes: read "
			 "its start only", t->cur.path, (unsigned long long) off,
			 LINE_MAX_BYTES);
	if (parse_line(line, len, &l) == 0)
		correlate_feed(t->corr, &l, &pos);
	t->dirty = 1;
}

/* tick - holds whose record appeared or whose wait is over go out. */
static void
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
	size_t  len;
	uint64_t off;
	ssize_t n;
	int     cut, count = 0;

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

/*
 * next_name - the file to read after the rotated file now finished: when
 * it was rotated again meanwhile (it is log_file.k, k >= 2, maybe
 * compressed since), the one rotated after it; else log_file.
 */
static char *
next_name(struct tail *t)
{
	struct rotation *r = rotation_new(t->cfg->log_file);
	int     i = rotation_find(r, t->cur.fp, (unsigned long long) t->cur.dev,
				  (unsigned long long) t->cur.ino, 0);
	size_t  k = i >= 0 && (size_t) i + 1 < r->n ? (size_t) i + 1 : r->n - 1;
	char   *next = xstrdup(r->f[k].path);

	rotation_free(r);
	return (next);
}

/*
 * finish_copy - copytruncate noticed: the lines past our offset that were
 * copied before the truncation are only in log_file.1.  When that is the
 * file we were reading (the same first line), read it on from our offset
 * as a rotated file.  1 when so, else 0.
 */
static int
finish_copy(struct tail *t)
{
	struct tailfile f;
	struct stat sb;
	char   *old = xasprintf("%s.1", t->cfg->log_file);
	uint64_t off = linereader_offset(t->cur.lr);
	int     ok;

	memset(&f, 0, sizeof(f));
	f.fd = -1;
	ok = file_open(&f, old, off, 1) == 0 && fstat(f.fd, &sb) == 0
	    && (uint64_t) sb.st_size > off && file_ready(&f)
	    && strcmp(f.fp, t->cur.fp) == 0;
	if (ok) {
		log_info("%s: truncated; finishing its copy %s from offset %llu",
			 t->cfg->log_file, old, (unsigned long long) off);
		file_close(&t->cur);
		t->cur = f;
		file_mark_old(&t->cur, 1);
	} else {
		file_close(&f);
	}
	free(old);
	return (ok);
}

/*
 * finish_last_line - a rotated file that will not grow any more may end
 * in a line without its newline (a writer killed mid-write): read it as
 * it is rather than lose it.
 */
static void
finish_last_line(struct tail *t)
{
	const char *line;
	size_t  len;
	uint64_t off;
	int     cut;

	if (t->cur.lr == NULL
	    || !linereader_finish(t->cur.lr, &line, &len, &off, &cut))
		return;
	log_warn("%s: last line at offset %llu has no newline; reading it as "
		 "it is", t->cur.path, (unsigned long long) off);
	correlate_set_now(t->corr, time(NULL));
	feed(t, line, len, off, cut);
}

static int start_position(struct tail *, const struct posrec *, int);

/* check_file - at the end of the file: rotated, truncated, or quiet? */
static void
check_file(struct tail *t)
{
	const char *path = t->cfg->log_file;
	struct stat sb;
	char   *next;
	int     rc;

	if (t->cur.fd < 0) {
		if (t->resume != NULL) {
			start_position(t, t->resume, 0);
			return;
		}
		if ((rc = file_open(&t->cur, path, 0, 0)) == 0) {
			if (t->first_at_end && fstat(t->cur.fd, &sb) == 0)
				t->cur.start = t->committed = (uint64_t) sb.st_size;
			log_info("%s: opened%s", path, t->first_at_end
				 ? "; first start: reading from the end" : "");
			t->open_err = 0;
			t->first_at_end = 0;
		} else {
			open_failed(t, path, rc);
		}
		return;
	}
	if (t->cur.old) {
		/* A rotated file read to its end: on to the live one once
		 * the writer has stopped appending to it (quiet, and no new
		 * lines since read_batch() came to its end). */
		if (!t->cur.at_end || old_grace_left(&t->cur) > 0)
			return;
		finish_last_line(t);
		if (commit(t) < 0)
			return;
		next = next_name(t);
		log_info("%s: done; continuing with %s", t->cur.path, next);
		file_close(&t->cur);
		t->open_err = 0;
		if ((rc = file_open(&t->cur, next, 0, strcmp(next, path) != 0)) < 0)
			open_failed(t, next, rc);
		free(next);
		return;
	}
	if (stat(path, &sb) < 0) {
		/* Renamed and not created again yet, or removed. */
		if (!t->missing)
			log_warn("%s: %m; still reading the file it was, waiting "
				 "for a new one", path);
		t->missing = 1;
		return;
	}
	t->missing = 0;
	if (sb.st_dev != t->cur.dev || sb.st_ino != t->cur.ino) {
		/* Rename rotation: finish the old file first; the writer
		 * may append to it until it reopens (ROTATE_GRACE_MS). */
		log_info("%s: rotated; finishing the old file before the new one",
			 path);
		file_mark_old(&t->cur, 0);
		return;
	}
	if (t->cur.lr == NULL)
		return;
	if (t->cur.changed || (off_t) linereader_offset(t->cur.lr) > sb.st_size
	    || file_changed(&t->cur)) {
		/* copytruncate: the same file holds new lines from 0. */
		if (commit(t) < 0)
			return;
		if (finish_copy(t))
			return;
		log_info("%s: truncated; reading it from the start", path);
		t->open_err = 0;
		if ((rc = file_open(&t->cur, path, 0, 0)) < 0) {
			file_close(&t->cur);
			open_failed(t, path, rc);
		}
	}
}

struct load {
	struct tail *t;
	struct posrec pos;
	long    states;
};

/* load_txn - the saved position and queue states. */
static int
load_txn(struct store_txn *txn, void *ctx)
{
	struct load *ld = ctx;
	struct store_cursor *cur;
	const void *k, *v;
	size_t  kl, vl;
	void   *val;
	size_t  vlen;
	int     rc;

	free(ld->pos.cursor);
	memset(&ld->pos, 0, sizeof(ld->pos));
	ld->states = 0;
	rc = store_get(txn, STORE_POSITIONS, ld->t->poskey, strlen(ld->t->poskey),
		       &val, &vlen);
	if (rc == STORE_OK) {
		char   *text = xstrndup(val, vlen);
		json_object *o = json_tokener_parse(text);
		json_object *f;

		free(text);
		free(val);
		if (o != NULL) {
			if (json_object_object_get_ex(o, "fp", &f))
				snprintf(ld->pos.fp, sizeof(ld->pos.fp), "%s",
					 json_object_get_string(f));
			if (json_object_object_get_ex(o, "dev", &f))
				ld->pos.dev = (unsigned long long) json_object_get_int64(f);
			if (json_object_object_get_ex(o, "ino", &f))
				ld->pos.ino = (unsigned long long) json_object_get_int64(f);
			if (json_object_object_get_ex(o, "cursor", &f))
				ld->pos.cursor = xstrdup(json_object_get_string(f));
			if (json_object_object_get_ex(o, "offset", &f))
				ld->pos.offset = (unsigned long long) json_object_get_int64(f);
			ld->pos.found = 1;
			json_object_put(o);
		}
	} else if (rc != STORE_NOTFOUND) {
		return (rc);
	}
	if ((rc = store_cursor_open(txn, STORE_QUEUE, &cur)) != STORE_OK)
		return (rc);
	while ((rc = store_cursor_next(cur, &k, &kl, &v, &vl)) == STORE_OK) {
		char   *qid = xstrndup(k, kl), *text = xstrndup(v, vl);
		json_object *o = json_tokener_parse(text);

		if (o == NULL || correlate_restore(ld->t->corr, qid, o) < 0)
			log_warn("%s: unreadable saved queue state: ignored", qid);
		else
			ld->states++;
		json_object_put(o);
		free(qid);
		free(text);
	}
	store_cursor_close(cur);
	return (rc == STORE_NOTFOUND ? STORE_OK : rc);
}

/*
 * say_gone - the saved file is nowhere to be read: what is lost.  z: a
 * rotated file we cannot read that may be it, or NULL.
 */
static void
say_gone(const char *path, const struct posrec *pos, const char *z)
{
	if (z != NULL)
		log_warn("%s: the file read before (up to offset %llu) is gone; "
			 "if it is %s, its lines from there are lost (only gzip "
			 "is read); "
			 "reading %s from its start", path, pos->offset, z, path);
	else
		log_warn("%s: the file read before (up to offset %llu) is gone; "
			 "reading %s from its start", path, pos->offset, path);
}

/*
 * start_position - open the file to read first, where to start in it.
 * Returns 1 when log_file cannot be opened yet (not missing: unreadable,
 * not a regular file) and the saved file is nowhere else: check_file()
 * calls it again, rather than start over from the start of log_file.
 */
static int
start_position(struct tail *t, const struct posrec *pos, int from_start)
{
	const char *path = t->cfg->log_file;
	struct rotation *r;
	struct stat sb;
	int     rc, k, live;

	t->resume = NULL;
	if (pos->found) {
		/* The saved file: still live, or rotated away? */
		r = rotation_new(path);
		k = rotation_find(r, pos->fp, pos->dev, pos->ino, pos->offset);
		live = k >= 0 && (size_t) k + 1 == r->n;
		if (k >= 0) {
			const char *p = r->f[k].path;

			if ((rc = file_open(&t->cur, p, pos->offset, !live)) < 0) {
				open_failed(t, p, rc);
				t->resume = pos;
				rotation_free(r);
				return (1);
			}
			if (live)
				log_info("%s: resuming at offset %llu", path, pos->offset);
			else
				log_info("%s: finishing the rotated file from offset "
					 "%llu%s", p, pos->offset, (size_t) k + 2 < r->n
					 ? ", then the files rotated after it" : "");
			rotation_free(r);
		} else if (r->live_err != 0) {
			errno = r->live_err;
			rotation_free(r);
			open_failed(t, path, -1);
			t->resume = pos;
			return (1);
		} else {
			file_close(&t->cur);
			say_gone(path, pos, r->unreadable);
			rotation_free(r);
			if ((rc = file_open(&t->cur, path, 0, 0)) < 0)
				open_failed(t, path, rc);
		}
	} else if ((rc = file_open(&t->cur, path, 0, 0)) == 0) {
		if (!from_start && fstat(t->cur.fd, &sb) == 0)
			t->cur.start = (uint64_t) sb.st_size;
		log_info("%s: first start: reading from %s", path,
			 from_start ? "the start" : "the end");
	} else {
		/* Unreadable now: the end of it once it can be read. */
		t->first_at_end = rc != ROTATION_NOT_REGULAR && errno != ENOENT;
		open_failed(t, path, rc);
	}
	if (t->cur.fd >= 0)
		t->open_err = 0;
	t->committed = t->cur.start;
	return (0);
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
static void
reload(struct tail *t)
{
	struct config *n = config_new();
	struct correlate_opts opts;
	char    err[1024];

	if (config_load(n, t->args->config_path, t->args->config_given, err,
			sizeof(err)) < 0) {
		log_error("reload: %s; keeping the running configuration", err);
		config_free(n);
		return;
	}
	if (n->log_source != t->cfg->log_source
	    || !same(n->log_file, t->cfg->log_file)
	    || !same(n->journal_dir, t->cfg->journal_dir)
	    || !same(n->state_dir, t->cfg->state_dir))
		log_warn("reload: log_source, log_file, journal_dir and state_dir "
			 "take effect at the next start");
	correlate_opts_of(n, &opts);
	correlate_set_opts(t->corr, &opts);
	config_free(t->live);
	t->live = n;
	log_info("configuration reloaded");
}

/* watch_init - inotify on log_file's directory; without it, polling. */
static void
watch_init(struct tail *t)
{
	char   *dir = xstrdup(t->cfg->log_file), *slash;

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
	} else if ((t->wd_dir = inotify_add_watch(t->ino_fd, dir, IN_CREATE
						 | IN_MOVED_TO | IN_ONLYDIR)) < 0) {
		log_warn("inotify: %s: %m; polling %s every %d ms", dir,
			 t->cfg->log_file, SHORT_POLL_MS);
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
	char    path[64];

	if (t->ino_fd < 0 || t->cur.fd < 0)
		return (0);
	if (t->wd_file >= 0 && t->w_dev == t->cur.dev && t->w_ino == t->cur.ino)
		return (0);
	if (t->wd_file >= 0)
		inotify_rm_watch(t->ino_fd, t->wd_file);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", t->cur.fd);
	if ((t->wd_file = inotify_add_watch(t->ino_fd, path, IN_MODIFY)) < 0
	    && (t->wd_file = inotify_add_watch(t->ino_fd, t->cur.path,
					       IN_MODIFY)) < 0) {
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
	char    buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(t->ino_fd, buf, sizeof(buf)) > 0)
		;
}

/*
 * wait_for - at the end of the log: sleep until it is written, a signal,
 * or the timeout (ms, or < 0 for the idle one).
 */
static void
wait_for(struct tail *t, int ms)
{
	struct pollfd pfd[2] = {
		{ t->sig->wake_fd, POLLIN, 0 },
		{ t->ino_fd, POLLIN, 0 },
	};
	int     n = t->ino_fd >= 0 ? 2 : 1;

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

/* tail_loop - read, commit, follow, until told to stop. */
static int
tail_loop(struct tail *t)
{
	int64_t last_maintain = monotonic_ms();
	int     eof, n;

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
				int     ms = correlate_pending(t->corr) > 0
				    ? HOLD_RECHECK_MS : -1;

				/* A rotated file: look again when its grace
				 * period is over. */
				if (t->cur.old && t->cur.fd >= 0) {
					int     g = old_grace_left(&t->cur) + 1;

					if (ms < 0 || g < ms)
						ms = g;
				}
				wait_for(t, ms);
			}
		}
		if (monotonic_ms() - last_maintain > MAINTAIN_MS) {
			if (store_maintain(t->st) != STORE_OK)
				log_warn("store maintenance failed; will retry");
			last_maintain = monotonic_ms();
		}
	}
	return (commit(t));
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
	int     said = 0;

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
static int
journal_loop(struct tail *t, const struct posrec *pos, int from_start)
{
	int64_t last_maintain = monotonic_ms();
	struct log_line l;
	const char *cur;
	int     n, r = 0;

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
		for (n = 0; n < BATCH_LINES
		     && (r = journal_src_next(t->js, &l, &cur)) == 1; n++) {
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
					 ? HOLD_RECHECK_MS : IDLE_POLL_MS);
		if (monotonic_ms() - last_maintain > MAINTAIN_MS) {
			if (store_maintain(t->st) != STORE_OK)
				log_warn("store maintenance failed; will retry");
			last_maintain = monotonic_ms();
		}
	}
	return (commit(t));
}

/* tail_main - see tail.h. */
int
tail_main(struct config *cfg, const struct daemon_args *args, int flags)
{
	int     from_start = (flags & TAIL_FROM_START) != 0;
	struct correlate_opts opts = { 0 };
	struct tail t;
	struct load ld;
	char   *pidfile = NULL;
	int     rc;

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
	correlate_opts_of(cfg, &opts);
	t.corr = correlate_new(&opts, on_event, on_record, &t);
	if (cfg->log_source == LOG_SOURCE_JOURNAL)
		t.poskey = xasprintf("journal:%s", cfg->journal_dir ? cfg->journal_dir : "");
	else
		t.poskey = xasprintf("file:%s", cfg->log_file);
	memset(&ld, 0, sizeof(ld));
	ld.t = &t;
	if (store_run(t.st, load_txn, &ld, 0) != STORE_OK) {
		log_error("cannot read the saved position");
		rc = -1;
	} else {
		log_info("started: %ld queued messages known", ld.states);
		if (cfg->log_source == LOG_SOURCE_JOURNAL) {
			rc = journal_loop(&t, &ld.pos, from_start);
		} else {
			watch_init(&t);
			start_position(&t, &ld.pos, from_start);
			/* A first start commits where it starts at once, so
			 * that a crash before the first batch moves nothing. */
			if (!ld.pos.found && file_ready(&t.cur)) {
				t.dirty = 1;
				commit(&t);
			}
			rc = tail_loop(&t);
		}
	}
	log_info("stopping: %ld events queued", t.events_total);
	free(ld.pos.cursor);
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
	config_free(t.live);
	store_close(t.st);
	daemon_pidfile_remove(pidfile);
	return (rc < 0 ? 1 : 0);
}
