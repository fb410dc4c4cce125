// SPDX-License-Identifier: MIT
#include "watermark.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "compiler.h"
#include "crc32c.h"
#include "journal_format.h"
#include "log.h"

#define HEADER "pixeld-watermarks 1\n"
#define FILE_MAX (16u << 20) /* thousands of times what 32 destinations x 256 streams need */
#define RECOVER_HINT                                                                        \
	"move it away to start over: pixeld then sends everything still in the journal to " \
	"every destination again (duplicates, no loss)"

/* One stream's watermark; <key> is ingest << 32 | shard, the sort order. */
struct mark {
	uint64_t key;
	uint64_t pos;
};

struct wdest {
	char name[PXD_WATERMARK_NAME_MAX];
	bool in_file;	    /* named by the loaded file, not only added since */
	struct mark *marks; /* sorted by key */
	size_t n;
	size_t cap;
};

struct pxd_watermarks {
	struct wdest *dests; /* sorted by name */
	size_t n;
	size_t cap;
	bool from_file;
};

static uint64_t stream_key(unsigned ingest, unsigned shard)
{
	return (uint64_t)ingest << 32 | shard;
}

static bool name_ok(const char *s)
{
	size_t n = strnlen(s, PXD_WATERMARK_NAME_MAX);

	if (n == 0 || n == PXD_WATERMARK_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return false;
	return true;
}

/* Returns the index of <name>, or of where it would go with <*found> false. */
static size_t dest_find(const struct pxd_watermarks *w, const char *name, bool *found)
{
	size_t lo = 0;
	size_t hi = w->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(w->dests[mid].name, name);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static size_t mark_find(const struct wdest *d, uint64_t key, bool *found)
{
	size_t lo = 0;
	size_t hi = d->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->marks[mid].key == key) {
			*found = true;
			return mid;
		}
		if (d->marks[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* Returns <name>'s entry, adding it; NULL with <*err> set when it cannot. */
static struct wdest *dest_get(struct pxd_watermarks *w, const char *name, int *err)
{
	bool found;
	size_t i;

	if (!name_ok(name)) {
		*err = -EINVAL;
		return NULL;
	}
	i = dest_find(w, name, &found);
	if (found)
		return &w->dests[i];
	*err = pxd_array_grow((void **)&w->dests, &w->cap, w->n, sizeof(*w->dests));
	if (*err)
		return NULL;
	memmove(&w->dests[i + 1], &w->dests[i], (w->n - i) * sizeof(*w->dests));
	memset(&w->dests[i], 0, sizeof(w->dests[i]));
	strcpy(w->dests[i].name, name);
	w->n++;
	return &w->dests[i];
}

static int mark_put(struct wdest *d, uint64_t key, uint64_t pos)
{
	bool found;
	size_t i = mark_find(d, key, &found);
	int err;

	if (found) {
		d->marks[i].pos = pos;
		return 0;
	}
	err = pxd_array_grow((void **)&d->marks, &d->cap, d->n, sizeof(*d->marks));
	if (err)
		return err;
	memmove(&d->marks[i + 1], &d->marks[i], (d->n - i) * sizeof(*d->marks));
	d->marks[i] = (struct mark){ key, pos };
	d->n++;
	return 0;
}

struct pxd_watermarks *pxd_watermarks_new(void)
{
	return calloc(1, sizeof(struct pxd_watermarks));
}

void pxd_watermarks_free(struct pxd_watermarks *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n; i++)
		free(w->dests[i].marks);
	free(w->dests);
	free(w);
}

bool pxd_watermarks_get(const struct pxd_watermarks *w, const char *dest, unsigned ingest,
			unsigned shard, uint64_t *pos)
{
	bool found;
	size_t i = dest_find(w, dest, &found);
	const struct wdest *d;

	if (!found)
		return false;
	d = &w->dests[i];
	i = mark_find(d, stream_key(ingest, shard), &found);
	if (found)
		*pos = d->marks[i].pos;
	return found;
}

bool pxd_watermarks_from_file(const struct pxd_watermarks *w)
{
	return w->from_file;
}

bool pxd_watermarks_has_dest(const struct pxd_watermarks *w, const char *dest)
{
	bool found;

	dest_find(w, dest, &found);
	return found;
}

int pxd_watermarks_set(struct pxd_watermarks *w, const char *dest, unsigned ingest, unsigned shard,
		       uint64_t pos)
{
	int err = 0;
	struct wdest *d = dest_get(w, dest, &err);

	return d ? mark_put(d, stream_key(ingest, shard), pos) : err;
}

int pxd_watermarks_resolve(struct pxd_watermarks *w, const char *dest, unsigned ingest,
			   unsigned shard, uint64_t stream_end, uint64_t *pos,
			   enum pxd_watermark_origin *origin)
{
	enum pxd_watermark_origin o;
	uint64_t p;
	int err;

	if (pxd_watermarks_get(w, dest, ingest, shard, &p)) {
		o = PXD_WATERMARK_SAVED;
	} else {
		bool found;
		size_t i = dest_find(w, dest, &found);

		if (!w->from_file)
			o = PXD_WATERMARK_NO_FILE;
		else if (found && w->dests[i].in_file)
			o = PXD_WATERMARK_NEW_STREAM;
		else
			o = PXD_WATERMARK_NEW_DEST;
		p = o == PXD_WATERMARK_NEW_DEST ? stream_end : 0;
		err = pxd_watermarks_set(w, dest, ingest, shard, p);
		if (err)
			return err;
	}
	*pos = p;
	if (origin)
		*origin = o;
	return 0;
}

uint64_t pxd_watermarks_min(const struct pxd_watermarks *w, const char *const *dests, size_t n,
			    unsigned ingest, unsigned shard)
{
	uint64_t min = UINT64_MAX;

	for (size_t i = 0; i < n; i++) {
		uint64_t p;

		if (!pxd_watermarks_get(w, dests[i], ingest, shard, &p))
			return 0;
		min = PXD_MIN(min, p);
	}
	return n ? min : 0;
}

void pxd_watermarks_prune(struct pxd_watermarks *w, const char *const *dests, size_t n)
{
	size_t keep = 0;

	for (size_t i = 0; i < w->n; i++) {
		bool listed = false;

		for (size_t k = 0; k < n && !listed; k++)
			listed = strcmp(w->dests[i].name, dests[k]) == 0;
		if (listed)
			w->dests[keep++] = w->dests[i];
		else
			free(w->dests[i].marks);
	}
	w->n = keep;
}

static int path_of(char *buf, size_t cap, const char *journal_dir, const char *name)
{
	int n = snprintf(buf, cap, "%s/%s", journal_dir, name);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* Formats the whole file into <b>. */
static int render(const struct pxd_watermarks *w, struct pxd_buf *b)
{
	int err = pxd_buf_puts(b, HEADER);

	for (size_t i = 0; i < w->n && !err; i++)
		err = pxd_buf_printf(b, "dest %s\n", w->dests[i].name);
	for (size_t i = 0; i < w->n && !err; i++) {
		const struct wdest *d = &w->dests[i];

		for (size_t k = 0; k < d->n && !err; k++)
			err = pxd_buf_printf(b, "mark %s i%u-s%u %" PRIu32 ":%" PRIu32 "\n",
					     d->name, (unsigned)(d->marks[k].key >> 32),
					     (unsigned)d->marks[k].key,
					     pxd_journal_pos_seq(d->marks[k].pos),
					     pxd_journal_pos_off(d->marks[k].pos));
	}
	if (!err)
		err = pxd_buf_printf(b, "crc32c %08x\n", pxd_crc32c(0, b->p, b->len));
	return err;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int pxd_watermarks_save(const struct pxd_watermarks *w, const char *journal_dir)
{
	char tmp[4096];
	char path[4096];
	struct pxd_buf b = { 0 };
	const char *step = "format";
	int dfd = -1;
	int fd = -1;
	int err;

	err = path_of(tmp, sizeof(tmp), journal_dir, PXD_WATERMARK_FILE ".tmp");
	if (!err)
		err = path_of(path, sizeof(path), journal_dir, PXD_WATERMARK_FILE);
	if (!err)
		err = render(w, &b);
	if (err)
		goto out;
	step = "create";
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	step = "write";
	err = write_all(fd, b.p, b.len);
	if (err)
		goto unlink_tmp;
	step = "fdatasync";
	if (fdatasync(fd)) {
		err = -errno;
		goto unlink_tmp;
	}
	step = "rename";
	if (rename(tmp, path)) {
		err = -errno;
		goto unlink_tmp;
	}
	/* The rename is durable only once the directory entry is. */
	step = "fsync of the directory";
	dfd = open(journal_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd))
		err = -errno;
	goto out;
unlink_tmp:
	unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	pxd_buf_free(&b);
	if (err)
		pxd_log_err("watermarks",
			    "%s/" PXD_WATERMARK_FILE ": %s failed: %s; the previous watermarks "
			    "stay in force (a restart sends the events since then again)",
			    journal_dir, step, strerror(-err));
	return err;
}

/* Reads all of <path> into <b>. Returns 0, -ENOENT, -EFBIG or -errno. */
static int slurp(const char *path, struct pxd_buf *b)
{
	struct stat st;
	int err = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	if ((uint64_t)st.st_size > FILE_MAX) {
		err = -EFBIG;
		goto out;
	}
	err = pxd_buf_reserve(b, (size_t)st.st_size + 1);
	while (!err) {
		ssize_t k = read(fd, b->p + b->len, b->cap - b->len - 1);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			err = -errno;
		else if (k == 0)
			break;
		else if ((b->len += (size_t)k) + 1 == b->cap)
			err = pxd_buf_reserve(b, 4096);
	}
	if (!err)
		b->p[b->len] = '\0';
out:
	close(fd);
	return err;
}

/* Parses a position written as "<seq>:<off>" in decimal. */
static bool pos_parse(const char *s, uint64_t *pos)
{
	unsigned long long seq;
	unsigned long long off;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	seq = strtoull(s, &end, 10);
	if (*end != ':' || end[1] < '0' || end[1] > '9' || seq > UINT32_MAX || errno)
		return false;
	off = strtoull(end + 1, &end, 10);
	if (*end || off > UINT32_MAX || errno)
		return false;
	*pos = pxd_journal_pos_make((uint32_t)seq, (uint32_t)off);
	return true;
}

/*
 * Parses one line (NUL-terminated, without its '\n') into <w>. Returns NULL,
 * or what is wrong with it.
 */
static const char *parse_line(struct pxd_watermarks *w, char *line)
{
	char *f[5];
	int nf = 0;
	unsigned ingest;
	unsigned shard;
	uint64_t pos;
	int err = 0;
	struct wdest *d;
	bool dup;

	for (char *save, *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (nf == 4)
			return "too many fields";
		f[nf++] = t;
	}
	if (nf == 2 && strcmp(f[0], "dest") == 0) {
		if (pxd_watermarks_has_dest(w, f[1]))
			return "a destination named twice";
		d = dest_get(w, f[1], &err);
		if (!d)
			return "a bad destination name";
		d->in_file = true;
		return NULL;
	}
	if (nf != 4 || strcmp(f[0], "mark") != 0)
		return "neither a dest nor a mark line";
	if (!pxd_watermarks_has_dest(w, f[1]))
		return "a mark for a destination without a dest line";
	if (pxd_journal_stream_parse(f[2], &ingest, &shard))
		return "a bad stream name";
	if (!pos_parse(f[3], &pos))
		return "a bad position";
	d = dest_get(w, f[1], &err);
	mark_find(d, stream_key(ingest, shard), &dup);
	if (dup)
		return "a stream named twice for one destination";
	return mark_put(d, stream_key(ingest, shard), pos) ? "out of memory" : NULL;
}

/*
 * Checks and parses the whole file in <b> (modified in place). Returns NULL or
 * what is wrong, with the line in <*lineno> (0 when it is about the whole file).
 */
static const char *parse(struct pxd_watermarks *w, struct pxd_buf *b, unsigned *lineno)
{
	const size_t hlen = sizeof(HEADER) - 1;
	char *crc_line;
	char *next;
	unsigned crc;
	int used = 0;

	*lineno = 0;
	if (b->len < hlen || memcmp(b->p, HEADER, hlen) != 0)
		return strncmp(b->p, "pixeld-watermarks ", 18) == 0 ? "an unknown format version"
								    : "not a watermarks file";
	if (b->len == hlen || b->p[b->len - 1] != '\n')
		return "cut short (no crc32c line at the end)";
	/* The header's '\n' stays, so there is a '\n' before the last line. */
	b->p[b->len - 1] = '\0';
	crc_line = strrchr(b->p, '\n') + 1;
	if (sscanf(crc_line, "crc32c %8x%n", &crc, &used) != 1 || used != 15 ||
	    crc_line[used] != '\0')
		return "cut short (no crc32c line at the end)";
	if (crc != pxd_crc32c(0, b->p, (size_t)(crc_line - b->p)))
		return "checksum mismatch";
	crc_line[-1] = '\0';
	*lineno = 1;
	for (char *line = b->p + hlen; line < crc_line; line = next) {
		char *nl = strchrnul(line, '\n');
		const char *why;

		next = nl + 1;
		*nl = '\0';
		(*lineno)++;
		why = parse_line(w, line);
		if (why)
			return why;
	}
	return NULL;
}

int pxd_watermarks_load(const char *journal_dir, struct pxd_watermarks **out)
{
	struct pxd_watermarks *w = pxd_watermarks_new();
	struct pxd_buf b = { 0 };
	char path[4096];
	const char *why;
	unsigned lineno;
	int err;

	if (!w)
		return -ENOMEM;
	err = path_of(path, sizeof(path), journal_dir, PXD_WATERMARK_FILE);
	if (!err)
		err = slurp(path, &b);
	if (err == -ENOENT) {
		err = 0;
		goto done;
	}
	if (err) {
		pxd_log_err("watermarks", "%s: cannot read it: %s; check its permissions, or %s",
			    path, strerror(-err), RECOVER_HINT);
		goto fail;
	}
	w->from_file = true;
	why = parse(w, &b, &lineno);
	if (why) {
		if (lineno)
			pxd_log_err("watermarks", "%s:%u: damaged: %s; %s", path, lineno, why,
				    RECOVER_HINT);
		else
			pxd_log_err("watermarks", "%s: damaged: %s; %s", path, why, RECOVER_HINT);
		err = -EBADMSG;
		goto fail;
	}
done:
	pxd_buf_free(&b);
	*out = w;
	return 0;
fail:
	pxd_buf_free(&b);
	pxd_watermarks_free(w);
	return err;
}
