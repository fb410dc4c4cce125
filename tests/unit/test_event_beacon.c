// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "event_beacon.h"
#include "event_json.h"
#include "event_test.h"

/* What the decoder handed over: each event's name, url and props_json, and
 * a refusal to give for event <refuse_at>. */
struct seen {
	size_t n;
	char name[8][64];
	char url[8][128];
	char props[8][512];
	size_t refuse_at;
};

static enum pxd_refusal take(void *arg, struct pxd_event *ev, char *detail, size_t dlen)
{
	struct seen *s = arg;
	size_t i = s->n++;

	if (i < 8) {
		snprintf(s->name[i], sizeof(s->name[i]), "%.*s", (int)ev->name.n, ev->name.p);
		snprintf(s->url[i], sizeof(s->url[i]), "%.*s", (int)ev->url.n, ev->url.p);
		snprintf(s->props[i], sizeof(s->props[i]), "%.*s", (int)ev->props_json.n,
			 ev->props_json.p);
	}
	if (i + 1 == s->refuse_at) {
		snprintf(detail, dlen, "event: refused by the caller");
		return PXD_REFUSAL_BAD_EVENT;
	}
	return PXD_REFUSAL_NONE;
}

static enum pxd_refusal decode_n(struct event_fixture *f, struct seen *s, const char *body,
				 size_t len, size_t scap)
{
	return pxd_event_beacon_decode(body, len, NOW_MS, f->scratch, scap, take, s, f->detail,
				       sizeof(f->detail));
}

static enum pxd_refusal decode(struct event_fixture *f, struct seen *s, const char *body)
{
	return decode_n(f, s, body, strlen(body), sizeof(f->scratch));
}

static void test_event_read_in_one_pass(void **state)
{
	struct event_fixture *f = *state;
	struct seen s = { 0 };

	assert_int_equal(decode(f, &s,
				"{\"event\":\"Purchase\",\"url\":\"https://shop.example/a\\/b\","
				"\"props\":{\"value\":1.5e3,\"currency\":\"usd\",\"n\":-0,"
				"\"deep\":{\"k\":[ 1 , true,null ]},\"gone\":null,"
				"\"t\":\"\\u00e9\\n\"}}"),
			 PXD_REFUSAL_NONE);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.name[0], "Purchase");
	/* decoded into the scratch */
	assert_string_equal(s.url[0], "https://shop.example/a/b");
	/* number text as sent, compact, top-level nulls dropped, strings canonical */
	assert_string_equal(s.props[0], "{\"value\":1.5e3,\"currency\":\"USD\",\"n\":-0,"
					"\"deep\":{\"k\":[1,true,null]},\"t\":\"\xc3\xa9\\n\"}");
	assert_string_equal(f->detail, "");
}

static void test_batch_events_in_order(void **state)
{
	struct event_fixture *f = *state;
	struct seen s = { 0 };

	assert_int_equal(
	    decode(f, &s,
		   "{\"batch\":[{\"event\":\"A\"},{\"event\":\"B\",\"props\":{\"x\":1}},"
		   "{\"event\":\"C\"}]}"),
	    PXD_REFUSAL_NONE);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.name[0], "A");
	assert_string_equal(s.props[1], "{\"x\":1}");
	assert_string_equal(s.name[2], "C");
}

/* The caller's refusal of batch[1] is the answer, with the event's path,
 * and no later event is handed over. */
static void test_caller_refusal_stops_the_batch(void **state)
{
	struct event_fixture *f = *state;
	struct seen s = { .refuse_at = 2 };

	assert_int_equal(
	    decode(f, &s, "{\"batch\":[{\"event\":\"A\"},{\"event\":\"B\"},{\"event\":\"C\"}]}"),
	    PXD_REFUSAL_BAD_EVENT);
	assert_int_equal(s.n, 2);
	assert_string_equal(f->detail, "batch[1].event: refused by the caller");
}

struct verdict_case {
	const char *body;
	enum pxd_refusal r;
	const char *detail;
};

/* event_json.c's order of precedence: a body that is not JSON, then its
 * shape, then the batch size, then the first bad event, whatever came
 * first in the body. */
