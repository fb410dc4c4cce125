// SPDX-License-Identifier: MIT
/*
 * mock_args.c - the mockplatform command line (mock_args.h): the flag table,
 * --help, and each flag's value checks.
 */
#include "mock_args.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

/* --fault platform=meta,status=500,count=3: the control object as k=v pairs. */
static json_t *fault_flag(const char *spec)
{
	json_t *o = json_object();
	char *dup = strdup(spec), *save = NULL;

	for (char *kv = strtok_r(dup, ",", &save); o && kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '='), *end;
		long long n;

		if (!eq) {
			json_decref(o);
			o = NULL;
			break;
		}
		*eq = '\0';
		n = strtoll(eq + 1, &end, 10);
		json_object_set_new(o, kv,
				    *end || end == eq + 1 ? json_string(eq + 1) : json_integer(n));
	}
	free(dup);
	return o;
}

int pxd_mock_args_init(struct pxd_mock_args *a)
{
	memset(a, 0, sizeof(*a));
	a->listen_addr = "127.0.0.1:9099";
	a->max_body = PXD_MOCK_DEFAULT_MAX_BODY;
	a->max_conns = 256;
	a->faults = json_array();
	return a->faults ? 0 : -ENOMEM;
}

void pxd_mock_args_fini(struct pxd_mock_args *a)
{
	json_decref(a->faults);
	a->faults = NULL;
}

static const char usage[] =
    "usage: mockplatform [options]\n"
    "\n"
    "A mock of the ad platforms pixeld delivers to, for tests, benches and rehearsals.\n"
    "Point a destination's api_base (google_ads: also token_url; webhook: url) here.\n"
    "\n"
    "  --listen ADDR:PORT          listen address (default 127.0.0.1:9099; port 0 picks one\n"
    "                              and prints it on stdout)\n"
    "  --record FILE               append every accepted event as one JSONL line\n"
    "                              {platform, event_id, event, received_at}\n"
    "  --meta-token T              Meta access_token to accept (default: any non-empty)\n"
    "  --ga4-secret S              GA4 api_secret to accept (default: any non-empty)\n"
    "  --tiktok-token T            TikTok Access-Token to accept (default: any non-empty)\n"
    "  --gads-developer-token T    Google Ads developer-token to accept (default: any)\n"
    "  --oauth-client-id ID        OAuth client_id for POST /token (default: any)\n"
    "  --oauth-client-secret S     OAuth client_secret (default: any)\n"
    "  --oauth-refresh-token T     OAuth refresh_token (default: any)\n"
    "  --oauth-expires-in SECONDS  lifetime of issued access tokens (default 3599)\n"
    "  --webhook-secret S          verify X-Pixeld-Signature with S (default: header only)\n"
    "  --meta-reject-marker M      Meta refuses a whole batch holding an event whose\n"
    "                              event_id contains M (code 100)\n"
    "  --gads-row-error CODE       every Google Ads row fails with ConversionUploadError CODE\n"
    "  --credential PLATFORM=T     the bearer token linkedin, snapchat, pinterest or reddit\n"
    "                              accepts; segment's write key, amplitude's and posthog's\n"
    "                              api_key, mixpanel's user:secret or token (repeatable;\n"
    "                              default: any non-empty)\n"
    "  --reject-marker M           linkedin, snapchat, pinterest, reddit, segment, amplitude,\n"
    "                              mixpanel and posthog refuse an event whose id contains M,\n"
    "                              each the way it refuses a bad event\n"
    "  --fault SPEC                a fault, as control keys: platform=meta,status=500,count=3\n"
    "                              (repeatable; keys as for POST /_control below)\n"
    "  --latency-ms N              delay every platform answer by N ms\n"
    "  --max-body BYTES            largest request body (default 4194304)\n"
    "  --max-conns N               connections at once (default 256)\n"
    "  --verbose                   log one line per platform request\n"
    "  --count-key NAME            counting mode, for benchmarks: platform bodies are not\n"
    "                              parsed or checked; each \"NAME\": in one counts an\n"
    "                              accepted event (event_id for Meta, TikTok, Pinterest),\n"
    "                              and the answer is 200 {}\n"
    "  --help                      this text\n"
    "\n"
    "Endpoints (POST):\n"
    "  /{version}/{pixel_id}/events                     Meta Conversions API\n"
    "  /mp/collect, /debug/mp/collect                   GA4 Measurement Protocol\n"
    "  /{version}/customers/{cid}:uploadClickConversions Google Ads\n"
    "  /token                                           Google OAuth2 refresh\n"
    "  /open_api/v1.3/event/track/                      TikTok Events API\n"
    "  /webhook...                                      pixeld webhook receiver\n"
    "  /rest/conversionEvents                           LinkedIn Conversions API\n"
    "  /v3/{pixel_id}/events[/validate]                 Snapchat Conversions API\n"
    "  /v5/ad_accounts/{id}/events                      Pinterest Conversions API\n"
    "  /api/v3/pixels/{id}/conversion_events            Reddit Conversions API\n"
    "  /v1/batch                                        Segment HTTP Tracking API\n"
    "  /2/httpapi, /batch                               Amplitude HTTP V2, Batch\n"
    "  /import                                          Mixpanel import\n"
    "  /batch/                                          PostHog capture\n"
    "  /_control   JSON: platform (meta|ga4|google_ads|oauth|tiktok|webhook|linkedin|\n"
    "              snapchat|pinterest|reddit|segment|amplitude|mixpanel|posthog|*),\n"
    "              status, code, subcode, count (default 1), for_ms (a window instead),\n"
    "              retry_after (seconds), latency_ms,\n"
    "              reset (true: RST, no answer), clear, reset_stats, revoke_tokens,\n"
    "              meta_reject_marker, gads_row_error, reject_marker\n"
    "  GET /_stats  requests, accepted events, refused requests per platform, and\n"
    "              cpu_s: the mock's own CPU time (user + system seconds)\n";

