/*
 * util.c - allocation that ends the process on failure, a growable
 * buffer, clocks, durations and ISO 8601 times.
 */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "util/log.h"
#include "util/util.h"

/* xmalloc - malloc() or die */
void *
xmalloc(size_t len)
{
	void *p = malloc(len ? len : 1);

	if (p == NULL)
		log_fatal("out of memory allocating %zu bytes", len);
	return p;
}

/* xcalloc - calloc() or die */
void *
xcalloc(size_t n, size_t len)
{
	void *p = calloc(n ? n : 1, len ? len : 1);

	if (p == NULL)
		log_fatal("out of memory allocating %zu x %zu bytes", n, len);
	return p;
}

/* xrealloc - realloc() or die */
void *
xrealloc(void *ptr, size_t len)
{
	void *p = realloc(ptr, len ? len : 1);

	if (p == NULL)
		log_fatal("out of memory allocating %zu bytes", len);
	return p;
}

/* xstrdup - strdup() or die */
char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

/* xstrndup - copy at most len bytes, NUL-terminated */
char *
xstrndup(const char *s, size_t len)
{
	size_t n = strnlen(s, len);
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* xasprintf - formatted string in new memory */
char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		log_fatal("out of memory formatting a string");
	return s;
}

/* buf_init - an empty buffer */
void
buf_init(struct buf *b)
{
	b->cap = 64;
	b->data = xmalloc(b->cap);
	b->data[0] = '\0';
	b->len = 0;
}

/* buf_free - release the buffer's memory */
void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* buf_reset - empty the buffer, keeping its memory */
void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->data[0] = '\0';
}

/* buf_reserve - room for len more bytes and a NUL */
static void
buf_reserve(struct buf *b, size_t len)
{
	if (b->len + len + 1 <= b->cap)
		return;
	while (b->len + len + 1 > b->cap)
		b->cap *= 2;
	b->data = xrealloc(b->data, b->cap);
}

/* buf_append - append bytes */
void
buf_append(struct buf *b, const void *data, size_t len)
{
	buf_reserve(b, len);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

/* buf_puts - append a string */
void
buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

/* buf_printf - append formatted text */
void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		log_fatal("bad format in buf_printf");
	buf_reserve(b, (size_t) n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t) n;
}

/* buf_take - the string, now the caller's; b must be buf_init()ed again */
char *
buf_take(struct buf *b)
{
	char *s = b->data;

	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

/*
 * clock_offset - the seconds the test clock is ahead: the number in the
 * file POSTHOOK_CLOCK_FILE names, read again when the file changes; 0
 * when the variable is unset (a stat() per call only when it is set).
 * Tests move the daemons a week on this way without sleeping a week.
 */
static double
clock_offset(void)
{
	static const char *path;
	static int looked;
	static struct timespec seen;
	static double offset;
	struct stat st;
	FILE *fp;

	if (!looked) {
		path = getenv("POSTHOOK_CLOCK_FILE");
		looked = 1;
	}
	if (path == NULL || stat(path, &st) < 0)
		return 0;
	if (st.st_mtim.tv_sec != seen.tv_sec || st.st_mtim.tv_nsec != seen.tv_nsec) {
		seen = st.st_mtim;
		if ((fp = fopen(path, "r")) != NULL) {
			if (fscanf(fp, "%lf", &offset) != 1)
				offset = 0;
			fclose(fp);
		}
	}
	return offset;
}

/* now_seconds - wall clock with microseconds (and the test clock's offset) */
double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double) ts.tv_sec + (double) (ts.tv_nsec / 1000) / 1e6 + clock_offset();
}

/* monotonic_ms - a clock for timers that never jumps */
int64_t
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* parse_duration_ms - number with an optional ms/s/m/h/d/w unit */
int
parse_duration_ms(const char *text, int64_t *out)
{
	const char *p = text;
	double mult;
	char *end;
	double v;

	while (isspace((unsigned char) *p))
		p++;
	if (!isdigit((unsigned char) *p))
		return -1;
	errno = 0;
	v = strtod(p, &end);
	if (errno != 0 || end == p)
		return -1;
	if (strcmp(end, "ms") == 0)
		mult = 1;
	else if (*end == '\0' || strcmp(end, "s") == 0)
		mult = 1000;
	else if (strcmp(end, "m") == 0)
		mult = 60e3;
	else if (strcmp(end, "h") == 0)
		mult = 3600e3;
	else if (strcmp(end, "d") == 0)
		mult = 86400e3;
	else if (strcmp(end, "w") == 0)
		mult = 7 * 86400e3;
	else
		return -1;
	if (v * mult > 9.2e15)
		return -1;
	*out = (int64_t) (v * mult + 0.5);
	return 0;
}

/* format_duration - milliseconds in the largest unit that is exact */
char *
format_duration(int64_t ms)
{
	static const struct {
		int64_t ms;
		const char *unit;
	} units[] = {
		{ 7 * 86400000LL, "w" }, { 86400000LL, "d" }, { 3600000LL, "h" },
		{ 60000LL, "m" },	 { 1000LL, "s" },
	};
	size_t i;

	if (ms == 0)
		return xstrdup("0");
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ms % units[i].ms == 0)
			return xasprintf("%lld%s", (long long) (ms / units[i].ms),
					 units[i].unit);
	return xasprintf("%lldms", (long long) ms);
}

/* format_age - see util.h. */
void
format_age(double seconds, char *out, size_t outlen)
{
	long long s = seconds > 0 ? (long long) (seconds + 0.5) : 0;

	if (s < 60)
		snprintf(out, outlen, "%llds", s);
	else if (s < 3600)
		snprintf(out, outlen, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(out, outlen, "%lldh %lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(out, outlen, "%lldd %lldh", s / 86400, s % 86400 / 3600);
}

/* iso8601_utc - 2024-01-15T10:30:00Z */
void
iso8601_utc(double when, char *out, size_t outlen)
{
	time_t t = (time_t) when;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* parse_time_spec - "2h" meaning that long ago, or an ISO 8601 UTC time */
int
parse_time_spec(const char *text, double now, double *out)
{
	struct tm tm;
	int64_t ms;
	char *end;

	if (parse_duration_ms(text, &ms) == 0 && strpbrk(text, "-:T") == NULL) {
		*out = now - (double) ms / 1000.0;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(text, "%Y-%m-%d", &tm);
	}
	if (end == NULL || (*end != '\0' && strcmp(end, "Z") != 0))
		return -1;
	*out = (double) timegm(&tm);
	return 0;
}

/* str_trim - s without white space at both ends, cut in place. */
char *
str_trim(char *s)
{
	char *e;

	while (isspace((unsigned char) *s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char) e[-1]))
		*--e = '\0';
	return (s);
}

/* path_dir - what dirname(3) returns, without touching path */
char *
path_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t) (slash - path));
}
