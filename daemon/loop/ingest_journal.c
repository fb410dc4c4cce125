// SPDX-License-Identifier: MIT
/*
 * ingest_journal.c - one ingest thread's side of the journal: opening its
 * streams, pumping writes and syncs, their completions, and the answers
 * parked until the journal covers them (snapshots of every stream's
 * position). The write path itself is daemon/journal/. Ingest thread only.
 */
#include "ingest_journal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dispatcher.h"
#include "ingest_conn.h"
#include "ingest_request.h"
#include "log.h"

/*
 * The answers queued on <c> go out only once the journal write (ack=fast)
 * or the fsync (ack=durable) that covers this pass's appends has completed. A connection parked
 * again (pipelining) moves to the tail with the newer snapshot.
 */
void pxd_ingest_journal_park(struct pxd_ingest *ing, struct pxd_conn *c)
{
	pxd_list_del(&c->park_node);
	pxd_list_add_tail(&ing->parked, &c->park_node);
	c->flags |= PXD_CONN_PARKED;
	c->park_snap = ing->snap_tail;
	ing->parked_this_pass = true;
}

void pxd_ingest_journal_on_cqe(struct pxd_ingest *ing, unsigned idx, enum pxd_op op, int res)
{
	struct pxd_jstream *js = &ing->streams[idx];
	int64_t ms;
	unsigned b = 0;
	int err = pxd_journal_complete(js, &ing->conns.pool, op, res, ing->mono_ms, &ms);

	if (ms >= 0 && op == PXD_OP_JWRITE)
		pxd_stat_add(&ing->m->journal_writes, 1);
	if (ms >= 0) {
		while (b < PXD_COMMIT_BUCKETS && (double)ms > pxd_commit_bucket_ms[b])
			b++;
		pxd_stat_add(&ing->m->journal_commit_ms[b], 1);
		pxd_stat_add(&ing->m->journal_commit_ms_sum, (uint64_t)ms);
	}
	if (err) {
		uint64_t suppressed;
		static __thread struct pxd_log_ratelimit rl;

		pxd_stat_add(&ing->m->journal_errors, 1);
		if (pxd_log_ratelimit_ok(&rl, 5000, &suppressed))
			pxd_log_err("journal",
				    "%s %s failed: %s; new events are refused with 503 "
				    "until it succeeds (nothing acknowledged is dropped; "
				    "retrying; similar lines suppressed=%lu)",
				    js->dir,
				    op == PXD_OP_JSYNC			   ? "fdatasync"
				    : ing->d->conf->ack == PXD_ACK_DURABLE ? "write (RWF_DSYNC)"
									   : "write",
				    strerror(-err), suppressed);
	}
}

/* Snapshot of every stream's appended position, for connections parked in this pass. */
void pxd_ingest_journal_snapshot(struct pxd_ingest *ing)
{
	uint64_t *snap;

	if (!ing->parked_this_pass)
		return;
	ing->parked_this_pass = false;
	if (ing->snap_tail - ing->snap_head == PXD_INGEST_SNAPS) {
		/* Full: refresh the newest instead (its connections wait a little
		 * longer, never less than they must). */
		snap = ing->snaps + ((ing->snap_tail - 1) % PXD_INGEST_SNAPS) * ing->nstreams;
		for (struct pxd_list *n = ing->parked.next; n != &ing->parked; n = n->next) {
			struct pxd_conn *c = container_of(n, struct pxd_conn, park_node);

			if (c->park_snap == ing->snap_tail)
				c->park_snap = ing->snap_tail - 1;
		}
	} else {
		snap = ing->snaps + (ing->snap_tail % PXD_INGEST_SNAPS) * ing->nstreams;
		ing->snap_tail++;
	}
	for (unsigned s = 0; s < ing->nstreams; s++)
		snap[s] = ing->streams[s].appended;
}

/*
 * ack=durable waits for the fdatasync; ack=fast for the write only: once the
 * bytes are in the page cache a crash of the process cannot lose them, while
 * an answer sent before the write is issued could outrun it (the write may
 * still sit in io_uring's worker when the process dies). ack=replicated
 * (role ingest) waits for the write and for the watermark of the one
 * destination, the JetStream publisher, which passes an event on its PubAck.
 */
static bool snapshot_synced(const struct pxd_ingest *ing, uint64_t id)
{
	const uint64_t *snap = ing->snaps + (id % PXD_INGEST_SNAPS) * ing->nstreams;
	enum pxd_ack_mode ack = ing->d->conf->ack;

	for (unsigned s = 0; s < ing->nstreams; s++) {
		if ((ack == PXD_ACK_DURABLE ? ing->streams[s].synced : ing->streams[s].written) <
		    snap[s])
			return false;
		if (ack == PXD_ACK_REPLICATED &&
		    pxd_dispatcher_watermark(ing->d, s, ing->id, 0) < snap[s])
			return false;
	}
	return true;
}

void pxd_ingest_journal_release(struct pxd_ingest *ing)
{
	while (!pxd_list_empty(&ing->parked)) {
		struct pxd_conn *c = container_of(ing->parked.next, struct pxd_conn, park_node);

		if (!snapshot_synced(ing, c->park_snap))
			break;
		pxd_list_del(&c->park_node);
		c->flags &= ~PXD_CONN_PARKED;
		pxd_ingest_conn_send(ing, c);
	}
	while (ing->snap_head < ing->snap_tail && snapshot_synced(ing, ing->snap_head) &&
	       (pxd_list_empty(&ing->parked) ||
		container_of(ing->parked.next, struct pxd_conn, park_node)->park_snap >
		    ing->snap_head))
		ing->snap_head++;
}

