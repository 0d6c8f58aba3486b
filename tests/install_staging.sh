#!/bin/sh
# install_staging.sh - `make install` into a staging directory installs
# the programs, the man pages, the sample config, the systemd units and
# target, the logrotate note, the example receivers and Postfix lines.
set -u
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
if ! make -s -C "$top_builddir" install DESTDIR="$dest" > "$dest.log" 2>&1; then
	cat "$dest.log"
	echo "FAIL: make install DESTDIR=$dest"
	rm -f "$dest.log"
	exit 1
fi
rm -f "$dest.log"
fail=0
for f in sbin/posthook-milter sbin/posthook-logtail sbin/posthook-webhook \
	sbin/posthook-bounce bin/posthookctl \
	man/man5/posthook.conf.5 man/man1/posthookctl.1 man/man8/posthook-milter.8 \
	man/man8/posthook-logtail.8 man/man8/posthook-webhook.8 man/man8/posthook-bounce.8 \
	doc/posthook/examples/posthook.conf.sample doc/posthook/logrotate.md \
	doc/posthook/examples/receivers/receiver.py doc/posthook/examples/receivers/receiver.js \
	doc/posthook/examples/receivers/receiver.rb doc/posthook/examples/receivers/receiver.php \
	doc/posthook/examples/postfix/transport doc/posthook/examples/postfix/posthook_verp_recipients \
	lib/systemd/system/posthook-milter.service lib/systemd/system/posthook-logtail.service \
	lib/systemd/system/posthook-webhook.service lib/systemd/system/posthook.target \
	lib/systemd/system/posthook-dnscheck.service lib/systemd/system/posthook-dnscheck.timer \
	lib/systemd/system/posthook-release.service lib/systemd/system/posthook-release.timer; do
	found=$(find "$dest" -path "*/$f" | head -n 1)
	if [ -z "$found" ]; then
		echo "FAIL: $f not installed"
		fail=1
	fi
done
# The units name the installed programs, not the build tree.
unit=$(find "$dest" -name posthook-milter.service | head -n 1)
if [ -n "$unit" ] && ! grep -q '^ExecStart=/.*/sbin/posthook-milter -f -c /.*/posthook/posthook.conf$' "$unit"; then
	echo "FAIL: $unit does not start the installed milter:"
	grep ExecStart "$unit"
	fail=1
fi
unit=$(find "$dest" -name posthook-dnscheck.service | head -n 1)
if [ -n "$unit" ] && ! grep -q '^ExecStart=/.*/bin/posthookctl -c /.*/posthook/posthook.conf domains check --all --events$' "$unit"; then
	echo "FAIL: $unit does not run the installed posthookctl:"
	grep ExecStart "$unit"
	fail=1
fi
# The man page names the configuration file the programs read.
page=$(find "$dest" -name posthook.conf.5 | head -n 1)
conf=$("$top_builddir/ctl/posthookctl" --help | sed -n 's/.*read FILE, not //p')
if [ -n "$page" ] && { grep -q '@[a-z]*dir@' "$page" || ! grep -qF "$conf" "$page"; }; then
	echo "FAIL: $page does not name $conf"
	fail=1
fi
[ "$fail" -eq 0 ] && echo "everything listed is installed"
exit "$fail"
