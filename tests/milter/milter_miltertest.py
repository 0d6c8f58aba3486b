"""milter_miltertest.py - the miltertest suite of posthook-milter.

Starts posthook-milter (sanitizer reports fail the test) on a unix socket
with a store in a scratch directory, runs each milter_*.lua script with
Debian's miltertest, and checks what each left in the store through
`posthookctl messages show` and what the milter logged.  Then reloads the
configuration with SIGUSR1 (internal_hosts narrowed, on_bad_metadata =
reject, then tempfail) and checks that the new rules apply.  Last, the
VERP return path: milter_verp.lua with return_path_domain unset, then set.
"""

import grp
import json
import os
import pwd
import signal
import subprocess

from posthook_test.harness import (Daemon, SanitizerDir, mark_failed,
				   scratch_dir, wait_until)

TOP = os.environ["top_builddir"]
SRCDIR = os.path.join(os.environ["srcdir"], "milter")
MILTER = os.path.join(TOP, "milter", "posthook-milter")
CTL = os.environ.get("POSTHOOKCTL") or os.path.join(TOP, "ctl", "posthookctl")
MILTERTEST = "/usr/bin/miltertest"


class Milter:
	"""A posthook-milter with its own config, store and socket."""

	def __init__(self):
		self.dir = scratch_dir("posthook-milter-")
		self.san = SanitizerDir(self.dir)
		self.conf = os.path.join(self.dir, "posthook.conf")
		self.sock = os.path.join(self.dir, "sock", "milter.sock")
		self.write_config()
		self.daemon = Daemon([MILTER, "-f", "-v", "-c", self.conf],
				     env=self.san.env(),
				     log=os.path.join(self.dir, "milter.log"))
		wait_until(lambda: os.path.exists(self.sock), 20, what="milter socket")

	def write_config(self, **extra):
		user = pwd.getpwuid(os.geteuid()).pw_name
		group = grp.getgrgid(os.getegid()).gr_name
		lines = {
			"state_dir": os.path.join(self.dir, "state"),
			"pid_dir": self.dir,
			"milter_socket": "unix:" + self.sock,
			"user": user,
			"group": group,
		}
		lines.update(extra)
		with open(self.conf, "w") as f:
			for k, v in lines.items():
				f.write("%s = %s\n" % (k, v))

	def reload(self, **extra):
		mark = self.log().count("configuration reloaded")
		self.write_config(**extra)
		self.daemon.send_signal(signal.SIGUSR1)
		wait_until(lambda: self.log().count("configuration reloaded") > mark,
			   10, what="reload")

	def log(self):
		return self.daemon.output()

	def run(self, script, **env):
		"""run - one miltertest script; its KEY=value lines as a dict."""
		e = dict(os.environ, MILTER_SOCKET="unix:" + self.sock, srcdir=SRCDIR)
		e.update(env)
		p = subprocess.run([MILTERTEST, "-s", os.path.join(SRCDIR, script)],
				   env=e, capture_output=True, text=True, timeout=120)
		print("---- %s (exit %d)\n%s%s" % (script, p.returncode, p.stdout,
						   p.stderr))
		if p.returncode != 0:
			raise AssertionError("%s failed" % script)
		out = {}
		for line in p.stdout.splitlines():
			if "=" in line and not line.startswith("FAIL"):
				k, v = line.split("=", 1)
				out[k] = v
		return out

	def show(self, key):
		"""show - the record posthookctl prints, or None."""
		p = subprocess.run([CTL, "-c", self.conf, "--json", "messages", "show", key],
				   capture_output=True, text=True, timeout=60)
		if p.returncode == 1 and "no message" in p.stderr:
			return None
		if p.returncode != 0:
			raise AssertionError("posthookctl messages show %s: exit %d: %s"
					     % (key, p.returncode, p.stderr))
		return json.loads(p.stdout)

	def ctl(self, *args):
		"""ctl - posthookctl with this config; its stdout."""
		p = subprocess.run([CTL, "-c", self.conf] + list(args),
				   capture_output=True, text=True, timeout=60)
		if p.returncode != 0:
			raise AssertionError("posthookctl %s: exit %d: %s"
					     % (" ".join(args), p.returncode, p.stderr))
		return p.stdout

	def stop(self):
		rc = self.daemon.stop()
		assert rc == 0, "milter exit status %r\n%s" % (rc, self.log())
		self.san.assert_clean()


