// SPDX-License-Identifier: MIT
/*
 * dispatcher.c - one dispatcher shard's thread (dispatcher.h): its streams
 * (the ring, or the journal read back), each destination's cursor and lag,
 * and the loop that routes, flushes and drives through the one delivery
 * interface (delivery_ops.h: local sinks, HTTP) and saves watermarks
 * (dispatch_durable.h). Shard thread; init/fini on the thread that sets the
 * shard up.
 */
#include "dispatcher.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "daemon/delivery/batcher.h"
#include "daemon/delivery/dispatch_conf.h"
#include "daemon/delivery/dispatch_durable.h"
#include "daemon/delivery/delivery_ops.h"
#include "daemon/delivery/dispatch_replay.h"
#include "dispatch_pool.h"
#include "ingest.h"
#include "log.h"
#include "watermark.h"

/* Records taken from the rings per pass before batches get a look-in. */
#define POP_BUDGET 4096
/* While HTTP deliveries are held, the idle wait grows from 1 ms to this
 * (rings hold seconds of traffic, so a sleeping dispatcher loses nothing). */
#define IDLE_SLEEP_MAX_MS 20
/* Local sinks and dead letters are synced, then watermarks published and
 * saved, this often while events move: a crash re-sends what was in flight
 * and at most this much of what was delivered after it. */
#define WM_PUBLISH_INTERVAL_MS 20
/* Records one lagging destination reads back per stream and pass. */
#define CATCH_UP_BUDGET 256
/* Damaged spans skipped in one read before the pass moves on. */
#define SKIPS_MAX 64

/* The implementations of delivery_ops.h, for the shard-wide calls. */
static const struct pxd_delivery_ops *const kinds[] = PXD_DELIVERY_KINDS;

/*
 * Where <key> (three bytes or more) first occurs in <s>: memmem()'s answer.
 * Sixteen positions at a time, those whose first and last bytes match are
 * compared whole: the key sits a few dozen bytes into every line, and
 * memmem()'s set-up per call cost more than the search (5% of a dispatcher
 * at batch 1,000).
 */
static const char *find_text(const char *s, size_t len, struct pxd_sv key)
{
	size_t i = 0;

#if defined(__SSE2__)
	const __m128i first = _mm_set1_epi8(key.p[0]);
	const __m128i last = _mm_set1_epi8(key.p[key.n - 1]);

	for (; i + key.n - 1 + 16 <= len; i += 16) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + i + key.n - 1));
		unsigned m = (unsigned)_mm_movemask_epi8(
		    _mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, last)));

		for (; m; m &= m - 1) {
			size_t at = i + (size_t)__builtin_ctz(m);

			if (!memcmp(s + at + 1, key.p + 1, key.n - 2))
				return s + at;
		}
	}
#endif
	return i < len ? memmem(s + i, len - i, key.p, key.n) : NULL;
}

/* The first string member <key> ("\"event\":\"") of a line: the server's
 * members come before any property of the same name. */
static struct pxd_sv line_member(const char *line, size_t len, struct pxd_sv key)
{
	const char *p = find_text(line, len, key);
	const char *end;

	if (!p)
		return PXD_SV_NULL;
	p += key.n;
	end = memchr(p, '"', len - (size_t)(p - line));
	return end ? pxd_sv_make(p, (size_t)(end - p)) : PXD_SV_NULL;
}

struct pxd_sv pxd_dispatcher_event_name(const char *line, size_t len)
{
	return line_member(line, len, PXD_SV("\"event\":\""));
}

struct pxd_sv pxd_dispatcher_event_tenant(const struct pxd_dest *dest, const char *line, size_t len)
{
	return dest->conf->ntenants ? line_member(line, len, PXD_SV("\"tenant\":\"")) : PXD_SV_NULL;
}

/*
 * One stream per ingest thread, each starting in journal mode at the lowest
 * watermark of its destinations: the replay of what an earlier run accepted
 * and did not deliver. New traffic is journaled meanwhile and read on.
 */
