#!/usr/bin/env python3
"""Delivery to the analytics tools, end to end: a real pixeld sends to a real
build/obj/mockplatform on loopback through four destinations at once
(segment, amplitude, mixpanel, posthog). Every standard event with full user
data, and the identify, group and alias calls, are checked at the mock (names,
ids, hashes, times, values; Mixpanel's /engage and /groups profile updates,
Amplitude's Identify and Group Identify APIs); analytics_storage denial keeps an event away from
all four; then each fault path: 429 with Retry-After, a 5xx storm, a timeout,
Amplitude's per-event 400 and per-device 429, Mixpanel's strict partial
success, a batch refused for one event (bisected), a bad credential. Prints
"N passed, N failed" last."""

import json
import os
import sys
import time
import uuid
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pxtest import Pixeld, run_tests, wait_for  # noqa: E402
from test_delivery import MOCK, NAMES, Mock, dlq_entries, send  # noqa: E402

ANALYTICS = ("segment", "amplitude", "mixpanel", "posthog")
USER = {"email": "  Test@Example.COM ", "phone": "+1 (650) 555-1234", "first_name": " John ",
        "last_name": "Smith", "city": "Menlo Park", "state": "CA", "zip": "94025-1234",
        "country": "US", "gender": "Male", "dob": "1990-01-01"}
# specs/ad-apis.md §4: what ingest makes of USER, passed on as traits.
HASHES = {
    "email_sha256": "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b",
    "phone_sha256": "6069d14bf122fdfd931dc7beb58e5dfbba395b1faf05bdcd42d12358d63d8599",
    "phone_e164_sha256": "a2996076d3ad4af5dc818b908b3d8e354f26ededf7df0e0aa6ac354143805ee0",
    "first_name_sha256": "96d9632f363564cc3032521409cf22a852f2032eec099ed5967c0d000cec607a",
    "last_name_sha256": "6627835f988e2c5e50533d491163072d3f4f41f5c8b04630150debb3722ca2dd",
    "gender_sha256": "62c66a7a5dd70c3146618063c344e531e6d4b59e379808443ce962b3abd63c5a",
    "dob_sha256": "d6165fc8037886424321260c0f9c2a76f7d8d545a02f95c70da9952a13299f33",
}
SEGMENT_NAMES = {"Search": "Products Searched", "ViewContent": "Product Viewed",
                 "AddToCart": "Product Added", "AddToWishlist": "Product Added to Wishlist",
                 "InitiateCheckout": "Checkout Started", "AddPaymentInfo": "Payment Info Entered",
                 "Purchase": "Order Completed", "CompleteRegistration": "Signed Up",
                 "StartTrial": "Trial Started"}
CREDS = ["--credential", "segment=wk-test", "--credential", "amplitude=amp-test",
         "--credential", "mixpanel=sa.test:sa-secret", "--credential", "posthog=phc_test"]


def conf(port, only=ANALYTICS, extra=None, linger="20"):
    base = "http://127.0.0.1:%d" % port
    keys = {
        "segment": "write_key = wk-test\n",
        "amplitude": "api_key = amp-test\nmin_id_length = 4\n",
        "mixpanel": "service_account = sa.test\nservice_account_secret = sa-secret\nproject_id = 77\n"
                    "project_token = mp-token\n",
        "posthog": "api_key = phc_test\n",
    }
    out = ""
    for name in only:
        out += '[destination "%s"]\ntype = %s\napi_base = %s\n%s%slinger_ms = %s\n\n' % (
            name, name, base, keys[name], (extra or {}).get(name, ""), linger)
    return out


def event(name="Purchase", uid="u-4242", consent=None, props=None, ts=None):
    eid = str(uuid.uuid4())
    ev = {"event": name, "event_id": eid, "ts": ts or int(time.time() * 1000) - 5000,
          "url": "https://shop.example.com/p/1", "referrer": "https://search.example/",
          "user": dict(USER, id=uid, anon_id="anon-" + eid[:8]),
          "props": props if props is not None else {"value": 19.99, "currency": "EUR", "plan": "gold"},
          "consent": consent or {"ad_storage": "granted", "analytics_storage": "granted"}}
    if name == "Purchase":
        ev["props"].update(order_id="o-" + eid[:8], contents=[{"id": "sku-9", "quantity": 2, "price": 9.995}])
    return ev


def stack(fn, only=ANALYTICS, mock_args=(), extra=None, linger="20"):
    mock = Mock(CREDS + list(mock_args)).start()
    px = Pixeld(dest=conf(mock.port, only, extra, linger))
    try:
        px.start()
        fn(mock, px)
    except Exception:
        sys.stdout.write("--- pixeld log ---\n%s\n" % px.read_log()[-4000:])
        raise
    finally:
        px.cleanup()
        mock.cleanup()


