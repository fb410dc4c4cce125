// SPDX-License-Identifier: MIT
/* What a reload may change (daemon/conf/conf_reload.c): restart-only keys
 * and sections refused with their file:line, destinations in the running
 * order (a removed one retired in its slot, a new one after; changes allowed
 * except in role dispatch), tenants kept at their positions (a dropped
 * one retired in place, a new one after), and the live generation's swap and
 * reclaim (conf_live.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "conf_live.h"

#define SINKS                                                 \
	"[destination \"a\"]\ntype = jsonl\npath = a.jsonl\n" \
	"[destination \"b\"]\ntype = jsonl\npath = b.jsonl\n"

struct fx {
	char dir[64];
	char path[128];
	struct pxd_conf *running;
	struct pxd_conf *fresh;
	char err[1024];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->running = calloc(1, sizeof(*f->running));
	f->fresh = calloc(1, sizeof(*f->fresh));
	assert_non_null(f->running);
	assert_non_null(f->fresh);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_conf_reload.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/pixeld.ini", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	free(f->running);
	free(f->fresh);
	free(f);
	return 0;
}

static void write_file(struct fx *f, const char *text)
{
	FILE *fp = fopen(f->path, "w");

	assert_non_null(fp);
	fprintf(fp, "[server]\ndata_dir = %s\n%s", f->dir, text);
	fclose(fp);
}

static int start(struct fx *f, const char *text)
{
	write_file(f, text);
	return pxd_conf_load(f->path, NULL, f->running, f->err, sizeof(f->err));
}

static int reload(struct fx *f, const char *text)
{
	write_file(f, text);
	return pxd_conf_load_reload(f->path, NULL, f->running, f->running, f->fresh, f->err,
				    sizeof(f->err));
}

/* <err> starts with "<path>:<line>: <what>". */
static void assert_at(const struct fx *f, int line, const char *what)
{
	char want[256];

	snprintf(want, sizeof(want), "%s:%d: %s", f->path, line, what);
	if (strncmp(f->err, want, strlen(want)) != 0)
		fail_msg("\"%s\" does not start with \"%s\"", f->err, want);
}

static void test_restart_only_keys(void **state)
{
	struct fx *f = *state;

	assert_int_equal(start(f, "threads = 2\ncors_origins = *\n" SINKS), 0);
	/* Line 3: threads. */
	assert_int_equal(reload(f, "threads = 4\n" SINKS), -EINVAL);
	assert_at(f, 3, "server.threads: changed, and it needs a restart");
	assert_int_equal(reload(f, "threads = 2\n[journal]\nack = durable\n" SINKS), -EINVAL);
	assert_at(f, 5, "journal.ack: changed");
	assert_int_equal(reload(f, "threads = 2\n[s2s]\ndedup_window = 1h\n" SINKS), -EINVAL);
	assert_at(f, 4, "[s2s] dedup_window");
	/* Reloadable: CORS, key rates, log level. */
	assert_int_equal(reload(f, "threads = 2\ncors_origins = https://shop.example\n"
				   "log_level = debug\n[s2s]\nkey_rate = 7/s\n" SINKS),
			 0);
	assert_int_equal(f->fresh->s2s.key_rate, 7);
}

static void test_destinations_keep_their_slots(void **state)
{
	struct fx *f = *state;

	assert_int_equal(start(f, SINKS), 0);
	/* Changed in place: same slot, and the pool needs a restart for it. */
	assert_int_equal(reload(f, "[destination \"a\"]\ntype = jsonl\npath = other.jsonl\n"
				   "[destination \"b\"]\ntype = jsonl\npath = b.jsonl\n"),
			 0);
	assert_string_equal(f->fresh->dests[0].name, "a");
	assert_string_equal(pxd_conf_dest_get(&f->fresh->dests[0], "path", NULL), "other.jsonl");
	assert_false(pxd_conf_dest_same(&f->fresh->dests[0], &f->running->dests[0]));
	assert_true(pxd_conf_dest_same(&f->fresh->dests[1], &f->running->dests[1]));
	/* Removed: kept in its slot, retired, taking nothing. */
	assert_int_equal(reload(f, "[destination \"b\"]\ntype = jsonl\npath = b.jsonl\n"), 0);
	assert_int_equal(f->fresh->ndests, 2);
	assert_string_equal(f->fresh->dests[0].name, "a");
	assert_true(f->fresh->dests[0].retired);
	assert_int_equal(f->fresh->dests[0].ntenants, 1);
	assert_string_equal(f->fresh->dests[0].tenants[0], "");
	assert_false(f->fresh->dests[1].retired);
	/* Added: after the running slots, whatever the file's order. */
	assert_int_equal(reload(f, "[destination \"c\"]\ntype = jsonl\npath = c.jsonl\n" SINKS), 0);
	assert_int_equal(f->fresh->ndests, 3);
	assert_string_equal(f->fresh->dests[2].name, "c");
	/* Written in another order, with a new event filter: the running order. */
	assert_int_equal(reload(f, "[destination \"b\"]\ntype = jsonl\npath = b.jsonl\n"
				   "events = Purchase\n"
				   "[destination \"a\"]\ntype = jsonl\npath = a.jsonl\n"),
			 0);
	assert_string_equal(f->fresh->dests[0].name, "a");
	assert_string_equal(f->fresh->dests[1].name, "b");
	assert_int_equal(f->fresh->dests[1].nevents, 1);
	assert_true(pxd_conf_dest_same(&f->fresh->dests[1], &f->running->dests[1]));
}

