// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "event.h"
#include "event_test.h"

#define SET(field, lit) ((field) = PXD_SV(lit))

/* Every field set, the direct identifiers in the raw forms of specs §4. */
static void fill_full(struct pxd_event *ev)
{
	pxd_event_reset(ev);
	SET(ev->event_id, "evt-1");
	SET(ev->name, "Purchase");
	ev->ts = 1732300000; /* seconds */
	ev->has_ts = true;
	SET(ev->url, "https://shop.example/checkout?a=1&b=\"x\"");
	SET(ev->referrer, "https://search.example/");
	SET(ev->user[PXD_USER_FIELD_ID], "u-42");
	SET(ev->user[PXD_USER_FIELD_ANON_ID], "a-1");
	SET(ev->user[PXD_USER_FIELD_EMAIL], "John.Smith@gmail.com");
	SET(ev->user[PXD_USER_FIELD_PHONE], "+1 (650) 555-1234");
	SET(ev->user[PXD_USER_FIELD_FIRST_NAME], " John ");
	SET(ev->user[PXD_USER_FIELD_LAST_NAME], "Smith");
	SET(ev->user[PXD_USER_FIELD_CITY], "Menlo Park");
	SET(ev->user[PXD_USER_FIELD_STATE], "CA");
	SET(ev->user[PXD_USER_FIELD_ZIP], "94025-1234");
	SET(ev->user[PXD_USER_FIELD_COUNTRY], "US");
	SET(ev->user[PXD_USER_FIELD_GENDER], "Male");
	SET(ev->user[PXD_USER_FIELD_DOB], "1990-01-01");
	SET(ev->click[PXD_CLICK_FIELD_FBC], "fb.1.1554763741205.IwAR2F4");
	SET(ev->click[PXD_CLICK_FIELD_GCLID], "Cj0KCQiA");
	SET(ev->click[PXD_CLICK_FIELD_MSCLKID], "ms-9");
	ev->consent[PXD_CONSENT_FIELD_AD_STORAGE] = PXD_CONSENT_GRANTED;
	ev->consent[PXD_CONSENT_FIELD_AD_PERSONALIZATION] = PXD_CONSENT_DENIED;
	ev->value = 99.99;
	ev->has_value = true;
	SET(ev->currency, "usd");
	SET(ev->order_id, "o-1");
	ev->received_at = NOW_MS;
	ev->source = PXD_EVENT_SOURCE_BEACON;
	SET(ev->ip, "203.0.113.9");
	SET(ev->user_agent, "Mozilla/5.0");
	SET(ev->tenant, "shop");
	SET(ev->host, "t.shop.example");
	SET(ev->fp_id, "fp-1");
}

static const char full_record[] =
    "{\"v\":1,\"event_id\":\"evt-1\",\"event\":\"Purchase\",\"ts\":1732300000000,"
    "\"received_at\":1732300000456,\"source\":\"beacon\",\"tenant\":\"shop\","
    "\"host\":\"t.shop.example\",\"url\":\"https://shop.example/checkout?a=1&b=\\\"x\\\"\","
    "\"referrer\":\"https://search.example/\",\"ip\":\"203.0.113.9\",\"ua\":\"Mozilla/5.0\","
    "\"fp_id\":\"fp-1\",\"user\":{\"id\":\"u-42\",\"anon_id\":\"a-1\","
    "\"email_sha256\":\"d0c648bc36f12061bec770df216cea2ab95851b9350fd54b658de53b0407767a\","
    "\"email_google_sha256\":"
    "\"3586de92bb3636d0885a12eff961429a32e4ebd764b96f50d85d016f9338d586\","
    "\"phone_sha256\":\"6069d14bf122fdfd931dc7beb58e5dfbba395b1faf05bdcd42d12358d63d8599\","
    "\"phone_e164_sha256\":"
    "\"a2996076d3ad4af5dc818b908b3d8e354f26ededf7df0e0aa6ac354143805ee0\","
    "\"first_name_sha256\":"
    "\"96d9632f363564cc3032521409cf22a852f2032eec099ed5967c0d000cec607a\","
    "\"last_name_sha256\":"
    "\"6627835f988e2c5e50533d491163072d3f4f41f5c8b04630150debb3722ca2dd\","
    "\"gender_sha256\":\"62c66a7a5dd70c3146618063c344e531e6d4b59e379808443ce962b3abd63c5a\","
    "\"dob_sha256\":\"d6165fc8037886424321260c0f9c2a76f7d8d545a02f95c70da9952a13299f33\","
    "\"city\":\"menlopark\",\"state\":\"ca\",\"zip\":\"94025\",\"country\":\"us\"},"
    "\"click\":{\"fbc\":\"fb.1.1554763741205.IwAR2F4\",\"gclid\":\"Cj0KCQiA\","
    "\"msclkid\":\"ms-9\"},"
    "\"props\":{\"value\":99.99,\"currency\":\"USD\",\"order_id\":\"o-1\"},"
    "\"consent\":{\"ad_storage\":\"granted\",\"ad_personalization\":\"denied\"}}";

