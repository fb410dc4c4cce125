// SPDX-License-Identifier: MIT
/*
 * The parts of the dispatcher that run outside its thread: the replay queue
 * the admin endpoint fills (pxd_dispatcher_replay) and the metrics renderer
 * for the per-destination delivery stats (pxd_dispatch_metrics_render), on
 * shards built by hand. The delivery loop itself runs against the real
 * mockplatform in tests/integ/test_delivery.py.
 */
#include "dispatcher.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static struct pxd_conf conf;
static struct pxd_daemon daemon_;
static struct pxd_dispatcher shards[2];
static struct pxd_dest dests[2][2];
static struct pxd_dest_http hd[2][2];
static struct pxd_dispatch_req reqs[2];

/* Two shards, each with destination 0 "hooks" (webhook, HTTP) and 1 "file"
 * (jsonl, local): only what replay and the renderer read. */
static int setup(void **state)
{
	(void)state;
	memset(&conf, 0, sizeof(conf));
	memset(&daemon_, 0, sizeof(daemon_));
	memset(shards, 0, sizeof(shards));
	memset(hd, 0, sizeof(hd));
	conf.ndests = 2;
	strcpy(conf.dests[0].name, "hooks");
	strcpy(conf.dests[0].type, "webhook");
	strcpy(conf.dests[1].name, "file");
	strcpy(conf.dests[1].type, "jsonl");
	daemon_.conf = &conf;
	daemon_.disp = shards;
	daemon_.ndisp = 2;
	for (unsigned s = 0; s < 2; s++) {
		struct pxd_dispatcher *ds = &shards[s];

		ds->id = s;
		ds->d = &daemon_;
		ds->dests = dests[s];
		ds->hd = hd[s];
		for (unsigned i = 0; i < 2; i++) {
			dests[s][i].conf = &conf.dests[i];
			dests[s][i].adapter = pxd_adapter_find(conf.dests[i].type);
			dests[s][i].index = i;
		}
		/* Only HTTP destinations have requests; the renderer keys on that. */
		hd[s][0].reqs = &reqs[s];
		hd[s][0].nreqs = 1;
		assert_int_equal(pthread_mutex_init(&ds->replay_lock, NULL), 0);
		ds->replay_lock_init = true;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (unsigned s = 0; s < 2; s++) {
		struct pxd_dispatch_replay *q;

		while ((q = shards[s].replay_head)) {
			shards[s].replay_head = q->next;
			free(q->rec);
			free(q);
		}
		pthread_mutex_destroy(&shards[s].replay_lock);
	}
	return 0;
}

static size_t queued(void)
{
	return shards[0].replay_n + shards[1].replay_n;
}

static void test_replay_queues_the_event_bytes_for_one_destination(void **state)
{
	static const char ev[] =
	    "{\"event\":\"Purchase\",\"event_id\":\"e-42\",\"ts\":1732300000123}";
	const struct pxd_dispatch_replay *q = NULL;

	(void)state;
	assert_int_equal(pxd_dispatcher_replay(&daemon_, 0, ev, strlen(ev), NULL), 0);
	assert_int_equal(queued(), 1);
	for (unsigned s = 0; s < 2 && !q; s++)
		q = shards[s].replay_head;
	assert_non_null(q);
	assert_int_equal(q->dest, 0);
	assert_int_equal(q->rec->len, strlen(ev));
	assert_memory_equal(q->rec->line, ev, strlen(ev));
	assert_int_equal(q->rec->line[q->rec->len], '\n');
}

static void test_same_event_always_goes_to_the_same_shard_in_order(void **state)
{
	static const char a[] = "{\"event\":\"Lead\",\"event_id\":\"a\"}";
	struct pxd_dispatch_replay *q;
	unsigned s;

	(void)state;
	for (int k = 0; k < 3; k++)
		assert_int_equal(pxd_dispatcher_replay(&daemon_, 0, a, strlen(a), NULL), 0);
	s = shards[0].replay_n ? 0 : 1;
	assert_int_equal(shards[s].replay_n, 3);
	assert_int_equal(shards[!s].replay_n, 0);
	q = shards[s].replay_head;
	for (int k = 0; k < 3; k++, q = q->next)
		assert_non_null(q);
	assert_null(q);
	assert_ptr_equal(shards[s].replay_tail->next, NULL);
}

static void test_replay_refuses_local_and_unknown_destinations(void **state)
{
	static const char ev[] = "{\"event\":\"Lead\"}";

	(void)state;
	assert_int_equal(pxd_dispatcher_replay(&daemon_, 1, ev, strlen(ev), NULL), -ENOENT);
	assert_int_equal(pxd_dispatcher_replay(&daemon_, 2, ev, strlen(ev), NULL), -ENOENT);
	daemon_.ndisp = 0;
	assert_int_equal(pxd_dispatcher_replay(&daemon_, 0, ev, strlen(ev), NULL), -ENOENT);
	daemon_.ndisp = 2;
	assert_int_equal(queued(), 0);
}

static void test_replay_queue_is_bounded(void **state)
{
	static const char ev[] = "{\"event\":\"Lead\"}";
	unsigned s;

	(void)state;
	assert_int_equal(pxd_dispatcher_replay(&daemon_, 0, ev, strlen(ev), NULL), 0);
	s = shards[0].replay_n ? 0 : 1;
	/* Pretend the shard is full rather than allocating 100,000 records. */
	shards[s].replay_n = PXD_DISPATCH_REPLAY_MAX;
	assert_int_equal(pxd_dispatcher_replay(&daemon_, 0, ev, strlen(ev), NULL), -ENOSPC);
	shards[s].replay_n = 1;
	assert_int_equal(pxd_dispatcher_replay(&daemon_, 0, ev, strlen(ev), NULL), 0);
	assert_int_equal(shards[s].replay_n, 2);
}

static bool has_line(const struct pxd_buf *b, const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "\n%s\n", line);
	return memmem(b->p, b->len, want, strlen(want)) != NULL;
}

