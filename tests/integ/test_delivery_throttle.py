#!/usr/bin/env python3
"""Throttling against the real pixeld and the real mockplatform: each
platform's own rate-limit answer without a Retry-After (Meta's Graph codes
4, 17, 32, 613 and 80004, TikTok's 40100 inside a 200, Google Ads'
RESOURCE_EXHAUSTED, LinkedIn's, Pinterest's, Snapchat's and Reddit's 429)
makes the destination wait its throttle_backoff and try again, and never
opens its circuit breaker; and during a drain after an outage the platform's
documented quota (LinkedIn's 600 requests/min) holds across two dispatcher
shards while a destination without one (Meta) drains as fast as it can.
Prints "N passed, N failed" last."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pxtest import Pixeld, run_tests, wait_for  # noqa: E402
from test_delivery import Mock, dest_conf, dlq_entries, event, send  # noqa: E402
from test_delivery_ads import PLATFORMS, TOKENS, ads_conf, full_event  # noqa: E402

BACKOFF_S = 0.3
THROTTLES = 6  # more than the breaker's 5 failures in a row

# (destination, mock platform, fault): each the platform's own way of saying
# "too many requests", none with a Retry-After.
CASES = [("meta", "meta", {"code": c}) for c in (4, 17, 32, 613, 80004)] + [
    ("tiktok", "tiktok", {"code": 40100}),
    ("gads", "google_ads", {"status": 429}),
] + [(p, p, {"status": 429}) for p in PLATFORMS]


def stack(extra, server_extra=""):
    creds = [a for p in PLATFORMS for a in ("--credential", "%s=%s" % (p, TOKENS[p]))]
    mock = Mock(creds).start()
    dests = dest_conf(mock.port, ["meta", "gads", "tiktok"]) + ads_conf(mock.port)
    px = Pixeld(dest=dests.replace("linger_ms = 20\n", "linger_ms = 20\n" + extra),
                server_extra=server_extra)
    return mock, px


def metric(px, name, dest):
    return px.metric('pixeld_destination_%s{destination="%s"}' % (name, dest))


def test_throttle_codes_wait_the_backoff_and_leave_the_breaker_closed():
    mock, px = stack("throttle_backoff = %dms\n" % (BACKOFF_S * 1000))
    try:
        px.start()
        for k, (dest, platform, fault) in enumerate(CASES):
            throttled0 = metric(px, "throttled_total", dest)
            mock.control(platform=platform, count=THROTTLES, **fault)
            eid = "ev-thr-%d" % k
            t0 = time.monotonic()
            send(px, full_event("Purchase", eid) if platform in PLATFORMS else event(eid=eid))
            # Google Ads is recorded by the order id it was sent with.
            want = "o-" + eid if platform == "google_ads" else eid
            mock.wait_ids(platform, [want], timeout=30)
            took = time.monotonic() - t0
            throttled = metric(px, "throttled_total", dest) - throttled0
            print("  %-9s %-22s %d throttled answers, delivered after %.1fs"
                  % (dest, fault, throttled, took))
            assert mock.ids(platform).count(want) == 1, (dest, fault)
            assert throttled == THROTTLES, (dest, fault, throttled)
            assert took >= THROTTLES * BACKOFF_S * 0.9, (dest, fault, "sent before the back-off")
            assert metric(px, "breaker_opened_total", dest) == 0, (dest, fault)
            assert not dlq_entries(px, dest), (dest, fault)
        assert px.stop() == 0
    except Exception:
        sys.stdout.write("--- pixeld log ---\n%s\n" % px.read_log()[-4000:])
        raise
    finally:
        px.cleanup()
        mock.cleanup()


def rate_over(samples, span):
    """The highest request rate over any <span> seconds of (time, count) samples."""
    best = 0.0
    for i, (t0, n0) in enumerate(samples):
        for t1, n1 in samples[i + 1:]:
            if t1 - t0 >= span:
                best = max(best, (n1 - n0) / (t1 - t0))
                break
    return best


def test_drain_keeps_to_the_platform_quota():
    # Small batches, so the backlog takes many requests to drain.
    mock, px = stack("batch_max_events = 5\n", server_extra="dispatchers = 2\n")
    try:
        px.start()
        mock.control(platform="linkedin", status=503, for_ms=3000)
        mock.control(platform="meta", status=503, for_ms=3000)
        ids = ["ev-drain-%d" % k for k in range(300)]
        for eid in ids:
            send(px, full_event("Purchase", eid))
        t0 = time.monotonic()
        samples, meta_done = [], None
        while time.monotonic() - t0 < 120:
            samples.append((time.monotonic(), mock.stats()["requests"]["linkedin"]))
            got = set(mock.ids("linkedin"))
            if meta_done is None and set(ids) <= set(mock.ids("meta")):
                meta_done = time.monotonic() - t0
            if set(ids) <= got and meta_done is not None:
                break
            time.sleep(0.25)
        li_done = time.monotonic() - t0
        assert set(ids) <= set(mock.ids("linkedin")) and meta_done is not None
        rate = rate_over(samples, 3.0)
        print("  drain of 300 events in batches of 5 over 2 shards: linkedin (quota 600/min) "
              "at most %.1f requests/s over 3 s, done after %.1fs; meta (no quota) done after "
              "%.1fs" % (rate, li_done, meta_done))
        # The mock answers on one thread: a stall bunches a few requests.
        assert rate <= 12, rate
        assert meta_done < li_done
        assert px.stop() == 0
    except Exception:
        sys.stdout.write("--- pixeld log ---\n%s\n" % px.read_log()[-4000:])
        raise
    finally:
        px.cleanup()
        mock.cleanup()


if __name__ == "__main__":
    run_tests([test_throttle_codes_wait_the_backoff_and_leave_the_breaker_closed,
               test_drain_keeps_to_the_platform_quota])
