"""Configuration against the real binaries: the example file with every block
uncommented, --check-config loading what start-up loads, a config without
destinations, /health/ready as JSON whatever XDP reports, and a thread that
cannot start."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from pxtest import PIXELD, ROOT, Pixeld, free_port, http_get, run_tests, skip, wait_for

EXAMPLE = os.path.join(ROOT, "scripts", "pixeld.ini.example")
# A commented key (map.<Event> keys included) or section header: ";" then
# the text, no blank in between (prose comments start with "; ").
COMMENTED = re.compile(r"^;(\[.*\]|[a-z_]+(\.[A-Za-z]+)? *=.*)$")


def check_config(path, cwd, env=None):
    return subprocess.run([PIXELD, "-c", path, "--check-config"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=30)


def test_example_with_every_block_uncommented_passes_check_config():
    d = tempfile.mkdtemp(prefix="pixeld-example-")
    try:
        lines = open(EXAMPLE).read().splitlines()
        out = [COMMENTED.sub(r"\1", l) for l in lines]
        uncommented = sum(1 for a, b in zip(lines, out) if a != b)
        assert uncommented >= 40, "only %d commented keys found" % uncommented
        path = os.path.join(d, "pixeld.ini")
        with open(path, "w") as f:
            f.write("\n".join(out) + "\n")
        os.makedirs(os.path.join(d, "keys"))
        key = os.path.join(d, "keys", "k2025.key")
        with open(key, "w") as f:
            f.write("0123456789abcdef0123456789abcdef\n")
        os.chmod(key, 0o600)
        # The [certificate "shop"] of the example: a self-signed pair, key mode 600.
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                        "/CN=t.shop.example", "-keyout", os.path.join(d, "keys", "t.shop.example.key"),
                        "-out", os.path.join(d, "keys", "t.shop.example.pem")],
                       check=True, capture_output=True, timeout=60)
        os.chmod(os.path.join(d, "keys", "t.shop.example.key"), 0o600)
        env = dict(os.environ, PIXELD_GA4_SECRET="ga4-secret", PIXELD_META_TOKEN="meta-token",
                   PIXELD_TIKTOK_TOKEN="tiktok-token", PIXELD_WEBHOOK_SECRET="hook-secret",
                   PIXELD_LINKEDIN_TOKEN="li-token", PIXELD_SNAPCHAT_TOKEN="snap-token",
                   PIXELD_PINTEREST_TOKEN="pin-token", PIXELD_REDDIT_TOKEN="rdt-token",
                   PIXELD_SEGMENT_WRITE_KEY="seg-key", PIXELD_AMPLITUDE_API_KEY="amp-key",
                   PIXELD_MIXPANEL_SECRET="mp-secret")
        r = check_config(path, d, env)
        assert r.returncode == 0, "%s\n%s" % (r.stdout, r.stderr)
        assert "is valid" in r.stdout
        # Every key of the tables is in the example (the README lists the same).
        text = "\n".join(out)
        for key in ("listen", "admin_listen", "data_dir", "threads", "dispatchers",
                    "max_connections", "idle_timeout", "request_timeout", "shutdown_timeout",
                    "cors_origins", "hosts", "trusted_proxies", "admin_key", "tenant", "user",
                    "log_level", "ring_size", "dir", "ack", "commit_interval", "segment_bytes",
                    "max_bytes", "interface", "mode", "ports", "rate", "burst", "syn_rate",
                    "syn_burst", "deny_file", "allow_file", "bot_block", "bot_block_ttl",
                    "pin_dir", "max_cidrs", "max_sources", "keys", "base_url", "default_ttl",
                    "first_open_window", "scanner_window", "dedup_slots", "state_file",
                    "batch_max_events", "linger_ms", "events", "connect_timeout", "timeout",
                    "max_in_flight", "rate_limit", "rate_burst", "tls_listen", "handshake_timeout",
                    "default_certificate", "ticket_rotation", "cert"):
            assert re.search(r"^%s =" % key, text, re.M), "key %s is not in the example" % key
    finally:
        shutil.rmtree(d, ignore_errors=True)


def email_conf(d, key_line):
    path = os.path.join(d, "pixeld.ini")
    with open(path, "w") as f:
        f.write("[server]\ndata_dir = %s/data\n[email]\nkeys = %s\n"
                '[destination "events"]\ntype = jsonl\n' % (d, key_line))
    return path


def test_check_config_loads_email_key_files():
    d = tempfile.mkdtemp(prefix="pixeld-check-")
    try:
        key = os.path.join(d, "k1.key")
        r = check_config(email_conf(d, "k1:%s" % key), d)
        assert r.returncode == 1 and "cannot open" in r.stderr, (r.returncode, r.stderr)
        with open(key, "w") as f:
            f.write("0123456789abcdef0123456789abcdef\n")
        os.chmod(key, 0o644)
        r = check_config(email_conf(d, "k1:%s" % key), d)
        assert r.returncode == 1 and "chmod 600" in r.stderr, (r.returncode, r.stderr)
        os.chmod(key, 0o600)
        with open(key, "w") as f:
            f.write("short\n")
        r = check_config(email_conf(d, "k1:%s" % key), d)
        assert r.returncode == 1 and "holds 5 bytes" in r.stderr, (r.returncode, r.stderr)
        with open(key, "w") as f:
            f.write("0123456789abcdef0123456789abcdef\n")
        r = check_config(email_conf(d, "k1:%s" % key), d)
        assert r.returncode == 0, r.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_no_destination_warns_and_ready_says_zero():
    with Pixeld(dest="") as p:
        r = check_config(p.conf, p.dir)
        assert r.returncode == 0 and "no [destination]" in r.stderr, r.stderr
        p.start()
        st, _, body = http_get(p.admin_port, "/health/ready")
        ready = json.loads(body)
        assert ready["destinations"] == 0, ready
        # Logged once the threads run, which may be just after /health answers.
        wait_for(lambda: "no [destination] is configured" in p.read_log(), timeout=10,
                 what="the no-destination warning in the log")


def test_ready_is_json_whatever_xdp_says():
    # A quote, a backslash and a byte that is not UTF-8, all in the failure
    # text XDP reports ("no interface ...").
    with Pixeld(extra="") as p:
        raw = open(p.conf, "rb").read()
        with open(p.conf, "wb") as f:
            f.write(raw + b'[xdp]\ninterface = p"x\\\xff\n')
        p.start()
        st, _, body = http_get(p.admin_port, "/health/ready")
        ready = json.loads(body.decode("utf-8"))
        assert ready["xdp"].startswith("failed: no interface"), ready
        assert ready["destinations"] == 1, ready


def test_thread_that_cannot_start_is_a_clear_error():
    if os.geteuid() != 0 or not shutil.which("setpriv") or not shutil.which("prlimit"):
        skip("needs root, setpriv and prlimit to limit the thread count")
    d = tempfile.mkdtemp(prefix="pixeld-threads-")
    try:
        os.chmod(d, 0o777)
        path = os.path.join(d, "pixeld.ini")
        with open(path, "w") as f:
            f.write("[server]\nlisten = 127.0.0.1:%d\nadmin_listen = 127.0.0.1:%d\n"
                    "data_dir = %s/data\nthreads = 8\ndispatchers = 4\n"
                    '[destination "events"]\ntype = jsonl\n' % (free_port(), free_port(), d))
        os.chmod(path, 0o644)
        # RLIMIT_NPROC counts every thread of the user: a uid of its own (no
        # other process runs as it) allows the main thread and one more.
        uid = str(61000 + os.getpid() % 3000)
        r = subprocess.run(["prlimit", "--nproc=2", "setpriv", "--reuid=" + uid, "--regid=" + uid,
                            "--clear-groups", PIXELD, "-c", path],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 1, (r.returncode, r.stderr)
        assert "cannot start a thread" in r.stderr, r.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    run_tests([test_example_with_every_block_uncommented_passes_check_config,
               test_check_config_loads_email_key_files,
               test_no_destination_warns_and_ready_says_zero,
               test_ready_is_json_whatever_xdp_says,
               test_thread_that_cannot_start_is_a_clear_error])
