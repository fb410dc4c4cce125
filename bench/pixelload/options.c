// SPDX-License-Identifier: MIT
/*
 * options.c - pixelload's command line: getopt table, numeric ranges,
 * durations, --mix weights, profiles, the checks between options, and
 * resolving ADDR:PORT.
 */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"

static void usage(FILE *f)
{
	fputs(
	    "usage: pixelload [OPTIONS] ADDR:PORT\n"
	    "\n"
	    "Load: closed loop (as fast as the target answers) unless -R gives a rate.\n"
	    "  -c, --connections N   concurrent connections, all threads together (default 64)\n"
	    "  -t, --threads N       threads, each with its own io_uring (default 1)\n"
	    "  -d, --duration T      run time: 10, 10s, 500ms, 2m (default 10s unless -n)\n"
	    "  -n, --requests N      stop after N requests (with -d: whichever comes first)\n"
	    "  -R, --rate N          open loop at N requests/s in all; latency counts from each\n"
	    "                        request's intended send time, so a stalled target shows\n"
	    "  -P, --pipeline N      requests in flight per connection, 1..128 (default 1)\n"
	    "      --new-conn        one connection per request, timed from the connect;\n"
	    "                        pixelload closes it after the answer, as browsers do\n"
	    "      --sources N       bind connections to N addresses spread over 127.0.0.0/8\n"
	    "                        (loopback target: 16, or 1024 with --new-conn so ports\n"
	    "                        in TIME_WAIT never run out; none for other targets)\n"
	    "      --timeout T       a connect or request unanswered this long fails (10s)\n"
	    "      --tls             speak HTTPS (OpenSSL, no certificate check; SNI from --host)\n"
	    "      --tls-resume      with --tls: resume each new connection with the newest\n"
	    "                        unused session ticket its thread received (each once)\n"
	    "      --idle            open -c keep-alive connections, one request each, then hold\n"
	    "                        them idle for -d; prints \"ready ...\" on stdout once all\n"
	    "                        are answered\n"
	    "\n"
	    "Requests:\n"
	    "      --profile P       pixel, pixel204, beacon, open, mixed (pixel=70,beacon=30)\n"
	    "                        or burst: open loop ramping -R x1 -> x10 -> x1 over -d\n"
	    "                        with the mixed requests (default pixel)\n"
	    "      --mix K=W,...     weights of pixel, pixel204, beacon, open (overrides P)\n"
	    "      --burst-factor F  peak of the burst profile as a multiple of -R (10)\n"
	    "      --batch N         events per beacon POST, 1..500 (default 1)\n"
	    "      --bots F          share of requests with bot user agents, 0..1 (0)\n"
	    "      --open-urls FILE  signed open-pixel URLs, one per line, as printed by\n"
	    "                        pixelctl -c CONF pixel sign --csv FILE\n"
	    "      --forged F        share of email opens whose token is forged, 0..1 (0)\n"
	    "      --host NAME       Host header (default ADDR:PORT)\n"
	    "      --seed N          seed of the request generator (default 1)\n"
	    "\n"
	    "Output:\n"
	    "      --json FILE       the full result: config, totals, status counts, errors,\n"
	    "                        latency percentiles, per-second series\n"
	    "  -q, --quiet           no progress line (it only shows on a terminal anyway)\n"
	    "  -h, --help\n"
	    "\n"
	    "Exit: 0 every request answered 2xx; 3 some failed or were not 2xx (see the\n"
	    "summary); 1 the target is down or pixelload could not run; 2 usage.\n",
	    f);
}

static int parse_duration(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -EINVAL;
	if (!strcmp(end, "ms"))
		v /= 1000;
	else if (!strcmp(end, "m"))
		v *= 60;
	else if (*end && strcmp(end, "s"))
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_mix(const char *s, double *w)
{
	char buf[256], *save = NULL, *tok;
	double sum = 0;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	memset(w, 0, sizeof(double) * PL_MIX_KINDS);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		int k;

		if (!eq)
			return -EINVAL;
		*eq = '\0';
		for (k = 0; k < PL_MIX_KINDS && strcmp(tok, pl_kind_name[k]); k++)
			;
		if (k == PL_MIX_KINDS || parse_num(eq + 1, 0, 1e9, &w[k]))
			return -EINVAL;
		sum += w[k];
	}
	return sum > 0 ? 0 : -EINVAL;
}

