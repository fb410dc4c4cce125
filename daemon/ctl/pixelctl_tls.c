// SPDX-License-Identifier: MIT
#include "pixelctl_tls.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin_client.h"
#include "buf.h"

static void date_text(json_int_t unix_s, char *buf, size_t len)
{
	time_t t = (time_t)unix_s;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm))
		snprintf(buf, len, "?");
}

/* Returns 1 when a certificate in use has expired (the operator must act), else 0. */
static int print_certs(json_t *st)
{
	json_t *certs = json_object_get(st, "certificates");
	int expired = 0;
	size_t i;
	json_t *c;

	if (!json_is_true(json_object_get(st, "enabled"))) {
		printf("TLS is off (no server.tls_listen)\n");
		return 0;
	}
	printf("%-16s %-30s %-36s %-21s %9s\n", "NAME", "SUBJECT", "NAMES", "NOT AFTER",
	       "DAYS LEFT");
	json_array_foreach(certs, i, c)
	{
		json_int_t days = json_integer_value(json_object_get(c, "days_left"));
		char when[32];

		date_text(json_integer_value(json_object_get(c, "not_after")), when, sizeof(when));
		printf("%-16s %-30s %-36s %-21s %9lld%s\n",
		       json_string_value(json_object_get(c, "name")),
		       json_string_value(json_object_get(c, "subject")),
		       json_string_value(json_object_get(c, "names")), when, (long long)days,
		       json_is_true(json_object_get(c, "default")) ? "  (default)" : "");
		if (json_integer_value(json_object_get(c, "not_after")) < (json_int_t)time(NULL))
			expired = 1;
	}
	return expired;
}

static int cmd_status(const struct pxd_conf *conf, bool as_json)
{
	json_t *st;
	int rc;

	if (pxd_admin_get_json(conf, "/admin/tls", "tls status", as_json, &st))
		return 1;
	if (!st)
		return 0; /* --json: printed as it came */
	rc = print_certs(st);
	json_decref(st);
	return rc;
}

int pxd_pixelctl_tls_main(int argc, char **argv, const struct pxd_conf *conf)
{
	if (argc >= 2 && strcmp(argv[1], "status") == 0 &&
	    (argc == 2 || (argc == 3 && strcmp(argv[2], "--json") == 0)))
		return cmd_status(conf, argc == 3);
	fprintf(stderr, "usage: pixelctl tls status [--json]\n");
	return 2;
}
