#!/bin/sh
# track_bench.sh - the tracking server (posthook-api's track_listen) beside
# nginx-light serving a static 1x1 GIF and a 302, in one run; then the time
# from a hit to its webhook at a receiver.
#
# Usage: bench/track_bench.sh [BUILDDIR] [SECONDS]
#   BUILDDIR where posthook was built (default: .), with
#            tests/track_server/track_seed built (make -C tests track_server/track_seed)
#   SECONDS  each wrk run (default 20)
# Needs wrk and nginx-light (Debian).  Everything listens on 127.0.0.1.
#
# MESSAGES message records with LINKS links each are seeded; wrk spreads
# its requests over all their pixel (or click) URLs with a Lua script.
# Every hit is a real one: the token checked, the hit kept in the store
# and its event queued, while posthook-webhook delivers the events to
# nginx (a 200 for every POST).  The latency run then makes HITS pixel
# hits, 20 ms apart, on messages of their own, and a Python receiver
# notes when each event arrives.  Last, the pixel and click runs again
# with posthook-webhook stopped, to tell the server's own cost from the
# fan-out's.
set -eu
BUILD=$(cd "${1:-.}" && pwd)
SECS=${2:-20}
MESSAGES=${MESSAGES:-200}
LINKS=${LINKS:-5}
HITS=${HITS:-300}
CONNS=64
THREADS=2
TMP=$(mktemp -d)
API_PID= WEBHOOK_PID= NGINX_PID=
cleanup() {
	for p in $API_PID $WEBHOOK_PID; do kill "$p" 2>/dev/null || true; done
	[ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
	sleep 0.5
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
API_PORT=$(port) TRACK_PORT=$(port) NGINX_PORT=$(port) RCV_PORT=$(port)

cat > "$TMP/posthook.conf" <<EOF
state_dir = $TMP/state
pid_dir = $TMP
signing_key = $TMP/state/signing.key
user = $(id -un)
group = $(id -gn)
api_listen = 127.0.0.1:$API_PORT
track_listen = 127.0.0.1:$TRACK_PORT
track_rate_limit = 100000000
track_rate_burst = 100000000
api_max_connections = 1024
webhook_max_in_flight = 64
webhook_max_per_endpoint = 64
EOF
CTL="$BUILD/ctl/posthookctl -c $TMP/posthook.conf"
SEED="$BUILD/tests/track_server/track_seed"
mkdir -p "$TMP/state"

# the records and the URL lists wrk walks through
python3 - "$SEED" "$TMP" "$MESSAGES" "$LINKS" "$HITS" <<'EOF'
import json, subprocess, sys, time
seed, tmp, n, k, hits = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
state = tmp + "/state"
now = time.time() - 3600
def tok(*a):
    return subprocess.run([seed, state, "token"] + [str(x) for x in a], check=True,
                          capture_output=True, text=True).stdout.strip()
opens, clicks, later = [], [], []
for i in range(1, n + hits + 1):
    rec = {"id": i, "token": "bt%06d" % i, "direction": "outgoing",
           "message_id": "bt%06d@bench.test" % i, "from": "news@bench.test",
           "subject": "Bench %d" % i, "timestamp": now, "spam_status": "NotChecked",
           "tag": "bench", "metadata": None, "queue_id": "BQ%06d" % i,
           "recipients": ["reader%d@example.com" % i], "track": "all",
           "links": ["https://example.com/article/%d?utm_source=news&id=%d" % (j, i)
                     for j in range(k)]}
    subprocess.run([seed, state, "message", json.dumps(rec)], check=True)
    if i <= n:
        opens.append("/o/" + tok(i, "o"))
        clicks.append("/c/" + tok(i, "c", i % k))
    else:
        later.append("%d /o/%s" % (i, tok(i, "o")))
for name, paths in (("opens", opens), ("clicks", clicks)):
    with open("%s/%s.lua" % (tmp, name), "w") as f:
        f.write("local paths = {%s}\nlocal i = 0\n" % ",".join('"%s"' % p for p in paths))
        f.write("request = function()\n  i = i %% %d + 1\n"
                "  return wrk.format(\"GET\", paths[i])\nend\n" % len(paths))
with open(tmp + "/later.txt", "w") as f:
    f.write("\n".join(later) + "\n")
EOF

# nginx-light: the same answers from a static file and a return
chmod 755 "$TMP"
mkdir -p "$TMP/www"
printf 'GIF89a\001\000\001\000\200\000\000\000\000\000\377\377\377!\371\004\001\000\000\000\000,\000\000\000\000\001\000\001\000\000\002\002D\001\000;' > "$TMP/www/pixel.gif"
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
		 location = /pixel.gif { add_header Cache-Control no-store; }
		 location = /click { return 302 https://example.com/article/1?utm_source=news&id=1; }
		 location = /hook { return 200 "ok"; } }
}
EOF
nginx -c "$TMP/nginx.conf" -p "$TMP" & NGINX_PID=$!
"$BUILD/api/posthook-api" -f -c "$TMP/posthook.conf" 2> "$TMP/api.log" & API_PID=$!
"$BUILD/webhook/posthook-webhook" -f -c "$TMP/posthook.conf" 2> "$TMP/webhook.log" & WEBHOOK_PID=$!
sleep 1
NGX_HOOK=$($CTL --json webhooks create --name nginx --url "http://127.0.0.1:$NGINX_PORT/hook" \
	--all-events | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

echo "posthook tracking vs nginx-light; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg);" \
	"$MESSAGES messages; wrk -t$THREADS -c$CONNS -d${SECS}s"
printf '%-44s %10s %10s %8s\n' target req/s p50_ms p99_ms

# run NAME URL [SCRIPT] - one wrk run, one line
run() {
	if [ -n "${3:-}" ]; then
		wrk -t$THREADS -c$CONNS -d"${SECS}s" --latency -s "$3" "$2" > "$TMP/wrk.out"
	else
		wrk -t$THREADS -c$CONNS -d"${SECS}s" --latency "$2" > "$TMP/wrk.out"
	fi
	awk -v name="$1" -v want="$4" '
		function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
				 if (v ~ /s$/) return v * 1000; return v }
		/^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
		/^Requests\/sec/ { rps = $2 } /Non-2xx/ { bad = $NF }
		END { printf "%-44s %10.0f %10.2f %8.2f%s\n", name, rps, p50, p99,
		      (bad && want == 200) ? "  (" bad " non-2xx!)" : "" }' "$TMP/wrk.out"
}
# drain - wait (up to 10 minutes) until posthook-webhook has delivered
# every event queued so far, so that no run pays for the one before
drain() {
	python3 - "$CTL" <<'EOF'
import json, subprocess, sys, time
ctl = sys.argv[1].split()
for _ in range(1200):
    st = json.loads(subprocess.run(ctl + ["--json", "status"], capture_output=True,
                                   text=True).stdout or "{}")
    if st.get("outbox_depth") == 0 and all(not e.get("waiting") for e in st.get("endpoints", [])):
        break
    time.sleep(0.5)
EOF
}
T="http://127.0.0.1:$TRACK_PORT"
N="http://127.0.0.1:$NGINX_PORT"
run "posthook GET /o/TOKEN (pixel, event queued)" "$T/" "$TMP/opens.lua" 200
drain
run "nginx static 43-byte GIF" "$N/pixel.gif" "" 200
run "posthook GET /c/TOKEN (302, event queued)" "$T/" "$TMP/clicks.lua" 302
drain
run "nginx return 302" "$N/click" "" 302

# latency: hit -> webhook received, on an endpoint of its own
drain
$CTL webhooks delete "$NGX_HOOK" > /dev/null
python3 - "$TMP/later.txt" "$T" "$RCV_PORT" "$CTL" <<'EOF'
import http.client, http.server, json, subprocess, sys, threading, time
later, base, rport, ctl = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].split()
got = {}
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        t = time.time()
        try:
            ev = json.loads(body)
            if ev["event"] == "MessageLoaded":
                got.setdefault(ev["payload"]["message"]["id"], t)
        except (ValueError, KeyError):
            pass
        self.send_response(200); self.send_header("Content-Length", "2")
        self.end_headers(); self.wfile.write(b"ok")
