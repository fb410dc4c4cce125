"""Accepted means journaled: crashes, torn tails, a destination down, a full
disk and shutdown with a backlog, against the real pixeld."""

import json
import os
import shutil
import signal
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from pxtest import PIXELCTL, UA, Load, Pixeld, Sock, beacon_raw, http_get, run_tests, skip, wait_for

def ids_in(p):
    return [e["event_id"] for e in p.events()]


def zero_tails(p):
    """Bytes after the last record of each segment, which must all be zeros
    (ack=durable pre-writes the segment being written): their sum."""
    total = 0
    jdir = os.path.join(p.data_dir, "journal")
    for dirpath, _, files in os.walk(jdir):
        for name in files:
            if not name.endswith(".seg"):
                continue
            with open(os.path.join(dirpath, name), "rb") as f:
                data = f.read()
            off = 0
            while off + 16 <= len(data):
                n = struct.unpack_from("<IIq", data, off)[1]
                if n == 0 or off + 16 + n > len(data):
                    break
                off += 16 + n
            assert not data[off:].strip(b"\0"), "%s: bytes after the last record at %d" % (
                name, off)
            total += len(data) - off
    return total


def kill9_run(ack):
    p = Pixeld(threads=2, extra="[journal]\nack = %s\n" % ack)
    try:
        p.start()
        load = Load(p.port, 8, "k9" + ack, 2600)
        wait_for(lambda: load.count() >= 8000, timeout=120, what="8000 acknowledged")
        p.proc.send_signal(signal.SIGKILL)
        p.proc.wait(10)
        acked = load.join()
        assert len(acked) >= 8000
        # ack=durable keeps the segment pre-written ahead of its records;
        # the restart cuts those zeros as what they are, not as a torn tail.
        prewritten = zero_tails(p)
        assert (prewritten > 0) == (ack == "durable"), prewritten
        log_start = len(p.read_log())
        p.start()
        wait_for(lambda: set(acked) <= set(ids_in(p)), timeout=60, interval=0.5,
                 what="every acknowledged event after the restart")
        ids = ids_in(p)
        dups = len(ids) - len(set(ids))
        print("  ack=%s: %d acknowledged, %d in the sink, %d lost, %d duplicates, "
              "%d zero bytes cut" % (ack, len(acked), len(ids), len(set(acked) - set(ids)),
                                      dups, prewritten))
        log = p.read_log()[log_start:]
        assert "torn tail" not in log, log
        assert ("bytes of zeros" in log) == (ack == "durable"), log
        assert p.stop() == 0
        assert zero_tails(p) == 0, "a clean stop cuts the pre-written zeros"
    finally:
        p.cleanup()


def test_kill9_durable_loses_nothing():
    kill9_run("durable")


def test_kill9_fast_loses_nothing_on_a_process_crash():
    # A process crash leaves the page cache to the kernel, so even ack=fast
    # loses nothing; power loss cannot be simulated here (see README).
    kill9_run("fast")


DOWN_DEST = '[destination "events"]\ntype = jsonl\npath = sink/events.jsonl\n'


