// SPDX-License-Identifier: MIT
/*
 * The canonical event: field names, validation (pxd_event_check) and the one
 * serialized JSON line that is journaled, with PII hashed on the way out
 * (pii.h) and the event id minted when the client sent none. The ingest
 * thread handling the request; no allocation.
 */
#include "event.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "compiler.h"
#include "json_plain.h"
#include "jsonw.h"
#include "pii.h"

/* A view of a literal that, unlike PXD_SV(), is a constant initializer. */
/* clang-format off */
#define SV_LIT(s) { (s), sizeof(s) - 1 }
/* clang-format on */

/* A member name of the record as the line spells it, quoted and with its
 * ':' at compile time, so writing it is one copy. */
/* clang-format off */
#define QK_LIT(k) SV_LIT("\"" k "\":")
/* clang-format on */
#define QK(k) PXD_SV("\"" k "\":")

const struct pxd_sv pxd_event_user_names[PXD_USER_FIELD_COUNT] = {
	[PXD_USER_FIELD_ID] = SV_LIT("id"),
	[PXD_USER_FIELD_ANON_ID] = SV_LIT("anon_id"),
	[PXD_USER_FIELD_EMAIL] = SV_LIT("email"),
	[PXD_USER_FIELD_PHONE] = SV_LIT("phone"),
	[PXD_USER_FIELD_FIRST_NAME] = SV_LIT("first_name"),
	[PXD_USER_FIELD_LAST_NAME] = SV_LIT("last_name"),
	[PXD_USER_FIELD_CITY] = SV_LIT("city"),
	[PXD_USER_FIELD_STATE] = SV_LIT("state"),
	[PXD_USER_FIELD_ZIP] = SV_LIT("zip"),
	[PXD_USER_FIELD_COUNTRY] = SV_LIT("country"),
	[PXD_USER_FIELD_GENDER] = SV_LIT("gender"),
	[PXD_USER_FIELD_DOB] = SV_LIT("dob"),
	[PXD_USER_FIELD_EMAIL_GOOGLE_SHA256] = SV_LIT("email_google_sha256"),
	[PXD_USER_FIELD_PHONE_E164_SHA256] = SV_LIT("phone_e164_sha256"),
};

const struct pxd_sv pxd_event_click_names[PXD_CLICK_FIELD_COUNT] = {
	[PXD_CLICK_FIELD_FBC] = SV_LIT("fbc"),
	[PXD_CLICK_FIELD_FBP] = SV_LIT("fbp"),
	[PXD_CLICK_FIELD_GCLID] = SV_LIT("gclid"),
	[PXD_CLICK_FIELD_WBRAID] = SV_LIT("wbraid"),
	[PXD_CLICK_FIELD_GBRAID] = SV_LIT("gbraid"),
	[PXD_CLICK_FIELD_TTCLID] = SV_LIT("ttclid"),
	[PXD_CLICK_FIELD_TTP] = SV_LIT("ttp"),
	[PXD_CLICK_FIELD_LI_FAT_ID] = SV_LIT("li_fat_id"),
	[PXD_CLICK_FIELD_SCCID] = SV_LIT("sccid"),
	[PXD_CLICK_FIELD_EPIK] = SV_LIT("epik"),
	[PXD_CLICK_FIELD_RDT_CID] = SV_LIT("rdt_cid"),
	[PXD_CLICK_FIELD_MSCLKID] = SV_LIT("msclkid"),
};

const struct pxd_sv pxd_event_consent_names[PXD_CONSENT_FIELD_COUNT] = {
	[PXD_CONSENT_FIELD_AD_STORAGE] = SV_LIT("ad_storage"),
	[PXD_CONSENT_FIELD_AD_USER_DATA] = SV_LIT("ad_user_data"),
	[PXD_CONSENT_FIELD_AD_PERSONALIZATION] = SV_LIT("ad_personalization"),
	[PXD_CONSENT_FIELD_ANALYTICS_STORAGE] = SV_LIT("analytics_storage"),
};

