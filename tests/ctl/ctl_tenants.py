"""posthookctl tenants and --tenant: tenants and
their rules are made, shown, changed and deleted; a value two tenants
claim is refused; webhooks, deliveries and messages each see one tenant's
(default "default"); an endpoint and a message record written without a
tenant (a store from before tenants) are the default tenant's; a test
event of one tenant's webhook is in that tenant's delivery history only."""

import json
import os
import subprocess

from posthook_test import webhook as W

STORE_TOOL = os.path.join(W.BUILD, "tests", "logtail", "logtail_store_tool")

env = W.Env()


def fails(*args, status=1, says=None):
	p = env.ctl(*args, check=False)
	assert p.returncode == status, (args, p.returncode, p.stdout, p.stderr)
	assert says is None or says in p.stderr, (args, p.stderr)
	return p


def lines(*args):
	return [json.loads(l) for l in env.ctl("--json", *args).stdout.splitlines()]


# -- tenants and their rules
t = env.ctl_json("tenants", "create", "shop", "--sasl-user", "shop-app",
		 "--client", "10.1.2.3/16", "--sender-domain", "@Shop.Example.")
assert t["name"] == "shop"
assert t["rules"] == {"saslUsers": ["shop-app"], "clients": ["10.1.0.0/16"],
		      "daemonNames": [], "senderDomains": ["shop.example"]}, t
assert t["createdAt"].endswith("Z") and t["settings"] == {}
env.ctl_json("tenants", "create", "blog", "--daemon-name", "submission-blog")
fails("tenants", "create", "blog", says="tenant blog exists")
fails("tenants", "create", "Bad.Name", says="invalid tenant name")
fails("tenants", "create", "other", "--sasl-user", "shop-app",
      says="the SASL username shop-app belongs to tenant shop already")
fails("tenants", "create", "other", "--client", "10.1.9.9/16",
      says="the client network 10.1.0.0/16 belongs to tenant shop already")
fails("tenants", "create", "other", "--sender-domain", "SHOP.example",
      says="belongs to tenant shop")
fails("tenants", "create", "other", "--client", "10.0.0.0/33",
      says="not an address or network")
fails("tenants", "update", "blog", "--sasl-user", "x", status=2)
fails("tenants", "create", "x", "--add-sasl-user", "x", status=2)
fails("tenants", "update", "nosuch", "--add-sasl-user", "x", says="no tenant named")
# a refused change changes nothing
fails("tenants", "update", "blog", "--add-sasl-user", "blog-app",
      "--add-client", "10.1.0.0/16", says="belongs to tenant shop")
assert env.ctl_json("tenants", "show", "blog")["rules"]["saslUsers"] == []
t = env.ctl_json("tenants", "update", "blog", "--add-sasl-user", "blog-app",
		 "--remove-daemon-name", "submission-blog",
		 "--settings", '{"tracking": false}')
assert t["rules"]["saslUsers"] == ["blog-app"] and t["rules"]["daemonNames"] == []
assert t["settings"] == {"tracking": False}
fails("tenants", "update", "blog", "--remove-client", "192.0.2.1",
      says='tenant blog has no client "192.0.2.1"')
fails("tenants", "update", "blog", "--settings", "[1]", status=2)
assert [x["name"] for x in lines("tenants", "list")] == ["blog", "default", "shop"]
table = env.ctl("tenants", "list").stdout.splitlines()
assert table[0].split() == ["NAME", "SASL", "USERS", "CLIENTS", "DAEMON", "NAMES",
			    "SENDER", "DOMAINS"], table
assert env.ctl_json("tenants", "show", "default")["name"] == "default"
fails("tenants", "delete", "default", says="always exists")
fails("tenants", "show", "nosuch", says="no tenant named")
print("tenants: create, update, show, list; conflicts refused")

