"""dns_lib - what the DNS check tests share: a private network and mount
namespace (unshare -n -m) in which Debian's nsd serves the test zones on
127.0.0.1:53, dns_responder.py answers on 127.0.0.2:53 as the resolver
(silence for *.timeout.example, SERVFAIL for *.servfail.example, nsd for the
rest), and /etc/resolv.conf is bind-mounted to point at it: no test ever
asks a real resolver.  Also DKIM keys in opendkim's file format."""

import atexit
import base64
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

from posthook_test import webhook as W

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dns_responder  # noqa: E402

H = W.H
NSD = shutil.which("nsd") or "/usr/sbin/nsd"
_NS_ENV = "POSTHOOK_DNS_NETNS"
TEST_TIMEOUT = 300			# seconds for a whole test


def _timed_out(sig, frame):
	H.mark_failed()
	raise SystemExit("FAIL: the test ran past %d s" % TEST_TIMEOUT)


def isolate():
	"""Re-execute under unshare -n -m; in there, bring lo up and point
	resolv.conf at the responder.  False when that cannot be done."""
	if os.environ.get(_NS_ENV) == "1":
		signal.signal(signal.SIGALRM, _timed_out)
		signal.alarm(TEST_TIMEOUT)
		H._loopback_up()
		d = H.scratch_dir("posthook-dns-ns-")
		conf = os.path.join(d, "resolv.conf")
		with open(conf, "w") as f:
			f.write("nameserver 127.0.0.2\n")
		os.chmod(conf, 0o644)
		H._bind_mount(conf, "/etc/resolv.conf")
		return True
	unshare = shutil.which("unshare")
	if os.geteuid() != 0 or unshare is None or not os.path.exists(NSD):
		return False
	env = dict(os.environ)
	env[_NS_ENV] = "1"
	sys.stdout.flush()
	sys.stderr.flush()
	os.execve(unshare, [unshare, "-n", "-m", "--", sys.executable] +
		  sys.argv, env)


def start_responder():
	"""The resolver of resolv.conf, in this process's threads."""
	dns_responder.UPSTREAM = "127.0.0.1"
	udp = dns_responder.ThreadedUDP(("127.0.0.2", 53), dns_responder.UDP)
	tcp = dns_responder.ThreadedTCP(("127.0.0.2", 53), dns_responder.TCP)
	for s in (udp, tcp):
		threading.Thread(target=s.serve_forever, daemon=True).start()


class Nsd:
	"""nsd serving the zones given (name -> zone file text) from files
	that reload() rewrites."""

	def __init__(self, zones):
		self.dir = H.scratch_dir("posthook-nsd-")
		self.conf = os.path.join(self.dir, "nsd.conf")
		self.write(zones)
		with open(self.conf, "w") as f:
			f.write("""server:
	ip-address: 127.0.0.1
	port: 53
	username: ""
	chroot: ""
	zonesdir: "%(d)s"
	pidfile: "%(d)s/nsd.pid"
	xfrdfile: "%(d)s/xfrd.state"
	zonelistfile: "%(d)s/zone.list"
	xfrdir: "%(d)s"
	database: ""
	logfile: "%(d)s/nsd.log"
	server-count: 1
	tcp-count: 64
	verbosity: 1
remote-control:
	control-enable: no
""" % {"d": self.dir})
			for name in zones:
				f.write('zone:\n\tname: "%s"\n\tzonefile: "%s.zone"\n'
					% (name, name))
		self.proc = subprocess.Popen([NSD, "-d", "-c", self.conf],
					     stdout=subprocess.DEVNULL,
					     stderr=subprocess.DEVNULL)
		atexit.register(self.stop)
		H.wait_until(self.ready, 20, what="nsd answering")

	def write(self, zones):
		for name, text in zones.items():
			with open(os.path.join(self.dir, name + ".zone"), "w") as f:
				f.write(text)

	def ready(self):
		import socket
		q = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
		     b"\x07example\x00\x00\x06\x00\x01")
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.settimeout(0.2)
		try:
			s.sendto(q, ("127.0.0.1", 53))
			return len(s.recv(4096)) > 12
		except OSError:
			return False
		finally:
			s.close()

	def reload(self, zones):
		"""New zone files, loaded (nsd reloads its zones on SIGHUP)."""
		self.write(zones)
		self.proc.send_signal(signal.SIGHUP)
		time.sleep(1.5)

	def stop(self):
		if self.proc.poll() is None:
			self.proc.terminate()
			self.proc.wait(timeout=10)


def txt(value):
	"""A TXT rdata: value cut into quoted strings of at most 255 bytes."""
	parts = [value[i:i + 255] for i in range(0, len(value), 255)] or [""]
	return " ".join('"%s"' % p.replace('"', '\\"') for p in parts)


def zone(origin, records):
	"""A zone file: SOA, NS and the given lines."""
	return ("$ORIGIN %s.\n$TTL 60\n"
		"@ SOA ns.example. hostmaster.example. 1 3600 600 86400 60\n"
		"@ NS ns.example.\n" % origin) + "\n".join(records) + "\n"


def dkim_key(directory, selector, kind="rsa"):
	"""A key pair; writes SELECTOR.txt as opendkim-genkey does and returns
	(path of the .txt, the p= value)."""
	priv = os.path.join(directory, selector + ".private")
	if kind == "rsa":
		subprocess.run(["openssl", "genrsa", "-out", priv, "1024"],
			       check=True, capture_output=True)
		der = subprocess.run(["openssl", "rsa", "-in", priv, "-pubout",
				      "-outform", "DER"], check=True,
				     capture_output=True).stdout
		p = base64.b64encode(der).decode()
		head = "v=DKIM1; h=sha256; k=rsa; "
	else:
		subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519",
				"-out", priv], check=True, capture_output=True)
		der = subprocess.run(["openssl", "pkey", "-in", priv, "-pubout",
				      "-outform", "DER"], check=True,
				     capture_output=True).stdout
		p = base64.b64encode(der[-32:]).decode()
		head = "v=DKIM1; k=ed25519; "
	path = os.path.join(directory, selector + ".txt")
	with open(path, "w") as f:
		f.write('%s._domainkey\tIN\tTXT\t( "%s"\n\t  "p=%s" )  '
			'; ----- DKIM key %s for test\n'
			% (selector, head, p, selector))
	return path, p
