// SPDX-License-Identifier: MIT
/*
 * `pixelctl journal status|verify`: builds the status document (streams,
 * segments, watermarks, backlog per destination) and the verify report from
 * the files alone, and prints both for people. pixelctl's only thread;
 * allocates. Kept whole at 600 lines: status and verify walk the same
 * streams and segments with the same readers.
 */
#include "pixelctl_journal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compiler.h"
#include "journal_format.h"
#include "pixelctl_reload.h"
#include "watermark.h"

static const char usage[] =
    "usage: pixelctl journal status [--json] [--dir DIR]\n"
    "       pixelctl journal verify [--json] [--dir DIR]\n"
    "       pixelctl journal drop DEST\n"
    "\n"
    "status shows each stream's segments, bytes and end, and per destination its\n"
    "watermark and backlog (records not yet delivered, and how old the oldest is).\n"
    "verify checks every record's checksum; it exits 0 when the journal is clean or\n"
    "has only torn tails (cut at pixeld's next start), 1 when data is corrupt.\n"
    "DIR replaces the configured journal directory (e.g. a copy being examined).\n"
    "drop lets a destination a reload removed give up its backlog (running pixeld).\n";

static const char *const origin_names[] = {
	[PXD_WATERMARK_SAVED] = "saved",
	[PXD_WATERMARK_NO_FILE] = "no_file",
	[PXD_WATERMARK_NEW_STREAM] = "new_stream",
	[PXD_WATERMARK_NEW_DEST] = "new_destination",
};

static const char *const verdict_names[] = {
	[PXD_JOURNAL_VERDICT_CLEAN] = "clean",
	[PXD_JOURNAL_VERDICT_TORN] = "torn",
	[PXD_JOURNAL_VERDICT_CORRUPT] = "corrupt",
};

/* One destination's backlog in one stream, then in all of them. */
struct backlog {
	uint64_t wm;
	enum pxd_watermark_origin origin;
	uint64_t records;
	uint64_t bytes;
	int64_t oldest_ms; /* 0: no backlog */
};

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static json_t *pos_json(uint64_t pos)
{
	return json_pack("{s:I,s:I}", "seq", (json_int_t)pxd_journal_pos_seq(pos), "offset",
			 (json_int_t)pxd_journal_pos_off(pos));
}

/* Appends <v> (NULL after a failed json_pack) to the array <arr>; returns 0 or -ENOMEM. */
static int append(json_t *arr, json_t *v)
{
	return v && json_array_append_new(arr, v) == 0 ? 0 : -ENOMEM;
}

static void backlog_add(struct backlog *b, uint64_t bytes, int64_t received_ms)
{
	b->records++;
	b->bytes += bytes;
	if (!b->oldest_ms || received_ms < b->oldest_ms)
		b->oldest_ms = received_ms;
}

/*
 * Counts each of the <n> destinations' backlog in <stream_dir> up to <end>, in
 * one pass from the lowest watermark. Bytes that cannot be read (corruption)
 * are skipped and added to <*skipped>. Returns 0 or -errno.
 */
static int count_backlog(const char *stream_dir, uint64_t end, struct backlog *b, size_t n,
			 uint64_t *skipped)
{
	struct pxd_journal_reader *r;
	struct pxd_journal_rec rec;
	uint64_t from = UINT64_MAX;
	int rc;

	for (size_t i = 0; i < n; i++)
		from = PXD_MIN(from, b[i].wm);
	if (n == 0 || from >= end)
		return 0;
	rc = pxd_journal_reader_open(stream_dir, 0, &r);
	if (rc)
		return rc;
	pxd_journal_reader_seek(r, from);
	for (;;) {
		rc = pxd_journal_reader_next(r, end, &rec);
		if (rc == PXD_JOURNAL_READ_OK) {
			for (size_t i = 0; i < n; i++)
				if (rec.pos >= b[i].wm)
					backlog_add(&b[i], rec.next - rec.pos, rec.received_ms);
			continue;
		}
		if (rc == PXD_JOURNAL_READ_CORRUPT) {
			rc = pxd_journal_reader_skip(r, skipped);
			if (rc)
				break;
			continue;
		}
		rc = PXD_MIN(rc, 0); /* END, or TORN past the valid end: not reached */
		break;
	}
	pxd_journal_reader_close(r);
	return rc;
}

