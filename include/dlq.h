/* SPDX-License-Identifier: MIT */
/*
 * dlq.h - dead letters: the events a destination refused for good, or that
 * aged out of their retries, kept per destination as JSON lines in
 * <data_dir>/dlq/<dest>.jsonl with the reason, a response excerpt and the
 * attempt count; and the reading side: list, show, and the replay selection
 * behind `pixelctl dlq replay`. A struct pxd_dlq (the writer) belongs to one
 * dispatcher thread; the reading functions may run on any thread or in
 * another process, without locking out the writers.
 *
 * One entry, one line (fields in this order; "event" is last and raw, so a
 * replay hands back the journaled bytes unchanged):
 *   {"id":"<uuidv7>","time":"2024-11-22T18:26:40.123Z","dest":"meta",
 *    "event_id":"...","status":400,"reason":"meta: (#100) ...",
 *    "response":"<excerpt or null>","attempts":3,"event":{...canonical...}}
 *
 * Files and durability: each entry is one write(2) on an O_APPEND descriptor,
 * so the writers of several dispatcher threads can share a file without their
 * lines interleaving (Linux serialises writes to one regular file). Appends
 * are not synced one by one; pxd_dlq_sync() fdatasyncs every file written
 * since the last sync, and the dispatcher calls it before a watermark passes
 * a dead-lettered event, so an entry is durable before its event may leave
 * the journal. Files are never rotated or trimmed by pixeld: dead letters are
 * data to act on, not a log. To archive, move <dest>.jsonl and <dest>.replayed
 * away together and signal SIGHUP (pxd_dlq_reopen()).
 *
 * Replay bookkeeping: the ids of replayed entries are appended to a companion
 * file <dest>.replayed (one id per line, synced before replay returns), under
 * an flock(2) so two replays cannot both send an entry. Once a replayed
 * event has an outcome at its destination (delivered, or dead-lettered anew),
 * its shard appends the id to <dest>.settled (pxd_dlq_settle(), synced with
 * the dead letters). An id in .replayed and not in .settled is a replay in
 * progress: after a crash the shards queue it again at start
 * (pxd_dlq_record.replay_pending). The .jsonl file is never rewritten, so
 * appends and replays never race. An event that fails again gets a new
 * entry with a new id and can be replayed again.
 */
#ifndef PXD_DLQ_H
#define PXD_DLQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PXD_DLQ_ID_LEN 36	/* a UUIDv7 in text form */
#define PXD_DLQ_TIME_LEN 24	/* "2024-11-22T18:26:40.123Z" */
#define PXD_DLQ_EXCERPT_MAX 512 /* response bytes kept, after sanitising */

struct pxd_dlq;

/*
 * Creates the writer for <data_dir> (which must exist), making
 * <data_dir>/dlq (mode 0700) when missing. Files are opened on first use.
 * Returns 0, -ENOMEM, -ENAMETOOLONG or the -errno of mkdir/getrandom.
 */
int pxd_dlq_open(struct pxd_dlq **out, const char *data_dir);

/* Closes the files (without syncing; call pxd_dlq_sync() first) and frees
 * <q>. Accepts NULL. */
void pxd_dlq_close(struct pxd_dlq *q);

/* What one dead letter records. Strings are the caller's. */
struct pxd_dlq_entry {
	const char *dest;  /* destination name: 1 to 63 of a-z 0-9 _ - */
	const char *event; /* the canonical event, one JSON object, no newline */
	size_t event_len;
	const char *reason;   /* the outcome's reason (adapters keep secrets out) */
	long status;	      /* HTTP status; 0 when never answered */
	const char *response; /* response body or NULL; only an excerpt is kept */
	size_t response_len;
	uint32_t attempts; /* requests that carried the event */
};

/*
 * Appends <e> at wall-clock <now_ms> (Unix ms) and writes its new id to <id>.
 * The response excerpt keeps at most PXD_DLQ_EXCERPT_MAX bytes of printable
 * ASCII (others become '?'), and replaces each run of 20 or more token
 * characters that mixes letters and digits (access tokens, API secrets,
 * hashes) by "[redacted]". Returns 0; -EINVAL for a bad dest name or an event
 * that is not one JSON object; -ENOMEM; or the -errno of open/write (a short
 * write is ended with a newline so the file stays line-parseable, -EIO).
 */
int pxd_dlq_append(struct pxd_dlq *q, const struct pxd_dlq_entry *e, int64_t now_ms,
		   char id[PXD_DLQ_ID_LEN + 1]);

/* fdatasyncs every file appended to since the last call (entries and
 * .settled). Returns 0 or the first -errno (the others are still tried). */
int pxd_dlq_sync(struct pxd_dlq *q);

