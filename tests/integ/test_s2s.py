"""POST /s2s/events on the real pixeld, with a Python client: a batch of good
and bad events answered one by one, gzip, a gzip bomb, event_id dedup (also
across a restart), wrong and missing keys, server-set ip/ua/action_source, the
per-key rate limit with recovery, and the API off without keys."""

import gzip
import hashlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from pxtest import (Pixeld, http_post, run_tests, wait_for)

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
KEY = "sk_live_4f1c9a"
P = None  # the shared daemon of this file


def s2s(body, key=KEY, headers=None, port=None, raw=False):
    h = {"User-Agent": UA}
    if key is not None:
        h["Authorization"] = "Bearer " + key
    h.update(headers or {})
    data = body if raw else json.dumps(body).encode()
    st, hd, b = http_post(port or P.port, "/s2s/events", data, headers=h)
    return st, hd, json.loads(b) if b else None


def by_id(ev_id):
    return wait_for(lambda: [e for e in P.events() if e.get("event_id") == ev_id], what=ev_id)


def test_batch_good_and_bad():
    st, _, r = s2s({"batch": [
        {"event": "Purchase", "event_id": "s2s-1", "ts": int(time.time() * 1000) - 3 * 86400 * 1000,
         "ip": "198.51.100.23", "ua": "Mozilla/5.0 (iPhone) Mobile", "action_source": "physical_store",
         "user": {"email": " Jane.Doe@Example.com ", "phone": "+1 650 555 1234"},
         "props": {"value": 49.9, "currency": "eur", "order_id": "o-77"}},
        {"event": "Lead", "props": {"value": -1}},
        {"event": "Contact", "event_id": "s2s-3", "action_source": "phone_call"},
        {"event": "Lead", "action_source": "carrier_pigeon"},
        {"event": "Lead", "ip": "not-an-ip"},
    ]})
    assert st == 200, (st, r)
    assert r["accepted"] == 2 and r["refused"] == 3 and r["duplicate"] == 0, r
    res = r["results"]
    assert [x["index"] for x in res] == [0, 1, 2, 3, 4], res
    assert res[0] == {"index": 0, "event_id": "s2s-1", "status": "accepted"}, res[0]
    assert res[1]["status"] == "refused" and res[1]["error"] == "bad_event", res[1]
    assert "props.value" in res[1]["detail"], res[1]
    assert res[2]["status"] == "accepted" and res[2]["event_id"] == "s2s-3", res[2]
    assert "action_source" in res[3]["detail"] and "ip" in res[4]["detail"], res
    ev = by_id("s2s-1")[0]
    assert ev["source"] == "s2s" and ev["ip"] == "198.51.100.23", ev
    assert ev["ua"] == "Mozilla/5.0 (iPhone) Mobile" and ev["action_source"] == "physical_store", ev
    assert ev["ts"] < ev["received_at"] - 2 * 86400 * 1000, "a back-dated ts was kept"
    assert ev["user"]["email_sha256"] == hashlib.sha256(b"jane.doe@example.com").hexdigest(), ev
    assert ev["user"]["phone_sha256"] == hashlib.sha256(b"16505551234").hexdigest(), ev
    assert ev["props"] == {"value": 49.9, "currency": "EUR", "order_id": "o-77"}, ev
    raw = open(P.events_path).read()
    assert "Jane.Doe" not in raw and "555 1234" not in raw, "plain PII reached the sink"
    # Without ip/ua in the event the connection's are used.
    assert by_id("s2s-3")[0]["ip"] == "127.0.0.1"


def test_single_event_and_gzip():
    st, _, r = s2s({"event": "StartTrial", "event_id": "s2s-single"})
    assert st == 200 and r["accepted"] == 1 and r["results"][0]["event_id"] == "s2s-single", r
    body = gzip.compress(json.dumps({"batch": [{"event": "Subscribe", "event_id": "gz-%d" % i}
                                               for i in range(300)]}).encode())
    st, _, r = s2s(body, raw=True, headers={"Content-Encoding": "gzip"})
    assert st == 200 and r["accepted"] == 300, r
    by_id("gz-299")


def test_gzip_bomb_and_bad_gzip():
    # 64 MiB of zeros compress to about 64 KiB: refused at the 1 MiB limit.
    bomb = gzip.compress(b"\0" * (64 << 20), compresslevel=9)
    assert len(bomb) < (1 << 20)
    t0 = time.monotonic()
    st, _, r = s2s(bomb, raw=True, headers={"Content-Encoding": "gzip"})
    assert st == 413 and r["error"] == "decoded_too_large", (st, r)
    assert time.monotonic() - t0 < 5
    st, _, r = s2s(b"\x1f\x8b\x08\x00garbage", raw=True, headers={"Content-Encoding": "gzip"})
    assert st == 400 and r["error"] == "bad_gzip", (st, r)
    st, _, r = s2s(b"{}", raw=True, headers={"Content-Encoding": "br"})
    assert st == 415 and r["error"] == "bad_content_encoding", (st, r)
    # Plain bodies: 1,001 events, and over 1 MiB.
    st, _, r = s2s({"batch": [{"event": "Lead"}] * 1001})
    assert st == 413 and r["error"] == "batch_too_large", (st, r)
    st, _, _ = s2s({"event": "Lead", "props": {"pad": "x" * (1 << 20)}})
    assert st == 413, st


