// SPDX-License-Identifier: MIT
/*
 * tenant_cookie.c - the first-party id of one request (tenant.h): read from
 * the tenant's id cookie, or a new random one, and the Set-Cookie line when
 * it is new or due for a longer Max-Age. Ingest threads; no allocation, no
 * syscall (OpenSSL's per-thread DRBG).
 */
#include "daemon/tenant/tenant.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "client_ip.h"
#include "daemon/tenant/cookie.h"
#include "ingest.h"

bool pxd_tenant_secure_request(struct pxd_reqctx *rc)
{
	const struct pxd_conf *conf = rc->ing->d->conf;
	const struct pxd_http_header *xfp;
	uint8_t addr[16];
	int family;

	if (rc->conn->flags & PXD_CONN_TLS)
		return true;
	family = pxd_client_addr(conf, pxd_ingest_peer(rc->ing, rc->conn), NULL, 0, addr);
	if (family == AF_UNSPEC ||
	    !pxd_cidr_match(conf->trusted_proxies, conf->ntrusted_proxies, family, addr))
		return false;
	xfp = pxd_http_find_header(rc->req, "x-forwarded-proto");
	return xfp && pxd_sv_ieq(xfp->value, "https");
}

static void new_id(struct pxd_reqctx *rc)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return; /* no id rather than a guessable one; the event goes on without */
	for (size_t i = 0; i < sizeof(b); i++) {
		rc->fp_buf[2 * i] = hex[b[i] >> 4];
		rc->fp_buf[2 * i + 1] = hex[b[i] & 15];
	}
	rc->fp_id = pxd_sv_make(rc->fp_buf, PXD_COOKIE_ID_LEN);
}

void pxd_tenant_cookie_domain(struct pxd_reqctx *rc, char *domain, size_t cap)
{
	const struct pxd_conf_tenant *t = rc->tenant;

	if (t->cookie_domain[0])
		snprintf(domain, cap, "%s", t->cookie_domain);
	else
		pxd_cookie_domain(rc->req->host, domain, cap);
}

void pxd_tenant_cookie(struct pxd_reqctx *rc)
{
	const struct pxd_conf_tenant *t = rc->tenant;
	uint64_t now_s = (uint64_t)rc->ing->now_ms / 1000;
	uint64_t issued = 0;
	char domain[PXD_CONF_TENANT_HOST_MAX];

	if (!t || !t->cookie_name[0] || rc->anonymous)
		return;
	if (pxd_cookie_id_parse(pxd_cookie_get(rc->req->cookie, t->cookie_name), &rc->fp_id,
				&issued)) {
		if (issued <= now_s && now_s - issued < t->cookie_refresh_s)
			return;
	} else {
		new_id(rc);
		if (!rc->fp_id.n)
			return;
		rc->cookie_new = true;
	}
	pxd_tenant_cookie_domain(rc, domain, sizeof(domain));
	pxd_cookie_line(rc->set_cookie, sizeof(rc->set_cookie), t->cookie_name, rc->fp_id, now_s,
			t->cookie_max_age_s, domain, pxd_tenant_secure_request(rc));
}
