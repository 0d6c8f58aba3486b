/*
 * breaker.c - the circuit breaker of a webhook endpoint: pure decisions
 * on a record, the time passed in (see breaker.h).
 */
#include <stdio.h>
#include <string.h>

#include "health/breaker.h"
#include "event/event.h"

#define PROBE_LOST_S 60.0 /* a probe unanswered this long is sent again */

/* breaker_init - see breaker.h. */
void
breaker_init(struct breaker *b)
{
	memset(b, 0, sizeof(*b));
	b->state = BREAKER_CLOSED;
}

/* breaker_reset - see breaker.h. */
void
breaker_reset(struct breaker *b)
{
	breaker_init(b);
}

/* breaker_verdict - see breaker.h. */
enum breaker_verdict
breaker_verdict(long status, const char *error, int retry_after_ok)
{
	if (error == NULL && status >= 200 && status <= 299)
		return VERDICT_OK;
	if (status == 410)
		return VERDICT_GONE;
	if (((status == 429 || status == 503) && retry_after_ok) || status == 502
	    || status == 504)
		return VERDICT_THROTTLED;
	return VERDICT_FAILED;
}

/* min64 - the lesser. */
static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* open_at - open (again) at now, the cooldown doubled after a failed probe. */
static void
open_at(struct breaker *b, const struct breaker_policy *p, double now)
{
	if (b->state == BREAKER_CLOSED || b->cooldown_ms <= 0)
		b->cooldown_ms = p->cooldown_ms;
	else
		b->cooldown_ms = min64(b->cooldown_ms * 2, p->cooldown_max_ms);
	if (b->cooldown_ms > p->cooldown_max_ms)
		b->cooldown_ms = p->cooldown_max_ms;
	b->state = BREAKER_OPEN;
	b->probe_at = now + (double) b->cooldown_ms / 1000;
	/* a receiver that asked for a longer pause gets it */
	if (b->slow_until > b->probe_at)
		b->probe_at = b->slow_until;
}

/* slow_down - a throttling answer: fewer in flight and a pause. */
static void
slow_down(struct breaker *b, const struct breaker_policy *p, double now,
	  int64_t retry_after_ms)
{
	int64_t pause;

	if (b->slow < BREAKER_SLOW_MAX)
		b->slow++;
	pause = retry_after_ms >= 0 ? retry_after_ms : (int64_t) 1000 << b->slow;
	pause = min64(pause, p->cooldown_max_ms);
	if (now + (double) pause / 1000 > b->slow_until)
		b->slow_until = now + (double) pause / 1000;
}

/* breaker_record - see breaker.h. */
enum breaker_change
breaker_record(struct breaker *b, const struct breaker_policy *p, double now,
	       enum breaker_verdict v, int probe, long status, const char *error,
	       int64_t retry_after_ms)
{
	enum breaker_state was = b->state;

	if (v == VERDICT_OK) {
		if (was == BREAKER_DISABLED)
			return BREAKER_SAME; /* a straggler: an admin re-enables */
		b->failures = 0;
		b->failing_since = 0;
		b->cooldown_ms = 0;
		b->probe_at = 0;
		if (b->slow > 0)
			b->slow--;
		b->state = BREAKER_CLOSED;
		return was == BREAKER_CLOSED ? BREAKER_SAME : BREAKER_CLOSED_AGAIN;
	}
	b->failures++;
	if (b->failing_since == 0)
		b->failing_since = now;
	b->last_status = status;
	if (error != NULL)
		snprintf(b->last_error, sizeof(b->last_error), "%s", error);
	else
		snprintf(b->last_error, sizeof(b->last_error), "HTTP %ld", status);
	if (was == BREAKER_DISABLED)
		return BREAKER_SAME;
	if (v == VERDICT_GONE) {
		b->state = BREAKER_DISABLED;
		return BREAKER_DISABLE_GONE;
	}
	if (p->disable_after_ms > 0
	    && (now - b->failing_since) * 1000 >= (double) p->disable_after_ms) {
		b->state = BREAKER_DISABLED;
		return BREAKER_DISABLE_FAILING;
	}
	if (v == VERDICT_THROTTLED)
		slow_down(b, p, now, retry_after_ms);
	if (probe || was == BREAKER_PROBING
	    || (was == BREAKER_CLOSED && b->failures >= p->failures)) {
		open_at(b, p, now);
		return BREAKER_OPENED;
	}
	return BREAKER_SAME; /* closed below the threshold, or already open */
}

/* breaker_cap - see breaker.h. */
int
breaker_cap(const struct breaker *b, int cap)
{
	cap >>= b->slow;
	return cap > 0 ? cap : 1;
}

/* probe_due - open (or a probe lost) and the probe's time has come. */
static int
probe_due(const struct breaker *b, double now, int load)
{
	return (b->state == BREAKER_OPEN || b->state == BREAKER_PROBING)
	       && now >= b->probe_at && load == 0;
}

