// SPDX-License-Identifier: MIT
#include "adapter.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "adapter_test.h"
#include "analytics_test.h"
#include "bisect.h"
#include "retry.h"

static struct tdest *mixpanel_dest(void)
{
	struct tdest *t = tdest_new(&pxd_adapter_mixpanel);

	tdest_set(t, "api_base", "http://127.0.0.1:9");
	tdest_set(t, "service_account", "sa.user");
	tdest_set(t, "service_account_secret", "sa-secret");
	tdest_set(t, "project_id", "1234");
	/* Not the way in (the service account is): the $token of profile updates. */
	tdest_set(t, "project_token", "mp-token");
	return t;
}

static int setup(void **state)
{
	return tdest_setup_state(state, mixpanel_dest());
}

static int teardown(void **state)
{
	return tdest_teardown_state(state);
}

static void check_golden_at(void **state, const char *name, const char *path)
{
	struct pxd_request req;
	char url[128];

	golden_request(*state, "mixpanel", name, &req);
	snprintf(url, sizeof(url), "http://127.0.0.1:9%s&project_id=1234", path);
	assert_string_equal(req.url, url);
	/* base64("sa.user:sa-secret") */
	assert_non_null(req_header(&req, "Authorization: Basic c2EudXNlcjpzYS1zZWNyZXQ="));
	pxd_buf_free(&req.body);
}

static void check_golden(void **state, const char *name)
{
	check_golden_at(state, name, "/import?strict=1");
}

static void test_golden_purchase_insert_id_distinct_id_ms(void **state)
{
	check_golden(state, "purchase.json");
}

static void test_golden_view_custom_page(void **state)
{
	check_golden(state, "view_raw_address.json");
	check_golden(state, "custom.json");
	check_golden(state, "page_view.json");
}

/* Identify $sets the user's profile on /engage, Group the group's on
 * /groups, both with the project token; Alias is $create_alias on /import. */
static void test_golden_identify_engage_group_groups_alias_import(void **state)
{
	check_golden_at(state, "identify.json", "/engage?verbose=1");
	check_golden_at(state, "group.json", "/groups?verbose=1");
	check_golden(state, "alias.json");
}

/* A batch of events, an Identify and a Group: each request goes to one
 * endpoint, with the events of the first's kind; the rest are unsent and go
 * again at once in their own request. */
static void test_mixed_batch_one_endpoint_per_request(void **state)
{
	static const char *const names[] = { "events/purchase.json", "events/identify.json",
					     "events/custom.json", "events/group.json" };
	struct tdest *t = *state;
	struct pxd_batch_item items[4];
	struct pxd_request req = { 0 };
	struct pxd_outcome out[4];
	struct pxd_response r;
	struct pxd_batch b;
	json_t *evs[4], *body;

	for (size_t i = 0; i < 4; i++)
		evs[i] = golden(names[i]);
	batch_make(&b, items, evs, 4);
	assert_int_equal(pxd_adapter_mixpanel.build(&t->dest, &b, &req), 0);
	assert_string_equal(req.url, "http://127.0.0.1:9/import?strict=1&project_id=1234");
	body = json_loadb(req.body.p, req.body.len, 0, NULL);
	assert_int_equal(json_array_size(body), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(body, 1), "event")),
			    "NewsletterOpen");
	json_decref(body);
	pxd_buf_free(&req.body);
	r = response(200, "{\"code\":200,\"num_records_imported\":2,\"status\":\"OK\"}");
	pxd_adapter_mixpanel.classify(&t->dest, &b, &r, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_OK);
	assert_int_equal(out[2].delivery, PXD_DELIVERY_OK);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_RETRY);
	assert_int_equal(out[1].retry_after_ms, 1);
	assert_non_null(strstr(out[1].reason, PXD_RETRY_UNSENT "mixpanel:"));
	assert_int_equal(out[3].delivery, PXD_DELIVERY_RETRY);
	/* A 400 naming index 1 of the request is the batch's third event. */
	r = response(400, "{\"failed_records\":[{\"index\":1,\"field\":\"properties.time\","
			  "\"message\":\"bad\"}]}");
	pxd_adapter_mixpanel.classify(&t->dest, &b, &r, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_OK);
	assert_int_equal(out[2].delivery, PXD_DELIVERY_PERMANENT);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_RETRY);
	batch_free(&b);
	/* The Identify first: /engage with it alone; a refusal is its own. */
	batch_make(&b, items, evs + 1, 3);
	assert_int_equal(pxd_adapter_mixpanel.build(&t->dest, &b, &req), 0);
	assert_string_equal(req.url, "http://127.0.0.1:9/engage?verbose=1&project_id=1234");
	pxd_buf_free(&req.body);
	r = response(200, "{\"status\":0,\"error\":\"$distinct_id is too long\"}");
	pxd_adapter_mixpanel.classify(&t->dest, &b, &r, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_PERMANENT);
	assert_string_equal(out[0].reason, "mixpanel: $distinct_id is too long");
	assert_int_equal(out[1].delivery, PXD_DELIVERY_RETRY);
	assert_int_equal(out[2].delivery, PXD_DELIVERY_RETRY);
	batch_free(&b);
	/* Two Identifies refused together: the whole batch is bisected. */
	json_decref(evs[3]);
	evs[3] = evs[2];
	evs[2] = golden("events/identify.json");
	batch_make(&b, items, evs + 1, 3);
	pxd_adapter_mixpanel.classify(&t->dest, &b, &r, out);
	assert_true(pxd_bisect_wanted(out, 3));
	r = response(200, "{\"status\":1,\"error\":null}");
	pxd_adapter_mixpanel.classify(&t->dest, &b, &r, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_OK);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_OK);
	assert_int_equal(out[2].delivery, PXD_DELIVERY_RETRY);
	batch_free(&b);
	for (size_t i = 0; i < 4; i++)
		json_decref(evs[i]);
}

