"""fsyncgate: the journal's disk fails writes and syncs on demand, and every
event pixeld acknowledged with ack=durable is on the disk afterwards.

The disk is an ext2 file system on a loop device whose backing file lives on
a small tmpfs. When the tmpfs is full, the loop device fails writeback, so
fdatasync fails; Linux then marks the pages clean, and a retried fdatasync
succeeds although the data never reached the disk (the PostgreSQL fsync bug
of 2018). Growing the tmpfs clears the fault. After pixeld stops, the file
system is unmounted and mounted again, which drops the page cache, and the
segments are read back from the device.

Needs root, a loop device and mount; without them the test is skipped
before any check runs, and fails under CI=true."""

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from pxtest import Load, Pixeld, free_port, run_tests, skip, wait_for

# What mkfs leaves in use is about 2.3 MB of the tmpfs: the rest, about 2 MB,
# is room for journal data before the loop device's writes start failing.
TMPFS_SIZE = "4400k"


def unavailable(why):
    skip("cannot run: %s" % why)


def sh(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


class FaultyDisk:
    """An ext2 file system that fails writeback while its tmpfs is full."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="pixeld-fsync-")
        self.tmpfs = os.path.join(self.root, "tmpfs")
        self.mnt = os.path.join(self.root, "mnt")
        os.makedirs(self.tmpfs)
        os.makedirs(self.mnt)
        self.dev = None
        self.mounted = []
        sh("mount", "-t", "tmpfs", "-o", "size=" + TMPFS_SIZE, "tmpfs", self.tmpfs)
        self.mounted.append(self.tmpfs)
        back = os.path.join(self.tmpfs, "disk")
        with open(back, "wb") as f:
            f.truncate(64 << 20)
        self.dev = sh("losetup", "-f", "--show", back)
        sh("mkfs.ext2", "-q", "-b", "4096", self.dev)
        self.mount()

    def mount(self):
        sh("mount", "-o", "errors=continue", self.dev, self.mnt)
        self.mounted.append(self.mnt)

    def remount_cold(self):
        """Unmounts and mounts again: what is read afterwards comes from the device."""
        sh("umount", self.mnt)
        self.mounted.remove(self.mnt)
        self.mount()

    def clear_fault(self):
        sh("mount", "-o", "remount,size=256m", self.tmpfs)

    def cleanup(self):
        for m in reversed(self.mounted):
            subprocess.run(["umount", "-l", m], capture_output=True)
        if self.dev:
            subprocess.run(["losetup", "-d", self.dev], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def journal_ids(journal_dir):
    """Every event id in every record of every segment, read as the format says."""
    ids = set()
    for dirpath, _, files in os.walk(journal_dir):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as f:
                data = f.read()
            off = 0
            while off + 16 <= len(data):
                _, n, _ = struct.unpack_from("<IIq", data, off)
                if n == 0 or off + 16 + n > len(data):
                    break
                try:
                    ids.add(json.loads(data[off + 16:off + 16 + n])["event_id"])
                except ValueError:
                    break
                off += 16 + n
    return ids


def test_durable_acks_survive_a_failed_fsync():
    if os.geteuid() != 0:
        unavailable("needs root for losetup and mount")
    for tool in ("losetup", "mkfs.ext2", "mount"):
        if not shutil.which(tool):
            unavailable("needs %s" % tool)
    try:
        disk = FaultyDisk()
    except (subprocess.CalledProcessError, OSError) as e:
        unavailable("cannot set up a loop device: %s" % e)
    # A destination that never takes the events keeps every segment on disk.
    dead = free_port()
    p = Pixeld(extra="[journal]\nack = durable\ndir = %s/journal\nmax_bytes = 64M\n"
                     "commit_interval = 1ms\n" % disk.mnt,
               dest='[destination "hold"]\ntype = webhook\nurl = http://127.0.0.1:%d/\n'
                    'secret = fsync-test-secret\n' % dead)
    try:
        p.start()
        load = Load(p.port, 4, "fs", 200000, reconnect=True)
        # The fault comes by itself once the tmpfs is full: pixeld refuses
        # new events (503) while its journal cannot sync.
        wait_for(lambda: sum(load.refused) > 0, timeout=120, interval=0.1,
                 what="the first 503 once the disk fails")
        before = load.count()
        wait_for(lambda: sum(load.refused) > 20, timeout=30, interval=0.1,
                 what="503s while the fault lasts")
        disk.clear_fault()
        wait_for(lambda: load.count() > before + 200, timeout=60, interval=0.1,
                 what="acknowledgements again after the fault cleared")
        acked = load.join()
        assert p.stop() == 0, p.read_log()
        disk.remount_cold()
        on_disk = journal_ids(os.path.join(disk.mnt, "journal"))
        lost = [e for e in acked if e not in on_disk]
        print("acknowledged %d, refused during the fault %d, on disk %d, lost %d"
              % (len(acked), sum(load.refused), len(on_disk), len(lost)))
        assert not lost, "acknowledged with ack=durable but not on disk: %d, e.g. %s" % (
            len(lost), lost[:5])
    finally:
        p.cleanup()
        disk.cleanup()


if __name__ == "__main__":
    run_tests([test_durable_acks_survive_a_failed_fsync])
