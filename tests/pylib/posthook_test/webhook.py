"""webhook - what the posthook-webhook tests share: a scratch config
and state store, posthookctl, the daemon under the sanitizers, events
queued as the tailer would, and a loopback Receiver that verifies every
signature through the JWKS the daemon writes (jwks_file)."""

import json
import os
import pwd
import grp
import subprocess
import time

from posthook_test import harness as H

BUILD = os.environ.get("top_builddir", "..")
CTL = os.path.join(BUILD, "ctl", "posthookctl")
DAEMON = os.path.join(BUILD, "webhook", "posthook-webhook")
QUEUE = os.path.join(BUILD, "tests", "webhook", "webhook_queue")

SEED_003_KEYS = ["id", "webhookId", "webhookName", "event", "url",
		 "statusCode", "success", "attempt", "willRetry", "timestamp",
		 "request", "response"]

EVENTS = ["MessageSent", "MessageDelayed", "MessageDeliveryFailed",
	  "MessageBounced", "MessageHeld", "MessageLoaded",
	  "MessageLinkClicked", "DomainDNSError", "SendLimit", "DomainDNSOK",
	  "WebhookDisabled", "DeliveryExhausted"]


class Env:
	"""A config, a state store and (once started) a posthook-webhook."""

	def __init__(self, **conf):
		self.dir = H.scratch_dir("posthook-webhook-")
		self.state = os.path.join(self.dir, "state")
		os.makedirs(self.state, exist_ok=True)
		self.jwks = os.path.join(self.dir, "jwks.json")
		self.san = H.SanitizerDir(self.dir)
		self.conf_path = os.path.join(self.dir, "posthook.conf")
		self.daemon = None
		self.conf = {
			"state_dir": self.state,
			"signing_key": os.path.join(self.state, "signing.key"),
			"jwks_file": self.jwks,
			"pid_dir": self.dir,
			"user": pwd.getpwuid(os.getuid()).pw_name,
			"group": grp.getgrgid(os.getgid()).gr_name,
			"retry_schedule": "0 1s 2s",
			"webhook_timeout": "2s",
		}
		self.conf.update(conf)
		self.write_conf()

	def write_conf(self):
		with open(self.conf_path, "w") as f:
			for k, v in self.conf.items():
				f.write("%s = %s\n" % (k, v))

	# -- posthookctl

	def ctl(self, *args, check=True, timeout=60):
		p = subprocess.run([CTL, "-c", self.conf_path] + list(args),
				   env=self.san.env(), capture_output=True,
				   text=True, timeout=timeout)
		if check and p.returncode != 0:
			raise AssertionError("posthookctl %s: status %d: %s%s" % (
				" ".join(args), p.returncode, p.stdout, p.stderr))
		return p

	def ctl_json(self, *args, check=True):
		return json.loads(self.ctl(*args, check=check).stdout)

	def create(self, name, url, events=None, *extra):
		ev = ["--events", events] if events else ["--all-events"]
		return self.ctl_json("webhooks", "create", "--name", name,
				     "--url", url, *ev, *extra)["id"]

	def attempts(self, *filters):
		"""attempts - records, oldest first."""
		out = self.ctl("--json", "deliveries", "list", "--limit", "0",
			       *filters).stdout
		return [json.loads(l) for l in reversed(out.splitlines())]

	def wait_attempts(self, n, *filters, timeout=30, pred=None):
		deadline = time.monotonic() + timeout
		while True:
			got = [a for a in self.attempts(*filters)
			       if pred is None or pred(a)]
			if len(got) >= n:
				return got
			if time.monotonic() > deadline:
				raise AssertionError("%d of %d attempts after %ss: %r"
						     % (len(got), n, timeout, got))
			time.sleep(0.1)

	def queue(self, event="MessageSent", count=1, endpoint=None):
		args = [QUEUE, self.state, event, str(count)]
		if endpoint is not None:
			args.append(str(endpoint))
		p = subprocess.run(args, env=self.san.env(), capture_output=True,
				   text=True, timeout=60, check=True)
		return p.stdout.split()

	# -- the daemon

	def start(self):
		self.daemon = H.Daemon([DAEMON, "-f", "-v", "-c", self.conf_path],
				       env=self.san.env(),
				       log=os.path.join(self.dir, "webhook.log"))
		H.wait_until(lambda: os.path.exists(self.jwks) or
			     not self.daemon.running(), 30, what="jwks_file")
		assert self.daemon.running(), self.daemon.output()
		return self.daemon

	def stop(self):
		rc = self.daemon.stop(timeout=20)
		assert rc == 0, "posthook-webhook exited %s:\n%s" % (
			rc, self.daemon.output())

	def receiver(self, **kw):
		return H.Receiver(jwks=self.jwks, **kw)

	def finish(self):
		if self.daemon is not None and self.daemon.running():
			self.stop()
		self.san.assert_clean()


def check_seed_003_shape(rec):
	"""check_seed_003_shape - the attempt record's keys in order, and types
	(docs/events.md, Delivery attempt)."""
	keys = list(rec.keys())
	assert keys[:len(SEED_003_KEYS)] == SEED_003_KEYS, keys
	assert rec["id"].startswith("whr_"), rec["id"]
	assert isinstance(rec["webhookId"], str)
	assert isinstance(rec["success"], bool)
	assert isinstance(rec["willRetry"], bool)
	assert isinstance(rec["attempt"], int)
	assert rec["statusCode"] is None or isinstance(rec["statusCode"], int)
	time.strptime(rec["timestamp"], "%Y-%m-%dT%H:%M:%SZ")
	assert list(rec["request"].keys()) == ["payload", "headers"]
	assert list(rec["response"].keys()) == ["statusCode", "body"]
	for k in ("duration", "error", "uuid"):
		assert k in rec, k
