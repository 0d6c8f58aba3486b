/*
 * rotation.c - log_file's rotated files and their order; see rotation.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/gzfile.h"
#include "util/util.h"
#include "logfile/rotation.h"

struct entry {
	struct rotation_file rf;
	struct timespec mtime;
	long number; /* log_file.N: N; else 0 */
};

#define SUFFIX_NONE 0  /* not a rotated file */
#define SUFFIX_READ 1  /* plain or gzip */
#define SUFFIX_OTHER 2 /* compressed by another compressor */

/*
 * rotated_suffix - whether the part of a directory entry's name after
 * log_file's own name is a rotation's: "." or "-" and a digit; then
 * SUFFIX_OTHER for another compressor's extension than gzip's, else
 * SUFFIX_READ.  *number: N for ".N" or ".N.gz", else 0.
 */
static int
rotated_suffix(const char *suffix, long *number)
{
	static const char *const other[] = {
		".bz2", ".xz", ".zst", ".lz4", ".lzma", ".Z"
	};
	size_t len = strlen(suffix), digits;

	*number = 0;
	if ((suffix[0] != '.' && suffix[0] != '-') || suffix[1] < '0' || suffix[1] > '9')
		return (SUFFIX_NONE);
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		size_t el = strlen(other[i]);

		if (len > el && strcmp(suffix + len - el, other[i]) == 0)
			return (SUFFIX_OTHER);
	}
	digits = strspn(suffix + 1, "0123456789");
	if (suffix[0] == '.' && digits <= 6
	    && (suffix[1 + digits] == 0 || strcmp(suffix + 1 + digits, ".gz") == 0))
		*number = strtol(suffix + 1, NULL, 10);
	return (SUFFIX_READ);
}

/* rotation_open - see rotation.h. */
int
rotation_open(const char *path, struct stat *sb)
{
	int fd, err;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return (-1);
	if (fstat(fd, sb) < 0) {
		err = errno;
		close(fd);
		errno = err;
		return (-1);
	}
	if (!S_ISREG(sb->st_mode)) {
		close(fd);
		return (ROTATION_NOT_REGULAR);
	}
	return (fd);
}

/*
 * look - open path and fill in what identifies it: 0, or as
 * rotation_open() when it cannot.
 */
static int
look(const char *path, struct entry *e)
{
	struct stat sb;
	int fd, rc;

	if ((fd = rotation_open(path, &sb)) < 0)
		return (fd);
	e->rf.dev = (unsigned long long) sb.st_dev;
	e->rf.ino = (unsigned long long) sb.st_ino;
	e->mtime = sb.st_mtim;
	e->rf.gz = gzfile_is(fd);
	e->rf.size = e->rf.gz ? UINT64_MAX : (uint64_t) sb.st_size;
	rc = e->rf.gz ? fingerprint_gz_fd(fd, e->rf.fp) : fingerprint_fd(fd, e->rf.fp);
	if (rc != 1)
		e->rf.fp[0] = 0;
	close(fd);
	return (0);
}

/* ts_cmp - the order of two modification times. */
static int
ts_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return (a->tv_sec < b->tv_sec ? -1 : 1);
	if (a->tv_nsec != b->tv_nsec)
		return (a->tv_nsec < b->tv_nsec ? -1 : 1);
	return (0);
}

/* older - sort order: modification time, then the higher .N, the name. */
static int
older(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = ts_cmp(&x->mtime, &y->mtime);

	if (c != 0)
		return (c);
	if (x->number != y->number)
		return (x->number > y->number ? -1 : 1);
	return (strcmp(x->rf.path, y->rf.path));
}

