/*
 * rotation.h - the files rotation made of log_file, in the order they
 * were written, and which of them holds a file the tailer was reading.
 *
 * logrotate(8) renames log_file to log_file.1, .1 to .2 and so on (with
 * "dateext", to log_file-DATE), and with "compress" gzips them
 * (log_file.2.gz; "delaycompress" leaves .1 plain).  "postfix logrotate"
 * (maillog_file) renames it to log_file.SUFFIX, a date and time by
 * default, and gzips it at once.  So every log_file.X and log_file-X whose
 * X begins with a digit is taken for a rotated file, plain or gzip (other
 * compressors are not read, only named).  They are ordered by modification time, which
 * rename and gzip keep; log_file itself comes last.
 */
#ifndef PH_ROTATION_H
#define PH_ROTATION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "logfile/fingerprint.h"

#define ROTATION_MAX 64 /* the newest rotated files looked at */

struct rotation_file {
	char *path;
	int gz; /* gzip-compressed */
	unsigned long long dev, ino;
	uint64_t size;		  /* plain: its size; gz: UINT64_MAX */
	char fp[FINGERPRINT_LEN]; /* "": missing, unreadable, no line */
};

struct rotation {
	struct rotation_file *f; /* oldest first, log_file last */
	size_t n;
	int live_err;	  /* why log_file could not be opened:
			   * 0 when it could or does not exist */
	char *unreadable; /* the newest rotated file compressed
			   * otherwise than with gzip, or NULL */
};

#define ROTATION_NOT_REGULAR (-2)

/*
 * rotation_open - open a log file to read, non-blocking (a FIFO in its
 * place must not hang the reader; a regular file reads the same), with
 * *sb filled in: the descriptor; -1 (errno set) when it cannot be opened;
 * ROTATION_NOT_REGULAR when it is a directory, a FIFO or a device.
 */
int rotation_open(const char *path, struct stat *sb);

/* rotation_new - look at log_file's directory now. */
struct rotation *rotation_new(const char *log_file);
void rotation_free(struct rotation *r);

/*
 * rotation_find - the index of the file with this fingerprint, holding at
 * least min_size bytes (not checked for a compressed file), or -1.  One
 * with this device and inode too is preferred (a new log_file may begin
 * with the same line); else the newest.
 */
int rotation_find(const struct rotation *r, const char *fp, unsigned long long dev,
		  unsigned long long ino, uint64_t min_size);

/*
 * rotation_count - the bytes and lines of f from offset on (decompressed
 * for a gzip file).  0 when counted; -1 when it cannot be read, or holds
 * more than max bytes from there.
 */
int rotation_count(const struct rotation_file *f, uint64_t offset, uint64_t max,
		   uint64_t *bytes, uint64_t *lines);

/*
 * rotation_lag - how far a reader of log_file is behind, in bytes and
 * lines (-1 when unknown), when it stands at offset in the file with this
 * fingerprint, device and inode: the rest of that file (log_file, or a
 * rotated one, compressed or not), then every newer file whole.  Lines are
 * counted in at most ROTATION_LAG_SCAN_MAX bytes of each file.  *reading
 * gets log_file, "rotated", or NULL when the file is not found.
 */
#define ROTATION_LAG_SCAN_MAX (64LL << 20)
void rotation_lag(const char *log_file, const char *fp, unsigned long long dev,
		  unsigned long long ino, unsigned long long offset, long long *bytes,
		  long long *lines, const char **reading);

#endif
