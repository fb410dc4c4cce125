#!/bin/bash
# bench/reload_swap.sh: how long a reload that restarts the dispatcher pool
# takes under load (dispatch_pool.h). pixeld with a JSONL sink and a second
# JSONL destination takes pixelload's beacons (-c 4, closed loop) while
# `pixelctl reload` runs K times, each giving the second destination another
# path (a changed destination: the shards stop between batches, a new pool
# starts). Prints each reload's wall time (pixelctl's, answer included), the
# pool's own time from pixeld's log, and pixelload's summary: every request
# must be answered 2xx (pixelload exits 0).
#
# usage: bench/reload_swap.sh [-k K] [-d SECONDS]   (K 10, SECONDS 20)
set -euo pipefail
cd "$(dirname "$0")/.."
K=10
DUR=20
while getopts "k:d:" opt; do
	case $opt in
	k) K=$OPTARG ;;
	d) DUR=$OPTARG ;;
	*) sed -n '2,11p' "$0" >&2; exit 2 ;;
	esac
done
[[ -x build/obj/pixeld && -x build/obj/pixelctl && -x build/obj/pixelload ]] ||
	{ echo "reload_swap: build first (make -j2)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/pxd-swap.XXXXXX)
PID=
trap 'kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
ADMIN=$(free_port)

conf() {
	cat >"$WORK/pixeld.ini" <<INI
[server]
listen = 127.0.0.1:$PORT
admin_listen = 127.0.0.1:$ADMIN
data_dir = $WORK/data
threads = 1
dispatchers = 2
log_level = info

[destination "events"]
type = jsonl
path = events.jsonl

[destination "second"]
type = jsonl
path = second-$1.jsonl
INI
}

conf 0
build/obj/pixeld -c "$WORK/pixeld.ini" 2>"$WORK/pixeld.log" &
PID=$!
for _ in $(seq 100); do
	curl -fs -o /dev/null "http://127.0.0.1:$ADMIN/health" && break
	sleep 0.1
done
build/obj/pixelload -q --profile beacon -c 4 -d "$DUR" "127.0.0.1:$PORT" >"$WORK/load.txt" 2>&1 &
LOAD=$!
sleep 2
for i in $(seq "$K"); do
	conf "$i"
	t0=$(date +%s%N)
	build/obj/pixelctl -c "$WORK/pixeld.ini" reload >/dev/null
	echo "reload $i: $((($(date +%s%N) - t0) / 1000000)) ms"
	sleep 0.5
done
rc=0
wait "$LOAD" || rc=$?
cat "$WORK/load.txt"
grep -o "dispatchers restarted.*" "$WORK/pixeld.log" || true
echo "pixelload exit: $rc (0: every request answered 2xx)"