/* Every row set: the readers compare each name (a missing one would be NULL). */
const struct pxd_sv pxd_event_to_names[PXD_EVENT_TO_COUNT] = {
	[PXD_EVENT_TO_META] = SV_LIT("meta"),
	[PXD_EVENT_TO_GA4] = SV_LIT("ga4"),
	[PXD_EVENT_TO_GOOGLE_ADS] = SV_LIT("google_ads"),
	[PXD_EVENT_TO_TIKTOK] = SV_LIT("tiktok"),
	[PXD_EVENT_TO_WEBHOOK] = SV_LIT("webhook"),
	[PXD_EVENT_TO_SEGMENT] = SV_LIT("segment"),
	[PXD_EVENT_TO_AMPLITUDE] = SV_LIT("amplitude"),
	[PXD_EVENT_TO_MIXPANEL] = SV_LIT("mixpanel"),
	[PXD_EVENT_TO_POSTHOG] = SV_LIT("posthog"),
};

static const struct pxd_sv source_names[PXD_EVENT_SOURCE_COUNT] = {
	[PXD_EVENT_SOURCE_PIXEL] = SV_LIT("pixel"), [PXD_EVENT_SOURCE_BEACON] = SV_LIT("beacon"),
	[PXD_EVENT_SOURCE_S2S] = SV_LIT("s2s"),	    [PXD_EVENT_SOURCE_SEGMENT] = SV_LIT("segment"),
	[PXD_EVENT_SOURCE_EMAIL] = SV_LIT("email"),
};

/* The hashed user fields, in output order. */
enum hashed {
	HASHED_EMAIL = 0,
	HASHED_EMAIL_GOOGLE,
	HASHED_PHONE,
	HASHED_PHONE_E164,
	HASHED_FIRST_NAME,
	HASHED_LAST_NAME,
	HASHED_GENDER,
	HASHED_DOB,
	HASHED_COUNT, /* number of hashed fields; keep last */
};

static const struct pxd_sv hashed_keys[HASHED_COUNT] = {
	[HASHED_EMAIL] = QK_LIT("email_sha256"),
	[HASHED_EMAIL_GOOGLE] = QK_LIT("email_google_sha256"),
	[HASHED_PHONE] = QK_LIT("phone_sha256"),
	[HASHED_PHONE_E164] = QK_LIT("phone_e164_sha256"),
	[HASHED_FIRST_NAME] = QK_LIT("first_name_sha256"),
	[HASHED_LAST_NAME] = QK_LIT("last_name_sha256"),
	[HASHED_GENDER] = QK_LIT("gender_sha256"),
	[HASHED_DOB] = QK_LIT("dob_sha256"),
};

/* The plain-text address fields, in output order, and their rule. */
static const struct {
	enum pxd_user_field field;
	pxd_pii_norm_fn *norm;
} address_fields[] = {
	{ PXD_USER_FIELD_CITY, pxd_pii_norm_city },
	{ PXD_USER_FIELD_STATE, pxd_pii_norm_state },
	{ PXD_USER_FIELD_ZIP, pxd_pii_norm_zip },
	{ PXD_USER_FIELD_COUNTRY, pxd_pii_norm_country },
};

#define NADDRESS ARRAY_SIZE(address_fields)

void pxd_event_reset(struct pxd_event *ev)
{
	memset(ev, 0, sizeof(*ev));
}

enum pxd_consent pxd_event_consent_parse(struct pxd_sv v)
{
	if (pxd_sv_eq_lit(v, "granted"))
		return PXD_CONSENT_GRANTED;
	if (pxd_sv_eq_lit(v, "denied"))
		return PXD_CONSENT_DENIED;
	return PXD_CONSENT_INVALID;
}

enum pxd_refusal pxd_event_refuse(char *detail, size_t dlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, dlen, fmt, ap);
	va_end(ap);
	return PXD_REFUSAL_BAD_EVENT;
}

static bool is_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == ' ' || c == '.' || c == '-';
}

/* Printable ASCII but '"' and '\\': JSON's plain bytes (json_plain.h, 16 at a
 * time) less DEL. */
static bool is_id(struct pxd_sv v)
{
	return pxd_json_plain_run(v.p, v.n) == v.n && !memchr(v.p, 0x7f, v.n);
}

