// SPDX-License-Identifier: MIT
#include "payload.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "adapter_test.h"

/* specs/ad-apis.md §4: every normalised input and its SHA-256, including the
 * vendor-published vectors. */
static const struct {
	const char *in;
	const char *hex;
} vectors[] = {
	{ "test@example.com", "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b" },
	{ "16505551234", "6069d14bf122fdfd931dc7beb58e5dfbba395b1faf05bdcd42d12358d63d8599" },
	{ "+16505551234", "a2996076d3ad4af5dc818b908b3d8e354f26ededf7df0e0aa6ac354143805ee0" },
	{ "john", "96d9632f363564cc3032521409cf22a852f2032eec099ed5967c0d000cec607a" },
	{ "smith", "6627835f988e2c5e50533d491163072d3f4f41f5c8b04630150debb3722ca2dd" },
	{ "menlopark", "0007a3d64c01e23d5075203c5977c14e4f7e01a3fc570686fcc50b5e1dd42685" },
	{ "ca", "6959097001d10501ac7d54c0bdb8db61420f658f2922cc26e46d536119a31126" },
	{ "94025", "b9a9cf3cd3723a2e91b7c23ecf68456e872b6e5d86e5cab7f3d45a7302da32c7" },
	{ "us", "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621" },
	{ "m", "62c66a7a5dd70c3146618063c344e531e6d4b59e379808443ce962b3abd63c5a" },
	{ "f", "252f10c83610ebca1a059c0bae8255eba2f95be4d1d7bcfa89d7248a82d9f111" },
	{ "19900101", "d6165fc8037886424321260c0f9c2a76f7d8d545a02f95c70da9952a13299f33" },
	{ "john.smith@gmail.com",
	  "d0c648bc36f12061bec770df216cea2ab95851b9350fd54b658de53b0407767a" },
	{ "johnsmith@gmail.com",
	  "3586de92bb3636d0885a12eff961429a32e4ebd764b96f50d85d016f9338d586" },
	{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "john_smith@gmail.com",
	  "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f" },
	{ "16505551212", "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176" },
	{ "mary", "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec" },
	{ "person@example.com",
	  "542d240129883c019e106e3b1b2d3f3cb3537c43c425364de8e951d5a3083345" },
	{ "448444124653", "dc008fda46e2e64002cf2f82a4906236282d431c4f75e5b60bfe79fc48546383" },
	{ "alice@example.com", "ff8d9819fc0e12bf0d24892e45987e249a28dce836a85cad60e28eaaa8c6d976" },
};

static void test_sha256_matches_spec_vectors(void **state)
{
	char hex[PXD_SHA256_HEX_LEN + 1];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(vectors); i++) {
		pxd_payload_sha256_hex(vectors[i].in, strlen(vectors[i].in), hex);
		assert_string_equal(hex, vectors[i].hex);
		assert_true(pxd_payload_is_sha256(hex));
	}
}

static void test_is_sha256_wants_64_lowercase_hex(void **state)
{
	(void)state;
	assert_false(pxd_payload_is_sha256(""));
	assert_false(pxd_payload_is_sha256("abc"));
	assert_false(pxd_payload_is_sha256(
	    "973DFE463EC85785F5F95AF5BA3906EEDB2D931C24E69824A89EA65DBA4E813B"));
	assert_false(pxd_payload_is_sha256(
	    "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b0"));
	assert_false(pxd_payload_is_sha256(
	    "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813g"));
}

static void test_pct_encode_keeps_unreserved_only(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(pxd_payload_pct_encode(out, sizeof(out), "a-Z_0.~"), 7);
	assert_string_equal(out, "a-Z_0.~");
	assert_int_equal(pxd_payload_pct_encode(out, sizeof(out), "a b/c+d&e=\xc3\xa9"), 26);
	assert_string_equal(out, "a%20b%2Fc%2Bd%26e%3D%C3%A9");
	assert_int_equal(pxd_payload_pct_encode(out, 4, "abcd"), -ENAMETOOLONG);
	assert_int_equal(pxd_payload_pct_encode(out, 5, "ab/"), -ENAMETOOLONG);
}

