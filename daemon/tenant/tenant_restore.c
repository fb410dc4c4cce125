// SPDX-License-Identifier: MIT
/*
 * tenant_restore.c - cookie restoration (tenant.h): a tenant's
 * restore_cookies keeps Meta's first-party cookies alive from the server.
 * _fbp (fb.1.<ms>.<random>) is written when a Meta-bound event has none and
 * the browser sent none; _fbc (fb.1.<ms>.<fbclid>) when the page URL carries
 * an fbclid the browser's _fbc does not; a cookie the browser already has is
 * sent back unchanged with a longer Max-Age. The events carry the values, so
 * Meta's adapter sends them as user_data.fbp/fbc. Ingest threads; no
 * allocation, no syscall (OpenSSL's per-thread DRBG).
 */
#include "daemon/tenant/tenant.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "daemon/tenant/cookie.h"

#define FBCLID_MAX 255 /* Meta's are about 60 bytes; longer is no click id */

static bool clid_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static bool is_clid(struct pxd_sv v)
{
	if (!v.n || v.n > FBCLID_MAX)
		return false;
	for (size_t i = 0; i < v.n; i++)
		if (!clid_char(v.p[i]))
			return false;
	return true;
}

/*
 * Returns the last part of a Meta cookie value "fb.<digit>.<ms>.<last>"
 * (the random number of _fbp, the fbclid of _fbc), or PXD_SV_NULL for
 * anything else, which is then not echoed back.
 */
static struct pxd_sv fb_tail(struct pxd_sv v)
{
	size_t i = 5;

	if (v.n < 8 || memcmp(v.p, "fb.", 3) != 0 || v.p[3] < '0' || v.p[3] > '9' || v.p[4] != '.')
		return PXD_SV_NULL;
	while (i < v.n && i < 5 + 16 && v.p[i] >= '0' && v.p[i] <= '9')
		i++;
	if (i == 5 || i >= v.n || v.p[i] != '.')
		return PXD_SV_NULL;
	v = pxd_sv_make(v.p + i + 1, v.n - i - 1);
	return is_clid(v) ? v : PXD_SV_NULL;
}

/* The fbclid query parameter of page URL <url>, or PXD_SV_NULL. */
static struct pxd_sv url_fbclid(struct pxd_sv url)
{
	const char *q = url.n ? memchr(url.p, '?', url.n) : NULL;
	const char *end = url.p + url.n;
	const char *hash = url.n ? memchr(url.p, '#', url.n) : NULL;

	if (hash)
		end = hash;
	while (q && q < end) {
		const char *k = q + 1;
		const char *amp = memchr(k, '&', (size_t)(end - k));
		const char *stop = amp ? amp : end;

		if ((size_t)(stop - k) > 7 && memcmp(k, "fbclid=", 7) == 0) {
			struct pxd_sv v = pxd_sv_make(k + 7, (size_t)(stop - k - 7));

			return is_clid(v) ? v : PXD_SV_NULL;
		}
		q = amp;
	}
	return PXD_SV_NULL;
}

/* True when one of <t>'s destinations is of type meta and takes <ev>. */
static bool meta_bound(const struct pxd_conf *conf, const struct pxd_conf_tenant *t,
		       const struct pxd_event *ev)
{
	if (ev->has_to && (((ev->to >> PXD_EVENT_TO_META) & 1) != 0) == ev->to_except)
		return false;
	for (size_t i = 0; i < t->ndests; i++) {
		for (size_t k = 0; k < conf->ndests; k++) {
			const struct pxd_conf_dest *d = &conf->dests[k];
			bool takes = d->nevents == 0;

			if (strcmp(d->name, t->dests[i]) != 0 || strcmp(d->type, "meta") != 0)
				continue;
			for (size_t e = 0; !takes && e < d->nevents; e++)
				takes = pxd_sv_eq_lit(ev->name, d->events[e]);
			if (takes)
				return true;
		}
	}
	return false;
}

