#!/usr/bin/env python3
"""track_server - posthook-api's tracking listener over loopback, with
message records put in the store as the milter leaves them (links with
&amp; decoded, UTF-8 paths, fragments) and a real receiver: the pixel
makes MessageLoaded, a click a 302 to that message's own URL and
MessageLinkClicked, both signed, with first/bot; HEAD and a click right
after sending are "scanner"; Apple's prefetch range is "apple_mpp";
X-Forwarded-For counts only from trusted_proxies; changed and foreign
tokens are 404; the unsubscribe GET is a page, its POST the event; no API
path answers on track_listen; the history shows in posthookctl and the
API; after a reload with report_bots = no a bot's hit is kept but sends
nothing; a flood is limited per address."""

import http.client
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "api"))
import api_lib as A  # noqa: E402

H = A.H
TIMEOUT = 300
SEED = os.path.join(A.BUILD, "tests", "track_server", "track_seed")
APPLE = os.path.join(A.SRC, "contrib", "tracking", "apple-mpp.txt")

LINKS = ["https://example.com/a?x=1&y=2",
	 "https://example.com/caf\u00e9/men\u00fc?q=\u00fc#section-2",
	 "http://example.org/plain"]


def seed(env, *args):
	p = subprocess.run([SEED, env.state] + list(args), env=env.san.env(),
			   check=True, timeout=60, capture_output=True, text=True)
	return p.stdout.strip()


def token(env, mid, kind, link=0):
	return seed(env, "token", str(mid), kind, str(link))


def hit(port, method, path, headers=None, body=None):
	c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
	c.request(method, path, body=body, headers=headers or {})
	r = c.getresponse()
	data = r.read()
	c.close()
	return r.status, dict(r.getheaders()), data


def record(mid, links=LINKS, ts=None, tenant=None):
	rec = A.message("tok%d" % mid, "Q%d" % mid, tenant=tenant,
			rcpt="reader%d@example.com" % mid, ts=ts or time.time() - 600)
	rec["id"] = mid
	rec["links"] = links
	rec["track"] = "all"
	return rec


def wait_events(recv, n, pred=lambda e: True, timeout=30):
	deadline = time.monotonic() + timeout
	while True:
		evs = [e for e in recv.events() if pred(e)]
		if len(evs) >= n or time.monotonic() > deadline:
			return evs
		time.sleep(0.1)


def main():
	signal.alarm(TIMEOUT)
	tport = H.free_port()
	env = A.ApiEnv(track_listen="127.0.0.1:%d" % tport,
		       trusted_proxies="127.0.0.2",
		       scanner_click_window="30s", scanner_burst_window="3s",
		       apple_mpp_networks=APPLE, track_rate_limit="5",
		       track_rate_burst="60")
	recv = env.receiver()
	env.create("hooks", recv.url)
	env.start()
	env.start_api()
	try:
		run(env, tport, recv)
	finally:
		recv.stop()
	env.finish()
	print("track_server: ok")


