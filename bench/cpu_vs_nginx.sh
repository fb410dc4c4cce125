#!/bin/bash
# bench/cpu_vs_nginx.sh: server CPU per request of pixeld against nginx on the
# four issue-20 loads, the servers run one after the other, round after round,
# in the same run, so a machine shared with other work loads them alike: pixel
# GET keep-alive, pixel GET pipelined 16 deep, beacon POST of one event and of
# 20 events. Each server on CPU 0 with one worker / one ingest thread (pixeld:
# one dispatcher, journal ack=fast, JSONL sink), pixelload on CPU 1. CPU is
# utime+stime of the whole process (nginx: its worker) from /proc/PID/stat,
# taken after pixeld's dispatcher has written every event to the sink and
# nginx has flushed its buffered access log. Prints each round and the median
# per server and load, and the median of the per-round ratios to nginx.
#
# usage: bench/cpu_vs_nginx.sh [SECONDS] [ROUNDS] [CONNECTIONS]   (5 3 64)
# Environment: PIXELD (default build/obj/pixeld), PIXELD_BEFORE (another
# build, measured as a third server in the same rounds: before/after figures),
# PIXELLOAD (default build/obj/pixelload).
set -euo pipefail
cd "$(dirname "$0")/.."

DUR=${1:-5}
ROUNDS=${2:-3}
CONNS=${3:-64}
PIXELD=${PIXELD:-build/obj/pixeld}
PIXELLOAD=${PIXELLOAD:-build/obj/pixelload}
SERVER_CPU=0
LOAD_CPU=1
for tool in nginx taskset python3 curl; do
	command -v "$tool" >/dev/null || { echo "cpu_vs_nginx: $tool is needed: scripts/install-deps.sh" >&2; exit 1; }
done
[[ -x $PIXELD && -x $PIXELLOAD ]] || { echo "cpu_vs_nginx: build first: make" >&2; exit 1; }
[[ -z ${PIXELD_BEFORE:-} || -x $PIXELD_BEFORE ]] ||
	{ echo "cpu_vs_nginx: PIXELD_BEFORE=$PIXELD_BEFORE is not an executable" >&2; exit 1; }

WORK=$(mktemp -d /tmp/pxd-cpu-nginx.XXXXXX)
PID=
WPID=
cleanup() {
	[[ -n $PID ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
ADMIN=$(free_port)
CLK=$(getconf CLK_TCK)

declare -A ARGS=(
	[pixel]="--profile pixel -c $CONNS"
	[pixel_p16]="--profile pixel -c 16 -P 16"
	[beacon]="--profile beacon -c $CONNS"
	[beacon_b20]="--profile beacon --batch 20 -c $CONNS"
)
LOADS=(pixel pixel_p16 beacon beacon_b20)
SERVERS=(nginx pixeld)
[[ ${PIXELD_BEFORE:-} ]] && SERVERS+=(pixeld_before)

mkdir -p "$WORK/nginx/logs"
cat >"$WORK/nginx/nginx.conf" <<NGX
# empty_gif with a buffered access log, one worker (as bench/run).
worker_processes 1;
daemon off;
master_process on;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
	access_log $WORK/nginx/logs/access.log combined buffer=64k flush=1s;
	keepalive_requests 100000000;
	keepalive_timeout 600s;
	client_body_buffer_size 64k;
	server {
		listen 127.0.0.1:$PORT backlog=4096;
		location = /p.gif { empty_gif; add_header Cache-Control no-store; }
		location = /e { return 204; }
	}
}
NGX
cat >"$WORK/pixeld.ini" <<INI
[server]
listen = 127.0.0.1:$PORT
admin_listen = 127.0.0.1:$ADMIN
data_dir = $WORK/pixeld
threads = 1
dispatchers = 1
log_level = warn

[destination "events"]
type = jsonl
path = events.jsonl
INI

wait_until() { # seconds command...
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS >= end)) && return 1
		sleep 0.1
	done
}
answers() { curl -fs -o /dev/null "http://127.0.0.1:$PORT/p.gif"; }
metric_sum() { curl -fs "http://127.0.0.1:$ADMIN/metrics" | awk -v re="^$1" '$1 ~ re { s += $2 } END { printf "%d\n", s }'; }
drained() { [[ $(metric_sum pixeld_events_accepted_total) == "$(metric_sum pixeld_destination_events_delivered_total)" ]]; }

