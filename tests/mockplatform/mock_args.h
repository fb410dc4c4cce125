/* SPDX-License-Identifier: MIT */
/*
 * mock_args.h - the mockplatform command line (tests/mockplatform/main.c):
 * its flags, their checks and --help. Runs once on the main thread, before
 * the server starts.
 */
#ifndef PXD_MOCK_ARGS_H
#define PXD_MOCK_ARGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mock_routes.h"

/* §10.1's largest request body among the emulated platforms is Meta's ~1 MB;
 * leave room for a client that fills it to the brim. */
#define PXD_MOCK_DEFAULT_MAX_BODY (4u << 20)

/* What the command line asks for. Start it with pxd_mock_args_init(). */
struct pxd_mock_args {
	const char *listen_addr; /* HOST:PORT */
	const char *record_path; /* NULL: no record file */
	uint32_t latency_ms;	 /* added to every platform answer */
	size_t max_body;
	size_t max_conns;
	bool verbose;
	const char *count_key; /* counting mode (mock_count.h); NULL: parse and check */
	struct pxd_mock_conf conf;
	json_t *faults; /* --fault control objects, applied once the server exists */
};

/* Sets <a> to the defaults. Returns 0 or -ENOMEM. */
int pxd_mock_args_init(struct pxd_mock_args *a);

/* Frees what <a> holds. */
void pxd_mock_args_fini(struct pxd_mock_args *a);

/*
 * Parses <argv> into <a>. Returns 0, 1 after printing --help, or -1 after
 * printing to stderr which flag or value is wrong and to see --help.
 */
int pxd_mock_args_parse(int argc, char **argv, struct pxd_mock_args *a);

#endif
