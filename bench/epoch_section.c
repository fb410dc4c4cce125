// SPDX-License-Identifier: MIT
/*
 * bench/epoch_section.c - the instructions of one configuration section
 * (pxd_conf_live_enter() + pxd_conf_live_leave(), conf_live.h), the
 * ck_epoch begin/end every request and every ingest loop pass makes, counted
 * by bench/epoch_cost.sh under callgrind: <n> sections in a loop, built with
 * and without -DPXD_BENCH_NO_EPOCH; the difference over <n> is the figure.
 * One thread, no reload: what the request path pays when nothing changes.
 */
#include <stdio.h>
#include <stdlib.h>

#include "conf_live.h"

int main(int argc, char **argv)
{
	static struct pxd_conf conf;
	struct pxd_conf_live live;
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	unsigned long seen = 0;

	if (pxd_conf_live_init(&live, &conf, 1))
		return 1;
	for (unsigned long i = 0; i < n; i++) {
		const struct pxd_conf *c = pxd_conf_live_enter(&live, 0);

		/* Something read through the generation, as a request does. */
		seen += (unsigned long)c->ndests;
		__asm__ volatile("" ::: "memory");
		pxd_conf_live_leave(&live, 0);
	}
	pxd_conf_live_fini(&live);
	printf("%lu sections, %lu\n", n, seen);
	return 0;
}