static void test_metrics_sum_shards_and_leave_local_destinations_out(void **state)
{
	struct pxd_buf out = { 0 };

	(void)state;
	hd[0][0].st.dead_lettered = 2;
	hd[1][0].st.dead_lettered = 3;
	hd[0][0].st.consent_skipped[PXD_CONSENT_VERDICT_AD_STORAGE_DENIED] = 4;
	hd[1][0].st.consent_skipped[PXD_CONSENT_VERDICT_AD_USER_DATA_DENIED] = 1;
	hd[0][0].st.in_flight = 1;
	hd[1][0].st.in_flight = 2;
	hd[0][0].st.requests = 10;
	hd[1][0].st.requests = 5;
	assert_int_equal(pxd_dispatch_metrics_render(&daemon_, &out), 0);
	assert_non_null(out.p);
	assert_true(
	    has_line(&out, "pixeld_destination_dead_letters_total{destination=\"hooks\"} 5"));
	assert_true(
	    has_line(&out, "pixeld_destination_consent_skipped_total{destination=\"hooks\",reason="
			   "\"ad_storage_denied\"} 4"));
	assert_true(
	    has_line(&out, "pixeld_destination_consent_skipped_total{destination=\"hooks\",reason="
			   "\"ad_user_data_denied\"} 1"));
	assert_true(has_line(&out, "pixeld_destination_in_flight{destination=\"hooks\"} 3"));
	assert_true(has_line(&out, "pixeld_destination_requests_total{destination=\"hooks\"} 15"));
	assert_null(memmem(out.p, out.len, "destination=\"file\"", 18));
	pxd_buf_free(&out);
}