/* Role dispatch runs a JetStream consumer per destination: no destination changes live. */
static void test_dispatch_role_destinations_need_a_restart(void **state)
{
	struct fx *f = *state;

	assert_int_equal(start(f, "role = dispatch\n" SINKS), 0);
	assert_int_equal(reload(f, "role = dispatch\n" SINKS
				   "[destination \"c\"]\ntype = jsonl\npath = c.jsonl\n"),
			 -EINVAL);
	assert_at(f, 10, "destination.c: adding a destination in role dispatch needs a restart");
	assert_int_equal(reload(f, "role = dispatch\n"
				   "[destination \"a\"]\ntype = jsonl\npath = z.jsonl\n"
				   "[destination \"b\"]\ntype = jsonl\npath = b.jsonl\n"),
			 -EINVAL);
	assert_at(f, 4, "destination.a: changing a destination in role dispatch");
}

static void test_tenants_keep_their_positions(void **state)
{
	struct fx *f = *state;

	assert_int_equal(start(f, SINKS "[tenant \"x\"]\nhosts = x.example\ndestinations = a\n"
					"[tenant \"y\"]\nhosts = y.example\ndestinations = b\n"),
			 0);
	assert_int_equal(reload(f, SINKS "[tenant \"z\"]\nhosts = z.example\ndestinations = a\n"
					 "[tenant \"y\"]\nhosts = y.example\ndestinations = b\n"),
			 0);
	assert_int_equal(f->fresh->tenants.n, 3);
	assert_string_equal(f->fresh->tenants.t[0].name, "x");
	assert_true(f->fresh->tenants.t[0].retired);
	assert_int_equal(f->fresh->tenants.t[0].nhosts, 0);
	assert_string_equal(f->fresh->tenants.t[1].name, "y");
	assert_false(f->fresh->tenants.t[1].retired);
	assert_string_equal(f->fresh->tenants.t[2].name, "z");
}

/* A generation a reader holds outlives its replacement until the reader leaves. */
static void test_live_swap(void **state)
{
	struct fx *f = *state;
	struct pxd_conf_live live;
	struct pxd_conf *g2 = pxd_conf_live_alloc();
	struct pxd_conf *g3 = pxd_conf_live_alloc();
	const struct pxd_conf *held;

	assert_int_equal(start(f, SINKS), 0);
	assert_non_null(g2);
	assert_non_null(g3);
	assert_int_equal(pxd_conf_live_init(&live, f->running, 1), 0);
	assert_ptr_equal(pxd_conf_live_enter(&live, 0), f->running);
	pxd_conf_live_leave(&live, 0);
	assert_int_equal(pxd_conf_live_publish(&live, g2), 2);
	held = pxd_conf_live_enter(&live, 0);
	assert_ptr_equal(held, g2);
	g2->ndests = 7;
	assert_int_equal(pxd_conf_live_publish(&live, g3), 3);
	pxd_conf_live_reclaim(&live);
	/* Still inside the section: g2 is not freed (ASan would see it). */
	assert_int_equal(held->ndests, 7);
	pxd_conf_live_leave(&live, 0);
	assert_ptr_equal(pxd_conf_live_enter(&live, 0), g3);
	pxd_conf_live_leave(&live, 0);
	pxd_conf_live_note(&live, PXD_CONF_RELOAD_REFUSED, 5, "f:1: bad");
	{
		enum pxd_conf_reload_result r;
		char e[64];
		int64_t ms;

		pxd_conf_live_last(&live, &r, &ms, e, sizeof(e));
		assert_int_equal(r, PXD_CONF_RELOAD_REFUSED);
		assert_string_equal(e, "f:1: bad");
	}
	pxd_conf_live_fini(&live);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_restart_only_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destinations_keep_their_slots, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_role_destinations_need_a_restart,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenants_keep_their_positions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_swap, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