static json_t *backlog_json(const char *name, const struct backlog *b, int64_t now_ms)
{
	return json_pack("{s:s,s:I,s:I,s:o?,s:o?}", "name", name, "backlog_records",
			 (json_int_t)b->records, "backlog_bytes", (json_int_t)b->bytes, "oldest_ms",
			 b->oldest_ms ? json_integer(b->oldest_ms) : NULL, "oldest_age_ms",
			 b->oldest_ms ? json_integer(now_ms - b->oldest_ms) : NULL);
}

/* One stream of the status document, appended to <arr>; adds its backlog to <total>. */
static int status_stream(const char *journal_dir, const struct pxd_journal_stream_id *id,
			 struct pxd_watermarks *wm, const char *const *dests, size_t ndests,
			 struct backlog *b, struct backlog *total, int64_t now_ms, json_t *arr,
			 uint64_t *bytes)
{
	struct pxd_journal_tail tail;
	char dir[4096];
	char name[32];
	uint64_t skipped = 0;
	json_t *sj;
	json_t *dj;
	int err;

	err = pxd_journal_stream_path(dir, sizeof(dir), journal_dir, id->ingest, id->shard);
	if (!err)
		err = pxd_journal_scan_end(dir, &tail);
	for (size_t i = 0; i < ndests && !err; i++) {
		memset(&b[i], 0, sizeof(b[i]));
		err = pxd_watermarks_resolve(wm, dests[i], id->ingest, id->shard, tail.end,
					     &b[i].wm, &b[i].origin);
	}
	if (!err)
		err = count_backlog(dir, tail.end, b, ndests, &skipped);
	if (err)
		return err;
	*bytes += tail.bytes;
	snprintf(name, sizeof(name), "i%u-s%u", id->ingest, id->shard);
	sj = json_pack(
	    "{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:o?,s:o,s:I,s:b,s:I,s:[]}", "stream", name, "ingest",
	    (json_int_t)id->ingest, "shard", (json_int_t)id->shard, "segments",
	    (json_int_t)tail.nsegments, "first_seq", (json_int_t)tail.first_seq, "last_seq",
	    (json_int_t)tail.last_seq, "bytes", (json_int_t)tail.bytes, "first",
	    tail.nsegments ? pos_json(pxd_journal_pos_make(tail.first_seq, 0)) : NULL, "end",
	    pos_json(tail.end), "torn_bytes", (json_int_t)tail.torn_bytes, "corrupt_tail",
	    tail.corrupt, "unreadable_bytes", (json_int_t)skipped, "destinations");
	err = append(arr, sj);
	for (size_t i = 0; i < ndests && !err; i++) {
		dj = backlog_json(dests[i], &b[i], now_ms);
		if (dj &&
		    (json_object_set_new(dj, "watermark", pos_json(b[i].wm)) ||
		     json_object_set_new(dj, "origin", json_string(origin_names[b[i].origin]))))
			err = -ENOMEM;
		if (!err)
			err = append(json_object_get(sj, "destinations"), dj);
		else
			json_decref(dj);
		total[i].records += b[i].records;
		total[i].bytes += b[i].bytes;
		if (b[i].oldest_ms && (!total[i].oldest_ms || b[i].oldest_ms < total[i].oldest_ms))
			total[i].oldest_ms = b[i].oldest_ms;
	}
	return err;
}

