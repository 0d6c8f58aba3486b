/*
 * main.c - posthook-milter: start-up, the housekeeping thread (SIGUSR1
 * reload, store maintenance) and libmilter's main loop.
 *
 * libmilter owns SIGHUP, SIGTERM and SIGINT (its own signal thread stops
 * smfi_main()); SIGUSR1 is taken by sigtimedwait() in the housekeeping
 * thread, which rereads the config and the tenants' rules (those also
 * every MAINTAIN_SECONDS when they changed).  All four are blocked in every other
 * thread.
 */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "callbacks.h"
#include "config/config.h"
#include "config/daemon.h"
#include "util/log.h"
#include "mfi.h"
#include "nodelay.h"
#include "settings.h"
#include "store/store.h"
#include "util/util.h"

#define PROGNAME "posthook-milter"
#define MAINTAIN_SECONDS 5
#define STORE_OPEN_TRIES 20 /* half a second apart */

static const char usage[] = PROGNAME " [-fv] [-c FILE] [--check]";

/* load_settings - config and prepared settings; NULL after logging why. */
static struct milter_settings *
load_settings(const struct daemon_args *args)
{
	struct daemon_args quiet = *args;
	struct config *cfg;
	struct milter_settings *set;
	char err[256];

	quiet.check = 0; /* check the settings too, below */
	if ((cfg = daemon_config_load(&quiet)) == NULL)
		return NULL;
	if ((set = settings_new(cfg, err, sizeof(err))) == NULL) {
		log_error("%s: %s", args->config_path, err);
		return NULL;
	}
	return set;
}

/* prepare_socket_dir - create the directory of a unix: socket. */
static int
prepare_socket_dir(const struct config *cfg)
{
	const char *spec = cfg->milter_socket;
	char *path, *slash;
	struct passwd *pw;
	struct group *gr;
	int rc = 0;

	if (strncmp(spec, "unix:", 5) == 0)
		spec += 5;
	else if (strncmp(spec, "local:", 6) == 0)
		spec += 6;
	else
		return 0;
	path = xstrdup(spec);
	if ((slash = strrchr(path, '/')) == NULL || slash == path) {
		free(path);
		return 0;
	}
	*slash = 0;
	if (mkdir(path, 0750) < 0 && errno != EEXIST) {
		log_error("cannot create %s: %m", path);
		rc = -1;
	} else if (geteuid() == 0) {
		/* Postfix reaches the socket through the group: see the man page. */
		if ((pw = getpwnam(cfg->user)) == NULL
		    || (gr = getgrnam(cfg->group)) == NULL
		    || chown(path, pw->pw_uid, gr->gr_gid) < 0) {
			log_error("cannot give %s to %s:%s", path, cfg->user, cfg->group);
			rc = -1;
		}
	}
	free(path);
	return rc;
}

struct housekeeping {
	struct milter_app *app;
	const struct daemon_args *args;
	int stop; /* atomic: end the thread */
};

/* reload - reread the config; keep the old settings when it is bad. */
static void
reload(struct housekeeping *hk)
{
	struct milter_settings *set = load_settings(hk->args), *old;

	if (set == NULL) {
		log_error("reload failed: keeping the running configuration");
		return;
	}
	old = milter_app_settings(hk->app);
	if (strcmp(old->cfg->milter_socket, set->cfg->milter_socket) != 0
	    || strcmp(old->cfg->state_dir, set->cfg->state_dir) != 0)
		log_warn("milter_socket and state_dir change only on restart");
	settings_release(old);
	if (hk->app->store != NULL)
		store_set_lock_timeout(hk->app->store, set->cfg->milter_store_timeout_ms);
	milter_app_swap_settings(hk->app, set);
	log_info("configuration reloaded");
}

/* housekeeping_main - SIGUSR1 reloads; every few seconds, maintain. */
static void *
housekeeping_main(void *arg)
{
	struct housekeeping *hk = arg;
	struct timespec tick = { MAINTAIN_SECONDS, 0 };
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	while (!__atomic_load_n(&hk->stop, __ATOMIC_ACQUIRE)) {
		sig = sigtimedwait(&set, NULL, &tick);
		if (__atomic_load_n(&hk->stop, __ATOMIC_ACQUIRE))
			break;
		if (sig == SIGUSR1)
			reload(hk);
		else if (sig < 0 && errno != EAGAIN && errno != EINTR)
			log_error("sigtimedwait: %m");
		if (hk->app->store != NULL)
			(void) tenant_cache_refresh(hk->app->tenants, hk->app->store,
						    sig == SIGUSR1);
		if (hk->app->store != NULL && store_maintain(hk->app->store) != STORE_OK)
			log_warn("store maintenance failed");
	}
	return NULL;
}

