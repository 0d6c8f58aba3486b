#!/usr/bin/env python3
"""logtail_gen.py - write a realistic Postfix log for the tailer benchmark.

Usage: logtail_gen.py LINES > FILE

Messages are interleaved (up to 64 in flight), submitted over SMTP with
SASL or by pickup, with 1 to 3 recipients each, mixed outcomes (sent with
and without TLS, 4xx deferrals then sent, 5xx bounces, connection
refused), other daemons' lines (smtpd connect/disconnect, anvil, a
non-Postfix program) and long queue ids.  Deterministic (seeded).
"""
import random
import sys

ALPHA = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxy"


def qid(rnd):
    return ("".join(rnd.choice(ALPHA) for _ in range(10)) + "z"
            + "".join(rnd.choice(ALPHA) for _ in range(4)))


def stamp(t):
    mon = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
           "Oct", "Nov", "Dec"][(t // 2592000) % 12]
    day = 1 + (t // 86400) % 28
    return "%s %2d %02d:%02d:%02d" % (mon, day, (t // 3600) % 24,
                                      (t // 60) % 60, t % 60)


def main():
    want = int(sys.argv[1]) if len(sys.argv) > 1 else 5000000
    rnd = random.Random(42)
    out = sys.stdout
    n = 0
    t = 86400 * 300
    inflight = []
    buf = []
    while n < want:
        t += rnd.choice((0, 0, 0, 1))
        s = stamp(t) + " mx1 "
        if len(inflight) < 64 and (not inflight or rnd.random() < 0.3):
            q = qid(rnd)
            pid = rnd.randint(1000, 60000)
            rcpts = ["u%d@dest%d.example" % (rnd.randint(1, 99999), rnd.randint(1, 50))
                     for _ in range(rnd.choice((1, 1, 1, 2, 3)))]
            if rnd.random() < 0.8:
                buf.append(f"{s}postfix/smtpd[{pid}]: connect from app[10.0.0.{pid % 250}]")
                buf.append(f"{s}postfix/smtpd[{pid}]: {q}: client=app[10.0.0.{pid % 250}], "
                           f"sasl_method=PLAIN, sasl_username=app{pid % 7}")
            else:
                buf.append(f"{s}postfix/pickup[900]: {q}: uid=33 from=<www-data>")
            buf.append(f"{s}postfix/cleanup[{pid + 1}]: {q}: message-id=<{q}.{t}@app.example>")
            buf.append(f"{s}postfix/qmgr[800]: {q}: from=<app@example.com>, size="
                       f"{rnd.randint(900, 90000)}, nrcpt={len(rcpts)} (queue active)")
            if rnd.random() < 0.8:
                buf.append(f"{s}postfix/smtpd[{pid}]: disconnect from app[10.0.0.{pid % 250}] "
                           "ehlo=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=6")
            inflight.append([q, rcpts, rnd.randint(2000, 60000)])
        else:
            m = inflight[rnd.randrange(len(inflight))]
            q, rcpts, spid = m
            r = rcpts.pop()
            dom = r.split("@")[1]
            ip = "192.0.2.%d" % (hash(dom) % 250 + 1)
            x = rnd.random()
            if x < 0.4:
                buf.append(f"{s}postfix/smtp[{spid}]: Untrusted TLS connection established "
                           f"to mx.{dom}[{ip}]:25: TLSv1.3 with cipher "
                           "TLS_AES_256_GCM_SHA384 (256/256 bits)")
            if x < 0.75:
                buf.append(f"{s}postfix/smtp[{spid}]: {q}: to=<{r}>, relay=mx.{dom}[{ip}]:25, "
                           f"delay=1.{rnd.randint(0, 99)}, delays=0.1/0.01/0.4/0.6, dsn=2.0.0, "
                           f"status=sent (250 2.0.0 Ok: queued as {rnd.randint(10**9, 10**10)})")
            elif x < 0.87:
                buf.append(f"{s}postfix/smtp[{spid}]: {q}: to=<{r}>, relay=mx.{dom}[{ip}]:25, "
                           "delay=2.1, delays=0.1/0.01/0.9/1.1, dsn=4.2.2, status=deferred "
                           f"(host mx.{dom}[{ip}] said: 452 4.2.2 <{r}>: Mailbox full "
                           "(in reply to RCPT TO command))")
                rcpts.insert(0, r)
            elif x < 0.95:
                buf.append(f"{s}postfix/smtp[{spid}]: {q}: to=<{r}>, relay=mx.{dom}[{ip}]:25, "
                           "delay=0.5, delays=0.1/0.01/0.2/0.2, dsn=5.1.1, status=bounced "
                           f"(host mx.{dom}[{ip}] said: 550 5.1.1 <{r}>: Recipient address "
                           "rejected: User unknown in virtual mailbox table (in reply to "
                           "RCPT TO command))")
            else:
                buf.append(f"{s}postfix/smtp[{spid}]: connect to mx.{dom}[{ip}]:25: "
                           "Connection refused")
                buf.append(f"{s}postfix/smtp[{spid}]: {q}: to=<{r}>, relay=none, delay=30, "
                           "delays=0.1/0.01/30/0, dsn=4.4.1, status=deferred (connect to "
                           f"mx.{dom}[{ip}]:25: Connection refused)")
                rcpts.insert(0, r)
            if rnd.random() < 0.05:
                buf.append(f"{s}dovecot: imap-login: Login: user=<u{spid}>, method=PLAIN")
            if rnd.random() < 0.5 and any(x == r for x in rcpts):
                rcpts.remove(r)     # delivered at the next try: keep it short
                buf.append(f"{s}postfix/smtp[{spid}]: {q}: to=<{r}>, relay=mx.{dom}[{ip}]:25, "
                           "delay=62, delays=60/0.01/0.9/1.1, dsn=2.0.0, status=sent "
                           "(250 2.0.0 Ok: queued as 123456)")
            if not rcpts:
                buf.append(f"{s}postfix/qmgr[800]: {q}: removed")
                inflight.remove(m)
        if len(buf) > 10000:
            n += len(buf)
            out.write("\n".join(buf) + "\n")
            buf = []
    out.write("\n".join(buf) + "\n")


if __name__ == "__main__":
    main()