static int status_build(const char *journal_dir, const char *const *dests, size_t ndests,
			int64_t now_ms, json_t **out)
{
	struct pxd_journal_stream_id *ids = NULL;
	struct pxd_watermarks *wm = NULL;
	struct backlog *b = NULL;
	struct backlog *total = NULL;
	json_t *doc = NULL;
	uint64_t bytes = 0;
	bool exists = true;
	size_t nids = 0;
	int err;

	err = pxd_journal_streams_list(journal_dir, &ids, &nids);
	if (err == -ENOENT) {
		exists = false;
		err = 0;
	}
	if (!err)
		err = pxd_watermarks_load(journal_dir, &wm);
	if (err)
		goto out;
	b = calloc(ndests + 1, sizeof(*b));
	total = calloc(ndests + 1, sizeof(*total));
	doc = json_pack("{s:s,s:b,s:I,s:b,s:[],s:[]}", "journal_dir", journal_dir, "exists", exists,
			"now_ms", (json_int_t)now_ms, "watermarks_file",
			pxd_watermarks_from_file(wm), "streams", "destinations");
	if (!b || !total || !doc) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t k = 0; k < nids && !err; k++)
		err = status_stream(journal_dir, &ids[k], wm, dests, ndests, b, total, now_ms,
				    json_object_get(doc, "streams"), &bytes);
	for (size_t i = 0; i < ndests && !err; i++)
		err = append(json_object_get(doc, "destinations"),
			     backlog_json(dests[i], &total[i], now_ms));
	if (!err && (json_object_set_new(doc, "bytes", json_integer((json_int_t)bytes))))
		err = -ENOMEM;
out:
	free(ids);
	free(b);
	free(total);
	pxd_watermarks_free(wm);
	if (err) {
		json_decref(doc);
		return err;
	}
	*out = doc;
	return 0;
}

/* Appends <doc> as compact JSON to <out> and drops it. */
static int dump(json_t *doc, struct pxd_buf *out)
{
	size_t n = json_dumpb(doc, NULL, 0, JSON_COMPACT);
	int err = pxd_buf_reserve(out, n + 1);

	if (!err) {
		out->len += json_dumpb(doc, out->p + out->len, n, JSON_COMPACT);
		out->p[out->len] = '\0';
	}
	json_decref(doc);
	return err;
}

int pxd_pixelctl_journal_status_json(const char *journal_dir, const char *const *dests,
				     size_t ndests, struct pxd_buf *out)
{
	json_t *doc;
	int err = status_build(journal_dir, dests, ndests, wall_ms(), &doc);

	return err ? err : dump(doc, out);
}

static json_int_t iget(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static const char *sget(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "?";
}

/* Writes "<seq>:<offset>" of the position object <key> of <o> into <buf>. */
static const char *pos_text(const json_t *o, const char *key, char *buf, size_t cap)
{
	const json_t *p = json_object_get(o, key);

	if (!json_is_object(p))
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%lld:%lld", (long long)iget(p, "seq"),
			 (long long)iget(p, "offset"));
	return buf;
}

/* Writes an age in milliseconds as "850ms", "12.3s", "5m03s", "2h10m" or "3d04h". */
static const char *age_text(const json_t *ms, char *buf, size_t cap)
{
	long long v = (long long)json_integer_value(ms);

	if (!json_is_integer(ms))
		snprintf(buf, cap, "-");
	else if (v < 1000)
		snprintf(buf, cap, "%lldms", v);
	else if (v < 60000)
		snprintf(buf, cap, "%.1fs", (double)v / 1000);
	else if (v < 3600000)
		snprintf(buf, cap, "%lldm%02llds", v / 60000, v / 1000 % 60);
	else if (v < 86400000)
		snprintf(buf, cap, "%lldh%02lldm", v / 3600000, v / 60000 % 60);
	else
		snprintf(buf, cap, "%lldd%02lldh", v / 86400000, v / 3600000 % 24);
	return buf;
}

static void print_backlog(FILE *f, const json_t *d, const char *stream, const char *wm)
{
	char age[32];

	fprintf(f, "%-20s %-10s %-16s %12lld %14lld %10s\n", sget(d, "name"), stream, wm,
		(long long)iget(d, "backlog_records"), (long long)iget(d, "backlog_bytes"),
		age_text(json_object_get(d, "oldest_age_ms"), age, sizeof(age)));
}

