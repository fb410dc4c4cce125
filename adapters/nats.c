// SPDX-License-Identifier: MIT
/*
 * The nats destination: publishes each canonical event to JetStream as
 * <subject>.<tenant>.<event> with Nats-Msg-Id <tenant>:<event_id>, so the
 * stream's duplicate window drops a republish after a crash or failover.
 * It is also the ingest role's publisher (the destination "nats" that
 * conf_check.c puts in place of the others).
 *
 * A batch is published asynchronously (at most nats.max_pending acks
 * outstanding) and write_local returns once every message has its PubAck
 * or error: an event is OK only on its PubAck, so the journal watermark of
 * this destination never passes an event JetStream has not stored. While
 * the link is down the batch fails at once (all RETRY) and the journal
 * keeps the backlog; a link lost while acks are outstanding fails the batch
 * within LINK_CHECK_MS (the unsettled events stay RETRY). The ack handler
 * runs on the library's thread; the batch state it writes is behind <mu>.
 *
 * Keys: those of [nats] (conf_nats.h), inherited when not set here.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapter.h"
#include "conf_nats.h"
#include "log.h"
#include "nats_link.h"
#include "strview.h"

/* The library reports a PubAck missing after this long as an error. */
#define PUBACK_WAIT_MS 5000
/* Our own bound on the wait, past the library's, in case a callback never comes. */
#define BATCH_WAIT_MS (PUBACK_WAIT_MS + 2000)
/* While waiting for PubAcks, how often the link's state is looked at. */
#define LINK_CHECK_MS 50
#define MAX_BATCH 1000

struct nats_pub {
	struct pxd_conf_nats conf;
	struct pxd_nats_link link;
	bool stream_ok;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* The batch in flight, behind <mu>. */
	natsMsg *msgs[MAX_BATCH];
	struct pxd_outcome *out;
	size_t n;
	size_t settled;
	size_t hint; /* acks come mostly in order: where to look first */
};

/* Ack handler (library thread): the outcome of one message of the batch. */
static void on_puback(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
	struct nats_pub *p = closure;

	(void)js;
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < p->n; i++) {
		size_t k = (p->hint + i) % p->n;

		if (p->msgs[k] != msg)
			continue;
		p->msgs[k] = NULL;
		if (pa) {
			p->out[k].delivery = PXD_DELIVERY_OK;
		} else {
			p->out[k].delivery = pae && pae->Err == NATS_MAX_PAYLOAD
						 ? PXD_DELIVERY_PERMANENT
						 : PXD_DELIVERY_RETRY;
			snprintf(p->out[k].reason, sizeof(p->out[k].reason), "nats: %s",
				 pae && pae->ErrText
				     ? pae->ErrText
				     : natsStatus_GetText(pae ? pae->Err : NATS_ERR));
		}
		p->hint = k + 1;
		if (++p->settled == p->n)
			pthread_cond_signal(&p->cv);
		break;
	}
	pthread_mutex_unlock(&p->mu);
	natsMsg_Destroy(msg);
}

static int nats_init(struct pxd_dest *dest, const char *conf_path, char *err, size_t errlen)
{
	const struct pxd_conf_dest *c = dest->conf;
	struct nats_pub *p = calloc(1, sizeof(*p));
	jsOptions jo;
	char why[512];
	int rc;

	if (!p)
		return -ENOMEM;
	dest->priv = p;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	pxd_conf_nats_defaults(&p->conf);
	for (size_t i = 0; i < c->nkv; i++) {
		rc = pxd_conf_nats_set(&p->conf, c->kv[i].key, c->kv[i].value, why, sizeof(why));
		if (rc == -ENOENT)
			snprintf(why, sizeof(why),
				 "unknown key for type nats; it takes the keys of [nats]");
		if (rc) {
			snprintf(err, errlen, "%s:%d: destination \"%s\": %s: %s", conf_path,
				 c->kv[i].line, c->name, c->kv[i].key, why);
			return -EINVAL;
		}
	}
	rc = pxd_conf_nats_check(&p->conf, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "%s:%d: destination \"%s\": %s", conf_path, c->line, c->name,
			 why);
		return rc;
	}
	jsOptions_Init(&jo);
	jo.PublishAsync.MaxPending = p->conf.max_pending;
	jo.PublishAsync.AckHandler = on_puback;
	jo.PublishAsync.AckHandlerClosure = p;
	rc = pxd_nats_link_open(&p->link, &p->conf, "pixeld", true, &jo, why, sizeof(why));
	if (rc)
		snprintf(err, errlen, "destination \"%s\": cannot reach NATS: %s; check %s",
			 c->name, why,
			 rc == -EINVAL ? "nats.creds, nkey_seed, user and tls_ca" : "nats.servers");
	return rc;
}

static void nats_fini(struct pxd_dest *dest)
{
	struct nats_pub *p = dest->priv;

	if (!p)
		return;
	pxd_nats_link_close(&p->link);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
	dest->priv = NULL;
}

/* The string value of top-level <key> in a canonical line (written by
 * pxd_event_serialize: top-level keys come first, values are escaped). */
static struct pxd_sv line_field(const char *line, size_t len, const char *key)
{
	char pat[24];
	int n = snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	const char *p = memmem(line, len, pat, (size_t)n);
	const char *end;

	if (!p)
		return PXD_SV_NULL;
	p += n;
	end = memchr(p, '"', len - (size_t)(p - line));
	return end ? pxd_sv_make(p, (size_t)(end - p)) : PXD_SV_NULL;
}

