#!/bin/sh
# logtail_ab.sh - two builds of posthook-logtail side by side: --print and
# the daemon (-f --once --from-start, a fresh state_dir each run, configured
# as logtail_bench.sh does), the builds alternating N times on the same log,
# so that both meet the same load.  Prints each run, then the median wall
# and CPU (user + system) seconds of each build and path.
#
# Usage: bench/logtail_ab.sh OLD_BUILDDIR NEW_BUILDDIR LOG [N]   (N: 4)
set -eu
. "$(dirname "$0")/logtail_conf.sh"
OLD=$1
NEW=$2
LOG=$3
N=${4:-4}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# run NAME DIR - one --print and one daemon run of the build in DIR
run() {
	/usr/bin/time -o "$TMP/t" -f '%e %U %S' \
		"$2/logtail/posthook-logtail" --print "$LOG" > /dev/null
	echo "print $1 $(cat "$TMP/t")" | tee -a "$TMP/all"
	rm -rf "$TMP/state"
	daemon_conf "$TMP" "$LOG"
	/usr/bin/time -o "$TMP/t" -f '%e %U %S' \
		"$2/logtail/posthook-logtail" -f --once --from-start \
		-c "$TMP/posthook.conf" 2> /dev/null
	echo "daemon $1 $(cat "$TMP/t")" | tee -a "$TMP/all"
}

echo "log: $LOG; load $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "$N"); do
	run old "$OLD"
	run new "$NEW"
done
python3 - "$TMP/all" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    path, build, wall, user, system = line.split()
    runs.setdefault((path, build), []).append((float(wall), float(user) + float(system)))
for (path, build), v in sorted(runs.items()):
    print('%-6s %-3s median wall %6.2f s, CPU %6.2f s (%d runs)' % (
        path, build, statistics.median(w for w, _ in v),
        statistics.median(c for _, c in v), len(v)))
PY
