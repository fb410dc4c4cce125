#!/usr/bin/env python3
"""Tenants against the real daemon: three tenants on their own host names
(one paused), an unknown host, health on any host, per-tenant destinations
(tenant A's events never reach B's sink), the tenant in every event, consent
defaults, per-tenant origins and /metrics counters, the first-party id
cookie (set, kept, extended, replaced; Domain from the Public Suffix List;
Secure behind a trusted proxy), anonymous mode (tenant and header), GPC and
DNT, no cookie under denied analytics consent, credentialed CORS only for listed origins,
and the load errors of a bad [tenant] section. Prints "N passed, N failed"
last."""

import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pxtest import PIXELD, Pixeld, http_get, http_post, request, run_tests, wait_for  # noqa: E402

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

TENANTS = """
[tenant "shop-a"]
hosts = a.shop.example, *.brand-a.example, a.shop.example:8443
cors_origins = https://www.shop-a.example
destinations = sink-a, both
consent_ad = denied
anonymous = true
anonymous_ip = truncate

[tenant "shop-b"]
hosts = b.shop.example, *.shop.co.uk, co.uk, localhost, 127.0.0.1
destinations = sink-b, both
cookie_refresh = 7d
honor_gpc = true

[tenant "shop-c"]
hosts = c.shop.example
destinations = sink-c
paused = true
cors_origins = *
"""

DESTS = "".join('[destination "%s"]\ntype = jsonl\npath = %s.jsonl\n\n' % (n, n)
                for n in ("sink-a", "sink-b", "sink-c", "both"))


def daemon():
    return Pixeld(extra=TENANTS, dest=DESTS,
                  server_extra="cors_origins = https://any.example\ntrusted_proxies = 127.0.0.1\n")


