#!/bin/bash
# pixelload is tested, not trusted: it runs against the real pixeld (loopback
# ports picked here) in each mode -- keep-alive, new connection per request,
# pipelined, open loop, idle -- and its own counts must equal pixeld's
# /metrics deltas (pixeld_requests_total by status, events accepted, forged
# email tokens) and the lines of events.jsonl. A stub server then checks the
# response framing (chunked, interim 1xx, bare LF, split reads, server close),
# non-2xx counting, timeouts, and the exit status for a target that is down.
# Prints "N passed, N failed" last; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1

BUILD=${BUILD:-build}
PIXELD=$BUILD/obj/pixeld
PIXELCTL=$BUILD/obj/pixelctl
PIXELLOAD=$BUILD/obj/pixelload
for b in "$PIXELD" "$PIXELCTL" "$PIXELLOAD"; do
	[[ -x $b ]] || { echo "test_pixelload_smoke: $b is missing: run make first"; exit 1; }
done

WORK=$(mktemp -d /tmp/pixelload-smoke.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
check_eq() { # what got want
	if [[ $2 == "$3" ]]; then ok "$1 ($2)"; else bad "$1: got $2, want $3"; fi
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_until() { # seconds command... : polls every 0.1 s
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS >= end)) && return 1
		sleep 0.1
	done
}

# ---- pixeld with email opens and a JSONL sink ----
PORT=$(free_port)
ADMIN=$(free_port)
DATA=$WORK/data
head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/k1.key"
chmod 600 "$WORK/k1.key"
cat >"$WORK/pixeld.ini" <<INI
[server]
listen = 127.0.0.1:$PORT
admin_listen = 127.0.0.1:$ADMIN
data_dir = $DATA
threads = 1
dispatchers = 1
idle_timeout = 60s

[email]
keys = k1:$WORK/k1.key
base_url = https://t.shop.example

[destination "events"]
type = jsonl
path = events.jsonl
INI
"$PIXELD" -c "$WORK/pixeld.ini" 2>"$WORK/pixeld.log" &
PIXELD_PID=$!
PIDS+=("$PIXELD_PID")
healthy() { curl -fs -o /dev/null "http://127.0.0.1:$PORT/health"; }
if ! wait_until 15 healthy; then
	echo "pixeld did not come up:"
	cat "$WORK/pixeld.log"
	echo "0 passed, 1 failed"
	exit 1
fi

{
	echo campaign,message,recipient
	for i in $(seq 1 200); do echo "bf24,msg-$((i % 4)),r-$i"; done
} >"$WORK/rows.csv"
"$PIXELCTL" -c "$WORK/pixeld.ini" pixel sign --csv "$WORK/rows.csv" >"$WORK/urls.txt"
check_eq "pixelctl minted open URLs" "$(wc -l <"$WORK/urls.txt")" 200

# Prometheus text -> "name{labels} value" lines, into a file.
scrape() { curl -fs "http://127.0.0.1:$ADMIN/metrics" | grep -v '^#' >"$1"; }
# Sum of the samples matching an extended regex in a scrape.
msum() { awk -v re="$2" '$1 ~ re { s += $2 } END { printf "%d\n", s }' "$1"; }
# pixeld_requests_total by status for the public endpoints, "status count" lines.
by_status() {
	awk '/^pixeld_requests_total/ && !/endpoint="(metrics|health|admin)"/ {
		match($1, /status="[0-9]+"/); s = substr($1, RSTART + 8, RLENGTH - 9); c[s] += $2
	} END { for (s in c) if (c[s]) print s, c[s] }' "$1" | sort
}
delta_status() { # before after -> "status delta" lines
	join -a 2 -e 0 -o 0,1.2,2.2 <(by_status "$1") <(by_status "$2") |
		awk '$3 - $2 { print $1, $3 - $2 }'
}
# A field of pixelload's JSON result, by a Python expression on d; tuples print space-separated.
jget() {
	python3 -c "import json, sys; d = json.load(open(sys.argv[1])); v = ($2)
print(*v) if isinstance(v, tuple) else print(v)" "$1"
}

REQ_RE='^pixeld_requests_total\{endpoint="(pixel_gif|pixel|beacon|email_open|preflight|unknown)"'
ACC_RE='^pixeld_events_accepted_total'
BOTREJ_RE='^pixeld_events_rejected_total\{reason="bot"\}'
FORGED_RE='^pixeld_email_tokens_rejected_total\{reason="bad_signature"\}'