static void test_event_name_prefers_map_then_table(void **state)
{
	static const struct pxd_payload_name tab[] = { { "Purchase", "purchase" },
						       { "Lead", "generate_lead" } };
	struct tdest *t = tdest_new(&(struct pxd_adapter){ .type = "x" });

	(void)state;
	tdest_set(t, "map.Lead", "contact_form");
	assert_string_equal(pxd_payload_event_name(&t->dest, "Purchase", tab, 2, false),
			    "purchase");
	assert_string_equal(pxd_payload_event_name(&t->dest, "Lead", tab, 2, false),
			    "contact_form");
	assert_string_equal(pxd_payload_event_name(&t->dest, "Custom1", tab, 2, true), "Custom1");
	assert_null(pxd_payload_event_name(&t->dest, "Custom1", tab, 2, false));
	free(t);
}

static void test_check_common_refuses_what_platforms_refuse(void **state)
{
	int64_t now = 1732300000123 + 3600 * 1000;
	json_t *ev = golden("events/purchase.json");
	char reason[192];

	(void)state;
	assert_int_equal(
	    pxd_payload_check_common(ev, "p", now, 7 * PXD_PAYLOAD_DAY_MS, reason, sizeof(reason)),
	    PXD_DELIVERY_OK);
	/* Too old, too far ahead. */
	assert_int_equal(
	    pxd_payload_check_common(ev, "p", now, 3000 * 1000, reason, sizeof(reason)),
	    PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "p: event is 1 h old"));
	assert_int_equal(pxd_payload_check_common(ev, "p", 1732300000123 - 11 * 60 * 1000,
						  PXD_PAYLOAD_DAY_MS, reason, sizeof(reason)),
			 PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "future"));
	/* Value without a currency, and a currency that is not ISO 4217. */
	json_object_set_new(json_object_get(ev, "props"), "currency", json_string("usd"));
	assert_int_equal(
	    pxd_payload_check_common(ev, "p", now, PXD_PAYLOAD_DAY_MS, reason, sizeof(reason)),
	    PXD_DELIVERY_PERMANENT);
	json_object_del(json_object_get(ev, "props"), "currency");
	assert_int_equal(
	    pxd_payload_check_common(ev, "p", now, PXD_PAYLOAD_DAY_MS, reason, sizeof(reason)),
	    PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "needs props.currency"));
	json_object_del(json_object_get(ev, "props"), "value");
	assert_int_equal(
	    pxd_payload_check_common(ev, "p", now, PXD_PAYLOAD_DAY_MS, reason, sizeof(reason)),
	    PXD_DELIVERY_OK);
	json_object_del(ev, "event_id");
	assert_int_equal(
	    pxd_payload_check_common(ev, "p", now, PXD_PAYLOAD_DAY_MS, reason, sizeof(reason)),
	    PXD_DELIVERY_PERMANENT);
	json_decref(ev);
}

static void test_classify_http_falls_back_on_status(void **state)
{
	struct pxd_outcome out[2];
	struct pxd_response r = response(0, NULL);

	(void)state;
	r.transport_error = "Connection refused";
	pxd_payload_classify_http("p", &r, out, 2);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_RETRY);
	assert_string_equal(out[1].reason, "p: transport: Connection refused");
	r = response(204, NULL);
	pxd_payload_classify_http("p", &r, out, 2);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_OK);
	for (long s = 500; s < 505; s++) {
		r = response(s, "<html>\n<b>Bad gateway</b></html>");
		pxd_payload_classify_http("p", &r, out, 2);
		assert_int_equal(out[0].delivery, PXD_DELIVERY_RETRY);
	}
	assert_non_null(strstr(out[0].reason, "HTTP 504: <html> <b>Bad gateway"));
	r = response(429, "slow down");
	r.retry_after_ms = 7000;
	pxd_payload_classify_http("p", &r, out, 2);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_RETRY);
	assert_int_equal(out[1].retry_after_ms, 7000);
	r = response(408, NULL);
	pxd_payload_classify_http("p", &r, out, 1);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_RETRY);
	r = response(400, "bad");
	r.retry_after_ms = 7000;
	pxd_payload_classify_http("p", &r, out, 1);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_PERMANENT);
	assert_int_equal(out[0].retry_after_ms, 0);
}

static void test_dump_writes_cents_exactly(void **state)
{
	struct pxd_buf b = { 0 };
	json_t *j = json_pack("{s:f, s:f, s:I}", "v", 99.99, "w", 0.1 + 0.2, "i", (json_int_t)45);

	(void)state;
	assert_int_equal(pxd_payload_dump(&b, j), 0);
	assert_string_equal(b.p, "{\"v\":99.99,\"w\":0.3,\"i\":45}");
	pxd_buf_free(&b);
	json_decref(j);
}

