// SPDX-License-Identifier: MIT
/*
 * Dead letters (dlq.h). Over 600 lines because the writer, the scanner and
 * the replay bookkeeping share one file format (the entry line, its event
 * member and the .replayed and .settled companions) that only this file
 * knows.
 */
#include "dlq.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "compiler.h"
#include "conf.h"
#include "conf_value.h"
#include "daemon/delivery/redact.h"
#include "jsonw.h"
#include "uuid7.h"

#define DIR_NAME "dlq"
#define ENTRY_EXT ".jsonl"
#define REPLAYED_EXT ".replayed"
#define SETTLED_EXT ".settled"
/* The raw event is the last member, so this pattern first occurs in front of
 * it: every earlier member is a string or a number, inside which a '"'
 * always appears escaped. */
#define EVENT_MEMBER ",\"event\":"
/* Token runs at least this long that mix letters and digits are redacted. */

struct dlq_file {
	char dest[PXD_CONF_NAME_MAX];
	int fd;		/* <dest>.jsonl; -1 until an entry is appended */
	int settled_fd; /* <dest>.settled; -1 until a replay settles */
	bool dirty;	/* appended to since the last sync */
	bool settled_dirty;
};

struct pxd_dlq {
	char dir[4096];
	struct dlq_file files[PXD_CONF_MAX_DESTS];
	size_t nfiles;
	struct pxd_uuid7 ids;
	struct pxd_buf line;
};

/* The names [destination "NAME"] allows, so a name is always a safe file name. */
static bool name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (!n || n >= PXD_CONF_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-')
			return false;
	return true;
}

void pxd_dlq_time_format(int64_t ms, char out[PXD_DLQ_TIME_LEN + 1])
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&sec, &tm);
	/* 19 bytes up to year 9999, then ".mmmZ" */
	if (strftime(out, PXD_DLQ_TIME_LEN + 1, "%Y-%m-%dT%H:%M:%S", &tm) != 19)
		snprintf(out, PXD_DLQ_TIME_LEN + 1, "9999-12-31T23:59:59");
	snprintf(out + 19, PXD_DLQ_TIME_LEN + 1 - 19, ".%03uZ", (unsigned)((uint64_t)ms % 1000));
}

/* RFC 3339 date-time, or a full-date alone (00:00Z). */
static int rfc3339(const char *s, int64_t *ms)
{
	struct tm tm = { 0 };
	int64_t frac = 0;
	int64_t off_min = 0;
	const char *p = strptime(s, "%Y-%m-%d", &tm);

	if (!p)
		return -EINVAL;
	if (*p) {
		if (*p != 'T' && *p != 't' && *p != ' ')
			return -EINVAL;
		p = strptime(p + 1, "%H:%M:%S", &tm);
		if (!p)
			return -EINVAL;
		if (*p == '.') {
			int digits = 0;

			for (p++; isdigit((unsigned char)*p); p++, digits++)
				if (digits < 3)
					frac = frac * 10 + (*p - '0');
			if (!digits)
				return -EINVAL;
			for (; digits < 3; digits++)
				frac *= 10;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) &&
			   isdigit((unsigned char)p[2]) && p[3] == ':' &&
			   isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5])) {
			off_min = ((p[1] - '0') * 10 + (p[2] - '0')) * 60 + (p[4] - '0') * 10 +
				  (p[5] - '0');
			if (*p == '-')
				off_min = -off_min;
			p += 6;
		} else {
			return -EINVAL;
		}
	}
	if (*p)
		return -EINVAL;
	*ms = ((int64_t)timegm(&tm) - off_min * 60) * 1000 + frac;
	return 0;
}

int pxd_dlq_time_parse(const char *s, int64_t now_ms, int64_t *out_ms)
{
	uint64_t ms;

	if (!rfc3339(s, out_ms))
		return 0;
	if (pxd_conf_value_duration_ms(s, &ms) || ms > (uint64_t)INT64_MAX / 2)
		return -EINVAL;
	*out_ms = now_ms - (int64_t)ms;
	return 0;
}

/*
 * The excerpt of a response kept with a dead letter: printable ASCII only,
 * at most PXD_DLQ_EXCERPT_MAX bytes, and no run of token characters that
 * looks like a credential or a hash. Platforms do not echo credentials, but
 * a receiver (a webhook, a proxy's error page) may. Returns the length.
 */
