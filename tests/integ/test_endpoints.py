"""The public and admin endpoints of the real pixeld, and every error code."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from pxtest import (UA, Pixeld, Sock, http_get, http_post, request, run_tests, wait_for)

GIF_LEN = 43
P = None  # the shared daemon of this file


def test_pixel_gif():
    st, h, body = http_get(P.port, "/p.gif?e=Purchase&id=gif-1&v=12.5&cur=usd&oid=o-1&em=%20Test@Example.COM%20"
                                    "&ph=%2B1%20(650)%20555-1234&gclid=Cj0KCQ&p.plan=pro&url=https%3A%2F%2Fshop.example%2Fx")
    assert st == 200, st
    assert h["content-type"] == "image/gif"
    assert h["cache-control"] == "no-store"
    assert len(body) == GIF_LEN and body.startswith(b"GIF89a"), body
    ev = [e for e in P.wait_events(1) if e.get("event_id") == "gif-1"]
    ev = wait_for(lambda: [e for e in P.events() if e.get("event_id") == "gif-1"], what="gif-1")[0]
    assert ev["event"] == "Purchase"
    assert ev["source"] == "pixel"
    assert ev["url"] == "https://shop.example/x"
    assert ev["user"]["email_sha256"] == "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b"
    assert ev["user"]["phone_sha256"] == "6069d14bf122fdfd931dc7beb58e5dfbba395b1faf05bdcd42d12358d63d8599"
    assert ev["user"]["phone_e164_sha256"] == "a2996076d3ad4af5dc818b908b3d8e354f26ededf7df0e0aa6ac354143805ee0"
    assert ev["click"]["gclid"] == "Cj0KCQ"
    assert ev["props"]["value"] == 12.5 and ev["props"]["currency"] == "USD"
    assert ev["props"]["order_id"] == "o-1" and ev["props"]["plan"] == "pro"
    assert ev["ip"] == "127.0.0.1"
    raw = open(P.events_path).read()
    assert "Test@Example" not in raw and "650" not in raw, "plain PII reached the sink"


def test_pixel_204_and_head():
    st, h, body = http_get(P.port, "/p?e=PageView&id=p-204")
    assert st == 204 and body == b"", (st, body)
    st, h, body = request(P.port, b"HEAD /p.gif?e=PageView&id=head-1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                          head_only=True)
    assert st == 200 and h["content-length"] == str(GIF_LEN), h
    wait_for(lambda: {"p-204", "head-1"} <= {e.get("event_id") for e in P.events()}, what="p-204, head-1")


def test_pixel_bad_input_still_gif():
    before = P.metric('pixeld_events_rejected_total{reason="bad_event"}')
    st, h, body = http_get(P.port, "/p.gif?e=Purchase&v=-3&id=neg")
    assert st == 200 and len(body) == GIF_LEN
    st, h, body = http_get(P.port, "/p.gif?e=Bad%ZZ")
    assert st == 200 and len(body) == GIF_LEN
    wait_for(lambda: P.metric('pixeld_events_rejected_total{reason="bad_event"}') >= before + 2,
             what="bad_event counted twice")
    assert "neg" not in {e.get("event_id") for e in P.events()}


def test_beacon_json_and_text_plain():
    ev = {"event": "AddToCart", "event_id": "b-1", "user": {"email": "John.Smith@gmail.com"},
          "props": {"value": 9.99, "currency": "EUR", "contents": [{"id": "sku1", "quantity": 1, "price": 9.99}]},
          "consent": {"ad_storage": "granted"}}
    st, h, body = http_post(P.port, "/e", json.dumps(ev))
    assert st == 204, (st, body)
    ev["event_id"] = "b-2"
    st, h, body = http_post(P.port, "/e", json.dumps(ev), ctype="text/plain;charset=UTF-8")
    assert st == 204, (st, body)
    evs = wait_for(lambda: [e for e in P.events() if e.get("event_id") in ("b-1", "b-2")], what="b-1, b-2")
    wait_for(lambda: len([e for e in P.events() if e.get("event_id") in ("b-1", "b-2")]) == 2, what="both")
    e = [e for e in P.events() if e.get("event_id") == "b-1"][0]
    assert e["source"] == "beacon" and e["event"] == "AddToCart"
    assert e["user"]["email_sha256"] == "d0c648bc36f12061bec770df216cea2ab95851b9350fd54b658de53b0407767a"
    assert e["user"]["email_google_sha256"] == "3586de92bb3636d0885a12eff961429a32e4ebd764b96f50d85d016f9338d586"
    assert e["props"]["contents"][0]["id"] == "sku1"
    assert e["consent"]["ad_storage"] == "granted"


def test_beacon_batch():
    batch = {"batch": [{"event": "ViewContent", "event_id": "batch-%d" % i} for i in range(500)]}
    st, h, body = http_post(P.port, "/e", json.dumps(batch))
    assert st == 204, (st, body)
    wait_for(lambda: len([e for e in P.events() if e.get("event_id", "").startswith("batch-")]) == 500,
             what="500 batch events")
    batch["batch"].append({"event": "ViewContent"})
    st, h, body = http_post(P.port, "/e", json.dumps(batch))
    assert st == 413 and json.loads(body)["error"] == "batch_too_large", (st, body)


def test_beacon_generates_uuid7():
    st, _, _ = http_post(P.port, "/e", json.dumps({"event": "Lead", "props": {"order_id": "gen-uuid"}}))
    assert st == 204
    e = wait_for(lambda: [e for e in P.events() if e.get("props", {}).get("order_id") == "gen-uuid"],
                 what="generated id")[0]
    eid = e["event_id"]
    assert len(eid) == 36 and eid[14] == "7", eid


def test_beacon_validation_errors():
    cases = [
        ("{not json", "bad_json"),
        (json.dumps({"event": 5}), "bad_event"),
        (json.dumps({"event": "Purchase", "props": {"value": -1}}), "bad_event"),
        (json.dumps({"event": "Purchase", "user": {"email": 7}}), "bad_event"),
        (json.dumps({"batch": [{"event": "A"}, {"event": ""}]}), "bad_event"),
    ]
    for body, code in cases:
        st, h, resp = http_post(P.port, "/e", body)
        j = json.loads(resp)
        assert st == 400 and j["error"] == code and j["detail"], (body, st, resp)
    st, h, resp = http_post(P.port, "/e", "{}", ctype="image/png")
    assert st == 415, st


def test_cors_preflight():
    raw = (b"OPTIONS /e HTTP/1.1\r\nHost: x\r\nOrigin: https://shop.example\r\n"
           b"Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n")
    st, h, body = request(P.port, raw)
    assert st == 204, st
    assert h["access-control-allow-origin"] == "https://shop.example"
    assert "POST" in h["access-control-allow-methods"]
    st, h, body = request(P.port, b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert st == 204, st


def test_health_and_metrics():
    for port in (P.port, P.admin_port):
        for path in ("/health", "/health/live", "/health/ready"):
            st, h, body = http_get(port, path)
            assert st == 200 and h["content-type"] == "application/json", (port, path, st)
            json.loads(body)
    st, h, body = http_get(P.admin_port, "/metrics")
    text = body.decode()
    assert st == 200
    for name in ("pixeld_requests_total{", "pixeld_events_accepted_total", "pixeld_handoff_ring_occupancy",
                 "pixeld_connections_open", "pixeld_bytes_received_total", "pixeld_destination_batches_total"):
        assert name in text, name
    st, _, _ = http_get(P.port, "/metrics")
    assert st == 404, "metrics must not be public"


def expect(raw, status, code=None, port=None):
    st, h, body = request(port or P.port, raw)
    assert st == status, (raw[:80], st, body)
    if code:
        j = json.loads(body)
        assert j["error"] == code, (raw[:80], j)
        assert j["detail"]
    return h


def test_error_codes():
    expect(b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404, "not_found")
    expect(b"DELETE /e HTTP/1.1\r\nHost: x\r\n\r\n", 405, "method_not_allowed")
    expect(b"GARBAGE\r\n\r\n", 400)
    expect(b"GET /p HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "cl_and_te")
    expect(b"POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400)
    expect(b"GET /p HTTP/1.1\r\nHost: x\r\nX-A: b\r\n  folded\r\n\r\n", 400, "obs_fold")
    expect(b"GET /p HTTP/1.1\r\n\r\n", 400, "missing_host")
    expect(b"POST /e HTTP/1.1\r\nHost: x\r\n\r\n", 411, "length_required")
    expect(b"POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n", 413, "body_too_large")
    expect(b"GET /p?" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long")
    expect(b"GET /p HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 17000 + b"\r\n\r\n", 431)
    expect(b"POST /e HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501)
    h = expect(b"POST /e HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\nContent-Length: 2\r\n\r\n{}",
               403, "origin_not_allowed")


def test_chunked_beacon():
    body = json.dumps({"event": "Lead", "event_id": "chunked-1"}).encode()
    raw = (b"POST /e HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
           b"Connection: close\r\n\r\n" + b"%x\r\n" % 5 + body[:5] + b"\r\n" + b"%x\r\n" % (len(body) - 5)
           + body[5:] + b"\r\n0\r\n\r\n")
    st, _, resp = request(P.port, raw)
    assert st == 204, (st, resp)
    wait_for(lambda: "chunked-1" in {e.get("event_id") for e in P.events()}, what="chunked-1")


def test_keepalive_pipelining_1000():
    s = Sock(P.port, timeout=20)
    reqs = b"".join(b"GET /p?e=PageView&id=pipe-%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(1000))
    s.send(reqs)
    for i in range(1000):
        st, h, body = s.response()
        assert st == 204, (i, st)
    s.send(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert s.response()[0] == 200
    s.close()
    wait_for(lambda: len({e.get("event_id") for e in P.events() if e.get("event_id", "").startswith("pipe-")}) == 1000,
             timeout=20, what="1000 pipelined events")


def test_bot_verdict_follows_each_request():
    """The human verdict is kept per connection (intake.c): an agent that
    changes on a keep-alive connection, pipelined or not, is judged again."""
    bot = "python-requests/2.31.0"
    rejected = 'pixeld_events_rejected_total{reason="bot"}'
    before = P.metric(rejected)
    s = Sock(P.port)
    agents = [UA, bot, UA, bot, bot, UA]
    # the first three one by one, the rest pipelined in one write
    for i, ua in enumerate(agents[:3]):
        s.send(b"GET /p?e=PageView&id=ua-%d HTTP/1.1\r\nHost: x\r\nUser-Agent: %s\r\n\r\n"
               % (i, ua.encode()))
        assert s.response()[0] == 204
    s.send(b"".join(b"GET /p?e=PageView&id=ua-%d HTTP/1.1\r\nHost: x\r\nUser-Agent: %s\r\n\r\n"
                    % (i + 3, ua.encode()) for i, ua in enumerate(agents[3:])))
    for _ in agents[3:]:
        assert s.response()[0] == 204
    s.close()
    want = {"ua-%d" % i for i, ua in enumerate(agents) if ua == UA}
    wait_for(lambda: {e.get("event_id") for e in P.events()} >= want, what="the human agents' events")
    got = {e.get("event_id") for e in P.events() if e.get("event_id", "").startswith("ua-")}
    assert got == want, got
    assert P.metric(rejected) - before == 3, P.metric(rejected) - before


def test_admin_status_via_pixelctl():
    import subprocess
    from pxtest import PIXELCTL
    out = subprocess.run([PIXELCTL, "-c", P.conf, "status", "--json"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    st = json.loads(out.stdout)
    assert st["events_accepted"] > 0 and st["destinations"][0]["name"] == "events", st
    out = subprocess.run([PIXELCTL, "-c", P.conf, "status"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0 and "events" in out.stdout and "DELIVERED" in out.stdout, out


def main():
    global P
    P = Pixeld(server_extra="cors_origins = https://shop.example\nrequest_timeout = 2s\n")
    try:
        P.start()
        run_tests([test_pixel_gif, test_pixel_204_and_head, test_pixel_bad_input_still_gif,
                   test_beacon_json_and_text_plain, test_beacon_batch, test_beacon_generates_uuid7,
                   test_beacon_validation_errors, test_cors_preflight, test_health_and_metrics,
                   test_error_codes, test_chunked_beacon, test_keepalive_pipelining_1000,
                   test_bot_verdict_follows_each_request, test_admin_status_via_pixelctl])
    finally:
        P.cleanup()


if __name__ == "__main__":
    main()
