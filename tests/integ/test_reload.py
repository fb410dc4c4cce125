"""Live reconfiguration on the real pixeld: reloads under beacon load lose
nothing and refuse nothing, a tenant added by a reload routes its host at
once, a destination added by a reload receives within 1 s, a changed
endpoint and batch size take effect and a removed destination stops (the
dispatcher pool restarted under load: nothing lost or written twice), a bad
file (SIGHUP), a restart-only key and a bad new destination (pixelctl
reload) are refused with file:line while the running configuration serves,
keys and per-key rate limits change with a reload, 429 then recovery, and a
secret the dropped user cannot read is reported at start."""

import json
import os
import pwd
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from pxtest import (PIXELCTL, UA, Load, Pixeld, beacon_raw, http_get, http_post, request,
                    run_tests, skip, wait_for)
from test_delivery import Mock

SINK = '[destination "events"]\ntype = jsonl\npath = events.jsonl\n'


def tenants(*blocks):
    return "".join('[tenant "%s"]\nhosts = %s\ndestinations = events\n%s' % b for b in blocks)


def write_conf(px, extra, server_extra="", dests=SINK):
    """Rewrites <px>'s file as Pixeld() writes it, with new sections."""
    with open(px.conf, "w") as f:
        f.write("[server]\nlisten = 127.0.0.1:%d\nadmin_listen = 127.0.0.1:%d\n"
                "data_dir = %s\nthreads = 1\n%s\n%s\n%s"
                % (px.port, px.admin_port, px.data_dir, server_extra, extra, dests))


def line_of(px, text):
    with open(px.conf) as f:
        for n, line in enumerate(f, 1):
            if text in line:
                return n
    raise AssertionError("%r not in %s" % (text, px.conf))


def reload(px):
    r = subprocess.run([PIXELCTL, "-c", px.conf, "reload"], capture_output=True, text=True,
                       timeout=30)
    return r.returncode, r.stdout + r.stderr


def status(px):
    st, _, body = http_get(px.admin_port, "/admin/status")
    assert st == 200, st
    return json.loads(body)["config"]


def beacon(px, host, eid):
    body = json.dumps({"event": "Lead", "event_id": eid})
    return http_post(px.port, "/e", body, host=host, headers={"User-Agent": UA})[0]


def s2s(px, key, eid, host="t"):
    st, hd, b = http_post(px.port, "/s2s/events", json.dumps({"event": "Lead", "event_id": eid}),
                          host=host, headers={"User-Agent": UA, "Authorization": "Bearer " + key})
    return st, hd, json.loads(b) if b else None


def test_reloads_under_load_lose_nothing_and_a_new_tenant_routes_at_once():
    base = tenants(("a", "t", "secret_keys = sk-a\n"))
    with Pixeld(extra=base) as px:
        px.start()
        load = Load(px.port, 4, "rl", 10 ** 9)
        wait_for(lambda: load.count() >= 200, what="load to flow")
        gen = status(px)["generation"]
        for i in range(6):
            extra = base + (tenants(("c", "c.example", "")) if i % 2 == 0 else "")
            write_conf(px, extra)
            rc, out = reload(px)
            assert rc == 0 and "generation %d" % (gen + i + 1) in out, (rc, out)
            if i % 2 == 0:
                # Answered after the swap: the new tenant's host routes now.
                t0 = time.monotonic()
                wait_for(lambda: beacon(px, "c.example", "c-%d" % i) == 204, timeout=1,
                         interval=0.02, what="tenant c on c.example within 1 s")
                assert time.monotonic() - t0 < 1
            else:
                assert beacon(px, "c.example", "gone-%d" % i) == 404
            n = load.count()
            wait_for(lambda: load.count() >= n + 100, what="load to go on after reload %d" % i)
        acked = load.join()
        assert sum(load.refused) == 0, load.refused
        assert len(acked) > 1000, len(acked)
        want = set(acked) | {"c-0", "c-2", "c-4"}
        wait_for(lambda: want <= {e["event_id"] for e in px.events()}, timeout=30,
                 what="every acked event in the sink")
        ids = [e["event_id"] for e in px.events()]
        assert len(ids) == len(set(ids)), "an event was written twice"
        assert {e["tenant"] for e in px.events() if e["event_id"].startswith("c-")} == {"c"}
        assert status(px)["generation"] == gen + 6
        assert px.metric('pixeld_config_reloads_total{result="ok"}') == 6
        assert px.metric("pixeld_config_generation") == gen + 6