static size_t excerpt(const char *body, size_t len, char out[PXD_DLQ_EXCERPT_MAX + 1])
{
	size_t n = PXD_MIN(len, PXD_DLQ_EXCERPT_MAX);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)body[i];

		out[i] = c == '\n' || c == '\r' || c == '\t' ? ' '
			 : c < 0x20 || c > 0x7e		     ? '?'
							     : (char)c;
	}
	out[n] = '\0';
	return pxd_redact(out);
}

int pxd_dlq_open(struct pxd_dlq **out, const char *data_dir)
{
	struct pxd_dlq *q = calloc(1, sizeof(*q));
	int rc;

	*out = NULL;
	if (!q)
		return -ENOMEM;
	if ((size_t)snprintf(q->dir, sizeof(q->dir), "%s/" DIR_NAME, data_dir) >= sizeof(q->dir)) {
		rc = -ENAMETOOLONG;
		goto fail;
	}
	if (mkdir(q->dir, 0700) && errno != EEXIST) {
		rc = -errno;
		goto fail;
	}
	rc = pxd_uuid7_init(&q->ids);
	if (rc)
		goto fail;
	*out = q;
	return 0;
fail:
	free(q);
	return rc;
}

static void file_close(struct dlq_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->settled_fd >= 0)
		close(f->settled_fd);
}

static void files_close(struct pxd_dlq *q)
{
	for (size_t i = 0; i < q->nfiles; i++)
		file_close(&q->files[i]);
	q->nfiles = 0;
}

/* fdatasyncs what <f> appended since its last sync. Returns 0 or -errno
 * (what failed stays dirty). */
static int file_sync(struct dlq_file *f)
{
	int rc = 0;

	if (f->dirty) {
		if (fdatasync(f->fd))
			rc = -errno;
		else
			f->dirty = false;
	}
	if (f->settled_dirty) {
		if (fdatasync(f->settled_fd))
			rc = rc ? rc : -errno;
		else
			f->settled_dirty = false;
	}
	return rc;
}

int pxd_dlq_reopen(struct pxd_dlq *q)
{
	size_t kept = 0;
	int rc = 0;

	/* A dead letter closed unsynced could be lost while the watermark
	 * that passed it is saved: sync first, and keep what fails open (and
	 * dirty) so the next pxd_dlq_sync() tries again. */
	for (size_t i = 0; i < q->nfiles; i++) {
		struct dlq_file *f = &q->files[i];
		int err = file_sync(f);

		if (err) {
			rc = rc ? rc : err;
			q->files[kept++] = *f;
			continue;
		}
		file_close(f);
	}
	q->nfiles = kept;
	return rc;
}

void pxd_dlq_close(struct pxd_dlq *q)
{
	if (!q)
		return;
	files_close(q);
	pxd_buf_free(&q->line);
	free(q);
}

/* Opens <dest><ext> for appending into <*fd>, unless it is open already. */
static int file_open(const struct pxd_dlq *q, const char *dest, const char *ext, int *fd)
{
	char path[4096 + PXD_CONF_NAME_MAX + 16];

	if (*fd >= 0)
		return 0;
	snprintf(path, sizeof(path), "%s/%s%s", q->dir, dest, ext);
	*fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	return *fd < 0 ? -errno : 0;
}

/* <dest>'s files, with <ext>'s descriptor open. */
static int file_get(struct pxd_dlq *q, const char *dest, const char *ext, struct dlq_file **out)
{
	struct dlq_file *f = NULL;
	int rc;

	for (size_t i = 0; i < q->nfiles && !f; i++)
		if (strcmp(q->files[i].dest, dest) == 0)
			f = &q->files[i];
	if (!f) {
		if (q->nfiles == ARRAY_SIZE(q->files))
			return -ENOSPC;
		f = &q->files[q->nfiles];
		*f = (struct dlq_file){ .fd = -1, .settled_fd = -1 };
		snprintf(f->dest, sizeof(f->dest), "%s", dest);
	}
	rc = file_open(q, dest, ext, strcmp(ext, ENTRY_EXT) ? &f->settled_fd : &f->fd);
	if (rc)
		return rc;
	if (f == &q->files[q->nfiles])
		q->nfiles++;
	*out = f;
	return 0;
}

static void member_str(struct pxd_jsonw *w, const char *k, const char *v)
{
	pxd_jsonw_key(w, k, strlen(k));
	pxd_jsonw_string(w, v, strlen(v));
}

