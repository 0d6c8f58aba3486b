/*
 * mfi.c - the libmilter implementation of struct mfi_ops.
 */
#include "mfi.h"

const struct mfi_ops mfi_libmilter = {
	.getsymval = smfi_getsymval,
	.chgheader = smfi_chgheader,
	.addheader = smfi_addheader,
	.setpriv = smfi_setpriv,
	.getpriv = smfi_getpriv,
	.setreply = smfi_setreply,
	.setsymlist = smfi_setsymlist,
	.chgfrom = smfi_chgfrom,
	.replacebody = smfi_replacebody,
};
