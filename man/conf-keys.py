#!/usr/bin/env python3
"""conf-keys.py - keep posthook.conf(5) and the sample config in step with
the key table (lib/config/config_keys.c), as printed by `posthookctl config keys`.

usage: conf-keys.py POSTHOOKCTL SRCDIR [--check]

Rewrites the text between the "keys begin"/"keys end" markers of
man/posthook.conf.5.in and contrib/posthook.conf.sample; with --check, changes
nothing and exits 1 if either file differs from the table.
"""
import json
import subprocess
import sys


def esc(text):
    return text.replace("\\", "\\\\").replace("-", "\\-")


def man_block(keys):
    lines = []
    for k in keys:
        lines.append(".TP")
        lines.append("\\fB%s\\fR = \\fI%s\\fR (%s)" % (
            esc(k["key"]), esc(k["default"]), k["type"]))
        lines.append(esc(k["description"]))
    return lines


def sample_block(keys):
    lines = []
    for k in keys:
        lines.append("# %s" % k["description"])
        lines.append("#%s = %s" % (k["key"], k["default"]))
        lines.append("")
    return lines[:-1]


def splice(path, begin, end, block, check):
    with open(path, encoding="utf-8") as f:
        text = f.read().split("\n")
    try:
        b = text.index(begin)
        e = text.index(end)
    except ValueError:
        sys.exit("%s: markers %r and %r not found" % (path, begin, end))
    new = text[:b + 1] + block + text[e:]
    if new == text:
        return True
    if check:
        print("%s does not match the key table; run man/conf-keys.py" % path)
        return False
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(new))
    return True


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    ctl, srcdir = sys.argv[1], sys.argv[2]
    check = "--check" in sys.argv[3:]
    out = subprocess.run([ctl, "-c", "/dev/null", "--json", "config", "keys"],
                         check=True, capture_output=True, text=True).stdout
    keys = [json.loads(line) for line in out.splitlines() if line]
    if not keys:
        sys.exit("no keys from %s" % ctl)
    ok = splice(srcdir + "/man/posthook.conf.5.in", '.\\" keys begin',
                '.\\" keys end', man_block(keys), check)
    ok = splice(srcdir + "/contrib/posthook.conf.sample", "# keys begin",
                "# keys end", sample_block(keys), check) and ok
    sys.exit(0 if ok else 1)


main()
