"""fsyncgate: the journal's disk fails writes and syncs on demand, and every
event pixeld acknowledged with ack=durable is on the disk afterwards.

The disk is a file system on a loop device whose backing file lives on a
small tmpfs. When the tmpfs is full, the loop device fails every write into a
block the backing file does not hold yet, so fdatasync fails; Linux then marks
the pages clean, and a retried fdatasync succeeds although the data never
reached the disk (the PostgreSQL fsync bug of 2018). Growing the tmpfs clears
the fault. After pixeld stops, the file system is unmounted and mounted again,
which drops the page cache, and the segments are read back from the device.

The fault must hit data blocks only, as the transient write errors a file
system lives through do: where metadata writes fail, ext4 with a journal
aborts and XFS shuts down (pixeld then meets EROFS or EIO on every call, not
a sync that lies), and ext2 re-reads a failed indirect block stale from the
device, which punches holes into blocks that were synced long before. So the
file system is ext4 without a journal (a file's extents live in its inode),
mounted with dioread_lock (writeback allocates written extents: no unwritten
extent is split by a failed conversion into more pieces than the inode holds,
which would put an extent block into the failing region), mkfs writes every
inode table, the journal directory is made, and only then is the tmpfs cut to
what is in use plus ROOM. The journal's pre-written zeros run into the fault
first, and what is written after them must still survive it.

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

# Room for journal data on the tmpfs, over what the file system holds after
# mkfs, before the loop device's writes start failing: a few thousand events.
ROOM = 1 << 20


def unavailable(why):
    skip("cannot run: %s" % why)


def sh(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


class FaultyDisk:
    """An ext4 file system that fails data writeback while its tmpfs is full."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="pixeld-fsync-")
        self.tmpfs = os.path.join(self.root, "tmpfs")
        self.mnt = os.path.join(self.root, "mnt")
        os.makedirs(self.tmpfs)
        os.makedirs(self.mnt)
        self.dev = None
        self.mounted = []
        sh("mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", self.tmpfs)
        self.mounted.append(self.tmpfs)
        back = os.path.join(self.tmpfs, "disk")
        with open(back, "wb") as f:
            f.truncate(64 << 20)
        self.dev = sh("losetup", "-f", "--show", back)
        sh("mkfs.ext4", "-q", "-F", "-b", "4096", "-O", "^has_journal",
           "-E", "lazy_itable_init=0,nodiscard", self.dev)
        self.mount()
        self.journal = os.path.join(self.mnt, "journal")
        os.makedirs(self.journal)
        os.sync()
        st = os.statvfs(self.tmpfs)
        used = (st.f_blocks - st.f_bfree) * st.f_frsize
        sh("mount", "-o", "remount,size=%dk" % ((used + ROOM) >> 10), "tmpfs", self.tmpfs)

    def mount(self):
        sh("mount", "-o", "errors=continue,dioread_lock", self.dev, self.mnt)
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


def journal_ids(journal_dir, report):
    """Every event id in every record of every segment, read as the format
    says; <report> gets, per segment, its size and where the reading stopped."""
    ids = set()
    for dirpath, _, files in os.walk(journal_dir):
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                data = f.read()
            off = 0
            count = 0
            while off + 16 <= len(data):
                _, n, _ = struct.unpack_from("<IIq", data, off)
                if n == 0 or off + 16 + n > len(data):
                    break
                try:
                    ids.add(json.loads(data[off + 16:off + 16 + n])["event_id"])
                except ValueError:
                    break
                off += 16 + n
                count += 1
            report.append("%s: %d bytes, %d records, read up to %d%s" % (
                os.path.relpath(path, journal_dir), len(data), count, off,
                "" if off == len(data) else "; there: %r" % data[off:off + 24]))
    return ids


def test_durable_acks_survive_a_failed_fsync():
    if os.geteuid() != 0:
        unavailable("needs root for losetup and mount")
    for tool in ("losetup", "mkfs.ext4", "mount"):
        if not shutil.which(tool):
            unavailable("needs %s" % tool)
    try:
        disk = FaultyDisk()
    except (subprocess.CalledProcessError, OSError) as e:
        unavailable("cannot set up a loop device: %s" % e)
    # A destination that never takes the events keeps every segment on disk.
    dead = free_port()
    p = Pixeld(extra="[journal]\nack = durable\ndir = %s\nmax_bytes = 64M\n"
                     "commit_interval = 1ms\n" % disk.journal,
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
        segments = []
        on_disk = journal_ids(disk.journal, segments)
        lost = [e for e in acked if e not in on_disk]
        print("acknowledged %d, refused during the fault %d, on disk %d, lost %d"
              % (len(acked), sum(load.refused), len(on_disk), len(lost)))
        assert not lost, "acknowledged with ack=durable but not on disk: %d, e.g. %s\n%s\n%s" % (
            len(lost), lost[:5], "\n".join(segments), p.read_log()[-3000:])
    finally:
        p.cleanup()
        disk.cleanup()


if __name__ == "__main__":
    run_tests([test_durable_acks_survive_a_failed_fsync])