static void test_keys_refuse_unknown_and_bad_values(void **state)
{
	static const char *const known[] = { "api_base", "token", NULL };
	struct tdest *t = tdest_new(&(struct pxd_adapter){ .type = "x" });
	char out[64];
	bool flag;

	(void)state;
	tdest_set(t, "api_base", "http://127.0.0.1:9/");
	tdest_set(t, "map.Lead", "lead");
	assert_int_equal(
	    pxd_payload_check_keys(&t->dest, TEST_CONF, known, true, t->err, sizeof(t->err)), 0);
	assert_int_equal(
	    pxd_payload_check_keys(&t->dest, TEST_CONF, known, false, t->err, sizeof(t->err)),
	    -EINVAL);
	assert_string_equal(t->err, TEST_CONF ":12: map.Lead: unknown key for type x; it takes "
					      "api_base, token");
	assert_int_equal(pxd_payload_api_base(&t->dest, TEST_CONF, NULL, out, sizeof(out), t->err,
					      sizeof(t->err)),
			 0);
	assert_string_equal(out, "http://127.0.0.1:9");
	tdest_set(t, "tokn", "secret-value");
	assert_int_equal(
	    pxd_payload_check_keys(&t->dest, TEST_CONF, known, true, t->err, sizeof(t->err)),
	    -EINVAL);
	assert_non_null(strstr(t->err, ":13: tokn: unknown key"));
	assert_null(strstr(t->err, "secret-value"));
	assert_int_equal(pxd_payload_key(&t->dest, TEST_CONF, "absent", NULL, out, sizeof(out),
					 t->err, sizeof(t->err)),
			 -EINVAL);
	assert_string_equal(t->err, TEST_CONF ":10: absent: missing in [destination \"test-x\"]; "
					      "type x needs it");
	tdest_set(t, "flag", "yes");
	assert_int_equal(
	    pxd_payload_bool(&t->dest, TEST_CONF, "flag", false, &flag, t->err, sizeof(t->err)),
	    -EINVAL);
	assert_int_equal(
	    pxd_payload_bool(&t->dest, TEST_CONF, "nope", true, &flag, t->err, sizeof(t->err)), 0);
	assert_true(flag);
	tdest_set(t, "map.Purchase", "bad name");
	assert_int_equal(pxd_payload_check_map(&t->dest, TEST_CONF, "", t->err, sizeof(t->err)),
			 -EINVAL);
	assert_non_null(strstr(t->err, ":15: map.Purchase: \"bad name\""));
	free(t);
}

static void test_secret_errors_never_quote_the_value(void **state)
{
	struct tdest *t = tdest_new(&(struct pxd_adapter){ .type = "x" });
	char out[8];

	(void)state;
	tdest_set(t, "token", "a-literal-longer-than-eight");
	assert_int_equal(pxd_payload_secret(&t->dest, TEST_CONF, "token", out, sizeof(out), t->err,
					    sizeof(t->err)),
			 -EINVAL);
	assert_non_null(strstr(t->err, TEST_CONF ":11: token: "));
	assert_null(strstr(t->err, "a-literal"));
	tdest_set(t, "env_token", "env:PXD_TEST_SURELY_UNSET_VARIABLE");
	assert_int_equal(pxd_payload_secret(&t->dest, TEST_CONF, "env_token", out, sizeof(out),
					    t->err, sizeof(t->err)),
			 -EINVAL);
	assert_int_equal(pxd_payload_secret(&t->dest, TEST_CONF, "none", out, sizeof(out), t->err,
					    sizeof(t->err)),
			 -EINVAL);
	assert_non_null(strstr(t->err, "none: missing"));
	tdest_set(t, "ok", "s3cret");
	assert_int_equal(
	    pxd_payload_secret(&t->dest, TEST_CONF, "ok", out, sizeof(out), t->err, sizeof(t->err)),
	    0);
	assert_string_equal(out, "s3cret");
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_matches_spec_vectors),
		cmocka_unit_test(test_is_sha256_wants_64_lowercase_hex),
		cmocka_unit_test(test_pct_encode_keeps_unreserved_only),
		cmocka_unit_test(test_event_name_prefers_map_then_table),
		cmocka_unit_test(test_check_common_refuses_what_platforms_refuse),
		cmocka_unit_test(test_classify_http_falls_back_on_status),
		cmocka_unit_test(test_dump_writes_cents_exactly),
		cmocka_unit_test(test_keys_refuse_unknown_and_bad_values),
		cmocka_unit_test(test_secret_errors_never_quote_the_value),
	};

	return cmocka_run_group_tests_name("payload", tests, NULL, NULL);
}
