#!/bin/bash
# /v1/batch (100 Segment messages per request, plain and gzip) against pixeld's
# own beacon (POST /e, a batch of 100 canonical events), in the same run on
# the same pixeld: events/s and pixeld CPU per event (utime + stime from
# /proc). Prints one line per variant and the ratios. Needs `make all` and wrk.
# Usage: bench/segment.sh [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=${1:-10}
CONNS=${2:-8}
PIXELD=build/obj/pixeld
dir=$(mktemp -d /tmp/pixeld-bench-segment.XXXXXX)
port=$((20000 + RANDOM % 20000))
admin=$((port + 1))
pid=

cleanup() {
	[[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

cat >"$dir/pixeld.ini" <<INI
[server]
listen = 127.0.0.1:$port
admin_listen = 127.0.0.1:$admin
data_dir = $dir/data
threads = 1
write_keys = wk_bench
[s2s]
key_rate = 0
[destination "events"]
type = jsonl
path = events.jsonl
INI

python3 - "$dir" <<'PY'
import gzip, json, sys
d = sys.argv[1]
ctx = {"ip": "203.0.113.7", "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)",
       "library": {"name": "analytics-node", "version": "3.1.0"},
       "page": {"url": "https://shop.example/p/42?gclid=Cj0KCQ", "referrer": "https://www.google.com/"},
       "traits": {"email": "user@example.com"}}
msgs = [{"type": "track", "event": "Order Completed", "userId": "u-%d" % i, "anonymousId": "a-%d" % i,
         "properties": {"order_id": "o-%d" % i, "revenue": 19.9, "currency": "EUR",
                        "products": [{"product_id": "sku-1", "quantity": 1, "price": 19.9}]},
         "context": ctx, "timestamp": "2026-12-01T10:00:00.000Z"} for i in range(100)]
seg = json.dumps({"batch": msgs, "sentAt": "2026-12-01T10:00:00.500Z"}).encode()
open(d + "/segment.json", "wb").write(seg)
open(d + "/segment.json.gz", "wb").write(gzip.compress(seg))
evs = [{"event": "Purchase", "url": ctx["page"]["url"], "referrer": ctx["page"]["referrer"],
        "user": {"id": "u-%d" % i, "anon_id": "a-%d" % i, "email": "user@example.com"},
        "click": {"gclid": "Cj0KCQ"},
        "props": {"value": 19.9, "currency": "EUR", "order_id": "o-%d" % i,
                  "contents": [{"id": "sku-1", "quantity": 1, "price": 19.9}]}} for i in range(100)]
open(d + "/beacon.json", "wb").write(json.dumps({"batch": evs}).encode())
PY

"$PIXELD" -c "$dir/pixeld.ini" >"$dir/pixeld.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
	curl -sf "http://127.0.0.1:$admin/health" >/dev/null && break
	sleep 0.1
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
accepted() {
	curl -s "http://127.0.0.1:$admin/metrics" |
		awk -v ep="$1" '$1 == "pixeld_events_accepted_total{endpoint=\"" ep "\"}" {print $2}'
}
hz=$(getconf CLK_TCK)

# run NAME PATH ENDPOINT_LABEL BODY_FILE [ENCODING]
run() {
	local name=$1 path=$2 ep=$3 body=$4 enc=${5:-}
	local c0 e0 c1 e1 t0 t1 auth=
	[[ $path == /v1/* ]] && auth="Basic $(printf 'wk_bench:' | base64)"
	c0=$(cpu_ticks)
	e0=$(accepted "$ep")
	t0=$(date +%s.%N)
	BODY_FILE=$body CONTENT_ENCODING=$enc AUTHORIZATION=$auth CONTENT_TYPE=application/json \
		wrk -t1 -c"$CONNS" -d"${SECS}s" -s bench/post_file.lua "http://127.0.0.1:$port$path" \
		>"$dir/wrk-$name.txt"
	t1=$(date +%s.%N)
	c1=$(cpu_ticks)
	e1=$(accepted "$ep")
	python3 - "$name" "${e0:-0}" "$e1" "$c0" "$c1" "$t0" "$t1" "$hz" "$(wc -c <"$body")" <<'PY'
import sys
name, e0, e1, c0, c1, t0, t1, hz, size = sys.argv[1:]
ev = float(e1) - float(e0)
secs = float(t1) - float(t0)
cpu = (float(c1) - float(c0)) / float(hz)
print("%-16s %9.0f events/s  %6.2f us CPU/event  (%d events, %.1f s, body %s bytes)"
      % (name, ev / secs, cpu / ev * 1e6 if ev else float("nan"), ev, secs, size))
PY
}

echo "machine: $(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); wrk -t1 -c$CONNS -d${SECS}s"
run beacon-100 /e beacon "$dir/beacon.json" | tee "$dir/r-beacon"
run v1-batch-100 /v1/batch segment "$dir/segment.json" | tee "$dir/r-plain"
run v1-batch-100-gz /v1/batch segment "$dir/segment.json.gz" gzip | tee "$dir/r-gz"
grep -q ' 2[0-9][0-9] ' "$dir"/wrk-*.txt 2>/dev/null || true
for f in "$dir"/wrk-*.txt; do
	if grep -q 'Non-2xx' "$f"; then
		echo "non-2xx answers in $(basename "$f"):" >&2
		cat "$f" >&2
		exit 1
	fi
done
python3 - "$dir" <<'PY'
import sys
d = sys.argv[1]
def get(n):
    f = open(d + "/r-" + n).read().split()
    return float(f[1]), float(f[3])
b, p, g = get("beacon"), get("plain"), get("gz")
print("ratios vs beacon: /v1/batch plain %.2fx events/s, %.2fx CPU/event; gzip %.2fx events/s, %.2fx CPU/event"
      % (p[0] / b[0], p[1] / b[1], g[0] / b[0], g[1] / b[1]))
PY
