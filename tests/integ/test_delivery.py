#!/usr/bin/env python3
"""Delivery to the ad platforms, end to end: a real pixeld sends to a real
build/obj/mockplatform over HTTP on loopback. Every destination type, every
standard event name, retries (429 + Retry-After, 5xx), bisection of a Meta
batch refused for one bad event, TikTok's error codes inside a 200, the
Google Ads token refresh on 401, dead letters replayed with their ids,
consent, and a destination that is down for a while. Prints "N passed, N
failed" last."""

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pxtest import BUILD, PIXELCTL, Pixeld, free_port, http_get, http_post, run_tests, wait_for  # noqa: E402

MOCK = os.path.join(BUILD, "obj", "mockplatform")
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
NAMES = ["PageView", "ViewContent", "Search", "AddToCart", "AddToWishlist", "InitiateCheckout",
         "AddPaymentInfo", "Purchase", "Lead", "CompleteRegistration", "Subscribe", "StartTrial",
         "Contact"]
HEX64 = set("0123456789abcdef")


class Mock:
    """build/obj/mockplatform on a loopback port, recording to a temp file."""

    def __init__(self, args=(), port=0):
        self.dir = tempfile.mkdtemp(prefix="mock-test-")
        self.record = os.path.join(self.dir, "record.jsonl")
        self.args = list(args)
        self.port = port
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [MOCK, "--listen", "127.0.0.1:%d" % self.port, "--record", self.record, *self.args],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        r, _, _ = select.select([self.proc.stdout], [], [], 10)
        assert r, "mockplatform printed no listening line within 10s"
        line = self.proc.stdout.readline().decode()
        assert line.startswith("mockplatform listening on "), line
        self.port = int(line.rsplit(":", 1)[1])
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def control(self, **kw):
        st, _, body = http_post(self.port, "/_control", json.dumps(kw))
        assert st == 200, (st, body)

    def stats(self):
        st, _, body = http_get(self.port, "/_stats")
        assert st == 200, st
        return json.loads(body)

    def records(self, platform):
        if not os.path.exists(self.record):
            return []
        out = []
        with open(self.record) as f:
            for line in f:
                if line.endswith("\n"):
                    r = json.loads(line)
                    if r["platform"] == platform:
                        out.append(r)
        return out

    def ids(self, platform):
        return [r["event_id"] for r in self.records(platform)]

    def wait_ids(self, platform, want, timeout=20):
        want = set(want)
        return wait_for(lambda: want <= set(self.ids(platform)), timeout,
                        what="%d %s events at the mock" % (len(want), platform))


def dest_conf(port, only=None, linger="20"):
    base = "http://127.0.0.1:%d" % port
    all_dests = {
        "meta": "type = meta\npixel_id = 1234567890\napi_version = v25.0\naccess_token = test-meta\n",
        "ga4": "type = ga4\nmeasurement_id = G-TEST123\napi_secret = test-ga4\n",
        "gads": ("type = google_ads\ntoken_url = %s/token\napi_version = v21\ncustomer_id = 1234567890\n"
                 "conversion_action = 987\ndeveloper_token = test-dev\nclient_id = test-client\n"
                 "client_secret = test-secret\nrefresh_token = test-refresh\n" % base),
        "tiktok": "type = tiktok\npixel_code = CTEST123\naccess_token = test-tiktok\n",
        "hooks": "type = webhook\nurl = %s/webhook\nsecret = test-hook\n" % base,
    }
    out = ""
    for name, body in all_dests.items():
        if only and name not in only:
            continue
        api = "" if name == "hooks" else "api_base = %s\n" % base
        out += '[destination "%s"]\n%s%slinger_ms = %s\n\n' % (name, body, api, linger)
    return out


def event(name="Purchase", eid=None, consent=None, email="user@example.com"):
    eid = eid or "ev-" + uuid.uuid4().hex[:16]
    ev = {"event": name, "event_id": eid, "url": "https://shop.example.com/p/1",
          "user": {"email": email, "anon_id": "anon-" + eid},
          "click": {"fbc": "fb.1.1700000000000.AbCdEf", "fbp": "fb.1.1700000000000.123456789",
                    "gclid": "Cj0KCQiA-test-" + eid[-8:], "ttclid": "tt-" + eid},
          "props": {"value": 1.5, "currency": "USD"},
          "consent": consent or {"ad_storage": "granted", "ad_user_data": "granted"}}
    if name == "Purchase":
        ev["props"]["order_id"] = "o-" + eid
    return ev


