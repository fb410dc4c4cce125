// SPDX-License-Identifier: MIT
#include "pixelctl_top.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pixelctl_stream.h"

static const char usage[] = "usage: pixelctl top [-n FRAMES]\n"
			    "  rates per endpoint, tenant and destination, each second\n";

static double num(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

/* A "name: rate" object as two columns under <title>. */
static void rates(const char *title, json_t *obj)
{
	const char *k;
	json_t *v;

	printf("\n%-24s %12s\n", title, "EVENTS/S");
	json_object_foreach(obj, k, v) printf("%-24s %12.2f\n", k, json_number_value(v));
}

static void draw(json_t *s, bool tty)
{
	json_t *xdp = json_object_get(s, "xdp");
	json_t *dests = json_object_get(s, "destinations");
	size_t i;
	json_t *d;

	if (tty)
		fputs("\033[H\033[2J", stdout); /* home, clear: plain ANSI */
	printf("pixeld %s  up %.0fs  connections %.0f  accepted %.1f/s  refused %.1f/s  XDP %s\n",
	       json_string_value(json_object_get(s, "version")), num(s, "uptime_s"),
	       num(s, "connections"), num(s, "accepted_per_s"), num(s, "refused_per_s"),
	       json_string_value(json_object_get(xdp, "state")));
	rates("ENDPOINT", json_object_get(s, "accepted"));
	rates("TENANT", json_object_get(s, "tenants"));
	rates("REFUSED (REASON)", json_object_get(s, "refused"));
	printf("\n%-24s %12s %9s %9s %9s %10s %9s\n", "DESTINATION", "DELIVERED/S", "FAILED/S",
	       "RETRIED/S", "PENDING", "OLDEST(s)", "BREAKER");
	json_array_foreach(dests, i, d)
	    printf("%-24s %12.2f %9.2f %9.2f %9.0f %10.1f %9s\n",
		   json_string_value(json_object_get(d, "name")), num(d, "delivered_per_s"),
		   num(d, "failed_per_s"), num(d, "retried_per_s"), num(d, "pending"),
		   num(d, "oldest_pending_s"), json_string_value(json_object_get(d, "breaker")));
	if (!tty)
		putchar('\n');
	fflush(stdout);
}

static void on_event(const struct pxd_sse_event *e, void *ctx)
{
	json_t **stats = ctx;

	if (strcmp(e->type, "stats") != 0)
		return;
	json_decref(*stats);
	*stats = json_loadb(e->data, e->len, 0, NULL);
}

int pxd_pixelctl_top_main(int argc, char **argv, const struct pxd_conf *conf)
{
	bool tty = isatty(STDOUT_FILENO);
	long frames = 0;		 /* 0: until interrupted */
	uint64_t since = UINT64_MAX - 1; /* stats only: no past events */
	char err[512];

	if (argc == 3 && strcmp(argv[1], "-n") == 0 && (frames = strtol(argv[2], NULL, 10)) > 0) {
	} else if (argc != 1) {
		fputs(usage, stderr);
		return 2;
	}
	for (long f = 0; !frames || f < frames; f++) {
		json_t *stats = NULL;

		if (f)
			pxd_sse_pause();
		if (pxd_sse_fetch(conf, &since, on_event, &stats, err, sizeof(err))) {
			fprintf(stderr, "pixelctl top: %s\n", err);
			return 1;
		}
		if (stats)
			draw(stats, tty);
		json_decref(stats);
	}
	return 0;
}
