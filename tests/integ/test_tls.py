"""HTTPS on server.tls_listen: real clients (curl, openssl s_client, Python's
ssl) against the real daemon with certificates a throw-away CA makes."""

import os
import resource
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from pxtest import PIXELCTL, Pixeld, free_port, read_response, run_tests, wait_for
from tlsca import TestCA

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
CA = TestCA(tempfile.mkdtemp(prefix="pixeld-tls-ca-"))
SHOP = CA.issue("shop", ["t.shop.example", "*.shop.example"])
OTHER = CA.issue("other", ["px.other.example"])


def cert_section(name, pair, hosts):
    return '[certificate "%s"]\ncert = %s\nkey = %s\nhosts = %s\n' % (name, pair[0], pair[1], hosts)


class TlsPixeld(Pixeld):
    """pixeld with a TLS listener and the shop and other certificates."""

    def __init__(self, threads=2, tls="", certs=None, server_extra=""):
        self.tls_port = free_port()
        if certs is None:
            certs = cert_section("shop", SHOP, "t.shop.example, *.shop.example") + cert_section(
                "other", OTHER, "px.other.example")
        super().__init__(
            extra=("[tls]\n%s\n" % tls if tls else "") + certs,
            server_extra="tls_listen = 127.0.0.1:%d\nhandshake_timeout = 1s\n%s" %
            (self.tls_port, server_extra),
            threads=threads)


def client_ctx():
    ctx = ssl.create_default_context(cafile=CA.pem)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


class TlsConn:
    """One verified TLS connection to pixeld, for keep-alive requests."""

    def __init__(self, port, host="t.shop.example", ctx=None, session=None, timeout=10):
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.s = (ctx or client_ctx()).wrap_socket(raw, server_hostname=host, session=session)
        self._pxbuf = b""
        self.host = host

    def recv(self, n):
        return self.s.recv(n)

    def get(self, path, close=False):
        self.s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n%s\r\n" %
                        (path, self.host, UA, "Connection: close\r\n" if close else "")).encode())
        return read_response(self)

    def serial(self):
        return "%X" % int(self.s.getpeercert()["serialNumber"], 16)

    def close(self):
        self.s.close()


def s_client(port, *args, stdin=b"", timeout=20):
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-CAfile", CA.pem,
                        *args], input=stdin, capture_output=True, timeout=timeout)
    return r.returncode, r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")


def test_curl_cacert_event_marked_https():
    with TlsPixeld() as p:
        p.start()
        r = subprocess.run(["curl", "-sS", "--cacert", CA.pem, "-A", UA, "--resolve",
                            "t.shop.example:%d:127.0.0.1" % p.tls_port, "-o", "/dev/null", "-w",
                            "%{http_code} %{ssl_verify_result}",
                            "https://t.shop.example:%d/p?e=PageView&id=curl-tls" % p.tls_port],
                           capture_output=True, text=True, timeout=30)
        assert r.stdout == "204 0", (r.stdout, r.stderr)
        plain = subprocess.run(["curl", "-sS", "-A", UA, "-o", "/dev/null", "-w", "%{http_code}",
                                "http://127.0.0.1:%d/p?e=PageView&id=curl-plain" % p.port],
                               capture_output=True, text=True, timeout=30)
        assert plain.stdout == "204", plain.stdout
        evs = {e["event_id"]: e for e in p.wait_events(2)}
        assert evs["curl-tls"]["scheme"] == "https", evs["curl-tls"]
        assert "scheme" not in evs["curl-plain"], evs["curl-plain"]


def test_s_client_sni_alpn_and_versions():
    with TlsPixeld() as p:
        p.start()
        for ver in ("-tls1_2", "-tls1_3"):
            rc, out = s_client(p.tls_port, ver, "-servername", "t.shop.example", "-alpn", "http/1.1",
                               "-verify_return_error")
            assert rc == 0, out
            assert "Verify return code: 0 (ok)" in out, out
            assert "ALPN protocol: http/1.1" in out, out
            assert ("TLSv1.2" if ver == "-tls1_2" else "TLSv1.3") in out, out
            assert "subject=CN = t.shop.example" in out, out
        rc, out = s_client(p.tls_port, "-servername", "px.other.example", "-verify_return_error")
        assert rc == 0 and "subject=CN = px.other.example" in out, out
        # A wildcard matches one label; a name no section lists gets the default (the first).
        rc, out = s_client(p.tls_port, "-servername", "cdn.shop.example")
        assert "subject=CN = t.shop.example" in out, out
        rc, out = s_client(p.tls_port, "-servername", "nobody.example")
        assert "subject=CN = t.shop.example" in out, out
        # Offering ALPN without http/1.1 is refused (RFC 7301 no_application_protocol).
        rc, out = s_client(p.tls_port, "-servername", "t.shop.example", "-alpn", "h2")
        assert "no application protocol" in out or "alert" in out.lower(), out
        # TLS 1.1 and older are refused.
        rc, out = s_client(p.tls_port, "-tls1_1", "-servername", "t.shop.example")
        assert rc != 0, out
        m = p.metrics()
        assert m['pixeld_tls_handshakes_total{result="ok",version="TLSv1.2"}'] >= 1, m
        assert m['pixeld_tls_handshakes_total{result="ok",version="TLSv1.3"}'] >= 4, m
        assert m['pixeld_tls_handshake_failures_total{reason="alpn"}'] == 1, m
        assert m['pixeld_tls_handshake_failures_total{reason="protocol"}'] == 1, m


