"""The Segment-compatible /v1/ API on the real pixeld, with the request shapes
analytics.js sends reproduced byte for byte (short paths, text/plain, Basic
auth, X-Retry-Count, the CORS preflight), RudderStack's gzip with a form
Content-Type, Segment's limits and answers, the mapping into canonical
events (read back from the JSONL sink) and the per-key rate limit."""

import base64
import datetime
import gzip
import hashlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from pxtest import (Pixeld, http_post, request, run_tests, wait_for)

UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15"
WK = "wk_9c1e2f"
ORIGIN = "https://shop.example"
P = None  # the shared daemon of this file


def iso(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def basic(key):
    return "Basic " + base64.b64encode((key + ":").encode()).decode()


def ajs(path, body, key=WK, ctype="text/plain", extra=None, raw=False, port=None):
    """POST as analytics.js does: text/plain JSON, Basic auth, X-Retry-Count, Origin."""
    h = {"User-Agent": UA, "Origin": ORIGIN, "X-Retry-Count": "0"}
    if key is not None:
        h["Authorization"] = basic(key)
    h.update(extra or {})
    st, hd, b = http_post(port or P.port, path, body if raw else json.dumps(body), ctype=ctype, headers=h)
    return st, hd, json.loads(b) if b else None


def by_id(ev_id):
    return wait_for(lambda: [e for e in P.events() if e.get("event_id") == ev_id], what=ev_id)[0]


def ctx(url="https://shop.example/p/42?utm_source=x&gclid=Cj0KCQ-1&fbclid=IwAR-9"):
    return {"ip": "203.0.113.50", "userAgent": UA, "locale": "en-US",
            "library": {"name": "analytics.js", "version": "next-1.70.0"},
            "page": {"url": url, "referrer": "https://www.google.com/", "path": "/p/42", "title": "Shoe"},
            "campaign": {"name": "spring", "source": "google"},
            "traits": {"email": "Ann@Example.com", "firstName": "Ann", "address": {"city": "Berlin",
                                                                                  "country": "DE"}}}


def test_preflight():
    raw = ("OPTIONS /v1/t HTTP/1.1\r\nHost: localhost\r\nOrigin: %s\r\nAccess-Control-Request-Method: POST\r\n"
           "Access-Control-Request-Headers: authorization,content-type,x-retry-count\r\nUser-Agent: %s\r\n"
           "Connection: close\r\n\r\n" % (ORIGIN, UA)).encode()
    st, h, _ = request(P.port, raw)
    assert st == 204, st
    assert h["access-control-allow-origin"] == ORIGIN, h
    allowed = {x.strip().lower() for x in h["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "x-retry-count"} <= allowed, h
    assert "POST" in h["access-control-allow-methods"], h
    raw = raw.replace(ORIGIN.encode(), b"https://evil.example")
    st, h, _ = request(P.port, raw)
    assert st == 403, st


def test_track_short_path_text_plain_basic():
    now = int(time.time() * 1000)
    msg = {"type": "track", "event": "Order Completed", "messageId": "ajs-next-1",
           "anonymousId": "anon-1", "userId": "user-1",
           "properties": {"order_id": "o-55", "revenue": 30.5, "currency": "usd", "coupon": "SPRING",
                          "products": [{"product_id": "sku-1", "quantity": 2, "price": 10.25},
                                       {"sku": "sku-2", "price": 10}]},
           "context": ctx(), "integrations": {}, "timestamp": iso(now - 1000), "sentAt": iso(now - 500),
           "_metadata": {"bundled": ["Segment.io"], "unbundled": []}}
    st, h, r = ajs("/v1/t", msg)
    assert st == 200 and r == {"success": True}, (st, r)
    assert h["access-control-allow-origin"] == ORIGIN, h
    e = by_id("ajs-next-1")
    assert e["event"] == "Purchase" and e["source"] == "segment", e
    assert e["user"]["id"] == "user-1" and e["user"]["anon_id"] == "anon-1", e
    assert e["user"]["email_sha256"] == hashlib.sha256(b"ann@example.com").hexdigest(), e
    assert e["user"]["first_name_sha256"] == hashlib.sha256(b"ann").hexdigest(), e
    assert e["user"]["city"] == "berlin" and e["user"]["country"] == "de", e
    assert e["url"] == ctx()["page"]["url"] and e["referrer"] == "https://www.google.com/", e
    assert e["ip"] == "203.0.113.50" and e["ua"] == UA, e
    assert e["click"]["gclid"] == "Cj0KCQ-1" and e["click"]["fbc"].startswith("fb.1.") and \
        e["click"]["fbc"].endswith(".IwAR-9"), e
    p = e["props"]
    assert p["value"] == 30.5 and p["currency"] == "USD" and p["order_id"] == "o-55", p
    assert p["contents"] == [{"id": "sku-1", "quantity": 2, "price": 10.25}, {"id": "sku-2", "price": 10}], p
    assert p["content_ids"] == ["sku-1", "sku-2"] and p["coupon"] == "SPRING", p
    # Clock-skew correction: the client's clock 500 ms before sentAt.
    assert abs((e["received_at"] - e["ts"]) - 500) <= 50, e
    assert "Ann@Example" not in open(P.events_path).read()


def test_clock_skew_corrected():
    # A device an hour behind: originalTimestamp and sentAt are both off by 1 h.
    now = int(time.time() * 1000) - 3600 * 1000
    st, _, r = ajs("/v1/t", {"type": "track", "event": "Product Added", "messageId": "skew-1",
                            "anonymousId": "a", "originalTimestamp": iso(now - 2000), "sentAt": iso(now)})
    assert st == 200, (st, r)
    e = by_id("skew-1")
    assert e["event"] == "AddToCart", e
    assert abs((e["received_at"] - e["ts"]) - 2000) <= 100, e


def test_page_identify_group_alias_screen():
    calls = [("/v1/p", {"type": "page", "name": "Home", "category": "Docs", "messageId": "pg-1",
                        "anonymousId": "anon-2", "properties": {"url": "https://shop.example/",
                                                                "title": "Home"}}),
             ("/v1/i", {"type": "identify", "messageId": "id-1", "userId": "user-2",
                        "traits": {"email": "bob@example.com", "plan": "pro", "phone": "+49 30 1234567",
                                   "birthday": "1990-05-01T00:00:00.000Z"}}),
             ("/v1/g", {"type": "group", "messageId": "gr-1", "userId": "user-2", "groupId": "acme",
                        "traits": {"industry": "retail"}}),
             ("/v1/a", {"type": "alias", "messageId": "al-1", "userId": "user-2", "previousId": "anon-2"}),
             ("/v1/screen", {"type": "screen", "name": "Cart", "messageId": "sc-1", "userId": "user-2"})]
    for path, msg in calls:
        msg_with_key = dict(msg, writeKey=WK)
        st, _, r = ajs(path, msg_with_key, key=None)  # the writeKey in the body, no Authorization
        assert st == 200 and r == {"success": True}, (path, st, r)
    pg = by_id("pg-1")
    assert pg["event"] == "PageView" and pg["url"] == "https://shop.example/", pg
    assert pg["props"]["name"] == "Home" and pg["props"]["category"] == "Docs", pg
    ident = by_id("id-1")
    assert ident["event"] == "Identify" and ident["props"] == {"plan": "pro"}, ident
    assert ident["user"]["email_sha256"] == hashlib.sha256(b"bob@example.com").hexdigest(), ident
    assert ident["user"]["dob_sha256"] == hashlib.sha256(b"19900501").hexdigest(), ident
    assert "phone_sha256" in ident["user"], ident
    gr = by_id("gr-1")
    assert gr["event"] == "Group" and gr["props"] == {"industry": "retail", "group_id": "acme"}, gr
    al = by_id("al-1")
    assert al["event"] == "Alias" and al["props"] == {"previous_id": "anon-2"}, al
    assert by_id("sc-1")["event"] == "PageView"


def test_batch_with_envelope_and_names():
    now = int(time.time() * 1000)
    body = {"batch": [
        {"type": "track", "event": "Checkout Started", "messageId": "b-1", "userId": "u"},
        {"type": "track", "event": "Video Played!", "messageId": "b-2", "userId": "u",
         "properties": {"revenue": -5, "currency": "dollars"}},
        {"type": "track", "event": "Signed Up", "messageId": "b-3", "anonymousId": "a",
         "someFutureField": {"x": 1}},
    ], "sentAt": iso(now), "context": {"ip": "192.0.2.7"}, "integrations": {"All": True},
        "_metadata": {}, "writeKey": WK}
    st, _, r = ajs("/v1/b", body, key=None)
    assert st == 200 and r == {"success": True}, (st, r)
    assert by_id("b-1")["event"] == "InitiateCheckout"
    e2 = by_id("b-2")
    assert e2["event"] == "Video Played_" and e2["ip"] == "192.0.2.7", e2
    assert "value" not in e2["props"] and e2["props"]["revenue"] == -5, e2
    assert by_id("b-3")["event"] == "CompleteRegistration"


def test_gzip_batch_with_form_content_type():
    body = gzip.compress(json.dumps({"batch": [{"type": "track", "event": "Lead Generated",
                                                "messageId": "rs-%d" % i, "anonymousId": "rs"}
                                               for i in range(50)], "sentAt": iso(time.time() * 1000)}).encode())
    st, _, r = ajs("/v1/batch", body, raw=True, ctype="application/x-www-form-urlencoded",
                   extra={"Content-Encoding": "gzip"})
    assert st == 200 and r == {"success": True}, (st, r)
    assert by_id("rs-49")["event"] == "Lead"


def test_errors_carry_cors():
    st, h, r = ajs("/v1/t", {"type": "track", "event": "X", "messageId": "nokey-1", "anonymousId": "a"},
                   key="wk_wrong")
    assert st == 401 and r["error"] == "bad_key" and h["access-control-allow-origin"] == ORIGIN, (st, h, r)
    st, h, r = ajs("/v1/t", {"type": "track", "event": "X"})
    assert st == 400 and "anonymousId" in r["detail"] and h["access-control-allow-origin"] == ORIGIN, (st, r)
    st, _, r = ajs("/v1/t", "{not json", raw=True)
    assert st == 400 and r["error"] == "bad_json", (st, r)
    st, _, r = ajs("/v1/nope", {})
    assert st == 404, st
    st, _, r = ajs("/v1/t", {"type": "track", "event": "Big", "anonymousId": "a",
                            "properties": {"pad": "x" * 33000}})
    assert st == 400 and r["error"] == "message_too_large", (st, r)
    big = {"batch": [{"type": "track", "event": "Big", "anonymousId": "a",
                      "properties": {"pad": "x" * 20000}} for _ in range(30)]}
    st, _, r = ajs("/v1/batch", big)
    assert st == 413 and r["error"] == "decoded_too_large", (st, r)
    # One bad message does not cost the others.
    st, _, r = ajs("/v1/batch", {"batch": [{"type": "track", "event": "Ok", "messageId": "ok-1", "userId": "u"},
                                           {"type": "track", "messageId": "bad-1", "userId": "u"},
                                           {"type": "spaceship", "userId": "u"}]})
    assert st == 400 and r["detail"].startswith("batch[1]: event"), (st, r)
    by_id("ok-1")


def test_messageid_once():
    msg = {"type": "track", "event": "Order Completed", "messageId": "once-1", "userId": "u",
           "properties": {"revenue": 5}}
    for _ in range(3):
        st, _, _ = ajs("/v1/track", msg, extra={"X-Retry-Count": "1"})
        assert st == 200
    by_id("once-1")
    assert len([e for e in P.events() if e.get("event_id") == "once-1"]) == 1


def test_rate_limit_and_off():
    with Pixeld(server_extra="write_keys = rl\ncors_origins = %s\n" % ORIGIN,
                extra="[s2s]\nkey_rate = 1/s\nkey_burst = 2\n") as q:
        q.start()
        msg = {"type": "track", "event": "X", "anonymousId": "a"}
        codes = [ajs("/v1/t", msg, key="rl", port=q.port) for _ in range(4)]
        assert [c[0] for c in codes[:2]] == [200, 200], codes
        st, h, r = codes[3]
        assert st == 429 and int(h["retry-after"]) >= 1 and h["access-control-allow-origin"] == ORIGIN, codes[3]
        wait_for(lambda: ajs("/v1/t", msg, key="rl", port=q.port)[0] == 200, timeout=5, interval=0.3,
                 what="the bucket to refill")
    with Pixeld() as q:
        q.start()
        st, _, r = ajs("/v1/t", {"type": "track", "event": "X", "anonymousId": "a"}, port=q.port)
        assert st == 404 and r["error"] == "api_not_configured" and "write_keys" in r["detail"], (st, r)


def main():
    global P
    P = Pixeld(server_extra="write_keys = %s\ncors_origins = %s\n" % (WK, ORIGIN))
    try:
        P.start()
        run_tests([test_preflight, test_track_short_path_text_plain_basic, test_clock_skew_corrected,
                   test_page_identify_group_alias_screen, test_batch_with_envelope_and_names,
                   test_gzip_batch_with_form_content_type, test_errors_carry_cors, test_messageid_once,
                   test_rate_limit_and_off])
    finally:
        P.cleanup()


if __name__ == "__main__":
    main()