def test_bad_file_and_restart_only_keys_are_refused_and_the_old_config_serves():
    base = tenants(("a", "t", "secret_keys = sk-a\n"))
    with Pixeld(extra=base) as px:
        px.start()
        gen = status(px)["generation"]
        # SIGHUP with a file that does not parse: the log and /admin/status say where.
        write_conf(px, base + 'paused = maybe\n')
        bad = line_of(px, "paused = maybe")
        px.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: status(px)["last_reload"]["result"] == "refused", what="refusal")
        where = "%s:%d:" % (px.conf, bad)
        assert where in status(px)["last_reload"]["error"], status(px)
        wait_for(lambda: "reload refused: " + where in px.read_log(), what="the log line")
        assert beacon(px, "t", "still-1") == 204
        # pixelctl reload with the same file: pixelctl cannot read it either.
        rc, out = reload(px)
        assert rc != 0 and where in out and "not reloaded" in out, (rc, out)
        # A file both can read, with a key that needs a restart: pixeld refuses it.
        write_conf(px, base, server_extra="dispatchers = 2\n")
        rc, out = reload(px)
        where = "%s:%d: server.dispatchers: changed, and it needs a restart" % (
            px.conf, line_of(px, "dispatchers = 2"))
        assert rc == 1 and where in out, (rc, out)
        # A new destination of an unknown type, or without a key its type
        # needs: refused at its line before anything stops.
        for more, what in (("type = nosuch\n", 'unknown type "nosuch"'),
                           ("type = webhook\nsecret = s\n", "url")):
            write_conf(px, base.replace("destinations = events\n",
                                        "destinations = events, more\n"),
                       dests=SINK + '[destination "more"]\n' + more)
            rc, out = reload(px)
            where = "%s:%d:" % (px.conf, line_of(px, '[destination "more"]'))
            assert rc == 1 and where in out and what in out, (rc, out)
        assert status(px)["generation"] == gen
        assert px.metric('pixeld_config_reloads_total{result="refused"}') == 4
        assert beacon(px, "t", "still-2") == 204
        assert s2s(px, "sk-a", "still-3")[0] == 200
        wait_for(lambda: {"still-1", "still-2", "still-3"} <= {e["event_id"] for e in px.events()},
                 what="events under the old configuration")


def sink_ids(px, name):
    path = os.path.join(px.data_dir, name)
    if not os.path.exists(path):
        return set()
    with open(path) as f:
        return {json.loads(l)["event_id"] for l in f if l.strip()}


def send(px, ids):
    for eid in ids:
        assert beacon(px, "t", eid) == 204, eid
    wait_for(lambda: set(ids) <= sink_ids(px, "events.jsonl"), what="%s in events.jsonl" % ids)


