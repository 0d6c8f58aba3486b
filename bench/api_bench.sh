#!/bin/sh
# api_bench.sh - posthook-api's speed beside nginx-light serving a static
# file of the same size (the limit for "one HTTP answer"), in one run.
#
# Usage: bench/api_bench.sh [BUILDDIR] [SECONDS]
#   BUILDDIR where posthook was built (default: .), with tests/api/api_seed
#            built (make -C tests api/api_seed)
#   SECONDS  each wrk run (default 20); the memory run is 60 s
# Needs wrk and nginx-light (Debian).  Everything listens on 127.0.0.1.
#
# The store gets MESSAGES messages with EVENTS delivery events each,
# delivered by posthook-webhook to a local receiver, so the two URLs read
# real records: GET /v1/emails/{id}?expand=deliveries and
# GET /v1/webhooks/{id}/deliveries (30 a page).  The key's rate limit is
# raised for the run, as an admin would for a trusted client.
set -eu
BUILD=$(cd "${1:-.}" && pwd)
SECS=${2:-20}
MESSAGES=${MESSAGES:-200}
EVENTS=${EVENTS:-3}
CONNS=64
THREADS=2
TMP=$(mktemp -d)
API_PID= WEBHOOK_PID= RCV_PID= NGINX_PID=
cleanup() {
	for p in $API_PID $WEBHOOK_PID $RCV_PID; do kill "$p" 2>/dev/null || true; done
	[ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
	sleep 0.5
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
API_PORT=$(port) NGINX_PORT=$(port) RCV_PORT=$(port)

cat > "$TMP/posthook.conf" <<EOF
state_dir = $TMP/state
pid_dir = $TMP
signing_key = $TMP/state/signing.key
user = $(id -un)
group = $(id -gn)
api_listen = 127.0.0.1:$API_PORT
api_rate_limit = 100000000
api_rate_burst = 100000000
api_max_connections = 1024
webhook_max_in_flight = 64
webhook_max_per_endpoint = 64
EOF
CTL="$BUILD/ctl/posthookctl -c $TMP/posthook.conf"

# a receiver that answers 200 to every webhook
cat > "$TMP/rcv.py" <<'EOF'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200); self.send_header("Content-Length", "2")
        self.end_headers(); self.wfile.write(b"ok")
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
python3 "$TMP/rcv.py" "$RCV_PORT" & RCV_PID=$!

mkdir -p "$TMP/state"
"$BUILD/api/posthook-api" -f -c "$TMP/posthook.conf" 2> "$TMP/api.log" & API_PID=$!
"$BUILD/webhook/posthook-webhook" -f -c "$TMP/posthook.conf" 2> "$TMP/webhook.log" & WEBHOOK_PID=$!
sleep 1
KEY=$($CTL apikeys create --tenant default --name bench)
AUTH="Authorization: Bearer $KEY"
WID=$(curl -sf -H "$AUTH" -H 'Content-Type: application/json' \
	--data "{\"name\":\"bench\",\"url\":\"http://127.0.0.1:$RCV_PORT/hook\"}" \
	"http://127.0.0.1:$API_PORT/v1/webhooks" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')

# seed: messages, then their delivery events (Delayed..., then Sent)
python3 - "$BUILD/tests/api/api_seed" "$TMP/state" "$MESSAGES" "$EVENTS" <<'EOF'
import json, subprocess, sys, time
seed, state, n, k = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
now = time.time() - 3600
for i in range(n):
    tok = "benchtok%05d" % i
    rec = {"id": i + 1, "token": tok, "direction": "outgoing", "message_id": tok + "@bench.test",
           "from": "app@bench.test", "subject": "Bench %d" % i, "timestamp": now + i,
           "spam_status": "NotChecked", "tag": "bench", "metadata": None,
           "queue_id": "BQ%05d" % i, "recipients": ["user%d@example.com" % i]}
    subprocess.run([seed, state, "message", json.dumps(rec)], check=True)
    for j in range(k):
        last = j == k - 1
        p = {"message": {"id": i + 1, "token": tok, "direction": "outgoing",
                         "message_id": rec["message_id"], "to": rec["recipients"][0],
                         "from": rec["from"], "subject": rec["subject"], "timestamp": now + i,
                         "spam_status": "NotChecked", "tag": "bench", "metadata": None},
             "status": "Sent" if last else "SoftFail",
             "details": "Message for %s accepted by 192.0.2.1:25 (mx.example.com)" % rec["recipients"][0]
                        if last else "Connection timed out",
             "output": "250 2.0.0 OK" if last else "421 4.4.2 timeout",
             "sent_with_ssl": True, "timestamp": now + i + j, "time": 0.3}
        subprocess.run([seed, state, "event", "MessageSent" if last else "MessageDelayed",
                        json.dumps(p)], check=True, stdout=subprocess.DEVNULL)
EOF
TOTAL=$((MESSAGES * EVENTS))
i=0
while [ "$($CTL --json deliveries list --limit 0 | wc -l)" -lt "$TOTAL" ]; do
	i=$((i + 1)); [ $i -lt 600 ] || { echo "deliveries did not finish" >&2; exit 1; }
	sleep 0.5
done

EMAIL_URL="http://127.0.0.1:$API_PORT/v1/emails/$(printf benchtok%05d $((MESSAGES / 2)))?expand=deliveries"
DLV_URL="http://127.0.0.1:$API_PORT/v1/webhooks/$WID/deliveries"
curl -sf -H "$AUTH" "$EMAIL_URL" > "$TMP/email.json"
curl -sf -H "$AUTH" "$DLV_URL" > "$TMP/deliveries.json"

# nginx-light serving files of the same sizes (its workers are www-data)
chmod 755 "$TMP"
mkdir -p "$TMP/www"
cp "$TMP/email.json" "$TMP/www/email.json"
cp "$TMP/deliveries.json" "$TMP/www/deliveries.json"
cat > "$TMP/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $TMP/nginx.pid;
error_log $TMP/nginx.err;
events { worker_connections 1024; }
http {
	access_log off;
	keepalive_requests 1000000;
	server { listen 127.0.0.1:$NGINX_PORT; root $TMP/www; etag off;
		 default_type application/json; }
}
EOF
nginx -c "$TMP/nginx.conf" -p "$TMP" & NGINX_PID=$!
sleep 0.5

echo "posthook-api vs nginx-light; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg);" \
	"$MESSAGES messages, $TOTAL deliveries; wrk -t$THREADS -c$CONNS -d${SECS}s"
printf '%-44s %9s %10s %10s %8s\n' target bytes req/s p50_ms p99_ms

# run NAME URL [HEADER] - one wrk run, one line
run() {
	if [ -n "${3:-}" ]; then
		wrk -t$THREADS -c$CONNS -d"${SECS}s" --latency -H "$3" "$2" > "$TMP/wrk.out"
	else
		wrk -t$THREADS -c$CONNS -d"${SECS}s" --latency "$2" > "$TMP/wrk.out"
	fi
	awk -v name="$1" -v bytes="$4" '
		function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
				 if (v ~ /s$/) return v * 1000; return v }
		/^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
		/^Requests\/sec/ { rps = $2 } /Non-2xx/ { bad = $NF }
		END { printf "%-44s %9d %10.0f %10.2f %8.2f%s\n", name, bytes, rps, p50, p99,
		      bad ? "  (" bad " non-2xx!)" : "" }' "$TMP/wrk.out"
}
EB=$(wc -c < "$TMP/email.json")
DB=$(wc -c < "$TMP/deliveries.json")
run "api GET /v1/emails/{id}?expand=deliveries" "$EMAIL_URL" "$AUTH" "$EB"
run "nginx static, same size" "http://127.0.0.1:$NGINX_PORT/email.json" "" "$EB"
run "api GET /v1/webhooks/{id}/deliveries" "$DLV_URL" "$AUTH" "$DB"
run "nginx static, same size" "http://127.0.0.1:$NGINX_PORT/deliveries.json" "" "$DB"

# memory: RSS before and after 60 s of load on both URLs
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$API_PID/status"; }
R0=$(rss)
wrk -t1 -c32 -d60s -H "$AUTH" "$EMAIL_URL" > /dev/null &
W1=$!
wrk -t1 -c32 -d60s -H "$AUTH" "$DLV_URL" > /dev/null &
W2=$!
sleep 30
R30=$(rss)
wait $W1 $W2
R60=$(rss)
echo "posthook-api RSS under 60 s of load: ${R0} KiB at start, ${R30} KiB at 30 s, ${R60} KiB at 60 s"
