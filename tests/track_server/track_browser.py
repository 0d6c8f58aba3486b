#!/usr/bin/env python3
"""track_browser - a tracked newsletter opened and clicked by a real
browser.  A scratch Postfix on loopback runs posthook-milter with
tracking_url pointing at posthook-api's track_listen; the newsletter
(HTML quoted-printable with &amp;, a UTF-8 path and a fragment in its
links) goes to a scripted MX.  posthook-api and a landing-page server run
in a network namespace of their own (unshare -n, loopback only), and
Debian's chromium, headless, inside the same namespace, reaches nothing
else: it opens the delivered HTML from a local file (which loads the
pixel), then a rewritten link, and lands on the original URL (checked
with --dump-dom).  MessageLoaded and MessageLinkClicked arrive at the
receiver, signed, with chromium's user agent and the link's exact URL.
Root only (Postfix, namespaces); slow tier."""

import email
import email.policy
import os
import re
import shutil
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "milter"))
from milter_postfix import Milter, expect, received  # noqa: E402
from posthook_test.harness import (Daemon, Receiver, ScratchPostfix,  # noqa: E402
				   ScriptedMX, built, free_port, mark_failed,
				   scratch_dir, wait_until)

TIMEOUT = 900
API = built("api", "posthook-api")
WEBHOOK = built("webhook", "posthook-webhook")
CTL = built("ctl", "posthookctl")
LANDING = r'''
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        body = ("<html><body><h1 id=landed>Landed on %s</h1></body></html>"
                % self.path).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
'''


def newsletter(lport, to):
	"""newsletter - a multipart/alternative message, HTML quoted-printable."""
	import quopri
	urls = ["http://127.0.0.1:%d/offer?a=1&b=2#deal" % lport,
		"http://127.0.0.1:%d/caf\u00e9/men\u00fc" % lport]
	html = ("<html><body><h1>Gr\u00fc\u00dfe</h1>\n"
		+ "".join('<p><a id="l%d" href="%s">link %d</a></p>\n'
			  % (i, u.replace("&", "&amp;"), i) for i, u in enumerate(urls))
		+ "</body></html>\n")
	qp = quopri.encodestring(html.encode()).replace(b"\n", b"\r\n")
	body = (b"--ALT\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello\r\n"
		b"--ALT\r\nContent-Type: text/html; charset=utf-8\r\n"
		b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + qp +
		b"\r\n--ALT--\r\n")
	head = ("From: News <news@app.test>\r\nTo: %s\r\nSubject: Browser test\r\n"
		"Message-ID: <%s@app.test>\r\nMIME-Version: 1.0\r\n"
		"Content-Type: multipart/alternative; boundary=\"ALT\"\r\n\r\n"
		% (to, os.urandom(6).hex())).encode()
	return head + body, urls


class Netns:
	"""posthook-api in a network namespace of its own; others join it."""

	def __init__(self, conf, log):
		self.api = Daemon(["unshare", "-n", "sh", "-c",
				   "ip link set lo up && exec %s -f -c %s" % (API, conf)],
				  log=log)
		wait_until(lambda: "tracking on" in self.api.output()
			   or not self.api.running(), 30, what="posthook-api up")
		expect(self.api.running(), self.api.output())

	def run(self, argv, **kw):
		return subprocess.run(["nsenter", "--net=/proc/%d/ns/net" % self.api.proc.pid]
				      + argv, **kw)

	def daemon(self, argv, log):
		return Daemon(["nsenter", "--net=/proc/%d/ns/net" % self.api.proc.pid] + argv,
			      log=log)


def chromium(ns, tmp, url):
	"""chromium - the DOM chromium ends on after loading url, in ns."""
	p = ns.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
		    "--no-first-run", "--user-data-dir=" + os.path.join(tmp, "profile"),
		    "--virtual-time-budget=5000", "--dump-dom", url],
		   capture_output=True, text=True, timeout=180)
	expect(p.returncode == 0, "chromium: exit %d: %s" % (p.returncode, p.stderr[-2000:]))
	return p.stdout


