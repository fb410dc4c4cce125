#!/bin/bash
# Events/s the dispatcher delivers to the mock platform, at batch sizes 1,
# 100 and 1000 (destination key batch_max_events, capped at the adapter's
# largest batch) with server.dispatchers = 1 and 2, and the CPU it spent per
# event: to the mock Meta endpoint, or with --platform P to the mock's P
# endpoint (meta, tiktok, ga4, linkedin, snapchat, pinterest, reddit,
# segment, amplitude, mixpanel, posthog).
#
# Timed from the mock's first accepted event to its last: the rate is the
# events in between over that time, pixeld's CPU (utime + stime of the whole
# process; ingest is idle, so it is the dispatcher's) over the same events,
# and the mock's own CPU (its /_stats cpu_s) beside it, to show the mock is
# not the bottleneck: for the platforms whose bodies name each event by a
# key (Meta, TikTok, GA4, Snapchat, Pinterest: event_id; Reddit:
# conversion_id; LinkedIn: eventId) it runs in counting mode (--count-key:
# bodies are counted by a scan, not parsed).
#
# How: pixeld (threads = 1) first takes N events while its destination
# points at a closed port, so they wait in the journal; it is stopped, the
# mock started, and pixeld started again pointing at the mock. The journal
# replay then hands the dispatcher all N at once, and the figure is N /
# (time until the mock has accepted all N), read from the mock's /_stats:
# pure dispatch, no ingest in the timed part.
#
# Usage: bench/dispatch.sh [--platform P] [N_FOR_BATCH_1] [N_FOR_BATCH_100_AND_1000]
# (defaults meta, 5000 and 200000). Needs build/obj/pixeld and build/obj/mockplatform;
# PIXELD=path runs another pixeld binary; PEER=path runs each case with that
# binary too, just before this one (an A/B peer in the same run), and
# prints the ratio of the two rates; REPEAT=K runs each case K times (the
# two binaries alternating) and takes the medians; BATCHES="1000" and
# DISPATCHERS="1" (space-separated lists) run only those cases;
# PIXELD_CPU and MOCK_CPU (taskset CPU lists) pin pixeld and the mock (on a
# VM whose vCPUs run at different speeds, an A/B compares like with like). The journal is filled
# once per event count and dispatcher count, by PIXELD, and each run
# replays a copy of it.
set -euo pipefail
cd "$(dirname "$0")/.."
PLATFORM=
if [[ ${1:-} == --platform ]]; then
	PLATFORM=${2:?--platform needs a name}
	shift 2
fi
N1=${1:-5000}
NBIG=${2:-200000}
exec python3 - "$N1" "$NBIG" "$PLATFORM" <<'PY'
import http.client, json, os, shutil, signal, socket, subprocess, sys, tempfile, time

N1, NBIG, PLATFORM = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
# Each platform's destination keys beside type/api_base/batch_max_events, its
# largest batch (the adapter's max_events), and the key that names each event
# in its bodies (the mock's --count-key; None: the mock parses bodies).
DESTS = {
    "meta": ("pixel_id = 1234567890\napi_version = v25.0\naccess_token = bench\n", 1000,
             "event_id"),
    "tiktok": ("pixel_code = CBENCH1\naccess_token = bench\n", 1000, "event_id"),
    "ga4": ("measurement_id = G-BENCH1\napi_secret = bench\n", 25, "event_id"),
    "linkedin": ("api_version = 202511\naccess_token = bench\nmap.Purchase = 7001\n", 5000,
                 "eventId"),
    "snapchat": ("pixel_id = 1a2b3c4d-0000-4000-8000-123456789abc\naccess_token = bench\n", 2000,
                 "event_id"),
    "pinterest": ("ad_account_id = 549755885175\naccess_token = bench\n", 1000, "event_id"),
    "reddit": ("ad_account_id = a2_bench\naccess_token = bench\n", 1000, "conversion_id"),
    "segment": ("write_key = bench\n", 2500, None),
    "amplitude": ("api_key = bench\n", 2000, None),
    "mixpanel": ("project_token = bench\n", 2000, None),
    "posthog": ("api_key = phc_bench\n", 1000, None),
}
# Analytics tools need a user or anonymous id on each event.
WITH_IDS = PLATFORM in ("segment", "amplitude", "mixpanel", "posthog")
if PLATFORM and PLATFORM not in DESTS:
    sys.exit("--platform %s: use one of %s" % (PLATFORM, ", ".join(DESTS)))
