#!/bin/bash
# Installing pixeld, in throw-away roots the test prepares (no container, no
# debootstrap): `make install` / `make uninstall` with DESTDIR into a root
# holding only etc/passwd, group, shadow and gshadow; `make deb`, then
# `dpkg --root R --force-script-chrootless` installs, reinstalls, removes
# and purges the package in a root whose dpkg database is this Debian 12
# host's (so the package's Depends are checked against real packages; the
# maintainer scripts get the root in DPKG_ROOT). The installed unit passes
# `systemd-analyze verify` (its man pages included); where systemd is PID 1
# the unit is started for real, otherwise the test says so.
# Prints "N passed, N failed" last; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1

BUILD=${BUILD:-build}
for b in "$BUILD/obj/pixeld" "$BUILD/obj/pixelctl"; do
	[[ -x $b ]] || { echo "test_install: $b is missing: run make first"; exit 1; }
done
for t in dpkg-deb dpkg-shlibdeps useradd systemd-analyze; do
	command -v "$t" >/dev/null || { echo "test_install: $t is missing: make deps"; exit 1; }
done
if [[ $(id -u) != 0 ]]; then
	echo "test_install: needs root (chown to the pixeld user inside the roots)"
	exit 77
fi

WORK=$(mktemp -d /tmp/pixeld-install.XXXXXX)
UNIT=""
cleanup() {
	if [[ -n $UNIT ]]; then
		systemctl stop "$UNIT" 2>/dev/null
		rm -f "/run/systemd/system/$UNIT"
		systemctl daemon-reload 2>/dev/null
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# shellcheck source=tests/integ/lib.sh
. tests/integ/lib.sh

# A root with the account files useradd --prefix edits and nothing else.
make_root() {
	mkdir -p "$1/etc"
	echo 'root:x:0:0:root:/root:/bin/bash' >"$1/etc/passwd"
	echo 'root:x:0:' >"$1/etc/group"
	echo 'root:*:19000:0:99999:7:::' >"$1/etc/shadow"
	echo 'root:*::' >"$1/etc/gshadow"
	chmod 640 "$1/etc/shadow" "$1/etc/gshadow"
}

owner() { stat -c %u:%g "$1"; }
user_ids() { awk -F: '$1 == "pixeld" { print $3 ":" $4 }' "$1/etc/passwd"; }
mk() { make --no-print-directory -s BUILD="$BUILD" "$@" >"$WORK/make.log" 2>&1 || {
	cat "$WORK/make.log"
	return 1
}; }

# ---- make install / uninstall ----
R=$WORK/root
make_root "$R"
check "make install PREFIX=/usr DESTDIR=root" mk install PREFIX=/usr DESTDIR="$R"
for f in usr/sbin/pixeld usr/bin/pixelctl usr/lib/systemd/system/pixeld.service \
	usr/share/man/man8/pixeld.8 usr/share/man/man8/pixelctl.8 \
	usr/share/man/man5/pixeld.ini.5 usr/share/doc/pixeld/pixeld.ini.example etc/pixeld/pixeld.ini; do
	check "installed /$f" test -f "$R/$f"
done
check "the pixeld system user exists in the root" grep -q '^pixeld:x:[0-9]*:[0-9]*:.*:/var/lib/pixeld:/usr/sbin/nologin$' "$R/etc/passwd"
IDS=$(user_ids "$R")
check "it is a system user (uid below 1000)" test "${IDS%%:*}" -lt 1000
check "/var/lib/pixeld belongs to it ($IDS)" test "$(owner "$R/var/lib/pixeld")" = "$IDS"
check "pixeld.ini is root:pixeld 0640" test "$(stat -c %u:%g:%a "$R/etc/pixeld/pixeld.ini")" = "0:${IDS#*:}:640"
check "pixeld.ini points at /var/lib/pixeld" grep -qx 'data_dir = /var/lib/pixeld' "$R/etc/pixeld/pixeld.ini"
check "the unit runs the installed binary" grep -qx 'ExecStart=/usr/sbin/pixeld -c /etc/pixeld/pixeld.ini' "$R/usr/lib/systemd/system/pixeld.service"
check "the installed pixeld validates the installed configuration" \
	bash -c "'$R/usr/sbin/pixeld' -c '$R/etc/pixeld/pixeld.ini' --check-config >/dev/null"

echo "admin_key = mine" >>"$R/etc/pixeld/pixeld.ini"
check "a second make install" mk install PREFIX=/usr DESTDIR="$R"
check "keeps an existing pixeld.ini" grep -qx 'admin_key = mine' "$R/etc/pixeld/pixeld.ini"
check "and creates no second user" test "$(grep -c '^pixeld:' "$R/etc/passwd")" = 1
touch "$R/var/lib/pixeld/journal-data"
check "make uninstall" mk uninstall PREFIX=/usr DESTDIR="$R"
left=$(cd "$R" && find . -type f ! -path './etc/*' ! -path './var/lib/pixeld/*' | sort | tr '\n' ' ')
check "uninstall removes programs, unit, manuals, example (left: ${left:-nothing})" test -z "$left"
check "uninstall keeps the configuration and the data" test -f "$R/etc/pixeld/pixeld.ini" -a -f "$R/var/lib/pixeld/journal-data"

S=$WORK/stage
check "make install into a bare staging DESTDIR (no etc/passwd)" mk install PREFIX=/usr DESTDIR="$S"
check "creates no user there" test ! -e "$S/etc/passwd"

# ---- the unit ----
# systemd-analyze verify checks the commands exist and runs man for each
# Documentation= page: point it at the staged binary and manuals.
sed "s|/usr/sbin/pixeld|$S/usr/sbin/pixeld|g" "$S/usr/lib/systemd/system/pixeld.service" >"$WORK/pixeld.service"
if MANPATH=$S/usr/share/man systemd-analyze verify "$WORK/pixeld.service" >"$WORK/verify.log" 2>&1 &&
	! grep -q . "$WORK/verify.log"; then
	ok "systemd-analyze verify pixeld.service"
else
	bad "systemd-analyze verify pixeld.service:"
	cat "$WORK/verify.log"
fi
for d in 'Type=notify' 'ExecReload=/bin/kill -HUP $MAINPID' 'LimitNOFILE=131072' 'ProtectSystem=strict' \
	'ReadWritePaths=/var/lib/pixeld' 'NoNewPrivileges=yes' 'PrivateTmp=yes' 'RestartSec=2s' \
	'WatchdogSec=30s' 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_BPF CAP_NET_ADMIN CAP_PERFMON' \
	'AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_BPF CAP_NET_ADMIN CAP_PERFMON'; do
	check "unit has $d" grep -qxF "$d" scripts/pixeld.service
done
max_conn=$(sed -n 's/^max_connections = //p' scripts/pixeld.ini.example)
nofile=$(sed -n 's/^LimitNOFILE=//p' scripts/pixeld.service)
check "LimitNOFILE $nofile covers max_connections $max_conn" test "$nofile" -gt "$max_conn"

if [[ $(ps -p 1 -o comm=) == systemd ]] && systemctl is-system-running >/dev/null 2>&1; then
	# A copy of the unit on this build's binary, with its own ports and a
	# dynamic user instead of pixeld (the host has none).
	UNIT=pixeld-test-$$.service
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	admin=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	mkdir -p "$WORK/svc"
	cp "$BUILD/obj/pixeld" "$WORK/svc/pixeld"
	printf '[server]\nlisten = 127.0.0.1:%s\nadmin_listen = 127.0.0.1:%s\ndata_dir = /var/lib/%s\n' \
		"$port" "$admin" "${UNIT%.service}" >"$WORK/svc/pixeld.ini"
	sed -e "s|/usr/sbin/pixeld|$WORK/svc/pixeld|g" -e "s|/etc/pixeld/pixeld.ini|$WORK/svc/pixeld.ini|g" \
		-e "s|^User=pixeld|DynamicUser=yes|" -e '/^Group=/d' -e '/^ExecStartPre=-+/d' \
		-e "s|/var/lib/pixeld|/var/lib/${UNIT%.service}|" -e "s|^StateDirectory=.*|StateDirectory=${UNIT%.service}|" \
		scripts/pixeld.service >"/run/systemd/system/$UNIT"
	chmod -R a+rX "$WORK"
	systemctl daemon-reload
	check "systemctl start $UNIT (Type=notify: returns after READY=1)" timeout 60 systemctl start "$UNIT"
	check "the unit is active" systemctl is-active -q "$UNIT"
	check "its status line comes from pixeld" bash -c "systemctl show -p StatusText '$UNIT' | grep -q listening"
	check "it serves /health" curl -fsS -o /dev/null -A 'Mozilla/5.0' "http://127.0.0.1:$port/health"
	check "systemctl reload" timeout 30 systemctl reload "$UNIT"
	check "systemctl stop drains and stops" timeout 60 systemctl stop "$UNIT"
	check "exited cleanly" bash -c "systemctl show -p Result '$UNIT' | grep -qx Result=success"
else
	echo "note systemd is not PID 1 here ($(ps -p 1 -o comm=)): the unit was verified, not started"
fi

# ---- make deb, dpkg --root ----
start=$(date +%s%N)
check "make deb" mk deb
deb=$(ls "$BUILD"/pixeld_*.deb 2>/dev/null | head -n 1)
echo "note make deb took $((($(date +%s%N) - start) / 1000000)) ms; ${deb:-no package}: $(stat -c %s "$deb" 2>/dev/null) bytes"
check "the package exists" test -f "$deb"
check "it carries the configuration as a conffile" bash -c "dpkg-deb -I '$deb' conffiles | grep -qx /etc/pixeld/pixeld.ini"
check "its Depends come from dpkg-shlibdeps" bash -c "dpkg-deb -f '$deb' Depends | grep -q 'liburing2'"

D=$WORK/dpkgroot
make_root "$D"
mkdir -p "$D/var/lib/dpkg/info" "$D/var/lib/dpkg/updates" "$D/var/lib/dpkg/triggers"
cp /var/lib/dpkg/status "$D/var/lib/dpkg/status"
: >"$D/var/lib/dpkg/available"
# The host's packages, without their file lists: dpkg only needs to know
# they are installed.
for f in /var/lib/dpkg/info/*.list; do : >"$D/var/lib/dpkg/info/${f##*/}"; done
dpkg_root() { dpkg --root="$D" --force-script-chrootless --log="$WORK/dpkg.log" "$@" >"$WORK/dpkg.out" 2>&1 || {
	cat "$WORK/dpkg.out"
	return 1
}; }
check "dpkg --root -i (dependencies satisfied, postinst ran)" dpkg_root -i "$deb"
check "dpkg reports it installed" bash -c "dpkg --root='$D' -s pixeld 2>/dev/null | grep -qx 'Status: install ok installed'"
check "postinst created the pixeld user" grep -q '^pixeld:' "$D/etc/passwd"
IDS=$(user_ids "$D")
check "and gave it /var/lib/pixeld" test "$(owner "$D/var/lib/pixeld")" = "$IDS"
check "postinst enabled nothing" test ! -e "$D/etc/systemd/system/multi-user.target.wants/pixeld.service"
check "the unit is in /lib/systemd/system" test -f "$D/lib/systemd/system/pixeld.service"
echo "admin_key = mine" >>"$D/etc/pixeld/pixeld.ini"
check "reinstall over a changed configuration" dpkg_root --force-confold -i "$deb"
check "keeps the changed configuration" grep -qx 'admin_key = mine' "$D/etc/pixeld/pixeld.ini"
touch "$D/var/lib/pixeld/segment"
check "dpkg --root -r" dpkg_root -r pixeld
check "remove takes the programs away" test ! -e "$D/usr/sbin/pixeld" -a ! -e "$D/usr/bin/pixelctl"
check "and keeps the configuration until purge" test -f "$D/etc/pixeld/pixeld.ini"
check "dpkg --root -P" dpkg_root -P pixeld
check "purge removes the configuration" test ! -e "$D/etc/pixeld"
check "purge keeps a data directory that holds data" test -f "$D/var/lib/pixeld/segment"
rm "$D/var/lib/pixeld/segment"
check "install again" dpkg_root -i "$deb"
check "purge" dpkg_root -P pixeld
left=$(cd "$D" && find . ! -path './var/lib/dpkg*' ! -path './etc*' ! -path . ! -path ./var ! -path ./var/lib | sort | tr '\n' ' ')
check "nothing of the package is left (left: ${left:-nothing})" test -z "$left"

finish
