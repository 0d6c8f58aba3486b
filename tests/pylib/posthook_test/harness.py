"""harness - the shared test harness of the posthook suites.

Real parts on loopback only, no DNS, bounded times:

  ScratchPostfix  Debian's Postfix with its own config dir, queue and
                  maillog_file under a scratch directory (postfix -c DIR).
  ScriptedMX      an SMTP server answering per recipient from a script and
                  recording what it received and what it answered.
  ClosedPort      a loopback port that refuses connections.
  Receiver        an HTTP server that records every POST, verifies the RSA
                  signature against a JWKS and answers from a script.
  SigningKey      a throwaway RSA key that signs like posthook-webhook.
  SanitizerDir    ASAN/UBSAN log_path directory; assert_clean() fails on
                  any report a background daemon wrote.
  Daemon          a background process started with a log file, stopped
                  (SIGTERM, then SIGKILL) at exit.
  Checks          the checks of a plain test script and its exit code;
                  built() is a path in the build tree.

Everything started here is stopped by stop(), by "with", and at exit.
Only the Python standard library and python3-cryptography are used.
"""

import atexit
import base64
import binascii
import datetime
import email
import email.policy
import email.utils
import hashlib
import http.server
import json
import os
import re
import shutil
import signal
import smtplib
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time

LOOPBACK = "127.0.0.1"
POSTFIX_SBIN = "/usr/sbin"
POSTFIX_META = "/etc/postfix"		# read only: postfix-files, dynamicmaps

# The members of a MessageBounced payload, in order: the bounce intake's
# and `posthookctl webhooks test`'s alike (lib/event/bounce_event.c).
BOUNCED_KEYS = ["original_message", "bounce", "status", "classification",
		"classification_code", "smtp_enhanced_code", "remote_host",
		"diagnostic", "recipient"]

_live = []				# objects whose stop() runs at exit
_live_lock = threading.Lock()
_scratch = []				# scratch dirs removed at a clean exit
_failed = False


def mark_failed():
	"""mark_failed - keep scratch dirs and save logs at exit."""
	global _failed
	_failed = True


def failed():
	return _failed


def _excepthook(etype, value, tb):
	mark_failed()
	_prev_excepthook(etype, value, tb)


_prev_excepthook = sys.excepthook
sys.excepthook = _excepthook


def _register(obj):
	with _live_lock:
		_live.append(obj)
	_install_signal_cleanup()


def _unregister(obj):
	with _live_lock:
		if obj in _live:
			_live.remove(obj)


def stop_all():
	"""stop_all - stop everything this process started (last first)."""
	while True:
		with _live_lock:
			if not _live:
				return
			obj = _live.pop()
		if _failed and hasattr(obj, "failed"):
			obj.failed = True
		try:
			obj.stop()
		except Exception as e:	# keep stopping the others
			print("harness: stop %r: %s" % (obj, e), file=sys.stderr)


def _at_exit():
	stop_all()
	if _failed or os.environ.get("POSTHOOK_KEEP_SCRATCH"):
		if _scratch:
			print("harness: scratch kept: %s" % " ".join(_scratch),
			      file=sys.stderr)
		return
	for d in _scratch:
		shutil.rmtree(d, ignore_errors=True)


atexit.register(_at_exit)
_signals_installed = False


def _install_signal_cleanup():
	"""Turn SIGTERM/SIGHUP (make's timeout, ^C of a parent) into exit."""
	global _signals_installed
	if _signals_installed or \
	   threading.current_thread() is not threading.main_thread():
		return
	_signals_installed = True
	for sig in (signal.SIGTERM, signal.SIGHUP):
		if signal.getsignal(sig) == signal.SIG_DFL:
			signal.signal(sig, _exit_on_signal)


def _exit_on_signal(sig, frame):
	mark_failed()
	sys.exit(128 + sig)


def built(*parts):
	"""built - a path in the build tree ($top_builddir, else here)."""
	return os.path.join(os.environ.get("top_builddir", "."), *parts)


class Checks:
	"""The checks of a plain test script: check(cond, what) prints
	"ok - WHAT" (unless quiet) or "FAIL: WHAT" and keeps each failure in
	.failures; exit_code() counts them: 1 if any failed, else 0."""

	def __init__(self, quiet=False):
		self.failures = []
		self.quiet = quiet

	def check(self, cond, what):
		if not cond:
			self.failures.append(what)
			print("FAIL: " + what)
		elif not self.quiet:
			print("ok - " + what)
		return bool(cond)

	def exit_code(self):
		if self.failures:
			print("%d failures" % len(self.failures))
			return 1
		print("all passed")
		return 0


def free_port():
	"""free_port - a TCP port on 127.0.0.1 that was free a moment ago."""
	s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	try:
		s.bind((LOOPBACK, 0))
		return s.getsockname()[1]
	finally:
		s.close()


def listening_ports():
	"""listening_ports - TCP ports listening on 127.0.0.1 or any."""
	ports = set()
	with open("/proc/net/tcp") as f:
		for line in f.readlines()[1:]:
			fields = line.split()
			addr, port = fields[1].split(":")
			if fields[3] == "0A" and addr in ("0100007F", "00000000"):
				ports.add(int(port, 16))
	return ports


def make_dir(path, user=None, group=None, mode=0o755):
	"""make_dir - a directory owned by user:group (daemons' own dirs)."""
	os.makedirs(path, exist_ok=True)
	os.chmod(path, mode)
	if user or group:
		shutil.chown(path, user, group)
	return path


def wait_until(pred, timeout, interval=0.05, what="condition"):
	"""wait_until - poll pred() until truthy; return it or raise."""
	deadline = time.monotonic() + timeout
	while True:
		v = pred()
		if v:
			return v
		if time.monotonic() >= deadline:
			raise TimeoutError("timed out after %ss waiting for %s"
					   % (timeout, what))
		time.sleep(interval)


def artifact_dir():
	"""Where failure artifacts go: $POSTHOOK_ARTIFACT_DIR or the cwd."""
	d = os.environ.get("POSTHOOK_ARTIFACT_DIR") or os.getcwd()
	os.makedirs(d, exist_ok=True)
	return d


def test_name():
	return os.path.splitext(os.path.basename(sys.argv[0] or "test"))[0]


def scratch_dir(prefix="posthook-"):
	"""scratch_dir - a new directory (0755: daemons run as other users)."""
	d = tempfile.mkdtemp(prefix=prefix)
	os.chmod(d, 0o755)
	_scratch.append(d)
	return d


# ---------------------------------------------------------------------------
# Network isolation: no traffic beyond loopback, no DNS query unnoticed

_NETNS_ENV = "POSTHOOK_HARNESS_NETNS"
dns_trap = None				# the DNSTrap of an isolated test


def _loopback_up():
	import fcntl
	import struct
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	try:
		req = struct.pack("16sh", b"lo", 0)
		flags = struct.unpack("16sh", fcntl.ioctl(s, 0x8913, req))[1]
		fcntl.ioctl(s, 0x8914, struct.pack("16sh", b"lo", flags | 1))
	finally:
		s.close()


