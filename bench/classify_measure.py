#!/usr/bin/env python3
"""classify_measure.py - measure `posthookctl classify` against a labelled TSV.

Usage: classify_measure.py CASES.tsv POSTHOOKCTL

CASES.tsv has the columns of ../shared/data/bounce-cases-dev.tsv (source_file,
smtp_code, enhanced_code, diagnostic_text, ..., classification).  Rows labelled
not_a_bounce are left out.  Each row is fed as `enhanced_code<TAB>text` (just
the text when there is no code), the text given the row's SMTP reply code in
front when it does not already begin with one, as Postfix logs a remote's
reply ("host NAME[IP] said: 550 5.1.1 ...").  Prints the accuracy, then every
disagreement: source file, expected, got, text.
"""
import csv
import re
import subprocess
import sys

HOST_SAID = re.compile(r"host [^\s\[]+\[[^\]]*\] (?:said|refused to talk to me): ")
CODE = re.compile(r"[245][0-9][0-9](?:[ \-:]|$)")


def with_reply_code(text, smtp_code):
    """text with the SMTP code in front of the reply, where Postfix has it."""
    if not smtp_code:
        return text
    m = HOST_SAID.search(text)
    at = m.end() if m else 0
    if CODE.match(text, at):
        return text
    return text[:at] + smtp_code + " " + text[at:]


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
    out = subprocess.run([sys.argv[2], "classify"], input="\n".join(lines) + "\n",
                         capture_output=True, text=True, check=True).stdout
    import json
    results = [json.loads(l) for l in out.splitlines()]
    if len(results) != len(rows):
        sys.exit("classify printed %d lines for %d cases" % (len(results), len(rows)))
    wrong = []
    for r, line, res in zip(rows, lines, results):
        got = res["classification"] or "none"
        if got != r["classification"]:
            wrong.append((r["source_file"], r["classification"], got, line))
    good = len(rows) - len(wrong)
    print("classify: %d of %d agree: %.1f %%" % (good, len(rows), 100.0 * good / len(rows)))
    for src, want, got, line in wrong:
        print("%s\texpected %s\tgot %s\t%s" % (src, want, got, line[:200]))


if __name__ == "__main__":
    main()