static int setup(void **state)
{
	if (event_setup(state))
		return -1;
	fill_full(&((struct event_fixture *)*state)->ev);
	return 0;
}

static void test_full_event_serializes_exactly(void **state)
{
	struct event_fixture *f = *state;
	ssize_t n;

	assert_int_equal(pxd_event_check(&f->ev, NOW_MS, f->detail, sizeof(f->detail)),
			 PXD_REFUSAL_NONE);
	n = pxd_event_serialize(&f->ev, NOW_MS, &f->uuid, f->line, sizeof(f->line));
	assert_int_equal(n, strlen(full_record));
	assert_string_equal(f->line, full_record);
	/* no plain direct identifier survives */
	assert_null(strstr(f->line, "ohn"));
	assert_null(strstr(f->line, "mith"));
	assert_null(strstr(f->line, "gmail"));
	assert_null(strstr(f->line, "(650)"));
	assert_null(strstr(f->line, "ale\""));
	assert_null(strstr(f->line, "1990"));
	assert_null(strchr(f->line, '\n'));
}

static void test_defaults_filled_when_absent(void **state)
{
	struct event_fixture *f = *state;
	struct pxd_event *ev = &f->ev;
	ssize_t n;

	pxd_event_reset(ev);
	SET(ev->name, "PageView");
	n = pxd_event_serialize(ev, NOW_MS, &f->uuid, f->line, sizeof(f->line));
	assert_true(n > 0);
	/* received_at and ts from the clock, a UUIDv7 made of the same ms */
	assert_int_equal(ev->received_at, NOW_MS);
	assert_int_equal(ev->ts, NOW_MS);
	assert_ptr_equal(ev->event_id.p, ev->_id_buf);
	assert_int_equal(ev->event_id.n, PXD_UUID7_LEN);
	assert_memory_equal(ev->_id_buf, "01935520-4cc8-7", 15);
	assert_memory_equal(f->line, "{\"v\":1,\"event_id\":\"01935520-4cc8-7", 34);
	assert_string_equal(f->line + 34 + PXD_UUID7_LEN - 15,
			    "\",\"event\":\"PageView\",\"ts\":1732300000456,"
			    "\"received_at\":1732300000456,\"source\":\"pixel\"}");
}

