/* SPDX-License-Identifier: MIT */
/*
 * refusal.h - every refusal a client can cause, as one table row: reason ->
 * HTTP status, error code, detail telling the client what to fix, whether a
 * Retry-After goes with it. Handlers and the HTTP parser return a reason and
 * never format their own 4xx/5xx. The table is constant: any thread.
 */
#ifndef PXD_REFUSAL_H
#define PXD_REFUSAL_H

#include <stdint.h>

enum pxd_refusal {
	PXD_REFUSAL_NONE = 0,
	/* HTTP framing (daemon/http/http_parse.c) */
	PXD_REFUSAL_BAD_REQUEST_LINE,
	PXD_REFUSAL_BAD_METHOD,
	PXD_REFUSAL_BAD_VERSION,
	PXD_REFUSAL_BAD_TARGET,
	PXD_REFUSAL_BAD_HEADER,
	PXD_REFUSAL_OBS_FOLD,
	PXD_REFUSAL_MISSING_HOST,
	PXD_REFUSAL_CL_AND_TE,
	PXD_REFUSAL_BAD_CONTENT_LENGTH,
	PXD_REFUSAL_BAD_CHUNK,
	PXD_REFUSAL_UNSUPPORTED_TE,
	PXD_REFUSAL_URI_TOO_LONG,
	PXD_REFUSAL_HEADERS_TOO_LARGE,
	PXD_REFUSAL_TOO_MANY_HEADERS,
	PXD_REFUSAL_BODY_TOO_LARGE,
	PXD_REFUSAL_LENGTH_REQUIRED,
	PXD_REFUSAL_REQUEST_TIMEOUT,
	PXD_REFUSAL_PLAIN_HTTP, /* plain HTTP sent to server.tls_listen */
	/* routing */
	PXD_REFUSAL_NOT_FOUND,
	PXD_REFUSAL_UNKNOWN_HOST,
	PXD_REFUSAL_TENANT_PAUSED,
	PXD_REFUSAL_METHOD_NOT_ALLOWED,
	PXD_REFUSAL_ORIGIN_NOT_ALLOWED,
	PXD_REFUSAL_UNAUTHORIZED,
	/* event content (daemon/event*.c) */
	PXD_REFUSAL_BAD_CONTENT_TYPE,
	PXD_REFUSAL_BAD_JSON,
	PXD_REFUSAL_BAD_EVENT,
	PXD_REFUSAL_BATCH_TOO_LARGE,
	/* keyed APIs: /s2s/events and the Segment-compatible /v1/ */
	PXD_REFUSAL_BAD_ENCODING,
	PXD_REFUSAL_BAD_GZIP,
	PXD_REFUSAL_DECODED_TOO_LARGE,
	PXD_REFUSAL_MESSAGE_TOO_LARGE,
	PXD_REFUSAL_BAD_KEY,
	PXD_REFUSAL_API_OFF,
	PXD_REFUSAL_RATE_LIMITED,
	/* capacity */
	PXD_REFUSAL_OVERLOADED,
	PXD_REFUSAL_JOURNAL_FULL,
	PXD_REFUSAL_REPLICAS_UNREACHABLE,
	PXD_REFUSAL_INTERNAL,
	/* not answered as errors, only counted: the client gets its usual answer */
	PXD_REFUSAL_BOT,
	PXD_REFUSAL_GOOD_BOT,
	PXD_REFUSAL_DUPLICATE, /* an event_id already accepted within s2s.dedup_window */
	PXD_REFUSAL_COUNT,     /* number of reasons; keep last */
};

struct pxd_refusal_info {
	uint16_t status;
	uint16_t retry_after_s; /* 0: no Retry-After header */
	const char *code;	/* short machine-readable code, also the metric label */
	const char *detail;	/* what the client should do */
};

/* Returns the table row for <r>; out-of-range values map to the INTERNAL row. */
const struct pxd_refusal_info *pxd_refusal_info(enum pxd_refusal r);

#endif
