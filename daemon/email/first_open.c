// SPDX-License-Identifier: MIT
/*
 * The first-open table: fixed buckets of 64-bit words (fingerprint and last
 * minute) updated with one compare-and-swap, and its checksummed file, saved
 * atomically (write, fsync, rename). Checks: any ingest thread; init, load,
 * save and free: the main thread.
 */
#include "first_open.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "compiler.h"

/*
 * A slot is one 64-bit word, so a thread reads and replaces it with a single
 * atomic access and no lock:
 *
 *   bits 63..24  fingerprint: 40 bits of the key, never 0
 *   bits 23..0   last seen, in minutes since PXD_FIRST_OPEN_EPOCH
 *
 * 0 is an empty slot. The bucket comes from the fingerprint alone, so a
 * saved entry finds its bucket again in a table of any size. Two keys that
 * share a fingerprint are taken for one; with 2^40 fingerprints and 8 per
 * bucket that happens about once in 10^11 checks.
 */
#define FP_SHIFT 24
#define MINUTES_MASK ((1u << FP_SHIFT) - 1)
#define MAX_TRIES 4

struct pxd_first_open {
	uint64_t *slot; /* nbuckets * PXD_FIRST_OPEN_WAYS, page aligned */
	uint64_t nbuckets;
	uint32_t window_min;
};

/*
 * The file, little-endian:
 *   8  magic "PXDFOPEN"
 *   4  version (1)
 *   4  slots of the table that wrote it (informational)
 *   8  saved at, Unix seconds
 *   8  N, entries that follow
 *   8N entries: slot words as described above
 *   4  CRC-32 (zlib) of every byte before it
 */
#define FILE_MAGIC "PXDFOPEN"
#define FILE_VERSION 1
#define FILE_HEADER 32

static uint64_t mix64(uint64_t x)
{
	/* MurmurHash3's fmix64: every input bit reaches every output bit. */
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

uint64_t pxd_first_open_key(struct pxd_sv tenant, struct pxd_sv message, struct pxd_sv recipient)
{
	const struct pxd_sv parts[] = { tenant, message, recipient };
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		uint64_t len = parts[i].n;

		h = fnv1a(h, &len, sizeof(len));
		h = fnv1a(h, parts[i].p, parts[i].n);
	}
	return mix64(h);
}

static uint64_t fingerprint(uint64_t key)
{
	uint64_t fp = key >> FP_SHIFT;

	return fp ? fp : 1;
}

static uint32_t minutes(int64_t now_s)
{
	int64_t m = (now_s - PXD_FIRST_OPEN_EPOCH) / 60;

	return m < 0 ? 0 : (m > MINUTES_MASK ? MINUTES_MASK : (uint32_t)m);
}

static uint64_t *bucket(const struct pxd_first_open *t, uint64_t fp)
{
	return &t->slot[(mix64(fp) & (t->nbuckets - 1)) * PXD_FIRST_OPEN_WAYS];
}

static bool expired(const struct pxd_first_open *t, uint64_t word, uint32_t now_min)
{
	uint32_t seen = (uint32_t)(word & MINUTES_MASK);

	return now_min >= seen && now_min - seen >= t->window_min;
}

int pxd_first_open_init(struct pxd_first_open **out, uint32_t slots, uint32_t window_s)
{
	struct pxd_first_open *t;

	if (slots < PXD_FIRST_OPEN_WAYS || (slots & (slots - 1)) || window_s == 0)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	/* Fresh zero pages: the table (8 MiB at the default size) is resident
	 * only as far as opens have reached it, not all of it from the start. */
	t->slot = mmap(NULL, (size_t)slots * sizeof(uint64_t), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t->slot == MAP_FAILED) {
		free(t);
		return -ENOMEM;
	}
	t->nbuckets = slots / PXD_FIRST_OPEN_WAYS;
	t->window_min = (window_s + 59) / 60;
	*out = t;
	return 0;
}

