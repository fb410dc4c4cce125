/* SPDX-License-Identifier: MIT */
/*
 * options.h - pixelload's command line: the options, their defaults and
 * checks, the usage text and the target's address. Parsed once by main
 * before any thread starts; read-only afterwards, shared by every thread.
 */
#ifndef PL_OPTIONS_H
#define PL_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "request.h"

#define PL_PIPELINE_MAX 128 /* 4 iovecs per request stays under IOV_MAX */

struct pl_opts {
	const char *target;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char host[256];
	unsigned threads, conns, pipeline, sources, batch;
	double duration_s, rate, burst_factor, bot_share, forged_share, timeout_s;
	uint64_t requests;
	bool burst, new_conn, idle, quiet, sources_set;
	bool tls, tls_resume; /* --tls, --tls-resume */
	char sni[256];	      /* --tls: server name sent (--host without its port) */
	double weight[PL_MIX_KINDS];
	const char *profile, *open_urls, *json_path;
	uint64_t seed;
	int argc;
	char **argv;
};

/**
 * Fills <o> from <argv> and resolves the target. Returns 0, or 2 (the exit
 * status of a usage error) after printing on stderr what is wrong and what to
 * use instead. --help prints the usage on stdout and exits 0. <o> keeps
 * pointers into <argv>.
 */
int pl_opts_parse(struct pl_opts *o, int argc, char **argv);

#endif
