#!/bin/sh
# Installs the Debian 12 packages pixeld needs to build, run and test.
# Idempotent: apt-get runs only when a package is missing.
set -eu

PKGS="build-essential pkg-config clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev \
liburing-dev libck-dev libjemalloc-dev libjansson-dev libinih-dev libhyperscan-dev \
libcurl4-openssl-dev libssl-dev libpsl-dev libcmocka-dev libclang-rt-14-dev libsystemd-dev \
libnats-dev nats-server \
iproute2 curl python3 nginx-light wrk xdp-tools gnuplot-nox clang-format \
openssl mandoc man-db prometheus chromium nodejs"
# A nodejs from elsewhere may bring its own npm; Debian's is a separate package.
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

# npm comes with nodejs from some repositories and as Debian's own package
# otherwise: it is only missing when the command is.
command -v npm >/dev/null 2>&1 || missing="$missing npm"

if [ -z "$missing" ]; then
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing Debian packages:$missing" >&2
	echo "install-deps: run as root (or: sudo $0) to install them" >&2
	exit 1
fi

echo "install-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
