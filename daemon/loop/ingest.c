// SPDX-License-Identifier: MIT
/*
 * ingest.c - one ingest thread: its set-up and tear-down, and the io_uring
 * loop that waits, hands each CQE to its owner (ingest_conn.c for
 * connections, ingest_journal.c for journal operations) and runs the
 * per-pass work: timers, snapshots, journal pumping, parked answers.
 */
#include "ingest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "arena.h"
#include "bot_ua.h"
#include "dispatch_wake.h"
#include "http_gunzip.h"
#include "http_reply.h"
#include "ingest_conn.h"
#include "ingest_journal.h"
#include "ingest_request.h"
#include "log.h"
#include "router.h"
#include "uring.h"

#define SQ_ENTRIES 4096
#define RECV_BUFS 2048
#define RECV_BUF_SIZE 4096
/* Once a second, a ring that took fewer receives than this gives its pages back. */
#define RECV_QUIET 64
/* Spare 16 KiB chunks a quiet thread keeps (a busy one keeps up to 64). */
#define POOL_KEEP_QUIET 4
#define LINGER_MS 2000

/*
 * Once a second: memory that a burst made resident goes back. When the
 * second was quiet, the receive ring's pages, the chunk pool's spares beyond
 * a few (freed: jemalloc returns them) and the pages of free connection
 * slots above the ones in use; always, a journal stream's
 * copy of unsynced bytes once the sync caught up, when a burst grew it past
 * one chunk (between syncs it stays, so a steady load does not regrow it).
 */
static void give_back_memory(struct pxd_ingest *ing)
{
	int err;

	if (pxd_bufring_take_recvs(&ing->br) < RECV_QUIET) {
		/* A filled buffer holds unread bytes until its CQE is handled.
		 * With DEFER_TASKRUN the kernel fills buffers and posts CQEs only
		 * inside io_uring_enter, so with the CQ (and its overflow list)
		 * empty, none does; the COOP_TASKRUN fallback can post at any
		 * return to user space, so its ring stays resident. */
		if ((ing->ring.flags & IORING_SETUP_DEFER_TASKRUN) &&
		    !io_uring_cq_ready(&ing->ring) && !io_uring_cq_has_overflow(&ing->ring))
			err = pxd_bufring_give_back(&ing->br);
		else
			err = 0;
		if (err)
			pxd_log_warn("ingest",
				     "giving receive buffers back to the kernel failed: %s",
				     strerror(-err));
		pxd_chunkpool_trim(&ing->conns.pool, POOL_KEEP_QUIET);
		err = pxd_conn_table_trim(&ing->conns);
		if (err)
			pxd_log_warn("ingest",
				     "giving free connection slots back to the kernel failed: %s",
				     strerror(-err));
	}
	for (unsigned s = 0; s < ing->nstreams; s++)
		pxd_dbuf_shrink(&ing->conns.pool, &ing->streams[s].unsynced);
	__atomic_store_n(&ing->m->conn_slots_resident, ing->conns.ninit, __ATOMIC_RELAXED);
}

static void clock_tick(struct pxd_ingest *ing)
{
	ing->now_ms = pxd_now_ms();
	ing->mono_ms = pxd_mono_ms();
	pxd_reply_update_date(ing);
}

static void on_cqe(struct pxd_ingest *ing, struct io_uring_cqe *cqe)
{
	struct pxd_ud ud = pxd_ud_decode(io_uring_cqe_get_data64(cqe));
	struct pxd_conn *c = NULL;

	if (ud.op == PXD_OP_ACCEPT) {
		pxd_ingest_conn_on_accept(ing, cqe, ud.aux);
		return;
	}
	if (ud.op == PXD_OP_CANCEL || ud.op == PXD_OP_NONE)
		return;
	if (ud.op == PXD_OP_JWRITE || ud.op == PXD_OP_JSYNC) {
		pxd_ingest_journal_on_cqe(ing, ud.slot, ud.op, cqe->res);
		return;
	}
	if (ud.slot < ing->conns.ninit && ing->conns.slots[ud.slot].gen == ud.gen &&
	    ing->conns.slots[ud.slot].fd >= 0)
		c = &ing->conns.slots[ud.slot];

	switch (ud.op) {
	case PXD_OP_RECV:
		pxd_ingest_conn_on_recv(ing, c, cqe);
		break;
	case PXD_OP_SEND:
		if (c)
			pxd_ingest_conn_on_send(ing, c, cqe);
		break;
	case PXD_OP_SHUTDOWN:
		if (c) {
			c->inflight--;
			pxd_ingest_conn_finish_close(ing, c);
		}
		break;
	case PXD_OP_CLOSE:
		if (c)
			pxd_ingest_conn_release(ing, c);
		break;
	default:
		break;
	}
}