def main():
	signal.alarm(TIMEOUT)
	if os.geteuid() != 0:
		print("track_browser.py needs root (Postfix, network namespaces)")
		sys.exit(77)
	for tool in ("chromium", "unshare", "nsenter", "ip"):
		expect(shutil.which(tool), "%s is not installed (tests/install-deps.sh)" % tool)
	tmp = scratch_dir("posthook-browser-")
	os.chmod(tmp, 0o755)
	mx = ScriptedMX()
	m = Milter()
	tport, aport, lport = free_port(), free_port(), free_port()
	state = os.path.join(m.dir, "state")
	jwks = os.path.join(state, "jwks.json")
	m.reload(tracking_url="http://127.0.0.1:%d" % tport, unsubscribe="yes",
		 track_listen="127.0.0.1:%d" % tport, api_listen="127.0.0.1:%d" % aport,
		 signing_key=os.path.join(state, "signing.key"), jwks_file=jwks,
		 retry_schedule="0 1s 2s", scanner_click_window="0s")
	webhook = Daemon([WEBHOOK, "-f", "-c", m.conf], log=os.path.join(tmp, "webhook.log"))
	wait_until(lambda: os.path.exists(jwks) or not webhook.running(), 30,
		   what="jwks_file")
	expect(webhook.running(), webhook.output())
	recv = Receiver(jwks=jwks)
	subprocess.run([CTL, "-c", m.conf, "webhooks", "create", "--name", "rcv",
			"--url", recv.url, "--all-events"], check=True, capture_output=True,
		       timeout=60)
	ns = Netns(m.conf, os.path.join(tmp, "api.log"))
	landing = os.path.join(tmp, "landing.py")
	with open(landing, "w") as f:
		f.write(LANDING)
	land = ns.daemon([sys.executable, landing, str(lport)], os.path.join(tmp, "land.log"))
	pf = ScratchPostfix(routes={"dest.test": mx.port}, smtpd_milters="unix:" + m.sock,
			    main={"milter_content_timeout": "30s"})
	try:
		pf.start()
		data, urls = newsletter(lport, "reader@dest.test")
		pf.send_smtp("news@app.test", ["reader@dest.test"], data)
		got = received(mx, "reader@dest.test")
		msg = email.message_from_bytes(got.data, policy=email.policy.default)
		html = [p for p in msg.walk() if p.get_content_type() == "text/html"][0]
		html = html.get_content()
		hrefs = re.findall(r'href="([^"]*)"', html)
		track = "http://127.0.0.1:%d" % tport
		expect(len(hrefs) == 2 and all(h.startswith(track + "/c/") for h in hrefs),
		       hrefs)
		expect(track + "/o/" in html, "no pixel: %s" % html)
		page = os.path.join(tmp, "mail.html")
		with open(page, "w") as f:
			f.write(html)
		os.chmod(page, 0o644)

		# the browser opens the mail: the pixel is loaded
		chromium(ns, tmp, "file://" + page)
		ev = recv.wait_event(lambda e: e["event"] == "MessageLoaded", timeout=60)
		p = ev["payload"]
		expect("HeadlessChrome" in (p["user_agent"] or ""), p)
		expect(p["ip_address"] == "127.0.0.1" and p["first"] is True
		       and p["bot"] is None, p)
		expect(p["message"]["to"] == "reader@dest.test", p)

		# and follows the second link: it lands on the original URL
		dom = chromium(ns, tmp, hrefs[1])
		expect("Landed on /caf%C3%A9/men%C3%BC" in dom, dom[-2000:])
		ev = recv.wait_event(lambda e: e["event"] == "MessageLinkClicked", timeout=60)
		p = ev["payload"]
		expect(p["url"] == urls[1], (p["url"], urls[1]))
		expect("HeadlessChrome" in (p["user_agent"] or "") and p["bot"] is None, p)
		dom = chromium(ns, tmp, hrefs[0])
		expect("Landed on /offer?a=1&amp;b=2" in dom, dom[-2000:])
		recv.wait_requests(2, timeout=60, pred=lambda r: r.json is not None
				   and r.json["event"] == "MessageLinkClicked")
		clicked = [e["payload"]["url"] for e in recv.events()
			   if e["event"] == "MessageLinkClicked"]
		expect(sorted(clicked) == sorted(urls), clicked)
		expect(all(r.verified for r in recv.requests), "an unsigned webhook")
		pf.stop()
		land.stop()
		rc = ns.api.stop(timeout=20)
		expect(rc == 0, "posthook-api exited %r:\n%s" % (rc, ns.api.output()))
		webhook.stop()
		recv.stop()
		m.stop()
	except BaseException:
		mark_failed()
		print("---- api log\n" + ns.api.output()[-4000:])
		print("---- milter log\n" + m.log()[-4000:])
		raise
	print("track_browser: ok")


if __name__ == "__main__":
	main()