# Runs pixelload (name, args...) and checks its counts against pixeld's.
run_mode() {
	local name=$1 json=$WORK/$1.json before=$WORK/$1.before after=$WORK/$1.after rc
	shift
	scrape "$before"
	"$PIXELLOAD" -q --json "$json" "$@" "127.0.0.1:$PORT" >"$WORK/$name.out" 2>&1
	rc=$?
	scrape "$after"
	if [[ $rc != 0 ]]; then
		bad "$name: pixelload exited $rc"
		sed 's/^/    | /' "$WORK/$name.out"
		return
	fi
	ok "$name: pixelload exited 0"
	local sent answered failed
	sent=$(jget "$json" 'd["totals"]["sent"]')
	answered=$(jget "$json" 'd["totals"]["answered"]')
	failed=$(jget "$json" 'd["totals"]["failed"]')
	check_eq "$name: every request answered" "$answered/$failed" "$sent/0"
	check_eq "$name: pixeld_requests_total delta = answered" \
		$(($(msum "$after" "$REQ_RE") - $(msum "$before" "$REQ_RE"))) "$answered"
	check_eq "$name: answers by status = pixeld's by status" \
		"$(jget "$json" '" ".join("%s %s" % kv for kv in sorted(d["status"].items()))')" \
		"$(delta_status "$before" "$after" | tr '\n' ' ' | sed 's/ $//')"
	# With xdp.bot_block = ua (the default) pixeld answers a bot's pixel or
	# beacon but forwards none of its events, and counts one refusal per
	# request; email opens are classified by open_kind instead, bots included.
	check_eq "$name: events accepted = events in pixelload's 2xx, bots' only for opens" \
		$(($(msum "$after" "$ACC_RE") - $(msum "$before" "$ACC_RE"))) \
		"$(jget "$json" 'd["totals"]["events_in_2xx"] + d["kinds"].get("open", {}).get("bot_events_in_2xx", 0)')"
	check_eq "$name: bot refusals = bot pixels and beacons answered" \
		$(($(msum "$after" "$BOTREJ_RE") - $(msum "$before" "$BOTREJ_RE"))) \
		"$(jget "$json" 'sum(d["kinds"].get(k, {}).get("bot_ok_2xx", 0) for k in ("pixel", "pixel204", "beacon"))')"
	check_eq "$name: forged tokens refused = forged opens sent" \
		$(($(msum "$after" "$FORGED_RE") - $(msum "$before" "$FORGED_RE"))) \
		"$(jget "$json" 'd["kinds"].get("open_forged", {}).get("answered", 0)')"
}

run_mode keepalive -n 3000 -c 16 --mix pixel=40,pixel204=10,beacon=35,open=15 \
	--open-urls "$WORK/urls.txt" --forged 0.3 --bots 0.1 --batch 3
run_mode newconn -n 1500 -c 16 --new-conn --profile pixel
run_mode pipelined -n 4000 -c 4 -P 16 --mix pixel=50,beacon=50
run_mode openloop -n 2000 -R 5000 -c 16 --profile mixed --bots 0.05
check_eq "openloop: latency counted from the intended send time" \
	"$(jget "$WORK/openloop.json" 'd["latency_from"]')" "intended send time (open loop)"
check_eq "openloop: no request left unsent" "$(jget "$WORK/openloop.json" 'd["totals"]["unsent_at_end"]')" 0
check_eq "pipelined: series sums to the answers" \
	"$(jget "$WORK/pipelined.json" 'sum(s["answered"] for s in d["series"])')" \
	"$(jget "$WORK/pipelined.json" 'd["totals"]["answered"]')"

# Every event reached the sink, each pixelload event id exactly once.
delivered() {
	local acc
	acc=$(curl -fs "http://127.0.0.1:$ADMIN/metrics" | awk '/^pixeld_events_accepted_total/ { s += $2 } END { print s + 0 }')
	[[ -f $DATA/events.jsonl && $(wc -l <"$DATA/events.jsonl") == "$acc" ]]
}
if wait_until 10 delivered; then ok "events.jsonl holds every accepted event"; else
	bad "events.jsonl: $(wc -l <"$DATA/events.jsonl" 2>/dev/null) lines, accepted $(curl -fs "http://127.0.0.1:$ADMIN/metrics" | awk '/^pixeld_events_accepted_total/ { s += $2 } END { print s + 0 }')"
fi
ids=$(python3 - "$DATA/events.jsonl" "$WORK"/keepalive.json "$WORK"/newconn.json "$WORK"/pipelined.json "$WORK"/openloop.json <<'PY'
import json, sys
runs = [json.load(open(p)) for p in sys.argv[2:]]
prefixes = {r["run_id"] + "-" for r in runs}
# Opens carry no pixelload id, and bots' pixel and beacon events are not forwarded.
want = sum(r["totals"]["events_in_2xx"] - r["kinds"].get("open", {}).get("events_in_2xx", 0)
           for r in runs)
ids = [e.get("event_id", "") for e in map(json.loads, open(sys.argv[1]))]
mine = [i for i in ids if any(i.startswith(p) for p in prefixes)]
print(len(mine), len(set(mine)), want)
PY
)
read -r n_ids n_unique n_want <<<"$ids"
check_eq "pixelload event ids in events.jsonl, all distinct" "$n_ids/$n_unique" "$n_want/$n_want"

# ---- idle keep-alive connections: held open, each answered once ----
open_conns() { curl -fs "http://127.0.0.1:$ADMIN/metrics" | awk '/^pixeld_connections_open / { print $2 + 0 }'; }
base=$(open_conns)
"$PIXELLOAD" --idle -c 300 -d 3 "127.0.0.1:$PORT" >"$WORK/idle.out" 2>&1 &
IDLE_PID=$!
PIDS+=("$IDLE_PID")
if wait_until 10 grep -q '^ready' "$WORK/idle.out"; then
	check_eq "idle: ready line" "$(head -1 "$WORK/idle.out")" \
		"ready 300 idle connections open (300 answered, 0 lost before an answer)"
	check_eq "idle: pixeld holds them open" $(($(open_conns) - base)) 300
