// SPDX-License-Identifier: MIT
/*
 * `pixelctl dlq list|show|replay`: reads the dead-letter files directly for
 * list and show, and asks the running daemon to replay. pixelctl's only
 * thread.
 */
#include "pixelctl_dlq.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_client.h"
#include "buf.h"
#include "compiler.h"
#include "daemon.h"
#include "dlq.h"

#define REASON_COLUMN 60

static const char usage[] =
    "usage: pixelctl dlq list [--dest D] [--since T]\n"
    "       pixelctl dlq show ID\n"
    "       pixelctl dlq replay [--dest D] [--since T]\n"
    "\n"
    "Dead letters are events a destination refused for good or that ran out of\n"
    "retries, kept in <data_dir>/dlq/<dest>.jsonl. list and show read them there;\n"
    "replay asks the running pixeld to send those not replayed before again, with\n"
    "their original event ids. T is RFC 3339 (2024-11-22T18:00:00Z) or a duration\n"
    "back from now (90s, 30m, 1h, 7d).\n";

struct opts {
	const char *dest;
	const char *since_text;
	int64_t since_ms;
};

/* Reads --dest and --since (also as --opt=value). Returns 0 or 2 (usage). */
static int parse_opts(int argc, char **argv, const char *cmd, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = strncmp(a, "--dest", 6) == 0    ? &o->dest
				    : strncmp(a, "--since", 7) == 0 ? &o->since_text
								    : NULL;
		const char *eq = strchr(a, '=');
		size_t name_len = slot == &o->dest ? 6 : 7;

		if (!slot || (a[name_len] && a[name_len] != '=')) {
			fprintf(stderr, "pixelctl dlq %s: unknown argument \"%s\"\n%s", cmd, a,
				usage);
			return 2;
		}
		if (eq) {
			*slot = eq + 1;
		} else if (i + 1 < argc) {
			*slot = argv[++i];
		} else {
			fprintf(stderr, "pixelctl dlq %s: %s needs a value\n", cmd, a);
			return 2;
		}
	}
	if (o->since_text && pxd_dlq_time_parse(o->since_text, pxd_now_ms(), &o->since_ms)) {
		fprintf(stderr,
			"pixelctl dlq %s: --since: \"%s\" is not a time; write RFC 3339 "
			"(2024-11-22T18:00:00Z) or a duration back from now (1h, 30m, 7d)\n",
			cmd, o->since_text);
		return 2;
	}
	return 0;
}

struct list_ctx {
	size_t n;
	size_t replayed;
};

static int print_row(void *arg, const struct pxd_dlq_record *r)
{
	struct list_ctx *c = arg;
	int reason_len = (int)strlen(r->reason);

	if (!c->n++)
		printf("%-36s  %-24s  %-20s  %8s  %6s  %-36s  %s\n", "ID", "TIME", "DEST",
		       "ATTEMPTS", "STATUS", "EVENT_ID", "REASON");
	printf("%-36s  %-24s  %-20s  %8u  %6ld  %-36s  %.*s%s%s\n", r->id, r->time, r->dest,
	       r->attempts, r->status, r->event_id,
	       reason_len > REASON_COLUMN ? REASON_COLUMN : reason_len, r->reason,
	       reason_len > REASON_COLUMN ? "..." : "", r->replayed ? "  (replayed)" : "");
	c->replayed += r->replayed;
	return 0;
}

static void warn_bad_lines(size_t bad, const struct pxd_conf *conf)
{
	if (bad)
		fprintf(stderr, "pixelctl dlq: skipped %zu unreadable lines in %s/dlq\n", bad,
			conf->data_dir);
}

static int cmd_list(int argc, char **argv, const struct pxd_conf *conf)
{
	struct opts o = { 0 };
	struct pxd_dlq_filter f;
	struct list_ctx c = { 0 };
	char err[512];
	size_t bad = 0;
	int rc = parse_opts(argc, argv, "list", &o);

	if (rc)
		return rc;
	f = (struct pxd_dlq_filter){ .dest = o.dest, .since_ms = o.since_ms };
	rc = pxd_dlq_scan(conf->data_dir, &f, print_row, &c, &bad, err, sizeof(err));
	warn_bad_lines(bad, conf);
	if (rc) {
		fprintf(stderr, "pixelctl dlq list: %s\n", err);
		return rc == -EINVAL ? 2 : 1;
	}
	printf("%zu dead letters, %zu of them replayed\n", c.n, c.replayed);
	return 0;
}