/* Builds one event with a destination made of <keys> (pairs, NULL-ended)
 * and returns the request; its body's first event in <first>. */
static void build_with(const char *const *keys, json_t *ev, struct pxd_request *req, json_t **first)
{
	struct tdest *t = tdest_new(&pxd_adapter_mixpanel);
	struct pxd_batch_item item;
	struct pxd_batch b;
	json_t *body;

	for (size_t i = 0; keys[i]; i += 2)
		tdest_set(t, keys[i], keys[i + 1]);
	assert_int_equal(tdest_init(t), 0);
	batch_make(&b, &item, &ev, 1);
	memset(req, 0, sizeof(*req));
	assert_int_equal(pxd_adapter_mixpanel.build(&t->dest, &b, req), 0);
	body = json_loadb(req->body.p, req->body.len, 0, NULL);
	*first = json_incref(json_array_get(body, 0));
	json_decref(body);
	batch_free(&b);
	tdest_free(t);
}

static void test_project_token_eu_and_long_event_ids(void **state)
{
	static const char *const token[] = { "api_base", "https://api-eu.mixpanel.com",
					     "project_token", "tok123", NULL };
	static const char *const secret[] = { "api_secret", "legacy-secret", NULL };
	json_t *ev = golden("events/custom.json");
	struct pxd_request req;
	json_t *e;

	(void)state;
	json_object_set_new(ev, "event_id", json_string("evt_with_underscores_and_far_too_long"));
	build_with(token, ev, &req, &e);
	assert_string_equal(req.url, "https://api-eu.mixpanel.com/import?strict=1");
	assert_non_null(req_header(&req, "Authorization: Basic dG9rMTIzOg=="));
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(e, "properties"), "token")),
	    "tok123");
	/* Not [A-Za-z0-9-]{1,36}: the first 32 hex digits of its SHA-256. */
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(e, "properties"), "$insert_id")),
	    "b23c0c7906146ff02407a18bf5f5b2e8");
	json_decref(e);
	pxd_buf_free(&req.body);
	build_with(secret, ev, &req, &e);
	assert_string_equal(req.url, "https://api.mixpanel.com/import?strict=1");
	assert_non_null(req_header(&req, "Authorization: Basic bGVnYWN5LXNlY3JldDo="));
	assert_null(json_object_get(json_object_get(e, "properties"), "token"));
	json_decref(e);
	pxd_buf_free(&req.body);
	json_decref(ev);
}

static void test_validate_refuses_what_mixpanel_refuses(void **state)
{
	char reason[192];
	json_t *ev;

	assert_int_equal(validate_event(*state, event_aged("events/purchase.json", 0), reason),
			 PXD_DELIVERY_OK);
	assert_int_equal(validate_event(*state, event_aged("events/group.json", 0), reason),
			 PXD_DELIVERY_OK);
	assert_int_equal(validate_event(*state, event_aged("events/lead_minimal.json", 0), reason),
			 PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "mixpanel: no user id or anonymous id"));
	ev = event_without("custom.json", NULL, "fp_id");
	json_object_set_new(json_object_get(ev, "user"), "id", json_string("Anonymous"));
	assert_int_equal(validate_event(*state, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "distinct_id \"Anonymous\" is a placeholder"));
	/* A profile update needs no anonymous id. */
	ev = event_without("identify.json", NULL, "fp_id");
	json_object_del(json_object_get(ev, "user"), "anon_id");
	assert_int_equal(validate_event(*state, ev, reason), PXD_DELIVERY_OK);
	ev = event_aged("events/custom.json", 0);
	json_object_set_new(json_object_get(ev, "props"), "deep",
			    json_pack("{s:{s:{s:[i]}}}", "a", "b", "c", 1));
	assert_int_equal(validate_event(*state, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "nested 3 deep"));
	ev = event_aged("events/custom.json", 20 * 60 * 1000 * -1LL);
	assert_int_equal(validate_event(*state, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "in the future"));
}