/* rotation_new - see rotation.h. */
struct rotation *
rotation_new(const char *log_file)
{
	struct rotation *r = xcalloc(1, sizeof(*r));
	const char *slash = strrchr(log_file, '/');
	const char *base = slash ? slash + 1 : log_file;
	size_t baselen = strlen(base), n = 0, cap = 0, skip;
	char *dir =
	    slash ? xstrndup(log_file, (size_t) (slash - log_file) + 1) : xstrdup("./");
	struct entry *e = NULL, live;
	struct dirent *de;
	struct stat sb;
	struct timespec other_mtime = { 0, 0 };
	DIR *d;
	long number;
	int kind;

	/* Names and times first: only the newest are opened. */
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strncmp(de->d_name, base, baselen) != 0
			    || (kind = rotated_suffix(de->d_name + baselen, &number))
				   == SUFFIX_NONE)
				continue;
			if (kind == SUFFIX_OTHER) {
				char *p = xasprintf("%s%s", dir, de->d_name);

				if (stat(p, &sb) == 0
				    && (r->unreadable == NULL
					|| ts_cmp(&sb.st_mtim, &other_mtime) > 0)) {
					free(r->unreadable);
					r->unreadable = p;
					other_mtime = sb.st_mtim;
				} else {
					free(p);
				}
				continue;
			}
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				e = xrealloc(e, cap * sizeof(*e));
			}
			memset(&e[n], 0, sizeof(e[n]));
			e[n].rf.path = xasprintf("%s%s", dir, de->d_name);
			e[n].number = number;
			if (stat(e[n].rf.path, &sb) == 0 && S_ISREG(sb.st_mode)) {
				e[n].mtime = sb.st_mtim;
				n++;
			} else {
				free(e[n].rf.path);
			}
		}
		closedir(d);
	}
	if (n > 0)
		qsort(e, n, sizeof(*e), older);
	skip = n > ROTATION_MAX ? n - ROTATION_MAX : 0;
	r->f = xcalloc(n - skip + 1, sizeof(*r->f));
	for (size_t i = 0; i < n; i++) {
		if (i >= skip && look(e[i].rf.path, &e[i]) == 0)
			r->f[r->n++] = e[i].rf;
		else
			free(e[i].rf.path);
	}
	memset(&live, 0, sizeof(live));
	live.rf.path = xstrdup(log_file);
	/* What look() fills in stays zero when it fails. */
	if (look(log_file, &live) == -1 && errno != ENOENT)
		r->live_err = errno;
	/* log_file is never read as a compressed file. */
	if (live.rf.gz) {
		live.rf.gz = 0;
		live.rf.fp[0] = 0;
	}
	r->f[r->n++] = live.rf;
	free(e);
	free(dir);
	return (r);
}

/* rotation_free - see rotation.h. */
void
rotation_free(struct rotation *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->f[i].path);
	free(r->f);
	free(r->unreadable);
	free(r);
}

/* rotation_find - see rotation.h. */
int
rotation_find(const struct rotation *r, const char *fp, unsigned long long dev,
	      unsigned long long ino, uint64_t min_size)
{
	int newest = -1;

	if (fp == NULL || *fp == 0)
		return (-1);
	for (size_t i = r->n; i-- > 0;) {
		const struct rotation_file *f = &r->f[i];

		if (f->fp[0] == 0 || strcmp(f->fp, fp) != 0
		    || (!f->gz && f->size < min_size))
			continue;
		if (f->dev == dev && f->ino == ino)
			return ((int) i);
		if (newest < 0)
			newest = (int) i;
	}
	return (newest);
}

/* rotation_count - see rotation.h. */
int
rotation_count(const struct rotation_file *f, uint64_t offset, uint64_t max,
	       uint64_t *bytes, uint64_t *lines)
{
	char buf[65536];
	uint64_t pos = 0, b = 0, l = 0;
	gzFile gz = NULL;
	ssize_t got;
	int fd, rc = 0;

	if (!f->gz && (f->size < offset || f->size - offset > max))
		return (-1);
	if ((fd = open(f->path, O_RDONLY | O_CLOEXEC)) < 0)
		return (-1);
	if (f->gz ? (gz = gzfile_open(fd)) == NULL
		  : lseek(fd, (off_t) offset, SEEK_SET) < 0) {
		close(fd);
		return (-1);
	}
	if (!f->gz)
		pos = offset;
	for (;;) {
		got = gz ? gzfile_read(gz, buf, sizeof(buf)) : read(fd, buf, sizeof(buf));
		if (got <= 0) {
			rc = got < 0 ? -1 : 0;
			break;
		}
		for (ssize_t i = 0; i < got; i++, pos++) {
			if (pos < offset)
				continue;
			b++;
			l += buf[i] == '\n';
		}
		if (b > max) {
			rc = -1;
			break;
		}
	}
	if (gz != NULL)
		gzclose(gz);
	close(fd);
	if (rc == 0 && pos < offset)
		rc = -1;
	*bytes = b;
	*lines = l;
	return (rc);
}

/* rotation_lag - see rotation.h. */
void
rotation_lag(const char *log_file, const char *fp, unsigned long long dev,
	     unsigned long long ino, unsigned long long offset, long long *bytes,
	     long long *lines, const char **reading)
{
	struct rotation *r = rotation_new(log_file);
	int k = rotation_find(r, fp, dev, ino, 0);
	long long b = 0, l = 0;

	*bytes = *lines = -1;
	*reading = NULL;
	if (k >= 0) {
		*reading = (size_t) k + 1 == r->n ? log_file : "rotated";
		for (size_t j = (size_t) k; j < r->n && b >= 0; j++) {
			const struct rotation_file *f = &r->f[j];
			uint64_t from = j == (size_t) k ? offset : 0, fb, fl;

			if (rotation_count(f, from, ROTATION_LAG_SCAN_MAX, &fb, &fl)
			    == 0) {
				b += (long long) fb;
				l = l < 0 ? -1 : l + (long long) fl;
			} else if (!f->gz && f->fp[0] && f->size >= from) {
				b += (long long) (f->size - from);
				l = -1;
			} else {
				b = -1;
			}
		}
		if (b >= 0) {
			*bytes = b;
			*lines = l;
		}
	}
	rotation_free(r);
}