else
	bad "idle: no ready line: $(cat "$WORK/idle.out")"
fi
wait "$IDLE_PID"
check_eq "idle: pixelload exit status" $? 0

# ---- response framing and errors, against a stub server ----
cat >"$WORK/stub.py" <<'PY'
import json, os, signal, socket, sys, threading
mode, port_file, counts_file = sys.argv[1:4]
RESP = [
    (200, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Long: " + b"x" * 300 + b"\r\n\r\nhello"),
    (200, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n10;e=1\r\n"
          b"0123456789abcdef\r\n0\r\nX-Trailer: 1\r\n\r\n"),
    (204, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"),
    (503, b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 2\r\nRetry-After: 1\r\n\r\nno"),
    (200, b"HTTP/1.1 200 OK\nContent-Length: 0\n\n"),
    (200, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"),
]
counts, lock, n = {}, threading.Lock(), [0]

def done(*_):
    with open(counts_file, "w") as f:
        json.dump(counts, f)
    os._exit(0)

def serve(c):
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = b""
    while True:
        try:
            data = c.recv(65536)
        except OSError:
            break
        if not data:
            break
        buf += data
        while b"\r\n\r\n" in buf:
            i = buf.index(b"\r\n\r\n")
            cl = 0
            for line in buf[:i].split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    cl = int(v)
            if len(buf) < i + 4 + cl:
                break
            buf = buf[i + 4 + cl:]
            if mode == "silent":
                continue
            with lock:
                k = n[0]
                n[0] += 1
                st, r = RESP[k % len(RESP)]
                counts[st] = counts.get(st, 0) + 1
            for j in range(0, len(r), 7):  # small pieces: answers split across reads
                c.sendall(r[j:j + 7])
            if b"Connection: close" in r:
                c.close()
                return
    c.close()

signal.signal(signal.SIGTERM, done)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(256)
with open(port_file + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)
while True:
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
PY

start_stub() { # mode -> sets STUB_PID, STUB_PORT
	rm -f "$WORK/stub.port"
	python3 "$WORK/stub.py" "$1" "$WORK/stub.port" "$WORK/stub.$1.counts" &
	STUB_PID=$!
	PIDS+=("$STUB_PID")
	wait_until 10 test -f "$WORK/stub.port" && STUB_PORT=$(cat "$WORK/stub.port")
}
stop_stub() { kill "$STUB_PID" && wait "$STUB_PID"; }

start_stub answers
"$PIXELLOAD" -q -n 1200 -c 8 --profile mixed --json "$WORK/stub.json" "127.0.0.1:$STUB_PORT" \
	>"$WORK/stub.out" 2>&1
rc=$?
stop_stub
check_eq "stub: exit status 3 when answers are not all 2xx" "$rc" 3
check_eq "stub: answers by status = the stub's own count" \
	"$(jget "$WORK/stub.json" '" ".join("%s %s" % kv for kv in sorted(d["status"].items()))')" \
	"$(python3 -c 'import json, sys; print(" ".join("%s %s" % kv for kv in sorted(json.load(open(sys.argv[1])).items())))' "$WORK/stub.answers.counts")"
check_eq "stub: no framing error, none failed" \
	"$(jget "$WORK/stub.json" 'sum(d["errors"].values()), d["totals"]["failed"], d["totals"]["answered"]')" \
	"0 0 1200"
check_eq "stub: non-2xx reported apart" "$(jget "$WORK/stub.json" 'd["totals"]["non_2xx"]')" \
	"$(jget "$WORK/stub.json" 'd["status"].get("503", 0)')"
grep -q 'WARNING: .* answers were not 2xx' "$WORK/stub.out" && ok "stub: summary warns about non-2xx" ||
	bad "stub: no non-2xx warning in: $(cat "$WORK/stub.out")"

start_stub silent
"$PIXELLOAD" -q -n 4 -c 2 --timeout 300ms --json "$WORK/silent.json" "127.0.0.1:$STUB_PORT" \
	>"$WORK/silent.out" 2>&1
rc=$?
stop_stub
check_eq "silent server: exit status 1 (nothing answered)" "$rc" 1
check_eq "silent server: every request a timeout" \
	"$(jget "$WORK/silent.json" 'd["errors"]["timeout"], d["totals"]["failed"]')" "4 4"

DOWN=$(free_port)
"$PIXELLOAD" -q -d 1 "127.0.0.1:$DOWN" >"$WORK/down.out" 2>&1
rc=$?
check_eq "target down: exit status" "$rc" 1
grep -q "refused the connection" "$WORK/down.out" && ok "target down: says so" ||
	bad "target down: message was: $(cat "$WORK/down.out")"

kill "$PIXELD_PID" && wait "$PIXELD_PID"
check_eq "pixeld: clean exit after the load" $? 0
echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
