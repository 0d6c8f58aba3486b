#!/usr/bin/env python3
"""api_restart - posthook-api under load: clients keep asking while the
daemon is stopped and started again, and get either a right answer or a
refused connection, never a wrong or half answer; a SIGHUP reloads the TLS
certificate (new connections see the new one, the daemon never stops
answering); --check refuses bad api_* settings."""

import hashlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api_lib as A  # noqa: E402

H = A.H
TIMEOUT = 240
WORKERS = 8


def make_cert(d, name):
	cert, key = os.path.join(d, name + ".pem"), os.path.join(d, name + ".key")
	subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
			"-keyout", key, "-out", cert, "-days", "2", "-subj",
			"/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
		       check=True, capture_output=True, timeout=60)
	return cert, key


def peer_cert(port):
	ctx = ssl.create_default_context()
	ctx.check_hostname = False
	ctx.verify_mode = ssl.CERT_NONE
	with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
		with ctx.wrap_socket(s) as t:
			return hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest()


def fingerprint(path):
	der = subprocess.run(["openssl", "x509", "-in", path, "-outform", "DER"],
			     check=True, capture_output=True, timeout=30).stdout
	return hashlib.sha256(der).hexdigest()


def check_settings():
	env = A.ApiEnv()
	for bad in ({"api_listen": "localhost"}, {"api_listen": "127.0.0.1:x"},
		    {"api_listen": "example.com:80"}, {"api_tls_cert": "/etc/hostname"},
		    {"api_connection_timeout": "10ms"}):
		env.conf.update(bad)
		env.write_conf()
		p = subprocess.run([A.API, "--check", "-c", env.conf_path], capture_output=True,
				   text=True, timeout=30, env=env.san.env())
		assert p.returncode == 1, (bad, p.stdout, p.stderr)
		env.conf.pop(list(bad)[0])
		env.conf["api_listen"] = "127.0.0.1:%d" % env.port
	env.write_conf()
	p = subprocess.run([A.API, "--check", "-c", env.conf_path], capture_output=True,
			   text=True, timeout=30, env=env.san.env())
	assert p.returncode == 0, p.stderr
	env.finish()


def restart_under_load():
	env = A.ApiEnv(api_rate_limit="1000000", api_rate_burst="1000000")
	env.start_api()
	key = env.key("acme")
	c = env.client(key)
	w = c.post("/v1/webhooks", {"name": "w", "url": "http://127.0.0.1:9/h"}).data
	stop = threading.Event()
	counts = {"ok": 0, "refused": 0}
	bad = []
	lock = threading.Lock()

	def worker():
		while not stop.is_set():
			req = urllib.request.Request(env.base + "/v1/webhooks/%s" % w["id"],
						     headers={"Authorization": "Bearer " + key})
			try:
				with urllib.request.urlopen(req, timeout=10) as r:
					body = r.read()
					ok = r.status == 200 and b'"name":"w"' in body
				with lock:
					if ok:
						counts["ok"] += 1
					else:
						bad.append(body)
			except urllib.error.HTTPError as e:
				with lock:
					bad.append((e.code, e.read()))
			except (ConnectionError, urllib.error.URLError, socket.timeout,
				OSError):
				with lock:
					counts["refused"] += 1
				time.sleep(0.01)

	threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
	for t in threads:
		t.start()
	try:
		for _ in range(3):
			time.sleep(1.5)
			env.stop_api()
			time.sleep(0.3)
			env.start_api()
		time.sleep(1.5)
	finally:
		stop.set()
		for t in threads:
			t.join(30)
	assert not bad, bad[:3]
	assert counts["ok"] > 100, counts
	print("restart under load: %r" % counts)
	assert c.get("/v1/webhooks/%s" % w["id"]).status == 200
	env.finish()


def tls_reload():
	env = A.ApiEnv()
	first = make_cert(env.dir, "first")
	second = make_cert(env.dir, "second")
	live_cert = os.path.join(env.dir, "live.pem")
	live_key = os.path.join(env.dir, "live.key")
	for src, dst in zip(first, (live_cert, live_key)):
		with open(src, "rb") as f, open(dst, "wb") as g:
			g.write(f.read())
	env.conf.update(api_tls_cert=live_cert, api_tls_key=live_key)
	env.write_conf()
	env.base = "https://127.0.0.1:%d" % env.port
	ctx = ssl.create_default_context(cafile=first[0])
	env.api = H.Daemon([A.API, "-f", "-v", "-c", env.conf_path], env=env.san.env(),
			   log=os.path.join(env.dir, "api.log"))

	def up(context):
		try:
			with urllib.request.urlopen(env.base + "/health", timeout=5,
						    context=context) as r:
				return r.status == 200
		except OSError:
			return False

	H.wait_until(lambda: up(ctx) or not env.api.running(), 30, what="https up")
	assert env.api.running(), env.api.output()
	assert peer_cert(env.port) == fingerprint(first[0])
	# plain HTTP on the TLS port gets no answer
	try:
		with urllib.request.urlopen("http://127.0.0.1:%d/health" % env.port,
					    timeout=5) as r:
			raise AssertionError("plain HTTP answered %d" % r.status)
	except (urllib.error.URLError, ConnectionError, OSError):
		pass
	# a connection kept open across the reload
	held = ssl.create_default_context(cafile=first[0])
	hold = held.wrap_socket(socket.create_connection(("127.0.0.1", env.port), timeout=10),
				server_hostname="127.0.0.1")
	for src, dst in zip(second, (live_cert, live_key)):
		with open(src, "rb") as f, open(dst, "wb") as g:
			g.write(f.read())
	env.api.send_signal(signal.SIGHUP)
	H.wait_until(lambda: peer_cert(env.port) == fingerprint(second[0]), 20,
		     what="the new certificate served")
	assert up(ssl.create_default_context(cafile=second[0]))
	hold.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	got = hold.recv(100)
	assert got.startswith(b"HTTP/1.1 200"), got
	hold.close()
	# a broken certificate file: the reload is refused, the old one serves
	with open(live_cert, "w") as f:
		f.write("not a certificate\n")
	env.api.send_signal(signal.SIGHUP)
	H.wait_until(lambda: "the old one serves on" in env.api.output(), 20,
		     what="reload refused")
	assert env.api.running()
	assert peer_cert(env.port) == fingerprint(second[0])
	env.stop_api()
	env.finish()


def main():
	signal.alarm(TIMEOUT)
	check_settings()
	restart_under_load()
	tls_reload()
	print("api_restart: ok")


if __name__ == "__main__":
	main()