int pxd_pixelctl_journal_status_print(const json_t *status, FILE *f)
{
	const json_t *streams = json_object_get(status, "streams");
	const json_t *dests = json_object_get(status, "destinations");
	char a[48];
	char b[48];
	size_t i;
	size_t k;
	json_t *s;
	json_t *d;
	json_int_t nsegs = 0;

	if (!json_is_array(streams) || !json_is_array(dests))
		return -EINVAL;
	if (!json_is_true(json_object_get(status, "exists"))) {
		fprintf(f, "no journal at %s yet: pixeld creates it when it starts\n",
			sget(status, "journal_dir"));
		return 0;
	}
	json_array_foreach(streams, i, s)
	{
		nsegs += iget(s, "segments");
	}
	fprintf(f, "journal %s: %zu streams, %lld segments, %lld bytes\n",
		sget(status, "journal_dir"), json_array_size(streams), (long long)nsegs,
		(long long)iget(status, "bytes"));
	if (!json_is_true(json_object_get(status, "watermarks_file")))
		fprintf(f, "no watermarks saved yet: every destination starts at the oldest "
			   "record\n");
	fprintf(f, "\n%-10s %10s %14s %-16s %-16s %10s\n", "STREAM", "SEGMENTS", "BYTES", "FIRST",
		"END", "TORN");
	json_array_foreach(streams, i, s)
	{
		bool damaged = json_is_true(json_object_get(s, "corrupt_tail")) ||
			       iget(s, "unreadable_bytes") > 0;

		fprintf(f, "%-10s %10lld %14lld %-16s %-16s %10lld%s\n", sget(s, "stream"),
			(long long)iget(s, "segments"), (long long)iget(s, "bytes"),
			pos_text(s, "first", a, sizeof(a)), pos_text(s, "end", b, sizeof(b)),
			(long long)iget(s, "torn_bytes"), damaged ? "  damaged: run verify" : "");
	}
	if (!json_array_size(dests))
		return 0;
	fprintf(f, "\n%-20s %-10s %-16s %12s %14s %10s\n", "DESTINATION", "STREAM", "WATERMARK",
		"BACKLOG", "BYTES", "OLDEST");
	json_array_foreach(dests, k, d)
	{
		json_array_foreach(streams, i, s)
		{
			const json_t *sd = json_array_get(json_object_get(s, "destinations"), k);
			const char *origin = sget(sd, "origin");

			snprintf(b, sizeof(b), "%s%s", pos_text(sd, "watermark", a, sizeof(a)),
				 strcmp(origin, "saved") == 0 ? "" : "*");
			print_backlog(f, sd, sget(s, "stream"), b);
		}
		print_backlog(f, d, "(all)", "");
	}
	fprintf(f, "\n* not saved yet: where pixeld starts this destination (no watermarks file: "
		   "the oldest record; a stream newer than the file: its start; a destination "
		   "newer than the file: the stream's end)\n");
	return 0;
}

/* Appends one problem to the report's array. */
static int problem(json_t *arr, const char *kind, const char *stream, uint32_t seq, uint64_t off,
		   uint64_t bytes, const char *reason)
{
	char seg[PXD_JOURNAL_SEG_NAME_LEN + 1];

	pxd_journal_segment_name(seg, sizeof(seg), seq);
	return append(arr, json_pack("{s:s,s:s,s:s,s:I,s:I,s:s}", "kind", kind, "stream", stream,
				     "segment", seg, "offset", (json_int_t)off, "bytes",
				     (json_int_t)bytes, "reason", reason));
}

/* Totals of a verify run. */
struct verify_count {
	uint64_t segments;
	uint64_t bytes;
	uint64_t records;
	uint64_t torn;
	uint64_t corrupt;
};

