// SPDX-License-Identifier: MIT
#include "tests/mockplatform/mock_routes.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "webhook.h"

#define EM "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b"

/* One request through the real parser, answered by the mock. */
struct call {
	char raw[65536];
	char scratch[PXD_HTTP_MAX_BODY];
	struct pxd_http_req req;
	struct pxd_mock_resp r;
	json_t *body;
};

static int setup(void **state)
{
	static struct pxd_mock m;
	struct pxd_mock_conf conf = { 0 };

	snprintf(conf.meta_token, sizeof(conf.meta_token), "tok-meta");
	snprintf(conf.tiktok_token, sizeof(conf.tiktok_token), "tok-tt");
	snprintf(conf.ga4_secret, sizeof(conf.ga4_secret), "ga4-secret");
	snprintf(conf.gads_developer_token, sizeof(conf.gads_developer_token), "dev");
	snprintf(conf.oauth_refresh_token, sizeof(conf.oauth_refresh_token), "rt");
	snprintf(conf.webhook_secret, sizeof(conf.webhook_secret), "whsec");
	snprintf(conf.meta_reject_marker, sizeof(conf.meta_reject_marker), "poison");
	snprintf(conf.reject_marker, sizeof(conf.reject_marker), "poison");
	snprintf(conf.credential[PXD_MOCK_LINKEDIN], sizeof(conf.credential[0]), "tok-li");
	snprintf(conf.credential[PXD_MOCK_SNAPCHAT], sizeof(conf.credential[0]), "tok-snap");
	snprintf(conf.credential[PXD_MOCK_PINTEREST], sizeof(conf.credential[0]), "tok-pin");
	snprintf(conf.credential[PXD_MOCK_REDDIT], sizeof(conf.credential[0]), "tok-rdt");
	*state = &m;
	return pxd_mock_init(&m, &conf);
}

static int teardown(void **state)
{
	pxd_mock_fini(*state);
	return 0;
}

/* Sends "POST <target>" with <headers> (each ending in \r\n) and <body>. */
static struct call *call(struct pxd_mock *m, const char *target, const char *headers,
			 const char *body)
{
	struct call *c = calloc(1, sizeof(*c));
	enum pxd_refusal why;
	int p;
	int n = snprintf(c->raw, sizeof(c->raw),
			 "POST %s HTTP/1.1\r\nHost: mock\r\n%sContent-Length: %zu\r\n\r\n%s",
			 target, headers, strlen(body), body);

	assert_true(n > 0 && (size_t)n < sizeof(c->raw));
	assert_int_equal(pxd_http_parse_request(c->raw, (size_t)n, &c->req, c->scratch,
						sizeof(c->scratch), &why),
			 n);
	p = pxd_mock_route(c->req.path);
	assert_true(p >= 0);
	pxd_mock_resp_init(&c->r);
	pxd_mock_handle(m, (enum pxd_mock_platform)p, &c->req, pxd_now_ms(), &c->r);
	c->body = c->r.body.len ? json_loadb(c->r.body.p, c->r.body.len, 0, NULL) : NULL;
	return c;
}

static void call_free(struct call *c)
{
	json_decref(c->body);
	pxd_mock_resp_fini(&c->r);
	free(c);
}

static json_int_t body_int(const struct call *c, const char *obj, const char *key)
{
	const json_t *o = obj ? json_object_get(c->body, obj) : c->body;

	return json_integer_value(json_object_get(o, key));
}