/* Serialises the entry into q->line, newline included. Returns its length or -errno. */
static ssize_t entry_line(struct pxd_dlq *q, const struct pxd_dlq_entry *e, const char *id,
			  const char *event_id, int64_t now_ms)
{
	char time_text[PXD_DLQ_TIME_LEN + 1];
	char ex[PXD_DLQ_EXCERPT_MAX + 1];
	const char *reason = e->reason ? e->reason : "";
	size_t exn = e->response ? excerpt(e->response, e->response_len, ex) : 0;
	struct pxd_jsonw w;
	ssize_t n;

	/* Escaping grows a byte to at most 6 ("\u00XX"). */
	q->line.len = 0;
	if (pxd_buf_reserve(&q->line,
			    e->event_len +
				6 * (exn + strlen(reason) + strlen(event_id) + PXD_CONF_NAME_MAX) +
				256))
		return -ENOMEM;
	pxd_dlq_time_format(now_ms, time_text);
	pxd_jsonw_init(&w, q->line.p, q->line.cap);
	pxd_jsonw_object_begin(&w);
	member_str(&w, "id", id);
	member_str(&w, "time", time_text);
	member_str(&w, "dest", e->dest);
	member_str(&w, "event_id", event_id);
	pxd_jsonw_key(&w, "status", 6);
	pxd_jsonw_int(&w, e->status);
	member_str(&w, "reason", reason);
	pxd_jsonw_key(&w, "response", 8);
	if (e->response)
		pxd_jsonw_string(&w, ex, exn);
	else
		pxd_jsonw_null(&w);
	pxd_jsonw_key(&w, "attempts", 8);
	pxd_jsonw_int(&w, e->attempts);
	pxd_jsonw_key(&w, "event", 5);
	pxd_jsonw_raw(&w, e->event, e->event_len);
	pxd_jsonw_object_end(&w);
	n = pxd_jsonw_finish(&w);
	if (n < 0)
		return n;
	q->line.p[n] = '\n'; /* over the NUL, inside the capacity jsonw kept for it */
	return n + 1;
}

int pxd_dlq_append(struct pxd_dlq *q, const struct pxd_dlq_entry *e, int64_t now_ms,
		   char id[PXD_DLQ_ID_LEN + 1])
{
	struct dlq_file *f;
	json_error_t jerr;
	const char *event_id;
	json_t *ev = NULL;
	ssize_t n, wr;
	int rc;

	if (!name_ok(e->dest) || !e->event || !e->event_len || memchr(e->event, '\n', e->event_len))
		return -EINVAL;
	/* Embedded raw, the event must be one JSON value or the line is lost. */
	ev = json_loadb(e->event, e->event_len, 0, &jerr);
	if (!json_is_object(ev)) {
		rc = -EINVAL;
		goto out;
	}
	event_id = json_string_value(json_object_get(ev, "event_id"));
	rc = file_get(q, e->dest, ENTRY_EXT, &f);
	if (rc)
		goto out;
	pxd_uuid7_next(&q->ids, now_ms, id);
	n = entry_line(q, e, id, event_id ? event_id : "", now_ms);
	if (n < 0) {
		rc = (int)n;
		goto out;
	}
	wr = write(f->fd, q->line.p, (size_t)n);
	f->dirty = true;
	if (wr < 0) {
		rc = -errno;
	} else if (wr != n) {
		/* Ends the torn line so readers skip it and the next entry starts clean. */
		if (write(f->fd, "\n", 1) < 0)
			rc = -errno;
		else
			rc = -EIO;
	}
out:
	json_decref(ev);
	return rc;
}

int pxd_dlq_sync(struct pxd_dlq *q)
{
	int rc = 0;

	for (size_t i = 0; i < q->nfiles; i++) {
		int err = file_sync(&q->files[i]);

		rc = rc ? rc : err;
	}
	return rc;
}

int pxd_dlq_settle(struct pxd_dlq *q, const char *dest, const char *id)
{
	char line[PXD_DLQ_ID_LEN + 1];
	struct dlq_file *f;
	ssize_t wr;
	int rc;

	if (!name_ok(dest) || strlen(id) != PXD_DLQ_ID_LEN)
		return -EINVAL;
	rc = file_get(q, dest, SETTLED_EXT, &f);
	if (rc)
		return rc;
	memcpy(line, id, PXD_DLQ_ID_LEN);
	line[PXD_DLQ_ID_LEN] = '\n';
	wr = write(f->settled_fd, line, sizeof(line));
	if (wr < 0)
		return -errno;
	f->settled_dirty = true;
	/* A short write leaves a line load_ids() skips: the id stays pending
	 * and its event is sent once more after a restart. */
	return wr == (ssize_t)sizeof(line) ? 0 : -EIO;
}

