/* SPDX-License-Identifier: MIT */
/*
 * request.h - pixelload's request generator: the kinds of request (pixel,
 * beacon, email open), the profiles and --mix weights turned into a pool of
 * prebuilt requests in exact shares, each with a placeholder where the
 * engine writes a unique event id. main builds the pool before the threads
 * start; afterwards it is read-only and shared by all of them.
 */
#ifndef PL_REQUEST_H
#define PL_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PL_ID_LEN 16	  /* hex digits patched into each request's event id */
#define PL_POOL_SIZE 4096 /* prebuilt requests, cycled: no formatting per request */

struct pl_opts;

enum pl_kind {
	PL_KIND_PIXEL = 0,   /* GET /p.gif?... -> 200 GIF */
	PL_KIND_PIXEL204,    /* GET /p?... -> 204 */
	PL_KIND_BEACON,	     /* POST /e, JSON event or batch -> 204 */
	PL_KIND_OPEN,	     /* GET /o/<signed token>.gif */
	PL_KIND_OPEN_FORGED, /* the same with a broken tag: a GIF, no event */
	PL_KIND_COUNT,	     /* number of kinds; keep last */
};
#define PL_MIX_KINDS PL_KIND_OPEN_FORGED /* kinds a --mix weight can name */

/* The kinds as --mix, --profile and the JSON result name them. */
extern const char *const pl_kind_name[PL_KIND_COUNT];

/*
 * One prebuilt request. Sending it takes up to four iovecs: the head (request
 * line and headers) cut around the PL_ID_LEN-byte event-id placeholder, and the
 * body, which may hold the placeholder instead. A batch body holds one
 * placeholder per event: it is copied into the connection's scratch and
 * patched there.
 */
struct pl_tmpl {
	char *head;
	char *body;
	uint32_t head_len, body_len;
	int32_t id_off; /* offset of the placeholder, -1 when the request has none */
	bool id_in_body;
	uint16_t nbatch_ids; /* placeholders in a batch body, at batch_ids[] */
	uint32_t *batch_ids;
	bool bot;
	uint8_t kind;
	uint16_t events; /* events a 2xx answer stands for */
};

struct pl_pool {
	struct pl_tmpl t[PL_POOL_SIZE];
	char run_id[9];
	size_t scratch_len; /* the longest batch body */
};

/**
 * Fills <pool> (zeroed by the caller) with PL_POOL_SIZE requests in the mix
 * of <o>: the kind, bot and forged shares are exact over the pool, then
 * shuffled. Returns 0, -ENOMEM, or the error of reading --open-urls (-errno
 * or -EINVAL, with a line on stderr saying which file and line). On error
 * the caller still frees <pool> with pl_pool_free().
 */
int pl_pool_build(struct pl_pool *pool, const struct pl_opts *o);

/** Frees what pl_pool_build() allocated in <pool>, not <pool> itself. */
void pl_pool_free(struct pl_pool *pool);

#endif
