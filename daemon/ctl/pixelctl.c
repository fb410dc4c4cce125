// SPDX-License-Identifier: MIT
/*
 * pixelctl: the operator's command line. It reads the same configuration as
 * pixeld to find the admin listener (and the data directory), then runs one
 * command.
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_client.h"
#include "conf.h"
#include "pixelctl_journal.h"
#include "pixelctl_nats.h"
#include "pixelctl_dlq.h"
#include "pixelctl_pixel.h"
#include "pixelctl_reload.h"
#include "pixelctl_tail.h"
#include "pixelctl_top.h"
#include "pixelctl_tls.h"
#include "pixelctl_usage.h"
#include "pixelctl_xdp.h"
#include "version.h"

static const char usage[] =
    "usage: pixelctl [-c FILE] COMMAND [ARGS]\n"
    "\n"
    "  -c FILE            pixeld's configuration (default: the embedded one)\n"
    "\n"
    "Commands:\n"
    "  status [--json]    uptime, connections, events accepted/rejected, backlog per\n"
    "                     destination of the running pixeld\n"
    "  journal status [--json]  segments, bytes, watermarks and backlog per destination\n"
    "  journal verify [--json]  check every journal record; exit 1 when corrupt\n"
    "  journal drop DEST  a destination a reload removed gives up its backlog\n"
    "  dlq list [--dest D] [--since T]    dead letters (read from data_dir/dlq)\n"
    "  dlq show ID                        one dead letter, with its event\n"
    "  dlq replay [--dest D] [--since T]  send dead letters again (via the running pixeld)\n"
    "  nats status [--json]  JetStream stream and consumers: pending, redelivered, lag\n"
    "  tail [--tenant T] [--event E] [--json] [--count N]  follow the accepted events\n"
    "  top [-n FRAMES]    rates per endpoint, tenant and destination, each second\n"
    "  reload [--json]    load the configuration file again in the running pixeld\n"
    "                     (exit 1 and the file:line when it is refused)\n"
    "  tls status [--json] the certificates pixeld serves: subject, names, expiry, days\n"
    "                     left (exit 1 when one has expired)\n"
    "  usage [--tenant T] [--since YYYY-MM-DD] [--json]  per-day totals per tenant:\n"
    "                     events accepted/refused, bytes, cookies set/extended/restored\n"
    "  pixel sign ...     mint an email open-pixel URL (or --csv FILE: one per row)\n"
    "  pixel verify URL   check a pixel URL or token and print its fields\n"
    "  version            print the version\n"
    "  help               this text\n";

struct command {
	const char *name;
	int (*run)(int argc, char **argv, const struct pxd_conf *conf);
	bool needs_conf;
};

static int print_status(json_t *st)
{
	json_t *dests = json_object_get(st, "destinations");
	size_t i;
	json_t *dst;

	printf("pixeld %s, up %llds, %lld ingest threads, %lld dispatchers\n",
	       json_string_value(json_object_get(st, "version")),
	       json_integer_value(json_object_get(st, "uptime_s")),
	       json_integer_value(json_object_get(st, "ingest_threads")),
	       json_integer_value(json_object_get(st, "dispatchers")));
	printf("connections %lld, requests %lld, events accepted %lld, rejected %lld\n",
	       json_integer_value(json_object_get(st, "connections")),
	       json_integer_value(json_object_get(st, "requests")),
	       json_integer_value(json_object_get(st, "events_accepted")),
	       json_integer_value(json_object_get(st, "events_rejected")));
	printf("%-20s %-10s %12s %10s %10s %12s\n", "DESTINATION", "TYPE", "DELIVERED", "FAILED",
	       "BACKLOG", "OLDEST(ms)");
	json_array_foreach(dests, i, dst)
	{
		printf("%-20s %-10s %12lld %10lld %10lld %12lld\n",
		       json_string_value(json_object_get(dst, "name")),
		       json_string_value(json_object_get(dst, "type")),
		       json_integer_value(json_object_get(dst, "delivered")),
		       json_integer_value(json_object_get(dst, "failed")),
		       json_integer_value(json_object_get(dst, "backlog")),
		       json_integer_value(json_object_get(dst, "oldest_pending_ms")));
	}
	return 0;
}

static int cmd_status(int argc, char **argv, const struct pxd_conf *conf)
{
	bool as_json = argc > 1 && strcmp(argv[1], "--json") == 0;
	json_t *st;
	int rc;

	if (pxd_admin_get_json(conf, "/admin/status", "status", as_json, &st))
		return 1;
	if (!st)
		return 0; /* --json: printed as it came */
	rc = print_status(st);
	json_decref(st);
	return rc;
}

static int cmd_version(int argc, char **argv, const struct pxd_conf *conf)
{
	(void)argc;
	(void)argv;
	(void)conf;
	printf("pixelctl %s\n", PXD_VERSION);
	return 0;
}

static int cmd_help(int argc, char **argv, const struct pxd_conf *conf)
{
	(void)argc;
	(void)argv;
	(void)conf;
	fputs(usage, stdout);
	return 0;
}

static const struct command commands[] = {
	{ "status", cmd_status, true },
	{ "pixel", pxd_pixelctl_pixel_main, true },
	{ "journal", pxd_pixelctl_journal_main, true },
	{ "dlq", pxd_pixelctl_dlq_main, true },
	{ "nats", pxd_pixelctl_nats_main, true },
	{ "tail", pxd_pixelctl_tail_main, true },
	{ "top", pxd_pixelctl_top_main, true },
	{ "tls", pxd_pixelctl_tls_main, true },
	{ "usage", pxd_pixelctl_usage_main, true },
	{ "reload", pxd_pixelctl_reload_main, true },
	{ "version", cmd_version, false },
	{ "help", cmd_help, false },
	{ "--help", cmd_help, false },
	{ "-h", cmd_help, false },
};

int main(int argc, char **argv)
{
	static struct pxd_conf conf;
	const char *config = NULL;
	char err[1024];
	int i = 1;

	if (i + 1 < argc && strcmp(argv[i], "-c") == 0) {
		config = argv[i + 1];
		i += 2;
	}
	if (i >= argc) {
		fputs(usage, stderr);
		return 2;
	}
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
		if (strcmp(commands[k].name, argv[i]) != 0)
			continue;
		if (commands[k].needs_conf &&
		    pxd_conf_load(config, NULL, &conf, err, sizeof(err))) {
			fprintf(stderr, "pixelctl: %s\n%s", err,
				commands[k].run == pxd_pixelctl_reload_main
				    ? "not reloaded: pixeld keeps its running configuration\n"
				    : "");
			return 1;
		}
		return commands[k].run(argc - i, argv + i, &conf);
	}
	if (pxd_pixelctl_xdp_handles(argv[i])) {
		if (pxd_conf_load(config, NULL, &conf, err, sizeof(err))) {
			fprintf(stderr, "pixelctl: %s\n", err);
			return 1;
		}
		return pxd_pixelctl_xdp_main(argc - i, argv + i, &conf);
	}
	fprintf(stderr, "pixelctl: unknown command \"%s\"\n%s", argv[i], usage);
	return 2;
}
