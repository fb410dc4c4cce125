// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "compiler.h"
#include "event_query.h"
#include "event_test.h"

static enum pxd_refusal parse(struct event_fixture *f, const char *q)
{
	memset(f->detail, 0, sizeof(f->detail));
	return pxd_event_query_parse(q, strlen(q), NOW_MS, &f->ev, f->scratch, sizeof(f->scratch),
				     f->detail, sizeof(f->detail));
}

static const char every_key[] =
    "e=Purchase&id=evt-1&url=https%3A%2F%2Fshop.example%2Fc%3Fa%3D1&ref=https%3A%2F%2Fr.example"
    "&ts=1732300000123&uid=u-42&em=Test%40Example.COM&ph=%2B1+650+555+1234&fn=John&ln=Smith"
    "&v=99.99&cur=usd&oid=o-1&fbc=fb.1.1554763741205.IwAR&fbp=fb.1.2.3&gclid=G&wbraid=W"
    "&gbraid=GB&ttclid=E.C.P.t&ttp=tp&li_fat_id=li&sccid=sc&epik=ep&rdt_cid=rd&msclkid=ms"
    "&p.plan=pro+plan&p.step_2=%E2%82%AC&_=1732300000";

static void test_every_key(void **state)
{
	static const char *const clicks[PXD_CLICK_FIELD_COUNT] = {
		"fb.1.1554763741205.IwAR",
		"fb.1.2.3",
		"G",
		"W",
		"GB",
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

	assert_int_equal(parse(f, every_key), PXD_REFUSAL_NONE);
	assert_int_equal(ev->source, PXD_EVENT_SOURCE_PIXEL);
	event_assert_sv(ev->name, "Purchase");
	event_assert_sv(ev->event_id, "evt-1");
	event_assert_sv(ev->url, "https://shop.example/c?a=1");
	event_assert_sv(ev->referrer, "https://r.example");
	assert_true(ev->has_ts);
	assert_int_equal(ev->ts, 1732300000123);
	event_assert_sv(ev->user[PXD_USER_FIELD_ID], "u-42");
	event_assert_sv(ev->user[PXD_USER_FIELD_EMAIL], "Test@Example.COM");
	event_assert_sv(ev->user[PXD_USER_FIELD_PHONE], "+1 650 555 1234");
	event_assert_sv(ev->user[PXD_USER_FIELD_FIRST_NAME], "John");
	event_assert_sv(ev->user[PXD_USER_FIELD_LAST_NAME], "Smith");
	assert_true(ev->has_value);
	assert_true(ev->value == 99.99);
	event_assert_sv(ev->currency, "usd");
	event_assert_sv(ev->order_id, "o-1");
	for (int i = 0; i < PXD_CLICK_FIELD_COUNT; i++)
		event_assert_sv(ev->click[i], clicks[i]);
	assert_int_equal(ev->ncustom, 2);
	event_assert_sv(ev->custom[0].name, "plan");
	event_assert_sv(ev->custom[0].value, "pro plan");
	event_assert_sv(ev->custom[1].name, "step_2");
	event_assert_sv(ev->custom[1].value, "\xe2\x82\xac");
}

/* The pixel path end to end: query -> event -> the canonical record. */
static void test_query_serializes(void **state)
{
	struct event_fixture *f = *state;
	ssize_t n;

	assert_int_equal(parse(f, "e=Lead&id=x1&v=5&cur=eur&em=Test%40Example.COM&p.plan=pro"
				  "&gclid=Cj0&ts=1732300000"),
			 PXD_REFUSAL_NONE);
	f->ev.received_at = NOW_MS;
	n = pxd_event_serialize(&f->ev, NOW_MS, &f->uuid, f->line, sizeof(f->line));
	assert_true(n > 0);
	assert_string_equal(
	    f->line, "{\"v\":1,\"event_id\":\"x1\",\"event\":\"Lead\",\"ts\":1732300000000,"
		     "\"received_at\":1732300000456,\"source\":\"pixel\",\"user\":"
		     "{\"email_sha256\":\"973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a"
		     "89ea65dba4e813b\"},\"click\":{\"gclid\":\"Cj0\"},\"props\":{\"value\":5,"
		     "\"currency\":\"EUR\",\"plan\":\"pro\"}}");
}

static void test_defaults_and_empty_values(void **state)
{
	struct event_fixture *f = *state;

	assert_int_equal(parse(f, ""), PXD_REFUSAL_NONE);
	event_assert_sv(f->ev.name, "PageView");
	assert_false(f->ev.has_ts);
	assert_null(f->ev.event_id.p);

	/* empty standard values are absent; a key without '=' too */
	assert_int_equal(parse(f, "e=&id=&ts=&v=&em=&cur=&url&p.x="), PXD_REFUSAL_NONE);
	event_assert_sv(f->ev.name, "PageView");
	assert_null(f->ev.event_id.p);
	assert_false(f->ev.has_ts);
	assert_false(f->ev.has_value);
	assert_null(f->ev.user[PXD_USER_FIELD_EMAIL].p);
	assert_null(f->ev.currency.p);
	assert_null(f->ev.url.p);
	assert_int_equal(f->ev.ncustom, 1);
	event_assert_sv(f->ev.custom[0].value, "");

	/* stray separators */
	assert_int_equal(parse(f, "&&e=A&&=x&=&"), PXD_REFUSAL_NONE);
	event_assert_sv(f->ev.name, "A");
}

static void test_unknown_keys_are_ignored_undecoded(void **state)
{
	struct event_fixture *f = *state;

	assert_int_equal(parse(f, "_=1732300000&foo=%zz&E=Purchase&e%3D=x&p.=y&pp.x=1&e=A"),
			 PXD_REFUSAL_NONE);
	event_assert_sv(f->ev.name, "A");
	assert_int_equal(f->ev.ncustom, 0);
}

static void test_repeated_keys_last_wins(void **state)
{
	struct event_fixture *f = *state;

	assert_int_equal(parse(f, "e=A&ts=1732300000000&e=B&p.x=1&p.y=2&p.x=3&ts=&v=1&v=2"),
			 PXD_REFUSAL_NONE);
	event_assert_sv(f->ev.name, "B");
	assert_false(f->ev.has_ts);
	assert_true(f->ev.value == 2);
	assert_int_equal(f->ev.ncustom, 2);
	event_assert_sv(f->ev.custom[0].name, "x");
	event_assert_sv(f->ev.custom[0].value, "3");
	event_assert_sv(f->ev.custom[1].name, "y");
}

static void test_percent_decoding(void **state)
{
	static const struct {
		const char *raw;
		const char *decoded;
	} cases[] = {
		{ "a+b", "a b" },
		{ "%2B%2b", "++" },
		{ "%25", "%" },
		{ "%41%5a%7e", "AZ~" },
		{ "%e2%82%AC", "\xe2\x82\xac" },
		{ "%0A%7F", "\n\x7f" },
		{ "%FF", "\xff" },
		{ "a%3Db%26c", "a=b&c" },
	};
	struct event_fixture *f = *state;
	char q[64];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(q, sizeof(q), "url=%s", cases[i].raw);
		assert_int_equal(parse(f, q), PXD_REFUSAL_NONE);
		event_assert_sv(f->ev.url, cases[i].decoded);
	}
}