static void test_routes_follow_the_platform_paths(void **state)
{
	static const struct {
		const char *path;
		int want;
	} cases[] = {
		{ "/v25.0/1234567890/events", PXD_MOCK_META },
		{ "/v25.0/12x/events", -1 },
		{ "/v25.0/123/events/", -1 },
		{ "/mp/collect", PXD_MOCK_GA4 },
		{ "/debug/mp/collect", PXD_MOCK_GA4 },
		{ "/v21/customers/1234567890:uploadClickConversions", PXD_MOCK_GOOGLE_ADS },
		{ "/v21/customers/:uploadClickConversions", -1 },
		{ "/v21/customers/12:uploadConversionAdjustments", -1 },
		{ "/token", PXD_MOCK_OAUTH },
		{ "/open_api/v1.3/event/track/", PXD_MOCK_TIKTOK },
		{ "/webhook", PXD_MOCK_WEBHOOK },
		{ "/webhook/tenant-a", PXD_MOCK_WEBHOOK },
		{ "/rest/conversionEvents", PXD_MOCK_LINKEDIN },
		{ "/v3/1a2b3c4d-0000-4000-8000-123456789abc/events", PXD_MOCK_SNAPCHAT },
		{ "/v3/1a2b3c4d-0000-4000-8000-123456789abc/events/validate", PXD_MOCK_SNAPCHAT },
		{ "/v3/1a2b3c4d/events/x", -1 },
		{ "/v5/ad_accounts/549755885175/events", PXD_MOCK_PINTEREST },
		{ "/v5/ad_accounts/act_5/events", -1 },
		{ "/api/v3/pixels/a2_abc123/conversion_events", PXD_MOCK_REDDIT },
		{ "/api/v3/pixels//conversion_events", -1 },
		{ "/import", PXD_MOCK_MIXPANEL },
		{ "/engage", PXD_MOCK_MIXPANEL },
		{ "/groups", PXD_MOCK_MIXPANEL },
		{ "/batch", PXD_MOCK_AMPLITUDE },
		{ "/identify", PXD_MOCK_AMPLITUDE },
		{ "/groupidentify", PXD_MOCK_AMPLITUDE },
		{ "/", -1 },
		{ "/x", -1 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		if (pxd_mock_route(pxd_sv_cstr(cases[i].path)) != cases[i].want)
			fail_msg("%s: want %d", cases[i].path, cases[i].want);
	assert_int_equal(pxd_mock_platform_parse("google_ads"), PXD_MOCK_GOOGLE_ADS);
	assert_int_equal(pxd_mock_platform_parse("bing"), -1);
}

static char *meta_event(char *buf, size_t len, const char *id, int64_t t, const char *em)
{
	snprintf(buf, len,
		 "{\"event_name\":\"Purchase\",\"event_time\":%lld,\"event_id\":\"%s\","
		 "\"action_source\":\"website\",\"event_source_url\":\"https://s.example/\","
		 "\"user_data\":{\"em\":[\"%s\"],\"client_user_agent\":\"UA\"}}",
		 (long long)t, id, em);
	return buf;
}

static void test_meta_accepts_and_refuses_whole_batches(void **state)
{
	char a[512], b[512], body[1200];
	int64_t now = pxd_now_ms() / 1000;
	struct call *c;

	snprintf(body, sizeof(body), "{\"data\":[%s,%s],\"access_token\":\"tok-meta\"}",
		 meta_event(a, sizeof(a), "e1", now, EM), meta_event(b, sizeof(b), "e2", now, EM));
	c = call(*state, "/v25.0/1/events", "", body);
	assert_int_equal(c->r.status, 200);
	assert_int_equal(body_int(c, NULL, "events_received"), 2);
	assert_int_equal(json_array_size(c->r.records), 2);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(c->r.records, 1), "event_id")), "e2");
	call_free(c);
	/* A bad hash in one event refuses both. */
	snprintf(body, sizeof(body), "{\"data\":[%s,%s],\"access_token\":\"tok-meta\"}",
		 meta_event(a, sizeof(a), "e1", now, EM),
		 meta_event(b, sizeof(b), "e2", now, "test@example.com"));
	c = call(*state, "/v25.0/1/events", "", body);
	assert_int_equal(c->r.status, 400);
	assert_int_equal(body_int(c, "error", "code"), 100);
	assert_null(c->r.records);
	assert_true(c->r.refused);
	call_free(c);
	/* Older than 7 days: subcode 2804003. */
	snprintf(body, sizeof(body), "{\"data\":[%s],\"access_token\":\"tok-meta\"}",
		 meta_event(a, sizeof(a), "e1", now - 8 * 86400, EM));
	c = call(*state, "/v25.0/1/events", "", body);
	assert_int_equal(body_int(c, "error", "error_subcode"), 2804003);
	call_free(c);
	/* The marker, and the token (query string and Bearer work too). */
	snprintf(body, sizeof(body), "{\"data\":[%s]}",
		 meta_event(a, sizeof(a), "x-poison-1", now, EM));
	c = call(*state, "/v25.0/1/events?access_token=tok-meta", "", body);
	assert_int_equal(body_int(c, "error", "code"), 100);
	call_free(c);
	snprintf(body, sizeof(body), "{\"data\":[%s]}", meta_event(a, sizeof(a), "e1", now, EM));
	c = call(*state, "/v25.0/1/events", "Authorization: Bearer tok-meta\r\n", body);
	assert_int_equal(c->r.status, 200);
	call_free(c);
	c = call(*state, "/v25.0/1/events", "Authorization: Bearer wrong\r\n", body);
	assert_int_equal(body_int(c, "error", "code"), 190);
	call_free(c);
}