def send_with_poison(px, name, n, bad, poison_id):
    """Sends <n> events of <name>, the <bad>th with <poison_id>; returns the
    good ids and the bad one."""
    evs = [event(name) for _ in range(n)]
    evs[bad]["event_id"] = poison_id
    for ev in evs:
        send(px, ev)
    return [ev["event_id"] for ev in evs if ev["event_id"] != poison_id], poison_id


def wait_dead_letter(mock, px, platform, good, bad):
    """Waits for <good> at the mock and <bad> alone in the DLQ; returns the DLQ."""
    mock.wait_ids(platform, good, timeout=20)
    wait_for(lambda: dlq_entries(px, platform), 15, what="a %s dead letter" % platform)
    dl = dlq_entries(px, platform)
    assert [d["event_id"] for d in dl] == [bad], dl
    return dl


def by_id(mock, platform):
    return {r["event_id"]: r["event"] for r in mock.records(platform)}


def iso(ms):
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def check_segment(sent, got):
    for name, ev in sent.items():
        m = got[ev["event_id"]]
        want = {"Identify": "identify", "Group": "group", "Alias": "alias", "PageView": "page"}
        assert m["type"] == want.get(name, "track"), m
        assert m["timestamp"] == iso(ev["ts"]) and m["userId"] == "u-4242", m
        assert m["context"]["ip"] == "127.0.0.1", m
        if m["type"] == "track":
            assert m["event"] == SEGMENT_NAMES.get(name, name), m
            traits = m["context"]["traits"]
            assert {k: traits[k] for k in HASHES} == HASHES, traits
            addr = traits["address"]  # Segment's address{} trait
            assert addr["city"] == "menlopark" and addr["country"] == "us", traits
    p = got[sent["Purchase"]["event_id"]]["properties"]
    assert p["revenue"] == 19.99 and p["currency"] == "EUR", p
    assert p["products"] == [{"product_id": "sku-9", "quantity": 2, "price": 9.995}], p
    assert got[sent["Identify"]["event_id"]]["traits"]["email_sha256"] == HASHES["email_sha256"]
    assert got[sent["Group"]["event_id"]]["groupId"] == "org-1"
    assert got[sent["Alias"]["event_id"]]["previousId"] == "anon-old"


def updates(mock, platform, key):
    """The profile updates <platform> took (no event id, no event_type): those
    with <key>."""
    return [r["event"] for r in mock.records(platform)
            if key in r["event"] and "event_type" not in r["event"]]


def check_amplitude(sent, got, mock):
    for name, ev in sent.items():
        if name in ("Alias", "Identify", "Group"):
            assert ev["event_id"] not in got, "%s is not an event in Amplitude" % name
            continue
        e = got[ev["event_id"]]
        assert e["insert_id"] == ev["event_id"] and e["time"] == ev["ts"], e
        assert e["user_id"] == "u-4242" and e["device_id"] and e["ip"] == "127.0.0.1", e
        assert e["event_type"] == name and e["revenue"] == 19.99, e
        assert e["user_properties"]["email_sha256"] == HASHES["email_sha256"], e
        assert e["event_properties"]["url"] == "https://shop.example.com/p/1", e
    e = got[sent["Purchase"]["event_id"]]
    assert e["price"] == 9.995 and e["quantity"] == 2 and e["productId"] == "sku-9", e
    # The Identify API: the user's properties, hashed traits and props.
    [u] = updates(mock, "amplitude", "user_properties")
    assert u["user_id"] == "u-4242" and u["device_id"], u
    assert u["user_properties"]["$set"]["plan"] == "gold", u
    assert u["user_properties"]["$set"]["email_sha256"] == HASHES["email_sha256"], u
    # The Group Identify API: the group's properties.
    [g] = updates(mock, "amplitude", "group_properties")
    assert g == {"group_type": "team", "group_value": "org-1",
                 "group_properties": {"$set": {"name": "Acme"}}}, g


