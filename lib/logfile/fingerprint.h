/*
 * fingerprint.h - what tells one log file from another beside its device
 * and inode: a hash of its first line, which is stable once written.
 */
#ifndef PH_FINGERPRINT_H
#define PH_FINGERPRINT_H

#define FINGERPRINT_BYTES 256
#define FINGERPRINT_LEN 17 /* 16 hex digits and NUL */

/*
 * fingerprint_fd - hash the first line (at most FINGERPRINT_BYTES) of the
 * open file into out.  1 when done, 0 when the file holds no whole first
 * line yet, -1 on a read error.
 */
int fingerprint_fd(int fd, char out[FINGERPRINT_LEN]);

/*
 * fingerprint_gz_fd - the same for a gzip-compressed file: the first line
 * of what it decompresses to (a compressed rotated log keeps the
 * fingerprint it had).  The fd's offset is left at 0.
 */
int fingerprint_gz_fd(int fd, char out[FINGERPRINT_LEN]);

/* fingerprint_bytes - the same for bytes in memory (for tests). */
int fingerprint_bytes(const char *p, size_t len, char out[FINGERPRINT_LEN]);

#endif
