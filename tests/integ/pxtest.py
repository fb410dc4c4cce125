"""Shared helpers for pixeld's integration tests: start the real binaries on
loopback ports chosen here, speak raw HTTP/1.1, wait with bounds, and count
results into the closing line "N passed, N failed"."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build"))
PIXELD = os.path.join(BUILD, "obj", "pixeld")
PIXELCTL = os.path.join(BUILD, "obj", "pixelctl")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, timeout=10.0, interval=0.05, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))


class Pixeld:
    """A real pixeld on loopback with its own data dir and config file."""

    def __init__(self, extra="", server_extra="", dest=None, threads=1):
        self.dir = tempfile.mkdtemp(prefix="pixeld-test-")
        self.port = free_port()
        self.admin_port = free_port()
        self.data_dir = os.path.join(self.dir, "data")
        dest = dest if dest is not None else '[destination "events"]\ntype = jsonl\npath = events.jsonl\n'
        self.conf = os.path.join(self.dir, "pixeld.ini")
        with open(self.conf, "w") as f:
            f.write(
                "[server]\nlisten = 127.0.0.1:%d\nadmin_listen = 127.0.0.1:%d\n"
                "data_dir = %s\nthreads = %d\n%s\n%s\n%s"
                % (self.port, self.admin_port, self.data_dir, threads, server_extra, extra, dest)
            )
        self.log_path = os.path.join(self.dir, "pixeld.log")
        self.proc = None

    @property
    def events_path(self):
        return os.path.join(self.data_dir, "events.jsonl")

    def start(self, args=(), env=None):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([PIXELD, "-c", self.conf, *args], stdout=self.log, stderr=self.log,
                                     env=dict(os.environ, **env) if env else None)
        wait_for(self._healthy, 15, what="pixeld /health on port %d" % self.port)
        return self

    def _healthy(self):
        if self.proc.poll() is not None:
            raise AssertionError("pixeld exited with %s:\n%s" % (self.proc.returncode, self.read_log()))
        try:
            st, _, _ = http_get(self.port, "/health", timeout=1)
            return st == 200
        except OSError:
            return False

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("pixeld did not exit within %ds after %s" % (timeout, sig))
        return self.proc.returncode if self.proc else None

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        # tests/integ/check_log_secrets.py reads every test's log, config and
        # key files (not the data) after the run.
        archive = os.environ.get("PXD_LOG_ARCHIVE")
        if archive and os.path.exists(self.log_path):
            dest = os.path.join(archive, os.path.basename(self.dir))
            os.makedirs(dest, exist_ok=True)
            for name in os.listdir(self.dir):
                path = os.path.join(self.dir, name)
                if os.path.isfile(path):  # regular files: no data dir, no sockets
                    shutil.copy(path, dest)
        shutil.rmtree(self.dir, ignore_errors=True)

    def metrics(self):
        st, _, body = http_get(self.admin_port, "/metrics")
        assert st == 200, st
        out = {}
        for line in body.decode().splitlines():
            if line.startswith("#") or not line.strip():
                continue
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
        return out

    def metric(self, name):
        return self.metrics().get(name, 0.0)

    def events(self):
        if not os.path.exists(self.events_path):
            return []
        with open(self.events_path) as f:
            return [json.loads(l) for l in f if l.strip()]

    def wait_events(self, n, timeout=10):
        return wait_for(lambda: len(self.events()) >= n and self.events(), timeout,
                        what="%d events in events.jsonl" % n)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()


def connect(port, timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_response(sock, head_only=False):
    """Reads one HTTP/1.1 response: (status, headers dict lowercased, body)."""
    buf = getattr(sock, "_pxbuf", b"")
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a full response head (got %r)" % buf[:200])
        buf += chunk
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for l in lines[1:]:
        k, v = l.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    n = 0 if head_only or status in (204, 304) else int(headers.get("content-length", "0"))
    while len(buf) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside a body")
        buf += chunk
    body, rest = buf[:n], buf[n:]
    sock._pxbuf = rest
    return status, headers, body


class Sock:
    """A socket wrapper that keeps leftover bytes between responses."""

    def __init__(self, port, timeout=5):
        self.s = connect(port, timeout)
        self._pxbuf = b""

    def send(self, data):
        self.s.sendall(data)

    def recv(self, n):
        return self.s.recv(n)

    def response(self, head_only=False):
        return read_response(self, head_only)

    def closed_by_peer(self, timeout=5):
        self.s.settimeout(timeout)
        try:
            return self.s.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self):
        self.s.close()


def request(port, raw, head_only=False, timeout=5):
    s = Sock(port, timeout)
    try:
        s.send(raw)
        return s.response(head_only)
    finally:
        s.close()


def http_get(port, path, host="localhost", headers=None, timeout=5):
    extra = "".join("%s: %s\r\n" % kv for kv in (headers or {}).items())
    raw = ("GET %s HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n" % (path, host, extra)).encode()
    return request(port, raw, timeout=timeout)


def http_post(port, path, body, ctype="application/json", host="localhost", headers=None, timeout=5):
    if isinstance(body, str):
        body = body.encode()
    extra = "".join("%s: %s\r\n" % kv for kv in (headers or {}).items())
    raw = ("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s"
           "Connection: close\r\n\r\n" % (path, host, ctype, len(body), extra)).encode() + body
    return request(port, raw, timeout=timeout)


CI = os.environ.get("CI") == "true"
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def beacon_raw(eid):
    """One Purchase beacon with event id <eid>, from a browser's user agent."""
    body = json.dumps({"event": "Purchase", "event_id": eid,
                       "user": {"email": "%s@example.com" % eid},
                       "props": {"value": 10.5, "currency": "EUR"}}).encode()
    return (b"POST /e HTTP/1.1\r\nHost: t\r\nUser-Agent: %s\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (UA.encode(), len(body))) + body


class Load:
    """<conns> clients sending beacons until stopped or <per_conn> each, recording
    every 204 (acked) and every other answer (refused). With <reconnect>, a
    client whose connection closes (after a refusal, or pixeld restarting)
    connects again; without, it stops."""

    def __init__(self, port, conns, prefix, per_conn, reconnect=False):
        self.acked = [[] for _ in range(conns)]
        self.refused = [0] * conns
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(port, k, prefix, per_conn, reconnect))
                        for k in range(conns)]
        for t in self.threads:
            t.start()

    def run(self, port, k, prefix, per_conn, reconnect):
        n = 0
        while not self.stop.is_set() and n < per_conn:
            try:
                s = Sock(port, timeout=30)
                while not self.stop.is_set() and n < per_conn:
                    eid = "%s-%d-%d" % (prefix, k, n)
                    n += 1
                    s.send(beacon_raw(eid))
                    st, h, _ = s.response()
                    if st == 204:
                        self.acked[k].append(eid)
                    else:
                        self.refused[k] += 1
                        if h.get("connection") == "close":
                            break
                s.close()
            except (OSError, ConnectionError):
                if not reconnect:
                    return
                self.stop.wait(0.05)

    def count(self):
        return sum(map(len, self.acked))

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join(60)
        return [e for a in self.acked for e in a]