def check_mixpanel(sent, got, mock):
    for name, ev in sent.items():
        if name in ("Identify", "Group"):
            assert ev["event_id"] not in got, "%s is a profile update in Mixpanel" % name
            continue
        p = got[ev["event_id"]]["properties"]
        assert p["$insert_id"] == ev["event_id"] and p["time"] == ev["ts"], p
        if name == "Alias":
            assert got[ev["event_id"]]["event"] == "$create_alias", p
            assert p["distinct_id"] == "anon-old" and p["alias"] == "u-4242", p
            continue
        assert p["distinct_id"] == "u-4242" and p["ip"] == "127.0.0.1", p
        assert p["email_sha256"] == HASHES["email_sha256"], p
        assert got[ev["event_id"]]["event"] == name
        assert p["$current_url"] == "https://shop.example.com/p/1" and p["value"] == 19.99, p
    # /engage: $set on the user's profile, with the project token.
    [u] = updates(mock, "mixpanel", "$distinct_id")
    assert u["$token"] == "mp-token" and u["$distinct_id"] == "u-4242", u
    assert u["$ip"] == "127.0.0.1" and u["$set"]["plan"] == "gold", u
    assert u["$set"]["email_sha256"] == HASHES["email_sha256"], u
    # /groups: $set on the group's profile.
    [g] = updates(mock, "mixpanel", "$group_key")
    assert g == {"$token": "mp-token", "$group_key": "team", "$group_id": "org-1",
                 "$set": {"name": "Acme"}}, g


def check_posthog(sent, got):
    special = {"PageView": "$pageview", "Identify": "$identify", "Group": "$groupidentify",
               "Alias": "$create_alias"}
    for name, ev in sent.items():
        e = got[ev["event_id"]]
        assert e["event"] == special.get(name, name) and e["uuid"] == ev["event_id"], e
        assert e["distinct_id"] == "u-4242" and e["timestamp"] == iso(ev["ts"]), e
        if name not in ("Group", "Alias"):
            assert e["properties"]["$ip"] == "127.0.0.1", e
            assert e["properties"]["$current_url"] == "https://shop.example.com/p/1", e
            assert e["properties"]["$set"]["email_sha256"] == HASHES["email_sha256"], e
    assert got[sent["Purchase"]["event_id"]]["properties"]["value"] == 19.99
    g = got[sent["Group"]["event_id"]]["properties"]
    assert g["$group_type"] == "team" and g["$group_key"] == "org-1", g
    assert g["$group_set"] == {"name": "Acme"}, g
    assert got[sent["Alias"]["event_id"]]["properties"]["alias"] == "anon-old"


def test_every_event_reaches_all_four_tools():
    def body(mock, px):
        sent = {n: event(n) for n in NAMES}
        sent["Identify"] = event("Identify", props={"plan": "gold"})
        sent["Group"] = event("Group", props={"group_id": "org-1", "group_type": "team", "name": "Acme"})
        sent["Alias"] = event("Alias", props={"previous_id": "anon-old"})
        for ev in sent.values():
            send(px, ev)
        ids = {ev["event_id"] for ev in sent.values()}
        mock.wait_ids("segment", ids)
        mock.wait_ids("posthog", ids)
        calls = {sent[n]["event_id"] for n in ("Identify", "Group")}
        mock.wait_ids("amplitude", ids - {sent["Alias"]["event_id"]} - calls)
        mock.wait_ids("mixpanel", ids - calls)
        for platform, keys in (("amplitude", ("user_properties", "group_properties")),
                               ("mixpanel", ("$distinct_id", "$group_key"))):
            wait_for(lambda: all(updates(mock, platform, k) for k in keys), 10,
                     what="the %s profile updates" % platform)
        wait_for(lambda: dlq_entries(px, "amplitude"), 10, what="Amplitude's alias dead-lettered")
        assert [d["event_id"] for d in dlq_entries(px, "amplitude")] == [sent["Alias"]["event_id"]]
        assert not dlq_entries(px, "mixpanel")
        check_segment(sent, by_id(mock, "segment"))
        check_amplitude(sent, by_id(mock, "amplitude"), mock)
        check_mixpanel(sent, by_id(mock, "mixpanel"), mock)
        check_posthog(sent, by_id(mock, "posthog"))
        for p in ANALYTICS:
            got = [i for i in mock.ids(p) if i]
            assert len(got) == len(set(got)), "%s: each event once" % p
    stack(body)


def test_analytics_storage_denied_reaches_none_of_them():
    def body(mock, px):
        denied = send(px, event(consent={"ad_storage": "granted", "analytics_storage": "denied"}))
        ad_denied = send(px, event(consent={"ad_storage": "denied", "ad_user_data": "denied"}))
        for p in ANALYTICS:
            mock.wait_ids(p, [ad_denied])
        m = px.metrics()
        for p in ANALYTICS:
            assert denied not in mock.ids(p), p
            key = 'pixeld_destination_consent_skipped_total{destination="%s",reason="analytics_storage_denied"}' % p
            assert m[key] == 1, (key, m)
    stack(body)


