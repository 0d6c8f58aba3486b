/*
 * tail_int.h - what the parts of the posthook-logtail daemon share: its
 * state (struct tail, the file being read) and the calls between them.
 * Private to logtail/tail*.c and journal.c; tail.h is the contract.
 *
 *	tail.c		start, the file loop, reload
 *	tail_commit.c	a batch's events, queue states and position, committed
 *	tail_file.c	which file to read: identity, rotation, truncation
 *	tail_load.c	the saved position and queue states, read at start
 *	tail_watch.c	inotify: sleeping until the log is written
 *	journal.c	log_source = journal: its records and loop
 */
#ifndef PH_TAIL_INT_H
#define PH_TAIL_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "config/config.h"
#include "config/daemon.h"
#include "event/event.h"
#include "logfile/fingerprint.h"
#include "store/position.h"
#include "store/store.h"
#include "util/util.h"
#include "correlate.h"
#include "journal.h"
#include "linereader.h"
#include "parse_line.h"

#define BATCH_LINES 5000
#define IDLE_POLL_MS 250      /* the journal's wait */
#define FALLBACK_POLL_MS 1000 /* with inotify: in case one is missed */
#define SHORT_POLL_MS 10      /* without inotify */
#define HOLD_RECHECK_MS 20    /* holds waiting: look for records */
#define HOLD_WAIT_S 2.0	      /* the longest a hold waits */
#define MAINTAIN_MS 10000
#define TENANTS_MS 5000 /* between looks at the tenants' rules */

/*
 * After a rename rotation the writer keeps appending to the old file until
 * it reopens the log: logrotate renames mail.log, creates a new one and
 * only then runs "postfix reload", and postlogd reopens a moment later.
 * The old file is finished only once it has not grown for this long (and
 * is read to its end); the new file's lines wait meanwhile, from its start.
 */
#define ROTATE_GRACE_MS 2000

#define NO_TENANT SIZE_MAX /* pending_event.tenant: the default's */

struct pending_event {
	size_t key; /* offsets in tail.text */
	size_t payload, payload_len;
	size_t tenant; /* or NO_TENANT */
	enum event_type type;
	double timestamp;
};

struct pending_state {
	char *qid;
	char *json; /* NULL: delete */
};

struct tailfile {
	char *path;
	int fd;
	dev_t dev;
	ino_t ino;
	char fp[FINGERPRINT_LEN]; /* "" until the first line is there */
	uint64_t start;		  /* offset to start at once fp is known */
	int old;		  /* a rotated file: move on at its end */
	int gz;			  /* old and gzip-compressed */
	off_t seen_size;	  /* old: its size when last looked at */
	int64_t quiet_since;	  /* old: when it last grew (monotonic) */
	int at_end;		  /* the last read_batch() came to its end */
	int changed;		  /* its first line changed under the reader */
	int marked;		  /* its high-water mark: 1 read, -1 none, 0 not looked */
	uint64_t mark;		  /* lines before it were read and committed */
	struct linereader *lr;
};

struct tail {
	struct config *cfg;  /* as started: the log's path */
	struct config *live; /* reloaded by SIGHUP, or NULL */
	const struct daemon_args *args;
	struct store *st;
	struct daemon_signals *sig;
	struct correlate *corr;
	struct stamp_memo stamp_memo; /* the last line's stamp */
	struct tailfile cur;
	struct journal_src *js; /* log_source = journal */
	char *cursor;		/* of the last journal record read */
	char *poskey;

	struct pending_event *ev;
	size_t nev, capev;
	struct buf text; /* the events' keys and payloads */
	struct pending_state *qs;
	size_t nqs, capqs;
	uint64_t committed;		      /* offset last committed */
	int dirty;			      /* lines read since the last commit */
	int once;			      /* TAIL_ONCE */
	int missing;			      /* log_file gone: said so once */
	int open_err;			      /* the open failure said last (0: none) */
	const struct position_record *resume; /* saved position not reached yet */
	int first_at_end;		      /* first start, log_file unreadable */
	long events_total;
	struct tenant_matcher *tenants; /* the rules, for mail without a record */
	uint64_t tenants_gen;		/* their change counter */
	int64_t tenants_read;		/* when last looked at (monotonic) */

	int ino_fd;  /* inotify, or -1 */
	int wd_dir;  /* log_file's directory, or -1 */
	int wd_file; /* the open file, or -1 */
	dev_t w_dev; /* what wd_file watches */
	ino_t w_ino;
};

/* tail.c */
void feed(struct tail *t, const char *line, size_t len, uint64_t off, int cut);
void tick(struct tail *t);
void reload(struct tail *t);
void tenants_refresh(struct tail *t, int force);
void housekeep(struct tail *t, int64_t *last_maintain);

/* tail_commit.c */
void on_event(struct correlate_event *ce, void *ctx);
struct message_record *on_record(const char *qid, void *ctx);
int commit(struct tail *t);
int mark_skip(struct tail *t, uint64_t off);
void pending_clear(struct tail *t);

/* tail_file.c */
int file_open(struct tailfile *f, const char *path, uint64_t offset, int old);
void file_close(struct tailfile *f);
int file_ready(struct tailfile *f);
int file_changed(struct tailfile *f);
int old_grace_left(struct tailfile *f);
void check_file(struct tail *t);
int start_position(struct tail *t, const struct position_record *pos, int from_start);

/* tail_load.c */
int tail_load(struct tail *t, struct position_record *pos, long *states);

/* tail_watch.c */
void watch_init(struct tail *t);
void wait_for(struct tail *t, int ms);

/* journal.c */
int journal_loop(struct tail *t, const struct position_record *pos, int from_start);

#endif