/*
 * block_signals - before any thread (the store's too) exists, block the
 * signals that libmilter's signal thread and ours take with sigwait():
 * a thread that left them unblocked would die of them instead.
 */
static void
block_signals(void)
{
	sigset_t set;
	int err;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if ((err = pthread_sigmask(SIG_BLOCK, &set, NULL)) != 0)
		log_fatal("pthread_sigmask: %s", strerror(err));
}

int
main(int argc, char **argv)
{
	struct daemon_args args;
	struct milter_app app;
	struct housekeeping hk;
	struct config *cfg;
	pthread_t thread;
	char *pidfile;
	int err, rc, tries;

	daemon_args_parse(argc, argv, &args, usage, NULL, NULL, NULL);
	log_open(PROGNAME, args.foreground || args.check ? LOG_TO_STDERR : LOG_TO_SYSLOG);
	log_set_verbose(args.verbose);
	block_signals();
	if (args.optind < argc) {
		fprintf(stderr, "usage: %s\n", usage);
		return 1;
	}
	memset(&app, 0, sizeof(app));
	if ((app.settings = load_settings(&args)) == NULL)
		return 1;
	cfg = app.settings->cfg;
	if (args.check) {
		log_info("%s: configuration is valid", args.config_path);
		settings_release(app.settings);
		return 0;
	}
	if (pthread_mutex_init(&app.lock, NULL) != 0)
		log_fatal("pthread_mutex_init failed");
	app.mfi = &mfi_libmilter;
	callbacks_init(&app);

	if (smfi_setconn(cfg->milter_socket) != MI_SUCCESS)
		log_fatal("bad milter_socket \"%s\"", cfg->milter_socket);
	if (smfi_register(*callbacks_desc()) != MI_SUCCESS)
		log_fatal("smfi_register failed");
	if (prepare_socket_dir(cfg) < 0 || daemon_prepare_state_dir(cfg) < 0)
		return 1;
	if (!args.foreground)
		daemon_detach();
	pidfile = NULL;
	if (cfg->pid_dir != NULL && cfg->pid_dir[0] != 0
	    && (pidfile = daemon_pidfile_write(cfg->pid_dir, PROGNAME)) == NULL)
		return 1;
	umask(007);
	if (daemon_drop_privileges(cfg) < 0)
		return 1;
	if (smfi_opensocket(1) != MI_SUCCESS)
		log_fatal("cannot listen on %s", cfg->milter_socket);
	if (nodelay_listeners() < 0)
		log_warn("cannot list open files to set TCP_NODELAY: %m");
	/* Right after a crash another opener may be recovering: wait. */
	for (tries = 0; (app.store = store_open(cfg->state_dir, 0)) == NULL; tries++) {
		if (tries == STORE_OPEN_TRIES)
			log_fatal("cannot open the store in %s", cfg->state_dir);
		usleep(500 * 1000);
	}
	store_set_lock_timeout(app.store, cfg->milter_store_timeout_ms);
	app.tenants = tenant_cache_new();
	(void) tenant_cache_refresh(app.tenants, app.store, 1);

	hk.app = &app;
	hk.args = &args;
	hk.stop = 0;
	if ((err = pthread_create(&thread, NULL, housekeeping_main, &hk)) != 0)
		log_fatal("pthread_create: %s", strerror(err));

	log_info("listening on %s", cfg->milter_socket);
	rc = smfi_main();
	log_info("stopping");

	/* Wake the housekeeping thread with the signal it waits for. */
	__atomic_store_n(&hk.stop, 1, __ATOMIC_RELEASE);
	if ((err = pthread_kill(thread, SIGUSR1)) != 0
	    || (err = pthread_join(thread, NULL)) != 0)
		log_error("stopping the housekeeping thread: %s", strerror(err));
	store_close(app.store);
	tenant_cache_free(app.tenants);
	daemon_pidfile_remove(pidfile);
	settings_release(app.settings);
	pthread_mutex_destroy(&app.lock);
	return rc == MI_SUCCESS ? 0 : 1;
}
