// SPDX-License-Identifier: MIT
/*
 * What the admin listener shows of TLS: the certificates in use (for
 * pixelctl tls status) and the pixeld_tls_* metrics. Cold path: runs on the
 * admin listener's ingest thread and allocates its answer.
 */
#include "tls.h"

#include <errno.h>
#include <stddef.h>

#include "buf.h"
#include "daemon/tls/tls_live.h"
#include "daemon/tls/tls_store.h"
#include "metrics.h"

static const char *const version_names[PXD_TLS_VERSION_COUNT] = {
	[PXD_TLS_V12] = "TLSv1.2",
	[PXD_TLS_V13] = "TLSv1.3",
};

static const char *const fail_names[PXD_TLS_FAIL_COUNT] = {
	[PXD_TLS_FAIL_TIMEOUT] = "timeout",	      [PXD_TLS_FAIL_PLAIN_HTTP] = "plain_http",
	[PXD_TLS_FAIL_NOT_TLS] = "not_tls",	      [PXD_TLS_FAIL_PROTOCOL] = "protocol",
	[PXD_TLS_FAIL_UNKNOWN_NAME] = "unknown_name", [PXD_TLS_FAIL_ALPN] = "alpn",
	[PXD_TLS_FAIL_PEER_CLOSED] = "peer_closed",   [PXD_TLS_FAIL_OTHER] = "other",
};

const char *pxd_tls_version_name(enum pxd_tls_version v)
{
	return (unsigned)v < PXD_TLS_VERSION_COUNT ? version_names[v] : "unknown";
}

const char *pxd_tls_fail_name(enum pxd_tls_fail f)
{
	return (unsigned)f < PXD_TLS_FAIL_COUNT ? fail_names[f] : "other";
}

/* Writes <s> as a JSON string; certificate subjects may hold quotes and backslashes. */
static void json_str(struct pxd_buf *out, const char *s)
{
	pxd_buf_puts(out, "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			pxd_buf_printf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			pxd_buf_printf(out, "\\u%04x", (unsigned char)*s);
		else
			pxd_buf_append(out, s, 1);
	}
	pxd_buf_puts(out, "\"");
}

static int64_t days_left(int64_t not_after, int64_t now_ms)
{
	int64_t left = not_after - now_ms / 1000;

	return left < 0 ? -((-left + 86399) / 86400) : left / 86400;
}

int pxd_tls_live_status_json(struct pxd_tls_live *live, int64_t now_ms, struct pxd_buf *out)
{
	const struct pxd_tls_store *st;
	SSL_CTX *base;

	if (!live)
		return pxd_buf_puts(out, "{\"enabled\":false,\"certificates\":[]}");
	base = pxd_tls_live_acquire(live, NULL);
	st = pxd_tls_store_of(base);
	pxd_buf_puts(out, "{\"enabled\":true,\"certificates\":[");
	for (size_t i = 0; i < st->n; i++) {
		const struct pxd_tls_entry *e = &st->e[i];

		pxd_buf_printf(out, "%s{\"name\":", i ? "," : "");
		json_str(out, e->name);
		pxd_buf_puts(out, ",\"subject\":");
		json_str(out, e->info.subject);
		pxd_buf_puts(out, ",\"names\":");
		json_str(out, e->info.names);
		pxd_buf_puts(out, ",\"hosts\":[");
		for (size_t h = 0; h < e->nhosts; h++) {
			pxd_buf_puts(out, h ? "," : "");
			json_str(out, e->hosts[h]);
		}
		pxd_buf_printf(out,
			       "],\"not_before\":%ld,\"not_after\":%ld,\"days_left\":%ld,"
			       "\"default\":%s}",
			       (long)e->info.not_before, (long)e->info.not_after,
			       (long)days_left(e->info.not_after, now_ms),
			       st->default_idx == (int)i ? "true" : "false");
	}
	pxd_buf_puts(out, "]}");
	SSL_CTX_free(base);
	return out->p ? 0 : -ENOMEM;
}

static uint64_t sum(const struct pxd_metrics *m, size_t off)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < m->ningest; i++)
		n += pxd_stat_get((const uint64_t *)((const char *)&m->ingest[i].tls + off));
	return n;
}

static void render_expiry(struct pxd_tls_live *live, int64_t now_ms, struct pxd_buf *out)
{
	const struct pxd_tls_store *st;
	SSL_CTX *base;

	if (!live)
		return;
	base = pxd_tls_live_acquire(live, NULL);
	st = pxd_tls_store_of(base);
	pxd_buf_puts(out, "# HELP pixeld_tls_certificate_expiry_seconds Seconds until each "
			  "certificate in use expires (negative: expired).\n"
			  "# TYPE pixeld_tls_certificate_expiry_seconds gauge\n");
	for (size_t i = 0; i < st->n; i++)
		pxd_buf_printf(out, "pixeld_tls_certificate_expiry_seconds{name=\"%s\"} %ld\n",
			       st->e[i].name, (long)(st->e[i].info.not_after - now_ms / 1000));
	SSL_CTX_free(base);
}

int pxd_tls_metrics_render(struct pxd_tls_live *live, const struct pxd_metrics *m, int64_t now_ms,
			   struct pxd_buf *out)
{
	pxd_buf_puts(out, "# HELP pixeld_tls_handshakes_total TLS handshakes, by result and "
			  "version (failed ones have no version).\n"
			  "# TYPE pixeld_tls_handshakes_total counter\n");
	for (unsigned v = 0; v < PXD_TLS_VERSION_COUNT; v++)
		pxd_buf_printf(
		    out, "pixeld_tls_handshakes_total{result=\"ok\",version=\"%s\"} %lu\n",
		    version_names[v],
		    sum(m, offsetof(struct pxd_tls_stats, handshakes) + v * sizeof(uint64_t)));
	{
		uint64_t failed = 0;

		for (unsigned f = 0; f < PXD_TLS_FAIL_COUNT; f++)
			failed +=
			    sum(m, offsetof(struct pxd_tls_stats, failures) + f * sizeof(uint64_t));
		pxd_buf_printf(out,
			       "pixeld_tls_handshakes_total{result=\"failed\",version=\"none\"} "
			       "%lu\n",
			       failed);
	}
	pxd_buf_puts(out, "# HELP pixeld_tls_resumptions_total Handshakes that resumed a session "
			  "from a ticket, by version.\n"
			  "# TYPE pixeld_tls_resumptions_total counter\n");
	for (unsigned v = 0; v < PXD_TLS_VERSION_COUNT; v++)
		pxd_buf_printf(
		    out, "pixeld_tls_resumptions_total{version=\"%s\"} %lu\n", version_names[v],
		    sum(m, offsetof(struct pxd_tls_stats, resumed) + v * sizeof(uint64_t)));
	pxd_buf_puts(out, "# HELP pixeld_tls_handshake_failures_total Failed TLS handshakes, by "
			  "reason.\n# TYPE pixeld_tls_handshake_failures_total counter\n");
	for (unsigned f = 0; f < PXD_TLS_FAIL_COUNT; f++)
		pxd_buf_printf(
		    out, "pixeld_tls_handshake_failures_total{reason=\"%s\"} %lu\n", fail_names[f],
		    sum(m, offsetof(struct pxd_tls_stats, failures) + f * sizeof(uint64_t)));
	render_expiry(live, now_ms, out);
	return out->p ? 0 : -ENOMEM;
}