static int print_entry(void *arg, const struct pxd_dlq_record *r)
{
	json_t *entry = json_loadb(r->line, r->line_len, 0, NULL);
	const json_t *resp = json_object_get(entry, "response");

	printf("id:        %s\ntime:      %s\ndest:      %s\nevent_id:  %s\nstatus:    %ld\n"
	       "attempts:  %u\nreason:    %s\nresponse:  %s\nreplayed:  %s\nevent:     %.*s\n",
	       r->id, r->time, r->dest, r->event_id, r->status, r->attempts, r->reason,
	       json_is_string(resp) ? json_string_value(resp) : "(none)",
	       r->replayed ? "yes" : "no", (int)r->event_len, r->event);
	json_decref(entry);
	*(bool *)arg = true;
	return 1; /* ids are unique: stop here */
}

static int cmd_show(int argc, char **argv, const struct pxd_conf *conf)
{
	struct pxd_dlq_filter f = { 0 };
	bool found = false;
	char err[512];
	size_t bad = 0;
	int rc;

	if (argc != 2 || strlen(argv[1]) != PXD_DLQ_ID_LEN) {
		fputs(argc == 2 ? "pixelctl dlq show: an ID is 36 characters, as dlq list "
				  "prints it\n"
				: usage,
		      stderr);
		return 2;
	}
	f.id = argv[1];
	rc = pxd_dlq_scan(conf->data_dir, &f, print_entry, &found, &bad, err, sizeof(err));
	warn_bad_lines(bad, conf);
	if (rc < 0) {
		fprintf(stderr, "pixelctl dlq show: %s\n", err);
		return 1;
	}
	if (!found) {
		fprintf(stderr, "pixelctl dlq show: no dead letter %s in %s/dlq\n", argv[1],
			conf->data_dir);
		return 1;
	}
	return 0;
}

static int cmd_replay(int argc, char **argv, const struct pxd_conf *conf)
{
	char since[PXD_DLQ_TIME_LEN + 1];
	struct pxd_buf out = { 0 };
	struct opts o = { 0 };
	json_t *body = json_object();
	json_t *answer = NULL;
	char *text = NULL;
	char err[512];
	long status = 0;
	int ret = 1;
	int rc = parse_opts(argc, argv, "replay", &o);

	if (rc) {
		ret = rc;
		goto out;
	}
	if (!body)
		goto out;
	if (o.dest)
		json_object_set_new(body, "dest", json_string(o.dest));
	if (o.since_text) {
		pxd_dlq_time_format(o.since_ms, since);
		json_object_set_new(body, "since", json_string(since));
	}
	text = json_dumps(body, JSON_COMPACT);
	if (!text)
		goto out;
	rc = pxd_admin_request(conf, "POST", "/admin/dlq/replay", text, strlen(text), &out, &status,
			       err, sizeof(err));
	if (rc) {
		fprintf(stderr, "pixelctl dlq replay: %s\n", err);
		goto out;
	}
	answer = json_loadb(out.p ? out.p : "", out.len, 0, NULL);
	if (status != 200 || !json_is_integer(json_object_get(answer, "replayed"))) {
		fprintf(stderr, "pixelctl dlq replay: pixeld answered HTTP %ld: %.*s\n", status,
			(int)PXD_MIN(out.len, 512), out.p ? out.p : "");
		goto out;
	}
	printf("replayed %lld dead letters (%lld selected were replayed before)\n",
	       json_integer_value(json_object_get(answer, "replayed")),
	       json_integer_value(json_object_get(answer, "skipped")));
	ret = 0;
out:
	json_decref(answer);
	json_decref(body);
	free(text);
	pxd_buf_free(&out);
	return ret;
}

int pxd_pixelctl_dlq_main(int argc, char **argv, const struct pxd_conf *conf)
{
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv, const struct pxd_conf *conf);
	} cmds[] = { { "list", cmd_list }, { "show", cmd_show }, { "replay", cmd_replay } };
	bool help = argc >= 2 && strcmp(argv[1], "help") == 0;

	for (size_t i = 0; argc >= 2 && i < ARRAY_SIZE(cmds); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].run(argc - 1, argv + 1, conf);
	fputs(usage, help ? stdout : stderr);
	return help ? 0 : 2;
}