def test_duplicates_also_after_restart():
    before = P.metric('pixeld_events_rejected_total{reason="duplicate"}')
    st, _, r = s2s({"batch": [{"event": "Purchase", "event_id": "dup-1"},
                              {"event": "Purchase", "event_id": "dup-1"}]})
    assert st == 200 and [x["status"] for x in r["results"]] == ["accepted", "duplicate"], r
    st, _, r = s2s({"event": "Purchase", "event_id": "dup-1"})
    assert r["results"][0]["status"] == "duplicate" and r["accepted"] == 0, r
    assert P.metric('pixeld_events_rejected_total{reason="duplicate"}') == before + 2
    by_id("dup-1")
    assert P.stop() == 0
    assert os.path.exists(os.path.join(P.data_dir, "s2s_dedup.state"))
    P.start()
    st, _, r = s2s({"event": "Purchase", "event_id": "dup-1"})
    assert r["results"][0]["status"] == "duplicate", r
    st, _, r = s2s({"event": "Purchase", "event_id": "dup-2"})
    assert r["results"][0]["status"] == "accepted", r
    by_id("dup-2")
    assert len([e for e in P.events() if e.get("event_id") == "dup-1"]) == 1


def test_wrong_and_missing_key():
    before = P.metric('pixeld_events_rejected_total{reason="bad_key"}')
    for key in ("sk_live_wrong", "", None, KEY[:-1], KEY + "x"):
        st, _, r = s2s({"event": "Lead", "event_id": "nokey"}, key=key)
        assert st == 401 and r["error"] == "bad_key", (key, st, r)
    assert P.metric('pixeld_events_rejected_total{reason="bad_key"}') == before + 5
    st, _, b = http_post(P.port, "/s2s/events", '{"event":"Lead"}',
                         headers={"User-Agent": UA, "Authorization": "Basic " + KEY})
    assert st == 401, st
    assert "nokey" not in {e.get("event_id") for e in P.events()}


def test_rate_limit_then_recovery():
    with Pixeld(server_extra="secret_keys = rk1, rk2\n", extra="[s2s]\nkey_rate = 2/s\nkey_burst = 3\n") as q:
        q.start()
        codes = [s2s({"event": "Lead"}, key="rk1", port=q.port) for _ in range(5)]
        assert [c[0] for c in codes[:3]] == [200, 200, 200], codes
        st, hd, r = codes[4]
        assert st == 429 and r["error"] == "rate_limited" and int(hd["retry-after"]) >= 1, codes[4]
        # Another key has its own bucket.
        assert s2s({"event": "Lead"}, key="rk2", port=q.port)[0] == 200
        wait_for(lambda: s2s({"event": "Lead", "event_id": "after"}, key="rk1", port=q.port)[0] == 200,
                 timeout=5, interval=0.25, what="rk1's bucket to refill")
        assert q.metric('pixeld_events_rejected_total{reason="rate_limited"}') >= 2
        wait_for(lambda: "after" in {e.get("event_id") for e in q.events()}, what="after")


def test_beacons_opt_in():
    with Pixeld(extra="[s2s]\ndedup_beacons = true\n") as q:
        q.start()
        h = {"User-Agent": UA}
        body = json.dumps({"batch": [{"event": "Purchase", "event_id": "bc-1"},
                                     {"event": "Purchase", "event_id": "bc-1"},
                                     {"event": "PageView"}]})
        assert http_post(q.port, "/e", body, headers=h)[0] == 204
        assert http_post(q.port, "/e", json.dumps({"event": "Purchase", "event_id": "bc-1"}), headers=h)[0] == 204
        wait_for(lambda: len(q.events()) >= 2, what="2 beacon events")
        assert [e.get("event_id") for e in q.events()].count("bc-1") == 1, q.events()
        assert q.metric('pixeld_events_rejected_total{reason="duplicate"}') == 2
    # Off by default: the same beacon twice is journaled twice.
    with Pixeld() as q:
        q.start()
        for _ in range(2):
            assert http_post(q.port, "/e", json.dumps({"event": "Lead", "event_id": "bc-2"}),
                             headers={"User-Agent": UA})[0] == 204
        wait_for(lambda: len(q.events()) >= 2, what="both beacons")


def test_off_without_keys():
    with Pixeld() as q:
        q.start()
        st, _, r = s2s({"event": "Lead"}, port=q.port)
        assert st == 404 and r["error"] == "api_not_configured" and "secret_keys" in r["detail"], r


def main():
    global P
    P = Pixeld(server_extra="secret_keys = sk_other, %s\n" % KEY)
    try:
        P.start()
        run_tests([test_batch_good_and_bad, test_single_event_and_gzip, test_gzip_bomb_and_bad_gzip,
                   test_duplicates_also_after_restart, test_wrong_and_missing_key,
                   test_rate_limit_then_recovery, test_beacons_opt_in, test_off_without_keys])
    finally:
        P.cleanup()


if __name__ == "__main__":
    main()
