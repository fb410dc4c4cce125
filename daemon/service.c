// SPDX-License-Identifier: MIT
#include "service.h"

#include <stdint.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "ingest.h"
#include "log.h"

/* The status line READY set, sent again when a stalled thread recovers. */
static char ready_status[256];

void pxd_service_ready(const char *status)
{
	snprintf(ready_status, sizeof(ready_status), "%s", status);
	/* sd_notify returns 0 without NOTIFY_SOCKET and < 0 when the socket
	 * is gone; either way pixeld serves on, so only the failure is told. */
	if (sd_notifyf(0, "READY=1\nSTATUS=%s", ready_status) < 0)
		pxd_log_warn("service", "sd_notify READY=1 failed; systemd may time the start out");
}

void pxd_service_stopping(void)
{
	if (sd_notify(0, "STOPPING=1\nSTATUS=draining") < 0)
		pxd_log_warn("service", "sd_notify STOPPING=1 failed");
}

/* Index of the first stalled thread in <what>/<id>, or false when all loop. */
static bool find_stalled(const struct pxd_daemon *d, int64_t now, const char **what, unsigned *id)
{
	for (unsigned i = 0; i < d->ningest; i++) {
		if (now - __atomic_load_n(&d->ingest[i].mono_ms, __ATOMIC_RELAXED) >
		    PXD_SERVICE_STALL_MS) {
			*what = "ingest thread";
			*id = i;
			return true;
		}
	}
	for (unsigned i = 0; i < d->ndisp; i++) {
		if (now - __atomic_load_n(&d->disp_heartbeat_ms[i], __ATOMIC_RELAXED) >
		    PXD_SERVICE_STALL_MS) {
			*what = "dispatcher";
			*id = i;
			return true;
		}
	}
	return false;
}

void pxd_service_tick(const struct pxd_daemon *d)
{
	static bool was_stalled;
	uint64_t usec;
	const char *what;
	unsigned id;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return;
	if (find_stalled(d, pxd_mono_ms(), &what, &id)) {
		if (!was_stalled) {
			pxd_log_err("service",
				    "%s %u has not looped for %d ms; the watchdog ping "
				    "stops so systemd restarts pixeld",
				    what, id, PXD_SERVICE_STALL_MS);
			sd_notifyf(0, "STATUS=stalled: %s %u", what, id);
		}
		was_stalled = true;
		return;
	}
	if (was_stalled)
		sd_notifyf(0, "STATUS=%s", ready_status);
	was_stalled = false;
	sd_notify(0, "WATCHDOG=1");
}
