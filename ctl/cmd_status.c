/*
 * cmd_status.c - posthookctl status: what an admin asks first.
 *
 *	posthookctl status [--json | --nagios] [--since T] [--max-lag LINES]
 *		[--max-outbox N]
 *
 * Each daemon up or down (its pid file in pid_dir, and kill(pid, 0);
 * posthook-api, which a site enables on its own, is down only when it left
 * a stale pid file, and otherwise just not running); how
 * far the tailer is behind the log (the position it committed in
 * STORE_POSITIONS against the size of log_file, and of log_file.1 when it
 * is still finishing a rotated file); how many events wait in the outbox;
 * per endpoint, its health (breaker state, failing since, deliveries
 * waiting for it) and the deliveries whose newest attempt since T
 * (default 24h) failed, still retrying or given up; and the key that
 * signs now.
 *
 * A readable report by default; with --json one object:
 *	{"daemons":{NAME:{"running","pid","stale_pid_file","optional"}},
 *	 "tailer":{...}, "outbox_depth",
 *	 "endpoints":[{"id","name","url","enabled","state","disabled_reason",
 *	 "failing_since","waiting","failing","retrying","failed","last_error"}],
 *	 "signing_key":{"active_kid",...}, "status", "reason"}
 * Unknown values are null.  Exit status as a monitoring plugin's: 0 when
 * every daemon is up and the tailer's lag and the outbox are under their
 * thresholds, 1 when degraded (over one, an enabled endpoint's breaker
 * open, or the store cannot be read), 2 when a daemon is down; --nagios
 * prints the verdict as one plugin line with performance data.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "health/health.h"
#include "store/delivery.h"
#include "store/endpoint.h"
#include "store/outbox.h"
#include "store/position.h"
#include "logfile/rotation.h"
#include "sign/sign.h"
#include "util/json.h"
#include "util/util.h"

/* The usage, also for "posthookctl status --help" (commands.c). */
const char cmd_status_usage[] =
    "usage: posthookctl status [--json | --nagios] [--since T] [--max-lag LINES] "
    "[--max-outbox N]\n"
    "  --since T         failing deliveries since T (default 24h ago)\n"
    "  --max-lag LINES   degraded above this tailer lag (default 10000 lines)\n"
    "  --max-outbox N    degraded above this many waiting events (default 1000)\n"
    "  --nagios          one line in the monitoring-plugin format\n"
    "  exit status 0 OK, 1 degraded, 2 a daemon down";

static const struct {
	const char *name;
	int optional; /* down only with a stale pid file: not every site runs it */
} daemon_list[] = {
	{ "posthook-milter", 0 },
	{ "posthook-logtail", 0 },
	{ "posthook-webhook", 0 },
	{ "posthook-api", 1 },
};

/* daemon_pid - the live pid of a daemon's pid file, 0 when down */
static long
daemon_pid(const char *pid_dir, const char *name, int *stale)
{
	char *path = xasprintf("%s/%s.pid", pid_dir, name);
	FILE *fp = fopen(path, "r");
	long pid = 0;

	*stale = 0;
	free(path);
	if (fp == NULL)
		return 0;
	if (fscanf(fp, "%ld", &pid) != 1 || pid <= 0)
		pid = 0;
	fclose(fp);
	if (pid > 0 && kill((pid_t) pid, 0) < 0 && errno != EPERM) {
		*stale = 1;
		pid = 0;
	}
	return pid;
}

/* daemons_json - {NAME: {"running", "pid", "stale_pid_file", "optional"}} */
static json_object *
daemons_json(const struct config *cfg)
{
	json_object *all = json_object_new_object(), *o;
	long pid;
	int stale;

	for (size_t i = 0; i < sizeof(daemon_list) / sizeof(daemon_list[0]); i++) {
		pid = daemon_pid(cfg->pid_dir, daemon_list[i].name, &stale);
		o = json_object_new_object();
		json_object_object_add(o, "running", json_object_new_boolean(pid > 0));
		json_object_object_add(o, "pid",
				       pid > 0 ? json_object_new_int64(pid) : NULL);
		json_object_object_add(o, "stale_pid_file",
				       json_object_new_boolean(stale));
		json_object_object_add(o, "optional",
				       json_object_new_boolean(daemon_list[i].optional));
		json_object_object_add(all, daemon_list[i].name, o);
	}
	return all;
}

