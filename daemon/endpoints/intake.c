// SPDX-License-Identifier: MIT
#include "intake.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bot_ua.h"
#include "client_ip.h"
#include "daemon/tenant/tenant.h"
#include "handoff.h"
#include "log.h"
#include "xdp_ctl.h"

enum pxd_refusal pxd_intake_journal_room(struct pxd_reqctx *rc, uint64_t bytes)
{
	struct pxd_ingest *ing = rc->ing;
	uint64_t deleted = 0;

	if (ing->d->conf->ack == PXD_ACK_REPLICATED &&
	    __atomic_load_n(&ing->d->replicas_down, __ATOMIC_RELAXED))
		return PXD_REFUSAL_REPLICAS_UNREACHABLE;
	for (unsigned s = 0; s < ing->nstreams; s++) {
		if (__atomic_load_n(&ing->streams[s].error, __ATOMIC_RELAXED))
			return PXD_REFUSAL_JOURNAL_FULL;
		deleted += __atomic_load_n(&ing->streams[s].deleted_bytes, __ATOMIC_RELAXED);
	}
	if (ing->journal_base + ing->journal_appended -
		PXD_MIN(deleted, ing->journal_base + ing->journal_appended) + bytes >=
	    ing->journal_quota + (bytes ? 1 : 0))
		return PXD_REFUSAL_JOURNAL_FULL;
	return PXD_REFUSAL_NONE;
}

/* XDP sees only the TCP peer: never block one of server.trusted_proxies. */
static void block_bot_peer(struct pxd_reqctx *rc)
{
	const struct pxd_conf *conf = rc->ing->d->conf;
	const struct sockaddr_storage *peer = pxd_ingest_peer(rc->ing, rc->conn);
	uint8_t addr[16];
	int family = pxd_client_addr(conf, peer, NULL, 0, addr);

	if (family == AF_UNSPEC ||
	    pxd_cidr_match(conf->trusted_proxies, conf->ntrusted_proxies, family, addr))
		return;
	pxd_xdp_ctl_block_addr(rc->ing->d->xdp, (const struct sockaddr *)peer,
			       conf->xdp.bot_block_ttl_s);
}

/*
 * A 32-bit hash of a user agent, eight bytes a step. Only the verdict for
 * the connection's previous agent hangs on it: a client whose new agent
 * collided with its old one could as well have kept the old one.
 */
