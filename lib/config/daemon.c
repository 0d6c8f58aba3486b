/*
 * daemon.c - command line, pid file, detaching, privilege drop and
 * signals: what every posthook daemon does the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/daemon.h"
#include "util/log.h"
#include "util/util.h"

enum { OPT_CHECK = 1000 };

/* The options every daemon takes, one a line, after its own in --help. */
static const char common_help[] =
    "  -c, --config FILE  read FILE, not " PH_DEFAULT_CONFIG "\n"
    "  -f, --foreground   stay in the foreground and log to stderr\n"
    "  -v, --verbose      log more; twice for debugging\n"
    "      --check        check the configuration, exit 0 when valid, 1 if not\n"
    "  -V, --version      print the version and exit\n"
    "  -h, --help         print this help and exit\n";

/* print_usage - the usage (synopsis and own options), then the common ones */
static void
print_usage(FILE *fp, const char *usage)
{
	fprintf(fp, "usage: %s\n%s", usage, common_help);
}

/* print_version - "NAME VERSION", the name being the usage's first word */
static void
print_version(const char *usage)
{
	printf("%.*s %s\n", (int) strcspn(usage, " \n"), usage, PACKAGE_VERSION);
}

/* daemon_args_parse - -c FILE, -f, -v, --check, -V, -h, and the extras */
void
daemon_args_parse(int argc, char **argv, struct daemon_args *args, const char *usage,
		  const struct option *extra,
		  int (*handler)(int opt, const char *arg, void *ctx), void *ctx)
{
	static const struct option common[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
	};
	size_t ncommon = sizeof(common) / sizeof(common[0]);
	size_t nextra = 0;
	struct option *opts;
	int opt;

	while (extra != NULL && extra[nextra].name != NULL)
		nextra++;
	opts = xcalloc(ncommon + nextra + 1, sizeof(*opts));
	memcpy(opts, common, sizeof(common));
	if (nextra > 0)
		memcpy(opts + ncommon, extra, nextra * sizeof(*opts));

	memset(args, 0, sizeof(*args));
	args->config_path = PH_DEFAULT_CONFIG;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:fvVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			args->config_path = optarg;
			args->config_given = 1;
			break;
		case 'f':
			args->foreground = 1;
			break;
		case 'v':
			args->verbose++;
			break;
		case OPT_CHECK:
			args->check = 1;
			break;
		case 'V':
			print_version(usage);
			free(opts);
			exit(0);
		case 'h':
			print_usage(stdout, usage);
			free(opts);
			exit(0);
		default:
			if (handler != NULL && opt != '?'
			    && handler(opt, optarg, ctx) == 0)
				break;
			print_usage(stderr, usage);
			free(opts);
			exit(1);
		}
	}
	args->optind = optind;
	free(opts);
}

/*
 * daemon_config_load - the config the arguments name; --check ends here.
 * The file must exist, the default one too: a daemon running on defaults
 * because its file is missing would hide a broken install.
 */
struct config *
daemon_config_load(const struct daemon_args *args)
{
	struct config *cfg = config_new();
	char err[1024];

	if (config_load(cfg, args->config_path, 1, err, sizeof(err)) < 0) {
		log_error("%s", err);
		config_free(cfg);
		if (args->check)
			exit(1);
		return NULL;
	}
	if (args->check) {
		log_info("%s: configuration is valid", args->config_path);
		config_free(cfg);
		exit(0);
	}
	return cfg;
}

