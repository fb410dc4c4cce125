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

    def start(self, args=()):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([PIXELD, "-c", self.conf, *args], stdout=self.log, stderr=self.log)
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


class Runner:
    """Runs test functions, prints one line each and "N passed, N failed"."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def run(self, fn, *args):
        t0 = time.monotonic()
        try:
            fn(*args)
            self.passed += 1
            print("ok   %-40s %.2fs" % (fn.__name__, time.monotonic() - t0), flush=True)
        except Exception:
            self.failed += 1
            print("FAIL %-40s %.2fs" % (fn.__name__, time.monotonic() - t0), flush=True)
            traceback.print_exc()
            sys.stdout.flush()

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(0 if self.failed == 0 and self.passed > 0 else 1)


def run_tests(tests):
    r = Runner()
    for t in tests:
        r.run(t)
    r.finish()
