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
#include "payload.h"
#include "retry.h"

extern const struct pxd_adapter pxd_adapter_google_ads;

#define TOKEN_OK "{\"access_token\":\"tok-%d\",\"expires_in\":3599,\"token_type\":\"Bearer\"}"

static struct tdest *gads_dest(void)
{
	struct tdest *t = tdest_new(&pxd_adapter_google_ads);

	tdest_set(t, "api_base", "http://127.0.0.1:9");
	tdest_set(t, "api_version", "v21");
	tdest_set(t, "customer_id", "123-456-7890");
	tdest_set(t, "login_customer_id", "1112223334");
	tdest_set(t, "conversion_action", "987");
	tdest_set(t, "map.Purchase", "customers/1234567890/conversionActions/555");
	tdest_set(t, "map.Lead", "777");
	tdest_set(t, "developer_token", "dev-tok");
	tdest_set(t, "client_id", "cid");
	tdest_set(t, "client_secret", "csecret");
	tdest_set(t, "refresh_token", "rtok");
	tdest_set(t, "token_url", "http://127.0.0.1:9/token");
	return t;
}

static int setup(void **state)
{
	return tdest_setup_state(state, gads_dest());
}

static int teardown(void **state)
{
	return tdest_teardown_state(state);
}

/* A batch of golden events, owned by the test. */
struct tbatch {
	struct pxd_batch b;
	struct pxd_batch_item items[8];
	json_t *evs[8];
};

static void tbatch_make(struct tbatch *tb, const char *const *names, size_t n)
{
	char rel[128];

	for (size_t i = 0; i < n; i++) {
		snprintf(rel, sizeof(rel), "events/%s", names[i]);
		tb->evs[i] = golden(rel);
	}
	batch_make(&tb->b, tb->items, tb->evs, n);
}

static void tbatch_free(struct tbatch *tb)
{
	for (size_t i = 0; i < tb->b.n; i++)
		json_decref(tb->evs[i]);
	batch_free(&tb->b);
}

static int build(struct tdest *t, struct tbatch *tb, struct pxd_request *req)
{
	pxd_buf_free(&req->body);
	memset(req, 0, sizeof(*req));
	return pxd_adapter_google_ads.build(&t->dest, &tb->b, req);
}

static void classify(struct tdest *t, struct tbatch *tb, struct pxd_response r,
		     struct pxd_outcome *out)
{
	pxd_adapter_google_ads.classify(&t->dest, &tb->b, &r, out);
}

/* Runs the token round trip that the first build of a destination starts. */
static void fetch_token(struct tdest *t, int n)
{
	static const char *const one[] = { "purchase.json" };
	struct pxd_request req = { 0 };
	struct pxd_outcome out;
	struct tbatch tb;
	char body[128];

	tbatch_make(&tb, one, 1);
	assert_int_equal(build(t, &tb, &req), 0);
	assert_string_equal(req.url, "http://127.0.0.1:9/token");
	snprintf(body, sizeof(body), TOKEN_OK, n);
	classify(t, &tb, response(200, body), &out);
	assert_int_equal(out.delivery, PXD_DELIVERY_RETRY);
	assert_int_equal(out.retry_after_ms, 1);
	assert_string_equal(out.reason, "unsent: google_ads: fetched an access token");
	assert_false(pxd_retry_request_failed(&out, 1));
	pxd_buf_free(&req.body);
	tbatch_free(&tb);
}

static void check_golden(void **state, const char *name)
{
	struct tdest *t = *state;
	struct pxd_request req = { 0 };
	struct tbatch tb;
	char rel[128];

	tbatch_make(&tb, &name, 1);
	assert_int_equal(build(t, &tb, &req), 0);
	if (strcmp(req.url, "http://127.0.0.1:9/token") == 0) {
		struct pxd_outcome out;

		classify(t, &tb, response(200, "{\"access_token\":\"tok-1\",\"expires_in\":3599}"),
			 &out);
		assert_int_equal(build(t, &tb, &req), 0);
	}
	assert_string_equal(req.url,
			    "http://127.0.0.1:9/v21/customers/1234567890:uploadClickConversions");
	assert_string_equal(req_header(&req, "Authorization:"), "Authorization: Bearer tok-1");
	assert_string_equal(req_header(&req, "developer-token:"), "developer-token: dev-tok");
	assert_string_equal(req_header(&req, "login-customer-id:"),
			    "login-customer-id: 1112223334");
	snprintf(rel, sizeof(rel), "google_ads/%s", name);
	assert_body_golden(&req, rel);
	pxd_buf_free(&req.body);
	tbatch_free(&tb);
}