def _bind_mount(src, dst):
	import ctypes
	libc = ctypes.CDLL(None, use_errno=True)
	if libc.mount(src.encode(), dst.encode(), None, 4096, None) != 0:
		e = ctypes.get_errno()
		raise OSError(e, "mount --bind %s %s: %s" % (src, dst,
							    os.strerror(e)))


class DNSTrap:
	"""A resolver on 127.0.0.1:53 (UDP and TCP) that records every query
	and answers SERVFAIL (or nothing: mode="drop").  Only meaningful in
	the private namespaces of isolate_network(), where /etc/resolv.conf
	points at it."""

	def __init__(self, mode="servfail"):
		self.mode = mode
		self.queries = []
		self._lock = threading.Lock()
		self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		self.udp.bind((LOOPBACK, 53))
		self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
		self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		self.tcp.bind((LOOPBACK, 53))
		self.tcp.listen(16)
		for fn in (self._serve_udp, self._serve_tcp):
			threading.Thread(target=fn, daemon=True).start()

	@staticmethod
	def qname(pkt):
		labels, i = [], 12
		while i < len(pkt) and pkt[i]:
			labels.append(pkt[i + 1:i + 1 + pkt[i]].decode(
				"ascii", "replace"))
			i += 1 + pkt[i]
		return ".".join(labels)

	def _answer(self, pkt):
		with self._lock:
			self.queries.append(self.qname(pkt))
		print("harness: DNS query for %r" % self.qname(pkt),
		      file=sys.stderr)
		if self.mode == "drop" or len(pkt) < 12:
			return None
		flags = (pkt[2] | 0x80) & 0xf9, (pkt[3] & 0xf0) | 2
		return pkt[:2] + bytes(flags) + pkt[4:]

	def _serve_udp(self):
		while True:
			try:
				pkt, peer = self.udp.recvfrom(4096)
			except OSError:
				return
			r = self._answer(pkt)
			if r:
				self.udp.sendto(r, peer)

	def _serve_tcp(self):
		while True:
			try:
				c, _ = self.tcp.accept()
			except OSError:
				return
			with c:
				c.settimeout(5)
				try:
					n = int.from_bytes(c.recv(2), "big")
					r = self._answer(c.recv(n))
					if r:
						c.sendall(len(r).to_bytes(2, "big")
							  + r)
				except OSError:
					pass

	def assert_none(self):
		with self._lock:
			if self.queries:
				raise AssertionError("DNS queries made: %s"
						     % ", ".join(self.queries))


def isolate_network(dns_mode="servfail"):
	"""isolate_network - run this test in its own network namespace.

	Call first thing in main().  As root, re-executes the script under
	unshare -n -m (same pid): only a loopback interface exists, so no
	packet can leave the machine, and /etc/resolv.conf is bind-mounted
	(in the private mount namespace only) to point at a DNSTrap that
	records every query; check with dns_trap.assert_none().  Returns
	True when isolated, False when it cannot be (not root, no unshare).
	"""
	global dns_trap
	if os.environ.get(_NETNS_ENV) == "1":
		if dns_trap is None:
			_loopback_up()
			d = scratch_dir("posthook-ns-")
			conf = os.path.join(d, "resolv.conf")
			with open(conf, "w") as f:
				f.write("nameserver 127.0.0.1\noptions attempts:1"
					" timeout:1\n")
			os.chmod(conf, 0o644)
			_bind_mount(conf, "/etc/resolv.conf")
			dns_trap = DNSTrap(dns_mode)
		return True
	unshare = shutil.which("unshare")
	if os.geteuid() != 0 or unshare is None:
		return False
	env = dict(os.environ)
	env[_NETNS_ENV] = "1"
	sys.stdout.flush()
	sys.stderr.flush()
	os.execve(unshare, [unshare, "-n", "-m", "--", sys.executable] +
		  sys.argv, env)


# ---------------------------------------------------------------------------
# Sanitizer reports


class SanitizerDir:
	"""A directory for ASan/UBSan reports of background daemons.

	env() gives the variables to start a daemon with; assert_clean()
	raises AssertionError with every report's content.  Options in
	POSTHOOK_SANITIZER_OPTIONS (colon-separated, e.g.
	"fast_unwind_on_malloc=0:malloc_context_size=40:log_exe_name=1" for
	full stacks and the program's name in each report's file name) are
	added to all three variables."""

	def __init__(self, base=None, halt_on_error=False):
		self.path = os.path.join(base or scratch_dir(), "sanitizer")
		os.makedirs(self.path, exist_ok=True)
		os.chmod(self.path, 0o1777)	# daemons drop to their user
		self.halt = "1" if halt_on_error else "0"

	def env(self, base=None):
		e = dict(os.environ if base is None else base)
		e["ASAN_OPTIONS"] = ("log_path=%s/asan:print_stacktrace=1:"
				     "halt_on_error=%s:detect_leaks=1"
				     % (self.path, self.halt))
		e["UBSAN_OPTIONS"] = ("log_path=%s/ubsan:print_stacktrace=1:"
				      "halt_on_error=%s" % (self.path, self.halt))
		e["LSAN_OPTIONS"] = "log_path=%s/lsan" % self.path
		extra = e.get("POSTHOOK_SANITIZER_OPTIONS", "").strip(":")
		if extra:
			for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
				e[k] += ":" + extra
		return e

	def reports(self):
		out = []
		for name in sorted(os.listdir(self.path)):
			p = os.path.join(self.path, name)
			if os.path.isfile(p):
				with open(p, errors="replace") as f:
					out.append((p, f.read()))
		return out

	def assert_clean(self):
		r = self.reports()
		if r:
			raise AssertionError("sanitizer reports:\n" + "\n".join(
				"==== %s\n%s" % (p, text) for p, text in r))


# ---------------------------------------------------------------------------
# Background daemons (posthook-*, filters)


class Daemon:
	"""A background process with its output in a log file.

	Started in its own process group; stop() sends SIGTERM, waits, then
	SIGKILLs that group (only the processes it started)."""

	def __init__(self, argv, env=None, log=None, cwd=None):
		self.argv = list(argv)
		self.log = log or os.path.join(scratch_dir(),
					       os.path.basename(argv[0]) + ".log")
		self._logf = open(self.log, "ab")
		self.proc = subprocess.Popen(self.argv, env=env, cwd=cwd,
					     stdin=subprocess.DEVNULL,
					     stdout=self._logf,
					     stderr=subprocess.STDOUT,
					     start_new_session=True)
		_register(self)

	@property
	def pid(self):
		return self.proc.pid

	def running(self):
		return self.proc.poll() is None

	def send_signal(self, sig):
		if self.running():
			os.kill(self.proc.pid, sig)

	def stop(self, timeout=10, sig=signal.SIGTERM):
		"""stop - signal, wait up to timeout, then kill; exit status."""
		_unregister(self)
		if self.running():
			os.kill(self.proc.pid, sig)
			try:
				self.proc.wait(timeout)
			except subprocess.TimeoutExpired:
				try:
					os.killpg(self.proc.pid, signal.SIGKILL)
				except ProcessLookupError:
					pass
				self.proc.wait()
		if not self._logf.closed:
			self._logf.close()
		return self.proc.returncode

	def kill(self):
		"""kill - SIGKILL now (crash tests)."""
		return self.stop(timeout=5, sig=signal.SIGKILL)

	def output(self):
		with open(self.log, errors="replace") as f:
			return f.read()