void pxd_first_open_free(struct pxd_first_open *t)
{
	if (!t)
		return;
	munmap(t->slot, t->nbuckets * PXD_FIRST_OPEN_WAYS * sizeof(uint64_t));
	free(t);
}

/* How willingly a slot holding <w> gives way: empty, then expired, then
 * the one seen longest ago. Lower is more willing. */
static uint64_t victim_rank(const struct pxd_first_open *t, uint64_t w, uint32_t now_min)
{
	if (!w)
		return 0;
	if (expired(t, w, now_min))
		return 1;
	return 2 + (w & MINUTES_MASK);
}

/* One attempt at recording <fp> at <now_min>: 1 first, 0 repeat, -1 lost a race. */
static int record(struct pxd_first_open *t, uint64_t fp, uint32_t now_min,
		  struct pxd_first_open_stats *st)
{
	uint64_t *b = bucket(t, fp);
	uint64_t fresh = fp << FP_SHIFT | now_min;
	uint64_t *victim = NULL;
	uint64_t vword = 0;
	uint64_t vrank = UINT64_MAX;

	for (unsigned i = 0; i < PXD_FIRST_OPEN_WAYS; i++) {
		uint64_t w = __atomic_load_n(&b[i], __ATOMIC_RELAXED);
		uint64_t rank;

		if (w && w >> FP_SHIFT == fp) {
			bool first = expired(t, w, now_min);

			/* A clock that stepped back keeps the later time. */
			if ((w & MINUTES_MASK) >= now_min)
				return first;
			return __atomic_compare_exchange_n(&b[i], &w, fresh, false,
							   __ATOMIC_RELAXED, __ATOMIC_RELAXED)
				   ? first
				   : -1;
		}
		rank = victim_rank(t, w, now_min);
		if (rank < vrank) {
			victim = &b[i];
			vword = w;
			vrank = rank;
		}
	}
	if (!__atomic_compare_exchange_n(victim, &vword, fresh, false, __ATOMIC_RELAXED,
					 __ATOMIC_RELAXED))
		return -1;
	if (vrank >= 2)
		st->evicted++;
	return 1;
}

bool pxd_first_open_check(struct pxd_first_open *t, uint64_t key, int64_t now_s,
			  struct pxd_first_open_stats *st)
{
	uint64_t fp = fingerprint(key);
	uint32_t now_min = minutes(now_s);

	for (int i = 0; i < MAX_TRIES; i++) {
		int r = record(t, fp, now_min, st);

		if (r >= 0) {
			if (r)
				st->first++;
			else
				st->repeat++;
			return r;
		}
	}
	/* Another thread keeps winning this bucket: answering "first" errs on
	 * the side of counting an open rather than losing one. */
	st->contended++;
	st->first++;
	return true;
}

bool pxd_first_open_seen(const struct pxd_first_open *t, uint64_t key, int64_t now_s)
{
	uint64_t fp = fingerprint(key);
	uint32_t now_min = minutes(now_s);
	const uint64_t *b = bucket(t, fp);

	for (unsigned i = 0; i < PXD_FIRST_OPEN_WAYS; i++) {
		uint64_t w = __atomic_load_n(&b[i], __ATOMIC_RELAXED);

		if (w && w >> FP_SHIFT == fp)
			return !expired(t, w, now_min);
	}
	return false;
}

