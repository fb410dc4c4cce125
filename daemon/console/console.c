// SPDX-License-Identifier: MIT
#include "daemon/console/console.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "event_line.h"
#include "daemon/console/console_stats.h"
#include "ingest.h"
#include "journal_format.h"
#include "log.h"

#define PASS_MS 200	      /* how often the journal is followed */
#define RECORDS_PER_PASS 2000 /* per stream, so one busy stream cannot hog a pass */

struct tail_ev {
	uint64_t id; /* 1, 2, ...: the SSE id */
	uint32_t len;
	char line[PXD_CONSOLE_LINE_MAX];
};

struct follow {
	struct pxd_journal_reader *r;
	const uint64_t *written; /* the writer's published end */
};

struct pxd_console {
	struct pxd_daemon *d;
	pthread_t thread;
	int stop; /* atomic */
	struct follow *streams;
	unsigned nstreams;
	struct pxd_console_stats stats;

	/* Shared with the admin listener's thread, under <lock>. */
	pthread_mutex_t lock;
	struct tail_ev *ring; /* PXD_CONSOLE_RING */
	uint64_t next_id;     /* id of the next event; ring[(id - 1) % RING] */
	struct pxd_buf snapshot;
};

/* Room for a name the console counts or shows (it keeps 63 bytes of it). */
#define NAME_MAX_BYTES 256

/* String <v> unescaped into <buf>; "" when it is absent, not a string or
 * longer than NAME_MAX_BYTES. */
static const char *text(const struct pxd_jv *v, char *buf)
{
	return pxd_jv_unescape(v, buf, NAME_MAX_BYTES) >= 0 ? buf : "";
}

static int open_kind(const char *name)
{
	for (int k = 0; k < PXD_OPEN_KIND_COUNT; k++)
		if (strcmp(name, pxd_mail_proxy_kind_name((enum pxd_open_kind)k)) == 0)
			return k;
	return -1;
}

/* An EmailOpen's campaign, counted with its kind of open. */
static void count_open(struct pxd_console *c, const struct pxd_event_line *el)
{
	static const char *const names[] = { "campaign", "open_kind" };
	char campaign[NAME_MAX_BYTES], kind[NAME_MAX_BYTES];
	struct pxd_jv v[2];

	pxd_line_props_members(el, names, 2, v);
	pxd_console_count(&c->stats.campaigns, text(&v[0], campaign), open_kind(text(&v[1], kind)));
}

/* One accepted event: counted by tenant, source and (EmailOpen) campaign and
 * kind, then put in the ring, as it is or, when longer than a line, as its
 * identifying fields. The line is read in place (event_line.h): every
 * accepted event passes here, watched or not. */
static void take_event(struct pxd_console *c, const char *payload, uint32_t len)
{
	char tenant_buf[NAME_MAX_BYTES], source_buf[NAME_MAX_BYTES], name_buf[NAME_MAX_BYTES];
	const char *tenant, *source, *name;
	struct pxd_event_line el;
	struct tail_ev *slot;

	while (len && payload[len - 1] == '\n')
		len--; /* an SSE data line ends at the first newline */
	if (pxd_event_line_read(&el, payload, len))
		return; /* not an event line: nothing for the tail */
	tenant = text(&el.top[PXD_LINE_TENANT], tenant_buf);
	source = text(&el.top[PXD_LINE_SOURCE], source_buf);
	name = text(&el.top[PXD_LINE_EVENT], name_buf);
	pxd_console_count(&c->stats.tenants, tenant, -1);
	pxd_console_count(&c->stats.sources, source, -1);
	if (strcmp(name, "EmailOpen") == 0)
		count_open(c, &el);
	pthread_mutex_lock(&c->lock);
	slot = &c->ring[c->next_id % PXD_CONSOLE_RING];
	slot->id = ++c->next_id;
	if (len < sizeof(slot->line)) {
		memcpy(slot->line, payload, len);
		slot->len = len;
	} else {
		char id[NAME_MAX_BYTES];
		int n =
		    snprintf(slot->line, sizeof(slot->line),
			     "{\"event_id\":\"%.100s\",\"event\":\"%.100s\",\"tenant\":\"%.63s\","
			     "\"source\":\"%.31s\",\"truncated\":%u}",
			     text(&el.top[PXD_LINE_EVENT_ID], id), name, tenant, source, len);

		slot->len = n > 0 ? (uint32_t)n : 0;
	}
	pthread_mutex_unlock(&c->lock);
}

static void follow_pass(struct pxd_console *c)
{
	for (unsigned i = 0; i < c->nstreams; i++) {
		struct follow *f = &c->streams[i];
		uint64_t limit = __atomic_load_n(f->written, __ATOMIC_ACQUIRE);

		for (unsigned n = 0; n < RECORDS_PER_PASS; n++) {
			struct pxd_journal_rec rec;
			uint64_t skipped = 0;
			int rc = pxd_journal_reader_next(f->r, limit, &rec);

			if (rc == PXD_JOURNAL_READ_OK) {
				take_event(c, rec.payload, rec.len);
				continue;
			}
			/* Damage is the dispatcher's to report; the tail steps over it. */
			if (rc == PXD_JOURNAL_READ_TORN || rc == PXD_JOURNAL_READ_CORRUPT)
				pxd_journal_reader_skip(f->r, &skipped);
			break;
		}
	}
}

