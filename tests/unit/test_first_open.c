// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "first_open.h"

#define T0 1750000000 /* 2025-06-15 */
#define DAY 86400
#define WINDOW (30 * DAY)

struct fixture {
	struct pxd_first_open *t;
	struct pxd_first_open_stats st;
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(pxd_first_open_init(&f->t, 1024, WINDOW), 0);
	strcpy(f->dir, "/tmp/pxd_foXXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/first_open.state", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char tmp[160];

	snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
	unlink(f->path);
	unlink(tmp);
	rmdir(f->dir);
	pxd_first_open_free(f->t);
	free(f);
	return 0;
}

static uint64_t key(int msg, int rcpt)
{
	char m[32];
	char r[32];

	snprintf(m, sizeof(m), "msg-%d", msg);
	snprintf(r, sizeof(r), "rcpt-%d", rcpt);
	return pxd_first_open_key(PXD_SV("acme"), pxd_sv_cstr(m), pxd_sv_cstr(r));
}

static void test_first_open_then_repeats(void **state)
{
	struct fixture *f = *state;

	assert_true(pxd_first_open_check(f->t, key(1, 1), T0, &f->st));
	assert_false(pxd_first_open_check(f->t, key(1, 1), T0 + 5, &f->st));
	assert_false(pxd_first_open_check(f->t, key(1, 1), T0 + DAY, &f->st));
	/* Another recipient of the message, and another message to the recipient. */
	assert_true(pxd_first_open_check(f->t, key(1, 2), T0, &f->st));
	assert_true(pxd_first_open_check(f->t, key(2, 1), T0, &f->st));
	assert_int_equal(f->st.first, 3);
	assert_int_equal(f->st.repeat, 2);
	assert_int_equal(f->st.evicted, 0);
	assert_int_equal(pxd_first_open_live(f->t, T0 + DAY), 3);
}

static void test_key_keeps_fields_and_tenants_apart(void **state)
{
	(void)state;
	assert_int_not_equal(pxd_first_open_key(PXD_SV("t"), PXD_SV("ab"), PXD_SV("c")),
			     pxd_first_open_key(PXD_SV("t"), PXD_SV("a"), PXD_SV("bc")));
	assert_int_not_equal(pxd_first_open_key(PXD_SV("t1"), PXD_SV("m"), PXD_SV("r")),
			     pxd_first_open_key(PXD_SV("t2"), PXD_SV("m"), PXD_SV("r")));
	assert_int_not_equal(pxd_first_open_key(PXD_SV(""), PXD_SV("m"), PXD_SV("r")),
			     pxd_first_open_key(PXD_SV("m"), PXD_SV(""), PXD_SV("r")));
	/* Stable: the saved table depends on it. */
	assert_true(pxd_first_open_key(PXD_SV("t"), PXD_SV("m"), PXD_SV("r")) ==
		    pxd_first_open_key(PXD_SV("t"), PXD_SV("m"), PXD_SV("r")));
}

static void test_window_runs_from_the_latest_open(void **state)
{
	struct fixture *f = *state;
	uint64_t k = key(7, 7);

	assert_true(pxd_first_open_check(f->t, k, T0, &f->st));
	assert_false(pxd_first_open_check(f->t, k, T0 + WINDOW - 60, &f->st));
	/* The window restarted at the open just above. */
	assert_false(pxd_first_open_check(f->t, k, T0 + WINDOW + 60, &f->st));
	/* Minute resolution: a window and a minute after it is surely past. */
	assert_true(pxd_first_open_check(f->t, k, T0 + 2 * WINDOW + 120, &f->st));
	assert_false(pxd_first_open_check(f->t, k, T0 + 2 * WINDOW + 180, &f->st));
	assert_int_equal(pxd_first_open_live(f->t, T0 + 3 * WINDOW + 300), 0);
}

static void test_clock_stepping_back_keeps_the_later_time(void **state)
{
	struct fixture *f = *state;
	uint64_t k = key(8, 8);

	assert_true(pxd_first_open_check(f->t, k, T0 + DAY, &f->st));
	assert_false(pxd_first_open_check(f->t, k, T0, &f->st));
	/* Measured from T0 + DAY, not from T0. */
	assert_false(pxd_first_open_check(f->t, k, T0 + WINDOW + 60, &f->st));
	/* Before the epoch the minutes clamp to 0 rather than wrap. */
	assert_true(pxd_first_open_check(f->t, key(9, 9), 0, &f->st));
	assert_false(pxd_first_open_check(f->t, key(9, 9), 1000, &f->st));
}

static void test_full_bucket_evicts_the_oldest_and_counts(void **state)
{
	struct pxd_first_open *t = NULL;
	struct pxd_first_open_stats st = { 0 };

	(void)state;
	/* One bucket: every key competes for the same 8 slots. */
	assert_int_equal(pxd_first_open_init(&t, PXD_FIRST_OPEN_WAYS, WINDOW), 0);
	for (int i = 0; i < PXD_FIRST_OPEN_WAYS; i++)
		assert_true(pxd_first_open_check(t, key(1, i), T0 + i * 60, &st));
	assert_int_equal(st.evicted, 0);
	/* Key 0 is seen again, so key 1 is now the oldest. */
	assert_false(pxd_first_open_check(t, key(1, 0), T0 + 3600, &st));
	assert_true(pxd_first_open_check(t, key(2, 0), T0 + 3660, &st));
	assert_int_equal(st.evicted, 1);
	assert_false(pxd_first_open_check(t, key(1, 0), T0 + 3720, &st));
	for (int i = 2; i < PXD_FIRST_OPEN_WAYS; i++)
		assert_false(pxd_first_open_check(t, key(1, i), T0 + 3780, &st));
	/* Key 1 was forgotten: its next open counts as a first one, evicting again. */
	assert_true(pxd_first_open_check(t, key(1, 1), T0 + 3840, &st));
	assert_int_equal(st.evicted, 2);
	assert_int_equal(pxd_first_open_live(t, T0 + 3840), PXD_FIRST_OPEN_WAYS);
	/* Entries past the window make room without counting as evictions. */
	assert_true(pxd_first_open_check(t, key(3, 0), T0 + 3840 + WINDOW, &st));
	assert_int_equal(st.evicted, 2);
	pxd_first_open_free(t);
}

static void test_init_refuses_bad_sizes(void **state)
{
	struct pxd_first_open *t = NULL;

	(void)state;
	assert_int_equal(pxd_first_open_init(&t, 1000, WINDOW), -EINVAL);
	assert_int_equal(pxd_first_open_init(&t, 4, WINDOW), -EINVAL);
	assert_int_equal(pxd_first_open_init(&t, 1024, 0), -EINVAL);
	assert_null(t);
	pxd_first_open_free(NULL);
}

static void test_save_and_load_survive_a_restart(void **state)
{
	struct fixture *f = *state;
	struct pxd_first_open *t2 = NULL;
	struct pxd_first_open_stats st = { 0 };
	struct stat sb;
	char tmp[160];

	for (int i = 0; i < 100; i++)
		assert_true(pxd_first_open_check(f->t, key(1, i), T0, &f->st));
	/* This one will have expired by the time of the restart. */
	assert_true(pxd_first_open_check(f->t, key(2, 0), T0 - WINDOW + 3600, &f->st));
	assert_int_equal(pxd_first_open_save(f->t, f->path, T0 + 60), 0);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
	assert_int_equal(access(tmp, F_OK), -1);

	/* A restart with a bigger table: the saved entries find their buckets. */
	assert_int_equal(pxd_first_open_init(&t2, 1u << 16, WINDOW), 0);
	assert_int_equal(pxd_first_open_load(t2, f->path, T0 + 7200), 0);
	assert_int_equal(pxd_first_open_live(t2, T0 + 7200), 100);
	for (int i = 0; i < 99; i++)
		assert_false(pxd_first_open_check(t2, key(1, i), T0 + 7200, &st));
	assert_true(pxd_first_open_check(t2, key(2, 0), T0 + 7200, &st));
	assert_true(pxd_first_open_check(t2, key(1, 100), T0 + 7200, &st));
	/* The window still runs from the saved last-seen time, T0. */
	assert_true(pxd_first_open_check(t2, key(1, 99), T0 + WINDOW + 60, &st));
	pxd_first_open_free(t2);
}

static void test_load_into_a_smaller_table_keeps_what_fits(void **state)
{
	struct fixture *f = *state;
	struct pxd_first_open *small = NULL;

	for (int i = 0; i < 200; i++)
		assert_true(pxd_first_open_check(f->t, key(3, i), T0 + i, &f->st));
	assert_int_equal(pxd_first_open_save(f->t, f->path, T0 + 300), 0);
	assert_int_equal(pxd_first_open_init(&small, 64, WINDOW), 0);
	assert_int_equal(pxd_first_open_load(small, f->path, T0 + 300), 0);
	assert_int_equal(pxd_first_open_live(small, T0 + 300), 64);
	pxd_first_open_free(small);
}

static void corrupt(const char *path, off_t off, int truncate_to)
{
	int fd = open(path, O_RDWR);
	uint8_t b;

	assert_true(fd >= 0);
	if (truncate_to >= 0) {
		assert_int_equal(ftruncate(fd, truncate_to), 0);
	} else {
		assert_int_equal(pread(fd, &b, 1, off), 1);
		b ^= 0x10;
		assert_int_equal(pwrite(fd, &b, 1, off), 1);
	}
	close(fd);
}

static void test_load_refuses_damaged_files(void **state)
{
	struct fixture *f = *state;
	struct pxd_first_open *t2 = NULL;
	struct stat sb;

	assert_int_equal(pxd_first_open_init(&t2, 1024, WINDOW), 0);
	assert_int_equal(pxd_first_open_load(t2, f->path, T0), -ENOENT);
	for (int i = 0; i < 10; i++)
		pxd_first_open_check(f->t, key(4, i), T0, &f->st);
	assert_int_equal(pxd_first_open_save(f->t, f->path, T0), 0);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_size, 32 + 10 * 8 + 4);
	/* every byte matters: magic, version, count, an entry, the CRC */
	for (off_t off = 0; off < sb.st_size; off++) {
		corrupt(f->path, off, -1);
		assert_int_equal(pxd_first_open_load(t2, f->path, T0), -EINVAL);
		corrupt(f->path, off, -1);
	}
	assert_int_equal(pxd_first_open_load(t2, f->path, T0), 0);
	assert_int_equal(pxd_first_open_live(t2, T0), 10);
	corrupt(f->path, 0, (int)sb.st_size - 1);
	assert_int_equal(pxd_first_open_load(t2, f->path, T0), -EINVAL);
	corrupt(f->path, 0, 0);
	assert_int_equal(pxd_first_open_load(t2, f->path, T0), -EINVAL);
	pxd_first_open_free(t2);
}

