// SPDX-License-Identifier: MIT
/*
 * Segment's properties to canonical props: the typed keys (value from
 * value/revenue/total, currency, order_id, products as contents) in their
 * canonical shape, everything else as sent. Any thread; no state.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "compiler.h"
#include "daemon/event/segment_map.h"

static bool is_nonneg(const json_t *v)
{
	return json_is_number(v) && json_number_value(v) >= 0;
}

/* products[] -> contents[] and content_ids[]; items without an id are left out. */
static int map_products(json_t *props, const json_t *products)
{
	json_t *contents = json_array();
	json_t *ids = json_array();
	int rc = !contents || !ids ? -ENOMEM : 0;

	for (size_t i = 0; !rc && i < json_array_size(products) && i < 1000; i++) {
		const json_t *p = json_array_get(products, i);
		const json_t *id = json_object_get(p, "product_id");
		const json_t *q = json_object_get(p, "quantity");
		const json_t *price = json_object_get(p, "price");
		json_t *item;

		if (!json_is_string(id))
			id = json_object_get(p, "sku");
		if (!json_is_string(id))
			id = json_object_get(p, "id");
		if (!json_is_string(id))
			continue;
		item = json_object();
		rc = !item || json_array_append_new(contents, item) ? -ENOMEM : 0;
		if (!rc)
			rc = json_object_set_new(item, "id", json_copy((json_t *)id));
		if (!rc && json_is_integer(q) && json_integer_value(q) >= 0)
			rc = json_object_set_new(item, "quantity", json_copy((json_t *)q));
		if (!rc && is_nonneg(price))
			rc = json_object_set_new(item, "price", json_copy((json_t *)price));
		if (!rc)
			rc = json_array_append_new(ids, json_copy((json_t *)id));
	}
	if (!rc && json_array_size(contents)) {
		rc = json_object_set_new(props, "contents", contents);
		contents = NULL;
		if (!rc)
			rc = json_object_set_new(props, "content_ids", ids);
		ids = NULL;
	}
	json_decref(contents);
	json_decref(ids);
	return rc;
}

/* True for a currency the canonical event takes: three ASCII letters. */
static bool is_currency(const json_t *v)
{
	const char *s = json_string_value(v);

	if (!s || json_string_length(v) != 3)
		return false;
	for (int i = 0; i < 3; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')))
			return false;
	return true;
}

/* The canonical props' typed keys: kept only in their canonical shape. */
static bool is_typed_key(const char *k)
{
	return !strcmp(k, "value") || !strcmp(k, "currency") || !strcmp(k, "order_id") ||
	       !strcmp(k, "content_ids") || !strcmp(k, "contents") || !strcmp(k, "num_items");
}

/* Free-form members of <src> (not typed keys, not user fields when <traits>). */
int pxd_segment_copy_free(json_t *props, json_t *src, bool traits)
{
	for (void *it = json_object_iter(src); it; it = json_object_iter_next(src, it)) {
		const char *k = json_object_iter_key(it);

		if (is_typed_key(k) || !strcmp(k, "products") ||
		    (traits && pxd_segment_is_user_trait(k)))
			continue;
		if (json_object_set(props, k, json_object_iter_value(it)))
			return -ENOMEM;
	}
	return 0;
}

int pxd_segment_map_properties(json_t *props, json_t *p)
{
	const char *value_keys[] = { "value", "revenue", "total" };
	json_t *v;
	int rc = pxd_segment_copy_free(props, p, false);

	for (size_t i = 0; !rc && i < ARRAY_SIZE(value_keys); i++) {
		v = json_object_get(p, value_keys[i]);
		if (is_nonneg(v) && !json_object_get(props, "value"))
			rc = json_object_set(props, "value", v);
	}
	v = json_object_get(p, "currency");
	if (!rc && is_currency(v))
		rc = json_object_set(props, "currency", v);
	if (!rc)
		rc = pxd_segment_set_text(props, "order_id", json_object_get(p, "order_id"));
	if (!rc && !json_object_get(props, "order_id"))
		rc = pxd_segment_set_text(props, "order_id", json_object_get(p, "orderId"));
	v = json_object_get(p, "num_items");
	if (!rc && json_is_integer(v) && json_integer_value(v) >= 0)
		rc = json_object_set(props, "num_items", v);
	if (!rc && json_is_array(json_object_get(p, "products")))
		rc = map_products(props, json_object_get(p, "products"));
	return rc;
}