static void test_ga4_drops_silently_and_debug_explains(void **state)
{
	static const char body[] = "{\"client_id\":\"c1\",\"events\":[{\"name\":\"purchase\","
				   "\"params\":{\"event_id\":\"g1\"}},{\"name\":\"bad-name\","
				   "\"params\":{\"event_id\":\"g2\"}}]}";
	struct call *c =
	    call(*state, "/mp/collect?measurement_id=G-1&api_secret=ga4-secret", "", body);

	assert_int_equal(c->r.status, 204);
	assert_int_equal(json_array_size(c->r.records), 1);
	assert_true(c->r.refused);
	call_free(c);
	c = call(*state, "/mp/collect?measurement_id=G-1&api_secret=wrong", "", body);
	assert_int_equal(c->r.status, 204);
	assert_int_equal(json_array_size(c->r.records), 0);
	call_free(c);
	c = call(*state, "/debug/mp/collect?measurement_id=G-1", "", body);
	assert_int_equal(c->r.status, 200);
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(json_object_get(c->body, "validationMessages"), 0),
				"validationCode")),
			    "NAME_INVALID");
	assert_null(c->r.records);
	call_free(c);
}

static void test_google_ads_needs_a_token_and_reports_rows(void **state)
{
	static const char row[] = "{\"conversionAction\":\"customers/1234567890/conversionActions/"
				  "5\",\"conversionDateTime\":\"2024-11-22 18:26:40+00:00\","
				  "\"gclid\":\"%s\",\"orderId\":\"%s\"}";
	char r1[256], r2[256], body[1024], auth[128];
	const char *path = "/v21/customers/1234567890:uploadClickConversions";
	const json_t *errs;
	struct call *c;

	snprintf(r1, sizeof(r1), row, "abc", "o1");
	snprintf(r2, sizeof(r2), row, "a b", "o2");
	snprintf(body, sizeof(body), "{\"conversions\":[%s,%s,%s],\"partialFailure\":true}", r1, r2,
		 r1);
	c = call(*state, path, "Authorization: Bearer none\r\ndeveloper-token: dev\r\n", body);
	assert_int_equal(c->r.status, 401);
	call_free(c);
	c = call(*state, "/token", "",
		 "grant_type=refresh_token&client_id=a&client_secret=b&"
		 "refresh_token=rt");
	assert_int_equal(c->r.status, 200);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\ndeveloper-token: dev\r\n",
		 json_string_value(json_object_get(c->body, "access_token")));
	call_free(c);
	c = call(*state, path, auth, body);
	assert_int_equal(c->r.status, 200);
	assert_int_equal(json_array_size(json_object_get(c->body, "results")), 3);
	assert_int_equal(json_object_size(json_array_get(json_object_get(c->body, "results"), 1)),
			 0);
	errs = json_object_get(
	    json_array_get(
		json_object_get(json_object_get(c->body, "partialFailureError"), "details"), 0),
	    "errors");
	assert_int_equal(json_array_size(errs), 2);
	/* The third row repeats the first: a dedup hit. */
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(json_array_get(errs, 1), "errorCode"),
					      "conversionUploadError")),
	    "CLICK_CONVERSION_ALREADY_EXISTS");
	assert_int_equal(json_array_size(c->r.records), 1);
	assert_non_null(strstr(c->r.extra_header, "request-id: "));
	call_free(c);
	pxd_mock_revoke_tokens(*state);
	c = call(*state, path, auth, body);
	assert_int_equal(c->r.status, 401);
	call_free(c);
	c = call(*state, "/token", "",
		 "grant_type=refresh_token&client_id=a&client_secret=b&"
		 "refresh_token=other");
	assert_int_equal(c->r.status, 400);
	assert_string_equal(json_string_value(json_object_get(c->body, "error")), "invalid_grant");
	call_free(c);
}