static bool all_chars(struct pxd_sv v, bool (*ok)(unsigned char))
{
	for (size_t i = 0; i < v.n; i++)
		if (!ok((unsigned char)v.p[i]))
			return false;
	return true;
}

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The action_source words of event.h (Meta's list, which the others map from). */
static bool known_action_source(struct pxd_sv v)
{
	static const char *const words[] = {
		"website",	    "app",   "phone_call", "physical_store",
		"system_generated", "email", "chat",	   "other"
	};

	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (pxd_sv_eq_lit(v, words[i]))
			return true;
	return false;
}

/* The client's ts in ms: below PXD_EVENT_TS_SECONDS_BELOW it was seconds. */
static int64_t ts_ms(const struct pxd_event *ev)
{
	if (ev->ts >= 0 && ev->ts < PXD_EVENT_TS_SECONDS_BELOW)
		return ev->ts * 1000;
	return ev->ts;
}

enum pxd_refusal pxd_event_check(const struct pxd_event *ev, int64_t now_ms, char *detail,
				 size_t dlen)
{
	if (!ev->name.n)
		return pxd_event_refuse(detail, dlen,
					"event: required; name the event, e.g. \"PageView\"");
	if (ev->name.n > PXD_EVENT_NAME_MAX || !all_chars(ev->name, is_name_char))
		return pxd_event_refuse(
		    detail, dlen, "event: use 1..%d characters of A-Z a-z 0-9 _ . - and space",
		    PXD_EVENT_NAME_MAX);
	if (ev->event_id.p &&
	    (!ev->event_id.n || ev->event_id.n > PXD_EVENT_ID_MAX || !is_id(ev->event_id)))
		return pxd_event_refuse(
		    detail, dlen,
		    "event_id: use 1..%d printable ASCII characters without quotes or "
		    "backslashes, or leave it out to have one generated",
		    PXD_EVENT_ID_MAX);
	if (ev->has_ts) {
		int64_t ts = ts_ms(ev);

		if (ts > now_ms + PXD_EVENT_FUTURE_MS)
			return pxd_event_refuse(detail, dlen,
						"ts: more than 10 minutes in the future; send Unix "
						"milliseconds");
		if (ts < PXD_EVENT_MIN_TS_MS)
			return pxd_event_refuse(detail, dlen,
						"ts: before 2000-01-01; send Unix milliseconds");
	}
	if (ev->action_source.p && !known_action_source(ev->action_source))
		return pxd_event_refuse(detail, dlen,
					"action_source: use website, app, phone_call, "
					"physical_store, system_generated, email, chat or other");
	if (ev->url.n > PXD_EVENT_URL_MAX)
		return pxd_event_refuse(detail, dlen, "url: longer than %d bytes",
					PXD_EVENT_URL_MAX);
	if (ev->referrer.n > PXD_EVENT_URL_MAX)
		return pxd_event_refuse(detail, dlen, "referrer: longer than %d bytes",
					PXD_EVENT_URL_MAX);
	for (int f = 0; f < PXD_USER_FIELD_COUNT; f++)
		if (ev->user[f].n > PXD_EVENT_USER_MAX)
			return pxd_event_refuse(detail, dlen, "user.%s: longer than %d bytes",
						pxd_event_user_names[f].p, PXD_EVENT_USER_MAX);
	for (int f = PXD_USER_FIELD_EMAIL_GOOGLE_SHA256; f <= PXD_USER_FIELD_PHONE_E164_SHA256; f++)
		if (ev->user[f].n && !pxd_pii_is_sha256_hex(ev->user[f].p, ev->user[f].n))
			return pxd_event_refuse(
			    detail, dlen,
			    "user.%s: must be 64 lowercase hex digits (a SHA-256); "
			    "send the plain value in user.email or user.phone instead",
			    pxd_event_user_names[f].p);
	for (int f = 0; f < PXD_CLICK_FIELD_COUNT; f++)
		if (ev->click[f].n > PXD_EVENT_FIELD_MAX)
			return pxd_event_refuse(detail, dlen, "click.%s: longer than %d bytes",
						pxd_event_click_names[f].p, PXD_EVENT_FIELD_MAX);
	for (int f = 0; f < PXD_CONSENT_FIELD_COUNT; f++)
		if (ev->consent[f] == PXD_CONSENT_INVALID)
			return pxd_event_refuse(detail, dlen,
						"consent.%s: must be \"granted\" or \"denied\"",
						pxd_event_consent_names[f].p);
	if (ev->has_value && (!isfinite(ev->value) || ev->value < 0))
		return pxd_event_refuse(detail, dlen, "props.value: must be a non-negative number");
	if (ev->currency.p && (ev->currency.n != 3 || !all_chars(ev->currency, is_alpha)))
		return pxd_event_refuse(
		    detail, dlen,
		    "props.currency: must be a 3-letter ISO 4217 code such as \"USD\"");
	if (ev->order_id.n > PXD_EVENT_FIELD_MAX)
		return pxd_event_refuse(detail, dlen, "props.order_id: longer than %d bytes",
					PXD_EVENT_FIELD_MAX);
	for (unsigned i = 0; i < ev->ncustom; i++)
		if (ev->custom[i].value.n > PXD_EVENT_FIELD_MAX)
			return pxd_event_refuse(detail, dlen, "props.%.*s: longer than %d bytes",
						(int)ev->custom[i].name.n, ev->custom[i].name.p,
						PXD_EVENT_FIELD_MAX);
	return PXD_REFUSAL_NONE;
}

static void key(struct pxd_jsonw *w, struct pxd_sv qk)
{
	pxd_jsonw_key_quoted(w, qk.p, qk.n);
}

/* A string member under quoted key <qk>, left out when empty. */
static void member_sv(struct pxd_jsonw *w, struct pxd_sv qk, struct pxd_sv v)
{
	if (!v.n)
		return;
	key(w, qk);
	pxd_jsonw_string(w, v.p, v.n);
}

/* The same under one of the field-name tables' names (event.h), not quoted. */
static void member_named(struct pxd_jsonw *w, struct pxd_sv name, struct pxd_sv v)
{
	if (!v.n)
		return;
	pxd_jsonw_key(w, name.p, name.n);
	pxd_jsonw_string(w, v.p, v.n);
}

static void member_int(struct pxd_jsonw *w, struct pxd_sv qk, int64_t v)
{
	key(w, qk);
	pxd_jsonw_int(w, v);
}

/* What goes out under "user", computed before the object is opened so that
 * an object with nothing in it is left out. */
struct user_out {
	char hex[HASHED_COUNT][PXD_PII_HEX_LEN + 1];
	bool has[HASHED_COUNT];
	char addr[NADDRESS][PXD_EVENT_USER_MAX + 1];
	size_t addr_len[NADDRESS];
	bool any;
};

static bool hash_field(const struct pxd_event *ev, enum pxd_user_field f, pxd_pii_norm_fn *norm,
		       char out[PXD_PII_HEX_LEN + 1])
{
	return ev->user[f].n && pxd_pii_hash(norm, ev->user[f].p, ev->user[f].n, out);
}

/* An email or phone that came hashed has no variant of its own to derive:
 * the one sent beside it (checked hex) goes out, when it differs. */
static void sent_variant(const struct pxd_sv *in, enum pxd_user_field plain,
			 enum pxd_user_field variant, struct user_out *u, int h)
{
	if (!in[variant].n || !pxd_pii_is_sha256_hex(in[plain].p, in[plain].n) ||
	    (in[variant].n == in[plain].n && !memcmp(in[variant].p, in[plain].p, in[plain].n)))
		return;
	memcpy(u->hex[h], in[variant].p, PXD_PII_HEX_LEN);
	u->hex[h][PXD_PII_HEX_LEN] = '\0';
	u->has[h] = true;
}

static void user_prepare(const struct pxd_event *ev, struct user_out *u)
{
	const struct pxd_sv *in = ev->user;
	unsigned r;

	r = in[PXD_USER_FIELD_EMAIL].n
		? pxd_pii_hash_email(in[PXD_USER_FIELD_EMAIL].p, in[PXD_USER_FIELD_EMAIL].n,
				     u->hex[HASHED_EMAIL], u->hex[HASHED_EMAIL_GOOGLE])
		: 0;
	u->has[HASHED_EMAIL] = r >= 1;
	u->has[HASHED_EMAIL_GOOGLE] = r == 2;
	r = in[PXD_USER_FIELD_PHONE].n
		? pxd_pii_hash_phone(in[PXD_USER_FIELD_PHONE].p, in[PXD_USER_FIELD_PHONE].n,
				     u->hex[HASHED_PHONE], u->hex[HASHED_PHONE_E164])
		: 0;
	u->has[HASHED_PHONE] = r >= 1;
	u->has[HASHED_PHONE_E164] = r == 2;
	sent_variant(in, PXD_USER_FIELD_EMAIL, PXD_USER_FIELD_EMAIL_GOOGLE_SHA256, u,
		     HASHED_EMAIL_GOOGLE);
	sent_variant(in, PXD_USER_FIELD_PHONE, PXD_USER_FIELD_PHONE_E164_SHA256, u,
		     HASHED_PHONE_E164);
	u->has[HASHED_FIRST_NAME] =
	    hash_field(ev, PXD_USER_FIELD_FIRST_NAME, pxd_pii_norm_name, u->hex[HASHED_FIRST_NAME]);
	u->has[HASHED_LAST_NAME] =
	    hash_field(ev, PXD_USER_FIELD_LAST_NAME, pxd_pii_norm_name, u->hex[HASHED_LAST_NAME]);
	u->has[HASHED_GENDER] =
	    hash_field(ev, PXD_USER_FIELD_GENDER, pxd_pii_norm_gender, u->hex[HASHED_GENDER]);
	u->has[HASHED_DOB] =
	    hash_field(ev, PXD_USER_FIELD_DOB, pxd_pii_norm_dob, u->hex[HASHED_DOB]);

	u->any = in[PXD_USER_FIELD_ID].n || in[PXD_USER_FIELD_ANON_ID].n;
	for (int h = 0; h < HASHED_COUNT; h++)
		u->any |= u->has[h];
	for (size_t i = 0; i < NADDRESS; i++) {
		struct pxd_sv v = in[address_fields[i].field];

		/* An address the client hashed itself stays as sent. */
		if (pxd_pii_is_sha256_hex(v.p, v.n)) {
			memcpy(u->addr[i], v.p, v.n);
			u->addr_len[i] = v.n;
		} else {
			u->addr_len[i] =
			    address_fields[i].norm(v.p, v.n, u->addr[i], sizeof(u->addr[i]));
		}
		u->any |= u->addr_len[i] != 0;
	}
}

static void write_user(struct pxd_jsonw *w, const struct pxd_event *ev)
{
	struct user_out u;

	user_prepare(ev, &u);
	if (!u.any)
		return;
	key(w, QK("user"));
	pxd_jsonw_object_begin(w);
	member_named(w, pxd_event_user_names[PXD_USER_FIELD_ID], ev->user[PXD_USER_FIELD_ID]);
	member_named(w, pxd_event_user_names[PXD_USER_FIELD_ANON_ID],
		     ev->user[PXD_USER_FIELD_ANON_ID]);
	for (int h = 0; h < HASHED_COUNT; h++) {
		if (!u.has[h])
			continue;
		key(w, hashed_keys[h]);
		pxd_jsonw_string(w, u.hex[h], PXD_PII_HEX_LEN);
	}
	for (size_t i = 0; i < NADDRESS; i++)
		member_named(w, pxd_event_user_names[address_fields[i].field],
			     pxd_sv_make(u.addr[i], u.addr_len[i]));
	pxd_jsonw_object_end(w);
}

static void write_click(struct pxd_jsonw *w, const struct pxd_event *ev)
{
	bool any = false;

	for (int f = 0; f < PXD_CLICK_FIELD_COUNT; f++)
		any |= ev->click[f].n != 0;
	if (!any)
		return;
	key(w, QK("click"));
	pxd_jsonw_object_begin(w);
	for (int f = 0; f < PXD_CLICK_FIELD_COUNT; f++)
		member_named(w, pxd_event_click_names[f], ev->click[f]);
	pxd_jsonw_object_end(w);
}

static void write_props(struct pxd_jsonw *w, const struct pxd_event *ev)
{
	char cur[3];

	if (ev->props_json.n) {
		key(w, QK("props"));
		pxd_jsonw_raw(w, ev->props_json.p, ev->props_json.n);
		return;
	}
	if (!ev->has_value && !ev->currency.n && !ev->order_id.n && !ev->ncustom)
		return;
	key(w, QK("props"));
	pxd_jsonw_object_begin(w);
	if (ev->has_value) {
		key(w, QK("value"));
		pxd_jsonw_double(w, ev->value);
	}
	/* pxd_event_check let only three ASCII letters through */
	if (ev->currency.n == sizeof(cur)) {
		for (size_t i = 0; i < sizeof(cur); i++)
			cur[i] = (char)(ev->currency.p[i] & ~0x20);
		key(w, QK("currency"));
		pxd_jsonw_string(w, cur, sizeof(cur));
	}
	member_sv(w, QK("order_id"), ev->order_id);
	for (unsigned i = 0; i < ev->ncustom; i++) {
		pxd_jsonw_key(w, ev->custom[i].name.p, ev->custom[i].name.n);
		pxd_jsonw_string(w, ev->custom[i].value.p, ev->custom[i].value.n);
	}
	pxd_jsonw_object_end(w);
}

static void write_consent(struct pxd_jsonw *w, const struct pxd_event *ev)
{
	bool any = false;

	for (int f = 0; f < PXD_CONSENT_FIELD_COUNT; f++)
		any |=
		    ev->consent[f] == PXD_CONSENT_GRANTED || ev->consent[f] == PXD_CONSENT_DENIED;
	if (!any)
		return;
	key(w, QK("consent"));
	pxd_jsonw_object_begin(w);
	for (int f = 0; f < PXD_CONSENT_FIELD_COUNT; f++) {
		if (ev->consent[f] == PXD_CONSENT_GRANTED)
			member_named(w, pxd_event_consent_names[f], PXD_SV("granted"));
		else if (ev->consent[f] == PXD_CONSENT_DENIED)
			member_named(w, pxd_event_consent_names[f], PXD_SV("denied"));
	}
	pxd_jsonw_object_end(w);
}

static void write_to(struct pxd_jsonw *w, const struct pxd_event *ev)
{
	if (!ev->has_to)
		return;
	key(w, ev->to_except ? QK("not_to") : QK("to"));
	pxd_jsonw_array_begin(w);
	for (int t = 0; t < PXD_EVENT_TO_COUNT; t++)
		if (ev->to & (1u << t))
			pxd_jsonw_string(w, pxd_event_to_names[t].p, pxd_event_to_names[t].n);
	pxd_jsonw_array_end(w);
}

ssize_t pxd_event_serialize(struct pxd_event *ev, int64_t now_ms, struct pxd_uuid7 *uuid, char *out,
			    size_t cap)
{
	struct pxd_jsonw w;

	if (!ev->received_at)
		ev->received_at = now_ms;
	ev->ts = ev->has_ts ? ts_ms(ev) : ev->received_at;
	ev->has_ts = true;
	if (!ev->event_id.n) {
		pxd_uuid7_next(uuid, now_ms, ev->_id_buf);
		ev->event_id = pxd_sv_make(ev->_id_buf, PXD_UUID7_LEN);
	}

	pxd_jsonw_init(&w, out, cap);
	pxd_jsonw_object_begin(&w);
	member_int(&w, QK("v"), 1);
	member_sv(&w, QK("event_id"), ev->event_id);
	member_sv(&w, QK("event"), ev->name);
	member_int(&w, QK("ts"), ev->ts);
	member_int(&w, QK("received_at"), ev->received_at);
	if ((unsigned)ev->source < PXD_EVENT_SOURCE_COUNT)
		member_sv(&w, QK("source"), source_names[ev->source]);
	member_sv(&w, QK("action_source"), ev->action_source);
	member_sv(&w, QK("tenant"), ev->tenant);
	member_sv(&w, QK("host"), ev->host);
	if (ev->https)
		member_sv(&w, QK("scheme"), PXD_SV("https"));
	member_sv(&w, QK("url"), ev->url);
	member_sv(&w, QK("referrer"), ev->referrer);
	member_sv(&w, QK("ip"), ev->ip);
	member_sv(&w, QK("ua"), ev->user_agent);
	member_sv(&w, QK("fp_id"), ev->fp_id);
	write_user(&w, ev);
	write_click(&w, ev);
	write_props(&w, ev);
	write_consent(&w, ev);
	write_to(&w, ev);
	pxd_jsonw_object_end(&w);
	return pxd_jsonw_finish(&w);
}
