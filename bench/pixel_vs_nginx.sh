#!/bin/bash
# Pixel GETs: pixeld (one ingest thread) against nginx empty_gif (one worker,
# buffered access_log), in the same run, each server pinned to CPU 0 and wrk
# to CPU 1. Prints requests/s and server CPU microseconds per request
# (utime+stime of every thread of the server process, from /proc/PID/stat).
# Usage: bench/pixel_vs_nginx.sh [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."

DUR=${1:-10}
CONNS=${2:-100}
PORT_P=18080
PORT_N=18081
WORK=$(mktemp -d /tmp/pixeld-bench.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

command -v wrk >/dev/null && command -v nginx >/dev/null || {
	echo "bench: wrk and nginx are needed: run scripts/install-deps.sh" >&2
	exit 1
}
[[ -x build/obj/pixeld ]] || { echo "bench: build first: make" >&2; exit 1; }

CLK=$(getconf CLK_TCK)
cpu_ticks() { # pid -> utime+stime of the whole process
	awk '{print $14 + $15}' "/proc/$1/stat"
}

QUERY='/p.gif?e=PageView&id=bench&url=https%3A%2F%2Fshop.example%2Fproduct%2F42&ref=https%3A%2F%2Fwww.google.com%2F&fbp=fb.1.1596403881668.1116446470'

run_wrk() { # name pid port path
	local name=$1 pid=$2 port=$3 path=$4 t0 t1 out rps
	taskset -c 1 wrk -t1 -c"$CONNS" -d1s "http://127.0.0.1:$port$path" >/dev/null # warm-up
	t0=$(cpu_ticks "$pid")
	out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DUR}s" "http://127.0.0.1:$port$path")
	t1=$(cpu_ticks "$pid")
	rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
	reqs=$(awk '/requests in/ {print $1}' <<<"$out")
	errs=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out")
	awk -v n="$name" -v r="$rps" -v q="$reqs" -v c="$((t1 - t0))" -v k="$CLK" -v e="$errs" 'BEGIN {
		us = c / k * 1e6 / q
		printf "%-28s %12.0f req/s %10.2f us CPU/req %s\n", n, r, us, e
	}'
	echo "$name $(awk -v q="$reqs" -v c="$((t1 - t0))" -v k="$CLK" 'BEGIN{print c / k * 1e6 / q}')" >>"$WORK/cpu"
}

# nginx: one worker, empty_gif, buffered access log.
mkdir -p "$WORK/nginx/logs"
cat >"$WORK/nginx/nginx.conf" <<NGX
worker_processes 1;
worker_cpu_affinity 1;
daemon off;
master_process on;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log;
events { worker_connections 4096; }
http {
	access_log $WORK/nginx/logs/access.log combined buffer=64k flush=1s;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$PORT_N reuseport;
		location = /p.gif { empty_gif; add_header Cache-Control no-store; }
	}
}
NGX
taskset -c 0 nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
PIDS+=($!)

cat >"$WORK/pixeld.ini" <<INI
[server]
listen = 127.0.0.1:$PORT_P
admin_listen = 127.0.0.1:$((PORT_P + 1000))
data_dir = $WORK/pixeld
threads = 1
dispatchers = 1

[destination "events"]
type = jsonl
path = events.jsonl
INI
taskset -c 0 build/obj/pixeld -c "$WORK/pixeld.ini" 2>"$WORK/pixeld.log" &
PIXELD_PID=$!
PIDS+=($PIXELD_PID)
sleep 1
NGINX_WORKER=$(pgrep -P "$(cat "$WORK/nginx/nginx.pid")" | head -1)

echo "machine: $(nproc) cores, $(uname -r), $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo)"
echo "wrk -t1 -c$CONNS -d${DUR}s on CPU 1; servers on CPU 0; path $QUERY"
run_wrk "nginx empty_gif (1 worker)" "$NGINX_WORKER" "$PORT_N" "$QUERY"
run_wrk "pixeld (1 ingest thread)" "$PIXELD_PID" "$PORT_P" "$QUERY"
awk '/nginx/ {n = $NF} /pixeld/ {p = $NF} END {printf "pixeld/nginx CPU per request: %.2f\n", p / n}' "$WORK/cpu"
echo "events written by pixeld: $(wc -l <"$WORK/pixeld/events.jsonl")"
