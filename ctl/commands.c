/*
 * commands.c - every posthookctl subcommand, in the order usage lists them.
 */
#include <stddef.h>

#include "commands.h"

const struct ctl_command ctl_commands[] = {
	{ "classify", cmd_classify, "classify bounce replies read from standard input" },
	{ "config", cmd_config, "show the configuration and its keys" },
	{ "webhooks", cmd_webhooks, "manage webhook endpoints; send a test event" },
	{ "deliveries", cmd_deliveries, "webhook delivery history; replay and recover" },
	{ "messages", cmd_messages, "show and list recorded messages" },
	{ "apikeys", cmd_apikeys, "keys of the HTTP API: create, list, revoke" },
	{ "keys", cmd_keys, "webhook signing keys: jwks, list, rotate" },
	{ "status", cmd_status, "daemons up or down, tailer lag, outbox, failing deliveries, key" },
	{ "domains", cmd_domains, "sending domains: add, list, show, remove, check their DNS" },
	{ "bounces", cmd_bounces, "kept bounces and complaints; parse bounce messages" },
	{ "version", cmd_version, "print the version" },
	{ NULL, NULL, NULL },
};
