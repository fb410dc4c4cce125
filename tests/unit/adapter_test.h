/* SPDX-License-Identifier: MIT */
/*
 * adapter_test.h - what the adapter unit tests (test_meta.c, test_ga4.c,
 * test_google_ads.c, test_tiktok.c, test_webhook.c, ...) share: a destination
 * built from key/value pairs and run through the adapter's init, canonical
 * events and golden bodies read from tests/golden/ (the tests run from the
 * repository root, as `make test` does), and a field-by-field JSON
 * comparison that names the first path that differs; test_http_out.c takes
 * the destination keys alone. Include after <cmocka.h>.
 */
#ifndef PXD_TEST_ADAPTER_TEST_H
#define PXD_TEST_ADAPTER_TEST_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "daemon.h"
#include "event_line.h"

#define GOLDEN_DIR "tests/golden"
#define TEST_CONF "/etc/pixeld.ini"

/* A destination under test, with the config it points at. */
struct tdest {
	struct pxd_conf_dest conf;
	struct pxd_dest dest;
	char err[512];
};

/* inline definitions */

/* Starts an uninitialised destination of <type>; the section is on line 10
 * and each key added goes on the next line. */
static inline struct tdest *tdest_new(const struct pxd_adapter *a)
{
	struct tdest *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	snprintf(t->conf.name, sizeof(t->conf.name), "test-%s", a->type);
	snprintf(t->conf.type, sizeof(t->conf.type), "%s", a->type);
	t->conf.line = 10;
	t->dest.conf = &t->conf;
	t->dest.adapter = a;
	return t;
}

/* Adds <key> = <value> to the destination section <d>, on the line after the last key. */
static inline void pxd_test_dest_set(struct pxd_conf_dest *d, const char *key, const char *value)
{
	struct pxd_conf_kv *kv = &d->kv[d->nkv];

	assert_true(d->nkv < PXD_CONF_MAX_DEST_KEYS);
	snprintf(kv->key, sizeof(kv->key), "%s", key);
	snprintf(kv->value, sizeof(kv->value), "%s", value);
	kv->line = d->line + 1 + (int)d->nkv++;
}

static inline void tdest_set(struct tdest *t, const char *key, const char *value)
{
	pxd_test_dest_set(&t->conf, key, value);
}

/* Runs the adapter's init; returns its result with the message in t->err. */
static inline int tdest_init(struct tdest *t)
{
	t->err[0] = '\0';
	return t->dest.adapter->init(&t->dest, TEST_CONF, t->err, sizeof(t->err));
}

static inline void tdest_free(struct tdest *t)
{
	if (!t)
		return;
	t->dest.adapter->fini(&t->dest);
	free(t);
}

/* cmocka group setup: initialises <t> and makes it the state; frees it on failure. */
static inline int tdest_setup_state(void **state, struct tdest *t)
{
	if (tdest_init(t)) {
		print_error("init: %s\n", t->err);
		tdest_free(t);
		return -1;
	}
	*state = t;
	return 0;
}

/* cmocka group teardown for tdest_setup_state(). */
static inline int tdest_teardown_state(void **state)
{
	tdest_free(*state);
	return 0;
}

/* Loads tests/golden/<rel>; fails the test when it is missing or malformed. */
static inline json_t *golden(const char *rel)
{
	char path[512];
	json_error_t e;
	json_t *j;

	snprintf(path, sizeof(path), GOLDEN_DIR "/%s", rel);
	j = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
	if (!j)
		fail_msg("%s:%d: %s (run the tests from the repository root)", path, e.line,
			 e.text);
	return j;
}

/*
 * A batch over canonical events: each item gets the compact line (as the
 * journal holds it), the parsed event and the read line. Lines are freed by batch_free().
 */
static inline void batch_make(struct pxd_batch *b, struct pxd_batch_item *items, json_t **evs,
			      size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *line = json_dumps(evs[i], JSON_COMPACT);
		struct pxd_event_line *el;

		assert_non_null(line);
		items[i] =
		    (struct pxd_batch_item){ .line = line, .len = strlen(line), .ev = evs[i] };
		/* As the dispatcher hands them to line readers: read once. */
		el = malloc(sizeof(*el));
		assert_non_null(el);
		assert_int_equal(pxd_event_line_read(el, line, items[i].len), 0);
		items[i].el = el;
	}
	b->items = items;
	b->n = n;
}

static inline void batch_free(struct pxd_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free((char *)b->items[i].line);
		free((struct pxd_event_line *)b->items[i].el);
	}
}

static inline struct pxd_response response(long status, const char *body)
{
	return (
	    struct pxd_response){ .status = status, .body = body, .len = body ? strlen(body) : 0 };
}

/* Returns the header of <req> that starts with <prefix>, or NULL. */
static inline const char *req_header(const struct pxd_request *req, const char *prefix)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (strncmp(req->headers[i], prefix, strlen(prefix)) == 0)
			return req->headers[i];
	return NULL;
}

/*
 * Compares <got> with <want> field by field: every member of <want> must be
 * in <got> with the same value, and <got> must hold nothing more. Numbers
 * compare by value (45 equals 45.0). Fails naming the first differing path.
 */