/* Checks one segment, the <last> of its stream or not, into <probs> and <c>. */
static int verify_segment(const char *dir, const char *stream, uint32_t seq, bool last,
			  json_t *probs, struct verify_count *c)
{
	struct pxd_journal_seg_check chk;
	bool torn;
	int err;

	err = pxd_journal_segment_check(dir, seq, &chk);
	if (err)
		return err;
	c->segments++;
	c->bytes += chk.bytes;
	c->records += chk.records;
	/* Bad bytes that end the last segment are a torn tail; anything else is damage. */
	torn = last && chk.end < chk.bytes;
	c->corrupt += chk.nbad - torn;
	c->torn += torn;
	for (uint32_t i = 0; i < PXD_MIN(chk.nbad, PXD_JOURNAL_CHECK_MAX_BAD) && !err; i++)
		if (!torn || chk.bad[i].off != chk.end)
			err = problem(probs, "corrupt", stream, seq, chk.bad[i].off,
				      chk.bad[i].bytes, pxd_journal_bad_name(chk.bad[i].why));
	if (!err && torn)
		err = problem(probs, "torn", stream, seq, chk.end, chk.bytes - chk.end,
			      pxd_journal_bad_name(chk.end_why));
	return err;
}

static int verify_stream(const char *journal_dir, const struct pxd_journal_stream_id *id,
			 json_t *probs, struct verify_count *c)
{
	struct pxd_journal_seg *segs = NULL;
	char dir[4096];
	char name[32];
	size_t n = 0;
	int err;

	snprintf(name, sizeof(name), "i%u-s%u", id->ingest, id->shard);
	err = pxd_journal_stream_path(dir, sizeof(dir), journal_dir, id->ingest, id->shard);
	if (!err)
		err = pxd_journal_segments_list(dir, &segs, &n);
	for (size_t k = 0; k < n && !err; k++) {
		if (k && segs[k].seq != segs[k - 1].seq + 1) {
			char seg[PXD_JOURNAL_SEG_NAME_LEN + 1];

			c->corrupt++;
			pxd_journal_segment_name(seg, sizeof(seg), segs[k - 1].seq + 1);
			err =
			    append(probs, json_pack("{s:s,s:s,s:s,s:I,s:s}", "kind", "corrupt",
						    "stream", name, "segment", seg, "missing",
						    (json_int_t)(segs[k].seq - segs[k - 1].seq - 1),
						    "reason", "missing_segment"));
		}
		if (!err)
			err = verify_segment(dir, name, segs[k].seq, k + 1 == n, probs, c);
	}
	free(segs);
	return err;
}

static int verify_build(const char *journal_dir, json_t **out, enum pxd_journal_verdict *verdict)
{
	struct pxd_journal_stream_id *ids = NULL;
	struct verify_count c = { 0 };
	struct pxd_watermarks *wm = NULL;
	const char *wm_state = "ok";
	json_t *probs = json_array();
	json_t *doc = NULL;
	size_t nids = 0;
	int err;

	err = probs ? pxd_journal_streams_list(journal_dir, &ids, &nids) : -ENOMEM;
	for (size_t k = 0; k < nids && !err; k++)
		err = verify_stream(journal_dir, &ids[k], probs, &c);
	if (!err) {
		err = pxd_watermarks_load(journal_dir, &wm);
		if (err == -EBADMSG) {
			wm_state = "damaged";
			c.corrupt++;
			err = append(probs, json_pack("{s:s,s:s,s:s}", "kind", "corrupt", "file",
						      PXD_WATERMARK_FILE, "reason", "damaged"));
		} else if (!err && !pxd_watermarks_from_file(wm)) {
			wm_state = "missing";
		}
	}
	if (err)
		goto out;
	*verdict = c.corrupt ? PXD_JOURNAL_VERDICT_CORRUPT
		   : c.torn  ? PXD_JOURNAL_VERDICT_TORN
			     : PXD_JOURNAL_VERDICT_CLEAN;
	doc = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:s,s:O}", "journal_dir", journal_dir,
			"verdict", verdict_names[*verdict], "streams", (json_int_t)nids, "segments",
			(json_int_t)c.segments, "bytes", (json_int_t)c.bytes, "records",
			(json_int_t)c.records, "corrupt", (json_int_t)c.corrupt, "torn",
			(json_int_t)c.torn, "watermarks", wm_state, "problems", probs);
	if (!doc)
		err = -ENOMEM;
out:
	json_decref(probs);
	free(ids);
	pxd_watermarks_free(wm);
	if (!err)
		*out = doc;
	return err;
}

