// SPDX-License-Identifier: MIT
/*
 * The journal's names and directory listing: stream and segment names, built
 * and parsed, and the sorted lists of a journal's streams and a stream's
 * segments. Cold: dispatcher threads, startup and pixelctl; listing allocates.
 */
#include "journal_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compiler.h"
#include "buf.h"

#define STREAM_NUM_MAX 999999u /* far above any thread or shard count; keeps names short */

static int fmt_path(char *buf, size_t cap, const char *fmt, ...) pxd_printf(3, 4);

static int fmt_path(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int pxd_journal_stream_path(char *buf, size_t cap, const char *journal_dir, unsigned ingest,
			    unsigned shard)
{
	return fmt_path(buf, cap, "%s/i%u-s%u", journal_dir, ingest, shard);
}

int pxd_journal_segment_name(char *buf, size_t cap, uint32_t seq)
{
	return fmt_path(buf, cap, "%016x.seg", seq);
}

int pxd_journal_segment_path(char *buf, size_t cap, const char *stream_dir, uint32_t seq)
{
	return fmt_path(buf, cap, "%s/%016x.seg", stream_dir, seq);
}

/* Parses decimal digits without sign or leading zero, up to <max>; returns the end or NULL. */
static const char *parse_num(const char *s, unsigned max, unsigned *out)
{
	unsigned long v = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > max)
			return NULL;
	}
	if (p == s || (p - s > 1 && *s == '0'))
		return NULL;
	*out = (unsigned)v;
	return p;
}

int pxd_journal_stream_parse(const char *name, unsigned *ingest, unsigned *shard)
{
	const char *p = name;

	if (*p++ != 'i')
		return -EINVAL;
	p = parse_num(p, STREAM_NUM_MAX, ingest);
	if (!p || *p++ != '-' || *p++ != 's')
		return -EINVAL;
	p = parse_num(p, STREAM_NUM_MAX, shard);
	return p && *p == '\0' ? 0 : -EINVAL;
}

/* Parses "<16 lowercase hex digits>.seg" naming a segment 1..UINT32_MAX. */
static int segment_parse(const char *name, uint32_t *seq)
{
	uint64_t v = 0;

	for (int i = 0; i < 16; i++) {
		char c = name[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			return -EINVAL;
	}
	if (strcmp(name + 16, ".seg") != 0 || v == 0 || v > UINT32_MAX)
		return -EINVAL;
	*seq = (uint32_t)v;
	return 0;
}

static int cmp_stream(const void *a, const void *b)
{
	const struct pxd_journal_stream_id *x = a;
	const struct pxd_journal_stream_id *y = b;

	if (x->ingest != y->ingest)
		return x->ingest < y->ingest ? -1 : 1;
	return (x->shard > y->shard) - (x->shard < y->shard);
}

static int cmp_seg(const void *a, const void *b)
{
	const struct pxd_journal_seg *x = a;
	const struct pxd_journal_seg *y = b;

	return (x->seq > y->seq) - (x->seq < y->seq);
}

int pxd_journal_streams_list(const char *journal_dir, struct pxd_journal_stream_id **out, size_t *n)
{
	struct pxd_journal_stream_id *ids = NULL;
	size_t cap = 0;
	size_t cnt = 0;
	struct dirent *de;
	struct stat st;
	int err = 0;
	DIR *d;

	d = opendir(journal_dir);
	if (!d)
		return -errno;
	while ((errno = 0, de = readdir(d))) {
		unsigned i;
		unsigned s;

		if (pxd_journal_stream_parse(de->d_name, &i, &s))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) || !S_ISDIR(st.st_mode))
			continue;
		err = pxd_array_grow((void **)&ids, &cap, cnt, sizeof(*ids));
		if (err)
			goto out;
		ids[cnt++] = (struct pxd_journal_stream_id){ i, s };
	}
	err = -errno;
out:
	closedir(d);
	if (err) {
		free(ids);
		return err;
	}
	if (cnt)
		qsort(ids, cnt, sizeof(*ids), cmp_stream);
	*out = ids;
	*n = cnt;
	return 0;
}

int pxd_journal_segments_list_at(int dfd, struct pxd_journal_seg **out, size_t *n)
{
	struct pxd_journal_seg *segs = NULL;
	size_t cap = 0;
	size_t cnt = 0;
	struct dirent *de;
	struct stat st;
	int err = 0;
	int fd;
	DIR *d;

	fd = dup(dfd);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		err = -errno;
		close(fd);
		return err;
	}
	rewinddir(d);
	while ((errno = 0, de = readdir(d))) {
		uint32_t seq;

		if (segment_parse(de->d_name, &seq))
			continue;
		if (fstatat(dfd, de->d_name, &st, 0)) {
			if (errno == ENOENT) /* deleted meanwhile */
				continue;
			err = -errno;
			goto out;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		err = pxd_array_grow((void **)&segs, &cap, cnt, sizeof(*segs));
		if (err)
			goto out;
		segs[cnt++] = (struct pxd_journal_seg){ seq, (uint64_t)st.st_size };
	}
	err = -errno;
out:
	closedir(d);
	if (err) {
		free(segs);
		return err;
	}
	if (cnt)
		qsort(segs, cnt, sizeof(*segs), cmp_seg);
	*out = segs;
	*n = cnt;
	return 0;
}

int pxd_journal_dir_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int pxd_journal_segments_list(const char *stream_dir, struct pxd_journal_seg **out, size_t *n)
{
	int dfd = pxd_journal_dir_open(stream_dir);
	int err;

	if (dfd < 0)
		return dfd;
	err = pxd_journal_segments_list_at(dfd, out, n);
	close(dfd);
	return err;
}
