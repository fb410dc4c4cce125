// SPDX-License-Identifier: MIT
#include "consent.h"

#include <string.h>

#include "adapter.h"
#include "event_line.h"

static const char *const reasons[PXD_CONSENT_VERDICT_COUNT] = {
	[PXD_CONSENT_VERDICT_ALLOWED] = "allowed",
	[PXD_CONSENT_VERDICT_AD_STORAGE_DENIED] = "ad_storage_denied",
	[PXD_CONSENT_VERDICT_AD_USER_DATA_DENIED] = "ad_user_data_denied",
	[PXD_CONSENT_VERDICT_ANALYTICS_STORAGE_DENIED] = "analytics_storage_denied",
};

/* The verdict for <adapter_flags> given which consent fields say "denied"
 * (indexed by enum pxd_consent_field). */
static enum pxd_consent_verdict decide(unsigned adapter_flags,
				       const bool denied[PXD_CONSENT_FIELD_COUNT])
{
	if (adapter_flags & PXD_ADAPTER_ANALYTICS)
		return denied[PXD_CONSENT_FIELD_ANALYTICS_STORAGE]
			   ? PXD_CONSENT_VERDICT_ANALYTICS_STORAGE_DENIED
			   : PXD_CONSENT_VERDICT_ALLOWED;
	if (!(adapter_flags & PXD_ADAPTER_AD))
		return PXD_CONSENT_VERDICT_ALLOWED;
	if (denied[PXD_CONSENT_FIELD_AD_STORAGE])
		return PXD_CONSENT_VERDICT_AD_STORAGE_DENIED;
	if (denied[PXD_CONSENT_FIELD_AD_USER_DATA])
		return PXD_CONSENT_VERDICT_AD_USER_DATA_DENIED;
	return PXD_CONSENT_VERDICT_ALLOWED;
}

enum pxd_consent_verdict pxd_consent_check(const json_t *ev, unsigned adapter_flags)
{
	const json_t *consent = json_object_get(ev, "consent");
	bool denied[PXD_CONSENT_FIELD_COUNT];

	for (int f = 0; f < PXD_CONSENT_FIELD_COUNT; f++) {
		const char *v =
		    json_string_value(json_object_get(consent, pxd_event_consent_names[f].p));

		denied[f] = json_is_object(consent) && v && strcmp(v, "denied") == 0;
	}
	return decide(adapter_flags, denied);
}

enum pxd_consent_verdict pxd_consent_check_line(const struct pxd_event_line *ev,
						unsigned adapter_flags)
{
	bool denied[PXD_CONSENT_FIELD_COUNT];

	for (int f = 0; f < PXD_CONSENT_FIELD_COUNT; f++)
		denied[f] = pxd_jv_eq(&ev->consent[f], "denied");
	return decide(adapter_flags, denied);
}

const char *pxd_consent_reason(enum pxd_consent_verdict v)
{
	return reasons[v];
}

bool pxd_consent_allows(const json_t *ev, unsigned adapter_flags, const char **reason)
{
	enum pxd_consent_verdict v = pxd_consent_check(ev, adapter_flags);

	if (reason)
		*reason = v == PXD_CONSENT_VERDICT_ALLOWED ? NULL : reasons[v];
	return v == PXD_CONSENT_VERDICT_ALLOWED;
}