static void test_golden_purchase_gclid_and_google_hashes(void **state)
{
	check_golden(state, "purchase.json");
}

static void test_golden_enhanced_lead_without_click(void **state)
{
	check_golden(state, "view_raw_address.json");
}

static void test_golden_wbraid_before_gbraid(void **state)
{
	check_golden(state, "lead_minimal.json");
}

static void test_token_refresh_is_driven_through_build_and_classify(void **state)
{
	static const char *const one[] = { "purchase.json" };
	struct tdest *t = gads_dest();
	struct pxd_request req = { 0 }, req2 = { 0 };
	struct pxd_outcome out;
	struct tbatch tb, tb2;

	(void)state;
	assert_int_equal(tdest_init(t), 0);
	tbatch_make(&tb, one, 1);
	tbatch_make(&tb2, one, 1);
	assert_int_equal(build(t, &tb, &req), 0);
	assert_string_equal(req.url, "http://127.0.0.1:9/token");
	assert_non_null(strstr(req.body.p, "grant_type=refresh_token"));
	/* One token request at a time: other batches wait for it. */
	assert_int_equal(build(t, &tb2, &req2), -EAGAIN);
	classify(t, &tb, response(503, "down"), &out);
	assert_int_equal(out.delivery, PXD_DELIVERY_RETRY);
	assert_int_equal(out.retry_after_ms, 0);
	/* A token endpoint outage is a failed request for the breaker. */
	assert_true(pxd_retry_request_failed(&out, 1));
	/* The failed refresh is not in flight any more: the next build asks again. */
	assert_int_equal(build(t, &tb2, &req2), 0);
	assert_string_equal(req2.url, "http://127.0.0.1:9/token");
	classify(t, &tb2, response(400, "{\"error\":\"invalid_grant\"}"), &out);
	assert_int_equal(out.delivery, PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(out.reason, "invalid_grant"));
	pxd_buf_free(&req.body);
	pxd_buf_free(&req2.body);
	tbatch_free(&tb);
	tbatch_free(&tb2);
	tdest_free(t);
}

static void test_401_refreshes_once_then_needs_the_operator(void **state)
{
	static const char *const one[] = { "purchase.json" };
	static const char unauth[] =
	    "{\"error\":{\"code\":401,\"message\":\"Request had invalid "
	    "authentication credentials.\",\"status\":\"UNAUTHENTICATED\"}}";
	struct tdest *t = gads_dest();
	struct pxd_request req = { 0 }, old = { 0 };
	struct pxd_outcome out;
	struct tbatch tb, tb_old;

	(void)state;
	assert_int_equal(tdest_init(t), 0);
	fetch_token(t, 1);
	tbatch_make(&tb, one, 1);
	tbatch_make(&tb_old, one, 1);
	assert_int_equal(build(t, &tb_old, &old), 0);
	assert_int_equal(build(t, &tb, &req), 0);
	assert_string_equal(req_header(&req, "Authorization:"), "Authorization: Bearer tok-1");
	classify(t, &tb, response(401, unauth), &out);
	assert_int_equal(out.delivery, PXD_DELIVERY_RETRY);
	assert_int_equal(out.retry_after_ms, 1);
	assert_int_equal(strncmp(out.reason, "unsent: ", 8), 0);
	/* The token is gone: the next build is the refresh. */
	fetch_token(t, 2);
	/* A 401 for a request sent with the old token is no second strike. */
	classify(t, &tb_old, response(401, unauth), &out);
	assert_int_equal(out.delivery, PXD_DELIVERY_RETRY);
	assert_int_equal(strncmp(out.reason, "unsent: ", 8), 0);
	assert_int_equal(build(t, &tb, &req), 0);
	assert_string_equal(req_header(&req, "Authorization:"), "Authorization: Bearer tok-2");
	classify(t, &tb, response(401, unauth), &out);
	assert_int_equal(out.delivery, PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(out.reason, "401 again"));
	pxd_buf_free(&req.body);
	pxd_buf_free(&old.body);
	tbatch_free(&tb);
	tbatch_free(&tb_old);
	tdest_free(t);
}

