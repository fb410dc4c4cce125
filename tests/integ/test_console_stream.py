"""/admin/stream, pixelctl tail and pixelctl top against a real pixeld: the
key (Bearer, or Basic with the key as the password; a Basic challenge
without it), the stream's shape (retry, a stats event that is JSON, the
accepted events with increasing ids, ?since= for the next ones), and the two
commands following it with their filters."""

import base64
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from pxtest import PIXELCTL, Pixeld, http_get, http_post, run_tests, wait_for

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                         "Chrome/120.0 Safari/537.36"}
KEY = "stream-admin-key-91c2"
BEARER = {"Authorization": "Bearer " + KEY}


def basic(password, user="ops"):
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()}


def parse(body):
    """text/event-stream -> [(type, id, data)]."""
    out = []
    for block in body.decode().split("\n\n"):
        f = {}
        for line in block.split("\n"):
            if ": " in line:
                k, v = line.split(": ", 1)
                f[k] = v
        if "data" in f:
            out.append((f.get("event", "message"), int(f.get("id", 0)), f["data"]))
    return out


def stream(px, since=0):
    st, h, body = http_get(px.admin_port, "/admin/stream?since=%d" % since, headers=BEARER)
    assert st == 200 and h["content-type"] == "text/event-stream", (st, h)
    assert body.startswith(b"retry: 1000\n\n"), body[:40]
    return parse(body)


def send(px, eid, event="Purchase"):
    st, _, _ = http_post(px.port, "/e", json.dumps({"event": event, "event_id": eid}), headers=BROWSER)
    assert st in (200, 202, 204), st


PX = Pixeld(server_extra="admin_key = %s\n" % KEY)


def test_key_required():
    st, h, body = http_get(PX.admin_port, "/")
    assert st == 401 and h["www-authenticate"].startswith("Basic realm="), (st, h)
    assert b"<html" not in body
    for path in ("/", "/console.js", "/admin/stream", "/admin/status"):
        st, _, _ = http_get(PX.admin_port, path, headers=basic("wrong"))
        assert st == 401, (path, st)
        st, _, _ = http_get(PX.admin_port, path, headers=basic(KEY))
        assert st == 200, (path, st)
    st, _, body = http_get(PX.admin_port, "/", headers=BEARER)
    assert st == 200 and b"console.js" in body
    st, _, _ = http_get(PX.admin_port, "/admin/status", headers={"Authorization": "Basic !!!"})
    assert st == 401


def test_stream_stats_and_events():
    first = stream(PX)
    stats = [json.loads(d) for t, _, d in first if t == "stats"]
    assert len(stats) == 1 and stats[0]["version"] and "destinations" in stats[0], first
    since = max([i for _, i, _ in first] + [0])
    for n in range(3):
        send(PX, "st-%d" % n)
    evs = wait_for(lambda: [e for e in stream(PX, since) if e[0] == "ev"] or None, 10,
                   what="three events on the stream")
    wait_for(lambda: len([e for e in stream(PX, since) if e[0] == "ev"]) == 3, 10, what="all three")
    evs = [e for e in stream(PX, since) if e[0] == "ev"]
    ids = [i for _, i, _ in evs]
    assert ids == sorted(ids) and ids[0] == since + 1, ids
    assert [json.loads(d)["event_id"] for _, _, d in evs] == ["st-0", "st-1", "st-2"]
    rest = stream(PX, ids[-1])
    assert not [e for e in rest if e[0] == "ev"], rest
    assert ("id", ids[-1], str(ids[-1])) in rest, rest

    def counted():
        s = json.loads([d for t, _, d in stream(PX, ids[-1]) if t == "stats"][0])
        return "default" in s["tenants"] and s["journal"]["bytes"] > 0 and s

    s = wait_for(counted, 5, what="the next snapshot counting the tenant and the journal")
    assert s["sources"].get("beacon") is not None, s


def test_pixelctl_tail_filters():
    proc = subprocess.Popen([PIXELCTL, "-c", PX.conf, "tail", "--event", "Lead", "--count", "2", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # The tail starts after the events already there: send until it has its two.
        for n in range(40):
            send(PX, "tail-other-%d" % n, event="PageView")
            send(PX, "tail-lead-%d" % n, event="Lead")
            if proc.poll() is not None:
                break
            try:
                proc.wait(0.25)
            except subprocess.TimeoutExpired:
                pass
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    lines = [json.loads(l) for l in out.splitlines()]
    assert len(lines) == 2 and all(l["event"] == "Lead" for l in lines), out


def test_pixelctl_top_frames():
    send(PX, "top-1")
    out = subprocess.run([PIXELCTL, "-c", PX.conf, "top", "-n", "2"], capture_output=True, text=True,
                         timeout=20)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("pixeld 0") == 2, out.stdout
    for col in ("ENDPOINT", "TENANT", "DESTINATION", "DELIVERED/S", "events"):
        assert col in out.stdout, (col, out.stdout)
    assert "\033[" not in out.stdout  # no escapes when stdout is not a terminal
    bad = subprocess.run([PIXELCTL, "-c", PX.conf, "top", "-n", "zero"], capture_output=True, text=True,
                         timeout=10)
    assert bad.returncode == 2 and "usage" in bad.stderr


def test_pixelctl_tail_wrong_key():
    conf = os.path.join(PX.dir, "wrong.ini")
    with open(PX.conf) as f:
        text = f.read().replace(KEY, "not-the-key")
    with open(conf, "w") as f:
        f.write(text)
    out = subprocess.run([PIXELCTL, "-c", conf, "tail"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 1 and "401" in out.stderr and "admin_key" in out.stderr, out.stderr


def test_admin_routes_refuse_clearly():
    st, _, body = http_post(PX.admin_port, "/admin/xdp/block", '{"cidr":"198.51.100.0/24"}', headers=BEARER)
    assert st == 404 and b"XDP is not attached" in body, (st, body)
    st, _, body = http_post(PX.admin_port, "/admin/xdp/block", '{"cidr":"300.1.1.1"}', headers=BEARER)
    assert st == 400 and b"cidr" in body, (st, body)
    st, _, body = http_post(PX.admin_port, "/admin/xdp/unblock", '{"cidr":"10.0.0.0/8"}', headers=basic("wrong"))
    assert st == 401
    st, _, body = http_get(PX.admin_port, "/admin/dlq/list?since=yesterday", headers=BEARER)
    assert st == 400 and b"RFC 3339" in body, (st, body)
    st, _, body = http_get(PX.admin_port, "/admin/dlq/list?dest=nope", headers=BEARER)
    assert st == 400 and b"no such destination" in body, (st, body)
    st, _, body = http_get(PX.admin_port, "/admin/dlq/list?dest=events&since=1h", headers=BEARER)
    assert st == 200 and json.loads(body) == {"dead_letters": [], "matched": 0}, body


if __name__ == "__main__":
    PX.start()
    try:
        run_tests([test_key_required, test_stream_stats_and_events, test_pixelctl_tail_filters,
                   test_pixelctl_top_frames, test_pixelctl_tail_wrong_key, test_admin_routes_refuse_clearly])
    finally:
        PX.cleanup()
