#!/usr/bin/env python3
"""logtail_hostile_gen.py - a Postfix log of hostile texts, to check that two
posthook-logtail binaries print and store the same bytes.

Usage: bench/logtail_hostile_gen.py [SEED] > LOG

3000 messages (about 19 000 lines, 7 MB): addresses, relays, replies,
Message-IDs and hold reasons full of quotes, backslashes, slashes, control
characters, NUL bytes, invalid and valid multi-byte UTF-8 and printf
directives; replies up to 70 KB; relay names longer than the 511 bytes that
an event's "ip:port (host)" keeps; every delivery program and status
(sent, deferred, bounced, SOFTBOUNCE, deliverable, expired), relay=none,
tls=, orig_to=, conn_use=, TLS lines, holds, expiries, messages never
removed, and lines that are not Postfix's.  The same SEED gives the same
bytes.  bench/README.md ("Log tailer") says how it is used.
"""
import random
import sys

random.seed(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
# Characters stand for bytes (written as latin-1): "\xc3\x28" is an invalid
# UTF-8 sequence, "\xf0\x9f\x98\x80" a valid 4-byte one.
BAD = ['"', '\\', '\x01', '\x1f', '\x7f', '\t', '\xc3\x28', '\xe2\x82',
       '\xff\xfe', '\xf0\x9f\x98\x80', '\xc3\xa9', '\x00', '/', '\\u0041',
       '%s%n%d', '{}[]']


def junk(n):
    """n pieces of hostile text."""
    return ''.join(random.choice(BAD + ['a', 'b', ' ', '.']) for _ in range(n))


def main():
    out = []
    relays = ['mx.example.net[192.0.2.7]:25', 'none', 'local',
              'h' + 'x' * 600 + '[192.0.2.9]:25',
              'mx' + junk(5) + '[2001:db8::1]:587', '[192.0.2.8]:25',
              'private/dovecot-lmtp', 'x' * 700,
              'mx.example.org[' + 'y' * 520 + ']:25',
              'mail.example.com[203.0.113.5]:2525']
    progs = ['smtp', 'lmtp', 'local', 'virtual', 'pipe', 'error',
             'submission/smtp', 'smtp']
    for m in range(3000):
        q = '%010X' % (0x1B0000001 + m)
        pre = 'Nov  3 14:%02d:%02d mx1 ' % (m // 60 % 60, m % 60)
        if m % 3 == 0:
            out.append(pre + 'postfix/submission/smtpd[10]: %s: client=app[10.0.0.5], '
                       'sasl_method=PLAIN, sasl_username=app' % q)
        out.append(pre + 'postfix/cleanup[11]: %s: message-id=<%s@%s>' % (q, junk(4), junk(3)))
        if m % 17 == 0:
            out.append(pre + 'postfix/cleanup[11]: %s: hold: header Subject: %s from '
                       'app[10.0.0.5]; from=<a%s@example.com> to=<h%s@example.net> '
                       'proto=ESMTP helo=<app>: %s' % (q, junk(10), junk(2), junk(2), junk(8)))
        frm = random.choice(['app@example.com', '', 'we"ird\\@example.com', junk(6) + '@x'])
        out.append(pre + 'postfix/qmgr[12]: %s: from=<%s>, size=900, nrcpt=3 (queue active)'
                   % (q, frm))
        for r in range(random.randint(1, 4)):
            to = random.choice(['r%d@example.net' % r, junk(8) + '@example.net',
                                'r"%d\\@ex.net' % r])
            relay = random.choice(relays)
            prog = random.choice(progs)
            st = random.choice(['sent', 'sent', 'deferred', 'bounced', 'SOFTBOUNCE',
                                'deliverable', 'expired'])
            dsn = random.choice(['2.0.0', '4.2.2', '5.1.1', '5.7.1', '4.4.1', '5.0.0',
                                 '9.9.9', 'x'])
            if m % 50 == 0:
                ln = random.choice([0, 5, 40, 300, 9000, 70000])
            else:
                ln = random.choice([0, 5, 40, 300])
            texts = [
                '250 2.0.0 Ok: queued as 4AB%s' % q[:4],
                'host %s said: 550-5.1.1 %s 550 5.1.1 %s (in reply to RCPT TO command)'
                % (relay, junk(20), junk(ln)),
                'connect to %s: Connection refused' % relay,
                'host mx[1.2.3.4] said: 452 4.2.2 Mailbox full %s (in reply to end of '
                'DATA command)' % junk(ln),
                junk(ln), 'delivered to mailbox',
                'Host or domain name not found. Name service error for name=%s type=MX: '
                'Host not found, try again' % junk(5),
                '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using '
                'zen.spamhaus.org' + junk(ln)]
            text = random.choice(texts)
            extra = random.choice(['', ', conn_use=2', ', orig_to=<o%s@x>' % junk(3),
                                   ', tls=TLSv1.3', ', tls=none'])
            if m % 5 == 0:
                out.append(pre + 'postfix/smtp[13]: Trusted TLS connection established to '
                           '%s:25: TLSv1.3 with cipher X' % relay.rsplit(':', 1)[0])
            before = extra if 'orig' in extra else ''
            after = '' if 'orig' in extra else extra
            out.append(pre + 'postfix/%s[13]: %s: to=<%s>%s, relay=%s, delay=%d.%d, '
                       'delays=0.1/0.0/0.%d/0.25%s, dsn=%s, status=%s (%s)'
                       % (prog, q, to, before, relay, r, m % 10, r, after, dsn, st, text))
        if m % 7 == 0:
            out.append(pre + 'postfix/qmgr[12]: %s: from=<%s>, status=expired, '
                       'returned to sender' % (q, frm))
        if m % 4 != 0:
            out.append(pre + 'postfix/qmgr[12]: %s: removed' % q)
        if m % 100 == 0:
            out.append(pre + junk(200))
            out.append(junk(3000))
    sys.stdout.buffer.write(('\n'.join(out) + '\n').encode('latin-1'))


if __name__ == '__main__':
    main()
