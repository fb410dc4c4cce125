"""pixeld under a service manager: the test plays systemd's side of
sd_notify (a datagram socket in NOTIFY_SOCKET, WATCHDOG_USEC set) and checks
READY=1 with a status line once pixeld serves, a watchdog ping every second
while its threads loop, and STOPPING=1 when SIGTERM starts the drain."""

import os
import signal
import socket
import sys

sys.path.insert(0, os.path.dirname(__file__))
from pxtest import Pixeld, http_get, run_tests, wait_for


class Manager:
    """The receiving end of NOTIFY_SOCKET: collects every message."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setblocking(False)
        self.messages = []

    def poll(self):
        while True:
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                return self.messages

    def fields(self):
        out = []
        for m in self.poll():
            out += [l for l in m.split("\n") if l]
        return out


def start_managed(px, mgr, watchdog_usec):
    os.environ["NOTIFY_SOCKET"] = mgr.path
    os.environ["WATCHDOG_USEC"] = str(watchdog_usec)
    try:
        px.start()
    finally:
        del os.environ["NOTIFY_SOCKET"], os.environ["WATCHDOG_USEC"]


def test_ready_watchdog_stopping():
    with Pixeld(threads=2) as px:
        mgr = Manager(px.dir)
        start_managed(px, mgr, 3000000)
        wait_for(lambda: "READY=1" in mgr.fields(), 10, what="READY=1")
        status = [f for f in mgr.fields() if f.startswith("STATUS=")]
        assert status and "listening on 127.0.0.1:%d" % px.port in status[0], status
        assert "2 ingest threads" in status[0], status
        # Answering: READY came after the listeners accept.
        st, _, _ = http_get(px.port, "/health")
        assert st == 200
        wait_for(lambda: mgr.fields().count("WATCHDOG=1") >= 3, 10, what="three watchdog pings")
        assert "STOPPING=1" not in mgr.fields()
        px.proc.send_signal(signal.SIGTERM)
        wait_for(lambda: "STOPPING=1" in mgr.fields(), 10, what="STOPPING=1 on SIGTERM")
        assert px.proc.wait(30) == 0
        order = mgr.fields()
        assert order.index("READY=1") < order.index("STOPPING=1"), order


def test_without_notify_socket_nothing_changes():
    with Pixeld() as px:
        px.start()
        st, _, _ = http_get(px.port, "/health")
        assert st == 200
        assert "sd_notify" not in px.read_log(), px.read_log()
        assert px.stop() == 0


if __name__ == "__main__":
    run_tests([test_ready_watchdog_stopping, test_without_notify_socket_nothing_changes])