static uint32_t ua_hash(struct pxd_sv ua)
{
	uint64_t h = 0x9e3779b97f4a7c15u ^ ua.n;
	uint64_t w;
	size_t i = 0;

	for (; i + 8 <= ua.n; i += 8) {
		memcpy(&w, ua.p + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdu;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, ua.p + i, ua.n - i);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
	return (uint32_t)(h ^ h >> 29);
}

bool pxd_intake_is_bot(struct pxd_reqctx *rc)
{
	struct pxd_ingest *ing = rc->ing;
	struct pxd_conn *c = rc->conn;
	enum pxd_bot_ua_class cls;
	uint32_t h;

	if (!ing->d->bot_ua)
		return false;
	/* A keep-alive connection sends the same agent every time: a human
	 * verdict is kept for it, the Hyperscan scan run once. Bots' are not,
	 * so each of their requests is counted and blocked as before. */
	h = ua_hash(rc->req->user_agent);
	if ((c->flags & PXD_CONN_UA_HUMAN) && c->ua_hash == h)
		return false;
	cls = pxd_bot_ua_classify(ing->d->bot_ua, ing->ua_scratch, rc->req->user_agent.p,
				  rc->req->user_agent.n);
	c->flags &= ~PXD_CONN_UA_HUMAN;
	if (cls == PXD_BOT_UA_CLASS_HUMAN) {
		c->flags |= PXD_CONN_UA_HUMAN;
		c->ua_hash = h;
		return false;
	}
	pxd_stat_add(&ing->m->events_rejected[cls == PXD_BOT_UA_CLASS_BOT ? PXD_REFUSAL_BOT
									  : PXD_REFUSAL_GOOD_BOT],
		     1);
	if (cls == PXD_BOT_UA_CLASS_BOT && ing->d->conf->xdp.bot_block == PXD_BOT_BLOCK_UA_IP)
		block_bot_peer(rc);
	return true;
}

enum pxd_refusal pxd_intake_prepare(struct pxd_reqctx *rc, struct pxd_event *ev,
				    enum pxd_event_source source, char *detail, size_t dlen)
{
	enum pxd_refusal r = pxd_intake_journal_room(rc, 0);

	if (r != PXD_REFUSAL_NONE)
		return r;
	return pxd_intake_fill(rc, ev, source, detail, dlen);
}

enum pxd_refusal pxd_intake_fill(struct pxd_reqctx *rc, struct pxd_event *ev,
				 enum pxd_event_source source, char *detail, size_t dlen)
{
	struct pxd_ingest *ing = rc->ing;
	const struct pxd_conf *conf = ing->d->conf;

	if (!rc->ip_len)
		rc->ip_len = pxd_client_ip(conf, pxd_ingest_peer(ing, rc->conn), rc->req->headers,
					   rc->req->nheaders, rc->ip);
	ev->received_at = ing->now_ms;
	ev->source = source;
	ev->ip = pxd_sv_make(rc->ip, rc->ip_len);
	ev->user_agent = rc->req->user_agent;
	ev->tenant = pxd_sv_cstr(rc->tenant ? rc->tenant->name : conf->tenant);
	if (rc->tenant)
		pxd_tenant_event_privacy(rc, ev);
	else if (!ev->fp_id.n)
		ev->fp_id = rc->fp_id;
	ev->host = rc->req->host;
	ev->https = rc->conn->flags & PXD_CONN_TLS;
	return pxd_event_check(ev, ing->now_ms, detail, dlen);
}

unsigned pxd_intake_shard(struct pxd_reqctx *rc, const struct pxd_event *ev)
{
	struct pxd_sv key = ev->user[PXD_USER_FIELD_ID];

	/* One user's events keep their order: key them by the most stable id
	 * the event has, down to the client address. */
	if (!key.n)
		key = ev->user[PXD_USER_FIELD_ANON_ID];
	if (!key.n)
		key = ev->fp_id;
	if (!key.n)
		key = ev->ip;
	return pxd_handoff_shard(rc->ing->d->handoff, ev->tenant, key);
}

/*
 * The ring is an optimisation, the journal the record: an event is accepted
 * once it is appended. While the shard reads this stream back from the
 * journal (overflow), records are not pushed; when the shard has caught up
 * it asks for a resume, and the first record pushed again marks where it
 * switches from the journal to the ring.
 */
static void hand_off(struct pxd_ingest *ing, struct pxd_jstream *js, unsigned shard,
		     struct pxd_evrec *rec)
{
	if (__atomic_load_n(&js->overflow, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&js->resume_req, __ATOMIC_ACQUIRE) &&
		    pxd_handoff_push_spsc(ing->d->handoff, ing->id, shard, rec)) {
			__atomic_store_n(&js->resume_at, rec->start, __ATOMIC_RELEASE);
			__atomic_store_n(&js->resume_req, 0, __ATOMIC_RELEASE);
			__atomic_store_n(&js->overflow, 0, __ATOMIC_RELEASE);
			return;
		}
		free(rec);
		pxd_stat_add(&ing->m->ring_full, 1);
		return;
	}
	if (!pxd_handoff_push_spsc(ing->d->handoff, ing->id, shard, rec)) {
		__atomic_store_n(&js->overflow, 1, __ATOMIC_RELEASE);
		free(rec);
		pxd_stat_add(&ing->m->ring_full, 1);
	}
}

/*
 * Room asked of the journal for a line before it is serialized: a pixel's
 * or a beacon's event fits (the buffer's free room is offered when larger);
 * a longer one is serialized again into room for PXD_EVENT_LINE_MAX.
 */
#define LINE_GUESS 4096u

/* Serializes <ev> into room for <want> bytes or more at the end of <js>'s
 * buffer (*p); -ENOBUFS when the journal has no room (*p NULL). */
static ssize_t serialize_into(struct pxd_ingest *ing, struct pxd_jstream *js, struct pxd_event *ev,
			      uint32_t want, char **p)
{
	uint32_t cap;
	int err;

	*p = pxd_journal_reserve(js, &ing->conns.pool, want, &cap, &err);
	if (!*p)
		return -ENOBUFS;
	return pxd_event_serialize(ev, ing->now_ms, &ing->uuid, *p, cap);
}