/* Reads every id in the companion file open on <fd> (.replayed or
 * .settled) into the set <ids>. */
static int load_ids(int fd, json_t *ids)
{
	struct pxd_buf b = { 0 };
	char chunk[8192];
	ssize_t n;
	off_t off = 0;
	int rc = 0;

	while ((n = pread(fd, chunk, sizeof(chunk), off)) > 0) {
		off += n;
		if (pxd_buf_append(&b, chunk, (size_t)n)) {
			rc = -ENOMEM;
			goto out;
		}
	}
	if (n < 0) {
		rc = -errno;
		goto out;
	}
	for (size_t i = 0; i < b.len;) {
		char *nl = memchr(b.p + i, '\n', b.len - i);
		size_t end = nl ? (size_t)(nl - b.p) : b.len;

		if (end - i == PXD_DLQ_ID_LEN)
			json_object_setn_nocheck(ids, b.p + i, end - i, json_true());
		i = end + 1;
	}
out:
	pxd_buf_free(&b);
	return rc;
}

/* Parses one entry line (NUL-terminated at <n>) into <r>; <*doc> holds the strings. */
static int parse_record(const char *line, size_t n, struct pxd_dlq_record *r, json_t **doc)
{
	const char *ev = memmem(line, n, EVENT_MEMBER, sizeof(EVENT_MEMBER) - 1);
	json_error_t jerr;
	json_t *j = json_loadb(line, n, 0, &jerr);
	json_t *status, *attempts;

	*doc = j;
	if (!json_is_object(j) || !ev || line[n - 1] != '}')
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->id = json_string_value(json_object_get(j, "id"));
	r->dest = json_string_value(json_object_get(j, "dest"));
	r->time = json_string_value(json_object_get(j, "time"));
	r->event_id = json_string_value(json_object_get(j, "event_id"));
	r->reason = json_string_value(json_object_get(j, "reason"));
	status = json_object_get(j, "status");
	attempts = json_object_get(j, "attempts");
	if (!r->id || strlen(r->id) != PXD_DLQ_ID_LEN || !r->dest || !r->time || !r->event_id ||
	    !r->reason || !json_is_integer(status) || !json_is_integer(attempts) ||
	    !json_is_object(json_object_get(j, "event")) || rfc3339(r->time, &r->time_ms))
		return -EINVAL;
	r->status = (long)json_integer_value(status);
	r->attempts = (uint32_t)json_integer_value(attempts);
	r->event = ev + sizeof(EVENT_MEMBER) - 1;
	r->event_len = (size_t)(line + n - 1 - r->event);
	r->line = line;
	r->line_len = n;
	return 0;
}

/* Scans <dest>'s file; <replayed> is the set of ids replayed so far, and
 * <settled> (NULL: not read) those whose replay has an outcome. */
static int scan_file(const char *dir, const char *dest, const struct pxd_dlq_filter *f,
		     json_t *replayed, json_t *settled, pxd_dlq_visit_fn *fn, void *ctx,
		     size_t *bad, char *err, size_t errlen)
{
	char path[4096 + PXD_CONF_NAME_MAX + 8];
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *fp;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s" ENTRY_EXT, dir, dest);
	fp = fopen(path, "re");
	if (!fp) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	while ((n = getline(&line, &cap, fp)) > 0) {
		struct pxd_dlq_record r;
		json_t *doc;

		/* The writer's last line, still arriving: the next read gets it. */
		if (line[n - 1] != '\n')
			break;
		line[--n] = '\0';
		if (!n)
			continue;
		if (parse_record(line, (size_t)n, &r, &doc)) {
			(*bad)++;
		} else if ((!f->id || strcmp(f->id, r.id) == 0) && r.time_ms >= f->since_ms) {
			r.replayed = json_object_get(replayed, r.id) != NULL;
			r.replay_pending = r.replayed && settled && !json_object_get(settled, r.id);
			rc = fn(ctx, &r);
		}
		json_decref(doc);
		if (rc)
			break;
	}
	if (!rc && ferror(fp)) {
		rc = -EIO;
		snprintf(err, errlen, "%s: read error", path);
	}
	free(line);
	fclose(fp);
	return rc;
}

