/* SPDX-License-Identifier: MIT */
/*
 * mail_proxy.h - who fetched an email open pixel: a person's mail client, a
 * mail provider's image proxy (Apple Mail Privacy Protection, Gmail, Yahoo,
 * others) or a security scanner, from the client address, user agent and the
 * token's age. The rules come from daemon/data/mail_proxies.txt. A loaded
 * table is read-only: any thread may classify.
 */
#ifndef PXD_MAIL_PROXY_H
#define PXD_MAIL_PROXY_H

#include <stdint.h>

#include "strview.h"

/* props.open_kind of an EmailOpen event; the names are its values. */
enum pxd_open_kind {
	PXD_OPEN_KIND_HUMAN = 0,   /* no rule matched: a mail client fetched it */
	PXD_OPEN_KIND_APPLE_MPP,   /* Apple Mail Privacy Protection prefetch */
	PXD_OPEN_KIND_GMAIL_PROXY, /* GoogleImageProxy, on the reader's behalf */
	PXD_OPEN_KIND_YAHOO_PROXY, /* YahooMailProxy, on the reader's behalf */
	PXD_OPEN_KIND_OTHER_PROXY, /* another fetcher between the reader and us */
	PXD_OPEN_KIND_SCANNER,	   /* a security scanner checking the mail on delivery */
	PXD_OPEN_KIND_COUNT,	   /* number of kinds; keep last */
};

/* The embedded rule file (the Makefile turns daemon/data/mail_proxies.txt into this). */
extern const char pxd_data_mail_proxies[];

struct pxd_mail_proxy;

/*
 * Builds a table from the rule text <text> (the format is described at the
 * top of daemon/data/mail_proxies.txt). A fetch from a scanner rule counts
 * as SCANNER only within <scanner_window_s> seconds of the token's issue;
 * later it is OTHER_PROXY (a mail gateway fetching for its reader). Returns
 * 0 and sets <*out>, or -EINVAL with <err> as "line N: why", or -ENOMEM.
 * Main thread; free with pxd_mail_proxy_free().
 */
int pxd_mail_proxy_load(struct pxd_mail_proxy **out, const char *text, uint32_t scanner_window_s,
			char *err, size_t errlen);

/* Releases <mp>. Accepts NULL. */
void pxd_mail_proxy_free(struct pxd_mail_proxy *mp);

/*
 * Classifies one open: <family> AF_INET with 4 bytes at <addr>, or AF_INET6
 * with 16 (an IPv4-mapped ::ffff:a.b.c.d is looked up as IPv4); <ua> is the
 * User-Agent (may be empty); <age_s> is seconds since the token was issued.
 * Address ranges decide first (the most specific prefix wins), then the
 * user-agent rules in file order; nothing matching means HUMAN. An unknown
 * family is looked up by user agent only. Allocates nothing; any thread.
 */
enum pxd_open_kind pxd_mail_proxy_classify(const struct pxd_mail_proxy *mp, int family,
					   const void *addr, struct pxd_sv ua, int64_t age_s);

/* Returns the kind's props.open_kind value ("human", "apple_mpp", ...); "unknown" when out of
 * range. */
const char *pxd_mail_proxy_kind_name(enum pxd_open_kind kind);

/* Counts of what a table holds, after nested prefixes are flattened. */
struct pxd_mail_proxy_stats {
	size_t v4_ranges;
	size_t v6_ranges;
	size_t ua_rules;
};
void pxd_mail_proxy_stats(const struct pxd_mail_proxy *mp, struct pxd_mail_proxy_stats *st);

#endif