def run(env, port, recv):
	ua = "Mozilla/5.0 (X11; Linux x86_64) track-test"
	for mid in (101, 102, 103, 104):
		seed(env, "message", json.dumps(record(mid)))
	loaded = lambda e: e["event"] == "MessageLoaded"
	clicked = lambda e: e["event"] == "MessageLinkClicked"

	# -- the pixel
	t = token(env, 101, "o")
	st, hd, body = hit(port, "GET", "/o/" + t, {"User-Agent": ua})
	assert st == 200 and hd["Content-Type"] == "image/gif", (st, hd)
	assert len(body) == 43 and body.startswith(b"GIF89a"), body
	assert hd["Cache-Control"] == "no-store", hd
	st, _, _ = hit(port, "GET", "/o/" + t, {"User-Agent": ua})
	assert st == 200
	evs = wait_events(recv, 2, loaded)
	assert len(evs) == 2, evs
	assert all(r.verified for r in recv.requests), "unsigned webhook"
	p = evs[0]["payload"]
	assert list(p.keys()) == ["message", "ip_address", "user_agent", "first",
				  "bot"], p
	assert p["ip_address"] == "127.0.0.1" and p["user_agent"] == ua, p
	assert p["message"]["id"] == 101 and p["message"]["token"] == "tok101", p
	assert p["message"]["to"] == "reader101@example.com", p
	# webhooks go out in parallel: their order is not the hits'
	assert sorted(e["payload"]["first"] for e in evs) == [False, True], evs
	assert all(e["payload"]["bot"] is None for e in evs), evs

	# -- clicks: each link comes back exactly, never another message's
	for i, url in enumerate(LINKS):
		t = token(env, 102, "c", i)
		st, hd, _ = hit(port, "GET", "/c/" + t, {"User-Agent": ua})
		assert st == 302, (st, hd)
		want = url.encode("utf-8").decode("latin-1")
		want = "".join(c if 0x20 < ord(c) < 0x7f else "%%%02X" % ord(c)
			       for c in want)
		assert hd["Location"] == want, (hd["Location"], want)
		if i == len(LINKS) - 2:
			time.sleep(3.3)	# the last link later than a scanner's burst
	evs = wait_events(recv, 3, clicked)
	assert sorted(e["payload"]["url"] for e in evs) == sorted(LINKS), evs
	p = [e for e in evs if e["payload"]["url"] == LINKS[0]][0]["payload"]
	assert list(p.keys()) == ["message", "url", "token", "ip_address",
				  "user_agent", "first", "bot"], p
	assert p["token"] == token(env, 102, "c", 0) and p["first"] is True, p
	assert all(e["payload"]["bot"] is None and e["payload"]["first"]
		   for e in evs), evs
	st, _, _ = hit(port, "GET", "/c/" + token(env, 102, "c", 0),
		       {"User-Agent": ua})
	evs = wait_events(recv, 4, clicked)
	again = [e for e in evs if e["payload"]["url"] == LINKS[0]]
	assert sorted(e["payload"]["first"] for e in again) == [False, True], again

	# -- scanners: HEAD, a click right after sending, every link at once
	n = len(wait_events(recv, 4, clicked))
	st, hd, _ = hit(port, "HEAD", "/c/" + token(env, 103, "c", 1))
	assert st == 302 and "Location" in hd, (st, hd)
	# sent a moment ago: any click is a scanner's
	seed(env, "message", json.dumps(record(105, ts=time.time())))
	hit(port, "GET", "/c/" + token(env, 105, "c", 0))
	for i in range(len(LINKS)):
		hit(port, "GET", "/c/" + token(env, 104, "c", i))
	evs = wait_events(recv, n + 5, clicked)[n:]
	bots = {(e["payload"]["message"]["id"], e["payload"]["url"]):
		e["payload"]["bot"] for e in evs}
	assert bots[(103, LINKS[1])] == "scanner", bots
	assert bots[(105, LINKS[0])] == "scanner", bots
	assert bots[(104, LINKS[0])] is None, bots
	assert bots[(104, LINKS[2])] == "scanner", bots

	# -- Apple's prefetch, and X-Forwarded-For from a trusted proxy only
	n = len(wait_events(recv, 2, loaded))
	st, _, _ = hit(port, "GET", "/o/" + token(env, 103, "o"),
		       {"X-Forwarded-For": "17.58.0.1"})
	assert st == 200
	c = http.client.HTTPConnection("127.0.0.1", port, timeout=10,
				       source_address=("127.0.0.2", 0))
	c.request("GET", "/o/" + token(env, 104, "o"),
		  headers={"X-Forwarded-For": "198.51.100.7, 17.58.0.1, 127.0.0.2"})
	assert c.getresponse().status == 200
	c.close()
	evs = wait_events(recv, n + 2, loaded)[n:]
	by = {e["payload"]["message"]["id"]: e["payload"] for e in evs}
	assert by[103]["ip_address"] == "127.0.0.1" and by[103]["bot"] is None, by
	assert by[104]["ip_address"] == "17.58.0.1", by
	assert by[104]["bot"] == "apple_mpp", by

	# -- bad tokens: 404, nothing queued
	n = len(recv.events())
	good = token(env, 101, "o")
	for bad in [good[:-1] + ("0" if good[-1] != "0" else "1"),
		    good[:10] + ("a" if good[10] != "a" else "b") + good[11:],
		    good[:-1], good + "0", "z" * 54, "0" * 54,
		    token(env, 999, "o")]:
		st, _, _ = hit(port, "GET", "/o/" + bad)
		assert st == 404, (bad, st)
	assert hit(port, "GET", "/c/" + good)[0] == 404	# an open's token
	assert hit(port, "GET", "/c/" + token(env, 101, "c", 7))[0] == 404
	assert hit(port, "GET", "/c/" + token(env, 101, "c", 1) + "?u=" +
		   "x" * 60000)[0] in (404, 414, 431, 302)
	assert hit(port, "GET", "/o/" + "a" * 70000)[0] in (404, 414, 431)
	for path in ("/health", "/v1/webhooks", "/.well-known/jwks.json", "/"):
		assert hit(port, "GET", path)[0] == 404, path
	assert hit(port, "POST", "/o/" + good)[0] == 404
	assert env.client().get("/o/" + good, validate=False).status == 404
	time.sleep(1)
	assert len(recv.events()) == n, "a bad token made an event"

	# -- unsubscribe: the GET is a page, only the POST counts
	t = token(env, 101, "u")
	st, hd, body = hit(port, "GET", "/u/" + t, {"User-Agent": ua})
	assert st == 200 and hd["Content-Type"].startswith("text/html"), hd
	assert b'method="post"' in body and t.encode() in body, body
	time.sleep(1)
	assert not [e for e in recv.events() if e["event"] == "MessageUnsubscribed"]
	st, _, _ = hit(port, "POST", "/u/" + t, {
		"User-Agent": ua, "Content-Type": "application/x-www-form-urlencoded"},
		body="List-Unsubscribe=One-Click")
	assert st == 200
	evs = wait_events(recv, 1, lambda e: e["event"] == "MessageUnsubscribed")
	p = evs[0]["payload"]
	assert list(p.keys()) == ["message", "ip_address", "user_agent"], p
	assert p["message"]["id"] == 101 and p["user_agent"] == ua, p

	# -- history: posthookctl and the API
	out = env.ctl("messages", "show", "102").stdout
	assert "click" in out and LINKS[1] in out, out
	key = env.key("default")
	ans = env.client(key).get("/v1/emails/tok101?expand=activity")
	assert ans.status == 200, ans
	act = ans.data["activity"]
	assert len(act["opens"]) == 2 and act["opens"][0]["userAgent"] == ua, act
	assert act["opens"][0]["ipAddress"] == "127.0.0.1", act
	ans = env.client(key).get("/v1/emails/tok102?expand=activity")
	clicks = ans.data["activity"]["clicks"]
	assert [c["url"] for c in clicks[:3]] == LINKS, clicks

	# -- report_bots = no (a reload): a bot's hit is kept, but sends nothing
	env.conf["report_bots"] = "no"
	env.write_conf()
	mark = env.api.output().count("reloading")
	env.api.send_signal(signal.SIGHUP)
	H.wait_until(lambda: env.api.output().count("reloading") > mark
		     and "reloaded" in env.api.output().split("reloading")[-1], 20,
		     what="posthook-api reload")
	n = len(wait_events(recv, 1, clicked))
	st, _, _ = hit(port, "HEAD", "/c/" + token(env, 101, "c", 2))
	assert st == 302, st
	time.sleep(2)
	assert not [e for e in wait_events(recv, n, clicked)
		    if e["payload"]["message"]["id"] == 101], "a bot's click was sent"
	shown = json.loads(env.ctl("--json", "messages", "show", "101").stdout)
	assert [a["bot"] for a in shown["activity"] if a["kind"] == "click"] == \
		["scanner"], shown["activity"]

	# -- a flood from one address is limited; another address still counts
	codes = [hit(port, "GET", "/o/" + "0" * 54)[0] for _ in range(150)]
	assert 429 in codes, codes
	c = http.client.HTTPConnection("127.0.0.1", port, timeout=10,
				       source_address=("127.0.0.3", 0))
	c.request("GET", "/o/" + token(env, 102, "o"))
	assert c.getresponse().status == 200
	c.close()


if __name__ == "__main__":
	main()
