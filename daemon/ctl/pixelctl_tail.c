// SPDX-License-Identifier: MIT
#include "pixelctl_tail.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pixelctl_stream.h"

static const char usage[] =
    "usage: pixelctl tail [--tenant T] [--event E] [--json] [--count N]\n"
    "  follows the events pixeld accepts (from now on, after the last 50) until\n"
    "  interrupted, or until N events were shown\n";

struct tail {
	const char *tenant;
	const char *event;
	bool json;
	long count; /* 0: no end */
	long shown;
};

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "-";
}

static void on_event(const struct pxd_sse_event *e, void *ctx)
{
	struct tail *t = ctx;
	json_t *ev;

	if (strcmp(e->type, "ev") != 0 || (t->count && t->shown >= t->count))
		return;
	ev = json_loadb(e->data, e->len, 0, NULL);
	if (!ev)
		return;
	if ((!t->tenant || strcmp(str(ev, "tenant"), t->tenant) == 0) &&
	    (!t->event || strcmp(str(ev, "event"), t->event) == 0)) {
		if (t->json) {
			printf("%.*s\n", (int)e->len, e->data);
		} else {
			json_t *ts = json_object_get(ev, "ts");

			printf("%lld %-10s %-16s %-8s %s\n", (long long)json_integer_value(ts),
			       str(ev, "tenant"), str(ev, "event"), str(ev, "source"),
			       str(ev, "event_id"));
		}
		fflush(stdout);
		t->shown++;
	}
	json_decref(ev);
}

int pxd_pixelctl_tail_main(int argc, char **argv, const struct pxd_conf *conf)
{
	struct tail t = { 0 };
	uint64_t since = 0;
	char err[512];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			t.json = true;
		} else if (i + 1 < argc && strcmp(argv[i], "--tenant") == 0) {
			t.tenant = argv[++i];
		} else if (i + 1 < argc && strcmp(argv[i], "--event") == 0) {
			t.event = argv[++i];
		} else if (i + 1 < argc && strcmp(argv[i], "--count") == 0 &&
			   (t.count = strtol(argv[i + 1], NULL, 10)) > 0) {
			i++;
		} else {
			fprintf(stderr, "pixelctl tail: unexpected \"%s\"\n%s", argv[i], usage);
			return 2;
		}
	}
	while (!t.count || t.shown < t.count) {
		if (pxd_sse_fetch(conf, &since, on_event, &t, err, sizeof(err))) {
			fprintf(stderr, "pixelctl tail: %s\n", err);
			return 1;
		}
		if (!t.count || t.shown < t.count)
			pxd_sse_pause();
	}
	return 0;
}