def expect(cond, what):
	if not cond:
		raise AssertionError(what)


def check_outgoing(m):
	out = m.run("milter_outgoing.lua")
	r = m.show("MTOUT1AAAAAA")
	expect(r is not None, "MTOUT1AAAAAA not recorded")
	expect(r["token"] == out["TOKEN1"], "token in record %r, header %r"
	       % (r["token"], out["TOKEN1"]))
	expect(r["queue_id"] == "MTOUT1AAAAAA", r)
	expect(r["direction"] == "outgoing", r)
	expect(r["from"] == "app@example.com", r)
	expect(r["recipients"] == ["a@dest.test", "b@dest.test", "c@other.test"], r)
	expect(r["subject"] == "Willkommen bei \u00dcberGr\u00fc\u00dfe", r["subject"])
	expect(r["message_id"] == "welcome.1@example.com", r)
	expect(r["tag"] == "onboarding", r)
	expect(r["metadata"] == {"user_id": "usr_123456", "campaign_id": "camp_789"}, r)
	expect(r["spam_status"] == "NotSpam", r)
	expect(isinstance(r["id"], int) and r["id"] > 0, r)
	for key in (out["TOKEN1"], str(r["id"])):
		expect(m.show(key) == r, "lookup by %s differs" % key)
	r2 = m.show("MTOUT2AAAAAA")
	expect(r2["token"] == out["TOKEN2"] and r2["id"] != r["id"], r2)
	expect(r2["spam_status"] == "Spam" and r2["tag"] is None
	       and r2["metadata"] is None and r2["message_id"] is None, r2)
	expect(m.show("MTAUTH1AAAAA")["tag"] == "auth", "auth record")
	expect(m.show("MTDAEMON1AAA")["tag"] == "daemon", "daemon_name record")
	log = m.log()
	expect("MTOUT1AAAAAA: id=%d token=%s outgoing (internal_hosts) tag=onboarding"
	       % (r["id"], r["token"]) in log, "no outgoing log line")
	expect("MTAUTH1AAAAA: id=" in log and "outgoing (authenticated)" in log, "auth log")
	expect("outgoing (daemon_name)" in log, "daemon_name log")


def check_incoming(m):
	m.run("milter_incoming.lua")
	for qid in ("MTIN1AAAAAAA", "MTIN6AAAAAAA"):
		expect(m.show(qid) is None, "incoming %s was recorded" % qid)
	expect(m.show("MTOUT6AAAAAA") is not None, "::1 not recorded")
	expect("MTIN1AAAAAAA: incoming: removing 4 application headers" in m.log(),
	       "incoming removal not logged")


def check_noqid(m):
	m.run("milter_noqid.lua")
	expect("NOQUEUE: outgoing message not recorded: the MTA sent no {i} macro"
	       in m.log(), "missing {i} not logged")