static int streams_init(struct pxd_dispatcher *ds, char *err, size_t errlen)
{
	const struct pxd_conf *conf = ds->d->conf;
	size_t ndests = conf->ndests;
	int rc;

	ds->nstreams = ds->d->ningest;
	ds->streams = calloc(ds->nstreams, sizeof(*ds->streams));
	ds->wm_all = calloc(ds->nstreams * (ndests ? ndests : 1), sizeof(*ds->wm_all));
	ds->lag_all = calloc(ds->nstreams * (ndests ? ndests : 1), sizeof(*ds->lag_all));
	if (!ds->streams || !ds->wm_all || !ds->lag_all)
		return -ENOMEM;
	for (unsigned i = 0; i < ds->nstreams; i++) {
		struct pxd_dstream *st = &ds->streams[i];
		uint64_t low = UINT64_MAX;

		st->ingest = i;
		st->wm = &ds->wm_all[(size_t)i * ndests];
		st->lag = &ds->lag_all[(size_t)i * ndests];
		for (size_t k = 0; k < ndests; k++)
			pxd_watermarks_get(ds->d->watermarks, conf->dests[k].name, i, ds->id,
					   &st->wm[k]);
		if (pxd_journal_stream_path(st->dir, sizeof(st->dir), conf->journal_dir, i, ds->id))
			return -ENAMETOOLONG;
		if (mkdir(st->dir, 0750) && errno != EEXIST) {
			rc = -errno;
			snprintf(err, errlen, "cannot create %s: %s; check journal.dir", st->dir,
				 strerror(-rc));
			return rc;
		}
		rc = pxd_journal_reader_open(st->dir, 0, &st->reader);
		if (rc) {
			snprintf(err, errlen, "cannot read %s: %s", st->dir, strerror(-rc));
			return rc;
		}
		for (size_t k = 0; k < ndests; k++)
			low = PXD_MIN(low, st->wm[k]);
		st->cursor = ndests ? low : 0;
		st->journal_mode = true;
		pxd_journal_reader_seek(st->reader, st->cursor);
	}
	return 0;
}

int pxd_dispatcher_init(struct pxd_dispatcher *ds, struct pxd_daemon *d, unsigned id, char *err,
			size_t errlen)
{
	const struct pxd_conf *conf = d->conf;
	int rc;

	memset(ds, 0, sizeof(*ds));
	ds->id = id;
	ds->d = d;
	rc = pxd_dispatch_wake_init(&ds->wake);
	if (rc)
		return rc;
	ds->m = pxd_metrics_dest_row(&d->metrics, id, 0);
	ds->dests = calloc(conf->ndests ? conf->ndests : 1, sizeof(*ds->dests));
	ds->batchers = calloc(conf->ndests ? conf->ndests : 1, sizeof(*ds->batchers));
	ds->unsynced = calloc(conf->ndests ? conf->ndests : 1, sizeof(*ds->unsynced));
	if (!ds->dests || !ds->batchers || !ds->unsynced)
		return -ENOMEM;
	if (pthread_mutex_init(&ds->replay_lock, NULL))
		return -ENOMEM;
	ds->replay_lock_init = true;
	for (unsigned i = 0; i < conf->ndests; i++) {
		struct pxd_dest *dest = &ds->dests[i];

		dest->conf = &conf->dests[i];
		dest->data_dir = conf->data_dir;
		dest->index = i;
		dest->adapter = pxd_adapter_find(dest->conf->type);
		if (!dest->adapter) {
			char types[256];

			pxd_adapter_types(types, sizeof(types));
			snprintf(err, errlen,
				 "%s:%d: destination \"%s\": unknown type \"%s\"; use one of: %s",
				 conf->path, dest->conf->line, dest->conf->name, dest->conf->type,
				 types);
			return -EINVAL;
		}
		rc = dest->adapter->init(dest, conf->path, err, errlen);
		if (rc)
			return rc;
		rc = pxd_batcher_init(&ds->batchers[i], dest,
				      pxd_delivery_of(dest)->max_in_flight(dest));
		if (rc)
			return rc;
	}
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		rc = kinds[k]->init ? kinds[k]->init(ds, err, errlen) : 0;
		if (rc)
			return rc;
	}
	return streams_init(ds, err, errlen);
}

void pxd_dispatcher_fini(struct pxd_dispatcher *ds)
{
	pxd_dispatch_wake_fini(&ds->wake);
	if (!ds->dests)
		return;
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++)
		if (kinds[k]->fini)
			kinds[k]->fini(ds);
	for (unsigned i = 0; ds->d && i < ds->d->conf->ndests; i++) {
		if (ds->dests[i].adapter)
			ds->dests[i].adapter->fini(&ds->dests[i]);
		pxd_batcher_fini(&ds->batchers[i]);
	}
	for (unsigned i = 0; ds->streams && i < ds->nstreams; i++) {
		pxd_journal_reader_close(ds->streams[i].reader);
		for (unsigned k = 0; ds->streams[i].lag && k < ds->d->conf->ndests; k++)
			pxd_journal_reader_close(ds->streams[i].lag[k].reader);
	}
	free(ds->streams);
	free(ds->wm_all);
	free(ds->lag_all);
	free(ds->unsynced);
	free(ds->dests);
	free(ds->batchers);
	ds->streams = NULL;
	ds->dests = NULL;
}

