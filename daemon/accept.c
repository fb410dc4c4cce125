// SPDX-License-Identifier: MIT
#include "accept.h"

#include <stdlib.h>
#include <string.h>

#include "client_ip.h"
#include "handoff.h"
#include "log.h"

enum pxd_refusal pxd_accept_prepare(struct pxd_reqctx *rc, struct pxd_event *ev,
				    enum pxd_event_source source, char *detail, size_t dlen)
{
	struct pxd_ingest *ing = rc->ing;
	const struct pxd_conf *conf = ing->d->conf;

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

bool pxd_accept_room(struct pxd_reqctx *rc, unsigned shard, unsigned n)
{
	return pxd_handoff_room_spsc(rc->ing->d->handoff, rc->ing->id, shard) >= n;
}

enum pxd_refusal pxd_accept_commit(struct pxd_reqctx *rc, struct pxd_event *ev, unsigned shard)
{
	struct pxd_ingest *ing = rc->ing;
	struct pxd_evrec *rec;
	ssize_t len;

	len = pxd_event_serialize(ev, ing->now_ms, &ing->uuid, ing->line_scratch,
				  PXD_EVENT_LINE_MAX);
	if (len < 0)
		return PXD_REFUSAL_BAD_EVENT;
	rec = pxd_evrec_new(ing->line_scratch, (size_t)len, ev->received_at);
	if (!rec)
		return PXD_REFUSAL_INTERNAL;
	if (!pxd_handoff_push_spsc(ing->d->handoff, ing->id, shard, rec)) {
		free(rec);
		pxd_stat_add(&ing->m->ring_full, 1);
		return PXD_REFUSAL_OVERLOADED;
	}
	pxd_stat_add(&ing->m->events_accepted[rc->ep], 1);
	return PXD_REFUSAL_NONE;
}