struct position_ctx {
	const char *key;
	struct position_record pos;
	int found;
};

/* position_cb - the tailer's committed position for log_file */
static int
position_cb(struct store_txn *txn, void *arg)
{
	struct position_ctx *p = arg;
	int rc;

	p->found = 0;
	rc = position_get(txn, p->key, &p->pos);
	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	p->found = 1;
	return STORE_OK;
}

/* tailer_json - where the tailer stands in the log */
static json_object *
tailer_json(struct ctl *ctl, const struct config *cfg)
{
	json_object *o = json_object_new_object(), *pos = NULL;
	struct position_ctx p;
	long long bytes = -1, lines = -1;
	const char *reading = NULL;
	char *key;

	memset(&p, 0, sizeof(p));
	json_object_object_add(
	    o, "log_source",
	    json_object_new_string(cfg->log_source == LOG_SOURCE_JOURNAL ? "journal"
									 : "file"));
	if (cfg->log_source == LOG_SOURCE_JOURNAL) {
		json_object_object_add(o, "position", NULL);
		json_object_object_add(o, "lag_bytes", NULL);
		json_object_object_add(o, "lag_lines", NULL);
		return o;
	}
	json_object_object_add(o, "log_file", json_object_new_string(cfg->log_file));
	key = position_key_file(cfg->log_file);
	p.key = key;
	if (store_run(ctl_store(ctl), position_cb, &p, 0) != STORE_OK)
		p.found = 0;
	free(key);
	if (p.found) {
		pos = position_to_json(&p.pos);
		rotation_lag(cfg->log_file, p.pos.fp, p.pos.dev, p.pos.ino, p.pos.offset,
			     &bytes, &lines, &reading);
	}
	json_object_object_add(o, "position", pos);
	json_object_object_add(o, "reading",
			       reading ? json_object_new_string(
				   reading == cfg->log_file ? "current" : reading)
				       : NULL);
	json_object_object_add(o, "lag_bytes",
			       bytes >= 0 ? json_object_new_int64(bytes) : NULL);
	json_object_object_add(o, "lag_lines",
			       lines >= 0 ? json_object_new_int64(lines) : NULL);
	position_clear(&p.pos);
	return o;
}

/* depth_cb - events waiting in the outbox */
static int
depth_cb(struct store_txn *txn, void *arg)
{
	return outbox_depth(txn, arg);
}

struct ep_ctx {
	struct endpoint **eps;
	int n;
	double since;
	json_object **attempts;	     /* per endpoint, newest first */
	struct breaker *health;	     /* per endpoint */
	struct parked_count *parked; /* deliveries waiting, per endpoint */
	int nparked;
};

/* endpoints_cb - the endpoints and their attempts since ctx->since */
static int
endpoints_cb(struct store_txn *txn, void *arg)
{
	struct ep_ctx *c = arg;
	struct attempt_filter f;
	int rc;

	if (c->eps != NULL) {
		for (int i = 0; i < c->n; i++)
			json_object_put(c->attempts[i]);
		free(c->attempts);
		free(c->health);
		free(c->parked);
		endpoint_list_free(c->eps, c->n);
		c->eps = NULL;
		c->attempts = NULL;
		c->health = NULL;
		c->parked = NULL;
	}
	if ((rc = endpoint_list(txn, &c->eps, &c->n)) != STORE_OK)
		return rc;
	c->attempts = xcalloc((size_t) c->n + 1, sizeof(*c->attempts));
	c->health = xcalloc((size_t) c->n + 1, sizeof(*c->health));
	if ((rc = delivery_parked(txn, &c->parked, &c->nparked)) != STORE_OK)
		return rc;
	for (int i = 0; i < c->n; i++) {
		if ((rc = health_get(txn, c->eps[i]->id, 0, &c->health[i])) != STORE_OK)
			return rc;
		memset(&f, 0, sizeof(f));
		f.endpoint_id = c->eps[i]->id;
		f.event = -1;
		f.since = c->since;
		if ((rc = attempt_list(txn, &f, &c->attempts[i])) != STORE_OK)
			return rc;
	}
	return STORE_OK;
}

