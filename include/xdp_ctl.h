/* SPDX-License-Identifier: MIT */
/*
 * xdp_ctl.h - pixeld's XDP filter over its lifetime: load the skeleton with
 * the [xdp] settings, pin the maps, load the list files, attach (native,
 * then generic, per mode), report the state for /health/ready and the
 * counters for /metrics, block bot sources, sweep expired blocks, reload on
 * SIGHUP, detach at exit. Never fatal: when XDP cannot run, pixeld runs
 * without it. start/reload/sweep/stop belong to the main thread; state,
 * metrics and block_addr may be called from any thread.
 */
#ifndef PXD_XDP_CTL_H
#define PXD_XDP_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"
#include "conf_xdp.h"

struct pxd_xdp_ctl;

/*
 * Loads and attaches the filter as <c> says, on the main thread before the
 * ingest threads start. Never fails the daemon: with an empty interface the
 * state is "off"; when loading, pinning or attaching fails it logs one
 * warning saying why and what to do, and the state is "failed: <why>".
 * Returns the controller (free it with pxd_xdp_ctl_stop()), or NULL only
 * when out of memory, which callers treat as "off". Keeps no pointer to <c>.
 */
struct pxd_xdp_ctl *pxd_xdp_ctl_start(const struct pxd_conf_xdp *c);

/*
 * Returns the state for /health/ready and logs: "off", "native on eth0",
 * "generic on eth0" or "failed: <why>" (at most ~440 bytes). It holds no
 * quote, backslash or control character, so it goes into JSON as is. The string
 * lives as long as <ctl>; NULL gives "off". Any thread.
 */
const char *pxd_xdp_ctl_state(const struct pxd_xdp_ctl *ctl);

/* Returns true when the filter is attached. NULL gives false. Any thread. */
bool pxd_xdp_ctl_attached(const struct pxd_xdp_ctl *ctl);

/*
 * Appends the Prometheus text for the filter to <out>: the gauge
 * pixeld_xdp_attached and, while attached, one line per counter,
 *   pixeld_xdp_packets_total{verdict="drop",reason="denied_static"} 42
 * summed over CPUs. Returns 0, or -ENOMEM / a bpf(2) -errno. NULL <ctl>
 * appends the gauge only. Any thread (one bpf(2) call per counter).
 */
int pxd_xdp_ctl_metrics(const struct pxd_xdp_ctl *ctl, struct pxd_buf *out);

/*
 * Blocks the source of a client seen sending as a bot (bot_block = ua+ip):
 * adds its /32 (IPv4, v4-mapped included) or /64 (IPv6) to the deny map for
 * <ttl_s> seconds. Pass the TCP peer address, never one taken from
 * X-Forwarded-For: XDP sees only the peer, which for proxied traffic is
 * the proxy. Each calling thread remembers its recent blocks, so repeated
 * calls for the same source within half the TTL cost no syscall.
 * Returns 0, -ENODEV when XDP is not attached, -EAFNOSUPPORT, or a bpf(2)
 * -errno (-E2BIG when the deny map is full). Any thread; no allocation.
 */
int pxd_xdp_ctl_block_addr(struct pxd_xdp_ctl *ctl, const struct sockaddr *sa, uint32_t ttl_s);

/*
 * Applies a reloaded [xdp] section (SIGHUP): rates and bursts at once, the
 * list files re-read. A changed interface, mode, ports, pin_dir or map size
 * needs a restart; that is logged and the running filter keeps its values.
 * Returns 0, or -errno after logging which file failed (the old lists stay).
 * Main thread.
 */
int pxd_xdp_ctl_reload(struct pxd_xdp_ctl *ctl, const struct pxd_conf_xdp *c);

/*
 * Deletes deny entries whose expiry has passed (the program deletes those it
 * meets; this catches the rest). Call every few seconds to minutes. Returns
 * how many went, or -errno. NULL or not attached: 0. Main thread.
 */
int pxd_xdp_ctl_sweep(struct pxd_xdp_ctl *ctl);

/*
 * Detaches the program, removes the pins and frees <ctl>. Accepts NULL and
 * a failed or "off" controller. Main thread, after the ingest threads have
 * stopped calling pxd_xdp_ctl_block_addr().
 */
void pxd_xdp_ctl_stop(struct pxd_xdp_ctl *ctl);

#endif
