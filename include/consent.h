/* SPDX-License-Identifier: MIT */
/*
 * consent.h - whether an event may go to a destination given the consent it
 * carries (DESIGN.md "Ways out"): ad platforms (PXD_ADAPTER_AD) get no event
 * whose consent denies ad use, that is ad_storage or ad_user_data "denied".
 * Analytics tools (PXD_ADAPTER_ANALYTICS: segment, amplitude, mixpanel,
 * posthog) get no event whose analytics_storage is "denied". Absent fields
 * do not deny: the tenant's defaults are applied at ingest. Other
 * destinations (GA4, webhooks, files) get every event and pass the consent
 * fields on. No state; any thread.
 */
#ifndef PXD_CONSENT_H
#define PXD_CONSENT_H

#include <jansson.h>
#include <stdbool.h>

enum pxd_consent_verdict {
	PXD_CONSENT_VERDICT_ALLOWED = 0,
	PXD_CONSENT_VERDICT_AD_STORAGE_DENIED,
	PXD_CONSENT_VERDICT_AD_USER_DATA_DENIED,
	PXD_CONSENT_VERDICT_ANALYTICS_STORAGE_DENIED,
	PXD_CONSENT_VERDICT_COUNT, /* number of verdicts, for per-reason counters; keep last */
};

/*
 * Decides for canonical event <ev> and a destination whose adapter has
 * <adapter_flags>. When both fields deny, ad_storage is the one reported.
 */
enum pxd_consent_verdict pxd_consent_check(const json_t *ev, unsigned adapter_flags);

struct pxd_event_line;

/* pxd_consent_check() for a line read by pxd_event_line_read(). */
enum pxd_consent_verdict pxd_consent_check_line(const struct pxd_event_line *ev,
						unsigned adapter_flags);

/* Returns the metric label of verdict <v> (below PXD_CONSENT_VERDICT_COUNT):
 * "allowed", "ad_storage_denied", "ad_user_data_denied" or
 * "analytics_storage_denied", a static string. */
const char *pxd_consent_reason(enum pxd_consent_verdict v);

/*
 * Returns true when <ev> may be sent to a destination with <adapter_flags>;
 * otherwise false with <reason> (may be NULL) set to the verdict's label.
 * <reason> is set to NULL when allowed.
 */
bool pxd_consent_allows(const json_t *ev, unsigned adapter_flags, const char **reason);

#endif