def check_badmeta(m):
	m.run("milter_badmeta.lua")
	log = m.log()
	r = m.show("MTBAD1AAAAAA")
	expect(r["tag"] == "kept" and r["metadata"] is None, r)
	expect(r["metadata_error"] == "metadata value is an object or array", r)
	expect("MTBAD1AAAAAA: X-Posthook-Metadata ignored: metadata value is an object or array"
	       in log, "reason 1 not logged")
	r = m.show("MTBAD5AAAAAA")
	expect(r["metadata"] == {"user_id": "42", "vip": "true", "score": "1.5"}, r)
	expect("metadata_error" not in r, r)
	r = m.show("MTBAD2AAAAAA")
	expect(r["tag"] is None and r["metadata"] is None, r)
	expect("MTBAD2AAAAAA: X-Posthook-Tag ignored: tag is longer than 255 bytes" in log
	       and "MTBAD2AAAAAA: X-Posthook-Metadata ignored: metadata has more than 20 keys"
	       in log, "reasons 2 not logged")
	r = m.show("MTBAD3AAAAAA")
	expect(r["tag"] is None and r["metadata"] is None, r)
	expect(r["subject"] == "caf\u00e9 \u201cquoted\u201d continued", r["subject"])
	expect("MTBAD3AAAAAA: X-Posthook-Tag ignored: tag is not UTF-8" in log
	       and "MTBAD3AAAAAA: X-Posthook-Metadata ignored: metadata value is longer than 500 bytes"
	       in log, "reasons 3 not logged")
	r = m.show("MTBAD4AAAAAA")
	expect(r["metadata"] is None and r["message_id"] is None, r)
	expect(r["metadata_error"] == "metadata is not valid JSON", r)
	expect("MTBAD4AAAAAA: X-Posthook-Metadata ignored: metadata is not valid JSON"
	       in log, "reason 4 not logged")


def check_repeated(m):
	out = m.run("milter_repeated.lua")
	r = m.show("MTREP1AAAAAA")
	expect(r["token"] == out["TOKEN"], r)
	expect(r["tag"] == "first" and r["metadata"] == {"n": "1"}, r)
	log = m.log()
	expect("MTREP1AAAAAA: 3 X-Posthook-Tag headers: keeping the first" in log
	       and "MTREP1AAAAAA: 2 X-Posthook-Metadata headers: keeping the first" in log,
	       "repeats not logged")


def check_reentry(m):
	out = m.run("milter_reentry.lua")
	expect(m.show("MTRE1AAAAAAA") is None, "old queue id still recorded")
	r = m.show("MTRE2AAAAAAA")
	expect(r is not None and r["token"] == out["TOKEN"] and r["tag"] == "loop", r)
	expect(m.show(out["TOKEN"]) == r, "token lookup after rekey")
	expect("MTRE2AAAAAAA: token=%s id=%d kept" % (r["token"], r["id"]) in m.log(),
	       "re-entry not logged")


def check_list(m):
	"""messages list: newest first, --limit, --since, table and --json."""
	lines = m.ctl("--json", "messages", "list", "--limit", "3").splitlines()
	expect(len(lines) == 3, "list --limit 3 gave %d lines" % len(lines))
	recs = [json.loads(l) for l in lines]
	times = [r["timestamp"] for r in recs]
	expect(times == sorted(times, reverse=True), "list not newest first: %r" % times)
	expect(recs[0]["queue_id"] == "MTRE2AAAAAAA", "newest is %r" % recs[0]["queue_id"])
	every = m.ctl("--json", "messages", "list", "--since", "1h").splitlines()
	expect(len(every) == 12, "list --since 1h gave %d records, not 12" % len(every))
	expect(m.ctl("--json", "messages", "list", "--since", "2099-01-01T00:00:00Z") == "",
	       "list --since the future is not empty")
	table = m.ctl("messages", "list", "--limit", "2").splitlines()
	expect(table[0].split()[:3] == ["QUEUE_ID", "ID", "TIME"] and len(table) == 3,
	       "bad table: %r" % table)


def check_bad_reload(m):
	"""A bad config on SIGUSR1 is refused; the running one stays."""
	mark = m.log().count("reload failed")
	with open(m.conf, "a") as f:
		f.write("internal_hosts = not-a-network\n")
	m.daemon.send_signal(signal.SIGUSR1)
	wait_until(lambda: m.log().count("reload failed") > mark, 10, what="reload failure")
	m.run("milter_reentry.lua")


