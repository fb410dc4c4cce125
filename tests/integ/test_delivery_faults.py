#!/usr/bin/env python3
"""A sink's disk misbehaving under the real pixeld: fdatasync failing with EIO
on the JSONL sink and on the dead letters (also across a SIGHUP reopen), and
a disk that fills mid-batch with two dispatchers writing one JSONL file, and
the journal's own writes stalling. The faults come from tests/integ/fault_inject.c, an LD_PRELOAD library built
here. Each test checks that no watermark passes an event that is not durable
(so no journal segment holding it is deleted) and that every event reaches
the sink once the fault clears. Prints "N passed, N failed" last."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pxtest import BUILD, ROOT, Pixeld, Sock, run_tests, wait_for  # noqa: E402
from test_delivery import Mock, dest_conf, dlq_entries  # noqa: E402

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
FAULT_SO = os.path.join(BUILD, "fault_inject.so")
SEGMENT = "[journal]\nsegment_bytes = 1M\n"


def build_injector():
    src = os.path.join(ROOT, "tests", "integ", "fault_inject.c")
    out = subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-o", FAULT_SO, src,
                          "-ldl"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


class Fault:
    """The injector's control file: the words it holds are the faults on."""

    def __init__(self, path_part):
        fd, self.ctl = tempfile.mkstemp(prefix="pxd-fault-")
        os.close(fd)
        self.env = {"LD_PRELOAD": FAULT_SO, "PXD_FAULT_CTL": self.ctl, "PXD_FAULT_PATH": path_part}

    def set(self, words=""):
        with open(self.ctl, "w") as f:
            f.write(words)

    def cleanup(self):
        os.unlink(self.ctl)


@contextlib.contextmanager
def faulty(path_part, **pixeld_args):
    """A started pixeld whose files matching <path_part> the yielded Fault
    controls; its log is printed when the body fails."""
    fault = Fault(path_part)
    px = Pixeld(**pixeld_args)
    try:
        px.start(env=fault.env)
        yield px, fault
        assert px.stop() == 0
    except Exception:
        sys.stdout.write("--- pixeld log ---\n%s\n" % px.read_log()[-3000:])
        raise
    finally:
        px.cleanup()
        fault.cleanup()


