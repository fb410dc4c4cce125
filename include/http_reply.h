/* SPDX-License-Identifier: MIT */
/*
 * http_reply.h - the answers: composed from static pieces (status line, the
 * cached Date header, fixed headers, the 43-byte GIF) into the connection's
 * output buffer, honouring HEAD, keep-alive and CORS. Also the request
 * context endpoints get. Ingest thread only.
 */
#ifndef PXD_HTTP_REPLY_H
#define PXD_HTTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "conn.h"
#include "http_parse.h"
#include "ingest.h"
#include "metrics.h"
#include "refusal.h"
#include "strview.h"

/* Meta's _fbp and _fbc as one request keeps them alive (daemon/tenant/tenant_restore.c). */
struct pxd_ad_cookies {
	bool decided;	   /* the first event that may carry them has been looked at */
	struct pxd_sv fbp; /* the values the events carry, when any */
	struct pxd_sv fbc;
	char fbp_buf[48];  /* a new _fbp: fb.1.<ms>.<random> */
	char fbc_buf[288]; /* a new _fbc: fb.1.<ms>.<fbclid> */
	char lines[1024];  /* their "Set-Cookie: ...\r\n" lines, or "" */
	unsigned restored; /* written new by pixeld */
	unsigned extended; /* the browser's own, sent back with a longer Max-Age */
};

/* One request being answered. */
struct pxd_reqctx {
	struct pxd_ingest *ing;
	struct pxd_conn *conn;
	const struct pxd_http_req *req;
	/* The configuration generation this request is served under (tenants,
	 * keys, hosts, CORS): set by pxd_router_dispatch() for its duration. */
	const struct pxd_conf *conf;
	enum pxd_endpoint ep;
	bool head;			      /* HEAD: headers only */
	bool close;			      /* the connection closes after this answer */
	struct pxd_sv cors_origin;	      /* echoed in Access-Control-Allow-Origin when set */
	bool cors_credentials;		      /* the origin was listed: Allow-Credentials too */
	const struct pxd_conf_tenant *tenant; /* picked by Host; NULL without [tenant] */
	struct pxd_sv fp_id;		      /* the first-party id cookie's id, when any */
	char fp_buf[33];		      /* a new id's hex */
	char set_cookie[512];		      /* "Set-Cookie: ...\r\n" to send, or "" */
	bool cookie_new;		      /* set_cookie carries a new id (else a renewed one) */
	struct pxd_ad_cookies ad_cookies;     /* tenant restore_cookies */
	bool anonymous;	   /* tenant anonymous or X-Pixeld-Anonymous: 1: no cookie, IP, fp_id */
	bool gpc;	   /* Sec-GPC: 1 or DNT: 1 under a tenant's honor_gpc */
	const char *allow; /* methods of the matched path, for 405 */
	unsigned status;   /* set by the reply functions */
	bool journaled;	   /* an event of this request went to the journal */
	bool deferred;	   /* answered later, after the main thread's job (admin_job.h) */
	size_t ip_len;	   /* client address, filled on first use */
	char ip[46];
};

/* The 43-byte transparent GIF every pixel answers with. */
extern const unsigned char pxd_gif[43];

/* 200 with the GIF; <cache_control> is the whole header value. */
void pxd_reply_gif(struct pxd_reqctx *rc, const char *cache_control);

/* A status with no body (204, or 200 for HEAD-like answers). */
void pxd_reply_empty(struct pxd_reqctx *rc, unsigned status);

/* A body with <content_type>; <extra_headers> is NULL or CRLF-terminated lines. */
void pxd_reply_body(struct pxd_reqctx *rc, unsigned status, const char *content_type,
		    const char *body, size_t len, const char *extra_headers);

/* The table answer for <r>: JSON {"error","detail"}, Retry-After when the
 * table says so, Allow for 405; <detail> overrides the table's detail. */
void pxd_reply_refusal(struct pxd_reqctx *rc, enum pxd_refusal r, const char *detail);

/* 204 answer to a CORS preflight that was allowed. */
void pxd_reply_preflight(struct pxd_reqctx *rc);

/* Refreshes the thread's cached Date header when the second changed. */
void pxd_reply_update_date(struct pxd_ingest *ing);

#endif