static bool has_room(const struct pxd_dispatcher *ds, unsigned i)
{
	return pxd_batcher_has_room(&ds->batchers[i], pxd_delivery_of(&ds->dests[i])->held(ds, i));
}

/*
 * Offers <rec> of stream <st> to destination <i>, unless that destination
 * had it before (a replay starts at the lowest watermark) or does not want
 * it. Returns false when its batch has no room, even after writing a local
 * one: the record is not taken.
 */
static bool route_one(struct pxd_dispatcher *ds, const struct pxd_dstream *st, unsigned i,
		      struct pxd_evrec *rec, struct pxd_sv name, json_t **ev, int64_t now)
{
	struct pxd_dest *dest = &ds->dests[i];

	if (rec->start < st->wm[i])
		return true;
	if (!pxd_dest_wants(dest, name.p, name.n,
			    pxd_dispatcher_event_tenant(dest, rec->line, rec->len))) {
		pxd_stat_add(&ds->m[i].events_filtered, 1);
		return true;
	}
	/* <*ev>: parsed once, shared by every HTTP batch (jansson refcounts). */
	return pxd_delivery_of(dest)->route(ds, i, rec, ev, now) != -ENOSPC;
}

/* Destination <i> reads stream <st> back from <pos> at its own pace. */
static void lag_start(struct pxd_dispatcher *ds, struct pxd_dstream *st, unsigned i, uint64_t pos)
{
	struct pxd_dlag *l = &st->lag[i];
	static __thread struct pxd_log_ratelimit rl;
	uint64_t suppressed = 0;

	if (pxd_dlag_begin(l, pos) && pxd_log_ratelimit_ok(&rl, 10000, &suppressed))
		pxd_log_info("dispatch",
			     "destination %s: behind on %s; it reads the journal at its own "
			     "cursor, the other destinations are not held up (similar lines "
			     "suppressed=%lu)",
			     ds->dests[i].conf->name, st->dir, suppressed);
}

/* Offers <rec> (from ingest stream <st>) to every destination on the shared
 * pass; one without room falls behind there and reads the journal itself. */
static void route(struct pxd_dispatcher *ds, struct pxd_dstream *st, struct pxd_evrec *rec,
		  int64_t now)
{
	struct pxd_sv name = pxd_dispatcher_event_name(rec->line, rec->len);
	unsigned ndests = ds->d->conf->ndests;
	json_t *ev = NULL;

	rec->_refs = 1; /* held by this function until the end */
	rec->stream = st->ingest;
	st->cursor = rec->end;
	for (unsigned i = 0; i < ndests; i++)
		if (!st->lag[i].lagging && !route_one(ds, st, i, rec, name, &ev, now))
			lag_start(ds, st, i, rec->start);
	json_decref(ev);
	pxd_dispatch_rec_unref(rec);
}

/* Opening or reading stream <st> failed; the next pass tries again. */
static void read_failed(const struct pxd_dstream *st, int rc)
{
	static __thread struct pxd_log_ratelimit rl;
	uint64_t suppressed;

	if (pxd_log_ratelimit_ok(&rl, 5000, &suppressed))
		pxd_log_err("dispatch", "reading %s: %s; retrying (similar lines suppressed=%lu)",
			    st->dir, strerror(-rc), suppressed);
}

/*
 * The next record of <r> below <limit>: damage is logged and skipped, a read
 * error logged. Returns PXD_JOURNAL_READ_OK with <jr> filled,
 * PXD_JOURNAL_READ_END when there is nothing more for now, or -errno.
 */
