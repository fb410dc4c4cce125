/* SPDX-License-Identifier: MIT */
/*
 * cookie.h - the first-party id cookie (_pxid): reading it from a Cookie
 * header, the registrable domain it is set for (libpsl's built-in Public
 * Suffix List; never a public suffix), and the Set-Cookie line. The value is
 * "<32 hex: 128 random bits>.<issued, Unix seconds>", so the refresh age is
 * known without server state. Also the generic Set-Cookie line the restored
 * platform cookies use (tenant_restore.c). Pure functions, any thread, no
 * allocation.
 */
#ifndef PXD_COOKIE_H
#define PXD_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strview.h"

#define PXD_COOKIE_ID_LEN 32
#define PXD_COOKIE_LINE_MAX 512

/* Returns the value of cookie <name> in Cookie header <header>, or PXD_SV_NULL. */
struct pxd_sv pxd_cookie_get(struct pxd_sv header, const char *name);

/*
 * Parses an id cookie value: the id (32 lowercase hex) into <id> (a view
 * into <v>) and its issue time into <issued_s>. False for anything else,
 * which is then replaced by a new id.
 */
bool pxd_cookie_id_parse(struct pxd_sv v, struct pxd_sv *id, uint64_t *issued_s);

/*
 * Writes the Domain for Host <host> (port dropped) into <out>: its
 * registrable domain ("a.b.shop.co.uk" -> "shop.co.uk"), or "" for a
 * host-only cookie: localhost, IP literals, names without a dot, and public
 * suffixes themselves.
 */
void pxd_cookie_domain(struct pxd_sv host, char *out, size_t cap);

/*
 * Writes "Set-Cookie: NAME=ID.ISSUED; Max-Age=..; Path=/; [Domain=..;]
 * [Secure; ]HttpOnly; SameSite=Lax\r\n" into <out>. Returns its length, or 0
 * when it does not fit.
 */
size_t pxd_cookie_line(char *out, size_t cap, const char *name, struct pxd_sv id, uint64_t issued_s,
		       uint64_t max_age_s, const char *domain, bool secure);

/* The attributes of one Set-Cookie line. */
struct pxd_cookie_attrs {
	uint64_t max_age_s;
	const char *domain; /* "": host-only */
	bool secure;
	bool http_only; /* off for cookies the platforms' own scripts read (_fbp, _fbc) */
};

/*
 * Writes "Set-Cookie: NAME=VALUE; Max-Age=..; Path=/; [Domain=..; ][Secure; ]
 * [HttpOnly; ]SameSite=Lax\r\n" into <out>. Returns its length, or 0 when it
 * does not fit. <value> must be cookie-octets already (RFC 6265 4.1.1).
 */
size_t pxd_cookie_line_value(char *out, size_t cap, const char *name, struct pxd_sv value,
			     const struct pxd_cookie_attrs *a);

#endif