static void test_precedence_over_earlier_events(void **state)
{
	static const struct verdict_case cases[] = {
		{ "{\"batch\":[{\"event\":1}],\"x\":", PXD_REFUSAL_BAD_JSON,
		  "line 1 column 27: unexpected token near end of file" },
		{ "{\"event\":1,\"batch\":[]}", PXD_REFUSAL_BAD_EVENT,
		  "body: \"batch\" must be the only top-level key" },
		{ "{\"batch\":[{\"event\":1}],\"sent_at\":1}", PXD_REFUSAL_BAD_EVENT,
		  "body: \"batch\" must be the only top-level key" },
		{ "{\"batch\":null}", PXD_REFUSAL_BAD_EVENT,
		  "batch: must be an array of 1..500 events" },
		{ "{\"event\":\"A\",\"foo\":1,\"foo\":2}", PXD_REFUSAL_BAD_JSON,
		  "line 1 column 26: duplicate object key near '\"foo\"'" },
		{ "{\"event\":\"A\",\"props\":{\"a\":[1e400]}}", PXD_REFUSAL_BAD_JSON,
		  "line 1 column 32: real number overflow near '1e400'" },
		{ "{\"event\":\"A\",\"ts\":9223372036854775808}", PXD_REFUSAL_BAD_JSON,
		  "line 1 column 37: too big integer near '9223372036854775808'" },
		{ "{\"event\":\"A\",\"ts\":-9223372036854775808}", PXD_REFUSAL_BAD_EVENT,
		  "ts: before 2000-01-01; send Unix milliseconds" },
		{ "{\"event\":\"\\ud800\"}", PXD_REFUSAL_BAD_JSON,
		  "line 1 column 17: invalid Unicode '\\uD800' near '\"\\ud800\"'" },
		{ "{\"event\":\"A\",\"props\":{\"d\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]"
		  "]]"
		  "]]]]]]]]]]]]]]]],\"value\":-1}}",
		  PXD_REFUSAL_BAD_EVENT, "props.value: must be a non-negative number" },
		{ "{\"event\":\"A\",\"props\":{\"contents\":[{\"price\":1},7],\"value\":-1}}",
		  PXD_REFUSAL_BAD_EVENT, "props.contents[0].id: must be a string" },
		{ "{\"event\":\"A\",\"b\\u0061tch\":[]}", PXD_REFUSAL_BAD_EVENT,
		  "body: \"batch\" must be the only top-level key" },
		{ "{\"event\":\"A\",\"us\\u0065r\":{\"em\\u0061il\":1}}", PXD_REFUSAL_BAD_EVENT,
		  "user.email: must be a string" },
		{ "[{\"event\":\"A\"}]", PXD_REFUSAL_BAD_EVENT,
		  "body: must be a JSON object: one event, or {\"batch\":[...]}" },
		/* A refusal inside a batch names the element. */
		{ "{\"batch\":[{\"event\":\"A\"},{\"event\":\"B\"},7]}", PXD_REFUSAL_BAD_EVENT,
		  "batch[2]: must be an object" },
		{ "{\"batch\":[{\"event\":\"A\"},{\"event\":\"B\",\"user\":{\"email\":1}}]}",
		  PXD_REFUSAL_BAD_EVENT, "batch[1].user.email: must be a string" },
		{ "{\"batch\":[{\"event\":\"A\"},{\"event\":\"B\",\"props\":{\"value\":-1}}]}",
		  PXD_REFUSAL_BAD_EVENT, "batch[1].props.value: must be a non-negative number" },
	};
	struct event_fixture *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct seen s = { 0 };

		assert_int_equal(decode(f, &s, cases[i].body), cases[i].r);
		assert_string_equal(f->detail, cases[i].detail);
	}
}

/* NUL bytes are not JSON: refused wherever they are, also where jansson
 * passes over them. */
static void test_nul_bytes_refused(void **state)
{
	static const char in_string[] = "{\"event\":\"A\",\"x\":\"\0\"}";
	static const char after_number[] = "{\"batch\":[{\"event\":\"A\",\"ts\":1\0}]}";
	struct event_fixture *f = *state;
	struct seen s = { 0 };

	assert_int_equal(decode_n(f, &s, in_string, sizeof(in_string) - 1, sizeof(f->scratch)),
			 PXD_REFUSAL_BAD_JSON);
	assert_int_equal(
	    decode_n(f, &s, after_number, sizeof(after_number) - 1, sizeof(f->scratch)),
	    PXD_REFUSAL_BAD_JSON);
	assert_int_equal(s.n, 0);
}

/* A batch of 501 is too large even when its first event is bad. */
static void test_batch_too_large_wins(void **state)
{
	struct event_fixture *f = *state;
	size_t cap = 501 * 16 + 32;
	char *body = malloc(cap);
	struct seen s = { 0 };
	size_t len;

	assert_non_null(body);
	len = (size_t)snprintf(body, cap, "{\"batch\":[{\"event\":1}");
	for (int i = 1; i < 501; i++)
		len += (size_t)snprintf(body + len, cap - len, ",{\"event\":\"E\"}");
	snprintf(body + len, cap - len, "]}");
	assert_int_equal(decode(f, &s, body), PXD_REFUSAL_BATCH_TOO_LARGE);
	assert_string_equal(f->detail, "batch: 501 events; send at most 500 per request");
	assert_int_equal(s.n, 0);
	free(body);
}

