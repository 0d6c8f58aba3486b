#!/usr/bin/env python3
"""dsn_measure.py - measure the bounce parser (lib/bounce/dsn.c) on labelled bounce texts.

Usage: dsn_measure.py CASES.tsv POSTHOOKCTL [--show N]

CASES.tsv has the columns of ../shared/data/bounce-cases-dev.tsv.  Each row's
diagnostic text is wrapped in two synthetic messages, written to a scratch
directory (never into the project), and read back with
`POSTHOOKCTL --json bounces parse FILE...`:

  * an RFC 3464 multipart/report (Final-Recipient, Action: failed, Status:
    the row's enhanced code, else X.0.0 from its reply code, Remote-MTA,
    Diagnostic-Code folded over continuation lines, text/rfc822-headers);
  * a plain-text notice in one of the non-standard forms, in turn: qmail,
    Exim, Yahoo, Gmail, Sendmail, Exchange/Office 365.

Rows labelled not_a_bounce are wrapped as what their text says: abuse
reports as ARF (report-type=feedback-report) and as a plain note from an
abuse desk; delivery notices as an RFC 3464 report with Action: delivered
and as a plain "delivered" note.  None of them may come out as a bounce.

For each bounce row and wrapper the script checks that the parser finds
the recipient, that its diagnostic holds the row's text, that its status
is the row's enhanced code (when the text or Status carries one), and that
the classifier's verdict on what the parser extracted (the classification
`bounces parse` prints per recipient) is the row's label.  To tell the
parser's losses from the classifier's disagreements it also classifies
each row's text directly (`POSTHOOKCTL classify`, fed the same status and
text) and counts the rows where the two verdicts differ.
"""
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap

from classify_measure import with_reply_code  # the same reply shape

RCPT = "rcpt{n}@example.test"
ENH = re.compile(r"(?<![\w.])[245]\.\d{1,3}\.\d{1,3}(?![\w]|\.\d)")
FORMS = ["qmail", "exim", "yahoo", "gmail", "sendmail", "exchange"]


def norm(s):
    return " ".join((s or "").split()).lower()


def status_of(row):
    code = row["enhanced_code"].strip()
    if code:
        return code
    smtp = row["smtp_code"].strip()
    return (smtp[0] if smtp[:1] in ("4", "5") else "5") + ".0.0"


def returned_headers(n):
    return ("From: app@sender.test\nTo: %s\nSubject: case %d\n"
            "Message-ID: <case-%d@sender.test>\nX-Posthook-Token: tok%05d\n"
            % (RCPT.format(n=n), n, n, n))


def rfc3464(n, row, reply):
    rcpt = RCPT.format(n=n)
    remote = row["remote_host"].strip()
    diag = textwrap.wrap("smtp; " + reply, 72, break_long_words=False,
                         break_on_hyphens=False) or ["smtp;"]
    lines = [
        "From: MAILER-DAEMON@mta.remote.test (Mail Delivery System)",
        "To: b+tok%05d@bounces.sender.test" % n,
        "Subject: Undelivered Mail Returned to Sender",
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b%d"' % n,
        "", "--b%d" % n, "Content-Type: text/plain", "",
        "Your message could not be delivered.", "",
        "--b%d" % n, "Content-Type: message/delivery-status", "",
        "Reporting-MTA: dns; mta.remote.test", "",
        "Final-Recipient: rfc822; " + rcpt, "Action: failed", "Status: " + status_of(row),
    ]
    if remote:
        lines.append("Remote-MTA: dns; " + remote)
    lines.append("Diagnostic-Code: " + diag[0])
    lines += ["    " + l for l in diag[1:]]
    lines += ["", "--b%d" % n, "Content-Type: text/rfc822-headers", "",
              returned_headers(n).rstrip("\n"), "", "--b%d--" % n, ""]
    return "\n".join(lines)