static int dir_path(const char *data_dir, char *out, size_t outlen)
{
	return (size_t)snprintf(out, outlen, "%s/" DIR_NAME, data_dir) < outlen ? 0 : -ENAMETOOLONG;
}

static int is_entry_file(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	size_t ext = sizeof(ENTRY_EXT) - 1;

	return n > ext && strcmp(d->d_name + n - ext, ENTRY_EXT) == 0;
}

/* What each destination's pass runs: a plain scan, or a replay. */
typedef int dest_pass_fn(const char *dir, const char *dest, void *arg);

/* Runs <pass> for f->dest, or for every destination with a file, in name order. */
static int each_dest(const char *data_dir, const struct pxd_dlq_filter *f, dest_pass_fn *pass,
		     void *arg, char *err, size_t errlen)
{
	char dir[4096];
	struct dirent **names = NULL;
	int n, rc = 0;

	if (dir_path(data_dir, dir, sizeof(dir))) {
		snprintf(err, errlen, "%s: path too long", data_dir);
		return -ENAMETOOLONG;
	}
	if (f->dest) {
		if (!name_ok(f->dest)) {
			snprintf(err, errlen,
				 "\"%s\" is not a destination name (1 to 63 of a-z 0-9 _ -)",
				 f->dest);
			return -EINVAL;
		}
		return pass(dir, f->dest, arg);
	}
	n = scandir(dir, &names, is_entry_file, alphasort);
	if (n < 0) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(-rc));
		return rc;
	}
	for (int i = 0; i < n; i++) {
		char *name = names[i]->d_name;

		name[strlen(name) - (sizeof(ENTRY_EXT) - 1)] = '\0';
		if (!rc && name_ok(name))
			rc = pass(dir, name, arg);
		free(names[i]);
	}
	free(names);
	return rc;
}

struct scan_arg {
	const struct pxd_dlq_filter *f;
	pxd_dlq_visit_fn *fn;
	void *ctx;
	size_t bad;
	char *err;
	size_t errlen;
};

/* Loads the companion file <dest><ext> into a new set at <*ids>; a missing
 * file leaves <*ids> NULL. Returns 0 or -errno (with <err>). */
static int companion_load(const char *dir, const char *dest, const char *ext, json_t **ids,
			  char *err, size_t errlen)
{
	char path[4096 + PXD_CONF_NAME_MAX + 16];
	int fd, rc;

	*ids = NULL;
	snprintf(path, sizeof(path), "%s/%s%s", dir, dest, ext);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = errno == ENOENT ? 0 : -errno;
		goto out;
	}
	*ids = json_object();
	rc = *ids ? load_ids(fd, *ids) : -ENOMEM;
	close(fd);
out:
	if (rc)
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	return rc;
}

/* Whether some id of <replayed> is not in <settled> (NULL: no file, then
 * nothing counts as pending). */
static bool any_pending(json_t *replayed, json_t *settled)
{
	const char *id;
	json_t *v;

	if (!replayed || !settled)
		return false;
	json_object_foreach(replayed, id, v) if (!json_object_get(settled, id)) return true;
	return false;
}

/* Without a .settled file (dead letters replayed before pixeld kept one)
 * no replay counts as pending. */
static int scan_pass(const char *dir, const char *dest, void *arg)
{
	struct scan_arg *a = arg;
	json_t *replayed = NULL, *settled = NULL;
	int rc = companion_load(dir, dest, REPLAYED_EXT, &replayed, a->err, a->errlen);

	if (!rc)
		rc = companion_load(dir, dest, SETTLED_EXT, &settled, a->err, a->errlen);
	/* The entries are read only when some replay has no outcome yet. */
	if (!rc && a->f->pending_only && !any_pending(replayed, settled))
		goto out;
	if (!rc && !replayed && !(replayed = json_object()))
		rc = -ENOMEM;
	if (!rc)
		rc = scan_file(dir, dest, a->f, replayed, settled, a->fn, a->ctx, &a->bad, a->err,
			       a->errlen);
out:
	json_decref(replayed);
	json_decref(settled);
	return rc;
}

