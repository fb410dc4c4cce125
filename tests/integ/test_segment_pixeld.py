#!/usr/bin/env python3
"""pixeld to pixeld through the segment destination: pixeld A takes server
events on /s2s/events and forwards them with a `segment` destination to
pixeld B's /v1/batch with B's write key; every event (track, page, identify,
alias) arrives once in B's JSONL sink with the mapped fields: event_id,
canonical name, time, user ids, ip and user agent, props, page, and the
identifiers A hashed. A beacon's email and phone, hashed at A, reach the
Meta destination of B (on the mock platform) once, as SHA-256 of the
normalized values; a malformed email_sha256 sent to B is dropped and
counted, its event kept. A wrong write key at B dead-letters at A. Prints
"N passed, N failed" last."""

import base64
import hashlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pxtest import Pixeld, http_post, run_tests, wait_for  # noqa: E402
from test_delivery import Mock, dest_conf  # noqa: E402

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SK = "sk_pixeld_a"
WK = "wk_pixeld_b"


def a_conf(b_port, write_key=WK):
    return ('[destination "to_b"]\ntype = segment\napi_base = http://127.0.0.1:%d\n'
            "write_key = %s\nlinger_ms = 20\n" % (b_port, write_key))


def events(ts):
    user = {"id": "u-77", "anon_id": "anon-77", "email": "  Test@Example.COM "}
    base = {"ip": "198.51.100.9", "ua": UA, "user": user, "ts": ts,
            "url": "https://shop.example/checkout", "referrer": "https://shop.example/cart",
            "consent": {"ad_storage": "granted", "analytics_storage": "granted"}}
    return [
        dict(base, event="Purchase", event_id="pp-purchase",
             props={"value": 19.99, "currency": "EUR", "order_id": "o-77",
                    "contents": [{"id": "sku-9", "quantity": 2, "price": 9.995}]}),
        dict(base, event="NewsletterOpen", event_id="pp-custom", props={"issue": 42}),
        dict(base, event="PageView", event_id="pp-page"),
        dict(base, event="Identify", event_id="pp-identify", props={"plan": "gold"}),
        dict(base, event="Alias", event_id="pp-alias", props={"previous_id": "anon-77"}),
    ]


def post_s2s(a, batch):
    st, _, body = http_post(a.port, "/s2s/events", json.dumps({"batch": batch}),
                            headers={"User-Agent": UA, "Authorization": "Bearer " + SK})
    assert st == 200 and json.loads(body)["accepted"] == len(batch), (st, body)


def sha256(s):
    return hashlib.sha256(s.encode()).hexdigest()


def pair(fn, write_key=WK, b_dest=None):
    b = Pixeld(server_extra="write_keys = %s\n" % WK, dest=b_dest)
    a = None
    try:
        b.start()
        a = Pixeld(server_extra="secret_keys = %s\n" % SK, dest=a_conf(b.port, write_key))
        a.start()
        fn(a, b)
    except Exception:
        for name, px in (("A", a), ("B", b)):
            if px:
                sys.stdout.write("--- pixeld %s log ---\n%s\n" % (name, px.read_log()[-3000:]))
        raise
    finally:
        if a:
            a.cleanup()
        b.cleanup()


def test_every_call_arrives_once_with_the_mapped_fields():
    def body(a, b):
        ts = int(time.time() * 1000) - 3000
        sent = events(ts)
        post_s2s(a, sent)
        ids = {e["event_id"] for e in sent}
        got = wait_for(lambda: ids <= {e.get("event_id") for e in b.events()} and b.events(), 20,
                       what="the five events in B's sink")
        mine = [e for e in got if e.get("event_id") in ids]
        assert sorted(e["event_id"] for e in mine) == sorted(ids), "each event once"
        by = {e["event_id"]: e for e in mine}
        for eid, e in by.items():
            assert e["source"] == "segment" and e["ts"] == ts, e
            assert e["user"]["id"] == "u-77" and e["user"]["anon_id"] == "anon-77", e
            assert e["ip"] == "198.51.100.9" and e["ua"] == UA, e
            # Hashed at A, kept as it came at B (not hashed a second time).
            assert e["user"]["email_sha256"] == sha256("test@example.com"), e
        p = by["pp-purchase"]
        assert p["event"] == "Purchase", p
        assert p["props"]["value"] == 19.99 and p["props"]["currency"] == "EUR", p
        assert p["props"]["order_id"] == "o-77", p
        assert p["props"]["contents"] == [{"id": "sku-9", "quantity": 2, "price": 9.995}], p
        assert p["url"] == "https://shop.example/checkout", p
        assert p["referrer"] == "https://shop.example/cart", p
        c = by["pp-custom"]
        assert c["event"] == "NewsletterOpen" and c["props"]["issue"] == 42, c
        assert by["pp-page"]["event"] == "PageView", by["pp-page"]
        assert by["pp-page"]["url"] == "https://shop.example/checkout", by["pp-page"]
        i = by["pp-identify"]
        assert i["event"] == "Identify" and i["props"]["plan"] == "gold", i
        al = by["pp-alias"]
        assert al["event"] == "Alias" and al["props"]["previous_id"] == "anon-77", al
        # A delivered everything and kept no dead letter.
        m = a.metrics()
        assert m['pixeld_destination_events_delivered_total{destination="to_b"}'] == 5, m
        assert not os.path.exists(os.path.join(a.data_dir, "dlq", "to_b.jsonl"))
    pair(body)