def test_429_with_retry_after_is_waited_out():
    def body(mock, px):
        for p in ("segment", "posthog"):
            mock.control(platform=p, status=429, retry_after=2, count=1)
        t0 = time.monotonic()
        eid = send(px, event())
        for p in ("segment", "posthog"):
            mock.wait_ids(p, [eid], timeout=15)
            assert time.monotonic() - t0 >= 1.9, "%s: sent again before Retry-After ran out" % p
        assert mock.stats()["faults_fired"] == 2
    stack(body, only=["segment", "posthog"])


def test_5xx_storm_and_timeouts_are_retried():
    def body(mock, px):
        mock.control(platform="mixpanel", status=503, count=3)
        mock.control(platform="posthog", latency_ms=1500, count=1)
        eid = send(px, event())
        mock.wait_ids("mixpanel", [eid], timeout=25)
        mock.wait_ids("posthog", [eid], timeout=25)
        assert mock.stats()["faults_fired"] >= 4
        assert not dlq_entries(px, "mixpanel") and not dlq_entries(px, "posthog")
        assert mock.ids("mixpanel").count(eid) == 1
    stack(body, only=["mixpanel", "posthog"], extra={"posthog": "connect_timeout = 200ms\ntimeout = 500ms\n"})


def test_amplitude_400_dead_letters_the_named_event_and_resends_the_rest():
    def body(mock, px):
        good, bad = send_with_poison(px, "AddToCart", 6, 2, "f00dbad0-0000-4000-8000-00000000ba0d")
        dl = wait_dead_letter(mock, px, "amplitude", good, bad)
        assert "invalid field event_properties" in json.dumps(dl), dl
        assert sorted(mock.ids("amplitude")) == sorted(good), "each good event once"
    stack(body, only=["amplitude"], mock_args=["--reject-marker", "ba0d"], linger="400")


def test_amplitude_429_throttles_one_device_only():
    def body(mock, px):
        busy = [event("ViewContent") for _ in range(40)]
        for ev in busy:
            ev["user"] = {"anon_id": "device-busy"}
        calm = event("ViewContent")
        for ev in busy + [calm]:
            send(px, ev)
        ids = [ev["event_id"] for ev in busy + [calm]]
        mock.wait_ids("amplitude", ids, timeout=30)
        assert mock.stats()["refused"]["amplitude"] >= 1, "no 429 was answered"
        got = mock.ids("amplitude")
        assert all(got.count(i) == 1 for i in ids), "each event once"
        assert not dlq_entries(px, "amplitude")
    stack(body, only=["amplitude"], extra={"amplitude": "api = http_v2\n"}, linger="400")


def test_mixpanel_strict_partial_success_imports_the_rest_once():
    def body(mock, px):
        good, bad = send_with_poison(px, "Lead", 5, 1, "0badc0de-0000-4000-8000-000000000001")
        wait_dead_letter(mock, px, "mixpanel", good, bad)
        time.sleep(0.5)
        assert sorted(mock.ids("mixpanel")) == sorted(good), "imported events are not resent"
    stack(body, only=["mixpanel"], mock_args=["--reject-marker", "0badc0de"], linger="400")


def test_a_batch_refused_for_one_event_is_bisected():
    def body(mock, px):
        good, bad = send_with_poison(px, "Search", 7, 4, "deadbeef-0000-4000-8000-00000000beef")
        for p in ("segment", "posthog"):
            wait_dead_letter(mock, px, p, good, bad)
            assert sorted(mock.ids(p)) == sorted(good), p
    stack(body, only=["segment", "posthog"], mock_args=["--reject-marker", "deadbeef"],
          linger="400")


def test_a_bad_credential_is_dead_lettered_not_retried():
    def body(mock, px):
        eid = send(px, event())
        wait_for(lambda: len(dlq_entries(px, "posthog")) == 1 and len(dlq_entries(px, "mixpanel")) == 1,
                 15, what="dead letters for the bad keys")
        for p in ("posthog", "mixpanel"):
            assert eid not in mock.ids(p), p
        assert "invalid_api_key" in json.dumps(dlq_entries(px, "posthog"))
        assert mock.stats()["requests"]["posthog"] == 1, "a bad key is not retried"
    stack(body, only=["posthog", "mixpanel"],
          mock_args=["--credential", "posthog=phc_other", "--credential", "mixpanel=sa.test:other"])


if __name__ == "__main__":
    if not os.path.exists(MOCK):
        print("build/obj/mockplatform is missing: run make")
        print("0 passed, 1 failed")
        sys.exit(1)
    only = sys.argv[1:]
    tests = [t for n, t in sorted(globals().items())
             if n.startswith("test_") and callable(t) and (not only or n in only)]
    run_tests(tests)
