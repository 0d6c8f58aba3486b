/*
 * fuzz_config.c - libFuzzer harness for the config parser: the input is
 * a whole posthook.conf, read through config_load() as a daemon reads it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct config *cfg;
	char err[1024];
	FILE *fp;

	if (path[0] == '\0') {
		log_open("fuzz_config", LOG_TO_SYSLOG);
		snprintf(path, sizeof(path), "/tmp/fuzz_config.%ld", (long) getpid());
	}
	fp = fopen(path, "w");
	if (fp == NULL)
		abort();
	fwrite(data, 1, size, fp);
	fclose(fp);
	cfg = config_new();
	if (config_load(cfg, path, 1, err, sizeof(err)) < 0 && err[0] == '\0')
		abort(); /* every error must say what is wrong */
	config_free(cfg);
	return 0;
}
