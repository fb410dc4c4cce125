#!/usr/bin/env python3
"""The dispatch role's answers to JetStream and ack=replicated when NATS
dies (issue 18), on a real nats-server: a retryable failure (429 with
Retry-After, 503) is answered with a nak with delay and redelivered after
it, nothing lost, no duplicate; a permanent failure is dead-lettered on the
dispatching host and acked; a local JSONL sink in role dispatch gets every
event once; under ack=replicated an answer parked for its PubAck when the
server is killed, or stops answering, gets 503 + Retry-After within a bound,
and its events are published from the journal when NATS is back. Prints "N passed, N failed"."""

import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nats_fixture import (Pixeld, delivered, dup_count, hooks_dest, ingest, nats_section,  # noqa: E402
                          nats_status, new_ids, post_batch, require_binaries, run_stack,
                          send_all, stream_messages, wait_at_mock)
from pxtest import run_tests, wait_for  # noqa: E402
from test_delivery import dlq_entries  # noqa: E402


def consumer(px, name):
    for c in nats_status(px)["consumers"]:
        if c["name"] == name:
            return c
    return None


def consumer_metric(px, what, dest="hooks"):
    return px.metric('pixeld_nats_consumer_%s{destination="%s"}' % (what, dest))


def bound(px, dest="hooks"):
    return wait_for(lambda: consumer(px, "pixeld-" + dest), 20, what="pixeld-%s bound" % dest)


def test_retryable_failures_nak_with_delay():
    def body(st):
        ing = st.add(ingest(st.nats)).start()
        disp = st.add(Pixeld(server_extra="role = dispatch\n", extra=nats_section(st.nats),
                             dest=hooks_dest(st.mock))).start()
        bound(disp)
        # 429 with Retry-After: 3 s. The batch goes back to JetStream with
        # that delay (not held by the shard) and comes back after it.
        st.mock.control(platform="webhook", status=429, retry_after=3, count=1)
        ids = new_ids(50)
        t0 = time.monotonic()
        send_all(ing, ids)
        wait_for(lambda: consumer_metric(disp, "nak_delayed_total") >= len(ids), 20,
                 what="the 429'd batch nak'd with delay")
        wait_at_mock(st.mock, ids, timeout=30)
        waited = time.monotonic() - t0
        assert waited >= 2.9, "redelivered before Retry-After ran out (%.1f s)" % waited
        assert consumer_metric(disp, "redelivered_total") >= len(ids)
        # 503 without Retry-After, twice: the retry schedule's backoff.
        st.mock.control(platform="webhook", status=503, count=2)
        more = new_ids(50)
        send_all(ing, more)
        wait_at_mock(st.mock, ids + more, timeout=60)
        assert st.mock.stats()["faults_fired"] >= 3
        assert consumer_metric(disp, "nak_delayed_total") >= 2 * len(ids)
        wait_for(lambda: (consumer(disp, "pixeld-hooks") or {}).get("lag") == 0, 20,
                 what="consumer lag 0")
        wait_for(lambda: consumer_metric(disp, "outstanding") == 0, 20, what="nothing unsettled")
        assert dup_count(st.mock, ids + more) == 0, "a refused batch is never delivered twice"
        assert not dlq_entries(disp, "hooks"), "retryable failures are not dead letters"
        print("429 (Retry-After 3): delivered after %.1f s; %d naks with delay in all"
              % (waited, consumer_metric(disp, "nak_delayed_total")))
    run_stack(body)


def test_permanent_failure_dead_lettered_on_dispatch_host_and_acked():
    def body(st):
        ing = st.add(ingest(st.nats)).start()
        disp = st.add(Pixeld(server_extra="role = dispatch\n", extra=nats_section(st.nats),
                             dest=hooks_dest(st.mock))).start()
        bound(disp)
        st.mock.control(platform="webhook", status=400, count=1)
        ids = new_ids(20)
        send_all(ing, ids)
        dead = wait_for(lambda: len(dlq_entries(disp, "hooks")) == len(ids) and
                        dlq_entries(disp, "hooks"), 20, what="20 dead letters on the dispatch host")
        assert {e["event"]["event_id"] for e in dead} == set(ids), dead[:1]
        wait_for(lambda: consumer_metric(disp, "acked_total") == len(ids), 20,
                 what="the dead letters acked")
        wait_for(lambda: (consumer(disp, "pixeld-hooks") or {}).get("lag") == 0, 20,
                 what="consumer lag 0")
        assert consumer_metric(disp, "nak_delayed_total") == 0
        assert consumer_metric(disp, "redelivered_total") == 0, "an acked dead letter comes back"
    run_stack(body)


