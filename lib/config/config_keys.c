/*
 * config_keys.c - every posthook.conf key: type, default, description.
 *
 * This table is the single source of the keys.  posthook.conf(5) lists the
 * same keys with the same defaults, and tests/lib/check_config.c proves it.
 */
#include <stddef.h>

#include "config/config.h"

#define OFF(f) offsetof(struct config, f)

static const char *const log_sources[] = { "file", "journal", NULL };
static const char *const report_scopes[] = { "recorded", "outgoing", "all", NULL };
static const char *const amqp_queue_types[] = { "quorum", "stream", NULL };
static const char *const bad_metadata_actions[] = { "accept", "tempfail", "reject",
						    NULL };
static const char *const send_limit_actions[] = { "report", "hold", "defer", NULL };

const struct config_key config_keys[] = {
	/* shared */
	{ "state_dir", CT_PATH, OFF(state_dir), "/var/lib/posthook", NULL,
	  "Directory of the Berkeley DB state store shared by all programs." },
	{ "user", CT_STRING, OFF(user), "posthook", NULL,
	  "User every daemon runs as after start (and posthookctl as root)." },
	{ "group", CT_STRING, OFF(group), "posthook", NULL,
	  "Group every daemon runs as after start." },
	{ "pid_dir", CT_PATH, OFF(pid_dir), "/run/posthook", NULL,
	  "Directory of the daemons' pid files." },
	{ "message_retention", CT_DURATION, OFF(message_retention_ms), "30d", NULL,
	  "How long message records are kept." },
	{ "delivery_retention", CT_DURATION, OFF(delivery_retention_ms), "10d", NULL,
	  "How long webhook deliveries and their attempts are kept." },
	{ "store_lock_timeout", CT_DURATION, OFF(store_lock_timeout_ms), "10s", NULL,
	  "Longest wait for a store lock outside the milter." },

	/* milter */
	{ "milter_socket", CT_STRING, OFF(milter_socket),
	  "unix:/var/spool/postfix/posthook/milter.sock", NULL,
	  "Where posthook-milter listens: unix:PATH or inet:PORT@HOST." },
	{ "header_prefix", CT_STRING, OFF(header_prefix), "X-Posthook", NULL,
	  "Prefix of the application headers PREFIX-Tag, -Metadata, -Token." },
	{ "internal_hosts", CT_NETWORKS, OFF(internal_hosts), "127.0.0.0/8, ::1", NULL,
	  "Client networks whose mail is outgoing (CIDR list)." },
	{ "originating_daemons", CT_LIST, OFF(originating_daemons), "ORIGINATING", NULL,
	  "Values of the {daemon_name} macro whose mail is outgoing." },
	{ "on_bad_metadata", CT_ENUM, OFF(on_bad_metadata), "accept",
	  bad_metadata_actions,
	  "What the milter does with invalid tag or metadata headers." },
	{ "milter_store_timeout", CT_DURATION, OFF(milter_store_timeout_ms), "200ms",
	  NULL, "Longest the milter waits on the store before it accepts anyway." },
	{ "return_path_domain", CT_STRING, OFF(return_path_domain), "", NULL,
	  "Domain of VERP return paths for bounces; empty leaves senders alone." },

	/* bounce intake */
	{ "bounce_own_hostnames", CT_LIST, OFF(bounce_own_hostnames), "", NULL,
	  "This Postfix's myhostname(s): its own bounce notices are not reported again." },
	{ "classify_rules_file", CT_PATH, OFF(classify_rules_file), "", NULL,
	  "Local bounce classification rules, tried before the built-in ones; empty: none." },

	/* logtail */
	{ "log_source", CT_ENUM, OFF(log_source), "file", log_sources,
	  "Where posthook-logtail reads Postfix's log: file or journal." },
	{ "log_file", CT_PATH, OFF(log_file), "/var/log/mail.log", NULL,
	  "The Postfix log file followed when log_source = file." },
	{ "journal_dir", CT_PATH, OFF(journal_dir), "", NULL,
	  "Journal directory to read; empty means the system journal." },
	{ "report", CT_ENUM, OFF(report), "outgoing", report_scopes,
	  "Which messages get events: recorded, outgoing or all." },
	{ "hop_relays", CT_LIST, OFF(hop_relays), "", NULL,
	  "Relays (host or host:port) that are hops on this host, not deliveries." },

	/* webhook */
	{ "signing_key", CT_PATH, OFF(signing_key), "/var/lib/posthook/signing.key", NULL,
	  "RSA private key that signs webhooks; created on first start." },
	{ "signature_header_prefix", CT_STRING, OFF(signature_header_prefix),
	  "X-Posthook", NULL,
	  "Prefix of the PREFIX-Signature and PREFIX-Signature-KID headers." },
	{ "retry_schedule", CT_SCHEDULE, OFF(retry_schedule_ms), "0 2m 3m 6m 10m 15m",
	  NULL, "Delay before each webhook attempt; one entry per attempt." },
	{ "webhook_timeout", CT_DURATION, OFF(webhook_timeout_ms), "5s", NULL,
	  "Time limit of one webhook attempt." },
	{ "webhook_max_per_endpoint", CT_INT, OFF(webhook_max_per_endpoint), "4", NULL,
	  "Most requests in flight to one endpoint." },
	{ "webhook_max_in_flight", CT_INT, OFF(webhook_max_in_flight), "64", NULL,
	  "Most requests in flight in all." },
	{ "breaker_failures", CT_INT, OFF(breaker_failures), "10", NULL,
	  "Consecutive failed attempts that open an endpoint's circuit breaker." },
	{ "breaker_cooldown", CT_DURATION, OFF(breaker_cooldown_ms), "1m", NULL,
	  "Wait before an open breaker's probe; doubles per failed probe to 1h." },
	{ "disable_after", CT_DURATION, OFF(disable_after_ms), "5d", NULL,
	  "Disable an endpoint whose every attempt failed this long; 0: never." },
	{ "webhook_proxy", CT_STRING, OFF(webhook_proxy), "", NULL,
	  "HTTP proxy for webhooks; empty ignores proxies from the environment." },
	{ "key_activation_delay", CT_DURATION, OFF(key_activation_delay_ms), "1h", NULL,
	  "How long a rotated key is published before it signs." },
	{ "jwks_file", CT_PATH, OFF(jwks_file), "", NULL,
	  "File rewritten with the JWKS whenever the keys change; empty: none." },
	{ "refuse_private_endpoints", CT_BOOL, OFF(refuse_private_endpoints), "no", NULL,
	  "Refuse webhook endpoints on private or loopback addresses." },

	/* DNS checks of the sending domains (posthookctl domains) */
	{ "dns_timeout", CT_DURATION, OFF(dns_timeout_ms), "10s", NULL,
	  "Longest one DNS check of a domain waits for all its lookups together." },
	{ "sending_ips", CT_LIST, OFF(sending_ips), "", NULL,
	  "Addresses mail leaves from, for SPF and reverse DNS; empty: the host's global addresses." },
	{ "mx_hostnames", CT_LIST, OFF(mx_hostnames), "", NULL,
	  "Names of this host an MX of the return path must name; empty: bounce_own_hostnames, else the host name." },
	{ "dns_error_repeat", CT_DURATION, OFF(dns_error_repeat_ms), "1d", NULL,
	  "How often DomainDNSError is sent again while a domain stays broken; 0: never." },
	{ "dns_check_parallel", CT_INT, OFF(dns_check_parallel), "16", NULL,
	  "How many domains domains check --all checks at once." },

	/* api */
	{ "api_listen", CT_LIST, OFF(api_listen), "127.0.0.1:8025", NULL,
	  "Addresses posthook-api listens on: HOST:PORT, [IPv6]:PORT; several allowed." },
	{ "api_tls_cert", CT_PATH, OFF(api_tls_cert), "", NULL,
	  "PEM certificate chain of the API's HTTPS; empty: plain HTTP (behind a proxy)." },
	{ "api_tls_key", CT_PATH, OFF(api_tls_key), "", NULL,
	  "PEM private key of api_tls_cert." },
	{ "api_max_body", CT_INT, OFF(api_max_body), "1048576", NULL,
	  "Largest request body in bytes; larger ones are answered 413." },
	{ "api_rate_limit", CT_INT, OFF(api_rate_limit), "10", NULL,
	  "Requests per second one API key may make on average." },
	{ "api_rate_burst", CT_INT, OFF(api_rate_burst), "20", NULL,
	  "Requests one API key may make at once above api_rate_limit." },
	{ "api_max_connections", CT_INT, OFF(api_max_connections), "256", NULL,
	  "Most open connections to the API; more are refused." },
	{ "api_connection_timeout", CT_DURATION, OFF(api_connection_timeout_ms), "30s",
	  NULL, "An idle or slow API connection is closed after this long." },
	{ "api_threads", CT_INT, OFF(api_threads), "4", NULL,
	  "Threads answering API requests." },
	{ "metrics_key", CT_STRING, OFF(metrics_key), "", NULL,
	  "Bearer key GET /metrics requires; empty: /metrics needs no key." },

	/* send volume and limits (the milter; posthookctl limits) */
	{ "send_limit", CT_COUNT, OFF(send_limit), "0", NULL,
	  "Most outgoing messages in any 60 minutes, all tenants together; 0: no limit." },
	{ "send_limit_action", CT_ENUM, OFF(send_limit_action), "report",
	  send_limit_actions,
	  "At a send limit: report (SendLimit only), hold (Postfix hold queue) or defer (451 4.7.1)." },
	{ "domains_learn", CT_BOOL, OFF(domains_learn), "no", NULL,
	  "The milter adds every envelope-sender domain it records to the domains list." },
	/* tracking server */
	{ "track_listen", CT_LIST, OFF(track_listen), "", NULL,
	  "Addresses posthook-api answers tracking URLs on (pixel, click, unsubscribe); empty: none." },
	{ "trusted_proxies", CT_NETWORKS, OFF(trusted_proxies), "127.0.0.0/8, ::1", NULL,
	  "Proxies whose X-Forwarded-For names the tracking server's client." },
	{ "track_rate_limit", CT_INT, OFF(track_rate_limit), "20", NULL,
	  "Tracking hits per second one client address may make on average." },
	{ "track_rate_burst", CT_INT, OFF(track_rate_burst), "100", NULL,
	  "Tracking hits one client address may make at once above track_rate_limit." },
	{ "scanner_click_window", CT_DURATION, OFF(scanner_click_window_ms), "5s", NULL,
	  "A click this soon after the message was sent is a link scanner's." },
	{ "scanner_burst_window", CT_DURATION, OFF(scanner_burst_window_ms), "1s", NULL,
	  "Every link of a message clicked within this time is a link scanner." },
	{ "report_bots", CT_BOOL, OFF(report_bots), "yes", NULL,
	  "Send opens and clicks flagged as bots' (bot set); no: record them only." },
	{ "apple_mpp_networks", CT_PATH, OFF(apple_mpp_networks),
	  "/usr/share/posthook/tracking/apple-mpp.txt", NULL,
	  "File of the networks Apple Mail Privacy Protection prefetches from; empty: none." },

	/* tracking: the milter's rewriting (tenants may override each) */
	{ "tracking_url", CT_STRING, OFF(tracking_url), "", NULL,
	  "Base URL of the tracking server, e.g. https://track.example.com; empty: no tracking." },
	{ "track_opens", CT_BOOL, OFF(track_opens), "yes", NULL,
	  "With tracking_url: add the open pixel to the HTML of outgoing messages." },
	{ "track_clicks", CT_BOOL, OFF(track_clicks), "yes", NULL,
	  "With tracking_url: rewrite the http(s) links of outgoing HTML." },
	{ "excluded_click_domains", CT_LIST, OFF(excluded_click_domains), "", NULL,
	  "Link domains (and their subdomains) never rewritten." },
	{ "track_signed", CT_BOOL, OFF(track_signed), "no", NULL,
	  "Rewrite messages the application signed (DKIM-Signature, ARC-Seal) too." },
	{ "unsubscribe", CT_BOOL, OFF(unsubscribe), "no", NULL,
	  "With tracking_url: add one-click List-Unsubscribe headers where none are." },
	{ "track_max_body", CT_INT, OFF(track_max_body), "10485760", NULL,
	  "Largest body in bytes the milter rewrites; a larger one goes out untouched." },
	/* amqp sink */
	{ "amqp_url", CT_STRING, OFF(amqp_url), "", NULL,
	  "Broker posthook-amqp publishes to: amqp://USER:PASS@HOST:PORT/VHOST or amqps://...; empty: no sink." },
	{ "amqp_exchange", CT_STRING, OFF(amqp_exchange), "posthook", NULL,
	  "Topic exchange events are published to (declared durable if absent); routing key EVENT.TENANT." },
	{ "amqp_queue", CT_STRING, OFF(amqp_queue), "", NULL,
	  "Queue declared and bound to the exchange (every key), so nothing is dropped before a consumer; empty: none." },
	{ "amqp_queue_type", CT_ENUM, OFF(amqp_queue_type), "quorum", amqp_queue_types,
	  "Type of amqp_queue when posthook-amqp declares it: quorum or stream." },
	{ "amqp_events", CT_STRING, OFF(amqp_events), "", NULL,
	  "Events published, comma-separated as an endpoint's; empty: every event." },
	{ "amqp_tenants", CT_LIST, OFF(amqp_tenants), "default", NULL,
	  "Tenants whose events are published." },
	{ "amqp_host_name", CT_STRING, OFF(amqp_host_name), "", NULL,
	  "Host name in the host_name header; empty: Postfix's myhostname." },
	{ "amqp_ca_file", CT_PATH, OFF(amqp_ca_file), "", NULL,
	  "PEM CA certificates amqps:// brokers are checked against; empty: the system's." },
	{ "amqp_batch", CT_INT, OFF(amqp_batch), "500", NULL,
	  "Events published before waiting for the broker's confirms." },
	{ "amqp_backoff_max", CT_DURATION, OFF(amqp_backoff_max_ms), "30s", NULL,
	  "Longest wait between reconnections to an unreachable or refusing broker." },
	{ NULL, 0, 0, NULL, NULL, NULL }
};
