// SPDX-License-Identifier: MIT
/*
 * `pixelctl pixel sign|verify`: mints pixel URLs from arguments or a CSV
 * file (one per row, errors by line) and decodes a token for a person to
 * read, with the [email] keys. pixelctl's only thread.
 */
#include "pixelctl_pixel.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "conf_value.h"
#include "email_token.h"

#define CSV_MAX_COLS (4 + PXD_EMAIL_META_MAX) /* campaign, message, recipient, ttl, meta... */

static const char usage[] =
    "usage: pixelctl pixel sign --campaign C --message M --recipient R [--ttl 400d]\n"
    "                           [--meta k=v]... [--tenant T] [--base-url URL] [--html]\n"
    "       pixelctl pixel sign --csv FILE [--base-url URL] [--html]\n"
    "       pixelctl pixel verify URL|TOKEN\n"
    "\n"
    "sign prints <base-url>/o/<token>.gif (or an <img> tag with --html) signed with\n"
    "the first key of email.keys. The CSV has a header row: campaign,message,recipient,\n"
    "then optionally ttl, then one column per metadata key; it prints one URL per row,\n"
    "in order, and nothing at all if any row is wrong. verify checks a URL or token and\n"
    "prints its fields; it exits 1 when the token is not valid.\n";

/* What `sign` was asked for, common to its two forms. */
struct sign_opts {
	struct pxd_email_keys ring;
	struct pxd_email_claims c; /* one pixel; the CSV fills its own per row */
	const char *csv;
	const char *ttl;
	bool html;
	char base_url[PXD_CONF_EMAIL_BASE_URL_MAX + 1];
	uint32_t default_ttl_s;
	uint32_t now_s;
};

static int ttl_parse(const char *s, uint32_t now_s, uint32_t *expires)
{
	uint64_t ttl;

	if (pxd_conf_value_duration_s(s, &ttl) || ttl == 0 || ttl > PXD_EMAIL_TTL_MAX_S ||
	    (uint64_t)now_s + ttl > UINT32_MAX)
		return -EINVAL;
	*expires = now_s + ttl;
	return 0;
}

/* Reports a value a rule refused, as "<where>: <field>: <rule>". */
static int refuse(const char *where, enum pxd_email_field f)
{
	fprintf(stderr, "pixelctl pixel sign: %s%s%s must be %s\n", where, where[0] ? ": " : "",
		pxd_email_field_name(f), pxd_email_field_rule(f));
	return 1;
}

/*
 * Splits the next CSV record (RFC 4180: quoted fields, "" for a quote,
 * CRLF or LF) off <*p>, unquoting in place. Returns the field count, 0 at
 * the end, or -EINVAL for a stray quote or more than <max> fields. <line>
 * counts the lines consumed.
 */
static int csv_record(char **p, char *end, struct pxd_sv *f, int max, unsigned *line)
{
	char *r = *p;
	int n = 0;

	if (r == end)
		return 0;
	for (;;) {
		char *w = r;
		char *start = w;

		if (n == max)
			return -EINVAL;
		if (r < end && *r == '"') {
			for (r++;; r++) {
				if (r == end)
					return -EINVAL;
				if (*r == '"' && r + 1 < end && r[1] == '"')
					r++;
				else if (*r == '"')
					break;
				if (*r == '\n')
					(*line)++;
				*w++ = *r;
			}
			r++;
			if (r < end && *r != ',' && *r != '\n' && *r != '\r')
				return -EINVAL;
		} else {
			while (r < end && *r != ',' && *r != '\n' && *r != '\r') {
				if (*r == '"')
					return -EINVAL;
				*w++ = *r++;
			}
		}
		f[n++] = pxd_sv_make(start, (size_t)(w - start));
		if (r < end && *r == ',') {
			r++;
			continue;
		}
		if (r < end && *r == '\r')
			r++;
		if (r < end && *r == '\n')
			r++;
		(*line)++;
		*p = r;
		return n;
	}
}

