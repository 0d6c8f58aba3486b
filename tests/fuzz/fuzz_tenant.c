/*
 * fuzz_tenant.c - libFuzzer harness for the tenant rules: the input's
 * lines are rule values (the first byte of each picks its kind), claimed by
 * tenants in turn, then the facts of one message.  A normalised value must
 * normalise to itself, and a match must name a tenant that claimed a value.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tenant/tenant_rules.h"

#define LINES 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tenant_matcher *m = tenant_matcher_new();
	static const char *const names[] = { "t0", "t1", "t2" };
	char *text = malloc(size + 1), *line[LINES], *save = NULL, *p;
	char norm[300], again[300], err[300];
	struct tenant_facts f;
	const char *who;
	int n = 0, i;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (p = strtok_r(text, "\n", &save); p != NULL && n < LINES;
	     p = strtok_r(NULL, "\n", &save))
		line[n++] = p;
	for (i = 0; i + 4 < n; i++) {
		unsigned char pick = (unsigned char) line[i][0];
		enum tenant_rule_kind kind = pick % TENANT_RULE_KINDS;
		const char *value = line[i] + 1;
		int bad, bad_again;

		err[0] = 0;
		bad = tenant_rule_normalize(kind, value, norm, sizeof(norm), err,
					    sizeof(err));
		if (bad && err[0] == 0)
			abort();
		if (!bad) {
			bad_again = tenant_rule_normalize(
			    kind, norm, again, sizeof(again), err, sizeof(err));
			if (bad_again || strcmp(norm, again) != 0)
				abort();
		}
		(void) tenant_matcher_add(m, names[i % 3], kind, value, err, sizeof(err));
	}
	memset(&f, 0, sizeof(f));
	if (n >= 4) {
		f.sasl_username = line[n - 4];
		f.client_addr = line[n - 3];
		f.daemon_name = line[n - 2];
		f.sender = line[n - 1];
	}
	who = tenant_match(m, &f);
	if (strcmp(who, TENANT_DEFAULT) != 0 && strcmp(who, "t0") != 0
	    && strcmp(who, "t1") != 0 && strcmp(who, "t2") != 0)
		abort();
	if (tenant_matcher_rules(m) == 0 && strcmp(who, TENANT_DEFAULT) != 0)
		abort();
	tenant_matcher_free(m);
	free(text);
	return 0;
}
