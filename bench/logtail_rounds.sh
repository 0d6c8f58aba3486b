#!/bin/sh
# logtail_rounds.sh - bench/logtail_bench.sh in interleaved rounds over
# several logs, and the side-by-side table of the best round of each tool:
# minimum CPU seconds (user + system; steadier than wall time on a shared
# machine), minimum wall seconds, lines per second by each, and the
# largest peak RSS seen.  With OLD_BUILDDIR, that build's --print runs in
# each round too (the "before" column).
#
# Usage: bench/logtail_rounds.sh ROUNDS BUILDDIR [OLD_BUILDDIR] -- LOG...
# pflogsumm and mtail run in the first round only (minutes per million
# lines, and far behind); SKIP=... is passed on to logtail_bench.sh.
# Raw rounds go to $OUT (default: a temporary file, named at the end).
set -eu
ROUNDS=$1
BUILD=$2
shift 2
OLD=
if [ "$1" != "--" ]; then
	OLD=$1
	shift
fi
shift
OUT=${OUT:-$(mktemp /tmp/logtail_rounds.XXXXXX)}
: > "$OUT"
HERE=$(dirname "$0")

for r in $(seq "$ROUNDS"); do
	for log in "$@"; do
		lines=$(wc -l < "$log")
		skip=${SKIP:-}
		[ "$r" -gt 1 ] && skip="$skip pflogsumm mtail"
		SKIP="$skip" sh "$HERE/logtail_bench.sh" "$log" "$BUILD" 2>&1 |
			awk -v lg="$log" -v lines="$lines" -v r="$r" \
			    'NF >= 6 && ($(NF-4) $(NF-3) $(NF-2) $(NF-1) $NF) ~ /^[0-9.]+$/ {
				tool = $1; for (i = 2; i <= NF - 5; i++) tool = tool "_" $i
				print r, lg, lines, tool, $(NF-4), $(NF-3), $NF }' >> "$OUT"
		if [ -n "$OLD" ]; then
			/usr/bin/time -o "$OUT.t" -f '%e %U %S %M' \
				"$OLD/logtail/posthook-logtail" --print "$log" > /dev/null
			awk -v lg="$log" -v lines="$lines" -v r="$r" \
			    '{ print r, lg, lines, "--print_(before)", $1, $2 + $3, $4 / 1024 }' \
			    "$OUT.t" >> "$OUT"
		fi
	done
done
rm -f "$OUT.t"

# round log lines tool wall cpu rss -> the table
awk '{
	k = $2 SUBSEP $4
	if (!(k in cpu) || $6 < cpu[k]) cpu[k] = $6
	if (!(k in wall) || $5 < wall[k]) wall[k] = $5
	if ($7 > rss[k]) rss[k] = $7
	n[k]++; lines[$2] = $3
	if (!($2 in seen)) { seen[$2] = 1; logs[++nl] = $2 }
	if (!($4 in tseen)) { tseen[$4] = 1; tools[++nt] = $4 }
} END {
	print "| log (lines) | tool | runs | CPU s (min) | wall s (min) | lines/s CPU | lines/s wall | peak RSS MiB |"
	print "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
	for (i = 1; i <= nl; i++) for (j = 1; j <= nt; j++) {
		k = logs[i] SUBSEP tools[j]
		if (!(k in cpu)) continue
		t = tools[j]; gsub(/_/, " ", t)
		lc = cpu[k] > 0 ? lines[logs[i]] / cpu[k] : 0
		lw = wall[k] > 0 ? lines[logs[i]] / wall[k] : 0
		printf "| %s (%d) | %s | %d | %.2f | %.2f | %.0f | %.0f | %.1f |\n", logs[i], lines[logs[i]], t, n[k], cpu[k], wall[k], lc, lw, rss[k]
	}
}' "$OUT"
echo "raw rounds: $OUT"
