// SPDX-License-Identifier: MIT
#include "daemon/endpoints/metrics_liveness.h"

#include "conf.h"

void pxd_metrics_liveness_render(const struct pxd_daemon *d, int64_t mono_ms, struct pxd_buf *out)
{
	pxd_buf_puts(out, "# HELP pixeld_dispatcher_last_loop_seconds Seconds since each "
			  "dispatcher shard last looped (over 5: stalled).\n"
			  "# TYPE pixeld_dispatcher_last_loop_seconds gauge\n");
	for (unsigned i = 0; i < d->ndisp; i++) {
		int64_t beat = __atomic_load_n(&d->disp_heartbeat_ms[i], __ATOMIC_RELAXED);

		pxd_buf_printf(out, "pixeld_dispatcher_last_loop_seconds{shard=\"%u\"} %.3f\n", i,
			       (double)(mono_ms - beat) / 1000.0);
	}
	pxd_buf_printf(out,
		       "# HELP pixeld_journal_max_bytes journal.max_bytes: at this size new "
		       "events are refused with 503.\n"
		       "# TYPE pixeld_journal_max_bytes gauge\npixeld_journal_max_bytes %llu\n",
		       (unsigned long long)d->conf->max_bytes);
}
