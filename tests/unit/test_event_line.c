// SPDX-License-Identifier: MIT
#include "event_line.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "compiler.h"
#include "event_line_test.h"
#include "jsonw.h"

/* What pxd_event_serialize() writes for tests/golden/events/purchase.json's event. */
static const char purchase[] =
    "{\"v\":1,\"event_id\":\"ev-purchase-1\",\"event\":\"Purchase\",\"ts\":1732300000123,"
    "\"received_at\":1732300000200,\"source\":\"beacon\",\"action_source\":\"website\","
    "\"tenant\":\"default\",\"host\":\"shop.example\",\"scheme\":\"https\","
    "\"url\":\"https://shop.example/checkout/done\",\"referrer\":\"https://shop.example/cart\","
    "\"ip\":\"203.0.113.9\",\"ua\":\"Mozilla/5.0 (X11; Linux x86_64)\",\"fp_id\":\"fp-8c1e\","
    "\"user\":{\"id\":\"u-42\",\"anon_id\":\"anon-1\",\"email_sha256\":\"e1\","
    "\"email_google_sha256\":\"e2\",\"phone_sha256\":\"p1\",\"phone_e164_sha256\":\"p2\","
    "\"first_name_sha256\":\"f\",\"last_name_sha256\":\"l\",\"gender_sha256\":\"g\","
    "\"dob_sha256\":\"d\",\"city\":\"menlopark\",\"state\":\"ca\",\"zip\":\"94025\","
    "\"country\":\"us\"},"
    "\"click\":{\"fbc\":\"c0\",\"fbp\":\"c1\",\"gclid\":\"c2\",\"wbraid\":\"c3\",\"gbraid\":\"c4\","
    "\"ttclid\":\"c5\",\"ttp\":\"c6\",\"li_fat_id\":\"c7\",\"sccid\":\"c8\",\"epik\":\"c9\","
    "\"rdt_cid\":\"c10\",\"msclkid\":\"c11\"},"
    "\"props\":{\"value\":99.99,\"currency\":\"USD\",\"contents\":[{\"id\":\"sku-1\"}]},"
    "\"consent\":{\"ad_storage\":\"granted\",\"ad_user_data\":\"denied\","
    "\"ad_personalization\":\"granted\",\"analytics_storage\":\"denied\"},"
    "\"not_to\":[\"ga4\"],\"to\":[\"meta\"]}";

static void assert_view(const struct pxd_jv *v, enum pxd_jv_type t, const char *text)
{
	assert_int_equal(v->type, t);
	assert_int_equal(v->n, strlen(text));
	assert_memory_equal(v->p, text, v->n);
}

static void test_reads_every_field(void **state)
{
	static const char *const top[PXD_LINE_KEY_COUNT] = {
		"ev-purchase-1",
		"Purchase",
		"1732300000123",
		"1732300000200",
		"beacon",
		"website",
		"default",
		"shop.example",
		"https",
		"https://shop.example/checkout/done",
		"https://shop.example/cart",
		"203.0.113.9",
		"Mozilla/5.0 (X11; Linux x86_64)",
		"fp-8c1e",
	};
	static const char *const user[PXD_LINE_USER_COUNT] = {
		"u-42", "anon-1", "e1", "e2",	     "p1", "p2",    "f",
		"l",	"g",	  "d",	"menlopark", "ca", "94025", "us",
	};
	struct pxd_event_line el;
	char name[8];

	(void)state;
	assert_int_equal(pxd_event_line_read(&el, purchase, strlen(purchase)), 0);
	for (int k = 0; k <= PXD_LINE_FP_ID; k++)
		assert_view(&el.top[k],
			    k == PXD_LINE_TS || k == PXD_LINE_RECEIVED_AT ? PXD_JV_INTEGER
									  : PXD_JV_STRING,
			    top[k]);
	for (int k = PXD_LINE_USER; k < PXD_LINE_KEY_COUNT; k++)
		assert_int_equal(el.top[k].type, k >= PXD_LINE_TO ? PXD_JV_ARRAY : PXD_JV_OBJECT);
	for (int f = 0; f < PXD_LINE_USER_COUNT; f++)
		assert_view(&el.user[f], PXD_JV_STRING, user[f]);
	for (int f = 0; f < PXD_CLICK_FIELD_COUNT; f++) {
		snprintf(name, sizeof(name), "c%d", f);
		assert_view(&el.click[f], PXD_JV_STRING, name);
	}
	assert_true(pxd_jv_eq(&el.consent[PXD_CONSENT_FIELD_AD_STORAGE], "granted"));
	assert_true(pxd_jv_eq(&el.consent[PXD_CONSENT_FIELD_AD_USER_DATA], "denied"));
	assert_true(pxd_jv_eq(&el.consent[PXD_CONSENT_FIELD_ANALYTICS_STORAGE], "denied"));
	assert_int_equal(pxd_event_line_ts(&el), 1732300000123);
	assert_true(pxd_jv_number(&(struct pxd_jv){ 0 }) == 0);
}

