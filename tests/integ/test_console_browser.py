"""The console in headless Chromium (Debian's chromium, playwright-core from
tests/package.json installed into build/npm): a real pixeld with an admin
key, XDP in generic mode on lo, a jsonl and a meta destination (events
without a currency dead-letter there), email pixels, under a steady load of
pixels, beacons and refusals while tests/integ/console_browser.js checks
each view (the destinations' last error with its time, redacted), the
tail, the replay action and the refusal without the key.
Screenshots of each view go to build/console/."""

import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from pxtest import BUILD, PIXELCTL, ROOT, Pixeld, http_get, http_post, run_tests

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                         "Chrome/120.0 Safari/537.36"}
KEY = "console-admin-key-7f3a"


def console_pixeld():
    d = Pixeld(server_extra="admin_key = %s\nshutdown_timeout = 1s\n" % KEY,
               dest='[destination "events"]\ntype = jsonl\npath = events.jsonl\n\n'
                    '[destination "meta"]\ntype = meta\npixel_id = 1234567890\napi_version = v25.0\n'
                    'access_token = test-console\napi_base = http://127.0.0.1:9\n')
    key = os.path.join(d.dir, "k1.key")
    with open(key, "w") as f:
        f.write("d" * 40 + "\n")
    os.chmod(key, 0o600)
    with open(d.conf, "a") as f:
        f.write("\n[email]\nkeys = k1:%s\nbase_url = https://t.shop.example\n"
                "\n[xdp]\ninterface = lo\nmode = generic\nports = %d\npin_dir = /sys/fs/bpf/pixeld-console-%d\n"
                % (key, d.port, os.getpid()))
    return d


def load(px, stop):
    """A few requests a second until <stop>: pixels, a beacon that meta
    dead-letters (value, no currency), a refused beacon."""
    n = 0
    while not stop.is_set() and n < 2000:
        n += 1
        http_get(px.port, "/p.gif?e=PageView&id=load-%d&url=https%%3A%%2F%%2Fshop.example%%2F" % n,
                 headers=BROWSER)
        if n % 5 == 0:
            http_post(px.port, "/e", '{"event":"Purchase","event_id":"dl-%d","props":{"value":5}}' % n,
                      headers=BROWSER)
            http_post(px.port, "/e", "{broken", headers=BROWSER)
        stop.wait(0.05)


def test_console_in_chromium():
    chromium = shutil.which("chromium")
    assert chromium, "chromium is missing: apt-get install chromium (make deps)"
    modules = subprocess.run([os.path.join(ROOT, "tests", "npm-setup.sh")], capture_output=True,
                             text=True, timeout=300)
    assert modules.returncode == 0, modules.stderr
    with console_pixeld() as px:
        px.start()
        stop = threading.Event()
        t = threading.Thread(target=load, args=(px, stop))
        t.start()
        try:
            out = subprocess.run([PIXELCTL, "-c", px.conf, "pixel", "sign", "--campaign", "console-campaign",
                                  "--message", "m-1", "--recipient", "r-1"],
                                 capture_output=True, text=True, timeout=10)
            assert out.returncode == 0, out.stderr
            st, _, _ = http_get(px.port, urllib.parse.urlsplit(out.stdout.strip()).path,
                                headers={"User-Agent": "Mozilla/5.0 (Macintosh) Thunderbird/115.0"})
            assert st == 200
            env = dict(os.environ, PLAYWRIGHT=os.path.join(modules.stdout.strip(), "playwright-core"),
                       CHROMIUM=chromium, ADMIN_URL="http://127.0.0.1:%d" % px.admin_port,
                       PUBLIC_URL="http://127.0.0.1:%d" % px.port, ADMIN_KEY=KEY,
                       SHOTS=os.path.join(BUILD, "console"), MARKS="mark-1,mark-2,mark-3")
            run = subprocess.run(["node", os.path.join(ROOT, "tests", "integ", "console_browser.js")],
                                 env=env, capture_output=True, text=True, timeout=240)
            print(run.stdout + run.stderr)
            assert run.returncode == 0, "the browser checks failed"
            assert run.stdout.strip().endswith(" 0 failed")
            for v in ("throughput", "destinations", "dead-letters", "tail", "xdp", "email", "journal"):
                assert os.path.getsize(os.path.join(BUILD, "console", "console-%s.png" % v)) > 1000, v
        finally:
            stop.set()
            t.join(30)


if __name__ == "__main__":
    run_tests([test_console_in_chromium])