static void test_tiktok_errors_come_inside_a_200(void **state)
{
	char body[600];
	struct call *c;

	snprintf(
	    body, sizeof(body),
	    "{\"event_source\":\"web\",\"event_source_id\":\"P\",\"data\":[{\"event\":"
	    "\"Purchase\",\"event_time\":%lld,\"event_id\":\"t1\",\"user\":{\"email\":\"%s\"}}]}",
	    (long long)(pxd_now_ms() / 1000), EM);
	c = call(*state, "/open_api/v1.3/event/track/", "Access-Token: tok-tt\r\n", body);
	assert_int_equal(c->r.status, 200);
	assert_int_equal(body_int(c, NULL, "code"), 0);
	assert_int_equal(json_array_size(c->r.records), 1);
	call_free(c);
	c = call(*state, "/open_api/v1.3/event/track/", "Access-Token: nope\r\n", body);
	assert_int_equal(c->r.status, 200);
	assert_int_equal(body_int(c, NULL, "code"), 40105);
	assert_true(c->r.refused);
	call_free(c);
	snprintf(body, sizeof(body),
		 "{\"event_source\":\"web\",\"event_source_id\":\"P\",\"data\":[{\"event\":"
		 "\"Purchase\",\"event_time\":%lld,\"event_id\":\"t1\",\"user\":{\"email\":"
		 "\"a@b.c\"}}]}",
		 (long long)(pxd_now_ms() / 1000));
	c = call(*state, "/open_api/v1.3/event/track/", "Access-Token: tok-tt\r\n", body);
	assert_int_equal(body_int(c, NULL, "code"), 40002);
	call_free(c);
}

static void test_webhook_verifies_the_signature(void **state)
{
	static const char body[] = "[{\"event_id\":\"w1\"},{\"event_id\":\"w2\"}]";
	char sig[PXD_WEBHOOK_SIG_MAX], hdr[160];
	struct call *c;

	assert_int_equal(
	    pxd_webhook_sign("whsec", 5, pxd_now_ms() / 1000, body, strlen(body), sig, sizeof(sig)),
	    0);
	snprintf(hdr, sizeof(hdr), PXD_WEBHOOK_HEADER ": %s\r\n", sig);
	c = call(*state, "/webhook", hdr, body);
	assert_int_equal(c->r.status, 200);
	assert_int_equal(json_array_size(c->r.records), 2);
	call_free(c);
	assert_int_equal(pxd_webhook_sign("whsec", 5, pxd_now_ms() / 1000 - 3600, body,
					  strlen(body), sig, sizeof(sig)),
			 0);
	snprintf(hdr, sizeof(hdr), PXD_WEBHOOK_HEADER ": %s\r\n", sig);
	c = call(*state, "/webhook", hdr, body);
	assert_int_equal(c->r.status, 401);
	call_free(c);
	c = call(*state, "/webhook", "", body);
	assert_int_equal(c->r.status, 401);
	call_free(c);
}