def sink_events(p):
    path = os.path.join(p.data_dir, "sink", "events.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l)["event_id"] for l in f if l.strip()]


def send_beacons(p, prefix, n):
    s = Sock(p.port, timeout=10)
    acked = []
    for i in range(n):
        eid = "%s-%d" % (prefix, i)
        s.send(beacon_raw(eid))
        st, _, _ = s.response()
        if st == 204:
            acked.append(eid)
    s.close()
    return acked


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_destination_down_backlog_rss_flat():
    p = Pixeld(server_extra="ring_size = 1024\n", dest=DOWN_DEST)
    try:
        p.start()
        acked = send_beacons(p, "down", 8000)
        rss_a = rss_kb(p.proc.pid)
        jbytes_a = p.metric("pixeld_journal_bytes")
        acked += send_beacons(p, "down2", 24000)
        rss_b = rss_kb(p.proc.pid)
        record = (p.metric("pixeld_journal_bytes") - jbytes_a) / 24000
        per_event = (rss_b - rss_a) * 1024 / 24000
        print("  RSS after 8000 events %d KiB, after 32000 %d KiB: %.1f bytes per backlogged "
              "event; a record is %.0f bytes" % (rss_a, rss_b, per_event, record))
        assert len(acked) == 32000
        # Keeping the backlog in memory costs at least a record per event.
        assert per_event < record / 4, "memory grows with the backlog: %.1f B per event" % per_event
        assert p.metric("pixeld_journal_bytes") > 32000 * 100
        assert p.metric('pixeld_destination_write_errors_total{destination="events"}') > 0
        assert p.metric('pixeld_destination_backlog_bytes{destination="events"}') > 32000 * 100
        os.makedirs(os.path.join(p.data_dir, "sink"))
        wait_for(lambda: set(acked) <= set(sink_events(p)), timeout=60, interval=0.5,
                 what="the backlog delivered once the sink is back")
        ids = sink_events(p)
        assert len(ids) == len(set(ids))
        assert p.metric("pixeld_journal_replayed_total") > 0
        wait_for(lambda: p.metric("pixeld_destination_backlog_bytes{destination=\"events\"}") == 0,
                 timeout=10, what="backlog gauge back to 0")
        wait_for(lambda: p.metric("pixeld_journal_segments") <= 2, timeout=10,
                 what="consumed segments deleted")
        assert p.stop() == 0
    finally:
        p.cleanup()


def test_torn_tail_cut_and_rest_replayed():
    p = Pixeld(dest=DOWN_DEST)
    try:
        p.start()
        acked = send_beacons(p, "torn", 100)
        # ack=fast answers once the write is done: the records are in the file.
        p.proc.send_signal(signal.SIGKILL)
        p.proc.wait(10)
        seg_dir = os.path.join(p.data_dir, "journal", "i0-s0")
        seg = os.path.join(seg_dir, sorted(os.listdir(seg_dir))[-1])
        size = os.path.getsize(seg)
        with open(seg, "r+b") as f:
            f.truncate(size - 40)  # in the middle of the last record
        out = subprocess.run([PIXELCTL, "-c", p.conf, "journal", "verify"], capture_output=True,
                             text=True, timeout=30)
        assert out.returncode == 0 and "torn" in (out.stdout + out.stderr).lower(), out
        out = subprocess.run([PIXELCTL, "-c", p.conf, "journal", "status", "--json"],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        json.loads(out.stdout)
        os.makedirs(os.path.join(p.data_dir, "sink"))
        p.start()
        wait_for(lambda: set(acked[:-1]) <= set(sink_events(p)), timeout=30,
                 what="every record before the torn one replayed")
        assert acked[-1] not in sink_events(p)
        assert "torn" in p.read_log()
        out = subprocess.run([PIXELCTL, "-c", p.conf, "journal", "verify"], capture_output=True,
                             text=True, timeout=30)
        assert out.returncode == 0, out
        assert p.stop() == 0
    finally:
        p.cleanup()


def fill_until_refused(p, prefix, limit=40000):
    """Sends beacons until 20 are refused; returns (acknowledged ids, Retry-After).
    A request whose journal write is failing is not answered until the write
    succeeds (it was not acknowledged): after a short wait the sender moves on
    on a new connection."""
    acked, refused, retry_after = [], 0, None
    s = Sock(p.port, timeout=2)
    for i in range(limit):
        eid = "%s-%d" % (prefix, i)
        try:
            s.send(beacon_raw(eid))
            st, h, body = s.response()
        except (OSError, ConnectionError):
            s.close()
            s = Sock(p.port, timeout=2)
            continue
        if st == 204:
            acked.append(eid)
            continue
        assert st == 503, (st, body)
        assert json.loads(body)["error"] == "journal_full", body
        retry_after = h.get("retry-after")
        refused += 1
        if refused >= 20:
            break
    s.close()
    assert refused and retry_after, "the journal never filled"
    return acked, retry_after


def assert_refusing(p):
    st, _, body = http_get(p.port, "/p.gif?e=PageView&id=full-pixel", headers={"User-Agent": UA})
    assert st == 200 and body.startswith(b"GIF89a"), "pixels still get their image"
    st, _, body = http_get(p.admin_port, "/health/ready")
    assert st == 503 and json.loads(body)["journal"] != "ok", body


def test_quota_full_503_then_recovery():
    """journal.max_bytes reached while the destination is down."""
    p = Pixeld(dest=DOWN_DEST, extra="[journal]\nsegment_bytes = 1M\nmax_bytes = 2M\n")
    try:
        p.start()
        acked, _ = fill_until_refused(p, "quota")
        assert_refusing(p)
        os.makedirs(os.path.join(p.data_dir, "sink"))
        wait_for(lambda: set(acked) <= set(sink_events(p)), timeout=60, interval=0.5,
                 what="every acknowledged event delivered")
        wait_for(lambda: http_get(p.admin_port, "/health/ready")[0] == 200, timeout=30,
                 what="ready again once segments are deleted")
        assert len(send_beacons(p, "after-quota", 200)) == 200
        assert p.stop() == 0
    finally:
        p.cleanup()


def batch_raw(prefix, n):
    body = json.dumps({"batch": [{"event": "Lead", "event_id": "%s-%d" % (prefix, i),
                                  "props": {"value": 1.5, "currency": "EUR"}}
                                 for i in range(n)]}).encode()
    return (b"POST /e HTTP/1.1\r\nHost: t\r\nUser-Agent: %s\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (UA.encode(), len(body))) + body


def test_beacon_batch_is_all_or_nothing_at_the_quota():
    """Batches of 200 until the quota refuses them: each batch is in the sink
    whole or not at all, the one that meets the quota included."""
    p = Pixeld(dest=DOWN_DEST, extra="[journal]\nsegment_bytes = 1M\nmax_bytes = 1M\n")
    try:
        p.start()
        s = Sock(p.port, timeout=10)
        acked, refused = [], 0
        for b in range(200):
            s.send(batch_raw("b%d" % b, 200))
            st, _, body = s.response()
            if st == 204:
                acked.append(b)
            else:
                assert st == 503 and json.loads(body)["error"] == "journal_full", (st, body)
                refused += 1
                if refused == 3:
                    break
        s.close()
        assert refused == 3 and acked, (len(acked), refused)
        os.makedirs(os.path.join(p.data_dir, "sink"))
        want = {"b%d-%d" % (b, i) for b in acked for i in range(200)}
        wait_for(lambda: want <= set(sink_events(p)), timeout=60, interval=0.5,
                 what="every event of every acknowledged batch")
        per_batch = {}
        for eid in sink_events(p):
            per_batch[eid.split("-")[0]] = per_batch.get(eid.split("-")[0], 0) + 1
        partial = {k: v for k, v in per_batch.items() if v != 200}
        assert not partial, "batches delivered in part: %s" % partial
        assert p.stop() == 0
    finally:
        p.cleanup()


def test_disk_full_enospc_then_recovery():
    """The disk itself fills up (another process): writes fail with ENOSPC."""
    p = Pixeld(extra="[journal]\ndir = JOURNAL_DIR\nsegment_bytes = 1M\nmax_bytes = 1G\n")
    jdir = os.path.join(p.dir, "tmpfs")
    os.makedirs(jdir)
    with open(p.conf) as f:
        conf = f.read().replace("JOURNAL_DIR", jdir)
    with open(p.conf, "w") as f:
        f.write(conf)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", jdir],
                             capture_output=True, text=True)
    if mounted.returncode:
        p.cleanup()
        skip("cannot mount a tmpfs (%s): this test needs root" % mounted.stderr.strip())
    try:
        p.start()
        first = send_beacons(p, "before-full", 100)
        filler = os.path.join(jdir, "filler")
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        acked, retry_after = fill_until_refused(p, "enospc")
        assert_refusing(p)
        assert p.metric("pixeld_journal_errors_total") > 0
        os.unlink(filler)
        wait_for(lambda: http_get(p.admin_port, "/health/ready")[0] == 200, timeout=30,
                 what="ready again when space returns")
        acked += first + send_beacons(p, "after-full", 200)
        wait_for(lambda: set(acked) <= set(ids_in(p)), timeout=60, interval=0.5,
                 what="every acknowledged event delivered")
        print("  Retry-After: %s; %d acknowledged around the full disk" % (retry_after, len(acked)))
        assert p.stop() == 0
    finally:
        if p.proc and p.proc.poll() is None:
            p.proc.kill()
            p.proc.wait()
        subprocess.run(["umount", "-l", jdir])
        p.cleanup()


def saved_backlog(p):
    """The backlog of destination "events" by its saved watermark (pixelctl journal status)."""
    out = subprocess.run([PIXELCTL, "-c", p.conf, "journal", "status", "--json"],
                         capture_output=True, text=True, timeout=30)
    if out.returncode:
        return None
    total = 0
    for st in json.loads(out.stdout)["streams"]:
        for d in st["destinations"]:
            if d["name"] == "events":
                if d.get("origin") != "saved":
                    return None
                total += d["backlog_records"]
    return total


def test_sigterm_with_backlog_resumes_without_resending():
    p = Pixeld(dest=DOWN_DEST, server_extra="shutdown_timeout = 2s\n")
    try:
        os.makedirs(os.path.join(p.data_dir, "sink"))
        p.start()
        first = send_beacons(p, "pre", 2000)
        wait_for(lambda: len(sink_events(p)) == 2000, timeout=20, what="first 2000 delivered")
        wait_for(lambda: saved_backlog(p) == 0, timeout=10,
                 what="a watermark save covering the 2000 delivered")
        os.rename(os.path.join(p.data_dir, "sink"), os.path.join(p.data_dir, "sink.away"))
        backlog = send_beacons(p, "post", 3000)
        assert p.stop() == 0
        wm = open(os.path.join(p.data_dir, "journal", "watermarks")).read()
        assert "mark events" in wm, wm
        os.rename(os.path.join(p.data_dir, "sink.away"), os.path.join(p.data_dir, "sink"))
        p.start()
        wait_for(lambda: set(first + backlog) <= set(sink_events(p)), timeout=30,
                 what="the backlog delivered after the restart")
        ids = sink_events(p)
        assert len(ids) == len(set(ids)), "%d events sent again" % (len(ids) - len(set(ids)))
        assert p.stop() == 0
    finally:
        p.cleanup()


if __name__ == "__main__":
    run_tests([test_beacon_batch_is_all_or_nothing_at_the_quota, test_kill9_durable_loses_nothing, test_kill9_fast_loses_nothing_on_a_process_crash,
               test_destination_down_backlog_rss_flat, test_torn_tail_cut_and_rest_replayed,
               test_quota_full_503_then_recovery,
               test_disk_full_enospc_then_recovery, test_sigterm_with_backlog_resumes_without_resending])
