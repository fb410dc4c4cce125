// SPDX-License-Identifier: MIT
/*
 * The keyed APIs' common steps: key and bucket, bounded gzip bodies, and
 * one event through check, dedup and journal. Ingest thread only.
 */
#include "daemon/endpoints/api_intake.h"

#include <errno.h>
#include <stdio.h>

#include "daemon/endpoints/intake.h"
#include "http_gunzip.h"
#include "router.h"

enum pxd_refusal pxd_api_authorize(struct pxd_reqctx *rc, enum pxd_api_kind kind, struct pxd_sv key,
				   struct pxd_api_key *out)
{
	struct pxd_daemon *d = rc->ing->d;
	int err = pxd_api_key_lookup(rc->conf, kind, key, out);

	if (err == -ENOENT)
		return PXD_REFUSAL_API_OFF;
	if (err)
		return PXD_REFUSAL_BAD_KEY;
	if (!pxd_api_rate_take(&d->api, kind, out, rc->ing->mono_ms))
		return PXD_REFUSAL_RATE_LIMITED;
	return PXD_REFUSAL_NONE;
}

enum pxd_refusal pxd_api_body(struct pxd_reqctx *rc, size_t limit, struct pxd_sv *out, char *detail,
			      size_t dlen)
{
	const struct pxd_http_header *ce = pxd_http_find_header(rc->req, "content-encoding");
	struct pxd_ingest *ing = rc->ing;
	bool gzip = false;
	size_t len = 0;
	int err;

	*out = rc->req->body;
	if (!pxd_gunzip_encoding(ce ? ce->value : PXD_SV_NULL, &gzip))
		return PXD_REFUSAL_BAD_ENCODING;
	if (!gzip) {
		if (out->n <= limit)
			return PXD_REFUSAL_NONE;
		snprintf(detail, dlen, "body: %zu bytes; send at most %zu per request", out->n,
			 limit);
		return PXD_REFUSAL_DECODED_TOO_LARGE;
	}
	/* One byte past the limit tells "exactly the limit" from "more". */
	err = pxd_gunzip_inflate(ing->gunzip, rc->req->body, ing->api_scratch,
				 PXD_MIN(limit + 1, (size_t)PXD_API_MAX_BODY + 1), &len);
	if (err == -EFBIG) {
		snprintf(detail, dlen,
			 "body: more than %zu bytes once decompressed; send less per request",
			 limit);
		return PXD_REFUSAL_DECODED_TOO_LARGE;
	}
	if (err) {
		snprintf(detail, dlen, "body: not valid gzip (corrupt or truncated)");
		return PXD_REFUSAL_BAD_GZIP;
	}
	*out = pxd_sv_make(ing->api_scratch, len);
	return PXD_REFUSAL_NONE;
}

static enum pxd_api_status failed(enum pxd_refusal got, enum pxd_refusal *r)
{
	*r = got;
	return got == PXD_REFUSAL_JOURNAL_FULL || got == PXD_REFUSAL_INTERNAL ? PXD_API_UNAVAILABLE
									      : PXD_API_REFUSED;
}

enum pxd_api_status pxd_api_take(struct pxd_reqctx *rc, const struct pxd_event_json *ej, size_t i,
				 enum pxd_event_source source, const struct pxd_api_key *key,
				 struct pxd_event *ev, enum pxd_refusal *r, char *detail,
				 size_t dlen)
{
	struct pxd_ingest *ing = rc->ing;
	struct pxd_first_open *dedup = ing->d->api.dedup;
	int64_t now_s = ing->now_ms / 1000;
	struct pxd_sv ip, ua;
	uint64_t dkey = 0;
	enum pxd_refusal got;

	got = pxd_event_json_get(ej, i, ing->now_ms, ev, ing->json_scratch, PXD_HTTP_MAX_BODY,
				 detail, dlen);
	if (got)
		return failed(got, r);
	/* What the server set wins over what the connection says. */
	ip = ev->ip;
	ua = ev->user_agent;
	got = pxd_intake_prepare(rc, ev, source, detail, dlen);
	if (got)
		return failed(got, r);
	if (ip.n)
		ev->ip = ip;
	if (ua.n)
		ev->user_agent = ua;
	ev->tenant = key->tenant;
	if (dedup && ev->event_id.n) {
		dkey = pxd_api_dedup_key(ev->tenant, source, ev->event_id);
		if (pxd_first_open_seen(dedup, dkey, now_s)) {
			pxd_stat_add(&ing->m->events_rejected[PXD_REFUSAL_DUPLICATE], 1);
			return PXD_API_DUPLICATE;
		}
	}
	got = pxd_intake_commit(rc, ev, pxd_intake_shard(rc, ev));
	if (got)
		return failed(got, r);
	/* Recorded once journaled, so a refused event may be sent again. */
	if (dkey)
		pxd_first_open_check(dedup, dkey, now_s, &ing->m->s2s_dedup);
	return PXD_API_ACCEPTED;
}
