"""Fixtures for the NATS JetStream tests (test_nats*.py): real nats-server
processes on loopback ports picked here, JetStream storage in the test's
temp dir; pixeld processes in role ingest or dispatch pointing at them; the
mock platform's webhook as the destination; pixelctl nats status as the
view of the stream."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pxtest import PIXELCTL, Pixeld, free_port, http_get, http_post, wait_for  # noqa: E402
from test_delivery import MOCK, UA, Mock  # noqa: E402

NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"


class NatsServer:
    """One nats-server with JetStream; part of a cluster when <routes> is given."""

    def __init__(self, base_dir, name, cluster_port=None, routes=()):
        self.name = name
        self.port = free_port()
        self.http_port = free_port()
        self.cluster_port = cluster_port
        self.routes = list(routes)
        self.store = os.path.join(base_dir, "js-" + name)
        self.log_path = os.path.join(base_dir, "nats-%s.log" % name)
        self.proc = None
        self.started = False

    @property
    def url(self):
        return "nats://127.0.0.1:%d" % self.port

    def start(self):
        # A port picked free can be taken by another test before the server
        # binds it: at the first start, pick new client and monitor ports.
        for attempt in range(3):
            try:
                return self._start()
            except AssertionError as e:
                if self.started or "can't listen" not in str(e) or attempt == 2:
                    raise
                self.port, self.http_port = free_port(), free_port()

    def _start(self):
        args = [NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port), "-m", str(self.http_port),
                "-js", "-sd", self.store, "--server_name", self.name]
        if self.cluster_port:
            args += ["--cluster_name", "pxtest", "--cluster",
                     "nats://127.0.0.1:%d" % self.cluster_port,
                     "--routes", ",".join("nats://127.0.0.1:%d" % p for p in self.routes)]
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log)
        wait_for(self.listening, 20, what="nats-server %s on port %d" % (self.name, self.port))
        self.started = True
        return self

    def listening(self):
        if self.proc.poll() is not None:
            with open(self.log_path, "rb") as f:
                raise AssertionError("nats-server %s exited:\n%s" % (self.name, f.read()[-2000:]))
        try:
            st, _, _ = http_get(self.http_port, "/varz", timeout=1)
            return st == 200
        except OSError:
            return False

    def cluster_ready(self, n):
        """JetStream here sees a meta leader and all <n> peers, and /healthz is ok:
        before that an R3 stream cannot be placed ("no suitable peers")."""
        try:
            st, _, body = http_get(self.http_port, "/jsz", timeout=1)
            meta = json.loads(body).get("meta_cluster", {}) if st == 200 else {}
            if not meta.get("leader") or meta.get("cluster_size") != n:
                return False
            st, _, _ = http_get(self.http_port, "/healthz", timeout=1)
            return st == 200
        except (OSError, ValueError):
            return False

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill9()


def cluster(base_dir, n):
    cports = [free_port() for _ in range(n)]
    return [NatsServer(base_dir, "n%d" % i, cports[i], [p for p in cports if p != cports[i]])
            for i in range(n)]


def nats_section(servers, replicas=1):
    return "[nats]\nservers = %s\nreplicas = %d\nack_wait = 3s\n" % (
        ", ".join(s.url for s in servers), replicas)


def hooks_dest(mock):
    return ('[destination "hooks"]\ntype = webhook\nurl = http://127.0.0.1:%d/webhook\n'
            "secret = test-hook\nlinger_ms = 20\n" % mock.port)


def ingest(servers, replicas=1, ack="fast"):
    return Pixeld(server_extra="role = ingest\n",
                  extra="[journal]\nack = %s\n%s" % (ack, nats_section(servers, replicas)),
                  dest="")


def dispatch(servers, mock, replicas=1):
    return Pixeld(server_extra="role = dispatch\n", extra=nats_section(servers, replicas),
                  dest=hooks_dest(mock))


def new_ids(n):
    return ["nx-" + uuid.uuid4().hex for _ in range(n)]


def post_batch(px, ids, timeout=10):
    """Posts one beacon batch; returns the HTTP status (and the headers)."""
    body = json.dumps({"batch": [{"event": "Purchase", "event_id": i, "props": {"value": 1}}
                                 for i in ids]})
    st, headers, _ = http_post(px.port, "/e", body, headers={"User-Agent": UA}, timeout=timeout)
    return st, headers


def send_all(px, ids, chunk=250):
    for k in range(0, len(ids), chunk):
        st, _ = post_batch(px, ids[k:k + chunk])
        assert st in (200, 202, 204), st


def nats_status(px):
    out = subprocess.run([PIXELCTL, "-c", px.conf, "nats", "status", "--json"],
                         capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr.decode()
    return json.loads(out.stdout)


def stream_messages(px):
    """Messages in the stream; 0 before the first publish has created it."""
    out = subprocess.run([PIXELCTL, "-c", px.conf, "nats", "status", "--json"],
                         capture_output=True, timeout=30)
    if out.returncode == 1 and b"Not Found" in out.stderr:
        return 0
    assert out.returncode == 0, out.stderr.decode()
    return json.loads(out.stdout)["stream"]["messages"]


def delivered(px, dest):
    return px.metric('pixeld_destination_events_delivered_total{destination="%s"}' % dest)


def wait_at_mock(mock, ids, timeout=60):
    return mock.wait_ids("webhook", ids, timeout=timeout)


def dup_count(mock, ids):
    got = mock.ids("webhook")
    want = set(ids)
    return sum(1 for i in got if i in want) - len(want & set(got))


class Stack:
    """Owns every process and temp dir a test starts; cleanup() ends them all."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="nats-test-")
        self.parts = []
        self.nats = []
        self.mock = None

    def servers(self, n):
        self.nats = [NatsServer(self.dir, "n0")] if n == 1 else cluster(self.dir, n)
        for s in self.nats:
            s.start()
        # A test that kills a node must start from a formed cluster: a node
        # killed before every peer joined JetStream's meta group leaves two
        # that can never place an R3 stream.
        for s in self.nats if n > 1 else ():
            wait_for(lambda: s.cluster_ready(n), 60,
                     what="nats-server %s to see a JetStream cluster of %d" % (s.name, n))
        return self.nats

    def add(self, px):
        self.parts.append(px)
        return px

    def start_mock(self):
        self.mock = Mock().start()
        return self.mock

    def logs(self):
        out = []
        for px in self.parts:
            out.append("--- %s ---\n%s" % (px.conf, px.read_log()[-3000:]))
            out.append(self.delivery_state(px))
        for s in self.nats:
            with open(s.log_path, "rb") as f:
                out.append("--- nats-server %s ---\n%s" % (
                    s.name, f.read()[-2000:].decode(errors="replace")))
        return "\n".join(out)

    @staticmethod
    def delivery_state(px):
        """What a stalled delivery shows first: delivered, in flight, oldest pending, fetched."""
        keys = ("events_delivered_total", "in_flight", "oldest_pending", "outstanding")
        try:
            m = px.metrics()
        except (OSError, AssertionError) as e:
            return "(no metrics: %s)" % e
        return "\n".join("%s %g" % (k, v) for k, v in sorted(m.items())
                         if any(w in k for w in keys))

    def cleanup(self):
        for px in self.parts:
            px.cleanup()
        for s in self.nats:
            s.kill9()
        if self.mock:
            self.mock.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)


def run_stack(fn, nservers=1):
    st = Stack()
    try:
        st.servers(nservers)
        st.start_mock()
        fn(st)
    except Exception:
        sys.stdout.write(st.logs() + "\n")
        raise
    finally:
        st.cleanup()


def require_binaries():
    missing = [p for p in (NATS_SERVER, MOCK, PIXELCTL) if not os.path.exists(p)]
    if missing:
        print("missing: %s (scripts/install-deps.sh installs nats-server; make builds the rest)"
              % ", ".join(missing))
        print("0 passed, 1 failed")
        sys.exit(1)
