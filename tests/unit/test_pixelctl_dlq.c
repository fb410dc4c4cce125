// SPDX-License-Identifier: MIT
#include "daemon/ctl/pixelctl_dlq.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "dlq.h"
#include "http_stub.h"

#define HOUR_MS 3600000LL

struct fixture {
	struct pxd_conf *conf;
	struct stub *stub;
	char ids[3][PXD_DLQ_ID_LEN + 1];
	int64_t now;
	int status; /* what the stub's admin endpoint answers */
	char out[65536];
	char err[8192];
};

/* Three dead letters: meta two hours ago and now, tiktok now. */
static int setup(void **state)
{
	static const struct {
		const char *dest, *event_id, *reason;
		int64_t ago;
	} entries[] = {
		{ "meta", "ev-old",
		  "meta: (#100) Invalid parameter: em is not the SHA-256 of a n...lised email",
		  2 * HOUR_MS },
		{ "meta", "ev-new", "meta: (#190) Error validating access token", 0 },
		{ "tiktok", "ev-tt", "tiktok: 40002 invalid params", 0 },
	};
	struct fixture *f = calloc(1, sizeof(*f));
	struct pxd_dlq *q;

	assert_non_null(f);
	f->conf = calloc(1, sizeof(*f->conf));
	assert_non_null(f->conf);
	strcpy(f->conf->path, "/etc/pixeld.ini");
	strcpy(f->conf->data_dir, "/tmp/pxd_ctldlqXXXXXX");
	assert_non_null(mkdtemp(f->conf->data_dir));
	f->now = pxd_now_ms();
	assert_int_equal(pxd_dlq_open(&q, f->conf->data_dir), 0);
	for (size_t i = 0; i < 3; i++) {
		char ev[256];
		struct pxd_dlq_entry e = {
			.dest = entries[i].dest,
			.event = ev,
			.reason = entries[i].reason,
			.status = 400,
			.response = "{\"error\":{\"code\":100}}",
			.response_len = 22,
			.attempts = (uint32_t)i + 1,
		};

		snprintf(ev, sizeof(ev), "{\"event_id\":\"%s\",\"event\":\"Lead\",\"ts\":%lld}",
			 entries[i].event_id, (long long)(f->now - entries[i].ago));
		e.event_len = strlen(ev);
		assert_int_equal(pxd_dlq_append(q, &e, f->now - entries[i].ago, f->ids[i]), 0);
	}
	assert_int_equal(pxd_dlq_sync(q), 0);
	pxd_dlq_close(q);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[sizeof(f->conf->data_dir) + 16];

	if (f->stub) {
		stub_stop(f->stub);
		free(f->stub);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->conf->data_dir);
	assert_int_equal(system(cmd), 0);
	free(f->conf);
	free(f);
	return 0;
}

/* Runs the command with its output captured in <f>. */
static int run(struct fixture *f, int argc, const char **args)
{
	return pxd_test_run_cli(pxd_pixelctl_dlq_main, f->conf, argc, args, f->out, sizeof(f->out),
				f->err, sizeof(f->err));
}

#define RUN(f, ...)                                                                   \
	run(f, (int)(sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(const char *)), \
	    (const char *[]){ __VA_ARGS__ })

