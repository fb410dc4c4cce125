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
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#define PXD_CHUNK_SIZE 16384
/* The most a struct pxd_dbuf may hold: its sizes are 32-bit, and no buffer
 * of one connection or one journal stream needs more. */
#define PXD_DBUF_MAX (1u << 30)

struct pxd_tls_conn;

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
	PXD_TIMER_REQUEST,   /* a request has started: it must be whole in request_timeout */
	PXD_TIMER_IDLE,	     /* between requests: closed after idle_timeout */
	PXD_TIMER_LINGER,    /* closing: waiting for the peer's FIN after our shutdown */
	PXD_TIMER_HANDSHAKE, /* TLS: the handshake must be done in server.handshake_timeout */
	PXD_TIMER_COUNT,     /* number of timer lists; keep last */
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
	PXD_CONN_PAUSED = 1u << 8,    /* input held back until queued output drains */
	PXD_CONN_PARKED = 1u << 9,    /* ack=durable: answers wait for the journal's fsync */
	PXD_CONN_TLS = 1u << 10,      /* accepted on server.tls_listen */
	PXD_CONN_TLS_FED = 1u << 11,  /* TLS: the first bytes have come */
	PXD_CONN_TLS_UP = 1u << 12,   /* TLS: handshake done */
	PXD_CONN_DEFERRED = 1u << 13, /* its answer waits for the main thread's admin job */
	PXD_CONN_UA_HUMAN = 1u << 14, /* the user agent hashing to <ua_hash> is no bot's */
};

struct pxd_conn {
	struct pxd_list timer_node;
	uint64_t deadline_ms;
	int fd;
	uint16_t gen;
	uint8_t timer;	  /* enum pxd_conn_timer */
	uint8_t inflight; /* SQEs submitted and not yet completed for good */
	uint32_t flags;
	uint32_t sent;		 /* bytes of <sending> already sent; here, it fills a hole */
	struct pxd_dbuf in;	 /* bytes of a request not yet complete */
	struct pxd_dbuf out;	 /* responses queued behind the send in flight */
	struct pxd_dbuf sending; /* the bytes of the send in flight */
	uint32_t ua_hash;	 /* with PXD_CONN_UA_HUMAN (intake.c) */
	/* With PXD_CONN_PEER_KNOWN: an AF_INET or AF_INET6 address, 28 bytes
	 * where a sockaddr_storage would take 128 of every slot. */
	struct sockaddr_in6 peer;
	struct pxd_list rearm_node; /* on the re-arm list while PXD_CONN_NEED_RECV */
	struct pxd_list park_node;  /* on the parked list while PXD_CONN_PARKED */
	uint64_t park_snap;	    /* the journal snapshot its answers wait for */
	struct pxd_tls_conn *tls;   /* while PXD_CONN_TLS: <out> is plaintext, <sending> records */
};

struct pxd_conn_table {
	struct pxd_conn *slots;
	uint32_t nslots;
	uint32_t ninit; /* slots [0, ninit) may be in use; the rest are free and not on the stack */
	uint32_t *free; /* stack of slot indexes below <ninit> given back */
	uint32_t nstack; /* entries on it */
	uint32_t nfree;	 /* free slots: on the stack or never used */
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

/*
 * For a quiet thread: gives the pages of the slots above the highest one in
 * use back to the kernel (MADV_DONTNEED; they read as never used again, so
 * a burst of connections leaves no resident table behind), and rebuilds the
 * free stack with the lowest slot on top, so new connections fill the table
 * from the bottom and the part above them can go at the next call. No CQE
 * refers to a slot after pxd_conn_put(), which comes after the close
 * completed, so a zeroed slot's generation starting over is safe. O(slots
 * used). Returns 0 or -errno from madvise.
 */
int pxd_conn_table_trim(struct pxd_conn_table *t);

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

/*
 * Ensures <b> has room for <n> more bytes, borrowing from the pool. Returns
 * 0, -ENOMEM, or -ENOBUFS past PXD_DBUF_MAX (nothing is allocated then).
 */
int pxd_dbuf_reserve(struct pxd_chunkpool *pool, struct pxd_dbuf *b, uint32_t n);

/* Appends <n> bytes to <b>. Returns 0, -ENOMEM or -ENOBUFS (PXD_DBUF_MAX). */
int pxd_dbuf_append(struct pxd_chunkpool *pool, struct pxd_dbuf *b, const void *p, uint32_t n);

/* Gives <b>'s memory back (to the pool when it is one chunk). */
void pxd_dbuf_release(struct pxd_chunkpool *pool, struct pxd_dbuf *b);

/* Frees spare chunks of <pool> down to <keep>. */
void pxd_chunkpool_trim(struct pxd_chunkpool *pool, unsigned keep);

/* Gives the memory of an empty <b> grown past one chunk back, so a buffer
 * that a burst grew shrinks after it. */
void pxd_dbuf_shrink(struct pxd_chunkpool *pool, struct pxd_dbuf *b);

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