def sink(p, name):
    path = os.path.join(p.data_dir, name + ".jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def beacon(p, host, eid, consent=None, origin=None, headers=None):
    ev = {"event": "Purchase", "event_id": eid, "url": "https://%s/p" % host,
          "user": {"anon_id": "anon-" + eid}}
    if consent:
        ev["consent"] = consent
    headers = dict(headers or {}, **{"User-Agent": UA})
    if origin:
        headers["Origin"] = origin
    return http_post(p.port, "/e", json.dumps(ev), host=host, headers=headers)


def pixel(p, host, eid, path="/p.gif"):
    return http_get(p.port, "%s?e=PageView&id=%s" % (path, eid), host=host, headers={"User-Agent": UA})


def test_unknown_host_is_refused_and_health_answers_any_host():
    with daemon() as p:
        p.start()
        st, hdrs, body = beacon(p, "evil.example", "u1")
        assert st == 404 and json.loads(body)["error"] == "unknown_host", (st, body)
        st, hdrs, body = pixel(p, "evil.example", "u2")
        assert st == 404, st
        assert b"GIF" not in body and json.loads(body)["error"] == "unknown_host", body
        # A wildcard matches names below it, never the name itself.
        st, _, _ = beacon(p, "brand-a.example", "u3")
        assert st == 404, st
        for path in ("/health", "/health/live", "/health/ready"):
            st, _, _ = http_get(p.port, path, host="lb-probe.internal")
            assert st == 200, (path, st)
        assert p.metric('pixeld_events_rejected_total{reason="unknown_host"}') == 3


def test_each_tenant_reaches_only_its_destinations():
    with daemon() as p:
        p.start()
        for i in range(5):
            assert beacon(p, "a.shop.example", "a%d" % i)[0] == 204
            assert beacon(p, "B.Shop.Example:8080", "b%d" % i)[0] == 204
        assert pixel(p, "x.y.brand-a.example", "aw")[0] == 200
        assert pixel(p, "a.shop.example:8443", "ap", "/p")[0] == 204
        wait_for(lambda: len(sink(p, "both")) == 12, 10, what="12 events in both.jsonl")
        wait_for(lambda: len(sink(p, "sink-a")) == 7 and len(sink(p, "sink-b")) == 5, 10,
                 what="7 events for A, 5 for B")
        a, b = sink(p, "sink-a"), sink(p, "sink-b")
        assert {e["tenant"] for e in a} == {"shop-a"}, a
        assert {e["tenant"] for e in b} == {"shop-b"}, b
        assert {e["event_id"] for e in a} == {"a%d" % i for i in range(5)} | {"aw", "ap"}
        assert {e["event_id"] for e in b} == {"b%d" % i for i in range(5)}
        assert sink(p, "sink-c") == []
        m = p.metrics()
        assert m['pixeld_tenant_events_accepted_total{tenant="shop-a"}'] == 7, m
        assert m['pixeld_tenant_events_accepted_total{tenant="shop-b"}'] == 5, m
        assert m['pixeld_tenant_events_accepted_total{tenant="shop-c"}'] == 0, m
        line_bytes = sum(len(json.dumps(e, separators=(",", ":"))) for e in b)
        got = m['pixeld_tenant_event_bytes_total{tenant="shop-b"}']
        assert abs(got - line_bytes) <= 5 * 8, (got, line_bytes)  # same lines, number spellings aside


def test_paused_tenant_gets_402_and_its_pixels_their_image():
    with daemon() as p:
        p.start()
        st, _, body = beacon(p, "c.shop.example", "c1")
        assert st == 402 and json.loads(body)["error"] == "tenant_paused", (st, body)
        st, hdrs, body = pixel(p, "c.shop.example", "c2")
        assert st == 200 and body.startswith(b"GIF89a"), (st, body[:10])
        assert pixel(p, "c.shop.example", "c3", "/p")[0] == 204
        assert beacon(p, "b.shop.example", "b1")[0] == 204
        wait_for(lambda: len(sink(p, "both")) == 1, 10, what="B's event")
        assert sink(p, "sink-c") == []
        m = p.metrics()
        assert m['pixeld_tenant_events_refused_total{tenant="shop-c"}'] == 3, m
        assert m['pixeld_events_rejected_total{reason="tenant_paused"}'] == 3, m


def test_consent_defaults_fill_only_what_the_event_left_unset():
    with daemon() as p:
        p.start()
        assert beacon(p, "a.shop.example", "d1")[0] == 204
        assert beacon(p, "a.shop.example", "d2", consent={"ad_storage": "granted"})[0] == 204
        assert beacon(p, "b.shop.example", "d3")[0] == 204
        wait_for(lambda: len(sink(p, "both")) == 3, 10, what="3 events")
        ev = {e["event_id"]: e for e in sink(p, "both")}
        assert ev["d1"]["consent"] == {"ad_storage": "denied", "ad_user_data": "denied",
                                       "ad_personalization": "denied"}, ev["d1"]
        assert ev["d2"]["consent"]["ad_storage"] == "granted", ev["d2"]
        assert ev["d2"]["consent"]["ad_user_data"] == "denied", ev["d2"]
        assert "consent" not in ev["d3"], ev["d3"]


def test_tenant_origins_replace_the_servers():
    with daemon() as p:
        p.start()
        st, hdrs, _ = beacon(p, "a.shop.example", "o1", origin="https://www.shop-a.example")
        assert st == 204 and hdrs.get("access-control-allow-origin") == "https://www.shop-a.example", hdrs
        assert beacon(p, "a.shop.example", "o2", origin="https://any.example")[0] == 403
        # B has no cors_origins of its own: server.cors_origins applies.
        assert beacon(p, "b.shop.example", "o3", origin="https://any.example")[0] == 204
        assert beacon(p, "b.shop.example", "o4", origin="https://www.shop-a.example")[0] == 403


def cookie_of(hdrs):
    """The _pxid Set-Cookie of an answer as (id, issued, attributes), or None."""
    sc = hdrs.get("set-cookie")
    if not sc:
        return None
    parts = [x.strip() for x in sc.split(";")]
    name, value = parts[0].split("=", 1)
    assert name == "_pxid", sc
    ident, issued = value.split(".")
    return ident, int(issued), parts[1:]


def test_id_cookie_is_set_kept_and_extended():
    with daemon() as p:
        p.start()
        st, hdrs, _ = beacon(p, "b.shop.example", "k1")
        assert st == 204, st
        ident, issued, attrs = cookie_of(hdrs)
        assert len(ident) == 32 and all(c in "0123456789abcdef" for c in ident), ident
        assert abs(issued - time.time()) < 60, issued
        assert attrs == ["Max-Age=34560000", "Path=/", "Domain=shop.example", "HttpOnly",
                         "SameSite=Lax"], attrs
        # A fresh cookie is kept as it is: no Set-Cookie, the same fp_id.
        jar = {"Cookie": "other=1; _pxid=%s.%d" % (ident, issued)}
        st, hdrs, _ = beacon(p, "b.shop.example", "k2", headers=jar)
        assert st == 204 and "set-cookie" not in hdrs, hdrs
        st, hdrs, _ = http_get(p.port, "/p.gif?id=k3", host="b.shop.example",
                               headers=dict(jar, **{"User-Agent": UA}))
        assert st == 200 and "set-cookie" not in hdrs, hdrs
        # Older than cookie_refresh: the same id with a new Max-Age.
        old = int(time.time()) - 8 * 86400
        st, hdrs, _ = beacon(p, "b.shop.example", "k4", headers={"Cookie": "_pxid=%s.%d" % (ident, old)})
        again, issued2, _ = cookie_of(hdrs)
        assert again == ident and issued2 > old + 7 * 86400, (again, issued2)
        # A damaged value is replaced by a new id.
        st, hdrs, _ = beacon(p, "b.shop.example", "k5", headers={"Cookie": "_pxid=forged"})
        other = cookie_of(hdrs)[0]
        assert other != ident and len(other) == 32
        wait_for(lambda: len(sink(p, "sink-b")) == 5, 10, what="5 events")
        fp = {e["event_id"]: e.get("fp_id") for e in sink(p, "sink-b")}
        assert fp == {"k1": ident, "k2": ident, "k3": ident, "k4": ident, "k5": other}, fp
        m = p.metrics()
        assert m['pixeld_tenant_cookies_set_total{tenant="shop-b"}'] == 2, m
        assert m['pixeld_tenant_cookies_extended_total{tenant="shop-b"}'] == 1, m


def test_cookie_domain_and_secure():
    with daemon() as p:
        p.start()
        want = {"a.b.shop.co.uk": "Domain=shop.co.uk", "x.shop.co.uk:8080": "Domain=shop.co.uk",
                "co.uk": None, "localhost": None, "127.0.0.1": None}
        for host, dom in want.items():
            st, hdrs, _ = beacon(p, host, "d-" + host)
            assert st == 204, (host, st)
            attrs = cookie_of(hdrs)[2]
            got = [a for a in attrs if a.startswith("Domain=")]
            assert got == ([dom] if dom else []), (host, attrs)
            assert "Secure" not in attrs, (host, attrs)
        # X-Forwarded-Proto from a trusted proxy (127.0.0.1 here) makes it Secure.
        _, hdrs, _ = beacon(p, "b.shop.example", "s1", headers={"X-Forwarded-Proto": "https"})
        assert "Secure" in cookie_of(hdrs)[2], hdrs
        _, hdrs, _ = beacon(p, "b.shop.example", "s2", headers={"X-Forwarded-Proto": "http"})
        assert "Secure" not in cookie_of(hdrs)[2], hdrs


def test_untrusted_forwarded_proto_is_ignored():
    with Pixeld(extra=TENANTS, dest=DESTS) as p:
        p.start()
        _, hdrs, _ = beacon(p, "b.shop.example", "s3", headers={"X-Forwarded-Proto": "https"})
        assert "Secure" not in cookie_of(hdrs)[2], hdrs


def test_anonymous_tenant_and_header_keep_no_id_and_no_full_ip():
    with daemon() as p:
        p.start()
        jar = {"Cookie": "_pxid=0123456789abcdef0123456789abcdef.%d" % int(time.time())}
        st, hdrs, _ = beacon(p, "a.shop.example", "an1", headers=jar)
        assert st == 204 and "set-cookie" not in hdrs, hdrs
        st, hdrs, _ = beacon(p, "b.shop.example", "an2", headers=dict(jar, **{"X-Pixeld-Anonymous": "1"}))
        assert st == 204 and "set-cookie" not in hdrs, hdrs
        st, hdrs, _ = beacon(p, "b.shop.example", "an3", headers={"X-Pixeld-Anonymous": "1"})
        assert st == 204 and "set-cookie" not in hdrs, hdrs
        assert beacon(p, "b.shop.example", "an4", headers=jar)[0] == 204
        wait_for(lambda: len(sink(p, "both")) == 4, 10, what="4 events")
        ev = {e["event_id"]: e for e in sink(p, "both")}
        assert ev["an1"]["ip"] == "127.0.0.0" and "fp_id" not in ev["an1"], ev["an1"]
        for k in ("an2", "an3"):
            assert "ip" not in ev[k] and "fp_id" not in ev[k], ev[k]
        assert ev["an4"]["ip"] == "127.0.0.1" and ev["an4"]["fp_id"] == "0123456789abcdef0123456789abcdef"


def test_gpc_denies_ad_consent_and_denied_analytics_sets_no_cookie():
    with daemon() as p:
        p.start()
        granted = {"ad_storage": "granted", "ad_user_data": "granted", "analytics_storage": "granted"}
        st, hdrs, _ = beacon(p, "b.shop.example", "g1", consent=granted, headers={"Sec-GPC": "1"})
        assert st == 204 and cookie_of(hdrs), hdrs
        assert beacon(p, "b.shop.example", "g2", consent=granted, headers={"DNT": "1"})[0] == 204
        assert beacon(p, "b.shop.example", "g3", consent=granted)[0] == 204
        # A tenant without honor_gpc keeps what the event says.
        assert beacon(p, "a.shop.example", "g4", consent=granted, headers={"Sec-GPC": "1"})[0] == 204
        jar = {"Cookie": "_pxid=0123456789abcdef0123456789abcdef.%d" % (int(time.time()) - 30 * 86400)}
        st, hdrs, _ = beacon(p, "b.shop.example", "g5", consent={"analytics_storage": "denied"},
                             headers=jar)
        assert st == 204 and "set-cookie" not in hdrs, hdrs
        st, hdrs, _ = beacon(p, "b.shop.example", "g6", consent={"analytics_storage": "denied"})
        assert st == 204 and "set-cookie" not in hdrs, hdrs
        wait_for(lambda: len(sink(p, "both")) == 6, 10, what="6 events")
        ev = {e["event_id"]: e for e in sink(p, "both")}
        for k in ("g1", "g2"):
            c = ev[k]["consent"]
            assert c["ad_storage"] == c["ad_user_data"] == c["ad_personalization"] == "denied", ev[k]
            assert c["analytics_storage"] == "granted", ev[k]
        assert ev["g3"]["consent"]["ad_storage"] == "granted", ev["g3"]
        assert ev["g4"]["consent"]["ad_storage"] == "granted", ev["g4"]
        assert "fp_id" not in ev["g5"] and "fp_id" not in ev["g6"], (ev["g5"], ev["g6"])
        m = p.metrics()
        assert m['pixeld_tenant_cookies_set_total{tenant="shop-b"}'] == 3, m
        assert m['pixeld_tenant_cookies_extended_total{tenant="shop-b"}'] == 0, m


def test_credentials_only_for_listed_origins():
    with daemon() as p:
        p.start()
        st, hdrs, _ = beacon(p, "a.shop.example", "c1", origin="https://www.shop-a.example")
        assert hdrs.get("access-control-allow-credentials") == "true", hdrs
        assert hdrs.get("vary") == "Origin", hdrs
        raw = ("OPTIONS /e HTTP/1.1\r\nHost: c.shop.example\r\nOrigin: https://x.example\r\n"
               "Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n").encode()
        st, hdrs, _ = request(p.port, raw)
        assert st == 204 and hdrs.get("access-control-allow-origin") == "https://x.example", hdrs
        assert "access-control-allow-credentials" not in hdrs, hdrs


def check(conf):
    d = tempfile.mkdtemp(prefix="pixeld-tenant-conf-")
    path = os.path.join(d, "pixeld.ini")
    with open(path, "w") as f:
        f.write("[server]\nlisten = 127.0.0.1:1\nadmin_listen = 127.0.0.1:2\ndata_dir = %s\n%s"
                % (d, conf))
    r = subprocess.run([PIXELD, "-c", path, "--check-config"], capture_output=True, text=True,
                       timeout=30)
    return r.returncode, r.stdout + r.stderr, path


def test_bad_tenant_sections_are_refused_with_file_line():
    sink_a = '[destination "a"]\ntype = jsonl\npath = a.jsonl\n'
    cases = [
        ('[tenant "t"]\nhosts = t.example\ndestinations = nope\n' + sink_a,
         'no [destination "nope"]'),
        ('[tenant "t"]\nhosts = t.example\ndestinations = a\n[destination "b"]\ntype = jsonl\n'
         'path = b.jsonl\n' + sink_a, "destination.b: no tenant lists it"),
        ('[tenant "t"]\nhosts = t.example\ndestinations = a\n[tenant "u"]\nhosts = T.example\n'
         + sink_a, "t.example is tenant t's too"),
        ('[tenant "t"]\ndestinations = a\n' + sink_a, "tenant.t: no hosts"),
        ('[tenant "t"]\nhosts = t.*.example\ndestinations = a\n' + sink_a, "leading *."),
        ('[tenant "t"]\nhosts = t.example\npaused = yes\n' + sink_a, "not true or false"),
        ('[tenant "t"]\nhosts = t.example\nconsent_ad = maybe\n' + sink_a, "granted, denied"),
        ('[tenant "t"]\nhosts = t.example\ncolour = red\n' + sink_a, "tenant.t.colour: unknown"),
        ('hosts = x.example\n[tenant "t"]\nhosts = t.example\ndestinations = a\n' + sink_a,
         "remove server.hosts"),
    ]
    for conf, want in cases:
        rc, out, path = check(conf)
        assert rc != 0 and want in out and path + ":" in out, (conf, rc, out)
    rc, out, _ = check('[tenant "t"]\nhosts = t.example\ndestinations = a\n'
                       'write_keys = wk-1, env:PXD_TEST_NO_SUCH_VAR\n' + sink_a)
    assert rc != 0 and "PXD_TEST_NO_SUCH_VAR" in out, out


if __name__ == "__main__":
    run_tests([
        test_unknown_host_is_refused_and_health_answers_any_host,
        test_each_tenant_reaches_only_its_destinations,
        test_paused_tenant_gets_402_and_its_pixels_their_image,
        test_consent_defaults_fill_only_what_the_event_left_unset,
        test_tenant_origins_replace_the_servers,
        test_id_cookie_is_set_kept_and_extended,
        test_cookie_domain_and_secure,
        test_untrusted_forwarded_proto_is_ignored,
        test_credentials_only_for_listed_origins,
        test_anonymous_tenant_and_header_keep_no_id_and_no_full_ip,
        test_gpc_denies_ad_consent_and_denied_analytics_sets_no_cookie,
        test_bad_tenant_sections_are_refused_with_file_line,
    ])
