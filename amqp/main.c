/*
 * main.c - posthook-amqp: publish every event the AMQP sink subscribes to
 * to a RabbitMQ exchange, with publisher confirms, in order, at least
 * once (see sink.c for the work, publish.c for the broker).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/daemon.h"
#include "store/store.h"
#include "util/log.h"
#include "util/util.h"
#include "publish.h"
#include "sink.h"

#define USAGE "posthook-amqp [-fv] [-c FILE] [--check]"

/*
 * postfix_myhostname - what `postconf -h myhostname` says, or the
 * system's host name; caller frees.
 */
static char *
postfix_myhostname(void)
{
	char line[256];
	FILE *f;
	size_t n;

	if ((f = popen("postconf -h myhostname 2>/dev/null", "r")) != NULL) {
		if (fgets(line, sizeof(line), f) != NULL) {
			n = strcspn(line, "\r\n");
			line[n] = 0;
		} else
			line[0] = 0;
		if (pclose(f) == 0 && line[0] != 0)
			return xstrdup(line);
	}
	if (gethostname(line, sizeof(line)) == 0) {
		line[sizeof(line) - 1] = 0;
		return xstrdup(line);
	}
	return xstrdup("localhost");
}

int
main(int argc, char **argv)
{
	struct daemon_args args;
	struct sink s;
	struct config *cfg;
	char *pidfile = NULL, *host;
	char err[512];
	int rc;

	daemon_args_parse(argc, argv, &args, USAGE, NULL, NULL, NULL);
	log_open("posthook-amqp",
		 args.foreground || args.check ? LOG_TO_STDERR : LOG_TO_SYSLOG);
	log_set_verbose(args.verbose);
	cfg = daemon_config_load(&args);
	if (cfg == NULL)
		return 1;
	memset(&s, 0, sizeof(s));
	s.cfg = cfg;
	if ((s.pub = publisher_new(cfg, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		return 1;
	}
	host = cfg->amqp_host_name[0] != 0 ? xstrdup(cfg->amqp_host_name)
					   : postfix_myhostname();
	s.host_name = host;
	if (daemon_prepare_state_dir(cfg) < 0)
		return 1;
	if (!args.foreground)
		daemon_detach();
	s.sig = daemon_signals_init(SIGHUP);
	if (cfg->pid_dir != NULL && cfg->pid_dir[0] != 0
	    && (pidfile = daemon_pidfile_write(cfg->pid_dir, "posthook-amqp")) == NULL)
		return 1;
	if (daemon_drop_privileges(cfg) < 0)
		return 1;
	if ((s.st = store_open(cfg->state_dir, 0)) == NULL)
		return 1;
	store_set_lock_timeout(s.st, cfg->store_lock_timeout_ms);
	if (sink_setup(&s) < 0)
		return 1;
	log_info("started: publishing to %s as host %s, %d event(s) per confirm",
		 s.status.url, host, cfg->amqp_batch);
	rc = sink_run(&s);
	log_info("stopping");
	amqp_status_clear(&s.status);
	publisher_free(s.pub);
	store_close(s.st);
	daemon_pidfile_remove(pidfile);
	free(host);
	config_free(cfg);
	return rc < 0 ? 1 : 0;
}
