"""posthookctl domains check against nsd in a private namespace: each kind
of good and broken record gives its status and the error docs/events.md gives; hostile
records (a 64 KB TXT, 20 includes, an include loop, DKIM garbage, a CNAME
loop, an MX at an IP literal or ".") give a clear status, never a crash or
a hang past dns_timeout; a timeout or SERVFAIL is "could not be checked"."""

import json
import os
import sys
import time

import dns_lib as D

if not D.isolate():
	print("SKIP: needs root, unshare and nsd (Debian package nsd)")
	sys.exit(77)

W, H = D.W, D.H
env = W.Env(dns_timeout="2s", sending_ips="198.18.0.10",
	    mx_hostnames="mx.posthook.example",
	    return_path_domain="rp.posthook.example", dns_check_parallel="4")
keys = H.scratch_dir("posthook-dkim-")
good_file, good_p = D.dkim_key(keys, "s1")
rot_file, rot_p = D.dkim_key(keys, "s2", "ed25519")
bad_ed = os.path.join(keys, "bad.txt")

big = "v=spf1 " + " ".join("ip4:198.51.%d.%d" % (i // 250, i % 250)
			   for i in range(3600))
assert len(big) > 60000, len(big)
MX = "MX 10 mx.good.example."
SPF = D.txt("v=spf1 ip4:198.18.0.0/24 -all")
records = [
	"ns A 127.0.0.1",
	"mx.posthook A 198.18.0.10",
	"rp.posthook MX 10 mx.posthook.example.",
	"rp.posthook TXT " + D.txt("v=spf1 ip4:198.18.0.10 -all"),
	"mx.good A 198.18.0.25",
	"good " + MX, "good TXT " + SPF,
	"s1._domainkey.good TXT " + D.txt("v=DKIM1; h=sha256; k=rsa; p=" + good_p),
	"_dmarc.good TXT " + D.txt("v=DMARC1; p=reject"),
	"rotate " + MX, "rotate TXT " + D.txt("v=spf1 include:good.example -all"),
	"s1._domainkey.rotate TXT " + D.txt("v=DKIM1; k=rsa; p=" + good_p),
	"s2._domainkey.rotate TXT " + D.txt("v=DKIM1; k=ed25519; p=" + rot_p),
	"nospf " + MX,
	"softspf " + MX, "softspf TXT " + D.txt("v=spf1 ip4:198.51.100.1 ~all"),
	"plusall " + MX, "plusall TXT " + D.txt("v=spf1 +all"),
	"twospf " + MX, "twospf TXT " + SPF, "twospf TXT " + D.txt("v=spf1 -all"),
	"bigtxt " + MX, "bigtxt TXT " + D.txt(big),
	"includes20 " + MX, "includes20 TXT " + D.txt(
		"v=spf1 " + " ".join("include:i%d.inc.example" % i for i in range(1, 21))
		+ " -all"),
	"loop " + MX, "loop TXT " + D.txt("v=spf1 include:loop2.example -all"),
	"loop2 TXT " + D.txt("v=spf1 include:loop.example -all"),
	"baddkim " + MX, "baddkim TXT " + SPF,
	"s1._domainkey.baddkim TXT " + D.txt("v=DKIM1; k=rsa; p=\x01garbage!!##"),
	"cnameloop CNAME cl2.example.", "cl2 CNAME cnameloop.example.",
	"mxip MX 10 198.18.0.25.", "mxip TXT " + SPF,
	"mxdot MX 0 .", "mxdot TXT " + SPF,
	"sendonly MX 0 .", "sendonly TXT " + SPF,
	"nomx TXT " + SPF,
	"mxnoaddr MX 10 nowhere.example.", "mxnoaddr TXT " + SPF,
	"flip " + MX,
] + ["i%d.inc TXT %s" % (i, D.txt("v=spf1 ip4:198.51.100.%d -all" % i))
     for i in range(1, 21)]
reverse = ["10 PTR mx.posthook.example."]
zones = {"example": D.zone("example", records),
	 "0.18.198.in-addr.arpa": D.zone("0.18.198.in-addr.arpa", reverse)}
nsd = D.Nsd(zones)
D.start_responder()

# -- add: opendkim's .txt file, two selectors, send-only, a return path
env.ctl("domains", "add", "good.example", "--dkim-selector", "s1",
	"--dkim-public-key", good_file)
env.ctl("domains", "add", "rotate.example", "--dkim-public-key", good_file,
	"--dkim-selector", "s1", "--dkim-public-key", rot_file,
	"--dkim-selector", "s2")
env.ctl("domains", "add", "baddkim.example", "--dkim-public-key", good_file)
with open(bad_ed, "w") as f:
	f.write("v=DKIM1; k=ed25519; p=AAAA\n")
p = env.ctl("domains", "add", "x.example", "--dkim-selector", "s9",
	    "--dkim-public-key", bad_ed, check=False)
assert p.returncode == 1 and "not an ed25519 public key" in p.stderr, p
env.ctl("domains", "add", "sendonly.example", "--send-only")
env.ctl("domains", "add", "rpmissing.example.", "--return-path", "rp.missing.example")
for d in ["nospf", "softspf", "plusall", "twospf", "bigtxt", "includes20",
	  "loop", "cnameloop", "mxip", "mxdot", "nomx", "mxnoaddr"]:
	env.ctl("domains", "add", d + ".example")
env.ctl("domains", "add", "slow.timeout.example")
env.ctl("domains", "add", "x.servfail.example")
p = env.ctl("domains", "add", "not a domain", check=False)
assert p.returncode == 2, p
p = env.ctl("domains", "add", "x.example", "--dkim-selector", "a b",
	    "--dkim-public-key", good_file, check=False)
assert p.returncode == 2 and "bad DKIM selector" in p.stderr, p


def check(domain):
	start = time.monotonic()
	p = env.ctl("--json", "domains", "check", domain, check=False, timeout=120)
	took = time.monotonic() - start
	assert p.returncode in (0, 1), p
	r = json.loads(p.stdout)
	return r, p.returncode, took


def expect(domain, field, status, text=None):
	r, rc, took = check(domain)
	c = r["checks"][field]
	assert c["status"] == status, (domain, field, r["checks"])
	if text is not None:
		assert text in (c["error"] or ""), (domain, field, c)
	print("%-20s %-12s %-8s %s (%.1fs)" % (domain, field, status,
					       c["error"] or "", took))
	return r, rc, took


r, rc, _ = expect("good.example", "spf", "OK")
assert rc == 0 and not r["broken"], r
assert all(r["checks"][k]["status"] == "OK" for k in r["checks"]), r
assert r["dmarc_policy"] == "reject" and r["dmarc_dkim_aligned"], r
r, rc, _ = expect("rotate.example", "dkim", "OK")
assert rc == 0, r
expect("nospf.example", "spf", "Missing", "No SPF record exists for this domain")
expect("softspf.example", "spf", "Invalid", "does not allow 198.18.0.10 to send (softfail)")
expect("plusall.example", "spf", "Invalid", "allows every address (+all)")
expect("twospf.example", "spf", "Invalid", "There are 2 SPF records")
expect("bigtxt.example", "spf", "Invalid")
expect("includes20.example", "spf", "Invalid", "is invalid")
expect("loop.example", "spf", "Invalid", "is invalid")
expect("baddkim.example", "dkim", "Invalid", "is invalid: p= is not base64")
r, _, _ = expect("cnameloop.example", "mx", "Invalid", "CNAME loop")
assert r["checks"]["spf"]["status"] == "Invalid", r
expect("mxip.example", "mx", "Invalid", "points at an IP address (198.18.0.25)")
expect("mxdot.example", "mx", "Invalid", "null MX")
r, rc, _ = expect("sendonly.example", "mx", "OK")
expect("nomx.example", "mx", "Missing", "There are no MX records for this domain")
expect("mxnoaddr.example", "mx", "Invalid", "The MX host nowhere.example has no address")
expect("rpmissing.example", "return_path", "Missing",
       "There is no return path record at rp.missing.example")
r, rc, took = check("slow.timeout.example")
assert rc == 1, r
for k in ("spf", "mx", "dmarc"):
	c = r["checks"][k]
	assert c.get("unsure") and "Could not be checked" in c["note"], r
assert took < 6 * 2 + 5, took
print("slow.timeout.example: every check could not be checked, %.1fs" % took)
r, rc, took = check("x.servfail.example")
for k in ("spf", "mx", "dmarc"):
	c = r["checks"][k]
	assert c.get("unsure") and "SERVFAIL" in c["note"], r
print("x.servfail.example: SERVFAIL is not Missing")

# -- check --all, and what list and show keep
# A resolver that timed out for one domain still answers for the others.
env.conf["dns_check_parallel"] = "1"
env.write_conf()
p = env.ctl("--json", "domains", "check", "--all", check=False, timeout=180)
assert p.returncode == 1, p
for r in map(json.loads, p.stdout.splitlines()):
	if "timeout" in r["domain"] or "servfail" in r["domain"]:
		continue
	assert not any(c.get("unsure") for c in r["checks"].values()), r
print(env.ctl("domains", "list").stdout)
shown = env.ctl_json("domains", "show", "nospf.example")
assert shown["checks"]["spf"]["error"] == "No SPF record exists for this domain"
env.ctl("domains", "remove", "nospf.example")
p = env.ctl("domains", "show", "nospf.example", check=False)
assert p.returncode == 1, p
nsd.stop()
env.san.assert_clean()
print("PASS")
