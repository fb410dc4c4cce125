// SPDX-License-Identifier: MIT
/*
 * payload_line.c - the line-reading adapters' shared helpers
 * (payload_line.h).
 */
#include "adapters/payload_line.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"

const char *pxd_payload_jv_text(const struct pxd_jv *v, struct pxd_buf *scratch)
{
	if (!pxd_jv_is_str(v) || pxd_buf_reserve(scratch, (size_t)v->n + 1))
		return NULL;
	if (pxd_jv_unescape(v, scratch->p, scratch->cap) < 0)
		return NULL;
	return scratch->p;
}

const struct pxd_event_line *pxd_payload_item_line(const struct pxd_batch_item *it,
						   struct pxd_event_line *tmp)
{
	if (it->el)
		return it->el;
	return pxd_event_line_read(tmp, it->line, it->len) ? NULL : tmp;
}

bool pxd_payload_jv_is_sha256(const struct pxd_jv *v)
{
	char text[PXD_SHA256_HEX_LEN + 1];
	ssize_t n;

	if (v->type != PXD_JV_STRING)
		return false;
	if (!v->escaped)
		return pxd_payload_is_sha256_n(v->p, v->n);
	/* An escape makes the view longer than its text. */
	n = pxd_jv_unescape(v, text, sizeof(text));
	return n > 0 && pxd_payload_is_sha256_n(text, (size_t)n);
}

void pxd_payload_out_hash(struct pxd_payload_out *o, const char *key, const struct pxd_jv *v,
			  bool array, struct pxd_buf *scratch)
{
	char hex[PXD_SHA256_HEX_LEN + 1];
	const char *text = v->escaped ? pxd_payload_jv_text(v, scratch) : v->p;
	size_t n = v->escaped && text ? strlen(text) : v->n;

	if (!text || !pxd_jv_is_str(v)) {
		o->err = o->err ? o->err : -ENOMEM;
		return;
	}
	/* The line's bytes as they are when they need no unescaping. */
	if (pxd_payload_is_sha256_n(text, n))
		memcpy(hex, text, PXD_SHA256_HEX_LEN);
	else
		pxd_payload_sha256_hex(text, n, hex);
	pxd_payload_out_key(o, key);
	if (array)
		pxd_payload_out_open(o, '[');
	pxd_payload_out_str(o, hex, PXD_SHA256_HEX_LEN);
	if (array)
		pxd_payload_out_close(o, ']');
}

void pxd_payload_out_items(struct pxd_payload_out *o, const struct pxd_jv *list,
			   const char *id_field)
{
	static const char *const keys[] = { "id", "quantity", "price" };
	struct pxd_jv_iter it;
	struct pxd_jv item, v[3];

	pxd_payload_out_open(o, '[');
	pxd_jv_iter_init(&it, list);
	while (pxd_jv_next(&it, NULL, &item)) {
		pxd_jv_members(&item, keys, 3, v);
		pxd_payload_out_open(o, '{');
		if (v[0].type == PXD_JV_STRING)
			pxd_payload_out_member(o, id_field, &v[0]);
		if (pxd_jv_is_number(&v[1]))
			pxd_payload_out_member(o, "quantity", &v[1]);
		if (pxd_jv_is_number(&v[2])) {
			pxd_payload_out_key(o, "price");
			pxd_payload_out_jv_real(o, &v[2]);
		}
		pxd_payload_out_close(o, '}');
	}
	pxd_payload_out_close(o, ']');
}

enum pxd_delivery pxd_payload_check_common_line(const struct pxd_event_line *el,
						const char *platform, int64_t now_ms,
						int64_t max_age_ms, struct pxd_buf *scratch,
						char *reason, size_t reason_len)
{
	static const char *const keys[] = { "value", "currency" };
	struct pxd_jv v[2];
	const struct pxd_jv *value = &v[0];
	struct pxd_payload_facts f;

	pxd_line_props_members(el, keys, 2, v);
	f = (struct pxd_payload_facts){
		.has_ids = pxd_jv_is_str(&el->top[PXD_LINE_EVENT_ID]) &&
			   pxd_jv_is_str(&el->top[PXD_LINE_EVENT]),
		.ts_ms = pxd_event_line_ts(el),
		.has_value = value->type != PXD_JV_ABSENT,
		/* Only a '-' can make it negative (-0 is not): strtod() for those alone. */
		.value_ok =
		    pxd_jv_is_number(value) && (*value->p != '-' || pxd_jv_number(value) >= 0),
		.currency = pxd_payload_jv_text(&v[1], scratch),
	};

	return pxd_payload_check_facts(&f, platform, now_ms, max_age_ms, reason, reason_len);
}

enum pxd_delivery pxd_payload_validate_tree(struct pxd_dest *dest, const json_t *ev, char *reason,
					    size_t reason_len)
{
	char *line = json_dumps(ev, JSON_COMPACT);
	struct pxd_event_line el;
	enum pxd_delivery d = PXD_DELIVERY_PERMANENT;

	if (!line || pxd_event_line_read(&el, line, strlen(line)))
		snprintf(reason, reason_len, "%s: the event cannot be read as a line",
			 dest->adapter->type);
	else
		d = dest->adapter->validate_line(dest, &el, reason, reason_len);
	free(line);
	return d;
}