static char *file_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct pxd_buf b = { 0 };
	char chunk[65536];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (pxd_buf_append(&b, chunk, n)) {
			pxd_buf_free(&b);
			break;
		}
	}
	if (ferror(f))
		pxd_buf_free(&b);
	fclose(f);
	if (!b.p)
		b.p = calloc(1, 1);
	*len = b.len;
	return b.p;
}

/* Mints one URL per CSV row into <out>; on a bad row says which and returns 1. */
static int sign_csv(struct sign_opts *o, struct pxd_buf *out)
{
	struct pxd_sv hdr[CSV_MAX_COLS];
	struct pxd_sv f[CSV_MAX_COLS];
	unsigned line = 0;
	unsigned at;
	size_t len = 0;
	char *text = file_read(o->csv, &len);
	char *p = text;
	int ncols;
	int nmeta0;
	int err;
	int ret = 1;

	if (!text) {
		fprintf(stderr, "pixelctl pixel sign: cannot read %s: %s\n", o->csv,
			strerror(errno));
		return 1;
	}
	ncols = csv_record(&p, text + len, hdr, CSV_MAX_COLS, &line);
	if (ncols < 3 || !pxd_sv_eq_lit(hdr[0], "campaign") || !pxd_sv_eq_lit(hdr[1], "message") ||
	    !pxd_sv_eq_lit(hdr[2], "recipient")) {
		fprintf(stderr,
			"pixelctl pixel sign: %s:1: the header must be campaign,message,recipient"
			"[,ttl][,meta key...] with at most %d columns\n",
			o->csv, CSV_MAX_COLS);
		goto out;
	}
	nmeta0 = ncols > 3 && pxd_sv_eq_lit(hdr[3], "ttl") ? 4 : 3;
	for (;;) {
		struct pxd_email_claims c = { .tenant = o->c.tenant, .issued_at = o->now_s };
		enum pxd_email_field bad = PXD_EMAIL_FIELD_NONE;
		char where[4200];
		int n;

		at = line + 1;
		n = csv_record(&p, text + len, f, CSV_MAX_COLS, &line);
		if (n == 0)
			break;
		snprintf(where, sizeof(where), "%s:%u", o->csv, at);
		if (n == 1 && f[0].n == 0)
			continue;
		if (n != ncols) {
			fprintf(stderr, "pixelctl pixel sign: %s: %s; the header has %d columns\n",
				where, n < 0 ? "bad quoting" : "wrong number of columns", ncols);
			goto out;
		}
		c.campaign = f[0];
		c.message = f[1];
		c.recipient = f[2];
		c.expires_at = o->now_s + o->default_ttl_s;
		if (nmeta0 == 4 && f[3].n) {
			char ttl[32];

			snprintf(ttl, sizeof(ttl), "%.*s", (int)f[3].n, f[3].p);
			if (f[3].n >= sizeof(ttl) || ttl_parse(ttl, o->now_s, &c.expires_at)) {
				ret = refuse(where, PXD_EMAIL_FIELD_TTL);
				goto out;
			}
		}
		for (int i = nmeta0; i < n; i++) {
			if (f[i].n && c.nmeta == PXD_EMAIL_META_MAX) {
				ret = refuse(where, PXD_EMAIL_FIELD_META);
				goto out;
			}
			if (f[i].n)
				c.meta[c.nmeta++] = (struct pxd_email_meta){ hdr[i], f[i] };
		}
		err = pxd_email_token_mint(&o->ring, &c, o->base_url, o->html, out, &bad);
		if (err == -EINVAL) {
			ret = refuse(where, bad);
			goto out;
		}
		if (!err)
			err = pxd_buf_append(out, "\n", 1);
		if (err) {
			fprintf(stderr, "pixelctl pixel sign: %s: %s\n", where, strerror(-err));
			goto out;
		}
	}
	ret = 0;
out:
	free(text);
	return ret;
}