def plain(n, row, reply, form):
    rcpt = RCPT.format(n=n)
    remote = row["remote_host"].strip() or "mx.remote.test"
    wrapped = textwrap.wrap(reply, 70, break_long_words=False, break_on_hyphens=False)
    head = ("From: MAILER-DAEMON@mta.remote.test\nTo: b+tok%05d@bounces.sender.test\n"
            "Subject: %s\n\n")
    copy = returned_headers(n) + "\nbody\n"
    if form == "qmail":
        return (head % (n, "failure notice") +
                "Hi. This is the qmail-send program at mta.remote.test.\n"
                "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
                "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
                "<%s>:\n%s\n\n--- Below this line is a copy of the message.\n\n%s"
                % (rcpt, "\n".join(wrapped), copy))
    if form == "yahoo":
        return (head % (n, "Failure Notice") +
                "Sorry, we were unable to deliver your message to the following address.\n\n"
                "<%s>:\nRemote host said: %s\n\n--- Below this line is a copy of the message.\n\n%s"
                % (rcpt, "\n".join(wrapped), copy))
    if form == "exim":
        return (head % (n, "Mail delivery failed: returning message to sender") +
                "This message was created automatically by mail delivery software.\n\n"
                "A message that you sent could not be delivered to one or more of its\n"
                "recipients. This is a permanent error. The following address(es) failed:\n\n"
                "  %s\n    host %s [192.0.2.1]\n"
                "    SMTP error from remote mail server after RCPT TO:<%s>:\n%s\n\n"
                "------ This is a copy of the message, including all the headers. ------\n\n%s"
                % (rcpt, remote, rcpt, "\n".join("    " + l for l in wrapped), copy))
    if form == "gmail":
        return (head % (n, "Delivery Status Notification (Failure)") +
                "Delivery to the following recipient failed permanently:\n\n     %s\n\n"
                "Technical details of permanent failure:\n"
                "Google tried to deliver your message, but it was rejected by the server "
                "for the recipient domain example.test by %s. [192.0.2.1].\n\n"
                "The error that the other server returned was:\n%s\n\n"
                "----- Original message -----\n\n%s"
                % (rcpt, remote, "\n".join(wrapped), copy))
    if form == "sendmail":
        return (head % (n, "Returned mail: see transcript for details") +
                "   ----- The following addresses had permanent fatal errors -----\n"
                "<%s>\n    (reason: %s)\n\n"
                "   ----- Transcript of session follows -----\n"
                "... while talking to %s.:\n>>> RCPT To:<%s>\n<<< %s\n\n"
                "   ----- Original message follows -----\n\n%s"
                % (rcpt, " ".join(reply.split()), remote, rcpt, " ".join(reply.split()), copy))
    # Exchange / Office 365
    return (head % (n, "Undeliverable: case %d" % n) +
            "Your message to %s couldn't be delivered.\n\n"
            "Diagnostic information for administrators:\n\n"
            "Generating server: EX01.remote.test\n\n%s\n"
            "Remote Server returned '%s'\n\nOriginal message headers:\n\n%s"
            % (rcpt, rcpt, " ".join(reply.split()), copy))


def not_a_bounce(n, row, plain_form):
    text = row["diagnostic_text"].strip() or "Report."
    rcpt = RCPT.format(n=n)
    abuse = re.search(r"abuse|complaint|feedback", text, re.I) or \
        row["sisimai_reason"] == "feedback"
    if abuse and not plain_form:
        return ("From: fbl@isp.test\nTo: abuse@sender.test\nSubject: Abuse report\n"
                "MIME-Version: 1.0\n"
                'Content-Type: multipart/report; report-type=feedback-report; boundary="f%d"\n\n'
                "--f%d\nContent-Type: text/plain\n\n%s\n\n"
                "--f%d\nContent-Type: message/feedback-report\n\n"
                "Feedback-Type: abuse\nUser-Agent: Bench/1.0\nVersion: 1\n"
                "Original-Rcpt-To: <%s>\nSource-IP: 192.0.2.7\n\n"
                "--f%d\nContent-Type: message/rfc822\n\n%s\nbody\n--f%d--\n"
                % (n, n, text, n, rcpt, n, returned_headers(n), n))
    if abuse:
        return ("From: abuse-desk@isp.test\nTo: abuse@sender.test\n"
                "Subject: Complaint about a message from your network\n\n%s\n" % text)
    if not plain_form:
        return ("From: postmaster@mta.remote.test\nTo: b+tok%05d@bounces.sender.test\n"
                "Subject: Delivery report\nMIME-Version: 1.0\n"
                'Content-Type: multipart/report; report-type=delivery-status; boundary="d%d"\n\n'
                "--d%d\nContent-Type: message/delivery-status\n\n"
                "Reporting-MTA: dns; mta.remote.test\n\nFinal-Recipient: rfc822; %s\n"
                "Action: delivered\nStatus: 2.0.0\nDiagnostic-Code: smtp; %s\n\n--d%d--\n"
                % (n, n, n, rcpt, text, n))
    return ("From: postmaster@mta.remote.test\nTo: b+tok%05d@bounces.sender.test\n"
            "Subject: Delivery report\n\nYour message to <%s> was delivered.\n"
            "The server said: %s\n" % (n, rcpt, text))


