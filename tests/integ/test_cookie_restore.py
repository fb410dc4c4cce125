#!/usr/bin/env python3
"""Cookie restoration (a tenant's restore_cookies) against the real daemon
and the real mockplatform: _fbp written in Meta's format fb.1.<ms>.<random>
when a Meta-bound event has none, _fbc fb.1.<ms>.<fbclid> from the page URL's
fbclid (and the pixel's Referer), the browser's own cookies sent back
unchanged with a longer Max-Age (extended, not replaced), the values in the
events and in Meta's user_data.fbp/fbc, the restored/extended counters, and
no platform cookie under denied ad_storage, GPC with honor_gpc, anonymous
mode (tenant and header) or for a tenant with no Meta destination, and a bad
restore_cookies value refused at load with its file:line. Then the
round trip in headless Chromium: a page opened with ?fbclid= gets both
cookies, readable by the page's scripts, and the second fetch brings them
back. Prints "N passed, N failed" last."""

import json
import os
import re
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pxtest import ROOT, Pixeld, Sock, node_modules, run_tests, wait_for  # noqa: E402
from test_delivery import Mock  # noqa: E402

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
MAX_AGE = 400 * 86400
FBP = re.compile(r"^fb\.1\.(\d{13})\.(\d{1,10})$")


TENANTS = """
[tenant "shop"]
hosts = t.shop.example
destinations = meta, sink
restore_cookies = _fbp, _fbc
honor_gpc = true

[tenant "anon"]
hosts = t.anon.example
destinations = meta, sink
restore_cookies = _fbp, _fbc
anonymous = true

[tenant "nometa"]
hosts = t.nometa.example
destinations = sink
restore_cookies = _fbp, _fbc
"""
META = ('[destination "meta"]\ntype = meta\npixel_id = 1234567890\napi_version = v25.0\n'
        'access_token = test-meta\napi_base = http://127.0.0.1:%d\nlinger_ms = 20\n')


class Stack:
    """The mock Meta and a pixeld with <tenants>, a meta and a jsonl "sink" destination."""

    def __init__(self, tenants=TENANTS, server_extra="", start=True):
        self.mock = Mock().start()
        self.px = Pixeld(extra=tenants + "\n" + META % self.mock.port +
                         '\n[destination "sink"]\ntype = jsonl\npath = sink.jsonl\n',
                         dest="", server_extra=server_extra)
        self.start = start

    def __enter__(self):
        if self.start:
            self.px.start()
        return self

    def __exit__(self, *exc):
        if exc[0]:
            sys.stdout.write("--- pixeld log ---\n%s\n" % self.px.read_log()[-3000:])
        self.px.cleanup()
        self.mock.cleanup()

    def sink(self):
        path = os.path.join(self.px.data_dir, "sink.jsonl")
        if not os.path.exists(path):
            return {}
        with open(path) as f:
            return {e["event_id"]: e for e in map(json.loads, f) if e}

    def sunk(self, *ids):
        return wait_for(lambda: all(i in self.sink() for i in ids) and self.sink(), 10,
                        what="events %s in sink.jsonl" % (ids,))

    def meta(self, eid):
        self.mock.wait_ids("meta", [eid])
        return next(r["event"] for r in self.mock.records("meta") if r["event_id"] == eid)


def exchange(port, method, path, host, headers=None, body=b""):
    """One request; (status, every Set-Cookie as {name: (value, attrs)})."""
    hdrs = dict({"User-Agent": UA}, **(headers or {}))
    if body:
        hdrs.update({"Content-Type": "application/json", "Content-Length": str(len(body))})
    raw = "%s %s HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n" % (
        method, path, host, "".join("%s: %s\r\n" % kv for kv in hdrs.items()))
    s = Sock(port)
    try:
        s.send(raw.encode() + body)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(65536)
            assert chunk, "closed before the answer's head: %r" % head
            head += chunk
    finally:
        s.close()
    lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    cookies = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        if k.lower() == "set-cookie":
            name, rest = v.strip().split("=", 1)
            value, _, attrs = rest.partition("; ")
            assert name not in cookies, "two Set-Cookie lines for %s: %s" % (name, lines)
            cookies[name] = (value, attrs)
    return int(lines[0].split(" ")[1]), cookies


def pixel(st, eid, host="t.shop.example", page=None, headers=None):
    q = "/p.gif?e=PageView&id=%s" % eid
    if page:
        q += "&url=" + urllib.parse.quote(page, safe="")
    status, cookies = exchange(st.px.port, "GET", q, host, headers)
    assert status == 200, status
    return cookies


def beacon(st, eid, page="https://shop.example/", host="t.shop.example", consent=None, headers=None):
    ev = {"event": "Purchase", "event_id": eid, "url": page, "props": {"value": 5, "currency": "EUR"}}
    if consent:
        ev["consent"] = consent
    status, cookies = exchange(st.px.port, "POST", "/e", host, headers, json.dumps(ev).encode())
    assert status == 204, status
    return cookies