static int resolve(struct pl_opts *o)
{
	char host[256];
	const char *colon = strrchr(o->target, ':');
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	size_t hl;
	int err;

	if (!colon || colon == o->target || !colon[1])
		return -EINVAL;
	hl = (size_t)(colon - o->target);
	if (o->target[0] == '[' && hl >= 2 && o->target[hl - 1] == ']') {
		memcpy(host, o->target + 1, hl - 2);
		host[hl - 2] = '\0';
	} else {
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, o->target, hl);
		host[hl] = '\0';
	}
	err = getaddrinfo(host, colon + 1, &hints, &res);
	if (err) {
		fprintf(stderr, "pixelload: cannot resolve \"%s\": %s\n", o->target,
			gai_strerror(err));
		return -ENOENT;
	}
	memcpy(&o->addr, res->ai_addr, res->ai_addrlen);
	o->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static bool target_loopback4(const struct pl_opts *o)
{
	const struct sockaddr_in *a = (const struct sockaddr_in *)&o->addr;

	return a->sin_family == AF_INET && (ntohl(a->sin_addr.s_addr) >> 24) == 127;
}

static int bad_opt(const char *name, const char *value, const char *want)
{
	fprintf(stderr, "pixelload: %s \"%s\": %s\n", name, value, want);
	return 2;
}

