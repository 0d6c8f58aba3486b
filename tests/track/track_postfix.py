"""track_postfix.py - tracking rewrites in a real Postfix, signed after by opendkim.

A scratch Postfix on loopback has smtpd_milters = posthook-milter, then
Debian's opendkim (a scratch config on a loopback inet socket, its key made
by opendkim-genkey, KeyTable and SigningTable in the temp dir, oversigning
List-Unsubscribe and List-Unsubscribe-Post).  A multipart newsletter (HTML
quoted-printable with &amp; links, UTF-8 paths and fragments; text base64;
an image attachment) goes to a scripted MX.  The delivered message must be
valid MIME and DKIM-valid (python3-dkim, the public key fed offline), its
h= must cover both List-Unsubscribe headers, its links must point at the
tracking URL, the attachment and the text part must be byte-identical, and
the message record must hold every original URL exactly.  Then: a message
opting out with X-Posthook-Track: none, one already signed by the
application, and one larger than track_max_body all go out with their
body untouched, each logged with its queue id.  Runs as root.
"""

import email
import email.policy
import os
import re
import subprocess
import sys

try:
	import dkim
except ImportError:
	# python3-dkim is Debian's: run under Debian's interpreter.
	if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
		os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
	raise

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
				"milter"))
from milter_postfix import Milter, expect, received  # noqa: E402
from posthook_test.harness import (Daemon, ScratchPostfix, ScriptedMX,  # noqa: E402
				   free_port, mark_failed, scratch_dir,
				   wait_until)

TRACK = "https://track.example.test"
TOKEN = r"[0-9a-f]{54}"
PNG = bytes(range(256)) * 8
URLS = [
	"https://shop.example.com/sale?utm_source=news&utm_medium=email#top",
	"https://example.org/caf\u00e9/\u00fcber?q=\u00e9t\u00e9&x=1",
	"http://blog.example.net/post/42",
]
EXCLUDED = "https://static.skip.example/logo"


class OpenDKIM:
	"""opendkim signing for app.test on a loopback port, offline."""

	def __init__(self):
		self.dir = scratch_dir("posthook-opendkim-")
		os.chmod(self.dir, 0o755)
		subprocess.run(["opendkim-genkey", "-D", self.dir, "-d", "app.test",
				"-s", "sel", "-b", "2048"], check=True, timeout=60)
		key = os.path.join(self.dir, "sel.private")
		os.chmod(key, 0o600)
		with open(os.path.join(self.dir, "sel.txt")) as f:
			txt = "".join(re.findall(r'"([^"]*)"', f.read()))
		self.dns_txt = txt.encode()
		self.port = free_port()
		with open(os.path.join(self.dir, "keytable"), "w") as f:
			f.write("sel._domainkey.app.test app.test:sel:%s\n" % key)
		with open(os.path.join(self.dir, "signingtable"), "w") as f:
			f.write("*@app.test sel._domainkey.app.test\n")
		self.conf = os.path.join(self.dir, "opendkim.conf")
		with open(self.conf, "w") as f:
			f.write("Mode s\n"
				"Socket inet:%d@127.0.0.1\n"
				"KeyTable file:%s/keytable\n"
				"SigningTable refile:%s/signingtable\n"
				"InternalHosts 127.0.0.1\n"
				"Canonicalization relaxed/simple\n"
				# What the README tells admins: sign both, and
				# oversign them so none can be added later.
				"SignHeaders *,+List-Unsubscribe,+List-Unsubscribe-Post\n"
				"OversignHeaders From,List-Unsubscribe,List-Unsubscribe-Post\n"
				# The scratch key lives under /tmp, which all may write.
				"RequireSafeKeys false\n"
				"Syslog no\n"
				"PidFile %s/opendkim.pid\n" % (self.port, self.dir, self.dir,
								self.dir))
		self.daemon = Daemon(["opendkim", "-f", "-x", self.conf],
				     log=os.path.join(self.dir, "opendkim.log"))
		wait_until(self._listening, 20, what="opendkim socket")

	def _listening(self):
		import socket
		s = socket.socket()
		try:
			s.connect(("127.0.0.1", self.port))
			return True
		except OSError:
			return False
		finally:
			s.close()

	def dnsfunc(self, name, timeout=5):
		if name.rstrip(b".") == b"sel._domainkey.app.test":
			return self.dns_txt
		return None

	def stop(self):
		self.daemon.stop()