static void test_partial_failure_rows(void **state)
{
	static const char *const five[] = { "purchase.json", "purchase.json", "purchase.json",
					    "purchase.json", "purchase.json" };
	static const char body[] =
	    "{\"results\":[{\"gclid\":\"a\",\"conversionAction\":\"x\",\"conversionDateTime\":"
	    "\"2024-11-22 18:26:40+00:00\"},{},{},{},{}],"
	    "\"partialFailureError\":{\"code\":3,\"message\":\"Several failed.\",\"details\":[{"
	    "\"@type\":\"type.googleapis.com/google.ads.googleads.v21.errors.GoogleAdsFailure\","
	    "\"errors\":["
	    "{\"errorCode\":{\"conversionUploadError\":\"CLICK_CONVERSION_ALREADY_EXISTS\"},"
	    "\"message\":\"dup\",\"location\":{\"fieldPathElements\":[{\"fieldName\":"
	    "\"conversions\",\"index\":1}]}},"
	    "{\"errorCode\":{\"conversionUploadError\":\"TOO_RECENT_EVENT\"},\"message\":\"too "
	    "recent\",\"location\":{\"fieldPathElements\":[{\"fieldName\":\"conversions\","
	    "\"index\":2},{\"fieldName\":\"gclid\"}]}},"
	    "{\"errorCode\":{\"conversionUploadError\":\"UNPARSEABLE_GCLID\"},\"message\":\"bad "
	    "gclid\",\"location\":{\"fieldPathElements\":[{\"fieldName\":\"conversions\","
	    "\"index\":3}]}},"
	    "{\"errorCode\":{\"conversionUploadError\":\"TOO_RECENT_EVENT\"},\"message\":\"x\","
	    "\"location\":{\"fieldPathElements\":[{\"fieldName\":\"conversions\",\"index\":3}]}},"
	    "{\"errorCode\":{\"conversionUploadError\":\"CLICK_NOT_FOUND\"},\"message\":\"far\","
	    "\"location\":{\"fieldPathElements\":[{\"fieldName\":\"conversions\",\"index\":"
	    "99}]}}]}]}}";
	struct tdest *t = *state;
	struct pxd_request req = { 0 };
	struct pxd_outcome out[5];
	struct tbatch tb;

	tbatch_make(&tb, five, 5);
	if (build(t, &tb, &req) == 0 && strstr(req.url, "/token")) {
		classify(t, &tb, response(200, "{\"access_token\":\"tok-1\",\"expires_in\":3599}"),
			 out);
		assert_int_equal(build(t, &tb, &req), 0);
	}
	classify(t, &tb, response(200, body), out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_OK);
	/* §2: a dedup hit is a delivery. */
	assert_int_equal(out[1].delivery, PXD_DELIVERY_OK);
	assert_int_equal(out[2].delivery, PXD_DELIVERY_RETRY);
	assert_int_equal(out[2].retry_after_ms, 3600 * 1000);
	assert_string_equal(out[2].reason, "google_ads: TOO_RECENT_EVENT: too recent");
	/* The worst of a row's errors decides. */
	assert_int_equal(out[3].delivery, PXD_DELIVERY_PERMANENT);
	assert_string_equal(out[3].reason, "google_ads: UNPARSEABLE_GCLID: bad gclid");
	/* Empty with no error naming it: failed all the same. */
	assert_int_equal(out[4].delivery, PXD_DELIVERY_PERMANENT);
	assert_string_equal(out[4].reason, "google_ads: row failed: Several failed.");
	classify(t, &tb, response(200, "{\"results\":[{},{},{},{},{}]}"), out);
	assert_int_equal(out[4].delivery, PXD_DELIVERY_OK);
	pxd_buf_free(&req.body);
	tbatch_free(&tb);
}

