// SPDX-License-Identifier: MIT
#include "daemon/console/console_xdp.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "ingest.h"
#include "xdp_ctl.h"
#include "xdp_maps.h"

#define NS_PER_S 1000000000ull

struct blocks {
	struct pxd_buf *out;
	uint64_t now;
	unsigned n;
};

static int block_json(const struct pxd_conf_cidr *c, const struct pxd_xdp_entry *e, void *arg)
{
	struct blocks *b = arg;
	char text[PXD_XDP_CIDR_STRLEN];

	if (b->n >= PXD_CONSOLE_BLOCKS_MAX)
		return 1;
	pxd_xdp_cidr_format(c, text, sizeof(text));
	pxd_buf_printf(b->out, "%s{\"cidr\":\"%s\",\"origin\":\"%s\",\"left_s\":%lld}",
		       b->n++ ? "," : "", text, pxd_xdp_origin_name((enum pxd_xdp_origin)e->origin),
		       e->expires_ns ? (long long)((e->expires_ns - b->now) / NS_PER_S) : -1LL);
	return 0;
}

void pxd_console_xdp_json(const char *pin_dir, struct pxd_buf *out)
{
	uint64_t v[PXD_XDP_COUNTER_COUNT];
	struct pxd_xdp_maps m;
	struct blocks b = { .out = out };

	if (pxd_xdp_maps_open_pinned(pin_dir, &m))
		return;
	if (pxd_xdp_maps_counters(&m, v) == 0) {
		pxd_buf_puts(out, ",\"counters\":[");
		for (int i = 0; i < PXD_XDP_COUNTER_COUNT; i++)
			pxd_buf_printf(
			    out, "%s{\"verdict\":\"%s\",\"reason\":\"%s\",\"packets\":%llu}",
			    i ? "," : "", pxd_xdp_counter_verdict((enum pxd_xdp_counter)i),
			    pxd_xdp_counter_reason((enum pxd_xdp_counter)i),
			    (unsigned long long)v[i]);
		pxd_buf_puts(out, "]");
	}
	b.now = pxd_xdp_maps_now(&m);
	pxd_buf_puts(out, ",\"blocks\":[");
	pxd_xdp_maps_foreach(&m, PXD_XDP_LIST_DENY, block_json, &b);
	pxd_buf_puts(out, "]");
	pxd_xdp_maps_close(&m);
}

/* Reads {"cidr":...,"ttl_s":N} from the body into <c> and <ttl_s>; answers
 * 400 itself and returns false on a bad body. */
static bool parse_body(struct pxd_reqctx *rc, struct pxd_conf_cidr *c, uint32_t *ttl_s)
{
	json_t *body = json_loadb(rc->req->body.p, rc->req->body.n, 0, NULL);
	const char *cidr = json_string_value(json_object_get(body, "cidr"));
	json_t *ttl = json_object_get(body, "ttl_s");
	bool ok = cidr && pxd_xdp_cidr_parse(cidr, c) == 0 &&
		  (!ttl || (json_is_integer(ttl) && json_integer_value(ttl) > 0 &&
			    json_integer_value(ttl) <= 7 * 86400));

	*ttl_s = ok && ttl ? (uint32_t)json_integer_value(ttl) : 0;
	json_decref(body);
	if (!ok)
		pxd_reply_refusal(rc, PXD_REFUSAL_BAD_JSON,
				  "send {\"cidr\":\"198.51.100.0/24\",\"ttl_s\":600}: an IPv4 or "
				  "IPv6 CIDR or address, ttl_s 1 to 604800 or left out");
	return ok;
}

/* Opens the pins of the running filter; answers 404 itself when XDP is off. */
static bool open_maps(struct pxd_reqctx *rc, struct pxd_xdp_maps *m)
{
	const struct pxd_daemon *d = rc->ing->d;

	if (pxd_xdp_ctl_attached(d->xdp) && pxd_xdp_maps_open_pinned(d->conf->xdp.pin_dir, m) == 0)
		return true;
	pxd_reply_refusal(rc, PXD_REFUSAL_NOT_FOUND,
			  "XDP is not attached: set [xdp] interface (README: XDP at the NIC)");
	return false;
}

static void reply_done(struct pxd_reqctx *rc, const char *what, const struct pxd_conf_cidr *c,
		       int err)
{
	char text[PXD_XDP_CIDR_STRLEN];
	char body[160];
	int n;

	pxd_xdp_cidr_format(c, text, sizeof(text));
	if (err == -ENOENT) {
		pxd_reply_refusal(rc, PXD_REFUSAL_NOT_FOUND, "that CIDR is not on the deny list");
		return;
	}
	if (err) {
		pxd_reply_refusal(rc, PXD_REFUSAL_INTERNAL,
				  err == -E2BIG ? "the deny map is full: raise [xdp] max_cidrs"
						: "the XDP map refused the update");
		return;
	}
	n = snprintf(body, sizeof(body), "{\"%s\":\"%s\"}", what, text);
	pxd_reply_body(rc, 200, "application/json", body, (size_t)n, NULL);
}

/* Block (<block>) or unblock the CIDR of the request's body. */
static void xdp_action(struct pxd_reqctx *rc, bool block)
{
	struct pxd_conf_cidr c;
	struct pxd_xdp_maps m;
	uint32_t ttl_s;
	int err;

	if (!parse_body(rc, &c, &ttl_s) || !open_maps(rc, &m))
		return;
	if (block)
		err =
		    pxd_xdp_maps_add(&m, PXD_XDP_LIST_DENY, &c, PXD_XDP_ORIGIN_MANUAL,
				     ttl_s ? pxd_xdp_maps_now(&m) + (uint64_t)ttl_s * NS_PER_S : 0);
	else
		err = pxd_xdp_maps_del(&m, PXD_XDP_LIST_DENY, &c);
	pxd_xdp_maps_close(&m);
	reply_done(rc, block ? "blocked" : "unblocked", &c, err);
}

void pxd_ep_admin_xdp_block(struct pxd_reqctx *rc)
{
	xdp_action(rc, true);
}

void pxd_ep_admin_xdp_unblock(struct pxd_reqctx *rc)
{
	xdp_action(rc, false);
}
