/*
 * main.c - posthook-webhook: deliver every event in the outbox as a
 * signed JSON POST to each subscribed endpoint, with retries and a
 * recorded history (see loop.c for the work, sender.c for HTTP).
 */
#include <curl/curl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/daemon.h"
#include "util/log.h"
#include "health.h"
#include "loop.h"
#include "sender.h"
#include "sign/sign.h"
#include "signpool.h"
#include "store/store.h"
#include "transfer.h"

#define USAGE "posthook-webhook [-fv] [-c FILE] [--check]"

/* check_settings - limits the loop relies on; -1 (logged) when off. */
static int
check_settings(const struct config *cfg)
{
	if (cfg->webhook_max_in_flight < 1 || cfg->webhook_max_per_endpoint < 1) {
		log_error("webhook_max_in_flight and webhook_max_per_endpoint must "
			  "be at least 1");
		return -1;
	}
	if (cfg->webhook_timeout_ms < 1) {
		log_error("webhook_timeout must be positive");
		return -1;
	}
	if (cfg->retry_count < 1) {
		log_error("retry_schedule must have at least one entry");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct daemon_args args;
	struct webhook w;
	struct config *cfg;
	char *pidfile = NULL;
	char err[1024];
	int rc;

	daemon_args_parse(argc, argv, &args, USAGE, NULL, NULL, NULL);
	log_open("posthook-webhook",
		 args.foreground || args.check ? LOG_TO_STDERR : LOG_TO_SYSLOG);
	log_set_verbose(args.verbose);
	cfg = daemon_config_load(&args);
	if (cfg == NULL || check_settings(cfg) < 0)
		return 1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		log_fatal("cannot initialize libcurl");
	if (daemon_prepare_state_dir(cfg) < 0)
		return 1;
	if (!args.foreground)
		daemon_detach();
	memset(&w, 0, sizeof(w));
	w.sig = daemon_signals_init(SIGHUP);
	if (cfg->pid_dir != NULL && cfg->pid_dir[0] != 0
	    && (pidfile = daemon_pidfile_write(cfg->pid_dir, "posthook-webhook")) == NULL)
		return 1;
	if (daemon_drop_privileges(cfg) < 0)
		return 1;
	w.cfg = cfg;
	if ((w.st = store_open(cfg->state_dir, 0)) == NULL)
		return 1;
	store_set_lock_timeout(w.st, cfg->store_lock_timeout_ms);
	if ((w.kr = keyring_open(cfg, w.st, err, sizeof(err))) == NULL) {
		log_error("signing keys: %s", err);
		return 1;
	}
	if ((w.snd = sender_new(cfg)) == NULL)
		return 1;
	/* after detaching and dropping privileges: no fork with threads */
	if ((w.pool = signpool_new(0)) == NULL)
		return 1;
	log_info("started: at most %d requests in flight, %d per endpoint; "
		 "%d signing thread(s)",
		 cfg->webhook_max_in_flight, cfg->webhook_max_per_endpoint,
		 signpool_threads(w.pool));
	w.health = health_table_new();
	rc = webhook_loop(&w);
	log_info("stopping");
	health_table_free(w.health);
	signpool_free(w.pool);
	/* left in the pool only when the loop failed; never sent */
	while (w.nsigning > 0)
		transfer_free(w.signing[--w.nsigning]);
	free(w.signing);
	sender_free(w.snd);
	keyring_free(w.kr);
	store_close(w.st);
	daemon_pidfile_remove(pidfile);
	config_free(w.cfg);
	curl_global_cleanup();
	return rc < 0 ? 1 : 0;
}
