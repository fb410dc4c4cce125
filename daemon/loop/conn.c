// SPDX-License-Identifier: MIT
#include "conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "compiler.h"

int pxd_conn_table_init(struct pxd_conn_table *t, uint32_t nslots, uint32_t request_timeout_ms,
			uint32_t idle_timeout_ms, uint32_t linger_ms)
{
	memset(t, 0, sizeof(*t));
	t->slots = calloc(nslots, sizeof(*t->slots));
	t->free = calloc(nslots, sizeof(*t->free));
	/* A few spare chunks absorb a burst without malloc; more would be held
	 * by the thread for good (16 KiB each) after a burst of connections, which
	 * the RSS-per-idle-connection figure of bench/run would count. */
	t->pool.max_free = 64;
	t->pool.free = calloc(t->pool.max_free, sizeof(void *));
	if (!t->slots || !t->free || !t->pool.free) {
		pxd_conn_table_fini(t);
		return -ENOMEM;
	}
	/* Slots are set up when first taken (<ninit>), so the calloc'd pages of
	 * a table sized for server.max_connections stay untouched, and out of
	 * the RSS, until that many connections have come. */
	t->nslots = nslots;
	t->nfree = nslots;
	for (unsigned i = 0; i < PXD_TIMER_COUNT; i++)
		pxd_list_init(&t->timers[i]);
	pxd_list_init(&t->rearm);
	t->timeout_ms[PXD_TIMER_REQUEST] = request_timeout_ms;
	t->timeout_ms[PXD_TIMER_IDLE] = idle_timeout_ms;
	t->timeout_ms[PXD_TIMER_LINGER] = linger_ms;
	return 0;
}

void pxd_conn_table_fini(struct pxd_conn_table *t)
{
	if (t->slots) {
		for (uint32_t i = 0; i < t->ninit; i++) {
			free(t->slots[i].in.p);
			free(t->slots[i].out.p);
			free(t->slots[i].sending.p);
		}
	}
	for (unsigned i = 0; i < t->pool.nfree; i++)
		free(t->pool.free[i]);
	free(t->pool.free);
	free(t->slots);
	free(t->free);
	memset(t, 0, sizeof(*t));
}

struct pxd_conn *pxd_conn_get(struct pxd_conn_table *t, int fd, uint32_t reserve)
{
	struct pxd_conn *c;
	uint16_t gen;

	if (t->nfree <= reserve)
		return NULL;
	t->nfree--;
	c = t->nstack ? &t->slots[t->free[--t->nstack]] : &t->slots[t->ninit++];
	gen = (uint16_t)(c->gen + 1);
	memset(c, 0, sizeof(*c));
	c->gen = gen;
	c->fd = fd;
	pxd_list_init(&c->timer_node);
	pxd_list_init(&c->rearm_node);
	pxd_list_init(&c->park_node);
	return c;
}

void pxd_conn_put(struct pxd_conn_table *t, struct pxd_conn *c)
{
	uint32_t slot;

	pxd_conn_timer_clear(c);
	pxd_list_del(&c->rearm_node);
	pxd_list_del(&c->park_node);
	pxd_dbuf_release(&t->pool, &c->in);
	pxd_dbuf_release(&t->pool, &c->out);
	pxd_dbuf_release(&t->pool, &c->sending);
	c->fd = -1;
	/* Bump the generation now too, so CQEs still in flight for this slot
	 * are stale even before the slot is reused. */
	c->gen++;
	slot = pxd_conn_slot(t, c);
	/* The top slot goes back to the never-used part rather than onto the
	 * stack, where the next connection would take it again and keep the
	 * table's top from ever coming down (pxd_conn_table_trim). */
	if (slot + 1 == t->ninit)
		t->ninit--;
	else
		t->free[t->nstack++] = slot;
	t->nfree++;
}

int pxd_conn_table_trim(struct pxd_conn_table *t)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uint32_t top = t->ninit;
	uintptr_t lo, hi;

	/* A free slot below <ninit> is on the stack: none, nothing to do. */
	if (!t->nstack)
		return 0;
	while (top && t->slots[top - 1].fd < 0)
		top--;
	t->nstack = 0;
	for (uint32_t i = top; i-- > 0;)
		if (t->slots[i].fd < 0)
			t->free[t->nstack++] = i;
	if (top == t->ninit)
		return 0;
	/* Whole pages only: the first may hold a slot in use, the last the
	 * allocation's neighbour. */
	lo = ((uintptr_t)&t->slots[top] + page - 1) & ~(page - 1);
	hi = PXD_MIN(((uintptr_t)&t->slots[t->ninit] + page - 1) & ~(page - 1),
		     (uintptr_t)&t->slots[t->nslots] & ~(page - 1));
	t->ninit = top;
	if (hi > lo && madvise((void *)lo, hi - lo, MADV_DONTNEED))
		return -errno;
	return 0;
}

