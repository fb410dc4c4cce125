// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "compiler.h"
#include "event_json.h"
#include "event_test.h"

static enum pxd_refusal parse(struct event_fixture *f, const char *body)
{
	pxd_event_json_free(&f->ej);
	memset(f->detail, 0, sizeof(f->detail));
	return pxd_event_json_parse(&f->ej, body, strlen(body), f->detail, sizeof(f->detail));
}

static enum pxd_refusal get(struct event_fixture *f, size_t i)
{
	memset(f->detail, 0, sizeof(f->detail));
	return pxd_event_json_get(&f->ej, i, NOW_MS, &f->ev, f->scratch, sizeof(f->scratch),
				  f->detail, sizeof(f->detail));
}

static const char full_body[] =
    "{\"event_id\":\"evt-1\",\"event\":\"Purchase\",\"ts\":1732300000123,"
    "\"url\":\"https://shop.example/checkout\",\"referrer\":\"https://search.example/\","
    "\"user\":{\"id\":\"u-42\",\"anon_id\":\"a-1\",\"email\":\"  Test@Example.COM \","
    "\"phone\":\"+1 (650) 555-1234\",\"first_name\":\"John\",\"last_name\":\"Smith\","
    "\"city\":\"Menlo Park\",\"state\":\"CA\",\"zip\":\"94025-1234\",\"country\":\"US\","
    "\"gender\":\"Female\",\"dob\":\"1990-01-01\"},"
    "\"click\":{\"fbc\":\"fb.1.1554763741205.IwAR\",\"fbp\":\"fb.1.1596403881668.1116446470\","
    "\"gclid\":\"g\",\"wbraid\":\"w\",\"gbraid\":\"gb\",\"ttclid\":\"E.C.P.t\",\"ttp\":\"tp\","
    "\"li_fat_id\":\"li\",\"sccid\":\"sc\",\"epik\":\"ep\",\"rdt_cid\":\"rd\",\"msclkid\":\"ms\"},"
    "\"props\":{\"value\":99.99,\"currency\":\"usd\",\"order_id\":\"o-1\","
    "\"content_ids\":[\"a\",\"b\"],\"contents\":[{\"id\":\"a\",\"quantity\":1,\"price\":9.99},"
    "{\"id\":\"b\"}],\"num_items\":2,\"coupon\":\"X \\u00e9\\n\",\"gone\":null,"
    "\"deep\":{\"k\":[1.5e3,true,false,null,-7]}},"
    "\"consent\":{\"ad_storage\":\"granted\",\"ad_user_data\":\"granted\","
    "\"ad_personalization\":\"denied\",\"analytics_storage\":\"denied\"}}";