/* SIGTERM: no new connections; idle ones close now, busy ones after their answer. */
static void begin_stop(struct pxd_ingest *ing)
{
	ing->stopping = true;
	ing->stop_deadline_ms = ing->mono_ms + ing->d->conf->shutdown_timeout_ms;
	for (unsigned l = 0; l < PXD_LISTENER_COUNT; l++) {
		if (ing->listen_fd[l] < 0)
			continue;
		/* Closing the socket does not end a multishot accept that holds a
		 * reference to it; shutdown() does, with -EINVAL or a final CQE. */
		shutdown(ing->listen_fd[l], SHUT_RDWR);
	}
	for (uint32_t i = 0; i < ing->conns.ninit; i++) {
		struct pxd_conn *c = &ing->conns.slots[i];

		if (c->fd >= 0 && (c->timer == PXD_TIMER_IDLE || c->timer == PXD_TIMER_HANDSHAKE) &&
		    !(c->flags & PXD_CONN_SENDING) && !c->out.len)
			pxd_ingest_conn_close(ing, c);
	}
}

static bool all_closed(const struct pxd_ingest *ing)
{
	return ing->conns.nfree == ing->conns.nslots;
}

/*
 * The ring is created on the thread that uses it: with SINGLE_ISSUER the
 * kernel binds the ring to its creator and refuses submissions from any
 * other task.
 */
static int setup_ring(struct pxd_ingest *ing)
{
	int err = pxd_uring_setup(&ing->ring, SQ_ENTRIES);

	if (err) {
		pxd_log_err("ingest",
			    "io_uring setup failed: %s; pixeld needs Linux >= 6.0 with "
			    "io_uring enabled (sysctl kernel.io_uring_disabled=0)",
			    strerror(-err));
		return err;
	}
	ing->ring_ready = true;
	err = pxd_bufring_init(&ing->br, &ing->ring, RECV_BUFS, RECV_BUF_SIZE);
	if (err)
		pxd_log_err("ingest", "registering receive buffers failed: %s", strerror(-err));
	return err;
}

void *pxd_ingest_run(void *arg)
{
	struct pxd_ingest *ing = arg;
	struct pxd_arena arena = { 0 };

	/* Bound to this thread: jansson's allocations while parsing beacons
	 * come from it and are forgotten after each request. */
	int err = setup_ring(ing);

	__atomic_store_n(&ing->started, err ? err : 1, __ATOMIC_RELEASE);
	if (err)
		return NULL;
	if (pxd_arena_init(&arena, PXD_ARENA_DEFAULT_SIZE))
		pxd_log_warn("ingest", "no memory for the JSON arena; beacons use malloc");
	clock_tick(ing);
	for (unsigned l = 0; l < PXD_LISTENER_COUNT; l++)
		if (ing->listen_fd[l] >= 0)
			pxd_ingest_conn_arm_accept(ing, l);

	for (;;) {
		struct __kernel_timespec ts;
		struct io_uring_cqe *cqe;
		uint64_t next;
		int64_t wait_ms = 500;
		int64_t sec;
		unsigned head;
		unsigned count = 0;

		if (!ing->stopping && __atomic_load_n(&ing->d->stop_ingest, __ATOMIC_ACQUIRE))
			begin_stop(ing);
		if (ing->stopping && ((all_closed(ing) && pxd_ingest_journal_settled(ing)) ||
				      ing->mono_ms > ing->stop_deadline_ms))
			break;
		for (unsigned l = 0; l < PXD_LISTENER_COUNT; l++)
			if (!ing->stopping && ing->listen_fd[l] >= 0 && !ing->accept_armed[l])
				pxd_ingest_conn_arm_accept(ing, l);

		next = pxd_conn_next_deadline(&ing->conns);
		if (next != UINT64_MAX) {
			int64_t until = (int64_t)next - ing->mono_ms;

			wait_ms = until < 0 ? 0 : PXD_MIN(until, wait_ms);
		}
		if (ing->stopping)
			wait_ms = PXD_MIN(wait_ms, 50);
		if (!pxd_ingest_journal_settled(ing))
			wait_ms = PXD_MIN(wait_ms, (int64_t)ing->d->conf->commit_interval_ms);
		/* The publisher's watermark moves on another thread: poll it while
		 * answers wait for it. */
		if (ing->d->conf->ack == PXD_ACK_REPLICATED && !pxd_list_empty(&ing->parked))
			wait_ms = PXD_MIN(wait_ms, 1);
		ts.tv_sec = wait_ms / 1000;
		ts.tv_nsec = (wait_ms % 1000) * 1000000;
		sec = ing->date_sec;
		io_uring_submit_and_wait_timeout(&ing->ring, &cqe, 1, &ts, NULL);
		clock_tick(ing);
		if (ing->listen_fd[PXD_LISTENER_TLS] >= 0)
			pxd_tls_live_refresh(ing->d->tls, &ing->tls);

		io_uring_for_each_cqe (&ing->ring, head, cqe) {
			on_cqe(ing, cqe);
			count++;
		}
		io_uring_cq_advance(&ing->ring, count);
		pxd_bufring_flush(&ing->br);
		pxd_ingest_conn_rearm_starved(ing);
		pxd_ingest_conn_expire_timers(ing);
		pxd_ingest_journal_snapshot(ing);
		pxd_ingest_journal_pump(ing);
		pxd_ingest_journal_release(ing);
		pxd_ingest_journal_refuse_unreplicated(ing);
		pxd_ingest_request_answer_deferred(ing);
		pxd_ingest_journal_publish_gauges(ing);
		/* A section: a reload may replace the shards being kicked (dispatch_pool.h). */
		pxd_conf_live_enter(&ing->d->live, ing->id);
		for (unsigned s = 0; s < ing->nstreams; s++)
			pxd_dispatch_wake_kick(ing->d, s);
		pxd_conf_live_leave(&ing->d->live, ing->id);
		/* At the end of the pass: every CQE of it handled. */
		if (ing->date_sec != sec)
			give_back_memory(ing);
	}
	io_uring_submit(&ing->ring);
	pxd_arena_fini(&arena);
	pxd_tls_ref_drop(&ing->tls);
	return NULL;
}

