#!/usr/bin/env python3
"""Credentialed CORS in headless Chromium (Debian's, driven by playwright-core
from build/npm): a page on https://shop.example:PORT fetches a tenant's
collector host https://t.shop.example with credentials: 'include'. Both
fetches succeed (preflight and answer carry Allow-Credentials), the
first-party id cookie is stored (Domain shop.example, Secure, HttpOnly,
SameSite=Lax) and comes back with the second fetch: both events carry the
same fp_id. Prints "N passed, N failed" last."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pxtest import ROOT, node_modules, run_tests  # noqa: E402
from test_tls import CA, OTHER, SHOP, TlsPixeld, cert_section  # noqa: E402
from test_tls_browser import ShopPage, need_browser  # noqa: E402

SCRIPT = os.path.join(ROOT, "tests", "integ", "browser", "credentialed_fetch.js")


def test_credentialed_fetch_round_trips_the_id_cookie():
    page = ShopPage()
    try:
        tenant = ('[tenant "shop"]\nhosts = t.shop.example\ncors_origins = https://shop.example:%d\n'
                  'destinations = events\n' % page.port)
        certs = (cert_section("shop", SHOP, "t.shop.example, *.shop.example")
                 + cert_section("other", OTHER, "px.other.example") + tenant)
        with TlsPixeld(certs=certs) as p:
            p.start()
            spki = ",".join(CA.spki_sha256(c) for c in (page.cert[0], os.path.join(CA.dir, "shop.pem")))
            r = subprocess.run(["node", SCRIPT, str(p.tls_port), str(page.port), spki],
                               env=dict(os.environ, NODE_PATH=node_modules()), capture_output=True,
                               text=True, timeout=180)
            assert r.returncode == 0, r.stderr
            out = json.loads(r.stdout.strip().splitlines()[-1])
            assert out["statuses"] == [204, 204], out
            ids = [c for c in out["cookies"] if c["name"] == "_pxid"]
            assert len(ids) == 1, out
            c = ids[0]
            assert c["domain"] in ("shop.example", ".shop.example"), c
            assert c["secure"] and c["httpOnly"] and c["sameSite"] == "Lax", c
            evs = p.wait_events(2, timeout=15)
            fp = {e["event_id"]: e.get("fp_id") for e in evs}
            assert fp["cred-1"] == fp["cred-2"] == c["value"].split(".")[0], (fp, c)
            assert {e["tenant"] for e in evs} == {"shop"}, evs
    finally:
        page.close()


if __name__ == "__main__":
    need_browser()
    run_tests([test_credentialed_fetch_round_trips_the_id_cookie])
