// SPDX-License-Identifier: MIT
/*
 * A NATS connection from configuration keys, the JetStream stream pixeld
 * publishes into, and subject tokens. Whichever thread owns the link.
 */
#include "nats_link.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

#define RECONNECT_WAIT_MS 250

static int fail(char *err, size_t errlen, const char *what, natsStatus s)
{
	natsStatus last;
	const char *text = nats_GetLastError(&last);

	snprintf(err, errlen, "%s: %s", what, text && *text ? text : natsStatus_GetText(s));
	return -ENOTCONN;
}

/* Library thread. Its presence makes a failed first connect return at once
 * and go on in the background (without it, natsConnection_Connect blocks
 * until a server answers). */
static void on_connected(natsConnection *nc, void *closure)
{
	char url[256] = "";

	(void)closure;
	natsConnection_GetConnectedUrl(nc, url, sizeof(url));
	pxd_log_info("nats", "connected to %s", url);
}

static natsStatus set_auth(natsOptions *o, const struct pxd_conf_nats *c)
{
	natsStatus s = NATS_OK;

	if (c->creds[0])
		s = natsOptions_SetUserCredentialsFromFiles(o, c->creds, NULL);
	if (s == NATS_OK && c->nkey_seed[0])
		s = natsOptions_SetNKeyFromSeed(o, NULL, c->nkey_seed);
	if (s == NATS_OK && c->user[0])
		s = natsOptions_SetUserInfo(o, c->user, c->password);
	if (s == NATS_OK && c->tls_ca[0]) {
		s = natsOptions_SetSecure(o, true);
		if (s == NATS_OK)
			s = natsOptions_LoadCATrustedCertificates(o, c->tls_ca);
	}
	return s;
}

int pxd_nats_link_open(struct pxd_nats_link *l, const struct pxd_conf_nats *c, const char *name,
		       bool retry, jsOptions *jo, char *err, size_t errlen)
{
	const char *urls[PXD_CONF_NATS_MAX_SERVERS];
	natsOptions *o = NULL;
	natsStatus s;
	int rc = 0;

	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < c->nservers; i++)
		urls[i] = c->servers[i];
	s = natsOptions_Create(&o);
	if (s == NATS_OK)
		s = natsOptions_SetServers(o, urls, (int)c->nservers);
	if (s == NATS_OK)
		s = natsOptions_SetName(o, name);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(o, c->connect_timeout_ms);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(o, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(o, RECONNECT_WAIT_MS);
	if (s == NATS_OK)
		s = natsOptions_SetRetryOnFailedConnect(o, retry, retry ? on_connected : NULL,
							NULL);
	if (s == NATS_OK)
		s = set_auth(o, c);
	if (s != NATS_OK) {
		fail(err, errlen, "nats options", s);
		rc = -EINVAL;
		goto out;
	}
	s = natsConnection_Connect(&l->nc, o);
	/* With retry, NATS_NOT_YET_CONNECTED means "connecting in the background". */
	if (s != NATS_OK && !(retry && s == NATS_NOT_YET_CONNECTED)) {
		rc = fail(err, errlen, c->servers[0], s);
		goto out;
	}
	s = natsConnection_JetStream(&l->js, l->nc, jo);
	if (s != NATS_OK)
		rc = fail(err, errlen, "jetstream context", s);
out:
	natsOptions_Destroy(o);
	if (rc)
		pxd_nats_link_close(l);
	return rc;
}

bool pxd_nats_link_up(const struct pxd_nats_link *l)
{
	return l->nc && natsConnection_Status(l->nc) == NATS_CONN_STATUS_CONNECTED;
}

int pxd_nats_link_stream(struct pxd_nats_link *l, const struct pxd_conf_nats *c,
			 const char *subject, char *err, size_t errlen)
{
	jsStreamInfo *si = NULL;
	jsStreamConfig cfg;
	jsErrCode jerr = 0;
	char filter[PXD_CONF_NATS_TOKEN_MAX + 3];
	const char *subjects[1] = { filter };
	natsStatus s = js_GetStreamInfo(&si, l->js, c->stream, NULL, &jerr);

	if (s == NATS_OK) {
		jsStreamInfo_Destroy(si);
		return 0;
	}
	if (s != NATS_NOT_FOUND) {
		fail(err, errlen, "stream info", s);
		return -EIO;
	}
	snprintf(filter, sizeof(filter), "%s.>", subject);
	jsStreamConfig_Init(&cfg);
	cfg.Name = c->stream;
	cfg.Subjects = subjects;
	cfg.SubjectsLen = 1;
	cfg.Storage = js_FileStorage;
	cfg.Replicas = (int64_t)c->replicas;
	cfg.Duplicates = (int64_t)c->duplicate_window_s * 1000000000;
	s = js_AddStream(&si, l->js, &cfg, NULL, &jerr);
	if (s != NATS_OK) {
		char what[256];

		snprintf(what, sizeof(what), "creating stream %s (subjects %s, replicas %u)",
			 c->stream, filter, c->replicas);
		fail(err, errlen, what, s);
		return -EIO;
	}
	jsStreamInfo_Destroy(si);
	return 0;
}

void pxd_nats_link_close(struct pxd_nats_link *l)
{
	jsCtx_Destroy(l->js);
	if (l->nc) {
		natsConnection_Close(l->nc);
		natsConnection_Destroy(l->nc);
	}
	l->js = NULL;
	l->nc = NULL;
}

size_t pxd_nats_subject_token(char *out, size_t cap, const char *token, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 1 < cap; i++) {
		unsigned char ch = (unsigned char)token[i];

		out[k++] =
		    ch <= ' ' || ch == '.' || ch == '*' || ch == '>' || ch == 127 ? '_' : (char)ch;
	}
	if (!k && cap > 1)
		out[k++] = '_';
	out[k] = '\0';
	return k;
}