static int next_record(const struct pxd_dstream *st, struct pxd_journal_reader *r, uint64_t limit,
		       struct pxd_journal_rec *jr)
{
	for (unsigned skips = 0;; skips++) {
		int rc = pxd_journal_reader_next(r, limit, jr);
		uint64_t skipped = 0;

		if (rc == PXD_JOURNAL_READ_OK || rc == PXD_JOURNAL_READ_END)
			return rc;
		if (rc < 0) {
			read_failed(st, rc);
			return rc;
		}
		pxd_log_err("dispatch",
			    "%s: %s bytes at position %lx (%s); skipping them, "
			    "run pixelctl journal verify",
			    st->dir, rc == PXD_JOURNAL_READ_TORN ? "torn" : "corrupt",
			    pxd_journal_reader_pos(r),
			    pxd_journal_bad_name(pxd_journal_reader_bad(r)));
		rc = pxd_journal_reader_skip(r, &skipped);
		if (rc)
			return rc;
		if (skips == SKIPS_MAX)
			return PXD_JOURNAL_READ_END;
	}
}

/*
 * The next record of stream <st> that <r> holds below <limit>, as a record
 * to route, with <*cursor> moved past it; NULL when there is nothing more
 * for now (at the end <*cursor> moves up to <limit>: every record below it
 * is complete, it is what the writer has written) or memory ran out (<r> is
 * moved back so the record is read again).
 */
static struct pxd_evrec *read_next(const struct pxd_dstream *st, struct pxd_journal_reader *r,
				   uint64_t limit, uint64_t *cursor)
{
	struct pxd_journal_rec jr;
	struct pxd_evrec *rec;
	int rc = next_record(st, r, limit, &jr);

	if (rc == PXD_JOURNAL_READ_END)
		*cursor = PXD_MAX(*cursor, limit);
	if (rc != PXD_JOURNAL_READ_OK)
		return NULL;
	rec = pxd_evrec_new(jr.payload, jr.len - 1, jr.received_ms);
	if (!rec) {
		pxd_journal_reader_seek(r, jr.pos);
		return NULL;
	}
	rec->start = jr.pos;
	rec->end = jr.next;
	rec->stream = st->ingest;
	rec->_refs = 1;
	*cursor = rec->end;
	return rec;
}

/*
 * A lagging destination <i>: reads stream <st> from its own cursor while its
 * batch has room, up to where the shared pass is (and the writer has
 * written). There it joins the shared pass again.
 */
static size_t catch_up(struct pxd_dispatcher *ds, struct pxd_dstream *st, unsigned i, int64_t now,
		       size_t budget)
{
	struct pxd_dlag *l = &st->lag[i];
	uint64_t limit = PXD_MIN(st->cursor, __atomic_load_n(&st->js->written, __ATOMIC_ACQUIRE));
	struct pxd_evrec *rec;
	size_t n = 0;

	if (!l->reader) {
		int rc = pxd_journal_reader_open(st->dir, 0, &l->reader);

		if (rc) {
			read_failed(st, rc);
			return 0;
		}
		pxd_journal_reader_seek(l->reader, l->cursor);
	}
	while (n < budget && l->cursor < st->cursor && has_room(ds, i) &&
	       (rec = read_next(st, l->reader, limit, &l->cursor))) {
		json_t *ev = NULL;

		route_one(ds, st, i, rec, pxd_dispatcher_event_name(rec->line, rec->len), &ev, now);
		json_decref(ev);
		pxd_dispatch_rec_unref(rec);
		pxd_stat_add(&ds->replayed, 1);
		n++;
	}
	if (l->cursor >= st->cursor)
		__atomic_store_n(&l->lagging, 0, __ATOMIC_RELAXED);
	return n;
}

static void enter_journal_mode(struct pxd_dstream *st)
{
	st->journal_mode = true;
	st->resume_asked = false;
	st->reader_behind = false;
	pxd_journal_reader_seek(st->reader, st->cursor);
}

/* Whether every destination reads stream <st> at its own cursor now. */
static bool all_lagging(const struct pxd_dispatcher *ds, const struct pxd_dstream *st)
{
	unsigned ndests = ds->d->conf->ndests;

	for (unsigned i = 0; i < ndests; i++)
		if (!st->lag[i].lagging)
			return false;
	return ndests > 0;
}

/*
 * Ring mode: pop until the ring is empty. An empty ring with the overflow
 * flag up means ingest has stopped pushing and the rest is in the journal.
 * Popping never waits for a destination: one without room lags (route()).
 */
