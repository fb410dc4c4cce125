#!/usr/bin/env python3
"""Every destination on its own clock, against the real pixeld and
mockplatform: while Meta is down (503 to everything, and separately never
answering: its connections time out), GA4, TikTok, a webhook and the JSONL
sink take a steady load, and their delivered rate and p99 delivery latency
stay close to a run without the outage (bounds below). Meta's
batch is kept small so it falls behind and reads the journal at its own
cursor, and journal segments small so a log line names it as the one that
keeps them. After the outage, Meta gets every event exactly once. Outages last
20 s (the issue asks for 60 s; kept modest for the suite). Prints each run's
figures and "N passed, N failed" last.

The rate must stay within 10% of the baseline. The p99 latency must stay
within 10% or 500 ms of it, whichever is larger: on a shared 2-core machine
one run's p99 swings by a few hundred ms with the neighbours' load, while a
shard held up by one destination (the failure this guards against) puts the
others' p99 at tens of seconds. bench/RESULTS.md keeps the measured figures."""

import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pxtest import Pixeld, Sock, run_tests, wait_for  # noqa: E402
from test_delivery import Mock, dest_conf  # noqa: E402

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SECONDS = 20
RATE = 250  # events per second, every one to every destination
HEALTHY = ["ga4", "tiktok", "webhook", "jsonl"]
SLACK = 0.10
SLACK_MS = 500


def beacon(eid):
    body = json.dumps({"event": "Purchase", "event_id": eid, "url": "https://shop.example.com/p/1",
                       "user": {"email": "%s@example.com" % eid, "anon_id": "anon-" + eid},
                       "consent": {"ad_storage": "granted", "ad_user_data": "granted"},
                       "props": {"value": 10.5, "currency": "EUR", "order_id": "o-" + eid}}).encode()
    return (b"POST /e HTTP/1.1\r\nHost: t\r\nUser-Agent: %s\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (UA.encode(), len(body))) + body


class Tail:
    """Follows a JSONL file from a thread, noting when each event_id first
    appears (wall ms) and how often. <key> picks the id out of a line."""

    def __init__(self, path, key, stamp=None):
        self.path, self.key, self.stamp = path, key, stamp
        self.seen = {}
        self.count = {}
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run)
        self.t.start()

    def run(self):
        off, part = 0, b""
        while not self.stop.is_set():
            if os.path.exists(self.path):
                with open(self.path, "rb") as f:
                    f.seek(off)
                    data = f.read()
                off += len(data)
                part += data
                now = time.time() * 1000
                *lines, part = part.split(b"\n")
                for line in lines:
                    r = json.loads(line)
                    eid = self.key(r)
                    if eid is None:
                        continue
                    self.count[eid] = self.count.get(eid, 0) + 1
                    self.seen.setdefault(eid, self.stamp(r) if self.stamp else now)
            time.sleep(0.01)

    def close(self):
        self.stop.set()
        self.t.join(10)


def paced_load(px, prefix, seconds, rate):
    """Sends <rate> beacons a second for <seconds> on one connection; returns
    {event_id: wall ms sent}."""
    sent = {}
    s = Sock(px.port, timeout=10)
    t0 = time.monotonic()
    try:
        for k in range(seconds * rate):
            ahead = t0 + k / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)  # pacing the load, not waiting for a result
            eid = "%s-%d" % (prefix, k)
            sent[eid] = time.time() * 1000
            s.send(beacon(eid))
            st, _, body = s.response()
            assert st == 204, (st, body)
    finally:
        s.close()
    return sent


def p99(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * 0.99))] if xs else float("inf")


class Stack:
    """mockplatform, and pixeld sending to it; Meta through <meta_port>
    when given (a blackhole or a proxy the test controls)."""

    def __init__(self, meta_port=None):
        self.mock = Mock().start()
        dests = dest_conf(self.mock.port, ["meta", "ga4", "tiktok", "hooks"])
        dests = dests.replace("type = meta\n", "type = meta\nbatch_max_events = 100\n"
                              "connect_timeout = 1s\ntimeout = 2s\n")
        if meta_port:
            dests = dests.replace("pixel_id = 1234567890\napi_version = v25.0\naccess_token = test-meta\n"
                                  "api_base = http://127.0.0.1:%d\n" % self.mock.port,
                                  "pixel_id = 1234567890\napi_version = v25.0\naccess_token = test-meta\n"
                                  "api_base = http://127.0.0.1:%d\n" % meta_port)
            assert "127.0.0.1:%d" % meta_port in dests, dests
        dests += '[destination "jsonl"]\ntype = jsonl\npath = events.jsonl\n'
        # Small segments, so Meta's backlog alone keeps some of them.
        self.px = Pixeld(dest=dests, extra="[journal]\nsegment_bytes = 1M\n")
        self.px.start()
        key = lambda r: r.get("event_id")  # noqa: E731
        self.tails = {p: Tail(self.mock.record, key, lambda r: r["received_at"])
                      for p in ("meta", "ga4", "tiktok", "webhook")}
        for p, t in self.tails.items():
            t.key = (lambda plat: lambda r: r.get("event_id") if r["platform"] == plat else None)(p)
        self.tails["jsonl"] = Tail(self.px.events_path, key)

    def figures(self, sent, dest):
        seen = self.tails[dest].seen
        t0, t1 = min(sent.values()), max(sent.values())
        lat = [seen[e] - sent[e] for e in sent if e in seen]
        in_window = sum(1 for e in sent if e in seen and seen[e] <= t1)
        return {"rate": in_window * 1000.0 / (t1 - t0), "p99_ms": p99(lat), "got": len(lat)}

    def wait_all(self, sent, dests, timeout):
        want = set(sent)
        for d in dests:
            wait_for(lambda: want <= set(self.tails[d].seen), timeout,
                     what="every event at %s" % d)

    def close(self):
        for t in self.tails.values():
            t.close()
        self.px.cleanup()
        self.mock.cleanup()


