// SPDX-License-Identifier: MIT
#include "adapters/jsonl_tail.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ID_KEY "\"event_id\":\""

/* FNV-1a of the event_id inside <line>, never 0; 0 when it has none. */
static uint64_t id_hash(const char *line, size_t len)
{
	const char *p = memmem(line, len, ID_KEY, sizeof(ID_KEY) - 1);
	const char *end;
	uint64_t h = 1469598103934665603ull;

	if (!p)
		return 0;
	p += sizeof(ID_KEY) - 1;
	end = memchr(p, '"', len - (size_t)(p - line));
	if (!end)
		return 0;
	for (; p < end; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h ? h : 1;
}

static void insert(struct pxd_jsonl_tail *t, uint64_t h)
{
	size_t k = (size_t)h & (t->cap - 1);

	while (t->ids[k] && t->ids[k] != h)
		k = (k + 1) & (t->cap - 1);
	if (!t->ids[k])
		t->n++;
	t->ids[k] = h;
}

bool pxd_jsonl_tail_has(const struct pxd_jsonl_tail *t, const char *line, size_t len)
{
	uint64_t h;
	size_t k;

	if (!t->n)
		return false;
	h = id_hash(line, len);
	if (!h)
		return false;
	for (k = (size_t)h & (t->cap - 1); t->ids[k]; k = (k + 1) & (t->cap - 1))
		if (t->ids[k] == h)
			return true;
	return false;
}

int pxd_jsonl_tail_load(struct pxd_jsonl_tail *t, int fd, off_t *whole)
{
	struct stat stt;
	off_t from;
	size_t len, lines = 0;
	char *buf, *p, *end;
	ssize_t got;
	int rc = 0;

	*whole = 0;
	if (fstat(fd, &stt))
		return -errno;
	if (!stt.st_size)
		return 0;
	from = stt.st_size > (off_t)PXD_JSONL_TAIL_BYTES ? stt.st_size - PXD_JSONL_TAIL_BYTES : 0;
	len = (size_t)(stt.st_size - from);
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	for (size_t off = 0; off < len; off += (size_t)got) {
		got = pread(fd, buf + off, len - off, from + (off_t)off);
		if (got <= 0) {
			rc = got < 0 ? -errno : -EIO;
			goto out;
		}
	}
	end = memrchr(buf, '\n', len);
	*whole = end ? from + (end - buf) + 1 : from;
	if (!end)
		goto out;
	/* Read from the middle of the file, the first line is a piece. */
	p = from ? memchr(buf, '\n', len) + 1 : buf;
	for (char *q = p; q < end; q = memchr(q, '\n', (size_t)(end - q) + 1) + 1)
		lines++;
	for (t->cap = 64; t->cap < 2 * lines; t->cap *= 2)
		;
	t->ids = calloc(t->cap, sizeof(*t->ids));
	if (!t->ids) {
		t->cap = 0;
		rc = -ENOMEM;
		goto out;
	}
	while (p <= end) {
		char *nl = memchr(p, '\n', (size_t)(end - p) + 1);
		uint64_t h = id_hash(p, (size_t)(nl - p));

		if (h)
			insert(t, h);
		p = nl + 1;
	}
out:
	free(buf);
	return rc;
}

void pxd_jsonl_tail_free(struct pxd_jsonl_tail *t)
{
	free(t->ids);
	memset(t, 0, sizeof(*t));
}
