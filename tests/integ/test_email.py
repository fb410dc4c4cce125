"""Email open pixels against the real pixeld: minted URLs, classification,
first-open dedup across a restart, forged tokens, key rotation, bulk minting."""

import json
import os
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from pxtest import PIXELCTL, Pixeld, Sock, http_get, request, run_tests, wait_for

HUMAN_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Thunderbird/115.0"


def write_key(d, name, secret):
    path = os.path.join(d, name + ".key")
    with open(path, "w") as f:
        f.write(secret + "\n")
    os.chmod(path, 0o600)
    return path


def email_pixeld(keys):
    p = Pixeld()
    paths = ["%s:%s" % (kid, write_key(p.dir, kid, secret)) for kid, secret in keys]
    with open(p.conf, "a") as f:
        f.write("\n[email]\nkeys = %s\nbase_url = https://t.shop.example\n" % ", ".join(paths))
    return p


def sign(p, *args):
    out = subprocess.run([PIXELCTL, "-c", p.conf, "pixel", "sign", *args], capture_output=True,
                         text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def path_of(url):
    return urllib.parse.urlsplit(url).path


def fetch(p, url, ua=HUMAN_UA):
    raw = ("GET %s HTTP/1.1\r\nHost: t.shop.example\r\nUser-Agent: %s\r\nConnection: close\r\n\r\n"
           % (path_of(url), ua)).encode()
    st, h, body = request(p.port, raw)
    assert st == 200 and body.startswith(b"GIF89a") and len(body) == 43, (st, body[:10])
    assert h["cache-control"] == "no-store, private", h
    assert "set-cookie" not in h
    return h


def opens(p):
    return [e for e in p.events() if e["event"] == "EmailOpen"]


def rejected(p, reason):
    return p.metric('pixeld_email_tokens_rejected_total{reason="%s"}' % reason)


def test_open_events_and_first_open_across_restart():
    p = email_pixeld([("k1", "a" * 40)])
    try:
        p.start()
        url = sign(p, "--campaign", "spring", "--message", "m-1", "--recipient", "r-9", "--meta", "variant=B")
        assert url.startswith("https://t.shop.example/o/") and url.endswith(".gif"), url
        fetch(p, url)
        ev = wait_for(lambda: opens(p), what="EmailOpen")[0]
        props = ev["props"]
        assert props["campaign"] == "spring" and props["message"] == "m-1" and props["recipient"] == "r-9", props
        assert props["meta"] == {"variant": "B"}, props
        assert props["open_kind"] == "human" and props["first_open"] is True, props
        assert ev["source"] == "email" and ev["ua"] == HUMAN_UA and ev["ip"] == "127.0.0.1"
        fetch(p, url)
        wait_for(lambda: len(opens(p)) == 2, what="second open")
        assert opens(p)[1]["props"]["first_open"] is False
        html = sign(p, "--campaign", "c", "--message", "m", "--recipient", "r", "--html")
        assert html.startswith("<img src=\"https://t.shop.example/o/"), html
        assert p.stop() == 0
        p.start()
        fetch(p, url)
        wait_for(lambda: len(opens(p)) == 3, what="open after restart")
        assert opens(p)[2]["props"]["first_open"] is False, "first-open state lost in the restart"
    finally:
        p.cleanup()


def test_classification():
    p = email_pixeld([("k1", "b" * 40)])
    try:
        p.start()
        cases = [(HUMAN_UA, "human"),
                 ("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", "gmail_proxy"),
                 ("YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html", "yahoo_proxy"),
                 ("Mozilla/5.0", "apple_mpp")]
        for i, (ua, kind) in enumerate(cases):
            url = sign(p, "--campaign", "c", "--message", "m-%d" % i, "--recipient", "r")
            fetch(p, url, ua)
            got = wait_for(lambda: [e for e in opens(p) if e["props"]["message"] == "m-%d" % i], what=kind)
            assert got[0]["props"]["open_kind"] == kind, (ua, got[0]["props"])
        assert p.metric('pixeld_email_opens_total{kind="gmail_proxy"}') == 1
    finally:
        p.cleanup()


def test_forged_tokens_count_and_make_no_event():
    p = email_pixeld([("k1", "c" * 40)])
    other = email_pixeld([("k9", "d" * 40)])
    try:
        p.start()
        url = sign(p, "--campaign", "c", "--message", "m", "--recipient", "r")
        token = path_of(url)[3:-4]
        flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
        fetch(p, "/o/%s.gif" % flipped)
        fetch(p, "/o/%s.gif" % token[:-7])
        fetch(p, "/o/.gif")
        fetch(p, "/o/not-base64!!.gif")
        foreign = sign(other, "--campaign", "c", "--message", "m", "--recipient", "r")
        fetch(p, foreign)
        wait_for(lambda: rejected(p, "unknown_key") == 1, what="unknown_key counted")
        assert rejected(p, "bad_signature") + rejected(p, "malformed") >= 4, p.metrics()
        assert opens(p) == []
    finally:
        p.cleanup()
        other.cleanup()


def test_key_rotation():
    old = email_pixeld([("k1", "e" * 40)])
    try:
        url_old = sign(old, "--campaign", "c", "--message", "old", "--recipient", "r")
        rotated = email_pixeld([("k2", "f" * 40), ("k1", "e" * 40)])
        try:
            rotated.start()
            url_new = sign(rotated, "--campaign", "c", "--message", "new", "--recipient", "r")
            fetch(rotated, url_old)
            fetch(rotated, url_new)
            wait_for(lambda: len(opens(rotated)) == 2, what="both keys verify")
            out = subprocess.run([PIXELCTL, "-c", rotated.conf, "pixel", "verify", url_new],
                                 capture_output=True, text=True, timeout=10)
            assert out.returncode == 0 and "k2" in out.stdout, out
        finally:
            rotated.cleanup()
        retired = email_pixeld([("k2", "f" * 40)])
        try:
            retired.start()
            fetch(retired, url_old)
            wait_for(lambda: rejected(retired, "unknown_key") == 1, what="retired key refused")
            assert opens(retired) == []
        finally:
            retired.cleanup()
    finally:
        old.cleanup()


def test_admin_mints_10000():
    p = email_pixeld([("k1", "g" * 40)])
    try:
        p.start()
        reqs = [{"campaign": "bulk", "message": "m-%d" % i, "recipient": "r-%d" % i} for i in range(10000)]
        body = json.dumps(reqs).encode()
        raw = (b"POST /admin/pixel/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)) + body
        s = Sock(p.admin_port, timeout=60)
        s.send(raw)
        st, h, resp = s.response()
        s.close()
        assert st == 200, (st, resp[:200])
        urls = json.loads(resp)["urls"]
        assert len(urls) == 10000
        # Every URL verifies: fetch them all, pipelined, and count the events.
        s = Sock(p.port, timeout=60)
        for chunk in range(0, 10000, 500):
            s.send(b"".join(("GET %s HTTP/1.1\r\nHost: t\r\nUser-Agent: %s\r\n\r\n" % (path_of(u), HUMAN_UA)).encode()
                            for u in urls[chunk:chunk + 500]))
            for _ in range(500):
                assert s.response()[0] == 200
        s.close()
        evs = wait_for(lambda: len(opens(p)) == 10000 and opens(p), timeout=30, what="10000 opens")
        assert [e["props"]["message"] for e in evs] == ["m-%d" % i for i in range(10000)]
        assert rejected(p, "bad_signature") == 0
        bad = json.dumps([{"campaign": "c", "message": "m"}]).encode()
        st, h, resp = request(p.admin_port, b"POST /admin/pixel/generate HTTP/1.1\r\nHost: x\r\n"
                              b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(bad) + bad)
        assert st == 400 and json.loads(resp)["field"] == "recipient", (st, resp)
    finally:
        p.cleanup()


if __name__ == "__main__":
    run_tests([test_open_events_and_first_open_across_restart, test_classification,
               test_forged_tokens_count_and_make_no_event, test_key_rotation, test_admin_mints_10000])
