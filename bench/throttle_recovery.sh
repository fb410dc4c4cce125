#!/bin/bash
# How soon a destination drains after a throttle ends: Meta answers 429 with
# Retry-After: 2 for 10 s under a steady load, and the figures are the time
# from the end of that stretch to the first accepted Meta request (drain
# start), to the moment every event sent before the end is at the mock
# (drained), and the drain's rate in events/s.
#
# How: mockplatform (--record) and pixeld (threads = 1, dispatchers = 1, one
# meta destination, linger 20 ms) on loopback; one client sends RATE beacons/s
# for 5 + 10 + 5 s; the fault (POST /_control {platform: meta, status: 429,
# retry_after: 2, for_ms: 10000}) starts at 5 s. Times come from the mock's
# record file (received_at, wall ms) against the wall time the fault was set.
#
# Usage: bench/throttle_recovery.sh [RATE] (default 1000). PIXELD and MOCK
# name the binaries (default build/obj/pixeld, build/obj/mockplatform), so a
# second build can be compared in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 - "${1:-1000}" <<'PY'
import json, os, shutil, socket, subprocess, sys, tempfile, time

RATE = int(sys.argv[1])
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PIXELD = os.environ.get("PIXELD", "build/obj/pixeld")
MOCK = os.environ.get("MOCK", "build/obj/mockplatform")
sys.path.insert(0, "tests/integ")
from pxtest import Sock, free_port, http_post, wait_for  # noqa: E402

def beacon(eid):
    body = json.dumps({"event": "Purchase", "event_id": eid, "url": "https://shop.example/p",
                       "user": {"email": eid + "@example.com"}, "click": {"fbp": "fb.1.1.2"},
                       "consent": {"ad_storage": "granted", "ad_user_data": "granted"},
                       "props": {"value": 9.5, "currency": "USD"}}).encode()
    return (b"POST /e HTTP/1.1\r\nHost: t\r\nUser-Agent: %s\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (UA.encode(), len(body))) + body

d = tempfile.mkdtemp(prefix="bench-throttle-")
port, admin = free_port(), free_port()
rec = os.path.join(d, "record.jsonl")
mock = subprocess.Popen([MOCK, "--listen", "127.0.0.1:0", "--record", rec], stdout=subprocess.PIPE,
                        stderr=subprocess.DEVNULL)
mport = int(mock.stdout.readline().decode().rsplit(":", 1)[1])
with open(os.path.join(d, "pixeld.ini"), "w") as f:
    f.write("[server]\nlisten = 127.0.0.1:%d\nadmin_listen = 127.0.0.1:%d\ndata_dir = %s/data\n"
            "threads = 1\ndispatchers = 1\n\n[destination \"meta\"]\ntype = meta\n"
            "api_base = http://127.0.0.1:%d\npixel_id = 1234567890\napi_version = v25.0\n"
            "access_token = bench\nlinger_ms = 20\n" % (port, admin, d, mport))
px = subprocess.Popen([PIXELD, "-c", os.path.join(d, "pixeld.ini")],
                      stdout=open(os.path.join(d, "pixeld.log"), "ab"), stderr=subprocess.STDOUT)
try:
    def up():
        try:
            return Sock(port, timeout=1).close() is None
        except OSError:
            return False
    wait_for(up, 15, what="pixeld")
    s = Sock(port, timeout=10)
    sent = {}
    t0 = time.monotonic()
    fault_at = None
    for k in range(20 * RATE):
        ahead = t0 + k / RATE - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
        if fault_at is None and k >= 5 * RATE:
            st, _, _ = http_post(mport, "/_control", json.dumps(
                {"platform": "meta", "status": 429, "retry_after": 2, "for_ms": 10000}))
            assert st == 200
            fault_at = time.time() * 1000
        eid = "t-%d" % k
        s.send(beacon(eid))
        st, _, _ = s.response()
        assert st == 204, st
        sent[eid] = time.time() * 1000
    s.close()
    end = fault_at + 10000
    before_end = {e for e, t in sent.items() if t < end}

    def got():
        out = {}
        with open(rec) as f:
            for line in f:
                if line.endswith("\n"):
                    r = json.loads(line)
                    out.setdefault(r["event_id"], r["received_at"])
        return out
    wait_for(lambda: before_end <= set(got()), 300, interval=0.2, what="the backlog at the mock")
    g = got()
    start = min(t for t in g.values() if t >= end)
    drained = max(g[e] for e in before_end)
    backlog = sum(1 for e in before_end if g[e] >= end)
    print("%s: %d beacons/s, 429 + Retry-After 2 for 10 s; drain starts %.2f s after the throttle "
          "ends; drained %.2f s after; %d events waited, drained at %.0f events/s"
          % (PIXELD, RATE, (start - end) / 1000, (drained - end) / 1000, backlog,
             backlog * 1000 / max(1, drained - start)))
finally:
    px.terminate(); px.wait(30)
    mock.terminate(); mock.wait(10)
    shutil.rmtree(d, ignore_errors=True)
PY
