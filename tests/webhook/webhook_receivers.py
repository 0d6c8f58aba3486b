"""The example receivers of contrib/receivers (Python, Node.js, Ruby, PHP),
each against real deliveries of posthook-webhook: every event type is
verified through the JWKS and accepted (recorded as success), a replay
(same uuid, new signature) is answered "duplicate" and processed once,
after "posthookctl keys rotate" the receiver fetches the JWKS again on the
unknown kid and keeps verifying, and a real delivery tampered with, a
garbage signature or a key the JWKS does not publish is refused with 401.

The daemon writes jwks_file; the test serves it over HTTP on loopback and
counts the receiver's fetches.  A receiver whose runtime is not installed
is skipped; with none installed the test is skipped."""

import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from posthook_test import webhook as W

H = W.H
RECEIVERS = os.path.join(os.environ.get("top_srcdir", ".."), "contrib",
			 "receivers")


class JWKSServer:
	"""jwks_file over HTTP on 127.0.0.1, counting GETs."""

	def __init__(self, path):
		self.path = path
		self.fetches = 0
		srv = self

		class Handler(http.server.BaseHTTPRequestHandler):
			def do_GET(self):
				with open(srv.path, "rb") as f:
					body = f.read()
				srv.fetches += 1
				self.send_response(200)
				self.send_header("Content-Type", "application/json")
				self.send_header("Content-Length", str(len(body)))
				self.end_headers()
				self.wfile.write(body)

			def log_message(self, *a):
				pass

		self.server = http.server.ThreadingHTTPServer((H.LOOPBACK, 0), Handler)
		self.url = "http://%s:%d/jwks.json" % (H.LOOPBACK,
						       self.server.server_address[1])
		threading.Thread(target=self.server.serve_forever, daemon=True).start()

	def stop(self):
		self.server.shutdown()
		self.server.server_close()


def runtime_ok(name):
	"""runtime_ok - None if the receiver can run here, else why not."""
	if name == "python":
		try:
			import cryptography  # noqa: F401
		except ImportError:
			return "python3-cryptography not installed"
		return None
	exe = {"node": "node", "ruby": "ruby", "php": "php"}[name]
	if shutil.which(exe) is None:
		return exe + " not installed"
	if name == "php":
		mods = subprocess.run(["php", "-m"], capture_output=True,
				      text=True, timeout=30).stdout.split()
		if "openssl" not in mods or "pcntl" not in mods:
			return "php-cli without openssl or pcntl"
	return None


def post(port, body, headers):
	"""post - (status, answer text) of one POST to the receiver."""
	req = urllib.request.Request("http://127.0.0.1:%d/webhook" % port,
				     data=body, method="POST",
				     headers=dict(headers, **{
					     "Content-Type": "application/json"}))
	try:
		with urllib.request.urlopen(req, timeout=10) as r:
			return r.status, r.read().decode().strip()
	except urllib.error.HTTPError as e:
		return e.code, e.read().decode().strip()


def wait_listening(port, proc):
	def up():
		assert proc.running(), "receiver exited:\n" + proc.output()
		try:
			socket.create_connection(("127.0.0.1", port), 0.5).close()
			return True
		except OSError:
			return False
	H.wait_until(up, 20, interval=0.1, what="receiver on port %d" % port)


class Run:
	"""One receiver, one posthook-webhook, one endpoint."""

	def __init__(self, name, argv, prefix):
		self.name, self.prefix = name, prefix
		self.env = W.Env(signature_header_prefix=prefix,
				 key_activation_delay="0")
		self.jwks = JWKSServer(self.env.jwks)
		self.port = H.free_port()
		renv = dict(os.environ,
			    POSTHOOK_STATE_DIR=os.path.join(self.env.dir, "receiver"))
		self.proc = H.Daemon(argv + [self.jwks.url, str(self.port), prefix],
				     env=renv, cwd=self.env.dir,
				     log=os.path.join(self.env.dir, name + ".log"))
		wait_listening(self.port, self.proc)
		self.url = "http://127.0.0.1:%d/webhook" % self.port
		self.ep = self.env.create(name, self.url)
		# a second endpoint that captures real signed bodies for the
		# negative checks
		self.capture = self.env.receiver(prefix=prefix)
		self.cap = self.env.create("capture", self.capture.url, "MessageHeld")
		self.env.start()

	def say(self, what):
		print("%s: %s" % (self.name, what), flush=True)

	def attempts(self):
		return self.env.attempts("--webhook", self.ep)

	def processed(self):
		"""processed - uuid -> how many "event UUID NAME" lines."""
		n = {}
		for line in self.proc.output().splitlines():
			f = line.split()
			if len(f) == 3 and f[0] == "event":
				n[f[1]] = n.get(f[1], 0) + 1
		return n

	def wait_processed(self, uuids):
		H.wait_until(lambda: all(u in self.processed() for u in uuids), 20,
			     what="%s processing %s" % (self.name, uuids))

	def deliver(self, event, count=1):
		"""deliver - queue events for the endpoint; their new attempts."""
		before = {a["id"] for a in self.attempts()}
		self.env.queue(event, count, self.ep)
		got = self.env.wait_attempts(len(before) + count, "--webhook", self.ep)
		new = [a for a in got if a["id"] not in before]
		for a in new:
			self.check_accepted(a, "ok")
		self.wait_processed([a["uuid"] for a in new])
		return new

	def check_accepted(self, a, answer):
		assert a["success"] is True and a["statusCode"] == 200, \
			"%s: %r\n%s" % (self.name, a, self.proc.output())
		assert a["response"]["body"].strip() == answer, (self.name, a["response"])

	def kid_of(self, a):
		return a["request"]["headers"][self.prefix + "-Signature-KID"]

	def finish(self):
		self.env.finish()
		self.proc.stop()
		self.jwks.stop()