def main():
    args = sys.argv[1:]
    show = 40
    if "--show" in args:
        i = args.index("--show")
        show = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit("usage: dsn_measure.py CASES.tsv POSTHOOKCTL [--show N]")
    ctl = args[1]
    with open(args[0], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))

    cases = []          # (row index, wrapper name, file, reply or None)
    with tempfile.TemporaryDirectory(prefix="dsn-measure-") as tmp:
        for n, row in enumerate(rows):
            text = " ".join(row["diagnostic_text"].split())
            if row["classification"] == "not_a_bounce":
                for pf in (False, True):
                    name = "plain" if pf else ("arf/rfc3464")
                    path = os.path.join(tmp, "%04d-%s.eml" % (n, "p" if pf else "r"))
                    with open(path, "w", encoding="utf-8") as f:
                        f.write(not_a_bounce(n, row, pf))
                    cases.append((n, name, path, None))
                continue
            reply = with_reply_code(text, row["smtp_code"].strip())
            form = FORMS[n % len(FORMS)]
            for name, body in (("rfc3464", rfc3464(n, row, reply)),
                               (form, plain(n, row, reply, form))):
                path = os.path.join(tmp, "%04d-%s.eml" % (n, name))
                with open(path, "w", encoding="utf-8") as f:
                    f.write(body)
                cases.append((n, name, path, reply))
        out = subprocess.run([ctl, "--json", "bounces", "parse"] + [c[2] for c in cases],
                             capture_output=True, text=True, check=True).stdout
    parsed = [json.loads(l) for l in out.splitlines()]
    if len(parsed) != len(cases):
        sys.exit("bounces parse printed %d objects for %d files" % (len(parsed), len(cases)))

    # The classifier alone on the same status and text, for comparison.
    direct_in = []
    for n, name, _, reply in cases:
        if reply is None:
            continue
        st = status_of(rows[n]) if name == "rfc3464" else ""
        enh = ENH.search(reply)
        if name != "rfc3464" and enh:
            st = ""
        direct_in.append((st + "\t" + reply) if st else reply)
    dout = subprocess.run([ctl, "classify"], input="\n".join(direct_in) + "\n",
                          capture_output=True, text=True, check=True).stdout
    direct = iter(json.loads(l) for l in dout.splitlines())

    stats = {}
    verdicts = {}
    problems = []
    nab_total = nab_ok = 0
    for (n, name, path, reply), res in zip(cases, parsed):
        row = rows[n]
        if reply is None:
            nab_total += 1
            if res["kind"] == "bounce":
                problems.append((row["source_file"], name, "not_a_bounce called a bounce",
                                 row["diagnostic_text"][:120]))
            else:
                nab_ok += 1
            continue
        d = next(direct)
        key = "rfc3464" if name == "rfc3464" else "plain"
        s = stats.setdefault(key, {"n": 0, "bounce": 0, "rcpt": 0, "diag": 0,
                                   "status": 0, "status_n": 0, "label": 0,
                                   "direct": 0, "same": 0})
        s["n"] += 1
        want = row["classification"]
        rcpt = RCPT.format(n=n)
        r = next((x for x in res["recipients"] if x["final_recipient"] == rcpt), None)
        if res["kind"] == "bounce":
            s["bounce"] += 1
        if r is None:
            problems.append((row["source_file"], name, "recipient not found (kind %s, format %s)"
                             % (res["kind"], res["format"]), reply[:120]))
            continue
        s["rcpt"] += 1
        got_diag = norm(r["diagnostic"])
        piece = norm(reply)[:60]
        if piece in got_diag or (not piece and not got_diag):
            s["diag"] += 1
        else:
            problems.append((row["source_file"], name, "diagnostic not extracted: %r"
                             % (r["diagnostic"] or "")[:80], reply[:120]))
        code = row["enhanced_code"].strip()
        if code and (name == "rfc3464" or code in reply):
            s["status_n"] += 1
            if r["status"] == code:
                s["status"] += 1
            else:
                problems.append((row["source_file"], name, "status %s, want %s"
                                 % (r["status"], code), reply[:120]))
        # A failed recipient with no classifiable text is reported as
        # unclassified (bounce_intake.c does the same for the event).
        got = r.get("classification") or "unclassified"
        dgot = d["classification"] or "unclassified"
        verdicts.setdefault(n, {})[key] = got
        if got == want:
            s["label"] += 1
        if dgot == want:
            s["direct"] += 1
        if got == dgot:
            s["same"] += 1
        else:
            problems.append((row["source_file"], name, "parser changed the verdict: %s, "
                             "direct %s, label %s" % (got, dgot, want), reply[:120]))

    print("bounce parser on %s: %d rows (%d bounces, %d not_a_bounce), two wrappers each"
          % (os.path.basename(args[0]), len(rows), len(rows) - nab_total // 2, nab_total // 2))
    for key in ("rfc3464", "plain"):
        s = stats.get(key)
        if not s:
            continue
        print("%-8s %d messages: bounce %d, recipient %d, diagnostic %d, status %d/%d, "
              "label %d (%.1f %%), classifier alone %d (%.1f %%), same verdict %d"
              % (key, s["n"], s["bounce"], s["rcpt"], s["diag"], s["status"], s["status_n"],
                 s["label"], 100.0 * s["label"] / s["n"], s["direct"],
                 100.0 * s["direct"] / s["n"], s["same"]))
    print("not_a_bounce: %d of %d messages not called bounces" % (nab_ok, nab_total))
    split = [(n, v) for n, v in sorted(verdicts.items())
             if len(set(v.values())) > 1]
    print("rows whose two wrappers got different verdicts: %d" % len(split))
    for n, v in split[:show]:
        print("  %s: rfc3464 %s, plain %s (label %s, enhanced code %s)"
              % (rows[n]["source_file"], v.get("rfc3464"), v.get("plain"),
                 rows[n]["classification"], rows[n]["enhanced_code"] or "none"))
    print("problems: %d" % len(problems))
    for p in problems[:show]:
        print("  %s [%s] %s | %s" % p)


if __name__ == "__main__":
    main()
