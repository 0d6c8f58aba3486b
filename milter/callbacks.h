/*
 * callbacks.h - the milter's libmilter callbacks and the one context they
 * share.
 *
 * libmilter passes no user pointer to callbacks, so the running milter's
 * struct milter_app is registered once with callbacks_init(); everything
 * per connection and per message lives in the private state (state.h).
 * Tests call the cb_* functions directly with a fake struct mfi_ops.
 */
#ifndef PH_MILTER_CALLBACKS_H
#define PH_MILTER_CALLBACKS_H

#include <pthread.h>
#include <libmilter/mfapi.h>

#include "mfi.h"
#include "settings.h"
#include "store/store.h"
#include "tenant_cache.h"

struct milter_app {
	pthread_mutex_t lock; /* guards settings */
	struct milter_settings *settings;
	struct store *store;	      /* NULL: record nothing, log why */
	struct tenant_cache *tenants; /* NULL: all mail is the default's */
	const struct mfi_ops *mfi;
};

/* callbacks_init - make app the context of every callback. */
void callbacks_init(struct milter_app *app);

/* milter_app_settings - a held reference to the current settings. */
struct milter_settings *milter_app_settings(struct milter_app *app);

/* milter_app_swap_settings - install new settings (a reload). */
void milter_app_swap_settings(struct milter_app *app, struct milter_settings *set);

/* callbacks_desc - the smfiDesc to register. */
struct smfiDesc *callbacks_desc(void);

sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
		      unsigned long f3, unsigned long *pf0, unsigned long *pf1,
		      unsigned long *pf2, unsigned long *pf3);
sfsistat cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr);
sfsistat cb_envfrom(SMFICTX *ctx, char **argv);
sfsistat cb_envrcpt(SMFICTX *ctx, char **argv);
sfsistat cb_header(SMFICTX *ctx, char *name, char *value);
sfsistat cb_body(SMFICTX *ctx, unsigned char *chunk, size_t len);
sfsistat cb_eom(SMFICTX *ctx);
sfsistat cb_abort(SMFICTX *ctx);
sfsistat cb_close(SMFICTX *ctx);

#endif
