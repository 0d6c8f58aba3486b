/*
 * position.c - the log-position record in STORE_POSITIONS (see
 * position.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/position.h"
#include "util/json.h"
#include "util/util.h"

/* position_key_file - "file:" and the log file's path. */
char *
position_key_file(const char *log_file)
{
	return (xasprintf("file:%s", log_file));
}

/* position_key_journal - "journal:" and the journal's directory. */
char *
position_key_journal(const char *journal_dir)
{
	return (xasprintf("journal:%s", journal_dir ? journal_dir : ""));
}

/* position_clear - see position.h. */
void
position_clear(struct position_record *p)
{
	free(p->cursor);
	memset(p, 0, sizeof(*p));
}

/*
 * position_to_json - see position.h.  The numbers are unsigned 64-bit, so
 * that a device or inode number is written as it is, whatever its size.
 */
json_object *
position_to_json(const struct position_record *p)
{
	json_object *o = json_object_new_object();

	if (p->cursor != NULL) {
		json_object_object_add(o, "cursor", json_object_new_string(p->cursor));
		return (o);
	}
	json_object_object_add(o, "path",
			       json_object_new_string(p->old ? "old" : "current"));
	json_object_object_add(o, "dev", json_object_new_uint64(p->dev));
	json_object_object_add(o, "ino", json_object_new_uint64(p->ino));
	json_object_object_add(o, "fp", json_object_new_string(p->fp));
	json_object_object_add(o, "offset", json_object_new_uint64(p->offset));
	return (o);
}

/* position_encode - see position.h. */
char *
position_encode(const struct position_record *p)
{
	json_object *o = position_to_json(p);
	char *s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));

	json_object_put(o);
	return (s);
}

/* position_decode - see position.h. */
int
position_decode(const char *text, size_t len, struct position_record *p)
{
	char *copy = xstrndup(text, len);
	json_object *o = json_tokener_parse(copy);
	const char *s;

	free(copy);
	position_clear(p);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return (-1);
	}
	if ((s = json_string_member(o, "cursor")) != NULL)
		p->cursor = xstrdup(s);
	if ((s = json_string_member(o, "path")) != NULL)
		p->old = strcmp(s, "old") == 0;
	p->dev = json_object_get_uint64(json_member(o, "dev"));
	p->ino = json_object_get_uint64(json_member(o, "ino"));
	if ((s = json_string_member(o, "fp")) != NULL)
		snprintf(p->fp, sizeof(p->fp), "%s", s);
	p->offset = json_object_get_uint64(json_member(o, "offset"));
	json_object_put(o);
	return (0);
}

/* position_get - see position.h. */
int
position_get(struct store_txn *txn, const char *key, struct position_record *p)
{
	void *val;
	size_t vlen;
	int rc;

	position_clear(p);
	if ((rc = store_get(txn, STORE_POSITIONS, key, strlen(key), &val, &vlen))
	    != STORE_OK)
		return (rc);
	rc = position_decode(val, vlen, p) == 0 ? STORE_OK : STORE_NOTFOUND;
	free(val);
	return (rc);
}

/* position_put - see position.h. */
int
position_put(struct store_txn *txn, const char *key, const struct position_record *p)
{
	char *text = position_encode(p);
	int rc;

	rc = store_put(txn, STORE_POSITIONS, key, strlen(key), text, strlen(text));
	free(text);
	return (rc);
}