static void test_fault_replies_look_like_the_platform(void **state)
{
	struct pxd_mock_resp r;
	json_t *b;

	pxd_mock_resp_init(&r);
	pxd_mock_fault_reply(*state, PXD_MOCK_META, 500, 0, 0, &r);
	b = json_loadb(r.body.p, r.body.len, 0, NULL);
	assert_int_equal(r.status, 500);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "error"), "code")),
			 2);
	assert_true(json_is_true(json_object_get(json_object_get(b, "error"), "is_transient")));
	json_decref(b);
	pxd_mock_resp_fini(&r);
	pxd_mock_resp_init(&r);
	pxd_mock_fault_reply(*state, PXD_MOCK_META, 0, 17, 0, &r);
	assert_int_equal(r.status, 400);
	pxd_mock_resp_fini(&r);
	pxd_mock_resp_init(&r);
	pxd_mock_fault_reply(*state, PXD_MOCK_TIKTOK, 0, 40100, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.p, "\"code\":40100"));
	pxd_mock_resp_fini(&r);
	pxd_mock_resp_init(&r);
	pxd_mock_fault_reply(*state, PXD_MOCK_TIKTOK, 502, 0, 0, &r);
	assert_int_equal(r.status, 502);
	assert_string_equal(r.content_type, "text/html");
	pxd_mock_resp_fini(&r);
	pxd_mock_resp_init(&r);
	pxd_mock_fault_reply(*state, PXD_MOCK_GOOGLE_ADS, 429, 0, 0, &r);
	assert_non_null(strstr(r.body.p, "\"status\":\"RESOURCE_EXHAUSTED\""));
	pxd_mock_resp_fini(&r);
}

/*
 * A golden body an adapter built (tests/golden/<rel>) with every event time
 * moved to now, so the mock's age rules pass: what pixeld sends today.
 * <mark> (or NULL) replaces the event id of event <mark_at>.
 */
static char *golden_now(const char *rel, size_t copies, const char *mark, size_t mark_at)
{
	static const char *const ms_keys[] = { "conversionHappenedAt", "event_at" };
	char path[256];
	json_t *root, *list, *one, *ev;
	int64_t now = pxd_now_ms();
	char *out;
	size_t i;

	snprintf(path, sizeof(path), "tests/golden/%s", rel);
	root = json_load_file(path, 0, NULL);
	assert_non_null(root);
	list = json_object_get(root, "data");
	if (json_is_object(list))
		list = json_object_get(list, "events");
	if (!list)
		list = json_object_get(root, "elements");
	assert_true(json_array_size(list) == 1);
	one = json_deep_copy(json_array_get(list, 0));
	json_array_clear(list);
	for (i = 0; i < copies; i++)
		json_array_append_new(list, json_deep_copy(one));
	json_array_foreach(list, i, ev)
	{
		char id[64];

		snprintf(id, sizeof(id), "%s-%zu", mark && i == mark_at ? mark : "ev", i);
		if (json_object_get(ev, "event_time"))
			json_object_set_new(ev, "event_time", json_integer(now / 1000));
		for (size_t k = 0; k < ARRAY_SIZE(ms_keys); k++)
			if (json_object_get(ev, ms_keys[k]))
				json_object_set_new(ev, ms_keys[k], json_integer(now));
		if (json_object_get(ev, "event_id"))
			json_object_set_new(ev, "event_id", json_string(id));
		if (json_object_get(ev, "eventId"))
			json_object_set_new(ev, "eventId", json_string(id));
		if (json_object_get(ev, "metadata"))
			json_object_set_new(json_object_get(ev, "metadata"), "conversion_id",
					    json_string(id));
	}
	out = json_dumps(root, JSON_COMPACT);
	json_decref(one);
	json_decref(root);
	return out;
}

/* "<open>{},{},...<close>": <n> empty events, for the count limits. */
static char *empties(const char *open, size_t n, const char *close)
{
	size_t len = strlen(open) + 3 * n + strlen(close) + 1;
	char *out = malloc(len), *p = out;

	assert_non_null(out);
	p += sprintf(p, "%s", open);
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s{}", i ? "," : "");
	sprintf(p, "%s", close);
	return out;
}

static const char li_headers[] = "Authorization: Bearer tok-li\r\nLinkedIn-Version: 202511\r\n"
				 "X-Restli-Protocol-Version: 2.0.0\r\nX-RestLi-Method: "
				 "BATCH_CREATE\r\n";

