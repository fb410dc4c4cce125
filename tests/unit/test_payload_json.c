// SPDX-License-Identifier: MIT
#include "adapters/payload_json.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "payload.h"

/* What the tree-built bodies were: jansson's compact dump, 15-digit reals. */
static char *jansson(const json_t *v)
{
	struct pxd_buf b = { 0 };
	json_t *wrap = json_pack("[O]", v);

	assert_int_equal(pxd_payload_dump(&b, wrap), 0);
	json_decref(wrap);
	/* Drop the wrapping brackets. */
	memmove(b.p, b.p + 1, b.len - 2);
	b.p[b.len - 2] = '\0';
	return b.p;
}

static void assert_same(struct pxd_buf *got, const json_t *v)
{
	char *want = jansson(v);

	if (strlen(want) != got->len || memcmp(want, got->p, got->len))
		fail_msg("want %s, got %.*s", want, (int)got->len, got->p);
	free(want);
	got->len = 0;
}

static void test_reals_as_jansson_wrote_them(void **state)
{
	static const double v[] = { 0,
				    -0.0,
				    45,
				    99.99,
				    0.1,
				    0.1 + 0.2,
				    1e15,
				    1e16,
				    1e17,
				    1e20,
				    1e21,
				    1e-4,
				    1e-5,
				    1.5e300,
				    3e-320,
				    -2.5,
				    123456789012345678.0,
				    9.99,
				    1.0 / 3,
				    2e-308 };
	struct pxd_buf b = { 0 };
	struct pxd_payload_out o;
	unsigned long long bits = 0x3ff0000000000001ull;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v) + 2000; i++) {
		double d = i < ARRAY_SIZE(v) ? v[i] : 0;
		json_t *r;

		if (i >= ARRAY_SIZE(v)) {
			/* A spread of bit patterns across every exponent. */
			bits = bits * 6364136223846793005ull + 1442695040888963407ull;
			memcpy(&d, &bits, sizeof(d));
			if (!isfinite(d))
				continue;
		}
		pxd_payload_out_init(&o, &b);
		pxd_payload_out_real(&o, d);
		assert_int_equal(o.err, 0);
		r = json_real(d);
		assert_same(&b, r);
		json_decref(r);
	}
	pxd_buf_free(&b);
}

static void test_strings_escaped_as_jansson_escapes(void **state)
{
	char all[0x80 + 8];
	struct pxd_buf b = { 0 };
	struct pxd_payload_out o;
	json_t *s;

	(void)state;
	for (int c = 1; c < 0x80; c++)
		all[c - 1] = (char)c;
	memcpy(all + 0x7f, "\xc3\xa9\xf0\x9f\x98\x80", 6);
	pxd_payload_out_init(&o, &b);
	pxd_payload_out_str(&o, all, 0x7f + 6);
	s = json_stringn(all, 0x7f + 6);
	assert_same(&b, s);
	json_decref(s);
	pxd_buf_free(&b);
}

/* Values read from a line come out as jansson re-dumped the loaded line. */
static void test_line_values_as_jansson_redumped_them(void **state)
{
	static const char *const lines[] = {
		"{\"props\":{\"a\":\"x\\u001fy\\u00e9\\ud83d\\ude00\\/\\\"\",\"b\":-0,\"c\":1E+2,"
		"\"d\":[true,false,null,{\"k\\n\":2.50}],\"e\":{},\"f\":[],\"g\":0."
		"30000000000000004}}",
		"{ \"props\" : { \"a\" : [ 1 , 2 ] , \"b\" : \"\" } }",
	};
	struct pxd_buf b = { 0 };
	struct pxd_payload_out o;
	struct pxd_event_line el;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		json_t *tree = json_loadb(lines[i], strlen(lines[i]), 0, NULL);

		assert_non_null(tree);
		assert_int_equal(pxd_event_line_read(&el, lines[i], strlen(lines[i])), 0);
		pxd_payload_out_init(&o, &b);
		pxd_payload_out_jv(&o, &el.top[PXD_LINE_PROPS]);
		assert_int_equal(o.err, 0);
		assert_same(&b, json_object_get(tree, "props"));
		json_decref(tree);
	}
	pxd_buf_free(&b);
}

