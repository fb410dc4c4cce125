// SPDX-License-Identifier: MIT
#include "refusal.h"

#include "compiler.h"

static const struct pxd_refusal_info table[PXD_REFUSAL_COUNT] = {
	[PXD_REFUSAL_NONE] = { 200, 0, "ok", "" },
	[PXD_REFUSAL_BAD_REQUEST_LINE] = { 400, 0, "bad_request_line",
					   "send 'METHOD /path HTTP/1.1' ended by CRLF" },
	[PXD_REFUSAL_BAD_METHOD] = { 400, 0, "bad_method", "the method must be an RFC 9110 token" },
	[PXD_REFUSAL_BAD_VERSION] = { 400, 0, "bad_version", "use HTTP/1.1 or HTTP/1.0" },
	[PXD_REFUSAL_BAD_TARGET] = { 400, 0, "bad_target",
				     "the request target must be an origin-form path" },
	[PXD_REFUSAL_BAD_HEADER] = { 400, 0, "bad_header",
				     "header fields are 'name: value' with visible ASCII only" },
	[PXD_REFUSAL_OBS_FOLD] = { 400, 0, "obs_fold", "do not fold header lines (RFC 9112 5.2)" },
	[PXD_REFUSAL_MISSING_HOST] = { 400, 0, "missing_host",
				       "HTTP/1.1 requests need exactly one Host header" },
	[PXD_REFUSAL_CL_AND_TE] = { 400, 0, "cl_and_te",
				    "send Content-Length or Transfer-Encoding, not both" },
	[PXD_REFUSAL_BAD_CONTENT_LENGTH] = { 400, 0, "bad_content_length",
					     "Content-Length must be one decimal number" },
	[PXD_REFUSAL_BAD_CHUNK] = { 400, 0, "bad_chunk", "malformed chunked body" },
	[PXD_REFUSAL_UNSUPPORTED_TE] = { 501, 0, "unsupported_transfer_encoding",
					 "only Transfer-Encoding: chunked is supported" },
	[PXD_REFUSAL_URI_TOO_LONG] = { 414, 0, "uri_too_long",
				       "keep the request target under 8 KiB" },
	[PXD_REFUSAL_HEADERS_TOO_LARGE] = { 431, 0, "headers_too_large",
					    "keep the header block under 16 KiB" },
	[PXD_REFUSAL_TOO_MANY_HEADERS] = { 431, 0, "too_many_headers",
					   "send at most 64 header fields" },
	[PXD_REFUSAL_BODY_TOO_LARGE] = { 413, 0, "body_too_large", "keep the body under 64 KiB" },
	[PXD_REFUSAL_LENGTH_REQUIRED] = { 411, 0, "length_required",
					  "send Content-Length or chunked Transfer-Encoding" },
	[PXD_REFUSAL_REQUEST_TIMEOUT] = { 408, 0, "request_timeout",
					  "send the whole request within server.request_timeout" },
	[PXD_REFUSAL_PLAIN_HTTP] = { 400, 0, "plain_http_to_https_port",
				     "this port speaks HTTPS: use https:// for it" },
	[PXD_REFUSAL_NOT_FOUND] = { 404, 0, "not_found", "see README.md for the endpoints" },
	[PXD_REFUSAL_UNKNOWN_HOST] = { 404, 0, "unknown_host",
				       "this Host is not served here (server.hosts or a "
				       "tenant's hosts)" },
	[PXD_REFUSAL_TENANT_PAUSED] = { 402, 0, "tenant_paused",
					"this site's collection is paused; ask its operator" },
	[PXD_REFUSAL_METHOD_NOT_ALLOWED] = { 405, 0, "method_not_allowed",
					     "see the Allow header for the methods here" },
	[PXD_REFUSAL_ORIGIN_NOT_ALLOWED] = { 403, 0, "origin_not_allowed",
					     "add the Origin to server.cors_origins" },
	[PXD_REFUSAL_UNAUTHORIZED] = { 401, 0, "unauthorized",
				       "send 'Authorization: Bearer <admin key>'" },
	[PXD_REFUSAL_BAD_CONTENT_TYPE] = { 415, 0, "bad_content_type",
					   "send text/plain or application/json" },
	[PXD_REFUSAL_BAD_JSON] = { 400, 0, "bad_json", "the body is not valid JSON" },
	[PXD_REFUSAL_BAD_EVENT] = { 400, 0, "bad_event", "see the detail for the field" },
	[PXD_REFUSAL_BATCH_TOO_LARGE] = { 413, 0, "batch_too_large",
					  "send at most 500 events per batch" },
	[PXD_REFUSAL_BAD_ENCODING] = { 415, 0, "bad_content_encoding",
				       "send Content-Encoding: gzip, identity or none" },
	[PXD_REFUSAL_BAD_GZIP] = { 400, 0, "bad_gzip",
				   "the body is not valid gzip; compress it whole, or send it "
				   "plain" },
	[PXD_REFUSAL_DECODED_TOO_LARGE] = { 413, 0, "decoded_too_large",
					    "the decompressed body is over the limit; send less "
					    "per request" },
	[PXD_REFUSAL_MESSAGE_TOO_LARGE] = { 400, 0, "message_too_large",
					    "keep each message under 32 KB" },
	[PXD_REFUSAL_BAD_KEY] = { 401, 0, "bad_key",
				  "send a configured key: Authorization: Bearer <secret key> "
				  "for /s2s/, the write key as Basic auth or writeKey for /v1/" },
	[PXD_REFUSAL_API_OFF] = { 404, 0, "api_not_configured",
				  "this API has no key configured; set write_keys (/v1/) or "
				  "secret_keys (/s2s/) in [server], or in each [tenant]" },
	[PXD_REFUSAL_RATE_LIMITED] = { 429, 1, "rate_limited",
				       "this key sends faster than its key_rate; retry after "
				       "Retry-After" },
	[PXD_REFUSAL_OVERLOADED] = { 503, 1, "overloaded", "retry after the Retry-After delay" },
	[PXD_REFUSAL_JOURNAL_FULL] = { 503, 5, "journal_full",
				       "the collector's disk quota is full; retry later" },
	[PXD_REFUSAL_REPLICAS_UNREACHABLE] = { 503, 5, "replicas_unreachable",
					       "journal.ack = replicated and NATS JetStream "
					       "is unreachable; retry later" },
	[PXD_REFUSAL_INTERNAL] = { 500, 0, "internal", "see the collector's log" },
	[PXD_REFUSAL_BOT] = { 204, 0, "bot", "a bot user agent: not a conversion" },
	[PXD_REFUSAL_GOOD_BOT] = { 204, 0, "good_bot",
				   "a known crawler: it sees pages, its events are not "
				   "conversions" },
	[PXD_REFUSAL_DUPLICATE] = { 200, 0, "duplicate",
				    "this event_id was accepted within s2s.dedup_window; it is "
				    "not journaled again" },
};

const struct pxd_refusal_info *pxd_refusal_info(enum pxd_refusal r)
{
	if ((unsigned)r >= ARRAY_SIZE(table) || !table[r].code)
		return &table[PXD_REFUSAL_INTERNAL];
	return &table[r];
}
