#!/bin/bash
# RSS per idle keep-alive connection and RSS after a burst of connections,
# pixeld (plain HTTP and HTTPS) beside nginx in the same run. Each server is
# pinned to CPU 0 and pixelload to CPU 1. For each: VmRSS of the fresh
# server; a warm-up (16 keep-alive connections of pixel requests for WARM
# seconds, so what any traffic makes resident once, caches and pools, is in
# the baseline); VmRSS again ("before"); then pixelload opens N keep-alive
# connections, sends one request on each and holds them idle: VmRSS 0.5 s
# after all are answered, and HOLD seconds later ("steady"); then every
# connection closes and VmRSS is read AFTER seconds later.
# Prints bytes per idle connection, (steady - before) / N and, as bench/run
# counts it, (steady - fresh) / N; and the post-burst RSS as a share of before.
# Usage: bench/idle_rss.sh [N] [HOLD] [AFTER] [WARM]   (defaults 10000 5 60 2)
# Environment: PIXELD (default build/obj/pixeld), PIXELLOAD (build/obj/pixelload),
# PORT (default 19180; PORT+1 .. PORT+3 are taken too) on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-10000}
HOLD=${2:-5}
AFTER=${3:-60}
WARM=${4:-2}
PIXELD=${PIXELD:-build/obj/pixeld}
PIXELLOAD=${PIXELLOAD:-build/obj/pixelload}
PORT=${PORT:-19180}
MAXCONN=$((N + 256))
WORK=$(mktemp -d /tmp/pixeld-rss.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT
for b in "$PIXELD" "$PIXELLOAD"; do
	[[ -x $b ]] || { echo "bench: $b missing: build first (make)" >&2; exit 1; }
done
command -v nginx >/dev/null || { echo "bench: nginx is needed: scripts/install-deps.sh" >&2; exit 1; }
ulimit -n "$((MAXCONN + 256))" 2>/dev/null ||
	{ echo "bench: $N connections need $((MAXCONN + 256)) open files; the limit is $(ulimit -Hn)" >&2; exit 1; }

rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }
wait_port() { # port [tls]
	for _ in $(seq 100); do
		if [[ ${2:-} ]]; then
			curl -skf -o /dev/null "https://127.0.0.1:$1/p.gif" && return
		else
			curl -sf -o /dev/null "http://127.0.0.1:$1/p.gif" && return
		fi
		sleep 0.1
	done
	echo "bench: nothing answers on port $1" >&2
	exit 1
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=bench.example -addext subjectAltName=DNS:bench.example \
	-keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null

mkdir -p "$WORK/nginx/logs"
cat >"$WORK/nginx/nginx.conf" <<NGX
worker_processes 1;
worker_rlimit_nofile $((MAXCONN + 256));
daemon off;
master_process on;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections $MAXCONN; }
http {
	access_log $WORK/nginx/logs/access.log combined buffer=64k flush=1s;
	keepalive_requests 100000000;
	keepalive_timeout 600s;
	server {
		listen 127.0.0.1:$PORT backlog=4096;
		location = /p.gif { empty_gif; add_header Cache-Control no-store; }
	}
}
NGX
cat >"$WORK/pixeld.ini" <<INI
[server]
listen = 127.0.0.1:$((PORT + 1))
admin_listen = 127.0.0.1:$((PORT + 2))
tls_listen = 127.0.0.1:$((PORT + 3))
data_dir = $WORK/pixeld
threads = 1
dispatchers = 1
max_connections = $MAXCONN
idle_timeout = 10m
handshake_timeout = 10m
log_level = warn

[certificate "bench"]
cert = $WORK/cert.pem
key = $WORK/key.pem
hosts = bench.example

[destination "events"]
type = jsonl
path = events.jsonl
INI

# measure LABEL PID PORT [pixelload flags]: one line of figures.
measure() {
	local label=$1 pid=$2 port=$3 fresh r0 r1 r2 r3 lp
	shift 3
	sleep 2
	fresh=$(rss_kb "$pid")
	taskset -c 1 "$PIXELLOAD" -q -c 16 -d "$WARM" "$@" "127.0.0.1:$port" >"$WORK/$label.warm" 2>&1 ||
		{ echo "bench: $label: the warm-up failed:" >&2; cat "$WORK/$label.warm" >&2; exit 1; }
	sleep 3
	r0=$(rss_kb "$pid")
	# Held until the steady reading: 10,000 TLS handshakes on one loaded
	# core can take most of a minute.
	: >"$WORK/$label.txt"
	taskset -c 1 "$PIXELLOAD" -q --idle -c "$N" -d 10m --timeout 5m "$@" "127.0.0.1:$port" \
		>"$WORK/$label.txt" 2>&1 &
	lp=$!
	for _ in $(seq 3000); do
		grep -q '^ready' "$WORK/$label.txt" && break
		kill -0 "$lp" 2>/dev/null || break
		sleep 0.1
	done
	grep -q '^ready' "$WORK/$label.txt" ||
		{ echo "bench: $label: pixelload never got $N answers:" >&2; cat "$WORK/$label.txt" >&2; exit 1; }
	sleep 0.5
	r1=$(rss_kb "$pid")
	sleep "$HOLD"
	r2=$(rss_kb "$pid")
	kill "$lp"
	wait "$lp" || true
	sleep "$AFTER"
	r3=$(rss_kb "$pid")
	printf '%-10s RSS KiB: fresh %d, before %d, all answered %d, steady %d, %ds after close %d\n' \
		"$label" "$fresh" "$r0" "$r1" "$r2" "$AFTER" "$r3"
	printf '%-10s %d B per idle connection (%d B counted from the fresh RSS); %ds after close: %.1f%% of before\n' \
		"$label" "$(((r2 - r0) * 1024 / N))" "$(((r2 - fresh) * 1024 / N))" "$AFTER" \
		"$(awk -v a="$r3" -v b="$r0" 'BEGIN { print 100 * a / b }')"
}

echo "bench/idle_rss.sh $N $HOLD $AFTER $WARM: $(nproc) CPUs, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
taskset -c 0 nginx -p "$WORK/nginx" -e "$WORK/nginx/logs/error.log" -c "$WORK/nginx/nginx.conf" &
PIDS+=("$!")
wait_port "$PORT"
# nginx's memory is its worker's: the master only supervises.
NGINX_WORKER=$(awk '{ print $1 }' "/proc/${PIDS[0]}/task/${PIDS[0]}/children")
measure nginx "$NGINX_WORKER" "$PORT"

taskset -c 0 "$PIXELD" -c "$WORK/pixeld.ini" 2>"$WORK/pixeld.log" &
PIDS+=("$!")
wait_port "$((PORT + 1))"
wait_port "$((PORT + 3))" tls
measure pixeld "${PIDS[1]}" "$((PORT + 1))"
measure pixeld-tls "${PIDS[1]}" "$((PORT + 3))" --tls --host bench.example
