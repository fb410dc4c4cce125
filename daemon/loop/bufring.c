// SPDX-License-Identifier: MIT
#include "bufring.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

int pxd_bufring_init(struct pxd_bufring *b, struct io_uring *ring, unsigned nbufs,
		     unsigned buf_size)
{
	struct io_uring_buf_reg reg;
	size_t ring_bytes = (size_t)nbufs * sizeof(struct io_uring_buf);
	size_t total = ring_bytes + (size_t)nbufs * buf_size;
	void *mem;
	int err;

	memset(b, 0, sizeof(*b));
	/* The ring must be page aligned for the kernel to map it: mmap gives that. */
	mem = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return -errno;
	b->br = mem;
	b->mem = (char *)mem + ring_bytes;
	b->nbufs = nbufs;
	b->buf_size = buf_size;
	io_uring_buf_ring_init(b->br);

	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (unsigned long)b->br;
	reg.ring_entries = nbufs;
	reg.bgid = PXD_BUFRING_GROUP;
	err = io_uring_register_buf_ring(ring, &reg, 0);
	if (err) {
		munmap(mem, total);
		memset(b, 0, sizeof(*b));
		return err;
	}
	for (unsigned i = 0; i < nbufs; i++)
		io_uring_buf_ring_add(b->br, b->mem + (size_t)i * buf_size, buf_size,
				      (unsigned short)i, io_uring_buf_ring_mask(nbufs), (int)i);
	io_uring_buf_ring_advance(b->br, (int)nbufs);
	return 0;
}

unsigned pxd_bufring_take_recvs(struct pxd_bufring *b)
{
	unsigned n = b->recvs;

	b->recvs = 0;
	if (n)
		b->resident = true;
	return n;
}

int pxd_bufring_give_back(struct pxd_bufring *b)
{
	if (!b->resident || b->lent)
		return 0;
	b->resident = false;
	return madvise(b->mem, (size_t)b->nbufs * b->buf_size, MADV_DONTNEED) ? -errno : 0;
}

void pxd_bufring_fini(struct pxd_bufring *b, struct io_uring *ring)
{
	if (!b->br)
		return;
	io_uring_unregister_buf_ring(ring, PXD_BUFRING_GROUP);
	munmap(b->br, (size_t)b->nbufs * (sizeof(struct io_uring_buf) + b->buf_size));
	memset(b, 0, sizeof(*b));
}