def qp(text):
	"""qp - quoted-printable as a mail client writes it (76-column lines)."""
	import quopri
	return quopri.encodestring(text.encode("utf-8")).replace(b"\n", b"\r\n")


def newsletter(sender, to, extra=""):
	"""newsletter - (message bytes, its HTML part's raw body, its text part)."""
	import base64
	links = "".join('<p><a href="%s">link %d</a></p>\n'
			% (u.replace("&", "&amp;"), i) for i, u in enumerate(URLS))
	html = ("<html><head><style>a{color:red}</style></head><body>\n"
		"<h1>Gr\u00fc\u00dfe</h1>\n%s"
		"<p><A HREF = '%s'>again</A> <a href=\"%s\">logo</a>"
		" <a href=\"mailto:help@app.test\">mail</a> <a href=\"#top\">top</a></p>\n"
		"</body></html>\n" % (links, URLS[0].replace("&", "&#38;"), EXCLUDED))
	html_raw = qp(html)
	text = ("Hello,\nsee %s\n" % URLS[0]).encode()
	text_raw = base64.encodebytes(text).replace(b"\n", b"\r\n")
	png_raw = base64.encodebytes(PNG).replace(b"\n", b"\r\n")
	body = (b"--MIX\r\nContent-Type: multipart/alternative; boundary=\"ALT\"\r\n\r\n"
		b"--ALT\r\nContent-Type: text/plain; charset=utf-8\r\n"
		b"Content-Transfer-Encoding: base64\r\n\r\n" + text_raw +
		b"--ALT\r\nContent-Type: text/html; charset=utf-8\r\n"
		b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + html_raw +
		b"\r\n--ALT--\r\n\r\n"
		b"--MIX\r\nContent-Type: image/png; name=\"x.png\"\r\n"
		b"Content-Disposition: attachment; filename=\"x.png\"\r\n"
		b"Content-Transfer-Encoding: base64\r\n\r\n" + png_raw +
		b"--MIX--\r\n")
	head = ("From: News <%s>\r\nTo: %s\r\nSubject: Newsletter\r\n"
		"Message-ID: <%s@app.test>\r\nMIME-Version: 1.0\r\n"
		"Content-Type: multipart/mixed; boundary=\"MIX\"\r\n%s\r\n"
		% (sender, to, os.urandom(6).hex(), extra)).encode()
	return head + body, body, text


def parts(msg):
	"""parts - the delivered message's leaf parts by content type."""
	return {p.get_content_type(): p for p in msg.walk() if not p.is_multipart()}


