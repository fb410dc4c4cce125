// SPDX-License-Identifier: MIT
/* The Segment decoder (daemon/event/segment*.c, segment_map.h): call paths,
 * spec names, ISO times, and messages mapped to canonical events that the
 * canonical reader accepts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "event_json.h"
#include "segment.h"

#define NOW 1795000000000LL

static char scratch[65536];
static char line[131072];
static unsigned dropped; /* hashed traits map_line's last message left out */

/* Maps <text> (one message) and serializes it; returns the line or NULL with <detail>. */
static const char *map_line(const char *text, const char *type, char *detail, size_t dlen)
{
	json_t *msg = json_loads(text, 0, NULL);
	struct pxd_event_json ej = { .n = 1, .server_fields = true };
	struct pxd_uuid7 uuid;
	struct pxd_event ev;
	json_t *canon = NULL;
	const char *out = NULL;

	assert_non_null(msg);
	pxd_uuid7_init(&uuid);
	detail[0] = '\0';
	dropped = 0;
	if (pxd_segment_map(msg, type, msg, NOW, &canon, &dropped, detail, dlen) ==
	    PXD_REFUSAL_NONE) {
		ej.root = canon;
		if (pxd_event_json_get(&ej, 0, NOW, &ev, scratch, sizeof(scratch), detail, dlen) ==
		    PXD_REFUSAL_NONE) {
			assert_true(pxd_event_serialize(&ev, NOW, &uuid, line, sizeof(line)) > 0);
			out = line;
		}
	}
	json_decref(canon);
	json_decref(msg);
	return out;
}

static void test_calls(void **state)
{
	(void)state;
	assert_string_equal(pxd_segment_call("/v1/t", 5), "track");
	assert_string_equal(pxd_segment_call("/v1/batch", 9), "batch");
	assert_string_equal(pxd_segment_call("/v1/b", 5), "batch");
	assert_string_equal(pxd_segment_call("/v1/screen", 10), "screen");
	assert_string_equal(pxd_segment_call("/v1/a", 5), "alias");
	assert_null(pxd_segment_call("/v1/", 4));
	assert_null(pxd_segment_call("/v1/tx", 6));
	assert_null(pxd_segment_call("/v2/t", 5));
}

static void test_spec_names(void **state)
{
	(void)state;
	assert_string_equal(pxd_segment_spec_name("Order Completed"), "Purchase");
	assert_string_equal(pxd_segment_spec_name("Product Added"), "AddToCart");
	assert_string_equal(pxd_segment_spec_name("Checkout Started"), "InitiateCheckout");
	assert_string_equal(pxd_segment_spec_name("Product Viewed"), "ViewContent");
	assert_string_equal(pxd_segment_spec_name("Signed Up"), "CompleteRegistration");
	assert_null(pxd_segment_spec_name("order completed"));
	assert_null(pxd_segment_spec_name("Video Played"));
}