def test_a_removed_destination_keeps_its_backlog_until_dropped():
    side = '[destination "side"]\ntype = jsonl\npath = side.jsonl\n'
    both = '[tenant "a"]\nhosts = t\ndestinations = events, side\n'
    one = '[tenant "a"]\nhosts = t\ndestinations = events\n'
    backlog = 'pixeld_destination_backlog_bytes{destination="side"}'
    with Pixeld(extra=both, dest=SINK + side) as px:
        px.start()
        send(px, ["b-1", "b-2"])
        wait_for(lambda: {"b-1", "b-2"} <= sink_ids(px, "side.jsonl"), what="side receiving")
        # Removed: it takes nothing more and its cursor, and the journal behind it, stay.
        write_conf(px, one)
        assert reload(px)[0] == 0
        send(px, ["h-1", "h-2", "h-3"])
        wait_for(lambda: px.metric(backlog) > 0, what="side's backlog held")
        assert not {"h-1", "h-2", "h-3"} & sink_ids(px, "side.jsonl")
        r = subprocess.run([PIXELCTL, "-c", px.conf, "journal", "drop", "events"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 1 and "is in the configuration" in r.stderr, r
        # Back by name: it goes on from its cursor and gets what it missed.
        write_conf(px, both, dests=SINK + side)
        assert reload(px)[0] == 0
        wait_for(lambda: {"h-1", "h-2", "h-3"} <= sink_ids(px, "side.jsonl"),
                 what="side catching up from its cursor")
        # Removed again and dropped: the backlog goes, and does not come back with it.
        write_conf(px, one)
        assert reload(px)[0] == 0
        send(px, ["d-1", "d-2"])
        wait_for(lambda: px.metric(backlog) > 0, what="side's backlog held again")
        r = subprocess.run([PIXELCTL, "-c", px.conf, "journal", "drop", "side"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and "dropped" in r.stdout, r
        wait_for(lambda: px.metric(backlog) == 0, what="side's backlog let go")
        write_conf(px, both, dests=SINK + side)
        assert reload(px)[0] == 0
        send(px, ["n-1"])
        wait_for(lambda: "n-1" in sink_ids(px, "side.jsonl"), what="side receiving again")
        assert not {"d-1", "d-2"} & sink_ids(px, "side.jsonl")
        assert len(sink_ids(px, "events.jsonl")) == 8


def hook(mock, batch):
    return ('[destination "hooks"]\ntype = webhook\nurl = http://127.0.0.1:%d/webhook\n'
            "secret = test-hook\nbatch_max_events = %d\nlinger_ms = 50\n" % (mock.port, batch))


def settled_count(count):
    """<count>() once it stayed the same for 300 ms."""
    last = [count(), time.monotonic()]

    def still():
        n = count()
        if n != last[0]:
            last[0], last[1] = n, time.monotonic()
        return time.monotonic() - last[1] >= 0.3
    wait_for(still, what="the count to settle")
    return last[0]


def test_destinations_added_changed_and_removed_by_reload_under_load():
    one, two = Mock().start(), Mock().start()
    try:
        with Pixeld() as px:
            px.start()
            load = Load(px.port, 4, "dr", 10 ** 9)
            wait_for(lambda: load.count() >= 200, what="load to flow")
            delivered = 'pixeld_destination_events_delivered_total{destination="%s"}'
            # Added: it receives within 1 s of the answer.
            write_conf(px, "", dests=SINK + hook(one, 500))
            before = px.metric(delivered % "events")
            rc, out = reload(px)
            assert rc == 0, out
            t0 = time.monotonic()
            wait_for(lambda: one.ids("webhook"), timeout=1, interval=0.02,
                     what="the new destination receiving within 1 s")
            assert time.monotonic() - t0 < 1
            # The sink's counters went on across the new pool; the new one has its own.
            assert px.metric(delivered % "events") >= before
            wait_for(lambda: len(one.ids("webhook")) >= 500, what="hooks under load")
            wait_for(lambda: px.metric(delivered % "hooks") > 0, what="hooks' counter")
            # Changed: another endpoint and batch size; the old one gets nothing more.
            write_conf(px, "", dests=SINK + hook(two, 5))
            rc, out = reload(px)
            assert rc == 0, out
            before = len(one.ids("webhook"))
            wait_for(lambda: len(two.ids("webhook")) >= 200, what="hooks at the new endpoint")
            assert len(one.ids("webhook")) == before
            st = two.stats()
            assert st["accepted"]["webhook"] <= 5 * st["requests"]["webhook"], st
            # Removed while another is added (one new pool): it stops, what it
            # had in hand still goes out, and its cursor holds its backlog.
            write_conf(px, "", dests=SINK + '[destination "late"]\ntype = jsonl\n'
                       'path = late.jsonl\n')
            rc, out = reload(px)
            assert rc == 0, out
            wait_for(lambda: sink_ids(px, "late.jsonl"), timeout=1, interval=0.02,
                     what="late receiving within 1 s")
            gone = settled_count(lambda: len(two.ids("webhook")))
            n = load.count()
            wait_for(lambda: load.count() >= n + 500, what="load to go on")
            assert len(two.ids("webhook")) == gone
            wait_for(lambda: px.metric('pixeld_destination_backlog_bytes{destination="hooks"}')
                     > 0, what="hooks' backlog held")
            acked = load.join()
            assert sum(load.refused) == 0, load.refused
            wait_for(lambda: set(acked) <= sink_ids(px, "events.jsonl"), timeout=30,
                     what="every acked event in the sink")
            ids = [e["event_id"] for e in px.events()]
            assert len(ids) == len(set(ids)), "an event was written twice"
            hooked = one.ids("webhook") + two.ids("webhook")
            assert len(hooked) == len(set(hooked)), "a webhook event was sent twice"
            assert px.metric('pixeld_config_reloads_total{result="ok"}') == 3
            assert "dispatchers restarted for 3 destinations (2 before)" in px.read_log()
    finally:
        one.cleanup()
        two.cleanup()


def test_keys_move_with_a_reload():
    with Pixeld(extra=tenants(("a", "t", "secret_keys = sk-1\nwrite_keys = wk-1\n"),
                              ("b", "b.example", ""))) as px:
        px.start()
        assert s2s(px, "sk-1", "k-1")[0] == 200
        assert s2s(px, "sk-2", "k-2")[0] == 401
        keyfile = os.path.join(px.dir, "b.key")
        with open(keyfile, "w") as f:
            f.write("sk-file-b\n")
        os.chmod(keyfile, 0o600)
        write_conf(px, tenants(("a", "t", "secret_keys = sk-2\n"),
                               ("b", "b.example", "secret_keys = file:%s\nwrite_keys = wk-1\n"
                                % keyfile)))
        rc, out = reload(px)
        assert rc == 0, out
        assert s2s(px, "sk-1", "k-3")[0] == 401
        assert s2s(px, "sk-2", "k-4")[0] == 200
        # The key picks the tenant, whatever the Host.
        assert s2s(px, "sk-file-b", "k-5")[0] == 200
        st, _, _ = http_post(px.port, "/v1/track", json.dumps(
            {"writeKey": "wk-1", "event": "Signed Up", "messageId": "k-6", "anonymousId": "x"}),
            host="t", headers={"User-Agent": UA})
        assert st == 200, st
        wait_for(lambda: {"k-1", "k-4", "k-5", "k-6"} <= {e["event_id"] for e in px.events()},
                 what="the accepted events")
        ev = {e["event_id"]: e for e in px.events()}
        assert (ev["k-1"]["tenant"], ev["k-4"]["tenant"]) == ("a", "a")
        assert (ev["k-5"]["tenant"], ev["k-6"]["tenant"]) == ("b", "b")
        assert "k-3" not in ev and "k-2" not in ev


def test_rate_limit_429_then_recovery_and_a_reload_lifts_it():
    conf = tenants(("a", "t", "secret_keys = sk-a\nkey_rate = 2/s\nkey_burst = 2\n"),
                   ("b", "b.example", "secret_keys = sk-b\n"))
    with Pixeld(extra=conf) as px:
        px.start()
        codes = [s2s(px, "sk-a", "r-%d" % i) for i in range(4)]
        assert [c[0] for c in codes[:2]] == [200, 200], codes
        st, hd, body = codes[3]
        assert st == 429 and body["error"] == "rate_limited" and int(hd["retry-after"]) >= 1
        # b's key has its own bucket and the [s2s] default rate.
        assert all(s2s(px, "sk-b", "rb-%d" % i)[0] == 200 for i in range(5))
        wait_for(lambda: s2s(px, "sk-a", "r-after")[0] == 200, timeout=5, interval=0.2,
                 what="a's bucket to refill")
        assert px.metric('pixeld_events_rejected_total{reason="rate_limited"}') >= 2
        assert px.metric('pixeld_tenant_events_refused_total{tenant="a"}') >= 2
        write_conf(px, tenants(("a", "t", "secret_keys = sk-a\nkey_rate = 0\n"),
                               ("b", "b.example", "secret_keys = sk-b\n")))
        assert reload(px)[0] == 0
        assert all(s2s(px, "sk-a", "free-%d" % i)[0] == 200 for i in range(10))
        wait_for(lambda: "r-after" in {e["event_id"] for e in px.events()}, what="r-after")


def test_a_secret_the_dropped_user_cannot_read_is_reported():
    if os.geteuid() != 0:
        skip("needs root to drop privileges")
    user = "nobody"
    pwd.getpwnam(user)
    with Pixeld(extra="") as px:
        keyfile = os.path.join(px.dir, "root.key")
        with open(keyfile, "w") as f:
            f.write("sk-root\n")
        os.chmod(keyfile, 0o600)
        os.chmod(px.dir, 0o755)
        os.chmod(px.conf, 0o644)
        write_conf(px, "", server_extra="user = %s\nsecret_keys = file:%s\n" % (user, keyfile))
        px.start()
        wait_for(lambda: "cannot load its configuration again" in px.read_log(), what="the warning")
        log = px.read_log()
        assert keyfile in log and "chown %s" % user in log, log
        assert s2s(px, "sk-root", "root-1")[0] == 200
        rc, out = reload(px)
        assert rc == 1 and keyfile in out, (rc, out)
        os.chown(keyfile, pwd.getpwnam(user).pw_uid, -1)
        rc, out = reload(px)
        assert rc == 0, out


if __name__ == "__main__":
    run_tests([
        test_reloads_under_load_lose_nothing_and_a_new_tenant_routes_at_once,
        test_bad_file_and_restart_only_keys_are_refused_and_the_old_config_serves,
        test_a_removed_destination_keeps_its_backlog_until_dropped,
        test_destinations_added_changed_and_removed_by_reload_under_load,
        test_keys_move_with_a_reload,
        test_rate_limit_429_then_recovery_and_a_reload_lifts_it,
        test_a_secret_the_dropped_user_cannot_read_is_reported,
    ])
