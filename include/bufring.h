/* SPDX-License-Identifier: MIT */
/*
 * bufring.h - the provided-buffer group of one ingest thread: multishot recv
 * picks a buffer from it for each chunk of bytes, so an idle connection holds
 * no receive memory. Registered with liburing 2.3's io_uring_register_buf_ring
 * (io_uring_setup_buf_ring needs 2.4). Owned by the ingest thread.
 */
#ifndef PXD_BUFRING_H
#define PXD_BUFRING_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#define PXD_BUFRING_GROUP 0

struct pxd_bufring {
	struct io_uring_buf_ring *br;
	char *mem;
	unsigned nbufs; /* power of two */
	unsigned buf_size;
	unsigned lent;	  /* buffers the kernel has filled and we have not returned */
	unsigned pending; /* returned since the last advance */
	unsigned recvs;	  /* buffers returned since pxd_bufring_take_recvs() */
	bool resident;	  /* buffers were filled since the pages last went back */
};

/* Maps and registers <nbufs> buffers of <buf_size>. Returns 0 or -errno. */
int pxd_bufring_init(struct pxd_bufring *b, struct io_uring *ring, unsigned nbufs,
		     unsigned buf_size);

/* Returns how many buffers were returned since the last call. */
unsigned pxd_bufring_take_recvs(struct pxd_bufring *b);

/*
 * Gives the pages of every buffer back to the kernel (MADV_DONTNEED) when
 * some were filled since they last went back and none is lent; for a quiet
 * ring: the kernel hands the buffers out in turn, so any traffic at all, and
 * a burst of connections at once, leaves every one of them resident, where a
 * quiet ring needs few. They come back as zero pages on the next receives.
 * The caller makes sure no buffer holds bytes whose CQE is not handled yet.
 * Returns 0 or -errno.
 */
int pxd_bufring_give_back(struct pxd_bufring *b);

/* Unregisters and unmaps. Accepts a zeroed struct. */
void pxd_bufring_fini(struct pxd_bufring *b, struct io_uring *ring);

/* inline definitions */

/* Returns the memory of buffer <bid>, which a recv CQE has just filled. */
static inline char *pxd_bufring_get(struct pxd_bufring *b, unsigned bid)
{
	b->lent++;
	return b->mem + (size_t)bid * b->buf_size;
}

/*
 * Gives buffer <bid> back to the kernel once its bytes are consumed. The
 * kernel sees it after pxd_bufring_flush(), which the loop calls once per
 * pass so the tail is published with one store.
 */
static inline void pxd_bufring_put(struct pxd_bufring *b, unsigned bid)
{
	io_uring_buf_ring_add(b->br, b->mem + (size_t)bid * b->buf_size, b->buf_size,
			      (unsigned short)bid, io_uring_buf_ring_mask(b->nbufs),
			      (int)b->pending);
	b->pending++;
	b->lent--;
}

static inline void pxd_bufring_flush(struct pxd_bufring *b)
{
	if (b->pending) {
		io_uring_buf_ring_advance(b->br, (int)b->pending);
		b->recvs += b->pending;
		b->pending = 0;
	}
}

#endif
