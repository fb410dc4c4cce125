/* SPDX-License-Identifier: MIT */
/*
 * conn.h - one ingest thread's client connections: a fixed slot table with
 * generations (so late CQEs of a closed connection are recognised), the
 * per-thread pool of 16 KiB chunks that partial requests and pending
 * responses borrow, and the two deadline lists (request and idle timeouts).
 * Everything here belongs to one ingest thread.
 */
#ifndef PXD_CONN_H
#define PXD_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define PXD_CHUNK_SIZE 16384

/* An intrusive doubly linked list node; a node not on a list points to itself. */
struct pxd_list {
	struct pxd_list *prev;
	struct pxd_list *next;
};

/*
 * A byte buffer borrowed from the chunk pool while needed and given back when
 * empty, so idle connections hold no memory. Grows past one chunk only for
 * large bodies or deep pipelines (then it is malloc'd and freed).
 */
struct pxd_dbuf {
	char *p;
	uint32_t len;
	uint32_t cap;
};

struct pxd_chunkpool {
	void **free;
	unsigned nfree;
	unsigned max_free;
};

enum pxd_conn_timer {
	PXD_TIMER_NONE = 0,
	PXD_TIMER_REQUEST, /* a request has started: it must be whole in request_timeout */
	PXD_TIMER_IDLE,	   /* between requests: closed after idle_timeout */
	PXD_TIMER_LINGER,  /* closing: waiting for the peer's FIN after our shutdown */
	PXD_TIMER_COUNT,   /* number of timer lists; keep last */
};

enum pxd_conn_flags {
	PXD_CONN_ADMIN = 1u << 0,	/* accepted on the admin listener */
	PXD_CONN_RECV_ARMED = 1u << 1,	/* a multishot recv is pending */
	PXD_CONN_SENDING = 1u << 2,	/* a send is in flight from <sending> */
	PXD_CONN_CLOSE_AFTER = 1u << 3, /* close once what is queued is sent */
	PXD_CONN_CLOSING = 1u << 4,	/* shutting down: no more requests parsed */
	PXD_CONN_CLOSE_SUBMITTED = 1u << 5,
	PXD_CONN_NEED_RECV = 1u << 6, /* recv ended with -ENOBUFS: re-arm when buffers return */
	PXD_CONN_PEER_KNOWN = 1u << 7,
	PXD_CONN_PAUSED = 1u << 8, /* input held back until queued output drains */
	PXD_CONN_PARKED = 1u << 9, /* ack=durable: answers wait for the journal's fsync */
};

struct pxd_conn {
	struct pxd_list timer_node;
	uint64_t deadline_ms;
	int fd;
	uint16_t gen;
	uint8_t timer;	  /* enum pxd_conn_timer */
	uint8_t inflight; /* SQEs submitted and not yet completed for good */
	uint32_t flags;
	struct pxd_dbuf in;	 /* bytes of a request not yet complete */
	struct pxd_dbuf out;	 /* responses queued behind the send in flight */
	struct pxd_dbuf sending; /* the bytes of the send in flight */
	uint32_t sent;		 /* bytes of <sending> already sent */
	struct sockaddr_storage peer;
	struct pxd_list rearm_node; /* on the re-arm list while PXD_CONN_NEED_RECV */
	struct pxd_list park_node;  /* on the parked list while PXD_CONN_PARKED */
	uint64_t park_snap;	    /* the journal snapshot its answers wait for */
};

struct pxd_conn_table {
	struct pxd_conn *slots;
	uint32_t nslots;
	uint32_t *free; /* stack of free slot indexes */
	uint32_t nfree;
	struct pxd_list timers[PXD_TIMER_COUNT];
	uint32_t timeout_ms[PXD_TIMER_COUNT];
	struct pxd_list rearm;
	struct pxd_chunkpool pool;
};

/* Allocates <nslots> slots. Returns 0 or -ENOMEM. */
int pxd_conn_table_init(struct pxd_conn_table *t, uint32_t nslots, uint32_t request_timeout_ms,
			uint32_t idle_timeout_ms, uint32_t linger_ms);
void pxd_conn_table_fini(struct pxd_conn_table *t);

/* Takes a free slot for <fd>, or NULL when no more than <reserve> slots are
 * free (slots kept for the admin listener, so an operator can still look
 * at a collector whose public side is full). */
struct pxd_conn *pxd_conn_get(struct pxd_conn_table *t, int fd, uint32_t reserve);

/* Returns <c>'s slot to the free stack and its buffers to the pool. */
void pxd_conn_put(struct pxd_conn_table *t, struct pxd_conn *c);

/* Returns the slot number of <c>. */
uint32_t pxd_conn_slot(const struct pxd_conn_table *t, const struct pxd_conn *c);

/* Puts <c> on timer list <which> with deadline now + its timeout (keeps the
 * deadline when already on that list, so a trickling request cannot extend it). */
void pxd_conn_timer_set(struct pxd_conn_table *t, struct pxd_conn *c, enum pxd_conn_timer which,
			uint64_t now_ms);

/* Takes <c> off its timer list. */
void pxd_conn_timer_clear(struct pxd_conn *c);

/* Returns the earliest deadline over all lists, or UINT64_MAX. */
uint64_t pxd_conn_next_deadline(const struct pxd_conn_table *t);

/* Pops the first connection of list <which> whose deadline is <= now, or NULL. */
struct pxd_conn *pxd_conn_expired(struct pxd_conn_table *t, enum pxd_conn_timer which,
				  uint64_t now_ms);

/* Ensures <b> has room for <n> more bytes, borrowing from the pool. 0 or -ENOMEM. */
int pxd_dbuf_reserve(struct pxd_chunkpool *pool, struct pxd_dbuf *b, uint32_t n);

/* Appends <n> bytes to <b>. Returns 0 or -ENOMEM. */
int pxd_dbuf_append(struct pxd_chunkpool *pool, struct pxd_dbuf *b, const void *p, uint32_t n);

/* Gives <b>'s memory back (to the pool when it is one chunk). */
void pxd_dbuf_release(struct pxd_chunkpool *pool, struct pxd_dbuf *b);

/* Drops the first <n> bytes of <b>. */
void pxd_dbuf_consume(struct pxd_dbuf *b, uint32_t n);

/* inline definitions */

static inline void pxd_list_init(struct pxd_list *l)
{
	l->prev = l;
	l->next = l;
}

static inline bool pxd_list_empty(const struct pxd_list *l)
{
	return l->next == l;
}

static inline void pxd_list_del(struct pxd_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	pxd_list_init(n);
}

static inline void pxd_list_add_tail(struct pxd_list *head, struct pxd_list *n)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

#endif