static void test_props_members_and_arrays_walk_in_order(void **state)
{
	struct pxd_event_line el;
	struct pxd_jv_iter it;
	struct pxd_jv k, v;
	struct pxd_jv value;
	int n = 0;

	(void)state;
	assert_int_equal(pxd_event_line_read(&el, purchase, strlen(purchase)), 0);
	value = pxd_jv_get(&el.top[PXD_LINE_PROPS], "value");
	assert_int_equal(value.type, PXD_JV_REAL);
	assert_true(pxd_jv_number(&value) == 99.99);
	pxd_jv_iter_init(&it, &el.top[PXD_LINE_PROPS]);
	while (pxd_jv_next(&it, &k, &v))
		n++;
	assert_int_equal(n, 3);
	assert_true(pxd_jv_eq(&k, "contents"));
	assert_view(&v, PXD_JV_ARRAY, "[{\"id\":\"sku-1\"}]");
	pxd_jv_iter_init(&it, &el.top[PXD_LINE_TO]);
	assert_true(pxd_jv_next(&it, NULL, &v));
	assert_true(pxd_jv_eq(&v, "meta"));
	assert_false(pxd_jv_next(&it, NULL, &v));
	/* A scalar walks as empty. */
	pxd_jv_iter_init(&it, &value);
	assert_false(pxd_jv_next(&it, NULL, &v));
}

/* props' members are kept as the line is read, up to PXD_LINE_PROPS_MAX;
 * past that, or for props that are no object, the text is walked. */
static void test_props_kept_as_read(void **state)
{
	static const char *const lines[] = {
		"{\"props\":{\"value\":1,\"currency\":\"USD\",\"value\":2.5}}",
		"{\"props\":{}}",
		"{\"props\":{\"a\":1},\"props\":{\"b\":{\"c\":[1]},\"v\\u0061lue\":3}}",
		"{\"props\":[{\"value\":1}]}",
		"{\"props\":\"value\"}",
		"{\"props\":{\"a\":1},\"props\":7}",
		"{\"event\":\"x\"}",
	};
	/* props_all, nprops and props.value of each line. */
	static const struct {
		bool all;
		int n;
		const char *value;
	} want[] = { { true, 3, "2.5" }, { true, 0, NULL },  { true, 2, "3" },	{ false, 0, NULL },
		     { false, 0, NULL }, { false, 0, NULL }, { false, 0, NULL } };
	static const char *const names[] = { "currency", "value" };
	struct pxd_event_line el;
	struct pxd_jv v[2];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		assert_int_equal(pxd_event_line_read(&el, lines[i], strlen(lines[i])), 0);
		assert_int_equal(el.props_all, want[i].all);
		if (want[i].all)
			assert_int_equal(el.nprops, want[i].n);
		assert_true(pxd_test_props_walk_as_text(&el));
		pxd_line_props_members(&el, names, 2, v);
		if (want[i].value)
			assert_true(v[1].n == strlen(want[i].value) &&
				    !memcmp(v[1].p, want[i].value, v[1].n));
		else
			assert_int_equal(v[1].type, PXD_JV_ABSENT);
	}
	/* PXD_LINE_PROPS_MAX members are kept, one more is walked. */
	for (int more = 0; more < 2; more++) {
		char line[512];
		int n = snprintf(line, sizeof(line), "{\"props\":{");

		for (int k = 0; k < PXD_LINE_PROPS_MAX + more; k++)
			n += snprintf(line + n, sizeof(line) - (size_t)n, "%s\"k%d\":%d",
				      k ? "," : "", k, k);
		n += snprintf(line + n, sizeof(line) - (size_t)n, "}}");
		assert_int_equal(pxd_event_line_read(&el, line, (size_t)n), 0);
		assert_int_equal(el.props_all, !more);
		assert_int_equal(el.nprops, PXD_LINE_PROPS_MAX);
		assert_true(pxd_test_props_walk_as_text(&el));
	}
	assert_int_equal(pxd_event_line_read(&el, purchase, strlen(purchase)), 0);
	assert_true(el.props_all);
	assert_true(pxd_test_props_walk_as_text(&el));
}