int pl_opts_parse(struct pl_opts *o, int argc, char **argv)
{
	enum {
		O_NEWCONN = 256,
		O_SOURCES,
		O_TIMEOUT,
		O_IDLE,
		O_TLS,
		O_TLS_RESUME,
		O_PROFILE,
		O_MIX,
		O_BURSTF,
		O_BATCH,
		O_BOTS,
		O_URLS,
		O_FORGED,
		O_HOST,
		O_SEED,
		O_JSON,
	};
	static const struct option lopts[] = {
		{ "connections", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 't' },
		{ "duration", required_argument, NULL, 'd' },
		{ "requests", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'R' },
		{ "pipeline", required_argument, NULL, 'P' },
		{ "new-conn", no_argument, NULL, O_NEWCONN },
		{ "sources", required_argument, NULL, O_SOURCES },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "idle", no_argument, NULL, O_IDLE },
		{ "tls", no_argument, NULL, O_TLS },
		{ "tls-resume", no_argument, NULL, O_TLS_RESUME },
		{ "profile", required_argument, NULL, O_PROFILE },
		{ "mix", required_argument, NULL, O_MIX },
		{ "burst-factor", required_argument, NULL, O_BURSTF },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "bots", required_argument, NULL, O_BOTS },
		{ "open-urls", required_argument, NULL, O_URLS },
		{ "forged", required_argument, NULL, O_FORGED },
		{ "host", required_argument, NULL, O_HOST },
		{ "seed", required_argument, NULL, O_SEED },
		{ "json", required_argument, NULL, O_JSON },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* Numeric options: where each value goes, as which type, and its range. */
	static const struct {
		int key;
		const char *name;
		char type; /* u: unsigned, q: uint64_t, f: double, t: duration in s */
		size_t off;
		double lo, hi;
	} nums[] = {
		{ 'c', "--connections", 'u', offsetof(struct pl_opts, conns), 1, 1e6 },
		{ 't', "--threads", 'u', offsetof(struct pl_opts, threads), 1, 256 },
		{ 'd', "--duration", 't', offsetof(struct pl_opts, duration_s), 0.001, 86400 },
		{ 'n', "--requests", 'q', offsetof(struct pl_opts, requests), 1, 1e15 },
		{ 'R', "--rate", 'f', offsetof(struct pl_opts, rate), 0.001, 1e9 },
		{ 'P', "--pipeline", 'u', offsetof(struct pl_opts, pipeline), 1, PL_PIPELINE_MAX },
		{ O_SOURCES, "--sources", 'u', offsetof(struct pl_opts, sources), 0, 1 << 24 },
		{ O_TIMEOUT, "--timeout", 't', offsetof(struct pl_opts, timeout_s), 0.01, 3600 },
		{ O_BURSTF, "--burst-factor", 'f', offsetof(struct pl_opts, burst_factor), 1,
		  1000 },
		{ O_BATCH, "--batch", 'u', offsetof(struct pl_opts, batch), 1, 500 },
		{ O_BOTS, "--bots", 'f', offsetof(struct pl_opts, bot_share), 0, 1 },
		{ O_FORGED, "--forged", 'f', offsetof(struct pl_opts, forged_share), 0, 1 },
		{ O_SEED, "--seed", 'q', offsetof(struct pl_opts, seed), 0, 1e18 },
	};
	const char *mix = NULL;
	char want[96];
	double v;
	int c;

	*o = (struct pl_opts){ .threads = 1,
			       .conns = 64,
			       .pipeline = 1,
			       .batch = 1,
			       .timeout_s = 10,
			       .burst_factor = 10,
			       .profile = "pixel",
			       .seed = 1,
			       .argc = argc,
			       .argv = argv };
	while ((c = getopt_long(argc, argv, "c:t:d:n:R:P:qh", lopts, NULL)) != -1) {
		unsigned k;

		for (k = 0; k < ARRAY_SIZE(nums) && nums[k].key != c; k++)
			;
		if (k < ARRAY_SIZE(nums)) {
			char *dst = (char *)o + nums[k].off;
			int err = nums[k].type == 't'
				      ? parse_duration(optarg, &v)
				      : parse_num(optarg, nums[k].lo, nums[k].hi, &v);

			if (err || v < nums[k].lo || v > nums[k].hi) {
				snprintf(want, sizeof(want), "use %s from %.15g to %.15g%s",
					 nums[k].type == 't' ? "a duration (10, 10s, 500ms, 2m)"
							     : "a number",
					 nums[k].lo, nums[k].hi, nums[k].type == 't' ? " s" : "");
				return bad_opt(nums[k].name, optarg, want);
			}
			if (nums[k].type == 'u')
				*(unsigned *)dst = (unsigned)v;
			else if (nums[k].type == 'q')
				*(uint64_t *)dst = (uint64_t)v;
			else
				*(double *)dst = v;
			o->sources_set |= c == O_SOURCES;
			continue;
		}
		switch (c) {
		case O_NEWCONN:
			o->new_conn = true;
			break;
		case O_IDLE:
			o->idle = true;
			break;
		case O_TLS_RESUME:
			o->tls_resume = true;
			o->tls = true;
			break;
		case O_TLS:
			o->tls = true;
			break;
		case O_PROFILE:
			o->profile = optarg;
			break;
		case O_MIX:
			mix = optarg;
			break;
		case O_URLS:
			o->open_urls = optarg;
			break;
		case O_HOST:
			if (!*optarg || strlen(optarg) >= sizeof(o->host) ||
			    strpbrk(optarg, "\r\n "))
				return bad_opt("--host", optarg, "use a host name without spaces");
			strcpy(o->host, optarg);
			break;
		case O_JSON:
			o->json_path = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "pixelload: give exactly one target ADDR:PORT (see --help)\n");
		return 2;
	}
	o->target = argv[optind];

	if (!strcmp(o->profile, "burst")) {
		o->burst = true;
		if (!o->rate || !o->duration_s)
			return bad_opt("--profile", "burst",
				       "needs a base rate -R and a duration -d to ramp over");
	}
	if (mix) {
		if (parse_mix(mix, o->weight))
			return bad_opt("--mix", mix,
				       "use KIND=WEIGHT,... with pixel, pixel204, beacon, open");
	} else if (!strcmp(o->profile, "mixed") || o->burst) {
		o->weight[PL_KIND_PIXEL] = 70;
		o->weight[PL_KIND_BEACON] = 30;
	} else {
		int k;

		for (k = 0; k < PL_MIX_KINDS && strcmp(o->profile, pl_kind_name[k]); k++)
			;
		if (k == PL_MIX_KINDS)
			return bad_opt("--profile", o->profile,
				       "use pixel, pixel204, beacon, open, mixed or burst");
		o->weight[k] = 1;
	}
	if (o->weight[PL_KIND_OPEN] > 0 && !o->open_urls) {
		fprintf(stderr, "pixelload: email opens need --open-urls FILE: make one with "
				"pixelctl -c CONF pixel sign --csv ROWS.csv > FILE\n");
		return 2;
	}
	if (!o->duration_s && !o->requests)
		o->duration_s = o->idle ? 30 : 10;
	if (o->idle && (o->rate || o->new_conn || o->requests)) {
		fprintf(stderr,
			"pixelload: --idle holds keep-alive connections; it takes -c and -d, "
			"not -R, -n or --new-conn\n");
		return 2;
	}
	if (o->threads > o->conns) {
		fprintf(stderr, "pixelload: %u threads need at least as many connections (-c %u)\n",
			o->threads, o->conns);
		return 2;
	}
	if (resolve(o))
		return bad_opt("target", o->target, "use ADDR:PORT, e.g. 127.0.0.1:8080");
	if (!o->sources_set)
		o->sources = !target_loopback4(o) ? 0 : o->new_conn ? 1024 : 16;
	if (o->sources && !target_loopback4(o)) {
		fprintf(stderr,
			"pixelload: --sources spreads over 127.0.0.0/8 and needs a 127.x.y.z "
			"target; use --sources 0 for %s\n",
			o->target);
		return 2;
	}
	if (!o->host[0])
		snprintf(o->host, sizeof(o->host), "%s", o->target);
	/* SNI is a name: the Host without its port, none for an address. */
	snprintf(o->sni, sizeof(o->sni), "%.*s", (int)strcspn(o->host, ":"), o->host);
	if (o->sni[0] == '[' || strspn(o->sni, "0123456789.") == strlen(o->sni))
		o->sni[0] = '\0';
	return 0;
}
