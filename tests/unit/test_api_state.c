// SPDX-License-Identifier: MIT
/* The keyed APIs' configuration and shared state: server.write_keys and
 * secret_keys through the secret reader, the [s2s] section, the constant-time
 * key lookup, the token bucket and the dedup table across a save and load. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api_state.h"
#include "conf.h"

struct fx {
	char dir[64];
	char path[128];
	struct pxd_conf *conf;
	char err[1024];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->conf = calloc(1, sizeof(*f->conf));
	assert_non_null(f->conf);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_api_state.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/pixeld.ini", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f->conf);
	free(f);
	return 0;
}

static int load(struct fx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes [server] data_dir plus the printf-style rest, then loads it. */
static int load(struct fx *f, const char *fmt, ...)
{
	FILE *fp = fopen(f->path, "w");
	va_list ap;

	assert_non_null(fp);
	fprintf(fp, "[server]\ndata_dir = %s\n", f->dir);
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	fclose(fp);
	return pxd_conf_load(f->path, NULL, f->conf, f->err, sizeof(f->err));
}

static void test_defaults_and_keys(void **state)
{
	struct fx *f = *state;
	char keyfile[160];
	FILE *fp;

	assert_int_equal(load(f, "%s", ""), 0);
	assert_int_equal(f->conf->nwrite_keys, 0);
	assert_int_equal(f->conf->s2s.dedup_window_s, 86400);
	assert_int_equal(f->conf->s2s.key_rate, 100);
	assert_int_equal(pxd_conf_s2s_burst(&f->conf->s2s), 200);
	snprintf(keyfile, sizeof(keyfile), "%s/sk", f->dir);
	fp = fopen(keyfile, "w");
	assert_non_null(fp);
	fputs("sk_from_file\n", fp);
	fclose(fp);
	chmod(keyfile, 0600);
	setenv("PXD_TEST_WK", "wk_from_env", 1);
	assert_int_equal(load(f,
			      "write_keys = wk_lit, env:PXD_TEST_WK\nsecret_keys = file:%s\n"
			      "[s2s]\ndedup_window = 2h\nkey_rate = 600/m\nkey_burst = 3\n"
			      "dedup_beacons = true\n",
			      keyfile),
			 0);
	assert_int_equal(f->conf->nwrite_keys, 2);
	assert_string_equal(f->conf->write_keys[1], "wk_from_env");
	assert_string_equal(f->conf->secret_keys[0], "sk_from_file");
	assert_int_equal(f->conf->s2s.dedup_window_s, 7200);
	assert_int_equal(f->conf->s2s.key_rate, 10);
	assert_int_equal(pxd_conf_s2s_burst(&f->conf->s2s), 3);
	assert_true(f->conf->s2s.dedup_beacons);
}

static void test_bad_values(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load(f, "secret_keys = env:%s\n", "PXD_TEST_UNSET_VAR"), -EINVAL);
	assert_non_null(strstr(f->err, "secret_keys"));
	assert_int_equal(load(f, "[s2s]\ndedup_window = %s\n", "24"), -EINVAL);
	assert_non_null(strstr(f->err, "has no unit"));
	assert_int_equal(load(f, "[s2s]\nkey_rate = %s\n", "lots"), -EINVAL);
	assert_non_null(strstr(f->err, "s2s.key_rate"));
	assert_int_equal(load(f, "[s2s]\ndedup_slots = %s\n", "1000"), -EINVAL);
	assert_int_equal(load(f, "[s2s]\ndedup_window = 0\ndedup_beacons = %s\n", "true"), -EINVAL);
	assert_non_null(strstr(f->err, "dedup_beacons"));
	assert_int_equal(load(f, "[s2s]\nno_such_key = %s\n", "1"), -EINVAL);
}

static void test_lookup(void **state)
{
	struct fx *f = *state;
	struct pxd_api_key k = { 0 };

	assert_int_equal(load(f, "tenant = shop\nwrite_keys = a1, b22\n%s", ""), 0);
	assert_int_equal(pxd_api_key_lookup(f->conf, PXD_API_SECRET, PXD_SV("a1"), &k), -ENOENT);
	assert_int_equal(pxd_api_key_lookup(f->conf, PXD_API_WRITE, PXD_SV("b22"), &k), 0);
	assert_int_equal(k.bucket, 1);
	assert_true(pxd_sv_eq_lit(k.tenant, "shop"));
	assert_int_equal(pxd_api_key_lookup(f->conf, PXD_API_WRITE, PXD_SV("b2"), &k), -EACCES);
	assert_int_equal(pxd_api_key_lookup(f->conf, PXD_API_WRITE, PXD_SV("b222"), &k), -EACCES);
	assert_int_equal(pxd_api_key_lookup(f->conf, PXD_API_WRITE, PXD_SV(""), &k), -EACCES);
	assert_int_equal(pxd_api_key_lookup(f->conf, PXD_API_WRITE, PXD_SV("A1"), &k), -EACCES);
}

