#!/usr/bin/env python3
"""e2e_tenants - two tenants' mail through a real Postfix reaches only
each tenant's own webhook.

Tenant "shop" claims the client address 127.0.0.2, tenant "blog" the
sender domain blog.test; each has a webhook of its own, and the default
tenant has the stack's.  Mail from 127.0.0.2, mail from blog.test and
other mail each make one MessageSent, on its tenant's webhook alone.  With
the milter stopped, the tailer decides from what the log shows: mail from
127.0.0.2 is still shop's.  (The harness has no SASL: the SASL rule is
tested through the milter's callbacks, check_milter_callbacks.)
"""

import re
import smtplib
import sys
import time

from posthook_test import e2e_stack as E
from posthook_test import harness as H

SHOP_ADDR = "127.0.0.2"
SHOP_TO = "shop@plain.test"
BLOG_TO = "blog@plain.test"
SITE_TO = "site@plain.test"
LOG_ONLY_TO = "unseen@plain.test"


def send_from(st, addr, sender, to, subject):
	"""one message over SMTP from a loopback address of our choosing."""
	msg = H.make_message(sender, to, subject=subject)
	with smtplib.SMTP(H.LOOPBACK, st.pf.port, "app.test", timeout=30,
			  source_address=(addr, 0)) as s:
		s.sendmail(sender, [to], msg)


def bodies(rcv):
	with rcv._cond:
		return [r.json for r in rcv.requests if r.json is not None]


def recipients(rcv):
	return sorted((b["event"], b["payload"]["message"]["to"])
		      for b in bodies(rcv))


def wait_for(rcv, to, timeout=60):
	"""the first body rcv got for `to`, or None."""
	try:
		return H.wait_until(lambda: [b for b in bodies(rcv) if
					     b["payload"]["message"]["to"] == to],
				    timeout, interval=0.1,
				    what="event for " + to)[0]
	except TimeoutError:
		return None


def milter_rules(st, n):
	"""the milter has read n tenant rule values (it rereads every 5 s)."""
	path = st._log("posthook-milter")

	def loaded():
		with open(path, errors="replace") as f:
			return re.search(r"tenant rules loaded: %d values" % n,
					 f.read())
	H.wait_until(loaded, 30, what="the milter read the tenant rules")


def main():
	res = E.begin()
	mx = H.ScriptedMX()
	st = E.Stack(routes={"plain.test": mx.port, "blog.test": mx.port})
	with st:
		shop = H.Receiver(jwks=st._jwks)
		blog = H.Receiver(jwks=st._jwks)
		st.ctl("tenants", "create", "shop", "--client", SHOP_ADDR)
		st.ctl("tenants", "create", "blog", "--sender-domain", "blog.test")
		for name, rcv in (("shop", shop), ("blog", blog)):
			st.ctl("webhooks", "create", "--tenant", name, "--name",
			       name, "--url", rcv.url, "--all-events")
		milter_rules(st, 2)

		send_from(st, SHOP_ADDR, "app@app.test", SHOP_TO, "shop's")
		send_from(st, H.LOOPBACK, "news@blog.test", BLOG_TO, "blog's")
		send_from(st, H.LOOPBACK, "app@app.test", SITE_TO, "the site's")
		res.check(wait_for(shop, SHOP_TO), "client 127.0.0.2: shop's webhook")
		res.check(wait_for(blog, BLOG_TO), "sender blog.test: blog's webhook")
		res.check(st.wait_event("MessageSent", SITE_TO),
			  "other mail: the default tenant's webhook")
		res.check(all(b["payload"]["message"]["token"] for b in
			      bodies(shop) + bodies(blog)),
			  "the milter recorded both tenants' messages")

		# the milter down: the tailer decides from the log alone
		st.daemons.pop("posthook-milter").stop()
		send_from(st, SHOP_ADDR, "app@app.test", LOG_ONLY_TO, "unseen")
		ev = wait_for(shop, LOG_ONLY_TO)
		res.check(ev and ev["payload"]["message"]["token"] is None,
			  "no milter: the log's client address makes it shop's")

		def exactly(res, st):
			st.quiet(3)
			time.sleep(1)
			res.check(recipients(shop) == sorted([
				("MessageSent", SHOP_TO),
				("MessageSent", LOG_ONLY_TO)]),
				  "shop's webhook got shop's mail alone",
				  recipients(shop))
			res.check(recipients(blog) == [("MessageSent", BLOG_TO)],
				  "blog's webhook got blog's mail alone",
				  recipients(blog))
			res.check(E.outcomes(st) == [("MessageSent", SITE_TO)],
				  "the default webhook got the site's mail alone",
				  E.outcomes(st))
			res.check(all(r.verified for r in shop.requests +
				      blog.requests),
				  "the tenants' webhooks are signed as the others")
		rc = E.finish(res, st, exactly)
		shop.stop()
		blog.stop()
		return rc


if __name__ == "__main__":
	sys.exit(main())