/* Serializes <ev> straight into <shard>'s journal buffer and appends it
 * there; the record handed off is a copy of those bytes, not handed off yet. */
static enum pxd_refusal stage(struct pxd_reqctx *rc, struct pxd_event *ev, unsigned shard,
			      struct pxd_evrec **out)
{
	struct pxd_ingest *ing = rc->ing;
	struct pxd_jstream *js = &ing->streams[shard];
	struct pxd_evrec *rec;
	char *p;
	ssize_t len = serialize_into(ing, js, ev, LINE_GUESS, &p);

	if (len == -ENOSPC)
		len = serialize_into(ing, js, ev, PXD_EVENT_LINE_MAX, &p);
	if (!p)
		return PXD_REFUSAL_JOURNAL_FULL;
	if (len < 0)
		return PXD_REFUSAL_BAD_EVENT;
	p[len] = '\n'; /* where the serializer put its NUL */
	rec = pxd_evrec_new(p, (size_t)len, ev->received_at);
	if (!rec)
		return PXD_REFUSAL_INTERNAL;
	if (pxd_journal_commit(js, &ing->conns.pool, (uint32_t)len + 1, rec->received_ms,
			       ing->d->conf->segment_bytes, &rec->start, &rec->end)) {
		free(rec);
		return PXD_REFUSAL_JOURNAL_FULL;
	}
	*out = rec;
	return PXD_REFUSAL_NONE;
}

static void publish(struct pxd_reqctx *rc, unsigned shard, struct pxd_evrec *rec)
{
	struct pxd_ingest *ing = rc->ing;

	ing->journal_appended += rec->end - rec->start;
	rc->journaled = true;
	hand_off(ing, &ing->streams[shard], shard, rec);
	pxd_stat_add(&ing->m->events_accepted[rc->ep], 1);
	if (rc->tenant) {
		unsigned t = pxd_tenant_index(&rc->conf->tenants, rc->tenant);

		pxd_stat_add(&ing->m->tenant_accepted[t], 1);
		pxd_stat_add(&ing->m->tenant_bytes[t], rec->len);
	}
}

enum pxd_refusal pxd_intake_commit(struct pxd_reqctx *rc, struct pxd_event *ev, unsigned shard)
{
	struct pxd_evrec *rec;
	enum pxd_refusal r = stage(rc, ev, shard, &rec);

	if (r == PXD_REFUSAL_NONE)
		publish(rc, shard, rec);
	return r;
}

void pxd_intake_batch_begin(struct pxd_reqctx *rc, struct pxd_intake_batch *b)
{
	struct pxd_ingest *ing = rc->ing;

	b->n = 0;
	for (unsigned s = 0; s < ing->nstreams && s < PXD_INTAKE_MAX_SHARDS; s++)
		pxd_journal_mark(&ing->streams[s], &b->marks[s]);
}

enum pxd_refusal pxd_intake_batch_add(struct pxd_reqctx *rc, struct pxd_intake_batch *b,
				      struct pxd_event *ev, unsigned shard)
{
	enum pxd_refusal r;

	if (b->n == PXD_EVENT_JSON_MAX_BATCH)
		return PXD_REFUSAL_INTERNAL;
	r = stage(rc, ev, shard, &b->recs[b->n]);
	if (r == PXD_REFUSAL_NONE)
		b->shards[b->n++] = shard;
	return r;
}

void pxd_intake_batch_publish(struct pxd_reqctx *rc, struct pxd_intake_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		publish(rc, b->shards[i], b->recs[i]);
	b->n = 0;
}

void pxd_intake_batch_abort(struct pxd_reqctx *rc, struct pxd_intake_batch *b)
{
	struct pxd_ingest *ing = rc->ing;

	for (unsigned s = 0; s < ing->nstreams && s < PXD_INTAKE_MAX_SHARDS; s++)
		pxd_journal_rewind(&ing->streams[s], &b->marks[s]);
	for (size_t i = 0; i < b->n; i++)
		free(b->recs[i]);
	b->n = 0;
}
