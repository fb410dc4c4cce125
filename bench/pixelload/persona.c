// SPDX-License-Identifier: MIT
/*
 * persona.c - the data pixelload's shoppers are drawn from (user agents,
 * names, mail domains, places, pages, referrers, campaign tags, event names
 * by weight) and the drawing.
 */
#include "persona.h"

#include <stdio.h>
#include <string.h>

#include "compiler.h"
#include "rng.h"

#define PICK(s, a) ((a)[pl_rng_below((s), ARRAY_SIZE(a))])

static const char *const human_ua[] = {
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
	"Chrome/120.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
	"Version/17.1 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
	"like "
	"Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
	"Chrome/120.0.6099.144 Mobile Safari/537.36",
	"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
	"Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
};

static const char *const bot_ua[] = {
	"python-requests/2.31.0",
	"curl/8.4.0",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
	"HeadlessChrome/120.0.6099.109 Safari/537.36",
	"Scrapy/2.11.0 (+https://scrapy.org)",
	"Go-http-client/1.1",
	"okhttp/4.12.0",
	"Java/17.0.9",
	"Wget/1.21.3",
	"axios/1.6.2",
	"PostmanRuntime/7.36.0",
};

static const char *const mail_ua[] = {
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.5.1",
	"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029; Pro)",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
	"Gecko) Mobile/15E148",
	"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
	"Chrome/120.0.6099.43 Mobile Safari/537.36",
};

static const struct {
	const char *name;
	unsigned weight;
	bool money;
} event_names[] = {
	{ "PageView", 55, false }, { "ViewContent", 15, false },
	{ "AddToCart", 10, true }, { "InitiateCheckout", 6, true },
	{ "Purchase", 6, true },   { "Lead", 3, false },
	{ "Search", 3, false },	   { "CompleteRegistration", 2, false },
};

static const char *const first_names[] = { "Jane",  "John", "Maria",  "Wei",  "Fatima",
					   "Lukas", "Aiko", "Carlos", "Olga", "Kwame" };
static const char *const last_names[] = { "Doe",    "Smith", "Garcia", "Chen",	  "Khan",
					  "Muller", "Sato",  "Silva",  "Ivanova", "Mensah" };
static const char *const mail_domains[] = { "example.com", "Gmail.com", "yahoo.co.uk",
					    "outlook.com", "shop-mail.example" };
static const char *const cities[] = { "Seattle", "London", "Berlin", "Sao Paulo", "Osaka" };
static const char *const countries[] = { "US", "GB", "DE", "BR", "JP" };
static const char *const currencies[] = { "USD", "EUR", "GBP", "JPY", "BRL" };
static const char *const page_paths[] = { "/",
					  "/product/running-shoe-42",
					  "/category/women/dresses",
					  "/cart",
					  "/checkout/payment",
					  "/blog/summer-lookbook",
					  "/search?q=rain+jacket&page=2" };
static const char *const referrers[] = { "https://www.google.com/",
					 "https://www.facebook.com/",
					 "https://t.co/",
					 "https://www.bing.com/search?q=shoes",
					 "https://l.instagram.com/",
					 "" };
static const char *const utms[] = { "", "?utm_source=newsletter&utm_medium=email&utm_campaign=bf24",
				    "?utm_source=google&utm_medium=cpc&gclid=Cj0KCQiA",
				    "?fbclid=IwAR2xYz9k" };

static const char *pick_event(uint64_t *s, bool *money)
{
	unsigned total = 0, r;

	for (unsigned i = 0; i < ARRAY_SIZE(event_names); i++)
		total += event_names[i].weight;
	r = pl_rng_below(s, total);
	for (unsigned i = 0; i < ARRAY_SIZE(event_names); i++) {
		if (r < event_names[i].weight) {
			*money = event_names[i].money;
			return event_names[i].name;
		}
		r -= event_names[i].weight;
	}
	*money = false;
	return "PageView";
}

static void rnd_alnum(uint64_t *s, char *out, size_t n)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

	for (size_t i = 0; i < n; i++)
		out[i] = set[pl_rng_below(s, sizeof(set) - 1)];
	out[n] = '\0';
}

void pl_persona_make(uint64_t *s, struct pl_persona *p)
{
	char r[41];
	uint64_t ms = 1732000000000ull + pl_rng_below(s, 900000000u);

	memset(p, 0, sizeof(*p));
	p->first = PICK(s, first_names);
	p->last = PICK(s, last_names);
	snprintf(p->email, sizeof(p->email), "%s%s.%s%u@%s", pl_rng_chance(s, 0.1) ? " " : "",
		 p->first, p->last, pl_rng_below(s, 1000), PICK(s, mail_domains));
	snprintf(p->phone, sizeof(p->phone),
		 pl_rng_chance(s, 0.5) ? "+1 (415) 555-%04u" : "0044 20 7946 %04u",
		 pl_rng_below(s, 10000));
	p->has_email = pl_rng_chance(s, 0.35);
	p->has_phone = pl_rng_chance(s, 0.12);
	if (pl_rng_chance(s, 0.6))
		snprintf(p->fbp, sizeof(p->fbp), "fb.1.%llu.%u", (unsigned long long)ms,
			 1000000000u + pl_rng_below(s, 999999999u));
	if (pl_rng_chance(s, 0.2)) {
		rnd_alnum(s, r, 32);
		snprintf(p->fbc, sizeof(p->fbc), "fb.1.%llu.IwAR%s", (unsigned long long)ms, r);
	}
	if (pl_rng_chance(s, 0.2)) {
		rnd_alnum(s, r, 40);
		snprintf(p->gclid, sizeof(p->gclid), "Cj0KCQiA%s", r);
	}
	if (pl_rng_chance(s, 0.05)) {
		rnd_alnum(s, r, 32);
		snprintf(p->ttclid, sizeof(p->ttclid), "E.C.P.%s", r);
	}
	if (pl_rng_chance(s, 0.03)) {
		rnd_alnum(s, r, 32);
		snprintf(p->msclkid, sizeof(p->msclkid), "%s", r);
	}
	snprintf(p->url, sizeof(p->url), "https://shop.example%s%s", PICK(s, page_paths),
		 PICK(s, utms));
	p->ref = PICK(s, referrers);
	p->event = pick_event(s, &p->money);
	p->cur = PICK(s, currencies);
	p->value = (double)(100 + pl_rng_below(s, 50000)) / 100.0;
	p->items = 1 + pl_rng_below(s, 4);
	snprintf(p->order, sizeof(p->order), "ord-%u", 100000 + pl_rng_below(s, 900000));
}

const char *pl_persona_ua(uint64_t *s, enum pl_ua kind)
{
	switch (kind) {
	case PL_UA_BOT:
		return PICK(s, bot_ua);
	case PL_UA_MAIL:
		return PICK(s, mail_ua);
	default:
		return PICK(s, human_ua);
	}
}

void pl_persona_place(uint64_t *s, const char **city, unsigned *zip, const char **country)
{
	unsigned c = pl_rng_below(s, ARRAY_SIZE(cities));

	*city = cities[c];
	*zip = pl_rng_below(s, 100000);
	*country = countries[c];
}
