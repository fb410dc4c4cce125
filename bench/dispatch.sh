#!/bin/bash
# Events/s one dispatcher thread delivers to the mock Meta endpoint, at Meta
# batch sizes 1, 100 and 1000 (destination key batch_max_events).
#
# How: pixeld (threads = 1, dispatchers = 1) first takes N events while its
# Meta destination points at a closed port, so they wait in the journal; it
# is stopped, the mock started, and pixeld started again pointing at the
# mock. The journal replay then hands the dispatcher all N at once, and the
# figure is N / (time until the mock has accepted all N), read from the
# mock's /_stats: pure dispatch, no ingest in the timed part.
#
# Usage: bench/dispatch.sh [N_FOR_BATCH_1] [N_FOR_BATCH_100_AND_1000]
# (defaults 5000 and 100000). Needs build/obj/pixeld and build/obj/mockplatform.
set -euo pipefail
cd "$(dirname "$0")/.."
N1=${1:-5000}
NBIG=${2:-100000}
exec python3 - "$N1" "$NBIG" <<'PY'
import http.client, json, os, shutil, signal, socket, subprocess, sys, tempfile, time

N1, NBIG = int(sys.argv[1]), int(sys.argv[2])
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def wait(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.01)
    sys.exit("timed out after %ss waiting for %s" % (timeout, what))

def get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        c.request("GET", path); r = c.getresponse(); return r.status, r.read()
    finally:
        c.close()

def healthy(port):
    try:
        return get(port, "/health")[0] == 200
    except OSError:
        return False

def conf(d, port, admin, meta_port, batch):
    with open(os.path.join(d, "pixeld.ini"), "w") as f:
        f.write("[server]\nlisten = 127.0.0.1:%d\nadmin_listen = 127.0.0.1:%d\ndata_dir = %s/data\n"
                "threads = 1\ndispatchers = 1\n\n[destination \"meta\"]\ntype = meta\n"
                "api_base = http://127.0.0.1:%d\npixel_id = 1234567890\napi_version = v25.0\n"
                "access_token = bench\nbatch_max_events = %d\n" % (port, admin, d, meta_port, batch))

def pixeld(d):
    p = subprocess.Popen([os.environ.get("PIXELD", "build/obj/pixeld"), "-c", os.path.join(d, "pixeld.ini")],
                         stdout=open(os.path.join(d, "pixeld.log"), "ab"), stderr=subprocess.STDOUT)
    return p

def load(port, n):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    sent = 0
    while sent < n:
        k = min(250, n - sent)
        batch = [{"event": "Purchase", "event_id": "b-%d" % (sent + i), "url": "https://shop.example/p",
                  "user": {"email": "u%d@example.com" % (sent + i)}, "click": {"fbp": "fb.1.1.2"},
                  "props": {"value": 9.5, "currency": "USD", "order_id": "o%d" % (sent + i)}}
                 for i in range(k)]
        body = json.dumps({"batch": batch})
        c.request("POST", "/e", body, {"Content-Type": "application/json", "User-Agent": UA})
        r = c.getresponse(); r.read()
        if r.status not in (200, 202, 204):
            sys.exit("pixeld answered %d to a beacon batch" % r.status)
        sent += k
    c.close()

def run(batch, n):
    d = tempfile.mkdtemp(prefix="bench-dispatch-")
    port, admin, meta_port = free_port(), free_port(), free_port()
    try:
        conf(d, port, admin, meta_port, batch)
        p = pixeld(d)
        wait(lambda: healthy(port), 15, "pixeld")
        load(port, n)
        time.sleep(1)
        p.send_signal(signal.SIGTERM); p.wait(60)
        mock = subprocess.Popen(["build/obj/mockplatform", "--listen", "127.0.0.1:%d" % meta_port],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        mock.stdout.readline()
        t0 = time.monotonic()
        p = pixeld(d)
        accepted = lambda: json.loads(get(meta_port, "/_stats")[1])["accepted"].get("meta", 0)
        wait(lambda: accepted() >= n, 600, "%d events at the mock" % n)
        dt = time.monotonic() - t0
        reqs = json.loads(get(meta_port, "/_stats")[1])["requests"].get("meta", 0)
        p.send_signal(signal.SIGTERM); p.wait(60)
        mock.terminate(); mock.wait(10)
        print("batch %5d: %7d events in %6.2f s = %8.0f events/s (%d requests)" % (batch, n, dt, n / dt, reqs),
              flush=True)
    finally:
        shutil.rmtree(d, ignore_errors=True)

for batch, n in ((1, N1), (100, NBIG), (1000, NBIG)):
    run(batch, n)
PY