def check_reload(m):
	m.reload(internal_hosts="10.9.0.0/16", on_bad_metadata="reject")
	m.run("milter_refuse.lua", EXPECT="reject", QID="MTREJ1AAAAAA")
	expect(m.show("MTREJ1AAAAAA") is None, "rejected message recorded")
	expect(m.show("MTREJ1AAAAAAB") is not None, "good message not recorded")
	expect("MTREJ1AAAAAA: reject 550 5.7.1: Invalid X-Posthook-Tag or"
	       " X-Posthook-Metadata header" in m.log(), "reject not logged")
	# 127.0.0.1 is no longer internal: the same client is now incoming.
	m.run("milter_noqid.lua")
	expect("NOQUEUE: incoming: removing 2 application headers" in m.log(),
	       "internal_hosts not reloaded")
	m.reload(internal_hosts="10.9.0.0/16", on_bad_metadata="tempfail")
	m.run("milter_refuse.lua", EXPECT="tempfail", QID="MTTMP1AAAAAA")
	expect(m.show("MTTMP1AAAAAA") is None, "tempfailed message recorded")
	expect("MTTMP1AAAAAA: tempfail 451 4.7.1: Invalid X-Posthook-Tag or"
	       " X-Posthook-Metadata header" in m.log(), "tempfail not logged")


def check_verp(m):
	"""return_path_domain unset, then set (by reloads): the record's
	verp_sender and from, and the sender change in the log (miltertest
	cannot check SMFIR_CHGFROM itself)."""
	domain = "bounces.example.com"
	for verp in ("off", "on"):
		p = "MTV" + verp.upper()
		if verp == "on":
			m.reload(return_path_domain=domain.upper())
		else:
			m.reload()
		out = m.run("milter_verp.lua", VERP=verp, P=p)
		tok = out["TOKEN"]
		log = m.log()
		want = "b+%s@%s" % (tok, domain)
		# The first message's record, moved to the re-entered queue id:
		# one record, from the application's sender (what events report).
		r = m.show(tok)
		expect(r is not None and r["queue_id"] == p + "3AAAAAAAA", r)
		expect(m.show(p + "1AAAAAAAA") is None, "old queue id still recorded")
		expect(r["from"] == "App@Example.com", r)
		line = [l for l in log.splitlines() if p + "1AAAAAAAA: id=" in l]
		expect(len(line) == 1, "no outgoing log line for %s1AAAAAAAA" % p)
		if verp == "on":
			expect(r.get("verp_sender") == want, "verp_sender %r, want %r"
			       % (r.get("verp_sender"), want))
			expect(line[0].endswith(" return_path=" + want), line[0])
		else:
			expect("verp_sender" not in r, r)
			expect("return_path=" not in line[0], line[0])
		# Re-entry with the VERP sender: not wrapped twice (no return_path=).
		kept = [l for l in log.splitlines() if p + "3AAAAAAAA: token=" in l]
		expect(len(kept) == 1 and kept[0].endswith("moved to this queue id"),
		       "re-entry log: %r" % kept)
		# Null sender: recorded, sender left <>.
		r2 = m.show(p + "2AAAAAAAA")
		expect(r2 is not None and r2["from"] == "" and "verp_sender" not in r2, r2)
		expect("return_path=" not in [l for l in log.splitlines()
					      if p + "2AAAAAAAA: id=" in l][0], "null sender VERPed")
		expect(m.show(p + "4AAAAAAAA") is None, "incoming message recorded")
	expect("cannot change the envelope sender" not in m.log(), "chgfrom failed")


def main():
	for path in (MILTER, CTL, MILTERTEST):
		expect(os.access(path, os.X_OK), "%s is missing" % path)
	m = Milter()
	try:
		check_outgoing(m)
		check_incoming(m)
		check_noqid(m)
		check_badmeta(m)
		check_repeated(m)
		check_reentry(m)
		check_list(m)
		check_bad_reload(m)
		check_reload(m)
		check_verp(m)
		m.stop()
	except BaseException:
		mark_failed()
		print("---- milter log\n" + m.log())
		raise
	print("milter miltertest suite: ok")


if __name__ == "__main__":
	main()