/* Makes message <k> of the batch: subject and Msg-Id from the line. */
static natsStatus make_msg(const struct nats_pub *p, const struct pxd_batch_item *it, natsMsg **msg)
{
	struct pxd_sv tenant = line_field(it->line, it->len, "tenant");
	struct pxd_sv event = line_field(it->line, it->len, "event");
	struct pxd_sv id = line_field(it->line, it->len, "event_id");
	char subject[PXD_CONF_NATS_TOKEN_MAX + 2 * 130];
	char msgid[256];
	size_t off;
	natsStatus s;

	off = (size_t)snprintf(subject, sizeof(subject), "%s.", p->conf.subject);
	off += pxd_nats_subject_token(subject + off, 128, tenant.p, tenant.n);
	subject[off++] = '.';
	pxd_nats_subject_token(subject + off, 128, event.p, event.n);
	snprintf(msgid, sizeof(msgid), "%.*s:%.*s", (int)PXD_MIN(tenant.n, 120), tenant.p,
		 (int)PXD_MIN(id.n, 120), id.p);
	s = natsMsg_Create(msg, subject, NULL, it->line, (int)it->len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(*msg, "Nats-Msg-Id", msgid);
	return s;
}

/*
 * Waits until every message of the batch is settled, at most BATCH_WAIT_MS,
 * and no longer than LINK_CHECK_MS once the link is down: the PubAcks of a
 * server that went away do not come, and answers parked for them under
 * ack=replicated must learn so in a bounded time (a 503, not a hang).
 * Returns false when it gave up with messages unsettled.
 */
static bool wait_settled(struct nats_pub *p)
{
	struct timespec deadline;
	bool done;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += BATCH_WAIT_MS / 1000;
	pthread_mutex_lock(&p->mu);
	while (p->settled < p->n && pxd_nats_link_up(&p->link)) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		if (until.tv_sec > deadline.tv_sec ||
		    (until.tv_sec == deadline.tv_sec && until.tv_nsec >= deadline.tv_nsec))
			break;
		until.tv_nsec += LINK_CHECK_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&p->cv, &p->mu, &until);
	}
	done = p->settled >= p->n;
	pthread_mutex_unlock(&p->mu);
	return done;
}

/* After a timeout: take back what the library still holds (no callback will
 * come for those), so the next batch starts clean; they stay RETRY. */
static void reclaim(struct nats_pub *p)
{
	natsMsgList left = { 0 };

	if (js_PublishAsyncGetPendingList(&left, p->link.js) == NATS_OK)
		natsMsgList_Destroy(&left);
	pthread_mutex_lock(&p->mu);
	p->n = 0;
	pthread_mutex_unlock(&p->mu);
}

static int nats_write(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_outcome *out)
{
	struct nats_pub *p = dest->priv;
	jsPubOptions po;
	size_t n = PXD_MIN(b->n, (size_t)MAX_BATCH); /* the batcher keeps to max_events */
	char why[512];

	if (!pxd_nats_link_up(&p->link))
		return -ENOTCONN;
	if (!p->stream_ok) {
		if (pxd_nats_link_stream(&p->link, &p->conf, p->conf.subject, why, sizeof(why))) {
			pxd_log_warn("nats", "destination %s: %s; retrying", dest->conf->name, why);
			return -EIO;
		}
		p->stream_ok = true;
	}
	jsPubOptions_Init(&po);
	po.MaxWait = PUBACK_WAIT_MS;
	/* Every message exists before the first is published, so the ack
	 * handler finds its own however early it runs. */
	pthread_mutex_lock(&p->mu);
	p->out = out;
	p->n = n;
	p->settled = 0;
	p->hint = 0;
	for (size_t k = 0; k < n; k++) {
		p->msgs[k] = NULL;
		if (make_msg(p, &b->items[k], &p->msgs[k]) != NATS_OK) {
			natsMsg_Destroy(p->msgs[k]);
			p->msgs[k] = NULL;
			snprintf(out[k].reason, sizeof(out[k].reason), "nats: out of memory");
			p->settled++;
		}
	}
	pthread_mutex_unlock(&p->mu);
	for (size_t k = 0; k < n; k++) {
		natsMsg *msg = p->msgs[k];
		natsStatus s;

		if (!msg)
			continue;
		s = js_PublishMsgAsync(p->link.js, &msg, &po);
		if (s == NATS_OK)
			continue;
		/* Not handed over: no callback comes for it. */
		pthread_mutex_lock(&p->mu);
		p->msgs[k] = NULL;
		snprintf(out[k].reason, sizeof(out[k].reason), "nats: %s", natsStatus_GetText(s));
		p->settled++;
		pthread_mutex_unlock(&p->mu);
		natsMsg_Destroy(msg);
	}
	if (wait_settled(p))
		return 0;
	reclaim(p);
	/* The link went away with acks outstanding: say so, as a publish on a
	 * link already down does (the batch keeps the unsettled events). */
	return pxd_nats_link_up(&p->link) ? 0 : -ENOTCONN;
}

const struct pxd_adapter pxd_adapter_nats = {
	.type = "nats",
	.max_events = MAX_BATCH,
	.max_bytes = 8u << 20,
	.flags = PXD_ADAPTER_LOCAL,
	.init = nats_init,
	.fini = nats_fini,
	.write_local = nats_write,
};
