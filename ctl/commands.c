/*
 * commands.c - every posthookctl subcommand, in the order usage lists them.
 */
#include <stddef.h>

#include "commands.h"

const struct ctl_command ctl_commands[] = {
	{ "classify", cmd_classify, "classify bounce replies read from standard input",
	  cmd_classify_usage },
	{ "config", cmd_config, "show the configuration and its keys", cmd_config_usage },
	{ "tenants", cmd_tenants, "tenants and the rules that say which mail is theirs",
	  cmd_tenants_usage },
	{ "webhooks", cmd_webhooks, "manage webhook endpoints; send a test event",
	  cmd_webhooks_usage },
	{ "deliveries", cmd_deliveries, "webhook delivery history; replay and recover",
	  cmd_deliveries_usage },
	{ "messages", cmd_messages, "show and list recorded messages",
	  cmd_messages_usage },
	{ "apikeys", cmd_apikeys, "keys of the HTTP API: create, list, revoke", NULL },
	{ "keys", cmd_keys, "webhook signing keys: jwks, list, rotate", cmd_keys_usage },
	{ "status", cmd_status,
	  "daemons up or down, tailer lag, outbox, failing deliveries, key",
	  cmd_status_usage },
	{ "domains", cmd_domains,
	  "sending domains: add, list, show, remove, check their DNS",
	  cmd_domains_usage },
	{ "limits", cmd_limits, "send volume, limits and states; release held mail",
	  cmd_limits_usage },
	{ "bounces", cmd_bounces, "kept bounces and complaints; parse bounce messages",
	  cmd_bounces_usage },
	{ "version", cmd_version, "print the version", cmd_version_usage },
	{ NULL, NULL, NULL, NULL },
};
