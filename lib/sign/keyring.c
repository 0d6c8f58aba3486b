/*
 * keyring.c - every signing key the site publishes, and which one signs.
 *
 * On disk, beside signing_key (the path of the key that signs now):
 *
 *	signing_key		PEM, mode 0600: the active key
 *	signing_key.<kid>	PEM, mode 0600: a next key, or a retired one
 *				still published
 *	signing_key.keys	JSON, mode 0600: {"keys":[{"kid","published",
 *				"activates"}, ...]}, the ring's state
 *	signing_key.lock	flock()ed by whoever changes the above
 *
 * Files rather than store records, so that an admin backs up, inspects and
 * restores keys as files.  Each key signs from its "activates" time until
 * the next key's; after that it stays published for retire_after seconds,
 * which outlasts every retry of a delivery it signed.  Whoever holds the
 * lock when a next key's time has come moves it to signing_key (the old one
 * going to signing_key.<kid>) and deletes keys no longer published, so the
 * daemon and posthookctl can each make these changes and see the other's.
 *
 * One file, though long: the ring in memory, its state file and its lock
 * are one protocol (read under the lock, change, write, publish), and
 * every part works on the same struct ring; apart, each would be half of
 * that protocol.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "util/file_atomic.h"
#include "util/json.h"
#include "util/log.h"
#include "sign/sign.h"
#include "util/util.h"

struct ring_key {
	struct signing_key *key;
	double published;    /* in the JWKS from then on */
	double activates;    /* signs from then on; 0: always */
	double retired;	     /* next key's activation; 0: none */
	double retire_until; /* unpublished then; 0: never */
};

struct ring {
	struct ring_key *keys; /* sorted by activation */
	size_t n;
	int dirty; /* state file must be written */
};

struct keyring {
	char *key_path;
	char *state_path;
	char *lock_path;
	char *jwks_path;	 /* NULL: no file to keep */
	double activation_delay; /* seconds */
	double retire_after;	 /* seconds after retirement */
	struct ring ring;
	char main_kid[65];    /* key held at key_path */
	struct stat state_st; /* state file as last seen */
	char *published;      /* kids last written to jwks_path */
};

/* ring_clear - free the keys of a ring */
static void
ring_clear(struct ring *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		signing_key_free(r->keys[i].key);
	free(r->keys);
	r->keys = NULL;
	r->n = 0;
	r->dirty = 0;
}

/* ring_add - append a key (taking it) */
static struct ring_key *
ring_add(struct ring *r, struct signing_key *k, double published, double activates)
{
	struct ring_key *rk;

	r->keys = xrealloc(r->keys, (r->n + 1) * sizeof(*r->keys));
	rk = &r->keys[r->n++];
	memset(rk, 0, sizeof(*rk));
	rk->key = k;
	rk->published = published;
	rk->activates = activates;
	return rk;
}

/* ring_key_cmp - order by activation, then publication */
static int
ring_key_cmp(const void *a, const void *b)
{
	const struct ring_key *x = a;
	const struct ring_key *y = b;

	if (x->activates != y->activates)
		return x->activates < y->activates ? -1 : 1;
	if (x->published != y->published)
		return x->published < y->published ? -1 : 1;
	return strcmp(signing_key_kid(x->key), signing_key_kid(y->key));
}

/* ring_order - sort, then derive each key's retirement from its successor */
static void
ring_order(struct ring *r, double retire_after)
{
	size_t i;

	qsort(r->keys, r->n, sizeof(*r->keys), ring_key_cmp);
	for (i = 0; i < r->n; i++) {
		if (i + 1 < r->n) {
			r->keys[i].retired = r->keys[i + 1].activates;
			r->keys[i].retire_until = r->keys[i].retired + retire_after;
		} else {
			r->keys[i].retired = 0;
			r->keys[i].retire_until = 0;
		}
	}
}

/* ring_find - the key with this kid, or NULL */
static struct ring_key *
ring_find(struct ring *r, const char *kid)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(signing_key_kid(r->keys[i].key), kid) == 0)
			return &r->keys[i];
	return NULL;
}

/* ring_signer - the key that signs at now: the last one activated */
static struct ring_key *
ring_signer(struct ring *r, double now)
{
	struct ring_key *best = NULL;
	size_t i;

	for (i = 0; i < r->n; i++)
		if (best == NULL || r->keys[i].activates <= now)
			best = &r->keys[i];
	return best;
}

