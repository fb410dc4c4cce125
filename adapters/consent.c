// SPDX-License-Identifier: MIT
#include "consent.h"

#include <string.h>

#include "adapter.h"

static const char *const reasons[PXD_CONSENT_VERDICT_COUNT] = {
	[PXD_CONSENT_VERDICT_ALLOWED] = "allowed",
	[PXD_CONSENT_VERDICT_AD_STORAGE_DENIED] = "ad_storage_denied",
	[PXD_CONSENT_VERDICT_AD_USER_DATA_DENIED] = "ad_user_data_denied",
};

static bool denied(const json_t *consent, const char *field)
{
	const char *v = json_string_value(json_object_get(consent, field));

	return v && strcmp(v, "denied") == 0;
}

enum pxd_consent_verdict pxd_consent_check(const json_t *ev, unsigned adapter_flags)
{
	const json_t *consent;

	if (!(adapter_flags & PXD_ADAPTER_AD))
		return PXD_CONSENT_VERDICT_ALLOWED;
	consent = json_object_get(ev, "consent");
	if (!json_is_object(consent))
		return PXD_CONSENT_VERDICT_ALLOWED;
	if (denied(consent, "ad_storage"))
		return PXD_CONSENT_VERDICT_AD_STORAGE_DENIED;
	if (denied(consent, "ad_user_data"))
		return PXD_CONSENT_VERDICT_AD_USER_DATA_DENIED;
	return PXD_CONSENT_VERDICT_ALLOWED;
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