static void test_missing_fields_read_as_absent(void **state)
{
	static const char line[] = "{\"event\":\"Lead\",\"user\":{\"id\":7,\"city\":null},"
				   "\"click\":[\"fbc\"],\"props\":\"x\",\"extra\":{\"ts\":5}}";
	struct pxd_event_line el;

	(void)state;
	assert_int_equal(pxd_event_line_read(&el, line, strlen(line)), 0);
	assert_int_equal(el.top[PXD_LINE_EVENT_ID].type, PXD_JV_ABSENT);
	assert_int_equal(el.top[PXD_LINE_TS].type, PXD_JV_ABSENT);
	assert_int_equal(pxd_event_line_ts(&el), -1);
	/* Not strings, so absent; an unknown key's members are not read. */
	assert_int_equal(el.user[PXD_LINE_USER_ID].type, PXD_JV_ABSENT);
	assert_int_equal(el.user[PXD_LINE_USER_CITY].type, PXD_JV_ABSENT);
	assert_int_equal(el.click[PXD_CLICK_FIELD_FBC].type, PXD_JV_ABSENT);
	assert_int_equal(pxd_jv_get(&el.top[PXD_LINE_PROPS], "value").type, PXD_JV_ABSENT);
	assert_false(pxd_jv_is_str(&el.top[PXD_LINE_URL]));
}

static void test_escapes_unescape_to_utf8(void **state)
{
	static const char line[] =
	    "{\"ev\\u0065nt\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\",\"ua\":\"\","
	    "\"event\":\"last\"}";
	struct pxd_event_line el;
	char out[64];
	ssize_t n;

	(void)state;
	assert_int_equal(pxd_event_line_read(&el, line, strlen(line)), 0);
	/* An escaped key is the key it spells; the last of two wins. */
	assert_true(pxd_jv_eq(&el.top[PXD_LINE_EVENT], "last"));
	assert_false(pxd_jv_is_str(&el.top[PXD_LINE_UA]));
	assert_int_equal(el.top[PXD_LINE_UA].type, PXD_JV_STRING);
	assert_int_equal(pxd_event_line_read(&el, line, 62), -EINVAL);
	{
		static const char one[] =
		    "{\"event\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d"
		    "\\ude00\"}";

		assert_int_equal(pxd_event_line_read(&el, one, strlen(one)), 0);
	}
	assert_true(el.top[PXD_LINE_EVENT].escaped);
	n = pxd_jv_unescape(&el.top[PXD_LINE_EVENT], out, sizeof(out));
	assert_int_equal(n, strlen("a\"b\\c/d\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80"));
	assert_string_equal(out, "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
	assert_int_equal(pxd_jv_unescape(&el.top[PXD_LINE_EVENT], out, 4), -ENOSPC);
	assert_int_equal(pxd_jv_unescape(&el.top[PXD_LINE_TS], out, sizeof(out)), -EINVAL);
}

/* Lines jansson's json_loadb() refuses, and what only the reader's limits refuse. */
static const char *const hostile[] = {
	"",
	"[]",
	"\"s\"",
	"{",
	"{\"a\"}",
	"{\"a\":}",
	"{\"a\":1,}",
	"{\"a\":1}x",
	"{a:1}",
	"{\"a\":01}",
	"{\"a\":1.}",
	"{\"a\":.5}",
	"{\"a\":1e}",
	"{\"a\":-}",
	"{\"a\":tru}",
	"{\"a\":nul}",
	"{\"a\":\"\\x\"}",
	"{\"a\":\"\\u00zz\"}",
	"{\"a\":\"\\u0000\"}",
	"{\"a\":\"\\ud800\"}",
	"{\"a\":\"\\udc00\\ud800\"}",
	"{\"a\":\"\\ud800\\u0041\"}",
	"{\"a\":\"\x01\"}",
	"{\"a\":\"\xc0\xaf\"}",
	"{\"a\":\"\xed\xa0\x80\"}",
	"{\"a\":\"\xf4\x90\x80\x80\"}",
	"{\"a\":\"\xe2\x82\"}",
	"{\"a\":\"\xff\"}",
	"{\"a\":99999999999999999999}",
	"{\"a\":1e999}",
	"{\"a\":\"open}",
	"{\"a\":[1,2}",
	"{\"a\":{\"b\":1]}",
};

/* <n> bytes of <s> read from the end of a page followed by PROT_NONE. */
static int read_at_page_end(const char *s, size_t n)
{
	long page = sysconf(_SC_PAGESIZE);
	char *map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct pxd_event_line el;
	int rc;

	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + page, (size_t)page, PROT_NONE), 0);
	memcpy(map + page - n, s, n);
	rc = pxd_event_line_read(&el, map + page - n, n);
	munmap(map, (size_t)page * 2);
	return rc;
}