/* is_published - whether the key is in the JWKS at now */
static int
is_published(const struct ring_key *rk, double now)
{
	return rk->retire_until == 0 || now < rk->retire_until;
}

/* side_path - the file of a key not at signing_key */
static char *
side_path(const struct keyring *kr, const char *kid)
{
	return xasprintf("%s.%s", kr->key_path, kid);
}

/* kid_is_valid - 64 lowercase hex digits, safe in a file name */
static int
kid_is_valid(const char *kid)
{
	size_t i;

	if (kid == NULL)
		return 0;
	for (i = 0; kid[i] != '\0'; i++)
		if (!((kid[i] >= '0' && kid[i] <= '9')
		      || (kid[i] >= 'a' && kid[i] <= 'f')))
			return 0;
	return i == 64;
}

/* state_parse - the state file's entries into r; keys read beside main */
static int
state_parse(struct keyring *kr, const char *text, struct signing_key *main,
	    struct ring *r, char *err, size_t errlen)
{
	json_object *root = json_tokener_parse(text);
	json_object *keys;
	json_object *e;
	const char *kid;
	struct signing_key *k;
	char why[256];
	char *path;
	size_t i;

	if (root == NULL || !json_object_object_get_ex(root, "keys", &keys)
	    || !json_object_is_type(keys, json_type_array)) {
		snprintf(err, errlen, "%s: not a keyring state file", kr->state_path);
		json_object_put(root);
		return -1;
	}
	for (i = 0; i < json_object_array_length(keys); i++) {
		e = json_object_array_get_idx(keys, i);
		if (!kid_is_valid(kid = json_text_member(e, "kid"))) {
			log_warn("%s: entry %zu has no valid kid; ignored",
				 kr->state_path, i);
			continue;
		}
		if (ring_find(r, kid) != NULL)
			continue;
		if (strcmp(kid, signing_key_kid(main)) == 0) {
			k = main;
		} else {
			path = side_path(kr, kid);
			k = signing_key_load(path, why, sizeof(why));
			free(path);
			if (k == NULL) {
				log_warn("key %s dropped: %s", kid, why);
				r->dirty = 1;
				continue;
			}
			if (strcmp(signing_key_kid(k), kid) != 0) {
				log_warn("%s.%s holds key %s; ignored", kr->key_path, kid,
					 signing_key_kid(k));
				signing_key_free(k);
				r->dirty = 1;
				continue;
			}
		}
		ring_add(r, k, json_object_get_double(json_member(e, "published")),
			 json_object_get_double(json_member(e, "activates")));
	}
	json_object_put(root);
	return 0;
}

/*
 * ring_read - read signing_key and the state into r, creating the key on
 * first start.  A key put at signing_key by hand that the state does not
 * know signs from now on.
 */
static int
ring_read(struct keyring *kr, double now, struct ring *r, char *err, size_t errlen)
{
	struct signing_key *main;
	struct stat st;
	char *text;
	int have_state;

	have_state = stat(kr->state_path, &st) == 0;
	if (!have_state && errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", kr->state_path, strerror(errno));
		return -1;
	}
	if (!have_state && access(kr->key_path, F_OK) < 0 && errno == ENOENT) {
		main = signing_key_generate();
		if (main == NULL) {
			snprintf(err, errlen, "cannot generate an RSA key");
			return -1;
		}
		if (signing_key_save(main, kr->key_path, err, errlen) < 0) {
			signing_key_free(main);
			return -1;
		}
		log_info("created signing key %s (kid %s)", kr->key_path,
			 signing_key_kid(main));
	} else if ((main = signing_key_load(kr->key_path, err, errlen)) == NULL) {
		return -1;
	}
	if (have_state) {
		if ((text = file_read_all(kr->state_path, NULL)) == NULL) {
			snprintf(err, errlen, "%s: %s", kr->state_path, strerror(errno));
			signing_key_free(main);
			return -1;
		}
		if (state_parse(kr, text, main, r, err, errlen) < 0) {
			free(text);
			signing_key_free(main);
			ring_clear(r);
			return -1;
		}
		free(text);
	}
	if (ring_find(r, signing_key_kid(main)) == NULL) {
		ring_add(r, main, now, have_state ? now : 0);
		if (have_state)
			log_warn("%s: key %s is new to the keyring; it signs now",
				 kr->key_path, signing_key_kid(main));
		r->dirty = 1;
	}
	ring_order(r, kr->retire_after);
	snprintf(kr->main_kid, sizeof(kr->main_kid), "%s", signing_key_kid(main));
	return 0;
}

