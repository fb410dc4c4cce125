"""server.log_format: text lines "ts level component: message", or one JSON
object per line with ts, level, component and msg, escaped so that a message
quoting a bad value still parses; anything else is refused at load."""

import json
import os
import re
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from pxtest import PIXELD, Pixeld, run_tests, wait_for

TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (error|warn|info|debug) [a-z_]+: .+$")


def test_text_is_the_default():
    with Pixeld() as px:
        px.start()
        assert px.stop() == 0
        lines = px.read_log().splitlines()
        assert lines and all(TEXT_LINE.match(l) for l in lines), lines


def test_json_lines():
    with Pixeld(server_extra="log_format = json\n") as px:
        px.start()
        # A SIGHUP with a broken file logs the error, which quotes the value.
        with open(px.conf, "a") as f:
            f.write("[journal]\nack = \"maybe\\\n")
        px.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "SIGHUP: " in px.read_log(), 10, what="the SIGHUP error line")
        assert px.stop() == 0
        records = [json.loads(l) for l in px.read_log().splitlines()]
        assert len(records) >= 4
        for r in records:
            assert set(r) == {"ts", "level", "component", "msg"}, r
            assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", r["ts"]), r
        hup = [r for r in records if r["msg"].startswith("SIGHUP: ")]
        assert hup[0]["level"] == "warn" and '"maybe\\' in hup[0]["msg"], hup
        assert any(r["component"] == "main" and "listening on" in r["msg"] for r in records)


def test_bad_format_refused():
    with Pixeld(server_extra="log_format = yaml\n") as px:
        out = subprocess.run([PIXELD, "-c", px.conf, "--check-config"], capture_output=True,
                             text=True, timeout=10)
        assert out.returncode == 1
        assert "server.log_format" in out.stderr and "yaml" in out.stderr, out.stderr
        assert "text or json" in out.stderr, out.stderr


if __name__ == "__main__":
    run_tests([test_text_is_the_default, test_json_lines, test_bad_format_refused])