static size_t drain_ring(struct pxd_dispatcher *ds, struct pxd_dstream *st, int64_t now,
			 size_t budget)
{
	struct pxd_handoff *h = ds->d->handoff;
	size_t n = 0;
	struct pxd_evrec *rec;

	while (n < budget) {
		rec = pxd_handoff_pop_spsc(h, st->ingest, ds->id);
		if (!rec) {
			if (!__atomic_load_n(&st->js->overflow, __ATOMIC_ACQUIRE))
				break;
			/* Pushes made before the flag went up are visible now. */
			while ((rec = pxd_handoff_pop_spsc(h, st->ingest, ds->id)))
				route(ds, st, rec, now), n++;
			enter_journal_mode(st);
			break;
		}
		route(ds, st, rec, now);
		n++;
	}
	return n;
}

/*
 * Journal mode (after an overflow, and at start for the replay): read the
 * stream from the cursor up to what ingest has written. Once caught up, ask
 * ingest to push again; the first record it pushes (resume_at) is where the
 * ring takes over.
 */
static size_t read_journal(struct pxd_dispatcher *ds, struct pxd_dstream *st, int64_t now,
			   size_t budget)
{
	struct pxd_evrec *rec;
	uint64_t limit = __atomic_load_n(&st->js->written, __ATOMIC_ACQUIRE);
	bool resumed = st->resume_asked && !__atomic_load_n(&st->js->overflow, __ATOMIC_ACQUIRE);
	uint64_t resume_at = resumed ? __atomic_load_n(&st->js->resume_at, __ATOMIC_ACQUIRE) : 0;
	size_t n = 0;

	if (resumed)
		limit = PXD_MIN(limit, resume_at);
	if (all_lagging(ds, st)) {
		/* Each destination reads this stretch at its own cursor: a
		 * shared read would be a second read of every record, routed
		 * to nobody (a backlog drain's whole cost, twice). */
		st->cursor = PXD_MAX(st->cursor, limit);
		st->reader_behind = true;
	} else if (st->reader_behind) {
		pxd_journal_reader_seek(st->reader, st->cursor);
		st->reader_behind = false;
	}
	while (!st->reader_behind && n < budget &&
	       (rec = read_next(st, st->reader, limit, &st->cursor))) {
		route(ds, st, rec, now);
		pxd_stat_add(&ds->replayed, 1);
		n++;
	}
	if (resumed && st->cursor >= resume_at) {
		st->journal_mode = false;
	} else if (!st->resume_asked && st->cursor >= limit) {
		st->resume_asked = true;
		__atomic_store_n(&st->js->resume_req, 1, __ATOMIC_RELEASE);
	}
	return n;
}

static size_t drain(struct pxd_dispatcher *ds, int64_t now, size_t budget)
{
	size_t total = 0;
	size_t n;

	/* Round-robin over the ingest threads so one busy thread cannot starve
	 * the others' streams. */
	do {
		n = 0;
		for (unsigned i = 0; i < ds->nstreams; i++) {
			struct pxd_dstream *st = &ds->streams[i];

			n += st->journal_mode ? read_journal(ds, st, now, 256)
					      : drain_ring(ds, st, now, 256);
			for (unsigned k = 0; k < ds->d->conf->ndests; k++)
				if (st->lag[k].lagging && !pxd_dispatch_conf_retired(ds, k))
					n += catch_up(ds, st, k, now, CATCH_UP_BUDGET);
		}
		total += n;
	} while (n && total < budget);
	return total;
}

/* At shutdown (no producer left): every stream read to its end, every batch out. */
static bool caught_up(const struct pxd_dispatcher *ds)
{
	for (unsigned i = 0; i < ds->d->conf->ndests; i++)
		if (ds->batchers[i].n || pxd_delivery_of(&ds->dests[i])->busy(ds, i))
			return false;
	for (size_t k = 0; k < (size_t)ds->nstreams * ds->d->conf->ndests; k++)
		if (ds->lag_all[k].lagging &&
		    !pxd_dispatch_conf_retired(ds, (unsigned)(k % ds->d->conf->ndests)))
			return false;
	if (__atomic_load_n(&ds->replay_n, __ATOMIC_ACQUIRE))
		return false;
	for (unsigned i = 0; i < ds->nstreams; i++) {
		const struct pxd_dstream *st = &ds->streams[i];

		if (!st->journal_mode && __atomic_load_n(&st->js->overflow, __ATOMIC_ACQUIRE))
			return false;
		if (st->journal_mode &&
		    st->cursor < __atomic_load_n(&st->js->written, __ATOMIC_ACQUIRE))
			return false;
	}
	return pxd_handoff_backlog(ds->d->handoff, ds->id) == 0;
}