# ---------------------------------------------------------------------------
# Scratch Postfix

_MASTER_SERVICES = """\
pickup    unix  n       -       n       1       1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

NO_EXTERNAL = "error:no external delivery in tests"


class ScratchPostfix:
	"""Debian's Postfix with config, queue and log under a scratch dir.

	routes: {domain: port | "transport:nexthop"}; a port routes the
	domain to smtp:[127.0.0.1]:port.  discard_domains are routed to
	discard: (senders' domains, so bounces go nowhere).  main: extra
	main.cf parameters.  smtpd_options / reinject_options: -o options
	of the first and (if reinject) second loopback smtpd.  master_extra:
	lines appended to master.cf.  header_checks: list of regexp lines.
	"""

	def __init__(self, base=None, routes=None, discard_domains=("app.test",),
		     main=None, smtpd_milters=None, non_smtpd_milters=None,
		     header_checks=None, reinject=False, smtpd_options=None,
		     reinject_options=None, master_extra="",
		     queue_lifetime="1d", hostname="mta.posthook.test"):
		self.base = base or scratch_dir("posthook-pf-")
		self.conf = os.path.join(self.base, "conf")
		self.queue_dir = os.path.join(self.base, "queue")
		self.data = os.path.join(self.base, "data")
		self.maillog = os.path.join(self.base, "maillog")
		self.hostname = hostname
		self.port = free_port()
		self.reinject_port = free_port() if reinject else None
		self.routes = dict(routes or {})
		self.discard_domains = list(discard_domains)
		self.header_checks = header_checks
		self.smtpd_options = dict(smtpd_options or {})
		self.reinject_options = dict(reinject_options or {})
		self.master_extra = master_extra
		self.params = {
			"smtpd_milters": smtpd_milters or "",
			"non_smtpd_milters": non_smtpd_milters or "",
			"maximal_queue_lifetime": queue_lifetime,
			"bounce_queue_lifetime": queue_lifetime,
		}
		self.params.update(main or {})
		self.started = False
		self.failed = False
		for d in (self.conf, self.queue_dir):
			os.makedirs(d, exist_ok=True)
			os.chmod(d, 0o755)
		os.makedirs(self.data, exist_ok=True)
		os.chmod(self.data, 0o700)
		shutil.chown(self.data, "postfix", "root")
		self._write_config()

	def __repr__(self):
		return "ScratchPostfix(%s)" % self.base

	# -- configuration

	def _main_cf(self):
		p = {
			"compatibility_level": "3.6",
			"config_directory": self.conf,
			"meta_directory": self.conf,
			"queue_directory": self.queue_dir,
			"data_directory": self.data,
			"mail_owner": "postfix",
			"setgid_group": "postdrop",
			"myhostname": self.hostname,
			"mydomain": "posthook.test",
			"myorigin": "$myhostname",
			"mydestination": "$myhostname, localhost",
			"local_transport": "discard:local mail is discarded",
			"local_recipient_maps": "",
			"alias_maps": "",
			"alias_database": "",
			"inet_interfaces": "loopback-only",
			"inet_protocols": "ipv4",
			"mynetworks": "127.0.0.0/8",
			"smtpd_relay_restrictions":
				"permit_mynetworks, reject_unauth_destination",
			"smtpd_peername_lookup": "no",
			"smtpd_banner": "$myhostname ESMTP",
			"smtpd_error_sleep_time": "0",
			"in_flow_delay": "0",
			"biff": "no",
			"append_dot_mydomain": "no",
			"enable_long_queue_ids": "yes",
			"smtp_tls_security_level": "may",
			"smtp_tls_loglevel": "1",
			"smtpd_tls_security_level": "none",
			"transport_maps": "texthash:%s/transport" % self.conf,
			"default_transport": NO_EXTERNAL,
			"relay_transport": NO_EXTERNAL,
			"relayhost": "",
			"smtp_dns_support_level": "disabled",
			"smtp_host_lookup": "native",
			"lmtp_host_lookup": "native",
			"smtp_connect_timeout": "5s",
			"notify_classes": "",
			"bounce_notice_recipient": "postmaster",
			"2bounce_notice_recipient": "postmaster",
			"delay_notice_recipient": "postmaster",
			"error_notice_recipient": "postmaster",
			"delay_warning_time": "0",
			"maillog_file": self.maillog,
			"maillog_file_prefixes": self.base,
			"queue_run_delay": "1s",
			"minimal_backoff_time": "1s",
			"maximal_backoff_time": "4s",
			# A destination that refused connections is retried
			# after this, not after the default minute.
			"transport_retry_time": "1s",
			"milter_default_action": "accept",
			"header_checks": "",
		}
		if self.header_checks is not None:
			p["header_checks"] = "regexp:%s/header_checks" % self.conf
		p.update(self.params)
		return "".join("%s = %s\n" % kv for kv in p.items())

	@staticmethod
	def _opts(opts):
		return "".join("  -o %s=%s\n" % kv for kv in opts.items())

	def _master_cf(self):
		m = "%s:%d inet n - n - - smtpd\n%s" % (
			LOOPBACK, self.port, self._opts(self.smtpd_options))
		if self.reinject_port:
			ro = {"content_filter": "", "smtpd_milters": "",
			      "receive_override_options":
				"no_unknown_recipient_checks,no_header_body_checks"}
			ro.update(self.reinject_options)
			m += "%s:%d inet n - n - - smtpd\n%s" % (
				LOOPBACK, self.reinject_port, self._opts(ro))
		return m + _MASTER_SERVICES + self.master_extra

	def _transport(self):
		lines = []
		for dom, dest in self.routes.items():
			if isinstance(dest, int):
				dest = "smtp:[%s]:%d" % (LOOPBACK, dest)
			lines.append("%s %s\n" % (dom, dest))
		for dom in self.discard_domains:
			lines.append("%s discard:sender domain in tests\n" % dom)
		return "".join(lines)

	def _write(self, name, text):
		path = os.path.join(self.conf, name)
		with open(path + ".tmp", "w") as f:
			f.write(text)
		os.chmod(path + ".tmp", 0o644)
		os.rename(path + ".tmp", path)

	def _write_config(self):
		for name in ("postfix-files", "dynamicmaps.cf"):
			src = os.path.join(POSTFIX_META, name)
			if os.path.exists(src):
				shutil.copy(src, os.path.join(self.conf, name))
		for name in ("postfix-files.d", "dynamicmaps.cf.d"):
			src = os.path.join(POSTFIX_META, name)
			dst = os.path.join(self.conf, name)
			if os.path.isdir(src) and not os.path.exists(dst):
				shutil.copytree(src, dst)
		self._write("main.cf", self._main_cf())
		self._write("master.cf", self._master_cf())
		self._write("transport", self._transport())
		if self.header_checks is not None:
			self._write("header_checks",
				    "".join(l + "\n" for l in self.header_checks))

	def set(self, **params):
		"""set - change main.cf parameters (reloads if running)."""
		self.params.update({k: str(v) for k, v in params.items()})
		self._apply()

	def route(self, domain, dest):
		"""route - domain to a loopback port or "transport:nexthop"."""
		self.routes[domain] = dest
		self._apply()

	def set_header_checks(self, lines):
		self.header_checks = list(lines)
		self._apply()

	def use_content_filter(self, port, service="scan"):
		"""use_content_filter - send all mail through a filter on
		127.0.0.1:port that re-injects into reinject_port."""
		if self.reinject_port is None:
			self.reinject_port = free_port()
		self.master_extra += ("%s unix - - n - 2 smtp\n"
				      "  -o smtp_send_xforward_command=yes\n"
				      "  -o smtp_tls_security_level=none\n"
				      % service)
		self.params["content_filter"] = "%s:[%s]:%d" % (
			service, LOOPBACK, port)
		self._apply()

	def logrotate(self):
		"""logrotate - postfix logrotate (maillog_file_* settings)."""
		self.run("postfix", "logrotate")

	def _apply(self):
		self._write_config()
		if self.started:
			self.reload()

	# -- commands

	def env(self):
		e = dict(os.environ)
		e["MAIL_CONFIG"] = self.conf
		return e

	def run(self, *argv, check=True, input=None, timeout=60):
		"""run - a Postfix command (postconf, postqueue, ...) with -c."""
		cmd = [os.path.join(POSTFIX_SBIN, argv[0]), "-c", self.conf]
		cmd += list(argv[1:])
		r = subprocess.run(cmd, input=input, capture_output=True,
				   env=self.env(), timeout=timeout)
		if check and r.returncode != 0:
			raise RuntimeError("%s: exit %d: %s%s" % (
				" ".join(cmd), r.returncode,
				r.stdout.decode(errors="replace"),
				r.stderr.decode(errors="replace")))
		return r

	def postconf(self, name):
		"""postconf - the effective value of one main.cf parameter."""
		return self.run("postconf", "-h", name).stdout.decode().strip()

	def start(self, timeout=20):
		_register(self)
		self.run("postfix", "check")
		self.run("postfix", "start")
		self.started = True
		wait_until(self._listening, timeout, what="Postfix smtpd port")
		return self

	def _listening(self):
		"""Our smtpd ports listen (no probe connection in the log)."""
		want = {self.port, self.reinject_port} - {None}
		return want <= listening_ports()

	def reload(self):
		self.run("postfix", "reload")

	def master_pid(self):
		try:
			with open(os.path.join(self.queue_dir, "pid",
					       "master.pid")) as f:
				pid = int(f.read().split()[0])
			os.kill(pid, 0)
			return pid
		except (OSError, ValueError, IndexError):
			return None

	def _our_pids(self):
		"""Processes carrying MAIL_CONFIG=our conf dir (ours alone)."""
		want = ("MAIL_CONFIG=%s" % self.conf).encode()
		pids = []
		for d in os.listdir("/proc"):
			if not d.isdigit() or int(d) == os.getpid():
				continue
			try:
				with open("/proc/%s/environ" % d, "rb") as f:
					if want in f.read().split(b"\0"):
						pids.append(int(d))
			except OSError:
				pass
		return pids

	def stop(self, timeout=15):
		"""stop - postfix stop, wait for master, kill leftovers."""
		_unregister(self)
		if not self.started:
			return
		self.started = False
		pid = self.master_pid()
		self.run("postfix", "stop", check=False)
		if pid:
			try:
				wait_until(lambda: not _alive(pid), timeout,
					   what="Postfix master to exit")
			except TimeoutError:
				pass
		for p in self._our_pids():
			try:
				os.kill(p, signal.SIGKILL)
			except ProcessLookupError:
				pass
		if self.failed or _failed:
			self.save_log()

	def __enter__(self):
		return self.start()

	def __exit__(self, etype, e, tb):
		if etype is not None:
			self.failed = True
			mark_failed()
		self.stop()
		return False

	# -- mail in

	def send_smtp(self, sender, rcpts, msg, port=None, helo="app.test",
		      starttls=False):
		"""send_smtp - submit one message; return its queue id.

		msg is bytes/str (a full message) or an email.message.Message.
		Raises smtplib errors for rejections."""
		rcpts, msg = _envelope(rcpts, msg)
		with smtplib.SMTP(LOOPBACK, port or self.port, helo,
				  timeout=30) as s:
			s.ehlo(helo)
			if starttls:
				s.starttls()
			code, resp = s.mail(sender)
			if code != 250:
				raise smtplib.SMTPSenderRefused(code, resp,
								sender)
			for r in rcpts:
				code, resp = s.rcpt(r)
				if code not in (250, 251):
					raise smtplib.SMTPRecipientsRefused(
						{r: (code, resp)})
			code, resp = s.data(msg)
			if code != 250:
				raise smtplib.SMTPDataError(code, resp)
		m = re.search(rb"queued as ([0-9A-Za-z]+)", resp)
		return m.group(1).decode() if m else None

	def sendmail(self, sender, rcpts, msg, timeout=30, wait=True):
		"""sendmail - submit through sendmail(1) -C DIR; queue id.

		The queue id comes from cleanup's message-id log line, so msg
		gets a unique Message-ID if it has none (wait=False: None)."""
		rcpts, msg = _envelope(rcpts, msg)
		mid = _message_id(msg)
		if mid is None:
			mid = "<%s@harness.test>" % binascii.hexlify(
				os.urandom(8)).decode()
			msg = b"Message-ID: " + mid.encode() + b"\n" + msg
		msg = msg.replace(b"\r\n", b"\n")
		cmd = [os.path.join(POSTFIX_SBIN, "sendmail"), "-C", self.conf,
		       "-i", "-f", sender, "--"] + list(rcpts)
		r = subprocess.run(cmd, input=msg, capture_output=True,
				   env=self.env(), timeout=timeout)
		if r.returncode != 0:
			raise RuntimeError("sendmail: exit %d: %s" % (
				r.returncode, r.stderr.decode(errors="replace")))
		if not wait:
			return None
		return self.queue_id_of(mid, timeout)

	def queue_id_of(self, message_id, timeout=30):
		"""queue_id_of - queue id that cleanup logged for Message-ID."""
		m = self.wait_log(r"postfix/cleanup\[\d+\]: ([0-9A-Za-z]+): "
				  r"message-id=%s" % re.escape(message_id),
				  timeout)
		return m.group(1)

	# -- queue

	def flush(self):
		self.run("postqueue", "-f")

	def release_hold(self, queue_id="ALL"):
		self.run("postsuper", "-H", queue_id)

	def queue(self):
		"""queue - list of postqueue -j records (dicts)."""
		out = self.run("postqueue", "-j").stdout.decode()
		return [json.loads(l) for l in out.splitlines() if l.strip()]

	def wait_queue_empty(self, timeout=30):
		wait_until(lambda: not self.queue(), timeout, interval=0.2,
			   what="empty Postfix queue")

	# -- log

	def log(self):
		"""log - the whole maillog text ("" before the first line)."""
		try:
			with open(self.maillog, errors="replace") as f:
				return f.read()
		except FileNotFoundError:
			return ""

	def mark(self):
		"""mark - current log length; pass to wait_log(since=)."""
		try:
			return os.path.getsize(self.maillog)
		except FileNotFoundError:
			return 0

	def wait_log(self, regex, timeout=30, since=0, flags=re.M):
		"""wait_log - first match of regex in the log after since."""
		rx = re.compile(regex, flags)

		def look():
			return rx.search(self._log_bytes_from(since))
		return wait_until(look, timeout, interval=0.1,
				  what="/%s/ in %s" % (regex, self.maillog))

	def wait_log_count(self, regex, n, timeout=30, since=0, flags=re.M):
		"""wait_log_count - all matches once there are at least n."""
		rx = re.compile(regex, flags)

		def look():
			m = list(rx.finditer(self._log_bytes_from(since)))
			return m if len(m) >= n else None
		return wait_until(look, timeout, interval=0.1,
				  what="%d x /%s/ in %s" % (n, regex,
							    self.maillog))

	def _log_bytes_from(self, since):
		try:
			with open(self.maillog, "rb") as f:
				f.seek(since)
				return f.read().decode(errors="replace")
		except FileNotFoundError:
			return ""

	def deliveries(self, since=0):
		"""deliveries - [(queue_id, recipient, status, full line)]."""
		rx = re.compile(r"^.*postfix/\S+\[\d+\]: ([0-9A-Za-z]+): "
				r"to=<([^>]*)>.*?status=(\w+).*$", re.M)
		return [(m.group(1), m.group(2), m.group(3), m.group(0))
			for m in rx.finditer(self._log_bytes_from(since))]

	def save_log(self, dest=None):
		"""save_log - copy the maillog to the artifact dir; its path."""
		dest = dest or os.path.join(artifact_dir(), "%s-postfix.maillog"
					    % test_name())
		if os.path.exists(self.maillog):
			shutil.copy(self.maillog, dest)
			print("harness: Postfix log saved in %s (scratch %s)"
			      % (dest, self.base), file=sys.stderr)
		return dest


def _alive(pid):
	try:
		os.kill(pid, 0)
		return True
	except ProcessLookupError:
		return False
	except PermissionError:
		return True


def _envelope(rcpts, msg):
	"""_envelope - the recipients as a list, the message as bytes (from a
	str or an email.message.Message)."""
	if isinstance(rcpts, str):
		rcpts = [rcpts]
	if isinstance(msg, email.message.Message):
		msg = msg.as_bytes()
	elif isinstance(msg, str):
		msg = msg.encode()
	return rcpts, msg


def _message_id(msg):
	head = msg.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
	m = re.search(rb"^message-id:\s*(<[^>\r\n]*>)", head, re.I | re.M)
	return m.group(1).decode() if m else None


def make_message(sender, to, subject="harness test", body="Hello.\n",
		 headers=None):
	"""make_message - a small RFC 5322 message as bytes, unique id."""
	mid = "<%s@app.test>" % binascii.hexlify(os.urandom(8)).decode()
	lines = ["From: %s" % sender, "To: %s" % (to if isinstance(to, str)
						  else ", ".join(to)),
		 "Subject: %s" % subject, "Message-ID: %s" % mid,
		 "Date: %s" % email.utils.formatdate(localtime=True)]
	for k, v in (headers or {}).items():
		lines.append("%s: %s" % (k, v))
	return ("\r\n".join(lines) + "\r\n\r\n" +
		body.replace("\r\n", "\n").replace("\n", "\r\n")).encode()


# ---------------------------------------------------------------------------
# TLS material

_cert_lock = threading.Lock()
_cert_cache = {}


def self_signed_cert(hostname="mx.scripted.test"):
	"""self_signed_cert - (certfile, keyfile) of a throwaway RSA cert."""
	from cryptography import x509
	from cryptography.hazmat.primitives import hashes, serialization
	from cryptography.hazmat.primitives.asymmetric import rsa
	from cryptography.x509.oid import NameOID

	with _cert_lock:
		if hostname in _cert_cache:
			return _cert_cache[hostname]
		key = rsa.generate_private_key(public_exponent=65537,
					       key_size=2048)
		name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
						     hostname)])
		now = datetime.datetime.utcnow()
		cert = (x509.CertificateBuilder().subject_name(name)
			.issuer_name(name).public_key(key.public_key())
			.serial_number(x509.random_serial_number())
			.not_valid_before(now - datetime.timedelta(days=1))
			.not_valid_after(now + datetime.timedelta(days=30))
			.add_extension(x509.SubjectAlternativeName(
				[x509.DNSName(hostname)]), critical=False)
			.sign(key, hashes.SHA256()))
		d = scratch_dir("posthook-tls-")
		certfile = os.path.join(d, "cert.pem")
		keyfile = os.path.join(d, "key.pem")
		with open(certfile, "wb") as f:
			f.write(cert.public_bytes(serialization.Encoding.PEM))
		with open(keyfile, "wb") as f:
			f.write(key.private_bytes(
				serialization.Encoding.PEM,
				serialization.PrivateFormat.TraditionalOpenSSL,
				serialization.NoEncryption()))
		os.chmod(keyfile, 0o600)
		_cert_cache[hostname] = (certfile, keyfile)
		return certfile, keyfile


# ---------------------------------------------------------------------------
# Scripted MX


class ReceivedMessage:
	"""One message the ScriptedMX accepted at DATA (or refused there)."""

	def __init__(self, **kw):
		self.__dict__.update(kw)
		self.message = email.message_from_bytes(
			self.data, policy=email.policy.compat32)
		self.headers = list(self.message.items())
		sep = self.data.find(b"\r\n\r\n")
		self.body = self.data[sep + 4:] if sep >= 0 else b""

	def header(self, name):
		return self.message.get(name)

	def __repr__(self):
		return "<ReceivedMessage from=%s rcpts=%s reply=%r>" % (
			self.mail_from, self.rcpts, self.reply)


class ClosedPort:
	"""A loopback port that refuses connections (bound, not listening).

	Holding the bound socket keeps the port from being reused."""

	def __init__(self):
		self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
		self.sock.bind((LOOPBACK, 0))
		self.port = self.sock.getsockname()[1]

	def stop(self):
		self.sock.close()

	close = stop


class _ServerFlags:
	"""What the servers of the harness share: a thread per connection
	that never holds up the exit, the port reusable at once."""
	daemon_threads = True
	allow_reuse_address = True
	block_on_close = False


class _MXServer(_ServerFlags, socketserver.ThreadingTCPServer):
	pass


class _LoopbackServer:
	"""A server on 127.0.0.1 that answers in a thread of its own
	(ScriptedMX, Receiver): _serve() starts it (.server, .port),
	stop() ends it; a context manager."""

	def _serve(self, server_class, handler):
		self.server = server_class((LOOPBACK, 0), handler)
		self.port = self.server.server_address[1]
		self.thread = threading.Thread(target=self.server.serve_forever,
					       kwargs={"poll_interval": 0.1},
					       daemon=True)
		self.thread.start()
		_register(self)

	def stop(self):
		_unregister(self)
		if self.server:
			self.server.shutdown()
			self.server.server_close()
			self.server = None

	def __enter__(self):
		return self

	def __exit__(self, *a):
		self.stop()
		return False


class ScriptedMX(_LoopbackServer):
	"""An SMTP server on 127.0.0.1 answering RCPT per recipient.

	script: {recipient: reply | [reply, ...]} (lower-cased match; a list
	gives the nth attempt for that recipient its nth reply, the last one
	repeating) or callable(rcpt, attempt) -> reply.  Recipients not in
	the script get default.  data_reply: reply at the end of DATA (str,
	list consumed per DATA, or callable(ReceivedMessage) -> reply);
	"{id}" is replaced by a fresh id.  A reply "close" drops the
	connection without an answer; multi-line replies use "\\n".
	tls=True offers STARTTLS with a throwaway self-signed certificate.

	Records: messages (ReceivedMessage list), replies (every answer:
	dicts conn, time, command, arg, reply, tls), rcpt_replies(rcpt).
	"""

	def __init__(self, script=None, default="250 2.1.5 Ok",
		     data_reply="250 2.0.0 Ok: queued as {id}", tls=False,
		     greeting=None, hostname="mx.scripted.test",
		     mail_reply="250 2.1.0 Ok", pipelining=True):
		self.script = script or {}
		self.default = default
		self.data_reply = data_reply
		self.tls = tls
		self.hostname = hostname
		self.greeting = greeting or "220 %s ESMTP scripted" % hostname
		self.mail_reply = mail_reply
		self.pipelining = pipelining
		self.messages = []
		self.replies = []
		self._attempts = {}
		self._ndata = 0
		self._nconn = 0
		self._lock = threading.Lock()
		self._cond = threading.Condition(self._lock)
		self._ctx = None
		if tls:
			cert, key = self_signed_cert(hostname)
			self._ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
			self._ctx.load_cert_chain(cert, key)
		mx = self

		class Handler(socketserver.StreamRequestHandler):
			timeout = 120

			def handle(self):
				mx._session(self)

		self._serve(_MXServer, Handler)

	def __repr__(self):
		return "ScriptedMX(port %d)" % self.port

	# -- script

	def _rcpt_reply(self, rcpt):
		key = rcpt.lower()
		with self._lock:
			n = self._attempts.get(key, 0)
			self._attempts[key] = n + 1
		if callable(self.script):
			return self.script(rcpt, n)
		r = self.script.get(key, self.script.get(rcpt, self.default))
		if isinstance(r, (list, tuple)):
			r = r[min(n, len(r) - 1)]
		return r

	def _data_reply(self, rec):
		with self._lock:
			n = self._ndata
			self._ndata += 1
		r = self.data_reply
		if callable(r):
			r = r(rec)
		elif isinstance(r, (list, tuple)):
			r = r[min(n, len(r) - 1)]
		return r.replace("{id}", binascii.hexlify(
			os.urandom(5)).decode().upper())

	# -- protocol

	def _record(self, conn, command, arg, reply, tls):
		with self._cond:
			self.replies.append({"conn": conn, "time": time.time(),
					     "command": command, "arg": arg,
					     "reply": reply, "tls": tls})
			self._cond.notify_all()

	def _session(self, h):
		with self._lock:
			self._nconn += 1
			conn = self._nconn
		st = {"rfile": h.rfile, "wfile": h.wfile, "sock": h.request,
		      "tls": False, "helo": None, "from": None, "rcpts": []}

		def say(command, arg, reply):
			self._record(conn, command, arg, reply, st["tls"])
			if reply == "close":
				return False
			lines = reply.split("\n")
			out = ""
			for i, l in enumerate(lines):
				code, text = l[:3], l[4:]
				sep = " " if i == len(lines) - 1 else "-"
				out += "%s%s%s\r\n" % (code, sep, text)
			st["wfile"].write(out.encode())
			st["wfile"].flush()
			return True

		if not say("CONNECT", "", self.greeting) or \
		   not self.greeting.startswith("2"):
			return
		while True:
			raw = st["rfile"].readline(65536)
			if not raw:
				return
			line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
			verb, _, arg = line.partition(" ")
			verb = verb.upper()
			if verb in ("EHLO", "HELO"):
				st.update(helo=arg, **{"from": None})
				st["rcpts"] = []
				if verb == "HELO":
					ok = say(verb, arg, "250 %s" %
						 self.hostname)
				else:
					ext = [self.hostname]
					if self.pipelining:
						ext.append("PIPELINING")
					ext += ["SIZE 52428800", "8BITMIME",
						"ENHANCEDSTATUSCODES"]
					if self._ctx and not st["tls"]:
						ext.append("STARTTLS")
					ok = say(verb, arg, "\n".join(
						"250 " + e for e in ext))
			elif verb == "STARTTLS" and self._ctx and not st["tls"]:
				say(verb, arg, "220 2.0.0 Ready to start TLS")
				try:
					s = self._ctx.wrap_socket(
						st["sock"], server_side=True)
				except (ssl.SSLError, OSError):
					return
				st.update(sock=s, rfile=s.makefile("rb"),
					  wfile=s.makefile("wb"), tls=True,
					  helo=None, rcpts=[])
				st["from"] = None
				ok = True
			elif verb == "MAIL":
				m = re.match(r"(?i)FROM:\s*<([^>]*)>", arg)
				if not m:
					ok = say(verb, arg, "501 5.5.4 Syntax:"
						 " MAIL FROM:<address>")
				else:
					r = self.mail_reply
					ok = say(verb, arg, r)
					if r.startswith("2"):
						st["from"] = m.group(1)
						st["rcpts"] = []
			elif verb == "RCPT":
				m = re.match(r"(?i)TO:\s*<([^>]*)>", arg)
				if st["from"] is None:
					ok = say(verb, arg, "503 5.5.1 Error: "
						 "need MAIL command")
				elif not m:
					ok = say(verb, arg, "501 5.5.4 Syntax:"
						 " RCPT TO:<address>")
				else:
					r = self._rcpt_reply(m.group(1))
					ok = say(verb, m.group(1), r)
					if r.startswith("2"):
						st["rcpts"].append(m.group(1))
			elif verb == "DATA":
				if not st["rcpts"]:
					ok = say(verb, arg, "554 5.5.1 Error:"
						 " no valid recipients")
					continue
				say(verb, arg, "354 End data with "
				    "<CR><LF>.<CR><LF>")
				data = self._read_data(st["rfile"])
				if data is None:
					return
				rec = ReceivedMessage(
					mail_from=st["from"],
					rcpts=list(st["rcpts"]), data=data,
					tls=st["tls"], helo=st["helo"],
					time=time.time(), conn=conn,
					reply=None)
				r = self._data_reply(rec)
				rec.reply = r
				with self._cond:
					self.messages.append(rec)
					self._cond.notify_all()
				ok = say("DATA-END", ",".join(rec.rcpts), r)
				st["from"] = None
				st["rcpts"] = []
			elif verb == "RSET":
				st["from"] = None
				st["rcpts"] = []
				ok = say(verb, arg, "250 2.0.0 Ok")
			elif verb == "NOOP":
				ok = say(verb, arg, "250 2.0.0 Ok")
			elif verb == "QUIT":
				say(verb, arg, "221 2.0.0 Bye")
				return
			else:
				ok = say(verb, arg, "502 5.5.2 Error: "
					 "command not recognized")
			if not ok:
				return

	@staticmethod
	def _read_data(rfile):
		out = []
		while True:
			raw = rfile.readline(1 << 20)
			if not raw:
				return None
			if raw in (b".\r\n", b".\n"):
				return b"".join(out)
			if raw.startswith(b".."):
				raw = raw[1:]
			out.append(raw)

	# -- queries

	def rcpt_replies(self, rcpt):
		"""rcpt_replies - every RCPT reply given to rcpt, in order."""
		with self._lock:
			return [r["reply"] for r in self.replies
				if r["command"] == "RCPT" and
				r["arg"].lower() == rcpt.lower()]

	def messages_for(self, rcpt):
		with self._lock:
			return [m for m in self.messages
				if rcpt.lower() in (r.lower() for r in m.rcpts)]

	def wait_messages(self, n, timeout=30):
		"""wait_messages - wait until n messages were received."""
		deadline = time.monotonic() + timeout
		with self._cond:
			while len(self.messages) < n:
				left = deadline - time.monotonic()
				if left <= 0:
					raise TimeoutError(
						"%r: %d of %d messages after %ss"
						% (self, len(self.messages), n,
						   timeout))
				self._cond.wait(left)
			return list(self.messages)


class ContentFilter(ScriptedMX):
	"""An amavis-like content filter: accepts a message and re-injects
	it into Postfix's second smtpd (ScratchPostfix.reinject_port),
	answering at DATA as amavisd does:
	"250 2.0.0 from MTA(smtp:[127.0.0.1]:PORT): 250 2.0.0 Ok: queued as
	QID".  Use with ScratchPostfix.use_content_filter(filter.port).
	before_answer(qid, rec), when set, runs after the re-injection and
	before the answer: a test can hold the answer back until Postfix has
	delivered the re-injected message (the order a slow filter makes)."""

	def __init__(self, reinject_port, **kw):
		self.reinject_port = reinject_port
		self.reinjected = []		# queue ids Postfix gave back
		self.before_answer = None
		kw.setdefault("hostname", "filter.scripted.test")
		super().__init__(data_reply=self._relay, **kw)

	def _relay(self, rec):
		try:
			with smtplib.SMTP(LOOPBACK, self.reinject_port,
					  "filter.test", timeout=30) as s:
				s.ehlo("filter.test")
				s.mail(rec.mail_from)
				for r in rec.rcpts:
					s.rcpt(r)
				code, resp = s.data(rec.data)
		except (smtplib.SMTPException, OSError) as e:
			return "451 4.5.0 re-injection failed: %s" % e
		resp = resp.decode(errors="replace")
		m = re.search(r"queued as (\S+)", resp)
		if m:
			self.reinjected.append(m.group(1))
			if self.before_answer is not None:
				self.before_answer(m.group(1), rec)
		return "%d 2.0.0 from MTA(smtp:[%s]:%d): %d %s" % (
			code, LOOPBACK, self.reinject_port, code, resp)


# ---------------------------------------------------------------------------
# Webhook signatures


def rsa_kid(public_key):
	"""rsa_kid - lowercase hex SHA-256 of DER SEQUENCE{n, e}."""
	from cryptography.hazmat.primitives import serialization
	der = public_key.public_bytes(serialization.Encoding.DER,
				      serialization.PublicFormat.PKCS1)
	return hashlib.sha256(der).hexdigest()


def _b64url_uint(n):
	b = n.to_bytes((n.bit_length() + 7) // 8 or 1, "big")
	return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def _b64url_to_int(s):
	s = s + "=" * (-len(s) % 4)
	return int.from_bytes(base64.urlsafe_b64decode(s), "big")


def jwk_public_key(jwk):
	"""jwk_public_key - an RSA public key object from a JWK dict."""
	from cryptography.hazmat.primitives.asymmetric import rsa
	return rsa.RSAPublicNumbers(_b64url_to_int(jwk["e"]),
				    _b64url_to_int(jwk["n"])).public_key()


class SigningKey:
	"""A throwaway RSA-2048 key signing like posthook-webhook."""

	def __init__(self, private_key=None):
		from cryptography.hazmat.primitives.asymmetric import rsa
		self.key = private_key or rsa.generate_private_key(
			public_exponent=65537, key_size=2048)
		self.kid = rsa_kid(self.key.public_key())

	@classmethod
	def load(cls, path):
		from cryptography.hazmat.primitives import serialization
		with open(path, "rb") as f:
			return cls(serialization.load_pem_private_key(
				f.read(), None))

	def sign(self, body):
		"""sign - standard base64 PKCS#1 v1.5 SHA-256 signature."""
		from cryptography.hazmat.primitives import hashes
		from cryptography.hazmat.primitives.asymmetric import padding
		if isinstance(body, str):
			body = body.encode()
		sig = self.key.sign(body, padding.PKCS1v15(), hashes.SHA256())
		return base64.b64encode(sig).decode()

	def jwk(self):
		pn = self.key.public_key().public_numbers()
		return {"kty": "RSA", "n": _b64url_uint(pn.n),
			"e": _b64url_uint(pn.e), "kid": self.kid, "use": "sig",
			"alg": "RS256"}

	def jwks(self):
		return {"keys": [self.jwk()]}

	def write_pem(self, path):
		from cryptography.hazmat.primitives import serialization
		with open(path, "wb") as f:
			f.write(self.key.private_bytes(
				serialization.Encoding.PEM,
				serialization.PrivateFormat.PKCS8,
				serialization.NoEncryption()))
		os.chmod(path, 0o600)
		return path

	def write_jwks(self, path):
		with open(path, "w") as f:
			json.dump(self.jwks(), f)
		return path

	def headers(self, body, prefix="X-Posthook"):
		return {prefix + "-Signature": self.sign(body),
			prefix + "-Signature-KID": self.kid}


class JWKSVerifier:
	"""Verifies signatures against a JWKS from a path, dict or callable.

	The JWKS is re-read when a signature names an unknown kid."""

	def __init__(self, source):
		self.source = source
		self.keys = {}
		self.reloads = 0
		self._lock = threading.Lock()

	def _load(self):
		src = self.source
		if callable(src):
			src = src()
		if isinstance(src, (str, bytes, os.PathLike)) and \
		   not str(src).lstrip().startswith("{"):
			with open(src) as f:
				src = f.read()
		if isinstance(src, (str, bytes)):
			src = json.loads(src)
		keys = {}
		for jwk in src.get("keys", []):
			if jwk.get("kty") != "RSA":
				continue
			pub = jwk_public_key(jwk)
			kid = rsa_kid(pub)
			if jwk.get("kid", kid) != kid:
				continue	# a kid that lies is no key
			keys[kid] = pub
		self.keys = keys
		self.reloads += 1

	def verify(self, body, signature, kid=None):
		"""verify - (ok, kid, error) for a base64 signature of body."""
		from cryptography.exceptions import InvalidSignature
		from cryptography.hazmat.primitives import hashes
		from cryptography.hazmat.primitives.asymmetric import padding
		if not signature:
			return False, kid, "no signature header"
		try:
			sig = base64.b64decode(signature, validate=True)
		except (binascii.Error, ValueError):
			return False, kid, "signature is not base64"
		with self._lock:
			if kid is not None and kid not in self.keys:
				try:
					self._load()
				except (OSError, ValueError, KeyError) as e:
					return False, kid, "JWKS: %s" % e
			if kid is not None:
				if kid not in self.keys:
					return False, kid, "unknown kid"
				cands = [(kid, self.keys[kid])]
			else:
				if not self.keys:
					self._load()
				cands = list(self.keys.items())
		for k, pub in cands:
			try:
				pub.verify(sig, body, padding.PKCS1v15(),
					   hashes.SHA256())
				return True, k, None
			except InvalidSignature:
				pass
		return False, kid, "bad signature"


# ---------------------------------------------------------------------------
# Webhook receiver


class Reply:
	"""What the Receiver answers to one request."""

	def __init__(self, status=200, body=b"ok", headers=None, delay=0,
		     action=None, size=0):
		self.status = status
		self.body = body.encode() if isinstance(body, str) else body
		self.headers = dict(headers or {})
		self.delay = delay
		self.action = action	# None, "hang", "garbage", "close", "huge"
		self.size = size

	def __repr__(self):
		return "Reply(%s, %s)" % (self.status, self.action)

	@classmethod
	def ok(cls, status=200):
		return cls(status)

	@classmethod
	def error(cls, status=500, body="error"):
		return cls(status, body)

	@classmethod
	def retry_after(cls, seconds, status=429):
		return cls(status, "slow down",
			   {"Retry-After": str(seconds)})

	@classmethod
	def redirect(cls, location, status=302):
		return cls(status, "", {"Location": location})

	@classmethod
	def hang(cls, seconds=60):
		"""hang - answer nothing for seconds (past the sender's
		timeout), then close."""
		return cls(0, action="hang", delay=seconds)

	@classmethod
	def huge(cls, size=64 << 20, status=200):
		return cls(status, action="huge", size=size)

	@classmethod
	def garbage(cls):
		return cls(0, action="garbage")

	@classmethod
	def close(cls):
		return cls(0, action="close")


class ReceivedRequest:
	"""One request the Receiver got."""

	def __init__(self, **kw):
		self.__dict__.update(kw)

	def header(self, name, default=None):
		return self.headers.get(name.lower(), default)

	def __repr__(self):
		return "<ReceivedRequest %s %s verified=%s reply=%s>" % (
			self.method, self.path, self.verified, self.reply)


class _HTTPServer(_ServerFlags, http.server.ThreadingHTTPServer):
	pass


class Receiver(_LoopbackServer):
	"""An HTTP server on 127.0.0.1 recording and verifying webhooks.

	jwks: path, dict, JSON text or callable giving the JWKS (None: no
	verification, verified is False).  script: list of Reply consumed
	per request (then default), or callable(ReceivedRequest) -> Reply.
	url: http://127.0.0.1:PORT/hook.  requests: every request, with
	.body, .headers (lower-case names), .json, .verified, .kid,
	.verify_error, .time, .reply."""

	def __init__(self, jwks=None, script=None, default=None,
		     prefix="X-Posthook", path="/hook"):
		self.verifier = JWKSVerifier(jwks) if jwks is not None else None
		self.script = script if callable(script) else list(script or [])
		self.default = default or Reply.ok()
		self.prefix = prefix
		self.requests = []
		self._cond = threading.Condition()
		self._stopping = threading.Event()
		rcv = self

		class Handler(http.server.BaseHTTPRequestHandler):
			protocol_version = "HTTP/1.1"
			timeout = 120
			# Answer at once: with Nagle on, each reply on a kept-alive
			# connection waits for the client's delayed ACK (~40 ms).
			disable_nagle_algorithm = True

			def log_message(self, *a):
				pass

			def do_POST(self):
				rcv._handle(self)

			do_PUT = do_GET = do_POST

		self._serve(_HTTPServer, Handler)
		self.url = "http://%s:%d%s" % (LOOPBACK, self.port, path)

	def __repr__(self):
		return "Receiver(%s)" % self.url

	def stop(self):
		self._stopping.set()
		super().stop()

	def _next_reply(self, req):
		if callable(self.script):
			return self.script(req)
		with self._cond:
			if self.script:
				return self.script.pop(0)
		return self.default

	@staticmethod
	def _read_body(h):
		if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
			out = []
			while True:
				size = int(h.rfile.readline().split(b";")[0], 16)
				if size == 0:
					while h.rfile.readline() not in \
					      (b"\r\n", b"\n", b""):
						pass
					return b"".join(out)
				out.append(h.rfile.read(size))
				h.rfile.readline()
		n = int(h.headers.get("Content-Length") or 0)
		return h.rfile.read(n) if n else b""

	def _handle(self, h):
		t = time.time()
		body = self._read_body(h)
		headers = {k.lower(): v for k, v in h.headers.items()}
		try:
			doc = json.loads(body)
		except ValueError:
			doc = None
		ok, kid, err = False, headers.get(
			(self.prefix + "-Signature-KID").lower()), "no JWKS"
		if self.verifier:
			ok, kid, err = self.verifier.verify(
				body, headers.get(
					(self.prefix + "-Signature").lower()),
				kid)
		req = ReceivedRequest(method=h.command, path=h.path,
				      headers=headers, body=body, json=doc,
				      verified=ok, kid=kid, verify_error=err,
				      time=t, monotonic=time.monotonic(),
				      reply=None)
		reply = self._next_reply(req)
		req.reply = reply
		with self._cond:
			self.requests.append(req)
			self._cond.notify_all()
		self._answer(h, reply)

	def _answer(self, h, r):
		if r.delay and r.action != "hang":
			self._stopping.wait(r.delay)
		if r.action == "hang":
			self._stopping.wait(r.delay)
			h.close_connection = True
			return
		if r.action == "close":
			h.close_connection = True
			return
		if r.action == "garbage":
			h.wfile.write(b"\x00\xffTHIS IS NOT HTTP\r\n\r\n")
			h.close_connection = True
			return
		try:
			h.send_response(r.status)
			for k, v in r.headers.items():
				h.send_header(k, v)
			n = r.size if r.action == "huge" else len(r.body)
			h.send_header("Content-Length", str(n))
			h.send_header("Content-Type", "text/plain")
			h.end_headers()
			if r.action == "huge":
				chunk = b"x" * 65536
				left = n
				while left > 0 and not self._stopping.is_set():
					h.wfile.write(chunk[:min(left, 65536)])
					left -= 65536
				h.close_connection = True
			else:
				h.wfile.write(r.body)
		except OSError:
			h.close_connection = True

	# -- queries

	def events(self, verified_only=True):
		"""events - parsed JSON bodies (verified ones by default)."""
		with self._cond:
			return [r.json for r in self.requests
				if r.json is not None and
				(r.verified or not verified_only)]

	def wait_requests(self, n, timeout=30, pred=None):
		"""wait_requests - the first n requests matching pred."""
		deadline = time.monotonic() + timeout
		with self._cond:
			while True:
				got = [r for r in self.requests
				       if pred is None or pred(r)]
				if len(got) >= n:
					return got
				left = deadline - time.monotonic()
				if left <= 0:
					raise TimeoutError(
						"%r: %d of %d requests after %ss"
						% (self, len(got), n, timeout))
				self._cond.wait(left)

	def wait_event(self, pred, timeout=30):
		"""wait_event - first verified event (dict) with pred(event)."""
		got = self.wait_requests(
			1, timeout, lambda r: r.verified and r.json is not None
			and pred(r.json))
		return got[0].json