static size_t count(const char *s, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void test_list_prints_every_dead_letter(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(RUN(f, "dlq", "list"), 0);
	assert_non_null(strstr(f->out, "ID "));
	assert_non_null(strstr(f->out, "REASON"));
	for (size_t i = 0; i < 3; i++)
		assert_non_null(strstr(f->out, f->ids[i]));
	/* meta's file first, oldest first, then tiktok. */
	assert_true(strstr(f->out, "ev-old") < strstr(f->out, "ev-new"));
	assert_true(strstr(f->out, "ev-new") < strstr(f->out, "ev-tt"));
	/* Long reasons are cut to the column. */
	assert_non_null(
	    strstr(f->out, "meta: (#100) Invalid parameter: em is not the SHA-256 of a n...\n"));
	assert_non_null(strstr(f->out, "3 dead letters, 0 of them replayed"));
	assert_string_equal(f->err, "");
}

static void test_list_filters_by_dest_and_since(void **state)
{
	struct fixture *f = *state;
	char since[PXD_DLQ_TIME_LEN + 1];

	assert_int_equal(RUN(f, "dlq", "list", "--dest", "meta"), 0);
	assert_int_equal(count(f->out, "ev-"), 2);
	assert_null(strstr(f->out, "ev-tt"));
	assert_int_equal(RUN(f, "dlq", "list", "--since", "1h"), 0);
	assert_int_equal(count(f->out, "ev-"), 2);
	assert_null(strstr(f->out, "ev-old"));
	pxd_dlq_time_format(f->now - HOUR_MS, since);
	assert_int_equal(RUN(f, "dlq", "list", "--dest=meta", "--since", since), 0);
	assert_int_equal(count(f->out, "ev-"), 1);
	assert_non_null(strstr(f->out, "ev-new"));
	assert_int_equal(RUN(f, "dlq", "list", "--dest", "nosuch"), 0);
	assert_non_null(strstr(f->out, "0 dead letters"));
}

static void test_list_refuses_bad_arguments(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(RUN(f, "dlq", "list", "--since", "yesterday"), 2);
	assert_non_null(strstr(f->err, "--since: \"yesterday\" is not a time"));
	assert_int_equal(RUN(f, "dlq", "list", "--dest", "../etc"), 2);
	assert_non_null(strstr(f->err, "\"../etc\" is not a destination name"));
	assert_int_equal(RUN(f, "dlq", "list", "--destination", "x"), 2);
	assert_non_null(strstr(f->err, "unknown argument \"--destination\""));
	assert_int_equal(RUN(f, "dlq", "list", "--dest"), 2);
	assert_int_equal(RUN(f, "dlq", "purge"), 2);
	assert_non_null(strstr(f->err, "usage: pixelctl dlq list"));
	assert_int_equal(RUN(f, "dlq", "help"), 0);
	assert_non_null(strstr(f->out, "usage: pixelctl dlq list"));
}

static void test_show_prints_one_entry(void **state)
{
	struct fixture *f = *state;
	char want[256];

	assert_int_equal(RUN(f, "dlq", "show", f->ids[1]), 0);
	snprintf(want, sizeof(want), "id:        %s\n", f->ids[1]);
	assert_non_null(strstr(f->out, want));
	assert_non_null(strstr(f->out, "dest:      meta\n"));
	assert_non_null(strstr(f->out, "event_id:  ev-new\n"));
	assert_non_null(strstr(f->out, "status:    400\n"));
	assert_non_null(strstr(f->out, "attempts:  2\n"));
	assert_non_null(strstr(f->out, "reason:    meta: (#190) Error validating access token\n"));
	assert_non_null(strstr(f->out, "response:  {\"error\":{\"code\":100}}\n"));
	assert_non_null(strstr(f->out, "replayed:  no\n"));
	snprintf(want, sizeof(want),
		 "event:     {\"event_id\":\"ev-new\",\"event\":\"Lead\",\"ts\":%lld}\n",
		 (long long)f->now);
	assert_non_null(strstr(f->out, want));
	assert_int_equal(count(f->out, "id:        "), 1);

	assert_int_equal(RUN(f, "dlq", "show", "01234567-89ab-7def-8123-456789abcdef"), 1);
	assert_non_null(strstr(f->err, "no dead letter 01234567-89ab-7def-8123-456789abcdef"));
	assert_int_equal(RUN(f, "dlq", "show", "short"), 2);
	assert_int_equal(RUN(f, "dlq", "show"), 2);
}

struct enqueued {
	size_t n;
};

static int enqueue(void *ctx, const char *id, const char *dest, const char *event, size_t len)
{
	(void)id;
	(void)dest;
	(void)event;
	(void)len;
	((struct enqueued *)ctx)->n++;
	return 0;
}

/*
 * Plays pixeld's POST /admin/dlq/replay as delivery-wiring.md tells the lead
 * to write it: parse {"dest","since"}, run pxd_dlq_replay(), answer the counts.
 */
static void admin(void *ctx, const struct stub_req *req, struct stub_reply *rep)
{
	struct fixture *f = ctx;
	struct pxd_dlq_filter flt = { 0 };
	struct pxd_dlq_replay_stats st;
	struct enqueued q = { 0 };
	json_t *body = json_loadb(req->body, req->body_len, 0, NULL);
	const char *since = json_string_value(json_object_get(body, "since"));
	char err[256];

	if (strcmp(req->method, "POST") || strcmp(req->path, "/admin/dlq/replay") || !body ||
	    f->status != 200) {
		rep->status = f->status == 200 ? 404 : f->status;
		strcpy(rep->body, "{\"error\":\"admin: no\"}");
		json_decref(body);
		return;
	}
	flt.dest = json_string_value(json_object_get(body, "dest"));
	if (since && pxd_dlq_time_parse(since, pxd_now_ms(), &flt.since_ms)) {
		rep->status = 400;
	} else if (pxd_dlq_replay(f->conf->data_dir, &flt, enqueue, &q, &st, err, sizeof(err))) {
		rep->status = 500;
	} else {
		snprintf(rep->body, sizeof(rep->body), "{\"replayed\":%zu,\"skipped\":%zu}",
			 st.replayed, st.skipped);
	}
	json_decref(body);
}

static void admin_listen_on(struct fixture *f, uint16_t port)
{
	struct sockaddr_in *a = (struct sockaddr_in *)&f->conf->admin_listen.ss;

	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->sin_port = htons(port);
	f->conf->admin_listen.len = sizeof(*a);
}

static void test_replay_goes_through_the_daemon(void **state)
{
	struct fixture *f = *state;
	struct stub_req got;
	char since[PXD_DLQ_TIME_LEN + 1], want[128];

	f->stub = calloc(1, sizeof(*f->stub));
	assert_non_null(f->stub);
	f->status = 200;
	stub_start(f->stub, admin, f);
	admin_listen_on(f, f->stub->port);

	assert_int_equal(RUN(f, "dlq", "replay", "--dest", "meta", "--since", "1h"), 0);
	assert_non_null(
	    strstr(f->out, "replayed 1 dead letters (0 selected were replayed before)"));
	stub_last(f->stub, &got);
	assert_string_equal(got.method, "POST");
	assert_string_equal(got.path, "/admin/dlq/replay");
	/* The relative time went out absolute, as RFC 3339. */
	pxd_dlq_time_format(f->now - HOUR_MS, since);
	snprintf(want, sizeof(want), "{\"dest\":\"meta\",\"since\":\"%.16s", since);
	assert_memory_equal(got.body, want, strlen(want));

	assert_int_equal(RUN(f, "dlq", "replay"), 0);
	assert_non_null(
	    strstr(f->out, "replayed 2 dead letters (1 selected were replayed before)"));
	stub_last(f->stub, &got);
	assert_string_equal(got.body, "{}");
	assert_int_equal(RUN(f, "dlq", "list"), 0);
	assert_non_null(strstr(f->out, "3 dead letters, 3 of them replayed"));
	assert_int_equal(count(f->out, "(replayed)"), 3);

	f->status = 503;
	assert_int_equal(RUN(f, "dlq", "replay"), 1);
	assert_non_null(strstr(f->err, "pixeld answered HTTP 503: {\"error\":\"admin: no\"}"));
}

static void test_replay_without_a_daemon(void **state)
{
	struct fixture *f = *state;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);

	/* A port that was free a moment ago: nothing listens there. */
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	close(fd);
	admin_listen_on(f, ntohs(a.sin_port));
	assert_int_equal(RUN(f, "dlq", "replay", "--dest", "meta"), 1);
	assert_non_null(strstr(f->err, "pixeld is not running"));
	assert_int_equal(RUN(f, "dlq", "replay", "--since", "soon"), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_list_prints_every_dead_letter, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_list_filters_by_dest_and_since, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_list_refuses_bad_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_show_prints_one_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_goes_through_the_daemon, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_replay_without_a_daemon, setup, teardown),
	};

	return cmocka_run_group_tests_name("pixelctl_dlq", tests, NULL, NULL);
}