static inline void assert_json_same(const json_t *want, const json_t *got, const char *path)
{
	char sub[512];
	const char *k;
	json_t *v;
	size_t i;

	if (!got)
		fail_msg("%s: missing (want %s)", path, json_dumps(want, JSON_ENCODE_ANY));
	if (json_is_number(want) && json_is_number(got)) {
		if (json_number_value(want) != json_number_value(got))
			fail_msg("%s: want %.17g, got %.17g", path, json_number_value(want),
				 json_number_value(got));
		return;
	}
	if (json_typeof(want) != json_typeof(got))
		fail_msg("%s: want %s, got %s", path, json_dumps(want, JSON_ENCODE_ANY),
			 json_dumps(got, JSON_ENCODE_ANY));
	if (json_is_object(want)) {
		json_object_foreach((json_t *)want, k, v)
		{
			snprintf(sub, sizeof(sub), "%s.%s", path, k);
			assert_json_same(v, json_object_get(got, k), sub);
		}
		json_object_foreach((json_t *)got, k, v)
		{
			if (!json_object_get(want, k))
				fail_msg("%s.%s: not expected, got %s", path, k,
					 json_dumps(v, JSON_ENCODE_ANY));
		}
		return;
	}
	if (json_is_array(want)) {
		if (json_array_size(want) != json_array_size(got))
			fail_msg("%s: want %zu elements, got %zu", path, json_array_size(want),
				 json_array_size(got));
		json_array_foreach(want, i, v)
		{
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			assert_json_same(v, json_array_get(got, i), sub);
		}
		return;
	}
	if (json_is_string(want) && strcmp(json_string_value(want), json_string_value(got)) != 0)
		fail_msg("%s: want \"%s\", got \"%s\"", path, json_string_value(want),
			 json_string_value(got));
}

/* Parses <req>'s body and compares it with tests/golden/<rel>. */
static inline void assert_body_golden(const struct pxd_request *req, const char *rel)
{
	json_error_t e;
	json_t *got = json_loadb(req->body.p, req->body.len, JSON_REJECT_DUPLICATES, &e);
	json_t *want = golden(rel);

	if (!got)
		fail_msg("body is not JSON: %s: %.*s", e.text, (int)req->body.len, req->body.p);
	assert_json_same(want, got, rel);
	json_decref(got);
	json_decref(want);
}

/*
 * Builds golden event events/<name> alone through <t>'s adapter into <req>
 * and compares the body with tests/golden/<dir>/<name>. The caller checks
 * the URL and headers, then frees req->body.
 */
static inline void assert_build_golden(struct tdest *t, const char *dir, const char *name,
				       struct pxd_request *req)
{
	struct pxd_batch_item item;
	struct pxd_batch b;
	char rel[128];
	json_t *ev;

	snprintf(rel, sizeof(rel), "events/%s", name);
	ev = golden(rel);
	batch_make(&b, &item, &ev, 1);
	assert_int_equal(t->dest.adapter->build(&t->dest, &b, req), 0);
	snprintf(rel, sizeof(rel), "%s/%s", dir, name);
	assert_body_golden(req, rel);
	batch_free(&b);
	json_decref(ev);
}

/* The canonical action_source words (event.h), in pxd_ad_source order. */
static const char *const pxd_test_sources[] = {
	"website",	    "app",   "phone_call", "physical_store",
	"system_generated", "email", "chat",	   "other",
};

/*
 * Builds a copy of golden event <rel> with action_source <source> (NULL:
 * none) alone through <t> and returns the parsed body (the caller frees
 * it), or NULL when build refuses the event. <url> (when not NULL) gets the
 * request URL.
 */
static inline json_t *build_with_source(struct tdest *t, const char *rel, const char *source,
					char url[2048])
{
	struct pxd_batch_item item;
	struct pxd_request req = { 0 };
	struct pxd_batch b;
	json_t *ev = golden(rel), *body = NULL;

	if (source)
		json_object_set_new(ev, "action_source", json_string(source));
	else
		json_object_del(ev, "action_source");
	batch_make(&b, &item, &ev, 1);
	if (t->dest.adapter->build(&t->dest, &b, &req) == 0)
		body = json_loadb(req.body.p, req.body.len, 0, NULL);
	if (url)
		memcpy(url, req.url, sizeof(req.url));
	pxd_buf_free(&req.body);
	batch_free(&b);
	json_decref(ev);
	return body;
}

/* Runs <t>'s classify for <n> (at most 4) items without events over an
 * answer <status> with <body>; a 429 carries a Retry-After of 5 s. */
static inline void tdest_classify(struct tdest *t, size_t n, const char *body, long status,
				  struct pxd_outcome *out)
{
	struct pxd_batch_item items[4] = { 0 };
	struct pxd_batch b = { items, n };
	struct pxd_response r = response(status, body);

	assert_true(n <= 4);
	r.retry_after_ms = status == 429 ? 5000 : 0;
	t->dest.adapter->classify(&t->dest, &b, &r, out);
}

/* Runs <t>'s validate on <ev> (freed) with a 192-byte <reason>. */
static inline enum pxd_delivery tdest_validate(struct tdest *t, json_t *ev, char *reason)
{
	enum pxd_delivery d = t->dest.adapter->validate(&t->dest, ev, reason, 192);

	json_decref(ev);
	return d;
}

/* A copy of golden event <rel> with "ts" moved to <ago_ms> before now, for
 * the age rules of validate(). */
static inline json_t *event_aged(const char *rel, int64_t ago_ms)
{
	json_t *ev = golden(rel);

	json_object_set_new(ev, "ts", json_integer(pxd_now_ms() - ago_ms));
	return ev;
}

#endif