static void test_error_envelope_classification(void **state)
{
	static const char *const two[] = { "purchase.json", "lead_minimal.json" };
	static const struct {
		long status;
		const char *body;
		enum pxd_delivery want;
	} cases[] = {
		{ 429,
		  "{\"error\":{\"code\":429,\"message\":\"q\",\"status\":\"RESOURCE_EXHAUSTED\"}}",
		  PXD_DELIVERY_RETRY },
		{ 500, "{\"error\":{\"code\":500,\"message\":\"i\",\"status\":\"INTERNAL\"}}",
		  PXD_DELIVERY_RETRY },
		{ 503, "{\"error\":{\"code\":503,\"message\":\"u\",\"status\":\"UNAVAILABLE\"}}",
		  PXD_DELIVERY_RETRY },
		{ 504,
		  "{\"error\":{\"code\":504,\"message\":\"d\",\"status\":\"DEADLINE_EXCEEDED\"}}",
		  PXD_DELIVERY_RETRY },
		{ 400,
		  "{\"error\":{\"code\":400,\"message\":\"t\",\"status\":\"INVALID_ARGUMENT\","
		  "\"details\":[{\"errors\":[{\"errorCode\":{\"internalError\":\"TRANSIENT_ERROR\"}"
		  "}]}]}}",
		  PXD_DELIVERY_RETRY },
		{ 400,
		  "{\"error\":{\"code\":400,\"message\":\"bad\",\"status\":\"INVALID_ARGUMENT\","
		  "\"details\":[{\"errors\":[{\"errorCode\":{\"requestError\":\"INVALID_INPUT\"}}]}"
		  "]}}",
		  PXD_DELIVERY_PERMANENT },
		{ 403,
		  "{\"error\":{\"code\":403,\"message\":\"The developer token is not approved.\","
		  "\"status\":\"PERMISSION_DENIED\"}}",
		  PXD_DELIVERY_PERMANENT },
		{ 502, "<html>bad gateway</html>", PXD_DELIVERY_RETRY },
		{ 0, NULL, PXD_DELIVERY_RETRY },
	};
	struct tdest *t = *state;
	struct pxd_request req = { 0 };
	struct pxd_outcome out[2];
	struct tbatch tb;
	struct pxd_response r;

	tbatch_make(&tb, two, 2);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (build(t, &tb, &req) == 0 && strstr(req.url, "/token")) {
			classify(t, &tb,
				 response(200, "{\"access_token\":\"tok-1\",\"expires_in\":3599}"),
				 out);
			assert_int_equal(build(t, &tb, &req), 0);
		}
		r = response(cases[i].status, cases[i].body);
		r.retry_after_ms = 4000;
		classify(t, &tb, r, out);
		if (out[1].delivery != cases[i].want)
			fail_msg("case %zu: got %d (%s)", i, out[1].delivery, out[1].reason);
		assert_int_equal(out[0].delivery, cases[i].want);
		/* Retry-After is honoured; a transport error has none. */
		if (cases[i].want == PXD_DELIVERY_RETRY && cases[i].status)
			assert_int_equal(out[1].retry_after_ms, 4000);
	}
	pxd_buf_free(&req.body);
	tbatch_free(&tb);
}

static enum pxd_delivery validate(struct tdest *t, json_t *ev, char *reason)
{
	enum pxd_delivery d = pxd_adapter_google_ads.validate(&t->dest, ev, reason, 192);

	json_decref(ev);
	return d;
}

static void test_validate_refuses_what_google_refuses(void **state)
{
	struct tdest *t = *state;
	char reason[192];
	json_t *ev;

	assert_int_equal(
	    validate(t, event_aged("events/purchase.json", 89 * PXD_PAYLOAD_DAY_MS), reason),
	    PXD_DELIVERY_OK);
	assert_int_equal(
	    validate(t, event_aged("events/purchase.json", 91 * PXD_PAYLOAD_DAY_MS), reason),
	    PXD_DELIVERY_PERMANENT);
	/* Neither a click id nor a hashed email or phone. */
	assert_int_equal(validate(t, event_aged("events/custom.json", 0), reason),
			 PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "needs click.gclid"));
	ev = event_aged("events/purchase.json", 0);
	json_object_set_new(json_object_get(ev, "click"), "gclid", json_string("abc def"));
	assert_int_equal(validate(t, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "UNPARSEABLE_GCLID"));
	/* No map.<Event> and no default action. */
	t = gads_dest();
	t->conf.kv[4] = t->conf.kv[--t->conf.nkv];
	assert_int_equal(tdest_init(t), 0);
	assert_int_equal(validate(t, event_aged("events/view_raw_address.json", 0), reason),
			 PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "no conversion action for ViewContent"));
	assert_int_equal(validate(t, event_aged("events/purchase.json", 0), reason),
			 PXD_DELIVERY_OK);
	tdest_free(t);
}