enum {
	OPT_LISTEN = 256,
	OPT_RECORD,
	OPT_META_TOKEN,
	OPT_GA4_SECRET,
	OPT_TIKTOK_TOKEN,
	OPT_GADS_DEV,
	OPT_OAUTH_ID,
	OPT_OAUTH_SECRET,
	OPT_OAUTH_REFRESH,
	OPT_OAUTH_EXPIRES,
	OPT_WEBHOOK_SECRET,
	OPT_META_MARKER,
	OPT_GADS_ROW_ERROR,
	OPT_CREDENTIAL,
	OPT_REJECT_MARKER,
	OPT_FAULT,
	OPT_LATENCY,
	OPT_MAX_BODY,
	OPT_MAX_CONNS,
	OPT_VERBOSE,
	OPT_COUNT_KEY,
	OPT_HELP,
};

static const struct option options[] = {
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "record", required_argument, NULL, OPT_RECORD },
	{ "meta-token", required_argument, NULL, OPT_META_TOKEN },
	{ "ga4-secret", required_argument, NULL, OPT_GA4_SECRET },
	{ "tiktok-token", required_argument, NULL, OPT_TIKTOK_TOKEN },
	{ "gads-developer-token", required_argument, NULL, OPT_GADS_DEV },
	{ "oauth-client-id", required_argument, NULL, OPT_OAUTH_ID },
	{ "oauth-client-secret", required_argument, NULL, OPT_OAUTH_SECRET },
	{ "oauth-refresh-token", required_argument, NULL, OPT_OAUTH_REFRESH },
	{ "oauth-expires-in", required_argument, NULL, OPT_OAUTH_EXPIRES },
	{ "webhook-secret", required_argument, NULL, OPT_WEBHOOK_SECRET },
	{ "meta-reject-marker", required_argument, NULL, OPT_META_MARKER },
	{ "gads-row-error", required_argument, NULL, OPT_GADS_ROW_ERROR },
	{ "credential", required_argument, NULL, OPT_CREDENTIAL },
	{ "reject-marker", required_argument, NULL, OPT_REJECT_MARKER },
	{ "fault", required_argument, NULL, OPT_FAULT },
	{ "latency-ms", required_argument, NULL, OPT_LATENCY },
	{ "max-body", required_argument, NULL, OPT_MAX_BODY },
	{ "max-conns", required_argument, NULL, OPT_MAX_CONNS },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "count-key", required_argument, NULL, OPT_COUNT_KEY },
	{ "help", no_argument, NULL, OPT_HELP },
	{ 0 },
};

/* Copies a flag value into a fixed field; false when it does not fit. */
static bool set_str(char *dst, size_t cap, const char *v)
{
	return (size_t)snprintf(dst, cap, "%s", v) < cap;
}

static bool set_uint(const char *v, unsigned long long max, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(v, &end, 10);
	return !errno && end != v && !*end && *out <= max;
}

