#!/bin/sh
# config_docs.sh - posthook.conf(5) and the sample config list exactly the
# keys and defaults of the key table.
exec python3 "$top_srcdir/man/conf-keys.py" "$top_builddir/ctl/posthookctl" \
	"$top_srcdir" --check
