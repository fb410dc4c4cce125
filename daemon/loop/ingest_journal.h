/* SPDX-License-Identifier: MIT */
/*
 * ingest_journal.h - one ingest thread's side of the journal: its streams,
 * their writes and syncs through the thread's ring, and the answers parked
 * until the journal covers them. Ingest thread only.
 */
#ifndef PXD_INGEST_JOURNAL_H
#define PXD_INGEST_JOURNAL_H

#include "ingest.h"

/* Opens one stream per shard after recovering what an earlier run left.
 * Returns 0 or -errno (logged). Called from pxd_ingest_init(). */
int pxd_ingest_journal_open_streams(struct pxd_ingest *ing);

/* Holds <c>'s queued answers until the journal covers this pass's appends. */
void pxd_ingest_journal_park(struct pxd_ingest *ing, struct pxd_conn *c);

/* Takes the CQE of stream <idx>'s write or sync (<op>, <res>). */
void pxd_ingest_journal_on_cqe(struct pxd_ingest *ing, unsigned idx, enum pxd_op op, int res);

/* End of a loop pass: snapshot the streams for connections parked in it,
 * start each stream's next write or sync, and send the answers now covered. */
void pxd_ingest_journal_snapshot(struct pxd_ingest *ing);
void pxd_ingest_journal_pump(struct pxd_ingest *ing);
void pxd_ingest_journal_release(struct pxd_ingest *ing);
/* ack=replicated with NATS unreachable: every parked answer becomes a 503. */
void pxd_ingest_journal_refuse_unreplicated(struct pxd_ingest *ing);

/* True when every appended byte is written and synced. */
bool pxd_ingest_journal_settled(const struct pxd_ingest *ing);

/* Publishes the journal_bytes and journal_segments gauges. */
void pxd_ingest_journal_publish_gauges(struct pxd_ingest *ing);

#endif