static void test_single_event_fills_every_field(void **state)
{
	static const char *const clicks[PXD_CLICK_FIELD_COUNT] = {
		"fb.1.1554763741205.IwAR",
		"fb.1.1596403881668.1116446470",
		"g",
		"w",
		"gb",
		"E.C.P.t",
		"tp",
		"li",
		"sc",
		"ep",
		"rd",
		"ms",
	};
	struct event_fixture *f = *state;
	struct pxd_event *ev = &f->ev;

	assert_int_equal(parse(f, full_body), PXD_REFUSAL_NONE);
	assert_int_equal(f->ej.n, 1);
	assert_null(f->ej.batch);
	assert_int_equal(get(f, 0), PXD_REFUSAL_NONE);
	assert_int_equal(ev->source, PXD_EVENT_SOURCE_BEACON);
	event_assert_sv(ev->event_id, "evt-1");
	event_assert_sv(ev->name, "Purchase");
	assert_true(ev->has_ts);
	assert_int_equal(ev->ts, 1732300000123);
	event_assert_sv(ev->url, "https://shop.example/checkout");
	event_assert_sv(ev->referrer, "https://search.example/");
	event_assert_sv(ev->user[PXD_USER_FIELD_ID], "u-42");
	event_assert_sv(ev->user[PXD_USER_FIELD_EMAIL], "  Test@Example.COM ");
	event_assert_sv(ev->user[PXD_USER_FIELD_DOB], "1990-01-01");
	event_assert_sv(ev->user[PXD_USER_FIELD_GENDER], "Female");
	for (int i = 0; i < PXD_CLICK_FIELD_COUNT; i++)
		event_assert_sv(ev->click[i], clicks[i]);
	assert_int_equal(ev->consent[PXD_CONSENT_FIELD_AD_STORAGE], PXD_CONSENT_GRANTED);
	assert_int_equal(ev->consent[PXD_CONSENT_FIELD_AD_USER_DATA], PXD_CONSENT_GRANTED);
	assert_int_equal(ev->consent[PXD_CONSENT_FIELD_AD_PERSONALIZATION], PXD_CONSENT_DENIED);
	assert_int_equal(ev->consent[PXD_CONSENT_FIELD_ANALYTICS_STORAGE], PXD_CONSENT_DENIED);
	assert_true(ev->has_value);
	assert_true(ev->value == 99.99);
	event_assert_sv(ev->currency, "usd");
	event_assert_sv(ev->order_id, "o-1");
	/* compact, in the client's order, nulls dropped, currency upper-cased */
	event_assert_sv(
	    ev->props_json,
	    "{\"value\":99.99,\"currency\":\"USD\",\"order_id\":\"o-1\","
	    "\"content_ids\":[\"a\",\"b\"],\"contents\":[{\"id\":\"a\",\"quantity\":1,"
	    "\"price\":9.99},{\"id\":\"b\"}],\"num_items\":2,\"coupon\":\"X \xc3\xa9\\n\","
	    "\"deep\":{\"k\":[1500,true,false,null,-7]}}");
	assert_ptr_equal(ev->props_json.p, f->scratch);
}

/* The beacon path end to end: body -> event -> the canonical record. */
static void test_single_event_serializes(void **state)
{
	struct event_fixture *f = *state;
	ssize_t n;

	assert_int_equal(parse(f, full_body), PXD_REFUSAL_NONE);
	assert_int_equal(get(f, 0), PXD_REFUSAL_NONE);
	f->ev.received_at = NOW_MS;
	n = pxd_event_serialize(&f->ev, NOW_MS, &f->uuid, f->line, sizeof(f->line));
	assert_true(n > 0);
	assert_non_null(strstr(f->line,
			       "\"email_sha256\":\"973dfe463ec85785f5f95af5ba3906eedb2d931c"
			       "24e69824a89ea65dba4e813b\",\"phone_sha256\""));
	assert_non_null(strstr(f->line, ",\"props\":{\"value\":99.99,\"currency\":\"USD\","));
	assert_null(strstr(f->line, "Example"));
	assert_null(strstr(f->line, "Smith"));
}

static void test_batch_reads_each_event(void **state)
{
	struct event_fixture *f = *state;

	assert_int_equal(parse(f,
			       "{\"batch\":[{\"event\":\"A\"},{\"event\":\"B\",\"ts\":1732300000},"
			       "{\"event\":\"C\",\"props\":{\"x\":1}}]}"),
			 PXD_REFUSAL_NONE);
	assert_int_equal(f->ej.n, 3);
	assert_int_equal(get(f, 0), PXD_REFUSAL_NONE);
	event_assert_sv(f->ev.name, "A");
	assert_false(f->ev.has_ts);
	assert_int_equal(f->ev.props_json.n, 0);
	assert_int_equal(get(f, 1), PXD_REFUSAL_NONE);
	event_assert_sv(f->ev.name, "B");
	assert_int_equal(f->ev.ts, 1732300000);
	assert_int_equal(get(f, 2), PXD_REFUSAL_NONE);
	event_assert_sv(f->ev.name, "C");
	event_assert_sv(f->ev.props_json, "{\"x\":1}");
	assert_int_equal(get(f, 3), PXD_REFUSAL_INTERNAL);
}

