/* SPDX-License-Identifier: MIT */
/*
 * uring.h - one ingest thread's io_uring: setup with flag fallback, getting
 * an SQE without ever failing silently, and the user_data layout that ties a
 * CQE back to its connection. Owned and called by exactly one thread.
 */
#ifndef PXD_URING_H
#define PXD_URING_H

#include <liburing.h>
#include <stdint.h>

/* What an SQE was for; the first byte of its user_data. */
enum pxd_op {
	PXD_OP_NONE = 0,
	PXD_OP_ACCEPT,
	PXD_OP_RECV,
	PXD_OP_SEND,
	PXD_OP_SHUTDOWN,
	PXD_OP_CLOSE,
	PXD_OP_CANCEL,
	PXD_OP_JWRITE, /* journal write; slot = stream index */
	PXD_OP_JSYNC,  /* journal fdatasync; slot = stream index */
	PXD_OP_COUNT,  /* number of ops; keep last */
};

/*
 * user_data = {op:8, slot:24, generation:16, aux:16}. The generation is
 * ours: a slot is reused by the next connection, and a late CQE for the old
 * one must not touch the new one, so CQEs whose generation differs from the
 * slot's are dropped. <aux> carries the listener index for accepts.
 */
struct pxd_ud {
	enum pxd_op op;
	uint32_t slot;
	uint16_t gen;
	uint16_t aux;
};

/*
 * Sets up <ring> with <entries> SQEs and 8x as many CQEs, asking for
 * SINGLE_ISSUER|DEFER_TASKRUN|SUBMIT_ALL and falling back to COOP_TASKRUN,
 * then to no flags, on -EINVAL (older kernels). Returns 0 or -errno.
 */
int pxd_uring_setup(struct io_uring *ring, unsigned entries);

/*
 * Returns a free SQE, submitting what is queued once when the SQ is full.
 * Returns NULL only when the SQ is still full after that submit; the caller
 * then fails the one connection that needed it.
 */
struct io_uring_sqe *pxd_uring_get_sqe(struct io_uring *ring);

/* inline definitions */

static inline uint64_t pxd_ud_encode(enum pxd_op op, uint32_t slot, uint16_t gen, uint16_t aux)
{
	return (uint64_t)op << 56 | (uint64_t)(slot & 0xffffff) << 32 | (uint64_t)gen << 16 | aux;
}

static inline struct pxd_ud pxd_ud_decode(uint64_t ud)
{
	return (struct pxd_ud){
		.op = (enum pxd_op)(ud >> 56),
		.slot = (uint32_t)(ud >> 32) & 0xffffff,
		.gen = (uint16_t)(ud >> 16),
		.aux = (uint16_t)ud,
	};
}

#endif