/* daemon_detach - become a background process with no terminal */
void
daemon_detach(void)
{
	pid_t pid;
	int fd;

	pid = fork();
	if (pid < 0)
		log_fatal("fork: %m");
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		log_fatal("setsid: %m");
	if (chdir("/") < 0)
		log_fatal("chdir /: %m");
	fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		log_fatal("open /dev/null: %m");
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

/* daemon_pidfile_write - write our pid to pid_dir/name.pid */
char *
daemon_pidfile_write(const char *pid_dir, const char *name)
{
	char *path = xasprintf("%s/%s.pid", pid_dir, name);
	char *tmp = xasprintf("%s.tmp", path);
	FILE *fp;

	if (mkdir(pid_dir, 0755) < 0 && errno != EEXIST) {
		log_error("cannot create %s: %m", pid_dir);
		goto fail;
	}
	fp = fopen(tmp, "w");
	if (fp == NULL) {
		log_error("cannot write %s: %m", tmp);
		goto fail;
	}
	fprintf(fp, "%ld\n", (long) getpid());
	if (fclose(fp) != 0 || rename(tmp, path) < 0) {
		log_error("cannot write %s: %m", path);
		unlink(tmp);
		goto fail;
	}
	free(tmp);
	return path;
fail:
	free(tmp);
	free(path);
	return NULL;
}

/* daemon_pidfile_remove - remove and free the pid file path */
void
daemon_pidfile_remove(char *path)
{
	if (path == NULL)
		return;
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("cannot remove %s: %m", path);
	free(path);
}

/* lookup_ids - the uid and gid of the configured user and group */
static int
lookup_ids(const struct config *cfg, uid_t *uid, gid_t *gid)
{
	struct passwd *pw = getpwnam(cfg->user);
	struct group *gr = getgrnam(cfg->group);

	if (pw == NULL) {
		log_error("user \"%s\" does not exist (create it, or set user =)",
			  cfg->user);
		return -1;
	}
	if (gr == NULL) {
		log_error("group \"%s\" does not exist (create it, or set group =)",
			  cfg->group);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = gr->gr_gid;
	return 0;
}

/* give_dir - create dir with mode, owned by the daemon user when root */
static int
give_dir(const struct config *cfg, const char *dir, mode_t mode)
{
	uid_t uid;
	gid_t gid;

	if (mkdir(dir, mode) < 0 && errno != EEXIST) {
		log_error("cannot create %s: %m", dir);
		return -1;
	}
	if (geteuid() != 0)
		return 0;
	if (lookup_ids(cfg, &uid, &gid) < 0)
		return -1;
	if (chown(dir, uid, gid) < 0 || chmod(dir, mode) < 0) {
		log_error("cannot give %s to %s: %m", dir, cfg->user);
		return -1;
	}
	return 0;
}

/*
 * key_dir - the signing key's directory, when missing: the user's, as the
 * key is written after privileges are dropped.  An existing one (such as
 * /etc/posthook) is the admin's and stays as it is.
 */
static int
key_dir(const struct config *cfg)
{
	struct stat st;
	char *dir;
	int rc = 0;

	if (cfg->signing_key == NULL || cfg->signing_key[0] == 0)
		return 0;
	dir = path_dir(cfg->signing_key);
	if (stat(dir, &st) < 0 && errno == ENOENT)
		rc = give_dir(cfg, dir, 0700);
	free(dir);
	return rc;
}

/* daemon_prepare_state_dir - state_dir, pid_dir and the key's directory */
int
daemon_prepare_state_dir(const struct config *cfg)
{
	/*
	 * Private to the daemons' user: the store holds endpoint secrets,
	 * and Postfix shares the posthook group to reach the milter socket.
	 */
	if (give_dir(cfg, cfg->state_dir, 0700) < 0)
		return -1;
	/*
	 * The daemon writes its pid file as root but removes it on a clean
	 * stop as the user: the directory must be the user's.
	 */
	if (cfg->pid_dir != NULL && cfg->pid_dir[0] != 0
	    && give_dir(cfg, cfg->pid_dir, 0755) < 0)
		return -1;
	return key_dir(cfg);
}

/* daemon_drop_privileges - as root, become user and group for good */
int
daemon_drop_privileges(const struct config *cfg)
{
	uid_t uid;
	gid_t gid;

	if (geteuid() != 0)
		return 0;
	if (lookup_ids(cfg, &uid, &gid) < 0)
		return -1;
	/* initgroups keeps the user's other groups, such as adm for the log */
	if (initgroups(cfg->user, gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		log_error("cannot become %s:%s: %m", cfg->user, cfg->group);
		return -1;
	}
	if (uid != 0 && setuid(0) == 0) {
		log_error("privileges were not dropped for good");
		return -1;
	}
	return 0;
}

/* One set of flags per process, as there is one signal disposition. */
static struct daemon_signals signals_state = { 0, 0, -1 };
static int signals_pipe[2] = { -1, -1 };
static int signals_reload;

/* on_signal - set the flag and wake the main loop */
static void
on_signal(int sig)
{
	int saved = errno;
	char c = 0;

	if (sig == signals_reload)
		signals_state.reload = 1;
	else
		signals_state.stop = 1;
	if (write(signals_pipe[1], &c, 1) < 0) {
		/* the pipe is full: the loop will wake anyway */
	}
	errno = saved;
}

/* daemon_signals_init - install the handlers */
struct daemon_signals *
daemon_signals_init(int reload_sig)
{
	struct sigaction sa;

	if (signals_pipe[0] < 0 && pipe2(signals_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		log_fatal("pipe: %m");
	signals_reload = reload_sig;
	signals_state.wake_fd = signals_pipe[0];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (reload_sig != 0)
		sigaction(reload_sig, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return &signals_state;
}

/* daemon_signals_drain - empty the wake-up pipe */
void
daemon_signals_drain(struct daemon_signals *sig)
{
	char buf[64];

	while (read(sig->wake_fd, buf, sizeof(buf)) > 0)
		;
}
