// SPDX-License-Identifier: MIT
/*
 * request.c - pixelload's request pool: pixel GETs (/p.gif, /p) with query
 * strings, beacon POSTs (/e) with one JSON event or a batch, email-open GETs
 * from signed URLs (some forged), and the shares of each over the pool.
 */
#include "request.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compiler.h"
#include "options.h"
#include "persona.h"
#include "rng.h"

const char *const pl_kind_name[PL_KIND_COUNT] = { "pixel", "pixel204", "beacon", "open",
						  "open_forged" };

/* Writes <s> percent-encoded for a query value. */
static void put_enc(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch))
			fputc(ch, f);
		else
			fprintf(f, "%%%02X", ch);
	}
}

/*
 * Writes the click ids <p> has, in a fixed order, as query parameters or
 * JSON members (<json>): <lead> before the first, <sep> before the others.
 */
static void put_click_ids(FILE *f, const struct pl_persona *p, const char *lead, const char *sep,
			  bool json)
{
	const char *const name[] = { "fbp", "fbc", "gclid", "ttclid", "msclkid" };
	const char *const value[] = { p->fbp, p->fbc, p->gclid, p->ttclid, p->msclkid };

	for (size_t i = 0; i < ARRAY_SIZE(name); i++) {
		if (!value[i][0])
			continue;
		fprintf(f, json ? "%s\"%s\":\"%s\"" : "%s%s=%s", lead, name[i], value[i]);
		lead = sep;
	}
}

static const char id_placeholder[PL_ID_LEN + 1] = "################";

static int finish_tmpl(struct pl_tmpl *t, char *head, size_t head_len, char *body, size_t body_len)
{
	char *at = memmem(head, head_len, id_placeholder, PL_ID_LEN);
	size_t n = 0;

	t->head = head;
	t->head_len = (uint32_t)head_len;
	t->body = body;
	t->body_len = (uint32_t)body_len;
	t->id_in_body = false;
	t->id_off = at ? (int32_t)(at - head) : -1;
	if (!at && body && (at = memmem(body, body_len, id_placeholder, PL_ID_LEN))) {
		t->id_in_body = true;
		t->id_off = (int32_t)(at - body);
	}
	for (char *p = at; t->id_in_body && p;
	     p = memmem(p + PL_ID_LEN, body_len - (size_t)(p + PL_ID_LEN - body), id_placeholder,
			PL_ID_LEN))
		n++;
	if (n < 2)
		return 0;
	t->batch_ids = calloc(n, sizeof(uint32_t));
	if (!t->batch_ids)
		return -ENOMEM;
	for (char *p = at; p; p = memmem(p + PL_ID_LEN, body_len - (size_t)(p + PL_ID_LEN - body),
					 id_placeholder, PL_ID_LEN))
		t->batch_ids[t->nbatch_ids++] = (uint32_t)(p - body);
	return 0;
}

static int build_pixel(uint64_t *s, const struct pl_opts *o, const char *run_id, struct pl_tmpl *t)
{
	struct pl_persona p;
	char *head = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&head, &len);

	if (!f)
		return -ENOMEM;
	pl_persona_make(s, &p);
	fprintf(f, "GET %s?e=%s&id=%s-%s&url=", t->kind == PL_KIND_PIXEL ? "/p.gif" : "/p", p.event,
		run_id, id_placeholder);
	put_enc(f, p.url);
	if (*p.ref) {
		fputs("&ref=", f);
		put_enc(f, p.ref);
	}
	put_click_ids(f, &p, "&", "&", false);
	if (p.has_email) {
		fputs("&em=", f);
		put_enc(f, p.email);
	}
	if (p.has_phone) {
		fputs("&ph=", f);
		put_enc(f, p.phone);
	}
	if (p.money)
		fprintf(f, "&v=%.2f&cur=%s&oid=%s", p.value, p.cur, p.order);
	fprintf(f, "&cb=%u HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n", pl_rng_below(s, 1u << 30),
		o->host, pl_persona_ua(s, t->bot ? PL_UA_BOT : PL_UA_HUMAN));
	fprintf(f,
		"Accept: image/avif,image/webp,image/apng,image/*,*/*;q=0.8\r\n"
		"Accept-Language: en-US,en;q=0.9\r\nReferer: %s\r\n\r\n",
		p.url);
	if (fclose(f))
		return -ENOMEM;
	return finish_tmpl(t, head, len, NULL, 0);
}

