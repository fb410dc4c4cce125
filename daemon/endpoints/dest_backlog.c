// SPDX-License-Identifier: MIT
#include "daemon/endpoints/dest_backlog.h"

#include "compiler.h"
#include "conf.h"
#include "dispatcher.h"
#include "ingest.h"
#include "journal_format.h"

/* Journal bytes between a watermark and the written end. */
static uint64_t pos_gap(uint64_t end, uint64_t wm, uint64_t segment_bytes)
{
	uint32_t es = pxd_journal_pos_seq(end), ws = pxd_journal_pos_seq(wm);

	if (end <= wm)
		return 0;
	if (es == ws || ws == 0)
		return es == ws ? pxd_journal_pos_off(end) - pxd_journal_pos_off(wm)
				: pxd_journal_pos_off(end);
	return (uint64_t)(es - ws) * segment_bytes + pxd_journal_pos_off(end) -
	       PXD_MIN(pxd_journal_pos_off(wm), segment_bytes);
}

uint64_t pxd_dest_backlog_bytes(const struct pxd_daemon *d, unsigned dest)
{
	uint64_t bytes = 0;

	for (unsigned s = 0; s < d->ndisp; s++) {
		const struct pxd_dispatcher *ds = &d->disp[s];

		for (unsigned k = 0; k < ds->nstreams; k++)
			bytes += pos_gap(
			    __atomic_load_n(&d->ingest[k].streams[s].written, __ATOMIC_ACQUIRE),
			    __atomic_load_n(&ds->streams[k].wm[dest], __ATOMIC_ACQUIRE),
			    d->conf->segment_bytes);
	}
	return bytes;
}
