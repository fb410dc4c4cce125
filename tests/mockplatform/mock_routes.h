/* SPDX-License-Identifier: MIT */
/*
 * mock_routes.h - the platform side of the mock platform server
 * (tests/mockplatform/main.c): answers one parsed request the way Meta CAPI,
 * GA4 Measurement Protocol, Google Ads (and its OAuth token endpoint), TikTok
 * Events API, a pixeld webhook receiver, the LinkedIn, Snapchat, Pinterest
 * and Reddit Conversions APIs, Segment, Amplitude, Mixpanel and PostHog
 * answer (specs/ad-apis.md §2, §9),
 * checking auth, batch limits, required fields and hash formats, and lists
 * the events it accepted. Also writes the platform-shaped error bodies that
 * fault injection sends. Each platform is one file (mock_platform.h says how
 * to add one); mock_routes.c is the table. No I/O: the server owns sockets,
 * timing and the record file. A struct pxd_mock belongs to the server's one
 * thread.
 */
#ifndef PXD_MOCK_ROUTES_H
#define PXD_MOCK_ROUTES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "http_parse.h"

enum pxd_mock_platform {
	PXD_MOCK_META = 0,
	PXD_MOCK_GA4,
	PXD_MOCK_GOOGLE_ADS,
	PXD_MOCK_OAUTH,
	PXD_MOCK_TIKTOK,
	PXD_MOCK_WEBHOOK,
	PXD_MOCK_LINKEDIN,
	PXD_MOCK_SNAPCHAT,
	PXD_MOCK_PINTEREST,
	PXD_MOCK_REDDIT,
	PXD_MOCK_SEGMENT,
	PXD_MOCK_AMPLITUDE,
	PXD_MOCK_MIXPANEL,
	PXD_MOCK_POSTHOG,
	PXD_MOCK_PLATFORM_COUNT, /* number of platforms; keep last */
};

#define PXD_MOCK_TOKENS 16

/* What the operator configured (flags). An empty credential accepts any
 * non-empty one. */
struct pxd_mock_conf {
	char meta_token[256];
	char tiktok_token[256];
	char ga4_secret[256];
	char gads_developer_token[256];
	char oauth_client_id[256];
	char oauth_client_secret[256];
	char oauth_refresh_token[512];
	uint32_t oauth_expires_in; /* seconds */
	char webhook_secret[256];
	char meta_reject_marker[64]; /* event_id containing it: Meta refuses the batch */
	char gads_row_error[64];     /* a ConversionUploadError every row gets, or "" */
	/* --credential PLATFORM=VALUE: the bearer token of a platform without a
	 * flag of its own (linkedin, snapchat, pinterest, reddit, ...); for
	 * segment the write key, amplitude and posthog the api_key, mixpanel
	 * "service-account:secret" or the token or API secret. */
	char credential[PXD_MOCK_PLATFORM_COUNT][256];
	/* event id containing it: linkedin, snapchat, pinterest and reddit
	 * refuse that event the way each refuses a bad one; amplitude and
	 * mixpanel per event, segment and posthog with its batch */
	char reject_marker[64];
};

/* Mutable state across requests: issued tokens, Google Ads dedup keys. */
struct pxd_mock {
	struct pxd_mock_conf conf;
	struct {
		char token[64];
		int64_t expires_at_ms;
	} tokens[PXD_MOCK_TOKENS];
	unsigned ntokens_issued;
	json_t *gads_seen;	  /* (click id, action, time) keys already uploaded */
	uint64_t ids;		  /* request ids handed out */
	json_t *amplitude_eps;	  /* events per user or device id in amplitude_second */
	int64_t amplitude_second; /* Unix s */
};

/* One answer. <records> holds {"platform","event_id","event"} objects for
 * the events the platform accepted; the caller owns and frees it. */
struct pxd_mock_resp {
	int status;
	int retry_after_s; /* -1: no Retry-After */
	char content_type[48];
	char extra_header[128]; /* "Name: value" or "" */
	struct pxd_buf body;
	json_t *records;
	bool refused; /* the platform refused or dropped something */
};

/* Sets <m> up with <conf>. Returns 0 or -ENOMEM. */
int pxd_mock_init(struct pxd_mock *m, const struct pxd_mock_conf *conf);

/* Frees what <m> holds. Accepts a zeroed struct. */
void pxd_mock_fini(struct pxd_mock *m);

/* Returns the platform serving <path> (as sent, without the query), or -1. */
int pxd_mock_route(struct pxd_sv path);

/* Returns the platform's name ("meta", "ga4", ...), for stats and records. */
const char *pxd_mock_platform_name(enum pxd_mock_platform p);

/* Parses a platform name; returns it, or -1. */
int pxd_mock_platform_parse(const char *name);

/* Starts <r> empty (status 0, no Retry-After, no records). */
void pxd_mock_resp_init(struct pxd_mock_resp *r);

/* Frees <r>'s body and records. */
void pxd_mock_resp_fini(struct pxd_mock_resp *r);

/*
 * Answers <req> for platform <p> at <now_ms> (Unix ms) into <r>. Never fails:
 * a request the platform would refuse gets the platform's refusal.
 */
void pxd_mock_handle(struct pxd_mock *m, enum pxd_mock_platform p, const struct pxd_http_req *req,
		     int64_t now_ms, struct pxd_mock_resp *r);

/*
 * Writes an injected failure the way <p> reports it: HTTP <status> (0 picks
 * the platform's usual one) and, where the platform has them, body code
 * <code> and <subcode> (0: derived from <status>). TikTok codes come inside
 * a 200, as TikTok sends them.
 */
void pxd_mock_fault_reply(struct pxd_mock *m, enum pxd_mock_platform p, int status, long code,
			  long subcode, struct pxd_mock_resp *r);

/* Forgets every issued OAuth token, so the next Google Ads upload gets 401. */
void pxd_mock_revoke_tokens(struct pxd_mock *m);

#endif
