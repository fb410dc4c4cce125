// SPDX-License-Identifier: MIT
#include "uring.h"

#include <errno.h>
#include <string.h>

int pxd_uring_setup(struct io_uring *ring, unsigned entries)
{
	/*
	 * SINGLE_ISSUER: only this thread submits, which lets the kernel skip
	 * locking. DEFER_TASKRUN: completion work runs when we wait, not in
	 * interrupts of whatever else this core runs. SUBMIT_ALL: one bad SQE
	 * does not stop the rest of a batch. CQSIZE: multishot recv and accept
	 * post many CQEs per SQE, so the CQ must be much larger than the SQ.
	 */
	static const unsigned flag_sets[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL,
		IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL,
		0,
	};
	struct io_uring_params p;
	int err = -EINVAL;

	for (unsigned i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.flags = flag_sets[i] | IORING_SETUP_CQSIZE;
		p.cq_entries = entries * 8;
		err = io_uring_queue_init_params(entries, ring, &p);
		if (err != -EINVAL)
			break;
	}
	return err;
}

struct io_uring_sqe *pxd_uring_get_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (sqe)
		return sqe;
	io_uring_submit(ring);
	return io_uring_get_sqe(ring);
}
