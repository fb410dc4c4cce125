#!/usr/bin/env python3
"""Delivery to LinkedIn, Snapchat, Pinterest and Reddit, end to end: a real
pixeld sends to the real build/obj/mockplatform over HTTP on loopback. Every
standard event with full user data goes through the four destinations at
once and each arrival is checked at the mock (names, ids, hashes against
specs/ad-apis.md §4, times, values, click ids); consent denials never reach
them; then each fault path: 429 with Retry-After, a 5xx storm, a timeout, a
revoked token, and one bad event in a batch refused the platform's way
(LinkedIn 422 indices, Snapchat whole batch bisected, Pinterest per event,
Reddit invalid_events). A server's action_source (store, app, phone call,
from /s2s/events) arrives as each platform's word for it. Prints "N passed,
N failed" last."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_delivery  # noqa: E402
from pxtest import http_post, run_tests, wait_for  # noqa: E402
from test_delivery import MOCK, NAMES, UA, dlq_entries, send  # noqa: E402

PLATFORMS = ("linkedin", "snapchat", "pinterest", "reddit")
SNAP_PIXEL = "1a2b3c4d-0000-4000-8000-123456789abc"
TOKENS = {p: "test-" + p for p in PLATFORMS}
RULES = {n: str(7000 + i) for i, n in enumerate(NAMES)}

# specs/ad-apis.md §4: Snap's own vectors for the email and phone, and the
# table's vectors for the rest (what ingest hashes the plain values to).
VEC = {
    "email": "542d240129883c019e106e3b1b2d3f3cb3537c43c425364de8e951d5a3083345",
    "phone": "dc008fda46e2e64002cf2f82a4906236282d431c4f75e5b60bfe79fc48546383",
    "phone_e164": "11f9231a47ccfd680a60606f73702bc2c0fb065a7f55c482269e51d9f9e868ae",
    "fn": "96d9632f363564cc3032521409cf22a852f2032eec099ed5967c0d000cec607a",
    "ln": "6627835f988e2c5e50533d491163072d3f4f41f5c8b04630150debb3722ca2dd",
    "ct": "0007a3d64c01e23d5075203c5977c14e4f7e01a3fc570686fcc50b5e1dd42685",
    "st": "6959097001d10501ac7d54c0bdb8db61420f658f2922cc26e46d536119a31126",
    "zp": "b9a9cf3cd3723a2e91b7c23ecf68456e872b6e5d86e5cab7f3d45a7302da32c7",
    "country": "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621",
    "ge": "62c66a7a5dd70c3146618063c344e531e6d4b59e379808443ce962b3abd63c5a",
    "db": "d6165fc8037886424321260c0f9c2a76f7d8d545a02f95c70da9952a13299f33",
}

SNAP_NAMES = {"PageView": "PAGE_VIEW", "ViewContent": "VIEW_CONTENT", "Search": "SEARCH",
              "AddToCart": "ADD_CART", "AddToWishlist": "ADD_TO_WISHLIST",
              "InitiateCheckout": "START_CHECKOUT", "AddPaymentInfo": "ADD_BILLING",
              "Purchase": "PURCHASE", "Lead": "SIGN_UP", "CompleteRegistration": "SIGN_UP",
              "Subscribe": "SUBSCRIBE", "StartTrial": "START_TRIAL", "Contact": "CUSTOM_EVENT_1"}
PIN_NAMES = {"PageView": "page_visit", "ViewContent": "view_content", "Search": "search",
             "AddToCart": "add_to_cart", "AddToWishlist": "add_to_wishlist",
             "InitiateCheckout": "initiate_checkout", "AddPaymentInfo": "add_payment_info",
             "Purchase": "checkout", "Lead": "lead", "CompleteRegistration": "signup",
             "Subscribe": "subscribe", "StartTrial": "custom", "Contact": "contact"}
RDT_NAMES = {"PageView": "PAGE_VISIT", "ViewContent": "VIEW_CONTENT", "Search": "SEARCH",
             "AddToCart": "ADD_TO_CART", "AddToWishlist": "ADD_TO_WISHLIST",
             "Purchase": "PURCHASE", "Lead": "LEAD", "CompleteRegistration": "SIGN_UP"}


def ads_conf(port, linger="20", extra=""):
    base = "http://127.0.0.1:%d" % port
    maps = "".join("map.%s = %s\n" % (n, r) for n, r in RULES.items())
    dests = {
        "linkedin": "api_version = 202511\n" + maps,
        "snapchat": "pixel_id = %s\nmap.Contact = CUSTOM_EVENT_1\n" % SNAP_PIXEL,
        "pinterest": "ad_account_id = 549755885175\n",
        "reddit": "ad_account_id = a2_abc123\n",
    }
    return "".join('[destination "%s"]\ntype = %s\napi_base = %s\naccess_token = %s\n%s'
                   "linger_ms = %s\n%s\n" % (p, p, base, TOKENS[p], body, linger, extra)
                   for p, body in dests.items())


def ads_stack(fn, linger="20", extra="", server_extra=""):
    """test_delivery.with_stack (mock, pixeld, log on failure, cleanup) with
    the four destinations: it builds its config through dest_conf()."""
    creds = [a for p in PLATFORMS for a in ("--credential", "%s=%s" % (p, TOKENS[p]))]
    test_delivery.dest_conf = lambda port, _only, lg: ads_conf(port, lg, extra)
    test_delivery.with_stack(fn, mock_args=creds + ["--reject-marker", "POISON"], linger=linger,
                             server_extra=server_extra)


def full_event(name, eid, consent=None):
    """An event with every user field and every new click id, plain as a
    site sends them; ingest normalises and hashes (DESIGN.md)."""
    ev = {"event": name, "event_id": eid, "url": "https://shop.example.com/p/1",
          "user": {"email": "  Person@Example.com ", "phone": "+44 844 412 4653",
                   "first_name": " John ", "last_name": "Smith", "city": "Menlo Park",
                   "state": "CA", "zip": "94025-1234", "country": "US", "gender": "Male",
                   "dob": "19900101", "id": "u-" + eid},
          "click": {"li_fat_id": "li-" + eid, "sccid": "sc-" + eid, "epik": "ep-" + eid,
                    "rdt_cid": "rd-" + eid},
          "props": {"value": 1.5, "currency": "USD"},
          "consent": consent or {"ad_storage": "granted", "ad_user_data": "granted"}}
    if name == "Purchase":
        ev["props"].update(order_id="o-" + eid, num_items=2,
                           contents=[{"id": "sku-1", "quantity": 2, "price": 0.75}])
    return ev


def by_id(mock, platform):
    return {r["event_id"]: r["event"] for r in mock.records(platform)}


def check_linkedin(got, ids, t0, t1):
    for name, eid in ids.items():
        e = got[eid]
        assert e["conversion"] == "urn:lla:llaPartnerConversion:" + RULES[name], e
        assert t0 <= e["conversionHappenedAt"] <= t1, e  # milliseconds
        uids = {u["idType"]: u["idValue"] for u in e["user"]["userIds"]}
        assert uids == {"SHA256_EMAIL": VEC["email"],
                        "LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID": "li-" + eid}, e
        assert e["conversionValue"] == {"currencyCode": "USD", "amount": "1.5"}, e


def check_snapchat(got, ids, t0, t1):
    for name, eid in ids.items():
        e = got[eid]
        u = e["user_data"]
        assert e["event_name"] == SNAP_NAMES[name] and e["action_source"] == "WEB", e
        assert t0 // 1000 <= e["event_time"] <= t1 // 1000, e  # seconds
        assert u["em"] == [VEC["email"]] and u["ph"] == [VEC["phone"]], u
        for k in ("fn", "ln", "ct", "st", "zp", "country", "ge", "db"):
            assert u[k] == VEC[k], (k, u)
        assert u["sc_click_id"] == "sc-" + eid and u["client_user_agent"].startswith("Mozilla"), u
        assert u["client_ip_address"] == "127.0.0.1", u
        assert e["custom_data"]["value"] == 1.5 and e["custom_data"]["currency"] == "USD", e
        if name == "Purchase":
            assert e["custom_data"]["order_id"] == "o-" + eid, e
            assert e["custom_data"]["contents"] == [{"id": "sku-1", "quantity": 2,
                                                    "item_price": 0.75}], e


def check_pinterest(got, ids, t0, t1):
    for name, eid in ids.items():
        e = got[eid]
        u = e["user_data"]
        assert e["event_name"] == PIN_NAMES[name] and e["action_source"] == "web", e
        assert t0 // 1000 <= e["event_time"] <= t1 // 1000, e
        assert u["em"] == [VEC["email"]] and u["ph"] == [VEC["phone"]], u
        for k in ("fn", "ln", "ct", "st", "zp", "country", "ge", "db"):
            assert u[k] == [VEC[k]], (k, u)
        assert u["click_id"] == "ep-" + eid, u
        assert e["custom_data"]["value"] == "1.5" and e["custom_data"]["currency"] == "USD", e
        if name == "Purchase":
            assert e["custom_data"]["contents"] == [{"id": "sku-1", "quantity": 2,
                                                    "item_price": "0.75"}], e


def check_reddit(got, ids, t0, t1):
    for name, eid in ids.items():
        e = got[eid]
        want = ({"tracking_type": RDT_NAMES[name]} if name in RDT_NAMES
                else {"tracking_type": "CUSTOM", "custom_event_name": name})
        assert e["type"] == want, e
        assert t0 <= e["event_at"] <= t1 and e["action_source"] == "WEBSITE", e
        assert e["click_id"] == "rd-" + eid, e
        assert e["user"]["email"] == VEC["email"], e
        assert e["user"]["phone_number"] == VEC["phone_e164"], e
        assert len(e["user"]["ip_address"]) == 64 and e["user"]["ip_address"] != "127.0.0.1", e
        md = e["metadata"]
        assert md["conversion_id"] == eid and md["value"] == 1.5 and md["currency"] == "USD", md
        if name == "Purchase":
            assert md["item_count"] == 2, md


def test_every_event_reaches_the_four_with_full_user_data():
    def body(mock, px):
        t0 = int(time.time() * 1000) - 1000
        ids = {n: send(px, full_event(n, "ev-%s-%d" % (n.lower(), i))) for i, n in enumerate(NAMES)}
        for p in PLATFORMS:
            mock.wait_ids(p, ids.values())
        t1 = int(time.time() * 1000) + 1000
        check_linkedin(by_id(mock, "linkedin"), ids, t0, t1)
        check_snapchat(by_id(mock, "snapchat"), ids, t0, t1)
        check_pinterest(by_id(mock, "pinterest"), ids, t0, t1)
        check_reddit(by_id(mock, "reddit"), ids, t0, t1)
        for p in PLATFORMS:
            got = mock.ids(p)
            assert sorted(got) == sorted(ids.values()), (p, "each event exactly once")
            assert not dlq_entries(px, p), p
    ads_stack(body)


def test_consent_denied_never_reaches_them():
    def body(mock, px):
        denied = send(px, full_event("Purchase", "ev-deny-1",
                                     {"ad_storage": "denied", "ad_user_data": "granted"}))
        denied2 = send(px, full_event("Lead", "ev-deny-2",
                                      {"ad_storage": "granted", "ad_user_data": "denied"}))
        ok = send(px, full_event("Purchase", "ev-ok-1"))
        for p in PLATFORMS:
            mock.wait_ids(p, [ok])
        m = px.metrics()
        for p in PLATFORMS:
            assert denied not in mock.ids(p) and denied2 not in mock.ids(p), p
            k = 'pixeld_destination_consent_skipped_total{destination="%s",reason="%s"}'
            assert m[k % (p, "ad_storage_denied")] == 1, (p, m)
            assert m[k % (p, "ad_user_data_denied")] == 1, (p, m)
    ads_stack(body)


def recovers(mock, px, eid, faults_each, copies=1, **fault):
    """Injects <fault> <faults_each> times on each platform, sends <eid>, and
    checks every platform has it <copies> times, and nothing was
    dead-lettered. Returns the seconds it took."""
    for p in PLATFORMS:
        mock.control(platform=p, count=faults_each, **fault)
    t0 = time.monotonic()
    send(px, full_event("Purchase", eid))
    for p in PLATFORMS:
        wait_for(lambda: mock.ids(p).count(eid) >= copies, 30,
                 what="%d copies of %s at %s" % (copies, eid, p))
    for p in PLATFORMS:
        assert mock.ids(p).count(eid) == copies, (p, mock.ids(p))
    assert mock.stats()["faults_fired"] == 4 * faults_each, mock.stats()
    assert all(not dlq_entries(px, p) for p in PLATFORMS)
    return time.monotonic() - t0


def test_429_with_retry_after_is_waited_out():
    def body(mock, px):
        took = recovers(mock, px, "ev-429", 1, status=429, retry_after=2)
        assert took >= 1.9, "sent again before Retry-After ran out"
    ads_stack(body)


def test_5xx_storm_is_retried_then_delivered():
    ads_stack(lambda mock, px: recovers(mock, px, "ev-storm", 3, status=503))


def test_timeout_is_retried_then_delivered():
    # The mock takes the slow request in before it stalls the answer, as a
    # platform that processed it would: the timed-out copy and the retry both
    # arrive, with the one event_id the platform deduplicates on.
    ads_stack(lambda mock, px: recovers(mock, px, "ev-slow", 1, copies=2, latency_ms=2500),
              extra="timeout = 1s\nconnect_timeout = 500ms\n")


def test_revoked_token_dead_letters_with_what_to_do():
    def body(mock, px):
        for p in PLATFORMS:
            mock.control(platform=p, status=401, count=1)
        eid = send(px, full_event("Purchase", "ev-revoked"))
        for p in PLATFORMS:
            wait_for(lambda: dlq_entries(px, p), 15, what="a %s dead letter" % p)
            dl = dlq_entries(px, p)
            assert [d["event_id"] for d in dl] == [eid], (p, dl)
            assert "access_token" in json.dumps(dl[0]), (p, dl)
            assert eid not in mock.ids(p), p
    ads_stack(body)


def test_one_bad_event_is_refused_alone_the_platform_way():
    def body(mock, px):
        good = ["ev-good-%02d" % i for i in range(6)]
        bad = "ev-POISON-1"
        for eid in good[:3] + [bad] + good[3:]:
            send(px, full_event("AddToCart", eid))
        reasons = {"linkedin": "linkedin: HTTP 422: element ",  # pinned by the 422 index
                   "snapchat": "snapchat: HTTP 400",  # bisected down to the one event
                   "pinterest": "pinterest: event ",  # failed in events[]
                   "reddit": "reddit: invalid event"}  # listed in invalid_events
        for p in PLATFORMS:
            mock.wait_ids(p, good, timeout=30)
            wait_for(lambda: dlq_entries(px, p), 15, what="a %s dead letter" % p)
            dl = dlq_entries(px, p)
            assert [d["event_id"] for d in dl] == [bad], (p, dl)
            assert dl[0]["reason"].startswith(reasons[p]), (p, dl[0]["reason"])
            assert bad not in mock.ids(p), p
            assert sorted(mock.ids(p)) == sorted(good), (p, "each good event exactly once")
        st = mock.stats()
        assert st["refused"]["linkedin"] >= 1 and st["refused"]["snapchat"] >= 1, st
    ads_stack(body, linger="400")


def test_action_source_reaches_each_platform_in_its_words():
    sources = {"store": ("Purchase", "physical_store", "PosTerminal/2.1"),
               "app": ("CompleteRegistration", "app", "ShopApp/5.2 (iPhone; iOS 17.1)"),
               "call": ("Lead", "phone_call", "CallCenter/1.0")}
    want = {"snapchat": {"store": "OFFLINE", "call": "OFFLINE"},
            "pinterest": {"store": "offline", "app": "app_ios", "call": "offline"},
            "reddit": {"store": "PHYSICAL_STORE", "app": "APP", "call": "OTHER"}}

    def body(mock, px):
        batch = [{"event": name, "event_id": "s2s-" + k, "action_source": src,
                  "ip": "198.51.100.7", "ua": ua,
                  "user": {"email": k + "@example.com", "id": "u-" + k},
                  "consent": {"ad_storage": "granted", "ad_user_data": "granted"}}
                 for k, (name, src, ua) in sources.items()]
        st, _, res = http_post(px.port, "/s2s/events", json.dumps({"batch": batch}),
                               headers={"User-Agent": UA, "Authorization": "Bearer sk_source"})
        assert st == 200 and json.loads(res)["accepted"] == 3, (st, res)
        mock.wait_ids("linkedin", ["s2s-" + k for k in sources])
        for p, words in want.items():
            mock.wait_ids(p, ["s2s-" + k for k in words])
            got = by_id(mock, p)
            for k, w in words.items():
                assert got["s2s-" + k]["action_source"] == w, (p, k, got["s2s-" + k])
        # A pixel takes no app events: Snap's app events go to a Snap App ID.
        wait_for(lambda: dlq_entries(px, "snapchat"), 10, what="the snapchat app event dead-lettered")
        [dl] = dlq_entries(px, "snapchat")
        assert dl["event_id"] == "s2s-app" and "Snap App ID" in dl["reason"], dl
        for p in PLATFORMS:
            assert len(mock.ids(p)) == len(set(mock.ids(p))), (p, "each event once")
    ads_stack(body, server_extra="secret_keys = sk_source\n")


if __name__ == "__main__":
    if not os.path.exists(MOCK):
        print("build/obj/mockplatform is missing: run make")
        print("0 passed, 1 failed")
        sys.exit(1)
    only = sys.argv[1:]
    tests = [t for n, t in sorted(globals().items())
             if n.startswith("test_") and callable(t) and (not only or n in only)]
    run_tests(tests)
