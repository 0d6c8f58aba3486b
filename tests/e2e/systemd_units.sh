#!/bin/sh
# systemd_units.sh - the units in contrib/systemd pass systemd-analyze
# verify, with their paths pointing at the programs just built.  Any
# warning fails the test too.
set -u
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for d in milter logtail webhook api amqp; do
	sed -e "s|@sbindir@|$top_builddir/$d|g" -e "s|@sysconfdir@|/etc|g" \
		"$top_srcdir/contrib/systemd/posthook-$d.service.in" > "$dir/posthook-$d.service"
done
sed -e "s|@bindir@|$top_builddir/ctl|g" -e "s|@sysconfdir@|/etc|g" \
	"$top_srcdir/contrib/systemd/posthook-dnscheck.service.in" > "$dir/posthook-dnscheck.service"
sed -e "s|@bindir@|$top_builddir/ctl|g" -e "s|@sysconfdir@|/etc|g" \
	"$top_srcdir/contrib/systemd/posthook-release.service.in" > "$dir/posthook-release.service"
cp "$top_srcdir/contrib/systemd/posthook.target" \
	"$top_srcdir/contrib/systemd/posthook-dnscheck.timer" \
	"$top_srcdir/contrib/systemd/posthook-release.timer" "$dir/"
cd "$dir" || exit 1
systemd-analyze verify --man=no ./posthook-milter.service ./posthook-logtail.service \
	./posthook-webhook.service ./posthook-api.service ./posthook-amqp.service ./posthook.target \
	./posthook-dnscheck.service ./posthook-dnscheck.timer \
	./posthook-release.service ./posthook-release.timer > out 2>&1
status=$?
cat out
if [ "$status" -ne 0 ] || [ -s out ]; then
	echo "FAIL: systemd-analyze verify complained"
	exit 1
fi
echo "units verified"
