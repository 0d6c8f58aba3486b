#!/bin/sh
# ctl_status.sh - posthookctl status answers as a monitoring plugin: exit
# 0 with every daemon up and the outbox under --max-outbox, 1 over it, 2
# with a daemon down, and --nagios one "POSTHOOK STATE - ... | perfdata"
# line.  A daemon stopped cleanly leaves no pid file behind, and the
# signing key's directory is created when it is missing, or named when it
# cannot be.  posthook-api is listed, and down only with a stale pid file.
# Root, with the posthook user (tests/install-deps.sh).
set -u
dir=$(mktemp -d)
chmod 755 "$dir"
trap 'rm -rf "$dir"' EXIT
ctl="$top_builddir/ctl/posthookctl"
fail=0
conf="$dir/posthook.conf"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'state_dir = %s/state\npid_dir = %s/run\nlog_file = %s/mail.log\nsigning_key = %s/keys/signing.key\napi_listen = 127.0.0.1:%s\n' \
	"$dir" "$dir" "$dir" "$dir" "$port" > "$conf"

# A clean stop: the pid file goes; the key's directories were made.
"$top_builddir/webhook/posthook-webhook" -f -c "$conf" > "$dir/webhook.out" 2>&1 &
pid=$!
i=0
while [ ! -s "$dir/run/posthook-webhook.pid" ] && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
while ! grep -q started "$dir/webhook.out" && [ $i -lt 200 ]; do
	sleep 0.1; i=$((i + 1))
done
[ -s "$dir/keys/signing.key" ] || { echo "FAIL: no key in a new directory"; cat "$dir/webhook.out"; fail=1; }
kill -TERM "$pid"
wait "$pid"
if [ -e "$dir/run/posthook-webhook.pid" ]; then
	echo "FAIL: the pid file stayed after a clean stop"; cat "$dir/webhook.out"; fail=1
fi

# status: pid files of a live process stand for the daemons.
expect() {	# expect STATUS WORD [ARGS]: exit status and the plugin line
	want=$1 word=$2
	shift 2
	out=$("$ctl" -c "$conf" status --nagios "$@")
	st=$?
	case "$out" in
	"POSTHOOK $word - "*" | daemons_up="*) ;;
	*) st=x ;;
	esac
	if [ "$st" != "$want" ] || [ "$(printf '%s\n' "$out" | wc -l)" -ne 1 ]; then
		echo "FAIL: status --nagios $* (exit $st, want $want $word): $out"; fail=1
	fi
}
expect 2 CRITICAL
for d in milter logtail webhook; do
	echo $$ > "$dir/run/posthook-$d.pid"
done
expect 0 OK
runuser -u posthook -- "$top_builddir/tests/webhook/webhook_queue" "$dir/state" MessageSent 3 > /dev/null \
	|| { echo "FAIL: webhook_queue"; fail=1; }
expect 0 OK --max-outbox 3
expect 1 WARNING --max-outbox 2
"$ctl" -c "$conf" status --json --max-outbox 2 > "$dir/json"
case $(cat "$dir/json") in
*'"outbox_depth":3,'*'"status":"degraded","reason":"3 events waiting in the outbox"}') ;;
*) echo "FAIL: status --json: $(cat "$dir/json")"; fail=1 ;;
esac
# posthook-api: listed; not running is no fault (a site enables it on its
# own), up counts, and a stale pid file (it died) is a daemon down.
"$ctl" -c "$conf" status > "$dir/report"
grep -q '^posthook-api  *not running' "$dir/report" \
	|| { echo "FAIL: posthook-api not listed as not running:"; cat "$dir/report"; fail=1; }
"$top_builddir/api/posthook-api" -f -c "$conf" > "$dir/api.out" 2>&1 &
apid=$!
i=0
while [ ! -s "$dir/run/posthook-api.pid" ] && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
expect 0 OK
out=$("$ctl" -c "$conf" status --nagios)
case "$out" in
*" 4/4 daemons up"*) ;;
*) echo "FAIL: the API not counted up: $out"; cat "$dir/api.out"; fail=1 ;;
esac
"$ctl" -c "$conf" status --json > "$dir/json"
case $(cat "$dir/json") in
*'"posthook-api":{"running":true,"pid":'"$apid"',"stale_pid_file":false,"optional":true}'*) ;;
*) echo "FAIL: posthook-api (pid $apid) in status --json: $(cat "$dir/json")"; fail=1 ;;
esac
kill -KILL "$apid"
wait "$apid" 2> /dev/null
expect 2 CRITICAL
"$ctl" -c "$conf" status > "$dir/report"
grep -q '^posthook-api  *down (stale pid file)' "$dir/report" \
	&& grep -q '^status: *down: posthook-api is down' "$dir/report" \
	|| { echo "FAIL: the API's stale pid file:"; cat "$dir/report"; fail=1; }
rm "$dir/run/posthook-api.pid"
expect 0 OK
rm "$dir/run/posthook-logtail.pid"
expect 2 CRITICAL
"$ctl" -c "$conf" status > "$dir/report"
[ $? -eq 2 ] && grep -q '^status: *down: posthook-logtail is down' "$dir/report" \
	|| { echo "FAIL: the readable report:"; cat "$dir/report"; fail=1; }
# A key directory the user cannot create: the error names it and the key.
printf 'state_dir = %s/state\nsigning_key = %s/nokeys/signing.key\n' "$dir" "$dir" > "$dir/k.conf"
"$ctl" -c "$dir/k.conf" keys list > "$dir/out" 2>&1
st=$?
[ "$st" -eq 1 ] && grep -qF "signing_key $dir/nokeys/signing.key: cannot create its directory $dir/nokeys:" "$dir/out" \
	|| { echo "FAIL: keys list without the key's directory (exit $st):"; cat "$dir/out"; fail=1; }
[ "$fail" -eq 0 ] && echo "status exits as a monitoring plugin"
exit "$fail"