static void publish_stats(struct pxd_console *c)
{
	struct pxd_buf b = { 0 };
	/* The reader after the ingest threads and shards: a reload may replace
	 * the dispatcher pool the stats read (dispatch_pool.h). */
	unsigned reader = c->d->ningest + c->d->ndisp;
	int rc;

	pxd_conf_live_enter(&c->d->live, reader);
	rc = pxd_console_stats_write(&c->stats, c->d, pxd_now_ms(), &b);
	pxd_conf_live_leave(&c->d->live, reader);
	if (rc) {
		pxd_buf_free(&b);
		return;
	}
	pthread_mutex_lock(&c->lock);
	pxd_buf_free(&c->snapshot);
	c->snapshot = b;
	pthread_mutex_unlock(&c->lock);
}

static void *console_run(void *arg)
{
	struct pxd_console *c = arg;
	int64_t next_stats = 0;

	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		struct timespec pause = { 0, PASS_MS * 1000000L };

		follow_pass(c);
		if (pxd_mono_ms() >= next_stats) {
			publish_stats(c);
			next_stats = pxd_mono_ms() + 1000;
		}
		nanosleep(&pause, NULL);
	}
	return NULL;
}

/* Opens a reader on every (ingest, shard) stream at its current end. */
static int open_streams(struct pxd_console *c)
{
	const struct pxd_daemon *d = c->d;

	c->streams = calloc((size_t)d->ningest * d->ndisp, sizeof(*c->streams));
	if (!c->streams)
		return -ENOMEM;
	for (unsigned i = 0; i < d->ningest; i++) {
		for (unsigned s = 0; s < d->ingest[i].nstreams; s++) {
			struct follow *f = &c->streams[c->nstreams];
			char dir[4200];
			int rc =
			    pxd_journal_stream_path(dir, sizeof(dir), d->conf->journal_dir, i, s);

			if (!rc)
				rc = pxd_journal_reader_open(dir, 0, &f->r);
			if (rc)
				return rc;
			f->written = &d->ingest[i].streams[s].written;
			pxd_journal_reader_seek(f->r,
						__atomic_load_n(f->written, __ATOMIC_ACQUIRE));
			c->nstreams++;
		}
	}
	return 0;
}

void pxd_console_stop(struct pxd_console *c)
{
	if (!c)
		return;
	if (c->thread) {
		__atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
		pthread_join(c->thread, NULL);
	}
	for (unsigned i = 0; i < c->nstreams; i++)
		pxd_journal_reader_close(c->streams[i].r);
	free(c->streams);
	free(c->ring);
	free(c->stats.dest_prev);
	pxd_buf_free(&c->snapshot);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int pxd_console_start(struct pxd_daemon *d, struct pxd_console **out)
{
	struct pxd_console *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return -ENOMEM;
	c->d = d;
	pthread_mutex_init(&c->lock, NULL);
	c->ring = calloc(PXD_CONSOLE_RING, sizeof(*c->ring));
	rc = c->ring ? open_streams(c) : -ENOMEM;
	if (!rc)
		publish_stats(c);
	if (!rc)
		rc = -pthread_create(&c->thread, NULL, console_run, c);
	if (rc) {
		pxd_console_stop(c);
		return rc;
	}
	*out = c;
	return 0;
}

int pxd_console_stream(struct pxd_console *c, uint64_t since, struct pxd_buf *out)
{
	pthread_mutex_lock(&c->lock);
	pxd_buf_printf(out, "retry: %d\n\nevent: stats\ndata: ", PXD_CONSOLE_RETRY_MS);
	pxd_buf_append(out, c->snapshot.p ? c->snapshot.p : "{}",
		       c->snapshot.p ? c->snapshot.len : 2);
	pxd_buf_puts(out, "\n\n");
	/* A new client gets the last few; the others what came after <since>,
	 * from the oldest event the ring still has, at most a batch (the
	 * newest). */
	if (!since)
		since = c->next_id > PXD_CONSOLE_FIRST ? c->next_id - PXD_CONSOLE_FIRST : 0;
	if (since < c->next_id) {
		uint64_t first = since + 1;

		if (c->next_id - first >= PXD_CONSOLE_RING)
			first = c->next_id - PXD_CONSOLE_RING + 1;
		if (c->next_id - first >= PXD_CONSOLE_BATCH)
			first = c->next_id - PXD_CONSOLE_BATCH + 1;
		for (uint64_t id = first; id <= c->next_id; id++) {
			const struct tail_ev *ev = &c->ring[(id - 1) % PXD_CONSOLE_RING];

			pxd_buf_printf(out, "event: ev\nid: %llu\ndata: ", (unsigned long long)id);
			pxd_buf_append(out, ev->line, ev->len);
			pxd_buf_puts(out, "\n\n");
		}
	} else {
		/* Nothing new: the client still learns where the ids are. */
		pxd_buf_printf(out, "event: id\nid: %llu\ndata: %llu\n\n",
			       (unsigned long long)c->next_id, (unsigned long long)c->next_id);
	}
	pthread_mutex_unlock(&c->lock);
	return out->p ? 0 : -ENOMEM;
}
