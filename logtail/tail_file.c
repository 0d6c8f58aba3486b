/*
 * tail_file.c - which log file the tailer reads, and from where.
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
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/gzfile.h"
#include "util/log.h"
#include "logfile/rotation.h"
#include "tail_int.h"

/* file_close - forget the current file. */
void
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
	f->marked = 0;
	f->mark = 0;
}

/*
 * file_open - open path; the reader starts at offset once fp is known.
 * As rotation_open() when it cannot: a directory, a FIFO or a device is
 * never read, and never waited on.
 */
int
file_open(struct tailfile *f, const char *path, uint64_t offset, int old)
{
	struct stat sb;
	int fd;

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
	int err = errno, why = rc == ROTATION_NOT_REGULAR ? -1 : err;

	if (t->open_err == why)
		return;
	t->open_err = why;
	if (rc == ROTATION_NOT_REGULAR) {
		log_warn("%s: not a regular file; waiting for a log file there", path);
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
int
file_changed(struct tailfile *f)
{
	char fp[FINGERPRINT_LEN];
	int rc;

	if (f->gz)
		return (0); /* nobody truncates it */
	if ((rc = fingerprint_fd(f->fd, fp)) < 0)
		return (0); /* a read error: said by the reader */
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
int
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
int
file_ready(struct tailfile *f)
{
	int rc;

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
			log_error("%s: cannot decompress up to offset %llu: %m", f->path,
				  (unsigned long long) f->start);
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

/*
 * next_name - the file to read after the rotated file now finished: when
 * it was rotated again meanwhile (it is log_file.k, k >= 2, maybe
 * compressed since), the one rotated after it; else log_file.
 */
static char *
next_name(struct tail *t)
{
	struct rotation *r = rotation_new(t->cfg->log_file);
	int i = rotation_find(r, t->cur.fp, (unsigned long long) t->cur.dev,
			      (unsigned long long) t->cur.ino, 0);
	size_t k = i >= 0 && (size_t) i + 1 < r->n ? (size_t) i + 1 : r->n - 1;
	char *next = xstrdup(r->f[k].path);

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
	char *old = xasprintf("%s.1", t->cfg->log_file);
	uint64_t off = linereader_offset(t->cur.lr);
	int ok;

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
	size_t len;
	uint64_t off;
	int cut;

	if (t->cur.lr == NULL || !linereader_finish(t->cur.lr, &line, &len, &off, &cut))
		return;
	log_warn("%s: last line at offset %llu has no newline; reading it as "
		 "it is",
		 t->cur.path, (unsigned long long) off);
	correlate_set_now(t->corr, time(NULL));
	feed(t, line, len, off, cut);
}

/* check_file - at the end of the file: rotated, truncated, or quiet? */
void
check_file(struct tail *t)
{
	const char *path = t->cfg->log_file;
	struct stat sb;
	char *next;
	int rc;

	if (t->cur.fd < 0) {
		if (t->resume != NULL) {
			start_position(t, t->resume, 0);
			return;
		}
		if ((rc = file_open(&t->cur, path, 0, 0)) == 0) {
			if (t->first_at_end && fstat(t->cur.fd, &sb) == 0)
				t->cur.start = t->committed = (uint64_t) sb.st_size;
			log_info("%s: opened%s", path,
				 t->first_at_end ? "; first start: reading from the end"
						 : "");
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
				 "for a new one",
				 path);
		t->missing = 1;
		return;
	}
	t->missing = 0;
	if (sb.st_dev != t->cur.dev || sb.st_ino != t->cur.ino) {
		/* Rename rotation: finish the old file first; the writer
		 * may append to it until it reopens (ROTATE_GRACE_MS). */
		log_info("%s: rotated; finishing the old file before the new one", path);
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

/*
 * say_gone - the saved file is nowhere to be read: what is lost.  z: a
 * rotated file we cannot read that may be it, or NULL.
 */
static void
say_gone(const char *path, const struct position_record *pos, const char *z)
{
	if (z != NULL)
		log_warn("%s: the file read before (up to offset %llu) is gone; "
			 "if it is %s, its lines from there are lost (only gzip "
			 "is read); "
			 "reading %s from its start",
			 path, pos->offset, z, path);
	else
		log_warn("%s: the file read before (up to offset %llu) is gone; "
			 "reading %s from its start",
			 path, pos->offset, path);
}

/*
 * start_position - open the file to read first, where to start in it:
 * where pos says, or (pos NULL: a first start) the start or the end of
 * log_file.  Returns 1 when log_file cannot be opened yet (not missing:
 * unreadable, not a regular file) and the saved file is nowhere else:
 * check_file() calls it again, rather than start over from the start of
 * log_file.
 */
int
start_position(struct tail *t, const struct position_record *pos, int from_start)
{
	const char *path = t->cfg->log_file;
	struct rotation *r;
	struct stat sb;
	int rc, k, live;

	t->resume = NULL;
	if (pos != NULL) {
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
				log_info("%s: resuming at offset %llu", path,
					 pos->offset);
			else
				log_info("%s: finishing the rotated file from offset "
					 "%llu%s",
					 p, pos->offset,
					 (size_t) k + 2 < r->n
					     ? ", then the files rotated after it"
					     : "");
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
