/*
 * cmd_classify.c - "posthookctl classify": the bounce classifier on the
 * command line.
 *
 * Reads one case per line from standard input, either TEXT or
 * X.Y.Z<TAB>TEXT (Postfix's dsn= value, then the text of the status line's
 * parentheses, or a bare SMTP reply), and prints exactly one JSON object
 * per input line, in order:
 * {"classification","classification_code","smtp_code","smtp_enhanced_code",
 *  "remote_host","dsn"}.  smtp_enhanced_code is the reply's own code, null
 * when it has none, as the webhook reports it (logtail/correlate.c); dsn
 * is the X.Y.Z given, which the classifier reads when the reply has no
 * code.  An empty line gives all nulls; a success (2XX, 2.X.X) has a null
 * classification and code.  --without PROVIDER leaves that provider's
 * built-in rules out (for measurement).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify.h"
#include "ctl.h"

/* dsn_prefix_len - length of "X.Y.Z\t" at the start of line, or 0. */
static size_t
dsn_prefix_len(const char *line)
{
	size_t i = 0, field, n;

	if (line[0] < '2' || line[0] > '5' || line[1] != '.')
		return (0);
	i = 2;
	for (field = 0; field < 2; field++) {
		for (n = 0; isdigit((unsigned char) line[i + n]); n++)
			;
		if (n == 0 || n > 3)
			return (0);
		i += n;
		if (line[i] != (field == 0 ? '.' : '\t'))
			return (0);
		i++;
	}
	return (i);
}

/* string_or_null - a JSON string, or null for "". */
static json_object *
string_or_null(const char *s)
{
	return (*s ? json_object_new_string(s) : NULL);
}

/* classify_line - the JSON object for one input line (no newline). */
static json_object *
classify_line(char *line)
{
	struct classify_result res;
	json_object *obj;
	char dsn[16] = "";
	const char *text = line;
	size_t plen;
	const char *name;

	plen = dsn_prefix_len(line);
	if (plen != 0 && plen <= sizeof(dsn)) {
		memcpy(dsn, line, plen - 1);
		dsn[plen - 1] = 0;
		text = line + plen;
	}
	classify(dsn, text, &res);

	obj = json_object_new_object();
	name = classification_name(res.classification);
	json_object_object_add(obj, "classification",
			       name ? json_object_new_string(name) : NULL);
	json_object_object_add(obj, "classification_code",
			       res.classification != CLASS_NONE
				   ? json_object_new_int((int) res.classification)
				   : NULL);
	json_object_object_add(obj, "smtp_code",
			       res.smtp_code ? json_object_new_int(res.smtp_code) : NULL);
	/* Both are ASCII by construction (classify.c checks remote_host). */
	json_object_object_add(
	    obj, "smtp_enhanced_code",
	    string_or_null(res.enhanced_from_text ? res.smtp_enhanced_code : ""));
	json_object_object_add(obj, "remote_host", string_or_null(res.remote_host));
	json_object_object_add(obj, "dsn", string_or_null(dsn));
	return (obj);
}

/* The usage, also for "posthookctl classify --help" (commands.c). */
const char cmd_classify_usage[] =
    "usage: posthookctl classify [--without PROVIDER]... < CASES\n"
    "  each line of CASES is TEXT or X.Y.Z<TAB>TEXT (a bounce reply)";

/* cmd_classify - classify each line of standard input */
int
cmd_classify(struct ctl *ctl, int argc, char **argv)
{
	json_object *obj;
	char *line = NULL, err[1024];
	size_t cap = 0, i;
	ssize_t len;

	if (classify_local_load(ctl_config(ctl)->classify_rules_file, err, sizeof(err))
	    < 0)
		return (ctl_error("%s", err));
	/* --without PROVIDER: bench/classify_measure.py's grouped figure. */
	for (i = 1; i + 1 < (size_t) argc && strcmp(argv[i], "--without") == 0; i += 2)
		if (classify_without_provider(argv[i + 1]) != 0)
			return (ctl_error("classify: no provider rules named %s",
					  argv[i + 1]));
	if (i < (size_t) argc)
		return (ctl_usage_error("%s", cmd_classify_usage));
	while ((len = getline(&line, &cap, stdin)) >= 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		/* A NUL byte would end the text early: read it as a space. */
		for (i = 0; i < (size_t) len; i++)
			if (line[i] == 0)
				line[i] = ' ';
		obj = classify_line(line);
		ctl_print_json_line(obj);
		json_object_put(obj);
	}
	free(line);
	if (ferror(stdin))
		return (ctl_error("reading standard input: %m"));
	if (fflush(stdout) != 0 || ferror(stdout))
		return (ctl_error("writing standard output: %m"));
	return (0);
}
