// SPDX-License-Identifier: MIT
/*
 * dispatch_wake.c - an idle dispatcher shard sleeps until its next batch is
 * due instead of napping 1 ms at a time, and the ingest threads kick it when
 * a batch's worth of events waits (on this VM every idle -> wake costs
 * ~30 us of CPU, so fewer wakes is the point). Wait: the shard's thread;
 * kick: ingest threads.
 */
#include "dispatch_wake.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/eventfd.h>
#include <sys/types.h>
#include <unistd.h>

#include "compiler.h"
#include "daemon.h"
#include "dispatcher.h"
#include "handoff.h"
#include "http_out.h"

int pxd_dispatch_wake_init(struct pxd_dispatch_wake *w)
{
	w->waiting = 0;
	w->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return w->fd < 0 ? -errno : 0;
}

void pxd_dispatch_wake_fini(struct pxd_dispatch_wake *w)
{
	if (w->fd > 0)
		close(w->fd);
	w->fd = -1;
}

static size_t kick_backlog(const struct pxd_daemon *d)
{
	return PXD_MIN((size_t)PXD_DISPATCH_WAKE_BACKLOG, (size_t)d->conf->ring_size / 4);
}

/* How long the shard may sleep: until its earliest batch is due. */
static int64_t sleep_ms(const struct pxd_dispatcher *ds, int64_t now, int64_t idle_ms)
{
	int64_t ms = PXD_DISPATCH_WAKE_MAX_MS;

	for (unsigned i = 0; i < ds->d->conf->ndests; i++) {
		const struct pxd_batcher *b = &ds->batchers[i];

		if (ds->hd && pxd_dispatch_is_http(&ds->dests[i]) && ds->hd[i].held)
			ms = PXD_MIN(ms, idle_ms);
		if (b->n)
			ms = PXD_MIN(ms, PXD_MAX(b->first_mono_ms + b->linger_ms, b->retry_at_ms) -
					     now);
	}
	return PXD_MAX(ms, 0);
}

int pxd_dispatch_wake_wait(struct pxd_dispatcher *ds, int64_t now, int64_t idle_ms)
{
	struct pxd_dispatch_wake *w = &ds->wake;
	int64_t ms = sleep_ms(ds, now, idle_ms);
	struct pollfd p = { .fd = w->fd, .events = POLLIN };
	int done = -1;
	uint64_t n;

	/* A batch already due that the pass did not flush waits on something
	 * other than time (in-flight limit, breaker): curl's completions end
	 * that wait, so it is the idle one, never a spin that leaves curl
	 * undriven. */
	if (!ms)
		ms = PXD_MAX(idle_ms, 1);
	__atomic_store_n(&w->waiting, 1, __ATOMIC_SEQ_CST);
	/* Events queued before <waiting> was set found no one to kick. */
	if (pxd_handoff_backlog(ds->d->handoff, ds->id) >= kick_backlog(ds->d)) {
		__atomic_store_n(&w->waiting, 0, __ATOMIC_RELAXED);
		return 0;
	}
	/* With HTTP destinations the wait is curl's, which also ends on a completion. */
	if (ds->http)
		done = pxd_http_out_drive(ds->http, (int)ms);
	if (done < 0 && poll(&p, 1, (int)ms) > 0) {
		/* Resets the counter; EAGAIN only means it was already zero. */
		ssize_t got = read(w->fd, &n, sizeof(n));

		(void)got;
	}
	__atomic_store_n(&w->waiting, 0, __ATOMIC_RELAXED);
	return PXD_MAX(done, 0);
}

void pxd_dispatch_wake_kick(struct pxd_daemon *d, unsigned shard)
{
	struct pxd_dispatcher *ds = &d->disp[shard];
	struct pxd_dispatch_wake *w = &ds->wake;
	uint64_t one = 1;
	ssize_t rc;

	if (!__atomic_load_n(&w->waiting, __ATOMIC_SEQ_CST) ||
	    pxd_handoff_backlog(d->handoff, shard) < kick_backlog(d) ||
	    !__atomic_exchange_n(&w->waiting, 0, __ATOMIC_ACQ_REL))
		return;
	rc = ds->http ? pxd_http_out_wakeup(ds->http) : write(w->fd, &one, sizeof(one));
	/* A kick that fails (the eventfd counter full: one is pending anyway)
	 * leaves the shard to wake at its deadline. */
	(void)rc;
}
