/* SPDX-License-Identifier: MIT */
/*
 * ingest.h - one ingest thread: its io_uring, provided buffers, listening
 * sockets, connections, scratch space and counters. The loop accepts, reads,
 * parses, routes and answers; endpoints (daemon/ep_*.c) run inside it and may
 * use the scratch space here. Everything in struct pxd_ingest belongs to its
 * thread; only the metrics are read by others.
 */
#ifndef PXD_INGEST_H
#define PXD_INGEST_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#include "bufring.h"
#include "conn.h"
#include "daemon.h"
#include "http_parse.h"
#include "journal.h"
#include "metrics.h"
#include "tls.h"
#include "uuid7.h"

enum pxd_listener {
	PXD_LISTENER_PUBLIC = 0,
	PXD_LISTENER_ADMIN,
	PXD_LISTENER_TLS,   /* server.tls_listen: connections speak TLS (daemon/tls/) */
	PXD_LISTENER_COUNT, /* number of listeners; keep last */
};

/* Body limit on the admin listener: a mail merge of 10,000 pixel requests. */
#define PXD_ADMIN_MAX_BODY (4u << 20)
#define PXD_EVENT_LINE_MAX (128 * 1024) /* one canonical event line: a 64 KiB event fits */

struct pxd_gunzip;

struct pxd_ingest {
	unsigned id;
	struct pxd_daemon *d;
	struct pxd_metrics_ingest *m;
	struct io_uring ring;
	struct pxd_bufring br;
	struct pxd_conn_table conns;
	int listen_fd[PXD_LISTENER_COUNT]; /* -1 when absent */
	bool accept_armed[PXD_LISTENER_COUNT];
	struct pxd_tls_ref tls; /* the certificate set new TLS connections start on */
	bool ring_ready;
	int started; /* atomic: 0 starting, 1 running, -errno failed */
	bool stopping;
	int64_t stop_deadline_ms;

	int64_t now_ms;	 /* wall clock, refreshed once per loop pass */
	int64_t mono_ms; /* monotonic, for timers */
	int64_t date_sec;
	char date_hdr[48]; /* "Date: <IMF-fixdate>\r\n", refreshed once a second */

	/* Scratch for the request being handled; never outlives it. */
	struct pxd_http_req req;
	char *body_scratch;	   /* PXD_API_MAX_BODY (router.h): decoded chunked bodies */
	char *api_scratch;	   /* PXD_API_MAX_BODY + 1: a decompressed /s2s/ or /v1/ body */
	struct pxd_gunzip *gunzip; /* inflate state for Content-Encoding: gzip */
	char *admin_body_scratch;  /* PXD_ADMIN_MAX_BODY, on the admin listener's thread */
	char *query_scratch;	   /* PXD_HTTP_MAX_URI + 1: percent-decoded query */
	char *json_scratch;	   /* PXD_HTTP_MAX_BODY: re-serialized props */
	struct pxd_uuid7 uuid;
	struct pxd_bot_ua_scratch *ua_scratch; /* NULL without bot_ua */
	struct sockaddr_storage peer;	       /* what pxd_ingest_peer() returns */

	/* The journal: one stream per dispatcher shard. */
	struct pxd_jstream *streams;
	unsigned nstreams;
	uint64_t journal_quota;	   /* this thread's share of journal.max_bytes */
	uint64_t journal_appended; /* bytes appended since start */
	uint64_t journal_base;	   /* bytes on disk at start */
	/*
	 * Connections whose answers wait for the journal (the write with
	 * ack=fast, the fsync with ack=durable), in the order they were parked,
	 * and snapshots of every stream's appended position taken at the end
	 * of the loop passes that parked someone. A connection is released when
	 * every stream's written (synced) position has reached its snapshot.
	 */
	struct pxd_list parked;
	uint64_t *snaps;    /* PXD_INGEST_SNAPS x nstreams positions */
	uint64_t snap_head; /* oldest snapshot still needed */
	uint64_t snap_tail; /* next snapshot to take */
	bool parked_this_pass;
};

#define PXD_INGEST_SNAPS 256

/* Sets up thread <id>'s connection slots and scratch around the given
 * listening sockets (admin_fd and tls_fd may be -1). Returns 0 or -errno. The ring is
 * set up by the thread itself when it starts; see <started>. */
int pxd_ingest_init(struct pxd_ingest *ing, struct pxd_daemon *d, unsigned id, int listen_fd,
		    int admin_fd, int tls_fd);

/* Sets up the ring, reports it in <started>, then runs the loop until the daemon's stop_ingest is
 * set and every connection is finished (or the shutdown deadline passes). Thread entry. */
void *pxd_ingest_run(void *ing);

/* Releases what init took. Accepts a zeroed struct. */
void pxd_ingest_fini(struct pxd_ingest *ing);

/* Returns the peer address of <c> (looked up once per connection) in this
 * thread's scratch: valid until the next call. */
const struct sockaddr_storage *pxd_ingest_peer(struct pxd_ingest *ing, struct pxd_conn *c);

#endif
