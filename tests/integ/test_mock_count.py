#!/usr/bin/env python3
"""The mockplatform's counting mode, as bench/dispatch.sh runs it: with
--count-key event_id a real pixeld's Meta batches are counted by a scan (every
event once, none recorded, each request answered 200 {}), and /_stats reports
the mock's own CPU. Prints "N passed, N failed" last."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pxtest import http_post, run_tests, wait_for  # noqa: E402
from test_delivery import MOCK, event, send, with_stack  # noqa: E402


def test_counts_every_event_a_real_pixeld_sends():
    def body(mock, px):
        ids = [send(px, event("Purchase")) for _ in range(40)]
        wait_for(lambda: mock.stats()["accepted"]["meta"] >= len(ids), 20,
                 what="40 Meta events counted")
        st = mock.stats()
        assert st["accepted"]["meta"] == len(ids), st
        assert st["refused"]["meta"] == 0, st
        assert 1 <= st["requests"]["meta"] <= len(ids), st
        assert isinstance(st["cpu_s"], float) and st["cpu_s"] >= 0, st
        wait_for(lambda: px.metric(
            'pixeld_destination_events_delivered_total{destination="meta"}') == 40, 10,
            what="40 events delivered by pixeld's count")
        # Counting mode neither checks nor records.
        assert mock.records("meta") == []
    with_stack(body, mock_args=("--count-key", "event_id"), only=["meta"])


def test_counts_the_key_only_and_answers_200():
    def body(mock, px):
        raw = '{"data":[{"event_id":"a"},{"event_id" :"b"},{"event_id":"c","x":"event_id"}]}'
        st, _, answer = http_post(mock.port, "/v25.0/1234567890/events", raw)
        assert (st, answer.strip()) == (200, b"{}"), (st, answer)
        # '"event_id" :' (with a space) and the bare word are not the key.
        assert mock.stats()["accepted"]["meta"] == 2, mock.stats()
    with_stack(body, mock_args=("--count-key", "event_id"), only=["meta"])


if __name__ == "__main__":
    if not os.path.exists(MOCK):
        print("build/obj/mockplatform is missing: run make")
        print("0 passed, 1 failed")
        sys.exit(1)
    run_tests([test_counts_every_event_a_real_pixeld_sends, test_counts_the_key_only_and_answers_200])