/* bool_member - a boolean member, def when absent or null */
static int
bool_member(json_object *o, const char *key, int def)
{
	json_object *v = json_member(o, key);

	return v != NULL ? json_object_get_boolean(v) : def;
}

/* waiting_of - how many deliveries wait parked for endpoint id */
static long
waiting_of(const struct ep_ctx *c, const char *id)
{
	for (int i = 0; i < c->nparked; i++)
		if (strcmp(c->parked[i].endpoint_id, id) == 0)
			return c->parked[i].count;
	return 0;
}

/* health_status - add the endpoint's state, failing since and waiting */
static void
health_status(json_object *o, const struct endpoint *ep, const struct breaker *b,
	      long waiting)
{
	char when[32];

	json_object_object_add(
	    o, "state",
	    json_object_new_string(ep->enabled ? breaker_state_name(b->state)
					       : breaker_state_name(BREAKER_DISABLED)));
	json_object_object_add(
	    o, "disabled_reason",
	    ep->disabled_reason ? json_object_new_string(ep->disabled_reason) : NULL);
	iso8601_utc(b->failing_since, when, sizeof(when));
	json_object_object_add(o, "failing_since",
			       b->failing_since > 0 ? json_object_new_string(when)
						    : NULL);
	json_object_object_add(o, "waiting", json_object_new_int64(waiting));
}

/* endpoint_status - one endpoint with its health and failing deliveries */
static json_object *
endpoint_status(const struct endpoint *ep, json_object *attempts, const struct breaker *b,
		long waiting)
{
	json_object *o = json_object_new_object(), *seen = json_object_new_object();
	json_object *rec, *v;
	const char *last_error = NULL, *uuid;
	int retrying = 0, failed = 0;
	size_t n = attempts ? json_object_array_length(attempts) : 0;

	/* Newest first: the first attempt of a uuid is its delivery's last. */
	for (size_t i = 0; i < n; i++) {
		rec = json_object_array_get_idx(attempts, i);
		if (!json_object_object_get_ex(rec, "uuid", &v) || v == NULL)
			continue;
		uuid = json_object_get_string(v);
		if (json_object_object_get_ex(seen, uuid, NULL))
			continue;
		json_object_object_add(seen, uuid, NULL);
		if (bool_member(rec, "success", 0))
			continue;
		if (bool_member(rec, "willRetry", 0))
			retrying++;
		else
			failed++;
		if (last_error == NULL && json_object_object_get_ex(rec, "error", &v)
		    && v != NULL)
			last_error = json_object_get_string(v);
	}
	json_object_object_add(o, "id", json_object_new_string(ep->id));
	json_object_object_add(o, "name", json_object_new_string(ep->name));
	json_object_object_add(o, "url", json_object_new_string(ep->url));
	json_object_object_add(o, "enabled", json_object_new_boolean(ep->enabled));
	health_status(o, ep, b, waiting);
	if (last_error == NULL && b->last_error[0] != 0)
		last_error = b->last_error;
	json_object_object_add(o, "failing", json_object_new_int(retrying + failed));
	json_object_object_add(o, "retrying", json_object_new_int(retrying));
	json_object_object_add(o, "failed", json_object_new_int(failed));
	json_object_object_add(o, "last_error",
			       last_error ? json_object_new_string(last_error) : NULL);
	json_object_put(seen);
	return o;
}

