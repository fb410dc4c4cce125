/* SPDX-License-Identifier: MIT */
/*
 * api_intake.h - what POST /s2s/events and the Segment-compatible /v1/
 * share between the key check and the answer: the body (Content-Encoding:
 * gzip inflated within a limit), the key and its token bucket, and one
 * event at a time through check, event_id dedup and the journal. Unlike the
 * beacon each event stands alone: a bad one does not stop the others.
 * Ingest thread only; no allocation beyond the event record.
 */
#ifndef PXD_API_INTAKE_H
#define PXD_API_INTAKE_H

#include <stddef.h>

#include "api_state.h"
#include "event_json.h"
#include "http_reply.h"

enum pxd_api_status {
	PXD_API_ACCEPTED = 0, /* journaled */
	PXD_API_DUPLICATE,    /* its event_id was accepted within s2s.dedup_window */
	PXD_API_REFUSED,      /* the event breaks a rule: not retryable */
	PXD_API_UNAVAILABLE,  /* the journal cannot take it now: retry later */
	PXD_API_STATUS_COUNT, /* number of statuses; keep last */
};

/*
 * Resolves <key> of <kind> and takes a token from its bucket. Returns
 * PXD_REFUSAL_NONE with <out> filled, PXD_REFUSAL_API_OFF (no key of that
 * kind configured), PXD_REFUSAL_BAD_KEY (counted as such) or
 * PXD_REFUSAL_RATE_LIMITED.
 */
enum pxd_refusal pxd_api_authorize(struct pxd_reqctx *rc, enum pxd_api_kind kind, struct pxd_sv key,
				   struct pxd_api_key *out);

/*
 * The request body of <rc>, inflated into the thread's api_scratch when it
 * is Content-Encoding: gzip (whatever the Content-Type says), in <out>.
 * Returns PXD_REFUSAL_NONE, BAD_ENCODING (415), BAD_GZIP (400) or
 * DECODED_TOO_LARGE (413, inflating stopped at <limit> bytes), with
 * <detail> for the last two.
 */
enum pxd_refusal pxd_api_body(struct pxd_reqctx *rc, size_t limit, struct pxd_sv *out, char *detail,
			      size_t dlen);

/*
 * Takes event <i> of <ej> (parsed with server_fields) for <key>'s tenant
 * as coming from <source>: checks it, answers a repeated event_id as a
 * duplicate (counted), journals it and records its event_id. <ev> holds the
 * event afterwards (its event_id for the answer). Returns the status; for
 * REFUSED and UNAVAILABLE, <*r> and <detail> say why.
 */
enum pxd_api_status pxd_api_take(struct pxd_reqctx *rc, const struct pxd_event_json *ej, size_t i,
				 enum pxd_event_source source, const struct pxd_api_key *key,
				 struct pxd_event *ev, enum pxd_refusal *r, char *detail,
				 size_t dlen);

#endif
