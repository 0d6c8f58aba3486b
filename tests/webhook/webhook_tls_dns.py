"""An HTTPS endpoint whose certificate does not verify, and an endpoint
whose name does not resolve (inside a private network namespace whose only
resolver is the harness's DNS trap, answering SERVFAIL): each attempt fails
with its reason, TLS or DNS, and a healthy endpoint still gets its events."""

import http.server
import ssl
import sys
import threading

from posthook_test import webhook as W

H = W.H
if not H.isolate_network("servfail"):
	print("SKIP: needs root and unshare for a private network namespace")
	sys.exit(77)

certfile, keyfile = H.self_signed_cert("hooks.example.test")


class Handler(http.server.BaseHTTPRequestHandler):
	def do_POST(self):
		self.send_response(200)
		self.end_headers()

	def log_message(self, *a):
		pass


tls = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(certfile, keyfile)
tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
threading.Thread(target=tls.serve_forever, daemon=True).start()

# A generous limit: under load the handshake that fails can be slow, and
# the attempt must fail for its certificate, not for the time.
env = W.Env(retry_schedule="0", webhook_timeout="20s")
good = env.receiver()
t = env.create("self-signed", "https://127.0.0.1:%d/hook" % tls.server_address[1])
d = env.create("unresolvable", "http://hooks.example.test:8080/hook")
g = env.create("good", good.url)
env.start()
env.queue("MessageSent", 2)
good.wait_requests(2)
rt = env.wait_attempts(2, "--webhook", t)
rd = env.wait_attempts(2, "--webhook", d)
assert all(r["error"].startswith("TLS") and r["statusCode"] is None for r in rt), rt[0]
assert all(r["error"].startswith("DNS") and r["statusCode"] is None for r in rd), rd[0]
assert all(not r["success"] for r in rt + rd)
assert "hooks.example.test" in H.dns_trap.queries, H.dns_trap.queries
assert all(r["success"] for r in env.attempts("--webhook", g))
env.finish()
tls.shutdown()
print("ok")