/* A number text for test_reals_from_line_text(): sign, integer part,
 * fraction and exponent of random lengths, zeros often. */
static void number_text(unsigned *seed, char *out, size_t outlen)
{
	int ni = rand_r(seed) % 18, nf = rand_r(seed) % 19 - 1, zeros = rand_r(seed) % 7;
	size_t n = 0;

	if (rand_r(seed) % 3 == 0)
		out[n++] = '-';
	if (!ni || rand_r(seed) % 3 == 0)
		out[n++] = '0';
	else
		for (int i = 0; i < ni; i++)
			out[n++] = (char)((i ? '0' : '1') + rand_r(seed) % (i ? 10 : 9));
	if (nf >= 0) {
		out[n++] = '.';
		for (int i = 0; i < zeros && n + 1 < outlen; i++)
			out[n++] = '0';
		for (int i = 0; i <= nf; i++)
			out[n++] = (char)(rand_r(seed) % 4 == 0 ? '0' : '0' + rand_r(seed) % 10);
	}
	if (rand_r(seed) % 8 == 0)
		n += (size_t)snprintf(out + n, outlen - n, "e%d", rand_r(seed) % 40 - 20);
	out[n] = '\0';
}

/* Number views written as reals come out as jansson wrote json_real() of
 * their value, whether from the text or through a double. */
static void test_reals_from_line_text(void **state)
{
	static const char *const fixed[] = { "0",
					     "-0",
					     "0.0",
					     "-0.0",
					     "100",
					     "9.5",
					     "99.990",
					     "0.0001",
					     "0.00001",
					     "1e2",
					     "12345678901234.5",
					     "123456789012345",
					     "1234567890123456",
					     "0.30000000000000004",
					     "-0.000123",
					     "45.000" };
	char text[64], line[128];
	unsigned seed = 42;
	struct pxd_buf b = { 0 };
	struct pxd_payload_out o;
	struct pxd_event_line el;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(fixed) + 20000; i++) {
		json_t *tree, *real;
		struct pxd_jv v;

		if (i < ARRAY_SIZE(fixed))
			snprintf(text, sizeof(text), "%s", fixed[i]);
		else
			number_text(&seed, text, sizeof(text));
		snprintf(line, sizeof(line), "{\"props\":{\"x\":%s}}", text);
		tree = json_loads(line, 0, NULL);
		assert_non_null(tree);
		assert_int_equal(pxd_event_line_read(&el, line, strlen(line)), 0);
		v = pxd_jv_get(&el.top[PXD_LINE_PROPS], "x");
		pxd_payload_out_init(&o, &b);
		pxd_payload_out_jv_real(&o, &v);
		assert_int_equal(o.err, 0);
		real = json_real(
		    json_number_value(json_object_get(json_object_get(tree, "props"), "x")));
		assert_same(&b, real);
		json_decref(real);
		json_decref(tree);
	}
	pxd_buf_free(&b);
}

static void test_members_and_commas(void **state)
{
	struct pxd_buf b = { 0 };
	struct pxd_payload_out o;

	(void)state;
	pxd_payload_out_init(&o, &b);
	pxd_payload_out_open(&o, '{');
	pxd_payload_out_key(&o, "a");
	pxd_payload_out_open(&o, '[');
	pxd_payload_out_int(&o, -7);
	pxd_payload_out_str(&o, "s", 1);
	pxd_payload_out_close(&o, ']');
	pxd_payload_out_key(&o, "b");
	pxd_payload_out_open(&o, '{');
	pxd_payload_out_close(&o, '}');
	pxd_payload_out_close(&o, '}');
	assert_int_equal(o.err, 0);
	assert_string_equal(b.p, "{\"a\":[-7,\"s\"],\"b\":{}}");
	pxd_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reals_as_jansson_wrote_them),
		cmocka_unit_test(test_strings_escaped_as_jansson_escapes),
		cmocka_unit_test(test_line_values_as_jansson_redumped_them),
		cmocka_unit_test(test_reals_from_line_text),
		cmocka_unit_test(test_members_and_commas),
	};

	return cmocka_run_group_tests_name("payload_json", tests, NULL, NULL);
}
