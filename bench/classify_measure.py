#!/usr/bin/env python3
"""classify_measure.py - measure `posthookctl classify` against a labelled TSV.

Usage: classify_measure.py CASES.tsv POSTHOOKCTL

CASES.tsv has the columns of ../shared/data/bounce-cases-dev.tsv (source_file,
smtp_code, enhanced_code, diagnostic_text, ..., classification).  Rows labelled
not_a_bounce are left out.  Each row is fed as `enhanced_code<TAB>text` (just
the text when there is no code), the text given the row's SMTP reply code in
front when it does not already begin with one, as Postfix logs a remote's
reply ("host NAME[IP] said: 550 5.1.1 ...").

Prints three figures, then every disagreement of the first (source file,
expected, got, text):
  overall   every rule in use;
  grouped   rows grouped by the part of source_file before the number
            (lhost-postfix, rhost-google, ...); each group classified with
            the rules derived from that group's rows left out: the provider
            tables of the provider the group is named after (GROUP_PROVIDERS;
            `posthookctl classify --without PROVIDER`).  No vocabulary entry's
            only source is the dev set's rows (each names the MTA source,
            RFC or published page its wording comes from), so there is no
            other rule to leave out;
  general   every provider table left out for every row: the general
            layers alone.
A large gap between overall and grouped is overfitting.
"""
import csv
import json
import re
import subprocess
import sys

HOST_SAID = re.compile(r"host [^\s\[]+\[[^\]]*\] (?:said|refused to talk to me): ")
CODE = re.compile(r"[245][0-9][0-9](?:[ \-:]|$)")
GROUP = re.compile(r"-[0-9]+\.eml$")

# The provider tables (lib/classify/classify_provider.c) each group's rows
# are the bounces of.
GROUP_PROVIDERS = {
    "lhost-gmail": ["google"], "lhost-googlegroups": ["google"],
    "lhost-googleworkspace": ["google"], "rhost-google": ["google"],
    "rhost-gsuite": ["google"],
    "lhost-yahoo": ["yahoo"], "rhost-yahooinc": ["yahoo"], "rhost-aol": ["yahoo"],
    "lhost-office365": ["microsoft"], "lhost-outlook": ["microsoft"],
    "lhost-exchange2003": ["microsoft"], "lhost-exchange2007": ["microsoft"],
    "rhost-outlook": ["microsoft"], "rhost-microsoft": ["microsoft"],
    "rhost-apple": ["apple"], "rhost-franceptt": ["orange"], "rhost-cox": ["cox"],
    "lhost-amazonses": ["amazon"], "lhost-receivingses": ["amazon"],
    "lhost-amazonworkmail": ["amazon"],
}
ALL_PROVIDERS = sorted({p for ps in GROUP_PROVIDERS.values() for p in ps}
                       | {"netease", "proofpoint", "telekom"})


def with_reply_code(text, smtp_code):
    """text with the SMTP code in front of the reply, where Postfix has it."""
    if not smtp_code:
        return text
    m = HOST_SAID.search(text)
    at = m.end() if m else 0
    if CODE.match(text, at):
        return text
    return text[:at] + smtp_code + " " + text[at:]


def classify(ctl, lines, without=()):
    """posthookctl classify's classification of each line."""
    args = [ctl, "-c", "/dev/null", "classify"]
    for p in without:
        args += ["--without", p]
    out = subprocess.run(args, input="\n".join(lines) + "\n",
                         capture_output=True, text=True, check=True).stdout
    results = [json.loads(l) for l in out.splitlines()]
    if len(results) != len(lines):
        sys.exit("classify printed %d lines for %d cases" % (len(results), len(lines)))
    return [r["classification"] or "none" for r in results]


def figure(name, good, total):
    print("%-8s %d of %d agree: %.1f %%" % (name, good, total, 100.0 * good / total))


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: classify_measure.py CASES.tsv POSTHOOKCTL")
    with open(sys.argv[1], newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
                if r["classification"] != "not_a_bounce"]
    lines = []
    for r in rows:
        text = " ".join(r["diagnostic_text"].split())
        text = with_reply_code(text, r["smtp_code"].strip())
        code = r["enhanced_code"].strip()
        lines.append(code + "\t" + text if code else text)
    want = [r["classification"] for r in rows]
    groups = [GROUP.sub("", r["source_file"]) for r in rows]
    ctl = sys.argv[2]

    got = classify(ctl, lines)
    grouped = list(got)
    for without in sorted({tuple(GROUP_PROVIDERS.get(g, ())) for g in groups}):
        if not without:
            continue
        idx = [i for i, g in enumerate(groups)
               if tuple(GROUP_PROVIDERS.get(g, ())) == without]
        for i, c in zip(idx, classify(ctl, [lines[i] for i in idx], without)):
            grouped[i] = c
    general = classify(ctl, lines, ALL_PROVIDERS)

    n = len(rows)
    figure("overall", sum(g == w for g, w in zip(got, want)), n)
    figure("grouped", sum(g == w for g, w in zip(grouped, want)), n)
    figure("general", sum(g == w for g, w in zip(general, want)), n)
    for i in range(n):
        if got[i] != want[i]:
            print("%s\texpected %s\tgot %s\t%s" % (rows[i]["source_file"], want[i],
                                                  got[i], lines[i][:200]))
    for i in range(n):
        if grouped[i] != want[i] and got[i] == want[i]:
            print("grouped only: %s\texpected %s\tgot %s\t%s"
                  % (rows[i]["source_file"], want[i], grouped[i], lines[i][:160]))


if __name__ == "__main__":
    main()
