/*
 * journal.h - Postfix's lines out of the systemd journal (log_source =
 * journal): the mail facility's records, in order, each with its cursor.
 */
#ifndef PH_JOURNAL_H
#define PH_JOURNAL_H

#include "parse_line.h"

struct journal_src;

/*
 * journal_src_open - open dir (or the local system journal when dir is
 * NULL or empty) and position it after cursor; without a cursor, at the
 * start or the end.  NULL (logged) on failure.
 */
struct journal_src *journal_src_open(const char *dir, const char *cursor, int from_start);
void journal_src_close(struct journal_src *js);

/*
 * journal_src_next - the next mail record: 1 with *line parsed (spans
 * valid until the next call) and *cursor set, 0 when there is none yet,
 * -1 on error.  Records that are not Postfix's give LK_NONE lines.
 */
int journal_src_next(struct journal_src *js, struct log_line *line, const char **cursor);

/* journal_src_cursor - the cursor of the last record read (at the end:
 * of the last record there), or NULL. */
const char *journal_src_cursor(const struct journal_src *js);

/* journal_src_wait - sleep until the journal changes or ms pass. */
void journal_src_wait(struct journal_src *js, int ms);

#endif
