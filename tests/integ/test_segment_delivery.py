"""Segment messages through the real pixeld to the mock platform: a message's
`integrations` limits the destination types it reaches (Segment's names, see
README), identify goes to the webhook but to no ad platform, and the JSONL
sink records every event. An s2s event's action_source reaches Meta."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pxtest import Pixeld, http_post, run_tests, wait_for  # noqa: E402
from test_delivery import Mock, dest_conf  # noqa: E402

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
WK = "wk_deliver"
CONSENT = {"consent": {"categoryPreferences": {"Advertising": True, "Analytics": True}},
           "traits": {"email": "buyer@example.com"}, "ip": "203.0.113.9", "userAgent": UA,
           "page": {"url": "https://shop.example/?fbclid=AbC"}}


def track(mid, integrations=None):
    m = {"type": "track", "event": "Order Completed", "messageId": mid, "userId": "u-" + mid,
         "properties": {"revenue": 20, "currency": "EUR", "order_id": "o-" + mid}, "context": CONSENT}
    if integrations is not None:
        m["integrations"] = integrations
    return m


def test_integrations_and_identify():
    mock = Mock().start()
    dests = dest_conf(mock.port, only=("meta", "hooks")) + \
        '[destination "events"]\ntype = jsonl\npath = events.jsonl\n'
    px = Pixeld(server_extra="write_keys = %s\nsecret_keys = sk_deliver\n" % WK, dest=dests)
    try:
        px.start()
        batch = {"writeKey": WK, "batch": [
            track("seg-a", {"All": False, "Facebook Conversions API": True}),
            track("seg-b", {"All": False, "Webhooks": True}),
            track("seg-c", {"Facebook Conversions API": False}),
            track("seg-d"),
            {"type": "identify", "messageId": "seg-e", "userId": "u-e", "traits": {"plan": "pro"},
             "context": CONSENT},
        ]}
        st, _, body = http_post(px.port, "/v1/batch", json.dumps(batch), headers={"User-Agent": UA})
        assert st == 200 and json.loads(body) == {"success": True}, (st, body)
        s2s = {"event": "Purchase", "event_id": "s2s-store", "action_source": "physical_store",
               "user": {"email": "shop@example.com"}, "props": {"value": 5, "currency": "EUR"},
               "consent": {"ad_storage": "granted", "ad_user_data": "granted"},
               "to": ["meta"]}
        st, _, body = http_post(px.port, "/s2s/events", json.dumps(s2s),
                                headers={"User-Agent": UA, "Authorization": "Bearer sk_deliver"})
        assert st == 200 and json.loads(body)["accepted"] == 1, (st, body)
        mock.wait_ids("meta", ["seg-a", "seg-d", "s2s-store"])
        rec = [r for r in mock.records("meta") if r["event_id"] == "s2s-store"][0]
        assert rec["event"]["action_source"] == "physical_store", rec
        assert [r for r in mock.records("meta") if r["event_id"] == "seg-a"][0]["event"]["action_source"] \
            == "website"
        mock.wait_ids("webhook", ["seg-b", "seg-c", "seg-d", "seg-e"])
        wait_for(lambda: {"seg-a", "seg-b", "seg-c", "seg-d", "seg-e"} <=
                 {e.get("event_id") for e in px.events()}, what="all five in the JSONL sink")
        assert set(mock.ids("meta")) == {"seg-a", "seg-d", "s2s-store"}, mock.ids("meta")
        assert set(mock.ids("webhook")) == {"seg-b", "seg-c", "seg-d", "seg-e"}, mock.ids("webhook")
        a = [e for e in px.events() if e["event_id"] == "seg-a"][0]
        assert a["to"] == ["meta"], a
        c = [e for e in px.events() if e["event_id"] == "seg-c"][0]
        assert c["not_to"] == ["meta"] and "to" not in c, c
        d = [e for e in px.events() if e["event_id"] == "seg-d"][0]
        assert "to" not in d and "not_to" not in d, d
    finally:
        px.cleanup()
        mock.cleanup()


if __name__ == "__main__":
    run_tests([test_integrations_and_identify])
