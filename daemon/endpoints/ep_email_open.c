// SPDX-License-Identifier: MIT
/*
 * GET /o/<token>.gif: the email open pixel. Always 200 with the GIF,
 * "Cache-Control: no-store, private" and no cookie, whatever the token; a
 * valid token becomes one EmailOpen event, classified (human, Apple MPP,
 * mail proxies, scanners) and marked first_open for the first open of its
 * (message, recipient) within email.first_open_window. Allocation-free.
 */
#include "ep_email_open.h"

#include <string.h>
#include <sys/socket.h>

#include "intake.h"
#include "client_ip.h"
#include "first_open.h"
#include "jsonw.h"
#include "router.h"

static void jsonw_sv(struct pxd_jsonw *w, const char *key, struct pxd_sv v)
{
	pxd_jsonw_key(w, key, strlen(key));
	pxd_jsonw_string(w, v.p, v.n);
}

ssize_t pxd_email_open_props_json(const struct pxd_email_token *tok, enum pxd_open_kind kind,
				  bool first_open, char *out, size_t cap)
{
	const char *kname = pxd_mail_proxy_kind_name(kind);
	struct pxd_jsonw w;

	pxd_jsonw_init(&w, out, cap);
	pxd_jsonw_object_begin(&w);
	jsonw_sv(&w, "campaign", tok->c.campaign);
	jsonw_sv(&w, "message", tok->c.message);
	jsonw_sv(&w, "recipient", tok->c.recipient);
	pxd_jsonw_key(&w, "meta", 4);
	pxd_jsonw_object_begin(&w);
	for (size_t i = 0; i < tok->c.nmeta; i++) {
		pxd_jsonw_key(&w, tok->c.meta[i].key.p, tok->c.meta[i].key.n);
		pxd_jsonw_string(&w, tok->c.meta[i].value.p, tok->c.meta[i].value.n);
	}
	pxd_jsonw_object_end(&w);
	jsonw_sv(&w, "open_kind", pxd_sv_cstr(kname));
	pxd_jsonw_key(&w, "first_open", 10);
	pxd_jsonw_bool(&w, first_open);
	pxd_jsonw_object_end(&w);
	return pxd_jsonw_finish(&w);
}

static void open_event(struct pxd_reqctx *rc, const struct pxd_email_token *tok)
{
	struct pxd_ingest *ing = rc->ing;
	struct pxd_daemon *d = ing->d;
	int64_t now_s = ing->now_ms / 1000;
	struct pxd_event ev;
	enum pxd_open_kind kind;
	enum pxd_refusal r;
	char detail[160];
	uint8_t addr[16];
	struct pxd_sv tenant;
	bool first;
	ssize_t n;
	int family;

	family = pxd_client_addr(d->conf, pxd_ingest_peer(ing, rc->conn), rc->req->headers,
				 rc->req->nheaders, addr);
	kind = pxd_mail_proxy_classify(d->mail_proxy, family, addr, rc->req->user_agent,
				       now_s - (int64_t)tok->c.issued_at);
	tenant = tok->c.tenant.n ? tok->c.tenant : pxd_sv_cstr(d->conf->tenant);
	first = pxd_first_open_check(d->first_open,
				     pxd_first_open_key(tenant, tok->c.message, tok->c.recipient),
				     now_s, &ing->m->first_open);
	pxd_stat_add(&ing->m->email_opens[kind], 1);

	n = pxd_email_open_props_json(tok, kind, first, ing->json_scratch,
				      PXD_EMAIL_OPEN_PROPS_MAX);
	if (n < 0) {
		pxd_stat_add(&ing->m->events_rejected[PXD_REFUSAL_INTERNAL], 1);
		return;
	}
	pxd_event_reset(&ev);
	ev.name = PXD_SV("EmailOpen");
	ev.props_json = pxd_sv_make(ing->json_scratch, (size_t)n);
	r = pxd_intake_prepare(rc, &ev, PXD_EVENT_SOURCE_EMAIL, detail, sizeof(detail));
	ev.tenant = tenant;
	if (r == PXD_REFUSAL_NONE)
		r = pxd_intake_commit(rc, &ev, pxd_intake_shard(rc, &ev));
	if (r != PXD_REFUSAL_NONE)
		pxd_stat_add(&ing->m->events_rejected[r], 1);
}

void pxd_ep_email_open(struct pxd_reqctx *rc)
{
	struct pxd_ingest *ing = rc->ing;
	struct pxd_email_token tok;
	struct pxd_sv text = pxd_email_token_find(rc->req->path);
	enum pxd_email_verdict v = PXD_EMAIL_VERDICT_MALFORMED;

	if (text.n)
		v = pxd_email_token_verify(&ing->d->email_keys, text, ing->now_ms / 1000, &tok);
	if (v == PXD_EMAIL_VERDICT_OK)
		open_event(rc, &tok);
	else
		pxd_stat_add(&ing->m->email_rejected[v], 1);
	pxd_reply_gif(rc, "no-store, private");
}