PLATFORM = PLATFORM or "meta"
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

def conf(d, port, admin, meta_port, batch, dispatchers):
    with open(os.path.join(d, "pixeld.ini"), "w") as f:
        f.write("[server]\nlisten = 127.0.0.1:%d\nadmin_listen = 127.0.0.1:%d\ndata_dir = %s/data\n"
                "threads = 1\ndispatchers = %d\n\n[destination \"%s\"]\ntype = %s\n"
                "api_base = http://127.0.0.1:%d\n%sbatch_max_events = %d\n"
                % (port, admin, d, dispatchers, PLATFORM, PLATFORM, meta_port, DESTS[PLATFORM][0],
                   batch))

def pin(var):
    """taskset's words for the CPU list in environment variable <var>, if set."""
    return ["taskset", "-c", os.environ[var]] if os.environ.get(var) else []

def pixeld(d, binary):
    p = subprocess.Popen(pin("PIXELD_CPU") + [binary, "-c", os.path.join(d, "pixeld.ini")],
                         stdout=open(os.path.join(d, "pixeld.log"), "ab"), stderr=subprocess.STDOUT)
    return p

def cpu_s(pid):
    """utime + stime of <pid> in seconds (proc(5) fields 14 and 15)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def load(port, n):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    sent = 0
    while sent < n:
        k = min(250, n - sent)
        batch = [{"event": "Purchase", "event_id": "b-%d" % (sent + i), "url": "https://shop.example/p",
                  "user": {"email": "u%d@example.com" % (sent + i)}, "click": {"fbp": "fb.1.1.2"},
                  "props": {"value": 9.5, "currency": "USD", "order_id": "o%d" % (sent + i)}}
                 for i in range(k)]
        for i, ev in enumerate(batch if WITH_IDS else ()):
            ev["user"].update(id="user-%d" % (sent + i), anon_id="anon-%d" % (sent + i))
        body = json.dumps({"batch": batch})
        c.request("POST", "/e", body, {"Content-Type": "application/json", "User-Agent": UA})
        r = c.getresponse(); r.read()
        if r.status not in (200, 202, 204):
            sys.exit("pixeld answered %d to a beacon batch" % r.status)
        sent += k
    c.close()

def stats(port):
    return json.loads(get(port, "/_stats")[1])

def fill(n, dispatchers, binary):
    """A data dir whose journal holds <n> events for the destination, taken
    while it pointed at a closed port (so they wait there)."""
    d = tempfile.mkdtemp(prefix="bench-dispatch-fill-")
    port, admin, meta_port = free_port(), free_port(), free_port()
    conf(d, port, admin, meta_port, 1, dispatchers)
    p = pixeld(d, binary)
    wait(lambda: healthy(port), 15, "pixeld")
    load(port, n)
    time.sleep(1)
    p.send_signal(signal.SIGTERM); p.wait(60)
    return os.path.join(d, "data")

def run(batch, n, dispatchers, binary, data):
    """One case with pixeld <binary> replaying a copy of <data>:
    (events/s, pixeld CPU us/event)."""
    d = tempfile.mkdtemp(prefix="bench-dispatch-")
    port, admin, meta_port = free_port(), free_port(), free_port()
    try:
        shutil.copytree(data, os.path.join(d, "data"), symlinks=True)
        conf(d, port, admin, meta_port, batch, dispatchers)
        mock_cmd = pin("MOCK_CPU") + ["build/obj/mockplatform", "--listen", "127.0.0.1:%d" % meta_port]
        if DESTS[PLATFORM][2]:
            mock_cmd += ["--count-key", DESTS[PLATFORM][2]]
        mock = subprocess.Popen(mock_cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        mock.stdout.readline()
        p = pixeld(d, binary)
        accepted = lambda s: s["accepted"].get(PLATFORM, 0)
        # Timed from the first accepted event: start-up is not dispatch.
        s0 = wait(lambda: (lambda s: s if accepted(s) else None)(stats(meta_port)), 60,
                  "the first event at the mock")
        t0, cpu0 = time.monotonic(), cpu_s(p.pid)
        s1 = wait(lambda: (lambda s: s if accepted(s) >= n else None)(stats(meta_port)), 600,
                  "%d events at the mock" % n)
        dt, cpu = time.monotonic() - t0, cpu_s(p.pid) - cpu0
        k = accepted(s1) - accepted(s0)
        mock_cpu = s1["cpu_s"] - s0["cpu_s"]
        p.send_signal(signal.SIGTERM); p.wait(60)
        mock.terminate(); mock.wait(10)
        # bench/run parses these lines up to "requests)".
        print("batch %5d dispatchers %d: %7d events in %6.2f s = %8.0f events/s; pixeld %5.2f"
              " us/event CPU; mock %5.2f us/event CPU (%d requests) %s %s"
              % (batch, dispatchers, k, dt, k / dt, cpu * 1e6 / max(k, 1),
                 mock_cpu * 1e6 / max(k, 1), s1["requests"].get(PLATFORM, 0), PLATFORM, binary),
              flush=True)
        return k / dt, cpu * 1e6 / max(k, 1)
    finally:
        shutil.rmtree(d, ignore_errors=True)

# Batch sizes past the adapter's largest are its largest (GA4: 25).
sizes = sorted({min(b, DESTS[PLATFORM][1]) for b in (1, 100, 1000)})
# BATCHES and DISPATCHERS (space-separated) narrow the table to those cases.
only_b = [int(x) for x in os.environ.get("BATCHES", "").split()]
only_k = [int(x) for x in os.environ.get("DISPATCHERS", "1 2").split()]
runs = [(b, N1 if b == 1 else NBIG, k) for k in only_k for b in sizes
        if not only_b or b in only_b]
ours, peer = os.environ.get("PIXELD", "build/obj/pixeld"), os.environ.get("PEER")
repeat = int(os.environ.get("REPEAT", "1"))
median = lambda xs: sorted(xs)[len(xs) // 2]
fills = {}
try:
    for batch, n, dispatchers in runs:
        # The journal depends on the events and the shards, not the batch
        # size or the binary that replays it: filled once, copied per run.
        if (n, dispatchers) not in fills:
            fills[n, dispatchers] = fill(n, dispatchers, ours)
        data = fills[n, dispatchers]
        got, got0 = [], []
        for _ in range(repeat):
            if peer:
                got0.append(run(batch, n, dispatchers, peer, data))
            got.append(run(batch, n, dispatchers, ours, data))
        rate, cpu = median([g[0] for g in got]), median([g[1] for g in got])
        if repeat > 1:
            print("  %s, batch %d, dispatchers %d: median of %d runs %.0f events/s, %.2f us/event"
                  % (PLATFORM, batch, dispatchers, repeat, rate, cpu), flush=True)
        if peer:
            rate0, cpu0 = median([g[0] for g in got0]), median([g[1] for g in got0])
            print("  %s, batch %d, dispatchers %d: %.2fx the peer's events/s, %.2fx its CPU per"
                  " event (peer's median %.0f events/s, %.2f us/event)"
                  % (PLATFORM, batch, dispatchers, rate / rate0, cpu / cpu0, rate0, cpu0),
                  flush=True)
finally:
    for data in fills.values():
        shutil.rmtree(os.path.dirname(data), ignore_errors=True)
PY