/* Appends the Set-Cookie line of <name>=<value>; false when it does not fit. */
static bool add_line(struct pxd_ad_cookies *ac, const char *name, struct pxd_sv value,
		     const struct pxd_cookie_attrs *a)
{
	size_t used = strlen(ac->lines);

	return pxd_cookie_line_value(ac->lines + used, sizeof(ac->lines) - used, name, value, a) !=
	       0;
}

static void restore_fbp(struct pxd_reqctx *rc, const struct pxd_event *ev,
			const struct pxd_cookie_attrs *a)
{
	struct pxd_ad_cookies *ac = &rc->ad_cookies;
	struct pxd_sv have = pxd_cookie_get(rc->req->cookie, "_fbp");
	uint32_t r;
	int n;

	if (fb_tail(have).n) {
		ac->fbp = have;
		ac->extended += add_line(ac, "_fbp", have, a);
		return;
	}
	if (ev->click[PXD_CLICK_FIELD_FBP].n || RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		return; /* the event has its own, or no id rather than a guessable one */
	/* Meta's pixel draws a 31-bit random number. */
	n = snprintf(ac->fbp_buf, sizeof(ac->fbp_buf), "fb.1.%lld.%u", (long long)rc->ing->now_ms,
		     r & 0x7fffffffu);
	ac->fbp = pxd_sv_make(ac->fbp_buf, (size_t)n);
	ac->restored += add_line(ac, "_fbp", ac->fbp, a);
}

static void restore_fbc(struct pxd_reqctx *rc, const struct pxd_event *ev,
			const struct pxd_cookie_attrs *a)
{
	struct pxd_ad_cookies *ac = &rc->ad_cookies;
	struct pxd_sv have = pxd_cookie_get(rc->req->cookie, "_fbc");
	struct pxd_sv had = fb_tail(have);
	struct pxd_sv clid = url_fbclid(ev->url);
	int n;

	if (!clid.n && !ev->url.n) /* a pixel without url=: the page is its Referer */
		clid = url_fbclid(rc->req->referer);
	if (had.n && (!clid.n || pxd_sv_eq(had, clid))) {
		ac->fbc = have;
		ac->extended += add_line(ac, "_fbc", have, a);
		return;
	}
	if (!clid.n)
		return;
	/* A new click: its time is now (ad-apis.md: subdomain index 1, first seen). */
	n = snprintf(ac->fbc_buf, sizeof(ac->fbc_buf), "fb.1.%lld.%.*s", (long long)rc->ing->now_ms,
		     (int)clid.n, clid.p);
	ac->fbc = pxd_sv_make(ac->fbc_buf, (size_t)n);
	ac->restored += add_line(ac, "_fbc", ac->fbc, a);
}

void pxd_tenant_restore(struct pxd_reqctx *rc, struct pxd_event *ev)
{
	const struct pxd_conf_tenant *t = rc->tenant;
	struct pxd_ad_cookies *ac = &rc->ad_cookies;

	if (!t->restore_cookies || rc->anonymous ||
	    (ev->source != PXD_EVENT_SOURCE_PIXEL && ev->source != PXD_EVENT_SOURCE_BEACON) ||
	    ev->consent[PXD_CONSENT_FIELD_AD_STORAGE] == PXD_CONSENT_DENIED ||
	    !meta_bound(rc->ing->d->conf, t, ev))
		return;
	if (!ac->decided) {
		char domain[PXD_CONF_TENANT_HOST_MAX];
		struct pxd_cookie_attrs a = { t->cookie_max_age_s, domain,
					      pxd_tenant_secure_request(rc), false };

		ac->decided = true;
		pxd_tenant_cookie_domain(rc, domain, sizeof(domain));
		if (t->restore_cookies & PXD_TENANT_RESTORE_FBP)
			restore_fbp(rc, ev, &a);
		if (t->restore_cookies & PXD_TENANT_RESTORE_FBC)
			restore_fbc(rc, ev, &a);
	}
	if (!ev->click[PXD_CLICK_FIELD_FBP].n && ac->fbp.n)
		ev->click[PXD_CLICK_FIELD_FBP] = ac->fbp;
	if (!ev->click[PXD_CLICK_FIELD_FBC].n && ac->fbc.n)
		ev->click[PXD_CLICK_FIELD_FBC] = ac->fbc;
}
