#!/bin/bash
# bench/epoch_cost.sh: instructions one configuration section costs
# (pxd_conf_live_enter + leave: ck_epoch_begin/end, conf_live.h), counted by
# valgrind --tool=callgrind in bench/epoch_section.c built twice: as pixeld
# builds it, and with -DPXD_BENCH_NO_EPOCH (the section compiled out to a
# plain pointer load). Each build runs N and 11*N sections; (Ir difference)
# / (10*N) is the per-section figure, so start-up cancels out.
#
# usage: bench/epoch_cost.sh [-n N]   (N defaults to 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=100000
while getopts "n:" opt; do
	case $opt in
	n) N=$OPTARG ;;
	*) sed -n '2,9p' "$0" >&2; exit 2 ;;
	esac
done
command -v valgrind >/dev/null || { echo "epoch_cost: valgrind is not installed" >&2; exit 1; }
[[ -f build/obj/daemon/conf/conf_live.o ]] || { echo "epoch_cost: build first (make -j2)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/pxd-epoch.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# Prints the program's total instruction count for <n> sections.
ir() {
	valgrind --tool=callgrind --callgrind-out-file="$WORK/cg" "$1" "$2" >/dev/null 2>"$WORK/vg.log"
	awk '/^summary:/ { print $2 }' "$WORK/cg"
}

printf '%-22s %12s\n' build "Ir/section"
for variant in epoch no_epoch; do
	flags=-O2
	[[ $variant == no_epoch ]] && flags="-O2 -DPXD_BENCH_NO_EPOCH"
	# shellcheck disable=SC2086
	gcc -std=c17 -D_GNU_SOURCE $flags -Iinclude -I. bench/epoch_section.c \
		daemon/conf/conf_live.c -lck -lpthread -o "$WORK/$variant"
	a=$(ir "$WORK/$variant" "$N")
	b=$(ir "$WORK/$variant" $((N * 11)))
	printf '%-22s %12s\n' "$variant" "$(awk -v a="$a" -v b="$b" -v n="$N" 'BEGIN { printf "%.1f", (b - a) / (10 * n) }')"
done