/* The decoder copies 16 bytes at a time up to a '%', '+' or '&': each at
 * every offset of values around those 16, with a pair after it. */
static void test_escapes_at_every_offset(void **state)
{
	static const struct {
		const char *raw;
		char decoded;
	} marks[] = { { "%41", 'A' }, { "+", ' ' }, { "%2b", '+' }, { "%26", '&' } };
	struct event_fixture *f = *state;
	char q[160];
	char want[96];

	for (size_t m = 0; m < ARRAY_SIZE(marks); m++) {
		for (int len = 1; len <= 40; len++) {
			for (int at = 0; at < len; at++) {
				int n = snprintf(
				    q, sizeof(q), "url=%.*s%s%.*s&e=Ev&ref=%.*s", at,
				    "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH", marks[m].raw,
				    len - at - 1, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH",
				    len, "RRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRR");

				assert_true(n > 0 && (size_t)n < sizeof(q));
				snprintf(want, sizeof(want), "%.*s%c%.*s", at,
					 "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH",
					 marks[m].decoded, len - at - 1,
					 "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH");
				assert_int_equal(parse(f, q), PXD_REFUSAL_NONE);
				event_assert_sv(f->ev.url, want);
				event_assert_sv(f->ev.name, "Ev");
				assert_int_equal(f->ev.referrer.n, len);
			}
		}
	}
}

