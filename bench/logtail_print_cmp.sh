#!/bin/sh
# logtail_print_cmp.sh - do two builds of posthook-logtail print the same
# bytes?  Runs each one's --print on LOG (with the further arguments, e.g.
# -c CONF for the milter's records) and compares standard output, with the
# random "uuid" of each body blanked, and standard error.
#
# Usage: bench/logtail_print_cmp.sh OLD_BUILDDIR NEW_BUILDDIR LOG [ARGS...]
# Prints "same: N bodies" and exits 0, or the first difference and exits 1.
set -eu
OLD=$1
NEW=$2
LOG=$3
shift 3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

for b in old new; do
	[ $b = old ] && dir=$OLD || dir=$NEW
	"$dir/logtail/posthook-logtail" --print "$@" "$LOG" 2> "$TMP/$b.err" |
		sed 's/"uuid":"[0-9a-f-]*"/"uuid":""/' > "$TMP/$b.out"
done
if cmp "$TMP/old.out" "$TMP/new.out" && cmp "$TMP/old.err" "$TMP/new.err"; then
	echo "same: $(wc -l < "$TMP/new.out") bodies"
	exit 0
fi
exit 1
