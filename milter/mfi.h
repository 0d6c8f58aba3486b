/*
 * mfi.h - the thin wrapper every smfi_* call of the callbacks goes through.
 *
 * The callbacks reach libmilter only through a struct mfi_ops, so a test
 * can drive them with a fake context that records header changes and
 * serves macros, without a socket or an MTA.
 */
#ifndef PH_MILTER_MFI_H
#define PH_MILTER_MFI_H

#include <libmilter/mfapi.h>

struct mfi_ops {
	char *(*getsymval)(SMFICTX *ctx, char *name);
	int (*chgheader)(SMFICTX *ctx, char *name, int index, char *value);
	int (*addheader)(SMFICTX *ctx, char *name, char *value);
	int (*setpriv)(SMFICTX *ctx, void *priv);
	void *(*getpriv)(SMFICTX *ctx);
	int (*setreply)(SMFICTX *ctx, char *rcode, char *xcode, char *msg);
	int (*setsymlist)(SMFICTX *ctx, int stage, char *macros);
	int (*chgfrom)(SMFICTX *ctx, char *mail, char *args);
	int (*replacebody)(SMFICTX *ctx, unsigned char *body, int len);
};

/* mfi_libmilter - the real thing. */
extern const struct mfi_ops mfi_libmilter;

#endif
