"""Headless Chromium (Debian's, driven by playwright-core from build/npm) on
an https page of another origin sends a sendBeacon and an image pixel to
pixeld's TLS listener. Chromium trusts the test certificates by their SPKI
hashes (--ignore-certificate-errors-spki-list), nothing else."""

import http.server
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(__file__))
from pxtest import ROOT, free_port, node_modules, run_tests
from test_tls import CA, TlsPixeld

SCRIPT = os.path.join(ROOT, "tests", "integ", "browser", "tls_beacon.js")


def need_browser():
    missing = [what for what, ok in (
        ("chromium", shutil.which("chromium")),
        ("node", shutil.which("node")),
    ) if not ok]
    if missing:
        print("cannot run: missing " + ", ".join(missing))
        sys.exit(1 if os.environ.get("CI") == "true" else 77)


class ShopPage:
    """https://shop.example:PORT/checkout.html on loopback, with its own certificate."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="pixeld-shop-")
        with open(os.path.join(self.dir, "checkout.html"), "w") as f:
            f.write("<!doctype html><title>checkout</title><p>thank you</p>")
        self.cert = CA.issue("shop-page", ["shop.example"])
        handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=self.dir)
        self.port = free_port()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*self.cert)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        shutil.rmtree(self.dir, ignore_errors=True)


def test_chromium_beacon_and_image_over_https():
    page = ShopPage()
    try:
        with TlsPixeld() as p:
            p.start()
            spki = ",".join(CA.spki_sha256(c) for c in (page.cert[0], os.path.join(CA.dir, "shop.pem")))
            r = subprocess.run(["node", SCRIPT, str(p.tls_port), str(page.port), spki],
                               env=dict(os.environ, NODE_PATH=node_modules()), capture_output=True,
                               text=True, timeout=180)
            assert r.returncode == 0, r.stderr
            assert '"beacon":true' in r.stdout and '"image":"loaded"' in r.stdout, (r.stdout, r.stderr)
            assert '"origin":"https://shop.example:%d"' % page.port in r.stdout, r.stdout
            evs = p.wait_events(2, timeout=15)
            by_source = {e["source"]: e for e in evs}
            assert by_source["beacon"]["event"] == "Purchase", evs
            assert by_source["pixel"]["event"] == "PageView", evs
            assert all(e["scheme"] == "https" for e in evs), evs
            assert all("HeadlessChrome" not in e["ua"] for e in evs), evs
    finally:
        page.close()


if __name__ == "__main__":
    need_browser()
    run_tests([test_chromium_beacon_and_image_over_https])
