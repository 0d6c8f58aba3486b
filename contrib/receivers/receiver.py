#!/usr/bin/env python3
"""posthook webhook receiver: verify the signature through the JWKS, dedupe
on uuid, answer 200 at once.

    receiver.py JWKS_URL_OR_FILE PORT [HEADER_PREFIX]

Needs python3-cryptography.  HEADER_PREFIX is signature_header_prefix of
posthook.conf (default X-Posthook).  Listens on 127.0.0.1 only.
"""
import base64
import collections
import json
import queue
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

JWKS_SOURCE, PORT = sys.argv[1], int(sys.argv[2])
PREFIX = sys.argv[3] if len(sys.argv) > 3 else "X-Posthook"
REFETCH_INTERVAL = 1.0          # at most one JWKS fetch a second
SEEN_MAX = 100000               # uuids remembered for dedupe

keys, last_fetch, lock = {}, 0.0, threading.Lock()
seen, seen_order = set(), collections.deque()
work = queue.Queue()


def b64url_int(s):
    return int.from_bytes(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), "big")


def fetch_jwks():
    """Replace the key cache with the JWKS (URL or file)."""
    global keys, last_fetch
    last_fetch = time.monotonic()
    if JWKS_SOURCE.startswith(("http://", "https://")):
        with urllib.request.urlopen(JWKS_SOURCE, timeout=5) as r:
            doc = json.load(r)
    else:
        with open(JWKS_SOURCE) as f:
            doc = json.load(f)
    keys = {k["kid"]: rsa.RSAPublicNumbers(b64url_int(k["e"]), b64url_int(k["n"])).public_key()
            for k in doc["keys"] if k.get("kty") == "RSA"}


def key_for(kid):
    """The cached key; an unknown kid fetches the JWKS again (rate-limited)."""
    with lock:
        if kid not in keys and time.monotonic() - last_fetch >= REFETCH_INTERVAL:
            try:
                fetch_jwks()
            except (OSError, ValueError, KeyError) as e:
                print("jwks fetch failed:", e, flush=True)
        return keys.get(kid)


def first_seen(uuid):
    with lock:
        if uuid in seen:
            return False
        seen.add(uuid)
        seen_order.append(uuid)
        if len(seen_order) > SEEN_MAX:
            seen.discard(seen_order.popleft())
        return True


def worker():
    while True:
        event = work.get()      # the application's real work goes here
        print("event", event["uuid"], event["event"], flush=True)


class Handler(BaseHTTPRequestHandler):
    def reply(self, code, text):
        body = text.encode() + b"\n"
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        sig = self.headers.get(PREFIX + "-Signature", "")
        kid = self.headers.get(PREFIX + "-Signature-KID", "")
        key = key_for(kid)
        try:
            if key is None:
                raise InvalidSignature
            key.verify(base64.b64decode(sig, validate=True), body,
                       padding.PKCS1v15(), hashes.SHA256())
            event = json.loads(body)
        except (InvalidSignature, ValueError):
            return self.reply(401, "bad signature")
        if not first_seen(event["uuid"]):
            return self.reply(200, "duplicate")
        work.put(event)
        self.reply(200, "ok")

    def log_message(self, fmt, *args):
        pass


threading.Thread(target=worker, daemon=True).start()
print("listening on 127.0.0.1:%d" % PORT, flush=True)
ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