/* With [tenant] sections a key picks its tenant, its bucket and its tenant's rate. */
static void test_tenant_keys(void **state)
{
	struct fx *f = *state;
	struct pxd_api_key k = { 0 };

	assert_int_equal(load(f,
			      "[s2s]\nkey_rate = 5/s\n"
			      "[destination \"d\"]\ntype = jsonl\npath = d.jsonl\n"
			      "[tenant \"a\"]\nhosts = a.example\ndestinations = d\n"
			      "secret_keys = sa1, sa2\nkey_rate = 2/s\nkey_burst = 3\n"
			      "[tenant \"b\"]\nhosts = b.example\ndestinations = d\n"
			      "secret_keys = sb1\nwrite_keys = %s\n",
			      "wb1"),
			 0);
	assert_int_equal(pxd_api_key_lookup(f->conf, PXD_API_SECRET, PXD_SV("sa2"), &k), 0);
	assert_true(pxd_sv_eq_lit(k.tenant, "a"));
	assert_int_equal(k.bucket, 1);
	assert_int_equal(k.rate, 2);
	assert_int_equal(k.burst, 3);
	assert_int_equal(pxd_api_key_lookup(f->conf, PXD_API_SECRET, PXD_SV("sb1"), &k), 0);
	assert_true(pxd_sv_eq_lit(k.tenant, "b"));
	assert_int_equal(k.bucket, PXD_CONF_TENANT_KEYS);
	assert_int_equal(k.rate, 5); /* [s2s]'s */
	assert_int_equal(pxd_api_key_lookup(f->conf, PXD_API_WRITE, PXD_SV("wb1"), &k), 0);
	assert_int_equal(pxd_api_key_lookup(f->conf, PXD_API_WRITE, PXD_SV("sa1"), &k), -EACCES);
	/* One key, two tenants: refused at load without quoting the key. */
	assert_int_equal(
	    load(f,
		 "[destination \"d\"]\ntype = jsonl\npath = d.jsonl\n"
		 "[tenant \"a\"]\nhosts = a.example\ndestinations = d\nsecret_keys = s1\n"
		 "[tenant \"b\"]\nhosts = b.example\ndestinations = d\nsecret_keys = %s\n",
		 "s1"),
	    -EINVAL);
	assert_non_null(strstr(f->err, "is tenant a's too"));
	assert_null(strstr(f->err, "s1"));
	/* [server] keys with tenants: said where to move them. */
	assert_int_equal(load(f,
			      "write_keys = w\n[destination \"d\"]\ntype = jsonl\npath = d.jsonl\n"
			      "[tenant \"a\"]\nhosts = a.example\ndestinations = %s\n",
			      "d"),
			 -EINVAL);
	assert_non_null(strstr(f->err, "move the keys into the tenants"));
}

static void test_bucket_and_dedup(void **state)
{
	struct fx *f = *state;
	struct pxd_api *api = calloc(1, sizeof(*api));
	struct pxd_api_key k = { .bucket = 0 };
	struct pxd_first_open_stats st = { 0 };
	int64_t now_s = 1795000000;
	uint64_t key;

	assert_non_null(api);
	assert_int_equal(load(f, "[s2s]\nkey_rate = 2/s\nkey_burst = %s\n", "2"), 0);
	assert_int_equal(pxd_api_init(api, f->conf, f->err, sizeof(f->err)), 0);
	k.rate = f->conf->s2s.key_rate;
	k.burst = f->conf->s2s.key_burst;
	assert_true(pxd_api_rate_take(api, PXD_API_WRITE, &k, 1000));
	assert_true(pxd_api_rate_take(api, PXD_API_WRITE, &k, 1000));
	assert_false(pxd_api_rate_take(api, PXD_API_WRITE, &k, 1000));
	/* Another kind or key has its own bucket. */
	assert_true(pxd_api_rate_take(api, PXD_API_SECRET, &k, 1000));
	/* 2/s: one token back after 500 ms, not before. */
	assert_false(pxd_api_rate_take(api, PXD_API_WRITE, &k, 1400));
	assert_true(pxd_api_rate_take(api, PXD_API_WRITE, &k, 1500));

	key = pxd_api_dedup_key(PXD_SV("shop"), 2, PXD_SV("ev-1"));
	assert_true(key != pxd_api_dedup_key(PXD_SV("shop"), 3, PXD_SV("ev-1")));
	assert_true(key != pxd_api_dedup_key(PXD_SV("shop2"), 2, PXD_SV("ev-1")));
	assert_false(pxd_first_open_seen(api->dedup, key, now_s));
	assert_true(pxd_first_open_check(api->dedup, key, now_s, &st));
	assert_true(pxd_first_open_seen(api->dedup, key, now_s + 3600));
	assert_false(pxd_first_open_seen(api->dedup, key, now_s + 86400 + 60));
	pxd_api_fini(api, true);
	/* The saved table comes back (the save is timed by the wall clock). */
	assert_int_equal(pxd_api_init(api, f->conf, f->err, sizeof(f->err)), 0);
	key = pxd_api_dedup_key(PXD_SV("shop"), 2, PXD_SV("ev-now"));
	assert_true(pxd_first_open_check(api->dedup, key, time(NULL), &st));
	pxd_api_fini(api, true);
	assert_int_equal(pxd_api_init(api, f->conf, f->err, sizeof(f->err)), 0);
	assert_true(pxd_first_open_seen(api->dedup, key, time(NULL)));
	pxd_api_fini(api, false);
	free(api);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults_and_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenant_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bucket_and_dedup, setup, teardown),
	};

	return cmocka_run_group_tests_name("api_state", tests, NULL, NULL);
}