int pxd_dlq_scan(const char *data_dir, const struct pxd_dlq_filter *f, pxd_dlq_visit_fn *fn,
		 void *ctx, size_t *bad_lines, char *err, size_t errlen)
{
	struct scan_arg a = { f, fn, ctx, 0, err, errlen };
	int rc = each_dest(data_dir, f, scan_pass, &a, err, errlen);

	if (bad_lines)
		*bad_lines = a.bad;
	return rc;
}

struct replay_arg {
	const struct pxd_dlq_filter *f;
	pxd_dlq_replay_fn *fn;
	void *ctx;
	struct pxd_dlq_replay_stats *st;
	struct pxd_buf ids; /* accepted in this pass, for the companion file */
	char *err;
	size_t errlen;
};

static int replay_visit(void *arg, const struct pxd_dlq_record *r)
{
	struct replay_arg *a = arg;
	int rc;

	if (r->replayed) {
		a->st->skipped++;
		return 0;
	}
	rc = a->fn(a->ctx, r->id, r->dest, r->event, r->event_len);
	if (rc)
		return rc;
	a->st->replayed++;
	if (pxd_buf_append(&a->ids, r->id, PXD_DLQ_ID_LEN) || pxd_buf_append(&a->ids, "\n", 1))
		return -ENOMEM;
	return 0;
}

/* Records <ids> in the companion file <fd>, durably. */
static int record_replayed(int fd, const struct pxd_buf *ids)
{
	size_t off = 0;

	while (off < ids->len) {
		ssize_t n = write(fd, ids->p + off, ids->len - off);

		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	return ids->len && fdatasync(fd) ? -errno : 0;
}

/* Creates <dest>.settled before the first replay is recorded, so that
 * scan_pass() counts replays without an outcome as pending. */
static int settled_create(const char *dir, const char *dest, char *err, size_t errlen)
{
	char path[4096 + PXD_CONF_NAME_MAX + 16];
	int fd;

	snprintf(path, sizeof(path), "%s/%s" SETTLED_EXT, dir, dest);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		int rc = -errno;

		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	close(fd);
	return 0;
}

static int replay_pass(const char *dir, const char *dest, void *arg)
{
	struct replay_arg *a = arg;
	char path[4096 + PXD_CONF_NAME_MAX + 16];
	json_t *replayed = json_object();
	int fd, rc, rc2;

	if (!replayed)
		return -ENOMEM;
	/* No dead letters, no companion file to create. */
	snprintf(path, sizeof(path), "%s/%s" ENTRY_EXT, dir, dest);
	if (access(path, F_OK) && errno == ENOENT) {
		rc = 0;
		fd = -1;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s" REPLAYED_EXT, dir, dest);
	fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(a->err, a->errlen, "%s: %s", path, strerror(-rc));
		goto out;
	}
	/* Held until close: a second replay waits and then sees these ids. */
	if (flock(fd, LOCK_EX)) {
		rc = -errno;
		snprintf(a->err, a->errlen, "%s: lock: %s", path, strerror(-rc));
		goto out;
	}
	rc = load_ids(fd, replayed);
	if (rc) {
		snprintf(a->err, a->errlen, "%s: %s", path, strerror(-rc));
		goto out;
	}
	a->ids.len = 0;
	rc = settled_create(dir, dest, a->err, a->errlen);
	if (!rc)
		rc = scan_file(dir, dest, a->f, replayed, NULL, replay_visit, a, &a->st->bad_lines,
			       a->err, a->errlen);
	/* What the callback accepted is recorded even when a later one failed. */
	rc2 = record_replayed(fd, &a->ids);
	if (rc2) {
		snprintf(a->err, a->errlen, "%s: %s", path, strerror(-rc2));
		if (!rc)
			rc = rc2;
	}
out:
	if (fd >= 0)
		close(fd);
	json_decref(replayed);
	return rc;
}

int pxd_dlq_replay(const char *data_dir, const struct pxd_dlq_filter *f, pxd_dlq_replay_fn *fn,
		   void *ctx, struct pxd_dlq_replay_stats *st, char *err, size_t errlen)
{
	struct replay_arg a = {
		.f = f, .fn = fn, .ctx = ctx, .st = st, .err = err, .errlen = errlen
	};
	int rc;

	memset(st, 0, sizeof(*st));
	rc = each_dest(data_dir, f, replay_pass, &a, err, errlen);
	pxd_buf_free(&a.ids);
	return rc;
}