/* state_format - the state file's text (malloc()ed) */
static char *
state_format(const struct ring *r)
{
	json_object *root = json_object_new_object();
	json_object *keys = json_object_new_array();
	json_object *e;
	char *text;
	size_t i;

	for (i = 0; i < r->n; i++) {
		e = json_object_new_object();
		json_object_object_add(
		    e, "kid", json_object_new_string(signing_key_kid(r->keys[i].key)));
		json_object_object_add(e, "published",
				       json_object_new_double(r->keys[i].published));
		json_object_object_add(e, "activates",
				       json_object_new_double(r->keys[i].activates));
		json_object_array_add(keys, e);
	}
	json_object_object_add(root, "keys", keys);
	text = xasprintf(
	    "%s\n", json_object_to_json_string_ext(
			root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return text;
}

/* state_write - write the state file */
static int
state_write(struct keyring *kr, const struct ring *r, char *err, size_t errlen)
{
	char *text = state_format(r);
	int rc;

	rc = file_write_atomic(kr->state_path, text, strlen(text), 0600, err, errlen);
	free(text);
	return rc;
}

/*
 * ring_tidy - drop keys no longer published, and move the key that signs
 * now to signing_key.  Files are changed in an order that a crash between
 * any two steps leaves readable: the old main key is saved beside before
 * the new one is renamed over it, and a dropped key's file is removed only
 * after the state without it is written.
 */
static int
ring_tidy(struct keyring *kr, struct ring *r, double now, char *err, size_t errlen)
{
	struct ring_key *signer;
	struct ring_key *old;
	char **gone = NULL;
	size_t ngone = 0;
	size_t i;
	size_t j;
	char *path;
	int rc = 0;

	signer = ring_signer(r, now);
	if (signer != NULL && strcmp(signing_key_kid(signer->key), kr->main_kid) != 0) {
		old = ring_find(r, kr->main_kid);
		if (old != NULL && is_published(old, now)) {
			path = side_path(kr, kr->main_kid);
			rc = signing_key_save(old->key, path, err, errlen);
			free(path);
			if (rc < 0)
				return -1;
		}
		path = side_path(kr, signing_key_kid(signer->key));
		if (rename(path, kr->key_path) < 0) {
			snprintf(err, errlen, "rename %s to %s: %s", path, kr->key_path,
				 strerror(errno));
			free(path);
			return -1;
		}
		free(path);
		log_info("key %s now signs (%s)", signing_key_kid(signer->key),
			 kr->key_path);
		snprintf(kr->main_kid, sizeof(kr->main_kid), "%s",
			 signing_key_kid(signer->key));
		r->dirty = 1;
	}
	for (i = j = 0; i < r->n; i++) {
		if (is_published(&r->keys[i], now)) {
			r->keys[j++] = r->keys[i];
			continue;
		}
		log_info("key %s retired and unpublished",
			 signing_key_kid(r->keys[i].key));
		gone = xrealloc(gone, (ngone + 1) * sizeof(*gone));
		gone[ngone++] = side_path(kr, signing_key_kid(r->keys[i].key));
		signing_key_free(r->keys[i].key);
		r->dirty = 1;
	}
	r->n = j;
	if (r->dirty && state_write(kr, r, err, errlen) < 0)
		rc = -1;
	for (i = 0; i < ngone; i++) {
		if (rc == 0 && unlink(gone[i]) < 0 && errno != ENOENT)
			log_warn("unlink %s: %s", gone[i], strerror(errno));
		free(gone[i]);
	}
	free(gone);
	if (rc == 0)
		r->dirty = 0;
	return rc;
}

/* ring_lock - take the keyring's lock; the descriptor, or -1 */
static int
ring_lock(const struct keyring *kr, char *err, size_t errlen)
{
	int fd = open(kr->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		snprintf(err, errlen,
			 "signing_key %s: cannot create its lock "
			 "file %s: %s",
			 kr->key_path, kr->lock_path, strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		snprintf(err, errlen, "lock %s: %s", kr->lock_path, strerror(errno));
		(void) close(fd);
		return -1;
	}
	return fd;
}

/* published_set - the kids published at now, joined (malloc()ed) */
static char *
published_set(const struct keyring *kr, double now)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < kr->ring.n; i++)
		if (is_published(&kr->ring.keys[i], now))
			buf_printf(&b, "%s ", signing_key_kid(kr->ring.keys[i].key));
	return buf_take(&b);
}

/* publish_if_changed - rewrite jwks_file when the published set changed */
static int
publish_if_changed(struct keyring *kr, double now)
{
	char *set;
	int changed;

	if (kr->jwks_path == NULL)
		return 0;
	set = published_set(kr, now);
	changed = kr->published == NULL || strcmp(set, kr->published) != 0;
	free(set);
	return changed ? keyring_write_jwks(kr, now) : 0;
}

/*
 * ring_sync - under the lock: read the ring from disk, add new_key (if
 * any) as the next key, tidy, write what changed; then adopt the result.
 */
static int
ring_sync(struct keyring *kr, double now, struct signing_key *new_key, char *err,
	  size_t errlen)
{
	struct ring r = { NULL, 0, 0 };
	struct ring_key *last;
	char *path;
	double activates;
	int fd;

	if ((fd = ring_lock(kr, err, errlen)) < 0) {
		signing_key_free(new_key);
		return -1;
	}
	if (ring_read(kr, now, &r, err, errlen) < 0)
		goto fail;
	if (new_key != NULL) {
		path = side_path(kr, signing_key_kid(new_key));
		if (signing_key_save(new_key, path, err, errlen) < 0) {
			free(path);
			goto fail;
		}
		free(path);
		last = &r.keys[r.n - 1];
		activates = now + kr->activation_delay;
		if (activates < last->activates)
			activates = last->activates;
		ring_add(&r, new_key, now, activates);
		new_key = NULL;
		ring_order(&r, kr->retire_after);
		r.dirty = 1;
	}
	if (ring_tidy(kr, &r, now, err, errlen) < 0)
		goto fail;
	if (stat(kr->state_path, &kr->state_st) < 0)
		memset(&kr->state_st, 0, sizeof(kr->state_st));
	(void) close(fd);
	ring_clear(&kr->ring);
	kr->ring = r;
	return publish_if_changed(kr, now);

fail:
	signing_key_free(new_key);
	ring_clear(&r);
	(void) close(fd);
	return -1;
}

/* retire_after - how long a retired key stays published, in seconds */
static double
retire_after(const struct config *cfg)
{
	int64_t ms = 0;
	int i;

	/* Retry-After can stretch each delay to twice the schedule's. */
	for (i = 0; i < cfg->retry_count && i < PH_RETRY_MAX; i++)
		ms += 2 * cfg->retry_schedule_ms[i] + cfg->webhook_timeout_ms;
	return (double) ms / 1000.0;
}

/*
 * key_dir - create the directory of signing_key when missing (the daemon,
 * as root, has made it its user's already when it lies outside state_dir).
 */
static int
key_dir(const char *key_path, char *err, size_t errlen)
{
	char *dir = path_dir(key_path);
	int rc = 0;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen,
			 "signing_key %s: cannot create its "
			 "directory %s: %s",
			 key_path, dir, strerror(errno));
		rc = -1;
	}
	free(dir);
	return rc;
}