static void test_linkedin_answers_per_element_or_422(void **state)
{
	char *body = golden_now("linkedin/purchase.json", 3, NULL, 0);
	struct call *c = call(*state, "/rest/conversionEvents", li_headers, body);

	assert_int_equal(c->r.status, 200);
	assert_int_equal(json_array_size(json_object_get(c->body, "elements")), 3);
	assert_int_equal(json_array_size(c->r.records), 3);
	call_free(c);
	c = call(*state, "/rest/conversionEvents", "Authorization: Bearer nope\r\n", body);
	assert_int_equal(c->r.status, 401);
	call_free(c);
	c = call(*state, "/rest/conversionEvents",
		 "Authorization: Bearer tok-li\r\nX-RestLi-Method: BATCH_CREATE\r\n", body);
	assert_int_equal(c->r.status, 426);
	call_free(c);
	free(body);
	body = golden_now("linkedin/ad_clicks.json", 3, "poison", 1);
	c = call(*state, "/rest/conversionEvents", li_headers, body);
	assert_int_equal(c->r.status, 422);
	assert_non_null(strstr(json_string_value(json_object_get(c->body, "message")),
			       "Index: 1, ERROR :: poison-1 carries the reject marker"));
	assert_null(c->r.records);
	call_free(c);
	free(body);
	body = empties("{\"elements\":[", 5001, "]}");
	c = call(*state, "/rest/conversionEvents", li_headers, body);
	assert_int_equal(c->r.status, 400);
	call_free(c);
	free(body);
}

static void test_snapchat_refuses_whole_batches_and_validates(void **state)
{
	static const char path[] = "/v3/1a2b3c4d-0000-4000-8000-123456789abc/events";
	char *body = golden_now("snapchat/purchase.json", 2, NULL, 0);
	struct call *c = call(*state, path, "Authorization: Bearer tok-snap\r\n", body);

	assert_int_equal(c->r.status, 200);
	assert_string_equal(json_string_value(json_object_get(c->body, "status")), "SUCCESS");
	assert_int_equal(json_array_size(c->r.records), 2);
	call_free(c);
	c = call(*state, "/v3/1a2b3c4d-0000-4000-8000-123456789abc/events?access_token=tok-snap",
		 "", body);
	assert_int_equal(c->r.status, 200);
	call_free(c);
	c = call(*state, "/v3/1a2b3c4d-0000-4000-8000-123456789abc/events/validate",
		 "Authorization: Bearer tok-snap\r\n", body);
	assert_string_equal(json_string_value(json_object_get(c->body, "status")), "VALID");
	assert_null(c->r.records);
	call_free(c);
	c = call(*state, path, "Authorization: Bearer tok-pin\r\n", body);
	assert_int_equal(c->r.status, 401);
	call_free(c);
	free(body);
	body = golden_now("snapchat/ad_clicks.json", 3, "poison", 2);
	c = call(*state, path, "Authorization: Bearer tok-snap\r\n", body);
	assert_int_equal(c->r.status, 400);
	assert_non_null(strstr(json_string_value(json_object_get(c->body, "reason")), "data[2]"));
	assert_null(c->r.records);
	call_free(c);
	free(body);
	body = empties("{\"data\":[", 2001, "]}");
	c = call(*state, path, "Authorization: Bearer tok-snap\r\n", body);
	assert_int_equal(c->r.status, 400);
	call_free(c);
	free(body);
}

static void test_pinterest_answers_each_event(void **state)
{
	static const char path[] = "/v5/ad_accounts/549755885175/events";
	char *body = golden_now("pinterest/purchase.json", 3, "poison", 1);
	struct call *c = call(*state, path, "Authorization: Bearer tok-pin\r\n", body);
	const json_t *events = json_object_get(c->body, "events");

	assert_int_equal(c->r.status, 422);
	assert_int_equal(body_int(c, NULL, "num_events_processed"), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(events, 1), "status")),
			    "failed");
	assert_string_equal(json_string_value(json_object_get(json_array_get(events, 2), "status")),
			    "processed");
	assert_int_equal(json_array_size(c->r.records), 2);
	call_free(c);
	c = call(*state, "/v5/ad_accounts/549755885175/events?test=true",
		 "Authorization: Bearer tok-pin\r\n", body);
	assert_null(c->r.records);
	call_free(c);
	c = call(*state, path, "", body);
	assert_int_equal(c->r.status, 401);
	assert_int_equal(body_int(c, NULL, "code"), 2);
	call_free(c);
	free(body);
	body = empties("{\"data\":[", 1001, "]}");
	c = call(*state, path, "Authorization: Bearer tok-pin\r\n", body);
	assert_int_equal(c->r.status, 400);
	call_free(c);
	free(body);
}