static void test_save_to_a_missing_directory_fails_cleanly(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pxd_first_open_save(f->t, "/nonexistent-pxd-dir/state", T0), -ENOENT);
}

struct worker {
	struct pxd_first_open *t;
	struct pxd_first_open_stats st;
	int id;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;

	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 5000; i++)
			pxd_first_open_check(w->t, key(100 + w->id, i), T0 + round, &w->st);
	}
	return NULL;
}

static void test_threads_sharing_the_table_lose_nothing(void **state)
{
	struct pxd_first_open *t = NULL;
	struct worker w[4];
	pthread_t th[4];
	uint64_t first = 0;
	uint64_t repeat = 0;

	(void)state;
	assert_int_equal(pxd_first_open_init(&t, 1u << 18, WINDOW), 0);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ .t = t, .id = i };
		assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		first += w[i].st.first;
		repeat += w[i].st.repeat;
		assert_int_equal(w[i].st.evicted, 0);
	}
	/* 20000 distinct keys, 0.6 per bucket: no bucket fills, so each key is
	 * first exactly once however the threads interleave. */
	assert_int_equal(first, 4 * 5000);
	assert_int_equal(repeat, 2 * 4 * 5000);
	assert_int_equal(pxd_first_open_live(t, T0 + 3), 4 * 5000);
	pxd_first_open_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_open_then_repeats, setup, teardown),
		cmocka_unit_test(test_key_keeps_fields_and_tenants_apart),
		cmocka_unit_test_setup_teardown(test_window_runs_from_the_latest_open, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_clock_stepping_back_keeps_the_later_time,
						setup, teardown),
		cmocka_unit_test(test_full_bucket_evicts_the_oldest_and_counts),
		cmocka_unit_test(test_init_refuses_bad_sizes),
		cmocka_unit_test_setup_teardown(test_save_and_load_survive_a_restart, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_load_into_a_smaller_table_keeps_what_fits,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_refuses_damaged_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_to_a_missing_directory_fails_cleanly,
						setup, teardown),
		cmocka_unit_test(test_threads_sharing_the_table_lose_nothing),
	};

	return cmocka_run_group_tests_name("first_open", tests, NULL, NULL);
}
