"""Memory that a burst of connections made resident goes back once the ingest
thread is quiet: the pages of the free connection slots above the ones in use
and the receive ring's pages (pixeld_connection_slots_resident shows the
slots). What is checked here is that nothing in use goes with them:
connections kept open are still served, a request half-sent across the
give-back completes, new connections are served from the bottom of the
table, and every event keeps its peer address (the slot's 28-byte copy).

And the page cache of what pixeld writes goes back behind the disk: the
journal's segments and the JSONL sink's file keep about their last 4 MiB
cached (include/pagecache.h), read here with mincore(2), with every event
still in the file."""

import ctypes
import json
import mmap
import os
import resource
import sys

sys.path.insert(0, os.path.dirname(__file__))
from pxtest import UA as BROWSER_UA, Pixeld, Sock, run_tests, wait_for

UA = b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))


def pixel(eid):
    return b"GET /p?e=PageView&id=%s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (eid, UA)


def served(s, eid):
    s.send(pixel(eid))
    st, _, body = s.response()
    assert st == 204, (eid, st, body)


def test_connections_served_after_slots_and_buffers_go_back():
    raise_nofile()
    with Pixeld(server_extra="idle_timeout = 10m\n") as p:
        p.start()
        socks = [Sock(p.port, timeout=10) for _ in range(300)]
        for i, s in enumerate(socks):
            served(s, b"burst-%d" % i)
        wait_for(lambda: p.metric("pixeld_connection_slots_resident") >= 300, timeout=10,
                 what="the burst's 300 slots resident")

        # Kept: one low in the table, one high with half a request in it.
        low, high = socks[3], socks[250]
        half = pixel(b"across")
        high.send(half[:30])
        for i, s in enumerate(socks):
            if i not in (3, 250):
                s.close()
        # The slots above the high one go back; the admin connections that
        # read the metric take low free slots.
        wait_for(lambda: p.metric("pixeld_connection_slots_resident") < 300, timeout=15,
                 what="the free slots above the highest in use given back")
        assert p.metric("pixeld_connection_slots_resident") >= 251

        high.send(half[30:])
        st, _, body = high.response()
        assert st == 204, (st, body)
        served(low, b"low-1")
        high.close()
        wait_for(lambda: p.metric("pixeld_connection_slots_resident") < 20, timeout=15,
                 what="the table back to the low slots in use")

        fresh = [Sock(p.port, timeout=10) for _ in range(100)]
        for i, s in enumerate(fresh):
            served(s, b"fresh-%d" % i)
        served(low, b"low-2")
        for i, s in enumerate(fresh):
            served(s, b"again-%d" % i)
            s.close()
        low.close()

        want = ({"burst-%d" % i for i in range(300)} | {"fresh-%d" % i for i in range(100)} |
                {"again-%d" % i for i in range(100)} | {"across", "low-1", "low-2"})
        events = wait_for(lambda: len(p.events()) >= len(want) and p.events(), timeout=20,
                          what="%d events" % len(want))
        assert {e["event_id"] for e in events} == want
        assert {e["ip"] for e in events} == {"127.0.0.1"}, {e["ip"] for e in events}


LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.mmap.restype = ctypes.c_void_p
LIBC.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                      ctypes.c_long]
LIBC.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
LIBC.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
PAGE = mmap.PAGESIZE
KEEP = 4 << 20  # PXD_PAGECACHE_KEEP
STEP = 256 << 10  # PXD_PAGECACHE_STEP
# What may stay: KEEP, a step not yet due, and one large folio (ext4 makes
# them up to 2 MiB) that straddles the end of what was dropped.
LIMIT = KEEP + STEP + (2 << 20)


def resident_bytes(path):
    """Bytes of <path> in the page cache (mincore(2) of a mapping of it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        if not size:
            return 0
        addr = LIBC.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        assert addr not in (None, ctypes.c_void_p(-1).value), os.strerror(ctypes.get_errno())
        vec = (ctypes.c_ubyte * ((size + PAGE - 1) // PAGE))()
        try:
            assert LIBC.mincore(addr, size, vec) == 0, os.strerror(ctypes.get_errno())
        finally:
            LIBC.munmap(addr, size)
        return sum(v & 1 for v in vec) * PAGE
    finally:
        os.close(fd)


def batch_post(first, n, pad):
    body = json.dumps({"batch": [{"event": "ViewContent", "event_id": "pc-%d" % (first + i),
                                  "props": {"note": pad}} for i in range(n)]}).encode()
    return (b"POST /e HTTP/1.1\r\nHost: t\r\nUser-Agent: %s\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (BROWSER_UA.encode(), len(body))) + body


def delivered(p):
    return sum(v for k, v in p.metrics().items()
               if k.startswith("pixeld_destination_events_delivered_total"))


def written_files(p):
    jdir = os.path.join(p.data_dir, "journal")
    segs = [os.path.join(d, f) for d, _, fs in os.walk(jdir) for f in fs if f.endswith(".seg")]
    return segs + [p.events_path]


def cached_over(p):
    """The written files with more than LIMIT bytes cached, and how many."""
    return [(f, r) for f, r in ((f, resident_bytes(f)) for f in written_files(p)) if r > LIMIT]


def test_written_files_page_cache_given_back():
    # 480 batches of 50 events of ~1 KiB: ~26 MiB through each file, and
    # segments of 16 MiB, so that one is left (its cache dropped whole).
    pad = "x" * 1000
    per, posts = 50, 480
    for ack in ("fast", "durable"):
        with Pixeld(extra="[journal]\nack = %s\nsegment_bytes = 16M\n" % ack) as p:
            p.start()
            s = Sock(p.port, timeout=30)
            for k in range(0, posts, 8):  # 8 requests pipelined at a time
                s.send(b"".join(batch_post((k + j) * per, per, pad) for j in range(8)))
                for _ in range(8):
                    st, _, body = s.response()
                    assert st == 200 or st == 204, (ack, st, body)
            s.close()
            n = per * posts
            wait_for(lambda: delivered(p) >= n, timeout=60,
                     what="%d events delivered (ack=%s)" % (n, ack))
            # The sink's last sync comes on its dispatcher's timer, and a
            # shard reading the journal back drops behind itself.
            try:
                wait_for(lambda: not cached_over(p), timeout=15,
                         what="every written file's page cache down to its last 4 MiB")
            except AssertionError as e:
                raise AssertionError("ack=%s: %s: %s" % (ack, e, cached_over(p)))
            sizes = {f: os.path.getsize(f) for f in written_files(p)}
            live = max(f for f in sizes if f.endswith(".seg"))
            assert sizes[p.events_path] > 3 * LIMIT and sizes[live] > LIMIT, sizes
            with open(p.events_path) as f:
                ids = {json.loads(line)["event_id"] for line in f}
            assert ids == {"pc-%d" % i for i in range(n)}, (ack, len(ids), n)


if __name__ == "__main__":
    run_tests([test_connections_served_after_slots_and_buffers_go_back,
               test_written_files_page_cache_given_back])