/* key_json - the key that signs now; never creates one */
static json_object *
key_json(const struct config *cfg)
{
	json_object *o = json_object_new_object();
	struct keyring *kr;
	const struct signing_key *k;
	char err[1024];
	double now = now_seconds();

	json_object_object_add(o, "signing_key",
			       json_object_new_string(cfg->signing_key));
	if (access(cfg->signing_key, F_OK) < 0) {
		json_object_object_add(o, "active_kid", NULL);
		json_object_object_add(
		    o, "error",
		    json_object_new_string(
			"no key yet: posthook-webhook creates it on first start"));
		return o;
	}
	if ((kr = keyring_open(cfg, NULL, err, sizeof(err))) == NULL) {
		json_object_object_add(o, "active_kid", NULL);
		json_object_object_add(o, "error", json_object_new_string(err));
		return o;
	}
	k = keyring_signer(kr, now);
	json_object_object_add(o, "active_kid",
			       k ? json_object_new_string(signing_key_kid(k)) : NULL);
	json_object_object_add(o, "published",
			       json_object_new_int64((int64_t) keyring_count(kr)));
	keyring_free(kr);
	return o;
}

/* text_of - a member as text, "-" when null */
static const char *
text_of(json_object *o, const char *key)
{
	const char *s = json_text_member(o, key);

	return s != NULL ? s : "-";
}

/* print_report - the readable form */
static void
print_report(json_object *st)
{
	static const char *const dh[] = { "DAEMON", "STATE", "PID" };
	static const char *const eh[] = {
		"ENDPOINT", "NAME",	"STATE",   "WAITING",
		"FAILING",  "RETRYING", "GAVE UP", "LAST ERROR"
	};
	json_object *d = json_member(st, "daemons"), *t = json_member(st, "tailer");
	json_object *eps = json_member(st, "endpoints"),
		    *k = json_member(st, "signing_key");
	struct table *tab = table_new(3, dh);
	const char *row[8];
	char state[64];

	json_object_object_foreach(d, name, o)
	{
		row[0] = name;
		row[1] = bool_member(o, "running", 0)	       ? "up"
			 : bool_member(o, "stale_pid_file", 0) ? "down (stale pid file)"
			 : bool_member(o, "optional", 0)       ? "not running"
							       : "down";
		row[2] = json_member(o, "pid") ? text_of(o, "pid") : NULL;
		table_add_row(tab, row);
	}
	table_print(tab);
	table_free(tab);
	printf("\n");
	if (strcmp(text_of(t, "log_source"), "journal") == 0) {
		printf("log:      the systemd journal (lag not measured)\n");
	} else if (json_member(t, "position") == NULL) {
		printf("log:      %s, not read yet\n", text_of(t, "log_file"));
	} else if (json_member(t, "lag_bytes") == NULL) {
		printf("log:      %s, lag unknown (the file read last is gone)\n",
		       text_of(t, "log_file"));
	} else {
		printf("log:      %s, %s bytes (%s lines) behind%s\n",
		       text_of(t, "log_file"), text_of(t, "lag_bytes"),
		       text_of(t, "lag_lines"),
		       strcmp(text_of(t, "reading"), "rotated") == 0
			   ? ", finishing the rotated file"
			   : "");
	}
	printf("outbox:   %s events waiting\n", text_of(st, "outbox_depth"));
	if (json_member(st, "amqp") != NULL)
		status_amqp_print(json_member(st, "amqp"));
	if (json_member(k, "active_kid") != NULL)
		printf("key:      %s signs (%s published)\n", text_of(k, "active_kid"),
		       text_of(k, "published"));
	else
		printf("key:      none (%s)\n", text_of(k, "error"));
	printf("\n");
	tab = table_new(8, eh);
	for (size_t i = 0; i < json_object_array_length(eps); i++) {
		json_object *e = json_object_array_get_idx(eps, i);

		row[0] = text_of(e, "id");
		row[1] = text_of(e, "name");
		if (json_member(e, "disabled_reason") != NULL)
			snprintf(state, sizeof(state), "disabled (%s)",
				 text_of(e, "disabled_reason"));
		else
			snprintf(state, sizeof(state), "%s", text_of(e, "state"));
		row[2] = state;
		row[3] = text_of(e, "waiting");
		row[4] = text_of(e, "failing");
		row[5] = text_of(e, "retrying");
		row[6] = text_of(e, "failed");
		row[7] = json_member(e, "last_error") ? text_of(e, "last_error") : NULL;
		table_add_row(tab, row);
	}
	if (json_object_array_length(eps) == 0)
		printf("no webhook endpoints: posthookctl webhooks create ...\n");
	else
		table_print(tab);
	table_free(tab);
	printf("(deliveries failing: newest attempt since %s failed)\n",
	       text_of(st, "since"));
	printf("\nstatus:   %s%s%s\n", text_of(st, "status"),
	       json_member(st, "reason") ? ": " : "",
	       json_member(st, "reason") ? text_of(st, "reason") : "");
}

