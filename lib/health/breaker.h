/*
 * breaker.h - endpoint health: the circuit breaker of one webhook
 * endpoint as a record, and the pure decisions made on it.
 *
 * Closed, an endpoint gets its requests.  After policy.failures
 * consecutive failed attempts it is open: its deliveries wait (parked,
 * keeping their place and their retries) and one probe goes out after a
 * cooldown that doubles up to policy.cooldown_max_ms; the probe's success
 * closes it again.  An endpoint that answers 410, or whose every attempt
 * failed for policy.disable_after_ms, is disabled.  429 and 503 with a
 * Retry-After, 502 and 504 slow the endpoint down (fewer requests in
 * flight, a pause) instead of spending the delivery's retries.
 *
 * Every function takes the time as an argument: no clock is read, no I/O
 * is done, so tests replay a week in a moment.
 */
#ifndef PH_HEALTH_BREAKER_H
#define PH_HEALTH_BREAKER_H

#include <stdint.h>
#include <json-c/json.h>

enum breaker_state {
	BREAKER_CLOSED,
	BREAKER_OPEN,	 /* requests wait; a probe at probe_at */
	BREAKER_PROBING, /* the probe is out */
	BREAKER_DISABLED /* the endpoint was disabled (gone or failing) */
};

/* What one attempt's answer means for its endpoint. */
enum breaker_verdict {
	VERDICT_OK,	   /* 2xx */
	VERDICT_FAILED,	   /* any other failure: counts, spends a retry */
	VERDICT_THROTTLED, /* 429/503 with Retry-After, 502, 504 */
	VERDICT_GONE	   /* 410: disable at once */
};

/* What recording an attempt did to the breaker. */
enum breaker_change {
	BREAKER_SAME,
	BREAKER_OPENED,		/* closed or probing became open */
	BREAKER_CLOSED_AGAIN,	/* open or probing became closed */
	BREAKER_DISABLE_GONE,	/* disable the endpoint: 410 */
	BREAKER_DISABLE_FAILING /* disable it: failing for disable_after */
};

/* What to do with a due delivery of the endpoint now. */
enum breaker_admit {
	ADMIT_SEND,  /* make the attempt */
	ADMIT_PROBE, /* make it as the probe (the breaker is then probing) */
	ADMIT_LATER, /* leave it due: a cap or the rate holds it a moment */
	ADMIT_PARK   /* park it until the endpoint takes requests again */
};

#define BREAKER_SLOW_MAX 3	   /* in-flight cap halved at most this often */
#define BREAKER_ERROR_MAX 200	   /* last_error kept, in bytes */
#define BREAKER_PARK_AHEAD_MS 2000 /* a longer pause parks deliveries */

struct breaker_policy {
	int failures;		  /* consecutive failures that open it */
	int64_t cooldown_ms;	  /* first wait before a probe */
	int64_t cooldown_max_ms;  /* the wait doubles up to this */
	int64_t disable_after_ms; /* failing this long disables; 0 never */
	double max_rate;	  /* requests per second; 0 unlimited */
};

struct breaker {
	enum breaker_state state;
	int failures;	      /* consecutive failed attempts */
	double failing_since; /* first of them (s); 0 while healthy */
	int64_t cooldown_ms;  /* current wait between probes; 0 closed */
	double probe_at;      /* open: the probe goes at or after this */
	double slow_until;    /* throttled: no request before this */
	int slow;	      /* 0..BREAKER_SLOW_MAX: in-flight cap >> slow */
	long last_status;     /* HTTP status of the last failure, 0 none */
	char last_error[BREAKER_ERROR_MAX];
	double next_send; /* max_rate: the next request not before */
};

/* breaker_init - a closed, healthy breaker. */
void breaker_init(struct breaker *b);

/*
 * breaker_verdict - the verdict on an answer: status 0 with error set is a
 * transport failure; retry_after_ok says a Retry-After was given and
 * parsed.
 */
enum breaker_verdict breaker_verdict(long status, const char *error, int retry_after_ok);

/*
 * breaker_record - count an attempt made at now with verdict v; probe
 * says it was the probe.  retry_after_ms (>= 0) is the Retry-After of a
 * throttling answer.  Returns what changed.
 */
enum breaker_change breaker_record(struct breaker *b, const struct breaker_policy *p,
				   double now, enum breaker_verdict v, int probe,
				   long status, const char *error,
				   int64_t retry_after_ms);

/*
 * breaker_admit - may a due delivery of the endpoint go at now?  load is
 * how many of its requests are in flight or picked, cap its in-flight
 * limit, enabled whether it is enabled.  Due deliveries are looked at
 * earliest first, so the probe is the oldest of those released.
 */
enum breaker_admit breaker_admit(const struct breaker *b, const struct breaker_policy *p,
				 double now, int load, int cap, int enabled);

/* breaker_sent - note that a request went at now (for max_rate). */
void breaker_sent(struct breaker *b, const struct breaker_policy *p, double now);

/*
 * breaker_release - how many of the waiting parked deliveries to let go
 * at now, oldest first: none while disabled or paused; while open, one
 * when the probe is due and nothing else is under way; closed, enough to
 * keep backlog (in flight, picked or due) at twice the in-flight cap, so
 * they go at the endpoint's own pace (and at most max_rate a time).
 */
int breaker_release(const struct breaker *b, const struct breaker_policy *p, double now,
		    int backlog, int cap, long waiting, int enabled);

/*
 * breaker_probe - the probe went at now: the breaker is probing.  Should
 * its answer never be recorded (a restart), another may go a minute on.
 */
void breaker_probe(struct breaker *b, double now);

/*
 * breaker_delay - the least delay (ms) before a throttled delivery is
 * tried again: the Retry-After, else the pause the slowdown set.
 */
int64_t breaker_delay(const struct breaker *b, double now, int64_t retry_after_ms);

/* breaker_reset - closed and healthy again (the endpoint was enabled). */
void breaker_reset(struct breaker *b);

/* breaker_state_name - closed, open, probing or disabled. */
const char *breaker_state_name(enum breaker_state s);

/* breaker_cap - the in-flight cap while slowed down. */
int breaker_cap(const struct breaker *b, int cap);

/* breaker_to_json - the stored and shown form. */
json_object *breaker_to_json(const struct breaker *b);
/* breaker_from_json - parse it; missing members keep breaker_init's. */
void breaker_from_json(struct breaker *b, json_object *o);

#endif