def run(label, outage=None, meta_port=None, after=None):
    st = Stack(meta_port)
    try:
        if outage:
            outage(st)
        sent = paced_load(st.px, label, SECONDS, RATE)
        st.wait_all(sent, HEALTHY, 30)
        figs = {d: st.figures(sent, d) for d in HEALTHY}
        for d, f in figs.items():
            print("%-10s %-8s delivered %6.1f/s  p99 %6.1f ms  (%d events)"
                  % (label, d, f["rate"], f["p99_ms"], f["got"]), flush=True)
        if after:
            after(st)
        st.wait_all(sent, ["meta"], 120)
        counts = st.tails["meta"].count
        twice = [e for e in sent if counts.get(e, 0) != 1]
        assert not twice, "%d events at Meta not exactly once, e.g. %s" % (len(twice), twice[:3])
        return figs, st.px.read_log()
    except Exception:
        sys.stdout.write("--- pixeld log ---\n%s\n" % st.px.read_log()[-3000:])
        raise
    finally:
        st.close()


BASELINE = {}


def baseline():
    if not BASELINE:
        BASELINE.update(run("baseline")[0])
    return BASELINE


def compare(figs, base):
    for d in HEALTHY:
        b, f = base[d], figs[d]
        assert f["rate"] >= b["rate"] * (1 - SLACK), (d, f, b)
        assert f["p99_ms"] <= max(b["p99_ms"] * (1 + SLACK), b["p99_ms"] + SLACK_MS), (d, f, b)


class Sampler:
    """Polls one metric of a running pixeld from a thread; keeps the largest value."""

    def __init__(self, px, name):
        self.px, self.name, self.most = px, name, 0.0
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop.wait(0.2):
            try:
                self.most = max(self.most, self.px.metric(self.name))
            except (OSError, AssertionError):
                pass

    def close(self):
        self.stop.set()
        self.t.join(10)


def test_meta_503_does_not_slow_the_others():
    base = baseline()
    lag = []

    def outage(st):
        st.mock.control(platform="meta", status=503, for_ms=SECONDS * 1000)
        lag.append(Sampler(st.px, 'pixeld_destination_backlog_streams{destination="meta"}'))

    figs, log = run("meta-503", outage=outage, after=lambda st: lag[0].close())
    compare(figs, base)
    assert lag[0].most >= 1, "pixeld_destination_backlog_streams never showed Meta behind"
    assert "destination meta: behind on" in log, "Meta never fell back to the journal"
    assert "are kept for destination meta, the slowest" in log, "no line named the laggard"


class Blackhole:
    """A port whose accept queue is full and never drained: a connect there
    hangs until the client's connect timeout. open_to() replaces it with a
    forwarder to <port>."""

    def __init__(self):
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.port = self.ls.getsockname()[1]
        self.ls.listen(0)
        self.fill = []
        for _ in range(2):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", self.port))
            self.fill.append(c)
        self.stop = threading.Event()

    def open_to(self, port):
        for c in self.fill:
            c.close()
        self.ls.close()
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", self.port))
        self.ls.listen(64)
        self.ls.settimeout(0.2)
        threading.Thread(target=self.forward, args=(port,), daemon=True).start()

    def forward(self, port):
        while not self.stop.is_set():
            try:
                a, _ = self.ls.accept()
            except socket.timeout:
                continue
            b = socket.create_connection(("127.0.0.1", port))
            for x, y in ((a, b), (b, a)):
                threading.Thread(target=self.pipe, args=(x, y), daemon=True).start()

    @staticmethod
    def pipe(x, y):
        try:
            while True:
                data = x.recv(65536)
                if not data:
                    break
                y.sendall(data)
        except OSError:
            pass
        finally:
            for s in (x, y):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.stop.set()
        self.ls.close()


def test_meta_connect_timeout_does_not_slow_the_others():
    base = baseline()
    hole = Blackhole()
    try:
        figs, log = run("meta-hang", meta_port=hole.port,
                        after=lambda st: hole.open_to(st.mock.port))
        compare(figs, base)
        assert "destination meta: behind on" in log, "Meta never fell back to the journal"
    finally:
        hole.close()


if __name__ == "__main__":
    run_tests([test_meta_503_does_not_slow_the_others,
               test_meta_connect_timeout_does_not_slow_the_others])