static void test_reddit_lists_invalid_events_or_fails_the_batch(void **state)
{
	static const char path[] = "/api/v3/pixels/a2_abc123/conversion_events";
	char *body = golden_now("reddit/purchase.json", 3, "poison", 0);
	struct call *c = call(*state, path, "Authorization: Bearer tok-rdt\r\n", body);
	json_t *bad;

	assert_int_equal(c->r.status, 200);
	assert_int_equal(json_array_size(json_object_get(c->body, "invalid_events")), 1);
	assert_int_equal(json_array_size(c->r.records), 2);
	assert_true(c->r.refused);
	call_free(c);
	c = call(*state, path, "Authorization: Bearer tok-li\r\n", body);
	assert_int_equal(c->r.status, 401);
	call_free(c);
	free(body);
	bad = json_loads("{\"data\":{\"events\":[{\"event_at\":1,\"action_source\":\"WEBSITE\"}]}}",
			 0, NULL);
	body = json_dumps(bad, JSON_COMPACT);
	c = call(*state, path, "Authorization: Bearer tok-rdt\r\n", body);
	assert_int_equal(c->r.status, 400);
	assert_null(c->r.records);
	call_free(c);
	free(body);
	json_decref(bad);
	body = empties("{\"data\":{\"events\":[", 1001, "]}}");
	c = call(*state, path, "Authorization: Bearer tok-rdt\r\n", body);
	assert_int_equal(c->r.status, 400);
	assert_non_null(
	    strstr(json_string_value(json_object_get(c->body, "message")), "1 to 1000"));
	call_free(c);
	free(body);
}

static void test_new_fault_replies_look_like_the_platform(void **state)
{
	static const struct {
		enum pxd_mock_platform p;
		int status;
		const char *has;
	} cases[] = {
		{ PXD_MOCK_LINKEDIN, 401, "\"code\":\"REVOKED_ACCESS_TOKEN\"" },
		{ PXD_MOCK_LINKEDIN, 0, "\"status\":500" },
		{ PXD_MOCK_SNAPCHAT, 503, "\"status\":\"FAILED\"" },
		{ PXD_MOCK_PINTEREST, 429, "\"code\":8" },
		{ PXD_MOCK_PINTEREST, 503, "\"code\":4197" },
		{ PXD_MOCK_REDDIT, 500, "(mock) injected" },
	};
	struct pxd_mock_resp r;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		pxd_mock_resp_init(&r);
		pxd_mock_fault_reply(*state, cases[i].p, cases[i].status, 0, 0, &r);
		assert_int_equal(r.status, cases[i].status ? cases[i].status : 500);
		pxd_buf_append(&r.body, "", 1);
		if (!strstr(r.body.p, cases[i].has))
			fail_msg("case %zu: %s lacks %s", i, r.body.p, cases[i].has);
		pxd_mock_resp_fini(&r);
	}
}

/* Mixpanel /engage and /groups: $token, the profile's id and $set;
 * {"status":1} or a 400 {"status":0,"error"}; each endpoint its own kind. */
