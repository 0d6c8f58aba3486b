#!/bin/sh
# logtail_bench.sh - posthook-logtail's speed side by side with grep -c
# (the floor), pflogsumm, mtail and prometheus-postfix-exporter on one log
# (Debian: apt-get install pflogsumm mtail prometheus-postfix-exporter).
#
# Usage: bench/logtail_bench.sh LOG [BUILDDIR]
#   LOG      a Postfix log (bench/logtail_gen.py 5000000 > LOG)
#   BUILDDIR where posthook was built (default: .)
# SKIP="pflogsumm mtail" leaves those out (they take minutes per million
# lines; logtail_rounds.sh runs them in the first round only).
# Prints one line per tool: wall and CPU seconds, lines per second by
# each, and the maximum RSS.
set -eu
. "$(dirname "$0")/logtail_conf.sh"
LOG=$1
BUILD=${2:-.}
TAILER=$BUILD/logtail/posthook-logtail
TMP=$(mktemp -d)
trap 'kill $EXPORTER 2>/dev/null || true; rm -rf "$TMP"' EXIT
EXPORTER=
LINES=$(wc -l < "$LOG")
echo "log: $LOG, $LINES lines, $(du -m "$LOG" | cut -f1) MiB; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-28s %8s %8s %12s %12s %9s\n' tool wall_s cpu_s lines/s_wall lines/s_cpu rss_MiB

# report NAME TIMEFILE - one result line from /usr/bin/time's output
report() {
	awk -v name="$1" -v lines="$LINES" '{
		wall = $1; cpu = $2 + $3; rss = $4 / 1024
		printf "%-28s %8.2f %8.2f %12.0f %12.0f %9.1f\n", name, wall, cpu,
		    lines / wall, (cpu > 0 ? lines / cpu : 0), rss }' "$2"
}

# timed CMD... - run a command, its times and RSS into $TMP/t
timed() {
	/usr/bin/time -o "$TMP/t" -f '%e %U %S %M' "$@"
}

timed grep -c 'status=' "$LOG" > "$TMP/grep.count"
report "grep -c status=" "$TMP/t"

timed "$TAILER" --print "$LOG" > /dev/null
report "posthook-logtail --print" "$TMP/t"

daemon_conf "$TMP" "$LOG"
timed "$TAILER" -f --once --from-start -c "$TMP/posthook.conf" 2> "$TMP/daemon.err"
report "posthook-logtail daemon" "$TMP/t"
tail -1 "$TMP/daemon.err"

# skip TOOL - is TOOL in $SKIP?
skip() {
	case " ${SKIP:-} " in *" $1 "*) return 0 ;; esac
	return 1
}

if ! skip pflogsumm; then
	timed pflogsumm "$LOG" > /dev/null 2>&1
	report "pflogsumm" "$TMP/t"
fi

# mtail with the Postfix program its package ships, reading the log once.
if ! skip mtail && command -v mtail > /dev/null; then
	mkdir "$TMP/progs"
	cp /usr/share/doc/mtail/examples/postfix.mtail "$TMP/progs/"
	timed mtail -one_shot -one_shot_format prometheus -progs "$TMP/progs" \
		-logs "$LOG" > /dev/null 2>&1
	report "mtail (postfix.mtail)" "$TMP/t"
fi

# postfix_exporter follows its file from the end: start it on an empty
# file, append the log, poll until it has counted every line.  Version
# 0.3.0 makes four observations of postfix_smtp_delivery_delay_seconds per
# delivery line (one per stage of delays=), so that histogram's count is
# no line count: the lines are the sum of the counters it increments once
# per line (the *_total counters, qmgr's inserted messages, and the smtp
# delays' count divided by four).  Lines it counts nowhere would keep
# the sum short: after 10 s without progress the run stops with an error
# rather than credit the exporter with a rate it did not reach.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
: > "$TMP/mail.log"
prometheus-postfix-exporter --web.listen-address=127.0.0.1:$PORT \
	--postfix.logfile_path="$TMP/mail.log" \
	--postfix.showq_path="$TMP/none" > "$TMP/exporter.log" 2>&1 &
EXPORTER=$!
sleep 2
WANT_DELIVERIES=$(grep -c 'postfix/smtp\[[0-9]*\]: [0-9A-Za-z]*: to=' "$LOG")
START=$(date +%s.%N)
CPU0=$(awk '{print $14 + $15}' /proc/$EXPORTER/stat)
cat "$LOG" >> "$TMP/mail.log"
LAST=-1
STALL=0
while :; do
	curl -s "http://127.0.0.1:$PORT/metrics" > "$TMP/metrics"
	GOT=$(awk '
		/^#/ { next }
		!/^postfix_/ || /^postfix_up/ { next }
		{ name = $1; sub(/\{.*/, "", name) }
		name ~ /_total$/ { s += $NF }
		name == "postfix_qmgr_messages_inserted_receipients_count" { s += $NF }
		name == "postfix_smtp_delivery_delay_seconds_count" { s += $NF / 4 }
		END { printf "%d\n", s }' "$TMP/metrics")
	[ "$GOT" -ge "$LINES" ] && break
	if [ "$GOT" -eq "$LAST" ]; then
		STALL=$((STALL + 1))
		if [ $STALL -ge 20 ]; then
			echo "prometheus-postfix-exporter: counted $GOT of $LINES lines, no progress for 10 s: no figure" >&2
			exit 1
		fi
	else
		STALL=0
		LAST=$GOT
	fi
	sleep 0.5
done
END=$(date +%s.%N)
CPU1=$(awk '{print $14 + $15}' /proc/$EXPORTER/stat)
RSS=$(awk '/VmHWM/ {print $2}' /proc/$EXPORTER/status)
echo "$END $START $CPU1 $CPU0 $(getconf CLK_TCK) $RSS" |
	awk '{ printf "%s %s 0 %s\n", $1 - $2, ($3 - $4) / $5, $6 }' > "$TMP/t"
report "prometheus-postfix-exporter" "$TMP/t"
DELAYS=$(awk '/^postfix_smtp_delivery_delay_seconds_count/ { s += $NF } END { printf "%d", s }' "$TMP/metrics")
echo "exporter counted $GOT of $LINES lines; smtp delay observations $DELAYS for $WANT_DELIVERIES delivery lines"
