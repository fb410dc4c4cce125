"""Command line, configuration errors, SIGHUP reopen and SIGTERM drain."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(__file__))
from pxtest import PIXELD, Pixeld, Sock, free_port, http_get, run_tests, wait_for


def run(args, timeout=10):
    return subprocess.run([PIXELD, *args], capture_output=True, text=True, timeout=timeout)


def test_help_version():
    out = run(["--help"])
    assert out.returncode == 0 and "--check-config" in out.stdout
    out = run(["--version"])
    assert out.returncode == 0 and out.stdout.startswith("pixeld ")
    out = run(["--bogus"])
    assert out.returncode == 2


def test_check_config():
    d = tempfile.mkdtemp()
    good = os.path.join(d, "good.ini")
    with open(good, "w") as f:
        f.write("[server]\nlisten = 127.0.0.1:18080\nthreads = 2\n\n[destination \"events\"]\ntype = jsonl\n")
    out = run(["-c", good, "--check-config"])
    assert out.returncode == 0, out.stderr
    bad = os.path.join(d, "bad.ini")
    with open(bad, "w") as f:
        f.write("[server]\nlisten = 127.0.0.1:18080\nthreads = lots\n")
    out = run(["-c", bad, "--check-config"])
    assert out.returncode == 1
    assert "%s:3" % bad in out.stderr and "threads" in out.stderr and "lots" in out.stderr, out.stderr
    with open(bad, "w") as f:
        f.write("[server]\nlisten = 127.0.0.1:18080\n\n[destination \"x\"]\ntype = carrier-pigeon\n")
    out = run(["-c", bad, "--check-config"])
    assert out.returncode == 1 and "carrier-pigeon" in out.stderr and "jsonl" in out.stderr, out.stderr
    with open(bad, "w") as f:
        f.write("[server]\nlistn = 127.0.0.1:18080\n")
    out = run(["-c", bad, "--check-config"])
    assert out.returncode == 1 and ":2" in out.stderr and "listn" in out.stderr, out.stderr
    out = run(["-c", os.path.join(d, "missing.ini"), "--check-config"])
    assert out.returncode == 1 and "missing.ini" in out.stderr


def test_embedded_default_with_overrides():
    d = tempfile.mkdtemp()
    port, admin = free_port(), free_port()
    proc = subprocess.Popen([PIXELD, "--listen", "127.0.0.1:%d" % port, "--admin", "127.0.0.1:%d" % admin,
                             "--data-dir", d], stderr=subprocess.PIPE)
    try:
        wait_for(lambda: _ok(port), what="embedded default serving")
        st, h, body = http_get(port, "/p.gif?e=PageView&id=emb-1")
        assert st == 200 and body.startswith(b"GIF89a")
        st, _, _ = http_get(admin, "/metrics")
        assert st == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        lines = open(os.path.join(d, "events.jsonl")).read().splitlines()
        assert any(json.loads(l)["event_id"] == "emb-1" for l in lines)
    finally:
        if proc.poll() is None:
            proc.kill()


def _ok(port):
    try:
        return http_get(port, "/health", timeout=1)[0] == 200
    except OSError:
        return False


def test_sighup_reopens_sink():
    with Pixeld() as p:
        p.start()
        http_get(p.port, "/p?e=PageView&id=before-rotate")
        wait_for(lambda: p.events(), what="first event")
        rotated = p.events_path + ".1"
        os.rename(p.events_path, rotated)
        p.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "SIGHUP: reopening sink files" in p.read_log(), timeout=10,
                 what="pixeld took the SIGHUP")
        http_get(p.port, "/p?e=PageView&id=after-rotate")
        wait_for(lambda: [e for e in p.events() if e["event_id"] == "after-rotate"], what="event in new file")
        old = [json.loads(l)["event_id"] for l in open(rotated)]
        assert old == ["before-rotate"], old


def test_sigterm_in_flight_exactly_once():
    """Clients keep sending while SIGTERM arrives: every acknowledged event
    is in events.jsonl exactly once and pixeld exits 0."""
    with Pixeld(threads=2) as p:
        p.start()
        acked = [[] for _ in range(8)]
        stop = threading.Event()

        def client(k):
            n = 0
            while not stop.is_set():
                try:
                    s = Sock(p.port, timeout=5)
                    while not stop.is_set():
                        eid = "term-%d-%d" % (k, n)
                        body = json.dumps({"event": "Purchase", "event_id": eid,
                                           "props": {"value": 1, "currency": "USD"}}).encode()
                        s.send(b"POST /e HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                               b"Content-Length: %d\r\n\r\n" % len(body) + body)
                        st, h, _ = s.response()
                        n += 1
                        if st == 204:
                            acked[k].append(eid)
                        if h.get("connection") == "close":
                            break
                    s.close()
                except (OSError, ConnectionError):
                    return

        threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        wait_for(lambda: sum(map(len, acked)) > 2000, timeout=30, what="2000 acknowledged")
        p.proc.send_signal(signal.SIGTERM)
        rc = p.proc.wait(20)
        stop.set()
        for t in threads:
            t.join(10)
        assert rc == 0, rc
        ids = [e["event_id"] for e in p.events()]
        all_acked = [e for a in acked for e in a]
        missing = set(all_acked) - set(ids)
        dups = len(ids) - len(set(ids))
        print("  acknowledged %d, in sink %d, missing %d, duplicates %d" % (len(all_acked), len(ids), len(missing), dups))
        assert not missing, sorted(missing)[:10]
        assert dups == 0
        assert "stopped" in p.read_log()


def test_second_pixeld_on_the_same_port_refused():
    with Pixeld() as p:
        p.start()
        d = tempfile.mkdtemp()
        out = run(["--listen", "127.0.0.1:%d" % p.port, "--admin", "127.0.0.1:%d" % free_port(),
                   "--data-dir", d], timeout=20)
        assert out.returncode == 1 and "another process has this port" in out.stderr, out.stderr
        assert http_get(p.port, "/health")[0] == 200


def test_runs_as_server_user():
    with Pixeld(server_extra="user = nobody\n") as p:
        os.chmod(p.dir, 0o755)  # mkdtemp's 0700 would keep nobody out of the data dir
        p.start()
        status = open("/proc/%d/status" % p.proc.pid).read()
        uid = [l for l in status.splitlines() if l.startswith("Uid:")][0].split()
        assert uid[1:] == ["65534"] * 4, uid
        st, _, _ = http_get(p.port, "/p?e=PageView&id=as-nobody")
        assert st == 204
        wait_for(lambda: [e for e in p.events() if e["event_id"] == "as-nobody"], what="event")
        seg_dir = os.path.join(p.data_dir, "journal", "i0-s0")
        assert all(os.stat(os.path.join(seg_dir, f)).st_uid == 65534 for f in os.listdir(seg_dir))
        assert p.stop() == 0
    with Pixeld(server_extra="user = no-such-user-here\n") as p:
        out = subprocess.run([PIXELD, "-c", p.conf], capture_output=True, text=True, timeout=20)
        assert out.returncode == 1 and "no-such-user-here" in out.stderr, out.stderr


def main():
    run_tests([test_help_version, test_check_config, test_embedded_default_with_overrides,
               test_sighup_reopens_sink, test_sigterm_in_flight_exactly_once,
               test_second_pixeld_on_the_same_port_refused, test_runs_as_server_user])


if __name__ == "__main__":
    main()