def test_unknown_name_refused_without_default():
    with TlsPixeld(tls="default_certificate = none") as p:
        p.start()
        rc, out = s_client(p.tls_port, "-servername", "nobody.example")
        assert rc != 0 and "unrecognized name" in out, out
        rc, out = s_client(p.tls_port, "-noservername")
        assert rc != 0, out
        rc, out = s_client(p.tls_port, "-servername", "t.shop.example", "-verify_return_error")
        assert rc == 0, out
        wait_for(lambda: p.metric('pixeld_tls_handshake_failures_total{reason="unknown_name"}') == 2,
                 5, what="two unknown_name failures")


def test_python_ssl_keepalive_and_pipelining():
    with TlsPixeld() as p:
        p.start()
        c = TlsConn(p.tls_port)
        assert c.s.selected_alpn_protocol() == "http/1.1"
        for i in range(50):
            st, _, _ = c.get("/p?e=PageView&id=ka-%d" % i)
            assert st == 204, st
        # Ten requests in one write: ten answers, in order, over the same records.
        c.s.sendall("".join("GET /p?e=PageView&id=pipe-%d HTTP/1.1\r\nHost: t.shop.example\r\n"
                            "User-Agent: %s\r\n\r\n" % (i, UA) for i in range(10)).encode())
        for i in range(10):
            st, _, _ = read_response(c)
            assert st == 204, st
        c.close()
        evs = p.wait_events(60)
        assert all(e.get("scheme") == "https" for e in evs)
        assert p.metric('pixeld_tls_handshakes_total{result="ok",version="TLSv1.3"}') == 1


def test_resumption_with_ticket_on_any_thread():
    with TlsPixeld(threads=4) as p:
        p.start()
        ctx = client_ctx()
        first = TlsConn(p.tls_port, ctx=ctx)
        assert first.get("/health")[0] == 200
        session = first.s.session
        assert not first.s.session_reused
        first.close()
        # SO_REUSEPORT spreads these over the 4 threads: a ticket only the issuing
        # thread could open would fail on about three quarters of them.
        for i in range(16):
            c = TlsConn(p.tls_port, ctx=ctx, session=session)
            assert c.get("/health")[0] == 200
            assert c.s.session_reused, "connection %d was not resumed" % i
            c.close()
        m = p.metrics()
        assert m['pixeld_tls_resumptions_total{version="TLSv1.3"}'] == 16, m
        # TLS 1.2 resumes by ticket too (no session cache).
        ctx = client_ctx()
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        first = TlsConn(p.tls_port, ctx=ctx)
        assert first.get("/health")[0] == 200
        session = first.s.session
        first.close()
        for _ in range(4):
            c = TlsConn(p.tls_port, ctx=ctx, session=session)
            assert c.get("/health")[0] == 200 and c.s.session_reused
            c.close()
        assert p.metric('pixeld_tls_resumptions_total{version="TLSv1.2"}') == 4


def test_close_notify_after_the_last_answer():
    # A connection that closes after its answer ends with close_notify: the client
    # knows the answer is whole, and OpenSSL clients keep its ticket resumable.
    with TlsPixeld() as p:
        p.start()
        raw = socket.create_connection(("127.0.0.1", p.tls_port), timeout=10)
        s = client_ctx().wrap_socket(raw, server_hostname="t.shop.example", suppress_ragged_eofs=False)
        s.sendall(("GET /p?e=PageView&id=close-notify HTTP/1.1\r\nHost: t.shop.example\r\n"
                   "User-Agent: %s\r\nConnection: close\r\n\r\n" % UA).encode())
        data = b""
        while True:
            chunk = s.recv(4096)  # an EOF without close_notify raises SSLEOFError here
            if not chunk:
                break
            data += chunk
        assert data.startswith(b"HTTP/1.1 204 "), data[:80]
        assert s.session is not None and s.session.has_ticket
        s.close()


