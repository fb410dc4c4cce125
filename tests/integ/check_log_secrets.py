"""No log line carries a secret or a plain email address. tests/run.sh sets
PXD_LOG_ARCHIVE for the integration tests, where every Pixeld of pxtest.py
leaves its log, configuration and key files, and runs this last over all of
them. Run alone (the archive is empty), it first runs the integration tests
that use secrets and email addresses itself.

Secrets: every admin_key, access_token, api_secret, client_secret,
refresh_token, developer_token and webhook secret in the archived
configurations (literal or file:PATH) and every email signing key, searched in
every log as they are (and hex-decoded keys as hex). Emails: any
name@domain.tld in a log is a failure, whatever its origin."""

import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from pxtest import ROOT, run_tests

SECRET_KEYS = ("admin_key", "access_token", "api_secret", "client_secret", "refresh_token",
               "developer_token", "secret")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# The tests that configure secrets and send email addresses, for a run on its own.
SELF_RUN = ("test_delivery.py", "test_email.py", "test_endpoints.py", "test_connections.py",
            "test_config.py")


def archive_dir():
    d = os.environ.get("PXD_LOG_ARCHIVE")
    if d and os.listdir(d):
        return d
    d = d or tempfile.mkdtemp(prefix="pixeld-logs-")
    env = dict(os.environ, PXD_LOG_ARCHIVE=d)
    for t in SELF_RUN:
        subprocess.run([sys.executable, os.path.join(ROOT, "tests", "integ", t)], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    return d


def read_value(run_dir, value):
    """A config value as pixeld resolves it: literal or file:PATH (the file
    archived beside the config); env: values are not in the archive."""
    if value.startswith("env:"):
        return None
    if value.startswith("file:"):
        path = os.path.join(run_dir, os.path.basename(value[5:]))
        return open(path, errors="replace").read().strip() if os.path.exists(path) else None
    return value


def secrets_of(run_dir):
    out = set()
    conf = os.path.join(run_dir, "pixeld.ini")
    if not os.path.exists(conf):
        return out
    for line in open(conf, errors="replace"):  # some tests write hostile bytes
        m = re.match(r"\s*([a-z_]+)\s*=\s*(.+?)\s*$", line)
        if not m:
            continue
        key, value = m.groups()
        if key in SECRET_KEYS:
            v = read_value(run_dir, value)
            if v:
                out.add(v)
        elif key == "keys":  # [email] keys = id:path, ...
            for item in value.split(","):
                path = os.path.join(run_dir, os.path.basename(item.split(":", 1)[-1].strip()))
                if os.path.exists(path):
                    out.add(open(path, errors="replace").read().strip())
    return {s for s in out if len(s) >= 6}


def collect():
    d = archive_dir()
    runs = [os.path.join(d, r) for r in sorted(os.listdir(d))]
    logs = {}
    secrets = set()
    for r in runs:
        log = os.path.join(r, "pixeld.log")
        if os.path.exists(log):
            logs[r] = open(log, errors="replace").read()
        secrets |= secrets_of(r)
    return logs, secrets


LOGS, SECRETS = collect()


def test_the_archive_holds_a_test_run():
    lines = sum(l.count("\n") for l in LOGS.values())
    assert len(LOGS) >= 5 and lines >= 50, "only %d logs, %d lines archived" % (len(LOGS), lines)
    assert len(SECRETS) >= 5, "only %d secrets found in the archived configurations" % len(SECRETS)
    print("     %d logs, %d lines, %d secrets" % (len(LOGS), lines, len(SECRETS)))


def test_no_secret_in_any_log():
    leaks = ["%s: %s..." % (os.path.basename(r), s[:4]) for r, text in LOGS.items()
             for s in SECRETS if s in text]
    assert not leaks, "secrets in logs: %s" % leaks


def test_no_plain_email_in_any_log():
    hits = ["%s: %s" % (os.path.basename(r), m.group(0)) for r, text in LOGS.items()
            for m in EMAIL.finditer(text)]
    assert not hits, "plain email addresses in logs: %s" % hits[:10]


if __name__ == "__main__":
    run_tests([test_the_archive_holds_a_test_run, test_no_secret_in_any_log,
               test_no_plain_email_in_any_log])
