// SPDX-License-Identifier: MIT
/*
 * usage_table.c - the per-day usage table (usage.h): adding to it, its file
 * format and its JSON. The file is text, one row a line after a header:
 *   # pixeld usage v1: day tenant accepted refused bytes cookies_set ...
 *   2026-12-04<TAB>shop<TAB>120<TAB>3<TAB>48211<TAB>40<TAB>12<TAB>7
 * Shared by the daemon and pixelctl; no thread of its own.
 */
#include "daemon/tenant/usage.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compiler.h"

const char *const pxd_usage_names[PXD_USAGE_COUNT] = {
	[PXD_USAGE_ACCEPTED] = "accepted",
	[PXD_USAGE_REFUSED] = "refused",
	[PXD_USAGE_BYTES] = "bytes",
	[PXD_USAGE_COOKIES_SET] = "cookies_set",
	[PXD_USAGE_COOKIES_EXTENDED] = "cookies_extended",
	[PXD_USAGE_COOKIES_RESTORED] = "cookies_restored",
};

static int row_cmp(int32_t day, const char *tenant, const struct pxd_usage_row *r)
{
	if (day != r->day)
		return day < r->day ? -1 : 1;
	return strcmp(tenant, r->tenant);
}

int pxd_usage_table_add(struct pxd_usage_table *t, int32_t day, const char *tenant,
			const uint64_t n[PXD_USAGE_COUNT])
{
	size_t i = t->n;
	struct pxd_usage_row *r;

	/* Rows are appended in day order, so the match is near the end. */
	while (i > 0 && row_cmp(day, tenant, &t->rows[i - 1]) < 0)
		i--;
	if (i > 0 && row_cmp(day, tenant, &t->rows[i - 1]) == 0) {
		r = &t->rows[i - 1];
	} else {
		if (strlen(tenant) >= sizeof(r->tenant))
			return -EINVAL;
		if (t->n == t->cap) {
			size_t cap = t->cap ? 2 * t->cap : 64;
			struct pxd_usage_row *rows = realloc(t->rows, cap * sizeof(*rows));

			if (!rows)
				return -ENOMEM;
			t->rows = rows;
			t->cap = cap;
		}
		memmove(&t->rows[i + 1], &t->rows[i], (t->n - i) * sizeof(*r));
		t->n++;
		r = &t->rows[i];
		memset(r, 0, sizeof(*r));
		r->day = day;
		memcpy(r->tenant, tenant, strlen(tenant) + 1);
	}
	for (unsigned k = 0; k < PXD_USAGE_COUNT; k++)
		r->n[k] += n[k];
	return 0;
}

void pxd_usage_day_text(int32_t day, char out[11])
{
	time_t s = (time_t)day * 86400;
	struct tm tm;

	if (!gmtime_r(&s, &tm) || strftime(out, 11, "%Y-%m-%d", &tm) != 10)
		snprintf(out, 11, "?");
}

int pxd_usage_day_parse(const char *s, int32_t *day)
{
	struct tm tm = { 0 };
	char text[11];
	int n = 0;

	if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3 ||
	    s[n] != '\0' || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31)
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon--;
	*day = (int32_t)(timegm(&tm) / 86400);
	pxd_usage_day_text(*day, text);
	return strcmp(text, s) == 0 ? 0 : -EINVAL; /* 2026-02-30 normalises to March */
}

/* Parses one data line "DAY\tTENANT\tN..." into <t>. */
static int load_line(struct pxd_usage_table *t, char *line)
{
	uint64_t n[PXD_USAGE_COUNT];
	char *save = NULL;
	char *day_s = strtok_r(line, "\t", &save);
	char *tenant = strtok_r(NULL, "\t", &save);
	int32_t day;

	if (!day_s || !tenant || pxd_usage_day_parse(day_s, &day))
		return -EINVAL;
	for (unsigned k = 0; k < PXD_USAGE_COUNT; k++) {
		char *f = strtok_r(NULL, "\t", &save);
		char *end;

		if (!f || f[0] < '0' || f[0] > '9')
			return -EINVAL;
		errno = 0;
		n[k] = strtoull(f, &end, 10);
		if (*end || errno)
			return -EINVAL;
	}
	if (strtok_r(NULL, "\t", &save))
		return -EINVAL;
	return pxd_usage_table_add(t, day, tenant, n);
}

int pxd_usage_table_load(struct pxd_usage_table *t, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char line[512];
	int lineno = 0;
	int rc = 0;

	if (!f)
		return -errno;
	while (!rc && fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);

		lineno++;
		if (!len || line[len - 1] != '\n') {
			rc = -EINVAL; /* cut short, or longer than any row */
			break;
		}
		line[len - 1] = '\0';
		if (lineno == 1) {
			if (strncmp(line, "# pixeld usage v1:", 18) != 0)
				rc = -EINVAL;
			continue;
		}
		rc = load_line(t, line);
	}
	if (!rc && ferror(f))
		rc = -EIO;
	else if (!rc && lineno == 0)
		rc = -EINVAL;
	fclose(f);
	if (rc == -EINVAL)
		snprintf(err, errlen, "%s:%d: not a pixeld usage line", path, lineno);
	else if (rc)
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	return rc;
}

int pxd_usage_table_text(const struct pxd_usage_table *t, struct pxd_buf *out)
{
	int rc = pxd_buf_puts(out, "# pixeld usage v1: day tenant");

	for (unsigned k = 0; !rc && k < PXD_USAGE_COUNT; k++)
		rc = pxd_buf_printf(out, " %s", pxd_usage_names[k]);
	if (!rc)
		rc = pxd_buf_puts(out, "\n");
	for (size_t i = 0; !rc && i < t->n; i++) {
		const struct pxd_usage_row *r = &t->rows[i];
		char day[11];

		pxd_usage_day_text(r->day, day);
		rc = pxd_buf_printf(out, "%s\t%s", day, r->tenant);
		for (unsigned k = 0; !rc && k < PXD_USAGE_COUNT; k++)
			rc = pxd_buf_printf(out, "\t%" PRIu64, r->n[k]);
		if (!rc)
			rc = pxd_buf_puts(out, "\n");
	}
	return rc;
}

int pxd_usage_table_json(const struct pxd_usage_table *t, struct pxd_buf *out)
{
	int rc = pxd_buf_puts(out, "{\"days\":[");

	for (size_t i = 0; !rc && i < t->n; i++) {
		const struct pxd_usage_row *r = &t->rows[i];
		char day[11];

		pxd_usage_day_text(r->day, day);
		rc = pxd_buf_printf(out, "%s{\"day\":\"%s\",\"tenant\":\"%s\"", i ? "," : "", day,
				    r->tenant);
		for (unsigned k = 0; !rc && k < PXD_USAGE_COUNT; k++)
			rc = pxd_buf_printf(out, ",\"%s\":%" PRIu64, pxd_usage_names[k], r->n[k]);
		if (!rc)
			rc = pxd_buf_puts(out, "}");
	}
	return rc ? rc : pxd_buf_puts(out, "]}");
}

void pxd_usage_table_free(struct pxd_usage_table *t)
{
	free(t->rows);
	memset(t, 0, sizeof(*t));
}
