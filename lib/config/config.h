/*
 * config.h - posthook.conf: one file, "key = value" lines, "#" comments.
 *
 * Every key is declared once, with its type, default and a one-line
 * description, in config_keys.c; parsing, defaults, `posthookctl config`
 * and the check against posthook.conf(5) all read that table.
 */
#ifndef PH_CONFIG_H
#define PH_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#ifndef PH_SYSCONFDIR
#define PH_SYSCONFDIR "/etc"
#endif
#define PH_DEFAULT_CONFIG PH_SYSCONFDIR "/posthook/posthook.conf"

#define PH_RETRY_MAX 16

enum log_source {
	LOG_SOURCE_FILE,
	LOG_SOURCE_JOURNAL,
};

enum report_scope {
	REPORT_RECORDED,
	REPORT_OUTGOING,
	REPORT_ALL,
};

enum bad_metadata_action {
	BAD_METADATA_ACCEPT,
	BAD_METADATA_TEMPFAIL,
	BAD_METADATA_REJECT,
};

enum send_limit_action {
	SEND_LIMIT_REPORT,
	SEND_LIMIT_HOLD,
	SEND_LIMIT_DEFER,
};

struct config {
	char *path; /* file it was read from, or NULL */

	/* shared */
	char *state_dir;
	char *user;
	char *group;
	char *pid_dir;
	int64_t message_retention_ms;
	int64_t delivery_retention_ms;
	int64_t store_lock_timeout_ms;

	/* milter */
	char *milter_socket;
	char *header_prefix;
	char **internal_hosts;	    /* NULL-terminated CIDR list */
	char **originating_daemons; /* NULL-terminated */
	int on_bad_metadata;	    /* enum bad_metadata_action */
	int64_t milter_store_timeout_ms;
	char *return_path_domain;

	/* bounce intake */
	char **bounce_own_hostnames; /* NULL-terminated */
	char *classify_rules_file;   /* "": none */

	/* logtail */
	int log_source; /* enum log_source */
	char *log_file; /* its rotated names: rotation.h */
	char *journal_dir;
	int report;	   /* enum report_scope */
	char **hop_relays; /* NULL-terminated */

	/* webhook */
	char *signing_key;
	char *signature_header_prefix;
	int64_t retry_schedule_ms[PH_RETRY_MAX];
	int retry_count;
	int64_t webhook_timeout_ms;
	int webhook_max_per_endpoint;
	int webhook_max_in_flight;
	int breaker_failures;
	int64_t breaker_cooldown_ms;
	int64_t disable_after_ms;
	char *webhook_proxy;
	int64_t key_activation_delay_ms;
	char *jwks_file;
	int refuse_private_endpoints;

	/* DNS checks of the sending domains */
	int64_t dns_timeout_ms;
	char **sending_ips;  /* NULL-terminated; empty: the host's */
	char **mx_hostnames; /* NULL-terminated; empty: see keys */
	int64_t dns_error_repeat_ms;
	int dns_check_parallel;

	/* api */
	char **api_listen; /* NULL-terminated HOST:PORT list */
	char *api_tls_cert;
	char *api_tls_key;
	int api_max_body;   /* bytes */
	int api_rate_limit; /* requests per second per key */
	int api_rate_burst;
	int api_max_connections;
	int64_t api_connection_timeout_ms;
	int api_threads;
	char *metrics_key;

	/* send volume and limits */
	int send_limit;	       /* messages per rolling hour; 0: none */
	int send_limit_action; /* enum send_limit_action */
	int domains_learn;     /* the milter adds envelope-sender domains */
	/* tracking server (in posthook-api) */
	char **track_listen;	/* NULL-terminated; empty: no tracking server */
	char **trusted_proxies; /* NULL-terminated CIDR list */
	int track_rate_limit;	/* hits per second per client address */
	int track_rate_burst;
	int64_t scanner_click_window_ms;
	int64_t scanner_burst_window_ms;
	int report_bots;
	char *apple_mpp_networks; /* file of Apple's prefetch ranges */

	/* tracking: the milter's rewriting of tracked messages */
	char *tracking_url; /* "": tracking off */
	int track_opens;
	int track_clicks;
	char **excluded_click_domains; /* NULL-terminated */
	int track_signed;
	int unsubscribe;
	int track_max_body; /* bytes */
	/* amqp sink (posthook-amqp) */
	char *amqp_url; /* "": no sink */
	char *amqp_exchange;
	char *amqp_queue;     /* "": none declared */
	int amqp_queue_type;  /* enum amqp_queue_type */
	char *amqp_events;    /* "": every event, as an endpoint's */
	char **amqp_tenants;  /* NULL-terminated */
	char *amqp_host_name; /* "": Postfix's myhostname */
	char *amqp_ca_file;   /* "": the system's */
	int amqp_batch;
	int64_t amqp_backoff_max_ms;
};

enum amqp_queue_type {
	AMQP_QUEUE_QUORUM,
	AMQP_QUEUE_STREAM,
};

enum config_type {
	CT_STRING,
	CT_PATH, /* absolute path, or empty */
	CT_INT,
	CT_BOOL,
	CT_DURATION,
	CT_LIST,
	CT_ENUM,
	CT_SCHEDULE,
	CT_NETWORKS, /* list of addr[/bits], IPv4 or IPv6 */
	CT_COUNT,    /* integer >= 0 */
};

struct config_key {
	const char *name;
	enum config_type type;
	size_t offset;
	const char *def;
	const char *const *choices; /* CT_ENUM: NULL-terminated names */
	const char *description;
};

extern const struct config_key config_keys[];

/* config_key_find - the table entry for a name, or NULL. */
const struct config_key *config_key_find(const char *name);

/* config_new - a config holding every default. */
struct config *config_new(void);
void config_free(struct config *cfg);

/*
 * config_load - read path into cfg.  With must_exist false, a missing file
 * is no error (defaults stay).  On error returns -1 and writes a message
 * naming the file, line and key into err.
 */
int config_load(struct config *cfg, const char *path, int must_exist, char *err,
		size_t errlen);

/* config_set - parse one value for one key: for the file and for tests. */
int config_set(struct config *cfg, const char *key, const char *value, char *err,
	       size_t errlen);

/* config_format_value - the current value of a key as config text. */
char *config_format_value(const struct config *cfg, const struct config_key *k);

#endif