/* keyring_open - load the keys, creating signing_key on first start */
struct keyring *
keyring_open(const struct config *cfg, struct store *st, char *err, size_t errlen)
{
	struct keyring *kr;

	/* The keys are files (see above); st is not needed. */
	(void) st;
	if (cfg->signing_key == NULL || cfg->signing_key[0] == '\0') {
		snprintf(err, errlen, "signing_key is not set");
		return NULL;
	}
	if (key_dir(cfg->signing_key, err, errlen) < 0)
		return NULL;
	kr = xcalloc(1, sizeof(*kr));
	kr->key_path = xstrdup(cfg->signing_key);
	kr->state_path = xasprintf("%s.keys", cfg->signing_key);
	kr->lock_path = xasprintf("%s.lock", cfg->signing_key);
	if (cfg->jwks_file != NULL && cfg->jwks_file[0] != '\0')
		kr->jwks_path = xstrdup(cfg->jwks_file);
	kr->activation_delay = (double) cfg->key_activation_delay_ms / 1000.0;
	kr->retire_after = retire_after(cfg);
	if (ring_sync(kr, now_seconds(), NULL, err, errlen) < 0) {
		keyring_free(kr);
		return NULL;
	}
	return kr;
}

/* keyring_free - release the keyring */
void
keyring_free(struct keyring *kr)
{
	if (kr == NULL)
		return;
	ring_clear(&kr->ring);
	free(kr->key_path);
	free(kr->state_path);
	free(kr->lock_path);
	free(kr->jwks_path);
	free(kr->published);
	free(kr);
}