def send(px, ev):
    st, _, body = http_post(px.port, "/e", json.dumps(ev), headers={"User-Agent": UA})
    assert st in (200, 202, 204), (st, body)
    return ev["event_id"]


def with_stack(fn, mock_args=(), only=None, linger="20", threads=1, server_extra=""):
    mock = Mock(mock_args).start()
    px = Pixeld(dest=dest_conf(mock.port, only, linger), threads=threads, server_extra=server_extra)
    try:
        px.start()
        fn(mock, px)
    except Exception:
        sys.stdout.write("--- pixeld log ---\n%s\n" % px.read_log()[-4000:])
        raise
    finally:
        px.cleanup()
        mock.cleanup()


def dlq_entries(px, dest):
    path = os.path.join(px.data_dir, "dlq", dest + ".jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f if l.endswith("\n")]


def test_every_name_reaches_every_destination():
    def body(mock, px):
        ids = {n: send(px, event(n)) for n in NAMES}
        mock.wait_ids("meta", ids.values())
        mock.wait_ids("webhook", ids.values())
        mock.wait_ids("tiktok", ids.values())
        wait_for(lambda: len(mock.records("ga4")) >= len(NAMES), 20, what="GA4 events")
        orders = {"o-" + ids["Purchase"]} | {ids[n] for n in NAMES if n != "Purchase"}
        mock.wait_ids("google_ads", orders)
        for r in mock.records("meta"):
            e = r["event"]
            name = next(n for n, i in ids.items() if i == r["event_id"])
            assert e["event_name"] == name, e
            assert e["action_source"] == "website", e
            assert 1_000_000_000 < e["event_time"] < 10_000_000_000, e  # seconds
            em = e["user_data"]["em"]
            em = em[0] if isinstance(em, list) else em
            assert len(em) == 64 and set(em) <= HEX64, e
            assert e["user_data"]["fbc"] == "fb.1.1700000000000.AbCdEf", e
            if name == "Purchase":
                assert e["custom_data"]["value"] == 1.5 and e["custom_data"]["currency"] == "USD", e
                assert e["custom_data"]["order_id"] == "o-" + ids["Purchase"], e
        ga4 = {r["event"]["name"] for r in mock.records("ga4")}
        assert {"purchase", "add_to_cart", "page_view", "begin_checkout", "generate_lead"} <= ga4, ga4
        for r in mock.records("google_ads"):
            c = r["event"]
            assert c["gclid"].startswith("Cj0KCQiA-test-"), c
            assert c["conversionAction"].endswith("/987"), c
        for r in mock.records("tiktok"):
            e = r["event"]
            assert e["event_id"] in ids.values(), e
        hooks = {r["event_id"]: r["event"] for r in mock.records("webhook")}
        assert hooks[ids["Purchase"]]["event"] == "Purchase", hooks[ids["Purchase"]]
        assert len(set(mock.ids("meta"))) == len(NAMES)
        m = px.metrics()
        assert m.get('pixeld_destination_requests_total{destination="meta"}', 0) >= 1, m
    with_stack(body)


def test_429_with_retry_after_is_waited_out():
    def body(mock, px):
        mock.control(platform="meta", status=429, retry_after=2, count=1)
        t0 = time.monotonic()
        eid = send(px, event())
        mock.wait_ids("meta", [eid], timeout=15)
        assert time.monotonic() - t0 >= 1.9, "sent again before Retry-After ran out"
        assert mock.stats()["faults_fired"] >= 1
    with_stack(body, only=["meta"])


def test_500_storm_is_retried_then_delivered():
    def body(mock, px):
        mock.control(platform="meta", status=500, count=3)
        eid = send(px, event())
        mock.wait_ids("meta", [eid], timeout=20)
        assert mock.stats()["faults_fired"] >= 3
        assert not dlq_entries(px, "meta")
    with_stack(body, only=["meta"])


def test_one_bad_event_in_a_meta_batch_is_isolated():
    def body(mock, px):
        ids = ["ev-good-%02d" % i for i in range(7)]
        bad = "ev-POISON-1"
        for i, eid in enumerate(ids[:3] + [bad] + ids[3:]):
            send(px, event("AddToCart", eid))
        mock.wait_ids("meta", ids, timeout=20)
        wait_for(lambda: dlq_entries(px, "meta"), 10, what="a dead letter")
        dl = dlq_entries(px, "meta")
        assert [d["event_id"] for d in dl] == [bad], dl
        assert bad not in mock.ids("meta")
        assert sorted(mock.ids("meta")) == sorted(ids), "each good event exactly once"
    with_stack(body, mock_args=["--meta-reject-marker", "POISON"], only=["meta"], linger="400")


def test_tiktok_error_in_200_retried_or_dead_lettered_by_code():
    def body(mock, px):
        mock.control(platform="tiktok", code=40100, count=2)  # rate limited: retry
        eid = send(px, event())
        mock.wait_ids("tiktok", [eid], timeout=20)
        mock.control(platform="tiktok", code=40001, count=1)  # permission: permanent
        bad = send(px, event())
        wait_for(lambda: dlq_entries(px, "tiktok"), 15, what="a TikTok dead letter")
        assert [d["event_id"] for d in dlq_entries(px, "tiktok")] == [bad]
        assert bad not in mock.ids("tiktok")
    with_stack(body, only=["tiktok"])


def test_google_ads_401_triggers_one_token_refresh():
    def body(mock, px):
        first = send(px, event("Lead"))
        mock.wait_ids("google_ads", [first])
        assert mock.stats()["tokens_issued"] == 1
        mock.control(revoke_tokens=True)
        second = send(px, event("Lead"))
        mock.wait_ids("google_ads", [second])
        assert mock.stats()["tokens_issued"] == 2, mock.stats()
        assert not dlq_entries(px, "gads")
    with_stack(body, only=["gads"])


def test_dead_letters_replayed_keep_their_ids():
    def body(mock, px):
        mock.control(platform="meta", code=190, count=1)  # bad token: permanent
        eid = send(px, event())
        wait_for(lambda: dlq_entries(px, "meta"), 15, what="a dead letter")
        assert eid not in mock.ids("meta")
        out = subprocess.run([PIXELCTL, "-c", px.conf, "dlq", "list", "--dest", "meta"],
                             capture_output=True, text=True, timeout=10)
        assert out.returncode == 0 and eid in out.stdout, (out.stdout, out.stderr)
        out = subprocess.run([PIXELCTL, "-c", px.conf, "dlq", "replay", "--dest", "meta"],
                             capture_output=True, text=True, timeout=10)
        assert out.returncode == 0, (out.stdout, out.stderr)
        mock.wait_ids("meta", [eid], timeout=15)
        out = subprocess.run([PIXELCTL, "-c", px.conf, "dlq", "replay", "--dest", "meta"],
                             capture_output=True, text=True, timeout=10)
        assert out.returncode == 0, (out.stdout, out.stderr)
        time.sleep(0.5)
        assert mock.ids("meta").count(eid) == 1, "a second replay must skip it"
    with_stack(body, only=["meta"])


def test_consent_denied_never_reaches_an_ad_destination():
    def body(mock, px):
        denied = send(px, event(consent={"ad_storage": "denied", "ad_user_data": "granted"}))
        denied2 = send(px, event(consent={"ad_storage": "granted", "ad_user_data": "denied"}))
        ok = send(px, event())
        mock.wait_ids("meta", [ok])
        mock.wait_ids("tiktok", [ok])
        mock.wait_ids("webhook", [ok, denied, denied2])
        mock.wait_ids("google_ads", ["o-" + ok])
        time.sleep(0.3)
        for p in ("meta", "tiktok"):
            assert denied not in mock.ids(p) and denied2 not in mock.ids(p), p
        assert {"o-" + denied, "o-" + denied2}.isdisjoint(mock.ids("google_ads"))
        m = px.metrics()
        assert m['pixeld_destination_consent_skipped_total{destination="meta",reason="ad_storage_denied"}'] == 1, m
        assert m['pixeld_destination_consent_skipped_total{destination="meta",reason="ad_user_data_denied"}'] == 1
    with_stack(body, only=["meta", "tiktok", "gads", "hooks"])


def test_destination_down_loses_nothing():
    def body(mock, px):
        first = send(px, event())
        mock.wait_ids("meta", [first])
        mock.stop()
        ids = [send(px, event("ViewContent")) for _ in range(30)]
        time.sleep(3)
        restarted = Mock(port=mock.port)
        restarted.record = mock.record
        restarted.start()
        try:
            restarted.wait_ids("meta", ids, timeout=40)
            got = restarted.ids("meta")
            assert all(got.count(i) == 1 for i in ids), "each event exactly once"
        finally:
            restarted.stop()
    with_stack(body, only=["meta"])


if __name__ == "__main__":
    if not os.path.exists(MOCK):
        print("build/obj/mockplatform is missing: run make")
        print("0 passed, 1 failed")
        sys.exit(1)
    only = sys.argv[1:]
    tests = [t for n, t in sorted(globals().items())
             if n.startswith("test_") and callable(t) and (not only or n in only)]
    run_tests(tests)