static void test_init_refuses_bad_keys(void **state)
{
	static const struct {
		size_t kv;
		const char *value;
		const char *err;
	} cases[] = {
		{ 1, "21", "api_version: \"21\" is not a version" },
		{ 2, "123-456", "customer_id: \"123-456\" is not a 10-digit" },
		{ 3, "12x", "login_customer_id: \"12x\" is not a 10-digit" },
		{ 4, "customers/1/conversionActions/", "conversion_action: \"customers/1/" },
		{ 6, "Purchase", "map.Lead: \"Purchase\" is not customers/" },
		{ 11, "file:/nonexistent/pxd-token", "token_url: \"file:/nonexistent" },
	};
	struct tdest *t;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		t = gads_dest();
		snprintf(t->conf.kv[cases[i].kv].value, sizeof(t->conf.kv[0].value), "%s",
			 cases[i].value);
		assert_int_equal(tdest_init(t), -EINVAL);
		if (!strstr(t->err, cases[i].err))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, t->err, cases[i].err);
		tdest_free(t);
	}
	t = gads_dest();
	snprintf(t->conf.kv[10].value, sizeof(t->conf.kv[0].value), "file:/nonexistent/pxd-rt");
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, TEST_CONF ":21: refresh_token: "));
	tdest_free(t);
}

/* conversionEnvironment: APP for a server's app event; a store purchase
 * (neither app nor web) leaves it out (UNSPECIFIED). */
static void test_golden_conversion_environment(void **state)
{
	check_golden(state, "s2s_store.json");
	check_golden(state, "s2s_app.json");
}

/* Every canonical action_source: WEB and APP; the others and a browser
 * event (no action_source) send no conversionEnvironment. */
static void test_conversion_environment_per_word(void **state)
{
	static const char *const want[] = { "WEB", "APP", NULL, NULL, NULL, NULL, NULL, NULL };
	struct tdest *t = *state;
	json_t *body;

	/* The token first (check_golden() fetched it for the suite). */
	for (size_t i = 0; i <= ARRAY_SIZE(want); i++) {
		const char *src = i < ARRAY_SIZE(want) ? pxd_test_sources[i] : NULL;
		const char *w = i < ARRAY_SIZE(want) ? want[i] : NULL;
		const json_t *c;

		body = build_with_source(t, "events/s2s_app.json", src, NULL);
		c = json_array_get(json_object_get(body, "conversions"), 0);
		assert_non_null(c);
		if (w)
			assert_string_equal(
			    json_string_value(json_object_get(c, "conversionEnvironment")), w);
		else
			assert_null(json_object_get(c, "conversionEnvironment"));
		json_decref(body);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_conversion_environment),
		cmocka_unit_test(test_conversion_environment_per_word),
		cmocka_unit_test(test_golden_purchase_gclid_and_google_hashes),
		cmocka_unit_test(test_golden_enhanced_lead_without_click),
		cmocka_unit_test(test_golden_wbraid_before_gbraid),
		cmocka_unit_test(test_token_refresh_is_driven_through_build_and_classify),
		cmocka_unit_test(test_401_refreshes_once_then_needs_the_operator),
		cmocka_unit_test(test_partial_failure_rows),
		cmocka_unit_test(test_error_envelope_classification),
		cmocka_unit_test(test_validate_refuses_what_google_refuses),
		cmocka_unit_test(test_init_refuses_bad_keys),
	};

	return cmocka_run_group_tests_name("google_ads", tests, setup, teardown);
}
