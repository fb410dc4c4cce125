"""Memory that a burst of connections made resident goes back once the ingest
thread is quiet: the pages of the free connection slots above the ones in use
and the receive ring's pages (pixeld_connection_slots_resident shows the
slots). What is checked here is that nothing in use goes with them:
connections kept open are still served, a request half-sent across the
give-back completes, new connections are served from the bottom of the
table, and every event keeps its peer address (the slot's 28-byte copy)."""

import os
import resource
import sys

sys.path.insert(0, os.path.dirname(__file__))
from pxtest import Pixeld, Sock, run_tests, wait_for

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


if __name__ == "__main__":
    run_tests([test_connections_served_after_slots_and_buffers_go_back])