static void test_consent_analytics_storage(void **state)
{
	(void)state;
	assert_analytics_consent(&pxd_adapter_mixpanel);
}

static void test_strict_400_is_a_partial_success(void **state)
{
	struct pxd_batch_item items[3];
	struct pxd_outcome out[3];
	struct pxd_batch b;
	json_t *evs[3];
	struct pxd_response r = response(
	    400, "{\"code\":400,\"error\":\"some data points in the request failed validation\","
		 "\"failed_records\":[{\"index\":1,\"$insert_id\":\"ev-1\",\"field\":"
		 "\"properties.time\",\"message\":\"'properties.time' is invalid: must be "
		 "specified as seconds since epoch\"}],\"num_records_imported\":2,\"status\":"
		 "\"Bad Request\"}");

	batch_copies("purchase.json", evs, 3, &b, items);
	pxd_adapter_mixpanel.classify(&((struct tdest *)*state)->dest, &b, &r, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_OK);
	assert_int_equal(out[2].delivery, PXD_DELIVERY_OK);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(out[1].reason, "mixpanel: properties.time: 'properties.time' is"));
	/* Without failed_records the whole request was refused. */
	r = response(401, "{\"error\":\"Invalid credentials\",\"status\":0}");
	pxd_adapter_mixpanel.classify(&((struct tdest *)*state)->dest, &b, &r, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_PERMANENT);
	assert_false(pxd_bisect_wanted(out, 3));
	r = response(413, "{\"error\":\"request too large\"}");
	pxd_adapter_mixpanel.classify(&((struct tdest *)*state)->dest, &b, &r, out);
	assert_true(pxd_bisect_wanted(out, 3));
	r = response(429, "{\"error\":\"rate limited\"}");
	r.retry_after_ms = 2000;
	pxd_adapter_mixpanel.classify(&((struct tdest *)*state)->dest, &b, &r, out);
	assert_int_equal(out[2].delivery, PXD_DELIVERY_RETRY);
	assert_int_equal(out[2].retry_after_ms, 2000);
	r = response(200, "{\"code\":200,\"num_records_imported\":3,\"status\":\"OK\"}");
	pxd_adapter_mixpanel.classify(&((struct tdest *)*state)->dest, &b, &r, out);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_OK);
	batch_copies_free(evs, 3, &b);
}

/* Profile updates carry the project token: without one they cannot go. */
static void test_profile_updates_need_the_project_token(void **state)
{
	struct tdest *t = mixpanel_dest();
	char reason[192];

	(void)state;
	t->conf.nkv = 4;
	assert_int_equal(tdest_init(t), 0);
	assert_int_equal(tdest_validate(t, event_aged("events/identify.json", 0), reason),
			 PXD_DELIVERY_PERMANENT);
	assert_string_equal(reason, "mixpanel: profile updates (Identify, Group) carry the "
				    "project token; set project_token for this destination");
	assert_int_equal(tdest_validate(t, event_aged("events/group.json", 0), reason),
			 PXD_DELIVERY_PERMANENT);
	assert_int_equal(tdest_validate(t, event_aged("events/alias.json", 0), reason),
			 PXD_DELIVERY_OK);
	tdest_free(t);
}

static void test_init_needs_one_way_in(void **state)
{
	struct tdest *t = mixpanel_dest();

	(void)state;
	t->conf.nkv = 1;
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, "needs service_account with service_account_secret and "
				       "project_id, or api_secret, or project_token"));
	tdest_free(t);
	t = mixpanel_dest();
	t->conf.nkv = 3;
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, "project_id: missing"));
	tdest_free(t);
	t = mixpanel_dest();
	snprintf(t->conf.kv[3].value, sizeof(t->conf.kv[3].value), "proj-1");
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, ":14: project_id: \"proj-1\" is not a numeric"));
	tdest_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_purchase_insert_id_distinct_id_ms),
		cmocka_unit_test(test_golden_view_custom_page),
		cmocka_unit_test(test_golden_identify_engage_group_groups_alias_import),
		cmocka_unit_test(test_mixed_batch_one_endpoint_per_request),
		cmocka_unit_test(test_profile_updates_need_the_project_token),
		cmocka_unit_test(test_project_token_eu_and_long_event_ids),
		cmocka_unit_test(test_validate_refuses_what_mixpanel_refuses),
		cmocka_unit_test(test_consent_analytics_storage),
		cmocka_unit_test(test_strict_400_is_a_partial_success),
		cmocka_unit_test(test_init_needs_one_way_in),
	};

	return cmocka_run_group_tests_name("mixpanel", tests, setup, teardown);
}
