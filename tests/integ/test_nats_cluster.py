#!/usr/bin/env python3
"""Scale-out over a 3-node JetStream cluster (R3 stream; real nats-server
processes on loopback, stores in the test's temp dir): kill -9 of one node
during load, and separately kill -9 of the ingest process and of one of two
dispatch processes during load. Every acknowledged event reaches the mock
platform; duplicates there are bounded by what was in flight (printed).
Prints "N passed, N failed" last."""

import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nats_fixture import (delivered, dispatch, dup_count, ingest, nats_status, new_ids,  # noqa: E402
                          post_batch, require_binaries, run_stack, wait_at_mock)
from pxtest import run_tests, wait_for  # noqa: E402

CHUNK = 100
# In flight at one dispatch process: its consumer's fetched-but-unsettled
# bound (MAX_OUTSTANDING in daemon/nats/nats_consume.c).
DISPATCH_IN_FLIGHT = 4096


class Load(threading.Thread):
    """Posts batches of new events until stopped; keeps the ids of those answered 2xx."""

    def __init__(self, ports_of):
        super().__init__(daemon=True)
        self.ports_of = ports_of  # returns the ingest Pixeld to post to now
        self.acked = []
        self.refused = 0
        self.stopping = threading.Event()

    def run(self):
        deadline = time.monotonic() + 120
        while not self.stopping.is_set() and time.monotonic() < deadline:
            ids = new_ids(CHUNK)
            try:
                st, _ = post_batch(self.ports_of(), ids, timeout=5)
            except OSError:
                st = 0  # the ingest is being killed or restarted
            if st == 204:
                self.acked += ids
            else:
                self.refused += 1
                time.sleep(0.05)

    def stop(self):
        self.stopping.set()
        self.join(30)


def wait_acked(load, n, timeout=60):
    wait_for(lambda: len(load.acked) >= n, timeout, what="%d events acknowledged" % n)


def test_r3_node_kill9_during_load():
    def body(st):
        ing = st.add(ingest(st.nats, replicas=3)).start()
        disp = st.add(dispatch(st.nats, st.mock, replicas=3)).start()
        load = Load(lambda: ing)
        load.start()
        wait_acked(load, 1000)
        # The R3 stream exists and carries events before a node dies.
        wait_at_mock(st.mock, load.acked[:CHUNK], timeout=60)
        victim = st.nats[1]
        victim.kill9()
        print("killed nats node %s with %d events acknowledged" % (victim.name, len(load.acked)))
        wait_acked(load, len(load.acked) + 2000)
        load.stop()
        wait_at_mock(st.mock, load.acked, timeout=120)
        dups = dup_count(st.mock, load.acked)
        print("R3 node kill: %d acknowledged, all delivered, %d duplicates at the mock" %
              (len(load.acked), dups))
        assert dups <= DISPATCH_IN_FLIGHT, dups
        assert disp.stop() == 0
    run_stack(body, nservers=3)


def test_ingest_and_dispatch_kill9_during_load():
    def body(st):
        ing = st.add(ingest(st.nats, replicas=3)).start()
        a = st.add(dispatch(st.nats, st.mock, replicas=3)).start()
        b = st.add(dispatch(st.nats, st.mock, replicas=3)).start()
        current = {"ing": ing}
        load = Load(lambda: current["ing"])
        load.start()
        wait_acked(load, 1000)
        # The ingest process: what it acknowledged is in its journal; the
        # restarted process publishes it again and the stream drops the
        # copies it already had (Msg-Id).
        ing.proc.send_signal(signal.SIGKILL)
        ing.proc.wait(10)
        at_kill = len(load.acked)
        ing.start()
        print("kill -9 ingest at %d acknowledged; restarted" % at_kill)
        wait_acked(load, at_kill + 1000)
        # One dispatch process: its unacked messages come back after AckWait
        # to the other one (and to itself once restarted).
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait(10)
        print("kill -9 dispatch a at %d acknowledged" % len(load.acked))
        wait_acked(load, len(load.acked) + 1000)
        a.start()
        load.stop()
        wait_at_mock(st.mock, load.acked, timeout=120)
        dups = dup_count(st.mock, load.acked)
        wait_for(lambda: all(c["lag"] == 0 for c in nats_status(b)["consumers"]), 30,
                 what="consumer lag 0")
        print("ingest and dispatch kill -9: %d acknowledged, all delivered, %d duplicates at "
              "the mock (b delivered %d)" % (len(load.acked), dups, delivered(b, "hooks")))
        assert dups <= DISPATCH_IN_FLIGHT, dups
    run_stack(body, nservers=3)


if __name__ == "__main__":
    require_binaries()
    only = sys.argv[1:]
    tests = [t for n, t in sorted(globals().items())
             if n.startswith("test_") and callable(t) and (not only or n in only)]
    run_tests(tests)
