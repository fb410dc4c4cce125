/* SPDX-License-Identifier: MIT */
/*
 * handoff.h - the lock-free hand-off from ingest threads to dispatcher
 * shards: one ck_ring SPSC ring per (ingest thread, shard) pair, so no two
 * threads ever write the same ring end. Events of one (tenant, user key) go
 * to one shard and keep their order. Push: only ingest thread <i>. Pop: only
 * shard <s>. Sizes may be read by anyone (approximate).
 */
#ifndef PXD_HANDOFF_H
#define PXD_HANDOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event_line.h"
#include "strview.h"

/*
 * One accepted event on its way out: the canonical JSON line (no newline)
 * and when it was received. Allocated by the ingest thread (the only
 * per-request allocation of the ingest path), freed by the dispatcher.
 */
struct pxd_dispatch_settle;

struct pxd_evrec {
	int64_t received_ms;
	uint64_t start; /* journal position of the record, and right after it */
	uint64_t end;
	uint32_t len;	 /* bytes of <line> before its '\n' */
	uint32_t _refs;	 /* dispatcher only: batches still holding it */
	uint32_t stream; /* dispatcher only: the ingest thread whose stream it is in */
	uint32_t _pad;
	/* Dispatcher only: for an event taken from a JetStream consumer (role
	 * dispatch), what the shard tells its consumer (dispatcher.h: delivered
	 * or dead-lettered, hand back, retry after a delay); NULL otherwise. */
	struct pxd_dispatch_settle *_settled;
	/* Dispatcher only: the line as read to route it (event_line.h, views
	 * into <line>), shared by every destination and kept for building;
	 * <_el_state> 0 not read yet (pxd_evrec_new()), 1 read, 2 unreadable. */
	uint8_t _el_state;
	struct pxd_event_line _el;
	char line[]; /* the JSON, then '\n' */
};

struct pxd_handoff;

/* Creates <ningest> x <nshards> rings of <size> slots (a power of two). Returns 0 or -errno. */
int pxd_handoff_create(unsigned ningest, unsigned nshards, unsigned size, struct pxd_handoff **out);

/* Frees the rings and every record still in them. Accepts NULL. */
void pxd_handoff_destroy(struct pxd_handoff *h);

unsigned pxd_handoff_nshards(const struct pxd_handoff *h);
unsigned pxd_handoff_ningest(const struct pxd_handoff *h);

/* Returns the shard for (tenant, user key): a stable hash, so one user keeps one shard. */
unsigned pxd_handoff_shard(const struct pxd_handoff *h, struct pxd_sv tenant, struct pxd_sv key);

/* Ingest thread <i> only: free slots in its ring to <shard>. */
unsigned pxd_handoff_room_spsc(struct pxd_handoff *h, unsigned i, unsigned shard);

/* Ingest thread <i> only: enqueues <rec>; false when the ring is full (caller keeps <rec>). */
bool pxd_handoff_push_spsc(struct pxd_handoff *h, unsigned i, unsigned shard,
			   struct pxd_evrec *rec);

/* Shard <shard> only: dequeues from ingest <i>'s ring, or NULL when empty. */
struct pxd_evrec *pxd_handoff_pop_spsc(struct pxd_handoff *h, unsigned i, unsigned shard);

/* Any thread: records waiting in all rings towards <shard> (approximate). */
size_t pxd_handoff_backlog(const struct pxd_handoff *h, unsigned shard);

/* Any thread: slots per ring. */
unsigned pxd_handoff_capacity(const struct pxd_handoff *h);

/* Allocates a record for <len> bytes of line. Returns NULL on ENOMEM. */
struct pxd_evrec *pxd_evrec_new(const char *line, size_t len, int64_t received_ms);

#endif
