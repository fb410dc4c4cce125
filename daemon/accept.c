// SPDX-License-Identifier: MIT
#include "accept.h"

#include <stdlib.h>
#include <string.h>

#include "bot_ua.h"
#include "client_ip.h"
#include "handoff.h"
#include "log.h"
#include "xdp_ctl.h"

enum pxd_refusal pxd_accept_journal_ok(struct pxd_reqctx *rc)
{
	struct pxd_ingest *ing = rc->ing;
	uint64_t deleted = 0;

	for (unsigned s = 0; s < ing->nstreams; s++) {
		if (__atomic_load_n(&ing->streams[s].error, __ATOMIC_RELAXED))
			return PXD_REFUSAL_JOURNAL_FULL;
		deleted += __atomic_load_n(&ing->streams[s].deleted_bytes, __ATOMIC_RELAXED);
	}
	if (ing->journal_base + ing->journal_appended -
		PXD_MIN(deleted, ing->journal_base + ing->journal_appended) >=
	    ing->journal_quota)
		return PXD_REFUSAL_JOURNAL_FULL;
	return PXD_REFUSAL_NONE;
}

/* XDP sees only the TCP peer: never block one of server.trusted_proxies. */
static void block_bot_peer(struct pxd_reqctx *rc)
{
	const struct pxd_conf *conf = rc->ing->d->conf;
	const struct sockaddr_storage *peer = pxd_ingest_peer(rc->ing, rc->conn);
	uint8_t addr[16];
	int family = pxd_client_addr(conf, peer, PXD_SV_NULL, addr);

	if (family == AF_UNSPEC ||
	    pxd_cidr_match(conf->trusted_proxies, conf->ntrusted_proxies, family, addr))
		return;
	pxd_xdp_ctl_block_addr(rc->ing->d->xdp, (const struct sockaddr *)peer,
			       conf->xdp.bot_block_ttl_s);
}

bool pxd_accept_is_bot(struct pxd_reqctx *rc)
{
	struct pxd_ingest *ing = rc->ing;
	enum pxd_bot_ua_class cls;

	if (!ing->d->bot_ua)
		return false;
	cls = pxd_bot_ua_classify(ing->d->bot_ua, ing->ua_scratch, rc->req->user_agent.p,
				  rc->req->user_agent.n);
	if (cls == PXD_BOT_UA_CLASS_HUMAN)
		return false;
	pxd_stat_add(&ing->m->events_rejected[cls == PXD_BOT_UA_CLASS_BOT ? PXD_REFUSAL_BOT
									  : PXD_REFUSAL_GOOD_BOT],
		     1);
	if (cls == PXD_BOT_UA_CLASS_BOT && ing->d->conf->xdp.bot_block == PXD_BOT_BLOCK_UA_IP)
		block_bot_peer(rc);
	return true;
}

enum pxd_refusal pxd_accept_prepare(struct pxd_reqctx *rc, struct pxd_event *ev,
				    enum pxd_event_source source, char *detail, size_t dlen)
{
	struct pxd_ingest *ing = rc->ing;
	const struct pxd_conf *conf = ing->d->conf;
	enum pxd_refusal r = pxd_accept_journal_ok(rc);

	if (r != PXD_REFUSAL_NONE)
		return r;
	if (!rc->ip_len)
		rc->ip_len = pxd_client_ip(conf, pxd_ingest_peer(ing, rc->conn),
					   rc->req->x_forwarded_for, rc->ip);
	ev->received_at = ing->now_ms;
	ev->source = source;
	ev->ip = pxd_sv_make(rc->ip, rc->ip_len);
	ev->user_agent = rc->req->user_agent;
	ev->tenant = pxd_sv_cstr(conf->tenant);
	ev->host = rc->req->host;
	return pxd_event_check(ev, ing->now_ms, detail, dlen);
}

unsigned pxd_accept_shard(struct pxd_reqctx *rc, const struct pxd_event *ev)
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

enum pxd_refusal pxd_accept_commit(struct pxd_reqctx *rc, struct pxd_event *ev, unsigned shard)
{
	struct pxd_ingest *ing = rc->ing;
	struct pxd_jstream *js = &ing->streams[shard];
	struct pxd_evrec *rec;
	uint64_t start, end;
	ssize_t len;

	len =
	    pxd_event_serialize(ev, ing->now_ms, &ing->uuid, ing->line_scratch, PXD_EVENT_LINE_MAX);
	if (len < 0)
		return PXD_REFUSAL_BAD_EVENT;
	rec = pxd_evrec_new(ing->line_scratch, (size_t)len, ev->received_at);
	if (!rec)
		return PXD_REFUSAL_INTERNAL;
	if (pxd_journal_append(js, &ing->conns.pool, rec->line, rec->len + 1, rec->received_ms,
			       ing->d->conf->segment_bytes, &start, &end)) {
		free(rec);
		return PXD_REFUSAL_JOURNAL_FULL;
	}
	ing->journal_appended += end - start;
	rec->start = start;
	rec->end = end;
	rc->journaled = true;
	hand_off(ing, js, shard, rec);
	pxd_stat_add(&ing->m->events_accepted[rc->ep], 1);
	return PXD_REFUSAL_NONE;
}
