// SPDX-License-Identifier: MIT
/*
 * ingest_request.c - one ingest thread's request dispatch: parses each
 * complete request of a connection's bytes, hands it to the router, holds
 * partial requests and input that waits for output to drain, and answers
 * refusals and the admin jobs the main thread ran. Ingest thread only.
 */
#include "ingest_request.h"

#include <string.h>

#include "http_reply.h"
#include "ingest_conn.h"
#include "ingest_journal.h"
#include "router.h"

#define ADMIN_RESERVE 16
/* Queued output past which a connection stops parsing until it drains. */
#define OUT_HIGH_WATER (256u * 1024)
/* Raw bytes of one request held at most: head, body and chunk framing. */
#define IN_MAX(body_limit) (2 * PXD_HTTP_MAX_HEAD + (body_limit))

void pxd_ingest_request_refuse(struct pxd_ingest *ing, struct pxd_conn *c, enum pxd_refusal r)
{
	struct pxd_reqctx rc = {
		.ing = ing,
		.conn = c,
		.ep = (c->flags & PXD_CONN_ADMIN) ? PXD_EP_ADMIN : PXD_EP_UNKNOWN,
		.close = true,
	};

	pxd_reply_refusal(&rc, r, NULL);
}

/*
 * Parses and answers every complete request in <buf, len>. Returns how many
 * bytes were consumed; the rest is an unfinished request (or input held back
 * while output drains) that the caller keeps.
 */
static size_t process(struct pxd_ingest *ing, struct pxd_conn *c, const char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		enum pxd_refusal refusal = PXD_REFUSAL_NONE;
		struct pxd_reqctx rc;
		ssize_t n;

		if (c->out.len > OUT_HIGH_WATER) {
			c->flags |= PXD_CONN_PAUSED;
			break;
		}
		if (c->flags & PXD_CONN_ADMIN)
			n = pxd_http_parse_request(buf + off, len - off, &ing->req,
						   ing->admin_body_scratch, PXD_ADMIN_MAX_BODY,
						   &refusal);
		else
			n = pxd_http_parse_request(
			    buf + off, len - off, &ing->req, ing->body_scratch,
			    pxd_router_body_limit(buf + off, len - off), &refusal);
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			pxd_ingest_request_refuse(ing, c, refusal);
			return len;
		}
		memset(&rc, 0, sizeof(rc));
		rc.ing = ing;
		rc.conn = c;
		rc.req = &ing->req;
		rc.head = ing->req.method == PXD_HTTP_HEAD;
		rc.close = !ing->req.keep_alive || ing->stopping;
		pxd_router_dispatch(&rc);
		if (rc.journaled)
			pxd_ingest_journal_park(ing, c);
		off += (size_t)n;
		if (rc.deferred) {
			/* The answer closes the connection: what follows is dropped. */
			c->flags |= PXD_CONN_DEFERRED;
			return len;
		}
		if (c->flags & PXD_CONN_CLOSE_AFTER)
			return len;
	}
	return off;
}

/*
 * <used> bytes of input were whole requests: what is left started after them,
 * so its request_timeout starts now (a steady pipelined stream that never
 * drains to a boundary is not one slow request).
 */
static void after_input(struct pxd_ingest *ing, struct pxd_conn *c, size_t used)
{
	pxd_ingest_conn_send(ing, c);
	if (c->flags & (PXD_CONN_CLOSE_AFTER | PXD_CONN_CLOSING))
		return;
	if (c->in.len && used)
		pxd_conn_timer_clear(c);
	if (c->in.len)
		pxd_conn_timer_set(&ing->conns, c, PXD_TIMER_REQUEST, (uint64_t)ing->mono_ms);
	else
		pxd_conn_timer_set(&ing->conns, c, PXD_TIMER_IDLE, (uint64_t)ing->mono_ms);
}

void pxd_ingest_request_on_data(struct pxd_ingest *ing, struct pxd_conn *c, const char *data,
				size_t n)
{
	size_t used = 0;

	if (c->flags & (PXD_CONN_CLOSING | PXD_CONN_CLOSE_AFTER | PXD_CONN_DEFERRED) ||
	    c->timer == PXD_TIMER_LINGER)
		return; /* answered for good (or to be): what comes now is discarded */

	if (!c->in.len && !(c->flags & PXD_CONN_PAUSED)) {
		/* Common case: whole requests inside one receive buffer, parsed in place. */
		used = process(ing, c, data, n);
		if (used < n &&
		    pxd_dbuf_append(&ing->conns.pool, &c->in, data + used, (uint32_t)(n - used))) {
			pxd_ingest_conn_close(ing, c);
			return;
		}
	} else {
		size_t limit = (c->flags & PXD_CONN_ADMIN)
				   ? PXD_ADMIN_MAX_BODY
				   : pxd_router_body_limit(c->in.p, c->in.len);

		if (c->in.len + n > IN_MAX(limit)) {
			pxd_ingest_request_refuse(ing, c, PXD_REFUSAL_BODY_TOO_LARGE);
		} else if (pxd_dbuf_append(&ing->conns.pool, &c->in, data, (uint32_t)n)) {
			pxd_ingest_conn_close(ing, c);
			return;
		} else if (!(c->flags & PXD_CONN_PAUSED)) {
			used = process(ing, c, c->in.p, c->in.len);
			pxd_dbuf_consume(&c->in, (uint32_t)used);
		}
		if (!c->in.len)
			pxd_dbuf_release(&ing->conns.pool, &c->in);
	}
	after_input(ing, c, used);
}

/* The output that held input back has drained: parse what waited. */
void pxd_ingest_request_resume(struct pxd_ingest *ing, struct pxd_conn *c)
{
	size_t used;

	c->flags &= ~PXD_CONN_PAUSED;
	used = process(ing, c, c->in.p, c->in.len);
	pxd_dbuf_consume(&c->in, (uint32_t)used);
	if (!c->in.len)
		pxd_dbuf_release(&ing->conns.pool, &c->in);
	after_input(ing, c, used);
}

/* The main thread ran this thread's admin job: answer the connection that waits for it. */
void pxd_ingest_request_answer_deferred(struct pxd_ingest *ing)
{
	struct pxd_admin_job *j = &ing->d->admin_job;
	struct pxd_reqctx rc = { .ing = ing, .ep = PXD_EP_ADMIN, .close = true };
	struct pxd_conn *c;

	if (!pxd_admin_job_done(j, ing->id))
		return;
	c = j->slot < ing->conns.ninit ? &ing->conns.slots[j->slot] : NULL;
	if (c && c->fd >= 0 && c->gen == j->gen && (c->flags & PXD_CONN_DEFERRED)) {
		c->flags &= ~PXD_CONN_DEFERRED;
		rc.conn = c;
		pxd_ep_admin_dlq_answer(&rc, j);
		pxd_ingest_conn_send(ing, c);
	}
	pxd_admin_job_release(j);
}
