#!/bin/bash
# Events/s through NATS JetStream on one server and on a 3-node cluster
# (R3 stream), beside the single-host path in the same run:
#   publish:  an ingest process (server.role = ingest) drains N journaled
#             events into the stream (async publish, PubAck-gated cursor);
#   dispatch: a dispatch process (role dispatch) consumes the N events and
#             delivers them to the mock platform's webhook;
#   peer:     one role-all process delivers the same N journaled events to
#             the same webhook (the single-host path, bench/dispatch.sh's way).
#
# How: the events are taken first while their way out is closed (NATS not
# started yet, or the webhook's port closed), so the timed part is the drain
# alone, with no HTTP ingest in it. A rate is counted from the first event
# out to the last (so start-up, reconnect and stream creation are not in
# it): (N - first) / (t_last - t_first), polled every 10 ms.
#
# Usage: bench/nats.sh [N] (default 100000). Needs build/obj/pixeld,
# build/obj/mockplatform and nats-server (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 - "${1:-100000}" <<'PY'
import http.client, json, os, shutil, signal, socket, subprocess, sys, tempfile, time

N = int(sys.argv[1])
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PIXELD = os.environ.get("PIXELD", "build/obj/pixeld")
NATS = shutil.which("nats-server") or "/usr/sbin/nats-server"
procs = []

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def wait(pred, timeout, what, interval=0.01):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    sys.exit("timed out after %ss waiting for %s" % (timeout, what))

def get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        c.request("GET", path); r = c.getresponse(); return r.status, r.read()
    finally:
        c.close()

def up(port, path="/health"):
    try:
        return get(port, path)[0] == 200
    except OSError:
        return False

def spawn(args, log):
    p = subprocess.Popen(args, stdout=open(log, "ab"), stderr=subprocess.STDOUT)
    procs.append(p)
    return p

def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill(); p.wait()

class Pixeld:
    def __init__(self, d, name, body):
        self.port, self.admin = free_port(), free_port()
        self.dir = os.path.join(d, name)
        os.makedirs(self.dir)
        self.conf = os.path.join(self.dir, "pixeld.ini")
        with open(self.conf, "w") as f:
            f.write("[server]\nlisten = 127.0.0.1:%d\nadmin_listen = 127.0.0.1:%d\ndata_dir = %s/data\n"
                    "threads = 1\ndispatchers = 1\n%s" % (self.port, self.admin, self.dir, body))
    def start(self):
        self.p = spawn([PIXELD, "-c", self.conf], os.path.join(self.dir, "pixeld.log"))
        wait(lambda: up(self.port), 20, "pixeld " + self.dir)
        return self
    def metric(self, name):
        for line in get(self.admin, "/metrics")[1].decode().splitlines():
            if line.startswith(name + " "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

def load(px, n):
    c = http.client.HTTPConnection("127.0.0.1", px.port, timeout=30)
    sent = 0
    while sent < n:
        k = min(250, n - sent)
        batch = [{"event": "Purchase", "event_id": "b-%d" % (sent + i), "url": "https://shop.example/p",
                  "user": {"email": "u%d@example.com" % (sent + i)},
                  "props": {"value": 9.5, "currency": "USD", "order_id": "o%d" % (sent + i)}}
                 for i in range(k)]
        c.request("POST", "/e", json.dumps({"batch": batch}),
                  {"Content-Type": "application/json", "User-Agent": UA})
        r = c.getresponse(); r.read()
        if r.status not in (200, 202, 204):
            sys.exit("pixeld answered %d to a beacon batch" % r.status)
        sent += k
    c.close()

def rate(count, n, what):
    """(n - first) / (t_last - t_first) for a counter that reaches n."""
    first = wait(lambda: (lambda v: v > 0 and (v, time.monotonic()))(count()), 120, what + " starts")
    wait(lambda: count() >= n, 900, what)
    t1 = time.monotonic()
    return (n - first[0]) / max(t1 - first[1], 1e-6), t1 - first[1]

def nats_servers(d, k):
    ports = [free_port() for _ in range(k)]
    cports = [free_port() for _ in range(k)]
    hports = [free_port() for _ in range(k)]
    def start():
        for i in range(k):
            args = [NATS, "-a", "127.0.0.1", "-p", str(ports[i]), "-m", str(hports[i]), "-js",
                    "-sd", os.path.join(d, "js%d" % i), "--server_name", "n%d" % i]
            if k > 1:
                args += ["--cluster_name", "bench", "--cluster", "nats://127.0.0.1:%d" % cports[i],
                         "--routes", ",".join("nats://127.0.0.1:%d" % p for p in cports if p != cports[i])]
            spawn(args, os.path.join(d, "nats%d.log" % i))
        for h in hports:
            wait(lambda: up(h, "/varz"), 20, "nats-server")
    return ", ".join("nats://127.0.0.1:%d" % p for p in ports), start

def webhook(port):
    return ('[destination "hooks"]\ntype = webhook\nurl = http://127.0.0.1:%d/webhook\nsecret = b\n' % port)

def mock(d, port):
    m = subprocess.Popen(["build/obj/mockplatform", "--listen", "127.0.0.1:%d" % port],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    procs.append(m)
    m.stdout.readline()
    return lambda: json.loads(get(port, "/_stats")[1])["accepted"].get("webhook", 0)

def through_nats(k):
    d = tempfile.mkdtemp(prefix="bench-nats-")
    try:
        urls, start_nats = nats_servers(d, k)
        nats = "[nats]\nservers = %s\nreplicas = %d\n" % (urls, k)
        ing = Pixeld(d, "ingest", "role = ingest\n" + nats).start()
        load(ing, N)
        start_nats()
        pub, pub_s = rate(lambda: ing.metric('pixeld_destination_events_delivered_total{destination="nats"}'),
                          N, "%d events published" % N)
        hook_port = free_port()
        accepted = mock(d, hook_port)
        Pixeld(d, "dispatch", "role = dispatch\n" + nats + webhook(hook_port)).start()
        disp, disp_s = rate(accepted, N, "%d events at the mock" % N)
        return pub, pub_s, disp, disp_s
    finally:
        for p in reversed(procs):
            stop(p)
        procs.clear()
        shutil.rmtree(d, ignore_errors=True)

def single_host():
    d = tempfile.mkdtemp(prefix="bench-nats-peer-")
    try:
        hook_port = free_port()
        px = Pixeld(d, "all", webhook(hook_port)).start()
        load(px, N)
        accepted = mock(d, hook_port)
        return rate(accepted, N, "%d events at the mock" % N)
    finally:
        for p in reversed(procs):
            stop(p)
        procs.clear()
        shutil.rmtree(d, ignore_errors=True)

peer, peer_s = single_host()
print("single host (role all), journal -> webhook: %8.0f events/s (%.2f s)" % (peer, peer_s), flush=True)
for k in (1, 3):
    pub, pub_s, disp, disp_s = through_nats(k)
    print("%d server%s (R%d): publish %8.0f events/s (%.2f s), dispatch -> webhook %8.0f events/s "
          "(%.2f s); dispatch / single host %.2f" % (k, "s" if k > 1 else "", k, pub, pub_s, disp,
                                                      disp_s, disp / peer), flush=True)
PY
