#!/bin/sh
# package.sh - the Debian package as CI's last step: build it from this
# tree (dpkg-buildpackage, the suites having run already), check it with
# lintian, install it, see that posthookctl -V and posthook-webhook
# --check answer, install it again (postinst's upgrade step), see that
# remove keeps the admin's files and that purge removes them; any failure
# exits non-zero.  Root on Debian 12, with
# debhelper, dh-autoreconf, lintian and the build dependencies installed.
# It installs and purges the package "posthook" on this machine.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# Purging at the end removes /etc/posthook and /var/lib/posthook: never
# those of an installation that is not the package's.
if ! dpkg-query -W posthook >/dev/null 2>&1; then
	[ ! -e /etc/posthook ] || fail "/etc/posthook exists: this machine has a posthook"
	[ -z "$(ls -A /var/lib/posthook 2>/dev/null)" ] \
		|| fail "/var/lib/posthook holds a store: this machine has a posthook"
fi

# A copy of the tree as git sees it (tracked and new files), so that no
# build of the working tree, in tree or not, gets into the package.
mkdir "$work/posthook"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$src" ls-files -z -c -o --exclude-standard \
		| (cd "$src" && tar --null -T - -cf -) | tar -C "$work/posthook" -xf -
else
	(cd "$src" && tar --exclude=_build -cf - .) | tar -C "$work/posthook" -xf -
fi
(cd "$work/posthook" && DEB_BUILD_OPTIONS="nocheck${DEB_BUILD_OPTIONS:+ $DEB_BUILD_OPTIONS}" \
	dpkg-buildpackage -us -uc -b) > "$work/build.log" 2>&1 \
	|| { tail -n 40 "$work/build.log"; fail "dpkg-buildpackage"; }
deb=$(ls "$work"/posthook_*.deb)
echo "built $(basename "$deb")"

lintian --fail-on error "$deb" \
	|| fail "lintian reports errors"

dpkg -i "$deb" || fail "dpkg -i $deb"
posthookctl -V || fail "posthookctl -V"
posthook-webhook --check || fail "posthook-webhook --check"
for f in /usr/sbin/posthook-milter /usr/sbin/posthook-logtail /usr/sbin/posthook-webhook \
	/usr/sbin/posthook-bounce /usr/bin/posthookctl /etc/posthook/posthook.conf \
	/usr/sbin/posthook-amqp /lib/systemd/system/posthook-amqp.service \
	/lib/systemd/system/posthook.target /usr/share/man/man5/posthook.conf.5.gz; do
	[ -e "$f" ] || fail "$f not installed"
done
dpkg-query -W -f='${Conffiles}\n' posthook | grep -q '/etc/posthook/posthook.conf' \
	|| fail "/etc/posthook/posthook.conf is no conffile"
getent passwd posthook >/dev/null || fail "no posthook user"
id -nG posthook | grep -qw adm || fail "posthook is not in adm"
if getent passwd postfix >/dev/null; then
	id -nG postfix | grep -qw posthook || fail "postfix is not in the posthook group"
	[ -d /var/spool/postfix/posthook ] || fail "no /var/spool/postfix/posthook"
fi
[ "$(stat -c %U /var/lib/posthook)" = posthook ] || fail "/var/lib/posthook is not posthook's"
zcat /usr/share/man/man8/posthook-bounce.8.gz | grep -q 'argv=/usr/sbin/posthook-bounce' \
	|| fail "posthook-bounce(8) does not name /usr/sbin/posthook-bounce"

# Installing over itself runs postinst's upgrade step: the store opens.
dpkg -i "$deb" || fail "dpkg -i $deb over itself (the upgrade step)"
posthookctl messages list --limit 1 > /dev/null || fail "the store does not open"

# remove keeps the admin's configuration and state; purge takes them.
touch /var/lib/posthook/package-test
dpkg -r posthook || fail "dpkg -r posthook"
[ -e /etc/posthook/posthook.conf ] || fail "remove took /etc/posthook/posthook.conf"
[ -e /var/lib/posthook/package-test ] || fail "remove took /var/lib/posthook"
dpkg -P posthook || fail "dpkg -P posthook"
[ ! -e /etc/posthook ] || fail "purge left /etc/posthook"
[ ! -e /var/lib/posthook ] || fail "purge left /var/lib/posthook"
getent passwd posthook >/dev/null || fail "purge removed the posthook user"
echo "package built, installed, checked and purged"