static void put_event_json(FILE *f, uint64_t *s, const char *run_id, unsigned idx, bool batch)
{
	struct pl_persona p;

	pl_persona_make(s, &p);
	fprintf(f, "{\"event\":\"%s\",\"event_id\":\"%s-%s", p.event, run_id, id_placeholder);
	if (batch)
		fprintf(f, "-%03u", idx);
	fprintf(f, "\",\"url\":\"%s\"", p.url);
	if (*p.ref)
		fprintf(f, ",\"referrer\":\"%s\"", p.ref);
	fprintf(f, ",\"user\":{\"anon_id\":\"a-%08x\"", (unsigned)pl_rng_next(s));
	if (p.has_email || pl_rng_chance(s, 0.3))
		fprintf(f, ",\"email\":\"%s\",\"first_name\":\"%s\",\"last_name\":\"%s\"", p.email,
			p.first, p.last);
	if (p.has_phone)
		fprintf(f, ",\"phone\":\"%s\"", p.phone);
	if (pl_rng_chance(s, 0.3)) {
		const char *city, *country;
		unsigned zip;

		pl_persona_place(s, &city, &zip, &country);
		fprintf(f, ",\"city\":\"%s\",\"zip\":\"%05u\",\"country\":\"%s\"", city, zip,
			country);
	}
	fputc('}', f);
	if (p.fbp[0] || p.fbc[0] || p.gclid[0] || p.ttclid[0] || p.msclkid[0]) {
		fputs(",\"click\":{", f);
		put_click_ids(f, &p, "", ",", true);
		fputc('}', f);
	}
	if (p.money) {
		fprintf(f,
			",\"props\":{\"value\":%.2f,\"currency\":\"%s\",\"order_id\":\"%s\","
			"\"num_items\":%u,\"content_ids\":[",
			p.value, p.cur, p.order, p.items);
		for (unsigned i = 0; i < p.items; i++)
			fprintf(f, "%s\"sku-%u\"", i ? "," : "", 1000 + pl_rng_below(s, 9000));
		fputs("],\"contents\":[", f);
		for (unsigned i = 0; i < p.items; i++)
			fprintf(f, "%s{\"id\":\"sku-%u\",\"quantity\":%u,\"price\":%.2f}",
				i ? "," : "", 1000 + pl_rng_below(s, 9000), 1 + pl_rng_below(s, 3),
				(double)(100 + pl_rng_below(s, 20000)) / 100.0);
		fputs("]}", f);
	} else if (pl_rng_chance(s, 0.3)) {
		fprintf(f, ",\"props\":{\"plan\":\"%s\"}", pl_rng_chance(s, 0.5) ? "pro" : "free");
	}
	fprintf(f, ",\"consent\":{\"ad_storage\":\"%s\",\"analytics_storage\":\"granted\"}}",
		pl_rng_chance(s, 0.8) ? "granted" : "denied");
}

static int build_beacon(uint64_t *s, const struct pl_opts *o, const char *run_id, struct pl_tmpl *t)
{
	char *head = NULL, *body = NULL;
	size_t hlen = 0, blen = 0;
	FILE *f = open_memstream(&body, &blen);

	if (!f)
		return -ENOMEM;
	if (o->batch > 1)
		fputs("{\"batch\":[", f);
	for (unsigned i = 0; i < o->batch; i++) {
		if (i)
			fputc(',', f);
		put_event_json(f, s, run_id, i, o->batch > 1);
	}
	if (o->batch > 1)
		fputs("]}", f);
	if (fclose(f))
		return -ENOMEM;
	f = open_memstream(&head, &hlen);
	if (!f) {
		free(body);
		return -ENOMEM;
	}
	/* sendBeacon() sends text/plain; fetch() with keepalive sends JSON. */
	fprintf(f,
		"POST /e HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nContent-Type: %s\r\n"
		"Content-Length: %zu\r\nOrigin: https://shop.example\r\nAccept: */*\r\n\r\n",
		o->host, pl_persona_ua(s, t->bot ? PL_UA_BOT : PL_UA_HUMAN),
		pl_rng_chance(s, 0.3) ? "text/plain;charset=UTF-8" : "application/json", blen);
	if (fclose(f)) {
		free(body);
		return -ENOMEM;
	}
	return finish_tmpl(t, head, hlen, body, blen);
}

/*
 * Makes a forged copy of the token in <path> ("/o/<token>.gif"): one base64url
 * character inside the 16-byte tag changes, so the record still decodes and
 * only the signature check refuses it.
 */
static void forge(char *path)
{
	char *dot = strrchr(path, '.');

	if (dot && dot - path > 3 + 4) {
		char *c = dot - 4;

		*c = *c == 'A' ? 'B' : 'A';
	}
}