class Skip(Exception):
    """A test that cannot run here (no root, no tool): see Runner.finish()."""


def skip(why):
    raise Skip(why)


class Runner:
    """Runs test functions, prints one line each and "N passed, N failed".

    A test that cannot run raises Skip (or calls sys.exit(77)): it is counted
    apart and never hides a failure. The exit status is 1 when any test
    failed, or when one was skipped under CI=true; 77 when one was skipped
    and none failed (tests/run.sh names the file as SKIP); else 0."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = []

    def run(self, fn, *args):
        t0 = time.monotonic()
        try:
            fn(*args)
            self.passed += 1
            print("ok   %-40s %.2fs" % (fn.__name__, time.monotonic() - t0), flush=True)
        except Skip as e:
            self.skip(fn, str(e))
        except SystemExit as e:
            if e.code != 77:
                raise
            self.skip(fn, "sys.exit(77)")
        except Exception:
            self.failed += 1
            print("FAIL %-40s %.2fs" % (fn.__name__, time.monotonic() - t0), flush=True)
            traceback.print_exc()
            sys.stdout.flush()

    def skip(self, fn, why):
        self.skipped.append(fn.__name__)
        print("skip %-40s %s" % (fn.__name__, why), flush=True)

    def finish(self):
        if self.skipped:
            print("skipped: %s%s" % (", ".join(self.skipped),
                                     " (CI=true: counted as failures)" if CI else ""))
        if CI:
            self.failed += len(self.skipped)
        print("%d passed, %d failed" % (self.passed, self.failed))
        if self.failed or (not self.passed and not self.skipped):
            sys.exit(1)
        sys.exit(77 if self.skipped else 0)


def run_tests(tests):
    r = Runner()
    for t in tests:
        r.run(t)
    r.finish()


def node_modules():
    """The npm packages of tests/package.json (exact versions from its lock),
    installed into build/npm by tests/npm-setup.sh on first use: their path."""
    r = subprocess.run([os.path.join(ROOT, "tests", "npm-setup.sh")], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, "tests/npm-setup.sh failed: " + r.stderr
    return r.stdout.strip()
