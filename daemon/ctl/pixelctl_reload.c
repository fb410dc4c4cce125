// SPDX-License-Identifier: MIT
/*
 * pixelctl_reload.c - `pixelctl reload` (pixelctl_reload.h). pixelctl reads
 * the same file to find the admin listener, so a file it cannot parse is
 * reported by pixelctl itself (main) and never sent; everything else pixeld
 * decides and explains. pixelctl's only thread.
 */
#include "pixelctl_reload.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "admin_client.h"
#include "compiler.h"

/* Prints pixeld's refusal in <out> (its detail, else the raw answer). */
static void refused(const char *what, long status, const struct pxd_buf *out, const json_t *answer)
{
	const char *detail = json_string_value(json_object_get(answer, "detail"));

	if (detail)
		fprintf(stderr, "pixelctl %s: refused: %s\n", what, detail);
	else
		fprintf(stderr, "pixelctl %s: pixeld answered HTTP %ld: %.*s\n", what, status,
			(int)PXD_MIN(out->len, 512), out->p ? out->p : "");
}

int pxd_pixelctl_reload_main(int argc, char **argv, const struct pxd_conf *conf)
{
	bool as_json = argc > 1 && strcmp(argv[1], "--json") == 0;
	struct pxd_buf out = { 0 };
	json_t *answer = NULL;
	char err[512];
	long status = 0;
	int ret = 1;

	if (argc > 2 || (argc == 2 && !as_json)) {
		fprintf(stderr, "usage: pixelctl reload [--json]\n");
		return 2;
	}
	if (pxd_admin_request(conf, "POST", "/admin/reload", "", 0, &out, &status, err,
			      sizeof(err))) {
		fprintf(stderr, "pixelctl reload: %s\n", err);
		goto out;
	}
	if (as_json)
		printf("%.*s\n", (int)out.len, out.p ? out.p : "");
	answer = json_loadb(out.p ? out.p : "", out.len, 0, NULL);
	if (status == 200) {
		if (!as_json)
			printf("pixeld reloaded %s: configuration generation %lld\n", conf->path,
			       json_integer_value(json_object_get(answer, "generation")));
		ret = 0;
	} else {
		refused("reload", status, &out, answer);
		if (json_is_integer(json_object_get(answer, "generation")))
			fprintf(stderr,
				"pixeld keeps its running configuration (generation %lld)\n",
				json_integer_value(json_object_get(answer, "generation")));
	}
out:
	json_decref(answer);
	pxd_buf_free(&out);
	return ret;
}

int pxd_pixelctl_journal_drop(int argc, char **argv, const struct pxd_conf *conf)
{
	struct pxd_buf out = { 0 };
	json_t *answer = NULL;
	char body[160];
	char err[512];
	long status = 0;
	int ret = 1;
	int n;

	if (argc != 3 || strlen(argv[2]) >= PXD_CONF_NAME_MAX) {
		fprintf(stderr, "usage: pixelctl journal drop DEST\n");
		return 2;
	}
	n = snprintf(body, sizeof(body), "{\"dest\":\"%s\"}", argv[2]);
	if (pxd_admin_request(conf, "POST", "/admin/journal/drop", body, (size_t)n, &out, &status,
			      err, sizeof(err))) {
		fprintf(stderr, "pixelctl journal drop: %s\n", err);
		goto out;
	}
	answer = json_loadb(out.p ? out.p : "", out.len, 0, NULL);
	if (status == 200) {
		printf("destination %s: its journal backlog is dropped; the segments nothing else "
		       "needs go at the next watermark sync\n",
		       argv[2]);
		ret = 0;
	} else {
		refused("journal drop", status, &out, answer);
	}
out:
	json_decref(answer);
	pxd_buf_free(&out);
	return ret;
}
