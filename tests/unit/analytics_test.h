/* SPDX-License-Identifier: MIT */
/*
 * analytics_test.h - what the analytics adapter tests (test_segment.c,
 * test_amplitude.c, test_mixpanel.c, test_posthog.c) share beside
 * adapter_test.h: a golden-body check over one canonical event, a batch of
 * copies of one event with distinct ids for per-event answers, and the
 * analytics_storage consent gate every analytics destination has. Include
 * after adapter_test.h.
 */
#ifndef PXD_TEST_ANALYTICS_TEST_H
#define PXD_TEST_ANALYTICS_TEST_H

#include "consent.h"

/* inline definitions */

/* Builds <t>'s request for tests/golden/events/<name> into <req> (the
 * caller frees req->body) and compares the body with <dir>/<name>. */
static inline void golden_request(struct tdest *t, const char *dir, const char *name,
				  struct pxd_request *req)
{
	struct pxd_batch_item item;
	struct pxd_batch b;
	char rel[128];
	json_t *ev;

	snprintf(rel, sizeof(rel), "events/%s", name);
	ev = golden(rel);
	batch_make(&b, &item, &ev, 1);
	memset(req, 0, sizeof(*req));
	assert_int_equal(t->dest.adapter->build(&t->dest, &b, req), 0);
	snprintf(rel, sizeof(rel), "%s/%s", dir, name);
	assert_body_golden(req, rel);
	batch_free(&b);
	json_decref(ev);
}

/* <n> copies of tests/golden/events/<name>, event_id "ev-<i>", fp_id "fp-<i>". */
static inline void batch_copies(const char *name, json_t **evs, size_t n, struct pxd_batch *b,
				struct pxd_batch_item *items)
{
	char rel[128], id[32];

	snprintf(rel, sizeof(rel), "events/%s", name);
	for (size_t i = 0; i < n; i++) {
		evs[i] = golden(rel);
		snprintf(id, sizeof(id), "ev-%zu", i);
		json_object_set_new(evs[i], "event_id", json_string(id));
		snprintf(id, sizeof(id), "fp-device-%zu", i);
		json_object_set_new(evs[i], "fp_id", json_string(id));
	}
	batch_make(b, items, evs, n);
}

static inline void batch_copies_free(json_t **evs, size_t n, struct pxd_batch *b)
{
	batch_free(b);
	for (size_t i = 0; i < n; i++)
		json_decref(evs[i]);
}

/* Checks that <a> skips events whose analytics_storage is denied and no
 * others: ad consent is not the analytics tools' business. */
static inline void assert_analytics_consent(const struct pxd_adapter *a)
{
	json_t *ev = golden("events/purchase.json");
	json_t *consent = json_object_get(ev, "consent");

	assert_true(a->flags & PXD_ADAPTER_ANALYTICS);
	assert_false(a->flags & PXD_ADAPTER_AD);
	json_object_set_new(consent, "ad_storage", json_string("denied"));
	json_object_set_new(consent, "ad_user_data", json_string("denied"));
	assert_int_equal(pxd_consent_check(ev, a->flags), PXD_CONSENT_VERDICT_ALLOWED);
	json_object_set_new(consent, "analytics_storage", json_string("denied"));
	assert_int_equal(pxd_consent_check(ev, a->flags),
			 PXD_CONSENT_VERDICT_ANALYTICS_STORAGE_DENIED);
	assert_string_equal(pxd_consent_reason(PXD_CONSENT_VERDICT_ANALYTICS_STORAGE_DENIED),
			    "analytics_storage_denied");
	json_decref(ev);
}

/* Runs <t>'s validate on <ev> (then freed) into <reason>. */
static inline enum pxd_delivery validate_event(struct tdest *t, json_t *ev, char *reason)
{
	enum pxd_delivery d = t->dest.adapter->validate(&t->dest, ev, reason, 192);

	json_decref(ev);
	return d;
}

/* tests/golden/events/<name> with ts now and <key> of <obj> (NULL: the
 * event itself) removed. */
static inline json_t *event_without(const char *name, const char *obj, const char *key)
{
	char rel[128];
	json_t *ev;

	snprintf(rel, sizeof(rel), "events/%s", name);
	ev = event_aged(rel, 0);
	json_object_del(obj ? json_object_get(ev, obj) : ev, key);
	return ev;
}

#endif