static int build_open(uint64_t *s, const struct pl_opts *o, const char *url, struct pl_tmpl *t)
{
	char *head = NULL, path[1200];
	size_t len = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s", url);
	if (t->kind == PL_KIND_OPEN_FORGED)
		forge(path);
	f = open_memstream(&head, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: image/*\r\n\r\n", path,
		o->host, pl_persona_ua(s, t->bot ? PL_UA_BOT : PL_UA_MAIL));
	if (fclose(f))
		return -ENOMEM;
	return finish_tmpl(t, head, len, NULL, 0);
}

/* Reads the pixel paths ("/o/<token>.gif") out of the URLs in <path>. */
static int read_open_urls(const char *path, char ***out, size_t *n)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, **v = NULL;
	size_t cap = 0, cnt = 0, lineno = 0;
	ssize_t len;
	int err = 0;

	if (!f) {
		err = -errno;
		fprintf(stderr, "pixelload: --open-urls %s: %s\n", path, strerror(-err));
		return err;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		char *p, *end;

		lineno++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (!len)
			continue;
		p = strstr(line, "/o/");
		end = p ? strstr(p, ".gif") : NULL;
		if (!end || end - p > 1100) {
			fprintf(stderr,
				"pixelload: %s:%zu: not an open-pixel URL (.../o/<token>.gif)\n",
				path, lineno);
			err = -EINVAL;
			break;
		}
		end[4] = '\0';
		if (!(cnt % 64)) {
			char **nv = realloc(v, (cnt + 64) * sizeof(*v));

			if (!nv) {
				err = -ENOMEM;
				break;
			}
			v = nv;
		}
		if (!(v[cnt] = strdup(p))) {
			err = -ENOMEM;
			break;
		}
		cnt++;
	}
	free(line);
	fclose(f);
	if (!err && !cnt) {
		fprintf(stderr, "pixelload: %s holds no URL\n", path);
		err = -EINVAL;
	}
	if (err) {
		while (cnt)
			free(v[--cnt]);
		free(v);
		return err;
	}
	*out = v;
	*n = cnt;
	return 0;
}

static void shuffle(uint64_t *s, uint8_t *v, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = pl_rng_below(s, (unsigned)i);
		uint8_t x = v[i - 1];

		v[i - 1] = v[j];
		v[j] = x;
	}
}

int pl_pool_build(struct pl_pool *pool, const struct pl_opts *o)
{
	uint8_t kinds[PL_POOL_SIZE], bots[PL_POOL_SIZE], forged[PL_POOL_SIZE];
	char **urls = NULL;
	size_t nurls = 0, n = 0, nopen = 0, open_i = 0, url_i = 0;
	double wsum = 0;
	uint64_t s = o->seed * 0x9E3779B97F4A7C15ull + 1;
	int err = 0;

	snprintf(pool->run_id, sizeof(pool->run_id), "%08x",
		 (unsigned)(time(NULL) ^ ((uint64_t)getpid() << 16)));
	if (o->weight[PL_KIND_OPEN] > 0 && (err = read_open_urls(o->open_urls, &urls, &nurls)))
		return err;
	for (int k = 0; k < PL_MIX_KINDS; k++)
		wsum += o->weight[k];
	for (int k = 0; k < PL_MIX_KINDS; k++) {
		size_t c = (size_t)llround(o->weight[k] / wsum * PL_POOL_SIZE);

		for (size_t i = 0; i < c && n < PL_POOL_SIZE; i++)
			kinds[n++] = (uint8_t)k;
	}
	while (n < PL_POOL_SIZE) /* rounding: give the rest to the heaviest kind */
		for (int k = 0; k < PL_MIX_KINDS && n < PL_POOL_SIZE; k++)
			if (o->weight[k] > 0)
				kinds[n++] = (uint8_t)k;
	shuffle(&s, kinds, PL_POOL_SIZE);
	for (size_t i = 0; i < PL_POOL_SIZE; i++) {
		bots[i] = i < (size_t)llround(o->bot_share * PL_POOL_SIZE);
		nopen += kinds[i] == PL_KIND_OPEN;
	}
	shuffle(&s, bots, PL_POOL_SIZE);
	for (size_t i = 0; i < nopen; i++)
		forged[i] = i < (size_t)llround(o->forged_share * (double)nopen);
	shuffle(&s, forged, nopen);
	for (size_t i = 0; i < PL_POOL_SIZE && !err; i++) {
		struct pl_tmpl *t = &pool->t[i];

		t->kind = kinds[i];
		t->bot = bots[i];
		if (t->kind == PL_KIND_OPEN && forged[open_i++])
			t->kind = PL_KIND_OPEN_FORGED;
		switch (t->kind) {
		case PL_KIND_PIXEL:
		case PL_KIND_PIXEL204:
			t->events = 1;
			err = build_pixel(&s, o, pool->run_id, t);
			break;
		case PL_KIND_BEACON:
			t->events = (uint16_t)o->batch;
			err = build_beacon(&s, o, pool->run_id, t);
			break;
		default:
			t->events = t->kind == PL_KIND_OPEN;
			err = build_open(&s, o, urls[url_i++ % nurls], t);
			break;
		}
		if (t->nbatch_ids)
			pool->scratch_len = PXD_MAX(pool->scratch_len, t->body_len);
	}
	while (nurls)
		free(urls[--nurls]);
	free(urls);
	return err;
}

void pl_pool_free(struct pl_pool *pool)
{
	for (size_t i = 0; i < PL_POOL_SIZE; i++) {
		free(pool->t[i].head);
		free(pool->t[i].body);
		free(pool->t[i].batch_ids);
	}
}
