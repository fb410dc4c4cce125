#!/bin/bash
# The price of durability: pixel GETs and beacon POSTs against pixeld with
# journal.ack = fast and with journal.ack = durable, in the same run, server
# pinned to CPU 0 and wrk to CPU 1. Prints requests/s and server CPU per request,
# ROUNDS times with the two modes alternating, then the median durable/fast ratio.
# Usage: bench/journal_ack.sh [SECONDS] [CONNECTIONS] [ROUNDS]
# Environment: PIXELD (default build/obj/pixeld) to measure another build,
# PORT (default 18180; the admin port is PORT + 1000) on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."

DUR=${1:-10}
CONNS=${2:-64}
ROUNDS=${3:-1}
PIXELD=${PIXELD:-build/obj/pixeld}
PORT=${PORT:-18180}
WORK=$(mktemp -d /tmp/pixeld-ack.XXXXXX)
PID=
cleanup() {
	[[ -n $PID ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
[[ -x $PIXELD ]] || { echo "bench: build first: make" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench: wrk is needed: scripts/install-deps.sh" >&2; exit 1; }

CLK=$(getconf CLK_TCK)
UA='Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
PIXEL='/p.gif?e=PageView&url=https%3A%2F%2Fshop.example%2Fp%2F42&fbp=fb.1.1596403881668.1116446470'

start() { # ack
	rm -rf "$WORK/data"
	cat >"$WORK/pixeld.ini" <<INI
[server]
listen = 127.0.0.1:$PORT
admin_listen = 127.0.0.1:$((PORT + 1000))
data_dir = $WORK/data
threads = 1
dispatchers = 1

[journal]
ack = $1

[destination "events"]
type = jsonl
path = events.jsonl
INI
	taskset -c 0 "$PIXELD" -c "$WORK/pixeld.ini" 2>"$WORK/pixeld.log" &
	PID=$!
	for _ in $(seq 50); do
		curl -sf -o /dev/null "http://127.0.0.1:$((PORT + 1000))/health" && return
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "bench: pixeld did not start:" >&2
	cat "$WORK/pixeld.log" >&2
	exit 1
}

measure() { # label args...
	local label=$1 t0 t1 out rps reqs
	shift
	t0=$(awk '{print $14 + $15}' "/proc/$PID/stat")
	out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DUR}s" -H "User-Agent: $UA" "$@")
	t1=$(awk '{print $14 + $15}' "/proc/$PID/stat")
	rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
	reqs=$(awk '/requests in/ {print $1}' <<<"$out")
	p99=$(awk '/Latency/ {print $2}' <<<"$out")
	awk -v l="$label" -v r="$rps" -v q="$reqs" -v c="$((t1 - t0))" -v k="$CLK" -v a="$p99" 'BEGIN {
		printf "%-34s %10.0f req/s %8.2f us CPU/req  avg latency %s\n", l, r, c / k * 1e6 / q, a
	}' | tee -a "$WORK/rows"
}

echo "machine: $(nproc) cores, $(uname -r),$(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo)"
echo "wrk -t1 -c$CONNS -d${DUR}s on CPU 1; pixeld (1 ingest thread, JSONL sink) on CPU 0"
for _ in $(seq "$ROUNDS"); do
	for ack in fast durable; do
		start "$ack"
		measure "pixel GET   ack=$ack" "http://127.0.0.1:$PORT$PIXEL"
		measure "beacon POST ack=$ack" -s bench/beacon.lua "http://127.0.0.1:$PORT/e"
		kill "$PID"
		wait "$PID" 2>/dev/null || true
		PID=
	done
done
# Rows come in rounds of four: pixel fast, beacon fast, pixel durable, beacon durable.
python3 - "$WORK/rows" <<'EOF'
import statistics, sys
rps = [float(l.split()[3]) for l in open(sys.argv[1])]
for w, name in enumerate(["pixel GET  ", "beacon POST"]):
    q = [rps[i + w + 2] / rps[i + w] for i in range(0, len(rps) - 3, 4)]
    print("%s durable/fast req/s, median of %d rounds: %.2f (%s)" % (
        name, len(q), statistics.median(q), " ".join("%.2f" % x for x in q)))
EOF