/* --credential PLATFORM=VALUE into <conf>; false for an unknown platform. */
static bool set_credential(struct pxd_mock_conf *conf, const char *v)
{
	const char *eq = strchr(v, '=');
	char name[32];
	int p;

	if (!eq || (size_t)(eq - v) >= sizeof(name))
		return false;
	snprintf(name, sizeof(name), "%.*s", (int)(eq - v), v);
	p = pxd_mock_platform_parse(name);
	return p >= 0 && set_str(conf->credential[p], sizeof(conf->credential[p]), eq + 1);
}

int pxd_mock_args_parse(int argc, char **argv, struct pxd_mock_args *a)
{
	struct pxd_mock_conf *conf = &a->conf;
	unsigned long long n;
	int opt;
	bool ok = true;

	while (ok && (opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case OPT_LISTEN:
			a->listen_addr = optarg;
			break;
		case OPT_RECORD:
			a->record_path = optarg;
			break;
		case OPT_META_TOKEN:
			ok = set_str(conf->meta_token, sizeof(conf->meta_token), optarg);
			break;
		case OPT_GA4_SECRET:
			ok = set_str(conf->ga4_secret, sizeof(conf->ga4_secret), optarg);
			break;
		case OPT_TIKTOK_TOKEN:
			ok = set_str(conf->tiktok_token, sizeof(conf->tiktok_token), optarg);
			break;
		case OPT_GADS_DEV:
			ok = set_str(conf->gads_developer_token, sizeof(conf->gads_developer_token),
				     optarg);
			break;
		case OPT_OAUTH_ID:
			ok = set_str(conf->oauth_client_id, sizeof(conf->oauth_client_id), optarg);
			break;
		case OPT_OAUTH_SECRET:
			ok = set_str(conf->oauth_client_secret, sizeof(conf->oauth_client_secret),
				     optarg);
			break;
		case OPT_OAUTH_REFRESH:
			ok = set_str(conf->oauth_refresh_token, sizeof(conf->oauth_refresh_token),
				     optarg);
			break;
		case OPT_OAUTH_EXPIRES:
			ok = set_uint(optarg, 86400 * 365, &n) && n > 0;
			conf->oauth_expires_in = (uint32_t)n;
			break;
		case OPT_WEBHOOK_SECRET:
			ok = set_str(conf->webhook_secret, sizeof(conf->webhook_secret), optarg);
			break;
		case OPT_META_MARKER:
			ok = set_str(conf->meta_reject_marker, sizeof(conf->meta_reject_marker),
				     optarg);
			break;
		case OPT_GADS_ROW_ERROR:
			ok = set_str(conf->gads_row_error, sizeof(conf->gads_row_error), optarg);
			break;
		case OPT_CREDENTIAL:
			ok = set_credential(conf, optarg);
			break;
		case OPT_REJECT_MARKER:
			ok = set_str(conf->reject_marker, sizeof(conf->reject_marker), optarg);
			break;
		case OPT_FAULT: {
			json_t *f = fault_flag(optarg);

			ok = f && !json_array_append_new(a->faults, f);
			break;
		}
		case OPT_LATENCY:
			ok = set_uint(optarg, 600000, &n);
			a->latency_ms = (uint32_t)n;
			break;
		case OPT_MAX_BODY:
			ok = set_uint(optarg, 1ull << 30, &n) && n >= PXD_HTTP_MAX_BODY;
			a->max_body = (size_t)n;
			break;
		case OPT_MAX_CONNS:
			ok = set_uint(optarg, 65536, &n) && n > 0;
			a->max_conns = (size_t)n;
			break;
		case OPT_VERBOSE:
			a->verbose = true;
			break;
		case OPT_COUNT_KEY:
			ok = optarg[0] && strlen(optarg) <= 100 && !strpbrk(optarg, "\"\\");
			a->count_key = optarg;
			break;
		case OPT_HELP:
			fputs(usage, stdout);
			return 1;
		default:
			ok = false;
			break;
		}
		if (!ok && opt != '?')
			fprintf(stderr, "mockplatform: --%s: bad value \"%s\"; see --help\n",
				options[opt - OPT_LISTEN].name, optarg ? optarg : "");
	}
	if (ok && optind < argc) {
		fprintf(stderr, "mockplatform: unexpected argument \"%s\"; see --help\n",
			argv[optind]);
		ok = false;
	}
	return ok ? 0 : -1;
}