# -- webhooks of two tenants
rcv = env.receiver()
d = env.create("default's", rcv.url)
s = env.ctl_json("webhooks", "create", "--tenant", "shop", "--name", "shop's",
		 "--url", rcv.url, "--all-events")
assert s["tenant"] == "shop"
assert "tenant" not in env.ctl_json("webhooks", "show", d)
fails("webhooks", "create", "--tenant", "nosuch", "--name", "x", "--url", rcv.url,
      "--all-events", says="no tenant named")
assert [w["id"] for w in lines("webhooks", "list")] == [d]
assert [w["id"] for w in lines("webhooks", "list", "--tenant", "shop")] == [s["id"]]
assert lines("webhooks", "list", "--tenant", "blog") == []
for verb in ("show", "enable", "disable", "delete", "test"):
	fails("webhooks", verb, s["id"], says="no webhook with id")
	fails("webhooks", verb, d, "--tenant", "shop", says="no webhook with id")
fails("webhooks", "update", s["id"], "--name", "x", says="no webhook with id")
assert env.ctl_json("webhooks", "update", s["id"], "--tenant", "shop",
		    "--name", "shop hook")["name"] == "shop hook"
fails("tenants", "delete", "shop", says="still owns webhooks")
print("webhooks: each tenant sees its own")

# -- deliveries: a test event of each tenant's webhook
env.start()
for tenant, wid in (("default", d), ("shop", s["id"])):
	out = env.ctl_json("webhooks", "test", wid, "--tenant", tenant)
	assert out["success"] is True and out["webhookId"] == wid, out
mine = lines("deliveries", "list")
assert [a["webhookId"] for a in mine] == [d], mine
shops = lines("deliveries", "list", "--tenant", "shop")
assert [a["webhookId"] for a in shops] == [s["id"]], shops
fails("deliveries", "show", shops[0]["id"], says="no delivery attempt")
assert env.ctl_json("deliveries", "show", shops[0]["id"], "--tenant",
		    "shop")["id"] == shops[0]["id"]
fails("deliveries", "replay", shops[0]["id"], says="no delivery attempt")
fails("deliveries", "recover", "--webhook", s["id"], "--since", "1h",
      says="no webhook")
env.ctl("deliveries", "recover", "--webhook", s["id"], "--since", "1h",
	"--tenant", "shop")
fails("deliveries", "list", "--tenant", "nosuch", says="no tenant named")
# the history stays the tenant's when its webhook is gone
env.ctl("webhooks", "delete", s["id"], "--tenant", "shop")
assert len(lines("deliveries", "list", "--tenant", "shop")) == 1
assert len(lines("deliveries", "list")) == 1
env.ctl("tenants", "delete", "shop")
print("deliveries: each tenant sees its own attempts")

# -- messages: a record without a tenant member is the default tenant's
def put_record(rec):
	subprocess.run([STORE_TOOL, env.state, json.dumps(rec)], check=True,
		       env=env.san.env(), timeout=60)


base = {"token": "t1", "queue_id": "QID0001", "from": "a@example.com",
	"recipients": ["r@dest.test"], "timestamp": 1700000000.0,
	"direction": "outgoing", "id": 1}
put_record(base)
put_record(dict(base, token="t2", queue_id="QID0002", id=2, tenant="blog"))
assert [m["queue_id"] for m in lines("messages", "list")] == ["QID0001"]
assert [m["queue_id"] for m in lines("messages", "list", "--tenant", "blog")] == ["QID0002"]
assert env.ctl_json("messages", "show", "QID0001")["queue_id"] == "QID0001"
fails("messages", "show", "QID0002", says="no message")
assert env.ctl_json("messages", "show", "t2", "--tenant", "blog")["tenant"] == "blog"
fails("messages", "show", "QID0001", "--tenant", "blog", says="no message")
fails("messages", "show", "QID0001", "--limit", "3", status=2)
print("messages: each tenant sees its own; untenanted records are default's")
env.finish()
print("ctl tenants: ok")