def check_attrs(attrs):
    parts = attrs.split("; ")
    assert parts[:3] == ["Max-Age=%d" % MAX_AGE, "Path=/", "Domain=shop.example"], attrs
    assert "HttpOnly" not in parts, "Meta's own script must read it: %s" % attrs
    assert parts[-1] == "SameSite=Lax", attrs


def counters(st, tenant="shop"):
    m = st.px.metrics()
    return tuple(m['pixeld_tenant_cookies_%s_total{tenant="%s"}' % (k, tenant)]
                 for k in ("set", "extended", "restored"))


def test_fbp_is_restored_in_meta_format():
    with Stack() as st:
        t0 = int(time.time() * 1000)
        got = pixel(st, "fbp-1", page="https://shop.example/p/1")
        t1 = int(time.time() * 1000)
        assert "_fbc" not in got, "no fbclid, no _fbc: %s" % got
        value, attrs = got["_fbp"]
        m = FBP.match(value)
        assert m and t0 <= int(m.group(1)) <= t1 and int(m.group(2)) < 2 ** 31, value
        check_attrs(attrs)
        assert "_pxid" in got, got
        assert st.sunk("fbp-1")["fbp-1"]["click"]["fbp"] == value
        assert st.meta("fbp-1")["user_data"]["fbp"] == value
        # Each browser gets its own.
        other = pixel(st, "fbp-2")["_fbp"][0]
        assert FBP.match(other) and other != value, (value, other)
        assert counters(st) == (2, 0, 2), counters(st)


def test_fbc_comes_from_the_page_urls_fbclid():
    with Stack() as st:
        t0 = int(time.time() * 1000)
        got = beacon(st, "fbc-1", page="https://shop.example/landing?utm_source=fb&fbclid=IwAR_x-9Z#top")
        t1 = int(time.time() * 1000)
        value, attrs = got["_fbc"]
        m = re.match(r"^fb\.1\.(\d{13})\.IwAR_x-9Z$", value)
        assert m and t0 <= int(m.group(1)) <= t1, value
        check_attrs(attrs)
        assert st.sunk("fbc-1")["fbc-1"]["click"]["fbc"] == value
        ud = st.meta("fbc-1")["user_data"]
        assert ud["fbc"] == value and ud["fbp"] == got["_fbp"][0], (ud, got)
        # A pixel without url= is on the page its Referer names.
        got = pixel(st, "fbc-2", headers={"Referer": "https://shop.example/?fbclid=IwAR2Referer"})
        assert got["_fbc"][0].endswith(".IwAR2Referer"), got
        # Not a click id (percent-encoded bytes): no _fbc.
        got = beacon(st, "fbc-3", page="https://shop.example/?fbclid=%3Cscript%3E")
        assert "_fbc" not in got and "_fbp" in got, got
        assert counters(st)[2] == 5, counters(st)


def test_the_browsers_cookies_are_extended_not_replaced():
    with Stack() as st:
        fbp, fbc = "fb.1.1596403881668.1116446470", "fb.1.1554763741205.IwAROld"
        cookie = {"Cookie": "_fbp=%s; _fbc=%s" % (fbp, fbc)}
        got = pixel(st, "ext-1", page="https://shop.example/", headers=cookie)
        assert got["_fbp"][0] == fbp and got["_fbc"][0] == fbc, got
        check_attrs(got["_fbp"][1])
        check_attrs(got["_fbc"][1])
        e = st.sunk("ext-1")["ext-1"]
        assert e["click"] == {"fbc": fbc, "fbp": fbp}, e
        ud = st.meta("ext-1")["user_data"]
        assert ud["fbp"] == fbp and ud["fbc"] == fbc, ud
        # The same click again keeps its first-seen time.
        got = pixel(st, "ext-2", page="https://shop.example/?fbclid=IwAROld", headers=cookie)
        assert got["_fbc"][0] == fbc, got
        assert counters(st) == (2, 4, 0), counters(st)
        # A new click is a new _fbc; the browser id stays.
        got = pixel(st, "ext-3", page="https://shop.example/?fbclid=IwARNew", headers=cookie)
        assert got["_fbp"][0] == fbp and got["_fbc"][0].endswith(".IwARNew"), got
        assert got["_fbc"][0] != fbc
        # A damaged value is not echoed back: a new _fbp replaces it.
        got = pixel(st, "ext-4", headers={"Cookie": "_fbp=fb.1.x; y"})
        assert FBP.match(got["_fbp"][0]), got
        # An event that brings its own fbp gets no second one.
        ev = {"event": "Lead", "event_id": "ext-5", "click": {"fbp": "fb.1.1700000000000.42"}}
        status, got = exchange(st.px.port, "POST", "/e", "t.shop.example", None, json.dumps(ev).encode())
        assert status == 204 and "_fbp" not in got, got
        assert st.sunk("ext-5")["ext-5"]["click"]["fbp"] == "fb.1.1700000000000.42"
        assert counters(st) == (5, 5, 2), counters(st)