static void test_mixpanel_profile_updates(void **state)
{
	/* base64("tok:"): the project token as the Basic user. */
	static const char auth[] = "Authorization: Basic dG9rOg==\r\n";
	struct call *c;

	c = call(*state, "/engage?verbose=1", auth,
		 "[{\"$token\":\"tok\",\"$distinct_id\":\"u-1\",\"$set\":{\"plan\":\"pro\"}}]");
	assert_int_equal(c->r.status, 200);
	assert_int_equal(body_int(c, NULL, "status"), 1);
	assert_int_equal(json_array_size(c->r.records), 1);
	call_free(c);
	c = call(*state, "/groups?verbose=1", auth,
		 "[{\"$token\":\"tok\",\"$group_key\":\"company\",\"$group_id\":\"o-1\","
		 "\"$set\":{}}]");
	assert_int_equal(c->r.status, 200);
	call_free(c);
	c = call(*state, "/engage?verbose=1", auth,
		 "[{\"$token\":\"tok\",\"$distinct_id\":\"u\"}]");
	assert_int_equal(c->r.status, 400);
	assert_int_equal(body_int(c, NULL, "status"), 0);
	assert_string_equal(json_string_value(json_object_get(c->body, "error")),
			    "updates[0]: $set must be an object");
	assert_null(c->r.records);
	call_free(c);
	c = call(*state, "/engage?verbose=1", auth,
		 "[{\"$token\":\"tok\",\"$group_key\":\"company\",\"$group_id\":\"o-1\","
		 "\"$set\":{}}]");
	assert_int_equal(c->r.status, 400);
	call_free(c);
	c = call(*state, "/engage?verbose=1", "",
		 "[{\"$token\":\"tok\",\"$distinct_id\":\"u\",\"$set\":{}}]");
	assert_int_equal(c->r.status, 401);
	call_free(c);
}

/* Amplitude's Identify and Group Identify APIs: a form with api_key and
 * an identification list; "success", or a 400 naming what is missing. */
static void test_amplitude_identify_apis(void **state)
{
	static const char form[] = "Content-Type: application/x-www-form-urlencoded\r\n";
	struct call *c;

	/* identification=[{"user_id":"u-1","user_properties":{"$set":{}}}] */
	c = call(*state, "/identify", form,
		 "api_key=k&identification=%5B%7B%22user_id%22%3A%22u-1%22%2C%22user_properties"
		 "%22%3A%7B%22%24set%22%3A%7B%7D%7D%7D%5D");
	assert_int_equal(c->r.status, 200);
	assert_int_equal(c->r.body.len, 7);
	assert_memory_equal(c->r.body.p, "success", 7);
	assert_int_equal(json_array_size(c->r.records), 1);
	call_free(c);
	/* [{"group_type":"company","group_value":"o-1","group_properties":{}}] */
	c = call(*state, "/groupidentify", form,
		 "api_key=k&identification=%5B%7B%22group_type%22%3A%22company%22%2C%22group_value"
		 "%22%3A%22o-1%22%2C%22group_properties%22%3A%7B%7D%7D%5D");
	assert_int_equal(c->r.status, 200);
	call_free(c);
	/* [{"user_id":"u-1"}]: no user_properties. */
	c = call(*state, "/identify", form,
		 "api_key=k&identification=%5B%7B%22user_id%22%3A%22u-1%22%7D%5D");
	assert_int_equal(c->r.status, 400);
	assert_string_equal(json_string_value(json_object_get(c->body, "error")),
			    "identification[0]: user_id or device_id, and user_properties, are "
			    "required");
	call_free(c);
	c = call(*state, "/identify", form, "identification=%5B%5D");
	assert_int_equal(c->r.status, 400);
	call_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mixpanel_profile_updates),
		cmocka_unit_test(test_amplitude_identify_apis),
		cmocka_unit_test(test_routes_follow_the_platform_paths),
		cmocka_unit_test(test_meta_accepts_and_refuses_whole_batches),
		cmocka_unit_test(test_ga4_drops_silently_and_debug_explains),
		cmocka_unit_test(test_google_ads_needs_a_token_and_reports_rows),
		cmocka_unit_test(test_tiktok_errors_come_inside_a_200),
		cmocka_unit_test(test_webhook_verifies_the_signature),
		cmocka_unit_test(test_fault_replies_look_like_the_platform),
		cmocka_unit_test(test_linkedin_answers_per_element_or_422),
		cmocka_unit_test(test_snapchat_refuses_whole_batches_and_validates),
		cmocka_unit_test(test_pinterest_answers_each_event),
		cmocka_unit_test(test_reddit_lists_invalid_events_or_fails_the_batch),
		cmocka_unit_test(test_new_fault_replies_look_like_the_platform),
	};

	return cmocka_run_group_tests_name("mock_routes", tests, setup, teardown);
}
