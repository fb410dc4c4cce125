// SPDX-License-Identifier: MIT
/*
 * dispatch_cost - what the dispatcher spends per event on one destination,
 * without the network or the journal: the event-name scan it routes by, the
 * line read, the consent and `to` checks, the platform's rules
 * (validate_line) and the batch body (build), for <rounds> batches of
 * <batch> copies of the bench's canonical line (bench/dispatch.sh's beacon,
 * event_id numbered). Prints nanoseconds per event, wall and CPU; run it
 * under `valgrind --tool=callgrind` with two round counts for instructions
 * per event that repeat from run to run. Single thread.
 *
 * usage: dispatch_cost [-t TYPE] [-b BATCH] [-r ROUNDS]
 *        (meta, tiktok, ga4, ...: a line-reading HTTP adapter; defaults
 *        meta, 1000, 200)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapter.h"
#include "consent.h"
#include "dispatcher.h"
#include "event_line.h"

/* Each adapter's keys as bench/dispatch.sh sets them. */
static const char *const dest_keys[][7] = {
	{ "meta", "pixel_id", "1234567890", "api_version", "v25.0", "access_token", "bench" },
	{ "tiktok", "pixel_code", "CBENCH1", "access_token", "bench" },
	{ "ga4", "measurement_id", "G-BENCH1", "api_secret", "bench" },
	{ "snapchat", "pixel_id", "1a2b3c4d-0000-4000-8000-123456789abc", "access_token", "bench" },
	{ "pinterest", "ad_account_id", "549755885175", "access_token", "bench" },
	{ "reddit", "ad_account_id", "a2_bench", "access_token", "bench" },
};

static double ns_of(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int dest_make(const char *type, struct pxd_conf_dest *conf, struct pxd_dest *dest)
{
	char err[512];

	memset(conf, 0, sizeof(*conf));
	snprintf(conf->name, sizeof(conf->name), "bench-%s", type);
	snprintf(conf->type, sizeof(conf->type), "%s", type);
	conf->line = 1;
	for (size_t r = 0; r < sizeof(dest_keys) / sizeof(dest_keys[0]); r++) {
		if (strcmp(dest_keys[r][0], type))
			continue;
		for (size_t k = 1; k + 1 < 7 && dest_keys[r][k]; k += 2) {
			struct pxd_conf_kv *kv = &conf->kv[conf->nkv];

			snprintf(kv->key, sizeof(kv->key), "%s", dest_keys[r][k]);
			snprintf(kv->value, sizeof(kv->value), "%s", dest_keys[r][k + 1]);
			kv->line = conf->line + 1 + (int)conf->nkv++;
		}
	}
	*dest = (struct pxd_dest){ .conf = conf, .adapter = pxd_adapter_find(type) };
	if (!dest->adapter || !(dest->adapter->flags & PXD_ADAPTER_READS_LINE)) {
		fprintf(stderr, "dispatch_cost: %s is not a line-reading HTTP adapter\n", type);
		return -1;
	}
	if (dest->adapter->init(dest, "bench.ini", err, sizeof(err))) {
		fprintf(stderr, "dispatch_cost: %s\n", err);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct pxd_conf_dest conf;
	const char *type = "meta";
	unsigned batch = 1000, rounds = 200;
	struct pxd_event_line *els;
	struct pxd_batch_item *items;
	struct pxd_request req;
	struct pxd_dest dest;
	double t0, c0, t1, c1;
	uint64_t kept = 0;
	char *lines;
	int opt;

	while ((opt = getopt(argc, argv, "t:b:r:")) != -1) {
		switch (opt) {
		case 't':
			type = optarg;
			break;
		case 'b':
			batch = (unsigned)atoi(optarg);
			break;
		case 'r':
			rounds = (unsigned)atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: dispatch_cost [-t TYPE] [-b BATCH] [-r ROUNDS]\n");
			return 2;
		}
	}
	if (!batch || dest_make(type, &conf, &dest))
		return 1;
	if (batch > dest.adapter->max_events)
		batch = dest.adapter->max_events;
	lines = calloc(batch, 512);
	els = calloc(batch, sizeof(*els));
	items = calloc(batch, sizeof(*items));
	if (!lines || !els || !items)
		return 1;
	for (unsigned i = 0; i < batch; i++) {
		char *l = lines + (size_t)i * 512;
		int n = snprintf(
		    l, 512,
		    "{\"v\":1,\"event_id\":\"b-%u\",\"event\":\"Purchase\",\"ts\":1796482836801,"
		    "\"received_at\":1796482836801,\"source\":\"beacon\",\"tenant\":\"default\","
		    "\"host\":\"127.0.0.1:18181\",\"url\":\"https://shop.example/p\","
		    "\"ip\":\"127.0.0.1\",\"ua\":\"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) "
		    "Gecko/20100101 Firefox/128.0\",\"user\":{\"email_sha256\":"
		    "\"834766578815c94aab5692b31ccde3491d1dcda5c2e1d5e71b351582032258f6\"},"
		    "\"click\":{\"fbp\":\"fb.1.1.2\"},\"props\":{\"value\":9.5,\"currency\":"
		    "\"USD\",\"order_id\":\"o%u\"}}\n",
		    i, i);

		items[i] =
		    (struct pxd_batch_item){ .line = l, .len = (size_t)n - 1, .el = &els[i] };
	}
	memset(&req, 0, sizeof(req));
	t0 = ns_of(CLOCK_MONOTONIC);
	c0 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	for (unsigned r = 0; r < rounds; r++) {
		struct pxd_batch b = { items, 0 };
		char why[192];

		/* Per event, what routing does (dispatcher.c, dispatch_http.c). */
		for (unsigned i = 0; i < batch; i++) {
			struct pxd_sv name = pxd_dispatcher_event_name(items[i].line, items[i].len);
			struct pxd_event_line *el = &els[i];

			if (!pxd_dest_wants(&dest, name.p, name.n, PXD_SV_NULL) ||
			    pxd_event_line_read(el, items[i].line, items[i].len) ||
			    pxd_consent_check_line(el, dest.adapter->flags) !=
				PXD_CONSENT_VERDICT_ALLOWED ||
			    !pxd_dest_takes_line(&dest, el) ||
			    dest.adapter->validate_line(&dest, el, why, sizeof(why)) !=
				PXD_DELIVERY_OK) {
				fprintf(stderr, "dispatch_cost: event %u not taken: %s\n", i, why);
				return 1;
			}
			items[b.n++] = items[i];
		}
		req.body.len = 0;
		req.nheaders = 0;
		if (dest.adapter->build(&dest, &b, &req)) {
			fprintf(stderr, "dispatch_cost: build failed\n");
			return 1;
		}
		kept += req.body.len;
	}
	t1 = ns_of(CLOCK_MONOTONIC);
	c1 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	printf("%s batch %u x %u rounds: %.0f ns/event wall, %.0f ns/event CPU, %.0f body "
	       "bytes/event\n",
	       type, batch, rounds, (t1 - t0) / ((double)batch * rounds),
	       (c1 - c0) / ((double)batch * rounds), (double)kept / ((double)batch * rounds));
	dest.adapter->fini(&dest);
	pxd_buf_free(&req.body);
	free(lines);
	free(els);
	free(items);
	return 0;
}
