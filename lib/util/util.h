/*
 * util.h - memory and string helpers that never return failure.
 *
 * The x* allocators end the process through log_fatal() when memory runs
 * out, as Postfix's mymalloc() does.  Code that must fail open instead (the
 * milter's callbacks) uses malloc() directly and checks every result.
 */
#ifndef PH_UTIL_H
#define PH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

/*
 * PH_MUST_CHECK - on a function whose result says whether it worked: the
 * compiler warns where a caller drops it.  A (void) cast does not silence
 * gcc; a caller that may really ignore a status tests it and says why.
 */
#define PH_MUST_CHECK __attribute__((warn_unused_result))

void *xmalloc(size_t len);
void *xcalloc(size_t n, size_t len);
void *xrealloc(void *ptr, size_t len);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t len);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer, always NUL-terminated. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};

/* str_trim - s without white space at both ends, cut in place. */
char *str_trim(char *s);

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* buf_take - hand the string to the caller; b must be buf_init()ed to reuse. */
char *buf_take(struct buf *b);

/*
 * Current wall-clock time as seconds with microsecond precision; tests
 * move it on by the seconds in the file POSTHOOK_CLOCK_FILE names.
 */
double now_seconds(void);
/* Monotonic clock in milliseconds, for timers. */
int64_t monotonic_ms(void);

/*
 * parse_duration_ms - "250ms", "5s", "2m", "1h", "30d", or a bare number of
 * seconds; 0 on success, -1 when the text is not a duration.
 */
int parse_duration_ms(const char *text, int64_t *out);

/* format_duration - "2m", "200ms", "0": the inverse of parse_duration_ms. */
char *format_duration(int64_t ms);

/* format_age - seconds as "45s", "12m", "3h 5m", "5d 2h", rounded. */
void format_age(double seconds, char *out, size_t outlen);

/* iso8601_utc - format seconds since the epoch as 2024-01-15T10:30:00Z. */
void iso8601_utc(double when, char *out, size_t outlen);
/* parse_time_spec - "2h" (ago) or ISO 8601 UTC to seconds since the epoch. */
int parse_time_spec(const char *text, double now, double *out);

/* path_dir - the directory part of a path ("." or "/" at the ends; malloc()ed). */
char *path_dir(const char *path);

#endif