static char *make_batch(int n)
{
	size_t cap = 32 + (size_t)n * 24;
	char *body = malloc(cap);
	size_t len = 0;

	assert_non_null(body);
	len += (size_t)snprintf(body, cap, "{\"batch\":[");
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(body + len, cap - len, "%s{\"event\":\"E%d\"}",
					i ? "," : "", i);
	snprintf(body + len, cap - len, "]}");
	return body;
}

static void test_batch_500_accepted_501_refused(void **state)
{
	struct event_fixture *f = *state;
	char *body = make_batch(500);

	assert_int_equal(parse(f, body), PXD_REFUSAL_NONE);
	assert_int_equal(f->ej.n, 500);
	assert_int_equal(get(f, 499), PXD_REFUSAL_NONE);
	event_assert_sv(f->ev.name, "E499");
	free(body);

	body = make_batch(501);
	assert_int_equal(parse(f, body), PXD_REFUSAL_BATCH_TOO_LARGE);
	assert_string_equal(f->detail, "batch: 501 events; send at most 500 per request");
	assert_null(f->ej.root);
	assert_int_equal(f->ej.n, 0);
	free(body);
}

struct body_case {
	const char *body;
	enum pxd_refusal r;
	const char *detail;
};

static void test_body_shape_refusals(void **state)
{
	static const struct body_case cases[] = {
		{ "[{\"event\":\"A\"}]", PXD_REFUSAL_BAD_EVENT,
		  "body: must be a JSON object: one event, or {\"batch\":[...]}" },
		{ "\"PageView\"", PXD_REFUSAL_BAD_JSON,
		  "line 1 column 10: '[' or '{' expected near '\"PageView\"'" },
		{ "{\"batch\":{}}", PXD_REFUSAL_BAD_EVENT,
		  "batch: must be an array of 1..500 events" },
		{ "{\"batch\":[]}", PXD_REFUSAL_BAD_EVENT,
		  "batch: must be an array of 1..500 events" },
		{ "{\"batch\":[{\"event\":\"A\"}],\"sent_at\":1}", PXD_REFUSAL_BAD_EVENT,
		  "body: \"batch\" must be the only top-level key" },
		{ "{\"event\":\n\"x\",\n}", PXD_REFUSAL_BAD_JSON,
		  "line 3 column 1: string or '}' expected near '}'" },
		{ "{\"event\":\"A\",\"event\":\"B\"}", PXD_REFUSAL_BAD_JSON,
		  "line 1 column 20: duplicate object key near '\"event\"'" },
		{ "", PXD_REFUSAL_BAD_JSON,
		  "line 1 column 0: '[' or '{' expected near end of file" },
		{ "{\"event\":\"A\"} x", PXD_REFUSAL_BAD_JSON,
		  "line 1 column 15: end of file expected near 'x'" },
		{ "{\"event\":\"a\\u0000b\"}", PXD_REFUSAL_BAD_JSON,
		  "line 1 column 19: \\u0000 is not allowed without JSON_ALLOW_NUL near "
		  "'\"a\\u0000b\"'" },
		{ "{\"event\":\"\xff\"}", PXD_REFUSAL_BAD_JSON,
		  "line 1 column 10: unable to decode byte 0xff near '\"'" },
	};
	struct event_fixture *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(parse(f, cases[i].body), cases[i].r);
		assert_string_equal(f->detail, cases[i].detail);
		assert_null(f->ej.root);
	}
}

struct event_case {
	const char *event; /* one event object, tested alone and as batch[1] */
	const char *detail;
};

