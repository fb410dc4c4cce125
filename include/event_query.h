/* SPDX-License-Identifier: MIT */
/*
 * event_query.h - the pixel's query string (GET /p.gif?e=...&id=...) to a
 * canonical event, in one pass with no allocation: values are
 * percent-decoded into the caller's scratch, everything else is a view into
 * the query itself. Runs on the ingest thread for every pixel request; no
 * state of its own.
 *
 * Keys (everything else, e.g. the cache buster "_", is ignored undecoded):
 *   e     event (PageView when absent)    v     props.value (decimal, >= 0)
 *   id    event_id                        cur   props.currency
 *   url   url                             oid   props.order_id
 *   ref   referrer                        uid   user.id
 *   ts    ts (integer; ms, or seconds)    em ph fn ln   user.email, .phone,
 *   fbc fbp gclid wbraid gbraid ttclid          .first_name, .last_name
 *   ttp li_fat_id sccid epik rdt_cid msclkid    click.<same name>
 *   p.<name>   custom prop <name> ([A-Za-z0-9_]{1,40}, at most 32; not
 *              value, currency or order_id, which have their own keys)
 * A repeated key: the last one wins. A standard key with an empty value is
 * absent (so "e=" means PageView); a custom prop keeps an empty value.
 * Keys are matched as sent, never decoded: every key above is plain ASCII.
 * Values: "+" is a space, "%XX" a byte; a '%' not followed by two hex
 * digits is refused, and so is %00 (a NUL has no place in any field).
 */
#ifndef PXD_EVENT_QUERY_H
#define PXD_EVENT_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "refusal.h"

/*
 * Fills <ev> (reset first, source pixel) from the <n> bytes of <q> (the part
 * after '?', without it) and runs pxd_event_check() at <now_ms>. Views in
 * <ev> point into <q> and into <scratch>, which needs <n> + 1 bytes; both
 * must outlive <ev>.
 *
 * Returns PXD_REFUSAL_NONE, or PXD_REFUSAL_BAD_EVENT with <detail> naming
 * the key, e.g. "url: bad percent-escape at offset 17; write '%' as %25",
 * "ts: must be an integer (Unix milliseconds)", "p.*: at most 32 custom
 * props", or the event check's detail. PXD_REFUSAL_INTERNAL when <scap> is
 * below <n> + 1.
 */
enum pxd_refusal pxd_event_query_parse(const char *q, size_t n, int64_t now_ms,
				       struct pxd_event *ev, char *scratch, size_t scap,
				       char *detail, size_t dlen);

#endif
