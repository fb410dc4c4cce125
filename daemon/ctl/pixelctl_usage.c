// SPDX-License-Identifier: MIT
/* pixelctl_usage.c - `pixelctl usage` (pixelctl_usage.h). */
#include "pixelctl_usage.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "admin_client.h"
#include "daemon/tenant/usage.h"

static const char usage_text[] =
    "usage: pixelctl usage [--tenant T] [--since YYYY-MM-DD] [--json]\n";

/* Fills <t> from the running pixeld's answer. */
static int from_daemon(const struct pxd_buf *body, struct pxd_usage_table *t)
{
	json_t *doc = json_loadb(body->p, body->len, 0, NULL);
	json_t *days = json_object_get(doc, "days");
	int rc = json_is_array(days) ? 0 : -EINVAL;
	size_t i;
	json_t *r;

	json_array_foreach(days, i, r)
	{
		const char *tenant = json_string_value(json_object_get(r, "tenant"));
		const char *day_s = json_string_value(json_object_get(r, "day"));
		uint64_t n[PXD_USAGE_COUNT];
		int32_t day;

		if (rc || !tenant || !day_s || pxd_usage_day_parse(day_s, &day)) {
			rc = -EINVAL;
			break;
		}
		for (unsigned k = 0; k < PXD_USAGE_COUNT; k++)
			n[k] = (uint64_t)json_integer_value(json_object_get(r, pxd_usage_names[k]));
		rc = pxd_usage_table_add(t, day, tenant, n);
	}
	json_decref(doc);
	return rc;
}

/* Fills <t> from pixeld if it runs, else from its file. Returns 0 or prints why not and 1. */
static int read_usage(const struct pxd_conf *conf, struct pxd_usage_table *t)
{
	struct pxd_buf body = { 0 };
	char path[sizeof(conf->data_dir) + sizeof(PXD_USAGE_FILE) + 1];
	char err[4200];
	long status = 0;
	int rc = pxd_admin_request(conf, "GET", "/admin/usage", NULL, 0, &body, &status, err,
				   sizeof(err));

	if (!rc && status == 200) {
		rc = from_daemon(&body, t);
		if (rc)
			fprintf(stderr, "pixelctl: usage: unreadable answer from pixeld\n");
		pxd_buf_free(&body);
		return rc ? 1 : 0;
	}
	if (!rc) {
		fprintf(stderr, "pixelctl: usage: HTTP %ld: %.*s\n", status, (int)body.len,
			body.p ? body.p : "");
		pxd_buf_free(&body);
		return 1;
	}
	pxd_buf_free(&body);
	if (rc != -ECONNREFUSED) {
		fprintf(stderr, "pixelctl: %s\n", err);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s", conf->data_dir, PXD_USAGE_FILE);
	rc = pxd_usage_table_load(t, path, err, sizeof(err));
	if (rc == -ENOENT)
		return 0; /* nothing counted yet */
	if (rc) {
		fprintf(stderr, "pixelctl: usage: %s\n", err);
		return 1;
	}
	fprintf(stderr, "pixelctl: pixeld is not running: usage as of its last save to %s\n", path);
	return 0;
}

static void print_row(const char *day, const char *tenant, const uint64_t n[PXD_USAGE_COUNT])
{
	printf("%-10s  %-20s %12" PRIu64 " %10" PRIu64 " %14" PRIu64 " %11" PRIu64 " %9" PRIu64
	       " %9" PRIu64 "\n",
	       day, tenant, n[PXD_USAGE_ACCEPTED], n[PXD_USAGE_REFUSED], n[PXD_USAGE_BYTES],
	       n[PXD_USAGE_COOKIES_SET], n[PXD_USAGE_COOKIES_EXTENDED],
	       n[PXD_USAGE_COOKIES_RESTORED]);
}

static int print_table(const struct pxd_usage_table *t, bool as_json)
{
	uint64_t total[PXD_USAGE_COUNT] = { 0 };
	struct pxd_buf out = { 0 };

	if (as_json) {
		int rc = pxd_usage_table_json(t, &out);

		if (!rc)
			printf("%.*s\n", (int)out.len, out.p);
		pxd_buf_free(&out);
		return rc ? 1 : 0;
	}
	printf("%-10s  %-20s %12s %10s %14s %11s %9s %9s\n", "DAY", "TENANT", "ACCEPTED", "REFUSED",
	       "BYTES", "COOKIES_SET", "EXTENDED", "RESTORED");
	for (size_t i = 0; i < t->n; i++) {
		char day[11];

		pxd_usage_day_text(t->rows[i].day, day);
		print_row(day, t->rows[i].tenant, t->rows[i].n);
		for (unsigned k = 0; k < PXD_USAGE_COUNT; k++)
			total[k] += t->rows[i].n[k];
	}
	print_row("total", "", total);
	return 0;
}

int pxd_pixelctl_usage_main(int argc, char **argv, const struct pxd_conf *conf)
{
	struct pxd_usage_table all = { 0 }, shown = { 0 };
	const char *tenant = NULL;
	int32_t since = INT32_MIN;
	bool as_json = false;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--tenant") == 0 && i + 1 < argc) {
			tenant = argv[++i];
		} else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
			if (pxd_usage_day_parse(argv[++i], &since)) {
				fprintf(stderr,
					"pixelctl: usage: --since %s: write a UTC day as "
					"YYYY-MM-DD, e.g. 2026-12-01\n",
					argv[i]);
				return 2;
			}
		} else if (strcmp(argv[i], "--json") == 0) {
			as_json = true;
		} else {
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (!conf->tenants.n) {
		fprintf(stderr,
			"pixelctl: usage is counted per [tenant] section, and %s has none\n",
			conf->path);
		return 1;
	}
	if (read_usage(conf, &all))
		return 1;
	for (size_t i = 0; !rc && i < all.n; i++)
		if (all.rows[i].day >= since &&
		    (!tenant || strcmp(tenant, all.rows[i].tenant) == 0))
			rc = pxd_usage_table_add(&shown, all.rows[i].day, all.rows[i].tenant,
						 all.rows[i].n);
	rc = rc ? 1 : print_table(&shown, as_json);
	pxd_usage_table_free(&all);
	pxd_usage_table_free(&shown);
	return rc;
}
