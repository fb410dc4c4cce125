// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

static int setup_arena(void **state)
{
	struct pxd_arena *a = calloc(1, sizeof(*a));

	if (!a || pxd_arena_init(a, PXD_ARENA_DEFAULT_SIZE)) {
		free(a);
		return -1;
	}
	*state = a;
	return 0;
}

static int teardown_arena(void **state)
{
	struct pxd_arena *a = *state;

	pxd_arena_fini(a);
	free(a);
	return 0;
}

static void test_alloc_is_aligned_and_bounded(void **state)
{
	struct pxd_arena a;
	char *p1;
	char *p2;

	(void)state;
	assert_int_equal(pxd_arena_init(&a, 100), 0); /* rounded up to 112 */
	assert_int_equal(a.cap, 112);
	p1 = pxd_arena_alloc(&a, 1);
	p2 = pxd_arena_alloc(&a, 33);
	assert_non_null(p1);
	assert_non_null(p2);
	assert_int_equal((uintptr_t)p1 % 16, 0);
	assert_int_equal((uintptr_t)p2 % 16, 0);
	assert_ptr_equal(p2, p1 + 16);
	memset(p2, 0xab, 33);
	assert_int_equal(a.used, 64);
	assert_null(pxd_arena_alloc(&a, 49)); /* 48 left; 49 rounds up to 64 */
	assert_non_null(pxd_arena_alloc(&a, 48));
	assert_null(pxd_arena_alloc(&a, 1));
	assert_null(pxd_arena_alloc(&a, SIZE_MAX));
	pxd_arena_reset(&a);
	assert_int_equal(a.used, 0);
	assert_int_equal(a.high_water, 112);
	assert_ptr_equal(pxd_arena_alloc(&a, 8), p1);
	pxd_arena_fini(&a);
}

static void test_init_refuses_zero_and_second_arena(void **state)
{
	struct pxd_arena a;
	struct pxd_arena b;

	(void)state;
	assert_int_equal(pxd_arena_init(&a, 0), -EINVAL);
	assert_null(pxd_arena_current());
	assert_int_equal(pxd_arena_init(&a, 4096), 0);
	assert_ptr_equal(pxd_arena_current(), &a);
	assert_int_equal(pxd_arena_init(&b, 4096), -EBUSY);
	pxd_arena_fini(&a);
	assert_null(pxd_arena_current());
	pxd_arena_fini(&a); /* a finished arena is accepted */
}

static void test_jansson_parse_comes_from_arena(void **state)
{
	struct pxd_arena *a = *state;
	json_error_t jerr;
	json_t *root;

	root = json_loads(
	    "{\"event\":\"Purchase\",\"props\":{\"value\":9.5,\"ids\":[\"a\",\"b\"]}}", 0, &jerr);
	assert_non_null(root);
	assert_true(a->used > 0);
	assert_int_equal(a->fallbacks, 0);
	assert_string_equal(json_string_value(json_object_get(root, "event")), "Purchase");
	json_decref(root);
	pxd_arena_reset(a);
	assert_int_equal(a->used, 0);
}

/* The sizing claim in arena.h: a full 64 KiB beacon batch of 500 events fits. */
static void test_full_beacon_batch_fits_default_arena(void **state)
{
	struct pxd_arena *a = *state;
	size_t cap = 65536;
	char *body = malloc(cap);
	size_t len = 0;
	json_error_t jerr;
	json_t *root;

	assert_non_null(body);
	len += (size_t)snprintf(body + len, cap - len, "{\"batch\":[");
	for (int i = 0; i < 500; i++)
		len +=
		    (size_t)snprintf(body + len, cap - len,
				     "%s{\"event\":\"PageView\",\"event_id\":\"e-%06d\","
				     "\"url\":\"https://shop.example/p/%d\",\"user\":{\"anon_id\":"
				     "\"a-%d\"},\"props\":{\"value\":%d.5}}",
				     i ? "," : "", i, i, i, i);
	len += (size_t)snprintf(body + len, cap - len, "]}");
	assert_true(len < cap - 1);
	assert_true(len > 60000);
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	assert_non_null(root);
	assert_int_equal(json_array_size(json_object_get(root, "batch")), 500);
	assert_int_equal(a->fallbacks, 0);
	print_message("64 KiB batch of 500 events: %zu bytes of arena\n", a->high_water);
	json_decref(root);
	pxd_arena_reset(a);
	free(body);
}

/* A full arena spills to malloc, counts it, and free() gets exactly those
 * pointers back (the sanitizer build would see a bad or missed free). */
static void test_exhausted_arena_falls_back_to_malloc(void **state)
{
	struct pxd_arena a;
	json_error_t jerr;
	json_t *root;

	(void)state;
	assert_int_equal(pxd_arena_init(&a, 256), 0);
	root = json_loads("[\"aaaaaaaaaaaaaaaaaaaa\",\"bbbbbbbbbbbbbbbbbbbbbbbb\",{\"c\":[1,2,3]},"
			  "{\"d\":{\"e\":\"ffffffffffffffffffffffffffffff\"}}]",
			  0, &jerr);
	assert_non_null(root);
	assert_true(a.fallbacks > 0);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(json_array_get(root, 3), "d"), "e")),
	    "ffffffffffffffffffffffffffffff");
	json_decref(root);
	pxd_arena_fini(&a);
}

static void *parse_without_arena(void *arg)
{
	json_error_t jerr;
	json_t *root;
	int *ok = arg;

	*ok = pxd_arena_current() == NULL;
	root = json_loads("{\"k\":[\"v\",1,2.5]}", 0, &jerr);
	*ok = *ok && root && json_array_size(json_object_get(root, "k")) == 3;
	json_decref(root);
	return NULL;
}

/* Another thread has no arena: its values come from malloc even while this
 * thread's arena is bound, and this thread's arena is untouched. */
static void test_thread_without_arena_uses_malloc(void **state)
{
	struct pxd_arena *a = *state;
	pthread_t t;
	int ok = 0;

	assert_int_equal(pthread_create(&t, NULL, parse_without_arena, &ok), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(ok);
	assert_int_equal(a->used, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_is_aligned_and_bounded),
		cmocka_unit_test(test_init_refuses_zero_and_second_arena),
		cmocka_unit_test_setup_teardown(test_jansson_parse_comes_from_arena, setup_arena,
						teardown_arena),
		cmocka_unit_test_setup_teardown(test_full_beacon_batch_fits_default_arena,
						setup_arena, teardown_arena),
		cmocka_unit_test(test_exhausted_arena_falls_back_to_malloc),
		cmocka_unit_test_setup_teardown(test_thread_without_arena_uses_malloc, setup_arena,
						teardown_arena),
	};

	pxd_arena_install_jansson();
	return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}