int pxd_ingest_init(struct pxd_ingest *ing, struct pxd_daemon *d, unsigned id, int listen_fd,
		    int admin_fd, int tls_fd)
{
	const struct pxd_conf *conf = d->conf;
	uint32_t slots =
	    conf->max_connections / d->ningest + 1 + (admin_fd >= 0 ? PXD_INGEST_ADMIN_RESERVE : 0);
	int err;

	memset(ing, 0, sizeof(*ing));
	ing->id = id;
	ing->d = d;
	ing->m = &d->metrics.ingest[id];
	ing->listen_fd[PXD_LISTENER_PUBLIC] = listen_fd;
	ing->listen_fd[PXD_LISTENER_ADMIN] = admin_fd;
	ing->listen_fd[PXD_LISTENER_TLS] = tls_fd;
	ing->body_scratch = malloc(PXD_API_MAX_BODY);
	ing->api_scratch = malloc(PXD_API_MAX_BODY + 1);
	ing->query_scratch = malloc(PXD_HTTP_MAX_URI + 1);
	ing->json_scratch = malloc(PXD_HTTP_MAX_BODY);
	if (admin_fd >= 0)
		ing->admin_body_scratch = malloc(PXD_ADMIN_MAX_BODY);
	if (!ing->body_scratch || !ing->api_scratch || !ing->query_scratch || !ing->json_scratch ||
	    (admin_fd >= 0 && !ing->admin_body_scratch))
		return -ENOMEM;
	err = pxd_gunzip_new(&ing->gunzip);
	if (err)
		return err;
	err = pxd_conn_table_init(&ing->conns, slots, conf->request_timeout_ms,
				  conf->idle_timeout_ms, LINGER_MS);
	if (err)
		return err;
	ing->conns.timeout_ms[PXD_TIMER_HANDSHAKE] = conf->handshake_timeout_ms;
	pxd_list_init(&ing->parked);
	err = pxd_ingest_journal_open_streams(ing);
	if (err)
		return err;
	pxd_uuid7_init(&ing->uuid);
	if (d->bot_ua) {
		err = pxd_bot_ua_scratch_new(d->bot_ua, &ing->ua_scratch);
		if (err)
			return err;
	}
	return 0;
}

void pxd_ingest_fini(struct pxd_ingest *ing)
{
	for (uint32_t i = 0; i < ing->conns.ninit; i++) {
		if (ing->conns.slots[i].fd >= 0)
			close(ing->conns.slots[i].fd);
		pxd_tls_conn_free(ing->conns.slots[i].tls);
	}
	for (unsigned s = 0; ing->streams && s < ing->nstreams; s++)
		pxd_journal_close(&ing->streams[s], &ing->conns.pool);
	free(ing->streams);
	free(ing->snaps);
	ing->streams = NULL;
	pxd_conn_table_fini(&ing->conns);
	if (ing->ring_ready) {
		pxd_bufring_fini(&ing->br, &ing->ring);
		io_uring_queue_exit(&ing->ring);
	}
	pxd_bot_ua_scratch_free(ing->ua_scratch);
	ing->ua_scratch = NULL;
	free(ing->body_scratch);
	free(ing->api_scratch);
	pxd_gunzip_free(ing->gunzip);
	ing->api_scratch = NULL;
	ing->gunzip = NULL;
	free(ing->query_scratch);
	free(ing->json_scratch);
	free(ing->admin_body_scratch);
	ing->body_scratch = NULL;
}