/* Duplicates are found in large objects (sorted at their end) and past
 * the keys tracked at once (jansson is asked). */
static void test_duplicates_in_large_objects(void **state)
{
	struct event_fixture *f = *state;
	size_t cap = 1600 * 16;
	char *body = malloc(cap);

	assert_non_null(body);
	for (int nkeys = 40; nkeys <= 1500; nkeys += 1460) {
		for (int dup = 0; dup <= 1; dup++) {
			struct seen s = { 0 };
			size_t len = (size_t)snprintf(body, cap, "{\"event\":\"A\",\"props\":{");

			for (int i = 0; i < nkeys; i++)
				len += (size_t)snprintf(body + len, cap - len, "%s\"k%d\":%d",
							i ? "," : "", dup && i == nkeys - 1 ? 3 : i,
							i);
			snprintf(body + len, cap - len, "}}");
			assert_int_equal(decode(f, &s, body),
					 dup ? PXD_REFUSAL_BAD_JSON : PXD_REFUSAL_NONE);
			if (dup)
				assert_non_null(strstr(f->detail, "duplicate object key"));
			else
				assert_int_equal(s.n, 1);
		}
	}
	free(body);
}

/* jansson's nesting limit: 2048 values deep, the innermost counted. */
static void test_nesting_limit(void **state)
{
	struct event_fixture *f = *state;
	char *body = malloc(8192);

	assert_non_null(body);
	for (int levels = 2047; levels <= 2048; levels++) {
		struct seen s = { 0 };
		size_t len = 0;

		for (int i = 0; i < levels; i++)
			body[len++] = '[';
		body[len++] = '1';
		for (int i = 0; i < levels; i++)
			body[len++] = ']';
		assert_int_equal(decode_n(f, &s, body, len, sizeof(f->scratch)),
				 levels == 2047 ? PXD_REFUSAL_BAD_EVENT : PXD_REFUSAL_BAD_JSON);
	}
	assert_non_null(strstr(f->detail, "maximum parsing depth reached"));
	free(body);
}

/* Every prefix of a valid body is refused as BAD_JSON, never read past. */
static void test_every_truncated_prefix_is_refused(void **state)
{
	static const char body[] =
	    "{\"batch\":[{\"event\":\"A\",\"ts\":1732300000123,\"user\":{\"email\":\"a\\u00e9\"},"
	    "\"props\":{\"value\":-0.0,\"contents\":[{\"id\":\"x\",\"price\":1e2}],"
	    "\"t\":[true,false,null]}}]}";
	struct event_fixture *f = *state;

	for (size_t n = 0; n < sizeof(body) - 1; n++) {
		char *copy = malloc(n ? n : 1);
		struct seen s = { 0 };

		assert_non_null(copy);
		memcpy(copy, body, n);
		assert_int_equal(decode_n(f, &s, copy, n, sizeof(f->scratch)),
				 PXD_REFUSAL_BAD_JSON);
		free(copy);
	}
	{
		struct seen s = { 0 };

		assert_int_equal(decode(f, &s, body), PXD_REFUSAL_NONE);
		assert_int_equal(s.n, 1);
	}
}

/* A scratch of the body's size holds everything; a smaller one refuses. */
static void test_scratch_of_body_size_suffices(void **state)
{
	static const char body[] =
	    "{\"event\":\"\\u0041\",\"url\":\"\\/\\/x\",\"props\":{\"\\u006b\":\"\\\"\"}}";
	struct event_fixture *f = *state;
	struct seen s = { 0 };

	assert_int_equal(decode_n(f, &s, body, sizeof(body) - 1, sizeof(body) - 1),
			 PXD_REFUSAL_NONE);
	assert_string_equal(s.name[0], "A");
	assert_string_equal(s.url[0], "//x");
	assert_string_equal(s.props[0], "{\"k\":\"\\\"\"}");
	assert_int_equal(decode_n(f, &s, body, sizeof(body) - 1, 8), PXD_REFUSAL_BAD_EVENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_event_read_in_one_pass, event_setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_batch_events_in_order, event_setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_caller_refusal_stops_the_batch, event_setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_precedence_over_earlier_events, event_setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_nul_bytes_refused, event_setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_batch_too_large_wins, event_setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_duplicates_in_large_objects, event_setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_nesting_limit, event_setup, event_teardown),
		cmocka_unit_test_setup_teardown(test_every_truncated_prefix_is_refused, event_setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_scratch_of_body_size_suffices, event_setup,
						event_teardown),
	};

	return cmocka_run_group_tests_name("event_beacon", tests, NULL, NULL);
}