static int sign_one(struct sign_opts *o, struct pxd_buf *out)
{
	enum pxd_email_field bad = PXD_EMAIL_FIELD_NONE;
	int ret;

	if (!o->c.campaign.p || !o->c.message.p || !o->c.recipient.p) {
		fprintf(stderr, "pixelctl pixel sign: give --campaign, --message and --recipient, "
				"or --csv FILE\n");
		return 2;
	}
	o->c.issued_at = o->now_s;
	o->c.expires_at = o->now_s + o->default_ttl_s;
	if (o->ttl && ttl_parse(o->ttl, o->now_s, &o->c.expires_at))
		return refuse("", PXD_EMAIL_FIELD_TTL);
	ret = pxd_email_token_mint(&o->ring, &o->c, o->base_url, o->html, out, &bad);
	if (ret == -EINVAL)
		return refuse("", bad);
	if (!ret)
		ret = pxd_buf_append(out, "\n", 1);
	if (ret) {
		fprintf(stderr, "pixelctl pixel sign: %s\n", strerror(-ret));
		return 1;
	}
	return 0;
}

/* Parses sign's options into <o>. Returns 0, or the exit status. */
static int sign_args(int argc, char **argv, const struct pxd_conf *conf, struct sign_opts *o)
{
	static const struct option longopts[] = {
		{ "campaign", required_argument, NULL, 'c' },
		{ "message", required_argument, NULL, 'm' },
		{ "recipient", required_argument, NULL, 'r' },
		{ "ttl", required_argument, NULL, 't' },
		{ "meta", required_argument, NULL, 'k' },
		{ "tenant", required_argument, NULL, 'T' },
		{ "base-url", required_argument, NULL, 'b' },
		{ "html", no_argument, NULL, 'h' },
		{ "csv", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct pxd_conf_email check;
	const char *base_url = conf->email.base_url;
	char err[600];
	int opt;

	o->c.tenant = pxd_sv_cstr(conf->email.tenant);
	o->default_ttl_s = conf->email.default_ttl_s;
	/* A fresh getopt scan: pixelctl's own options were parsed already. */
	optind = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		char *eq;

		switch (opt) {
		case 'c':
			o->c.campaign = pxd_sv_cstr(optarg);
			break;
		case 'm':
			o->c.message = pxd_sv_cstr(optarg);
			break;
		case 'r':
			o->c.recipient = pxd_sv_cstr(optarg);
			break;
		case 't':
			o->ttl = optarg;
			break;
		case 'k':
			eq = strchr(optarg, '=');
			if (!eq || o->c.nmeta == PXD_EMAIL_META_MAX)
				return refuse("--meta", PXD_EMAIL_FIELD_META);
			o->c.meta[o->c.nmeta++] =
			    (struct pxd_email_meta){ pxd_sv_make(optarg, (size_t)(eq - optarg)),
						     pxd_sv_cstr(eq + 1) };
			break;
		case 'T':
			o->c.tenant = pxd_sv_cstr(optarg);
			break;
		case 'b':
			base_url = optarg;
			break;
		case 'h':
			o->html = true;
			break;
		case 'f':
			o->csv = optarg;
			break;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind != argc || (o->csv && (o->c.campaign.p || o->c.message.p || o->c.recipient.p ||
					  o->ttl || o->c.nmeta))) {
		fputs(usage, stderr);
		return 2;
	}
	pxd_conf_email_defaults(&check);
	if (!base_url[0]) {
		fprintf(stderr,
			"pixelctl pixel sign: no base URL; set email.base_url in %s or pass "
			"--base-url https://t.example.com\n",
			conf->path);
		return 2;
	}
	if (pxd_conf_email_set(&check, "base_url", base_url, err, sizeof(err))) {
		fprintf(stderr, "pixelctl pixel sign: --base-url: %s\n", err);
		return 2;
	}
	memcpy(o->base_url, check.base_url, sizeof(o->base_url));
	return 0;
}

static int keys_load(struct pxd_email_keys *ring, const struct pxd_conf *conf)
{
	char err[4400];

	if (conf->email.nkeys == 0) {
		fprintf(stderr,
			"pixelctl pixel: no signing keys; add keys = kid:file to [email] in %s\n",
			conf->path);
		return 1;
	}
	if (pxd_email_keys_load(ring, &conf->email, err, sizeof(err))) {
		fprintf(stderr, "pixelctl pixel: %s\n", err);
		return 1;
	}
	return 0;
}

static int cmd_sign(int argc, char **argv, const struct pxd_conf *conf)
{
	struct sign_opts o = { 0 };
	struct pxd_buf out = { 0 };
	int ret;

	ret = sign_args(argc, argv, conf, &o);
	if (ret)
		return ret;
	ret = keys_load(&o.ring, conf);
	if (ret)
		return ret;
	o.now_s = (uint32_t)time(NULL);
	ret = o.csv ? sign_csv(&o, &out) : sign_one(&o, &out);
	/* Nothing is printed unless every pixel was minted: a partial list would
	 * pair URLs with the wrong recipients in a mail merge. */
	if (!ret && out.len && fwrite(out.p, 1, out.len, stdout) != out.len)
		ret = 1;
	pxd_buf_free(&out);
	pxd_email_keys_wipe(&o.ring);
	return ret;
}

static void print_time(const char *name, uint32_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[32];

	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s: %s (%u)\n", name, buf, t);
}

static int cmd_verify(int argc, char **argv, const struct pxd_conf *conf)
{
	struct pxd_email_keys ring;
	struct pxd_email_token tok;
	enum pxd_email_verdict v;
	struct pxd_sv text;
	int ret;

	if (argc != 2) {
		fputs(usage, stderr);
		return 2;
	}
	ret = keys_load(&ring, conf);
	if (ret)
		return ret;
	text = pxd_email_token_find(pxd_sv_cstr(argv[1]));
	v = text.n ? pxd_email_token_verify(&ring, text, time(NULL), &tok)
		   : PXD_EMAIL_VERDICT_MALFORMED;
	pxd_email_keys_wipe(&ring);
	printf("verdict: %s\n", pxd_email_verdict_name(v));
	/* These verdicts come after a full parse: the fields help find out why. */
	if (v == PXD_EMAIL_VERDICT_OK || v == PXD_EMAIL_VERDICT_UNKNOWN_KEY ||
	    v == PXD_EMAIL_VERDICT_BAD_SIGNATURE || v == PXD_EMAIL_VERDICT_EXPIRED ||
	    v == PXD_EMAIL_VERDICT_NOT_YET_VALID) {
		if (v != PXD_EMAIL_VERDICT_OK)
			printf("(the fields below are not trustworthy)\n");
		printf("version: %u\nkey: %.*s\ntenant: %.*s\ncampaign: %.*s\nmessage: %.*s\n"
		       "recipient: %.*s\n",
		       tok.version, (int)tok.kid.n, tok.kid.p, (int)tok.c.tenant.n, tok.c.tenant.p,
		       (int)tok.c.campaign.n, tok.c.campaign.p, (int)tok.c.message.n,
		       tok.c.message.p, (int)tok.c.recipient.n, tok.c.recipient.p);
		print_time("issued_at", tok.c.issued_at);
		print_time("expires_at", tok.c.expires_at);
		for (size_t i = 0; i < tok.c.nmeta; i++)
			printf("meta.%.*s: %.*s\n", (int)tok.c.meta[i].key.n, tok.c.meta[i].key.p,
			       (int)tok.c.meta[i].value.n, tok.c.meta[i].value.p);
	}
	return v == PXD_EMAIL_VERDICT_OK ? 0 : 1;
}

int pxd_pixelctl_pixel_main(int argc, char **argv, const struct pxd_conf *conf)
{
	if (argc >= 2 && strcmp(argv[1], "sign") == 0)
		return cmd_sign(argc - 1, argv + 1, conf);
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return cmd_verify(argc - 1, argv + 1, conf);
	fputs(usage, argc >= 2 && strcmp(argv[1], "help") == 0 ? stdout : stderr);
	return argc >= 2 && strcmp(argv[1], "help") == 0 ? 0 : 2;
}