static void test_refuses_what_jansson_refuses(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(hostile); i++) {
		json_t *j = json_loadb(hostile[i], strlen(hostile[i]), 0, NULL);

		if (json_is_object(j))
			fail_msg("case %zu: jansson takes %s", i, hostile[i]);
		json_decref(j);
		if (read_at_page_end(hostile[i], strlen(hostile[i])) != -EINVAL)
			fail_msg("case %zu: the reader takes %s", i, hostile[i]);
	}
}

static void test_every_prefix_of_a_line_is_refused(void **state)
{
	(void)state;
	assert_int_equal(read_at_page_end(purchase, strlen(purchase)), 0);
	for (size_t n = 0; n < strlen(purchase) - 1; n++)
		if (read_at_page_end(purchase, n) != -EINVAL)
			fail_msg("prefix of %zu bytes read", n);
}

/* A line whose props nest <arrays> arrays deep, in <line>; returns its length. */
static size_t nested(char *line, size_t cap, int arrays)
{
	size_t n = (size_t)snprintf(line, cap, "{\"props\":");

	for (int d = 0; d < arrays; d++)
		line[n++] = '[';
	for (int d = 0; d < arrays; d++)
		line[n++] = ']';
	line[n++] = '}';
	return n;
}

static void test_depth_and_number_limits(void **state)
{
	char line[512];
	size_t n;

	(void)state;
	/* The line's object is the first level. */
	n = nested(line, sizeof(line), PXD_EVENT_LINE_MAX_DEPTH - 1);
	assert_int_equal(read_at_page_end(line, n), 0);
	n = nested(line, sizeof(line), PXD_EVENT_LINE_MAX_DEPTH);
	assert_int_equal(read_at_page_end(line, n), -EINVAL);
	n = (size_t)snprintf(line, sizeof(line), "{\"v\":1.%0*d}", PXD_EVENT_LINE_MAX_NUMBER, 0);
	assert_int_equal(read_at_page_end(line, n), -EINVAL);
}

/* Lines written by our own writer (jsonw: lower-case \u escapes, shortest
 * doubles) read back to what was written. */
static void test_reads_back_what_jsonw_writes(void **state)
{
	static const char text[] = "x\x01\x1f\"\\\x7f\xc3\xa9";
	struct pxd_event_line el;
	struct pxd_jsonw w;
	char buf[256];
	char out[64];
	ssize_t n;

	(void)state;
	pxd_jsonw_init(&w, buf, sizeof(buf));
	pxd_jsonw_object_begin(&w);
	pxd_jsonw_key(&w, "event", 5);
	pxd_jsonw_string(&w, text, sizeof(text) - 1);
	pxd_jsonw_key(&w, "ts", 2);
	pxd_jsonw_double(&w, 0.1 + 0.2);
	pxd_jsonw_object_end(&w);
	n = pxd_jsonw_finish(&w);
	assert_true(n > 0);
	assert_int_equal(pxd_event_line_read(&el, buf, (size_t)n), 0);
	assert_int_equal(pxd_jv_unescape(&el.top[PXD_LINE_EVENT], out, sizeof(out)),
			 sizeof(text) - 1);
	assert_memory_equal(out, text, sizeof(text) - 1);
	assert_int_equal(el.top[PXD_LINE_TS].type, PXD_JV_REAL);
	assert_true(pxd_jv_number(&el.top[PXD_LINE_TS]) == 0.1 + 0.2);
	assert_int_equal(pxd_event_line_ts(&el), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_every_field),
		cmocka_unit_test(test_props_members_and_arrays_walk_in_order),
		cmocka_unit_test(test_props_kept_as_read),
		cmocka_unit_test(test_missing_fields_read_as_absent),
		cmocka_unit_test(test_escapes_unescape_to_utf8),
		cmocka_unit_test(test_refuses_what_jansson_refuses),
		cmocka_unit_test(test_every_prefix_of_a_line_is_refused),
		cmocka_unit_test(test_depth_and_number_limits),
		cmocka_unit_test(test_reads_back_what_jsonw_writes),
	};

	return cmocka_run_group_tests_name("event_line", tests, NULL, NULL);
}