static void test_latency_histogram_is_cumulative(void **state)
{
	struct pxd_buf out = { 0 };

	(void)state;
	hd[0][0].st.latency_bucket[0] = 1;				  /* <= 5 ms */
	hd[1][0].st.latency_bucket[2] = 2;				  /* <= 25 ms */
	hd[0][0].st.latency_bucket[PXD_DISPATCH_LATENCY_BUCKETS - 1] = 1; /* > 10 s */
	hd[0][0].st.latency_sum_ms = 12345;
	assert_int_equal(pxd_dispatch_metrics_render(&daemon_, &out), 0);
	assert_true(has_line(
	    &out,
	    "pixeld_destination_request_seconds_bucket{destination=\"hooks\",le=\"0.005\"} 1"));
	assert_true(has_line(
	    &out,
	    "pixeld_destination_request_seconds_bucket{destination=\"hooks\",le=\"0.010\"} 1"));
	assert_true(has_line(
	    &out,
	    "pixeld_destination_request_seconds_bucket{destination=\"hooks\",le=\"0.025\"} 3"));
	assert_true(has_line(
	    &out,
	    "pixeld_destination_request_seconds_bucket{destination=\"hooks\",le=\"10.000\"} 3"));
	assert_true(has_line(
	    &out,
	    "pixeld_destination_request_seconds_bucket{destination=\"hooks\",le=\"+Inf\"} 4"));
	assert_true(
	    has_line(&out, "pixeld_destination_request_seconds_count{destination=\"hooks\"} 4"));
	assert_true(
	    has_line(&out, "pixeld_destination_request_seconds_sum{destination=\"hooks\"} 12.345"));
	pxd_buf_free(&out);
}

static void test_breaker_gauge_shows_the_worst_shard(void **state)
{
	struct pxd_buf out = { 0 };

	(void)state;
	hd[0][0].st.breaker_state = PXD_RETRY_BREAKER_HALF_OPEN;
	hd[1][0].st.breaker_state = PXD_RETRY_BREAKER_OPEN;
	assert_int_equal(pxd_dispatch_metrics_render(&daemon_, &out), 0);
	assert_true(has_line(&out, "pixeld_destination_breaker_state{destination=\"hooks\"} 1"));
	pxd_buf_free(&out);
	hd[1][0].st.breaker_state = PXD_RETRY_BREAKER_CLOSED;
	assert_int_equal(pxd_dispatch_metrics_render(&daemon_, &out), 0);
	assert_true(has_line(&out, "pixeld_destination_breaker_state{destination=\"hooks\"} 2"));
	pxd_buf_free(&out);
}

static void test_event_name_is_read_from_the_line(void **state)
{
	static const char line[] = "{\"event_id\":\"x\",\"event\":\"AddToCart\",\"ts\":1}";
	struct pxd_sv n = pxd_dispatcher_event_name(line, strlen(line));

	(void)state;
	assert_int_equal(n.n, 9);
	assert_memory_equal(n.p, "AddToCart", 9);
	n = pxd_dispatcher_event_name("{\"ts\":1}", 8);
	assert_null(n.p);
}

/* The search takes 16 positions at a time, then the tail: the member is
 * found at every offset, past look-alikes whose first and last bytes match
 * ("\"evenT\":\""), and not past the end of the line. */
static void test_event_name_found_at_every_offset(void **state)
{
	char line[160];

	(void)state;
	for (int pad = 0; pad < 64; pad++) {
		int len = snprintf(
		    line, sizeof(line), "{\"p\":\"%.*s\",\"evenT\":\"no\",\"event\":\"Lead\"}", pad,
		    "................................................................");
		struct pxd_sv n = pxd_dispatcher_event_name(line, (size_t)len);

		assert_int_equal(n.n, 4);
		assert_memory_equal(n.p, "Lead", 4);
		/* Cut inside the member: no name, nothing read past the cut. */
		n = pxd_dispatcher_event_name(line, (size_t)len - 8);
		assert_null(n.p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_name_found_at_every_offset),
		cmocka_unit_test_setup_teardown(
		    test_replay_queues_the_event_bytes_for_one_destination, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_same_event_always_goes_to_the_same_shard_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_refuses_local_and_unknown_destinations,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_queue_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_metrics_sum_shards_and_leave_local_destinations_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_latency_histogram_is_cumulative, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_breaker_gauge_shows_the_worst_shard, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_event_name_is_read_from_the_line, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("dispatcher", tests, NULL, NULL);
}
