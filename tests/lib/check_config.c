/*
 * check_config.c - posthook.conf parsing: defaults, every value type, and
 * every kind of bad line, each named by file, line and key.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"

#include "testlib.h"

static char conf_path[] = "/tmp/check_config.XXXXXX";

/* write_conf - put text in a temporary file */
static const char *
write_conf(const char *text)
{
	int fd;
	FILE *fp;

	strcpy(conf_path, "/tmp/check_config.XXXXXX");
	fd = mkstemp(conf_path);
	ck_assert_int_ge(fd, 0);
	fp = fdopen(fd, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
	return conf_path;
}

/* load_error - load text and return the error message ("" on success) */
static const char *
load_error(const char *text)
{
	static char err[1024];
	struct config *cfg = config_new();
	int status;

	err[0] = '\0';
	status = config_load(cfg, write_conf(text), 1, err, sizeof(err));
	unlink(conf_path);
	config_free(cfg);
	if (status == 0)
		ck_assert_str_eq(err, "");
	else
		ck_assert_str_ne(err, "");
	return err;
}

START_TEST(defaults_are_the_fixed_ones)
{
	struct config *cfg = config_new();

	ck_assert_str_eq(cfg->state_dir, "/var/lib/posthook");
	ck_assert_str_eq(cfg->milter_socket,
			 "unix:/var/spool/postfix/posthook/milter.sock");
	ck_assert_int_eq(cfg->log_source, LOG_SOURCE_FILE);
	ck_assert_str_eq(cfg->log_file, "/var/log/mail.log");
	ck_assert_str_eq(cfg->signing_key, "/var/lib/posthook/signing.key");
	ck_assert_int_eq(cfg->retry_count, 6);
	ck_assert_int_eq(cfg->retry_schedule_ms[0], 0);
	ck_assert_int_eq(cfg->retry_schedule_ms[1], 120000);
	ck_assert_int_eq(cfg->retry_schedule_ms[2], 180000);
	ck_assert_int_eq(cfg->retry_schedule_ms[3], 360000);
	ck_assert_int_eq(cfg->retry_schedule_ms[4], 600000);
	ck_assert_int_eq(cfg->retry_schedule_ms[5], 900000);
	ck_assert_str_eq(cfg->user, "posthook");
	ck_assert_str_eq(cfg->group, "posthook");
	ck_assert_int_eq(cfg->message_retention_ms, 30LL * 86400 * 1000);
	ck_assert_int_eq(cfg->delivery_retention_ms, 10LL * 86400 * 1000);
	ck_assert_int_eq(cfg->milter_store_timeout_ms, 200);
	ck_assert_int_eq(cfg->webhook_timeout_ms, 5000);
	ck_assert_str_eq(cfg->internal_hosts[0], "127.0.0.0/8");
	ck_assert_str_eq(cfg->internal_hosts[1], "::1");
	ck_assert_ptr_null(cfg->internal_hosts[2]);
	ck_assert_ptr_null(cfg->hop_relays[0]);
	config_free(cfg);
}
END_TEST

START_TEST(good_file_sets_every_type)
{
	struct config *cfg = config_new();
	char err[512];
	const char *path =
	    write_conf("# a comment\n"
		       "\n"
		       "   state_dir   =   /srv/posthook   \n"
		       "log_source = journal\n"
		       "webhook_max_in_flight = 12\n"
		       "refuse_private_endpoints = yes\n"
		       "webhook_timeout = 250ms\n"
		       "internal_hosts = 10.0.0.0/8,192.168.1.0/24  fd00::/8\n"
		       "retry_schedule = 0 1s 2s\n"
		       "report = all\n"
		       "header_prefix = X-Postal\n"
		       "jwks_file =\n");

	ck_assert_int_eq(config_load(cfg, path, 1, err, sizeof(err)), 0);
	unlink(conf_path);
	ck_assert_str_eq(cfg->state_dir, "/srv/posthook");
	ck_assert_int_eq(cfg->log_source, LOG_SOURCE_JOURNAL);
	ck_assert_int_eq(cfg->webhook_max_in_flight, 12);
	ck_assert_int_eq(cfg->refuse_private_endpoints, 1);
	ck_assert_int_eq(cfg->webhook_timeout_ms, 250);
	ck_assert_str_eq(cfg->internal_hosts[0], "10.0.0.0/8");
	ck_assert_str_eq(cfg->internal_hosts[1], "192.168.1.0/24");
	ck_assert_str_eq(cfg->internal_hosts[2], "fd00::/8");
	ck_assert_ptr_null(cfg->internal_hosts[3]);
	ck_assert_int_eq(cfg->retry_count, 3);
	ck_assert_int_eq(cfg->retry_schedule_ms[2], 2000);
	ck_assert_int_eq(cfg->report, REPORT_ALL);
	ck_assert_str_eq(cfg->header_prefix, "X-Postal");
	ck_assert_str_eq(cfg->jwks_file, "");
	ck_assert_str_eq(cfg->path, path);
	config_free(cfg);
}
END_TEST

/* Each bad line names the file, the line number and the key. */
static const struct {
	const char *text;
	const char *expect;
} bad_cases[] = {
	{ "state_dir = /x\nno_such_key = 1\n", ", line 2: no_such_key: unknown key" },
	{ "webhook_max_in_flight = many\n",
	  ", line 1: webhook_max_in_flight: \"many\" is not a positive integer" },
	{ "webhook_max_in_flight = 0\n",
	  ", line 1: webhook_max_in_flight: \"0\" is not a positive integer" },
	{ "webhook_max_in_flight = 99999999999\n", ", line 1: webhook_max_in_flight:" },
	{ "refuse_private_endpoints = maybe\n",
	  ", line 1: refuse_private_endpoints: \"maybe\" is not yes or no" },
	{ "\n\nwebhook_timeout = 5 parsecs\n",
	  ", line 3: webhook_timeout: \"5 parsecs\" is not a duration" },
	{ "webhook_timeout = -1s\n", ", line 1: webhook_timeout:" },
	{ "log_source = carrier-pigeon\n",
	  ", line 1: log_source: \"carrier-pigeon\" is not one of" },
	{ "state_dir = relative/dir\n",
	  ", line 1: state_dir: \"relative/dir\" is not an absolute path" },
	{ "retry_schedule = 0 2m soon\n",
	  ", line 1: retry_schedule: bad delay \"soon\"" },
	{ "retry_schedule =\n",
	  ", line 1: retry_schedule: at least one attempt is needed" },
	{ "retry_schedule = 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n",
	  ", line 1: retry_schedule: more than 16 attempts" },
	{ "# ok\nstate_dir /var/lib/x\n", ", line 2: expected \"key = value\"" },
	{ "internal_hosts = 10.0.0.0/8, 300.1.2.3/8\n", ", line 1: internal_hosts: " },
	{ "internal_hosts = ::1/129\n", ", line 1: internal_hosts: " },
};

START_TEST(bad_line_is_named)
{
	const char *err = load_error(bad_cases[_i].text);

	ck_assert_msg(strstr(err, bad_cases[_i].expect) != NULL,
		      "error \"%s\" lacks \"%s\"", err, bad_cases[_i].expect);
	ck_assert_msg(strncmp(err, "/tmp/check_config.", 18) == 0,
		      "error \"%s\" does not name the file", err);
}
END_TEST

START_TEST(missing_file)
{
	struct config *cfg = config_new();
	char err[512];

	ck_assert_int_eq(
	    config_load(cfg, "/nonexistent/posthook.conf", 0, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg->state_dir, "/var/lib/posthook");
	ck_assert_int_eq(
	    config_load(cfg, "/nonexistent/posthook.conf", 1, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/posthook.conf: cannot open"));
	config_free(cfg);
}
END_TEST

START_TEST(format_round_trips)
{
	struct config *cfg = config_new();
	struct config *again = config_new();
	const struct config_key *k;
	char err[512];

	for (k = config_keys; k->name != NULL; k++) {
		char *v = config_format_value(cfg, k);

		ck_assert_str_eq(v, k->def);
		ck_assert_int_eq(config_set(again, k->name, v, err, sizeof(err)), 0);
		free(v);
	}
	config_free(cfg);
	config_free(again);
}
END_TEST

START_TEST(every_key_is_described)
{
	const struct config_key *k;

	for (k = config_keys; k->name != NULL; k++) {
		ck_assert_ptr_nonnull(k->def);
		ck_assert_msg(k->description != NULL && strlen(k->description) > 10,
			      "%s has no description", k->name);
		ck_assert_ptr_eq(config_key_find(k->name), k);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, defaults_are_the_fixed_ones);
	tcase_add_test(tc, good_file_sets_every_type);
	tcase_add_loop_test(tc, bad_line_is_named, 0,
			    (int) (sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, format_round_trips);
	tcase_add_test(tc, every_key_is_described);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