static void test_props_json_and_custom_props(void **state)
{
	struct event_fixture *f = *state;
	struct pxd_event *ev = &f->ev;

	pxd_event_reset(ev);
	SET(ev->event_id, "e");
	SET(ev->name, "Lead");
	ev->received_at = NOW_MS;
	ev->value = 5;
	ev->has_value = true;
	SET(ev->props_json, "{\"value\":5,\"contents\":[{\"id\":\"a\"}]}");
	assert_true(pxd_event_serialize(ev, NOW_MS, &f->uuid, f->line, sizeof(f->line)) > 0);
	assert_string_equal(f->line,
			    "{\"v\":1,\"event_id\":\"e\",\"event\":\"Lead\",\"ts\":1732300000456,"
			    "\"received_at\":1732300000456,\"source\":\"pixel\","
			    "\"props\":{\"value\":5,\"contents\":[{\"id\":\"a\"}]}}");

	pxd_event_reset(ev);
	SET(ev->event_id, "e");
	SET(ev->name, "Lead");
	ev->received_at = NOW_MS;
	ev->custom[0].name = PXD_SV("plan");
	ev->custom[0].value = PXD_SV("pro \"x\"");
	ev->custom[1].name = PXD_SV("n");
	ev->custom[1].value = PXD_SV("");
	ev->ncustom = 2;
	assert_true(pxd_event_serialize(ev, NOW_MS, &f->uuid, f->line, sizeof(f->line)) > 0);
	assert_non_null(strstr(f->line, ",\"props\":{\"plan\":\"pro \\\"x\\\"\",\"n\":\"\"}}"));
}

/* Address fields already hashed by the client stay as sent; invalid PII
 * (a 3-digit phone, an unknown gender) is left out, never hashed empty. */
static void test_user_edge_values(void **state)
{
	static const char h[] = "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621";
	struct event_fixture *f = *state;
	struct pxd_event *ev = &f->ev;

	pxd_event_reset(ev);
	SET(ev->event_id, "e");
	SET(ev->name, "Lead");
	ev->received_at = NOW_MS;
	ev->user[PXD_USER_FIELD_COUNTRY] = PXD_SV(h);
	SET(ev->user[PXD_USER_FIELD_PHONE], "123");
	SET(ev->user[PXD_USER_FIELD_GENDER], "other");
	SET(ev->user[PXD_USER_FIELD_FIRST_NAME], "  ");
	assert_true(pxd_event_serialize(ev, NOW_MS, &f->uuid, f->line, sizeof(f->line)) > 0);
	assert_non_null(strstr(f->line,
			       ",\"source\":\"pixel\",\"user\":{\"country\":\"79adb2a2fce5c6ba"
			       "215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621\"}}"));
}

/* A phone and email that came hashed go out with the E.164 and Google forms
 * sent beside them; a variant that is not a SHA-256 is refused; beside a
 * plain value the sent variant is ignored (pixeld derives its own). */
static void test_hashed_variants_sent_beside(void **state)
{
	static const char ph[] = "1111111111111111111111111111111111111111111111111111111111111111";
	static const char e164[] =
	    "2222222222222222222222222222222222222222222222222222222222222222";
	static const char em[] = "3333333333333333333333333333333333333333333333333333333333333333";
	static const char gm[] = "4444444444444444444444444444444444444444444444444444444444444444";
	struct event_fixture *f = *state;
	struct pxd_event *ev = &f->ev;

	pxd_event_reset(ev);
	SET(ev->event_id, "e");
	SET(ev->name, "Lead");
	ev->received_at = NOW_MS;
	ev->user[PXD_USER_FIELD_PHONE] = PXD_SV(ph);
	ev->user[PXD_USER_FIELD_PHONE_E164_SHA256] = PXD_SV(e164);
	ev->user[PXD_USER_FIELD_EMAIL] = PXD_SV(em);
	ev->user[PXD_USER_FIELD_EMAIL_GOOGLE_SHA256] = PXD_SV(gm);
	assert_int_equal(pxd_event_check(ev, NOW_MS, f->detail, sizeof(f->detail)),
			 PXD_REFUSAL_NONE);
	assert_true(pxd_event_serialize(ev, NOW_MS, &f->uuid, f->line, sizeof(f->line)) > 0);
	assert_non_null(strstr(f->line, "\"email_google_sha256\":\"4444"));
	assert_non_null(strstr(f->line, "\"phone_e164_sha256\":\"2222"));
	assert_non_null(strstr(f->line, "\"phone_sha256\":\"1111"));

	SET(ev->user[PXD_USER_FIELD_PHONE], "+1 555 123 4567");
	assert_true(pxd_event_serialize(ev, NOW_MS, &f->uuid, f->line, sizeof(f->line)) > 0);
	assert_null(strstr(f->line, "2222"));

	SET(ev->user[PXD_USER_FIELD_PHONE_E164_SHA256], "not-a-hash");
	assert_int_equal(pxd_event_check(ev, NOW_MS, f->detail, sizeof(f->detail)),
			 PXD_REFUSAL_BAD_EVENT);
	assert_non_null(strstr(f->detail, "user.phone_e164_sha256: must be 64 lowercase hex"));
}

