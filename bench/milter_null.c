/*
 * milter_null.c - a milter that does nothing, asking Postfix for the same
 * protocol steps and no-reply options as posthook-milter: the benchmark's
 * measure of what the milter protocol itself costs.
 *
 *	milter_null unix:/path/to/socket
 */
#include <stdio.h>
#include <libmilter/mfapi.h>

/* null_negotiate - the steps posthook-milter asks for, nothing done. */
static sfsistat
null_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
	       unsigned long f3, unsigned long *pf0, unsigned long *pf1,
	       unsigned long *pf2, unsigned long *pf3)
{
	(void) ctx;
	(void) f0;
	(void) f2;
	(void) f3;
	*pf0 = SMFIF_ADDHDRS | SMFIF_CHGHDRS;
	*pf1 = (SMFIP_NOHELO | SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NOEOH
		| SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_HDR)
	       & f1;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat
null_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void) ctx;
	(void) host;
	(void) sa;
	return SMFIS_NOREPLY;
}

static sfsistat
null_argv(SMFICTX *ctx, char **argv)
{
	(void) ctx;
	(void) argv;
	return SMFIS_NOREPLY;
}

static sfsistat
null_header(SMFICTX *ctx, char *name, char *value)
{
	(void) ctx;
	(void) name;
	(void) value;
	return SMFIS_NOREPLY;
}

static sfsistat
null_eom(SMFICTX *ctx)
{
	(void) ctx;
	return SMFIS_CONTINUE;
}

int
main(int argc, char **argv)
{
	struct smfiDesc desc = {
		.xxfi_name = "milter_null",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
		.xxfi_connect = null_connect,
		.xxfi_envfrom = null_argv,
		.xxfi_envrcpt = null_argv,
		.xxfi_header = null_header,
		.xxfi_eom = null_eom,
		.xxfi_negotiate = null_negotiate,
	};

	if (argc != 2) {
		fprintf(stderr, "usage: milter_null SOCKET\n");
		return 1;
	}
	if (smfi_setconn(argv[1]) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS
	    || smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "milter_null: cannot listen on %s\n", argv[1]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