def test_dispatch_role_with_a_local_jsonl_sink():
    def body(st):
        ing = st.add(ingest(st.nats)).start()
        local = '[destination "events"]\ntype = jsonl\npath = events.jsonl\n'
        disp = st.add(Pixeld(server_extra="role = dispatch\n", extra=nats_section(st.nats),
                             dest=hooks_dest(st.mock) + local)).start()
        ids = new_ids(1000)
        send_all(ing, ids)
        wait_at_mock(st.mock, ids)
        got = wait_for(lambda: (lambda ev: len(ev) >= len(ids) and ev)(disp.events()), 30,
                       what="1000 events in the dispatch host's JSONL sink")
        seen = [e["event_id"] for e in got]
        assert sorted(seen) == sorted(ids), "every event once in the sink (%d lines)" % len(seen)
        assert delivered(disp, "events") == len(ids)
        wait_for(lambda: consumer_metric(disp, "acked_total", "events") == len(ids), 20,
                 what="the sink's messages acked")
        wait_for(lambda: (consumer(disp, "pixeld-events") or {}).get("lag") == 0, 20,
                 what="pixeld-events lag 0")
        assert dup_count(st.mock, ids) == 0
    run_stack(body)


def test_replicated_parked_answer_gets_503_when_nats_is_killed():
    def body(st):
        srv = st.nats[0]
        ing = st.add(ingest(st.nats, ack="replicated")).start()
        first = new_ids(20)
        status, _ = post_batch(ing, first)
        assert status == 204, status
        # Frozen, the server takes the publish and never acks it: the answer
        # parks. Then it is killed under the parked request.
        srv.proc.send_signal(signal.SIGSTOP)
        parked = new_ids(20)
        result = {}

        def post():
            result["answer"] = post_batch(ing, parked, timeout=30)
            result["done"] = time.monotonic()
        th = threading.Thread(target=post)
        th.start()
        time.sleep(0.5)
        assert th.is_alive(), "answered before its PubAck: %s" % result
        t_kill = time.monotonic()
        srv.kill9()
        th.join(30)
        assert not th.is_alive(), "no answer 30 s after the kill"
        status, headers = result["answer"]
        after_kill = result["done"] - t_kill
        assert status == 503, "a parked answer is refused, not acknowledged: %s" % status
        assert headers.get("retry-after") == "5", headers
        assert 0 <= after_kill < 3, "refused %.3f s after the kill" % after_kill
        srv.start()
        wait_for(lambda: stream_messages(ing) == len(first) + len(parked), 30,
                 what="the refused request's events published from the journal")
        wait_for(lambda: post_batch(ing, new_ids(1), timeout=5)[0] == 204, 30, interval=0.3,
                 what="204 once NATS is back")
        print("parked answer: 503 + Retry-After %s, %.3f s after the kill; its %d events "
              "published when NATS came back" % (headers["retry-after"], after_kill, len(parked)))
    run_stack(body)


def test_replicated_parked_answer_gets_503_when_nats_stops_answering():
    def body(st):
        srv = st.nats[0]
        ing = st.add(ingest(st.nats, ack="replicated")).start()
        status, _ = post_batch(ing, new_ids(5))
        assert status == 204, status
        # A frozen server keeps its connection open and never acks (a
        # partition looks the same): the PubAck wait gives up after its bound.
        srv.proc.send_signal(signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            status, headers = post_batch(ing, new_ids(5), timeout=20)
            took = time.monotonic() - t0
        finally:
            srv.proc.send_signal(signal.SIGCONT)
        assert status == 503, "a parked answer is refused, not acknowledged: %s" % status
        assert headers.get("retry-after") == "5", headers
        assert took < 10, "refused only after %.1f s" % took
        wait_for(lambda: post_batch(ing, new_ids(1), timeout=5)[0] == 204, 30, interval=0.3,
                 what="204 once NATS answers again")
        wait_for(lambda: stream_messages(ing) >= 11, 30, what="the refused events published")
        print("frozen NATS: parked answer refused with 503 after %.1f s" % took)
    run_stack(body)


if __name__ == "__main__":
    require_binaries()
    only = sys.argv[1:]
    tests = [t for n, t in sorted(globals().items())
             if n.startswith("test_") and callable(t) and (not only or n in only)]
    run_tests(tests)
