"""api_lib - what the posthook-api tests share: a scratch config and store
(webhook_lib's Env), posthook-api and posthook-webhook under the
sanitizers, API keys, an HTTP client on urllib that validates every answer
against docs/openapi.yaml (python3-jsonschema), and curl for the same."""

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "pylib"))
from posthook_test import harness as H  # noqa: E402
from posthook_test import webhook as W  # noqa: E402

import jsonschema  # noqa: E402
import yaml  # noqa: E402

BUILD = os.environ.get("top_builddir", "../..")
SRC = os.environ.get("top_srcdir", os.path.join(HERE, "..", ".."))
API = os.path.join(BUILD, "api", "posthook-api")
SEED = os.path.join(BUILD, "tests", "api", "api_seed")
OPENAPI = os.path.join(SRC, "docs", "openapi.yaml")
REQUEST_TIMEOUT = 30


class OpenAPI:
	"""The document, and the schema of each (path, method, status)."""

	def __init__(self, path=OPENAPI):
		with open(path) as f:
			self.doc = yaml.safe_load(f)
		self.templates = []
		for tmpl in self.doc["paths"]:
			rx = "^" + re.sub(r"\{[^}]+\}", "[^/]+", re.escape(tmpl).replace(
				r"\{", "{").replace(r"\}", "}")) + "$"
			self.templates.append((re.compile(rx), tmpl))
		self.seen = set()

	def operation(self, path, method):
		path = path.split("?", 1)[0]
		for rx, tmpl in self.templates:
			if rx.match(path):
				return tmpl, self.doc["paths"][tmpl].get(method.lower())
		m = re.match(r"^/v1/tenants/[^/]+(/.*)$", path)
		if m:
			return self.operation("/v1" + m.group(1), method)
		return None, None

	def validate(self, path, method, status, body, ctype):
		"""validate - raise unless the answer is documented and matches."""
		tmpl, op = self.operation(path, method)
		if op is None:	# unknown paths and methods: the error envelope
			assert status in (404, 405), "undocumented: %s %s" % (method, path)
			op = {"responses": {str(status): {"$ref": "#/components/responses/Error"}}}
		resp = op["responses"].get(str(status))
		assert resp is not None, "undocumented status %d for %s %s" % (
			status, method, tmpl)
		if "$ref" in resp:
			resp = self.doc["components"]["responses"][resp["$ref"].split("/")[-1]]
		content = resp.get("content", {})
		self.seen.add((tmpl, method.upper(), status))
		if "application/json" in content:
			assert ctype.startswith("application/json"), ctype
			schema = {"allOf": [content["application/json"]["schema"]],
				  "components": self.doc["components"]}
			jsonschema.Draft202012Validator(schema).validate(body)
		elif "text/plain" in content:
			assert ctype.startswith("text/plain"), ctype


SPEC = None


def spec():
	global SPEC
	if SPEC is None:
		SPEC = OpenAPI()
	return SPEC


class Answer:
	def __init__(self, status, headers, raw):
		self.status = status
		self.headers = headers
		self.raw = raw
		ctype = headers.get("Content-Type", "")
		self.json = json.loads(raw) if ctype.startswith("application/json") and raw else None

	@property
	def data(self):
		return self.json["data"]

	@property
	def code(self):
		return self.json["error"]["code"]

	def __repr__(self):
		return "Answer(%d, %s)" % (self.status, self.raw[:300])


class Client:
	"""urllib against one posthook-api, validating every answer."""

	def __init__(self, base, key=None):
		self.base = base
		self.key = key

	def request(self, method, path, body=None, key=None, headers=None, raw=None,
		    validate=True):
		hdrs = dict(headers or {})
		k = self.key if key is None else key
		if k:
			hdrs["Authorization"] = "Bearer " + k
		data = raw
		if body is not None:
			data = json.dumps(body).encode()
			hdrs.setdefault("Content-Type", "application/json")
		req = urllib.request.Request(self.base + path, data=data, method=method,
					     headers=hdrs)
		try:
			with urllib.request.urlopen(req, timeout=REQUEST_TIMEOUT) as r:
				ans = Answer(r.status, r.headers, r.read())
		except urllib.error.HTTPError as e:
			ans = Answer(e.code, e.headers, e.read())
		assert "Access-Control-Allow-Origin" not in ans.headers
		if ans.json is not None and path.startswith("/v1"):
			assert ans.json["meta"]["requestId"] == ans.headers["X-Request-Id"]
		if validate:
			spec().validate(path, method, ans.status, ans.json,
					ans.headers.get("Content-Type", ""))
		return ans

	def get(self, path, **kw):
		return self.request("GET", path, **kw)

	def post(self, path, body=None, **kw):
		return self.request("POST", path, body=body, **kw)

	def patch(self, path, body=None, **kw):
		return self.request("PATCH", path, body=body, **kw)

	def delete(self, path, **kw):
		return self.request("DELETE", path, **kw)


