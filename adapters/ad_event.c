// SPDX-License-Identifier: MIT
/*
 * ad_event.c - the ad destinations' shared skeleton (ad_event.h): init by
 * table, the Meta-shaped server event written from the line, the first checks, the data[] request
 * and the canonical action_source. Called from dispatcher threads.
 */
#include "adapters/ad_event.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "adapters/payload_line.h"
#include "daemon.h"
#include "payload.h"

static const char *const source_names[PXD_AD_SOURCE_COUNT] = {
	[PXD_AD_SOURCE_WEBSITE] = "website",
	[PXD_AD_SOURCE_APP] = "app",
	[PXD_AD_SOURCE_PHONE_CALL] = "phone_call",
	[PXD_AD_SOURCE_PHYSICAL_STORE] = "physical_store",
	[PXD_AD_SOURCE_SYSTEM_GENERATED] = "system_generated",
	[PXD_AD_SOURCE_EMAIL] = "email",
	[PXD_AD_SOURCE_CHAT] = "chat",
	[PXD_AD_SOURCE_OTHER] = "other",
};

enum pxd_ad_source pxd_ad_source(const struct pxd_event_line *el)
{
	const struct pxd_jv *v = &el->top[PXD_LINE_ACTION_SOURCE];

	if (!pxd_jv_is_str(v))
		return PXD_AD_SOURCE_WEBSITE;
	for (int s = 0; s < PXD_AD_SOURCE_COUNT; s++)
		if (pxd_jv_eq(v, source_names[s]))
			return (enum pxd_ad_source)s;
	return PXD_AD_SOURCE_OTHER;
}

const char *pxd_ad_source_name(enum pxd_ad_source s)
{
	return s < PXD_AD_SOURCE_COUNT ? source_names[s] : "other";
}

int pxd_ad_init(struct pxd_dest *dest, size_t size, const char *conf_path,
		const struct pxd_ad_init *in, char *err, size_t errlen)
{
	struct pxd_payload_bearer *h;
	char base[256], id[64];
	bool test = false;
	int rc;

	rc = pxd_payload_bearer_init(dest, size, conf_path, in->keys, err, errlen);
	h = dest->priv;
	if (!rc)
		rc = pxd_payload_api_base(dest, conf_path, in->api_base, base, sizeof(base), err,
					  errlen);
	if (!rc)
		rc = pxd_payload_key_shape(dest, conf_path, in->id_key, "", in->id_chars,
					   in->id_what, id, sizeof(id), err, errlen);
	if (!rc && in->test_suffix)
		rc = pxd_payload_bool(dest, conf_path, "test_mode", false, &test, err, errlen);
	if (!rc)
		snprintf(h->url, sizeof(h->url), "%s%s%s%s%s", base, in->url_before, id,
			 in->url_after, test ? in->test_suffix : "");
	if (!rc)
		rc = pxd_payload_check_map(dest, conf_path, "", err, errlen);
	return rc;
}

void pxd_ad_event_head(struct pxd_payload_out *o, const char *name, const struct pxd_event_line *el)
{
	pxd_payload_out_open(o, '{');
	pxd_payload_out_key(o, "event_name");
	pxd_payload_out_str(o, name, strlen(name));
	pxd_payload_out_key(o, "event_time");
	pxd_payload_out_int(o, pxd_event_line_ts(el) / 1000);
	pxd_payload_out_member(o, "event_id", &el->top[PXD_LINE_EVENT_ID]);
}

void pxd_ad_event_body(struct pxd_payload_out *o, const struct pxd_event_line *el,
		       const struct pxd_ad_event *spec, struct pxd_buf *scratch)
{
	struct pxd_payload_mark empty;
	struct pxd_jv_iter props;

	if (pxd_jv_is_str(&el->top[PXD_LINE_URL]))
		pxd_payload_out_member(o, "event_source_url", &el->top[PXD_LINE_URL]);
	if (spec->referrer && pxd_jv_is_str(&el->top[PXD_LINE_REFERRER]))
		pxd_payload_out_member(o, "referrer_url", &el->top[PXD_LINE_REFERRER]);
	pxd_payload_out_key(o, "user_data");
	pxd_payload_out_open(o, '{');
	pxd_payload_fields(o, el, spec->user, spec->nuser, scratch);
	pxd_payload_out_close(o, '}');
	empty = pxd_payload_out_mark(o);
	pxd_payload_out_key(o, "custom_data");
	pxd_payload_out_open(o, '{');
	if (spec->custom) {
		spec->custom(o, el);
	} else {
		pxd_jv_iter_props(&props, el);
		pxd_payload_props(o, &props, spec->props, spec->nprops);
		pxd_payload_contents(o, "contents", el, spec->items, spec->nitems);
	}
	pxd_payload_out_close(o, '}');
	pxd_payload_out_drop_empty(o, &empty);
}

enum pxd_delivery pxd_ad_check(const struct pxd_event_line *el, const char *platform,
			       int64_t max_age_ms, const struct pxd_payload_field *user,
			       size_t nuser, struct pxd_buf *scratch, char *reason,
			       size_t reason_len)
{
	enum pxd_delivery d;

	d = pxd_payload_check_common_line(el, platform, pxd_now_ms(), max_age_ms, scratch, reason,
					  reason_len);
	if (d == PXD_DELIVERY_OK)
		d = pxd_payload_check_hashed(el, user, nuser, platform, reason, reason_len);
	return d;
}

int pxd_ad_build_data(struct pxd_dest *dest, const struct pxd_batch *b, pxd_payload_event_fn *fn,
		      struct pxd_request *req)
{
	struct pxd_payload_bearer *h = dest->priv;
	struct pxd_payload_out o;
	int rc;

	pxd_payload_out_init(&o, &req->body);
	pxd_payload_out_open(&o, '{');
	pxd_payload_out_key(&o, "data");
	pxd_payload_out_open(&o, '[');
	rc = pxd_payload_events(dest, b, &o, fn);
	pxd_payload_out_close(&o, ']');
	pxd_payload_out_close(&o, '}');
	if (!rc)
		rc = o.err;
	if (!rc)
		rc = pxd_payload_bearer_request(req, h->url, h->token);
	return rc;
}
