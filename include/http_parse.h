/* SPDX-License-Identifier: MIT */
/*
 * http_parse.h - strict HTTP/1.1 request parser (RFC 9112) written for the
 * ingest path: zero-copy views into the caller's buffer, limits enforced
 * while bytes arrive, and every construct that enables request smuggling
 * refused. Owns no memory and no state between calls: any thread.
 */
#ifndef PXD_HTTP_PARSE_H
#define PXD_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "refusal.h"
#include "strview.h"

#define PXD_HTTP_MAX_URI 8192		    /* request target; longer: 414 */
#define PXD_HTTP_MAX_HEAD 16384		    /* request line + header block; larger: 431 */
#define PXD_HTTP_MAX_BODY 65536		    /* decoded body on the public listener; larger: 413 */
#define PXD_HTTP_MAX_BODY_LIMIT (64u << 20) /* the largest body limit a caller may set */
#define PXD_HTTP_MAX_HEADERS 64		    /* header fields; more: 431 */

enum pxd_http_method {
	PXD_HTTP_OTHER = 0, /* a valid token we do not serve: the router answers 405 */
	PXD_HTTP_GET,
	PXD_HTTP_HEAD,
	PXD_HTTP_POST,
	PXD_HTTP_OPTIONS,
	PXD_HTTP_PUT,
	PXD_HTTP_DELETE,
	PXD_HTTP_METHOD_COUNT, /* number of methods; keep last */
};

struct pxd_http_header {
	struct pxd_sv name;
	struct pxd_sv value; /* leading and trailing OWS removed */
};

/*
 * One parsed request. Every view points into the buffer given to
 * pxd_http_parse_request(), except <body> of a chunked request, which points
 * into the caller's <body_scratch>. Meaningful only after a call that
 * returned > 0. A named header view that is absent has p == NULL; an empty
 * value has p != NULL and n == 0; when a header repeats, the view is the
 * first one (all of them are in headers[]).
 */
struct pxd_http_req {
	enum pxd_http_method method;
	struct pxd_sv method_name;
	struct pxd_sv target; /* as sent: path plus optional "?query" */
	struct pxd_sv path;   /* target up to '?' (not percent-decoded) */
	struct pxd_sv query;  /* after '?', without it; empty when absent */
	int minor_version;    /* 1 for HTTP/1.1, 0 for HTTP/1.0 */

	struct pxd_http_header headers[PXD_HTTP_MAX_HEADERS];
	size_t nheaders;

	/* Headers the daemon looks at, found during the same pass. */
	struct pxd_sv host;
	struct pxd_sv content_type;
	struct pxd_sv origin;
	struct pxd_sv user_agent;
	struct pxd_sv referer;
	struct pxd_sv cookie;
	struct pxd_sv authorization;
	struct pxd_sv access_control_request_method;
	struct pxd_sv access_control_request_headers;

	bool keep_alive; /* after Connection: and version defaults */
	bool chunked;
	bool has_content_length;
	size_t content_length;

	size_t head_len; /* bytes of request line + headers + the empty line */
	struct pxd_sv body;
};

/*
 * Parses one request from <buf, len>.
 *
 * Returns the number of bytes the whole request (head and body) occupies in
 * <buf> (> 0) when it is complete, -EAGAIN when more bytes are needed, or
 * -EPROTO when the request is refused; <*refusal> then says why (400, 411,
 * 413, 414, 431, 501 rows of refusal.h). Limits are checked on partial input
 * too, so a too-long request line or header block is refused as soon as the
 * limit is passed, not when it finally ends.
 *
 * <scratch_cap> is the body limit (413 above it): the public listener passes
 * PXD_HTTP_MAX_BODY, the admin listener a larger one for bulk minting.
 * Chunked bodies are decoded into <body_scratch> (<scratch_cap> bytes; NULL,
 * 0 or more than PXD_HTTP_MAX_BODY_LIMIT is -EINVAL whatever the input);
 * Content-Length bodies are viewed in place.
 * Refused: Content-Length together with Transfer-Encoding, differing repeated
 * Content-Length values, any Transfer-Encoding other than exactly "chunked",
 * obs-fold, whitespace before the colon, control characters in values, a
 * missing or repeated Host on HTTP/1.1 (repeated on HTTP/1.0), a POST or PUT
 * without a length (411). HTTP/1.0 and HTTP/1.1 only.
 * Choices where RFC 9112 leaves one: repeated Content-Length values, as more
 * fields or as a list ("5, 5"), are accepted when all are the same number;
 * Transfer-Encoding on HTTP/1.0 is 501 (UNSUPPORTED_TE); up to 4 empty lines
 * before the request line are skipped and counted in the return value, not
 * in <head_len>; chunk extensions are checked against the grammar and
 * ignored; trailer fields are checked like header fields (same refusals, at
 * most PXD_HTTP_MAX_HEADERS) and dropped; the chunked framing (size lines,
 * extensions, CRLFs, trailers) may add at most PXD_HTTP_MAX_HEAD bytes to the
 * data, more is 413 (BODY_TOO_LARGE).
 * Pure: no state between calls, never reads past <buf + len>, so the caller
 * re-runs it from the start when more bytes arrive; a prefix of a request
 * yields -EAGAIN or the refusal the whole request yields. Any thread.
 */
ssize_t pxd_http_parse_request(const char *buf, size_t len, struct pxd_http_req *req,
			       char *body_scratch, size_t scratch_cap, enum pxd_refusal *refusal);

/* Returns the first header named <name> (case-insensitive), or NULL. */
const struct pxd_http_header *pxd_http_find_header(const struct pxd_http_req *req,
						   const char *name);

#endif