def test_plain_http_on_tls_port_gets_400_then_close():
    with TlsPixeld() as p:
        p.start()
        s = socket.create_connection(("127.0.0.1", p.tls_port), timeout=5)
        s.sendall(b"GET /p?e=PageView HTTP/1.1\r\nHost: t.shop.example\r\nUser-Agent: " + UA.encode() +
                  b"\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        assert data.startswith(b"HTTP/1.1 400 "), data[:80]
        assert b"https" in data, data
        assert data.count(b"HTTP/1.1") == 1, data
        assert p.metric('pixeld_tls_handshake_failures_total{reason="plain_http"}') == 1


def test_garbage_and_stalled_handshakes_closed():
    with TlsPixeld() as p:
        p.start()
        stalled = socket.create_connection(("127.0.0.1", p.tls_port), timeout=5)
        half = socket.create_connection(("127.0.0.1", p.tls_port), timeout=5)
        half.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a ClientHello cut short
        garbage = socket.create_connection(("127.0.0.1", p.tls_port), timeout=5)
        # Neither a TLS handshake record (0x16) nor an upper-case letter, which
        # pixeld takes for the start of a plain HTTP request line.
        garbage.sendall(b"\x01" + os.urandom(63))
        t0 = time.monotonic()
        # Meanwhile a good client is served.
        good = TlsConn(p.tls_port)
        assert good.get("/health")[0] == 200
        for s in (stalled, half, garbage):
            s.settimeout(5)
            try:
                assert s.recv(4096) is not None
                while s.recv(4096):
                    pass
            except ConnectionResetError:
                pass
            s.close()
        took = time.monotonic() - t0
        assert took < 4, "the stalled handshakes took %.1fs to close (timeout 1s)" % took
        assert good.get("/health")[0] == 200, "the good connection was disturbed"
        good.close()
        m = p.metrics()
        assert m['pixeld_tls_handshake_failures_total{reason="timeout"}'] == 2, m
        assert m['pixeld_tls_handshake_failures_total{reason="not_tls"}'] == 1, m


def write_pair(dst, pair):
    for src, path in zip(pair, dst):
        with open(src, "rb") as f, open(path, "wb") as g:
            g.write(f.read())
        os.chmod(path, 0o600)


def test_reload_new_certificate_keeps_connections():
    d = tempfile.mkdtemp(prefix="pixeld-tls-live-")
    live = (os.path.join(d, "live.pem"), os.path.join(d, "live.key"))
    write_pair(live, SHOP)
    with TlsPixeld(certs=cert_section("shop", live, "t.shop.example")) as p:
        p.start()
        old = TlsConn(p.tls_port)
        assert old.get("/health")[0] == 200
        assert old.serial() == CA.serial(SHOP[0])
        renewed = CA.issue("renewed", ["t.shop.example"])
        write_pair(live, renewed)
        p.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "SIGHUP: now serving" in p.read_log(), 10, what="the reload log line")
        new = TlsConn(p.tls_port)
        assert new.serial() == CA.serial(renewed[0]), "new connections still get the old certificate"
        # The keep-alive connection from before the reload is still served.
        for _ in range(3):
            assert old.get("/health")[0] == 200
        old.close()
        new.close()
        out = subprocess.run([PIXELCTL, "-c", p.conf, "tls", "status"], capture_output=True,
                             text=True, timeout=30)
        assert out.returncode == 0, out
        assert "shop" in out.stdout and "/CN=t.shop.example" in out.stdout, out.stdout
        assert "t.shop.example" in out.stdout and "DAYS LEFT" in out.stdout, out.stdout
        assert p.metric('pixeld_tls_certificate_expiry_seconds{name="shop"}') > 6 * 86400


def test_reload_refuses_bad_pairs_and_keeps_the_old():
    d = tempfile.mkdtemp(prefix="pixeld-tls-bad-")
    live = (os.path.join(d, "live.pem"), os.path.join(d, "live.key"))
    write_pair(live, SHOP)
    now = time.time()
    bad = [
        (CA.issue("expired", ["t.shop.example"], now - 10 * 86400, now - 86400), "expired on"),
        (CA.issue("future", ["t.shop.example"], now + 86400, now + 10 * 86400), "not valid before"),
        ((SHOP[0], OTHER[1]), "does not match"),
    ]
    with TlsPixeld(certs=cert_section("shop", live, "t.shop.example")) as p:
        p.start()
        for n, (pair, words) in enumerate(bad, 1):
            write_pair(live, pair)
            p.proc.send_signal(signal.SIGHUP)
            # The whole reload is refused: certificates are checked with the file.
            wait_for(lambda: p.read_log().count("reload refused: ") == n, 10,
                     what="refusal %d (%s)" % (n, words))
            assert words in p.read_log(), p.read_log()
            c = TlsConn(p.tls_port)
            assert c.serial() == CA.serial(SHOP[0])
            assert c.get("/health")[0] == 200
            c.close()
        os.remove(live[1])
        p.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "live.key: cannot open" in p.read_log(), 10, what="unreadable key refusal")
        assert p.proc.poll() is None


