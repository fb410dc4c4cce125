/* SPDX-License-Identifier: MIT */
/*
 * tls.h - HTTPS on the public listener (daemon/tls/). Two parts:
 *
 * The live certificate set: built from [certificate] sections at start and
 * on SIGHUP by the main thread, published to the ingest threads, which pick
 * up a new set once per loop pass (a mutex taken only when the set changed).
 *
 * One connection's TLS: an SSL with two memory BIOs, driven by its ingest
 * thread from the io_uring loop. Ciphertext received goes in with
 * pxd_tls_conn_input(); plaintext comes out of pxd_tls_conn_read();
 * responses go in with pxd_tls_conn_write() and the records to send come
 * out of pxd_tls_conn_take(). Nothing here does I/O or blocks. Every
 * connection function belongs to the connection's ingest thread.
 */
#ifndef PXD_TLS_H
#define PXD_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pxd_buf;
struct pxd_conf;
struct pxd_metrics;
struct pxd_tls_live;
struct pxd_tls_conn;
struct ssl_ctx_st;

enum pxd_tls_version {
	PXD_TLS_V12 = 0,
	PXD_TLS_V13,
	PXD_TLS_VERSION_COUNT, /* number of versions; keep last */
};

/* Why a handshake failed (label reason="..." of the failure counter). */
enum pxd_tls_fail {
	PXD_TLS_FAIL_TIMEOUT = 0,  /* not done within server.handshake_timeout */
	PXD_TLS_FAIL_PLAIN_HTTP,   /* plain HTTP on the TLS port: answered 400 */
	PXD_TLS_FAIL_NOT_TLS,	   /* bytes that are no TLS record */
	PXD_TLS_FAIL_PROTOCOL,	   /* no common version or cipher */
	PXD_TLS_FAIL_UNKNOWN_NAME, /* SNI matches no certificate and there is no default */
	PXD_TLS_FAIL_ALPN,	   /* ALPN offered without http/1.1 */
	PXD_TLS_FAIL_PEER_CLOSED,  /* closed or alert from the client mid-handshake */
	PXD_TLS_FAIL_OTHER,
	PXD_TLS_FAIL_COUNT, /* number of reasons; keep last */
};

/* One ingest thread's TLS counters (inside struct pxd_metrics_ingest). */
struct pxd_tls_stats {
	uint64_t handshakes[PXD_TLS_VERSION_COUNT]; /* completed, resumed or not */
	uint64_t resumed[PXD_TLS_VERSION_COUNT];
	uint64_t failures[PXD_TLS_FAIL_COUNT];
};

/* What an ingest thread holds of the live set. */
struct pxd_tls_ref {
	struct ssl_ctx_st *base; /* NULL until the first refresh */
	unsigned gen;
};

enum pxd_tls_step {
	PXD_TLS_STEP_AGAIN = 0, /* handshake needs more input (send what pxd_tls_conn_take has) */
	PXD_TLS_STEP_DONE,	/* handshake complete: plaintext may follow */
	PXD_TLS_STEP_FAILED,	/* send the alert waiting, then close */
};

/*
 * Loads every certificate of <conf> (when conf->tls_listen is set) and
 * starts the ticket keys. Returns 0 with *<out> NULL when TLS is off, or 0
 * with the live set, or -errno with <err> naming the certificate, the file
 * and what to fix. Main thread, before the ingest threads start.
 */
int pxd_tls_live_start(const struct pxd_conf *conf, struct pxd_tls_live **out, char *err,
		       size_t errlen);

/*
 * SIGHUP: rebuilds the set from <conf> and publishes it; connections keep
 * the certificate they started with. A set that fails to load is refused
 * with one log line saying why, and the running set stays. Returns 0 or
 * -errno. Main thread.
 */
int pxd_tls_live_reload(struct pxd_tls_live *live, const struct pxd_conf *conf);

/* Drops the live set. Accepts NULL. Main thread, after the ingest threads stopped. */
void pxd_tls_live_stop(struct pxd_tls_live *live);

/* Makes <ref> hold the current set (cheap when it already does). Ingest thread. */
void pxd_tls_live_refresh(struct pxd_tls_live *live, struct pxd_tls_ref *ref);

/* Lets go of what <ref> holds. Ingest thread, on its way out. */
void pxd_tls_ref_drop(struct pxd_tls_ref *ref);

/* Appends {"certificates":[{name, subject, names, hosts, not_before, not_after,
 * days_left, default}...]} for pixelctl tls status. Returns 0 or -ENOMEM. Any thread. */
int pxd_tls_live_status_json(struct pxd_tls_live *live, int64_t now_ms, struct pxd_buf *out);

/* Appends the pixeld_tls_* metrics of <m> and <live> (may be NULL: only counters). Any thread. */
int pxd_tls_metrics_render(struct pxd_tls_live *live, const struct pxd_metrics *m, int64_t now_ms,
			   struct pxd_buf *out);

/* A new server-side connection on <ref>'s set, or NULL (no memory, no set). */
struct pxd_tls_conn *pxd_tls_conn_new(const struct pxd_tls_ref *ref);

/* Frees <tc>. Accepts NULL. */
void pxd_tls_conn_free(struct pxd_tls_conn *tc);

/* Queues <n> received bytes. Returns 0 or -ENOMEM. */
int pxd_tls_conn_input(struct pxd_tls_conn *tc, const void *p, size_t n);

/* Advances the handshake with the input queued. On DONE <version> and <resumed> say what was
 * agreed; on FAILED <why> says why. */
enum pxd_tls_step pxd_tls_conn_handshake(struct pxd_tls_conn *tc, enum pxd_tls_version *version,
					 bool *resumed, enum pxd_tls_fail *why);

/* Decrypts into <buf>. Returns bytes (> 0), -EAGAIN for none yet, or -ECONNRESET when the
 * peer closed (close_notify) or sent a bad record. */
ssize_t pxd_tls_conn_read(struct pxd_tls_conn *tc, void *buf, size_t cap);

/* Encrypts <n> bytes of response. Returns 0 or -EIO. */
int pxd_tls_conn_write(struct pxd_tls_conn *tc, const void *p, size_t n);

/* Queues our close_notify alert (once, after a finished handshake) to go out after the last
 * answer: a client that reads it knows the answer was not truncated, and OpenSSL clients keep
 * the connection's session resumable (an EOF without it is an error to them). */
void pxd_tls_conn_close_notify(struct pxd_tls_conn *tc);

/* Bytes of records waiting to be sent. */
size_t pxd_tls_conn_pending(const struct pxd_tls_conn *tc);

/* Moves up to <cap> bytes of waiting records to <dst>; returns how many. */
size_t pxd_tls_conn_take(struct pxd_tls_conn *tc, void *dst, size_t cap);

/* Names for the metrics' labels. */
const char *pxd_tls_version_name(enum pxd_tls_version v);
const char *pxd_tls_fail_name(enum pxd_tls_fail f);

#endif