/* Every class of detail get() produces, each once. */
static const struct event_case event_cases[] = {
	/* wrong types */
	{ "{\"event\":1}", "event: must be a string" },
	{ "{\"event\":\"A\",\"event_id\":[]}", "event_id: must be a string" },
	{ "{\"event\":\"A\",\"url\":{}}", "url: must be a string" },
	{ "{\"event\":\"A\",\"referrer\":true}", "referrer: must be a string" },
	{ "{\"event\":\"A\",\"ts\":\"1732300000123\"}",
	  "ts: must be an integer (Unix milliseconds)" },
	{ "{\"event\":\"A\",\"ts\":1732300000.5}", "ts: must be an integer (Unix milliseconds)" },
	{ "{\"event\":\"A\",\"user\":{\"email\":42}}", "user.email: must be a string" },
	{ "{\"event\":\"A\",\"user\":[]}", "user: must be an object" },
	{ "{\"event\":\"A\",\"click\":{\"gclid\":1}}", "click.gclid: must be a string" },
	{ "{\"event\":\"A\",\"click\":\"g\"}", "click: must be an object" },
	{ "{\"event\":\"A\",\"consent\":[]}", "consent: must be an object" },
	/* unknown keys */
	{ "{\"event\":\"A\",\"foo\":1}", "unknown top-level key \"foo\"" },
	{ "{\"event\":\"A\",\"user\":{\"mail\":\"x\"}}", "user: unknown key \"mail\"" },
	{ "{\"event\":\"A\",\"click\":{\"fbclid\":\"x\"}}", "click: unknown key \"fbclid\"" },
	{ "{\"event\":\"A\",\"consent\":{\"ads\":\"granted\"}}", "consent: unknown key \"ads\"" },
	{ "{\"event\":\"A\",\"k\\\"\\n\\u00e9y0123456789012345678901234567890\":1}",
	  "unknown top-level key \"k????y01234567890123456789012345...\"" },
	/* consent values (refused by the event check) */
	{ "{\"event\":\"A\",\"consent\":{\"ad_storage\":\"yes\"}}",
	  "consent.ad_storage: must be \"granted\" or \"denied\"" },
	{ "{\"event\":\"A\",\"consent\":{\"analytics_storage\":true}}",
	  "consent.analytics_storage: must be \"granted\" or \"denied\"" },
	/* props */
	{ "{\"event\":\"A\",\"props\":[]}", "props: must be an object" },
	{ "{\"event\":\"A\",\"props\":{\"value\":-1}}",
	  "props.value: must be a non-negative number" },
	{ "{\"event\":\"A\",\"props\":{\"value\":\"9.99\"}}",
	  "props.value: must be a non-negative number" },
	{ "{\"event\":\"A\",\"props\":{\"currency\":840}}", "props.currency: must be a string" },
	{ "{\"event\":\"A\",\"props\":{\"currency\":\"US\"}}",
	  "props.currency: must be a 3-letter ISO 4217 code such as \"USD\"" },
	{ "{\"event\":\"A\",\"props\":{\"order_id\":12}}", "props.order_id: must be a string" },
	{ "{\"event\":\"A\",\"props\":{\"content_ids\":\"a\"}}",
	  "props.content_ids: must be an array of at most 1000 strings" },
	{ "{\"event\":\"A\",\"props\":{\"content_ids\":[\"a\",1]}}",
	  "props.content_ids[1]: must be a string" },
	{ "{\"event\":\"A\",\"props\":{\"contents\":{}}}",
	  "props.contents: must be an array of at most 1000 objects" },
	{ "{\"event\":\"A\",\"props\":{\"contents\":[{\"id\":\"a\"},\"b\"]}}",
	  "props.contents[1]: must be an object" },
	{ "{\"event\":\"A\",\"props\":{\"contents\":[{\"quantity\":1}]}}",
	  "props.contents[0].id: must be a string" },
	{ "{\"event\":\"A\",\"props\":{\"contents\":[{\"id\":\"a\",\"quantity\":-1}]}}",
	  "props.contents[0].quantity: must be a non-negative integer" },
	{ "{\"event\":\"A\",\"props\":{\"contents\":[{\"id\":\"a\",\"quantity\":1.5}]}}",
	  "props.contents[0].quantity: must be a non-negative integer" },
	{ "{\"event\":\"A\",\"props\":{\"contents\":[{\"id\":\"a\",\"price\":-0.5}]}}",
	  "props.contents[0].price: must be a non-negative number" },
	{ "{\"event\":\"A\",\"props\":{\"num_items\":-2}}",
	  "props.num_items: must be a non-negative integer" },
	{ "{\"event\":\"A\",\"props\":{\"num_items\":2.0}}",
	  "props.num_items: must be a non-negative integer" },
	/* the event check, through the same prefix */
	{ "{\"event_id\":\"x\"}", "event: required; name the event, e.g. \"PageView\"" },
	{ "{\"event\":\"A\",\"ts\":99999999999999}",
	  "ts: more than 10 minutes in the future; send Unix milliseconds" },
};