size_t pxd_first_open_live(const struct pxd_first_open *t, int64_t now_s)
{
	uint32_t now_min = minutes(now_s);
	size_t n = 0;

	for (uint64_t i = 0; i < t->nbuckets * PXD_FIRST_OPEN_WAYS; i++) {
		uint64_t w = __atomic_load_n(&t->slot[i], __ATOMIC_RELAXED);

		n += w && !expired(t, w, now_min);
	}
	return n;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static int write_all(int fd, const void *p, size_t n, uLong *crc)
{
	const uint8_t *b = p;

	*crc = crc32_z(*crc, b, n);
	while (n) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Fsyncs the directory holding <path>, so the rename itself is durable. */
static int sync_dir(const char *path)
{
	char dir[4096];
	int fd;
	int ret = 0;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Writes the header, the entries of <t> live at <now_s> and the CRC to <fd>. */
static int write_entries(const struct pxd_first_open *t, int fd, int64_t now_s)
{
	uint32_t now_min = minutes(now_s);
	uint64_t total = t->nbuckets * PXD_FIRST_OPEN_WAYS;
	uint8_t chunk[8 * 1024];
	uint8_t hdr[FILE_HEADER];
	uLong crc = crc32_z(0, NULL, 0);
	uint64_t n = 0;
	size_t used = 0;
	int ret;

	/* The header holds the count, so count first. Threads may add or age
	 * entries before the second pass; it writes exactly <n> words anyway,
	 * stopping early or padding with empty ones, which load skips. */
	n = pxd_first_open_live(t, now_s);
	memcpy(hdr, FILE_MAGIC, 8);
	put_le(hdr + 8, FILE_VERSION, 4);
	put_le(hdr + 12, total, 4);
	put_le(hdr + 16, (uint64_t)now_s, 8);
	put_le(hdr + 24, n, 8);
	ret = write_all(fd, hdr, sizeof(hdr), &crc);
	for (uint64_t i = 0; !ret && i < total && n; i++) {
		uint64_t w = __atomic_load_n(&t->slot[i], __ATOMIC_RELAXED);

		if (!w || expired(t, w, now_min))
			continue;
		put_le(chunk + used, w, 8);
		used += 8;
		n--;
		if (used == sizeof(chunk)) {
			ret = write_all(fd, chunk, used, &crc);
			used = 0;
		}
	}
	for (; !ret && n; n--) {
		put_le(chunk + used, 0, 8);
		used += 8;
		if (used == sizeof(chunk)) {
			ret = write_all(fd, chunk, used, &crc);
			used = 0;
		}
	}
	if (!ret && used)
		ret = write_all(fd, chunk, used, &crc);
	if (!ret) {
		uLong ignored = 0;

		put_le(hdr, crc, 4);
		ret = write_all(fd, hdr, 4, &ignored);
	}
	return ret;
}

int pxd_first_open_save(const struct pxd_first_open *t, const char *path, int64_t now_s)
{
	char tmp[4096];
	int fd;
	int ret;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ret = write_entries(t, fd, now_s);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret) {
		unlink(tmp);
		return ret;
	}
	return sync_dir(path);
}

/* Reads all of <path> into a malloc'd buffer. */
static int read_file(const char *path, uint8_t **out, size_t *len)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t n = 0;
	int fd;
	int ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return ret;
}

int pxd_first_open_load(struct pxd_first_open *t, const char *path, int64_t now_s)
{
	struct pxd_first_open_stats st = { 0 };
	uint32_t now_min = minutes(now_s);
	uint8_t *buf = NULL;
	size_t len = 0;
	uint64_t n;
	int ret;

	ret = read_file(path, &buf, &len);
	if (ret)
		return ret;
	ret = -EINVAL;
	if (len < FILE_HEADER + 4 || memcmp(buf, FILE_MAGIC, 8) != 0 ||
	    get_le(buf + 8, 4) != FILE_VERSION)
		goto out;
	n = get_le(buf + 24, 8);
	if (n > (len - FILE_HEADER - 4) / 8 || len != FILE_HEADER + 8 * n + 4 ||
	    get_le(buf + len - 4, 4) != crc32_z(crc32_z(0, NULL, 0), buf, len - 4))
		goto out;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t w = get_le(buf + FILE_HEADER + 8 * i, 8);

		if (w && !expired(t, w, now_min))
			record(t, w >> FP_SHIFT, (uint32_t)(w & MINUTES_MASK), &st);
	}
	ret = 0;
out:
	free(buf);
	return ret;
}
