// SPDX-License-Identifier: MIT
#include "dlq.h"

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
#include <sys/stat.h>
#include <unistd.h>

/* 2024-11-22T18:26:40.123Z */
#define T0 1732300000123LL
#define HOUR_MS 3600000LL

struct fixture {
	char dir[64];
	struct pxd_dlq *q;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/pxd_dlqXXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(pxd_dlq_open(&f->q, f->dir), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	pxd_dlq_close(f->q);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static const char *event_line(char *buf, size_t len, const char *id)
{
	snprintf(buf, len,
		 "{\"event_id\":\"%s\",\"event\":\"Purchase\",\"ts\":1732300000123,"
		 "\"props\":{\"value\":99.99,\"currency\":\"USD\"},\"consent\":{\"ad_storage\":"
		 "\"granted\"}}",
		 id);
	return buf;
}

static void append(struct fixture *f, const char *dest, const char *event_id, int64_t at,
		   char id[PXD_DLQ_ID_LEN + 1])
{
	char ev[512];
	char own[PXD_DLQ_ID_LEN + 1];
	struct pxd_dlq_entry e = {
		.dest = dest,
		.event = event_line(ev, sizeof(ev), event_id),
		.event_len = strlen(ev),
		.reason = "meta: (#100) Invalid parameter",
		.status = 400,
		.response = "{\"error\":{\"code\":100}}",
		.response_len = 22,
		.attempts = 3,
	};

	assert_int_equal(pxd_dlq_append(f->q, &e, at, id ? id : own), 0);
}

/* Reads <dir>/dlq/<name> whole. */
static char *slurp(struct fixture *f, const char *name)
{
	char path[256];
	FILE *fp;
	char *buf = calloc(1, 1 << 20);
	size_t n;

	assert_non_null(buf);
	snprintf(path, sizeof(path), "%s/dlq/%s", f->dir, name);
	fp = fopen(path, "r");
	assert_non_null(fp);
	n = fread(buf, 1, (1 << 20) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void test_append_writes_one_line_per_entry(void **state)
{
	struct fixture *f = *state;
	char id1[PXD_DLQ_ID_LEN + 1], id2[PXD_DLQ_ID_LEN + 1], ev[512], path[128];
	char *text, *nl;
	json_error_t e;
	json_t *j;
	struct stat st;

	append(f, "meta", "ev-1", T0, id1);
	append(f, "meta", "ev-2", T0 + 1, id2);
	assert_int_equal(strlen(id1), PXD_DLQ_ID_LEN);
	assert_true(strcmp(id1, id2) < 0); /* UUIDv7: in time order */
	text = slurp(f, "meta.jsonl");
	nl = strchr(text, '\n');
	assert_non_null(nl);
	assert_string_equal(nl + 1 + strcspn(nl + 1, "\n"), "\n"); /* exactly two lines */
	*nl = '\0';
	j = json_loads(text, 0, &e);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "id")), id1);
	assert_string_equal(json_string_value(json_object_get(j, "time")),
			    "2024-11-22T18:26:40.123Z");
	assert_string_equal(json_string_value(json_object_get(j, "dest")), "meta");
	assert_string_equal(json_string_value(json_object_get(j, "event_id")), "ev-1");
	assert_int_equal(json_integer_value(json_object_get(j, "status")), 400);
	assert_string_equal(json_string_value(json_object_get(j, "reason")),
			    "meta: (#100) Invalid parameter");
	assert_string_equal(json_string_value(json_object_get(j, "response")),
			    "{\"error\":{\"code\":100}}");
	assert_int_equal(json_integer_value(json_object_get(j, "attempts")), 3);
	/* The event is embedded byte for byte, as the last member. */
	event_line(ev, sizeof(ev), "ev-1");
	assert_true(strlen(text) > strlen(ev) + 10);
	assert_memory_equal(text + strlen(text) - strlen(ev) - 1, ev, strlen(ev));
	assert_string_equal(text + strlen(text) - 1, "}");
	assert_non_null(strstr(text, ",\"event\":{\"event_id\":\"ev-1\""));
	json_decref(j);
	free(text);

	snprintf(path, sizeof(path), "%s/dlq/meta.jsonl", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/dlq", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(pxd_dlq_sync(f->q), 0);
}

static void test_response_excerpt_is_bounded_printable_and_redacted(void **state)
{
	struct fixture *f = *state;
	char body[2048], ev[512], id[PXD_DLQ_ID_LEN + 1];
	struct pxd_dlq_entry e = { .dest = "hooks", .reason = "webhook: HTTP 403" };
	const char *resp;
	char *text;
	json_t *j;
	int n;

	n = snprintf(body, sizeof(body),
		     "{\"error\":\"CLICK_CONVERSION_ALREADY_EXISTS\",\"echo\":\"Bearer "
		     "EAABsbCS1iHgBAxyz123456789abcdefTOKEN\",\"hash\":\"%s\",\"ctl\":\"a\tb\x01"
		     "\xc3\xa9\",\"id\":\"fb-trace-9\"}",
		     "5f4dcc3b5aa765d61d8327deb882cf995f4dcc3b5aa765d61d8327deb882cf99");
	memset(body + n, 'x', sizeof(body) - (size_t)n);
	e.event = event_line(ev, sizeof(ev), "ev-r");
	e.event_len = strlen(ev);
	e.response = body;
	e.response_len = sizeof(body);
	assert_int_equal(pxd_dlq_append(f->q, &e, T0, id), 0);
	/* Never answered: no response at all. */
	e.response = NULL;
	e.status = 0;
	assert_int_equal(pxd_dlq_append(f->q, &e, T0, id), 0);

	text = slurp(f, "hooks.jsonl");
	*strchr(text, '\n') = '\0';
	j = json_loads(text, 0, NULL);
	assert_non_null(j);
	resp = json_string_value(json_object_get(j, "response"));
	assert_non_null(resp);
	assert_true(strlen(resp) <= PXD_DLQ_EXCERPT_MAX);
	assert_non_null(strstr(resp, "CLICK_CONVERSION_ALREADY_EXISTS")); /* no digit: kept */
	assert_non_null(strstr(resp, "\"id\":\"fb-trace-9\""));		  /* short: kept */
	assert_null(strstr(resp, "EAABsbCS1iHg"));
	assert_null(strstr(resp, "5f4dcc3b"));
	assert_non_null(strstr(resp, "Bearer [redacted]"));
	assert_non_null(strstr(resp, "\"a b???\""));
	for (const char *p = resp; *p; p++)
		assert_true(*p >= 0x20 && *p <= 0x7e);
	json_decref(j);
	j = json_loads(strchr(text + strlen(text) + 1, '{'), JSON_DISABLE_EOF_CHECK, NULL);
	assert_non_null(j);
	assert_true(json_is_null(json_object_get(j, "response")));
	assert_int_equal(json_integer_value(json_object_get(j, "status")), 0);
	json_decref(j);
	free(text);
}

static void test_append_refuses_bad_input(void **state)
{
	struct fixture *f = *state;
	char id[PXD_DLQ_ID_LEN + 1], path[128];
	static const char *const bad_dests[] = { "", "../etc", "Meta", "a/b", ".hidden" };
	struct pxd_dlq_entry e = { .dest = "meta", .reason = "r" };
	static const char *const bad_events[] = { "not json", "[1,2]", "{\"a\":1}\n",
						  "{\"a\":1} x" };

	(void)state;
	e.event = "{\"event_id\":\"x\"}";
	e.event_len = strlen(e.event);
	for (size_t i = 0; i < sizeof(bad_dests) / sizeof(bad_dests[0]); i++) {
		e.dest = bad_dests[i];
		assert_int_equal(pxd_dlq_append(f->q, &e, T0, id), -EINVAL);
	}
	e.dest = "meta";
	for (size_t i = 0; i < sizeof(bad_events) / sizeof(bad_events[0]); i++) {
		e.event = bad_events[i];
		e.event_len = strlen(bad_events[i]);
		assert_int_equal(pxd_dlq_append(f->q, &e, T0, id), -EINVAL);
	}
	snprintf(path, sizeof(path), "%s/dlq/meta.jsonl", f->dir);
	assert_int_equal(access(path, F_OK), -1);
}

struct seen {
	char ids[64][PXD_DLQ_ID_LEN + 1];
	char event_ids[64][32];
	bool replayed[64];
	bool pending[64];
	size_t n;
};

static int collect(void *ctx, const struct pxd_dlq_record *r)
{
	struct seen *s = ctx;

	assert_true(s->n < 64);
	snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", r->id);
	snprintf(s->event_ids[s->n], sizeof(s->event_ids[0]), "%s", r->event_id);
	s->replayed[s->n] = r->replayed;
	s->pending[s->n] = r->replay_pending;
	s->n++;
	return 0;
}

static size_t scan(struct fixture *f, const char *dest, int64_t since, const char *id,
		   struct seen *s)
{
	struct pxd_dlq_filter flt = { .dest = dest, .since_ms = since, .id = id };
	char err[256];
	size_t bad = 99;

	memset(s, 0, sizeof(*s));
	assert_int_equal(pxd_dlq_scan(f->dir, &flt, collect, s, &bad, err, sizeof(err)), 0);
	assert_int_equal(bad, 0);
	return s->n;
}

static void test_scan_filters_by_dest_since_and_id(void **state)
{
	struct fixture *f = *state;
	struct pxd_dlq_filter flt = { .dest = "../x" };
	char mid[PXD_DLQ_ID_LEN + 1], err[256] = "";
	struct seen s;

	/* Before any dead letter: nothing, and no error. */
	assert_int_equal(scan(f, NULL, 0, NULL, &s), 0);
	append(f, "tiktok", "t-1", T0, NULL);
	append(f, "meta", "m-1", T0, NULL);
	append(f, "meta", "m-2", T0 + HOUR_MS, mid);
	append(f, "meta", "m-3", T0 + 2 * HOUR_MS, NULL);

	assert_int_equal(scan(f, NULL, 0, NULL, &s), 4);
	/* Destinations in name order, entries oldest first. */
	assert_string_equal(s.event_ids[0], "m-1");
	assert_string_equal(s.event_ids[2], "m-3");
	assert_string_equal(s.event_ids[3], "t-1");
	assert_int_equal(scan(f, "tiktok", 0, NULL, &s), 1);
	assert_int_equal(scan(f, "meta", T0 + HOUR_MS, NULL, &s), 2);
	assert_string_equal(s.event_ids[0], "m-2");
	assert_int_equal(scan(f, NULL, T0 + HOUR_MS + 1, NULL, &s), 1);
	assert_int_equal(scan(f, NULL, 0, mid, &s), 1);
	assert_string_equal(s.ids[0], mid);
	assert_false(s.replayed[0]);
	assert_int_equal(scan(f, "nosuch", 0, NULL, &s), 0);
	assert_int_equal(pxd_dlq_scan(f->dir, &flt, collect, &s, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "\"../x\" is not a destination name"));
}

static void test_scan_skips_bad_and_partial_lines(void **state)
{
	struct fixture *f = *state;
	struct pxd_dlq_filter flt = { 0 };
	char path[128], err[256];
	struct seen s = { 0 };
	size_t bad = 0;
	FILE *fp;

	append(f, "meta", "m-1", T0, NULL);
	snprintf(path, sizeof(path), "%s/dlq/meta.jsonl", f->dir);
	fp = fopen(path, "a");
	assert_non_null(fp);
	fputs("garbage\n{\"id\":\"short\"}\n", fp);
	fclose(fp);
	append(f, "meta", "m-2", T0, NULL);
	fp = fopen(path, "a");
	fputs("{\"id\":\"being written", fp); /* no newline yet */
	fclose(fp);
	assert_int_equal(pxd_dlq_scan(f->dir, &flt, collect, &s, &bad, err, sizeof(err)), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(bad, 2);
}

struct sent {
	char ids[64][PXD_DLQ_ID_LEN + 1];
	char dest[64][32];
	char events[64][512];
	size_t n;
	size_t fail_at; /* callback number that fails, 0: none */
};

static int enqueue(void *ctx, const char *id, const char *dest, const char *event, size_t len)
{
	struct sent *s = ctx;

	if (s->fail_at && s->n + 1 == s->fail_at)
		return -ENOSPC;
	assert_true(s->n < 64 && len < sizeof(s->events[0]));
	snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", id);
	snprintf(s->dest[s->n], sizeof(s->dest[0]), "%s", dest);
	memcpy(s->events[s->n], event, len);
	s->events[s->n][len] = '\0';
	s->n++;
	return 0;
}

static int replay(struct fixture *f, const char *dest, int64_t since, struct sent *s,
		  struct pxd_dlq_replay_stats *st)
{
	struct pxd_dlq_filter flt = { .dest = dest, .since_ms = since };
	char err[256];

	return pxd_dlq_replay(f->dir, &flt, enqueue, s, st, err, sizeof(err));
}

static void test_replay_hands_back_original_lines_once(void **state)
{
	struct fixture *f = *state;
	struct pxd_dlq_replay_stats st;
	struct sent s = { 0 };
	struct seen seen;
	char ev[512];

	append(f, "meta", "m-1", T0, NULL);
	append(f, "meta", "m-2", T0 + HOUR_MS, NULL);
	append(f, "tiktok", "t-1", T0, NULL);

	assert_int_equal(replay(f, "meta", 0, &s, &st), 0);
	assert_int_equal(st.replayed, 2);
	assert_int_equal(st.skipped, 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.dest[0], "meta");
	/* The journaled bytes, unchanged: same event_id, same ts, 99.99 as written. */
	assert_string_equal(s.events[0], event_line(ev, sizeof(ev), "m-1"));
	assert_string_equal(s.events[1], event_line(ev, sizeof(ev), "m-2"));

	/* Again: nothing left to send. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(replay(f, "meta", 0, &s, &st), 0);
	assert_int_equal(st.replayed, 0);
	assert_int_equal(st.skipped, 2);
	assert_int_equal(s.n, 0);
	assert_int_equal(scan(f, "meta", 0, NULL, &seen), 2);
	assert_true(seen.replayed[0] && seen.replayed[1]);

	/* A new dead letter (the same event failing again) replays once more. */
	append(f, "meta", "m-1", T0 + 2 * HOUR_MS, NULL);
	assert_int_equal(replay(f, NULL, 0, &s, &st), 0);
	assert_int_equal(st.replayed, 2); /* the new meta one and tiktok's */
	assert_int_equal(st.skipped, 2);
	assert_string_equal(s.dest[0], "meta");
	assert_string_equal(s.events[0], event_line(ev, sizeof(ev), "m-1"));
	assert_string_equal(s.dest[1], "tiktok");
	memset(&s, 0, sizeof(s));
	assert_int_equal(replay(f, NULL, 0, &s, &st), 0);
	assert_int_equal(s.n, 0);
	/* Unknown destination: nothing, and no stray companion file. */
	assert_int_equal(replay(f, "nosuch", 0, &s, &st), 0);
	{
		char path[128];

		snprintf(path, sizeof(path), "%s/dlq/nosuch.replayed", f->dir);
		assert_int_equal(access(path, F_OK), -1);
	}
}

/* A replay stays pending until its outcome is in <dest>.settled: what the
 * shards queue again after a crash. */
static void test_replay_is_pending_until_settled(void **state)
{
	struct fixture *f = *state;
	struct pxd_dlq_replay_stats st;
	struct sent s = { 0 };
	struct seen seen;
	char id[PXD_DLQ_ID_LEN + 1];

	append(f, "meta", "m-1", T0, id);
	append(f, "meta", "m-2", T0, NULL);
	assert_int_equal(scan(f, "meta", 0, NULL, &seen), 2);
	assert_false(seen.pending[0] || seen.pending[1]);
	assert_int_equal(replay(f, "meta", 0, &s, &st), 0);
	assert_string_equal(s.ids[0], id);
	assert_int_equal(scan(f, "meta", 0, NULL, &seen), 2);
	assert_true(seen.pending[0] && seen.pending[1]);

	assert_int_equal(pxd_dlq_settle(f->q, "meta", id), 0);
	assert_int_equal(pxd_dlq_sync(f->q), 0);
	assert_int_equal(scan(f, "meta", 0, NULL, &seen), 2);
	assert_false(seen.pending[0]);
	assert_true(seen.pending[1] && seen.replayed[0] && seen.replayed[1]);
	assert_int_equal(pxd_dlq_settle(f->q, "meta", "short"), -EINVAL);
	assert_int_equal(pxd_dlq_settle(f->q, "../x", id), -EINVAL);
}

/* Replays recorded before .settled existed are not pending: an upgrade
 * does not send every replayed dead letter again. */
static void test_replay_without_settled_file_is_not_pending(void **state)
{
	struct fixture *f = *state;
	struct pxd_dlq_replay_stats st;
	struct sent s = { 0 };
	struct seen seen;
	char path[128];

	append(f, "meta", "m-1", T0, NULL);
	assert_int_equal(replay(f, "meta", 0, &s, &st), 0);
	snprintf(path, sizeof(path), "%s/dlq/meta.settled", f->dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(scan(f, "meta", 0, NULL, &seen), 1);
	assert_true(seen.replayed[0]);
	assert_false(seen.pending[0]);
}

/* pending_only (the shards' resume at start) reads a destination's entries
 * only while one of its replays has no outcome. */
static void test_pending_only_reads_destinations_with_a_pending_replay(void **state)
{
	struct fixture *f = *state;
	struct pxd_dlq_filter flt = { .pending_only = true };
	struct pxd_dlq_replay_stats st;
	struct sent s = { 0 };
	struct seen seen = { 0 };
	char id[PXD_DLQ_ID_LEN + 1], err[256];

	append(f, "meta", "m-1", T0, id);
	append(f, "tiktok", "t-1", T0, NULL);
	assert_int_equal(pxd_dlq_scan(f->dir, &flt, collect, &seen, NULL, err, sizeof(err)), 0);
	assert_int_equal(seen.n, 0);
	assert_int_equal(replay(f, "meta", 0, &s, &st), 0);
	assert_int_equal(pxd_dlq_scan(f->dir, &flt, collect, &seen, NULL, err, sizeof(err)), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.event_ids[0], "m-1");
	assert_true(seen.pending[0]);
	assert_int_equal(pxd_dlq_settle(f->q, "meta", id), 0);
	assert_int_equal(pxd_dlq_sync(f->q), 0);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(pxd_dlq_scan(f->dir, &flt, collect, &seen, NULL, err, sizeof(err)), 0);
	assert_int_equal(seen.n, 0);
}

static void test_replay_since_and_callback_failure(void **state)
{
	struct fixture *f = *state;
	struct pxd_dlq_replay_stats st;
	struct sent s = { .fail_at = 2 };
	char ev[512];

	append(f, "meta", "m-1", T0, NULL);
	append(f, "meta", "m-2", T0 + HOUR_MS, NULL);
	append(f, "meta", "m-3", T0 + 2 * HOUR_MS, NULL);
	/* The second enqueue fails: the replay stops, the first stays recorded. */
	assert_int_equal(replay(f, "meta", 0, &s, &st), -ENOSPC);
	assert_int_equal(st.replayed, 1);
	memset(&s, 0, sizeof(s));
	assert_int_equal(replay(f, "meta", T0 + 2 * HOUR_MS, &s, &st), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.events[0], event_line(ev, sizeof(ev), "m-3"));
	memset(&s, 0, sizeof(s));
	assert_int_equal(replay(f, "meta", 0, &s, &st), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.events[0], event_line(ev, sizeof(ev), "m-2"));
	assert_int_equal(st.skipped, 2);
}

static void test_time_parse_and_format(void **state)
{
	static const struct {
		const char *text;
		int64_t ms;
	} ok[] = {
		{ "2024-11-22T18:26:40Z", 1732300000000LL },
		{ "2024-11-22t18:26:40.123z", T0 },
		{ "2024-11-22 18:26:40.1234567Z", T0 },
		{ "2024-11-22T19:26:40.123+01:00", T0 },
		{ "2024-11-22T13:56:40.123-04:30", T0 },
		{ "2024-11-22", 1732233600000LL },
		{ "1h", T0 - HOUR_MS },
		{ "90m", T0 - 90 * 60000LL },
		{ "45s", T0 - 45000 },
		{ "7d", T0 - 7 * 24 * HOUR_MS },
		{ "30s", T0 - 30000 },
	};
	static const char *const bad[] = { "",
					   "yesterday",
					   "2024-11-22T18:26",
					   "2024-11-22T18:26:40",
					   "2024-11-22T18:26:40.Z",
					   "2024-11-22T18:26:40+0100",
					   "1w",
					   "30",
					   "-1h" };
	char text[PXD_DLQ_TIME_LEN + 1];
	int64_t ms;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ms = 0;
		if (pxd_dlq_time_parse(ok[i].text, T0, &ms) || ms != ok[i].ms)
			fail_msg("\"%s\": got %lld, want %lld", ok[i].text, (long long)ms,
				 (long long)ok[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pxd_dlq_time_parse(bad[i], T0, &ms) != -EINVAL)
			fail_msg("\"%s\" was taken", bad[i]);
	pxd_dlq_time_format(T0, text);
	assert_string_equal(text, "2024-11-22T18:26:40.123Z");
	pxd_dlq_time_format(1732233600000LL, text);
	assert_string_equal(text, "2024-11-22T00:00:00.000Z");
}

struct writer {
	struct fixture *f;
	struct pxd_dlq *q;
	char tag;
};

static void *write_many(void *arg)
{
	struct writer *w = arg;
	static char ev[2][16384];
	char *e = ev[w->tag - 'a'];
	char id[PXD_DLQ_ID_LEN + 1];
	int n = snprintf(e, sizeof(ev[0]), "{\"event_id\":\"%c\",\"pad\":\"", w->tag);

	memset(e + n, w->tag, sizeof(ev[0]) - (size_t)n - 3);
	strcpy(e + sizeof(ev[0]) - 3, "\"}");
	for (int i = 0; i < 200; i++) {
		struct pxd_dlq_entry en = { .dest = "shared",
					    .event = e,
					    .event_len = strlen(e),
					    .reason = "x",
					    .attempts = 1 };

		if (pxd_dlq_append(w->q, &en, T0 + i, id))
			return (void *)1;
	}
	return NULL;
}

/* Counts the entries of each writer, checking that each event came back whole. */
static int count_tags(void *ctx, const struct pxd_dlq_record *r)
{
	size_t *count = ctx;
	json_t *ev = json_loadb(r->event, r->event_len, 0, NULL);

	assert_non_null(ev);
	assert_int_equal(r->event_len, 16383);
	count[r->event_id[0] - 'a']++;
	json_decref(ev);
	return 0;
}

/* Two dispatcher threads, two writers, one file: whole lines only. */
static void test_writers_of_two_threads_share_a_file(void **state)
{
	struct fixture *f = *state;
	struct writer w[2] = { { f, f->q, 'a' }, { f, NULL, 'b' } };
	struct pxd_dlq_filter flt = { .dest = "shared" };
	size_t count[2] = { 0, 0 };
	size_t bad = 0;
	char err[256];
	pthread_t t[2];
	void *ret;

	assert_int_equal(pxd_dlq_open(&w[1].q, f->dir), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, write_many, &w[i]), 0);
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], &ret);
		assert_null(ret);
	}
	assert_int_equal(pxd_dlq_sync(f->q), 0);
	assert_int_equal(pxd_dlq_sync(w[1].q), 0);
	pxd_dlq_close(w[1].q);
	assert_int_equal(pxd_dlq_scan(f->dir, &flt, count_tags, count, &bad, err, sizeof(err)), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(count[0], 200);
	assert_int_equal(count[1], 200);
}

/* After the operator moves the file away, reopen starts a new one by name. */
static void test_reopen_follows_a_moved_file(void **state)
{
	struct fixture *f = *state;
	char from[128], to[128];
	struct seen s;

	append(f, "meta", "m-1", T0, NULL);
	snprintf(from, sizeof(from), "%s/dlq/meta.jsonl", f->dir);
	snprintf(to, sizeof(to), "%s/archived.jsonl.old", f->dir);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(pxd_dlq_reopen(f->q), 0);
	append(f, "meta", "m-2", T0, NULL);
	assert_int_equal(pxd_dlq_sync(f->q), 0);
	assert_int_equal(scan(f, "meta", 0, NULL, &s), 1);
	assert_string_equal(s.event_ids[0], "m-2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_writes_one_line_per_entry, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
		    test_response_excerpt_is_bounded_printable_and_redacted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_refuses_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_filters_by_dest_since_and_id, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_scan_skips_bad_and_partial_lines, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_replay_hands_back_original_lines_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_replay_is_pending_until_settled, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_replay_without_settled_file_is_not_pending,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_pending_only_reads_destinations_with_a_pending_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_since_and_callback_failure, setup,
						teardown),
		cmocka_unit_test(test_time_parse_and_format),
		cmocka_unit_test_setup_teardown(test_writers_of_two_threads_share_a_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reopen_follows_a_moved_file, setup, teardown),
	};

	return cmocka_run_group_tests_name("dlq", tests, NULL, NULL);
}