static void test_event_detail_classes(void **state)
{
	struct event_fixture *f = *state;
	char body[512];
	char want[300];

	for (size_t i = 0; i < ARRAY_SIZE(event_cases); i++) {
		assert_int_equal(parse(f, event_cases[i].event), PXD_REFUSAL_NONE);
		assert_int_equal(get(f, 0), PXD_REFUSAL_BAD_EVENT);
		assert_string_equal(f->detail, event_cases[i].detail);

		snprintf(body, sizeof(body), "{\"batch\":[{\"event\":\"ok\"},%s]}",
			 event_cases[i].event);
		snprintf(want, sizeof(want), "batch[1].%s", event_cases[i].detail);
		assert_int_equal(parse(f, body), PXD_REFUSAL_NONE);
		assert_int_equal(get(f, 0), PXD_REFUSAL_NONE);
		assert_int_equal(get(f, 1), PXD_REFUSAL_BAD_EVENT);
		assert_string_equal(f->detail, want);
	}
}

static void test_batch_element_not_object(void **state)
{
	struct event_fixture *f = *state;

	assert_int_equal(parse(f, "{\"batch\":[{\"event\":\"A\"},[]]}"), PXD_REFUSAL_NONE);
	assert_int_equal(get(f, 1), PXD_REFUSAL_BAD_EVENT);
	assert_string_equal(f->detail, "batch[1]: must be an object");
}

static void test_item_limits(void **state)
{
	struct event_fixture *f = *state;
	size_t cap = 16384;
	char *body = malloc(cap);
	size_t len;

	assert_non_null(body);
	for (int n = 1000; n <= 1001; n++) {
		len = (size_t)snprintf(body, cap, "{\"event\":\"A\",\"props\":{\"content_ids\":[");
		for (int i = 0; i < n; i++)
			len += (size_t)snprintf(body + len, cap - len, "%s\"i\"", i ? "," : "");
		snprintf(body + len, cap - len, "]}}");
		assert_int_equal(parse(f, body), PXD_REFUSAL_NONE);
		assert_int_equal(get(f, 0), n == 1000 ? PXD_REFUSAL_NONE : PXD_REFUSAL_BAD_EVENT);
	}
	assert_string_equal(f->detail,
			    "props.content_ids: must be an array of at most 1000 strings");
	free(body);
}

static void test_props_depth_limit(void **state)
{
	struct event_fixture *f = *state;
	char body[256];
	size_t len;

	/* props itself is level 1: 31 more levels pass, 32 do not */
	for (int extra = 31; extra <= 32; extra++) {
		len = (size_t)snprintf(body, sizeof(body), "{\"event\":\"A\",\"props\":{\"d\":");
		for (int i = 0; i < extra; i++)
			body[len++] = '[';
		for (int i = 0; i < extra; i++)
			body[len++] = ']';
		snprintf(body + len, sizeof(body) - len, "}}");
		assert_int_equal(parse(f, body), PXD_REFUSAL_NONE);
		assert_int_equal(get(f, 0), extra == 31 ? PXD_REFUSAL_NONE : PXD_REFUSAL_BAD_EVENT);
	}
	assert_string_equal(f->detail, "props: nested deeper than 32 levels");
}

