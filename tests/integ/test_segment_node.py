"""Segment's own @segment/analytics-node (pinned in tests/package.json, installed
into build/npm by tests/npm-setup.sh with npm ci) sends track, identify and page
with messageIds to the real pixeld's /v1/batch: every event arrives once with
the mapped fields, also when the per-key rate limit answers 429 and the
library retries. Without npm (or the registry) the test is skipped, and fails
under CI=true."""

import hashlib
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from pxtest import (BUILD, ROOT, Pixeld, run_tests, wait_for)

CI = os.environ.get("CI") == "true"
SCRIPT = os.path.join(ROOT, "tests", "integ", "node", "segment_node.js")
WK = "wk_node_7f3a"
NODE_MODULES = None  # set by install()


def install():
    """The one npm set-up of the tests (tests/npm-setup.sh): npm ci into build/npm, once."""
    global NODE_MODULES
    out = subprocess.run([os.path.join(ROOT, "tests", "npm-setup.sh")], capture_output=True, text=True,
                         timeout=300, env=dict(os.environ, BUILD=BUILD))
    if out.returncode != 0:
        raise RuntimeError(out.stdout + out.stderr)
    NODE_MODULES = out.stdout.strip().splitlines()[-1]


def send(q, prefix, count):
    env = dict(os.environ, NODE_PATH=NODE_MODULES)
    out = subprocess.run(["node", SCRIPT, "http://127.0.0.1:%d" % q.port, WK, prefix, str(count)],
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def events_of(q, prefix):
    return [e for e in q.events() if e.get("event_id", "").startswith(prefix + "-")]


def test_track_identify_page_arrive_once():
    with Pixeld(server_extra="write_keys = %s\n" % WK) as q:
        q.start()
        rep = send(q, "n1", 7)
        assert rep["errors"] == [], rep
        evs = wait_for(lambda: len(events_of(q, "n1")) >= 9 and events_of(q, "n1"), what="9 events")
        ids = [e["event_id"] for e in evs]
        assert len(ids) == len(set(ids)) == 9, ids
        t0 = [e for e in evs if e["event_id"] == "n1-track-0"][0]
        assert t0["event"] == "Purchase" and t0["source"] == "segment", t0
        assert t0["user"]["id"] == "node-user" and t0["ip"] == "198.51.100.77", t0
        assert t0["user"]["email_sha256"] == hashlib.sha256(b"node.user@example.com").hexdigest(), t0
        assert t0["props"]["value"] == 10 and t0["props"]["currency"] == "EUR", t0
        assert t0["props"]["order_id"] == "ord-0", t0
        assert abs(t0["received_at"] - t0["ts"]) < 60000, t0
        ident = [e for e in evs if e["event_id"] == "n1-identify"][0]
        assert ident["event"] == "Identify" and ident["props"] == {"plan": "team"}, ident
        page = [e for e in evs if e["event_id"] == "n1-page"][0]
        assert page["event"] == "PageView" and page["url"] == "https://shop.example/pricing", page
        assert page["referrer"] == "https://news.example/" and page["user"]["anon_id"] == "node-anon", page
        assert "Node.User" not in open(q.events_path).read()


def test_retries_after_429_arrive_once():
    with Pixeld(server_extra="write_keys = %s\n" % WK, extra="[s2s]\nkey_rate = 2/s\nkey_burst = 1\n") as q:
        q.start()
        rep = send(q, "n2", 20)
        evs = wait_for(lambda: len(events_of(q, "n2")) >= 22 and events_of(q, "n2"), timeout=30,
                       what="22 events")
        ids = [e["event_id"] for e in evs]
        assert len(ids) == len(set(ids)) == 22, (sorted(ids), rep)
        assert q.metric('pixeld_events_rejected_total{reason="rate_limited"}') >= 1, "no 429 was answered"


def main():
    if not shutil.which("node") or not shutil.which("npm"):
        print("node or npm missing: run scripts/install-deps.sh as root")
        sys.exit(1 if CI else 77)
    try:
        install()
    except Exception as e:
        print("cannot install @segment/analytics-node: %s" % e)
        sys.exit(1 if CI else 77)
    run_tests([test_track_identify_page_arrive_once, test_retries_after_429_arrive_once])


if __name__ == "__main__":
    main()