struct bad_case {
	const char *q;
	const char *detail;
};

static void test_refusals(void **state)
{
	static const struct bad_case cases[] = {
		{ "url=%", "url: bad percent-escape at offset 4; write '%' as %25" },
		{ "e=A&url=a%4", "url: bad percent-escape at offset 9; write '%' as %25" },
		{ "id=%G1", "id: bad percent-escape at offset 3; write '%' as %25" },
		{ "em=a%x1", "em: bad percent-escape at offset 4; write '%' as %25" },
		{ "p.k=%%41", "p.k: bad percent-escape at offset 4; write '%' as %25" },
		{ "fn=a%00b", "fn: %00 (a NUL byte) is not allowed" },
		{ "ts=abc", "ts: must be an integer (Unix milliseconds)" },
		{ "ts=-1", "ts: must be an integer (Unix milliseconds)" },
		{ "ts=1e12", "ts: must be an integer (Unix milliseconds)" },
		{ "ts=1234567890123456789", "ts: must be an integer (Unix milliseconds)" },
		{ "v=-1", "v: must be a non-negative decimal number such as 9.99" },
		{ "v=1e3", "v: must be a non-negative decimal number such as 9.99" },
		{ "v=1.2.3", "v: must be a non-negative decimal number such as 9.99" },
		{ "v=.", "v: must be a non-negative decimal number such as 9.99" },
		{ "v=+1", "v: must be a non-negative decimal number such as 9.99" },
		{ "v=nan", "v: must be a non-negative decimal number such as 9.99" },
		{ "p.a-b=1", "p.*: custom prop names are 1..40 characters of A-Z a-z 0-9 _" },
		{ "p.abcdefghijabcdefghijabcdefghijabcdefghijX=1",
		  "p.*: custom prop names are 1..40 characters of A-Z a-z 0-9 _" },
		{ "p.value=1", "p.value: reserved; send v, cur or oid" },
		{ "p.currency=USD", "p.currency: reserved; send v, cur or oid" },
		{ "p.order_id=1", "p.order_id: reserved; send v, cur or oid" },
		/* the event check, after parsing */
		{ "e=Bad%21", "event: use 1..64 characters of A-Z a-z 0-9 _ . - and space" },
		{ "cur=US", "props.currency: must be a 3-letter ISO 4217 code such as \"USD\"" },
		{ "id=a%22b", "event_id: use 1..64 printable ASCII characters without quotes or "
			      "backslashes, or leave it out to have one generated" },
		{ "ts=99999999999999", "ts: more than 10 minutes in the future; send Unix "
				       "milliseconds" },
		{ "ts=946684799", "ts: before 2000-01-01; send Unix milliseconds" },
	};
	struct event_fixture *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(parse(f, cases[i].q), PXD_REFUSAL_BAD_EVENT);
		assert_string_equal(f->detail, cases[i].detail);
	}
}

static void test_value_and_ts_forms(void **state)
{
	struct event_fixture *f = *state;

	assert_int_equal(parse(f, "v=.5&ts=1732300000"), PXD_REFUSAL_NONE);
	assert_true(f->ev.value == 0.5);
	assert_int_equal(f->ev.ts, 1732300000);
	assert_int_equal(parse(f, "v=10.&ts=000001732300000000"), PXD_REFUSAL_NONE);
	assert_true(f->ev.value == 10);
	assert_int_equal(f->ev.ts, 1732300000000);
	assert_int_equal(parse(f, "v=%31%2E5"), PXD_REFUSAL_NONE);
	assert_true(f->ev.value == 1.5);
}

