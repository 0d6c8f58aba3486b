#!/usr/bin/env python3
"""e2e_filter_milter - a content filter whose re-injection passes the
milter again (posthook-milter on the second smtpd too).

The message comes back carrying the token this store issued: it keeps it
(one token header at the MX, no second record), the record learns the new
queue id, and the final delivery is one MessageSent with the original's id,
token, tag and metadata; the hop gives no webhook.
"""

import json
import sys

from posthook_test import e2e_stack as E
from posthook_test import harness as H

SENDER = "app@app.test"
RCPT = "twice@dest.test"


def through_twice(res, st, mx, qid, mid):
	ev = E.check_sent(res, st, mx, E.expect_message(
		RCPT, SENDER, mid, "milter twice", "hop", {"k": "v"}),
		"milter on the hop: one MessageSent with the original's record")
	hop = E.filter_hop(st, qid, RCPT)
	m = mx.messages_for(RCPT)
	toks = m[0].message.get_all("X-Posthook-Token") if m else None
	tok = ev and ev["payload"]["message"]["token"]
	res.check(len(m) == 1 and toks == [tok],
		  "milter on the hop: the MX got one token header, the event's",
		  "tokens at the MX %s, event %s" % (toks, tok))
	r = st.ctl("--json", "messages", "show", hop, check=False)
	rec = None
	try:
		rec = json.loads(r.stdout)
	except ValueError:
		pass
	res.check(r.returncode == 0 and rec and rec.get("token") == tok and
		  rec.get("queue_id") == hop,
		  "milter on the hop: the record learned the new queue id "
		  "(posthookctl messages show %s)" % hop,
		  "exit %d: %s%s" % (r.returncode, r.stdout, r.stderr))
	r = st.ctl("--json", "messages", "list", check=False)
	res.check(r.returncode == 0 and
		  len([l for l in r.stdout.splitlines() if l.strip()]) == 1,
		  "milter on the hop: one record, not two",
		  "exit %d: %s%s" % (r.returncode, r.stdout, r.stderr))


def exactly(res, st):
	got = E.outcomes(st)
	res.check(got == [("MessageSent", RCPT)],
		  "exactly one webhook: none for the hop", "got %s" % got)


def main():
	res = E.begin()
	mx = H.ScriptedMX()
	st = E.Stack(routes={"dest.test": mx.port}, reinject=True,
		     content_filter=True, milter_on_hop=True)
	with st:
		sent = st.send(RCPT, "milter twice", "hop", {"k": "v"})
		res.case("through the milter twice", through_twice, res, st,
			 mx, *sent)
		return E.finish(res, st, exactly)


if __name__ == "__main__":
	sys.exit(main())