static void test_props_too_large_for_scratch(void **state)
{
	struct event_fixture *f = *state;

	assert_int_equal(parse(f, "{\"event\":\"A\",\"props\":{\"n\":1e9}}"), PXD_REFUSAL_NONE);
	assert_int_equal(pxd_event_json_get(&f->ej, 0, NOW_MS, &f->ev, f->scratch, 12, f->detail,
					    sizeof(f->detail)),
			 PXD_REFUSAL_BAD_EVENT);
	assert_string_equal(f->detail, "props: larger than 11 bytes once serialized; send less");
	assert_int_equal(pxd_event_json_get(&f->ej, 0, NOW_MS, &f->ev, f->scratch, 17, f->detail,
					    sizeof(f->detail)),
			 PXD_REFUSAL_NONE);
	event_assert_sv(f->ev.props_json, "{\"n\":1000000000}");
}

static void test_null_members_are_absent(void **state)
{
	struct event_fixture *f = *state;

	assert_int_equal(parse(f, "{\"event\":\"A\",\"event_id\":null,\"ts\":null,\"url\":null,"
				  "\"user\":{\"email\":null},\"click\":null,\"consent\":"
				  "{\"ad_storage\":null},\"props\":{\"value\":null,\"x\":null}}"),
			 PXD_REFUSAL_NONE);
	assert_int_equal(get(f, 0), PXD_REFUSAL_NONE);
	assert_null(f->ev.event_id.p);
	assert_false(f->ev.has_ts);
	assert_null(f->ev.url.p);
	assert_null(f->ev.user[PXD_USER_FIELD_EMAIL].p);
	assert_int_equal(f->ev.consent[PXD_CONSENT_FIELD_AD_STORAGE], PXD_CONSENT_UNSET);
	assert_false(f->ev.has_value);
	event_assert_sv(f->ev.props_json, "{}");
}

/* Every prefix of a valid body is refused as BAD_JSON, never read past. */
static void test_every_truncated_prefix_is_refused(void **state)
{
	struct event_fixture *f = *state;
	size_t len = strlen(full_body);

	for (size_t n = 0; n < len; n++) {
		char *copy = malloc(n ? n : 1);

		assert_non_null(copy);
		memcpy(copy, full_body, n);
		pxd_event_json_free(&f->ej);
		assert_int_equal(
		    pxd_event_json_parse(&f->ej, copy, n, f->detail, sizeof(f->detail)),
		    PXD_REFUSAL_BAD_JSON);
		free(copy);
	}
}

/* With the thread's arena bound, a whole batch is parsed and read out
 * without a single allocation reaching malloc. */
static void test_batch_parses_inside_arena(void **state)
{
	struct event_fixture *f = *state;
	struct pxd_arena arena;
	char *body = make_batch(500);

	assert_int_equal(pxd_arena_init(&arena, PXD_ARENA_DEFAULT_SIZE), 0);
	assert_int_equal(parse(f, body), PXD_REFUSAL_NONE);
	for (size_t i = 0; i < f->ej.n; i++)
		assert_int_equal(get(f, i), PXD_REFUSAL_NONE);
	pxd_event_json_free(&f->ej);
	assert_true(arena.high_water > 0);
	assert_int_equal(arena.fallbacks, 0);
	pxd_arena_reset(&arena);
	pxd_arena_fini(&arena);
	free(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_single_event_fills_every_field, event_setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_single_event_serializes, event_setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_batch_reads_each_event, event_setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_batch_500_accepted_501_refused, event_setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_body_shape_refusals, event_setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_event_detail_classes, event_setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_batch_element_not_object, event_setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_item_limits, event_setup, event_teardown),
		cmocka_unit_test_setup_teardown(test_props_depth_limit, event_setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_props_too_large_for_scratch, event_setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_null_members_are_absent, event_setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_every_truncated_prefix_is_refused, event_setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_batch_parses_inside_arena, event_setup,
						event_teardown),
	};

	pxd_arena_install_jansson();
	return cmocka_run_group_tests_name("event_json", tests, NULL, NULL);
}
