#!/bin/sh
# Creates the pixeld system user and group (once) and hands it the data
# directory; the configuration becomes root:pixeld 0640 because it may hold
# the admin key. Run by `make install` (PXD_ROOT=DESTDIR) and as the Debian
# package's postinst, where dpkg names the system's root in DPKG_ROOT (set
# with dpkg --root --force-script-chrootless). Idempotent; enables and starts
# nothing.
set -eu

case "${1:-configure}" in
configure) ;;
*) exit 0 ;;
esac

root=${DPKG_ROOT:-${PXD_ROOT:-}}
root=${root%/}
statedir=${PXD_STATEDIR:-/var/lib/pixeld}
conf=${PXD_CONF:-/etc/pixeld/pixeld.ini}

if ! grep -q '^pixeld:' "$root/etc/passwd"; then
	# --prefix writes the passwd and group files under the root without
	# chrooting into it, so the root needs no useradd of its own.
	if [ -n "$root" ]; then
		set -- --prefix "$root"
	else
		set --
	fi
	useradd "$@" --system --user-group --home-dir "$statedir" --no-create-home \
		--shell /usr/sbin/nologin --comment "pixeld collector" pixeld
fi
# Numeric ids: chown by name would look the user up in this host's files.
uid=$(awk -F: '$1 == "pixeld" { print $3 }' "$root/etc/passwd")
gid=$(awk -F: '$1 == "pixeld" { print $4 }' "$root/etc/passwd")
install -d -m 0750 "$root$statedir"
chown "$uid:$gid" "$root$statedir"
if [ -e "$root$conf" ]; then
	chown "0:$gid" "$root$conf"
	chmod 0640 "$root$conf"
fi