def test_start_refuses_bad_pairs_with_exit_1():
    now = time.time()
    d = tempfile.mkdtemp(prefix="pixeld-tls-start-")
    loose = (os.path.join(d, "loose.pem"), os.path.join(d, "loose.key"))
    write_pair(loose, SHOP)
    os.chmod(loose[1], 0o644)
    cases = [
        (CA.issue("expired2", ["t.shop.example"], now - 10 * 86400, now - 86400), "expired on"),
        (CA.issue("future2", ["t.shop.example"], now + 86400, now + 10 * 86400), "not valid before"),
        ((SHOP[0], OTHER[1]), "does not match"),
        (loose, "chmod 600"),
        ((os.path.join(d, "missing.pem"), SHOP[1]), "cannot read the certificate"),
    ]
    for pair, words in cases:
        p = TlsPixeld(certs=cert_section("shop", pair, "t.shop.example"))
        try:
            r = subprocess.run([os.path.join(os.path.dirname(PIXELCTL), "pixeld"), "-c", p.conf],
                               capture_output=True, text=True, timeout=30)
            assert r.returncode == 1, (words, r.returncode, r.stderr)
            assert words in r.stderr and "certificate.shop" in r.stderr, (words, r.stderr)
        finally:
            p.cleanup()


def test_1000_concurrent_tls_connections():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    with TlsPixeld(threads=2) as p:
        p.start()
        ctx = client_ctx()
        conns = [TlsConn(p.tls_port, ctx=ctx, timeout=30) for _ in range(1000)]
        wait_for(lambda: p.metric("pixeld_connections_open") >= 1000, 20, what="1000 open")
        for i, c in enumerate(conns):
            c.s.sendall(("GET /p?e=PageView&id=tls-conc-%d HTTP/1.1\r\nHost: t.shop.example\r\n"
                         "User-Agent: %s\r\n\r\n" % (i, UA)).encode())
        for c in conns:
            assert read_response(c)[0] == 204
            c.close()
        evs = wait_for(lambda: len(p.events()) == 1000 and p.events(), 30, what="1000 events")
        assert len({e["event_id"] for e in evs}) == 1000
        assert p.metric('pixeld_tls_handshakes_total{result="ok",version="TLSv1.3"}') == 1000


def test_pixelload_tls_matches_pixeld_counters():
    pixelload = os.path.join(os.path.dirname(PIXELCTL), "pixelload")
    with TlsPixeld(threads=2) as p:
        p.start()
        for args in (["--tls", "-c", "4"], ["--tls-resume", "--new-conn", "-c", "2"]):
            r = subprocess.run([pixelload, "-q", "-n", "200", "--host", "t.shop.example", "--json",
                                os.path.join(p.dir, "load.json"), *args, "127.0.0.1:%d" % p.tls_port],
                               capture_output=True, text=True, timeout=120)
            assert r.returncode == 0, (args, r.stdout, r.stderr)
        with open(os.path.join(p.dir, "load.json")) as f:
            tls = __import__("json").load(f)["tls"]
        # Concurrent connections share the newest ticket: one started before a fresh ticket
        # arrives does a full handshake, so not every one resumes.
        assert tls["handshakes"] == 200 and tls["resumed"] >= 100, tls
        m = p.metrics()
        assert m['pixeld_tls_handshakes_total{result="ok",version="TLSv1.3"}'] == 204, m
        assert m['pixeld_tls_resumptions_total{version="TLSv1.3"}'] == tls["resumed"], m
        evs = p.wait_events(400, timeout=20)
        assert all(e.get("scheme") == "https" for e in evs)


if __name__ == "__main__":
    run_tests([
        test_curl_cacert_event_marked_https,
        test_s_client_sni_alpn_and_versions,
        test_unknown_name_refused_without_default,
        test_python_ssl_keepalive_and_pipelining,
        test_resumption_with_ticket_on_any_thread,
        test_close_notify_after_the_last_answer,
        test_plain_http_on_tls_port_gets_400_then_close,
        test_garbage_and_stalled_handshakes_closed,
        test_reload_new_certificate_keeps_connections,
        test_reload_refuses_bad_pairs_and_keeps_the_old,
        test_start_refuses_bad_pairs_with_exit_1,
        test_1000_concurrent_tls_connections,
        test_pixelload_tls_matches_pixeld_counters,
    ])
