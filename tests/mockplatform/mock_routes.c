// SPDX-License-Identifier: MIT
/*
 * mock_routes.c - the mock's platform table: which emulated platform serves
 * a path, and handing a request or an injected fault to it. The platforms
 * themselves live one per file (mock_platform.h).
 */
#include "mock_routes.h"

#include <errno.h>
#include <string.h>

#include "compiler.h"
#include "mock_platform.h"

static const struct pxd_mock_platform_def *const platforms[] = {
	[PXD_MOCK_META] = &pxd_mock_meta,
	[PXD_MOCK_GA4] = &pxd_mock_ga4,
	[PXD_MOCK_GOOGLE_ADS] = &pxd_mock_google_ads,
	[PXD_MOCK_OAUTH] = &pxd_mock_oauth,
	[PXD_MOCK_TIKTOK] = &pxd_mock_tiktok,
	[PXD_MOCK_WEBHOOK] = &pxd_mock_webhook,
	[PXD_MOCK_LINKEDIN] = &pxd_mock_linkedin,
	[PXD_MOCK_SNAPCHAT] = &pxd_mock_snapchat,
	[PXD_MOCK_PINTEREST] = &pxd_mock_pinterest,
	[PXD_MOCK_REDDIT] = &pxd_mock_reddit,
	[PXD_MOCK_SEGMENT] = &pxd_mock_segment,
	[PXD_MOCK_AMPLITUDE] = &pxd_mock_amplitude,
	[PXD_MOCK_MIXPANEL] = &pxd_mock_mixpanel,
	[PXD_MOCK_POSTHOG] = &pxd_mock_posthog,
};
_Static_assert(ARRAY_SIZE(platforms) == PXD_MOCK_PLATFORM_COUNT,
	       "every enum pxd_mock_platform has a row in platforms[]");

int pxd_mock_init(struct pxd_mock *m, const struct pxd_mock_conf *conf)
{
	memset(m, 0, sizeof(*m));
	m->conf = *conf;
	if (!m->conf.oauth_expires_in)
		m->conf.oauth_expires_in = 3599;
	m->gads_seen = json_object();
	return m->gads_seen ? 0 : -ENOMEM;
}

void pxd_mock_fini(struct pxd_mock *m)
{
	json_decref(m->gads_seen);
	m->gads_seen = NULL;
	json_decref(m->amplitude_eps);
	m->amplitude_eps = NULL;
}

const char *pxd_mock_platform_name(enum pxd_mock_platform p)
{
	return (unsigned)p < PXD_MOCK_PLATFORM_COUNT ? platforms[p]->name : "?";
}

int pxd_mock_platform_parse(const char *name)
{
	for (int i = 0; i < PXD_MOCK_PLATFORM_COUNT; i++)
		if (strcmp(name, platforms[i]->name) == 0)
			return i;
	return -1;
}

int pxd_mock_route(struct pxd_sv path)
{
	for (int i = 0; i < PXD_MOCK_PLATFORM_COUNT; i++)
		if (platforms[i]->route(path))
			return i;
	return -1;
}

void pxd_mock_handle(struct pxd_mock *m, enum pxd_mock_platform p, const struct pxd_http_req *req,
		     int64_t now_ms, struct pxd_mock_resp *r)
{
	if (req->method != PXD_HTTP_POST)
		pxd_mock_reply(r, 405, json_pack("{s:s}", "error", "POST only"));
	else if ((unsigned)p >= PXD_MOCK_PLATFORM_COUNT)
		pxd_mock_reply(r, 404, json_pack("{s:s}", "error", "no such endpoint"));
	else
		platforms[p]->handle(m, req, now_ms, r);
}

void pxd_mock_fault_reply(struct pxd_mock *m, enum pxd_mock_platform p, int status, long code,
			  long subcode, struct pxd_mock_resp *r)
{
	if ((unsigned)p < PXD_MOCK_PLATFORM_COUNT && platforms[p]->fault)
		platforms[p]->fault(m, status, code, subcode, r);
	else
		pxd_mock_reply(r, status ? status : 500,
			       json_pack("{s:s}", "error", "(mock) injected"));
}