static void test_check_accepts_limits(void **state)
{
	struct event_fixture *f = *state;
	struct pxd_event *ev = &f->ev;
	char name[PXD_EVENT_NAME_MAX];
	char url[PXD_EVENT_URL_MAX];

	memset(name, 'a', sizeof(name));
	memset(url, 'u', sizeof(url));
	ev->name = pxd_sv_make(name, sizeof(name));
	ev->url = pxd_sv_make(url, sizeof(url));
	ev->event_id = pxd_sv_make(name, sizeof(name));
	ev->ts = NOW_MS + PXD_EVENT_FUTURE_MS;
	ev->value = 0;
	assert_int_equal(pxd_event_check(ev, NOW_MS, f->detail, sizeof(f->detail)),
			 PXD_REFUSAL_NONE);
	ev->ts = PXD_EVENT_MIN_TS_MS;
	assert_int_equal(pxd_event_check(ev, NOW_MS, f->detail, sizeof(f->detail)),
			 PXD_REFUSAL_NONE);
	ev->ts = PXD_EVENT_MIN_TS_MS / 1000; /* the same instant in seconds */
	assert_int_equal(pxd_event_check(ev, NOW_MS, f->detail, sizeof(f->detail)),
			 PXD_REFUSAL_NONE);
	SET(ev->name, "Add To-Cart_2.0");
	SET(ev->event_id, "a b!#$%&'()*+,-./:;<=>?@[]^_`{|}~");
	assert_int_equal(pxd_event_check(ev, NOW_MS, f->detail, sizeof(f->detail)),
			 PXD_REFUSAL_NONE);
}

/* One row per rule: a change to the valid full event and the detail. */
struct bad_case {
	void (*mutate)(struct pxd_event *ev);
	const char *detail;
};

static void no_name(struct pxd_event *ev)
{
	ev->name = PXD_SV_NULL;
}

