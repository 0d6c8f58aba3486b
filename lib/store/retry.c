/*
 * retry.c - when the next attempt of a failed delivery is due: the
 * retry_schedule, lengthened (never shortened) by a Retry-After on 429 or
 * 503, to at most twice the scheduled delay.  Pure functions.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/delivery.h"

/* retry_after_parse - see delivery.h. */
int
retry_after_parse(const char *value, double now, int64_t *ms)
{
	struct tm tm;
	const char *p, *end;
	long long secs = 0;
	time_t when;

	if (value == NULL)
		return -1;
	while (isspace((unsigned char) *value))
		value++;
	for (p = value; isdigit((unsigned char) *p); p++) {
		if (secs > 100000000)
			return -1;
		secs = secs * 10 + (*p - '0');
	}
	if (p > value) {
		while (isspace((unsigned char) *p))
			p++;
		if (*p != 0)
			return -1;
		*ms = secs * 1000;
		return 0;
	}
	/* An HTTP date, IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT". */
	memset(&tm, 0, sizeof(tm));
	end = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL)
		return -1;
	while (isspace((unsigned char) *end))
		end++;
	if (*end != 0)
		return -1;
	when = timegm(&tm);
	if (when == (time_t) -1)
		return -1;
	*ms = (double) when > now ? (int64_t) (((double) when - now) * 1000) : 0;
	return 0;
}

/* retry_delay - see delivery.h. */
int
retry_delay(const int64_t *sched, int count, int done, long status,
	    const char *retry_after, double now, int64_t *delay_ms)
{
	int64_t delay, ra;

	if (done < 1 || done >= count)
		return 0;
	delay = sched[done];
	if ((status == 429 || status == 503)
	    && retry_after_parse(retry_after, now, &ra) == 0 && ra > delay)
		delay = ra < 2 * delay ? ra : 2 * delay;
	*delay_ms = delay;
	return 1;
}
