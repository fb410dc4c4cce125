// SPDX-License-Identifier: MIT
/*
 * The live certificate set: the base context the main thread published last,
 * and a generation the ingest threads poll once per loop pass. The mutex is
 * taken only by a thread that saw the generation change, to take its own
 * reference before the main thread may drop the old one.
 */
#include "tls.h"

#include <errno.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "daemon/tls/tls_live.h"
#include "daemon/tls/tls_store.h"
#include "daemon/tls/tls_tickets.h"
#include "log.h"

static void log_loaded(const SSL_CTX *base, const char *when)
{
	const struct pxd_tls_store *st = pxd_tls_store_of(base);

	for (size_t i = 0; i < st->n; i++)
		pxd_log_info("tls", "%s certificate \"%s\": %s, names %s, valid until %ld", when,
			     st->e[i].name, st->e[i].info.subject,
			     st->e[i].info.names[0] ? st->e[i].info.names : "(none)",
			     (long)st->e[i].info.not_after);
}

int pxd_tls_live_start(const struct pxd_conf *conf, struct pxd_tls_live **out, char *err,
		       size_t errlen)
{
	struct pxd_tls_live *live;
	int rc;

	*out = NULL;
	if (!conf->tls_listen.text[0])
		return 0;
	rc = pxd_tls_tickets_init(conf->tls.ticket_rotation_s);
	if (rc) {
		snprintf(err, errlen, "no randomness for the TLS ticket keys");
		return rc;
	}
	live = calloc(1, sizeof(*live));
	if (!live)
		return -ENOMEM;
	pthread_mutex_init(&live->mu, NULL);
	live->base = pxd_tls_store_build(&conf->tls, err, errlen);
	if (!live->base) {
		pxd_tls_live_stop(live);
		return -EINVAL;
	}
	live->gen = 1;
	log_loaded(live->base, "serving");
	*out = live;
	return 0;
}

int pxd_tls_live_reload(struct pxd_tls_live *live, const struct pxd_conf *conf)
{
	char err[1024] = "";
	SSL_CTX *fresh, *old;

	if (!live)
		return 0;
	fresh = pxd_tls_store_build(&conf->tls, err, sizeof(err));
	if (!fresh) {
		pxd_log_warn("tls", "SIGHUP: %s; the certificates in use stay", err);
		return -EINVAL;
	}
	pxd_tls_tickets_set_rotation(conf->tls.ticket_rotation_s);
	pthread_mutex_lock(&live->mu);
	old = live->base;
	live->base = fresh;
	__atomic_add_fetch(&live->gen, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&live->mu);
	SSL_CTX_free(old);
	log_loaded(fresh, "SIGHUP: now serving");
	return 0;
}

void pxd_tls_live_stop(struct pxd_tls_live *live)
{
	if (!live)
		return;
	SSL_CTX_free(live->base);
	pthread_mutex_destroy(&live->mu);
	free(live);
}

SSL_CTX *pxd_tls_live_acquire(struct pxd_tls_live *live, unsigned *gen)
{
	SSL_CTX *base;

	pthread_mutex_lock(&live->mu);
	base = live->base;
	SSL_CTX_up_ref(base);
	if (gen)
		*gen = live->gen;
	pthread_mutex_unlock(&live->mu);
	return base;
}

void pxd_tls_live_refresh(struct pxd_tls_live *live, struct pxd_tls_ref *ref)
{
	SSL_CTX *old = ref->base;

	if (!live || (old && __atomic_load_n(&live->gen, __ATOMIC_ACQUIRE) == ref->gen))
		return;
	ref->base = pxd_tls_live_acquire(live, &ref->gen);
	SSL_CTX_free(old);
}

void pxd_tls_ref_drop(struct pxd_tls_ref *ref)
{
	SSL_CTX_free(ref->base);
	ref->base = NULL;
}