static void long_name(struct pxd_event *ev)
{
	SET(ev->name, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"); /* 65 */
}

static void bad_name_char(struct pxd_event *ev)
{
	SET(ev->name, "Purchase!");
}

static void empty_event_id(struct pxd_event *ev)
{
	SET(ev->event_id, "");
}

static void quote_in_event_id(struct pxd_event *ev)
{
	SET(ev->event_id, "a\"b");
}

static void control_in_event_id(struct pxd_event *ev)
{
	SET(ev->event_id, "a\tb");
}

static void long_event_id(struct pxd_event *ev)
{
	SET(ev->event_id, "0123456789012345678901234567890123456789012345678901234567890123x");
}

static void future_ts(struct pxd_event *ev)
{
	ev->ts = NOW_MS + PXD_EVENT_FUTURE_MS + 1;
}

static void future_ts_seconds(struct pxd_event *ev)
{
	ev->ts = NOW_MS / 1000 + 601;
}

static void old_ts(struct pxd_event *ev)
{
	ev->ts = PXD_EVENT_MIN_TS_MS - 1;
}

static void negative_ts(struct pxd_event *ev)
{
	ev->ts = INT64_MIN;
}

static void long_url(struct pxd_event *ev)
{
	static char url[PXD_EVENT_URL_MAX + 1];

	memset(url, 'u', sizeof(url));
	ev->url = pxd_sv_make(url, sizeof(url));
}

static void long_referrer(struct pxd_event *ev)
{
	static char url[PXD_EVENT_URL_MAX + 1];

	memset(url, 'r', sizeof(url));
	ev->referrer = pxd_sv_make(url, sizeof(url));
}

static void negative_value(struct pxd_event *ev)
{
	ev->value = -0.01;
}

static void nan_value(struct pxd_event *ev)
{
	ev->value = NAN;
}

static void inf_value(struct pxd_event *ev)
{
	ev->value = INFINITY;
}

static void bad_currency_len(struct pxd_event *ev)
{
	SET(ev->currency, "EURO");
}

static void bad_currency_char(struct pxd_event *ev)
{
	SET(ev->currency, "U$D");
}

static void empty_currency(struct pxd_event *ev)
{
	SET(ev->currency, "");
}

static void bad_consent(struct pxd_event *ev)
{
	ev->consent[PXD_CONSENT_FIELD_AD_USER_DATA] = PXD_CONSENT_INVALID;
}

static void long_email(struct pxd_event *ev)
{
	static char v[PXD_EVENT_USER_MAX + 1];

	memset(v, 'e', sizeof(v));
	ev->user[PXD_USER_FIELD_EMAIL] = pxd_sv_make(v, sizeof(v));
}

static void long_click(struct pxd_event *ev)
{
	static char v[PXD_EVENT_FIELD_MAX + 1];

	memset(v, 'c', sizeof(v));
	ev->click[PXD_CLICK_FIELD_TTCLID] = pxd_sv_make(v, sizeof(v));
}

static void long_order_id(struct pxd_event *ev)
{
	static char v[PXD_EVENT_FIELD_MAX + 1];

	memset(v, 'o', sizeof(v));
	ev->order_id = pxd_sv_make(v, sizeof(v));
}

static void long_custom(struct pxd_event *ev)
{
	static char v[PXD_EVENT_FIELD_MAX + 1];

	memset(v, 'c', sizeof(v));
	ev->custom[0].name = PXD_SV("plan");
	ev->custom[0].value = pxd_sv_make(v, sizeof(v));
	ev->ncustom = 1;
}

static const struct bad_case bad_cases[] = {
	{ no_name, "event: required; name the event, e.g. \"PageView\"" },
	{ long_name, "event: use 1..64 characters of A-Z a-z 0-9 _ . - and space" },
	{ bad_name_char, "event: use 1..64 characters of A-Z a-z 0-9 _ . - and space" },
	{ empty_event_id, "event_id: use 1..64 printable ASCII characters without quotes or "
			  "backslashes, or leave it out to have one generated" },
	{ quote_in_event_id, "event_id: use 1..64 printable ASCII characters without quotes or "
			     "backslashes, or leave it out to have one generated" },
	{ control_in_event_id, "event_id: use 1..64 printable ASCII characters without quotes "
			       "or backslashes, or leave it out to have one generated" },
	{ long_event_id, "event_id: use 1..64 printable ASCII characters without quotes or "
			 "backslashes, or leave it out to have one generated" },
	{ future_ts, "ts: more than 10 minutes in the future; send Unix milliseconds" },
	{ future_ts_seconds, "ts: more than 10 minutes in the future; send Unix milliseconds" },
	{ old_ts, "ts: before 2000-01-01; send Unix milliseconds" },
	{ negative_ts, "ts: before 2000-01-01; send Unix milliseconds" },
	{ long_url, "url: longer than 2048 bytes" },
	{ long_referrer, "referrer: longer than 2048 bytes" },
	{ negative_value, "props.value: must be a non-negative number" },
	{ nan_value, "props.value: must be a non-negative number" },
	{ inf_value, "props.value: must be a non-negative number" },
	{ bad_currency_len, "props.currency: must be a 3-letter ISO 4217 code such as \"USD\"" },
	{ bad_currency_char, "props.currency: must be a 3-letter ISO 4217 code such as \"USD\"" },
	{ empty_currency, "props.currency: must be a 3-letter ISO 4217 code such as \"USD\"" },
	{ bad_consent, "consent.ad_user_data: must be \"granted\" or \"denied\"" },
	{ long_email, "user.email: longer than 256 bytes" },
	{ long_click, "click.ttclid: longer than 1024 bytes" },
	{ long_order_id, "props.order_id: longer than 1024 bytes" },
	{ long_custom, "props.plan: longer than 1024 bytes" },
};

static void test_check_refuses_each_rule(void **state)
{
	struct event_fixture *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		fill_full(&f->ev);
		bad_cases[i].mutate(&f->ev);
		memset(f->detail, 0, sizeof(f->detail));
		assert_int_equal(pxd_event_check(&f->ev, NOW_MS, f->detail, sizeof(f->detail)),
				 PXD_REFUSAL_BAD_EVENT);
		assert_string_equal(f->detail, bad_cases[i].detail);
	}
}

