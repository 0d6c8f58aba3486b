/*
 * main.c - posthook-api: Ark's HTTP API over the state store (webhooks,
 * their delivery history, the message history, events), per tenant,
 * behind API keys.  See server.c for HTTP, dispatch.c for the routes.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "config/config.h"
#include "config/daemon.h"
#include "index.h"
#include "ratelimit.h"
#include "server.h"
#include "sign/sign.h"
#include "store/store.h"
#include "track.h"
#include "util/log.h"
#include "util/util.h"

#define USAGE "posthook-api [-f] [-v] [-c FILE] [--check]"

/* check_settings - the API's keys; -1 (logged) when off. */
static int
check_settings(const struct config *cfg)
{
	char err[512];

	if (server_check_listen(cfg->api_listen, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return -1;
	}
	if ((cfg->api_tls_cert[0] == 0) != (cfg->api_tls_key[0] == 0)) {
		log_error("api_tls_cert and api_tls_key go together");
		return -1;
	}
	if (cfg->track_listen[0] != NULL
	    && server_check_listen(cfg->track_listen, err, sizeof(err)) < 0) {
		log_error("track_listen: %s", err);
		return -1;
	}
	if (cfg->api_connection_timeout_ms < 1000) {
		log_error("api_connection_timeout must be at least 1s");
		return -1;
	}
	return 0;
}

/* reload - read the configuration again: limits, metrics key, TLS files,
 * the tracking server's settings (not its addresses). */
static void
reload(struct api *a, struct server *srv, const struct daemon_args *args)
{
	struct daemon_args quiet = *args;
	struct config *cfg;

	quiet.check = 0;
	log_info("reloading %s", args->config_path);
	if ((cfg = daemon_config_load(&quiet)) == NULL || check_settings(cfg) < 0) {
		config_free(cfg);
		log_error("reload: configuration not changed");
		return;
	}
	ratelimit_set(a->rl, cfg->api_rate_limit, cfg->api_rate_burst);
	/* what the request threads read lives on: swap only the simple values */
	a->cfg->api_rate_limit = cfg->api_rate_limit;
	a->cfg->api_rate_burst = cfg->api_rate_burst;
	a->cfg->api_max_body = cfg->api_max_body;
	if (a->track != NULL && track_reload(a->track, cfg) < 0)
		log_error("reload: tracking settings not changed");
	if (server_reload(srv, cfg->api_tls_cert, cfg->api_tls_key) == 0)
		log_info("reloaded%s",
			 cfg->api_tls_cert[0] ? " with the TLS certificate" : "");
	config_free(cfg);
}

int
main(int argc, char **argv)
{
	struct daemon_args args, load;
	struct daemon_signals *sig;
	struct server *srv, *tsrv = NULL;
	struct api a;
	struct pollfd pfd;
	char *pidfile = NULL;
	char err[1024];
	int rc = 0;

	daemon_args_parse(argc, argv, &args, USAGE, NULL, NULL, NULL);
	log_open("posthook-api",
		 args.foreground || args.check ? LOG_TO_STDERR : LOG_TO_SYSLOG);
	log_set_verbose(args.verbose);
	load = args;
	load.check = 0;
	memset(&a, 0, sizeof(a));
	if ((a.cfg = daemon_config_load(&load)) == NULL)
		return 1;
	if (check_settings(a.cfg) < 0) {
		config_free(a.cfg);
		return 1;
	}
	if (args.check) {
		log_info("%s: configuration is valid", args.config_path);
		config_free(a.cfg);
		return 0;
	}
	if (daemon_prepare_state_dir(a.cfg) < 0)
		return 1;
	srv = server_new(&a);
	/* as root: privileged ports and the TLS key */
	if (server_bind(srv, a.cfg->api_listen) < 0
	    || server_load_tls(srv, a.cfg->api_tls_cert, a.cfg->api_tls_key) < 0)
		return 1;
	if (a.cfg->track_listen[0] != NULL) {
		/* plain HTTP: the tracking host's TLS is the reverse proxy's */
		tsrv = server_new_with(&a, track_dispatch, "track_listen");
		if (server_bind(tsrv, a.cfg->track_listen) < 0
		    || (a.track = track_new(a.cfg)) == NULL)
			return 1;
	}
	if (!args.foreground)
		daemon_detach();
	sig = daemon_signals_init(SIGHUP);
	if (a.cfg->pid_dir != NULL && a.cfg->pid_dir[0] != 0
	    && (pidfile = daemon_pidfile_write(a.cfg->pid_dir, "posthook-api")) == NULL)
		return 1;
	if (daemon_drop_privileges(a.cfg) < 0)
		return 1;
	if ((a.st = store_open(a.cfg->state_dir, 0)) == NULL)
		return 1;
	store_set_lock_timeout(a.st, a.cfg->store_lock_timeout_ms);
	if ((a.kr = keyring_open(a.cfg, a.st, err, sizeof(err))) == NULL)
		log_warn("signing keys: %s; /.well-known/jwks.json answers 503", err);
	pthread_mutex_init(&a.kr_lock, NULL);
	a.rl = ratelimit_new(a.cfg->api_rate_limit, a.cfg->api_rate_burst);
	a.ix = index_new();
	a.started = now_seconds();
	if (a.rl == NULL || a.ix == NULL || server_start(srv) < 0
	    || (tsrv != NULL && server_start(tsrv) < 0))
		return 1;
	log_info("started: listening on %s%s", a.cfg->api_listen[0],
		 a.cfg->api_tls_cert[0] ? " (TLS)" : "");
	if (tsrv != NULL)
		log_info("tracking on %s", a.cfg->track_listen[0]);
	pfd.fd = sig->wake_fd;
	pfd.events = POLLIN;
	while (!sig->stop) {
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			rc = 1;
			break;
		}
		daemon_signals_drain(sig);
		if (sig->reload && !sig->stop) {
			sig->reload = 0;
			reload(&a, srv, &args);
		}
	}
	log_info("stopping");
	server_free(srv);
	server_free(tsrv);
	track_free(a.track);
	ratelimit_free(a.rl);
	index_free(a.ix);
	keyring_free(a.kr);
	pthread_mutex_destroy(&a.kr_lock);
	store_close(a.st);
	daemon_pidfile_remove(pidfile);
	config_free(a.cfg);
	return rc;
}