static void test_custom_prop_limits(void **state)
{
	struct event_fixture *f = *state;
	char q[1024];
	size_t len = 0;

	for (int i = 0; i < PXD_EVENT_MAX_CUSTOM; i++)
		len += (size_t)snprintf(q + len, sizeof(q) - len, "&p.k%d=%d", i, i);
	/* a repeat of an existing name does not count */
	len += (size_t)snprintf(q + len, sizeof(q) - len, "&p.k0=again");
	assert_int_equal(parse(f, q), PXD_REFUSAL_NONE);
	assert_int_equal(f->ev.ncustom, PXD_EVENT_MAX_CUSTOM);
	event_assert_sv(f->ev.custom[0].value, "again");
	snprintf(q + len, sizeof(q) - len, "&p.k99=x");
	assert_int_equal(parse(f, q), PXD_REFUSAL_BAD_EVENT);
	assert_string_equal(f->detail, "p.*: at most 32 custom props");

	assert_int_equal(parse(f, "p.abcdefghijabcdefghijabcdefghijabcdefghij=1"),
			 PXD_REFUSAL_NONE);
	assert_int_equal(f->ev.ncustom, 1);
}

static void test_small_scratch_is_refused(void **state)
{
	struct event_fixture *f = *state;

	assert_int_equal(pxd_event_query_parse("e=A", 3, NOW_MS, &f->ev, f->scratch, 3, f->detail,
					       sizeof(f->detail)),
			 PXD_REFUSAL_INTERNAL);
	assert_int_equal(pxd_event_query_parse("e=A", 3, NOW_MS, &f->ev, f->scratch, 4, f->detail,
					       sizeof(f->detail)),
			 PXD_REFUSAL_NONE);
}

/*
 * Every prefix of hostile queries, each placed at the very end of a page
 * followed by a PROT_NONE page, with a scratch of exactly n + 1 bytes also
 * against a guard page: a read or write one byte too far faults.
 */
static void test_hostile_prefixes_at_page_end(void **state)
{
	static const char *const inputs[] = {
		every_key,
		"url=%e2%82%ac%&e=%41%4&ts=1%32&v=9.%39&p.x=%00&p.y=+++%25",
		"%%%%&&&===&e==&p.=&p.a=&p.b&v=..&ts=&id=%7",
		"e",
		"p.k=%",
	};
	long pg = sysconf(_SC_PAGESIZE);
	char *mem =
	    mmap(NULL, (size_t)pg * 4, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct event_fixture *f = *state;

	assert_true(mem != MAP_FAILED);
	assert_int_equal(mprotect(mem + pg, (size_t)pg, PROT_NONE), 0);
	assert_int_equal(mprotect(mem + 3 * pg, (size_t)pg, PROT_NONE), 0);
	for (size_t k = 0; k < ARRAY_SIZE(inputs); k++) {
		size_t len = strlen(inputs[k]);

		for (size_t n = 0; n <= len; n++) {
			char *q = mem + pg - n;
			char *scratch = mem + 3 * pg - (n + 1);
			enum pxd_refusal r;

			memcpy(q, inputs[k], n);
			r = pxd_event_query_parse(q, n, NOW_MS, &f->ev, scratch, n + 1, f->detail,
						  sizeof(f->detail));
			assert_true(r == PXD_REFUSAL_NONE || r == PXD_REFUSAL_BAD_EVENT);
			if (r == PXD_REFUSAL_NONE)
				assert_true(f->ev.name.n > 0);
		}
	}
	munmap(mem, (size_t)pg * 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_key, event_setup, event_teardown),
		cmocka_unit_test_setup_teardown(test_query_serializes, event_setup, event_teardown),
		cmocka_unit_test_setup_teardown(test_defaults_and_empty_values, event_setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_keys_are_ignored_undecoded,
						event_setup, event_teardown),
		cmocka_unit_test_setup_teardown(test_repeated_keys_last_wins, event_setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_percent_decoding, event_setup, event_teardown),
		cmocka_unit_test_setup_teardown(test_escapes_at_every_offset, event_setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_refusals, event_setup, event_teardown),
		cmocka_unit_test_setup_teardown(test_value_and_ts_forms, event_setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_custom_prop_limits, event_setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_small_scratch_is_refused, event_setup,
						event_teardown),
		cmocka_unit_test_setup_teardown(test_hostile_prefixes_at_page_end, event_setup,
						event_teardown),
	};

	return cmocka_run_group_tests_name("event_query", tests, NULL, NULL);
}