def beacon(eid, user):
    body = json.dumps({"event": "Purchase", "event_id": eid, "url": "https://shop.example.com/p/1",
                       "user": {"email": "%s@example.com" % user, "anon_id": user},
                       "props": {"value": 10.5, "currency": "EUR"}}).encode()
    return (b"POST /e HTTP/1.1\r\nHost: t\r\nUser-Agent: %s\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (UA.encode(), len(body))) + body


def send_many(px, prefix, n):
    s = Sock(px.port, timeout=10)
    ids = []
    try:
        for k in range(n):
            eid = "%s-%d" % (prefix, k)
            # Lines of different lengths, so two writers' partial lines differ.
            s.send(beacon(eid, "u%d%s" % (k, "x" * (k * 7 % 61))))
            st, _, body = s.response()
            assert st == 204, (st, body)
            ids.append(eid)
    finally:
        s.close()
    return ids


def mark(px, dest):
    """The saved watermark of <dest> in stream i0-s0, as (seq, off), or None."""
    path = os.path.join(px.data_dir, "journal", "watermarks")
    if not os.path.exists(path):
        return None
    for line in open(path).read().splitlines():
        f = line.split()
        if len(f) == 4 and f[0] == "mark" and f[1] == dest and f[2] == "i0-s0":
            seq, off = f[3].split(":")
            return int(seq), int(off)
    return None


def segments(px):
    d = os.path.join(px.data_dir, "journal", "i0-s0")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def settled_mark(px, dest):
    """The saved watermark of <dest> once it is past the start and has not
    moved for 0.3 s: the last deliveries' answers are in (saves follow
    them within 20 ms)."""
    last = {}

    def still():
        wm = mark(px, dest)
        now = time.monotonic()
        if not wm or wm <= (0, 0) or wm != last.get("wm"):
            last.update(wm=wm, since=now)
            return False
        return now - last["since"] >= 0.3
    wait_for(still, 10, interval=0.05, what="a settled watermark past the first events")
    return last["wm"]


def held_for(px, dest, wm0, seconds, what):
    """Polls for <seconds>: the watermark of <dest> never passes <wm0> and
    the segment holding it stays on disk."""
    end = time.monotonic() + seconds
    seg0 = segments(px)[0]
    while time.monotonic() < end:
        wm = mark(px, dest)
        assert wm is not None and wm <= wm0, "%s: watermark moved from %s to %s" % (what, wm0, wm)
        assert seg0 in segments(px), "%s: segment %s deleted" % (what, seg0)
        time.sleep(0.1)


def sink_ids(px):
    return [e["event_id"] for e in px.events()]


def test_jsonl_sync_eio_holds_the_watermark():
    with faulty("events.jsonl", extra=SEGMENT) as (px, fault):
        first = send_many(px, "pre", 200)
        wait_for(lambda: set(first) <= set(sink_ids(px)), 15, what="first events in the sink")
        wait_for(lambda: mark(px, "events") and mark(px, "events") > (0, 0), 10,
                 what="a watermark past the first events")
        wm0 = mark(px, "events")
        fault.set("fdatasync")
        errors0 = px.metric('pixeld_destination_sync_errors_total{destination="events"}')
        during = send_many(px, "eio", 8000)
        assert len(segments(px)) >= 3, "segments deleted during the fault: %s" % segments(px)
        wait_for(lambda: px.metric('pixeld_destination_sync_errors_total{destination="events"}')
                 >= errors0 + 3, 15, what="three failed syncs")
        held_for(px, "events", wm0, 2.0, "fdatasync failing")
        fault.set("")
        wait_for(lambda: set(first + during) <= set(sink_ids(px)), 30,
                 what="every event in the sink after the fault")
        wait_for(lambda: mark(px, "events") > wm0, 10, what="the watermark moving again")


def test_dlq_sync_eio_and_sighup_hold_the_watermark():
    mock = Mock().start()
    try:
        with faulty("/dlq/", dest=dest_conf(mock.port, ["meta"]), extra=SEGMENT) as (px, fault):
            first = send_many(px, "pre", 50)
            mock.wait_ids("meta", first)
            wm0 = settled_mark(px, "meta")
            fault.set("fdatasync")
            mock.control(platform="meta", code=190, count=1000000)  # bad token: permanent
            bad = send_many(px, "dead", 300)
            wait_for(lambda: len(dlq_entries(px, "meta")) >= len(bad), 30,
                     what="the dead letters written")
            wait_for(lambda: "syncing dead letters" in px.read_log(), 10,
                     what="a failed dead letter sync")
            held_for(px, "meta", wm0, 1.0, "dead letter sync failing")
            px.proc.send_signal(signal.SIGHUP)  # reopen: must not close them unsynced
            held_for(px, "meta", wm0, 2.0, "after SIGHUP")
            fault.set("")
            wait_for(lambda: mark(px, "meta") > wm0, 10, what="the watermark moving again")
            assert set(bad) <= {d["event_id"] for d in dlq_entries(px, "meta")}
    finally:
        mock.cleanup()


def test_disk_full_with_two_dispatchers_keeps_whole_lines():
    with faulty("events.jsonl", server_extra="dispatchers = 2\n") as (px, fault):
        fault.set("enospc")
        during = send_many(px, "full", 3000)
        wait_for(lambda: px.metric('pixeld_destination_write_errors_total{destination="events"}')
                 >= 10, 20, what="ten failed writes")
        fault.set("")
        after = send_many(px, "after", 200)
        want = set(during + after)
        wait_for(lambda: want <= set(sink_ids(px)), 30, what="every event in the sink")
        ids = sink_ids(px)  # json.loads of every line: a cut line fails here
        assert len(ids) == len(set(ids)), "%d events written twice" % (len(ids) - len(set(ids)))


def journal_writes(px):
    m = px.metrics()
    return m.get("pixeld_journal_writes_total", 0), m.get("pixeld_journal_writes_inline_total", 0)


def test_slow_journal_writes_leave_the_ingest_thread():
    """ack=fast writes the journal on the ingest thread while the disk is
    fast; a write that takes 10 ms longer sends the writes to io_uring's workers
    (which the injector does not slow) for 5 s, and no event is lost."""
    with faulty("/journal/") as (px, fault):
        first = send_many(px, "fast", 300)
        writes0, inline0 = journal_writes(px)
        assert inline0 > 0 and inline0 >= writes0 * 0.9, (writes0, inline0)
        fault.set("slow")
        stalled = send_many(px, "slow", 50)
        wait_for(lambda: "writes go through io_uring's workers for 5 s" in px.read_log(), 10,
                 what="the slow write logged")
        writes1, inline1 = journal_writes(px)
        t0 = time.monotonic()
        during = send_many(px, "workers", 100)
        writes2, inline2 = journal_writes(px)
        took = time.monotonic() - t0
        assert took < 4.5, "100 beacons took %.1f s: too slow to fall inside the 5 s" % took
        assert inline2 == inline1 and writes2 > writes1, (writes1, inline1, writes2, inline2)
        fault.set("")
        want = set(first + stalled + during)
        wait_for(lambda: want <= set(sink_ids(px)), 30, what="every event in the sink")
        rounds = iter(range(1000))

        def inline_again():
            send_many(px, "back%d" % next(rounds), 20)
            return journal_writes(px)[1] > inline2
        wait_for(inline_again, 15, interval=0.5,
                 what="writes back on the ingest thread after the 5 s")

if __name__ == "__main__":
    build_injector()
    only = sys.argv[1:]
    tests = [t for n, t in sorted(globals().items())
             if n.startswith("test_") and callable(t) and (not only or n in only)]
    run_tests(tests)
