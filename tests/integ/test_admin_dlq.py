"""POST /admin/dlq/replay reads the dead-letter files on the main thread, never
on an ingest thread: while that read blocks, the same ingest thread keeps
serving, and the replay is answered once the read is done."""

import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from pxtest import UA, Pixeld, free_port, http_get, http_post, run_tests, wait_for


def test_replay_file_io_never_blocks_the_ingest_thread():
    # A webhook to a closed port: an HTTP destination whose dead-letter file
    # is a FIFO, so reading it blocks until the test writes to it.
    p = Pixeld(threads=1, dest='[destination "hook"]\ntype = webhook\nurl = http://127.0.0.1:%d/\n'
                                'secret = dlq-test-secret\n' % free_port())
    try:
        os.makedirs(os.path.join(p.data_dir, "dlq"), mode=0o700)
        fifo = os.path.join(p.data_dir, "dlq", "hook.jsonl")
        os.mkfifo(fifo, 0o600)
        p.start()
        answer = {}

        def replay():
            answer["r"] = http_post(p.admin_port, "/admin/dlq/replay", '{"dest":"hook"}',
                                    timeout=60)

        t = threading.Thread(target=replay)
        t.start()
        # The replay now waits on the FIFO; the one ingest thread still answers.
        for i in range(20):
            st, _, _ = http_get(p.port, "/p?e=PageView&id=during-%d" % i,
                                headers={"User-Agent": UA}, timeout=3)
            assert st == 204, st
            st, _, _ = http_get(p.admin_port, "/health", timeout=3)
            assert st == 200, st
        assert t.is_alive(), "the replay did not wait on the dead-letter file"
        with open(fifo, "w") as f:
            f.write("")
        t.join(30)
        st, _, body = answer["r"]
        assert st == 200, (st, body)
        assert json.loads(body) == {"replayed": 0, "skipped": 0}, body
        # One job at a time, and the slot is free again afterwards.
        st, _, body = http_post(p.admin_port, "/admin/dlq/replay", '{"dest":"nope"}')
        assert st == 400, (st, body)
    finally:
        # Unblock a reader still waiting, whatever failed.
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
        except OSError:
            pass
        p.cleanup()


if __name__ == "__main__":
    run_tests([test_replay_file_io_never_blocks_the_ingest_thread])
