/* SPDX-License-Identifier: MIT */
/*
 * payload_line.h - what the adapters that read the canonical line
 * (PXD_ADAPTER_READS_LINE, event_line.h) share: field text, SHA-256 checks
 * and hashed members written from views, the common rules
 * (pxd_payload_check_common()) on a line, and validate() for callers that
 * hold a tree. No state; the calling destination's dispatcher thread.
 */
#ifndef PXD_PAYLOAD_LINE_H
#define PXD_PAYLOAD_LINE_H

#include <jansson.h>
#include <stdbool.h>

#include "adapter.h"
#include "adapters/payload_json.h"
#include "buf.h"
#include "event_line.h"

/*
 * String <v> unescaped and NUL-terminated in <scratch> (reused: the text
 * lives until the next call with it). NULL when <v> is not a non-empty
 * string, or on -ENOMEM. Grows <scratch> only past its largest string yet.
 */
const char *pxd_payload_jv_text(const struct pxd_jv *v, struct pxd_buf *scratch);

/* Item <it>'s line as read: the dispatcher's reading when it kept one
 * (pxd_batch_item.el), else read now into <tmp>. NULL when the line does
 * not read. */
const struct pxd_event_line *pxd_payload_item_line(const struct pxd_batch_item *it,
						   struct pxd_event_line *tmp);

/* Whether string <v> is 64 lowercase hex digits (a SHA-256 already). */
bool pxd_payload_jv_is_sha256(const struct pxd_jv *v);

/*
 * Writes member <key>: the SHA-256 hex of string <v>'s text, or <v> itself
 * when it is one already; as a one-element array when <array>
 * (pxd_payload_set_hash() for a line).
 */
void pxd_payload_out_hash(struct pxd_payload_out *o, const char *key, const struct pxd_jv *v,
			  bool array, struct pxd_buf *scratch);

/* Writes the items of array <list> (props.contents) as
 * [{<id_field>: id when a string, quantity when a number, price as a real}],
 * the item list TikTok and GA4 take. */
void pxd_payload_out_items(struct pxd_payload_out *o, const struct pxd_jv *list,
			   const char *id_field);

/* pxd_payload_check_common() on line <el>; <scratch> as in pxd_payload_jv_text(). */
enum pxd_delivery pxd_payload_check_common_line(const struct pxd_event_line *el,
						const char *platform, int64_t now_ms,
						int64_t max_age_ms, struct pxd_buf *scratch,
						char *reason, size_t reason_len);

/*
 * The validate() hook of a PXD_ADAPTER_READS_LINE adapter: writes tree <ev>
 * as a line, reads it and runs the adapter's validate_line. For callers that
 * hold a tree (tests, tools); the dispatcher calls validate_line itself.
 * PERMANENT when <ev> cannot be written or read.
 */
enum pxd_delivery pxd_payload_validate_tree(struct pxd_dest *dest, const json_t *ev, char *reason,
					    size_t reason_len);

#endif