def test_a_wrong_write_key_dead_letters_at_a():
    def body(a, b):
        post_s2s(a, events(int(time.time() * 1000) - 3000)[:1])
        path = os.path.join(a.data_dir, "dlq", "to_b.jsonl")
        wait_for(lambda: os.path.exists(path) and open(path).read().endswith("\n"), 15,
                 what="the dead letter at A")
        with open(path) as f:
            [dl] = [json.loads(l) for l in f]
        assert dl["event_id"] == "pp-purchase" and "401" in dl["reason"], dl
        assert not [e for e in b.events() if e.get("event_id") == "pp-purchase"]
    pair(body, write_key="wk_wrong")


def meta_events(mock, eid):
    return [r["event"] for r in mock.records("meta") if r["event_id"] == eid]


def one(v):
    """Meta takes em and ph as a string or a one-element list."""
    return v[0] if isinstance(v, list) and len(v) == 1 else v


def test_hashed_identifiers_reach_meta_at_b():
    mock = Mock().start()

    def body(a, b):
        eid = "pp-hashed-" + os.urandom(6).hex()
        beacon = {"event": "Lead", "event_id": eid, "url": "https://shop.example/signup",
                  "user": {"anon_id": "anon-hashed", "email": "  Ann.Lee@Example.COM ",
                           "phone": "+1 (555) 123-4567", "city": "Menlo Park",
                           "state": "CA", "zip": "94025-1234", "country": "US"},
                  "consent": {"ad_storage": "granted", "ad_user_data": "granted"}}
        st, _, resp = http_post(a.port, "/e", json.dumps(beacon), headers={"User-Agent": UA})
        assert st in (200, 202, 204), (st, resp)
        mock.wait_ids("meta", [eid])
        wait_for(lambda: b.metric('pixeld_destination_events_delivered_total{destination="meta"}')
                 >= 1, 10, what="B's Meta delivery counted")
        got = meta_events(mock, eid)
        assert len(got) == 1, got
        u = got[0]["user_data"]
        assert one(u["em"]) == sha256("ann.lee@example.com"), u
        assert one(u["ph"]) == sha256("15551234567"), u
        # The address travels as Segment's address{} object and is read back at B.
        for k, want in (("ct", "menlopark"), ("st", "ca"), ("zp", "94025"), ("country", "us")):
            assert one(u[k]) == sha256(want), (k, u)
        # TikTok takes the E.164 form (with the '+'), which B cannot derive
        # from a hash: it is the one A sent beside the phone.
        mock.wait_ids("tiktok", [eid])
        [t] = [r["event"] for r in mock.records("tiktok") if r["event_id"] == eid]
        assert t["user"]["phone"] == sha256("+15551234567"), t
        assert t["user"]["email"] == sha256("ann.lee@example.com"), t
        assert a.metric('pixeld_destination_events_delivered_total{destination="to_b"}') == 1
        assert b.metric("pixeld_segment_hashed_traits_dropped_total") == 0

        # A malformed hash straight to B: dropped and counted, never hashed
        # again; the event is taken with what else it has (the plain phone).
        bad = "pp-badhash-" + os.urandom(6).hex()
        msg = {"type": "track", "event": "Lead", "messageId": bad, "anonymousId": "anon-b",
               "context": {"ip": "198.51.100.10", "userAgent": UA,
                           "page": {"url": "https://shop.example/signup"},
                           "traits": {"email_sha256": "ABC" + "0" * 61,
                                      "phone": "+1 555 123 4567"}}}
        auth = "Basic " + base64.b64encode((WK + ":").encode()).decode()
        st, _, resp = http_post(b.port, "/v1/batch", json.dumps({"batch": [msg]}),
                                headers={"User-Agent": UA, "Authorization": auth})
        assert st == 200 and json.loads(resp) == {"success": True}, (st, resp)
        assert b.metric("pixeld_segment_hashed_traits_dropped_total") == 1
        mock.wait_ids("meta", [bad])
        [e] = meta_events(mock, bad)
        assert "em" not in e["user_data"], e
        assert one(e["user_data"]["ph"]) == sha256("15551234567"), e
    try:
        pair(body, b_dest=dest_conf(mock.port, only=["meta", "tiktok"]))
    finally:
        mock.cleanup()


if __name__ == "__main__":
    run_tests([test_every_call_arrives_once_with_the_mapped_fields,
               test_hashed_identifiers_reach_meta_at_b,
               test_a_wrong_write_key_dead_letters_at_a])
