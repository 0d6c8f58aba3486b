#!/bin/sh
# install-deps.sh - install, from Debian's archive, everything posthook's
# build, tests, demo and Debian package (tests/package.sh) need, and
# create the posthook user and group.
# Run as root on Debian 12.  Safe to run again.
set -eu

packages="
	autoconf automake make gcc pkg-config
	libmilter-dev libcurl4-openssl-dev libssl-dev libjson-c-dev libdb5.3-dev
	libsystemd-dev zlib1g-dev check libunbound-dev libspf2-dev libmicrohttpd-dev
	postfix miltertest db5.3-util
	python3 python3-cryptography openssl python3-jsonschema python3-yaml
	curl wrk nginx-light
	clang libclang-rt-14-dev clang-format
	systemd systemd-journal-remote
	nodejs ruby php-cli
	procps iproute2 util-linux nsd
	build-essential debhelper dh-autoreconf lintian
	libgmime-3.0-dev opendkim opendkim-tools python3-dkim chromium
	librabbitmq-dev rabbitmq-server amqp-tools python3-pika
	python3-psycopg2 postgresql
"

missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' \
		|| missing="$missing $p"
done
if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	# Postfix is only a test fixture here: leave the system's mail alone.
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	# Services the packages bring (Postfix, and the servers later suites
	# start themselves) must not start on install: policy-rc.d says no.
	made_policy=no
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		made_policy=yes
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
	[ "$made_policy" = no ] || rm -f /usr/sbin/policy-rc.d
fi

getent group posthook >/dev/null || groupadd --system posthook
getent passwd posthook >/dev/null || useradd --system --gid posthook \
	--home-dir /var/lib/posthook --no-create-home --shell /usr/sbin/nologin posthook
# Postfix reaches the milter's socket (mode 0770, group posthook) through
# this group, as the README's install steps say.
id -nG postfix 2>/dev/null | grep -qw posthook || usermod -aG posthook postfix