/*
 * Records that the replay of dead letter <id> (of destination <dest>) has
 * an outcome, in <dest>.settled; durable after the next pxd_dlq_sync().
 * Returns 0, -EINVAL (bad name or id), -ENOSPC (too many files), or the
 * -errno of open/write (-EIO for a short write). The caller keeps the
 * replay pending and tries again.
 */
int pxd_dlq_settle(struct pxd_dlq *q, const char *dest, const char *id);

/* Syncs and closes the files so the next append reopens them by name (after
 * the operator moved them away). A file whose sync fails stays open and
 * dirty (the next pxd_dlq_sync() tries again). Returns 0 or the first
 * -errno of fdatasync. */
int pxd_dlq_reopen(struct pxd_dlq *q);

/* Which entries to read. Zero fields select everything. */
struct pxd_dlq_filter {
	const char *dest;  /* only this destination's file */
	int64_t since_ms;  /* only entries at or after this Unix ms */
	const char *id;	   /* only this entry */
	bool pending_only; /* only destinations with a replay without an outcome */
};

/* One entry as read back. Everything points into the scanner's buffers and
 * lives until the visit callback returns. */
struct pxd_dlq_record {
	const char *id;
	const char *dest;
	const char *event_id;
	const char *reason;
	const char *time; /* as written, RFC 3339 UTC */
	int64_t time_ms;
	long status;
	uint32_t attempts;
	bool replayed;	     /* its id is in <dest>.replayed */
	bool replay_pending; /* replayed, and no outcome in <dest>.settled yet */
	const char *event;   /* the raw canonical event (not NUL-terminated) */
	size_t event_len;
	const char *line; /* the whole entry, without the newline */
	size_t line_len;
};

/* Called for each entry that passes the filter; a non-zero return stops the
 * scan and is returned by it. */
typedef int pxd_dlq_visit_fn(void *ctx, const struct pxd_dlq_record *r);

/*
 * Reads the dead letters under <data_dir> (every <dest>.jsonl in name order,
 * or the one of f->dest) and calls <fn> for each entry <f> selects, oldest
 * first per file. A last line still being written is left for the next read;
 * lines that are not entries are skipped and counted in <bad_lines> (may be
 * NULL). Returns 0
 * (also when there are no dead letters yet), -EINVAL for a bad f->dest (with
 * <err>), the -errno of reading (with <err> naming the file), or <fn>'s
 * non-zero return.
 */
int pxd_dlq_scan(const char *data_dir, const struct pxd_dlq_filter *f, pxd_dlq_visit_fn *fn,
		 void *ctx, size_t *bad_lines, char *err, size_t errlen);

struct pxd_dlq_replay_stats {
	size_t replayed;  /* handed to the callback and recorded */
	size_t skipped;	  /* selected but replayed before */
	size_t bad_lines; /* unreadable lines, skipped */
};

/*
 * Re-enqueues dead letter <id>: <event> (<len> bytes, the original canonical
 * line with its event_id and ts) for destination <dest> only. Returns 0 when
 * it is enqueued; anything else stops the replay and is returned by it.
 */
typedef int pxd_dlq_replay_fn(void *ctx, const char *id, const char *dest, const char *event,
			      size_t len);

/*
 * Replays the entries <f> selects that were not replayed before: calls <fn>
 * for each (oldest first) and records the ids it accepted in
 * <dest>.replayed, synced before returning, so a second replay skips them.
 * Creates <dest>.settled (empty) first, so a replay the daemon had not
 * settled before a crash is found pending and sent after the restart (at
 * least once; the platforms dedup by event_id). Runs on the
 * admin thread of the daemon (POST /admin/dlq/replay); never in pixelctl.
 * Fills <st>. Returns 0, -EINVAL (bad f->dest), the -errno of the files
 * (with <err>), or <fn>'s non-zero return (entries accepted before it are
 * recorded).
 */
int pxd_dlq_replay(const char *data_dir, const struct pxd_dlq_filter *f, pxd_dlq_replay_fn *fn,
		   void *ctx, struct pxd_dlq_replay_stats *st, char *err, size_t errlen);

/*
 * Parses a point in time for --since: RFC 3339 ("2024-11-22T18:26:40Z",
 * fractions and ±hh:mm offsets, or a date alone, taken as 00:00Z), or a
 * duration back from <now_ms> ("90s", "30m", "1h", "7d", plain seconds).
 * Writes Unix ms to <out_ms>. Returns 0 or -EINVAL. Any thread.
 */
int pxd_dlq_time_parse(const char *s, int64_t now_ms, int64_t *out_ms);

/* Writes Unix ms <ms> as RFC 3339 UTC with milliseconds and a NUL to <out>.
 * Any thread. */
void pxd_dlq_time_format(int64_t ms, char out[PXD_DLQ_TIME_LEN + 1]);

#endif