/* breaker_admit - see breaker.h. */
enum breaker_admit
breaker_admit(const struct breaker *b, const struct breaker_policy *p, double now,
	      int load, int cap, int enabled)
{
	if (!enabled || b->state == BREAKER_DISABLED)
		return ADMIT_PARK;
	if (b->state != BREAKER_CLOSED)
		return probe_due(b, now, load) ? ADMIT_PROBE : ADMIT_PARK;
	if (now < b->slow_until)
		return (b->slow_until - now) * 1000 > BREAKER_PARK_AHEAD_MS ? ADMIT_PARK
									    : ADMIT_LATER;
	if (load >= breaker_cap(b, cap))
		return ADMIT_LATER;
	if (p->max_rate > 0 && now < b->next_send)
		return ADMIT_LATER;
	return ADMIT_SEND;
}

/* breaker_sent - see breaker.h. */
void
breaker_sent(struct breaker *b, const struct breaker_policy *p, double now)
{
	if (p->max_rate <= 0)
		return;
	/* a gap after each request; an idle spell earns no burst */
	if (b->next_send < now)
		b->next_send = now;
	b->next_send += 1.0 / p->max_rate;
}

/* breaker_release - see breaker.h. */
int
breaker_release(const struct breaker *b, const struct breaker_policy *p, double now,
		int backlog, int cap, long waiting, int enabled)
{
	long n;

	if (waiting <= 0 || !enabled || b->state == BREAKER_DISABLED)
		return 0;
	if (b->state != BREAKER_CLOSED)
		return probe_due(b, now, backlog) ? 1 : 0;
	if (now < b->slow_until)
		return 0;
	n = 2L * breaker_cap(b, cap) - backlog;
	if (p->max_rate > 0 && n > (long) p->max_rate + 1)
		n = (long) p->max_rate + 1;
	if (n > waiting)
		n = waiting;
	return n > 0 ? (int) n : 0;
}

/* breaker_probe - see breaker.h. */
void
breaker_probe(struct breaker *b, double now)
{
	b->state = BREAKER_PROBING;
	b->probe_at = now + PROBE_LOST_S;
}

/* breaker_delay - see breaker.h. */
int64_t
breaker_delay(const struct breaker *b, double now, int64_t retry_after_ms)
{
	if (retry_after_ms >= 0)
		return retry_after_ms;
	return b->slow_until > now ? (int64_t) ((b->slow_until - now) * 1000) : 0;
}

/* breaker_state_name - see breaker.h. */
const char *
breaker_state_name(enum breaker_state s)
{
	switch (s) {
	case BREAKER_CLOSED:
		return "closed";
	case BREAKER_OPEN:
		return "open";
	case BREAKER_PROBING:
		return "probing";
	case BREAKER_DISABLED:
		return "disabled";
	}
	return "unknown";
}

/* breaker_to_json - see breaker.h. */
json_object *
breaker_to_json(const struct breaker *b)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "state",
			       json_object_new_string(breaker_state_name(b->state)));
	json_object_object_add(o, "failures", json_object_new_int(b->failures));
	json_object_object_add(o, "failingSince", json_double_new(b->failing_since, 3));
	json_object_object_add(o, "cooldownMs", json_object_new_int64(b->cooldown_ms));
	json_object_object_add(o, "probeAt", json_double_new(b->probe_at, 3));
	json_object_object_add(o, "slowUntil", json_double_new(b->slow_until, 3));
	json_object_object_add(o, "slow", json_object_new_int(b->slow));
	json_object_object_add(o, "lastStatus", json_object_new_int64(b->last_status));
	json_object_object_add(o, "lastError",
			       b->last_error[0] ? json_object_new_string(b->last_error)
						: NULL);
	return o;
}

/* get_num - a numeric member, or dflt. */
static double
get_num(json_object *o, const char *key, double dflt)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v)
	    || !(json_object_is_type(v, json_type_int)
		 || json_object_is_type(v, json_type_double)))
		return dflt;
	return json_object_get_double(v);
}

/* breaker_from_json - see breaker.h. */
void
breaker_from_json(struct breaker *b, json_object *o)
{
	json_object *v;
	const char *s;
	int st;

	breaker_init(b);
	if (json_object_object_get_ex(o, "state", &v)
	    && (s = json_object_get_string(v)) != NULL)
		for (st = BREAKER_CLOSED; st <= BREAKER_DISABLED; st++)
			if (strcmp(s, breaker_state_name((enum breaker_state) st)) == 0)
				b->state = (enum breaker_state) st;
	b->failures = (int) get_num(o, "failures", 0);
	b->failing_since = get_num(o, "failingSince", 0);
	b->cooldown_ms = (int64_t) get_num(o, "cooldownMs", 0);
	b->probe_at = get_num(o, "probeAt", 0);
	b->slow_until = get_num(o, "slowUntil", 0);
	b->slow = (int) get_num(o, "slow", 0);
	if (b->slow < 0 || b->slow > BREAKER_SLOW_MAX)
		b->slow = 0;
	b->last_status = (long) get_num(o, "lastStatus", 0);
	if (json_object_object_get_ex(o, "lastError", &v)
	    && json_object_is_type(v, json_type_string))
		snprintf(b->last_error, sizeof(b->last_error), "%s",
			 json_object_get_string(v));
}
