// SPDX-License-Identifier: MIT
/*
 * A destination that cannot take more events lags on its own journal
 * cursor; it never makes the shard write past a batch or stop for the
 * others. The real dispatcher thread runs on a hand-built daemon with two
 * JSONL sinks, one stuck (its file cannot be opened, so every write fails
 * and a retry delay is pending), behind a scripted ring that plays the race
 * of the overflow drain: the ring looks empty, then the overflow flag is up
 * and the rest of the records are there. This file defines the hand-off
 * functions the dispatcher calls, so the ring is the script.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dispatcher.h"
#include "ingest.h"
#include "journal_format.h"
#include "watermark.h"

#define NRECS 12
#define CAP 4	   /* batch_max_events of the stuck sink */
#define EMPTY_AT 3 /* the pop that finds the ring "empty" */

static struct pxd_evrec *script[NRECS];
static uint64_t starts[NRECS]; /* script[k]->start, kept: the records are freed */
static unsigned popped;
static unsigned pops;
static struct pxd_jstream *script_js;

struct pxd_evrec *pxd_evrec_new(const char *line, size_t len, int64_t received_ms)
{
	struct pxd_evrec *rec = malloc(sizeof(*rec) + len + 1);

	if (!rec)
		return NULL;
	memset(rec, 0, sizeof(*rec));
	rec->received_ms = received_ms;
	rec->len = (uint32_t)len;
	memcpy(rec->line, line, len);
	rec->line[len] = '\n';
	return rec;
}

/* Pop number EMPTY_AT finds nothing, and by then ingest has filled the ring
 * and raised the overflow flag: what the drain after it must cope with. */
struct pxd_evrec *pxd_handoff_pop_spsc(struct pxd_handoff *h, unsigned i, unsigned shard)
{
	(void)h, (void)i, (void)shard;
	if (pops++ == EMPTY_AT) {
		__atomic_store_n(&script_js->overflow, 1, __ATOMIC_RELEASE);
		return NULL;
	}
	return popped < NRECS ? script[popped++] : NULL;
}

size_t pxd_handoff_backlog(const struct pxd_handoff *h, unsigned shard)
{
	(void)h, (void)shard;
	return NRECS - popped;
}

static char dir[64];
static struct pxd_conf conf;
static struct pxd_daemon daemon_;
static struct pxd_ingest ingest;
static struct pxd_jstream js;
static struct pxd_dispatcher ds;
static int64_t heartbeat;
static const char *names[] = { "stuck", "file" };

static void sink(struct pxd_conf_dest *d, const char *name, const char *path)
{
	snprintf(d->name, sizeof(d->name), "%s", name);
	snprintf(d->type, sizeof(d->type), "jsonl");
	snprintf(d->kv[0].key, sizeof(d->kv[0].key), "path");
	snprintf(d->kv[0].value, sizeof(d->kv[0].value), "%s", path);
	d->nkv = 1;
}

static int setup(void **state)
{
	char path[128];
	char err[256];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/pxd-lag-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(conf.data_dir, sizeof(conf.data_dir), "%s", dir);
	snprintf(conf.journal_dir, sizeof(conf.journal_dir), "%s/journal", dir);
	assert_int_equal(mkdir(conf.journal_dir, 0700), 0);
	/* A directory where the stuck sink's file should be: open() fails. */
	snprintf(path, sizeof(path), "%s/stuck.jsonl", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	conf.ndests = 2;
	sink(&conf.dests[0], "stuck", "stuck.jsonl");
	conf.dests[0].batch_max_events = CAP;
	sink(&conf.dests[1], "file", "file.jsonl");
	daemon_.conf = &conf;
	daemon_.ningest = 1;
	daemon_.ndisp = 1;
	daemon_.ingest = &ingest;
	ingest.streams = &js;
	daemon_.disp_heartbeat_ms = &heartbeat;
	daemon_.watermarks = pxd_watermarks_new();
	assert_non_null(daemon_.watermarks);
	/* The shard saves the watermarks of every shard as it publishes. */
	daemon_.disp = &ds;
	assert_int_equal(pthread_mutex_init(&daemon_.wm_lock, NULL), 0);
	assert_int_equal(pxd_metrics_init(&daemon_.metrics, 1, 1, 2, names), 0);
	/* Reader 1: the shard's epoch section over the configuration. */
	assert_int_equal(pxd_conf_live_init(&daemon_.live, &conf, 2), 0);
	js.overflow = 1; /* as ingest starts every stream */
	script_js = &js;
	for (unsigned k = 0; k < NRECS; k++) {
		char line[96];
		int n =
		    snprintf(line, sizeof(line),
			     "{\"event\":\"Lead\",\"event_id\":\"e-%u\",\"ts\":1732300000000}", k);

		script[k] = pxd_evrec_new(line, (size_t)n, 1732300000000);
		assert_non_null(script[k]);
		script[k]->start = pxd_journal_pos_make(1, k * 100);
		starts[k] = script[k]->start;
		script[k]->end = pxd_journal_pos_make(1, (k + 1) * 100);
	}
	assert_int_equal(pxd_dispatcher_init(&ds, &daemon_, 0, err, sizeof(err)), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	pxd_dispatcher_fini(&ds);
	pxd_conf_live_fini(&daemon_.live);
	pxd_metrics_fini(&daemon_.metrics);
	pxd_watermarks_free(daemon_.watermarks);
	pthread_mutex_destroy(&daemon_.wm_lock);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void nap_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000 };

	nanosleep(&ts, NULL);
}

static bool wait_ms(bool (*cond)(void), int ms)
{
	for (int k = 0; k < ms; k++) {
		if (cond())
			return true;
		nap_ms(1);
	}
	return cond();
}

static bool resume_asked(void)
{
	return __atomic_load_n(&js.resume_req, __ATOMIC_ACQUIRE);
}

static bool file_has_all(void)
{
	return pxd_stat_get(&daemon_.metrics.dest[1].events_delivered) == NRECS;
}

static void test_overflow_drain_leaves_what_does_not_fit_to_the_journal(void **state)
{
	pthread_t t;
	bool asked, delivered;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, pxd_dispatcher_run, &ds), 0);
	/* The shard asks to leave the (empty) journal; ingest resumes at the
	 * first record, which the journal holds from there on. */
	asked = wait_ms(resume_asked, 2000);
	__atomic_store_n(&js.written, starts[0], __ATOMIC_RELEASE);
	__atomic_store_n(&js.resume_at, starts[0], __ATOMIC_RELEASE);
	__atomic_store_n(&js.resume_req, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&js.overflow, 0, __ATOMIC_RELEASE);
	/* The other sink gets everything, though one batch never empties. */
	delivered = wait_ms(file_has_all, 5000);
	__atomic_store_n(&daemon_.stop_dispatch, 2, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(asked);
	assert_true(delivered);
	assert_int_equal(popped, NRECS);
	assert_int_equal(ds.batchers[0].cap, CAP);
	assert_int_equal(ds.batchers[0].n, CAP);
	assert_true(ds.streams[0].lag[0].lagging);
	/* The first record it could not take is where it reads on. */
	assert_int_equal(ds.streams[0].lag[0].cursor, starts[CAP]);
	assert_false(ds.streams[0].lag[1].lagging);
	assert_true(pxd_stat_get(&daemon_.metrics.dest[0].write_errors) >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_overflow_drain_leaves_what_does_not_fit_to_the_journal, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