def test_no_platform_cookie_without_ad_consent_under_gpc_or_anonymous():
    with Stack() as st:
        page = "https://shop.example/?fbclid=IwARdenied"
        got = beacon(st, "no-1", page=page, consent={"ad_storage": "denied"})
        assert not {"_fbp", "_fbc"} & set(got) and "_pxid" in got, got
        got = beacon(st, "no-2", page=page, headers={"Sec-GPC": "1"})
        assert not {"_fbp", "_fbc"} & set(got) and "_pxid" in got, got
        got = beacon(st, "no-3", page=page, headers={"X-Pixeld-Anonymous": "1"})
        assert got == {}, got
        got = beacon(st, "no-4", page=page, host="t.anon.example")
        assert got == {}, got
        got = beacon(st, "no-5", page=page, host="t.nometa.example")
        assert not {"_fbp", "_fbc"} & set(got), got
        # A browser's own cookies are not touched either.
        got = beacon(st, "no-6", page=page, consent={"ad_storage": "denied"},
                     headers={"Cookie": "_fbp=fb.1.1596403881668.1116446470"})
        assert "_fbp" not in got, got
        sink = st.sunk(*("no-%d" % i for i in range(1, 7)))
        for i in (1, 2, 3, 4, 5):
            assert "fbp" not in sink["no-%d" % i].get("click", {}), sink["no-%d" % i]
            assert "fbc" not in sink["no-%d" % i].get("click", {}), sink["no-%d" % i]
        for t in ("shop", "anon", "nometa"):
            assert counters(st, t)[1:] == (0, 0), (t, counters(st, t))


def test_a_bad_restore_cookies_value_is_refused_with_file_line():
    from test_tenants import check

    rc, out, path = check('[tenant "t"]\nhosts = t.example\ndestinations = a\nrestore_cookies = _fbp, _ga\n'
                          '[destination "a"]\ntype = jsonl\npath = a.jsonl\n')
    assert rc != 0 and '"_ga" is not a cookie pixeld restores' in out and path + ":8:" in out, out
    rc, out, _ = check('[tenant "t"]\nhosts = t.example\ndestinations = a\nrestore_cookies = none\n'
                       '[destination "a"]\ntype = jsonl\npath = a.jsonl\n')
    assert rc == 0, out


def test_chromium_round_trip_keeps_the_restored_cookies():
    from test_tls import CA, OTHER, SHOP, TlsPixeld, cert_section
    from test_tls_browser import ShopPage, need_browser

    need_browser()
    page = ShopPage()
    mock = Mock().start()
    try:
        tenant = ('[tenant "shop"]\nhosts = t.shop.example\ncors_origins = https://shop.example:%d\n'
                  'destinations = events, meta\nrestore_cookies = _fbp, _fbc\n' % page.port
                  + META % mock.port)
        certs = (cert_section("shop", SHOP, "t.shop.example, *.shop.example")
                 + cert_section("other", OTHER, "px.other.example") + tenant)
        with TlsPixeld(certs=certs) as p:
            p.start()
            spki = ",".join(CA.spki_sha256(c) for c in (page.cert[0], os.path.join(CA.dir, "shop.pem")))
            r = subprocess.run(["node", os.path.join(ROOT, "tests", "integ", "browser", "credentialed_fetch.js"),
                                str(p.tls_port), str(page.port), spki, "/checkout.html?fbclid=IwAR_chromium"],
                               env=dict(os.environ, NODE_PATH=node_modules()), capture_output=True,
                               text=True, timeout=180)
            assert r.returncode == 0, r.stderr
            out = json.loads(r.stdout.strip().splitlines()[-1])
            assert out["statuses"] == [204, 204], out
            jar = {c["name"]: c for c in out["cookies"]}
            for name in ("_fbp", "_fbc"):
                c = jar[name]
                assert c["domain"] in ("shop.example", ".shop.example") and c["secure"], c
                assert not c["httpOnly"] and c["sameSite"] == "Lax", c
                assert "%s=%s" % (name, c["value"]) in out["pageCookies"], out
            assert FBP.match(jar["_fbp"]["value"]), jar
            assert jar["_fbc"]["value"].endswith(".IwAR_chromium"), jar
            evs = {e["event_id"]: e for e in p.wait_events(2, timeout=15)}
            # The second fetch sent them back: the same values, extended.
            for eid in ("cred-1", "cred-2"):
                assert evs[eid]["click"] == {"fbc": jar["_fbc"]["value"], "fbp": jar["_fbp"]["value"]}, evs
            m = p.metrics()
            assert m['pixeld_tenant_cookies_restored_total{tenant="shop"}'] == 2, m
            assert m['pixeld_tenant_cookies_extended_total{tenant="shop"}'] == 2, m
            mock.wait_ids("meta", ["cred-1", "cred-2"])
            for rec in mock.records("meta"):
                assert rec["event"]["user_data"]["fbp"] == jar["_fbp"]["value"], rec
    finally:
        mock.cleanup()
        page.close()


if __name__ == "__main__":
    run_tests([test_fbp_is_restored_in_meta_format, test_fbc_comes_from_the_page_urls_fbclid,
               test_the_browsers_cookies_are_extended_not_replaced,
               test_no_platform_cookie_without_ad_consent_under_gpc_or_anonymous,
               test_a_bad_restore_cookies_value_is_refused_with_file_line,
               test_chromium_round_trip_keeps_the_restored_cookies])
