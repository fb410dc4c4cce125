#!/bin/bash
# bench/hotpath_callgrind.sh: instructions the ingest thread spends per
# request (valgrind --tool=callgrind, one ingest thread, one dispatcher,
# journal, JSONL sink: the bench/run configuration). Each workload runs twice,
# with N and 11*N requests, and the difference of the ingest thread's
# instruction counts over 10*N requests is the per-request figure, so start-up
# and shut-down cancel out. Instruction counts repeat from run to run on a
# loaded machine, which CPU time does not; they are what A/B comparisons of
# user-space changes quote (bench/RESULTS.md "#20 user-space").
#
# usage: bench/hotpath_callgrind.sh [-n N] [-b PIXELD] [-o DIR] [WORKLOAD...]
#   WORKLOAD: pixel (keep-alive GET), pixel_p16 (pipelined 16 deep),
#             beacon (one event per POST), beacon_b20 (20-event batches)
#   default: all four; N defaults to 2000; DIR keeps the callgrind files
set -euo pipefail
cd "$(dirname "$0")/.."
N=2000
PIXELD=build/obj/pixeld
PIXELLOAD=build/obj/pixelload
OUT=
while getopts "n:b:o:" opt; do
	case $opt in
	n) N=$OPTARG ;;
	b) PIXELD=$OPTARG ;;
	o) OUT=$OPTARG ;;
	*) sed -n '2,15p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
WORKLOADS=("$@")
((${#WORKLOADS[@]})) || WORKLOADS=(pixel pixel_p16 beacon beacon_b20)
command -v valgrind >/dev/null || { echo "hotpath_callgrind: valgrind is not installed" >&2; exit 1; }
[[ -x $PIXELD && -x $PIXELLOAD ]] || { echo "hotpath_callgrind: build first (make -j2)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/pxd-callgrind.XXXXXX)
[[ $OUT ]] || OUT=$WORK/out
mkdir -p "$OUT"
trap 'kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
PID=

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

declare -A ARGS=(
	[pixel]="--profile pixel -c 4"
	[pixel_p16]="--profile pixel -c 4 -P 16"
	[beacon]="--profile beacon -c 4"
	[beacon_b20]="--profile beacon --batch 20 -c 4"
)
declare -A EVENTS=([pixel]=1 [pixel_p16]=1 [beacon]=1 [beacon_b20]=20)
for w in "${WORKLOADS[@]}"; do
	[[ ${ARGS[$w]+set} ]] || { echo "hotpath_callgrind: no workload '$w'; pick from: ${!ARGS[*]}" >&2; exit 2; }
done

# One daemon under callgrind, <requests> requests of <workload>; prints the
# ingest thread's instruction count.
one_run() {
	local w=$1 requests=$2 port admin f ir
	port=$(free_port)
	admin=$(free_port)
	rm -rf "$WORK/data" "$WORK"/cg.*
	cat >"$WORK/pixeld.ini" <<INI
[server]
listen = 127.0.0.1:$port
admin_listen = 127.0.0.1:$admin
data_dir = $WORK/data
threads = 1
dispatchers = 1
log_level = warn

[destination "events"]
type = jsonl
path = events.jsonl
INI
	valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$WORK/cg.%p" \
		"$PIXELD" -c "$WORK/pixeld.ini" 2>"$WORK/valgrind.log" &
	PID=$!
	for _ in $(seq 600); do
		curl -fs -o /dev/null "http://127.0.0.1:$admin/health" && break
		sleep 0.1
	done
	# shellcheck disable=SC2086
	"$PIXELLOAD" -q ${ARGS[$w]} -n "$requests" "127.0.0.1:$port" >"$WORK/load.txt" 2>&1 ||
		{ echo "hotpath_callgrind: pixelload failed:" >&2; cat "$WORK/load.txt" >&2; exit 1; }
	# Dump the counters while it runs: under valgrind the shutdown (an
	# io_uring wait) does not see SIGTERM promptly.
	callgrind_control -d "$PID" >/dev/null 2>&1
	kill -KILL "$PID"
	wait "$PID" 2>/dev/null || true
	PID=
	# The ingest thread's file is the one whose code ran pxd_ingest_run.
	for f in "$WORK"/cg.*.*; do
		if grep -q 'pxd_ingest_run' "$f"; then
			ir=$(awk '/^summary:/ { print $2 }' "$f")
			cp "$f" "$OUT/$w.$requests.callgrind"
			echo "$ir"
			return 0
		fi
	done
	echo "hotpath_callgrind: no ingest thread in the callgrind output" >&2
	exit 1
}

printf '%-12s %14s %14s\n' workload "Ir/request" "Ir/event"
for w in "${WORKLOADS[@]}"; do
	a=$(one_run "$w" "$N")
	b=$(one_run "$w" $((11 * N)))
	per=$(((b - a) / (10 * N)))
	printf '%-12s %14d %14d\n' "$w" "$per" $((per / EVENTS[$w]))
done
echo "callgrind files (ingest thread, $N and $((11 * N)) requests): $OUT"