struct verdict {
	int status;    /* 0 OK, 1 degraded, 2 a daemon down */
	char why[256]; /* the first reason, or "" */
	int up, daemons;
};

/* verdict_add - raise the status; keep the reason of the worst */
static void
verdict_add(struct verdict *v, int status, const char *why)
{
	if (status <= v->status)
		return;
	v->status = status;
	snprintf(v->why, sizeof(v->why), "%s", why);
}

/* judge - the status against the thresholds */
static void
judge(json_object *st, long long max_lag, long long max_outbox, struct verdict *v)
{
	json_object *t = json_member(st, "tailer"), *lag = json_member(t, "lag_lines");
	json_object *depth = json_member(st, "outbox_depth");
	char why[256];

	memset(v, 0, sizeof(*v));
	json_object_object_foreach(json_member(st, "daemons"), name, o)
	{
		if (bool_member(o, "optional", 0) && !bool_member(o, "running", 0)
		    && !bool_member(o, "stale_pid_file", 0))
			continue;
		v->daemons++;
		if (bool_member(o, "running", 0)) {
			v->up++;
			continue;
		}
		snprintf(why, sizeof(why), "%s is down", name);
		verdict_add(v, 2, why);
	}
	if (lag != NULL && json_object_get_int64(lag) > max_lag) {
		snprintf(why, sizeof(why), "tailer %lld lines behind",
			 (long long) json_object_get_int64(lag));
		verdict_add(v, 1, why);
	}
	if (depth == NULL) {
		verdict_add(v, 1, "outbox depth unknown");
	} else if (json_object_get_int64(depth) > max_outbox) {
		snprintf(why, sizeof(why), "%lld events waiting in the outbox",
			 (long long) json_object_get_int64(depth));
		verdict_add(v, 1, why);
	}
}

/* print_nagios - "POSTHOOK OK - text | perfdata", one line */
static void
print_nagios(json_object *st, const struct verdict *v, long long max_lag,
	     long long max_outbox)
{
	static const char *const names[] = { "OK", "WARNING", "CRITICAL" };
	json_object *lag = json_member(json_member(st, "tailer"), "lag_lines");
	json_object *depth = json_member(st, "outbox_depth");

	printf("POSTHOOK %s - %s%s%d/%d daemons up, lag %s lines, outbox %s"
	       " | daemons_up=%d;;%d;0;%d lag_lines=%s;%lld outbox=%s;%lld\n",
	       names[v->status], v->why, v->why[0] ? "; " : "", v->up, v->daemons,
	       lag ? json_object_get_string(lag) : "unknown",
	       depth ? json_object_get_string(depth) : "unknown", v->up, v->daemons - 1,
	       v->daemons, lag ? json_object_get_string(lag) : "U", max_lag,
	       depth ? json_object_get_string(depth) : "U", max_outbox);
}