uint32_t pxd_conn_slot(const struct pxd_conn_table *t, const struct pxd_conn *c)
{
	return (uint32_t)(c - t->slots);
}

/*
 * Every connection on one list has the same timeout, so appending at the
 * tail keeps each list sorted by deadline: expiry only looks at the heads,
 * and moving a connection is O(1). A timer wheel buys nothing here.
 */
void pxd_conn_timer_set(struct pxd_conn_table *t, struct pxd_conn *c, enum pxd_conn_timer which,
			uint64_t now_ms)
{
	if (c->timer == which && which != PXD_TIMER_IDLE)
		return;
	pxd_list_del(&c->timer_node);
	c->timer = (uint8_t)which;
	c->deadline_ms = now_ms + t->timeout_ms[which];
	pxd_list_add_tail(&t->timers[which], &c->timer_node);
}

void pxd_conn_timer_clear(struct pxd_conn *c)
{
	pxd_list_del(&c->timer_node);
	c->timer = PXD_TIMER_NONE;
}

uint64_t pxd_conn_next_deadline(const struct pxd_conn_table *t)
{
	uint64_t next = UINT64_MAX;

	for (unsigned i = PXD_TIMER_REQUEST; i < PXD_TIMER_COUNT; i++) {
		const struct pxd_list *head = &t->timers[i];

		if (!pxd_list_empty(head)) {
			const struct pxd_conn *c =
			    container_of(head->next, struct pxd_conn, timer_node);

			if (c->deadline_ms < next)
				next = c->deadline_ms;
		}
	}
	return next;
}

struct pxd_conn *pxd_conn_expired(struct pxd_conn_table *t, enum pxd_conn_timer which,
				  uint64_t now_ms)
{
	struct pxd_list *head = &t->timers[which];
	struct pxd_conn *c;

	if (pxd_list_empty(head))
		return NULL;
	c = container_of(head->next, struct pxd_conn, timer_node);
	if (c->deadline_ms > now_ms)
		return NULL;
	pxd_conn_timer_clear(c);
	return c;
}

int pxd_dbuf_reserve(struct pxd_chunkpool *pool, struct pxd_dbuf *b, uint32_t n)
{
	/* 64-bit sums: a 32-bit one wraps near 4 GiB and then "fits". */
	uint64_t need = (uint64_t)b->len + n;
	uint64_t cap;
	char *p;

	if (need <= b->cap)
		return 0;
	if (need > PXD_DBUF_MAX)
		return -ENOBUFS;
	if (!b->p && need <= PXD_CHUNK_SIZE) {
		b->p = pool->nfree ? pool->free[--pool->nfree] : malloc(PXD_CHUNK_SIZE);
		if (!b->p)
			return -ENOMEM;
		b->cap = PXD_CHUNK_SIZE;
		return 0;
	}
	cap = b->cap ? b->cap : PXD_CHUNK_SIZE;
	while (cap < need)
		cap *= 2;
	cap = PXD_MIN(cap, (uint64_t)PXD_DBUF_MAX);
	p = malloc(cap);
	if (!p)
		return -ENOMEM;
	if (b->len)
		memcpy(p, b->p, b->len);
	pxd_dbuf_release(pool, &(struct pxd_dbuf){ b->p, 0, b->cap });
	b->p = p;
	b->cap = (uint32_t)cap;
	return 0;
}

int pxd_dbuf_append(struct pxd_chunkpool *pool, struct pxd_dbuf *b, const void *p, uint32_t n)
{
	int err = pxd_dbuf_reserve(pool, b, n);

	if (err)
		return err;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

void pxd_dbuf_release(struct pxd_chunkpool *pool, struct pxd_dbuf *b)
{
	if (b->p) {
		if (b->cap == PXD_CHUNK_SIZE && pool->nfree < pool->max_free)
			pool->free[pool->nfree++] = b->p;
		else
			free(b->p);
	}
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}

void pxd_chunkpool_trim(struct pxd_chunkpool *pool, unsigned keep)
{
	while (pool->nfree > keep)
		free(pool->free[--pool->nfree]);
}

void pxd_dbuf_shrink(struct pxd_chunkpool *pool, struct pxd_dbuf *b)
{
	if (!b->len && b->cap > PXD_CHUNK_SIZE)
		pxd_dbuf_release(pool, b);
}

void pxd_dbuf_consume(struct pxd_dbuf *b, uint32_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}