def curl(url, *args, key=None):
	"""curl - (status, headers text, body) of one request by curl(1)."""
	cmd = ["curl", "-sS", "--max-time", str(REQUEST_TIMEOUT), "-D", "-", url]
	if key:
		cmd += ["-H", "Authorization: Bearer " + key]
	p = subprocess.run(cmd + list(args), capture_output=True, timeout=REQUEST_TIMEOUT + 5)
	assert p.returncode == 0, p.stderr
	head, _, body = p.stdout.partition(b"\r\n\r\n")
	while head.startswith(b"HTTP/1.1 100"):
		head, _, body = body.partition(b"\r\n\r\n")
	status = int(head.split()[1])
	return status, head.decode(), body


class ApiEnv(W.Env):
	"""webhook_lib's Env with posthook-api beside posthook-webhook."""

	def __init__(self, **conf):
		self.port = H.free_port()
		base = {"api_listen": "127.0.0.1:%d" % self.port,
			"api_rate_limit": "1000", "api_rate_burst": "1000"}
		base.update(conf)
		super().__init__(**base)
		self.api = None
		self.base = "http://127.0.0.1:%d" % self.port
		self.api_env = {}
		self.postqueue_log = os.path.join(self.dir, "postqueue.log")

	def fake_postqueue(self, queued):
		"""fake_postqueue - a postqueue(1) stand-in with these ids queued."""
		path = os.path.join(self.dir, "postqueue")
		with open(path, "w") as f:
			f.write("#!/bin/sh\necho \"$@\" >> %s\n" % self.postqueue_log)
			f.write('[ "$1" = -j ] || exit 0\n')
			for q in queued:
				f.write("echo '{\"queue_name\": \"deferred\", \"queue_id\": \"%s\"}'\n" % q)
		os.chmod(path, 0o755)
		self.api_env["POSTHOOK_POSTQUEUE"] = path

	def start_api(self):
		env = self.san.env()
		env.update(self.api_env)
		self.api = H.Daemon([API, "-f", "-v", "-c", self.conf_path], env=env,
				    log=os.path.join(self.dir, "api.log"))
		H.wait_until(lambda: self.healthy() or not self.api.running(), 30,
			     what="posthook-api up")
		assert self.api.running(), self.api.output()
		return self.api

	def healthy(self):
		try:
			with urllib.request.urlopen(self.base + "/health", timeout=2) as r:
				return r.status == 200
		except OSError:
			return False

	def stop_api(self):
		rc = self.api.stop(timeout=20)
		assert rc == 0, "posthook-api exited %s:\n%s" % (rc, self.api.output())
		self.api = None

	def key(self, tenant, *extra):
		"""A new key of tenant (created first, unless it exists)."""
		if tenant != "default":
			self.ctl("tenants", "create", tenant, check=False)
		out = self.ctl("apikeys", "create", "--tenant", tenant, *extra).stdout
		key = out.strip()
		assert re.fullmatch(r"ph_live_[0-9a-f]{64}", key), out
		return key

	def client(self, key=None):
		return Client(self.base, key)

	def seed_message(self, **rec):
		subprocess.run([SEED, self.state, "message", json.dumps(rec)],
			       env=self.san.env(), check=True, timeout=60)

	def seed_event(self, event, payload):
		p = subprocess.run([SEED, self.state, "event", event, json.dumps(payload)],
				   env=self.san.env(), check=True, timeout=60,
				   capture_output=True, text=True)
		return p.stdout.strip()

	def finish(self):
		if self.api is not None and self.api.running():
			self.stop_api()
		super().finish()


def message(token, qid, tenant=None, rcpt="user@example.com", ts=None, tag=None,
	    sender="app@example.org"):
	"""message - a milter record as message_record_to_json writes it."""
	rec = {"id": abs(hash(token)) % 100000, "token": token, "direction": "outgoing",
	       "message_id": token + "@example.org", "from": sender,
	       "subject": "Hello " + token, "timestamp": ts or time.time(),
	       "spam_status": "NotChecked", "tag": tag, "metadata": None,
	       "queue_id": qid, "recipients": [rcpt]}
	if tenant is not None:
		rec["tenant"] = tenant
	return rec


def delivery_payload(rec, status, details="", output="", ts=None, **extra):
	"""delivery_payload - seed 002's payload of a delivery event for rec."""
	p = {"message": {"id": rec["id"], "token": rec["token"], "direction": "outgoing",
			 "message_id": rec["message_id"], "to": rec["recipients"][0],
			 "from": rec["from"], "subject": rec["subject"],
			 "timestamp": rec["timestamp"], "spam_status": "NotChecked",
			 "tag": rec["tag"], "metadata": None},
	     "status": status, "details": details, "output": output,
	     "sent_with_ssl": True, "timestamp": ts or time.time(), "time": 0.5}
	p.update(extra)
	return p