int pxd_pixelctl_journal_verify_json(const char *journal_dir, struct pxd_buf *out,
				     enum pxd_journal_verdict *verdict)
{
	json_t *doc;
	int err = verify_build(journal_dir, &doc, verdict);

	return err ? err : dump(doc, out);
}

int pxd_pixelctl_journal_verify_print(const json_t *report, FILE *f)
{
	const json_t *probs = json_object_get(report, "problems");
	const char *verdict = sget(report, "verdict");
	size_t i;
	json_t *p;

	if (!json_is_array(probs))
		return -EINVAL;
	json_array_foreach(probs, i, p)
	{
		const char *kind = sget(p, "kind");
		const char *reason = sget(p, "reason");

		if (json_object_get(p, "file"))
			fprintf(f, "%s: damaged (see the message above)\n", sget(p, "file"));
		else if (strcmp(reason, "missing_segment") == 0)
			fprintf(f, "%s/%s: missing, %lld segment(s) from it on: corrupt\n",
				sget(p, "stream"), sget(p, "segment"),
				(long long)iget(p, "missing"));
		else
			fprintf(f, "%s/%s: offset %lld: %s, %lld bytes (%s)%s\n", sget(p, "stream"),
				sget(p, "segment"), (long long)iget(p, "offset"),
				strcmp(kind, "torn") == 0 ? "torn tail" : "corrupt",
				(long long)iget(p, "bytes"), reason,
				strcmp(kind, "torn") == 0 ? ": pixeld cuts it at its next start"
							  : " up to the next valid record");
	}
	fprintf(f,
		"verify %s: %lld streams, %lld segments, %lld records, %lld bytes; %lld corrupt, "
		"%lld torn tails; watermarks %s: %s\n",
		sget(report, "journal_dir"), (long long)iget(report, "streams"),
		(long long)iget(report, "segments"), (long long)iget(report, "records"),
		(long long)iget(report, "bytes"), (long long)iget(report, "corrupt"),
		(long long)iget(report, "torn"), sget(report, "watermarks"), verdict);
	if (strcmp(verdict, "corrupt") == 0)
		fprintf(f, "data was damaged after it was written (disk or filesystem fault): keep "
			   "a copy of the files named above before pixeld starts again\n");
	else if (strcmp(verdict, "torn") == 0)
		fprintf(f, "torn tails are the last write before a crash or power loss: nothing "
			   "to do\n");
	return 0;
}

int pxd_pixelctl_journal_main(int argc, char **argv, const struct pxd_conf *conf)
{
	const char *dests[PXD_CONF_MAX_DESTS];
	const char *dir = conf->journal_dir;
	enum pxd_journal_verdict verdict = PXD_JOURNAL_VERDICT_CLEAN;
	bool as_json = false;
	bool verify;
	json_t *doc;
	int err;

	if (argc >= 2 && strcmp(argv[1], "drop") == 0)
		return pxd_pixelctl_journal_drop(argc, argv, conf);
	if (argc < 2 || (strcmp(argv[1], "status") != 0 && strcmp(argv[1], "verify") != 0))
		goto usage;
	verify = strcmp(argv[1], "verify") == 0;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			as_json = true;
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else
			goto usage;
	}
	for (size_t i = 0; i < conf->ndests; i++)
		dests[i] = conf->dests[i].name;
	if (verify)
		err = verify_build(dir, &doc, &verdict);
	else
		err = status_build(dir, dests, conf->ndests, wall_ms(), &doc);
	if (err) {
		fprintf(stderr, "pixelctl journal %s: %s: %s\n", argv[1], dir, strerror(-err));
		return 1;
	}
	if (as_json) {
		json_dumpf(doc, stdout, JSON_COMPACT);
		fputc('\n', stdout);
	} else if (verify) {
		pxd_pixelctl_journal_verify_print(doc, stdout);
	} else {
		pxd_pixelctl_journal_status_print(doc, stdout);
	}
	json_decref(doc);
	return verdict == PXD_JOURNAL_VERDICT_CORRUPT ? 1 : 0;
usage:
	fputs(usage, stderr);
	return 2;
}