def check_tracked(m, pf, mx, dk):
	data, body, text = newsletter("app@app.test", "a@dest.test")
	qid = pf.send_smtp("app@app.test", ["a@dest.test"], data)
	got = received(mx, "a@dest.test")
	raw = got.data
	msg = email.message_from_bytes(raw, policy=email.policy.default)
	expect(not msg.defects and all(not p.defects for p in msg.walk()),
	       "MIME defects: %r" % [p.defects for p in msg.walk()])
	with open(os.path.join(dk.dir, "delivered.eml"), "wb") as f:
		f.write(raw)
	expect(dkim.verify(raw, dnsfunc=dk.dnsfunc), "DKIM does not verify")
	sig = msg["DKIM-Signature"]
	h = re.search(r"\bh=([^;]+)", str(sig)).group(1)
	signed = [x.strip().lower() for x in re.sub(r"\s", "", h).split(":")]
	for name in ("list-unsubscribe", "list-unsubscribe-post"):
		expect(name in signed, "h= does not cover %s: %s" % (name, h))
	expect(re.fullmatch(r"<%s/u/%s>" % (re.escape(TRACK), TOKEN),
			    str(msg["List-Unsubscribe"])), msg["List-Unsubscribe"])
	expect(str(msg["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click",
	       msg["List-Unsubscribe-Post"])

	p = parts(msg)
	html = p["text/html"].get_content()
	hrefs = re.findall(r"""href\s*=\s*["']([^"']*)""", html, re.I)
	tracked = [u for u in hrefs if u.startswith(TRACK + "/c/")]
	expect(len(tracked) == len(URLS) + 1, "tracked links: %r" % hrefs)
	expect(all(re.fullmatch(r"%s/c/%s" % (re.escape(TRACK), TOKEN), u) for u in tracked),
	       hrefs)
	expect(len(set(tracked)) == len(URLS), "a repeated URL has one token: %r" % tracked)
	expect(tracked[0] == tracked[-1], "same URL, same link: %r" % tracked)
	expect(EXCLUDED in hrefs and "mailto:help@app.test" in hrefs and "#top" in hrefs,
	       hrefs)
	expect(re.search(r'<img src="%s/o/%s" width="1" height="1"' % (re.escape(TRACK), TOKEN),
			 html) and html.index("<img") < html.index("</body>"), html)
	expect("Gr\u00fc\u00dfe" in html, "charset changed")
	expect(p["text/html"]["Content-Transfer-Encoding"] == "quoted-printable",
	       "encoding changed")
	# Untouched parts are byte-identical.
	expect(p["image/png"].get_content() == PNG, "attachment changed")
	expect(p["text/plain"].get_content().encode() == text, "text part changed")
	png_at = body.index(b"--MIX\r\nContent-Type: image/png")
	expect(got.body.endswith(body[png_at:]), "attachment bytes differ")
	expect(got.body.startswith(body[:body.index(b"<html>")]), "head bytes differ")

	r = m.show(qid)
	expect(r is not None and r.get("track") == "all", r)
	expect(r.get("links") == URLS, "recorded links %r, sent %r" % (r.get("links"), URLS))
	expect(re.search(r"%s: tracked: %d links in 1 HTML parts, open pixel"
			 % (qid, len(URLS) + 1), m.log()), "no tracked log line")


def check_untouched(m, pf, mx, rcpt, extra, why):
	data, body, _ = newsletter("app@app.test", rcpt, extra)
	qid = pf.send_smtp("app@app.test", [rcpt], data)
	got = received(mx, rcpt)
	expect(got.body == body, "%s: body changed" % rcpt)
	expect(got.header("X-Posthook-Track") is None, "track header not stripped")
	wait_until(lambda: re.search(r"%s: not tracked: %s" % (qid, why), m.log()), 10,
		   what="log line for %s" % why)
	r = m.show(qid)
	expect(r is not None and not r.get("links") and r.get("track") is None, r)
	return got


def main():
	if os.geteuid() != 0:
		print("track_postfix.py needs root to run Postfix")
		sys.exit(77)
	mx = ScriptedMX()
	dk = OpenDKIM()
	m = Milter()
	m.reload(tracking_url=TRACK + "/", unsubscribe="yes",
		 excluded_click_domains="skip.example")
	milters = "unix:%s, inet:127.0.0.1:%d" % (m.sock, dk.port)
	pf = ScratchPostfix(routes={"dest.test": mx.port}, smtpd_milters=milters,
			    main={"milter_connect_timeout": "10s",
				  "milter_command_timeout": "10s",
				  "milter_content_timeout": "30s"})
	try:
		pf.start()
		check_tracked(m, pf, mx, dk)
		got = check_untouched(m, pf, mx, "b@dest.test", "X-Posthook-Track: none\r\n",
				      "none asked by the track header")
		expect(got.header("List-Unsubscribe"), "opting out of tracking kept no unsubscribe")
		got = check_untouched(m, pf, mx, "c@dest.test",
				      "DKIM-Signature: v=1; a=rsa-sha256; d=app.test; s=x;"
				      " h=from; bh=x; b=x\r\n", "signed by the application")
		expect(got.header("List-Unsubscribe") is None, "signed message got a header")
		m.reload(tracking_url=TRACK, track_max_body="2000", unsubscribe="yes")
		check_untouched(m, pf, mx, "d@dest.test", "",
				r"body larger than track_max_body \(2000 bytes\)")
		log = pf.log()
		expect(not re.search(r"warning: .*milter", log),
		       "Postfix warned about a milter:\n%s" % "\n".join(
			       l for l in log.splitlines() if "milter" in l))
		pf.stop()
		dk.stop()
		m.stop()
	except BaseException:
		mark_failed()
		print("---- milter log\n" + m.log())
		print("---- postfix log\n" + pf.log())
		raise
	print("tracking with real Postfix and opendkim: ok")


if __name__ == "__main__":
	main()