static void test_detail_is_cut_to_its_buffer(void **state)
{
	struct event_fixture *f = *state;
	char small[8];

	no_name(&f->ev);
	assert_int_equal(pxd_event_check(&f->ev, NOW_MS, small, sizeof(small)),
			 PXD_REFUSAL_BAD_EVENT);
	assert_string_equal(small, "event: ");
}

static void test_consent_parse(void **state)
{
	(void)state;
	assert_int_equal(pxd_event_consent_parse(PXD_SV("granted")), PXD_CONSENT_GRANTED);
	assert_int_equal(pxd_event_consent_parse(PXD_SV("denied")), PXD_CONSENT_DENIED);
	assert_int_equal(pxd_event_consent_parse(PXD_SV("Granted")), PXD_CONSENT_INVALID);
	assert_int_equal(pxd_event_consent_parse(PXD_SV("")), PXD_CONSENT_INVALID);
}

static void test_serialize_enospc_at_every_capacity(void **state)
{
	struct event_fixture *f = *state;
	size_t need = sizeof(full_record); /* with the NUL */

	for (size_t cap = 0; cap <= need; cap++) {
		char *buf = malloc(cap ? cap : 1);
		ssize_t n;

		assert_non_null(buf);
		fill_full(&f->ev);
		n = pxd_event_serialize(&f->ev, NOW_MS, &f->uuid, buf, cap);
		if (cap < need) {
			assert_int_equal(n, -ENOSPC);
		} else {
			assert_int_equal(n, need - 1);
			assert_string_equal(buf, full_record);
		}
		free(buf);
	}
}

static void test_serialize_refuses_nan_value(void **state)
{
	struct event_fixture *f = *state;

	f->ev.value = NAN;
	assert_int_equal(pxd_event_serialize(&f->ev, NOW_MS, &f->uuid, f->line, sizeof(f->line)),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hashed_variants_sent_beside, setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_full_event_serializes_exactly, setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_defaults_filled_when_absent, setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_props_json_and_custom_props, setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_user_edge_values, setup, event_teardown),
		cmocka_unit_test_setup_teardown(test_check_accepts_limits, setup, event_teardown),
		cmocka_unit_test_setup_teardown(test_check_refuses_each_rule, setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_detail_is_cut_to_its_buffer, setup,
						event_teardown),
		cmocka_unit_test(test_consent_parse),
		cmocka_unit_test_setup_teardown(test_serialize_enospc_at_every_capacity, setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_serialize_refuses_nan_value, setup,
						event_teardown),
	};

	return cmocka_run_group_tests_name("event", tests, NULL, NULL);
}
