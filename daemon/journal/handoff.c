// SPDX-License-Identifier: MIT
/*
 * The ingest-to-shard hand-off: creates the [ingest][shard] matrix of
 * ck_ring SPSC rings, picks a shard from (tenant, user key), and pushes and
 * pops event records. Push: the ring's ingest thread; pop: its shard.
 */
#include "handoff.h"

#include <ck_ring.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"

/*
 * Rings are laid out [ingest][shard]; struct ck_ring already pads producer
 * and consumer indexes onto separate cache lines, so neighbouring rings do
 * not false-share either.
 */
struct pxd_handoff {
	unsigned ningest;
	unsigned nshards;
	unsigned size;
	struct ck_ring *rings;
	struct ck_ring_buffer *bufs;
};

int pxd_handoff_create(unsigned ningest, unsigned nshards, unsigned size, struct pxd_handoff **out)
{
	struct pxd_handoff *h;
	size_t n = (size_t)ningest * nshards;

	if (!ningest || !nshards || size < 4 || (size & (size - 1)))
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->ningest = ningest;
	h->nshards = nshards;
	h->size = size;
	if (posix_memalign((void **)&h->rings, PXD_CACHELINE, n * sizeof(*h->rings)) ||
	    !(h->bufs = calloc(n * size, sizeof(*h->bufs)))) {
		pxd_handoff_destroy(h);
		return -ENOMEM;
	}
	for (size_t r = 0; r < n; r++)
		ck_ring_init(&h->rings[r], size);
	*out = h;
	return 0;
}

void pxd_handoff_destroy(struct pxd_handoff *h)
{
	struct pxd_evrec *rec;

	if (!h)
		return;
	if (h->rings && h->bufs) {
		for (unsigned i = 0; i < h->ningest; i++)
			for (unsigned s = 0; s < h->nshards; s++)
				while ((rec = pxd_handoff_pop_spsc(h, i, s)))
					free(rec);
	}
	free(h->rings);
	free(h->bufs);
	free(h);
}

unsigned pxd_handoff_nshards(const struct pxd_handoff *h)
{
	return h->nshards;
}

unsigned pxd_handoff_ningest(const struct pxd_handoff *h)
{
	return h->ningest;
}

unsigned pxd_handoff_capacity(const struct pxd_handoff *h)
{
	return h->size - 1;
}

/* FNV-1a: tiny, stable across builds and good enough to spread user keys. */
static uint64_t fnv1a(uint64_t hash, struct pxd_sv s)
{
	for (size_t i = 0; i < s.n; i++) {
		hash ^= (unsigned char)s.p[i];
		hash *= 0x100000001b3ull;
	}
	return hash;
}

unsigned pxd_handoff_shard(const struct pxd_handoff *h, struct pxd_sv tenant, struct pxd_sv key)
{
	uint64_t hash = fnv1a(0xcbf29ce484222325ull, tenant);

	if (h->nshards == 1)
		return 0;
	hash = fnv1a(hash ^ 0xff, key);
	return (unsigned)(hash % h->nshards);
}

static inline struct ck_ring *ring_at(const struct pxd_handoff *h, unsigned i, unsigned shard,
				      struct ck_ring_buffer **buf)
{
	size_t r = (size_t)i * h->nshards + shard;

	*buf = h->bufs + r * h->size;
	return &h->rings[r];
}

unsigned pxd_handoff_room_spsc(struct pxd_handoff *h, unsigned i, unsigned shard)
{
	struct ck_ring_buffer *buf;
	struct ck_ring *ring = ring_at(h, i, shard, &buf);

	return ck_ring_capacity(ring) - 1 - ck_ring_size(ring);
}

bool pxd_handoff_push_spsc(struct pxd_handoff *h, unsigned i, unsigned shard, struct pxd_evrec *rec)
{
	struct ck_ring_buffer *buf;
	struct ck_ring *ring = ring_at(h, i, shard, &buf);

	return ck_ring_enqueue_spsc(ring, buf, rec);
}

struct pxd_evrec *pxd_handoff_pop_spsc(struct pxd_handoff *h, unsigned i, unsigned shard)
{
	struct ck_ring_buffer *buf;
	struct ck_ring *ring = ring_at(h, i, shard, &buf);
	struct pxd_evrec *rec;

	if (!ck_ring_dequeue_spsc(ring, buf, &rec))
		return NULL;
	return rec;
}

size_t pxd_handoff_backlog(const struct pxd_handoff *h, unsigned shard)
{
	struct ck_ring_buffer *buf;
	size_t n = 0;

	for (unsigned i = 0; i < h->ningest; i++)
		n += ck_ring_size(ring_at(h, i, shard, &buf));
	return n;
}

struct pxd_evrec *pxd_evrec_new(const char *line, size_t len, int64_t received_ms)
{
	struct pxd_evrec *rec = malloc(sizeof(*rec) + len + 1);

	if (!rec)
		return NULL;
	rec->received_ms = received_ms;
	rec->start = 0;
	rec->end = 0;
	rec->len = (uint32_t)len;
	rec->_refs = 0;
	rec->_settled = NULL;
	rec->_el_state = 0;
	memcpy(rec->line, line, len);
	rec->line[len] = '\n';
	return rec;
}