def scenario(r):
	# 1. every event type, verified and accepted, processed once each
	sent = []
	for ev in W.EVENTS:
		sent += r.deliver(ev)
	sent += r.deliver("MessageSent", 3)
	counts = r.processed()
	assert len(counts) == len(sent) and set(counts.values()) == {1}, counts
	assert r.jwks.fetches == 1, "%s: %d JWKS fetches" % (r.name, r.jwks.fetches)
	old_kid = r.kid_of(sent[0])
	assert all(r.kid_of(a) == old_kid for a in sent)
	r.say("%d real deliveries verified and accepted" % len(sent))

	# 2. replay: same uuid, new timestamp and signature; "duplicate"
	def replay(a):
		before = {x["id"] for x in r.attempts()}
		r.env.ctl_json("deliveries", "replay", a["id"])
		got = r.env.wait_attempts(len(before) + 1, "--webhook", r.ep)
		rp = [x for x in got if x["id"] not in before][0]
		assert rp["uuid"] == a["uuid"], (rp, a)
		sig = r.prefix + "-Signature"
		assert rp["request"]["headers"][sig] != a["request"]["headers"][sig]
		r.check_accepted(rp, "duplicate")
		return rp
	replay(sent[0])
	# a fresh event after the replay: processed after anything the replay
	# could have queued in the receiver
	sent += r.deliver("MessageSent")
	assert r.processed()[sent[0]["uuid"]] == 1, r.processed()
	r.say("replay accepted as a duplicate, processed once")

	# 3. rotation: the receiver learns the new kid from the JWKS
	new_kid = r.env.ctl_json("keys", "rotate")["kid"]
	assert new_kid != old_kid
	# Four at a time (webhook_max_per_endpoint): the first requests with
	# the new kid arrive together, while the JWKS is being fetched.
	deadline = time.monotonic() + 30
	while True:
		batch = r.deliver("MessageSent", 4)
		kids = {r.kid_of(a) for a in batch}
		assert kids <= {old_kid, new_kid}, batch
		if new_kid in kids:
			break
		assert time.monotonic() < deadline, "%s: never signed with %s" % (
			r.name, new_kid)
		time.sleep(0.5)
	assert r.jwks.fetches == 2, "%s: %d JWKS fetches" % (r.name, r.jwks.fetches)
	later = r.deliver("MessageDelayed", 2)
	assert all(r.kid_of(x) == new_kid for x in later)
	assert r.jwks.fetches == 2
	rp = replay(sent[1])
	assert r.kid_of(rp) == new_kid
	assert set(r.processed().values()) == {1}, r.processed()
	r.say("after keys rotate: JWKS fetched again on the new kid, still verifying")

	# 4. refused: a real delivery tampered with, bad signatures, unknown key
	r.env.queue("MessageHeld", 1, r.cap)
	real = r.capture.wait_requests(1)[0]
	assert real.verified, real.verify_error
	p = r.prefix
	good = {p + "-Signature": real.header(p + "-Signature"),
		p + "-Signature-KID": real.header(p + "-Signature-KID")}
	stranger = H.SigningKey()
	tampered = real.body.replace(b'"MessageHeld"', b'"MessageSent"')
	assert tampered != real.body
	refused = [
		("body changed", tampered, good),
		("garbage signature", real.body,
		 dict(good, **{p + "-Signature": "not*base64"})),
		("signature of another body", real.body,
		 dict(good, **{p + "-Signature": stranger.sign(b"{}")})),
		("signed by a key not published, its kid", real.body,
		 stranger.headers(real.body, p)),
		("signed by a key not published, a known kid", real.body,
		 dict(good, **{p + "-Signature": stranger.sign(real.body)})),
		("no signature", real.body, {}),
		("another header prefix", real.body,
		 {"X-Other-Signature": good[p + "-Signature"],
		  "X-Other-Signature-KID": good[p + "-Signature-KID"]}),
	]
	for what, body, headers in refused:
		got = post(r.port, body, headers)
		assert got == (401, "bad signature"), "%s: %s: %r" % (r.name, what, got)
	# the real delivery itself, posted again as is: its uuid is new here
	assert post(r.port, real.body, good) == (200, "ok")
	assert post(r.port, real.body, good) == (200, "duplicate")
	r.wait_processed([real.json["uuid"]])
	assert set(r.processed().values()) == {1}, r.processed()
	r.say("tampered body, bad signatures and unknown keys refused (401)")

	# every attempt of the endpoint succeeded
	assert all(a["success"] for a in r.attempts())


RUNS = [
	("python", [sys.executable, os.path.join(RECEIVERS, "receiver.py")], "X-Posthook"),
	("node", ["node", os.path.join(RECEIVERS, "receiver.js")], "X-Ark"),
	("ruby", ["ruby", os.path.join(RECEIVERS, "receiver.rb")], "X-Posthook"),
	("php", ["php", os.path.join(RECEIVERS, "receiver.php")], "X-Ark"),
]

ran = []
for name, argv, prefix in RUNS:
	why = runtime_ok(name)
	if why is not None:
		print("SKIP %s: %s" % (name, why))
		continue
	r = Run(name, argv, prefix)
	scenario(r)
	r.finish()
	ran.append(name)
print("receivers run: %s" % " ".join(ran))
if not ran:
	sys.exit(77)
print("ok")