/* state_changed - whether another process rewrote the state file */
static int
state_changed(const struct keyring *kr)
{
	struct stat st;

	if (stat(kr->state_path, &st) < 0)
		return kr->state_st.st_ino != 0;
	return st.st_ino != kr->state_st.st_ino || st.st_dev != kr->state_st.st_dev
	       || st.st_size != kr->state_st.st_size
	       || st.st_mtim.tv_sec != kr->state_st.st_mtim.tv_sec
	       || st.st_mtim.tv_nsec != kr->state_st.st_mtim.tv_nsec;
}

/* tidy_due - whether a key must move or be dropped at now */
static int
tidy_due(struct keyring *kr, double now)
{
	struct ring_key *signer = ring_signer(&kr->ring, now);
	size_t i;

	if (signer != NULL && strcmp(signing_key_kid(signer->key), kr->main_kid) != 0)
		return 1;
	for (i = 0; i < kr->ring.n; i++)
		if (!is_published(&kr->ring.keys[i], now))
			return 1;
	return 0;
}

/* keyring_refresh - pick up other processes' changes and due transitions */
int
keyring_refresh(struct keyring *kr, double now)
{
	char err[512];

	if (state_changed(kr) || tidy_due(kr, now)) {
		if (ring_sync(kr, now, NULL, err, sizeof(err)) < 0) {
			log_error("keyring: %s", err);
			return -1;
		}
		return 0;
	}
	return publish_if_changed(kr, now);
}

/* keyring_signer - the key that signs at now */
const struct signing_key *
keyring_signer(struct keyring *kr, double now)
{
	struct ring_key *rk = ring_signer(&kr->ring, now);

	return rk != NULL ? rk->key : NULL;
}

/* keyring_jwks - the JWKS of every key published at now */
json_object *
keyring_jwks(struct keyring *kr, double now)
{
	json_object *root = json_object_new_object();
	json_object *keys = json_object_new_array();
	json_object *jwk;
	size_t i;

	for (i = 0; i < kr->ring.n; i++) {
		if (!is_published(&kr->ring.keys[i], now))
			continue;
		if ((jwk = signing_key_jwk(kr->ring.keys[i].key)) != NULL)
			json_object_array_add(keys, jwk);
	}
	json_object_object_add(root, "keys", keys);
	return root;
}

/* keyring_write_jwks - write jwks_file (mode 0644) for a web server */
int
keyring_write_jwks(struct keyring *kr, double now)
{
	json_object *jwks;
	char err[512];
	char *text;
	int rc;

	if (kr->jwks_path == NULL)
		return 0;
	jwks = keyring_jwks(kr, now);
	text = xasprintf(
	    "%s\n", json_object_to_json_string_ext(
			jwks, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(jwks);
	rc = file_write_atomic(kr->jwks_path, text, strlen(text), 0644, err, sizeof(err));
	free(text);
	if (rc < 0) {
		log_error("jwks_file: %s", err);
		return -1;
	}
	free(kr->published);
	kr->published = published_set(kr, now);
	return 0;
}

/* keyring_rotate - publish a new key now; it signs after the delay */
int
keyring_rotate(struct keyring *kr, double now, char *err, size_t errlen)
{
	struct signing_key *k = signing_key_generate();

	if (k == NULL) {
		snprintf(err, errlen, "cannot generate an RSA key");
		return -1;
	}
	return ring_sync(kr, now, k, err, errlen);
}

/* keyring_count - how many keys are published */
size_t
keyring_count(const struct keyring *kr)
{
	return kr->ring.n;
}

/* keyring_info - the i-th key, oldest activation first */
int
keyring_info(const struct keyring *kr, size_t i, struct keyring_info *out)
{
	const struct ring_key *rk;

	if (i >= kr->ring.n)
		return -1;
	rk = &kr->ring.keys[i];
	out->kid = signing_key_kid(rk->key);
	out->published = rk->published;
	out->activates = rk->activates;
	out->retired = rk->retired;
	out->retire_until = rk->retire_until;
	return 0;
}

/* keyring_state - "next", "active" or "retired" at now */
const char *
keyring_state(const struct keyring_info *ki, double now)
{
	if (ki->activates > now)
		return "next";
	if (ki->retired != 0 && ki->retired <= now)
		return "retired";
	return "active";
}