static void test_iso_times(void **state)
{
	int64_t ms = 0;

	(void)state;
	assert_int_equal(pxd_segment_iso_ms("1970-01-01T00:00:00Z", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(pxd_segment_iso_ms("2026-11-19T10:00:00.123Z", &ms), 0);
	assert_int_equal(ms, 1795082400123LL);
	assert_int_equal(pxd_segment_iso_ms("2026-11-19T11:00:00.123456+01:00", &ms), 0);
	assert_int_equal(ms, 1795082400123LL);
	assert_int_equal(pxd_segment_iso_ms("2026-11-19T05:30:00-0430", &ms), 0);
	assert_int_equal(ms, 1795082400000LL);
	assert_int_equal(pxd_segment_iso_ms("2024-02-29", &ms), 0);
	assert_int_equal(ms, 1709164800000LL);
	assert_int_equal(pxd_segment_iso_ms("2026-13-01T00:00:00Z", &ms), -EINVAL);
	assert_int_equal(pxd_segment_iso_ms("2026-11-19T10:00:00Zjunk", &ms), -EINVAL);
	assert_int_equal(pxd_segment_iso_ms("2026-11-19T25:00", &ms), -EINVAL);
	assert_int_equal(pxd_segment_iso_ms("", &ms), -EINVAL);
	assert_int_equal(pxd_segment_iso_ms("2026", &ms), -EINVAL);
}

static void test_track_mapping(void **state)
{
	char detail[256];
	const char *l = map_line(
	    "{\"type\":\"track\",\"event\":\"Order Completed\",\"messageId\":\"m-1\","
	    "\"userId\":\"u\",\"anonymousId\":\"a\",\"properties\":{\"total\":7,\"revenue\":5,"
	    "\"currency\":\"eur\",\"orderId\":\"o1\",\"products\":[{\"product_id\":\"p\","
	    "\"quantity\":2,\"price\":3},{\"name\":\"no id\"}]},\"context\":{\"ip\":\"192.0.2.1\","
	    "\"page\":{\"url\":\"https://s.example/?a=1&gclid=G&fbclid=F\"},\"campaign\":{"
	    "\"msclkid\":\"M\"},\"traits\":{\"email\":\"A@B.example\"}},"
	    "\"originalTimestamp\":\"2026-11-19T10:00:00.000Z\",\"sentAt\":\"2026-11-19T10:00:02."
	    "000Z\"}",
	    NULL, detail, sizeof(detail));

	(void)state;
	assert_non_null(l);
	assert_non_null(strstr(l, "\"event_id\":\"m-1\",\"event\":\"Purchase\""));
	/* received (NOW) minus the 2 s between originalTimestamp and sentAt */
	assert_non_null(strstr(l, "\"ts\":1794999998000"));
	assert_non_null(strstr(l, "\"ip\":\"192.0.2.1\""));
	assert_non_null(strstr(l, "\"user\":{\"id\":\"u\",\"anon_id\":\"a\",\"email_sha256\":"));
	assert_non_null(strstr(l, "\"gclid\":\"G\""));
	assert_non_null(strstr(l, "\"msclkid\":\"M\""));
	assert_non_null(strstr(l, "\"fbc\":\"fb.1.1795000000000.F\""));
	assert_non_null(strstr(l, "\"value\":5"));
	assert_non_null(strstr(l, "\"currency\":\"EUR\""));
	assert_non_null(strstr(l, "\"order_id\":\"o1\""));
	assert_non_null(strstr(l, "\"contents\":[{\"id\":\"p\",\"quantity\":2,\"price\":3}]"));
	assert_non_null(strstr(l, "\"content_ids\":[\"p\"]"));
	assert_null(strstr(l, "A@B"));
}

static void test_other_calls(void **state)
{
	char detail[256];
	const char *l;

	(void)state;
	l = map_line("{\"userId\":\"u\",\"traits\":{\"email\":\"x@y.z\",\"plan\":\"pro\","
		     "\"address\":{\"city\":\"Paris\"}}}",
		     "identify", detail, sizeof(detail));
	assert_non_null(l);
	assert_non_null(strstr(l, "\"event\":\"Identify\""));
	assert_non_null(strstr(l, "\"city\":\"paris\""));
	assert_non_null(strstr(l, "\"props\":{\"plan\":\"pro\"}"));
	assert_null(strstr(l, "x@y.z"));
	l = map_line("{\"anonymousId\":\"a\",\"name\":\"Home\"}", "screen", detail, sizeof(detail));
	assert_non_null(l);
	assert_non_null(strstr(l, "\"event\":\"PageView\""));
	l = map_line("{\"type\":\"alias\",\"userId\":\"u\",\"previousId\":\"a\"}", NULL, detail,
		     sizeof(detail));
	assert_non_null(strstr(l, "\"props\":{\"previous_id\":\"a\"}"));
	l = map_line(
	    "{\"type\":\"track\",\"event\":\"Clicked: Buy!\",\"userId\":7,"
	    "\"properties\":{\"revenue\":-1,\"currency\":\"dollars\",\"num_items\":\"x\"}}",
	    NULL, detail, sizeof(detail));
	assert_non_null(l);
	assert_non_null(strstr(l, "\"event\":\"Clicked_ Buy_\""));
	assert_non_null(strstr(l, "\"id\":\"7\""));
	/* A revenue the canonical props refuse stays as the client's own key; a
	 * currency or num_items of the wrong shape is left out. */
	assert_non_null(strstr(l, "\"revenue\":-1"));
	assert_null(strstr(l, "dollars"));
	assert_null(strstr(l, "num_items"));
	assert_null(strstr(l, "\"value\""));
}

/* SHA-256 of normalized values, as a sending pixeld's segment destination
 * writes them (ann@example.com, 15551234567, +15551234567, ann, lee, f,
 * 19900501). */
#define H_EMAIL "71d4f55f72fa128dfb468a1a3901507c804b74316488744d769d7f4b16696476"
#define H_PHONE "d6736136ea896c1bfdc553e0e86e702c70d060d805696ca3e4e9e0961353860a"
#define H_E164 "8a59780bb8cd2ba022bfa5ba2ea3b6e07af17a7d8b30c1f9b3390e36f69019e4"
#define H_FN "49915e0d7d4b402e3017d010bc1c0e83cac6c797d6c16e66340fe3268693a6a1"
#define H_LN "1508b697895abf03d55c3841f59236ab92c9ba6ba89795c8337fcf392fdee8b4"
#define H_GE "252f10c83610ebca1a059c0bae8255eba2f95be4d1d7bcfa89d7248a82d9f111"
#define H_DB "09c2a739fc6545a84844204c075114144fd3f2d4c50d059d0b1b37240a33b477"

/* The *_sha256 traits go into the hashed user fields as they are: never
 * hashed a second time, never into props. */
static void test_hashed_traits(void **state)
{
	char detail[256];
	const char *l;

	(void)state;
	l = map_line("{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":\"u\","
		     "\"context\":{\"traits\":{\"email_sha256\":\"" H_EMAIL "\","
		     "\"phone_sha256\":\"" H_PHONE "\",\"phone_e164_sha256\":\"" H_E164 "\","
		     "\"first_name_sha256\":\"" H_FN "\",\"last_name_sha256\":\"" H_LN "\","
		     "\"gender_sha256\":\"" H_GE "\",\"dob_sha256\":\"" H_DB "\"}}}",
		     NULL, detail, sizeof(detail));
	assert_non_null(l);
	assert_int_equal(dropped, 0);
	assert_non_null(strstr(l, "\"email_sha256\":\"" H_EMAIL "\""));
	assert_non_null(strstr(l, "\"phone_sha256\":\"" H_PHONE "\""));
	assert_non_null(strstr(l, "\"first_name_sha256\":\"" H_FN "\""));
	assert_non_null(strstr(l, "\"last_name_sha256\":\"" H_LN "\""));
	assert_non_null(strstr(l, "\"gender_sha256\":\"" H_GE "\""));
	assert_non_null(strstr(l, "\"dob_sha256\":\"" H_DB "\""));
	/* A hash cannot be turned into the other form: the one sent goes out. */
	assert_non_null(strstr(l, "\"phone_e164_sha256\":\"" H_E164 "\""));
	assert_null(strstr(l, "email_google_sha256"));

	/* identify: the hashed traits are user fields, the others props. */
	l = map_line("{\"userId\":\"u\",\"traits\":{\"email_sha256\":\"" H_EMAIL "\","
		     "\"phone_e164_sha256\":\"" H_E164 "\",\"plan\":\"pro\"}}",
		     "identify", detail, sizeof(detail));
	assert_non_null(l);
	assert_non_null(strstr(l, "\"email_sha256\":\"" H_EMAIL "\""));
	assert_non_null(strstr(l, "\"props\":{\"plan\":\"pro\"}"));
	/* No hashed phone for it to stand beside: left out. */
	assert_null(strstr(l, H_E164));

	/* Malformed: upper case, short, not a string, not hex. Each is dropped
	 * and counted; the event stays, and a plain trait still counts. */
	l = map_line(
	    "{\"type\":\"track\",\"event\":\"Lead\",\"anonymousId\":\"a\","
	    "\"context\":{\"traits\":{"
	    "\"email_sha256\":\"71D4F55F72FA128DFB468A1A3901507C804B74316488744D769D7F4B16696476\","
	    "\"phone_sha256\":\"d6736136\",\"phone\":\"+1 555 123 4567\","
	    "\"first_name_sha256\":7,"
	    "\"last_name_sha256\":"
	    "\"zz08b697895abf03d55c3841f59236ab92c9ba6ba89795c8337fcf392fdee8b4\"}}}",
	    NULL, detail, sizeof(detail));
	assert_non_null(l);
	assert_int_equal(dropped, 4);
	assert_null(strstr(l, "email_sha256"));
	assert_null(strstr(l, "first_name_sha256"));
	assert_null(strstr(l, "last_name_sha256"));
	assert_non_null(strstr(l, "\"phone_sha256\":\"" H_PHONE "\""));
	assert_non_null(strstr(l, "\"phone_e164_sha256\":\"" H_E164 "\""));

	/* A plain trait next to its hashed one is the one used (hashed at ingest). */
	l = map_line("{\"type\":\"track\",\"event\":\"Lead\",\"anonymousId\":\"a\","
		     "\"context\":{\"traits\":{\"email\":\" X@Y.example\","
		     "\"email_sha256\":\"" H_EMAIL "\"}}}",
		     NULL, detail, sizeof(detail));
	assert_non_null(l);
	assert_int_equal(dropped, 0);
	assert_non_null(
	    strstr(l, "\"email_sha256\":"
		      "\"2e8be64a94d9ea17e419e51e3c6d8db0901e68fb0ac377133944c41da9dd4f0f\""));
}

static void test_integrations(void **state)
{
	char detail[256];
	const char *l;

	(void)state;
	l = map_line("{\"type\":\"track\",\"event\":\"X\",\"userId\":\"u\",\"integrations\":"
		     "{\"All\":false,\"Facebook Conversions API\":true,\"Webhooks\":{\"x\":1}}}",
		     NULL, detail, sizeof(detail));
	assert_non_null(strstr(l, "\"to\":[\"meta\",\"webhook\"]"));
	l = map_line("{\"type\":\"track\",\"event\":\"X\",\"userId\":\"u\",\"integrations\":"
		     "{\"Google Analytics 4\":false,\"Mixpanel\":false,\"Unknown Tool\":false}}",
		     NULL, detail, sizeof(detail));
	assert_non_null(strstr(l, "\"not_to\":[\"ga4\",\"mixpanel\"]"));
	l = map_line("{\"type\":\"track\",\"event\":\"X\",\"userId\":\"u\",\"integrations\":"
		     "{\"All\":true,\"Facebook Pixel\":true}}",
		     NULL, detail, sizeof(detail));
	assert_null(strstr(l, "to\":"));
	l = map_line("{\"type\":\"track\",\"event\":\"X\",\"userId\":\"u\",\"integrations\":"
		     "{\"All\":false}}",
		     NULL, detail, sizeof(detail));
	assert_non_null(strstr(l, "\"to\":[]"));
}

static void test_refusals(void **state)
{
	char detail[256];

	(void)state;
	assert_null(map_line("{\"type\":\"track\",\"event\":\"X\"}", NULL, detail, sizeof(detail)));
	assert_non_null(strstr(detail, "userId or anonymousId"));
	assert_null(
	    map_line("{\"type\":\"track\",\"userId\":\"u\"}", NULL, detail, sizeof(detail)));
	assert_non_null(strstr(detail, "event: required"));
	assert_null(
	    map_line("{\"type\":\"rocket\",\"userId\":\"u\"}", NULL, detail, sizeof(detail)));
	assert_non_null(strstr(detail, "type:"));
	assert_null(map_line("{\"userId\":\"u\"}", "group", detail, sizeof(detail)));
	assert_non_null(strstr(detail, "groupId"));
	assert_null(map_line("[1]", NULL, detail, sizeof(detail)));
	/* A bad context.ip is refused by the canonical reader, by name. */
	assert_null(map_line("{\"type\":\"page\",\"userId\":\"u\",\"context\":{\"ip\":\"x\"}}",
			     NULL, detail, sizeof(detail)));
	assert_non_null(strstr(detail, "ip:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calls),	    cmocka_unit_test(test_spec_names),
		cmocka_unit_test(test_iso_times),   cmocka_unit_test(test_track_mapping),
		cmocka_unit_test(test_other_calls), cmocka_unit_test(test_integrations),
		cmocka_unit_test(test_refusals),    cmocka_unit_test(test_hashed_traits),
	};

	return cmocka_run_group_tests_name("segment_map", tests, NULL, NULL);
}
