/* SPDX-License-Identifier: MIT */
/*
 * service.h - talking to the service manager (systemd's sd_notify): READY
 * once every thread serves, STOPPING on drain, a status line, and the
 * watchdog ping that only goes out while the ingest and dispatcher threads
 * still loop. Without NOTIFY_SOCKET (not started by systemd) every call is a
 * no-op. Main thread only.
 */
#ifndef PXD_SERVICE_H
#define PXD_SERVICE_H

#include "daemon.h"

/* A thread that has not looped for this long counts as stalled: no watchdog
 * ping, and the status line names it. */
#define PXD_SERVICE_STALL_MS 5000

/* Tells the manager the listeners accept, with <status> as the status text. */
void pxd_service_ready(const char *status);

/* Tells the manager the drain has begun (SIGTERM/SIGINT). */
void pxd_service_stopping(void);

/*
 * Once a second from the main loop: when a watchdog is configured
 * (WatchdogSec=), pings it if every ingest thread and dispatcher of <d> has
 * looped within PXD_SERVICE_STALL_MS, and otherwise sets the status to the
 * first stalled thread so `systemctl status` says why the restart came.
 */
void pxd_service_tick(const struct pxd_daemon *d);

#endif