/* cmd_status - posthookctl status */
int
cmd_status(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { { "since", required_argument, NULL, 's' },
					      { "max-lag", required_argument, NULL, 'l' },
					      { "max-outbox", required_argument, NULL,
						'o' },
					      { "nagios", no_argument, NULL, 'n' },
					      { NULL, 0, NULL, 0 } };
	struct config *cfg = ctl_config(ctl);
	struct ep_ctx ec;
	struct verdict v;
	json_object *st, *eps, *sink;
	char since_text[64], *end;
	long depth = -1;
	long long max_lag = 10000, max_outbox = 1000, *limit;
	int c, nagios = 0, degraded = 0;

	memset(&ec, 0, sizeof(ec));
	ec.since = now_seconds() - 24 * 3600;
	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_time_spec(optarg, now_seconds(), &ec.since) < 0)
				return ctl_usage_error("bad time \"%s\": use ISO 8601 "
						       "UTC or a span like 2h",
						       optarg);
			break;
		case 'l':
		case 'o':
			limit = c == 'l' ? &max_lag : &max_outbox;
			*limit = strtoll(optarg, &end, 10);
			if (*optarg == 0 || *end != 0 || *limit < 0)
				return ctl_usage_error("bad number \"%s\"", optarg);
			break;
		case 'n':
			nagios = 1;
			break;
		default:
			return ctl_usage_error("%s", cmd_status_usage);
		}
	}
	if (optind < argc)
		return ctl_usage_error("%s", cmd_status_usage);

	st = json_object_new_object();
	/* Before ctl_store() drops privileges: pid files are readable anyway. */
	json_object_object_add(st, "daemons", daemons_json(cfg));
	json_object_object_add(st, "tailer", tailer_json(ctl, cfg));
	if (store_run(ctl_store(ctl), depth_cb, &depth, 0) != STORE_OK)
		depth = -1;
	json_object_object_add(st, "outbox_depth",
			       depth >= 0 ? json_object_new_int64(depth) : NULL);
	if (store_run(ctl_store(ctl), endpoints_cb, &ec, 0) != STORE_OK) {
		json_object_put(st);
		return ctl_error("cannot read the endpoints and their deliveries");
	}
	eps = json_object_new_array();
	for (int i = 0; i < ec.n; i++) {
		json_object_array_add(
		    eps, endpoint_status(ec.eps[i], ec.attempts[i], &ec.health[i],
					 waiting_of(&ec, ec.eps[i]->id)));
		json_object_put(ec.attempts[i]);
		/* an open breaker is "degraded": up, but a receiver is not */
		if (ec.eps[i]->enabled
		    && (ec.health[i].state == BREAKER_OPEN
			|| ec.health[i].state == BREAKER_PROBING))
			degraded = 1;
	}
	free(ec.attempts);
	free(ec.health);
	free(ec.parked);
	endpoint_list_free(ec.eps, ec.n);
	json_object_object_add(st, "endpoints", eps);
	iso8601_utc(ec.since, since_text, sizeof(since_text));
	json_object_object_add(st, "since", json_object_new_string(since_text));
	json_object_object_add(st, "signing_key", key_json(cfg));
	if ((sink = status_amqp_json(ctl, cfg)) != NULL)
		json_object_object_add(st, "amqp", sink);
	judge(st, max_lag, max_outbox, &v);
	if (degraded)
		verdict_add(&v, 1, "an endpoint's breaker is open");
	if (sink != NULL && json_object_get_boolean(json_member(sink, "configured"))
	    && strcmp(json_string_member(sink, "state"), "connected") != 0)
		verdict_add(&v, 1, "the AMQP sink is not connected");
	json_object_object_add(st, "status",
			       json_object_new_string(v.status == 0   ? "ok"
						      : v.status == 1 ? "degraded"
								      : "down"));
	json_object_object_add(st, "reason",
			       v.why[0] ? json_object_new_string(v.why) : NULL);
	if (nagios)
		print_nagios(st, &v, max_lag, max_outbox);
	else if (ctl->json)
		ctl_print_json_line(st);
	else
		print_report(st);
	json_object_put(st);
	return v.status;
}