start() { # server
	rm -rf "$WORK/pixeld"
	case $1 in
	nginx)
		taskset -c $SERVER_CPU nginx -p "$WORK/nginx" -e "$WORK/nginx/logs/error.log" \
			-c "$WORK/nginx/nginx.conf" &
		PID=$! ;;
	pixeld) taskset -c $SERVER_CPU "$PIXELD" -c "$WORK/pixeld.ini" 2>>"$WORK/pixeld.log" & PID=$! ;;
	pixeld_before) taskset -c $SERVER_CPU "$PIXELD_BEFORE" -c "$WORK/pixeld.ini" 2>>"$WORK/pixeld.log" & PID=$! ;;
	esac
	wait_until 15 answers || { echo "cpu_vs_nginx: $1 did not come up" >&2; cat "$WORK/pixeld.log" "$WORK/nginx/logs/error.log" >&2; exit 1; }
	WPID=$PID
	# nginx's CPU is its worker's: the master only supervises.
	[[ $1 == nginx ]] && WPID=$(awk '{ print $1 }' "/proc/$PID/task/$PID/children")
	[[ $WPID ]] || { echo "cpu_vs_nginx: no nginx worker" >&2; exit 1; }
}
stop() {
	kill "$PID" 2>/dev/null || true
	wait "$PID" 2>/dev/null || true
	PID=
}

# One load against the running server: "server load round 2xx events ticks".
measure() { # server load round
	local t0 t1 out
	t0=$(awk '{ print $14 + $15 }' "/proc/$WPID/stat")
	# shellcheck disable=SC2086
	out=$(taskset -c $LOAD_CPU "$PIXELLOAD" ${ARGS[$2]} -d "$DUR" "127.0.0.1:$PORT" 2>&1) ||
		{ echo "cpu_vs_nginx: pixelload failed against $1 ($2): $out" >&2; exit 1; }
	[[ $1 == nginx ]] || wait_until 120 drained || echo "cpu_vs_nginx: $1 did not drain in 120 s" >&2
	sleep 1.1 # nginx flushes its access log every second
	t1=$(awk '{ print $14 + $15 }' "/proc/$WPID/stat")
	awk -v s="$1" -v l="$2" -v r="$3" -v t="$((t1 - t0))" '
		/^requests:/ { ok = $6 }
		/^events:/ { ev = $2 }
		END { print s, l, r, ok, ev ? ev : ok, t }' <<<"$out" | tee -a "$WORK/rows"
}

echo "machine: $(nproc) cores, $(uname -r),$(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pixelload ${DUR}s per load on CPU $LOAD_CPU; servers on CPU $SERVER_CPU, one at a time, $ROUNDS rounds"
echo "row: server load round 2xx events CPU-ticks(1/$CLK s)"
for r in $(seq "$ROUNDS"); do
	for s in "${SERVERS[@]}"; do
		start "$s"
		for l in "${LOADS[@]}"; do measure "$s" "$l" "$r"; done
		stop
	done
done
python3 - "$WORK/rows" "$CLK" "$DUR" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
clk, dur = float(sys.argv[2]), float(sys.argv[3])
cpu, rate = {}, {}
for s, l, r, ok, ev, t in rows:
    per = float(t) / clk * 1e6 / max(int(ok), 1)
    cpu.setdefault((s, l), {})[r] = (per, per * int(ok) / max(int(ev), 1))
    rate.setdefault((s, l), []).append(int(ok) / dur)
servers = sorted({s for s, *_ in rows}, key=lambda s: ["nginx", "pixeld", "pixeld_before"].index(s))
print("\n%-11s %-14s %12s %12s %10s %s" % ("load", "server", "us CPU/req", "us CPU/event", "2xx/s", "per-round us CPU/req"))
for l in ["pixel", "pixel_p16", "beacon", "beacon_b20"]:
    for s in servers:
        v = cpu[(s, l)]
        print("%-11s %-14s %12.2f %12.2f %10.0f %s" % (l, s, statistics.median(p for p, _ in v.values()),
              statistics.median(e for _, e in v.values()), statistics.median(rate[(s, l)]),
              " ".join("%.2f" % v[r][0] for r in sorted(v))))
    for s in servers[1:]:
        ratios = [cpu[(s, l)][r][0] / cpu[("nginx", l)][r][0] for r in cpu[(s, l)] if r in cpu[("nginx", l)]]
        print("%-11s %-14s ratio to nginx, median of rounds: %.2f (%s)" % (l, s, statistics.median(ratios),
              " ".join("%.2f" % x for x in ratios)))
EOF