/*
 * ack=replicated while the publisher cannot reach NATS: the PubAcks the
 * answers still parked wait for will not come, so they are refused now (503
 * replicas_unreachable with Retry-After, then close) instead of held until
 * NATS is back. Their events are journaled and published when it is; a
 * client's retry of an event with its own event_id is dropped by the
 * stream's Msg-Id duplicate window.
 */
void pxd_ingest_journal_refuse_unreplicated(struct pxd_ingest *ing)
{
	if (ing->d->conf->ack != PXD_ACK_REPLICATED ||
	    !__atomic_load_n(&ing->d->replicas_down, __ATOMIC_RELAXED))
		return;
	while (!pxd_list_empty(&ing->parked)) {
		struct pxd_conn *c = container_of(ing->parked.next, struct pxd_conn, park_node);

		pxd_list_del(&c->park_node);
		c->flags &= ~PXD_CONN_PARKED;
		c->out.len = 0; /* the answers that waited; the refusal replaces them */
		pxd_ingest_request_refuse(ing, c, PXD_REFUSAL_REPLICAS_UNREACHABLE);
		pxd_ingest_conn_send(ing, c);
	}
}

void pxd_ingest_journal_pump(struct pxd_ingest *ing)
{
	const struct pxd_conf *conf = ing->d->conf;

	for (unsigned s = 0; s < ing->nstreams; s++) {
		struct pxd_jstream *js = &ing->streams[s];

		pxd_journal_pump(js, &ing->ring, &ing->conns.pool, s, ing->mono_ms,
				 conf->ack == PXD_ACK_DURABLE, conf->commit_interval_ms,
				 conf->segment_bytes);
		/* A write made inline completes as its CQE would, so the answers
		 * it covers go out in this pass (release() runs next). */
		if (js->inline_done) {
			js->inline_done = false;
			pxd_stat_add(&ing->m->journal_writes_inline, 1);
			pxd_ingest_journal_on_cqe(ing, s, PXD_OP_JWRITE, js->inline_res);
		}
	}
}

/* True when every appended byte is written and synced. */
bool pxd_ingest_journal_settled(const struct pxd_ingest *ing)
{
	for (unsigned s = 0; s < ing->nstreams; s++) {
		const struct pxd_jstream *js = &ing->streams[s];

		if (js->fill.len || js->next_fill.len || !pxd_journal_idle(js) ||
		    js->synced != js->appended)
			return false;
	}
	return true;
}

void pxd_ingest_journal_publish_gauges(struct pxd_ingest *ing)
{
	uint64_t deleted = 0;
	uint64_t segs = 0;

	for (unsigned s = 0; s < ing->nstreams; s++)
		deleted += __atomic_load_n(&ing->streams[s].deleted_bytes, __ATOMIC_RELAXED);
	for (unsigned s = 0; s < ing->nstreams; s++)
		segs += __atomic_load_n(&ing->streams[s].cur_seq, __ATOMIC_RELAXED) -
			__atomic_load_n(&ing->streams[s].first_seq, __ATOMIC_RELAXED) + 1;
	__atomic_store_n(&ing->m->journal_bytes,
			 ing->journal_base + ing->journal_appended - deleted, __ATOMIC_RELAXED);
	__atomic_store_n(&ing->m->journal_segments, segs, __ATOMIC_RELAXED);
}

/*
 * Opens this thread's journal streams, one per shard. What an earlier run
 * left is recovered first: a torn tail is cut, and writing starts in a new
 * segment after the last one. Every stream starts in overflow: the shard
 * replays it from its watermarks and asks for the ring when it has caught up.
 */
int pxd_ingest_journal_open_streams(struct pxd_ingest *ing)
{
	const struct pxd_conf *conf = ing->d->conf;

	ing->nstreams = ing->d->ndisp;
	ing->streams = calloc(ing->nstreams, sizeof(*ing->streams));
	ing->snaps = calloc((size_t)PXD_INGEST_SNAPS * ing->nstreams, sizeof(*ing->snaps));
	if (!ing->streams || !ing->snaps)
		return -ENOMEM;
	for (unsigned s = 0; s < ing->nstreams; s++) {
		struct pxd_journal_tail tail;
		char dir[4096];
		int err;

		if (pxd_journal_stream_path(dir, sizeof(dir), conf->journal_dir, ing->id, s))
			return -ENAMETOOLONG;
		if (mkdir(dir, 0750) && errno != EEXIST) {
			err = -errno;
			pxd_log_err("journal", "cannot create %s: %s; check journal.dir", dir,
				    strerror(-err));
			return err;
		}
		err = pxd_journal_cut_torn(dir, &tail);
		if (err && err != -EBADMSG) {
			pxd_log_err("journal", "cannot recover %s: %s", dir, strerror(-err));
			return err;
		}
		if (err == -EBADMSG)
			pxd_log_err("journal",
				    "%s: segment %u is corrupt; writing continues in a new "
				    "segment; run pixelctl journal verify",
				    dir, tail.last_seq);
		err = pxd_journal_open(&ing->streams[s], dir, ing->id, s, tail.last_seq + 1);
		if (err) {
			pxd_log_err("journal", "cannot open a segment in %s: %s", dir,
				    strerror(-err));
			return err;
		}
		ing->streams[s].first_seq = tail.first_seq ? tail.first_seq : tail.last_seq + 1;
		ing->streams[s].overflow = 1;
		ing->journal_base += tail.bytes;
	}
	ing->journal_quota = conf->max_bytes / ing->d->ningest;
	return 0;
}
