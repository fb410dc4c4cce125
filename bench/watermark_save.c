// SPDX-License-Identifier: MIT
/*
 * watermark_save - what one save of the watermark file costs (render, write
 * watermarks.tmp, fdatasync, rename, fsync of the directory), the step a
 * dispatcher shard takes every 20 ms while events move
 * (daemon/journal/watermark_sync.c). Saves a set of <dests> destinations x
 * <streams> streams <n> times in <dir> (put it on the journal's file
 * system) with a moving position, and prints wall and CPU microseconds per
 * save. Single thread.
 *
 * usage: watermark_save DIR [-n SAVES] [-d DESTS] [-s STREAMS]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "watermark.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static double cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1e6 +
	       ru.ru_stime.tv_usec;
}

int main(int argc, char **argv)
{
	unsigned n = 2000, dests = 8, streams = 4;
	struct pxd_watermarks *w = pxd_watermarks_new();
	double t0, c0, t1, c1;
	const char *dir;
	int opt;

	while ((opt = getopt(argc, argv, "n:d:s:")) != -1) {
		switch (opt) {
		case 'n':
			n = (unsigned)atoi(optarg);
			break;
		case 'd':
			dests = (unsigned)atoi(optarg);
			break;
		case 's':
			streams = (unsigned)atoi(optarg);
			break;
		default:
			fprintf(stderr,
				"usage: watermark_save DIR [-n SAVES] [-d DESTS] [-s STREAMS]\n");
			return 2;
		}
	}
	if (optind >= argc || !w || !n) {
		fprintf(stderr, "usage: watermark_save DIR [-n SAVES] [-d DESTS] [-s STREAMS]\n");
		return 2;
	}
	dir = argv[optind];
	t0 = now_us();
	c0 = cpu_us();
	for (unsigned k = 0; k < n; k++) {
		for (unsigned d = 0; d < dests; d++) {
			char name[32];

			snprintf(name, sizeof(name), "dest%u", d);
			for (unsigned s = 0; s < streams; s++)
				if (pxd_watermarks_set(w, name, s, 0, (uint64_t)k * 4096 + d)) {
					fprintf(stderr, "watermark_save: out of memory\n");
					return 1;
				}
		}
		if (pxd_watermarks_save(w, dir)) {
			fprintf(stderr, "watermark_save: saving in %s failed (logged above)\n",
				dir);
			return 1;
		}
	}
	t1 = now_us();
	c1 = cpu_us();
	printf("%u saves of %u destinations x %u streams in %s: %.1f us wall, %.1f us CPU per "
	       "save\n",
	       n, dests, streams, dir, (t1 - t0) / n, (c1 - c0) / n);
	pxd_watermarks_free(w);
	return 0;
}