srv = http.server.ThreadingHTTPServer(("127.0.0.1", rport), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
subprocess.run(ctl + ["webhooks", "create", "--name", "rcv", "--url",
                      "http://127.0.0.1:%d/hook" % rport, "--events", "MessageLoaded"],
               check=True, capture_output=True)
time.sleep(3)  # the sender picks up the new endpoint
host, port = base.split("//")[1].split(":")
sent = {}
for line in open(later):
    mid, path = line.split()
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    t = time.time()
    c.request("GET", path)
    c.getresponse().read()
    c.close()
    sent[int(mid)] = t
    time.sleep(0.02)
deadline = time.time() + 60
while len(got) < len(sent) and time.time() < deadline:
    time.sleep(0.1)
lat = sorted((got[m] - sent[m]) * 1000 for m in sent if m in got)
if not lat:
    print("latency: no webhook arrived"); sys.exit(1)
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print("hit -> webhook received: %d of %d arrived; p50 %.1f ms, p99 %.1f ms, max %.1f ms"
      % (len(lat), len(sent), q(0.5), q(0.99), lat[-1]))
srv.shutdown()
EOF
# the tracking server alone: posthook-webhook stopped (SIGTERM: a SIGSTOP
# could freeze it holding a store lock), so that its fan-out does not share
# the cores; these runs' events stay in the outbox
kill "$WEBHOOK_PID" && wait "$WEBHOOK_PID" || true
WEBHOOK_PID=
run "posthook pixel, sender stopped" "$T/" "$TMP/opens.lua" 200
run "posthook click, sender stopped" "$T/" "$TMP/clicks.lua" 302

# how many transactions the hits took (group commit), from the API's last words
kill "$API_PID" && wait "$API_PID" || true
API_PID=
grep -o 'tracking: .*' "$TMP/api.log" || true
