"""rabbit - a scratch RabbitMQ broker on loopback for the AMQP sink's tests.

Debian's rabbitmq-server, run as the rabbitmq user, with its own node name,
AMQP and distribution ports, its own epmd on a loopback port, and its
mnesia and log directories in a scratch directory the rabbitmq user owns.
Nothing of a system broker is touched.  stop() and start() again keep the
data (durable exchange and quorum queue), as a broker restart does.
"""

import os
import shutil
import subprocess
import time

from posthook_test import harness as H

USER = "rabbitmq"
SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
CTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"


def available():
	"""Is Debian's rabbitmq-server installed (and its user there)?"""
	import pwd
	try:
		pwd.getpwnam(USER)
	except KeyError:
		return False
	return os.access(SERVER, os.X_OK) and os.access(CTL, os.X_OK)


class Broker:
	"""One scratch node; url is its amqp:// URL (guest on loopback)."""

	def __init__(self, base=None):
		import pwd
		pw = pwd.getpwnam(USER)
		self.base = base or H.scratch_dir("posthook-rabbit-")
		os.chown(self.base, pw.pw_uid, pw.pw_gid)
		os.chmod(self.base, 0o755)
		self.port = H.free_port()
		self.dist_port = H.free_port()
		self.epmd_port = H.free_port()
		self.node = "phtest%d@localhost" % self.port
		self.url = "amqp://guest:guest@127.0.0.1:%d/%%2f" % self.port
		home = os.path.join(self.base, "home")
		for d in ("mnesia", "log", "home"):
			p = os.path.join(self.base, d)
			os.makedirs(p, exist_ok=True)
			os.chown(p, pw.pw_uid, pw.pw_gid)
		plugins = os.path.join(self.base, "enabled_plugins")
		with open(plugins, "w") as f:
			f.write("[].\n")
		os.chmod(plugins, 0o644)
		self.env = dict(os.environ,
				HOME=home,
				RABBITMQ_NODENAME=self.node,
				RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
				RABBITMQ_NODE_PORT=str(self.port),
				RABBITMQ_DIST_PORT=str(self.dist_port),
				ERL_EPMD_ADDRESS="127.0.0.1",
				ERL_EPMD_PORT=str(self.epmd_port),
				RABBITMQ_MNESIA_BASE=os.path.join(self.base, "mnesia"),
				RABBITMQ_LOG_BASE=os.path.join(self.base, "log"),
				RABBITMQ_ENABLED_PLUGINS_FILE=plugins,
				RABBITMQ_CONFIG_FILE=os.path.join(self.base, "none"),
				RABBITMQ_PID_FILE=os.path.join(self.base, "home",
							       "pid"))
		self.proc = None
		self.log = os.path.join(self.base, "server.out")

	def _as_rabbit(self, argv):
		return ["runuser", "-u", USER, "--"] + argv

	def ctl(self, *args, timeout=60, check=True):
		r = subprocess.run(self._as_rabbit([CTL, "-n", self.node]
						   + list(args)),
				   env=self.env, capture_output=True, text=True,
				   timeout=timeout)
		if check and r.returncode != 0:
			raise RuntimeError("rabbitmqctl %s: %s%s" % (
				" ".join(args), r.stdout, r.stderr))
		return r

	def start(self, timeout=240):
		out = open(self.log, "a")
		self.proc = subprocess.Popen(self._as_rabbit([SERVER]),
					     env=self.env, stdout=out,
					     stderr=subprocess.STDOUT,
					     stdin=subprocess.DEVNULL,
					     start_new_session=True)
		out.close()
		deadline = time.time() + timeout
		while True:
			# rabbitmqctl is an Erlang VM of its own: slow on a
			# loaded machine, so a time-out is only another try
			try:
				r = self.ctl("await_startup", "--timeout", "30",
					     timeout=90, check=False)
				if r.returncode == 0:
					return self
			except subprocess.TimeoutExpired:
				pass
			if self.proc.poll() is not None or time.time() > deadline:
				raise RuntimeError("rabbitmq did not start: %s"
						   % self.output()[-3000:])
			time.sleep(1)

	def output(self):
		try:
			with open(self.log, errors="replace") as f:
				return f.read()
		except OSError:
			return ""

	def stop(self):
		"""stop - the node (its data stays) and its epmd."""
		if self.proc is None:
			return
		try:
			self.ctl("stop", timeout=120, check=False)
		except subprocess.TimeoutExpired:
			pass
		try:
			self.proc.wait(timeout=60)
		except subprocess.TimeoutExpired:
			os.killpg(self.proc.pid, 9)
			self.proc.wait()
		self.proc = None

	def close(self):
		try:
			self.stop()
		finally:
			# the node's epmd, started for its port: end it by
			# that port
			subprocess.run(self._as_rabbit(
				["epmd", "-port", str(self.epmd_port), "-kill"]),
				env=self.env, capture_output=True, timeout=60)

	def remove(self):
		shutil.rmtree(self.base, ignore_errors=True)


def import_pika():
	"""pika from Debian's python3-pika, also under another python3."""
	import sys
	try:
		import pika
	except ImportError:
		sys.path.append("/usr/lib/python3/dist-packages")
		import pika
	return pika


class Reader:
	"""An independent consumer: every message of a queue, with its
	properties, read with pika's basic_get (no ack lost: each is acked
	once stored here)."""

	def __init__(self, url, queue):
		self.pika = import_pika()
		self.url = url
		self.queue = queue
		self.messages = []  # dicts: key, props, body (parsed)

	def drain(self):
		"""drain - read what the queue holds now; how many were read."""
		import json
		conn = self.pika.BlockingConnection(
			self.pika.URLParameters(self.url))
		n = 0
		try:
			ch = conn.channel()
			while True:
				m, props, body = ch.basic_get(self.queue)
				if m is None:
					break
				self.messages.append({
					"key": m.routing_key,
					"exchange": m.exchange,
					"props": props,
					"body": json.loads(body),
					"raw": body,
				})
				ch.basic_ack(m.delivery_tag)
				n += 1
		finally:
			conn.close()
		return n
