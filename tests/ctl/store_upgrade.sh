#!/bin/sh
# store_upgrade.sh - a store written by posthook 0.1 (fixtures/store-v0.1,
# made by its make-fixture.sh with that release's code) opens in this
# build, which reads every record kind in it: the message, the endpoint,
# the delivery and its attempt, the event waiting in the outbox, the kept
# bounce and the tailer's position; then posthook-webhook delivers the
# waiting event and records the attempt beside the old ones.  Root, with
# the posthook user and db5.3-util.
set -u
fixture="$top_srcdir/tests/ctl/fixtures/store-v0.1"
dir=$(mktemp -d)
chmod 755 "$dir"
trap 'rm -rf "$dir"' EXIT
ctl="$top_builddir/ctl/posthookctl"
fail=0
no() { echo "FAIL: $*"; fail=1; }

mkdir "$dir/state" "$dir/keys"
for dump in "$fixture"/*.dump; do
	db5.3_load -f "$dump" "$dir/state/$(basename "$dump" .dump).db" || no "db5.3_load $dump"
done
chown -R posthook:posthook "$dir/state" "$dir/keys"
# The position is kept under the log file's name at the time.
log=$(sed -n 's/^ file://p' "$fixture/positions.dump" | head -n 1)
conf="$dir/posthook.conf"
printf 'state_dir = %s/state\npid_dir = %s/run\nlog_file = %s\nsigning_key = %s/keys/signing.key\nmessage_retention = 3650d\ndelivery_retention = 3650d\nwebhook_timeout = 2s\n' \
	"$dir" "$dir" "$log" "$dir" > "$conf"

json() { "$ctl" -c "$conf" --json "$@" 2> "$dir/err" || { no "posthookctl $*: $(cat "$dir/err")"; }; }
get() {	# get PYTHON-EXPRESSION: evaluate on the JSON lines read (as j)
	python3 -c "import json,sys; j=[json.loads(l) for l in sys.stdin if l.strip()]; print($1)"
}

[ "$(json messages show A1B2C3D4E5 | get 'j[0]["tag"], j[0]["metadata"], j[0]["recipients"]')" \
	= "fixture {'user_id': 'u1'} ['user@example.org', 'other@example.org']" ] || no "messages show"
[ "$(json messages show fixturetoken00000000001 | get 'j[0]["queue_id"]')" = A1B2C3D4E5 ] \
	|| no "messages show by token"
[ "$(json webhooks list | get 'len(j), j[0]["name"], j[0]["url"]')" \
	= "1 fixture http://127.0.0.1:9/hook" ] || no "webhooks list"
[ "$(json deliveries list | get 'len(j), j[0]["event"], j[0]["success"], j[0]["willRetry"]')" \
	= "1 MessageDelayed False True" ] || no "deliveries list: $(json deliveries list)"
[ "$(json deliveries show whr_000000000001 | get 'j[0]["request"]["payload"]["message"]["tag"]')" \
	= fixture ] || no "deliveries show"
[ "$(json bounces list | get 'len(j)')" = 1 ] || no "bounces list"
# status exits 2 here: no daemon runs.
status() { "$ctl" -c "$conf" status --json; }
st=$(status)
[ "$(echo "$st" | get 'j[0]["outbox_depth"], j[0]["tailer"]["position"]["offset"]')" = "1 648" ] \
	|| no "status: $st"
[ "$(json config -n message_retention)" = '{"message_retention":"3650d"}' ] || no "config -n"

# The new daemon works on the old store: the waiting event is delivered
# (and fails: nothing listens on port 9) and recorded.
"$top_builddir/webhook/posthook-webhook" -f -c "$conf" > "$dir/webhook.out" 2>&1 &
pid=$!
i=0
while [ "$(json deliveries list --event MessageSent | get 'len(j)')" != 1 ] && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
kill -TERM "$pid"
wait "$pid"
# (The old delivery may be retried meanwhile, once its time has come.)
[ "$(json deliveries list | get 'sorted(set(d["event"] for d in j))')" \
	= "['MessageDelayed', 'MessageSent']" ] || { no "new deliveries"; cat "$dir/webhook.out"; }
[ "$(status | get 'j[0]["outbox_depth"]')" = 0 ] || no "outbox not emptied"
[ "$fail" -eq 0 ] && echo "a 0.1 store opens and reads in this build"
exit "$fail"
