/* SPDX-License-Identifier: MIT */
/*
 * persona.h - who pixelload's requests come from: realistic shoppers (names,
 * e-mail and phone as users type them, click ids, pages, events with money)
 * and the user agents of browsers, bots and mail clients. Draws from the
 * caller's generator state; no memory, any thread.
 */
#ifndef PL_PERSONA_H
#define PL_PERSONA_H

#include <stdbool.h>
#include <stdint.h>

/* One shopper and the event they send. Empty strings are absent ids. */
struct pl_persona {
	char email[96], phone[32], fbp[48], fbc[72], gclid[56], ttclid[48], msclkid[48];
	char url[160], order[24];
	const char *first, *last, *ref, *event, *cur;
	bool money, has_email, has_phone;
	double value;
	unsigned items;
};

enum pl_ua {
	PL_UA_HUMAN = 0, /* desktop and mobile browsers */
	PL_UA_BOT,	 /* each matches a pattern of daemon/data/bot_ua.txt */
	PL_UA_MAIL,	 /* mail clients and their image proxies */
	PL_UA_COUNT,	 /* number of kinds; keep last */
};

/** Fills <p> with a new shopper drawn from <s>. */
void pl_persona_make(uint64_t *s, struct pl_persona *p);

/** Returns a user agent of kind <kind> drawn from <s> (a static string). */
const char *pl_persona_ua(uint64_t *s, enum pl_ua kind);

/** Draws a city, a zip code and the city's country (static strings) from <s>. */
void pl_persona_place(uint64_t *s, const char **city, unsigned *zip, const char **country);

#endif
