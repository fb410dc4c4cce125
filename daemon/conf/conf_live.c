// SPDX-License-Identifier: MIT
/*
 * conf_live.c - generations of the configuration (conf_live.h): each one
 * after the first is heap-allocated with the epoch entry ck_epoch_call()
 * needs, retired on publish and freed by the main thread's poll once every
 * reader has passed an epoch boundary. Publish, reclaim and notes: main
 * thread; the last-outcome text is read by the admin thread under a mutex
 * (not on the public request path).
 */
#include "conf_live.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"

/* One generation after the first: the configuration and its epoch entry. */
struct gen {
	ck_epoch_entry_t entry;
	struct pxd_conf conf;
};

static void gen_free(ck_epoch_entry_t *e)
{
	struct gen *g = container_of(e, struct gen, entry);

	/* Resolved write and secret keys live in it. */
	explicit_bzero(&g->conf, sizeof(g->conf));
	free(g);
}

int pxd_conf_live_init(struct pxd_conf_live *l, const struct pxd_conf *first, unsigned nreaders)
{
	memset(l, 0, sizeof(*l));
	l->records = calloc(nreaders ? nreaders : 1, sizeof(*l->records));
	if (!l->records)
		return -ENOMEM;
	if (pthread_mutex_init(&l->last_lock, NULL)) {
		free(l->records);
		l->records = NULL;
		return -ENOMEM;
	}
	ck_epoch_init(&l->epoch);
	ck_epoch_register(&l->epoch, &l->main_rec, NULL);
	for (unsigned i = 0; i < nreaders; i++)
		ck_epoch_register(&l->epoch, &l->records[i], NULL);
	l->nreaders = nreaders;
	l->first = first;
	l->cur = first;
	l->generation = 1;
	return 0;
}

void pxd_conf_live_fini(struct pxd_conf_live *l)
{
	if (!l->records)
		return;
	/* No reader is left: every deferred free can run now. */
	ck_epoch_barrier(&l->main_rec);
	if (l->cur != l->first)
		gen_free(&container_of(l->cur, struct gen, conf)->entry);
	pthread_mutex_destroy(&l->last_lock);
	free(l->records);
	l->records = NULL;
}

struct pxd_conf *pxd_conf_live_alloc(void)
{
	struct gen *g = calloc(1, sizeof(*g));

	return g ? &g->conf : NULL;
}

void pxd_conf_live_discard(struct pxd_conf *c)
{
	if (c)
		gen_free(&container_of(c, struct gen, conf)->entry);
}

uint64_t pxd_conf_live_publish(struct pxd_conf_live *l, struct pxd_conf *fresh)
{
	const struct pxd_conf *old = l->cur;

	ck_pr_store_ptr(&l->cur, fresh);
	if (old != l->first)
		ck_epoch_call(&l->main_rec, &container_of(old, struct gen, conf)->entry, gen_free);
	return __atomic_add_fetch(&l->generation, 1, __ATOMIC_RELEASE);
}

void pxd_conf_live_reclaim(struct pxd_conf_live *l)
{
	if (l->records)
		ck_epoch_poll(&l->main_rec);
}

void pxd_conf_live_note(struct pxd_conf_live *l, enum pxd_conf_reload_result r, int64_t now_ms,
			const char *error)
{
	__atomic_add_fetch(&l->reloads[r], 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&l->last_lock);
	l->last_result = r;
	l->last_ms = now_ms;
	snprintf(l->last_error, sizeof(l->last_error), "%s", error);
	pthread_mutex_unlock(&l->last_lock);
}

void pxd_conf_live_last(struct pxd_conf_live *l, enum pxd_conf_reload_result *r, int64_t *ms,
			char *error, size_t errlen)
{
	pthread_mutex_lock(&l->last_lock);
	*r = l->last_result;
	*ms = l->last_ms;
	snprintf(error, errlen, "%s", l->last_error);
	pthread_mutex_unlock(&l->last_lock);
}

const char *pxd_conf_reload_result_name(enum pxd_conf_reload_result r)
{
	static const char *const names[PXD_CONF_RELOAD_RESULT_COUNT] = { "none", "ok", "refused" };

	return r < PXD_CONF_RELOAD_RESULT_COUNT ? names[r] : "none";
}
