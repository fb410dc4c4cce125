"""scripts/grafana/pixeld.json and scripts/prometheus/pixeld-alerts.yml
against a running pixeld: every metric they name is in its /metrics (XDP
attached in generic mode on lo, an HTTP destination, a TLS listener with a
certificate this test makes, traffic accepted and refused, so that the
conditional series exist), every label they group or
select by is a label of a metric in that expression, the alert rules parse
with promtool (Debian's prometheus package), and so does every dashboard
query (checked as recording rules)."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from pxtest import ROOT, Pixeld, free_port, http_get, http_post, run_tests, wait_for
from tlsca import TestCA

DASHBOARD = os.path.join(ROOT, "scripts", "grafana", "pixeld.json")
ALERTS = os.path.join(ROOT, "scripts", "prometheus", "pixeld-alerts.yml")
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                         "Chrome/120.0 Safari/537.36"}
# Labels Prometheus adds or histograms carry, not pixeld's.
OUTER_LABELS = {"instance", "job", "le"}
NAME = re.compile(r"\bpixeld_[a-z0-9_]+\b")


def dashboard_exprs():
    dash = json.load(open(DASHBOARD))
    exprs = []
    for p in dash["panels"]:
        for t in p.get("targets", []):
            exprs.append(t["expr"])
    return dash, exprs


def alert_exprs():
    return [m.group(1).strip() for m in
            re.finditer(r"expr: \|?\s*\n?((?:.+\n)+?)(?=\s+(?:for|labels):)", open(ALERTS).read())]


def scrape(px):
    """{metric name: set of label names} from /metrics."""
    st, _, body = http_get(px.admin_port, "/metrics")
    assert st == 200
    out = {}
    for line in body.decode().splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([a-z_:][a-z0-9_:]*)(\{([^}]*)\})? ", line)
        labels = set(re.findall(r"([a-z_]+)=\"", m.group(3) or ""))
        out.setdefault(m.group(1), set()).update(labels)
    return out


def running_pixeld():
    pin = "/sys/fs/bpf/pixeld-monitoring-%d" % os.getpid()
    ca = TestCA(tempfile.mkdtemp(prefix="pixeld-monitoring-ca-"))
    # Ten days left: inside PixeldCertificateExpiring's 14-day threshold.
    cert, key = ca.issue("shop", ["t.shop.example"], not_after=time.time() + 10 * 86400)
    tls = ('[certificate "shop"]\ncert = %s\nkey = %s\nhosts = t.shop.example\n' % (cert, key))
    px = Pixeld(server_extra="shutdown_timeout = 1s\ntls_listen = 127.0.0.1:%d\n" % free_port(),
                extra="[xdp]\ninterface = lo\nmode = generic\nports = PORT\npin_dir = %s\n%s" % (pin, tls),
                dest='[destination "events"]\ntype = jsonl\npath = events.jsonl\n\n'
                     '[destination "meta"]\ntype = meta\npixel_id = 1234567890\napi_version = v25.0\n'
                     'access_token = test-monitoring\napi_base = http://127.0.0.1:9\n')
    with open(px.conf) as f:
        conf = f.read().replace("ports = PORT", "ports = %d" % px.port)
    with open(px.conf, "w") as f:
        f.write(conf)
    px.start()
    return px


PX = None
METRICS = {}


def test_daemon_serves_the_series():
    global PX, METRICS
    PX = running_pixeld()
    st, _, _ = http_get(PX.port, "/p.gif?e=PageView&id=mon-1&url=https%3A%2F%2Fshop.example%2F",
                        headers=BROWSER)
    assert st == 200
    st, _, _ = http_post(PX.port, "/e", "{not json", headers=BROWSER)
    assert st == 400
    wait_for(lambda: PX.metric('pixeld_xdp_attached') == 1, 5, what="XDP attached on lo: %s"
             % PX.read_log()[-400:])
    wait_for(lambda: "pixeld_events_rejected_total" in scrape(PX), 5, what="a refusal counted")
    left = PX.metric('pixeld_tls_certificate_expiry_seconds{name="shop"}')
    assert 9 * 86400 < left <= 10 * 86400, left
    METRICS = scrape(PX)
    assert len(METRICS) > 40, sorted(METRICS)


def check_names(exprs):
    missing = sorted({n for e in exprs for n in NAME.findall(e)} - set(METRICS))
    assert not missing, "named but not in /metrics: %s" % missing
    for e in exprs:
        names = NAME.findall(e)
        have = set().union(*(METRICS[n] for n in names)) if names else set()
        used = set()
        for group in re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", e):
            used |= {l.strip() for l in group.split(",") if l.strip()}
        used |= set(re.findall(r"[{,]\s*([a-z_]+)\s*=~?", e))
        unknown = used - have - OUTER_LABELS
        assert not unknown, "labels %s are on none of %s in: %s" % (sorted(unknown), names, e)


def test_dashboard_metrics_exist():
    dash, exprs = dashboard_exprs()
    assert len(exprs) >= 20, len(exprs)
    check_names(exprs)
    for want in ("pixeld_events_accepted_total", "pixeld_events_rejected_total",
                 "pixeld_journal_commit_seconds_bucket", "pixeld_destination_events_delivered_total",
                 "pixeld_destination_backlog_bytes", "pixeld_journal_bytes", "pixeld_xdp_packets_total",
                 "pixeld_tls_certificate_expiry_seconds"):
        assert any(want in e for e in exprs), "the dashboard does not show %s" % want
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids)), "duplicate panel ids"


def test_alert_metrics_exist():
    exprs = alert_exprs()
    assert len(exprs) >= 6, exprs
    check_names(exprs)
    text = open(ALERTS).read()
    for alert in ("PixeldDown", "PixeldBacklogAge", "PixeldBreakerOpen", "PixeldJournalNearQuota",
                  "PixeldRefusalsSpike", "PixeldDispatcherStalled", "PixeldCertificateExpiring"):
        assert "alert: %s\n" % alert in text, alert


def promtool(path):
    tool = shutil.which("promtool")
    assert tool, "promtool is missing: apt-get install prometheus (make deps)"
    out = subprocess.run([tool, "check", "rules", path], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_promtool_checks_the_alerts():
    assert "SUCCESS: 8 rules found" in promtool(ALERTS)


def test_promtool_parses_every_dashboard_query():
    _, exprs = dashboard_exprs()
    d = tempfile.mkdtemp()
    path = os.path.join(d, "dashboard-rules.yml")
    with open(path, "w") as f:
        f.write("groups:\n  - name: dashboard\n    rules:\n")
        for i, e in enumerate(exprs):
            q = e.replace("$__rate_interval", "5m").replace("$job", ".*").replace("$instance", ".*")
            f.write("      - record: pixeld_dashboard_%d\n        expr: %s\n" % (i, json.dumps(q)))
    try:
        assert "SUCCESS: %d rules found" % len(exprs) in promtool(path)
    finally:
        shutil.rmtree(d)


def test_stop():
    assert PX.stop() == 0
    PX.cleanup()


if __name__ == "__main__":
    try:
        run_tests([test_daemon_serves_the_series, test_dashboard_metrics_exist, test_alert_metrics_exist,
                   test_promtool_checks_the_alerts, test_promtool_parses_every_dashboard_query, test_stop])
    finally:
        if PX:
            PX.cleanup()