static void nap(int64_t ms)
{
	struct timespec ts = { 0, ms * 1000000 };

	nanosleep(&ts, NULL);
}

void *pxd_dispatcher_run(void *arg)
{
	struct pxd_dispatcher *ds = arg;
	struct pxd_daemon *d = ds->d;
	unsigned ndests = d->conf->ndests;
	int64_t idle_ms = 1;
	int64_t now = pxd_mono_ms();

	ds->reopen_seen = __atomic_load_n(&d->reopen_gen, __ATOMIC_ACQUIRE);
	ds->last_wm_save_ms = now;
	for (unsigned i = 0; i < ds->nstreams; i++)
		ds->streams[i].js = &d->ingest[i].streams[ds->id];
	pxd_dispatch_conf_enter(ds);
	{
		size_t resumed;

		pxd_dispatch_replay_resume(ds, &resumed); /* logged there */
	}
	for (;;) {
		int stop = __atomic_load_n(&d->stop_dispatch, __ATOMIC_ACQUIRE);
		unsigned gen = __atomic_load_n(&d->reopen_gen, __ATOMIC_ACQUIRE);
		bool flushed = false;
		size_t popped;

		pxd_dispatch_conf_sync(ds);
		now = pxd_mono_ms();
		__atomic_store_n(&d->disp_heartbeat_ms[ds->id], now, __ATOMIC_RELAXED);
		if (gen != ds->reopen_seen) {
			ds->reopen_seen = gen;
			pxd_dispatch_durable_reopen(ds, now);
			ds->wm_dirty = true;
		}
		/* A pool swap (dispatch_pool.h) takes nothing new: the next pool routes it. */
		popped = stop == PXD_DISPATCH_STOP_SWAP
			     ? 0
			     : drain(ds, now, stop ? SIZE_MAX : POP_BUDGET);
		popped += pxd_dispatch_replay_drain(ds, now);
		for (unsigned i = 0; i < ndests; i++)
			flushed |= pxd_delivery_of(&ds->dests[i])->flush(ds, i, now, stop != 0);
		ds->wm_dirty |= popped || flushed;
		if (ds->wm_dirty && now - ds->last_wm_save_ms >= WM_PUBLISH_INTERVAL_MS) {
			/* A failed sync holds watermarks: tried again without new events. */
			ds->wm_dirty = !pxd_dispatch_durable_save(ds, now);
			ds->last_wm_save_ms = now;
		}
		for (size_t k = 0; k < ARRAY_SIZE(kinds); k++)
			if (kinds[k]->tick)
				kinds[k]->tick(ds, now, false);
		if (stop == PXD_DISPATCH_STOP_SWAP ? pxd_dispatch_pool_settled(ds)
						   : stop && (stop == 2 || caught_up(ds)))
			break;
		if (popped || flushed) {
			idle_ms = 1;
			for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
				int done = kinds[k]->drive ? kinds[k]->drive(ds, 0) : 0;

				if (done < 0)
					nap(idle_ms);
				ds->wm_dirty |= done > 0;
			}
		} else {
			/* Until the next batch is due or an ingest thread kicks. */
			ds->wm_dirty |= pxd_dispatch_wake_wait(ds, now, idle_ms) > 0;
			idle_ms = PXD_MIN(idle_ms * 2, IDLE_SLEEP_MAX_MS);
		}
	}
	for (unsigned i = 0; i < ndests; i++) {
		size_t n = ds->batchers[i].n + pxd_delivery_of(&ds->dests[i])->held(ds, i);

		if (n)
			pxd_log_warn("dispatch",
				     "destination %s: %zu events not delivered by the "
				     "shutdown deadline; they stay in the journal and are "
				     "sent after the restart",
				     ds->dests[i].conf->name, n);
	}
	pxd_dispatch_durable_save(ds, now);
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++)
		if (kinds[k]->tick)
			kinds[k]->tick(ds, now, true);
	pxd_dispatch_conf_leave(ds);
	return NULL;
}

size_t pxd_dispatcher_backlog(const struct pxd_daemon *d, unsigned dest)
{
	size_t n = 0;

	for (unsigned s = 0; s < d->ndisp; s++) {
		n += pxd_handoff_backlog(d->handoff, s);
		n += pxd_stat_get(&pxd_metrics_dest_row(&d->metrics, s, dest)->pending);
	}
	return n;
}
